"""`tern domain add|list|remove` against a store (no daemon needed)."""
import pytest

from conftest import Tern, populate
from pop3_helpers import cli_lines, first_words


@pytest.fixture(scope="module")
def store(base_dir, certs):
    """A configured, populated instance that is never started."""
    t = Tern(base_dir, certs)
    populate(t)
    return t


def domains(t):
    return first_words(cli_lines(t, "domain", "list"))


def test_domain_add_then_list_shows_it(store):
    r = store.cli("domain", "add", "new-one.test")
    assert r.stdout.strip() == "added domain new-one.test"
    assert "new-one.test" in domains(store)


def test_domain_list_shows_user_and_alias_counts(store):
    lines = {l.split()[0]: l.split()[1:] for l in cli_lines(store, "domain", "list")}
    assert lines["a.test"] == ["users=3", "aliases=4"]
    assert lines["other.test"] == ["users=0", "aliases=1"]


def test_domain_list_is_sorted(store):
    names = domains(store)
    assert names == sorted(names)


def test_domain_add_lowercases(store):
    store.cli("domain", "add", "MiXeD.Example.TEST")
    assert "mixed.example.test" in domains(store)
    assert "MiXeD.Example.TEST" not in domains(store)


def test_domain_add_twice_fails(store):
    store.cli("domain", "add", "twice.test")
    r = store.cli("domain", "add", "twice.test", check=False)
    assert r.returncode == 1
    assert "twice.test" in r.stderr
    assert domains(store).count("twice.test") == 1


def test_domain_add_differing_in_case_is_a_duplicate(store):
    store.cli("domain", "add", "case.test")
    r = store.cli("domain", "add", "CASE.test", check=False)
    assert r.returncode == 1
    assert domains(store).count("case.test") == 1


@pytest.mark.parametrize("name", ["bad..test", "-lead.test", "trail-.test", "sp ace.test",
                                  "under_score.test", "dot.test.", ".dot.test", "a@b.test",
                                  "x" * 64 + ".test", "semi;colon.test", "slash/.test"])
def test_domain_add_invalid_name_is_refused(store, name):
    r = store.cli("domain", "add", name, check=False)
    assert r.returncode == 1
    assert "not a valid domain name" in r.stderr
    assert name.lower() not in domains(store)


def test_domain_add_empty_name_is_refused(store):
    r = store.cli("domain", "add", "", check=False)
    assert r.returncode != 0


def test_domain_remove_empty_domain_removes_it(store):
    store.cli("domain", "add", "gone.test")
    r = store.cli("domain", "remove", "gone.test")
    assert r.stdout.strip() == "removed domain gone.test"
    assert "gone.test" not in domains(store)


def test_domain_remove_refused_while_users_exist(store):
    r = store.cli("domain", "remove", "a.test", check=False)
    assert r.returncode == 1
    assert "users" in r.stderr
    assert "a.test" in domains(store)
    # nothing was touched: the users are still there
    assert len(cli_lines(store, "user", "list", "a.test")) == 3


def test_domain_remove_refused_while_aliases_exist(store):
    r = store.cli("domain", "remove", "other.test", check=False)
    assert r.returncode == 1
    assert "aliases" in r.stderr
    assert "other.test" in domains(store)


def test_domain_remove_after_removing_users_works(store):
    store.cli("domain", "add", "short-lived.test")
    store.add_user("x@short-lived.test", "short-lived-pw")
    assert store.cli("domain", "remove", "short-lived.test", check=False).returncode == 1
    store.cli("user", "remove", "x@short-lived.test")
    store.cli("domain", "remove", "short-lived.test")
    assert "short-lived.test" not in domains(store)


def test_domain_remove_unknown_domain_fails(store):
    r = store.cli("domain", "remove", "never-added.test", check=False)
    assert r.returncode == 1
    assert "does not exist" in r.stderr


@pytest.mark.parametrize("args", [["domain"], ["domain", "add"], ["domain", "frob", "x.test"],
                                  ["domain", "add", "a.test", "b.test"], ["domain", "list", "x"]])
def test_domain_bad_usage_exits_2(store, args):
    r = store.cli(*args, check=False)
    assert r.returncode == 2
    assert "usage" in r.stderr
