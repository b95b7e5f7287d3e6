"""Queue lifetime and delay warnings: with delay_warning 1s, a recipient
whose MX keeps answering 451 gets one delay warning (Action: delayed),
and, with lifetime 6s, then one failure DSN when the lifetime is over."""
import pytest

from queue_helpers import Pair, delivery_status, token, wait_for


def make_pair(base_dir, certs, lifetime):
    return Pair(base_dir, certs, sender_extra={"queue.lifetime": lifetime,
                                               "queue.delay_warning": "1s",
                                               "queue.retry_max": "1s"})


@pytest.fixture
def pair(base_dir, certs):
    p = make_pair(base_dir, certs, "6s")
    yield p
    p.stop()


@pytest.fixture
def long_pair(base_dir, certs):
    """A lifetime long enough that a slow machine cannot reach it mid-test."""
    p = make_pair(base_dir, certs, "1h")
    yield p
    p.stop()


def actions(pair, tok):
    return [delivery_status(m)[1]["Action"] for m in pair.bounces(tok)]


def test_delay_warning_once_then_delivered(long_pair):
    pair = long_pair
    domain = "warn-%s.test" % token()
    fake = pair.fake(domain)
    rcpt = "slow@" + domain
    fake.rcpt_replies[rcpt] = [(451, "4.7.1 not now")]
    tok = pair.send(pair.alias(rcpt))
    assert wait_for(lambda: "delayed" in actions(pair, tok), timeout=30)
    warning = pair.bounces(tok)[0]
    assert "Delayed" in warning["Subject"]
    assert "Will-Retry-Until" in delivery_status(warning)[1]
    fake.rcpt_replies[rcpt] = [(250, "ok")]
    assert wait_for(lambda: fake.recipients() == [rcpt], timeout=30)
    assert actions(pair, tok) == ["delayed"]
    assert pair.a.sql("SELECT count(*) FROM queue WHERE recipient = '%s'" % rcpt) == "0"


def test_lifetime_expiry_bounces_with_last_error(pair):
    domain = "expire-%s.test" % token()
    fake = pair.fake(domain)
    rcpt = "never@" + domain
    fake.rcpt_replies[rcpt] = [(451, "4.2.1 mailbox busy")]
    tok = pair.send(pair.alias(rcpt))
    assert wait_for(lambda: "failed" in actions(pair, tok), timeout=30)
    assert sorted(actions(pair, tok)) == ["delayed", "failed"]
    failed = [m for m in pair.bounces(tok) if delivery_status(m)[1]["Action"] == "failed"][0]
    rg = delivery_status(failed)[1]
    assert rg["Status"] == "4.2.1"
    assert "mailbox busy" in rg["Diagnostic-Code"]
    assert "gave up after" in failed.get_body(("plain",)).get_content()
    assert pair.a.sql("SELECT count(*) FROM queue WHERE recipient = '%s'" % rcpt) == "0"
