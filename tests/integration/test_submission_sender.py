"""Submission sender rules and message fixes (RFC 6409 8): MAIL FROM and
From: must be owned by the account (own address, alias, +tag, catch-all
pointing to it); Message-ID and Date are added when missing and kept
when present; remote recipients become queue rows; port 25 still refuses
to relay."""
import smtplib

import pytest

from conftest import PASSWORDS, Raw
from smtp_helpers import dot_stuff, token
from submission_helpers import header_block, message, running_submission, smtp_587, stored


@pytest.fixture(scope="module")
def sub(base_dir, certs):
    yield from running_submission(base_dir, certs)


def send(t, login, sender, rcpts, msg):
    with smtp_587(t, login) as s:
        return s.sendmail(sender, rcpts, msg)


def test_forged_mail_from_gets_550_571(sub):
    with smtp_587(sub, "alice@a.test") as s:
        code, text = s.mail("bob@a.test")
        assert code == 550 and b"5.7.1 Sender address not owned by authenticated user" in text
        code, text = s.mail("someone@remote.test")
        assert code == 550


def test_null_sender_is_refused_on_submission(sub):
    with smtp_587(sub, "alice@a.test") as s:
        code, text = s.mail("<>")
        assert code == 550 and b"5.7.1" in text


@pytest.mark.parametrize("login,sender", [
    ("alice@a.test", "alice+lists@a.test"),     # plus-address
    ("alice@a.test", "ALICE@A.TEST"),           # case
    ("carol@a.test", "info@a.test"),            # alias -> carol
    ("bob@a.test", "team@a.test"),              # alias -> alice, bob
    ("carol@a.test", "anything@other.test"),    # catch-all -> carol
])
def test_owned_sender_is_accepted(sub, login, sender):
    tok = token()
    send(sub, login, sender, ["alice@a.test"], message(tok, sender=sender))
    assert stored(sub, tok)[0].lower().startswith(b"return-path: <%s>" % sender.lower().encode())


def test_catch_all_of_another_account_is_not_owned(sub):
    with smtp_587(sub, "alice@a.test") as s:
        assert s.mail("x@other.test")[0] == 550
        assert s.mail("fwd@a.test")[0] == 550       # alias to a remote address only


def test_forged_from_header_gets_550_after_data(sub):
    tok = token()
    with smtp_587(sub, "alice@a.test") as s:
        with pytest.raises(smtplib.SMTPDataError) as e:
            s.sendmail("alice@a.test", ["bob@a.test"], message(tok, sender="Bob <bob@a.test>"))
        assert e.value.smtp_code == 550
        assert b"5.7.1 From header address not owned by authenticated user" in e.value.smtp_error
        # the session goes on
        s.sendmail("alice@a.test", ["bob@a.test"], message(tok, sender='"Alice A." <alice@a.test>'))
    assert len(stored(sub, tok)) == 1


def test_from_header_with_several_addresses_needs_all_owned(sub):
    tok = token()
    with smtp_587(sub, "alice@a.test") as s:
        with pytest.raises(smtplib.SMTPDataError):
            s.sendmail("alice@a.test", ["bob@a.test"],
                       message(tok, sender="alice@a.test, carol@a.test"))
        s.sendmail("alice@a.test", ["bob@a.test"],
                   message(tok, sender="alice@a.test,\r\n Team <team@a.test>"))
    assert len(stored(sub, tok)) == 1


def test_unparsable_from_header_is_refused(sub):
    with smtp_587(sub, "alice@a.test") as s:
        with pytest.raises(smtplib.SMTPDataError) as e:
            s.sendmail("alice@a.test", ["bob@a.test"], message(token(), sender="Alice <alice@a.test"))
        assert e.value.smtp_code == 550


