"""kill -9 of the sender in the middle of a delivery, then a restart:
every recipient gets exactly one copy. The remote MX holds back its reply
to the final dot; the kill drops the connection, so (as RFC 5321
4.1.1.4 asks of a server) it discards the message, and the restarted
sender delivers it again from the queue."""
import threading

import pytest

from queue_helpers import Pair, token, wait_for


@pytest.fixture
def pair(base_dir, certs):
    p = Pair(base_dir, certs)
    yield p
    p.stop()


def test_kill9_mid_delivery_then_restart_delivers_each_recipient_once(pair):
    domain = "crash-%s.test" % token()
    fake = pair.fake(domain)
    fake.stall = threading.Event()
    rcpts = ["r%d@%s" % (i, domain) for i in range(3)]
    tok = pair.send(pair.alias(*rcpts, "bob@b.test"))
    assert wait_for(fake.stalled.is_set)
    assert wait_for(lambda: pair.inbox(pair.b, "bob@b.test", tok))
    # b stores bob's copy before a drops bob's row: a kill in between
    # would rightly send it again
    assert wait_for(lambda: pair.queued("WHERE recipient = 'bob@b.test'") == 0)
    pair.a.kill9()
    assert wait_for(lambda: fake.discarded == 1)
    fake.stall = None
    pair.a.start()
    assert wait_for(lambda: sorted(fake.recipients()) == rcpts, timeout=30)
    assert wait_for(lambda: pair.queued() == 0)
    assert len(fake.messages) == 1
    assert len(pair.inbox(pair.b, "bob@b.test", tok)) == 1
    assert not pair.bounces(tok)


def test_kill9_with_mail_queued_but_not_yet_sent_delivers_after_restart(pair):
    domain = "crash2-%s.test" % token()
    fake = pair.fake(domain)
    fake.rcpt_replies["x@" + domain] = [(451, "4.0.0 later")]
    tok = pair.send(pair.alias("x@" + domain))
    # Retries come a second apart here, so a slow poll can miss attempts == 1.
    assert wait_for(lambda: int(pair.a.sql("SELECT coalesce(max(attempts), 0) FROM queue")) >= 1)
    pair.a.kill9()
    fake.rcpt_replies["x@" + domain] = [(250, "ok")]
    pair.a.start()
    assert wait_for(lambda: fake.recipients() == ["x@" + domain], timeout=30)
    assert tok.encode() in fake.messages[0][2]
