"""IMAP logins: LOGIN and AUTHENTICATE PLAIN with and without SASL-IR
(RFC 4959), on imap, after STARTTLS and on imaps; the plaintext policy
(RFC 9051 6.2.3 LOGINDISABLED, 7.1 PRIVACYREQUIRED; DESIGN: only over TLS
unless plaintext_auth_loopback allows loopback), failures with
[AUTHENTICATIONFAILED] and the failure limit (BYE)."""
import base64
import imaplib

import pytest

from imap_helpers import (LOOPBACK_NO, connect, imap_instance, login, new_user, quote, raw)


@pytest.fixture(scope="module")
def tern(base_dir, certs):
    yield from imap_instance(base_dir, certs)


@pytest.fixture(scope="module")
def strict(base_dir, certs):
    """An instance that refuses passwords over plaintext even on loopback."""
    yield from imap_instance(base_dir, certs, extra=LOOPBACK_NO)


def plain_b64(user, password, authzid=""):
    return base64.b64encode(("%s\0%s\0%s" % (authzid, user, password)).encode()).decode()


# -- capabilities and the plaintext policy -------------------------------------

def test_greeting_is_ok_with_capability_code(tern):
    r = raw(tern)
    assert r.greeting.startswith("* OK [CAPABILITY IMAP4rev1 IMAP4rev2 ")
    assert " STARTTLS " in r.greeting
    r.close()


def test_capability_on_loopback_plaintext_allowed_lists_auth_plain(tern):
    r = raw(tern)
    tagged, lines = r.cmd("CAPABILITY")
    assert tagged == "OK CAPABILITY completed"
    assert len(lines) == 1 and lines[0].startswith("* CAPABILITY ")
    caps = lines[0].split()[2:]
    for cap in ("IMAP4rev1", "IMAP4rev2", "STARTTLS", "AUTH=PLAIN", "SASL-IR", "LITERAL+",
                "IDLE", "NAMESPACE", "UIDPLUS", "MOVE", "CONDSTORE", "QRESYNC", "ENABLE",
                "SPECIAL-USE", "LIST-EXTENDED", "LIST-STATUS", "UNSELECT", "ID"):
        assert cap in caps, cap
    assert "LOGINDISABLED" not in caps
    r.close()


def test_capability_on_loopback_plaintext_refused_lists_logindisabled(strict):
    r = raw(strict)
    _, lines = r.cmd("CAPABILITY")
    caps = lines[0].split()[2:]
    assert "LOGINDISABLED" in caps
    assert "STARTTLS" in caps
    assert "AUTH=PLAIN" not in caps
    r.close()


def test_greeting_with_logindisabled_does_not_offer_auth_plain(strict):
    """RFC 9051 6.2.3/11.1: with LOGINDISABLED no plaintext mechanism is
    usable, so the greeting's capability list must not offer AUTH=PLAIN
    (CAPABILITY does not; AUTHENTICATE PLAIN gets NO [PRIVACYREQUIRED])."""
    r = raw(strict)
    assert "LOGINDISABLED" in r.greeting
    assert "AUTH=PLAIN" not in r.greeting, r.greeting
    r.close()


def test_login_over_plaintext_when_refused_gets_no_privacyrequired(strict):
    user, password = new_user(strict)
    r = raw(strict)
    tagged, _ = r.cmd("LOGIN %s %s" % (quote(user), quote(password)))
    assert tagged.startswith("NO [PRIVACYREQUIRED]"), tagged
    tagged, _ = r.cmd("AUTHENTICATE PLAIN " + plain_b64(user, password))
    assert tagged.startswith("NO [PRIVACYREQUIRED]"), tagged
    # the session continues: NOOP still works
    assert r.cmd("NOOP")[0] == "OK NOOP completed"
    r.close()


def test_starttls_then_login_when_plaintext_refused_logs_in(strict):
    user, password = new_user(strict)
    m = connect(strict, "starttls")
    typ, data = m.capability()
    caps = data[0].decode().split()
    assert "AUTH=PLAIN" in caps and "LOGINDISABLED" not in caps and "STARTTLS" not in caps
    assert m.login(user, password)[0] == "OK"
    assert m.select("INBOX")[0] == "OK"
    m.logout()


