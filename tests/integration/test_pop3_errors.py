"""Malformed and out-of-place POP3 input: each gets -ERR and the session
goes on, until too many errors end it (DESIGN: a protocol error is a
reply, not a crash)."""
import pytest

from pop3_helpers import deliver, login, message, new_user, plain_b64, raw, wait_for


@pytest.fixture(scope="module")
def mailbox(tern):
    """A user with two messages that no test deletes."""
    user, password = new_user(tern)
    deliver(tern, user, message("one"))
    deliver(tern, user, message("two"))
    return user, password


def try_raw_login(t, user, password):
    c = raw(t)
    c.cmd("USER " + user)
    if c.cmd("PASS " + password).startswith("+OK"):
        return c
    c.close()     # [IN-USE]: the previous test's session is still closing
    return None


@pytest.fixture
def session(tern, mailbox):
    """A logged-in raw session on the two-message mailbox."""
    c = wait_for(lambda: try_raw_login(tern, *mailbox))
    assert c is not None
    yield c
    c.close()


def test_unknown_command_gets_err_and_session_continues(tern):
    c = raw(tern)
    assert c.cmd("FROB").startswith("-ERR")
    assert c.cmd("XYZZY 1 2 3").startswith("-ERR")
    assert c.cmd("CAPA").startswith("+OK")
    c.multi()
    assert c.cmd("QUIT").startswith("+OK")


def test_empty_line_gets_err(tern):
    c = raw(tern)
    assert c.cmd("").startswith("-ERR")
    assert c.cmd("QUIT").startswith("+OK")


def test_keyword_with_digits_or_too_long_gets_err(tern):
    c = raw(tern)
    assert c.cmd("US3R x").startswith("-ERR")
    assert c.cmd("USERS x").startswith("-ERR")
    assert c.cmd("QU").startswith("-ERR")
    assert c.cmd("QUIT").startswith("+OK")


def test_too_long_line_gets_err_and_session_continues(tern, session):
    assert session.cmd("NOOP " + "x" * 300).startswith("-ERR")
    assert session.cmd("STAT").startswith("+OK 2 ")
    session.cmd("QUIT")


def test_line_of_250_octets_is_accepted(tern):
    c = raw(tern)
    line = "USER " + "a" * 235 + "@a.test"
    assert len(line) + 2 <= 255
    assert c.cmd(line).startswith("+OK")
    assert c.cmd("QUIT").startswith("+OK")


def test_huge_line_gets_one_err_and_session_continues(tern, session):
    session.send("NOOP " + "y" * 200000 + "\r\n")
    assert session.line().startswith("-ERR")
    assert session.cmd("NOOP").startswith("+OK")
    session.cmd("QUIT")


def test_long_line_sent_in_pieces_gets_one_err(tern, session):
    for _ in range(10):
        session.send("z" * 100)
    session.send("\r\nNOOP\r\n")
    assert session.line().startswith("-ERR")
    assert session.line().startswith("+OK")
    session.cmd("QUIT")


def test_nul_byte_in_command_gets_err(tern):
    c = raw(tern)
    c.send(b"NO\x00OP\r\n")
    assert c.line().startswith("-ERR")
    assert c.cmd("QUIT").startswith("+OK")


@pytest.mark.parametrize("cmd", ["RETR 0", "RETR 3", "RETR 99999999999", "RETR -1", "RETR abc",
                                 "RETR 1 2", "RETR 1x", "RETR  1", "RETR 1 ", "RETR +1", "RETR"])
def test_retr_bad_message_number_gets_err(tern, session, cmd):
    assert session.cmd(cmd).startswith("-ERR")
    assert session.cmd("STAT").startswith("+OK 2 ")
    session.cmd("QUIT")


@pytest.mark.parametrize("cmd", ["LIST 0", "LIST 3", "LIST x", "LIST 1 2", "UIDL 0", "UIDL 9",
                                 "UIDL a", "DELE 0", "DELE 3", "DELE", "DELE one",
                                 "TOP 1", "TOP 0 1", "TOP 3 0", "TOP 1 x", "TOP 1 -1",
                                 "TOP 1 2 3", "TOP"])
