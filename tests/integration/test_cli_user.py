"""`tern user add|passwd|list|remove`: passwords only from stdin or a
terminal, never from argv; changes take effect for POP3 right away."""
import os
import poplib
import smtplib
import subprocess

import pytest

from conftest import TERN
from pop3_helpers import (big_body, blob_files, cli_lines, deliver, first_words, login, message,
                          new_user)


def users(t, domain=None):
    return first_words(cli_lines(t, "user", "list", *([domain] if domain else [])))


def pop_login_ok(t, user, password):
    try:
        login(t, user, password).quit()
        return True
    except poplib.error_proto:
        return False


def test_user_add_with_password_stdin_creates_mailbox(tern):
    r = tern.cli("user", "add", "dora@a.test", "--password-stdin", input="dora-password\n")
    assert r.stdout.strip() == "added user dora@a.test"
    line = [l for l in cli_lines(tern, "user", "list") if l.startswith("dora@a.test ")]
    assert line and "messages=0" in line[0] and "bytes=0" in line[0]
    assert pop_login_ok(tern, "dora@a.test", "dora-password")


def test_user_add_option_before_address_works(tern):
    tern.cli("user", "add", "--password-stdin", "erin@a.test", input="erin-password\n")
    assert pop_login_ok(tern, "erin@a.test", "erin-password")


def test_user_add_password_with_spaces_is_kept_exactly(tern):
    password = "  spaces inside and around  "
    tern.cli("user", "add", "spacey@a.test", "--password-stdin", input=password + "\n")
    assert pop_login_ok(tern, "spacey@a.test", password)
    assert not pop_login_ok(tern, "spacey@a.test", password.strip())


def test_user_add_reads_only_first_line_of_stdin(tern):
    tern.cli("user", "add", "firstline@a.test", "--password-stdin",
             input="first-line-pw\nsecond-line-pw\n")
    assert pop_login_ok(tern, "firstline@a.test", "first-line-pw")


def test_user_add_refuses_password_on_argv(tern):
    r = tern.cli("user", "add", "argv@a.test", "argv-password", check=False,
                 input="stdin-password\n")
    assert r.returncode == 2
    assert "argv@a.test" not in users(tern)


def test_user_add_two_addresses_exits_2(tern):
    r = tern.cli("user", "add", "two1@a.test", "two2@a.test", "--password-stdin",
                 input="two-password\n", check=False)
    assert r.returncode == 2
    assert "two1@a.test" not in users(tern) and "two2@a.test" not in users(tern)


def test_user_add_mixed_case_domain_is_lowercased(tern):
    r = tern.cli("user", "add", "Mixed@A.Test", "--password-stdin", input="mixed-password\n")
    assert r.stdout.strip() == "added user Mixed@a.test"
    assert pop_login_ok(tern, "mixed@a.test", "mixed-password")
    r = tern.cli("user", "passwd", "MIXED@a.TEST", "--password-stdin", input="mixed-password-2\n")
    assert r.returncode == 0
    assert pop_login_ok(tern, "Mixed@a.test", "mixed-password-2")


def test_user_add_too_short_password_is_refused(tern):
    r = tern.cli("user", "add", "shorty@a.test", "--password-stdin", input="short\n", check=False)
    assert r.returncode == 1
    assert "8 to 1024" in r.stderr
    assert "shorty@a.test" not in users(tern)


def test_user_add_too_long_password_is_refused(tern):
    r = tern.cli("user", "add", "longy@a.test", "--password-stdin", input="x" * 1025 + "\n",
                 check=False)
    assert r.returncode == 1
    assert "longy@a.test" not in users(tern)


def test_user_add_empty_stdin_fails(tern):
    r = tern.cli("user", "add", "empty@a.test", "--password-stdin", input="", check=False)
    assert r.returncode == 1
    assert "no password" in r.stderr
    assert "empty@a.test" not in users(tern)


