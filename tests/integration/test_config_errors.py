"""tern.conf errors: `ternd -n -c FILE` (check only) and `ternd -c FILE`
(start) both refuse a bad config with a non-zero exit and a
"FILE:LINE: message" pointing at the offending line."""
import os
import subprocess
import tempfile

import pytest

from conftest import SANITIZER_MARKERS, TERND, free_port

MARK = "# <-- error here"


def good_config(base, certs, cert=None):
    """A complete valid config as a list of lines."""
    if cert is None:
        cert = certs.issue("cfg-%d" % free_port(), ["DNS:mail.cfg.test", "IP:127.0.0.2"])
    return ["[server]",
            "hostname = mail.cfg.test",
            "data_dir = %s" % os.path.join(base, "data"),
            "user = nobody",
            "",
            "[listen]",
            "smtp = 127.0.0.2:%d" % free_port(),
            "pop3 = 127.0.0.2:%d" % free_port(),
            "pop3s = 127.0.0.2:%d" % free_port(),
            "",
            "[tls]",
            "certificate = %s" % cert[0],
            "key = %s" % cert[1]]


@pytest.fixture
def cfgdir(base_dir):
    d = tempfile.mkdtemp(prefix="cfg-", dir=base_dir)
    os.chmod(d, 0o755)
    return d


def write(cfgdir, lines):
    """Writes lines; returns (path, 1-based line number of the MARK line)."""
    path = os.path.join(cfgdir, "tern.conf")
    bad = 0
    out = []
    for i, line in enumerate(lines, 1):
        if line.endswith(MARK):
            bad = i
            line = line[:-len(MARK)].rstrip()
        out.append(line)
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")
    return path, bad


def check(path):
    return subprocess.run([TERND, "-n", "-c", path], capture_output=True, text=True, timeout=30)


def start(path):
    return subprocess.run([TERND, "-c", path], capture_output=True, text=True, timeout=60)


def assert_refused(path, line, *words):
    for r in (check(path), start(path)):
        assert r.returncode != 0
        out = r.stderr
        assert "%s:%d: " % (path, line) in out, out
        for w in words:
            assert w in out, (w, out)
        assert "ready" not in out
        assert not [m for m in SANITIZER_MARKERS if m in out], out


def with_line(lines, section, line):
    """lines with line added at the end of [section]."""
    out = list(lines)
    i = out.index("[%s]" % section) + 1
    while i < len(out) and out[i] and not out[i].startswith("["):
        i += 1
    out.insert(i, line)
    return out


