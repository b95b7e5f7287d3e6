#!/usr/bin/env python3
"""Server memory per idle IMAP connection, for bench/imap.

Usage: imap-idle.py HOST PORT N USERFMT PASS ROOTPID [--tls] [--users 20]
                    [--sources 4] [--settle 5] [--label L]

Measures the summed RSS and PSS of ROOTPID and all its descendants
(Dovecot: master, imap-login, imap, imap-hibernate, auth, anvil, ...; Tern:
the one ternd process), then opens N connections (TLS with --tls: implicit
TLS, no certificate check), each doing LOGIN (USERFMT with %d = 1..--users,
round-robin), SELECT INBOX and IDLE, spread over --sources loopback source
addresses 127.0.0.1.. so no source runs out of ports, waits --settle
seconds, checks that every connection is still open, measures again and
reports (with - baseline) / N. Logins are not timed. The ulimit -n is
raised to the hard limit.
Last line: imap-idle: label=L n=N tls=0|1 alive=A base_rss_kb=.. rss_kb=..
           delta_rss_per_conn_kib=.. delta_pss_per_conn_kib=.. procs=..
"""
import argparse
import concurrent.futures
import os
import resource
import socket
import ssl
import sys
import time


def tree(root):
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    st = f.read()
                kids.setdefault(int(st[st.rindex(")") + 2:].split()[1]), []).append(int(d))
            except (OSError, ValueError):
                pass
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def measure(root):
    rss = pss = n = 0
    for p in tree(root):
        try:
            with open("/proc/%d/smaps_rollup" % p) as f:
                for line in f:
                    if line.startswith("Rss:"):
                        rss += int(line.split()[1])
                    elif line.startswith("Pss:"):
                        pss += int(line.split()[1])
            n += 1
        except (OSError, ValueError):
            pass
    return n, rss, pss


def readline(s, buf):
    while b"\r\n" not in buf[0]:
        d = s.recv(65536)
        if not d:
            raise ConnectionError("closed")
        buf[0] += d
    line, buf[0] = buf[0].split(b"\r\n", 1)
    return line


def command(s, buf, tag, text):
    s.sendall(tag + b" " + text + b"\r\n")
    while True:
        line = readline(s, buf)
        if line.startswith(tag + b" "):
            if not line[len(tag) + 1:].startswith(b"OK"):
                raise ConnectionError(line.decode(errors="replace"))
            return


def open_one(a, i, ctx):
    src = "127.0.0.%d" % (1 + i % a.sources)
    raw = socket.create_connection((a.host, a.port), timeout=120, source_address=(src, 0))
    s = ctx.wrap_socket(raw) if ctx else raw
    buf = [b""]
    if not readline(s, buf).startswith(b"* OK"):
        raise ConnectionError("greeting")
    user = a.userfmt.replace("%d", str(i % a.users + 1))
    command(s, buf, b"a1", b'LOGIN "%s" "%s"' % (user.encode(), a.password.encode()))
    command(s, buf, b"a2", b"SELECT INBOX")
    s.sendall(b"a3 IDLE\r\n")
    while not readline(s, buf).startswith(b"+"):
        pass
    return s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("n", type=int)
    ap.add_argument("userfmt")
    ap.add_argument("password")
    ap.add_argument("rootpid", type=int)
    ap.add_argument("--tls", action="store_true")
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--sources", type=int, default=4)
    ap.add_argument("--settle", type=float, default=5)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--label", default="server")
    a = ap.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard < a.n + 100:
        sys.exit("ulimit -n hard limit %d too low" % hard)
    ctx = None
    if a.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE

    time.sleep(1)
    base = measure(a.rootpid)
    t0 = time.time()
    conns = []
    with concurrent.futures.ThreadPoolExecutor(a.threads) as ex:
        futs = [ex.submit(open_one, a, i, ctx) for i in range(a.n)]
        for k, f in enumerate(futs):
            try:
                conns.append(f.result())
            except (OSError, ConnectionError) as e:
                print("connection %d failed: %s" % (k, e), file=sys.stderr)
                break
            if (k + 1) % 1000 == 0:
                print("  %s: %d connections in IDLE (%.0f s)" % (a.label, k + 1, time.time() - t0),
                      flush=True)
    t_open = time.time() - t0
    time.sleep(a.settle)
    alive = 0
    for s in conns:
        try:
            s.setblocking(False)
            d = s.recv(1) if not a.tls else s.pending() or b"x"
            alive += d != b""
        except (BlockingIOError, ssl.SSLWantReadError):
            alive += 1
        except OSError:
            pass
    load = measure(a.rootpid)
    n = max(len(conns), 1)
    print("%s: baseline %d procs rss %.1f MiB pss %.1f MiB; with %d idle (%d alive, opened in "
          "%.0f s) %d procs rss %.1f MiB pss %.1f MiB" % (
              a.label, base[0], base[1] / 1024, base[2] / 1024, len(conns), alive, t_open,
              load[0], load[1] / 1024, load[2] / 1024))
    print("imap-idle: label=%s n=%d tls=%d alive=%d base_rss_kb=%d rss_kb=%d base_pss_kb=%d "
          "pss_kb=%d delta_rss_per_conn_kib=%.1f delta_pss_per_conn_kib=%.1f procs=%d" % (
              a.label, len(conns), a.tls, alive, base[1], load[1], base[2], load[2],
              (load[1] - base[1]) / n, (load[2] - base[2]) / n, load[0]), flush=True)
    for s in conns:
        try:
            s.close()
        except OSError:
            pass
    sys.exit(0 if alive == a.n else 1)


if __name__ == "__main__":
    main()
