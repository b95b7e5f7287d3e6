"""Password policy, generated passwords and legacy hash import (issue 5):
clear refusals, --force, --generate, {SHA512-CRYPT}/{BLF-CRYPT}/{PLAIN}
import (one and bulk), login with the imported hash and the rehash to
Argon2id."""
import subprocess

import pytest

from auth_helpers import auth_instance, imap_login, pop3_login, stop
from pop3_helpers import wait_for

POLICY = {"min_password_length": "12", "min_password_score": "3", "failure_delay": "0",
          "max_failures_per_ip": "1000", "max_failures_per_account": "1000"}


@pytest.fixture(scope="module")
def pw(base_dir, certs):
    t = auth_instance(base_dir, certs, **POLICY)
    yield t
    stop(t)


def mkpasswd(method, password):
    return subprocess.run(["mkpasswd", "-m", method, password], capture_output=True, text=True,
                          check=True).stdout.strip()


@pytest.mark.parametrize("password,reason", [
    ("short-pw-1", "too short: at least 12 characters"),
    ("password1234", "too easy to guess: it is built on a common password or word"),
    ("dora-writes-letters", 'it contains a part of your address ("dora")'),
    ("qwertyuiop123", "too easy to guess"),
])
def test_policy_refuses_with_a_clear_reason(pw, password, reason):
    r = pw.cli("user", "add", "dora@a.test", "--password-stdin", input=password + "\n",
               check=False)
    assert r.returncode == 1
    assert reason in r.stderr, r.stderr
    assert "dora@a.test" not in pw.cli("user", "list").stdout


def test_policy_accepts_a_strong_password_and_force_bypasses(pw):
    pw.cli("user", "add", "erin@a.test", "--password-stdin", input="glacier Tuba orbit 47\n")
    r = pw.cli("user", "passwd", "erin@a.test", "--password-stdin", input="erin-pass\n",
               check=False)
    assert r.returncode == 1 and "too short" in r.stderr
    pw.cli("user", "passwd", "erin@a.test", "--password-stdin", "--force",
           input="erin-pass\n")
    assert pop3_login(pw, "erin@a.test", "erin-pass")[0]


def test_generate_prints_a_working_password_once(pw):
    r = pw.cli("user", "add", "gen@a.test", "--generate")
    password = r.stdout.strip().splitlines()[-1].split("password: ")[1]
    assert len(password) == 23
    assert imap_login(pw, "gen@a.test", password)[0]
    assert password not in pw.sql("SELECT password FROM accounts")


def stored_hash(t, local):
    return t.sql("SELECT password FROM accounts WHERE localpart = '%s'" % local)


def wait_for_argon2id(t, local):
    """The rehash runs on a worker after the login: wait for it."""
    wait_for(lambda: stored_hash(t, local).startswith("$argon2id$"))
    return stored_hash(t, local)


@pytest.mark.parametrize("method,scheme", [("sha-512", "SHA512-CRYPT"),
                                           ("sha-256", "SHA256-CRYPT"),
                                           ("bcrypt", "BLF-CRYPT")])
def test_imported_hash_logs_in_and_is_rehashed_to_argon2id(pw, method, scheme):
    local = "legacy-" + scheme.lower()
    hashed = "{%s}%s" % (scheme, mkpasswd(method, "old-dovecot-pw"))
    r = pw.cli("user", "import-hash", local + "@a.test", hashed)
    assert "added user" in r.stdout
    assert stored_hash(pw, local).startswith("{%s}" % scheme)
    assert not imap_login(pw, local + "@a.test", "wrong-pw")[0]
    assert stored_hash(pw, local).startswith("{")
    assert imap_login(pw, local + "@a.test", "old-dovecot-pw")[0]
    assert wait_for_argon2id(pw, local).startswith("$argon2id$v=19$m=65536,t=2,p=1$")
    assert pop3_login(pw, local + "@a.test", "old-dovecot-pw")[0]


def test_bulk_import_reads_a_dovecot_passwd_file(pw):
    lines = ["# exported from dovecot",
             "bulk1@a.test:{SHA512-CRYPT}%s:1000:1000::/home/bulk1::" % mkpasswd("sha-512", "bulk-one-pw"),
             "bulk2@a.test:{PLAIN}bulk-two-pw",
             "bulk3@a.test:{MD5-CRYPT}$1$abc$def",
             ""]
    r = pw.cli("user", "import-hash", "--stdin", input="\n".join(lines), check=False)
    assert r.returncode == 1
    assert "imported 2, failed 1" in r.stdout
    assert "bulk3@a.test: unsupported scheme" in r.stderr
    assert stored_hash(pw, "bulk2").startswith("$argon2id$")  # {PLAIN} never stored
    assert pop3_login(pw, "bulk1@a.test", "bulk-one-pw")[0]
    assert pop3_login(pw, "bulk2@a.test", "bulk-two-pw")[0]


def test_import_replaces_the_hash_of_an_existing_user(pw):
    pw.cli("user", "add", "mover@a.test", "--generate")
    r = pw.cli("user", "import-hash", "mover@a.test", "{SHA512-CRYPT}" +
               mkpasswd("sha-512", "moved-pw-123"))
    assert "imported hash for mover@a.test" in r.stdout
    assert pop3_login(pw, "mover@a.test", "moved-pw-123")[0]


def test_argon2_parameters_from_config_trigger_rehash(base_dir, certs):
    from conftest import PASSWORDS
    t = auth_instance(base_dir, certs, argon2_memory="16M", argon2_iterations="3",
                      failure_delay="0")
    try:
        # populate hashed with the defaults (libsodium interactive); the
        # running config asks for other parameters: the next login rehashes
        assert "$m=65536,t=2,p=1$" in stored_hash(t, "alice")
        assert imap_login(t, "alice@a.test", PASSWORDS["alice@a.test"])[0]
        wait_for(lambda: "$m=16384,t=3,p=1$" in stored_hash(t, "alice"))
        assert "$m=16384,t=3,p=1$" in stored_hash(t, "alice")
        assert pop3_login(t, "alice@a.test", PASSWORDS["alice@a.test"])[0]
        # new hashes made by the CLI use them too
        t.cli("user", "add", "fresh@a.test", "--generate")
        assert "$m=16384,t=3,p=1$" in stored_hash(t, "fresh")
    finally:
        stop(t)
