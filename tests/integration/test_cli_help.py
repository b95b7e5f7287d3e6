"""`tern --help`, `ternd --help`, versions and unknown commands."""
import subprocess

import pytest

from conftest import SANITIZER_MARKERS, TERN, TERND

TERN_COMMANDS = ["domain add", "domain list", "domain remove", "user add", "user passwd",
                 "user list", "user remove", "alias add", "alias list", "alias remove",
                 "status", "reload"]
TERND_OPTIONS = ["-c, --config", "-n, --check", "--demo", "-h, --help", "-V, --version"]


def run(*argv, **kwargs):
    r = subprocess.run(list(argv), capture_output=True, text=True, timeout=30, **kwargs)
    assert not [m for m in SANITIZER_MARKERS if m in r.stderr], r.stderr
    return r


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_tern_help_lists_every_command(flag):
    r = run(TERN, flag)
    assert r.returncode == 0
    for cmd in TERN_COMMANDS:
        assert "  " + cmd in r.stdout, cmd
    assert "--password-stdin" in r.stdout
    assert "-c, --config" in r.stdout


def test_tern_help_subcommand_shows_usage_without_touching_a_store():
    r = run(TERN, "-c", "/nonexistent/tern.conf", "user", "add", "--help")
    assert r.returncode == 0
    assert "user add" in r.stdout


def test_tern_help_command_word_works():
    r = run(TERN, "help")
    assert r.returncode == 0
    assert "domain add" in r.stdout


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_ternd_help_lists_every_option(flag):
    r = run(TERND, flag)
    assert r.returncode == 0
    for opt in TERND_OPTIONS:
        assert opt in r.stdout, opt
    assert "SIGHUP" in r.stdout and "SIGTERM" in r.stdout


def test_tern_version_prints_version():
    r = run(TERN, "--version")
    assert r.returncode == 0
    assert r.stdout.startswith("tern ")


def test_ternd_version_prints_version():
    r = run(TERND, "--version")
    assert r.returncode == 0
    assert r.stdout.startswith("ternd ")


def test_tern_and_ternd_versions_match():
    assert run(TERN, "-V").stdout.split()[1] == run(TERND, "-V").stdout.split()[1]


@pytest.mark.parametrize("argv", [["frobnicate"], ["statuss"], ["Domain", "list"], ["mailbox"]])
def test_tern_unknown_command_exits_2(argv):
    r = run(TERN, "-c", "/nonexistent/tern.conf", *argv)
    assert r.returncode == 2
    assert "unknown command '%s'" % argv[0] in r.stderr
    assert "Usage:" in r.stderr
    assert r.stdout == ""


def test_tern_without_command_exits_2():
    r = run(TERN)
    assert r.returncode == 2
    assert "Usage:" in r.stderr


def test_tern_unknown_option_exits_2():
    r = run(TERN, "--frob", "status")
    assert r.returncode == 2


def test_ternd_unknown_option_exits_2():
    r = run(TERND, "--frob")
    assert r.returncode == 2
    assert "Usage:" in r.stderr


def test_ternd_extra_argument_exits_2():
    r = run(TERND, "-n", "stray")
    assert r.returncode == 2
    assert "unexpected argument 'stray'" in r.stderr


def test_tern_with_missing_config_fails_clearly():
    r = run(TERN, "-c", "/nonexistent/tern.conf", "domain", "list")
    assert r.returncode == 1
    assert "/nonexistent/tern.conf" in r.stderr
