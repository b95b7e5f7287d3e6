#!/usr/bin/env bash
# Tern's copy of ../../shared/bench/smtp-accept.sh. One change: with
# COUNT_MODE=tern, MAILDIR_ROOT is Tern's data_dir and delivered messages are
# counted in its store (SELECT count(*) FROM messages) instead of as Maildir
# files. Everything else (load, timing, CPU and RSS accounting) is unchanged,
# so the figures compare with the Postfix anchor's.
# smtp-accept.sh -- SMTP acceptance + local-delivery benchmark.
#
# Usage: smtp-accept.sh HOST PORT N CONC SIZE_KB MAILDIR_ROOT
#
# Sends N messages of SIZE_KB KiB payload (smtp-source -l SIZE_KB*1024) with
# CONC parallel SMTP sessions (one message per connection, smtp-source's
# default), then waits until N new message files exist under MAILDIR_ROOT.
#
#   accepted  = N / (time from first connect until the last "250" after DATA,
#               i.e. until every smtp-source process has exited)
#   delivered = N / (time from the start until the last message file appeared
#               in a Maildir new/ or cur/ directory; taken from the newest
#               file's ctime, which rename(2) into new/ updates)
#
# The last line printed is exactly:
#   accepted_msgs_per_s=<float> delivered_msgs_per_s=<float>
# (accepted_msgs_per_s=NA if an smtp-source run failed, delivered_msgs_per_s=NA
#  if the files did not all show up in time; the exit status is then 1).
# The line before it has the raw figures (seconds, RSS, ...).
#
# Recipients: spread over user1..userK@RCPT_DOMAIN.  smtp-source has one -t
# per invocation, so the CONC sessions are run as CONC "lanes", each a
# sequence of `smtp-source -s 1 -m M -t userU@...` runs; every lane gets
# N/CONC messages (+1 for the first N%CONC lanes) and lane j takes the users
# j, j+CONC, j+2*CONC, ... <= K.  With RCPT_USERS=1 the script instead runs
# the single classic command
#   smtp-source -s CONC -m N -l SIZE -f SENDER -t user1@RCPT_DOMAIN HOST:PORT
#
# Environment:
#   RCPT_USERS=100        K above (1 = single smtp-source invocation)
#   RCPT_DOMAIN=bench.test
#   SENDER=sender@src.test
#   RSS_PID=<pid>         sample the summed RSS (and PSS) of this pid and all
#                         its descendants every RSS_INTERVAL s during the run,
#                         e.g. RSS_PID=$(postfix-anchor.sh pid)
#                         (also gives server_cpu_s / server_cpu_ms_per_msg:
#                         CPU time of that tree from start to delivered)
#   RSS_INTERVAL=0.5
#   DELIVERY_TIMEOUT=600  seconds to wait for the files after sending
#   STALL_TIMEOUT=30      ... or until no new file appeared for this long
#   POLL_INTERVAL=0.2     delivery poll period (only after sending is done)
#   COUNT_MODE=maildir    maildir: count files in */new/ and */cur/;
#                         all: every regular file not under a tmp/ dir
#   SMTP_SOURCE=smtp-source (from the postfix package, /usr/sbin)
#   EXTRA_SOURCE_OPTS=    extra smtp-source options (e.g. "-d" to reuse
#                         connections, "-A" to not abort on errors)
set -uo pipefail

