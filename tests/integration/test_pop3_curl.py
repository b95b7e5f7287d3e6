"""curl as a POP3 client: pop3:// (plain and with STLS) and pop3s://."""
import shutil
import subprocess

import pytest

from pop3_helpers import deliver, message, new_user

pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="curl not installed")


def curl(t, url, user, password, *extra):
    r = subprocess.run(["curl", "-sS", "--max-time", "30", "--user", "%s:%s" % (user, password),
                        *extra, url], capture_output=True, timeout=60)
    return r


@pytest.fixture(scope="module")
def mailbox(tern):
    user, password = new_user(tern)
    bodies = [message("curl %d" % i, b"curl body %d\r\n.dot line\r\n" % i) for i in range(2)]
    for b in bodies:
        deliver(tern, user, b)
    return user, password, bodies


def test_curl_pop3_lists_messages(tern, mailbox):
    user, password, bodies = mailbox
    r = curl(tern, "pop3://%s:%d/" % (tern.host, tern.ports["pop3"]), user, password)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.decode().split("\r\n")
    assert [l.split()[0] for l in lines if l] == ["1", "2"]


def test_curl_pop3_fetches_message(tern, mailbox):
    user, password, bodies = mailbox
    r = curl(tern, "pop3://%s:%d/2" % (tern.host, tern.ports["pop3"]), user, password)
    assert r.returncode == 0, r.stderr
    assert r.stdout.endswith(bodies[1])


def test_curl_pop3_with_stls_fetches_message(tern, mailbox):
    user, password, bodies = mailbox
    r = curl(tern, "pop3://%s:%d/1" % (tern.host, tern.ports["pop3"]), user, password,
             "--ssl-reqd", "--cacert", tern.certs.ca)
    assert r.returncode == 0, r.stderr
    assert r.stdout.endswith(bodies[0])


def test_curl_pop3s_lists_messages(tern, mailbox):
    user, password, bodies = mailbox
    r = curl(tern, "pop3s://%s:%d/" % (tern.host, tern.ports["pop3s"]), user, password,
             "--cacert", tern.certs.ca)
    assert r.returncode == 0, r.stderr
    assert [l.split()[0] for l in r.stdout.decode().split("\r\n") if l] == ["1", "2"]


def test_curl_pop3s_fetches_message(tern, mailbox):
    user, password, bodies = mailbox
    r = curl(tern, "pop3s://%s:%d/1" % (tern.host, tern.ports["pop3s"]), user, password,
             "--cacert", tern.certs.ca)
    assert r.returncode == 0, r.stderr
    assert r.stdout.endswith(bodies[0])


def test_curl_pop3s_with_hostname_verifies_certificate(tern, mailbox):
    user, password, bodies = mailbox
    r = curl(tern, "pop3s://%s:%d/1" % (tern.hostname, tern.ports["pop3s"]), user, password,
             "--cacert", tern.certs.ca,
             "--resolve", "%s:%d:%s" % (tern.hostname, tern.ports["pop3s"], tern.host))
    assert r.returncode == 0, r.stderr
    assert r.stdout.endswith(bodies[0])


def test_curl_pop3s_without_ca_fails_verification(tern, mailbox):
    user, password, _ = mailbox
    r = curl(tern, "pop3s://%s:%d/1" % (tern.host, tern.ports["pop3s"]), user, password)
    assert r.returncode != 0


def test_curl_pop3_wrong_password_fails(tern, mailbox):
    user, _, _ = mailbox
    r = curl(tern, "pop3://%s:%d/1" % (tern.host, tern.ports["pop3"]), user, "wrong-password")
    assert r.returncode != 0


def test_curl_pop3_dele_request_deletes_message(tern):
    user, password = new_user(tern)
    deliver(tern, user, message("curl dele"))
    deliver(tern, user, message("curl keep"))
    url = "pop3://%s:%d/1" % (tern.host, tern.ports["pop3"])
    r = curl(tern, url, user, password, "-X", "DELE", "-I")
    assert r.returncode == 0, r.stderr
    r = curl(tern, "pop3://%s:%d/" % (tern.host, tern.ports["pop3"]), user, password)
    assert [l.split()[0] for l in r.stdout.decode().split("\r\n") if l] == ["1"]
    r = curl(tern, url, user, password)
    assert b"Subject: curl keep" in r.stdout
