#!/usr/bin/env python3
"""Single IMAP operations for bench/imap, against any IMAP server.

Usage: imap-ops.py HOST PORT USER PASS [--load] [--messages 100000]
                   [--search-messages 10000] [--reps 5] [--json OUT]
                   [--only select,fetch_flags,...]

Reuses the message generator, connection and APPEND engine of
../../shared/bench/imap-ops.py (imported, not copied), so both servers get
byte-identical mail. Two mailboxes:

  bench100k  --messages messages: MessageSet(N, seed) messages 0..N-1,
             exactly as ../shared/bench/imap-ops.py loads them
  bench10k   --search-messages messages: messages 0..M-1 of
             MessageSet(30 * M, seed), so every 30th one (3.3 %) carries the
             body word "zephyrquokka"

--load (re)creates both with MULTIAPPEND (100 per command, 4 in flight);
the load is timed (protocol time) and reported, but is not a measured
operation. Logins are never timed: Tern checks an Argon2id hash, the
Dovecot anchor a {PLAIN} one.

Timed (time from sending the command to its tagged OK, all data read):
  select        SELECT bench100k, each repetition on a fresh session
  fetch_flags   UID FETCH 1:* (UID FLAGS) on bench100k
  fetch_env_bs  FETCH 1:1000 (ENVELOPE BODYSTRUCTURE) on bench100k
  search_text   UID SEARCH TEXT zephyrquokka on bench10k (hits checked)
  append        1000 x 4 KiB, one session, one APPEND per round trip
                (synchronising literal), into a new mailbox per repetition
  idle_wake     a 4 KiB APPEND (LITERAL+) on one session until another
                session, IDLE on that mailbox, reads its EXISTS (50 samples)
Last line: imap-ops: select_ms=.. fetch_flags_ms=.. fetch_env_bs_ms=..
           search_text_ms=.. append_per_s=.. idle_wake_ms=.. load_100k_s=..
           load_10k_s=..
(medians; NA when an operation failed, with its error printed above).
"""
import argparse
import importlib.util
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.join(HERE, "..", "..", "shared", "bench", "imap-ops.py")
spec = importlib.util.spec_from_file_location("shared_imap_ops", SHARED)
ops = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ops)

BIG, SMALL = "bench100k", "bench10k"


