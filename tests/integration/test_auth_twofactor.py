"""TOTP two-factor and app passwords (issue 5): enrolment with codes from
oathtool, each code usable once, recovery codes, and the login rules: with
two-factor on, IMAP and POP3 take app passwords only; a revoked app
password fails at once."""
import re

import pytest

from auth_helpers import (app_password, auth_instance, enable_2fa, imap_login, oathtool,
                          pop3_login, smtp_login, stop)
from pop3_helpers import new_user, wait_for


@pytest.fixture(scope="module")
def sec(base_dir, certs):
    t = auth_instance(base_dir, certs, failure_delay="0", max_failures_per_ip="1000",
                      max_failures_per_account="1000")
    yield t
    stop(t)


def test_2fa_enable_prints_uri_qr_and_ten_recovery_codes(sec):
    user, _ = new_user(sec)
    secret, codes, _, text = enable_2fa(sec, user)
    assert "otpauth://totp/mail.a.test:%s?secret=%s" % (user, secret) in text
    assert "\u2588" in text  # the QR code, in half blocks
    assert len(codes) == 10 and len(set(codes)) == 10
    r = sec.cli("user", "2fa", "status", user)
    assert "two-factor on, 10 recovery codes left" in r.stdout
    # only digests are stored
    assert all(c not in sec.sql("SELECT hex(hash) FROM recovery_codes") for c in codes)


def test_2fa_enable_with_wrong_code_stays_off(sec):
    user, _ = new_user(sec)
    r = sec.cli("user", "2fa", "enable", user, input="000000\n", check=False)
    assert r.returncode == 1
    assert "not right" in r.stderr
    assert "two-factor off" in sec.cli("user", "2fa", "status", user).stdout


def test_oathtool_code_accepted_once_then_replay_refused(sec):
    user, _ = new_user(sec)
    secret, _, used, _ = enable_2fa(sec, user)
    # the enrolment code itself is used up
    r = sec.cli("user", "2fa", "check", user, input=used + "\n", check=False)
    assert r.returncode == 1 and "already used" in r.stderr
    code = oathtool(secret, 30)  # next step: new, accepted once
    r = sec.cli("user", "2fa", "check", user, input=code + "\n", check=False)
    assert r.returncode == 0, r.stderr
    r = sec.cli("user", "2fa", "check", user, input=code + "\n", check=False)
    assert r.returncode == 1 and "already used" in r.stderr


def test_with_2fa_account_password_fails_and_app_password_works(sec):
    user, password = new_user(sec)
    assert imap_login(sec, user, password)[0]
    enable_2fa(sec, user)
    assert not imap_login(sec, user, password)[0]
    assert not pop3_login(sec, user, password)[0]
    assert not smtp_login(sec, user, password)
    app = app_password(sec, user, "Thunderbird")
    assert re.fullmatch(r"[a-z2-9]{4}(-[a-z2-9]{4}){3}", app)
    assert imap_login(sec, user, app)[0]
    assert pop3_login(sec, user, app)[0]
    assert smtp_login(sec, user, app)
    # retyped without dashes and in capitals, as people do
    assert imap_login(sec, user, app.replace("-", "").upper())[0]
    assert wait_for(lambda: "last_used=never" not in
                    sec.cli("user", "app-password", "list", user).stdout)


def test_without_2fa_both_passwords_work(sec):
    user, password = new_user(sec)
    app = app_password(sec, user, "phone")
    assert imap_login(sec, user, password)[0]
    assert imap_login(sec, user, app)[0]


def test_revoked_app_password_fails_at_once(sec):
    user, _ = new_user(sec)
    enable_2fa(sec, user)
    app = app_password(sec, user, "laptop")
    assert pop3_login(sec, user, app)[0]
    sec.cli("user", "app-password", "revoke", user, "laptop")
    assert not pop3_login(sec, user, app)[0]
    assert not imap_login(sec, user, app)[0]
    assert "laptop" not in sec.cli("user", "app-password", "list", user).stdout


def test_app_password_names_are_unique_and_revoke_unknown_fails(sec):
    user, _ = new_user(sec)
    app_password(sec, user, "tablet")
    r = sec.cli("user", "app-password", "add", user, "tablet", check=False)
    assert r.returncode == 1 and "already" in r.stderr
    r = sec.cli("user", "app-password", "revoke", user, "nope", check=False)
    assert r.returncode == 1 and "no app password" in r.stderr


def test_2fa_disable_brings_back_the_account_password(sec):
    user, password = new_user(sec)
    enable_2fa(sec, user)
    assert not imap_login(sec, user, password)[0]
    sec.cli("user", "2fa", "disable", user)
    assert imap_login(sec, user, password)[0]
    assert sec.sql("SELECT count(*) FROM recovery_codes r JOIN accounts a ON a.id = r.account_id"
                   " WHERE a.localpart = '%s'" % user.split("@")[0]) == "0"


def test_login_history_records_every_attempt(sec):
    user, password = new_user(sec)
    imap_login(sec, user, "wrong-password")
    pop3_login(sec, user, password)
    # the history is written after the reply, on the store thread
    wait_for(lambda: sec.cli("user", "history", user).stdout.count("\n") >= 2)
    lines = sec.cli("user", "history", user).stdout.strip().splitlines()
    assert "protocol=pop3 ip=127.0.0.1 result=ok" in lines[0]
    assert "protocol=imap ip=127.0.0.1 result=failed" in lines[1]
