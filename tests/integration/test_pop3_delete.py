"""Deletion semantics (RFC 1939 5, 6): DELE only marks, the UPDATE state
after QUIT removes; a session that ends any other way removes nothing."""
import poplib
import smtplib
import socket

import pytest

from pop3_helpers import (deliver, deliver_many, list_sizes, login, message,
                          new_user, raw, retr_bytes, uidl_map, wait_for)


@pytest.fixture
def mailbox(tern):
    user, password = new_user(tern)
    bodies = [message("d%d" % i, b"deletable %d\r\n" % i) for i in range(3)]
    deliver_many(tern, user, bodies)
    return user, password, bodies


def count(t, user, password):
    p = login(t, user, password)
    n = p.stat()[0]
    p.quit()
    return n


def test_dele_then_quit_deletes_the_message(tern, mailbox):
    user, password, bodies = mailbox
    p = login(tern, user, password)
    assert p.dele(2).startswith(b"+OK")
    assert p.quit().startswith(b"+OK")
    p = login(tern, user, password)
    assert p.stat()[0] == 2
    assert retr_bytes(p, 1).endswith(bodies[0])
    assert retr_bytes(p, 2).endswith(bodies[2])
    p.quit()


def test_deleted_message_is_gone_from_list_and_stat_in_same_session(tern, mailbox):
    user, password, _ = mailbox
    p = login(tern, user, password)
    sizes = list_sizes(p)
    p.dele(1)
    assert p.stat() == (2, sizes[2] + sizes[3])
    assert sorted(list_sizes(p)) == [2, 3]     # numbers do not shift
    assert sorted(uidl_map(p)) == [2, 3]
    p.quit()


def test_list_n_of_deleted_message_gets_err(tern, mailbox):
    user, password, _ = mailbox
    p = login(tern, user, password)
    p.dele(1)
    for cmd in (p.list, p.uidl, p.retr):
        with pytest.raises(poplib.error_proto):
            cmd(1)
    with pytest.raises(poplib.error_proto):
        p.top(1, 0)
    p.quit()


def test_dele_of_deleted_message_gets_err(tern, mailbox):
    user, password, _ = mailbox
    p = login(tern, user, password)
    p.dele(3)
    with pytest.raises(poplib.error_proto) as e:
        p.dele(3)
    assert e.value.args[0].startswith(b"-ERR")
    p.quit()


def test_dele_then_drop_connection_deletes_nothing(tern, mailbox):
    user, password, _ = mailbox
    c = raw(tern)
    c.login(user, password)
    assert c.cmd("DELE 1").startswith("+OK")
    assert c.cmd("DELE 2").startswith("+OK")
    c.sock.shutdown(socket.SHUT_RDWR)
    c.close()
    # the lock goes with the session; then all three are still there
    assert wait_for(lambda: _try_count(tern, user, password) == 3)


def test_dele_then_reset_connection_deletes_nothing(tern, mailbox):
    user, password, _ = mailbox
    c = raw(tern)
    c.login(user, password)
    c.cmd("DELE 1")
    # RST instead of FIN
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    c.close()
    assert wait_for(lambda: _try_count(tern, user, password) == 3)


def _try_count(t, user, password):
    try:
        return count(t, user, password)
    except poplib.error_proto:
        return None     # [IN-USE] until the server has seen the close


def test_dele_then_rset_then_quit_deletes_nothing(tern, mailbox):
    user, password, _ = mailbox
    p = login(tern, user, password)
    p.dele(1)
    p.rset()
    p.quit()
    assert count(tern, user, password) == 3


def test_dele_all_then_quit_empties_mailbox(tern, mailbox):
    user, password, _ = mailbox
    p = login(tern, user, password)
    for n in (1, 2, 3):
        p.dele(n)
    assert p.stat() == (0, 0)
    reply = p.quit()
    assert reply.startswith(b"+OK")
    assert count(tern, user, password) == 0
    assert tern.cli("user", "list").stdout.count(user + " ") == 1
    line = [l for l in tern.cli("user", "list").stdout.splitlines() if l.startswith(user + " ")][0]
    assert "messages=0" in line


def test_quit_in_authorization_state_deletes_nothing(tern, mailbox):
    user, password, _ = mailbox
    c = raw(tern)
    assert c.cmd("QUIT").startswith("+OK")
    assert c.closed()
    assert count(tern, user, password) == 3


def test_messages_arriving_during_session_are_not_shown_nor_deleted(tern, mailbox):
    user, password, _ = mailbox
    p = login(tern, user, password)
    deliver(tern, user, message("late arrival"))
    assert p.stat()[0] == 3          # the maildrop is a snapshot at login
    for n in (1, 2, 3):
        p.dele(n)
    p.quit()
    p = login(tern, user, password)
    assert p.stat()[0] == 1
    assert b"Subject: late arrival" in retr_bytes(p, 1)
    p.quit()


def test_dele_removes_row_from_store_only_after_quit(tern, mailbox):
    user, password, _ = mailbox

    def rows():
        local = user.split("@")[0]
        return int(tern.sql("SELECT count(*) FROM messages m JOIN mailboxes mb ON"
                            " mb.id = m.mailbox_id JOIN accounts a ON a.id = mb.account_id"
                            " WHERE a.localpart = '%s'" % local))

    assert rows() == 3
    p = login(tern, user, password)
    p.dele(1)
    p.noop()
    assert rows() == 3
    p.quit()
    assert rows() == 2


def test_other_recipients_copy_survives_deletion(tern):
    u1, p1 = new_user(tern)
    u2, p2 = new_user(tern)
    body = message("shared", b"for two\r\n")
    with smtplib.SMTP(tern.host, tern.ports["smtp"], timeout=30) as s:
        s.sendmail("sender@example.org", [u1, u2], body)
    p = login(tern, u1, p1)
    p.dele(1)
    p.quit()
    p = login(tern, u2, p2)
    assert retr_bytes(p, 1).endswith(body)
    p.quit()
