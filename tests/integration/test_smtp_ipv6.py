"""Listeners on IPv4 and IPv6 at once; an IPv6 client's Received header."""
import smtplib
import socket

import pytest



def ipv6_loopback_works():
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def free_v6_port():
    with socket.socket(socket.AF_INET6) as s:
        s.bind(("::1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(not ipv6_loopback_works(), reason="no IPv6 loopback here")
def test_smtp_listens_on_ipv4_and_ipv6_and_records_the_ipv6_peer(fresh):
    t = fresh()
    v6 = free_v6_port()
    t.write_config(extra={"server.plaintext_auth_loopback": "yes",
                          "listen.smtp": "%s:%d, [::1]:%d" % (t.host, t.ports["smtp"], v6)})
    t.start()
    for host, port in ((t.host, t.ports["smtp"]), ("::1", v6)):
        with smtplib.SMTP(host, port, timeout=10) as s:
            s.ehlo("v6.client.test")
            s.sendmail("x@example.org", ["alice@a.test"], b"Subject: %s\r\n\r\nhi\r\n" % host.encode())
    prefixes = t.sql("SELECT CAST(b.data AS TEXT) FROM messages m JOIN blobs b ON b.id = m.blob_id "
                     "ORDER BY m.id")
    assert "from v6.client.test ([127.0.0.1])" in prefixes
    assert "from v6.client.test ([IPv6:::1])" in prefixes
    assert "address=[::1]:%d" % v6 in t.log()
