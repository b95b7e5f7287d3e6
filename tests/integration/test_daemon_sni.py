"""SNI: with several certificates in [tls], each TLS connection gets the
one naming the host the client asked for; the first is the default."""
import pytest

from conftest import PASSWORDS
from pop3_helpers import PopRaw, cert_serial, der_serial, peer_cert


@pytest.fixture
def two_certs(fresh, certs, request):
    tag = request.node.name[-20:]
    a = certs.issue("mail.a.test-sni-" + tag, ["DNS:mail.a.test", "IP:127.0.0.2"])
    b = certs.issue("mail.b.test-sni-" + tag, ["DNS:mail.b.test", "DNS:*.b.test"])
    t = fresh(certificates=[a, b])
    t.start()
    return t, cert_serial(a[0]), cert_serial(b[0])


def serial_for(t, name, port="pop3s"):
    ctx = t.certs.client_context()
    der, _ = peer_cert(t.host, t.ports[port], ctx, name)
    return der_serial(der)


def test_sni_selects_certificate_per_server_name(two_certs):
    t, serial_a, serial_b = two_certs
    assert serial_a != serial_b
    assert serial_for(t, "mail.a.test") == serial_a
    assert serial_for(t, "mail.b.test") == serial_b


def test_sni_matches_wildcard_certificate(two_certs):
    t, _, serial_b = two_certs
    assert serial_for(t, "pop.b.test") == serial_b


def test_sni_name_is_case_insensitive(two_certs):
    t, _, serial_b = two_certs
    ctx = t.certs.client_context()
    ctx.check_hostname = False
    der, _ = peer_cert(t.host, t.ports["pop3s"], ctx, "MAIL.B.TEST")
    assert der_serial(der) == serial_b


def test_sni_unknown_name_gets_default_certificate(two_certs):
    t, serial_a, _ = two_certs
    ctx = t.certs.client_context(hostname_check=False)
    der, _ = peer_cert(t.host, t.ports["pop3s"], ctx, "unknown.example")
    assert der_serial(der) == serial_a


def test_no_sni_gets_default_certificate(two_certs):
    t, serial_a, _ = two_certs
    ctx = t.certs.client_context(hostname_check=False)
    # an IP literal as server_hostname sends no SNI extension
    der, _ = peer_cert(t.host, t.ports["pop3s"], ctx, t.host)
    assert der_serial(der) == serial_a


def test_sni_applies_to_stls(two_certs):
    t, serial_a, serial_b = two_certs
    for name, serial in (("mail.b.test", serial_b), ("mail.a.test", serial_a)):
        c = PopRaw(t.host, t.ports["pop3"])
        assert c.cmd("STLS").startswith("+OK")
        c.starttls(t.certs.client_context(), name)
        assert der_serial(c.sock.getpeercert(binary_form=True)) == serial
        c.login("alice@a.test", PASSWORDS["alice@a.test"])
        assert c.cmd("QUIT").startswith("+OK")


def test_sni_b_certificate_session_works_end_to_end(two_certs):
    t, _, serial_b = two_certs
    c = PopRaw(t.host, t.ports["pop3s"], tls_context=t.certs.client_context(),
               server_hostname="mail.b.test")
    assert c.greeting.startswith("+OK")
    c.login("bob@a.test", PASSWORDS["bob@a.test"])
    assert c.cmd("STAT").startswith("+OK")
    assert c.cmd("QUIT").startswith("+OK")
