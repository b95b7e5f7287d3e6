"""pytest fixtures for a test DNS server (dns_server.py).

Import them into a test module:

    from dns_fixture import dns_server, TEST_ZONE   # noqa: F401

`dns_server` is one running DnsServer per test module, loaded with
TEST_ZONE; tests may add records or faults to it (use names of their own,
since the server is shared within the module). `make_dns_server` builds
more servers, each stopped at the end of the test.
"""
import pytest

from dns_server import DnsServer

# The test domains of DESIGN.md ("a.test on 127.0.0.2, b.test on
# 127.0.0.3"), with the shapes of MX sets a mail server meets.
TEST_ZONE = """
a.test.              60 IN MX   10 mx1.a.test.
a.test.              60 IN MX   20 mx2.a.test.
a.test.              60 IN TXT  "v=spf1 ip4:127.0.0.2 -all"
mx1.a.test.          60 IN A    127.0.0.2
mx1.a.test.          60 IN AAAA ::1
mx2.a.test.          60 IN A    127.0.0.12
b.test.              60 IN MX   10 mail.b.test.
mail.b.test.         60 IN A    127.0.0.3
2.0.0.127.in-addr.arpa. 60 IN PTR mx1.a.test.
3.0.0.127.in-addr.arpa. 60 IN PTR mail.b.test.
"""


@pytest.fixture(scope="module")
def dns_server():
    server = DnsServer(TEST_ZONE).start()
    yield server
    server.stop()


@pytest.fixture
def make_dns_server():
    servers = []

    def make(zone="", **kwargs):
        server = DnsServer(zone, **kwargs).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()
