"""POP3 TRANSACTION commands with poplib: STAT, LIST, UIDL, RETR, TOP, NOOP,
RSET and QUIT over the plain pop3 listener (loopback plaintext allowed)."""
import poplib

import pytest

from pop3_helpers import (deliver, deliver_many, list_sizes, login, message, new_user, raw,
                          retr_bytes, top_lines, uidl_map)


@pytest.fixture
def mailbox(tern):
    """A user with three messages; returns (address, password, bodies)."""
    user, password = new_user(tern)
    bodies = [message("m%d" % i, b"body of message %d\r\n" % i) for i in range(3)]
    deliver_many(tern, user, bodies)
    return user, password, bodies


def test_greeting_is_ok(tern):
    c = raw(tern)
    assert c.greeting.startswith("+OK")
    c.close()


def test_user_pass_logs_in_and_quit_says_ok(tern, mailbox):
    user, password, _ = mailbox
    p = poplib.POP3(tern.host, tern.ports["pop3"], timeout=10)
    assert p.user(user).startswith(b"+OK")
    assert p.pass_(password).startswith(b"+OK")
    assert p.quit().startswith(b"+OK")


def test_stat_counts_messages_and_octets(tern, mailbox):
    user, password, bodies = mailbox
    p = login(tern, user, password)
    count, octets = p.stat()
    sizes = list_sizes(p)
    p.quit()
    assert count == 3
    assert octets == sum(sizes.values())


def test_list_sizes_equal_retrieved_octets(tern, mailbox):
    user, password, _ = mailbox
    p = login(tern, user, password)
    sizes = list_sizes(p)
    assert sorted(sizes) == [1, 2, 3]
    for n, size in sizes.items():
        assert len(retr_bytes(p, n)) == size
    p.quit()


def test_list_n_gives_one_scan_line(tern, mailbox):
    user, password, _ = mailbox
    p = login(tern, user, password)
    sizes = list_sizes(p)
    reply = p.list(2)
    p.quit()
    assert reply == b"+OK 2 %d" % sizes[2]


def test_uidl_ids_are_unique_and_printable(tern, mailbox):
    user, password, _ = mailbox
    p = login(tern, user, password)
    uids = uidl_map(p)
    p.quit()
    assert sorted(uids) == [1, 2, 3]
    assert len(set(uids.values())) == 3
    for uid in uids.values():
        # RFC 1939 7: 1 to 70 characters in the range 0x21 to 0x7E
        assert 1 <= len(uid) <= 70
        assert all(0x21 <= ord(c) <= 0x7E for c in uid)


def test_uidl_n_matches_listing(tern, mailbox):
    user, password, _ = mailbox
    p = login(tern, user, password)
    uids = uidl_map(p)
    reply = p.uidl(3)
    p.quit()
    assert reply == ("+OK 3 " + uids[3]).encode()


def test_uidl_is_stable_across_sessions(tern, mailbox):
    user, password, _ = mailbox
    p = login(tern, user, password)
    first = uidl_map(p)
    p.quit()
    deliver(tern, user, message("later"))
    p = login(tern, user, password)
    second = uidl_map(p)
    p.quit()
    assert {n: second[n] for n in first} == first
    assert second[4] not in first.values()


def test_uidl_survives_deleting_an_earlier_message(tern, mailbox):
    user, password, _ = mailbox
    p = login(tern, user, password)
    before = uidl_map(p)
    p.dele(1)
    p.quit()
    p = login(tern, user, password)
    after = uidl_map(p)
    p.quit()
    assert sorted(after.values()) == sorted([before[2], before[3]])


def test_retr_returns_message_byte_for_byte(tern):
    user, password = new_user(tern)
    body = message("exact", b"first line\r\n\r\nsecond paragraph\r\n\ttabbed\r\n")
    deliver(tern, user, body)
    p = login(tern, user, password)
    got = retr_bytes(p, 1)
    p.quit()
    assert got.endswith(body)
    assert got.startswith(b"Return-Path: <sender@example.org>\r\nDelivered-To: " +
                          user.encode() + b"\r\n")


def test_retr_undoes_dot_stuffing(tern):
    user, password = new_user(tern)
    body = message("dots", b".starts with a dot\r\n..two dots\r\n.\r\n...\r\nplain\r\n. space\r\n")
    deliver(tern, user, body)
    p = login(tern, user, password)
    got = retr_bytes(p, 1)
    size = list_sizes(p)[1]
    p.quit()
    assert got.endswith(body)
    assert len(got) == size