def test_message_id_and_date_are_added_when_missing(sub):
    tok = token()
    send(sub, "alice@a.test", "alice@a.test", ["bob@a.test"],
         message(tok, msgid=False, date=False))
    head = header_block(stored(sub, tok)[0])
    assert b"\r\nMessage-ID: <" in head and b"@mail.a.test>" in head
    assert b"\r\nDate: " in head and b" +0000" in head


def test_message_id_and_date_are_kept_when_present(sub):
    tok = token()
    send(sub, "alice@a.test", "alice@a.test", ["bob@a.test"], message(tok))
    head = header_block(stored(sub, tok)[0])
    assert head.count(b"Message-ID:") == 1 and (b"<%s@client.example>" % tok.encode()) in head
    assert head.count(b"\r\nDate: ") == 1 and b"Mon, 02 Jan 2006" in head


def test_missing_from_is_added_from_the_envelope(sub):
    tok = token()
    msg = b"To: bob@a.test\r\nSubject: " + tok.encode() + b"\r\n\r\nbody\r\n"
    send(sub, "alice@a.test", "alice+x@a.test", ["bob@a.test"], msg)
    assert b"\r\nFrom: <alice+x@a.test>\r\n" in header_block(stored(sub, tok)[0])


def test_remote_recipient_over_submission_creates_a_queue_row(sub):
    tok = token()
    send(sub, "alice@a.test", "alice@a.test", ["someone@remote.test", "bob@a.test"], message(tok))
    assert "someone@remote.test" in sub.sql("select recipient from queue").split()
    assert len(stored(sub, tok)) == 1


def test_unauthenticated_relay_on_port_25_is_refused(sub):
    r = Raw(sub.host, sub.ports["smtp"])
    assert r.reply()[0] == 220
    assert r.cmd("EHLO client.example.org")[0] == 250
    assert r.cmd("MAIL FROM:<alice@a.test>")[0] == 250
    code, text = r.cmd("RCPT TO:<victim@remote.test>")
    assert code == 554 and "5.7.1" in text and "Relay access denied" in text
    r.close()


def test_bare_lf_is_still_refused_on_submission(sub):
    r = Raw(sub.host, sub.ports["submissions"], tls_context=sub.certs.client_context(),
            server_hostname=sub.host)
    assert r.reply()[0] == 220
    assert r.cmd("EHLO c")[0] == 250
    import base64
    assert r.cmd("AUTH PLAIN " + base64.b64encode(b"\0alice@a.test\0" +
                                                  PASSWORDS["alice@a.test"].encode()).decode())[0] == 235
    assert r.cmd("MAIL FROM:<alice@a.test>")[0] == 250
    assert r.cmd("RCPT TO:<bob@a.test>")[0] == 250
    assert r.cmd("DATA")[0] == 354
    r.send(b"From: alice@a.test\r\nSubject: x\r\n\r\nbad\nline\r\n.\r\n")
    code, text = r.reply()
    assert code == 554 and "bare LF" in text
    r.close()


def test_absurd_header_block_gets_552(sub):
    tok = token()
    big = b"".join(b"X-Filler-%d: %s\r\n" % (i, b"x" * 900) for i in range(400))
    with smtp_587(sub, "alice@a.test") as s:
        with pytest.raises(smtplib.SMTPDataError) as e:
            s.sendmail("alice@a.test", ["bob@a.test"], message(tok, extra=big))
        assert e.value.smtp_code == 552 and b"header" in e.value.smtp_error
        s.noop()
    assert stored(sub, tok) == []


def test_message_without_header_gets_fields_and_empty_line(sub):
    tok = token()
    send(sub, "alice@a.test", "alice@a.test", ["bob@a.test"], b"just a body " + tok.encode() + b"\r\n")
    msg = stored(sub, tok)[0]
    head, body = msg.split(b"\r\n\r\n", 1)
    assert b"\r\nFrom: <alice@a.test>" in head and b"Message-ID:" in head
    assert body == b"just a body " + tok.encode() + b"\r\n"
