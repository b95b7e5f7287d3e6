"""Durability: "250" means on disk. kill -9 under concurrent load loses no
acknowledged message and stores no damaged one; SIGTERM lets a client in
the middle of DATA finish, acknowledges its message, then says 421."""
import os
import signal
import smtplib
import socket
import threading

import pytest

from smtp_helpers import (connect, count, dot_stuff, make_message, pop_all, queue_id, split_trace,
                          token, wait_for)

USERS = ["alice@a.test", "bob@a.test", "carol@a.test"]
THREADS = 8
PER_THREAD = 30


def message_for(thread, i):
    """(token, recipients, body): mostly small, every 7th over 64 KiB."""
    tok = token()
    rcpts = [USERS[(thread + i) % 3]]
    if i % 5 == 4:
        rcpts.append(USERS[(thread + i + 1) % 3])
    size = 70000 if i % 7 == 6 else 200 + 37 * i
    lines = b"".join(b"t%d m%d %s\r\n" % (thread, i, b"x" * 90) for _ in range(size // 100))
    return tok, rcpts, make_message(tok, to=", ".join(rcpts), body=lines)


def sender(t, thread, acked, sent, lock, stop):
    s = None
    try:
        for i in range(PER_THREAD):
            if stop.is_set():
                return
            tok, rcpts, body = message_for(thread, i)
            with lock:
                sent[tok] = (rcpts, body)
            if s is None:
                s = smtplib.SMTP(t.host, t.ports["smtp"], timeout=30)
                s.ehlo("load%d.example.org" % thread)
            s.sendmail("load%d@example.org" % thread, rcpts, body)
            with lock:     # sendmail returned: the server said 250 to the data
                acked[tok] = (rcpts, body)
    except (smtplib.SMTPException, OSError):
        return
    finally:
        if s is not None:
            try:
                s.close()
            except OSError:
                pass


def stored_messages(t):
    """{(token, user): stored message} for every message in every INBOX."""
    found = {}
    for user in USERS:
        for msg in pop_all(t, user):
            head = msg.split(b"\r\n\r\n", 1)[0]
            tok = head.split(b"Message-ID: <", 1)[1].split(b"@", 1)[0].decode()
            assert (tok, user) not in found, "stored twice: %s for %s" % (tok, user)
            found[(tok, user)] = msg
    return found


def test_kill9_under_load_keeps_every_acknowledged_message_byte_exact(fresh):
    t = fresh()
    t.start()
    acked, sent = {}, {}
    lock, stop = threading.Lock(), threading.Event()
    threads = [threading.Thread(target=sender, args=(t, n, acked, sent, lock, stop))
               for n in range(THREADS)]
    for th in threads:
        th.start()
    # Kill while the load runs: after some messages were acknowledged.
    assert wait_for(lambda: len(acked) >= 40, timeout=60), "no progress: %d acked" % len(acked)
    t.kill9()
    stop.set()
    for th in threads:
        th.join(60)
    assert len(acked) < THREADS * PER_THREAD, "the kill came too late to test anything"

    t.start()
    found = stored_messages(t)
    # every acknowledged message, for each of its recipients, byte-exact
    for tok, (rcpts, body) in acked.items():
        for user in rcpts:
            assert (tok, user) in found, "acknowledged message %s for %s lost" % (tok, user)
            assert split_trace(found[(tok, user)])[3] == body
    # anything else stored was really sent (the 250 may have been lost in
    # the kill) and is complete, never a torn or partial message
    for (tok, user), msg in found.items():
        assert tok in sent, "a message nobody sent: %r" % msg[:200]
        rcpts, body = sent[tok]
        assert user in rcpts
        assert split_trace(msg)[3] == body
    # leftovers in data/tmp are not messages; the store is consistent
    assert count(t, "messages") == len(found)
    assert t.sql("SELECT count(*) FROM blobs b WHERE refs != "
                 "(SELECT count(*) FROM messages m WHERE m.blob_id = b.id) + "
                 "(SELECT count(*) FROM queue q WHERE q.blob_id = b.id)") == "0"
    for name in t.sql("SELECT file FROM blobs WHERE file IS NOT NULL").split():
        assert os.path.isfile(os.path.join(t.data_dir, "blobs", name)), name
    # and the restarted server takes new mail
    tok = token()
    with smtplib.SMTP(t.host, t.ports["smtp"], timeout=30) as s:
        assert s.sendmail("after@example.org", ["alice@a.test"], make_message(tok)) == {}


def wait_shutdown_started(t):
    assert wait_for(lambda: "shutdown sessions=" in t.log()), t.log()[-2000:]


def next_reply_after_command(r, line):
    """Sends line (if the socket still takes it) and reads one reply."""
    try:
        r.send(line + "\r\n")
    except OSError:
        pass
    return r.reply()


@pytest.mark.parametrize("size", ["small", "large"])
def test_sigterm_mid_data_lets_client_finish_then_421(fresh, size):
    t = fresh()
    t.start()
    tok = token()
    body = make_message(tok, body=b"".join(b"%06d %s\r\n" % (i, b"d" * 100)
                                           for i in range(1000 if size == "large" else 5)))
    wire = dot_stuff(body)
    idle = connect(t)
    r = connect(t)
    r.send("MAIL FROM:<sender@example.org>\r\nRCPT TO:<alice@a.test>\r\nDATA\r\n")
    assert [r.reply()[0] for _ in range(3)] == [250, 250, 354]
    r.send(wire[:len(wire) // 2])
    t.proc.send_signal(signal.SIGTERM)
    wait_shutdown_started(t)
    # the idle session is told at once
    code, text = idle.reply()
    assert code == 421 and text.startswith("421 4.3.2 "), text
    assert idle.closed()
    # no new connections
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((t.host, t.ports["smtp"]), timeout=5)
    # the client in DATA finishes and gets its 250
    r.send(wire[len(wire) // 2:])
    code, text = r.reply()
    assert code == 250 and "queued as" in text, text
    qid = queue_id(text)
    code, text = next_reply_after_command(r, "MAIL FROM:<sender@example.org>")
    assert code == 421 and text.startswith("421 4.3.2 "), text
    assert r.closed()
    assert t.proc.wait(30) == 0
    t.proc = None
    assert "queue=%s accepted" % qid in t.log()
    t.start()
    msgs = [m for m in pop_all(t, "alice@a.test") if tok.encode() in m]
    assert len(msgs) == 1 and split_trace(msgs[0])[3] == body


def test_sigterm_mid_bdat_lets_client_finish_then_421(fresh):
    t = fresh()
    t.start()
    tok = token()
    body = make_message(tok, body=b"bdat body\r\n" * 100)
    r = connect(t)
    r.send("MAIL FROM:<sender@example.org>\r\nRCPT TO:<bob@a.test>\r\n")
    assert [r.reply()[0] for _ in range(2)] == [250, 250]
    r.send(b"BDAT %d LAST\r\n" % len(body) + body[:100])
    assert wait_for(lambda: "state rcpt->bdat" in t.log())
    t.proc.send_signal(signal.SIGTERM)
    wait_shutdown_started(t)
    r.send(body[100:])
    code, text = r.reply()
    assert code == 250 and "queued as" in text, text
    code, text = next_reply_after_command(r, "NOOP")
    assert code == 421, text
    assert t.proc.wait(30) == 0
    t.proc = None
    t.start()
    msgs = [m for m in pop_all(t, "bob@a.test") if tok.encode() in m]
    assert len(msgs) == 1 and split_trace(msgs[0])[3] == body


def test_sigterm_mid_data_then_rejected_message_gets_421_next(fresh):
    """A message rejected at the end of DATA during shutdown ends the
    transaction too: the session must not start another one."""
    t = fresh()
    t.start()
    r = connect(t)
    r.send("MAIL FROM:<sender@example.org>\r\nRCPT TO:<alice@a.test>\r\nDATA\r\n")
    assert [r.reply()[0] for _ in range(3)] == [250, 250, 354]
    r.send("Subject: x\r\n\r\nbare\nLF\r\n")
    t.proc.send_signal(signal.SIGTERM)
    wait_shutdown_started(t)
    r.send(".\r\n")
    code, text = r.reply()
    assert code == 554, text
    code, text = next_reply_after_command(r, "MAIL FROM:<sender@example.org>")
    assert code == 421 and text.startswith("421 4.3.2 "), text
    assert r.closed()
    assert t.proc.wait(30) == 0
    t.proc = None
