"""SMTP receive basics: a message sent with smtplib is read back with poplib."""
import poplib
import smtplib

from conftest import PASSWORDS


def pop_messages(t, user):
    p = poplib.POP3(t.host, t.ports["pop3"], timeout=10)
    p.user(user)
    p.pass_(PASSWORDS[user])
    count, _ = p.stat()
    msgs = [b"\r\n".join(p.retr(i + 1)[1]) + b"\r\n" for i in range(count)]
    p.quit()
    return msgs


def test_message_is_read_back_byte_for_byte(tern):
    body = (b"From: sender@example.org\r\nTo: alice@a.test\r\nSubject: hello\r\n\r\n"
            b"line one\r\n.leading dot\r\n..two dots\r\n\r\nend\r\n")
    with smtplib.SMTP(tern.host, tern.ports["smtp"], timeout=10) as s:
        s.ehlo("client.example.org")
        s.sendmail("sender@example.org", ["alice@a.test"], body)
    msgs = pop_messages(tern, "alice@a.test")
    last = msgs[-1]
    assert last.startswith(b"Return-Path: <sender@example.org>\r\nDelivered-To: alice@a.test\r\n"
                           b"Received: from client.example.org ([127.0.0.1])")
    assert last.endswith(body)
