"""APPEND (RFC 9051 6.3.12): flags and date, [APPENDUID] (RFC 4315),
MULTIAPPEND (RFC 3502), [TRYCREATE] for a missing mailbox, LITERAL+
non-synchronizing literals (RFC 7888), the message size limit ([TOOBIG])
and a client that vanishes mid-literal (nothing is stored)."""
import re
import time

import pytest

from imap_helpers import (imap_instance, login, message, new_user, raw, raw_login, wait_for)

MSG = (b"From: a@example.org\r\nTo: b@a.test\r\nSubject: appended\r\n"
       b"Message-ID: <app-1@example.org>\r\n\r\nbody line\r\n")


@pytest.fixture(scope="module")
def tern(base_dir, certs):
    yield from imap_instance(base_dir, certs, extra={"server.plaintext_auth_loopback": "yes",
                                                     "smtp.max_message_size": "64k"})


def session(t):
    user, password = new_user(t)
    r = raw_login(t, user, password)
    r.user, r.password = user, password
    return r


def uidvalidity(r, mailbox="INBOX"):
    _, lines = r.cmd("STATUS %s (UIDVALIDITY)" % mailbox)
    return int(re.search(r"UIDVALIDITY (\d+)", lines[0]).group(1))


def append_sync(r, head, data):
    """APPEND with a synchronizing literal: waits for "+" before the data."""
    tag = r.send_cmd(head + " {%d}" % len(data))
    cont = r.line()
    assert cont.startswith("+ "), cont
    r.send(data + b"\r\n")
    tagged, lines = r.read_until_tagged(tag)
    return tagged[len(tag) + 1:], lines


def test_append_with_flags_and_date_returns_appenduid(tern):
    r = session(tern)
    uv = uidvalidity(r)
    tagged, lines = append_sync(r, 'APPEND INBOX (\\Seen \\Flagged) "05-Jan-2021 08:09:10 +0200"',
                                MSG)
    assert tagged == "OK [APPENDUID %d 1] APPEND completed" % uv, tagged
    assert lines == []
    r.ok("SELECT INBOX")
    tagged, lines = r.cmd("FETCH 1 (FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[])")
    line = lines[0]
    assert re.search(r"FLAGS \(([^)]*)\)", line).group(1).split() in (
        ["\\Seen", "\\Flagged"], ["\\Flagged", "\\Seen"],
        ["\\Seen", "\\Flagged", "\\Recent"], ["\\Flagged", "\\Seen", "\\Recent"])
    # the same instant; a server may store it in another zone (UTC)
    date = re.search(r'INTERNALDATE "([^"]+)"', line).group(1)
    assert date in ("05-Jan-2021 08:09:10 +0200", "05-Jan-2021 06:09:10 +0000"), date
    assert "RFC822.SIZE %d " % len(MSG) in line
    # APPEND stores the message as given: no trace headers are added
    assert line.endswith("BODY[] {%d}\r\n%s)" % (len(MSG), MSG.decode()))
    r.close()


def test_append_without_flags_or_date(tern):
    r = session(tern)
    tagged, _ = append_sync(r, "APPEND INBOX", MSG)
    assert re.match(r"OK \[APPENDUID \d+ 1\] ", tagged), tagged
    _, lines = r.cmd("STATUS INBOX (MESSAGES UNSEEN)")
    assert lines == ["* STATUS INBOX (MESSAGES 1 UNSEEN 1)"]
    r.close()


def test_append_keyword_is_stored(tern):
    r = session(tern)
    append_sync(r, "APPEND INBOX ($Important)", MSG)
    _, lines = r.cmd("SELECT INBOX")
    assert "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Important)" in lines
    r.close()


def test_append_to_selected_mailbox_sends_exists(tern):
    r = session(tern)
    r.ok("SELECT INBOX")
    tagged, lines = append_sync(r, "APPEND INBOX", MSG)
    assert tagged.startswith("OK [APPENDUID ")
    assert "* 1 EXISTS" in lines
    r.close()


def test_append_literal_plus_needs_no_continuation(tern):
    r = session(tern)
    r.send(b"a1 APPEND INBOX (\\Draft) {%d+}\r\n" % len(MSG) + MSG + b"\r\n")
    tagged, lines = r.read_until_tagged("a1")
    assert re.match(r"a1 OK \[APPENDUID \d+ 1\] ", tagged), tagged
    assert not [l for l in lines if l.startswith("+")], lines
    r.close()


def test_multiappend_returns_uid_range(tern):
    r = session(tern)
    uv = uidvalidity(r, "Drafts")
    m2 = MSG.replace(b"app-1", b"app-2")
    m3 = MSG.replace(b"app-1", b"app-3")
    r.send(b"m1 APPEND Drafts (\\Seen) {%d+}\r\n%s {%d+}\r\n%s (\\Draft) {%d+}\r\n%s\r\n"
           % (len(MSG), MSG, len(m2), m2, len(m3), m3))
    tagged, _ = r.read_until_tagged("m1")
    assert tagged == "m1 OK [APPENDUID %d 1:3] APPEND completed" % uv, tagged
    _, lines = r.cmd("STATUS Drafts (MESSAGES UNSEEN)")
    assert lines == ["* STATUS Drafts (MESSAGES 3 UNSEEN 2)"]
    r.close()