def test_imaps_login_when_plaintext_refused_logs_in(strict):
    user, password = new_user(strict)
    m = login(strict, user, password, mode="tls")
    assert m.select("INBOX") == ("OK", [b"0"])
    m.logout()


def test_login_over_plaintext_loopback_when_allowed_logs_in(tern):
    user, password = new_user(tern)
    m = connect(tern)
    (typ, data), lines = m.lines(m.login, user, password)
    assert typ == "OK"
    assert lines[-1].split(" ", 1)[1].startswith("OK [CAPABILITY IMAP4rev1 IMAP4rev2 ")
    assert lines[-1].endswith("] Logged in")
    m.logout()


# -- STARTTLS ------------------------------------------------------------------

def test_starttls_reply_then_handshake_and_no_starttls_after(tern):
    r = raw(tern)
    tagged, _ = r.cmd("STARTTLS")
    assert tagged == "OK Begin TLS negotiation now"
    r.starttls(tern.certs.client_context(), tern.host)
    _, lines = r.cmd("CAPABILITY")
    assert "STARTTLS" not in lines[0].split()
    tagged, _ = r.cmd("STARTTLS")
    assert tagged.startswith("BAD"), tagged
    r.close()


def test_starttls_on_imaps_gets_bad(tern):
    r = raw(tern, "tls")
    tagged, _ = r.cmd("STARTTLS")
    assert tagged.startswith("BAD"), tagged
    assert r.cmd("NOOP")[0] == "OK NOOP completed"
    r.close()


def test_starttls_discards_pipelined_command(tern):
    """RFC 9051 6.2.1: commands sent before the handshake are not run."""
    r = raw(tern)
    r.send(b"a STARTTLS\r\nb NOOP\r\n")
    assert r.line() == "a OK Begin TLS negotiation now"
    r.buf = b""
    r.starttls(tern.certs.client_context(), tern.host)
    tagged, lines = r.cmd("NOOP", tag="c")
    assert tagged == "OK NOOP completed"
    assert lines == []
    r.close()


def test_imaps_login_via_imaplib(tern):
    user, password = new_user(tern)
    m = login(tern, user, password, mode="tls")
    assert m.list()[0] == "OK"
    m.logout()


# -- AUTHENTICATE PLAIN --------------------------------------------------------

def test_authenticate_plain_with_initial_response_logs_in(tern):
    user, password = new_user(tern)
    r = raw(tern)
    tagged, _ = r.cmd("AUTHENTICATE PLAIN " + plain_b64(user, password))
    assert tagged.startswith("OK [CAPABILITY "), tagged
    assert r.cmd("SELECT INBOX")[0] == "OK [READ-WRITE] SELECT completed"
    r.close()


def test_authenticate_plain_with_continuation_logs_in(tern):
    user, password = new_user(tern)
    r = raw(tern)
    tag = r.send_cmd("AUTHENTICATE PLAIN")
    assert r.line() == "+ "
    r.send(plain_b64(user, password) + "\r\n")
    tagged, _ = r.read_until_tagged(tag)
    assert tagged.startswith(tag + " OK [CAPABILITY "), tagged
    r.close()


def test_authenticate_plain_via_imaplib(tern):
    user, password = new_user(tern)
    m = connect(tern, "starttls")
    typ, _ = m.authenticate("PLAIN", lambda _: ("\0%s\0%s" % (user, password)).encode())
    assert typ == "OK"
    m.logout()


def test_authenticate_star_cancels_with_bad_and_session_continues(tern):
    user, password = new_user(tern)
    r = raw(tern)
    tag = r.send_cmd("AUTHENTICATE PLAIN")
    assert r.line() == "+ "
    r.send("*\r\n")
    tagged, _ = r.read_until_tagged(tag)
    assert tagged.startswith(tag + " BAD"), tagged
    r.login(user, password)
    r.close()


def test_authenticate_plain_bad_base64_gets_bad(tern):
    r = raw(tern)
    tagged, _ = r.cmd("AUTHENTICATE PLAIN !!!notbase64")
    assert tagged.startswith("BAD"), tagged
    assert r.cmd("NOOP")[0] == "OK NOOP completed"
    r.close()


def test_authenticate_unknown_mechanism_gets_no(tern):
    r = raw(tern)
    tagged, _ = r.cmd("AUTHENTICATE CRAM-MD5")
    assert tagged.startswith("NO"), tagged
    r.close()


