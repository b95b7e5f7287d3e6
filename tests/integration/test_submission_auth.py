"""Submission AUTH (RFC 6409, RFC 4954, RFC 8314): STARTTLS before AUTH on
587, TLS from connect on 465, PLAIN and LOGIN, failures, and port 25
never offering AUTH. Real clients: smtplib, curl, swaks."""
import base64
import os
import shutil
import smtplib
import ssl
import subprocess

import pytest

from conftest import PASSWORDS, Raw
from smtp_helpers import token
from submission_helpers import message, running_submission, smtp_587, stored


@pytest.fixture(scope="module")
def sub(base_dir, certs):
    yield from running_submission(base_dir, certs)


def raw_587(t, tls=True):
    r = Raw(t.host, t.ports["submission"])
    assert r.reply()[0] == 220
    code, text = r.cmd("EHLO client.example.org")
    assert code == 250, text
    if tls:
        assert r.cmd("STARTTLS")[0] == 220
        r.starttls(t.certs.client_context(), t.host)
        code, text = r.cmd("EHLO client.example.org")
        assert code == 250, text
    return r, text


def b64(s):
    return base64.b64encode(s.encode()).decode()


def test_ehlo_on_587_offers_starttls_and_no_auth_before_tls(sub):
    r, _ = raw_587(sub, tls=False)
    code, text = r.cmd("EHLO client.example.org")
    assert "STARTTLS" in text and "AUTH" not in text
    r.close()


def test_ehlo_after_starttls_offers_auth_plain_login(sub):
    r, text = raw_587(sub)
    assert "250-AUTH PLAIN LOGIN" in text and "STARTTLS" not in text
    r.close()


def test_auth_before_starttls_gets_530(sub):
    r, _ = raw_587(sub, tls=False)
    code, text = r.cmd("AUTH PLAIN " + b64("\0alice@a.test\0" + PASSWORDS["alice@a.test"]))
    assert code == 530 and "5.7.0 Must issue a STARTTLS command first" in text
    r.close()


def test_mail_without_auth_gets_530(sub):
    r, _ = raw_587(sub)
    code, text = r.cmd("MAIL FROM:<alice@a.test>")
    assert code == 530 and "5.7.0 Authentication required" in text
    r.close()


def test_smtplib_starttls_auth_plain_delivers_to_local_user(sub):
    tok = token()
    with smtp_587(sub) as s:
        s.login("alice@a.test", PASSWORDS["alice@a.test"], initial_response_ok=True)
        s.sendmail("alice@a.test", ["bob@a.test"], message(tok))
    msgs = stored(sub, tok)
    assert len(msgs) == 1
    assert msgs[0].startswith(b"Return-Path: <alice@a.test>\r\nDelivered-To: bob@a.test\r\n")
    assert b"with ESMTPSA id" in msgs[0]
    assert b"alice-secret" not in sub.log().encode()


def test_smtplib_auth_login_delivers_to_local_user(sub):
    tok = token()
    with smtp_587(sub) as s:
        s.user, s.password = "carol@a.test", PASSWORDS["carol@a.test"]
        code, text = s.auth("LOGIN", s.auth_login, initial_response_ok=False)
        assert code == 235, text
        s.sendmail("carol@a.test", ["alice@a.test"], message(tok, sender="carol@a.test"))
    assert len(stored(sub, tok)) == 1


def test_auth_login_prompts_are_base64_username_and_password(sub):
    r, _ = raw_587(sub)
    assert r.cmd("AUTH LOGIN") == (334, "334 VXNlcm5hbWU6")
    assert r.cmd(b64("alice@a.test")) == (334, "334 UGFzc3dvcmQ6")
    code, text = r.cmd(b64(PASSWORDS["alice@a.test"]))
    assert code == 235 and "2.7.0" in text
    assert r.cmd("AUTH PLAIN")[0] == 503     # already authenticated
    r.close()


def test_auth_login_with_initial_user_response(sub):
    r, _ = raw_587(sub)
    assert r.cmd("AUTH LOGIN " + b64("alice@a.test")) == (334, "334 UGFzc3dvcmQ6")
    assert r.cmd(b64(PASSWORDS["alice@a.test"]))[0] == 235
    r.close()


