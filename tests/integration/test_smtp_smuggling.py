"""SMTP smuggling: a bare LF or bare CR in DATA (or BDAT) content is
rejected with 554 5.6.0, nothing is stored, a "second message" hidden
behind a non-standard end marker never appears, and the session stays in
step so it can still send a good message."""
import os
import socket

import pytest

from smtp_helpers import connect, count, dot_stuff, make_message, messages_with_token, pop_find, token


def start_data(r, rcpt="alice@a.test"):
    r.send("MAIL FROM:<sender@example.org>\r\nRCPT TO:<%s>\r\nDATA\r\n" % rcpt)
    assert [r.reply()[0] for _ in range(3)] == [250, 250, 354]


def assert_rejected_for_bare_newline(reply):
    code, text = reply
    assert code == 554 and text.startswith("554 5.6.0 "), text


def assert_session_still_works(t, r, user="carol@a.test"):
    """After the rejection the next reply belongs to the next command, and
    a good message goes through on the same connection."""
    assert r.cmd("NOOP") == (250, "250 2.0.0 Ok")
    tok = token()
    start_data(r, user)
    r.send(dot_stuff(make_message(tok, to=user)))
    code, text = r.reply()
    assert code == 250 and "queued as" in text
    assert len(pop_find(t, user, tok, delete=True)) == 1


def test_bare_lf_in_data_gets_554_560_and_nothing_stored(tern):
    tok = token()
    before = count(tern, "messages")
    r = connect(tern)
    start_data(r)
    r.send(make_message(tok, body=b"line one\nline two\r\n") + b".\r\n")
    assert_rejected_for_bare_newline(r.reply())
    assert count(tern, "messages") == before
    assert messages_with_token(tern, tok) == 0
    assert_session_still_works(tern, r)
    r.close()


def test_bare_cr_in_data_gets_554_560_and_nothing_stored(tern):
    tok = token()
    before = count(tern, "messages")
    r = connect(tern)
    start_data(r)
    r.send(make_message(tok, body=b"line one\rline two\r\n") + b".\r\n")
    assert_rejected_for_bare_newline(r.reply())
    assert count(tern, "messages") == before
    assert messages_with_token(tern, tok) == 0
    assert_session_still_works(tern, r)
    r.close()


def test_bare_lf_in_headers_gets_554_560(tern):
    tok = token()
    r = connect(tern)
    start_data(r)
    r.send(b"Subject: " + tok.encode() + b"\nX-Evil: 1\r\n\r\nbody\r\n.\r\n")
    assert_rejected_for_bare_newline(r.reply())
    assert messages_with_token(tern, tok) == 0
    r.close()


def test_cr_at_the_very_end_before_marker_gets_554_560(tern):
    tok = token()
    r = connect(tern)
    start_data(r)
    r.send(make_message(tok, body=b"text\r\r\n") + b".\r\n")
    assert_rejected_for_bare_newline(r.reply())
    assert messages_with_token(tern, tok) == 0
    r.close()


SMUGGLE_ENDINGS = [
    b"\n.\n",          # bare LF end marker
    b"\r.\r",          # bare CR end marker
    b"\n.\r\n",        # LF . CRLF
    b"\r\n.\n",        # CRLF . LF
    b"\r.\r\n",        # CR . CRLF
    b"\r\n.\r",        # CRLF . CR
]


@pytest.mark.parametrize("ending", SMUGGLE_ENDINGS, ids=repr)
def test_smuggled_second_message_is_never_delivered(tern, ending):
    """RFC 5321 2.3.8 / 4.1.1.4: only CRLF.CRLF ends DATA. Whatever a
    lenient server would take as the end, followed by a second transaction,
    must neither end the first message nor start the second."""
    outer, inner = token(), token()
    before = count(tern, "messages")
    r = connect(tern)
    start_data(r)
    smuggled = (b"MAIL FROM:<admin@a.test>\r\nRCPT TO:<bob@a.test>\r\nDATA\r\n" +
                make_message(inner, sender="admin@a.test", to="bob@a.test",
                             body=b"smuggled\r\n"))
    r.send(make_message(outer, body=b"first part") + ending + smuggled + b"\r\n.\r\n")
    assert_rejected_for_bare_newline(r.reply())
    assert count(tern, "messages") == before
    assert messages_with_token(tern, outer) == 0
    assert messages_with_token(tern, inner) == 0
    assert pop_find(tern, "bob@a.test", inner) == []
    assert_session_still_works(tern, r)
    r.close()


