#!/usr/bin/env python3
"""Writes bench/imap's mailboxes straight into a Dovecot Maildir.

Usage: imap-maildir-load.py MAILDIR [--messages 100000] [--search-messages 10000]
                            [--seed 1] [--owner mail]

The same messages, flags and dates as bench/imap-ops.py --load (the
generator of ../../shared/bench/imap-ops.py): bench100k and bench10k as
Maildir++ folders .bench100k and .bench10k, one file per message in cur/
(flags in the name, mtime = INTERNALDATE), and a dovecot-uidlist giving
message i the UID i+1, as an APPEND in order would. No fsync: this is a
load path, not a measurement. Dovecot must be stopped; its indexes are
built on the first SELECT (bench/imap does an untimed one).
"""
import argparse
import calendar
import importlib.util
import os
import pwd
import shutil
import time

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location(
    "shared_imap_ops", os.path.join(HERE, "..", "..", "shared", "bench", "imap-ops.py"))
ops = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ops)
LETTERS = {"\\Draft": "D", "\\Flagged": "F", "\\Answered": "R", "\\Seen": "S"}


def write_box(maildir, name, gen, n, uid, gid):
    box = os.path.join(maildir, "." + name)
    shutil.rmtree(box, ignore_errors=True)
    for d in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(box, d))
    lines, nbytes = [], 0
    for i in range(n):
        m = gen.message(i)
        data, flags, date = m[0], m[1] if len(m) > 1 else "", m[2] if len(m) > 2 else None
        if isinstance(data, str):
            data = data.encode()
        letters = "".join(sorted(LETTERS[f] for f in (flags or "").split() if f in LETTERS))
        base = "%d.M%dP%d.bench,S=%d" % (1672531200 + i, i, os.getpid(), len(data))
        path = os.path.join(box, "cur", base + ":2," + letters)
        with open(path, "wb") as f:
            f.write(data)
        t = calendar.timegm(time.strptime(date[:20], "%d-%b-%Y %H:%M:%S")) if date else ops.T0
        os.utime(path, (t, t))
        lines.append("%d :%s" % (i + 1, base))
        nbytes += len(data)
    with open(os.path.join(box, "dovecot-uidlist"), "w") as f:
        f.write("3 V%d N%d\n" % (int(time.time()), n + 1))
        f.write("\n".join(lines) + "\n")
    for root, dirs, files in os.walk(box):
        os.chown(root, uid, gid)
        for x in files:
            os.chown(os.path.join(root, x), uid, gid)
    return nbytes


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("maildir")
    ap.add_argument("--messages", type=int, default=100000)
    ap.add_argument("--search-messages", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--owner", default="mail")
    a = ap.parse_args()
    pw = pwd.getpwnam(a.owner)
    os.makedirs(a.maildir, exist_ok=True)
    for name, gen, n in (("bench100k", ops.MessageSet(a.messages, a.seed), a.messages),
                         ("bench10k", ops.MessageSet(30 * a.search_messages, a.seed),
                          a.search_messages)):
        t = time.perf_counter()
        nb = write_box(a.maildir, name, gen, n, pw.pw_uid, pw.pw_gid)
        print("maildir-load %s: %d msgs, %.0f MB in %.1f s (files written directly)"
              % (name, n, nb / 1e6, time.perf_counter() - t), flush=True)


if __name__ == "__main__":
    main()
