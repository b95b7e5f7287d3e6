"""Every SMTP rejection with its exact reply code and enhanced status code
(RFC 5321 4.2, RFC 3463), and the session staying usable after it."""
import os

import pytest

from conftest import Raw
from smtp_helpers import connect, count, dot_stuff, make_message, messages_with_token, token


def starts(reply, prefix):
    code, text = reply
    return text.startswith(prefix)


def begin(r, rcpt="alice@a.test"):
    """MAIL + RCPT; asserts both are accepted."""
    assert r.cmd("MAIL FROM:<sender@example.org>")[0] == 250
    assert r.cmd("RCPT TO:<%s>" % rcpt)[0] == 250


# ---- sequence ------------------------------------------------------------


def test_mail_before_ehlo_gets_503_551(tern):
    r = connect(tern, ehlo=None)
    assert starts(r.cmd("MAIL FROM:<sender@example.org>"), "503 5.5.1 ")
    assert r.cmd("EHLO client.example.org")[0] == 250
    assert r.cmd("MAIL FROM:<sender@example.org>")[0] == 250
    r.close()


def test_nested_mail_gets_503_551(tern):
    r = connect(tern)
    assert r.cmd("MAIL FROM:<sender@example.org>")[0] == 250
    assert starts(r.cmd("MAIL FROM:<other@example.org>"), "503 5.5.1 ")
    assert r.cmd("RCPT TO:<alice@a.test>")[0] == 250
    assert starts(r.cmd("MAIL FROM:<other@example.org>"), "503 5.5.1 ")
    r.close()


def test_rcpt_before_mail_gets_503_551(tern):
    r = connect(tern)
    assert starts(r.cmd("RCPT TO:<alice@a.test>"), "503 5.5.1 ")
    r.close()


def test_rcpt_before_ehlo_gets_503_551(tern):
    r = connect(tern, ehlo=None)
    assert starts(r.cmd("RCPT TO:<alice@a.test>"), "503 5.5.1 ")
    r.close()


def test_data_without_mail_gets_503_551(tern):
    r = connect(tern)
    assert starts(r.cmd("DATA"), "503 5.5.1 ")
    assert r.cmd("NOOP") == (250, "250 2.0.0 Ok")
    r.close()


def test_data_after_mail_without_rcpt_gets_554_551(tern):
    r = connect(tern)
    assert r.cmd("MAIL FROM:<sender@example.org>")[0] == 250
    assert starts(r.cmd("DATA"), "554 5.5.1 ")
    assert r.cmd("RCPT TO:<alice@a.test>")[0] == 250, "the transaction is still open"
    r.close()


def test_data_with_argument_gets_501(tern):
    r = connect(tern)
    begin(r)
    assert starts(r.cmd("DATA now"), "501 5.5.4 ")
    r.close()


def test_rset_ends_transaction_then_rcpt_gets_503(tern):
    r = connect(tern)
    begin(r)
    assert r.cmd("RSET") == (250, "250 2.0.0 Ok")
    assert starts(r.cmd("RCPT TO:<alice@a.test>"), "503 5.5.1 ")
    r.close()


def test_ehlo_in_transaction_resets_it(tern):
    r = connect(tern)
    begin(r)
    assert r.cmd("EHLO again.example.org")[0] == 250
    assert starts(r.cmd("DATA"), "503 5.5.1 ")
    r.close()


# ---- syntax ----------------------------------------------------------------


def test_unknown_command_gets_500_552(tern):
    r = connect(tern)
    assert starts(r.cmd("FOOBAR baz"), "500 5.5.2 ")
    assert starts(r.cmd("MAILFROM:<a@b.example>"), "500 5.5.2 ")
    assert r.cmd("NOOP")[0] == 250
    r.close()


def test_empty_line_gets_500_552(tern):
    r = connect(tern)
    assert starts(r.cmd(""), "500 5.5.2 ")
    r.close()


def test_commands_are_case_insensitive(tern):
    r = connect(tern, ehlo=None)
    assert r.cmd("ehlo client.example.org")[0] == 250
    assert r.cmd("mail from:<sender@example.org>")[0] == 250
    assert r.cmd("rCpT To:<alice@a.test>")[0] == 250
    assert r.cmd("rset")[0] == 250
    r.close()