def test_good_config_check_prints_ok(cfgdir, certs):
    path, _ = write(cfgdir, good_config(cfgdir, certs))
    r = check(path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "%s: ok" % path
    assert not os.path.exists(os.path.join(cfgdir, "data"))   # -n starts nothing


def test_unknown_key_is_refused_with_line(cfgdir, certs):
    lines = with_line(good_config(cfgdir, certs), "server", "frobnicate = yes " + MARK)
    path, line = write(cfgdir, lines)
    assert_refused(path, line, "unknown key 'frobnicate' in [server]")


def test_unknown_key_in_listen_is_refused_with_line(cfgdir, certs):
    lines = with_line(good_config(cfgdir, certs), "listen", "gopher = 127.0.0.2:1143 " + MARK)
    path, line = write(cfgdir, lines)
    assert_refused(path, line, "unknown key 'gopher'")


def test_unknown_section_is_refused_with_line(cfgdir, certs):
    lines = good_config(cfgdir, certs) + ["", "[frobs]", "size = 1 " + MARK]
    path, line = write(cfgdir, lines)
    assert_refused(path, line, "unknown section [frobs]")


@pytest.mark.parametrize("section,key,value", [
    ("store", "inline_max", "12X"),
    ("smtp", "max_message_size", "lots"),
    ("smtp", "max_message_size", "-5M"),
    ("smtp", "max_message_size", "10 M"),
    ("smtp", "max_message_size", "99999999999999999999G"),
])
def test_bad_size_is_refused_with_line(cfgdir, certs, section, key, value):
    lines = good_config(cfgdir, certs) + ["", "[%s]" % section, "%s = %s %s" % (key, value, MARK)]
    path, line = write(cfgdir, lines)
    assert_refused(path, line, key, "size")


def test_size_out_of_range_is_refused_with_line(cfgdir, certs):
    lines = good_config(cfgdir, certs) + ["", "[smtp]", "max_message_size = 10 " + MARK]
    path, line = write(cfgdir, lines)
    assert_refused(path, line, "max_message_size must be between")


def test_good_size_with_suffix_is_accepted(cfgdir, certs):
    lines = good_config(cfgdir, certs) + ["", "[smtp]", "max_message_size = 20M",
                                          "", "[store]", "inline_max = 32k"]
    path, _ = write(cfgdir, lines)
    assert check(path).returncode == 0


def test_duplicate_key_is_refused_at_second_line(cfgdir, certs):
    lines = with_line(good_config(cfgdir, certs), "server", "hostname = again.test " + MARK)
    path, line = write(cfgdir, lines)
    assert_refused(path, line, "hostname is set twice in [server]")


def test_duplicate_key_in_repeated_section_is_refused(cfgdir, certs):
    lines = good_config(cfgdir, certs) + ["", "[server]", "user = nobody " + MARK]
    path, line = write(cfgdir, lines)
    assert_refused(path, line, "user is set twice")


@pytest.mark.parametrize("value", ["127.0.0.2", "127.0.0.2:", "localhost"])
def test_listen_address_without_port_is_refused_with_line(cfgdir, certs, value):
    lines = good_config(cfgdir, certs)
    i = next(i for i, l in enumerate(lines) if l.startswith("pop3 = "))
    lines[i] = "pop3 = %s %s" % (value, MARK)
    path, line = write(cfgdir, lines)
    assert_refused(path, line, "listen address", "host:port")


@pytest.mark.parametrize("value", ["mail.example:110", "127.0.0.2:pop3", "127.0.0.2:70000"])
def test_listen_address_not_ip_and_port_is_refused_with_line(cfgdir, certs, value):
    lines = good_config(cfgdir, certs)
    i = next(i for i, l in enumerate(lines) if l.startswith("pop3 = "))
    lines[i] = "pop3 = %s %s" % (value, MARK)
    path, line = write(cfgdir, lines)
    assert_refused(path, line, "listen address")


def test_certificate_without_key_is_refused_with_line(cfgdir, certs):
    lines = good_config(cfgdir, certs)
    lines[-2] += " " + MARK
    del lines[-1]
    path, line = write(cfgdir, lines)
    assert_refused(path, line, "certificate has no key line after it")


def test_certificate_followed_by_certificate_is_refused(cfgdir, certs):
    lines = good_config(cfgdir, certs)
    cert_line, key_line = lines[-2], lines[-1]
    lines = lines[:-2] + [cert_line, cert_line + " " + MARK, key_line]
    path, line = write(cfgdir, lines)
    assert_refused(path, line, "certificate on line %d has no key line" % (line - 1))


def test_key_without_certificate_is_refused_with_line(cfgdir, certs):
    lines = good_config(cfgdir, certs)
    del lines[-2]
    lines[-1] += " " + MARK
    lines = [l for l in lines if not l.startswith("pop3s")]
    path, line = write(cfgdir, lines)
    assert_refused(path, line, "key must follow its certificate")


def test_missing_certificate_file_is_refused_naming_the_file(cfgdir, certs):
    missing = os.path.join(cfgdir, "no-such-cert.pem")
    lines = good_config(cfgdir, certs)
    lines[-2] = "certificate = %s %s" % (missing, MARK)
    path, line = write(cfgdir, lines)
    assert_refused(path, line, missing)


def test_missing_key_file_is_refused_naming_the_file(cfgdir, certs):
    missing = os.path.join(cfgdir, "no-such-key.pem")
    lines = good_config(cfgdir, certs)
    lines[-1] = "key = %s" % missing
    lines[-2] += " " + MARK
    path, line = write(cfgdir, lines)
    assert_refused(path, line, missing)


def test_key_not_matching_certificate_is_refused(cfgdir, certs):
    other = certs.issue("cfg-other-%d" % free_port(), ["DNS:other.test"])
    lines = good_config(cfgdir, certs)
    lines[-1] = "key = %s" % other[1]
    lines[-2] += " " + MARK
    path, line = write(cfgdir, lines)
    assert_refused(path, line, other[1], "mismatch")


def test_pop3s_without_certificate_is_refused(cfgdir, certs):
    lines = good_config(cfgdir, certs)[:-3]
    i = next(i for i, l in enumerate(lines) if l.startswith("pop3s = "))
    lines[i] += " " + MARK
    path, line = write(cfgdir, lines)
    assert_refused(path, line, "pop3s needs a certificate")


@pytest.mark.parametrize("key,value,words", [("plaintext_auth_loopback", "maybe", "yes or no"),
                                             ("log_level", "loud", "log_level"),
                                             ("workers", "0", "workers must be between"),
                                             ("workers", "two", "not a valid number"),
                                             ("data_dir", "relative/dir", "absolute")])
def test_bad_server_value_is_refused_with_line(cfgdir, certs, key, value, words):
    lines = good_config(cfgdir, certs)
    lines = [l for l in lines if not l.startswith(key + " ")]
    lines = with_line(lines, "server", "%s = %s %s" % (key, value, MARK))
    path, line = write(cfgdir, lines)
    assert_refused(path, line, words)


def test_syntax_error_is_refused_with_line(cfgdir, certs):
    lines = with_line(good_config(cfgdir, certs), "server", "this line has no equals " + MARK)
    path, line = write(cfgdir, lines)
    assert_refused(path, line, "syntax error")


def test_missing_config_file_is_refused_naming_it(cfgdir):
    path = os.path.join(cfgdir, "absent.conf")
    for r in (check(path), start(path)):
        assert r.returncode != 0
        assert path + ": cannot open" in r.stderr
