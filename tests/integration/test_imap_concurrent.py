"""Two sessions on one mailbox (RFC 9051 5.2, 7.4): each sees the other's
flag changes, expunges and new messages at its next NOOP; IDLE (RFC 2177)
wakes within a second on SMTP delivery, on another session's STORE and
EXPUNGE, and on a POP3 DELE+QUIT."""
import poplib

import pytest

from imap_helpers import (deliver, fetch_flags, imap_instance, message, raw_login,
                          user_with_messages, wait_untagged)


@pytest.fixture(scope="module")
def tern(base_dir, certs):
    yield from imap_instance(base_dir, certs)


def two_sessions(t, count=3):
    user, password, _ = user_with_messages(t, count)
    a = raw_login(t, user, password)
    b = raw_login(t, user, password)
    a.ok("SELECT INBOX")
    b.ok("SELECT INBOX")
    return user, password, a, b


def idle(r):
    tag = r.send_cmd("IDLE")
    assert r.line() == "+ idling"
    return tag


def done(r, tag):
    r.send("DONE\r\n")
    tagged, lines = r.read_until_tagged(tag)
    assert tagged == tag + " OK IDLE terminated", tagged
    return lines


def test_flag_change_seen_by_other_session_at_noop(tern):
    _, _, a, b = two_sessions(tern)
    a.ok("STORE 2 +FLAGS.SILENT (\\Flagged)")
    tagged, lines = b.cmd("NOOP")
    assert tagged == "OK NOOP completed"
    assert fetch_flags(lines) == {2: {"\\Flagged"}} or \
        fetch_flags(lines) == {2: {"\\Flagged", "\\Recent"}}, lines
    # nothing more at the next NOOP
    assert b.cmd("NOOP")[1] == []
    a.close()
    b.close()


def test_expunge_seen_by_other_session_at_noop(tern):
    _, _, a, b = two_sessions(tern)
    a.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
    a.ok("EXPUNGE")
    _, lines = b.cmd("NOOP")
    assert "* 1 EXPUNGE" in lines, lines
    tagged, lines = b.cmd("FETCH 2 FLAGS")
    assert tagged.startswith("OK") and lines[0].startswith("* 2 FETCH")
    tagged, _ = b.cmd("FETCH 3 FLAGS")
    assert tagged.startswith("BAD"), tagged
    a.close()
    b.close()


def test_expunge_not_sent_during_fetch_store_search(tern):
    """RFC 9051 7.5.1: EXPUNGE must not be sent while FETCH, STORE or
    SEARCH run (numbers would shift); NOOP delivers it."""
    _, _, a, b = two_sessions(tern)
    a.ok("STORE 3 +FLAGS.SILENT (\\Deleted)")
    a.ok("EXPUNGE")
    _, lines = b.cmd("FETCH 1 FLAGS")
    assert not [l for l in lines if l.endswith("EXPUNGE")], lines
    _, lines = b.cmd("STORE 1 +FLAGS (\\Seen)")
    assert not [l for l in lines if l.endswith("EXPUNGE")], lines
    _, lines = b.cmd("NOOP")
    assert "* 3 EXPUNGE" in lines
    a.close()
    b.close()


def test_new_message_seen_by_other_session_at_noop(tern):
    user, _, a, b = two_sessions(tern, 1)
    deliver(tern, user, message())
    _, lines = b.cmd("NOOP")
    assert "* 2 EXISTS" in lines, lines
    a.close()
    b.close()


def test_qresync_session_gets_vanished_for_other_sessions_expunge(tern):
    user, password, _ = user_with_messages(tern, 2)
    a = raw_login(tern, user, password)
    b = raw_login(tern, user, password)
    b.ok("ENABLE QRESYNC")
    a.ok("SELECT INBOX")
    b.ok("SELECT INBOX")
    a.ok("STORE 2 +FLAGS.SILENT (\\Deleted)")
    a.ok("EXPUNGE")
    _, lines = b.cmd("NOOP")
    assert "* VANISHED 2" in lines, lines
    a.close()
    b.close()


def test_idle_wakes_on_smtp_delivery(tern):
    user, _, a, b = two_sessions(tern, 1)
    tag = idle(b)
    deliver(tern, user, message())
    wait_untagged(b, r"^\* 2 EXISTS$")
    done(b, tag)
    a.close()
    b.close()


def test_idle_wakes_on_other_sessions_store(tern):
    _, _, a, b = two_sessions(tern)
    tag = idle(b)
    a.ok("STORE 2 +FLAGS.SILENT (\\Answered)")
    wait_untagged(b, r"^\* 2 FETCH \(.*\\Answered")
    done(b, tag)
    a.close()
    b.close()


def test_idle_wakes_on_other_sessions_expunge(tern):
    _, _, a, b = two_sessions(tern)
    tag = idle(b)
    a.ok("STORE 3 +FLAGS.SILENT (\\Deleted)")
    a.ok("EXPUNGE")
    wait_untagged(b, r"^\* 3 EXPUNGE$")
    done(b, tag)
    a.close()
    b.close()


def test_idle_wakes_on_pop3_dele_and_quit(tern):
    user, password, _ = user_with_messages(tern, 2)
    b = raw_login(tern, user, password)
    b.ok("SELECT INBOX")
    tag = idle(b)
    p = poplib.POP3(tern.host, tern.ports["pop3"], timeout=10)
    p.user(user)
    p.pass_(password)
    p.dele(1)
    p.quit()
    wait_untagged(b, r"^\* 1 EXPUNGE$")
    done(b, tag)
    _, lines = b.cmd("STATUS INBOX (MESSAGES)")
    assert lines == ["* STATUS INBOX (MESSAGES 1)"]
    b.close()


def test_idle_done_with_nothing_changed(tern):
    _, _, a, b = two_sessions(tern, 1)
    tag = idle(b)
    assert done(b, tag) == []
    assert b.cmd("NOOP")[0] == "OK NOOP completed"
    a.close()
    b.close()


def test_idle_wrong_continuation_gets_bad(tern):
    _, _, a, b = two_sessions(tern, 1)
    tag = idle(b)
    b.send("NOTDONE\r\n")
    tagged, _ = b.read_until_tagged(tag)
    assert tagged.startswith(tag + " BAD"), tagged
    assert b.cmd("NOOP")[0] == "OK NOOP completed"
    a.close()
    b.close()


def test_idle_in_authenticated_state_wakes_on_nothing_but_ends(tern):
    user, password, _ = user_with_messages(tern, 1)
    r = raw_login(tern, user, password)
    tag = idle(r)
    assert done(r, tag) == []
    r.close()


def test_pop3_lock_does_not_block_imap_read(tern):
    user, password, _ = user_with_messages(tern, 2)
    p = poplib.POP3(tern.host, tern.ports["pop3"], timeout=10)
    p.user(user)
    p.pass_(password)
    r = raw_login(tern, user, password)
    tagged, lines = r.cmd("SELECT INBOX")
    assert tagged.startswith("OK"), tagged
    assert "* 2 EXISTS" in lines
    p.quit()
    r.close()