@pytest.mark.parametrize("line, reply", [
    ("MAIL TO:<sender@example.org>", "501 5.5.4 "),
    ("MAIL FROM", "501 5.5.4 "),
    ("MAIL", "501 5.5.4 "),
    ("MAIL FROM:<sender@example.org", "501 5.1.7 "),
    ("MAIL FROM:<sender@example.org>x", "501 5.1.7 "),
    ("MAIL FROM:<no-at-sign>", "553 5.1.7 "),
    ("MAIL FROM:<a@b@c.example>", "553 5.1.7 "),
])
def test_bad_mail_syntax_gets_501_or_553(tern, line, reply):
    r = connect(tern)
    assert starts(r.cmd(line), reply)
    assert r.cmd("MAIL FROM:<sender@example.org>")[0] == 250, "no transaction was started"
    r.close()


@pytest.mark.parametrize("line, reply", [
    ("RCPT FROM:<alice@a.test>", "501 5.5.4 "),
    ("RCPT TO:<>", "501 5.1.3 "),
    ("RCPT TO:<alice@a.test", "501 5.1.3 "),
    ("RCPT TO:<alice>", "501 5.1.3 "),
    ("RCPT TO:<alice@a.test> NOTIFY=NEVER", "555 5.5.4 "),
])
def test_bad_rcpt_syntax_gets_501_or_555(tern, line, reply):
    r = connect(tern)
    assert r.cmd("MAIL FROM:<sender@example.org>")[0] == 250
    assert starts(r.cmd(line), reply)
    r.close()


def test_mail_with_lenient_forms_is_accepted(tern):
    r = connect(tern)
    assert r.cmd("MAIL FROM: <sender@example.org>")[0] == 250
    assert r.cmd("RSET")[0] == 250
    assert r.cmd("MAIL FROM:<>")[0] == 250, "null sender (bounces)"
    assert r.cmd("RSET")[0] == 250
    assert r.cmd("MAIL FROM:sender@example.org")[0] == 250, "no angle brackets"
    r.close()


@pytest.mark.parametrize("param", ["FOO=BAR", "AUTH=<>", "RET=FULL", "BODY=BINARYMIME",
                                   "SMTPUTF8=yes", "SIZE"])
def test_unknown_mail_parameter_gets_555_554(tern, param):
    r = connect(tern)
    assert starts(r.cmd("MAIL FROM:<sender@example.org> " + param), "555 5.5.4 ")
    r.close()


def test_mail_parameter_after_helo_gets_555_554(tern):
    r = connect(tern, ehlo=None)
    assert r.cmd("HELO client.example.org")[0] == 250
    assert starts(r.cmd("MAIL FROM:<sender@example.org> BODY=8BITMIME"), "555 5.5.4 ")
    assert r.cmd("MAIL FROM:<sender@example.org>")[0] == 250
    r.close()


@pytest.mark.parametrize("size", ["abc", "-1", "", "99999999999999999999999"])
def test_bad_size_value_gets_501_554(tern, size):
    r = connect(tern)
    assert starts(r.cmd("MAIL FROM:<sender@example.org> SIZE=" + size), "501 5.5.4 ")
    r.close()


def test_helo_without_name_gets_501(tern):
    r = connect(tern, ehlo=None)
    assert starts(r.cmd("EHLO"), "501 5.5.4 ")
    assert starts(r.cmd("HELO"), "501 5.5.4 ")
    assert starts(r.cmd("MAIL FROM:<sender@example.org>"), "503 5.5.1 "), "still not greeted"
    r.close()


@pytest.mark.parametrize("line", ["EHLO", "HELO", "EHLO two words", "HELO bad\x01name",
                                  "EHLO " + "h" * 256])
def test_bad_helo_in_greeted_session_gets_only_501_and_keeps_the_session(tern, line):
    """Exactly one reply per command: no 250 after the 501, and the
    earlier greeting still stands."""
    r = connect(tern)
    assert starts(r.cmd(line), "501 5.5.4 ")
    assert r.cmd("NOOP") == (250, "250 2.0.0 Ok")
    assert r.cmd("MAIL FROM:<sender@example.org>")[0] == 250
    r.close()


# ---- size ------------------------------------------------------------------


def test_size_over_limit_gets_552_534_at_mail(tern):
    r = connect(tern)
    assert starts(r.cmd("MAIL FROM:<sender@example.org> SIZE=52428801"), "552 5.3.4 ")
    assert starts(r.cmd("RCPT TO:<alice@a.test>"), "503 5.5.1 "), "no transaction"
    assert r.cmd("MAIL FROM:<sender@example.org> SIZE=52428800")[0] == 250
    r.close()


