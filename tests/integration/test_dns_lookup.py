"""src/dns end to end: `tern dns ...` against the test DNS server.

Every lookup goes through libunbound forwarding to dns_server.py, so these
tests cover the loop integration, the status mapping, the rdata parsers on
real answers, the timeout, and the exit codes (0 found, 1 not found, 2
temporary failure). Output is one record a line, then a status line.
"""
import os
import subprocess

import pytest

from conftest import SANITIZER_MARKERS, TERN
from dns_fixture import dns_server  # noqa: F401  (a fixture)

ZONE = """
multi.test.          60 IN MX   20 mx20.multi.test.
multi.test.          60 IN MX   10 mx10a.multi.test.
multi.test.          60 IN MX   30 mx30.multi.test.
multi.test.          60 IN MX   10 mx10b.multi.test.
multi.test.          60 IN MX   10 mx10c.multi.test.
null.test.           60 IN MX   0 .
nomx.test.           60 IN A    127.0.0.9
both.test.           60 IN A    127.0.0.7
both.test.           60 IN A    127.0.0.8
both.test.           60 IN AAAA 2001:db8::7
v4only.test.         60 IN A    127.0.0.6
alias.test.          60 IN CNAME both.test.
spf.test.            60 IN TXT  "v=spf1 ip4:127.0.0.0/8 " "include:_spf.a.test " "-all"
spf.test.            60 IN TXT  "second record"
7.0.0.127.in-addr.arpa. 60 IN PTR both.test.
7.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa. 60 IN PTR both.test.
_25._tcp.mx.tlsa.test. 60 IN TLSA 3 1 1 8cb1a4a3a5e0f1e2d3c4b5a6978877665544332211000ffeeddccbbaa9988776
_25._tcp.mx.tlsa.test. 60 IN TLSA 2 0 1 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
"""


@pytest.fixture(scope="module")
def dns(dns_server):  # noqa: F811
    dns_server.add_zone(ZONE)
    dns_server.fail("servfail.test")
    dns_server.timeout("slow.test")
    # rdata that libunbound passes on but that is not what the type says
    dns_server.garbage("badtxt.test", "TXT", b"\x0ctoo short")
    dns_server.garbage("_25._tcp.badtlsa.test", "TLSA", b"\x03\x01")
    dns_server.garbage("bada.test", "A", b"\x7f\x00\x01")
    return dns_server


def tern_dns(server, *args, timeout="5"):
    r = subprocess.run([TERN, "dns", *args, "--resolver", server.address, "--timeout", timeout],
                       capture_output=True, text=True, timeout=60)
    for marker in SANITIZER_MARKERS:
        assert marker not in r.stderr, r.stderr
    lines = r.stdout.splitlines()
    assert lines and lines[-1].startswith("status="), r.stdout + r.stderr
    return r.returncode, lines[:-1], lines[-1]


def test_mx_sorted_by_preference_equal_ones_shuffled(dns):
    orders = set()
    for _ in range(12):
        rc, records, status = tern_dns(dns, "mx", "multi.test")
        assert rc == 0 and status.startswith("status=ok ")
        prefs = [int(r.split()[1]) for r in records]
        assert prefs == [10, 10, 10, 20, 30]
        hosts = [r.split()[2] for r in records]
        assert set(hosts[:3]) == {"mx10a.multi.test", "mx10b.multi.test", "mx10c.multi.test"}
        assert hosts[3:] == ["mx20.multi.test", "mx30.multi.test"]
        orders.add(tuple(hosts[:3]))
    # 12 shuffles of 3 hosts all alike has a chance of (1/6)^11
    assert len(orders) > 1


def test_null_mx_reported(dns):
    rc, records, status = tern_dns(dns, "mx", "null.test")
    assert rc == 0
    assert records[0] == "null MX: null.test accepts no mail (RFC 7505)"
    assert records[1:] == ["MX 0 ."]


def test_no_mx_is_nodata_exit_1(dns):
    rc, records, status = tern_dns(dns, "mx", "nomx.test")
    assert (rc, records) == (1, [])
    assert status.startswith("status=nodata ")


def test_unknown_name_is_nxdomain_exit_1(dns):
    rc, records, status = tern_dns(dns, "mx", "nosuch.test")
    assert (rc, records) == (1, [])
    assert status.startswith("status=nxdomain ")


def test_a_and_aaaa_together_ipv6_first(dns):
    rc, records, status = tern_dns(dns, "a", "both.test")
    assert rc == 0
    assert records[0] == "AAAA 2001:db8::7"
    assert sorted(records[1:]) == ["A 127.0.0.7", "A 127.0.0.8"]
    assert "dnssec=insecure" in status


