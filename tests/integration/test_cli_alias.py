"""`tern alias add|list|remove`, checked by delivering mail through the
running daemon and reading it back over POP3."""
import secrets
import smtplib

import pytest

from pop3_helpers import cli_lines, deliver, login, message, new_user, retr_bytes


def aliases(t, domain=None):
    """alias list as a set of (source, target)."""
    out = set()
    for line in cli_lines(t, "alias", "list", *([domain] if domain else [])):
        source, arrow, target = line.split()
        assert arrow == "->"
        out.add((source, target))
    return out


def inbox_subjects(t, user, password):
    p = login(t, user, password)
    n = p.stat()[0]
    subjects = []
    for i in range(1, n + 1):
        for line in retr_bytes(p, i).split(b"\r\n"):
            if line.startswith(b"Subject: "):
                subjects.append(line[9:].decode())
                break
    p.quit()
    return subjects


def rcpt_code(t, rcpt):
    with smtplib.SMTP(t.host, t.ports["smtp"], timeout=30) as s:
        s.ehlo("client.example.org")
        s.mail("sender@example.org")
        code, _ = s.rcpt(rcpt)
    return code


@pytest.fixture
def domain(tern):
    """A new domain of our own for one test."""
    name = "al-%s.test" % secrets.token_hex(4)
    tern.cli("domain", "add", name)
    return name


def test_alias_list_shows_populated_aliases(tern):
    got = aliases(tern, "a.test")
    assert ("team@a.test", "alice@a.test") in got
    assert ("team@a.test", "bob@a.test") in got
    assert ("info@a.test", "carol@a.test") in got
    assert all(src.endswith("@a.test") for src, _ in got)


def test_alias_add_delivers_to_target(tern, domain):
    user, password = new_user(tern)
    r = tern.cli("alias", "add", "sales@" + domain, user)
    assert r.stdout.strip() == "added alias sales@%s -> %s" % (domain, user)
    deliver(tern, "sales@" + domain, message("to sales"))
    assert inbox_subjects(tern, user, password) == ["to sales"]


def test_alias_add_several_targets_delivers_to_each(tern, domain):
    u1, p1 = new_user(tern)
    u2, p2 = new_user(tern)
    tern.cli("alias", "add", "both@" + domain, u1, u2)
    assert aliases(tern, domain) == {("both@" + domain, u1), ("both@" + domain, u2)}
    deliver(tern, "both@" + domain, message("to both"))
    assert inbox_subjects(tern, u1, p1) == ["to both"]
    assert inbox_subjects(tern, u2, p2) == ["to both"]


def test_alias_add_same_target_twice_is_one_entry(tern, domain):
    user, _ = new_user(tern)
    tern.cli("alias", "add", "dup@" + domain, user)
    tern.cli("alias", "add", "dup@" + domain, user)
    assert aliases(tern, domain) == {("dup@" + domain, user)}


def test_catch_all_alias_delivers_any_local_part(tern, domain):
    user, password = new_user(tern)
    r = tern.cli("alias", "add", "@" + domain, user)
    assert "@" + domain in r.stdout
    assert ("@" + domain, user) in aliases(tern, domain)
    deliver(tern, "whatever-%s@%s" % (secrets.token_hex(3), domain), message("caught"))
    assert inbox_subjects(tern, user, password) == ["caught"]


def test_without_catch_all_unknown_local_part_is_refused(tern, domain):
    assert rcpt_code(tern, "nobody@" + domain) == 550


def test_specific_alias_wins_over_catch_all(tern, domain):
    u1, p1 = new_user(tern)
    u2, p2 = new_user(tern)
    tern.cli("alias", "add", "@" + domain, u1)
    tern.cli("alias", "add", "exact@" + domain, u2)
    deliver(tern, "exact@" + domain, message("exact one"))
    assert inbox_subjects(tern, u2, p2) == ["exact one"]
    assert inbox_subjects(tern, u1, p1) == []


