"""Brute-force limits (issue 5): 50 wrong passwords from one IP block that
IP for every protocol while the right password from another IP still
works; `tern security blocked/unblock`; one fail2ban line per failure;
the same reply for an unknown user as for a wrong password."""
import re

import pytest

from auth_helpers import auth_instance, imap_login, pop3_login, stop
from conftest import PASSWORDS

# the regex docs/security.md gives fail2ban, with <HOST> filled in
FAIL2BAN = re.compile(r'auth failed protocol=\S+ ip=(?P<host>\S+) user="[^"]*"')


@pytest.fixture(scope="module")
def bf(base_dir, certs):
    t = auth_instance(base_dir, certs, failure_delay="0", failure_delay_max="0",
                      max_failures_per_ip="10", max_failures_per_account="1000",
                      block_time="10m")
    yield t
    stop(t)


def test_50_wrong_passwords_block_the_ip_but_not_another_ip(bf):
    user, password = "alice@a.test", PASSWORDS["alice@a.test"]
    for i in range(50):
        ok, _ = pop3_login(bf, user, "wrong-%d" % i, source="127.0.0.2")
        assert not ok
    # the right password from the blocked IP fails too, in every protocol
    assert not pop3_login(bf, user, password, source="127.0.0.2")[0]
    assert not imap_login(bf, "bob@a.test", PASSWORDS["bob@a.test"], source="127.0.0.2")[0]
    # another IP is not affected
    assert pop3_login(bf, user, password, source="127.0.0.3")[0]
    assert imap_login(bf, user, password, source="127.0.0.3")[0]
    log = bf.log()
    assert 'reason=blocked' in log
    r = bf.cli("security", "blocked")
    assert re.search(r"^ip=127\.0\.0\.2 failures=\d+ blocked_for_s=\d+$", r.stdout, re.M), r.stdout
    # the success from 127.0.0.3 did not reset 127.0.0.2
    assert not pop3_login(bf, user, password, source="127.0.0.2")[0]
    r = bf.cli("security", "unblock", "127.0.0.2")
    assert r.stdout.strip() == "ok"
    assert pop3_login(bf, user, password, source="127.0.0.2")[0]
    assert "127.0.0.2" not in bf.cli("security", "blocked").stdout


def test_unblock_of_unknown_key_fails(bf):
    r = bf.cli("security", "unblock", "192.0.2.77", check=False)
    assert r.returncode == 1 and "not blocked" in r.stdout


def test_each_failure_is_one_fail2ban_line(bf):
    before = bf.log().count("\n")
    pop3_login(bf, "carol@a.test", "not-her-password", source="127.0.0.4")
    new = bf.log().splitlines()[before:]
    hits = [l for l in new if FAIL2BAN.search(l)]
    assert len(hits) == 1, new
    m = FAIL2BAN.search(hits[0])
    assert m.group("host") == "127.0.0.4"
    assert 'user="carol@a.test"' in hits[0]
    assert "not-her-password" not in bf.log()


def test_unknown_user_and_wrong_password_get_identical_replies(bf):
    bf.cli("security", "unblock", "127.0.0.5", check=False)
    a = imap_login(bf, "nobody-here@a.test", "whatever-pw", source="127.0.0.5")
    b = imap_login(bf, "alice@a.test", "whatever-pw", source="127.0.0.5")
    assert a == b and not a[0]
    a = pop3_login(bf, "nobody-here@a.test", "whatever-pw", source="127.0.0.5")
    b = pop3_login(bf, "alice@a.test", "whatever-pw", source="127.0.0.5")
    assert a == b and not a[0]
