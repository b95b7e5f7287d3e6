"""STARTTLS (RFC 3207) on port 25: a verified handshake with the test CA,
the Received header's ESMTPS and TLS version, the state reset after the
handshake, and the plaintext command injection of RFC 3207 5."""
import smtplib
import ssl

import pytest

from conftest import Tern, populate
from smtp_helpers import connect, dot_stuff, make_message, pop_find, split_trace, token


def test_smtplib_starttls_with_verification_and_received_says_esmtps(tern, certs):
    tok = token()
    body = make_message(tok)
    with smtplib.SMTP(tern.host, tern.ports["smtp"], timeout=30) as s:
        s.ehlo("client.example.org")
        assert s.has_extn("starttls")
        code, _ = s.starttls(context=certs.client_context())
        assert code == 220
        version = s.sock.version()
        cipher = s.sock.cipher()[0]
        s.ehlo("client.example.org")
        assert not s.has_extn("starttls"), "not offered again inside TLS"
        assert s.sendmail("sender@example.org", ["alice@a.test"], body) == {}
    assert version in ("TLSv1.2", "TLSv1.3")
    msgs = pop_find(tern, "alice@a.test", tok, delete=True)
    assert len(msgs) == 1
    _, _, received, rest = split_trace(msgs[0])
    assert rest == body
    assert " with ESMTPS id " in received
    assert "(using %s %s)" % (version, cipher) in received


def test_starttls_with_hostname_verification_by_name(tern, certs):
    r = connect(tern)
    assert r.cmd("STARTTLS")[0] == 220
    r.starttls(certs.client_context(), "mail.a.test")
    assert r.cmd("EHLO client.example.org")[0] == 250
    r.close()


def test_starttls_certificate_for_wrong_name_fails_verification(tern, certs):
    r = connect(tern)
    assert r.cmd("STARTTLS")[0] == 220
    with pytest.raises(ssl.SSLCertVerificationError):
        r.starttls(certs.client_context(), "mail.wrong.test")
    r.close()


def test_tls_1_2_client_is_served_and_received_says_so(tern, certs):
    tok = token()
    ctx = certs.client_context()
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    with smtplib.SMTP(tern.host, tern.ports["smtp"], timeout=30) as s:
        s.starttls(context=ctx)
        assert s.sock.version() == "TLSv1.2"
        assert s.sendmail("sender@example.org", ["alice@a.test"], make_message(tok)) == {}
    msgs = pop_find(tern, "alice@a.test", tok, delete=True)
    assert "(using TLSv1.2 " in split_trace(msgs[0])[2]


def test_starttls_twice_gets_503(tern, certs):
    r = connect(tern)
    assert r.cmd("STARTTLS")[0] == 220
    r.starttls(certs.client_context(), tern.host)
    assert r.cmd("EHLO client.example.org")[0] == 250
    code, text = r.cmd("STARTTLS")
    assert code == 503 and text.startswith("503 5.5.1 "), text
    assert r.cmd("NOOP")[0] == 250, "still usable inside TLS"
    r.close()


def test_starttls_with_argument_gets_501(tern):
    r = connect(tern)
    code, text = r.cmd("STARTTLS now")
    assert code == 501 and text.startswith("501 5.5.4 "), text
    r.close()


def test_starttls_inside_transaction_gets_503(tern):
    r = connect(tern)
    assert r.cmd("MAIL FROM:<sender@example.org>")[0] == 250
    assert r.cmd("STARTTLS")[0] == 503
    r.close()


def test_starttls_before_ehlo_is_allowed(tern, certs):
    r = connect(tern, ehlo=None)
    assert r.cmd("STARTTLS")[0] == 220
    r.starttls(certs.client_context(), tern.host)
    assert r.cmd("EHLO client.example.org")[0] == 250
    r.close()


def test_after_starttls_client_must_ehlo_again(tern, certs):
    """RFC 3207 4.2: the server forgets the earlier EHLO."""
    r = connect(tern)
    assert r.cmd("STARTTLS")[0] == 220
    r.starttls(certs.client_context(), tern.host)
    code, text = r.cmd("MAIL FROM:<sender@example.org>")
    assert code == 503 and text.startswith("503 5.5.1 "), text
    r.close()