def log(msg):
    print(msg, flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("user")
    ap.add_argument("password")
    ap.add_argument("--label", default="server")
    ap.add_argument("--load", action="store_true")
    ap.add_argument("--messages", type=int, default=100000)
    ap.add_argument("--search-messages", type=int, default=10000)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--append-reps", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json")
    ap.add_argument("--only", help="comma-separated operations to run (default: all)")
    a = ap.parse_args()

    def connect():
        c = ops.Conn(a.host, a.port, 1800)
        c.login(a.user, a.password)
        return c

    res = {"label": a.label, "ops": {}}
    big = ops.MessageSet(a.messages, a.seed)
    small = ops.MessageSet(30 * a.search_messages, a.seed)
    want_hits = sum(1 for i in range(a.search_messages) if small.text_hit(i))

    if a.load:
        c = connect()
        for box, gen, n in ((BIG, big, a.messages), (SMALL, small, a.search_messages)):
            c.simple(b"DELETE " + ops.quote(box))
            c.ok(b"CREATE " + ops.quote(box))
            w0 = time.perf_counter()
            st = ops.append_all(c, box, "multiappend", 100, 4, 64, gen.message, n,
                                progress=lambda d, b, e: log("  load %s: %d msgs %.0f s" % (a.label, d, e))
                                if d % 20000 == 0 else None)
            st["wall_s"] = time.perf_counter() - w0
            res["load_" + box] = st
            log("load %s %s: %d msgs, %.0f MB, %.1f s protocol time (%.0f msgs/s), %.1f s wall"
                % (a.label, box, n, st["bytes"] / 1e6, st["seconds"], st["msgs_per_s"], st["wall_s"]))
        c.logout()

    # untimed warm-up: Dovecot builds its index (and caches ENVELOPE and
    # BODYSTRUCTURE) on first use, both servers fill the page cache
    w0 = time.perf_counter()
    c = connect()
    for box in (BIG, SMALL):
        c.ok(b"SELECT " + box.encode())
        c.timed(b"UID FETCH 1:* (UID FLAGS)")
    c.ok(b"SELECT " + BIG.encode())
    c.timed(b"FETCH 1:1000 (ENVELOPE BODYSTRUCTURE)")
    c.logout()
    log("%s warm-up (untimed): %.1f s" % (a.label, time.perf_counter() - w0))

    def record(key, samples, extra=None):
        ms = [s * 1000 for s in samples]
        d = {"median_ms": statistics.median(ms), "min_ms": min(ms), "samples_ms": ms}
        d.update(extra or {})
        res["ops"][key] = d
        log("%s %-13s median %10.2f ms  min %10.2f ms  [%s]%s" % (
            a.label, key, d["median_ms"], d["min_ms"], " ".join("%.1f" % x for x in ms),
            "  " + " ".join("%s=%s" % kv for kv in (extra or {}).items()) if extra else ""))

    def guarded(key, fn):
        try:
            fn()
        except (ops.IMAPError, OSError) as e:
            log("%s %-13s ERROR %s" % (a.label, key, e))
            res["ops"][key] = {"error": str(e)}

    state = {}

    def op_select():
        samples = []
        for k in range(a.reps):
            c = connect()
            dt, _, _, resp = c.timed(b"SELECT " + BIG.encode())
            samples.append(dt)
            ex = ops.exists_of(resp)
            if k < a.reps - 1:
                c.logout()
            else:
                state["c"] = c
        record("select", samples, {"exists": ex})
        if ex != a.messages:
            raise ops.IMAPError("EXISTS %s, want %d" % (ex, a.messages))

    def main_conn():
        if "c" not in state:
            state["c"] = connect()
            state["c"].ok(b"SELECT " + BIG.encode())
        return state["c"]

    def repeat(key, cmd, check):
        samples, n = [], None
        for _ in range(a.reps):
            dt, _, _, resp = main_conn().timed(cmd)
            samples.append(dt)
            n = check(resp)
        record(key, samples, {"result": n, "bytes": len(resp)})

    def op_fetch_flags():
        repeat("fetch_flags", b"UID FETCH 1:* (UID FLAGS)", ops.fetch_count)

    def op_fetch_env():
        repeat("fetch_env_bs", b"FETCH 1:1000 (ENVELOPE BODYSTRUCTURE)", ops.fetch_count)

    def op_search():
        c = connect()
        c.ok(b"SELECT " + SMALL.encode())
        samples, hits = [], None
        for _ in range(a.reps):
            dt, _, _, resp = c.timed(b"UID SEARCH TEXT " + ops.TEXT_WORD.encode())
            samples.append(dt)
            hits = ops.search_hits(resp)
        c.logout()
        record("search_text", samples, {"hits": hits, "want": want_hits})
        if hits != want_hits:
            raise ops.IMAPError("SEARCH hits %s, want %d" % (hits, want_hits))

    def op_append():
        msgs = [ops.small_message(a.seed, j) for j in range(1000)]
        c = connect()
        samples, run = [], time.strftime("%H%M%S")
        for k in range(a.append_reps):
            box = ("bench-append-%s-%d" % (run, k)).encode()
            c.ok(b"CREATE " + box)
            st = ops.append_all(c, box.decode(), "serial", 1, 1, 1, lambda j: msgs[j], 1000)
            samples.append(st["seconds"])
        c.logout()
        record("append", samples, {"per_s": round(1000 / statistics.median(samples))})

    def op_idle_wake():
        """APPEND on one session until an IDLE session on the same mailbox
        reads the new EXISTS; a fresh mailbox, reps x 10 samples."""
        box = ("bench-idle-%s" % time.strftime("%H%M%S")).encode()
        a_ = connect()
        a_.ok(b"CREATE " + box)
        b_ = connect()
        b_.ok(b"SELECT " + box)
        b_.sock.sendall(b"I1 IDLE\r\n")
        while not b_.read_logical().startswith(b"+"):
            pass
        samples = []
        for j in range(10 * a.reps):
            msg = ops.small_message(a.seed, j)[0]
            tag = a_.newtag()
            t0 = time.perf_counter()
            a_.sock.sendall(tag + b" APPEND " + box + b" {%d+}\r\n" % len(msg) + msg + b"\r\n")
            want = b"* %d EXISTS" % (j + 1)
            while b_.read_logical() != want:
                pass
            samples.append(time.perf_counter() - t0)
            while not a_.read_logical().startswith(tag + b" OK"):
                pass
        b_.sock.sendall(b"DONE\r\n")
        b_.logout()
        a_.ok(b"DELETE " + box)
        a_.logout()
        record("idle_wake", samples, {"max_ms": "%.1f" % (max(samples) * 1000)})

    only = set(a.only.split(",")) if a.only else None
    for key, fn in (("select", op_select), ("fetch_flags", op_fetch_flags),
                    ("fetch_env_bs", op_fetch_env), ("search_text", op_search),
                    ("append", op_append), ("idle_wake", op_idle_wake)):
        if only is None or key in only:
            guarded(key, fn)
        if key == "fetch_env_bs" and "c" in state:
            state["c"].logout()

    o = res["ops"]

    def m(k):
        return "%.2f" % o[k]["median_ms"] if "median_ms" in o.get(k, {}) else "NA"
    ld = lambda b: "%.1f" % res["load_" + b]["seconds"] if "load_" + b in res else "NA"
    ap_rate = "%d" % o["append"]["per_s"] if "per_s" in o.get("append", {}) else "NA"
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)
    print("imap-ops: select_ms=%s fetch_flags_ms=%s fetch_env_bs_ms=%s search_text_ms=%s "
          "append_per_s=%s idle_wake_ms=%s load_100k_s=%s load_10k_s=%s" % (
              m("select"), m("fetch_flags"), m("fetch_env_bs"), m("search_text"),
              ap_rate, m("idle_wake"), ld(BIG), ld(SMALL)))
    sys.exit(0 if all("error" not in v for v in o.values()) else 1)


if __name__ == "__main__":
    main()