def test_retr_sends_stuffed_dot_lines_on_the_wire(tern):
    user, password = new_user(tern)
    deliver(tern, user, message("wire", b".a\r\n.\r\nb\r\n"))
    c = raw(tern)
    c.login(user, password)
    assert c.cmd("RETR 1").startswith("+OK")
    wire = []
    while True:
        line = c.line()
        if line == ".":
            break
        wire.append(line)
    c.cmd("QUIT")
    assert wire[-3:] == ["..a", "..", "b"]


def test_retr_of_empty_body_message_ends_with_terminator(tern):
    user, password = new_user(tern)
    body = message("no body", b"")
    deliver(tern, user, body)
    p = login(tern, user, password)
    got = retr_bytes(p, 1)
    p.quit()
    assert got.endswith(body)


def test_top_0_returns_header_and_blank_line_only(tern):
    user, password = new_user(tern)
    body = message("top", b"b1\r\nb2\r\nb3\r\nb4\r\nb5\r\n")
    deliver(tern, user, body)
    p = login(tern, user, password)
    full = retr_bytes(p, 1)
    lines = top_lines(p, 1, 0)
    p.quit()
    header = full.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    assert lines == header + [b""]


def test_top_3_returns_header_and_exactly_3_body_lines(tern):
    user, password = new_user(tern)
    body = message("top3", b"b1\r\n.b2\r\n\r\nb4\r\nb5\r\n")
    deliver(tern, user, body)
    p = login(tern, user, password)
    full = retr_bytes(p, 1)
    lines = top_lines(p, 1, 3)
    p.quit()
    header = full.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    assert lines == header + [b"", b"b1", b".b2", b""]


def test_top_more_lines_than_body_returns_whole_message(tern):
    user, password = new_user(tern)
    body = message("short", b"only\r\ntwo\r\n")
    deliver(tern, user, body)
    p = login(tern, user, password)
    full = retr_bytes(p, 1)
    lines = top_lines(p, 1, 100)
    p.quit()
    assert b"".join(l + b"\r\n" for l in lines) == full


def test_top_does_not_mark_message_as_deleted_or_change_list(tern, mailbox):
    user, password, _ = mailbox
    p = login(tern, user, password)
    before = list_sizes(p)
    top_lines(p, 2, 1)
    assert list_sizes(p) == before
    p.quit()


def test_noop_gets_ok(tern, mailbox):
    user, password, _ = mailbox
    p = login(tern, user, password)
    assert p.noop().startswith(b"+OK")
    p.quit()


def test_rset_undeletes_messages(tern, mailbox):
    user, password, _ = mailbox
    p = login(tern, user, password)
    p.dele(1)
    p.dele(3)
    assert p.stat()[0] == 1
    assert p.rset().startswith(b"+OK")
    assert p.stat()[0] == 3
    assert sorted(list_sizes(p)) == [1, 2, 3]
    p.quit()
    p = login(tern, user, password)
    assert p.stat()[0] == 3
    p.quit()


def test_empty_mailbox_stat_is_zero_and_list_is_empty(tern):
    user, password = new_user(tern)
    p = login(tern, user, password)
    assert p.stat() == (0, 0)
    assert list_sizes(p) == {}
    assert uidl_map(p) == {}
    p.quit()


def test_pipelined_commands_get_replies_in_order(tern, mailbox):
    user, password, _ = mailbox
    c = raw(tern)
    c.send("USER %s\r\nPASS %s\r\nSTAT\r\nLIST 1\r\nNOOP\r\nRETR 1\r\nUIDL 1\r\nQUIT\r\n"
           % (user, password))
    assert c.line().startswith("+OK")          # USER
    assert c.line().startswith("+OK")          # PASS
    assert c.line().startswith("+OK 3 ")       # STAT
    assert c.line().startswith("+OK 1 ")       # LIST 1
    assert c.line().startswith("+OK")          # NOOP
    assert c.line().startswith("+OK")          # RETR 1
    body = c.multi()
    assert "Subject: m0" in body
    assert c.line().startswith("+OK 1 ")       # UIDL 1
    assert c.line().startswith("+OK")          # QUIT
    assert c.closed()


def test_commands_are_case_insensitive(tern, mailbox):
    user, password, _ = mailbox
    c = raw(tern)
    assert c.cmd("user " + user).startswith("+OK")
    assert c.cmd("pAsS " + password).startswith("+OK")
    assert c.cmd("stat").startswith("+OK 3 ")
    assert c.cmd("quit").startswith("+OK")
