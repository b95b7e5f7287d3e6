"""Recipient handling: several recipients in one transaction, aliases,
plus-addressing, catch-all, remote alias targets, duplicates, and the
rejections (unknown user, relay denied, too many recipients)."""
import smtplib

import pytest

from smtp_helpers import (connect, count, dot_stuff, make_message, messages_with_token, pop_find,
                          queue_id, split_trace, token)


def send(t, rcpts, body, sender="sender@example.org"):
    """Sends with smtplib; returns the queue id from the 250 reply."""
    with smtplib.SMTP(t.host, t.ports["smtp"], timeout=30) as s:
        s.ehlo("client.example.org")
        s.mail(sender)
        for rcpt in rcpts:
            code, text = s.rcpt(rcpt)
            assert code == 250, (rcpt, code, text)
        code, text = s.data(body)
        assert code == 250, text
        return queue_id(text.decode())


def test_three_recipients_get_one_blob_row_and_three_messages(tern):
    tok = token()
    body = make_message(tok, to="alice@a.test, bob@a.test, carol@a.test")
    qid = send(tern, ["alice@a.test", "bob@a.test", "carol@a.test"], body)
    rows = tern.sql("SELECT blob_id FROM messages WHERE queue_id = '%s'" % qid).split()
    assert len(rows) == 3
    assert len(set(rows)) == 1, "every recipient shares one blob"
    blob_id = rows[0]
    assert tern.sql("SELECT refs FROM blobs WHERE id = %s" % blob_id) == "3"
    assert count(tern, "blobs", "WHERE instr(data, CAST('%s' AS BLOB)) > 0" % tok) == 1
    for user in ("alice@a.test", "bob@a.test", "carol@a.test"):
        msgs = pop_find(tern, user, tok, delete=True)
        assert len(msgs) == 1
        _, delivered_to, _, rest = split_trace(msgs[0])
        assert delivered_to == user
        assert rest == body


def test_large_message_to_three_recipients_is_one_blob_file(tern):
    tok = token()
    body = make_message(tok, body=b"".join(b"%06d %s\r\n" % (i, b"z" * 90) for i in range(1000)))
    assert len(body) > 64 * 1024
    qid = send(tern, ["alice@a.test", "bob@a.test", "carol@a.test"], body)
    blob_ids = set(tern.sql("SELECT blob_id FROM messages WHERE queue_id = '%s'" % qid).split())
    assert len(blob_ids) == 1
    blob_id = blob_ids.pop()
    assert tern.sql("SELECT data IS NULL, file IS NOT NULL, refs FROM blobs WHERE id = %s"
                    % blob_id) == "1|1|3"
    for user in ("alice@a.test", "bob@a.test", "carol@a.test"):
        msgs = pop_find(tern, user, tok, delete=True)
        assert len(msgs) == 1 and split_trace(msgs[0])[3] == body


def test_alias_team_reaches_alice_and_bob_not_carol(tern):
    tok = token()
    body = make_message(tok, to="team@a.test")
    send(tern, ["team@a.test"], body)
    for user in ("alice@a.test", "bob@a.test"):
        msgs = pop_find(tern, user, tok, delete=True)
        assert len(msgs) == 1
        _, delivered_to, _, rest = split_trace(msgs[0])
        assert delivered_to == "team@a.test"
        assert rest == body
    assert pop_find(tern, "carol@a.test", tok) == []


def test_alias_info_reaches_carol(tern):
    tok = token()
    send(tern, ["info@a.test"], make_message(tok, to="info@a.test"))
    msgs = pop_find(tern, "carol@a.test", tok, delete=True)
    assert len(msgs) == 1 and split_trace(msgs[0])[1] == "info@a.test"


def test_plus_address_reaches_alice_and_delivered_to_shows_it(tern):
    tok = token()
    body = make_message(tok, to="alice+news@a.test")
    send(tern, ["alice+news@a.test"], body)
    msgs = pop_find(tern, "alice@a.test", tok, delete=True)
    assert len(msgs) == 1
    return_path, delivered_to, received, rest = split_trace(msgs[0])
    assert return_path == "<sender@example.org>"
    assert delivered_to == "alice+news@a.test"
    assert "for <alice+news@a.test>" in received
    assert rest == body


def test_plus_address_with_other_case_and_domain_case_reaches_alice(tern):
    tok = token()
    send(tern, ["Alice+Tag@A.TEST"], make_message(tok))
    assert len(pop_find(tern, "alice@a.test", tok, delete=True)) == 1


def test_catch_all_anything_at_other_test_reaches_carol(tern):
    tok = token()
    body = make_message(tok, to="anything@other.test")
    send(tern, ["anything@other.test"], body)
    msgs = pop_find(tern, "carol@a.test", tok, delete=True)
    assert len(msgs) == 1
    _, delivered_to, _, rest = split_trace(msgs[0])
    assert delivered_to == "anything@other.test"
    assert rest == body


def test_remote_alias_target_is_accepted_and_queued(tern):
    tok = token()
    qid = send(tern, ["fwd@a.test"], make_message(tok, to="fwd@a.test"))
    assert tern.sql("SELECT sender, recipient FROM queue WHERE queue_id = '%s'" % qid) == \
        "sender@example.org|someone@remote.test"
    blob = tern.sql("SELECT blob_id FROM queue WHERE queue_id = '%s'" % qid)
    assert int(tern.sql("SELECT count(*) FROM blobs WHERE id = %s AND "
                        "instr(data, CAST('%s' AS BLOB)) > 0" % (blob, tok))) == 1
    assert count(tern, "messages", "WHERE queue_id = '%s'" % qid) == 0