@pytest.fixture(scope="module")
def small(base_dir, certs):
    """An instance with a 1 MiB message size limit."""
    from conftest import running
    yield from running(base_dir, certs, {"smtp.max_message_size": "1M"})


def test_ehlo_advertises_configured_size(small):
    r = connect(small, ehlo=None)
    assert "250-SIZE 1048576" in r.cmd("EHLO client.example.org")[1].split("\n")
    r.close()


def test_message_over_limit_during_data_gets_552_534_and_nothing_stored(small):
    tok = token()
    before = count(small, "messages")
    r = connect(small)
    begin(r)
    assert r.cmd("DATA")[0] == 354
    body = make_message(tok, body=(b"x" * 1022 + b"\r\n") * 1100)
    assert len(body) > 1024 * 1024
    r.send(dot_stuff(body))
    code, text = r.reply()
    assert code == 552 and text.startswith("552 5.3.4 "), text
    # the same session can still deliver
    tok2 = token()
    begin(r)
    assert r.cmd("DATA")[0] == 354
    r.send(dot_stuff(make_message(tok2)))
    assert r.reply()[0] == 250
    r.close()
    assert count(small, "messages") == before + 1
    assert messages_with_token(small, tok) == 0
    assert os.listdir(os.path.join(small.data_dir, "tmp")) == []


