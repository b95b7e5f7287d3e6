"""[delivery] tls = verify: STARTTLS is required and the MX certificate
must chain to a trusted CA ([delivery] ca_file) and name the MX host."""
import pytest

from queue_helpers import Pair, token, wait_for


@pytest.fixture(scope="module")
def pair(base_dir, certs):
    p = Pair(base_dir, certs, sender_extra={"delivery.tls": "verify",
                                            "delivery.ca_file": certs.ca,
                                            "queue.retry_first": "1h",
                                            "queue.retry_max": "2h"})
    yield p
    p.stop()


def test_verified_tls_to_b_test_delivers(pair):
    tok = pair.send(pair.alias("bob@b.test"))
    assert wait_for(lambda: pair.inbox(pair.b, "bob@b.test", tok))
    assert "ESMTPS" in pair.inbox(pair.b, "bob@b.test", tok)[0].get_all("Received")[0]


def test_mx_without_starttls_is_deferred_not_sent_in_clear(pair):
    domain = "notls-%s.test" % token()
    fake = pair.fake(domain)
    pair.send(pair.alias("p@" + domain))
    assert wait_for(lambda: pair.a.sql("SELECT attempts FROM queue WHERE recipient = "
                                       "'p@%s'" % domain) == "1")
    assert fake.messages == []
    assert "STARTTLS" in pair.a.sql("SELECT last_error FROM queue WHERE recipient = "
                                    "'p@%s'" % domain)