def test_auth_star_cancels_with_501_and_bad_base64_gets_501(sub):
    r, _ = raw_587(sub)
    assert r.cmd("AUTH PLAIN")[0] == 334
    assert r.cmd("*")[0] == 501
    assert r.cmd("AUTH LOGIN")[0] == 334
    code, text = r.cmd("!!!not-base64")
    assert code == 501, text
    code, text = r.cmd("AUTH PLAIN =")
    assert code == 501, text
    assert r.cmd("AUTH CRAM-MD5")[0] == 504
    # the session goes on and a login still works
    assert r.cmd("AUTH PLAIN " + b64("\0alice@a.test\0" + PASSWORDS["alice@a.test"]))[0] == 235
    r.close()


def test_wrong_password_gets_535_and_session_goes_on(sub):
    r, _ = raw_587(sub)
    code, text = r.cmd("AUTH PLAIN " + b64("\0alice@a.test\0wrong-password-1"))
    assert code == 535 and "5.7.8" in text
    assert r.cmd("NOOP")[0] == 250
    assert r.cmd("AUTH PLAIN " + b64("\0alice@a.test\0" + PASSWORDS["alice@a.test"]))[0] == 235
    r.close()
    log = sub.log()
    assert "wrong-password-1" not in log and "result=failed" in log


def test_too_many_auth_failures_close_the_session(sub):
    r, _ = raw_587(sub)
    for i in range(2):
        assert r.cmd("AUTH PLAIN " + b64("\0alice@a.test\0bad%d" % i))[0] == 535
    code, text = r.cmd("AUTH PLAIN " + b64("\0nobody@a.test\0bad"))
    assert code == 535
    assert r.reply()[0] == 421
    assert r.closed()


def test_curl_over_465_with_implicit_tls_delivers(sub, tmp_path):
    tok = token()
    path = tmp_path / "msg.eml"
    path.write_bytes(message(tok))
    r = subprocess.run(["curl", "-sS", "--ssl-reqd", "--cacert", sub.certs.ca,
                        "smtps://%s:%d" % (sub.host, sub.ports["submissions"]),
                        "--mail-from", "alice@a.test", "--mail-rcpt", "bob@a.test",
                        "--user", "alice@a.test:" + PASSWORDS["alice@a.test"],
                        "-T", str(path)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert len(stored(sub, tok)) == 1


def test_465_offers_auth_at_once(sub):
    r = Raw(sub.host, sub.ports["submissions"], tls_context=sub.certs.client_context(),
            server_hostname=sub.host)
    assert r.reply()[0] == 220
    code, text = r.cmd("EHLO client.example.org")
    assert "250-AUTH PLAIN LOGIN" in text and "STARTTLS" not in text
    r.close()


@pytest.mark.skipif(shutil.which("swaks") is None, reason="swaks not installed")
def test_swaks_auth_login_delivers(sub):
    tok = token()
    r = subprocess.run(["swaks", "--server", "%s:%d" % (sub.host, sub.ports["submission"]),
                        "--tls", "--auth", "LOGIN", "--auth-user", "bob@a.test",
                        "--auth-password", PASSWORDS["bob@a.test"], "--from", "bob@a.test",
                        "--to", "alice@a.test", "--header", "Subject: swaks " + tok,
                        "--body", "hello " + tok], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert len(stored(sub, tok)) == 1


def test_port_25_offers_no_auth_and_refuses_it(sub):
    r = Raw(sub.host, sub.ports["smtp"])
    assert r.reply()[0] == 220
    code, text = r.cmd("EHLO client.example.org")
    assert "AUTH" not in text
    assert r.cmd("AUTH PLAIN " + b64("\0alice@a.test\0" + PASSWORDS["alice@a.test"]))[0] == 502
    r.close()


def test_plaintext_auth_on_loopback_when_allowed(base_dir, certs):
    gen = running_submission(base_dir, certs, plaintext_loopback="yes")
    t = next(gen)
    try:
        r, text = raw_587(t, tls=False)
        assert "AUTH PLAIN LOGIN" in text
        assert r.cmd("AUTH PLAIN " + b64("\0alice@a.test\0" + PASSWORDS["alice@a.test"]))[0] == 235
        r.close()
    finally:
        next(gen, None)
