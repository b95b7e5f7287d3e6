"""`tern queue list|show|hold|release|delete|flush|retry` against a
running sender whose remote MX keeps answering 451 (retries an hour
apart, so only flush and retry bring the next attempt)."""
import pytest

from queue_helpers import Pair, token, wait_for


@pytest.fixture(scope="module")
def pair(base_dir, certs):
    p = Pair(base_dir, certs, sender_extra={"queue.retry_first": "1h", "queue.retry_max": "2h"})
    yield p
    p.stop()


def stuck_message(pair):
    """A message deferred once by a 451; returns (queue id, rcpt, fake)."""
    domain = "cli-%s.test" % token()
    fake = pair.fake(domain)
    rcpt = "user@" + domain
    fake.rcpt_replies[rcpt] = [(451, "4.3.0 try again later please")]
    pair.send(pair.alias(rcpt))
    assert wait_for(lambda: pair.a.sql("SELECT attempts FROM queue WHERE recipient = '%s'"
                                       % rcpt) == "1")
    qid = pair.a.sql("SELECT queue_id FROM queue WHERE recipient = '%s'" % rcpt)
    return qid, rcpt, fake


def test_queue_list_shows_id_sender_recipient_attempts_error(pair):
    qid, rcpt, _ = stuck_message(pair)
    out = pair.a.cli("queue", "list").stdout
    line = [l for l in out.splitlines() if l.startswith(qid)][0]
    assert "alice@a.test" in line and rcpt in line
    assert "451 4.3.0 try again later please" in line
    assert " 1 " in line
    assert "recipients queued" in out or "recipient queued" in out


def test_queue_show_prints_every_field(pair):
    qid, rcpt, _ = stuck_message(pair)
    out = pair.a.cli("queue", "show", qid).stdout
    assert "queue_id: " + qid in out
    assert "recipient: " + rcpt in out
    assert "attempts: 1" in out
    assert "last_error: host mx." in out


def test_queue_show_unknown_id_fails(pair):
    r = pair.a.cli("queue", "show", "nosuchid", check=False)
    assert r.returncode == 1 and "no queued message" in r.stderr


def test_queue_retry_makes_a_new_attempt_now(pair):
    qid, rcpt, fake = stuck_message(pair)
    fake.rcpt_replies[rcpt] = [(250, "ok")]
    assert pair.a.cli("queue", "retry", qid).stdout.strip() == "ok"
    assert wait_for(lambda: fake.recipients() == [rcpt])
    assert wait_for(lambda: pair.queued("WHERE queue_id = '%s'" % qid) == 0)


def test_queue_flush_retries_every_deferred_message(pair):
    (q1, r1, f1), (q2, r2, f2) = stuck_message(pair), stuck_message(pair)
    f1.rcpt_replies[r1] = [(250, "ok")]
    f2.rcpt_replies[r2] = [(250, "ok")]
    pair.a.cli("queue", "flush")
    assert wait_for(lambda: f1.recipients() == [r1] and f2.recipients() == [r2])


def test_queue_hold_stops_delivery_and_release_resumes(pair):
    qid, rcpt, fake = stuck_message(pair)
    fake.rcpt_replies[rcpt] = [(250, "ok")]
    assert "held 1 recipient" in pair.a.cli("queue", "hold", qid).stdout
    pair.a.cli("queue", "flush")
    assert not wait_for(lambda: fake.recipients(), timeout=2)
    assert pair.a.sql("SELECT held FROM queue WHERE queue_id = '%s'" % qid) == "1"
    assert "released 1 recipient" in pair.a.cli("queue", "release", qid).stdout
    pair.a.cli("queue", "retry", qid)
    assert wait_for(lambda: fake.recipients() == [rcpt])


def test_queue_delete_removes_rows_and_blob_reference(pair):
    qid, rcpt, _ = stuck_message(pair)
    blob = pair.a.sql("SELECT blob_id FROM queue WHERE queue_id = '%s'" % qid)
    assert "deleted 1 recipient" in pair.a.cli("queue", "delete", qid).stdout
    assert pair.queued("WHERE queue_id = '%s'" % qid) == 0
    assert pair.a.sql("SELECT count(*) FROM blobs WHERE id = %s" % blob) == "0"
    assert pair.a.cli("queue", "delete", qid, check=False).returncode == 1


def test_status_shows_queue_size(pair):
    stuck_message(pair)
    out = pair.a.cli("status").stdout
    assert "queued=" in out and "queue_deliveries=" in out


def test_queue_help_lists_every_subcommand(pair):
    out = pair.a.cli("queue", "--help").stdout
    for verb in ("list", "show", "flush", "retry", "hold", "release", "delete"):
        assert "queue " + verb in out
