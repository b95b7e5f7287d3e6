"""BDAT / CHUNKING (RFC 3030): several chunks, LAST, a zero-size LAST,
chunk boundaries inside CRLF, no dot-stuffing, pipelined chunks, and the
error paths (BDAT without a transaction, DATA after BDAT)."""
import socket

import pytest

from smtp_helpers import connect, make_message, pop_find, queue_id, split_trace, token


def begin(r, rcpts=("alice@a.test",)):
    r.send("MAIL FROM:<sender@example.org>\r\n" +
           "".join("RCPT TO:<%s>\r\n" % a for a in rcpts))
    assert [r.reply()[0] for _ in range(1 + len(rcpts))] == [250] * (1 + len(rcpts))


def bdat(r, chunk, last=False):
    r.send(b"BDAT %d%s\r\n" % (len(chunk), b" LAST" if last else b"") + chunk)
    return r.reply()


def read_back(t, tok, user="alice@a.test"):
    msgs = pop_find(t, user, tok, delete=True)
    assert len(msgs) == 1
    return split_trace(msgs[0])[3]


def test_several_chunks_then_last_are_joined_byte_exact(tern):
    tok = token()
    body = make_message(tok, body=b"".join(b"line %d\r\n" % i for i in range(100)))
    pieces = [body[:17], body[17:300], body[300:301], body[301:]]
    r = connect(tern)
    begin(r)
    received = 0
    for piece in pieces[:-1]:
        received += len(piece)
        code, text = bdat(r, piece)
        assert code == 250 and text.startswith("250 2.0.0 "), text
        assert "%d octets" % received in text
    code, text = bdat(r, pieces[-1], last=True)
    assert code == 250 and "queued as" in text
    r.close()
    assert read_back(tern, tok) == body


def test_zero_size_last_chunk_ends_the_message(tern):
    tok = token()
    body = make_message(tok)
    r = connect(tern)
    begin(r)
    assert bdat(r, body[:10])[0] == 250
    assert bdat(r, body[10:])[0] == 250
    code, text = bdat(r, b"", last=True)
    assert code == 250 and "queued as" in text
    r.close()
    assert read_back(tern, tok) == body


def test_single_bdat_last_message(tern):
    tok = token()
    body = make_message(tok)
    r = connect(tern)
    begin(r)
    code, text = bdat(r, body, last=True)
    assert code == 250 and "queued as" in text
    r.close()
    assert read_back(tern, tok) == body


@pytest.mark.parametrize("cut", ["after_cr", "before_cr", "between_crlf_crlf"])
def test_chunk_boundary_inside_crlf_is_not_a_bare_cr(tern, cut):
    tok = token()
    body = make_message(tok, body=b"first\r\nsecond\r\n\r\nthird\r\n")
    pos = body.index(b"first\r\n") + len(b"first")
    split = {"after_cr": pos + 1, "before_cr": pos,
             "between_crlf_crlf": body.index(b"\r\n\r\nthird") + 3}[cut]
    r = connect(tern)
    begin(r)
    assert bdat(r, body[:split])[0] == 250
    code, text = bdat(r, body[split:], last=True)
    assert code == 250, text
    r.close()
    assert read_back(tern, tok) == body


def test_chunk_ending_in_cr_then_zero_size_last_is_a_bare_cr(tern):
    tok = token()
    body = make_message(tok, body=b"text\r")
    r = connect(tern)
    begin(r)
    assert bdat(r, body)[0] == 250
    code, text = bdat(r, b"", last=True)
    assert code == 554 and text.startswith("554 5.6.0 "), text
    r.close()


def test_every_chunk_one_octet_long(tern):
    tok = token()
    body = make_message(tok, body=b"a\r\nb\r\n")
    r = connect(tern)
    begin(r)
    r.send(b"".join(b"BDAT 1\r\n" + body[i:i + 1] for i in range(len(body))) + b"BDAT 0 LAST\r\n")
    replies = [r.reply() for _ in range(len(body) + 1)]
    assert all(code == 250 for code, _ in replies)
    assert "queued as" in replies[-1][1]
    r.close()
    assert read_back(tern, tok) == body


