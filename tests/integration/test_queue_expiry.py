"""Queue lifetime and delay warnings: with delay_warning 1s and lifetime
6s, a recipient whose MX keeps answering 451 gets one delay warning
(Action: delayed), then one failure DSN when the lifetime is over."""
import pytest

from queue_helpers import Pair, delivery_status, token, wait_for


@pytest.fixture(scope="module")
def pair(base_dir, certs):
    p = Pair(base_dir, certs, sender_extra={"queue.lifetime": "6s", "queue.delay_warning": "1s",
                                            "queue.retry_max": "1s"})
    yield p
    p.stop()


def actions(pair, tok):
    return [delivery_status(m)[1]["Action"] for m in pair.bounces(tok)]


def test_delay_warning_once_then_delivered(pair):
    domain = "warn-%s.test" % token()
    fake = pair.fake(domain)
    rcpt = "slow@" + domain
    fake.rcpt_replies[rcpt] = [(451, "4.7.1 not now")]
    tok = pair.send(pair.alias(rcpt))
    assert wait_for(lambda: actions(pair, tok) == ["delayed"], timeout=15)
    warning = pair.bounces(tok)[0]
    assert "Delayed" in warning["Subject"]
    assert "Will-Retry-Until" in delivery_status(warning)[1]
    fake.rcpt_replies[rcpt] = [(250, "ok")]
    assert wait_for(lambda: fake.recipients() == [rcpt], timeout=15)
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