def test_remote_and_local_recipients_share_one_blob(tern):
    tok = token()
    qid = send(tern, ["fwd@a.test", "alice@a.test"], make_message(tok))
    queue_blob = tern.sql("SELECT blob_id FROM queue WHERE queue_id = '%s'" % qid)
    message_blob = tern.sql("SELECT blob_id FROM messages WHERE queue_id = '%s'" % qid)
    assert queue_blob == message_blob
    assert tern.sql("SELECT refs FROM blobs WHERE id = %s" % queue_blob) == "2"
    pop_find(tern, "alice@a.test", tok, delete=True)


def test_same_account_twice_in_one_transaction_gets_one_copy(tern):
    tok = token()
    qid = send(tern, ["alice@a.test", "ALICE@a.test", "alice+x@a.test", "team@a.test"],
               make_message(tok))
    assert count(tern, "messages", "WHERE queue_id = '%s'" % qid) == 2   # alice, bob
    msgs = pop_find(tern, "alice@a.test", tok, delete=True)
    assert len(msgs) == 1
    assert split_trace(msgs[0])[1] == "alice@a.test", "the first RCPT that reached alice"
    assert len(pop_find(tern, "bob@a.test", tok, delete=True)) == 1


def test_alias_and_its_target_in_one_transaction_gets_one_copy(tern):
    tok = token()
    send(tern, ["info@a.test", "carol@a.test"], make_message(tok))
    assert len(pop_find(tern, "carol@a.test", tok, delete=True)) == 1


def test_rcpt_unknown_user_gets_550_511(tern):
    r = connect(tern)
    assert r.cmd("MAIL FROM:<sender@example.org>")[0] == 250
    code, text = r.cmd("RCPT TO:<nobody@a.test>")
    assert code == 550 and text.startswith("550 5.1.1 ")
    code, text = r.cmd("RCPT TO:<nobody+tag@a.test>")
    assert code == 550 and text.startswith("550 5.1.1 ")
    r.close()


@pytest.mark.parametrize("rcpt", ["someone@remote.test", "alice@a.test.remote.test",
                                  "alice@mail.a.test", "alice@[127.0.0.2]"])
def test_rcpt_foreign_domain_without_auth_gets_554_571(tern, rcpt):
    r = connect(tern)
    assert r.cmd("MAIL FROM:<sender@example.org>")[0] == 250
    code, text = r.cmd("RCPT TO:<%s>" % rcpt)
    assert code == 554 and text.startswith("554 5.7.1 "), text
    r.close()


def test_relay_attempt_is_never_accepted_or_queued(tern):
    """Not an open relay: a foreign recipient is refused even when a local
    one in the same transaction is accepted, and nothing is queued for it."""
    tok = token()
    queued = count(tern, "queue")
    r = connect(tern)
    assert r.cmd("MAIL FROM:<spammer@example.org>")[0] == 250
    assert r.cmd("RCPT TO:<victim@remote.test>")[0] == 554
    code, text = r.cmd("DATA")
    assert code == 554 and text.startswith("554 5.5.1"), "no valid recipients: no DATA"
    assert r.cmd("RCPT TO:<alice@a.test>")[0] == 250
    assert r.cmd("RCPT TO:<victim2@remote.test>")[0] == 554
    assert r.cmd("DATA")[0] == 354
    r.send(dot_stuff(make_message(tok)))
    assert r.reply()[0] == 250
    r.close()
    assert count(tern, "queue") == queued
    assert tern.sql("SELECT count(*) FROM queue WHERE recipient LIKE 'victim%'") == "0"
    assert messages_with_token(tern, tok) == 1
    pop_find(tern, "alice@a.test", tok, delete=True)


def test_unknown_domain_percent_hack_and_source_route_are_not_relayed(tern):
    r = connect(tern)
    assert r.cmd("MAIL FROM:<sender@example.org>")[0] == 250
    code, _ = r.cmd("RCPT TO:<victim%remote.test@a.test>")
    assert code == 550                      # unknown local user, never relayed
    code, _ = r.cmd("RCPT TO:<@a.test:victim@remote.test>")
    assert code == 554                      # the route is ignored (RFC 5321 C)
    r.close()


def test_101_recipients_with_max_recipients_100_gets_452_453(fresh):
    t = fresh(extra={"smtp.max_recipients": "100"})
    t.start()
    tok = token()
    r = connect(t)
    r.send("MAIL FROM:<sender@example.org>\r\n" +
           "".join("RCPT TO:<alice+%d@a.test>\r\n" % i for i in range(101)))
    assert r.reply()[0] == 250
    replies = [r.reply() for _ in range(101)]
    assert all(code == 250 for code, _ in replies[:100])
    assert replies[100][0] == 452 and replies[100][1].startswith("452 4.5.3 "), replies[100]
    assert r.cmd("DATA")[0] == 354
    r.send(dot_stuff(make_message(tok)))
    code, text = r.reply()
    assert code == 250
    assert count(t, "messages", "WHERE queue_id = '%s'" % queue_id(text)) == 1
    r.close()