def test_bad_message_arguments_get_err(tern, session, cmd):
    assert session.cmd(cmd).startswith("-ERR")
    assert session.cmd("STAT").startswith("+OK 2 ")
    session.cmd("QUIT")


def test_bad_dele_deletes_nothing(tern):
    user, password = new_user(tern)
    deliver(tern, user, message("keep"))
    c = raw(tern)
    c.login(user, password)
    for cmd in ("DELE 0", "DELE 2", "DELE 1 1", "DELE x"):
        assert c.cmd(cmd).startswith("-ERR")
    assert c.cmd("QUIT").startswith("+OK")
    p = login(tern, user, password)
    assert p.stat()[0] == 1
    p.quit()


@pytest.mark.parametrize("cmd", ["STAT", "LIST", "UIDL", "RETR 1", "TOP 1 0", "DELE 1", "RSET",
                                 "NOOP"])
def test_transaction_command_before_login_gets_err(tern, cmd):
    c = raw(tern)
    assert c.cmd(cmd).startswith("-ERR")
    assert c.cmd("QUIT").startswith("+OK")


@pytest.mark.parametrize("cmd", ["USER x@a.test", "PASS secret", "AUTH PLAIN", "STLS"])
def test_authorization_command_after_login_gets_err(tern, session, cmd):
    assert session.cmd(cmd).startswith("-ERR")
    assert session.cmd("STAT").startswith("+OK 2 ")
    session.cmd("QUIT")


def test_too_many_errors_close_the_session(tern):
    c = raw(tern)
    replies = []
    for _ in range(50):
        try:
            replies.append(c.cmd("BOGUS"))
        except (EOFError, ConnectionResetError, BrokenPipeError):
            break
    assert 1 < len(replies) < 50
    assert all(r.startswith("-ERR") for r in replies)
    assert c.closed()


def test_too_many_errors_after_login_close_and_delete_nothing(fresh):
    t = fresh(extra={"server.plaintext_auth_loopback": "yes", "pop3.max_bad_commands": "3"})
    t.start()
    user, password = new_user(t)
    deliver(t, user, message("stay"))
    c = raw(t)
    c.login(user, password)
    assert c.cmd("DELE 1").startswith("+OK")
    # a missing message is not a protocol error; bad syntax is
    assert c.cmd("RETR 9").startswith("-ERR")
    assert c.cmd("RETR x").startswith("-ERR")
    assert c.cmd("DELE y").startswith("-ERR")
    assert c.cmd("BOGUS").startswith("-ERR")    # the third error ends the session
    assert c.line().startswith("-ERR")
    assert c.closed()
    p = login(t, user, password)
    assert p.stat()[0] == 1
    p.quit()


def test_sasl_response_too_long_gets_err_and_returns_to_authorization(tern):
    user, password = new_user(tern)
    c = raw(tern)
    assert c.cmd("AUTH PLAIN") == "+ "
    assert c.cmd("A" * 10000).startswith("-ERR")
    c.login(user, password)
    assert c.cmd("QUIT").startswith("+OK")


def test_sasl_continuation_accepts_line_longer_than_command_limit(tern):
    # RFC 5034 4: SASL responses may exceed the 255-octet command limit
    user, password = new_user(tern, password="p" * 300)
    resp = plain_b64(user, password, authzid=user)
    assert len(resp) > 255
    c = raw(tern)
    assert c.cmd("AUTH PLAIN") == "+ "
    assert c.cmd(resp).startswith("+OK")
    c.cmd("QUIT")


def test_bare_lf_line_ending_is_accepted(tern):
    c = raw(tern)
    c.send("CAPA\n")
    assert c.line().startswith("+OK")
    c.multi()
    c.send("QUIT\n")
    assert c.line().startswith("+OK")


def test_idle_session_gets_autologout_and_close(fresh):
    t = fresh(extra={"server.plaintext_auth_loopback": "yes", "pop3.timeout": "1s"})
    t.start()
    c = raw(t)
    line = c.line()
    assert line.startswith("-ERR")
    assert c.closed()
