"""Messages larger than inline_max live in blob files: RETR streams them,
and deleting the last reference removes the file."""
import poplib
import smtplib
import socket

import pytest

from pop3_helpers import (big_body, blob_files, deliver, list_sizes, login, message, new_user, raw,
                          retr_bytes, top_lines, wait_for, wait_log)


def relogin(t, user, password):
    """A logged-in client once the old session's lock is gone, else None."""
    try:
        return login(t, user, password)
    except poplib.error_proto:
        return None


def test_large_message_is_a_blob_file_and_retr_is_byte_for_byte(tern):
    user, password = new_user(tern)
    before = blob_files(tern)
    body = message("large", big_body())
    assert len(body) > 1024 * 1024
    deliver(tern, user, body)
    assert len(blob_files(tern) - before) == 1
    p = login(tern, user, password)
    size = list_sizes(p)[1]
    got = retr_bytes(p, 1)
    p.quit()
    assert got.endswith(body)
    assert len(got) == size


def test_large_message_top_3_gives_header_and_3_lines(tern):
    user, password = new_user(tern)
    payload = big_body(1.1)
    deliver(tern, user, message("large top", payload))
    p = login(tern, user, password)
    lines = top_lines(p, 1, 3)
    p.quit()
    blank = lines.index(b"")
    assert lines[blank + 1:] == payload.split(b"\r\n")[:3]


def test_deleted_large_message_leaves_no_blob_file(tern):
    user, password = new_user(tern)
    before = blob_files(tern)
    deliver(tern, user, message("large del", big_body(1.2)))
    new = blob_files(tern) - before
    assert len(new) == 1
    p = login(tern, user, password)
    p.dele(1)
    p.quit()
    p = login(tern, user, password)
    assert p.stat() == (0, 0)
    p.quit()
    assert not (blob_files(tern) & new)
    assert blob_files(tern) <= before
    # no blob row left without references either
    assert tern.sql("SELECT count(*) FROM blobs WHERE refs <= 0") == "0"


def test_large_message_dropped_session_keeps_blob_file(tern):
    user, password = new_user(tern)
    before = blob_files(tern)
    deliver(tern, user, message("large keep", big_body(1.1)))
    new = blob_files(tern) - before
    c = raw(tern)
    c.login(user, password)
    c.cmd("DELE 1")
    c.close()
    p = wait_for(lambda: relogin(tern, user, password))
    assert p.stat()[0] == 1
    p.quit()
    assert new <= blob_files(tern)


def test_large_message_shared_by_two_users_keeps_file_until_both_delete(tern):
    u1, p1 = new_user(tern)
    u2, p2 = new_user(tern)
    before = blob_files(tern)
    body = message("large shared", big_body(1.1))
    with smtplib.SMTP(tern.host, tern.ports["smtp"], timeout=30) as s:
        s.sendmail("sender@example.org", [u1, u2], body)
    new = blob_files(tern) - before
    assert len(new) == 1
    for user, password in ((u1, p1), (u2, p2)):
        p = login(tern, user, password)
        assert retr_bytes(p, 1).endswith(body)
        p.dele(1)
        p.quit()
        if user == u1:
            assert new <= blob_files(tern)
    assert not (blob_files(tern) & new)


def test_retr_large_message_client_closes_midway_server_survives(tern):
    user, password = new_user(tern)
    deliver(tern, user, message("large abort", big_body(2)))
    c = raw(tern)
    c.login(user, password)
    c.send("RETR 1\r\n")
    assert c.line().startswith("+OK")
    c.sock.recv(10000)
    c.close()
    p = wait_for(lambda: relogin(tern, user, password))
    assert p.stat()[0] == 1
    p.quit()


def test_pipelined_retr_of_large_messages_in_order(tern):
    user, password = new_user(tern)
    bodies = [message("big%d" % i, big_body(1.05)) for i in range(2)]
    for b in bodies:
        deliver(tern, user, b)
    c = raw(tern)
    c.login(user, password)
    c.send("RETR 1\r\nRETR 2\r\nNOOP\r\n")
    for b in bodies:
        assert c.line().startswith("+OK")
        text = "\r\n".join(c.multi()) + "\r\n"
        assert text.encode().endswith(b)
    assert c.line().startswith("+OK")
    c.cmd("QUIT")


def test_reader_that_stalls_mid_retr_is_timed_out_and_mailbox_unlocked(fresh):
    # A client that stops reading a RETR must not hold the mailbox lock (and
    # the connection) forever once the timeout has passed.
    t = fresh(extra={"server.plaintext_auth_loopback": "yes", "pop3.timeout": "1s"})
    t.start()
    user, password = new_user(t)
    deliver(t, user, message("huge", big_body(8)))    # more than socket buffers hold
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect((t.host, t.ports["pop3"]))
    f = s.makefile("rb")
    assert f.readline().startswith(b"+OK")
    s.sendall(("USER %s\r\nPASS %s\r\nRETR 1\r\n" % (user, password)).encode())
    for _ in range(3):
        assert f.readline().startswith(b"+OK")
    # now read nothing more, and keep the connection open
    assert wait_log(t, "disconnect reason=timeout", timeout=30)
    p = wait_for(lambda: relogin(t, user, password), timeout=30, interval=0.2)
    assert p is not None
    assert p.stat()[0] == 1
    p.quit()
    f.close()
    s.close()


@pytest.mark.parametrize("pad", [0, 1, 2])
def test_dot_lines_across_read_chunk_boundaries_are_stuffed(tern, pad):
    # Every line is ".": with three alignments, some line starts exactly at
    # a 64 KiB read boundary of the blob file, and some CRLF straddles one.
    user, password = new_user(tern)
    body = message("dots %d" % pad, b".\r\n" * 50000,
                   extra_headers=b"X-Pad: " + b"p" * pad + b"\r\n")
    deliver(tern, user, body)
    p = login(tern, user, password)
    got = retr_bytes(p, 1)
    size = list_sizes(p)[1]
    lines = top_lines(p, 1, 5)
    p.quit()
    assert got.endswith(body)
    assert len(got) == size
    assert lines[-6:] == [b"", b".", b".", b".", b".", b"."]
