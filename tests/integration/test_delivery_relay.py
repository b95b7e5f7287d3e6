"""[relay] host: every outbound message goes to one smarthost, with AUTH
PLAIN from [relay] username/password_file, whatever the recipient domain
(no MX lookup)."""
import base64
import os

import pytest

from conftest import Tern, check_sanitizers, populate
from dns_server import DnsServer
from fake_smtp import FakeSmtp
from queue_helpers import next_ip, token, wait_for


@pytest.fixture(scope="module", params=["AUTH PLAIN LOGIN", "AUTH LOGIN"])
def relay(base_dir, certs, request):
    dns = DnsServer("").start()     # knows no domain: the relay needs no MX
    ip = next_ip()
    from conftest import free_port
    port = free_port(ip)
    fake = FakeSmtp(ip, port, ehlo=("PIPELINING", request.param)).start()
    pw = os.path.join(base_dir, "relay-pw-" + token())
    with open(pw, "w") as f:
        f.write("relay-secret-9\n")
    os.chmod(pw, 0o644)
    t = Tern(base_dir, certs, extra={"dns.resolver": dns.address,
                                     "relay.host": "%s:%d" % (ip, port),
                                     "relay.username": "tern@relay.test",
                                     "relay.password_file": pw, "relay.tls": "none"})
    populate(t)
    t.start()
    yield t, fake
    t.stop()
    check_sanitizers(t)
    fake.stop()
    dns.stop()


def test_relay_gets_all_mail_with_auth(relay):
    t, fake = relay
    src = "fwd-%s@a.test" % token()
    t.cli("alias", "add", src, "x@nowhere-%s.test" % token(), "y@elsewhere.test")
    import smtplib
    with smtplib.SMTP(t.host, t.ports["smtp"], timeout=30) as s:
        s.sendmail("alice@a.test", [src], b"Subject: relay\r\n\r\nhi\r\n")
    assert wait_for(lambda: len(fake.recipients()) == 2)
    assert fake.auth
    if fake.auth[0].startswith("PLAIN "):
        assert base64.b64decode(fake.auth[0][6:]) == b"\0tern@relay.test\0relay-secret-9"
    else:   # the relay offers only LOGIN
        user, password = fake.auth[0].split()[1:]
        assert base64.b64decode(user) == b"tern@relay.test"
        assert base64.b64decode(password) == b"relay-secret-9"
    assert "relay-secret-9" not in t.log()
    assert wait_for(lambda: t.sql("SELECT count(*) FROM queue") == "0")
