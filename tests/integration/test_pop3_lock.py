"""One POP3 session per mailbox (RFC 2449 8.1.2 [IN-USE])."""
import poplib
import socket

from pop3_helpers import deliver, login, message, new_user, plain_b64, raw, wait_for


def try_login(t, user, password, mode="plain"):
    """Returns the poplib client, or the -ERR reply bytes."""
    try:
        return login(t, user, password, mode)
    except poplib.error_proto as e:
        return e.args[0]


def test_second_login_while_first_open_gets_in_use(tern):
    user, password = new_user(tern)
    first = login(tern, user, password)
    second = try_login(tern, user, password)
    assert isinstance(second, bytes)
    assert second.startswith(b"-ERR [IN-USE]")
    first.quit()


def test_second_login_over_pop3s_gets_in_use(tern):
    user, password = new_user(tern)
    first = login(tern, user, password)
    second = try_login(tern, user, password, mode="pop3s")
    assert isinstance(second, bytes) and second.startswith(b"-ERR [IN-USE]")
    first.quit()


def test_second_auth_plain_login_gets_in_use(tern):
    user, password = new_user(tern)
    first = login(tern, user, password)
    c = raw(tern)
    assert c.cmd("AUTH PLAIN " + plain_b64(user, password)).startswith("-ERR [IN-USE]")
    c.cmd("QUIT")
    first.quit()


def test_in_use_session_stays_in_authorization_and_can_retry(tern):
    user, password = new_user(tern)
    first = login(tern, user, password)
    c = raw(tern)
    c.cmd("USER " + user)
    assert c.cmd("PASS " + password).startswith("-ERR [IN-USE]")
    assert c.cmd("STAT").startswith("-ERR")       # not logged in
    first.quit()
    c.login(user, password)
    assert c.cmd("STAT").startswith("+OK")
    c.cmd("QUIT")


def test_login_works_after_first_session_quits(tern):
    user, password = new_user(tern)
    login(tern, user, password).quit()
    second = login(tern, user, password)
    second.quit()


def test_login_works_after_first_session_drops(tern):
    user, password = new_user(tern)
    c = raw(tern)
    c.login(user, password)
    c.sock.shutdown(socket.SHUT_RDWR)
    c.close()
    p = wait_for(lambda: _client_or_none(tern, user, password))
    assert p is not None
    p.quit()


def _client_or_none(t, user, password):
    r = try_login(t, user, password)
    return None if isinstance(r, bytes) else r


def test_other_users_are_not_locked(tern):
    u1, p1 = new_user(tern)
    u2, p2 = new_user(tern)
    a = login(tern, u1, p1)
    b = login(tern, u2, p2)
    a.quit()
    b.quit()


def test_failed_login_while_locked_does_not_release_lock(tern):
    user, password = new_user(tern)
    first = login(tern, user, password)
    assert isinstance(try_login(tern, user, password), bytes)
    assert isinstance(try_login(tern, user, password), bytes)
    first.quit()
    login(tern, user, password).quit()


def test_smtp_delivery_works_while_mailbox_is_locked(tern):
    user, password = new_user(tern)
    first = login(tern, user, password)
    deliver(tern, user, message("while locked"))
    first.quit()
    p = login(tern, user, password)
    assert p.stat()[0] == 1
    p.quit()


def test_lock_released_after_quit_with_deletions(tern):
    user, password = new_user(tern)
    deliver(tern, user, message("x"))
    p = login(tern, user, password)
    p.dele(1)
    p.quit()
    p = login(tern, user, password)
    assert p.stat()[0] == 0
    p.quit()