def test_authenticate_plain_with_authzid_of_other_user_fails(tern):
    user, password = new_user(tern)
    other, _ = new_user(tern)
    r = raw(tern)
    tagged, _ = r.cmd("AUTHENTICATE PLAIN " + plain_b64(user, password, authzid=other))
    assert tagged.startswith(("NO", "BAD")), tagged
    tagged, _ = r.cmd("SELECT INBOX")
    assert tagged.startswith("BAD"), tagged
    r.close()


# -- failures ------------------------------------------------------------------

def test_login_wrong_password_gets_no_authenticationfailed(tern):
    user, _ = new_user(tern)
    r = raw(tern)
    tagged, _ = r.cmd("LOGIN %s %s" % (quote(user), quote("wrong-password")))
    assert tagged == "NO [AUTHENTICATIONFAILED] Authentication failed"
    tagged, _ = r.cmd("SELECT INBOX")
    assert tagged == "BAD Log in first"
    r.close()


def test_login_unknown_user_gets_same_no_as_wrong_password(tern):
    r = raw(tern)
    tagged, _ = r.cmd('LOGIN "nobody-here@a.test" "whatever"')
    assert tagged == "NO [AUTHENTICATIONFAILED] Authentication failed"
    r.close()


def test_login_wrong_password_via_imaplib_raises(tern):
    user, _ = new_user(tern)
    m = connect(tern)
    with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
        m.login(user, "nope")
    m.logout()


def test_three_failed_logins_get_bye_and_close(tern):
    user, password = new_user(tern)
    r = raw(tern)
    for _ in range(2):
        tagged, _ = r.cmd("LOGIN %s %s" % (quote(user), quote("bad")))
        assert tagged == "NO [AUTHENTICATIONFAILED] Authentication failed"
    tagged, lines = r.cmd("LOGIN %s %s" % (quote(user), quote("bad")))
    assert tagged == "NO [AUTHENTICATIONFAILED] Authentication failed"
    # the BYE follows the tagged NO
    assert r.line().startswith("* BYE ")
    assert r.closed()


def test_failed_authenticate_counts_toward_limit(tern):
    user, _ = new_user(tern)
    r = raw(tern)
    r.cmd("AUTHENTICATE PLAIN " + plain_b64(user, "bad1"))
    r.cmd("LOGIN %s %s" % (quote(user), quote("bad2")))
    tagged, _ = r.cmd("AUTHENTICATE PLAIN " + plain_b64(user, "bad3"))
    assert tagged.startswith("NO [AUTHENTICATIONFAILED]")
    assert r.line().startswith("* BYE ")
    assert r.closed()


def test_login_after_login_gets_bad(tern):
    user, password = new_user(tern)
    r = raw(tern)
    r.login(user, password)
    tagged, _ = r.cmd("LOGIN %s %s" % (quote(user), quote(password)))
    assert tagged.startswith("BAD"), tagged
    r.close()


def test_logout_sends_bye_then_ok_and_closes(tern):
    r = raw(tern)
    tagged, lines = r.cmd("LOGOUT")
    assert lines == ["* BYE Logging out"]
    assert tagged == "OK LOGOUT completed"
    assert r.closed()


def test_login_with_literal_password_logs_in(tern):
    user, password = new_user(tern)
    r = raw(tern)
    tag = r.send_cmd("LOGIN %s {%d}" % (quote(user), len(password)))
    assert r.line().startswith("+ ")
    r.send(password + "\r\n")
    tagged, _ = r.read_until_tagged(tag)
    assert tagged.startswith(tag + " OK [CAPABILITY"), tagged
    r.close()


def test_login_with_nonsync_literal_password_logs_in(tern):
    user, password = new_user(tern)
    r = raw(tern)
    r.send("a LOGIN %s {%d+}\r\n%s\r\n" % (quote(user), len(password), password))
    tagged, _ = r.read_until_tagged("a")
    assert tagged.startswith("a OK [CAPABILITY"), tagged
    r.close()


def test_id_and_noop_work_before_login(tern):
    r = raw(tern)
    tagged, lines = r.cmd('ID ("name" "pytest")')
    assert tagged == "OK ID completed"
    assert lines[0].startswith('* ID ("name" "Tern"')
    assert r.cmd("NOOP")[0] == "OK NOOP completed"
    r.close()