def test_starttls_command_injection_is_not_answered(tern, certs):
    """RFC 3207 5: "STARTTLS\\r\\nRSET\\r\\n" in one packet. The RSET was
    sent in plaintext and must be thrown away: neither answered before the
    handshake (that would break it) nor after it (the first reply inside
    TLS must be the one for our EHLO)."""
    r = connect(tern)
    r.send("STARTTLS\r\nRSET\r\n")
    code, text = r.reply()
    assert code == 220 and text.startswith("220 2.0.0 "), text
    assert r.buf == b"", "nothing after the 220 in plaintext"
    r.starttls(certs.client_context(), tern.host)
    code, text = r.cmd("EHLO client.example.org")
    assert code == 250 and text.split("\n")[0] == "250-mail.a.test", text
    assert r.cmd("NOOP") == (250, "250 2.0.0 Ok")
    r.close()


def test_starttls_injection_of_a_whole_transaction_delivers_nothing(tern, certs):
    tok = token()
    r = connect(tern)
    r.send(b"STARTTLS\r\nMAIL FROM:<evil@example.org>\r\nRCPT TO:<alice@a.test>\r\nDATA\r\n" +
           dot_stuff(make_message(tok)))
    assert r.reply()[0] == 220
    assert r.buf == b""
    r.starttls(certs.client_context(), tern.host)
    assert r.cmd("EHLO client.example.org")[0] == 250
    assert r.cmd("RCPT TO:<alice@a.test>")[0] == 503, "no MAIL survived the handshake"
    r.close()
    assert pop_find(tern, "alice@a.test", tok) == []


def test_full_transaction_inside_tls_with_raw_client(tern, certs):
    tok = token()
    body = make_message(tok, to="bob@a.test")
    r = connect(tern)
    assert r.cmd("STARTTLS")[0] == 220
    r.starttls(certs.client_context(), tern.host)
    assert r.cmd("EHLO client.example.org")[0] == 250
    r.send("MAIL FROM:<sender@example.org>\r\nRCPT TO:<bob@a.test>\r\nDATA\r\n")
    assert [r.reply()[0] for _ in range(3)] == [250, 250, 354]
    r.send(dot_stuff(body))
    code, text = r.reply()
    assert code == 250 and "queued as" in text
    assert r.cmd("QUIT")[0] == 221
    msgs = pop_find(tern, "bob@a.test", tok, delete=True)
    assert len(msgs) == 1 and split_trace(msgs[0])[3] == body


def test_large_message_over_tls(tern, certs):
    tok = token()
    body = make_message(tok, body=b"".join(b"%06d %s\r\n" % (i, b"t" * 200) for i in range(5000)))
    with smtplib.SMTP(tern.host, tern.ports["smtp"], timeout=60) as s:
        s.starttls(context=certs.client_context())
        assert s.sendmail("sender@example.org", ["carol@a.test"], body) == {}
    msgs = pop_find(tern, "carol@a.test", tok, delete=True)
    assert len(msgs) == 1 and split_trace(msgs[0])[3] == body


def test_handshake_garbage_after_starttls_closes_only_that_session(tern):
    r = connect(tern)
    assert r.cmd("STARTTLS")[0] == 220
    r.send(b"this is not a TLS ClientHello\r\n" * 10)
    assert r.closed()
    r2 = connect(tern)
    assert r2.cmd("NOOP")[0] == 250
    r2.close()


def test_client_closing_during_handshake_leaves_server_serving(tern):
    r = connect(tern)
    assert r.cmd("STARTTLS")[0] == 220
    r.close()
    r2 = connect(tern)
    assert r2.cmd("NOOP")[0] == 250
    r2.close()


def test_without_certificates_starttls_is_not_offered_and_gets_502(base_dir, certs):
    t = Tern(base_dir, certs, certificates=[])
    del t.ports["pop3s"]        # implicit TLS cannot run without a certificate
    t.write_config()
    populate(t)
    t.start()
    try:
        r = connect(t, ehlo=None)
        code, text = r.cmd("EHLO client.example.org")
        assert code == 250 and "STARTTLS" not in text
        code, text = r.cmd("STARTTLS")
        assert code == 502 and text.startswith("502 5.5.1 "), text
        assert r.cmd("NOOP")[0] == 250
        r.close()
    finally:
        t.stop()
    assert not t.sanitizer_errors(), t.log()[-5000:]