def test_bdat_content_is_not_dot_unstuffed(tern):
    tok = token()
    body = make_message(tok, body=b".one dot\r\n..two dots\r\n.\r\nafter lone dot\r\n")
    r = connect(tern)
    begin(r)
    assert bdat(r, body, last=True)[0] == 250
    r.close()
    assert read_back(tern, tok) == body


def test_bdat_message_without_final_crlf_gets_one(tern):
    tok = token()
    body = make_message(tok, body=b"no newline at the end")
    r = connect(tern)
    begin(r)
    assert bdat(r, body, last=True)[0] == 250
    r.close()
    assert read_back(tern, tok) == body + b"\r\n"


def test_mail_rcpt_bdat_bdat_last_pipelined_in_one_write(tern):
    tok = token()
    body = make_message(tok, to="alice@a.test, bob@a.test")
    half = len(body) // 2
    r = connect(tern)
    r.send(b"MAIL FROM:<sender@example.org>\r\nRCPT TO:<alice@a.test>\r\nRCPT TO:<bob@a.test>\r\n" +
           b"BDAT %d\r\n" % half + body[:half] +
           b"BDAT %d LAST\r\n" % (len(body) - half) + body[half:] + b"QUIT\r\n")
    codes = [r.reply() for _ in range(6)]
    assert [c for c, _ in codes] == [250, 250, 250, 250, 250, 221]
    assert "queued as" in codes[4][1]
    assert r.closed()
    assert read_back(tern, tok) == body
    assert read_back(tern, tok, "bob@a.test") == body


def test_chunk_arriving_in_many_small_writes(tern):
    tok = token()
    body = make_message(tok, body=b"".join(b"%04d\r\n" % i for i in range(500)))
    r = connect(tern)
    begin(r)
    r.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    r.send(b"BDAT %d LAST\r\n" % len(body))
    for i in range(0, len(body), 97):
        r.send(body[i:i + 97])
    assert r.reply()[0] == 250
    r.close()
    assert read_back(tern, tok) == body


def test_large_message_in_big_chunks_is_a_blob_file(tern):
    tok = token()
    body = make_message(tok, body=b"".join(b"%07d %s\r\n" % (i, b"q" * 100) for i in range(20000)))
    r = connect(tern)
    begin(r)
    step = 300000
    for i in range(0, len(body), step):
        code, text = bdat(r, body[i:i + step], last=i + step >= len(body))
        assert code == 250, text
    qid = queue_id(text)
    r.close()
    assert tern.sql("SELECT b.file IS NOT NULL FROM messages m JOIN blobs b ON b.id = m.blob_id "
                    "WHERE m.queue_id = '%s'" % qid) == "1"
    assert read_back(tern, tok) == body


def test_bdat_without_mail_gets_503_and_chunk_is_skipped(tern):
    r = connect(tern)
    chunk = b"MAIL FROM:<x@example.org>\r\nNOOP\r\n"
    code, text = bdat(r, chunk)
    assert code == 503 and text.startswith("503 5.5.1 "), text
    assert r.cmd("RSET") == (250, "250 2.0.0 Ok"), "the chunk's octets were not commands"
    r.close()


def test_bdat_without_rcpt_gets_503(tern):
    r = connect(tern)
    assert r.cmd("MAIL FROM:<sender@example.org>")[0] == 250
    code, text = bdat(r, b"hello\r\n", last=True)
    assert code == 503, text
    assert r.cmd("NOOP")[0] == 250
    r.close()


def test_bdat_with_bad_size_gets_501_and_close(tern):
    r = connect(tern)
    begin(r)
    r.send("BDAT abc\r\n")
    code, text = r.reply()
    assert code == 501 and text.startswith("501 5.5.4 "), text
    assert r.closed(), "the chunk length is unknown: the session cannot resync"


def test_bdat_with_bad_keyword_gets_501(tern):
    r = connect(tern)
    begin(r)
    r.send("BDAT 5 FIRST\r\nhello")
    assert r.reply()[0] == 501
    r.close()


