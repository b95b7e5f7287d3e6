"""POP3 logins: USER/PASS and AUTH PLAIN (RFC 5034) with an initial
response and with the "+ " continuation, cancelling with "*", failures,
the plaintext policy (RFC 2595, DESIGN: passwords only over TLS unless
loopback plaintext is allowed) and the failure limit."""
import poplib

import pytest

from conftest import PASSWORDS
from pop3_helpers import connect, login, new_user, plain_b64, raw


def test_auth_plain_with_initial_response_logs_in(tern):
    user, password = new_user(tern)
    c = raw(tern)
    reply = c.cmd("AUTH PLAIN " + plain_b64(user, password))
    assert reply.startswith("+OK"), reply
    assert c.cmd("STAT").startswith("+OK 0 0")
    assert c.cmd("QUIT").startswith("+OK")


def test_auth_plain_with_continuation_logs_in(tern):
    user, password = new_user(tern)
    c = raw(tern)
    assert c.cmd("AUTH PLAIN") == "+ "
    reply = c.cmd(plain_b64(user, password))
    assert reply.startswith("+OK"), reply
    assert c.cmd("QUIT").startswith("+OK")


def test_auth_plain_with_authzid_equal_to_user_logs_in(tern):
    user, password = new_user(tern)
    c = raw(tern)
    assert c.cmd("AUTH PLAIN " + plain_b64(user, password, authzid=user)).startswith("+OK")
    c.cmd("QUIT")


def test_auth_plain_with_other_authzid_is_refused(tern):
    c = raw(tern)
    reply = c.cmd("AUTH PLAIN " + plain_b64("alice@a.test", PASSWORDS["alice@a.test"],
                                            authzid="bob@a.test"))
    assert reply.startswith("-ERR")
    assert c.cmd("QUIT").startswith("+OK")


def test_auth_plain_via_poplib_sasl(tern):
    user, password = new_user(tern)
    p = connect(tern)
    # poplib has no AUTH helper: _shortcmd with the initial response
    assert p._shortcmd("AUTH PLAIN " + plain_b64(user, password)).startswith(b"+OK")
    assert p.stat() == (0, 0)
    p.quit()


def test_auth_star_cancels_and_session_continues(tern):
    user, password = new_user(tern)
    c = raw(tern)
    assert c.cmd("AUTH PLAIN") == "+ "
    assert c.cmd("*").startswith("-ERR")
    # still in AUTHORIZATION: a normal login works
    c.login(user, password)
    assert c.cmd("QUIT").startswith("+OK")


def test_auth_plain_bad_base64_gets_err_and_session_continues(tern):
    c = raw(tern)
    assert c.cmd("AUTH PLAIN") == "+ "
    assert c.cmd("!!!not base64!!!").startswith("-ERR")
    assert c.cmd("NOOP").startswith("-ERR")       # not logged in, but alive
    assert c.cmd("QUIT").startswith("+OK")


def test_auth_unknown_mechanism_gets_err(tern):
    c = raw(tern)
    assert c.cmd("AUTH CRAM-MD5").startswith("-ERR")
    assert c.cmd("QUIT").startswith("+OK")


def test_auth_without_mechanism_lists_plain(tern):
    c = raw(tern)
    assert c.cmd("AUTH").startswith("+OK")
    assert "PLAIN" in c.multi()
    c.cmd("QUIT")


def test_auth_plain_empty_initial_response_gets_err(tern):
    c = raw(tern)
    assert c.cmd("AUTH PLAIN =").startswith("-ERR")
    assert c.cmd("QUIT").startswith("+OK")


def test_wrong_password_gets_err_auth(tern):
    p = connect(tern)
    p.user("alice@a.test")
    with pytest.raises(poplib.error_proto) as e:
        p.pass_("wrong-password")
    assert e.value.args[0].startswith(b"-ERR [AUTH]")
    p.quit()


def test_unknown_user_gets_same_reply_as_wrong_password(tern):
    c = raw(tern)
    assert c.cmd("USER alice@a.test").startswith("+OK")
    wrong_password = c.cmd("PASS wrong-password")
    assert c.cmd("USER nobody-here@a.test").startswith("+OK")
    unknown_user = c.cmd("PASS wrong-password")
    c.cmd("QUIT")
    assert wrong_password.startswith("-ERR [AUTH]")
    assert unknown_user == wrong_password


def test_unknown_domain_user_gets_same_reply_as_wrong_password(tern):
    c = raw(tern)
    c.cmd("USER alice@a.test")
    wrong_password = c.cmd("PASS wrong-password")
    c.cmd("USER x@not-ours.test")
    unknown = c.cmd("PASS whatever-password")
    c.cmd("QUIT")
    assert unknown == wrong_password


def test_auth_plain_wrong_password_gets_err_auth(tern):
    c = raw(tern)
    assert c.cmd("AUTH PLAIN " + plain_b64("alice@a.test", "nope-nope")).startswith("-ERR [AUTH]")
    c.cmd("QUIT")