def test_multiappend_with_one_bad_message_stores_none(tern):
    """RFC 3502 3: if any message fails, none is appended."""
    r = session(tern)
    r.send(b"m2 APPEND INBOX {%d+}\r\n%s (\\Recent) {%d+}\r\n%s\r\n"
           % (len(MSG), MSG, len(MSG), MSG))
    tagged, _ = r.read_until_tagged("m2")
    assert tagged.startswith(("m2 BAD", "m2 NO")), tagged
    _, lines = r.cmd("STATUS INBOX (MESSAGES)")
    assert lines == ["* STATUS INBOX (MESSAGES 0)"]
    r.close()


def test_append_to_missing_mailbox_gets_trycreate(tern):
    r = session(tern)
    r.send(b"a2 APPEND nowhere {%d+}\r\n%s\r\n" % (len(MSG), MSG))
    tagged, _ = r.read_until_tagged("a2")
    assert tagged == "a2 NO [TRYCREATE] No such mailbox", tagged
    r.close()


def test_append_bad_date_gets_bad(tern):
    r = session(tern)
    r.send(b'a3 APPEND INBOX "31-Foo-2021 00:00:00 +0000" {%d+}\r\n%s\r\n' % (len(MSG), MSG))
    tagged, _ = r.read_until_tagged("a3")
    assert tagged.startswith("a3 BAD"), tagged
    assert r.cmd("NOOP")[0] == "OK NOOP completed"
    r.close()


def test_append_oversize_sync_literal_is_refused_before_data(tern):
    """The literal is announced bigger than the limit: the server says NO
    [TOOBIG] instead of "+", and the session goes on."""
    r = session(tern)
    r.send(b"big APPEND INBOX {200000}\r\n")
    line = r.line()
    assert line.startswith("big NO [TOOBIG]") or line.startswith("big BAD"), line
    assert r.cmd("NOOP")[0] == "OK NOOP completed"
    _, lines = r.cmd("STATUS INBOX (MESSAGES)")
    assert lines == ["* STATUS INBOX (MESSAGES 0)"]
    r.close()


def test_append_oversize_nonsync_literal_is_refused(tern):
    """RFC 7888 4: a non-synchronizing literal over the limit may be read
    and discarded or the connection closed; nothing is stored either way."""
    r = session(tern)
    user, password = r.user, r.password
    data = b"x" * 100000
    r.send(b"big2 APPEND INBOX {%d+}\r\n" % len(data))
    try:
        r.send(data + b"\r\n")
        line = r.line()
        assert line.startswith(("big2 NO", "big2 BAD", "* BYE")), line
    except (EOFError, ConnectionResetError, BrokenPipeError):
        pass
    r.close()
    r = raw_login(tern, user, password)
    _, lines = r.cmd("STATUS INBOX (MESSAGES)")
    assert lines == ["* STATUS INBOX (MESSAGES 0)"]
    r.close()


def test_client_vanishing_mid_append_stores_nothing(tern):
    r = session(tern)
    user, password = r.user, r.password
    data = message(body=b"y" * 20000 + b"\r\n")
    r.send_cmd("APPEND INBOX {%d}" % len(data), tag="v1")
    assert r.line().startswith("+ ")
    r.send(data[:len(data) // 2])
    r.close()
    r = raw_login(tern, user, password)

    def count():
        _, lines = r.cmd("STATUS INBOX (MESSAGES)")
        return lines[0]

    time.sleep(0)   # nothing to wait for: the half message must never appear
    assert count() == "* STATUS INBOX (MESSAGES 0)"
    assert wait_for(lambda: "disconnect" in tern.log())
    assert count() == "* STATUS INBOX (MESSAGES 0)"
    r.close()


def test_append_in_unauthenticated_state_gets_bad(tern):
    r = raw(tern)
    tagged, _ = r.cmd("APPEND INBOX {1+}\r\nx")
    assert tagged.startswith("BAD"), tagged
    r.close()


def test_imaplib_append(tern):
    user, password = new_user(tern)
    m = login(tern, user, password)
    typ, data = m.append("INBOX", "(\\Seen)", imaplib_date(), MSG)
    assert typ == "OK"
    assert data[0].startswith(b"[APPENDUID ")
    assert m.select("INBOX") == ("OK", [b"1"])
    typ, data = m.fetch("1", "(BODY.PEEK[])")
    assert data[0][1] == MSG
    m.logout()


def imaplib_date():
    import imaplib
    return imaplib.Time2Internaldate(time.time())