def test_data_after_bdat_gets_503(tern):
    tok = token()
    r = connect(tern)
    begin(r)
    assert bdat(r, make_message(tok))[0] == 250
    code, text = r.cmd("DATA")
    assert code == 503 and text.startswith("503 5.5.1 "), text
    assert r.cmd("RSET")[0] == 250
    r.close()
    assert pop_find(tern, "alice@a.test", tok) == []


def test_rcpt_after_bdat_gets_503(tern):
    r = connect(tern)
    begin(r)
    assert bdat(r, b"Subject: x\r\n")[0] == 250
    assert r.cmd("RCPT TO:<bob@a.test>")[0] == 503
    r.close()


def test_rset_between_chunks_discards_the_message(tern):
    tok = token()
    r = connect(tern)
    begin(r)
    assert bdat(r, make_message(tok))[0] == 250
    assert r.cmd("RSET")[0] == 250
    code, _ = bdat(r, b"", last=True)
    assert code == 503
    r.close()
    assert pop_find(tern, "alice@a.test", tok) == []


def test_second_transaction_after_bdat_in_same_session(tern):
    tok1, tok2 = token(), token()
    r = connect(tern)
    begin(r)
    assert bdat(r, make_message(tok1), last=True)[0] == 250
    begin(r, ["bob@a.test"])
    assert bdat(r, make_message(tok2), last=True)[0] == 250
    r.close()
    assert read_back(tern, tok1) == make_message(tok1)
    assert read_back(tern, tok2, "bob@a.test") == make_message(tok2)


@pytest.mark.parametrize("chunk", [b"BDAT 0 LAST\r\n", b"BDAT 3\r\nabc", b"BDAT 3 LAST\r\nabc"])
def test_bdat_before_ehlo_gets_503_and_does_not_skip_the_greeting(tern, chunk):
    r = connect(tern, ehlo=None)
    r.send(chunk)
    assert r.reply()[0] == 503
    code, text = r.cmd("MAIL FROM:<sender@example.org>")
    assert code == 503 and text.startswith("503 5.5.1 "), "still not greeted: " + text
    assert r.cmd("EHLO client.example.org")[0] == 250
    assert r.cmd("MAIL FROM:<sender@example.org>")[0] == 250
    r.close()


def test_bdat_right_after_starttls_does_not_skip_the_new_ehlo(tern, certs):
    r = connect(tern)
    assert r.cmd("STARTTLS")[0] == 220
    r.starttls(certs.client_context(), tern.host)
    r.send("BDAT 0 LAST\r\n")
    assert r.reply()[0] == 503
    assert r.cmd("MAIL FROM:<sender@example.org>")[0] == 503
    r.close()


@pytest.mark.parametrize("chunk", [b"BDAT 5\r\nhello", b"BDAT 5 LAST\r\nhello"])
def test_stray_bdat_outside_a_transaction_does_not_fail_the_next_one(tern, chunk):
    tok = token()
    body = make_message(tok)
    r = connect(tern)
    r.send(chunk)
    assert r.reply()[0] == 503
    begin(r)
    code, text = bdat(r, body, last=True)
    assert code == 250 and "queued as" in text, text
    r.close()
    assert read_back(tern, tok) == body


def test_bdat_before_rcpt_fails_the_transaction_until_rset(tern):
    """RFC 3030 2: after a failed chunk the transaction has failed; later
    chunks of it are discarded. RSET starts afresh."""
    tok = token()
    body = make_message(tok)
    r = connect(tern)
    assert r.cmd("MAIL FROM:<sender@example.org>")[0] == 250
    assert bdat(r, b"hello")[0] == 503
    assert r.cmd("RCPT TO:<alice@a.test>")[0] == 250
    assert bdat(r, body, last=True)[0] == 554
    assert r.cmd("RSET")[0] == 250
    begin(r)
    assert bdat(r, body, last=True)[0] == 250
    r.close()
    assert read_back(tern, tok) == body