@pytest.mark.parametrize("ending", SMUGGLE_ENDINGS, ids=repr)
def test_smuggling_payload_split_byte_by_byte_is_still_rejected(tern, ending):
    """The scanner must not depend on how the bytes are split into reads."""
    inner = token()
    r = connect(tern)
    start_data(r)
    payload = (b"Subject: outer\r\n\r\nx" + ending + b"MAIL FROM:<a@a.test>\r\nRCPT TO:<bob@a.test>\r\n"
               b"DATA\r\nSubject: " + inner.encode() + b"\r\n\r\nx\r\n.\r\n")
    r.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for i in range(len(payload)):
        r.send(payload[i:i + 1])
    assert_rejected_for_bare_newline(r.reply())
    assert r.cmd("NOOP") == (250, "250 2.0.0 Ok")
    r.close()
    assert messages_with_token(tern, inner) == 0


def test_crlf_dot_crlf_inside_bdat_chunk_does_not_end_the_message(tern):
    """In BDAT, CRLF.CRLF is content; the text after it is not commands."""
    tok = token()
    r = connect(tern)
    r.send("MAIL FROM:<sender@example.org>\r\nRCPT TO:<alice@a.test>\r\n")
    assert [r.reply()[0] for _ in range(2)] == [250, 250]
    body = make_message(tok, body=b"a\r\n.\r\nMAIL FROM:<x@a.test>\r\nRCPT TO:<bob@a.test>\r\n"
                        b"DATA\r\nsecond\r\n.\r\n")
    r.send(b"BDAT %d LAST\r\n" % len(body) + body)
    code, text = r.reply()
    assert code == 250 and "queued as" in text
    assert r.cmd("NOOP") == (250, "250 2.0.0 Ok")
    r.close()
    msgs = pop_find(tern, "alice@a.test", tok, delete=True)
    assert len(msgs) == 1 and msgs[0].endswith(body)
    assert pop_find(tern, "bob@a.test", tok) == []


@pytest.mark.parametrize("bad", [b"bare\nlf\r\n", b"bare\rcr\r\n", b"x\n.\nMAIL FROM:<a@b.c>\r\n"])
def test_bare_newline_in_bdat_gets_554_560_and_nothing_stored(tern, bad):
    tok = token()
    before = count(tern, "messages")
    r = connect(tern)
    r.send("MAIL FROM:<sender@example.org>\r\nRCPT TO:<alice@a.test>\r\n")
    assert [r.reply()[0] for _ in range(2)] == [250, 250]
    body = make_message(tok, body=bad)
    r.send(b"BDAT %d LAST\r\n" % len(body) + body)
    assert_rejected_for_bare_newline(r.reply())
    assert count(tern, "messages") == before
    assert_session_still_works(tern, r)
    r.close()


def test_bare_cr_at_the_end_of_last_bdat_chunk_gets_554_560(tern):
    tok = token()
    r = connect(tern)
    r.send("MAIL FROM:<sender@example.org>\r\nRCPT TO:<alice@a.test>\r\n")
    assert [r.reply()[0] for _ in range(2)] == [250, 250]
    body = make_message(tok, body=b"ends in CR\r")
    r.send(b"BDAT %d LAST\r\n" % len(body) + body)
    assert_rejected_for_bare_newline(r.reply())
    assert messages_with_token(tern, tok) == 0
    r.close()


def test_bare_newline_in_large_message_leaves_no_spool_file(tern):
    """A rejected message that had spilled to data/tmp is removed."""
    tok = token()
    r = connect(tern)
    start_data(r)
    r.send(make_message(tok, body=(b"z" * 998 + b"\r\n") * 100 + b"bad\nline\r\n" +
                        (b"z" * 998 + b"\r\n") * 100) + b".\r\n")
    assert_rejected_for_bare_newline(r.reply())
    assert r.cmd("NOOP")[0] == 250
    r.close()
    assert messages_with_token(tern, tok) == 0
    assert os.listdir(os.path.join(tern.data_dir, "tmp")) == []