def test_three_failed_logins_close_the_connection(tern):
    c = raw(tern)
    for i in range(3):
        assert c.cmd("USER alice@a.test").startswith("+OK")
        assert c.cmd("PASS wrong-%d" % i).startswith("-ERR [AUTH]")
    assert c.closed()


def test_three_failed_auth_plain_logins_close_the_connection(tern):
    c = raw(tern)
    for i in range(3):
        reply = c.cmd("AUTH PLAIN " + plain_b64("alice@a.test", "wrong-%d" % i))
        assert reply.startswith("-ERR [AUTH]")
    assert c.closed()


def test_auth_plain_unknown_user_gets_same_reply_as_wrong_password(tern):
    c = raw(tern)
    wrong_password = c.cmd("AUTH PLAIN " + plain_b64("alice@a.test", "wrong-password"))
    unknown_user = c.cmd("AUTH PLAIN " + plain_b64("ghost@a.test", "wrong-password"))
    c.cmd("QUIT")
    assert wrong_password.startswith("-ERR [AUTH]")
    assert unknown_user == wrong_password


def test_two_failed_logins_then_right_password_works(tern):
    user, password = new_user(tern)
    c = raw(tern)
    for i in range(2):
        c.cmd("USER " + user)
        assert c.cmd("PASS wrong-%d" % i).startswith("-ERR [AUTH]")
    c.login(user, password)
    assert c.cmd("QUIT").startswith("+OK")


def test_pass_without_user_gets_err(tern):
    c = raw(tern)
    assert c.cmd("PASS something").startswith("-ERR")
    assert c.cmd("QUIT").startswith("+OK")


def test_login_is_case_insensitive_in_domain(tern):
    user, password = new_user(tern)
    local, domain = user.split("@")
    p = login(tern, local + "@" + domain.upper(), password)
    p.quit()


def test_user_after_login_gets_err(tern):
    user, password = new_user(tern)
    c = raw(tern)
    c.login(user, password)
    assert c.cmd("USER " + user).startswith("-ERR")
    assert c.cmd("AUTH PLAIN " + plain_b64(user, password)).startswith("-ERR")
    assert c.cmd("STAT").startswith("+OK")
    c.cmd("QUIT")


def test_login_counters_show_in_status(tern):
    before = dict(l.split("=", 1) for l in tern.cli("status").stdout.splitlines())
    user, password = new_user(tern)
    login(tern, user, password).quit()
    c = raw(tern)
    c.cmd("USER " + user)
    c.cmd("PASS wrong-password")
    c.cmd("QUIT")
    after = dict(l.split("=", 1) for l in tern.cli("status").stdout.splitlines())
    assert int(after["logins_ok"]) >= int(before["logins_ok"]) + 1
    assert int(after["logins_failed"]) >= int(before["logins_failed"]) + 1


def test_password_never_appears_in_log(tern):
    user, password = new_user(tern)
    login(tern, user, password).quit()
    c = raw(tern)
    c.cmd("AUTH PLAIN " + plain_b64(user, password))
    c.cmd("QUIT")
    assert password not in tern.log()
    assert plain_b64(user, password) not in tern.log()


# ---- plaintext refused without TLS ----------------------------------------

@pytest.fixture(scope="module")
def strict(base_dir, certs):
    """A ternd that refuses passwords without TLS even from loopback."""
    from conftest import running
    yield from running(base_dir, certs, {"server.plaintext_auth_loopback": "no"})


def test_strict_capa_has_no_user_or_sasl_but_stls(strict):
    p = connect(strict)
    caps = p.capa()
    p.quit()
    assert "USER" not in caps
    assert "SASL" not in caps
    assert "STLS" in caps


def test_strict_user_pass_without_tls_gets_err_auth(strict):
    c = raw(strict)
    assert c.cmd("USER alice@a.test").startswith("-ERR [AUTH]")
    assert c.cmd("PASS " + PASSWORDS["alice@a.test"]).startswith("-ERR [AUTH]")
    assert c.cmd("QUIT").startswith("+OK")


def test_strict_auth_plain_without_tls_gets_err_auth(strict):
    c = raw(strict)
    reply = c.cmd("AUTH PLAIN " + plain_b64("alice@a.test", PASSWORDS["alice@a.test"]))
    assert reply.startswith("-ERR [AUTH]")
    assert c.cmd("QUIT").startswith("+OK")


def test_strict_login_after_stls_works(strict):
    p = connect(strict, "stls")
    caps = p.capa()
    assert "USER" in caps and "SASL" in caps
    p.user("alice@a.test")
    assert p.pass_(PASSWORDS["alice@a.test"]).startswith(b"+OK")
    p.quit()


def test_strict_auth_plain_after_stls_works(strict):
    p = connect(strict, "stls")
    reply = p._shortcmd("AUTH PLAIN " + plain_b64("bob@a.test", PASSWORDS["bob@a.test"]))
    assert reply.startswith(b"+OK")
    p.quit()


def test_strict_login_over_pop3s_works(strict):
    p = login(strict, "carol@a.test", PASSWORDS["carol@a.test"], mode="pop3s")
    p.quit()
