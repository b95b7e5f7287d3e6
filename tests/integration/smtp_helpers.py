"""Helpers shared by the SMTP integration tests (test_smtp_*.py).

Messages are found again through POP3 by a unique token in their headers
(TOP n 0, then RETR), and the store is checked with Tern.sql().
"""
import os
import poplib
import re
import time
import uuid

from conftest import PASSWORDS, Raw

# poplib refuses lines over 2048 octets; Tern stores lines up to 64 KiB.
poplib._MAXLINE = 1 << 20

CLIENT = "client.example.org"


def token():
    return uuid.uuid4().hex


def make_message(tok, body=b"hello\r\n", sender="sender@example.org", to="alice@a.test",
                 extra_headers=b""):
    """A small RFC 5322 message whose Subject and Message-ID carry tok."""
    if isinstance(body, str):
        body = body.encode()
    return (b"From: " + sender.encode() + b"\r\nTo: " + to.encode() +
            b"\r\nSubject: test " + tok.encode() +
            b"\r\nMessage-ID: <" + tok.encode() + b"@example.org>\r\n" + extra_headers +
            b"\r\n" + body)


def connect(t, ehlo=CLIENT, **kwargs):
    """A Raw client past the greeting and EHLO."""
    r = Raw(t.host, t.ports["smtp"], **kwargs)
    code, text = r.reply()
    assert code == 220, text
    if ehlo is not None:
        code, text = r.cmd("EHLO " + ehlo)
        assert code == 250, text
    return r


def queue_id(reply_text):
    m = re.search(r"queued as (\w+)", reply_text)
    assert m, reply_text
    return m.group(1)


def dot_stuff(data):
    """DATA transparency (RFC 5321 4.5.2) plus the end marker."""
    assert data.endswith(b"\r\n")
    lines = data.split(b"\r\n")[:-1]
    return b"".join((b"." + l if l.startswith(b".") else l) + b"\r\n" for l in lines) + b".\r\n"


def pop_open(t, user):
    p = poplib.POP3(t.host, t.ports["pop3"], timeout=30)
    p.user(user)
    p.pass_(PASSWORDS[user])
    return p


def _retr(p, i):
    return b"\r\n".join(p.retr(i)[1]) + b"\r\n"


def pop_all(t, user):
    """Every message in user's INBOX, as stored (CRLF lines)."""
    p = pop_open(t, user)
    count, _ = p.stat()
    msgs = [_retr(p, i + 1) for i in range(count)]
    p.quit()
    return msgs


def pop_find(t, user, tok, delete=False):
    """The messages of user whose header section contains tok."""
    p = pop_open(t, user)
    count, _ = p.stat()
    found = []
    for i in range(1, count + 1):
        head = b"\r\n".join(p.top(i, 0)[1])
        if tok.encode() in head:
            found.append(_retr(p, i))
            if delete:
                p.dele(i)
    p.quit()
    return found


def split_trace(msg):
    """Splits a stored message into (Return-Path, Delivered-To, Received
    header with its continuation lines, the rest as the client sent it)."""
    lines = msg.split(b"\r\n")
    assert lines[0].startswith(b"Return-Path: "), msg[:300]
    assert lines[1].startswith(b"Delivered-To: "), msg[:300]
    assert lines[2].startswith(b"Received: "), msg[:300]
    i = 3
    while lines[i].startswith((b"\t", b" ")):
        i += 1
    received = b"\r\n".join(lines[2:i])
    return (lines[0][len(b"Return-Path: "):].decode(), lines[1][len(b"Delivered-To: "):].decode(),
            received.decode(errors="replace"), b"\r\n".join(lines[i:]))


def count(t, table, where=""):
    return int(t.sql("SELECT count(*) FROM %s %s" % (table, where)))


def messages_with_token(t, tok):
    """Stored messages (any mailbox) whose content contains tok, inline or
    in a blob file."""
    n = int(t.sql("SELECT count(*) FROM messages m JOIN blobs b ON b.id = m.blob_id "
                  "WHERE b.data IS NOT NULL AND instr(b.data, CAST('%s' AS BLOB)) > 0" % tok))
    for name in t.sql("SELECT b.file FROM messages m JOIN blobs b ON b.id = m.blob_id "
                      "WHERE b.file IS NOT NULL").split():
        with open(os.path.join(t.data_dir, "blobs", name), "rb") as f:
            if tok.encode() in f.read():
                n += 1
    return n


def tmp_files(t):
    return os.listdir(os.path.join(t.data_dir, "tmp"))


def wait_for(predicate, timeout=30):
    """Polls predicate until it is true; returns its last value."""
    deadline = time.time() + timeout
    while True:
        value = predicate()
        if value or time.time() > deadline:
            return value
        time.sleep(0.02)


def session_id(t, needle):
    """The session= id of the first log line containing needle."""
    for line in t.log().splitlines():
        if needle in line:
            m = re.search(r"session=(\w+)", line)
            if m:
                return m.group(1)
    return None