def test_message_at_exactly_the_limit_is_accepted(small):
    tok = token()
    head = make_message(tok, body=b"")
    filler = 1024 * 1024 - len(head)
    body = head + (b"y" * 1022 + b"\r\n") * (filler // 1024 - 1)
    body += b"z" * (1024 * 1024 - len(body) - 2) + b"\r\n"
    assert len(body) == 1024 * 1024
    r = connect(small)
    begin(r)
    assert r.cmd("DATA")[0] == 354
    r.send(dot_stuff(body))
    assert r.reply()[0] == 250
    begin(r)
    assert r.cmd("DATA")[0] == 354
    r.send(dot_stuff(body[:-2] + b"z\r\n"))
    code, text = r.reply()
    assert code == 552 and text.startswith("552 5.3.4 "), "one octet over"
    r.close()


def test_bdat_over_limit_gets_552_534_and_nothing_stored(small):
    tok = token()
    before = count(small, "messages")
    r = connect(small)
    begin(r)
    chunk = make_message(tok, body=(b"a" * 1022 + b"\r\n") * 600)
    r.send(b"BDAT %d\r\n" % len(chunk) + chunk)
    assert r.reply()[0] == 250
    r.send(b"BDAT %d LAST\r\n" % len(chunk) + chunk)
    code, text = r.reply()
    assert code == 552 and text.startswith("552 5.3.4 "), text
    assert r.cmd("NOOP")[0] == 250
    r.close()
    assert count(small, "messages") == before
    assert os.listdir(os.path.join(small.data_dir, "tmp")) == []


# ---- other commands ----------------------------------------------------------


def test_vrfy_gets_252(tern):
    r = connect(tern)
    assert starts(r.cmd("VRFY alice"), "252 2.5.2 ")
    assert starts(r.cmd("VRFY nobody@a.test"), "252 2.5.2 "), "no user enumeration"
    r.close()


def test_expn_gets_502(tern):
    r = connect(tern)
    assert starts(r.cmd("EXPN team@a.test"), "502 5.5.1 ")
    r.close()


def test_help_gets_214(tern):
    r = connect(tern)
    assert starts(r.cmd("HELP"), "214 ")
    assert starts(r.cmd("HELP MAIL"), "214 ")
    r.close()


def test_noop_with_argument_gets_250(tern):
    r = connect(tern)
    assert r.cmd("NOOP hello") == (250, "250 2.0.0 Ok")
    r.close()


def test_auth_on_port_25_gets_502(tern):
    r = connect(tern, ehlo=None)
    assert "AUTH" not in r.cmd("EHLO client.example.org")[1]
    assert starts(r.cmd("AUTH PLAIN AGFsaWNlQGEudGVzdABhbGljZS1zZWNyZXQtMQ=="), "502 5.5.1 ")
    assert starts(r.cmd("AUTH LOGIN"), "502 5.5.1 ")
    r.close()


def test_quit_gets_221_and_close(tern):
    r = connect(tern)
    assert starts(r.cmd("QUIT"), "221 2.0.0 ")
    assert r.closed()


# ---- abuse -------------------------------------------------------------------


def test_too_many_bad_commands_gets_421_and_close(tern):
    r = connect(tern)
    r.send("BOGUS\r\n" * 19)
    for _ in range(19):
        assert r.reply()[0] == 500
    r.send("BOGUS\r\n")
    assert r.reply()[0] == 500
    code, text = r.reply()
    assert code == 421 and text.startswith("421 4.7.0 "), text
    assert r.closed()


def test_bad_commands_of_all_kinds_count_towards_the_limit(tern):
    """smtp.max_bad_commands (default 20) counts sequence errors, syntax
    errors, unknown commands and AUTH on port 25 alike."""
    r = connect(tern)
    for _ in range(4):
        assert r.cmd("RCPT TO:<alice@a.test>")[0] == 503
        assert r.cmd("MAIL FROM:<bad address>")[0] == 553
        assert r.cmd("XYZZY")[0] == 500
        assert r.cmd("DATA")[0] == 503
        assert r.cmd("NOOP")[0] == 250
    assert r.cmd("AUTH LOGIN")[0] == 502
    assert r.cmd("EHLO")[0] == 501
    assert r.cmd("STARTTLS x")[0] == 501
    r.send("VRFY\r\nXYZZY\r\n")
    assert r.reply()[0] == 252
    assert r.reply()[0] == 500
    code, text = r.reply()
    assert code == 421 and text.startswith("421 4.7.0 "), text
    assert r.closed()


def test_bad_commands_below_the_limit_keep_the_session(tern):
    r = connect(tern)
    for _ in range(10):
        assert r.cmd("BOGUS")[0] == 500
        assert r.cmd("NOOP")[0] == 250
    r.close()


def test_overlong_command_line_gets_500_552_and_session_continues(tern):
    r = connect(tern)
    assert starts(r.cmd("NOOP " + "x" * 1100), "500 5.5.2 ")
    assert r.cmd("NOOP") == (250, "250 2.0.0 Ok")
    r.close()


def test_very_long_command_line_in_pieces_gets_one_500_and_session_continues(tern):
    r = connect(tern)
    for _ in range(20):
        r.send("x" * 4000)
    r.send("\r\nNOOP\r\n")
    assert starts(r.reply(), "500 5.5.2 ")
    assert r.reply() == (250, "250 2.0.0 Ok")
    r.close()


def test_command_line_of_1024_octets_with_crlf_is_accepted(tern):
    """RFC 5321 4.5.3.1.4 allows 512 octets with CRLF plus what extensions
    add; Tern allows 1024."""
    r = connect(tern)
    assert r.cmd("NOOP " + "x" * (1024 - 7)) == (250, "250 2.0.0 Ok")
    r.close()


def test_overlong_rcpt_address_is_rejected_not_truncated(tern):
    r = connect(tern)
    assert r.cmd("MAIL FROM:<sender@example.org>")[0] == 250
    assert starts(r.cmd("RCPT TO:<%s@a.test>" % ("a" * 65)), "501 5.1.3 ")
    assert r.cmd("RCPT TO:<%s@a.test>" % ("a" * 64))[0] == 550, "64 octets is a valid local part"
    r.close()


def test_nul_byte_in_command_does_not_break_the_session(tern):
    r = connect(tern)
    r.send(b"NOOP\x00junk\r\n")
    assert starts(r.reply(), "500 5.5.2 ")
    assert r.cmd("NOOP")[0] == 250
    r.close()


def test_bare_lf_terminated_commands_are_understood(tern):
    r = Raw(tern.host, tern.ports["smtp"])
    assert r.reply()[0] == 220
    r.send("EHLO client.example.org\nNOOP\n")
    assert r.reply()[0] == 250
    assert r.reply()[0] == 250
    r.close()


@pytest.mark.parametrize("addr", [b'"x\rInjected: 1"@other.test', b'"x\\\rInjected: 1"@other.test',
                                  b'"x\x00y"@other.test', b'"x\\\x00y"@other.test',
                                  b'x\x7fy@other.test', b'"x\ty"@other.test'])
def test_control_characters_in_addresses_are_refused(tern, addr):
    """Addresses end up in Return-Path, Delivered-To and Received: a CR or
    NUL there would inject header lines into the stored message."""
    r = connect(tern)
    r.send(b"MAIL FROM:<" + addr + b">\r\n")
    code, _ = r.reply()
    assert code in (501, 553)
    assert r.cmd("MAIL FROM:<sender@example.org>")[0] == 250
    r.send(b"RCPT TO:<" + addr + b">\r\n")
    code, _ = r.reply()
    assert code in (501, 553)
    r.close()