def test_alias_remove_one_target_keeps_the_others(tern, domain):
    u1, p1 = new_user(tern)
    u2, p2 = new_user(tern)
    tern.cli("alias", "add", "pair@" + domain, u1, u2)
    r = tern.cli("alias", "remove", "pair@" + domain, u1)
    assert r.stdout.strip() == "removed alias pair@%s -> %s" % (domain, u1)
    assert aliases(tern, domain) == {("pair@" + domain, u2)}
    deliver(tern, "pair@" + domain, message("only two"))
    assert inbox_subjects(tern, u1, p1) == []
    assert inbox_subjects(tern, u2, p2) == ["only two"]


def test_alias_remove_whole_alias_removes_all_targets(tern, domain):
    u1, _ = new_user(tern)
    u2, _ = new_user(tern)
    tern.cli("alias", "add", "all@" + domain, u1, u2)
    tern.cli("alias", "remove", "all@" + domain)
    assert aliases(tern, domain) == set()
    assert rcpt_code(tern, "all@" + domain) == 550


def test_alias_remove_catch_all(tern, domain):
    user, _ = new_user(tern)
    tern.cli("alias", "add", "@" + domain, user)
    tern.cli("alias", "remove", "@" + domain)
    assert aliases(tern, domain) == set()
    assert rcpt_code(tern, "anyone@" + domain) == 550


def test_alias_remove_unknown_alias_fails(tern, domain):
    r = tern.cli("alias", "remove", "none@" + domain, check=False)
    assert r.returncode == 1
    assert "no alias" in r.stderr


def test_alias_remove_unknown_target_fails_and_keeps_alias(tern, domain):
    user, _ = new_user(tern)
    tern.cli("alias", "add", "keep@" + domain, user)
    r = tern.cli("alias", "remove", "keep@" + domain, "other@a.test", check=False)
    assert r.returncode == 1
    assert aliases(tern, domain) == {("keep@" + domain, user)}


def test_alias_to_remote_address_is_listed(tern, domain):
    tern.cli("alias", "add", "out@" + domain, "someone@remote.example")
    assert aliases(tern, domain) == {("out@" + domain, "someone@remote.example")}


def test_alias_in_unknown_domain_fails(tern):
    r = tern.cli("alias", "add", "x@not-ours.test", "alice@a.test", check=False)
    assert r.returncode == 1
    assert "not-ours.test" in r.stderr


def test_alias_of_a_user_to_itself_and_another_keeps_a_copy(tern):
    u1, p1 = new_user(tern)
    u2, p2 = new_user(tern)
    tern.cli("alias", "add", u1, u1, u2)
    deliver(tern, u1, message("copied"))
    assert inbox_subjects(tern, u1, p1) == ["copied"]
    assert inbox_subjects(tern, u2, p2) == ["copied"]


@pytest.mark.parametrize("source,target", [("bad source@a.test", "alice@a.test"),
                                           ("ok@a.test", "bad target"),
                                           ("@bad..test", "alice@a.test"),
                                           ("ok@a.test", "@a.test")])
def test_alias_add_invalid_address_is_refused(tern, source, target):
    r = tern.cli("alias", "add", source, target, check=False)
    assert r.returncode == 1
    assert "not a valid" in r.stderr


def test_alias_list_by_domain_filters(tern, domain):
    tern.cli("alias", "add", "f@" + domain, "alice@a.test")
    got = aliases(tern, domain)
    assert got == {("f@" + domain, "alice@a.test")}


@pytest.mark.parametrize("args", [["alias"], ["alias", "add", "x@a.test"], ["alias", "remove"],
                                  ["alias", "frob", "a", "b"],
                                  ["alias", "remove", "a@a.test", "b@a.test", "c@a.test"]])
def test_alias_bad_usage_exits_2(tern, args):
    r = tern.cli(*args, check=False)
    assert r.returncode == 2
    assert "usage" in r.stderr