if [ $# -ne 6 ]; then
    sed -n '2,47p' "$0" >&2
    exit 2
fi
HOST=$1 PORT=$2 N=$3 CONC=$4 SIZE_KB=$5 ROOT=$6

K=${RCPT_USERS:-100}
DOMAIN=${RCPT_DOMAIN:-bench.test}
SENDER=${SENDER:-sender@src.test}
RSS_PID=${RSS_PID:-}
RSS_INTERVAL=${RSS_INTERVAL:-0.5}
DELIVERY_TIMEOUT=${DELIVERY_TIMEOUT:-600}
STALL_TIMEOUT=${STALL_TIMEOUT:-30}
POLL_INTERVAL=${POLL_INTERVAL:-0.2}
COUNT_MODE=${COUNT_MODE:-maildir}
SRC=${SMTP_SOURCE:-}
EXTRA=${EXTRA_SOURCE_OPTS:-}

die() { echo "smtp-accept: $*" >&2; exit 2; }
for v in N CONC SIZE_KB K; do
    [[ ${!v} =~ ^[0-9]+$ ]] && [ "${!v}" -gt 0 ] || die "$v must be a positive integer"
done
if [ -z "$SRC" ]; then
    SRC=$(command -v smtp-source 2>/dev/null || echo /usr/sbin/smtp-source)
fi
[ -x "$SRC" ] || die "smtp-source not found (apt-get install postfix)"
[ -d "$ROOT" ] || die "MAILDIR_ROOT $ROOT does not exist"
LEN=$((SIZE_KB * 1024))

now() { date +%s.%N; }
cpu_stat() { awk '/^cpu /{print $2+$3+$4+$7+$8, $5+$6, $6; exit}' /proc/stat; }  # busy idle+iowait iowait (ticks)
HZ=$(getconf CLK_TCK 2>/dev/null || echo 100)
# CPU ticks (utime+stime+cutime+cstime) of the given pids; children reaped
# by a listed process are included through its cutime/cstime.
pids_cpu() {
    local f=() p
    for p in "$@"; do f+=("/proc/$p/stat"); done
    cat "${f[@]}" 2>/dev/null | sed 's/.*) //' | awk '{s += $12 + $13 + $14 + $15} END {print s + 0}'
}
tree_pids() {
    ps -e -o pid=,ppid= | awk -v root="$1" '
        { kids[$2] = kids[$2] " " $1 }
        END {
            n = 1; q[1] = root; out = root
            for (i = 1; i <= n; i++) {
                m = split(kids[q[i]], a, " ")
                for (j = 1; j <= m; j++) { q[++n] = a[j]; out = out " " a[j] }
            }
            print out
        }'
}
server_cpu() { [ -n "$RSS_PID" ] && pids_cpu $(tree_pids "$RSS_PID") || echo 0; }
self_cpu() { pids_cpu $$; }   # this script + every child it has waited for

count_files() {
    if [ "$COUNT_MODE" = tern ]; then
        sqlite3 "$ROOT/tern.db" "SELECT count(*) FROM messages" 2>/dev/null || echo 0
    elif [ "$COUNT_MODE" = all ]; then
        find "$ROOT" -type f ! -path '*/tmp/*' 2>/dev/null | wc -l
    else
        find "$ROOT" -type f \( -path '*/new/*' -o -path '*/cur/*' \) 2>/dev/null | wc -l
    fi
}
newest_ctime() {
    if [ "$COUNT_MODE" = tern ]; then
        # Tern stores a message before its 250, so there is no file to
        # date: the poll that saw the count complete ends the run.
        return
    elif [ "$COUNT_MODE" = all ]; then
        find "$ROOT" -type f ! -path '*/tmp/*' -printf '%C@\n' 2>/dev/null
    else
        find "$ROOT" -type f \( -path '*/new/*' -o -path '*/cur/*' \) -printf '%C@\n' 2>/dev/null
    fi | sort -n | tail -1
}

# ---- RSS sampler: sum over RSS_PID and its descendants --------------------
tree_mem() {  # prints "nprocs rss_kb pss_kb"
    local pids
    pids=$(tree_pids "$1")
    local files=() p
    for p in $pids; do files+=("/proc/$p/smaps_rollup"); done
    # one cat + one awk per sample to keep the sampler's own CPU use small;
    # processes that exit meanwhile are skipped by cat
    cat "${files[@]}" 2>/dev/null |
        awk '/^Rss:/{n++; r+=$2} /^Pss:/{s+=$2} END{print n+0, r+0, s+0}'
}

TMPD=$(mktemp -d /tmp/smtp-accept.XXXXXX)
SAMPLER=
cleanup() {
    [ -n "$SAMPLER" ] && kill "$SAMPLER" 2>/dev/null
    rm -rf "$TMPD"
}
trap cleanup EXIT

if [ -n "$RSS_PID" ]; then
    kill -0 "$RSS_PID" 2>/dev/null || die "RSS_PID $RSS_PID is not running"
    (
        peak_rss=0 peak_pss=0 peak_np=0 sum_rss=0 ns=0
        while :; do
            read -r np rss pss < <(tree_mem "$RSS_PID")
            ns=$((ns + 1)); sum_rss=$((sum_rss + rss))
            [ "$rss" -gt "$peak_rss" ] && peak_rss=$rss && peak_np=$np
            [ "$pss" -gt "$peak_pss" ] && peak_pss=$pss
            echo "$peak_rss $peak_pss $peak_np $((sum_rss / ns)) $ns" >"$TMPD/rss.tmp"
            mv "$TMPD/rss.tmp" "$TMPD/rss"
            sleep "$RSS_INTERVAL"
        done
    ) &
    SAMPLER=$!
fi

# ---- plan the lanes --------------------------------------------------------
# lane j (1..CONC): M_j messages; users: j, j+CONC, ... <= K (or one user
# ((j-1)%K)+1 when CONC > K).  Each plan line: "user count".
plan_lane() {
    local j=$1 mj users=() u
    mj=$((N / CONC + (j <= N % CONC ? 1 : 0)))
    [ "$mj" -gt 0 ] || return 0
    if [ "$CONC" -le "$K" ]; then
        for ((u = j; u <= K; u += CONC)); do users+=("$u"); done
    else
        users=($(((j - 1) % K + 1)))
    fi
    local nu=${#users[@]} i c
    for ((i = 0; i < nu; i++)); do
        c=$((mj / nu + (i < mj % nu ? 1 : 0)))
        [ "$c" -gt 0 ] && echo "${users[$i]} $c"
    done
}

run_lane() {  # $1 = lane number; runs its plan sequentially
    local j=$1 u c rc=0
    while read -r u c; do
        "$SRC" $EXTRA -s 1 -m "$c" -l "$LEN" -f "$SENDER" \
            -t "user$u@$DOMAIN" "$HOST:$PORT" || { rc=$?; break; }
    done < <(plan_lane "$j")
    return $rc
}

BASE=$(count_files)
[ "$BASE" -gt 0 ] && echo "smtp-accept: note: $BASE files already under $ROOT (counted as baseline)" >&2
TARGET=$((BASE + N))

# ---- send ------------------------------------------------------------------
fail=0
SC0=$(server_cpu); CC0=$(self_cpu)
read -r CB0 CI0 CW0 < <(cpu_stat)
T0=$(now)
if [ "$K" -eq 1 ]; then
    "$SRC" $EXTRA -s "$CONC" -m "$N" -l "$LEN" -f "$SENDER" \
        -t "user1@$DOMAIN" "$HOST:$PORT" || fail=1
else
    pids=()
    for ((j = 1; j <= CONC; j++)); do
        run_lane "$j" &
        pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p" || fail=1; done
fi
T1=$(now)
read -r CB1 CI1 CW1 < <(cpu_stat)
[ "$fail" -eq 0 ] || echo "smtp-accept: WARNING: an smtp-source run failed (see stderr above)" >&2

# ---- wait for delivery -----------------------------------------------------
# Gives up after DELIVERY_TIMEOUT s, after STALL_TIMEOUT s without a new
# file, or at once if a send failed (the accepted count is then unknown).
deadline=$(awk -v t="$T1" -v d="$DELIVERY_TIMEOUT" 'BEGIN{printf "%.3f", t + d}')
got=$(count_files)
last=$got lastchange=$SECONDS
while [ "$got" -lt "$TARGET" ] && [ "$fail" -eq 0 ]; do
    if awk -v a="$(now)" -v b="$deadline" 'BEGIN{exit !(a > b)}'; then break; fi
    if [ "$got" -ne "$last" ]; then last=$got lastchange=$SECONDS
    elif [ $((SECONDS - lastchange)) -ge "$STALL_TIMEOUT" ]; then
        echo "smtp-accept: no new message file for ${STALL_TIMEOUT}s, giving up" >&2
        break
    fi
    sleep "$POLL_INTERVAL"
    got=$(count_files)
done
T2POLL=$(now)
read -r CB2 CI2 CW2 < <(cpu_stat)
SC2=$(server_cpu)
delivered=$((got - BASE))
T2=$(newest_ctime)
[ -n "$T2" ] || T2=$T2POLL

if [ -n "$SAMPLER" ]; then
    sleep "$RSS_INTERVAL"  # let it take one more sample after delivery
    kill "$SAMPLER" 2>/dev/null; wait "$SAMPLER" 2>/dev/null; SAMPLER=
    read -r peak_rss peak_pss peak_np avg_rss nsamples <"$TMPD/rss" 2>/dev/null ||
        { peak_rss=NA peak_pss=NA peak_np=NA avg_rss=NA nsamples=0; }
    rssinfo=" rss_peak_kb=$peak_rss pss_peak_kb=$peak_pss procs_at_peak=$peak_np rss_avg_kb=$avg_rss rss_samples=$nsamples"
else
    rssinfo=""
fi
CC2=$(self_cpu)   # after the sampler was reaped, so its cost counts as client

awk -v n="$N" -v c="$CONC" -v kb="$SIZE_KB" -v k="$K" -v t0="$T0" -v t1="$T1" \
    -v t2="$T2" -v d="$delivered" -v fail="$fail" -v extra="$rssinfo" \
    -v cb0="$CB0" -v ci0="$CI0" -v cb1="$CB1" -v ci1="$CI1" -v cb2="$CB2" -v ci2="$CI2" -v cw0="$CW0" -v cw2="$CW2" \
    -v sc0="$SC0" -v sc2="$SC2" -v cc0="$CC0" -v cc2="$CC2" -v hz="$HZ" -v haveserver="${RSS_PID:+1}" 'BEGIN {
    acc = t1 - t0
    del = t2 - t0; if (del < acc) del = acc
    # machine-wide CPU busy share (all cores, client included) while sending,
    # and from start until delivery was seen complete
    cs = (cb1 - cb0 + ci1 - ci0) > 0 ? 100 * (cb1 - cb0) / (cb1 - cb0 + ci1 - ci0) : 0
    ct = (cb2 - cb0 + ci2 - ci0) > 0 ? 100 * (cb2 - cb0) / (cb2 - cb0 + ci2 - ci0) : 0
    cw = (cb2 - cb0 + ci2 - ci0) > 0 ? 100 * (cw2 - cw0) / (cb2 - cb0 + ci2 - ci0) : 0
    # CPU seconds from start until delivery was seen complete: the server
    # process tree (RSS_PID), this client (smtp-source, script, sampler) and
    # the rest of the machine (busy - server - client; includes softirq, so
    # it is approximate: a large value means another workload was running)
    srv = (sc2 - sc0) / hz; cli = (cc2 - cc0) / hz
    oth = (cb2 - cb0) / hz - srv - cli; if (oth < 0) oth = 0
    cpuinfo = sprintf(" client_cpu_s=%.2f other_cpu_s=%.2f", cli, oth)
    if (haveserver) cpuinfo = sprintf(" server_cpu_s=%.2f server_cpu_ms_per_msg=%.3f", srv, 1000 * srv / n) cpuinfo
    # deliver_lag_s: newest delivered file minus end of sending (negative:
    # everything was delivered before the client had even finished)
    printf "n=%d conc=%d size_kb=%d rcpt_users=%d accepted_s=%.3f delivered_s=%.3f deliver_lag_s=%.3f delivered_files=%d send_failed=%d cpu_busy_send_pct=%.0f cpu_busy_total_pct=%.0f iowait_pct=%.0f%s%s\n",
        n, c, kb, k, acc, del, t2 - t1, d, fail, cs, ct, cw, cpuinfo, extra
    if (d >= n) dr = sprintf("%.1f", n / del); else dr = "NA"
    ar = fail ? "NA" : sprintf("%.1f", n / acc)
    printf "accepted_msgs_per_s=%s delivered_msgs_per_s=%s\n", ar, dr
}'

[ "$fail" -eq 0 ] && [ "$delivered" -ge "$N" ]