def test_user_add_without_password_stdin_and_without_terminal_fails_clearly(tern):
    r = subprocess.run([TERN, "-c", tern.conf, "user", "add", "noterm@a.test"],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    assert "not a terminal" in r.stderr and "--password-stdin" in r.stderr
    assert "noterm@a.test" not in users(tern)


def test_user_add_without_terminal_from_pipe_fails_clearly(tern):
    r = tern.cli("user", "add", "pipe@a.test", input="pipe-password\npipe-password\n",
                 check=False)
    assert r.returncode == 1
    assert "--password-stdin" in r.stderr
    assert "pipe@a.test" not in users(tern)


def test_user_add_in_unknown_domain_fails(tern):
    r = tern.cli("user", "add", "x@unknown-domain.test", "--password-stdin",
                 input="some-password\n", check=False)
    assert r.returncode == 1
    assert "unknown-domain.test" in r.stderr


def test_user_add_existing_user_fails(tern):
    r = tern.cli("user", "add", "alice@a.test", "--password-stdin", input="another-pw\n",
                 check=False)
    assert r.returncode == 1
    assert "alice@a.test" in r.stderr


@pytest.mark.parametrize("address", ["no-at-sign", "two@@a.test", "sp ace@a.test", "@a.test",
                                     "x@", "x@bad..test"])
def test_user_add_invalid_address_is_refused(tern, address):
    r = tern.cli("user", "add", address, "--password-stdin", input="valid-password\n",
                 check=False)
    assert r.returncode == 1
    assert "not a valid address" in r.stderr


def test_user_passwd_old_password_fails_new_works(tern):
    user, old = new_user(tern)
    assert pop_login_ok(tern, user, old)
    r = tern.cli("user", "passwd", user, "--password-stdin", input="brand-new-password\n")
    assert r.stdout.strip() == "changed password of " + user
    assert not pop_login_ok(tern, user, old)
    assert pop_login_ok(tern, user, "brand-new-password")


def test_user_passwd_too_short_keeps_old_password(tern):
    user, old = new_user(tern)
    r = tern.cli("user", "passwd", user, "--password-stdin", input="1234567\n", check=False)
    assert r.returncode == 1
    assert pop_login_ok(tern, user, old)


def test_user_passwd_unknown_user_fails(tern):
    r = tern.cli("user", "passwd", "ghost@a.test", "--password-stdin", input="ghost-password\n",
                 check=False)
    assert r.returncode == 1
    assert "ghost@a.test" in r.stderr


def test_user_passwd_does_not_store_plaintext(tern):
    user, _ = new_user(tern)
    tern.cli("user", "passwd", user, "--password-stdin", input="findable-plaintext\n")
    dump = subprocess.run(["sqlite3", os.path.join(tern.data_dir, "tern.db"), ".dump"],
                          capture_output=True, check=True).stdout
    assert b"findable-plaintext" not in dump
    assert b"$argon2id$" in dump


def test_user_list_filters_by_domain(tern):
    tern.cli("domain", "add", "listed.test")
    tern.add_user("one@listed.test", "one-password")
    tern.add_user("two@listed.test", "two-password")
    assert users(tern, "listed.test") == ["one@listed.test", "two@listed.test"]
    assert "one@listed.test" in users(tern)
    assert "alice@a.test" not in users(tern, "listed.test")


def test_user_list_counts_messages_and_bytes(tern):
    user, password = new_user(tern)
    deliver(tern, user, message("count me"))
    p = login(tern, user, password)
    size = p.stat()[1]
    p.quit()
    line = [l for l in cli_lines(tern, "user", "list") if l.startswith(user + " ")][0]
    assert line.split()[1:] == ["messages=1", "bytes=%d" % size]


def test_user_remove_deletes_mailbox_and_its_mail(tern):
    user, password = new_user(tern)
    before = blob_files(tern)
    deliver(tern, user, message("small one"))
    deliver(tern, user, message("large one", big_body(1.1)))
    assert len(blob_files(tern) - before) == 1
    r = tern.cli("user", "remove", user)
    assert "removed user " + user in r.stdout
    assert user not in users(tern)
    assert not pop_login_ok(tern, user, password)
    assert tern.sql("SELECT count(*) FROM messages WHERE mailbox_id NOT IN"
                    " (SELECT id FROM mailboxes)") == "0"
    assert tern.sql("SELECT count(*) FROM mailboxes WHERE account_id NOT IN"
                    " (SELECT id FROM accounts)") == "0"
    assert blob_files(tern) <= before


def test_user_remove_then_mail_to_it_is_refused(tern):
    user, _ = new_user(tern)
    tern.cli("user", "remove", user)
    with smtplib.SMTP(tern.host, tern.ports["smtp"], timeout=30) as s:
        s.ehlo("client.example.org")
        s.mail("sender@example.org")
        code, _ = s.rcpt(user)
    assert code == 550


def test_user_remove_then_add_again_gets_empty_mailbox(tern):
    user, password = new_user(tern)
    deliver(tern, user, message("before removal"))
    tern.cli("user", "remove", user)
    tern.add_user(user, password)
    p = login(tern, user, password)
    assert p.stat() == (0, 0)
    p.quit()


def test_user_remove_unknown_user_fails(tern):
    r = tern.cli("user", "remove", "ghost@a.test", check=False)
    assert r.returncode == 1
    assert "does not exist" in r.stderr


@pytest.mark.parametrize("args", [["user"], ["user", "add"], ["user", "frob"],
                                  ["user", "remove"], ["user", "list", "a.test", "b.test"]])
def test_user_bad_usage_exits_2(tern, args):
    r = tern.cli(*args, check=False)
    assert r.returncode == 2
    assert "usage" in r.stderr