def test_a_only_ipv4_still_ok(dns):
    rc, records, _ = tern_dns(dns, "a", "v4only.test")
    assert (rc, records) == (0, ["A 127.0.0.6"])


def test_a_follows_cname(dns):
    rc, records, _ = tern_dns(dns, "a", "alias.test")
    assert rc == 0 and "AAAA 2001:db8::7" in records and "A 127.0.0.7" in records


def test_txt_keeps_strings_and_records_apart(dns):
    rc, records, status = tern_dns(dns, "txt", "spf.test")
    assert rc == 0 and "count=2" in status
    assert sorted(records) == sorted([
        'TXT "v=spf1 ip4:127.0.0.0/8 " "include:_spf.a.test " "-all"',
        'TXT "second record"'])


def test_ptr_ipv4_and_ipv6(dns):
    assert tern_dns(dns, "ptr", "127.0.0.7")[:2] == (0, ["PTR both.test"])
    assert tern_dns(dns, "ptr", "2001:db8::7")[:2] == (0, ["PTR both.test"])
    assert tern_dns(dns, "ptr", "127.0.0.99")[0] == 1


def test_ptr_of_non_address_is_usage_error(dns):
    r = subprocess.run([TERN, "dns", "ptr", "not-an-ip", "--resolver", dns.address],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "not an IP address" in r.stderr


def test_tlsa_records_raw(dns):
    rc, records, _ = tern_dns(dns, "tlsa", "mx.tlsa.test", "--port", "25")
    assert rc == 0
    assert sorted(records) == sorted([
        "TLSA 3 1 1 8cb1a4a3a5e0f1e2d3c4b5a6978877665544332211000ffeeddccbbaa9988776",
        "TLSA 2 0 1 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"])
    assert tern_dns(dns, "tlsa", "mx.tlsa.test", "--port", "465")[0] == 1


def test_servfail_is_tempfail_exit_2(dns):
    rc, records, status = tern_dns(dns, "mx", "servfail.test")
    assert (rc, records) == (2, [])
    assert status.startswith("status=tempfail ")


def test_no_answer_times_out_exit_2(dns):
    rc, records, status = tern_dns(dns, "mx", "slow.test", timeout="2")
    assert (rc, records) == (2, [])
    assert status.startswith("status=tempfail ") and 'why="timeout"' in status


@pytest.mark.parametrize("args", [("txt", "badtxt.test"), ("tlsa", "badtlsa.test"),
                                  ("a", "bada.test")])
def test_malformed_rdata_is_tempfail_not_crash(dns, args):
    rc, records, status = tern_dns(dns, *args)
    assert (rc, records) == (2, [])
    assert 'why="malformed answer"' in status


def test_invalid_name_is_permfail_exit_1(dns):
    rc, _, status = tern_dns(dns, "mx", "bad..name.test")
    assert rc == 1 and status.startswith("status=permfail ")


def test_unusable_resolver_is_refused(dns):
    r = subprocess.run([TERN, "dns", "mx", "a.test", "--resolver", "not-an-ip"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "not-an-ip" in r.stderr


ROOT_KEY = "/usr/share/dns/root.key"
needs_root_key = pytest.mark.skipif(not os.path.exists(ROOT_KEY), reason="needs dns-root-data")


@needs_root_key
def test_trust_anchor_test_names_stay_insecure(dns):
    rc, records, status = tern_dns(dns, "mx", "a.test", "--trust-anchor", ROOT_KEY)
    assert rc == 0 and len(records) == 2 and "dnssec=insecure" in status


@needs_root_key
def test_trust_anchor_unsigned_answer_for_signed_zone_is_bogus_exit_2(dns):
    # the test server cannot sign: the root's chain of trust fails
    rc, records, status = tern_dns(dns, "mx", "example.com", "--trust-anchor", ROOT_KEY)
    assert (rc, records) == (2, [])
    assert "status=tempfail dnssec=bogus" in status and "why=" in status


def test_unreadable_trust_anchor_is_refused(dns):
    r = subprocess.run([TERN, "dns", "mx", "a.test", "--resolver", dns.address,
                        "--trust-anchor", "/nonexistent/root.key"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "/nonexistent/root.key" in r.stderr


def test_shared_zone_from_fixture(dns):
    rc, records, _ = tern_dns(dns, "mx", "a.test")
    assert (rc, records) == (0, ["MX 10 mx1.a.test", "MX 20 mx2.a.test"])
