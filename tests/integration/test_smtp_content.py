"""Message content is stored exactly as sent and read back byte-for-byte
through POP3: small messages (inline in the database), messages over
64 KiB (blob files), several MB with lines up to the 64 KiB line limit,
8-bit bodies (BODY=8BITMIME) and SMTPUTF8 addresses."""
import os
import smtplib

from smtp_helpers import (connect, count, dot_stuff, make_message, messages_with_token, pop_find,
                          queue_id, split_trace, token)

LINE_MAX = 64 * 1024


def send(t, body, rcpts=("alice@a.test",), sender="sender@example.org", mail_options=()):
    """Sends with smtplib; returns the queue id from the 250 reply."""
    with smtplib.SMTP(t.host, t.ports["smtp"], timeout=60) as s:
        s.ehlo("client.example.org")
        if "SMTPUTF8" in mail_options:
            s.command_encoding = "utf-8"
        code, text = s.mail(sender, list(mail_options))
        assert code == 250, text
        for rcpt in rcpts:
            code, text = s.rcpt(rcpt)
            assert code == 250, text
        code, text = s.data(body)
        assert code == 250, text
        return queue_id(text.decode())


def read_back(t, tok, user="alice@a.test"):
    msgs = pop_find(t, user, tok, delete=True)
    assert len(msgs) == 1
    return split_trace(msgs[0])


def blob_row(t, qid):
    """[inline? "1"/"0", file name or ""] of the blob of queue id qid."""
    return t.sql("SELECT b.data IS NOT NULL, ifnull(b.file, '') FROM messages m "
                 "JOIN blobs b ON b.id = m.blob_id WHERE m.queue_id = '%s' LIMIT 1" % qid).split("|")


def test_small_message_with_dots_blank_lines_and_whitespace_is_byte_exact(tern):
    tok = token()
    body = make_message(tok, body=(b"\r\n.\r\n..\r\n...three\r\n. space after dot\r\n"
                                   b"trailing spaces   \r\n\ttab\r\n\r\n\r\nlast line\r\n"))
    send(tern, body)
    return_path, delivered_to, received, rest = read_back(tern, tok)
    assert rest == body
    assert return_path == "<sender@example.org>" and delivered_to == "alice@a.test"
    assert received.startswith("Received: from client.example.org ([127.0.0.1])")
    assert "by mail.a.test (Tern) with ESMTP id " in received


def test_small_message_is_stored_inline_not_as_file(tern):
    tok = token()
    qid = send(tern, make_message(tok))
    assert blob_row(tern, qid) == ["1", ""]
    read_back(tern, tok)


def test_crlf_before_the_end_marker_belongs_to_the_message(tern):
    """RFC 5321 4.1.1.4: in CRLF "." CRLF the first CRLF ends the last
    line of the message; it is stored, and nothing else of the marker."""
    tok = token()
    r = connect(tern)
    r.send("MAIL FROM:<s@example.org>\r\nRCPT TO:<alice@a.test>\r\nDATA\r\n")
    assert [r.reply()[0] for _ in range(3)] == [250, 250, 354]
    r.send(make_message(tok, body=b"last") + b"\r\n.\r\n")
    assert r.reply()[0] == 250
    r.close()
    assert read_back(tern, tok)[3].endswith(b"\r\n\r\nlast\r\n")


def test_received_header_names_helo_ip_queue_id_and_recipient(tern):
    tok = token()
    r = connect(tern, ehlo="helo.example.net")
    r.send("MAIL FROM:<s@example.org>\r\nRCPT TO:<bob@a.test>\r\nDATA\r\n")
    assert [r.reply()[0] for _ in range(3)] == [250, 250, 354]
    r.send(dot_stuff(make_message(tok)))
    code, text = r.reply()
    qid = queue_id(text)
    r.close()
    _, _, received, _ = read_back(tern, tok, "bob@a.test")
    lines = received.split("\r\n")
    assert lines[0] == "Received: from helo.example.net ([127.0.0.1])"
    assert lines[1] == "\tby mail.a.test (Tern) with ESMTP id %s" % qid
    assert lines[2] == "\tfor <bob@a.test>;"
    assert lines[3].startswith("\t") and lines[3].endswith(" +0000")


def test_helo_instead_of_ehlo_gives_with_smtp(tern):
    tok = token()
    r = connect(tern, ehlo=None)
    assert r.cmd("HELO old.example.net")[0] == 250
    r.send("MAIL FROM:<s@example.org>\r\nRCPT TO:<alice@a.test>\r\nDATA\r\n")
    assert [r.reply()[0] for _ in range(3)] == [250, 250, 354]
    r.send(dot_stuff(make_message(tok)))
    assert r.reply()[0] == 250
    r.close()
    assert " with SMTP id " in read_back(tern, tok)[2]


def test_message_over_64k_is_a_blob_file_read_back_byte_exact(tern):
    tok = token()
    body = make_message(tok, body=b"".join(b".%05d dotted line %s\r\n" % (i, b"x" * 60)
                                           for i in range(1200)))
    assert len(body) > 64 * 1024
    qid = send(tern, body)
    inline, name = blob_row(tern, qid)
    assert inline == "0" and name
    path = os.path.join(tern.data_dir, "blobs", name)
    assert os.path.isfile(path)
    with open(path, "rb") as f:
        stored = f.read()
    assert stored.startswith(b"Received: ") and stored.endswith(body)
    assert read_back(tern, tok)[3] == body
    assert os.listdir(os.path.join(tern.data_dir, "tmp")) == []


def test_blob_of_exactly_64k_is_inline_and_one_octet_more_is_a_file(tern):
    """store.inline_max (64 KiB) counts the stored blob: Received header
    plus content. The Received header has the same length for every
    message here (same HELO, IP, recipient; fixed-width id and date)."""
    probe = token()
    send(tern, make_message(probe))
    received_len = len(read_back(tern, probe)[2]) + 2
    for extra, inline in ((0, "1"), (1, "0")):
        tok = token()
        head = make_message(tok, body=b"")
        filler = 64 * 1024 + extra - received_len - len(head)
        lines = [b"c" * 998 + b"\r\n"] * (filler // 1000 - 1)
        lines.append(b"d" * (filler % 1000 + 998) + b"\r\n")
        body = head + b"".join(lines)
        qid = send(tern, body)
        assert int(tern.sql("SELECT b.size FROM messages m JOIN blobs b ON b.id = m.blob_id "
                            "WHERE m.queue_id = '%s'" % qid)) == 64 * 1024 + extra
        assert blob_row(tern, qid)[0] == inline
        assert read_back(tern, tok)[3] == body


def test_several_mb_with_64k_lines_is_byte_exact(tern):
    tok = token()
    lines = []
    for i in range(64):
        n = LINE_MAX if i % 2 == 0 else 1000 + i * 37
        stem = b"%04d:" % i
        filler = bytes(33 + (j + i) % 94 for j in range(n - len(stem)))  # printable, varies
        lines.append(stem + filler + b"\r\n")
    lines[5] = b"." + lines[5][1:]          # dot-stuffed on the wire
    body = make_message(tok, body=b"".join(lines))
    assert len(body) > 2 * 1024 * 1024
    assert max(len(l) for l in body.split(b"\r\n")) == LINE_MAX
    send(tern, body, rcpts=["carol@a.test"])
    assert read_back(tern, tok, "carol@a.test")[3] == body


def test_line_of_exactly_64k_via_raw_data_is_accepted(tern):
    tok = token()
    body = make_message(tok, body=b"y" * LINE_MAX + b"\r\n")
    r = connect(tern)
    r.send("MAIL FROM:<s@example.org>\r\nRCPT TO:<alice@a.test>\r\nDATA\r\n")
    assert [r.reply()[0] for _ in range(3)] == [250, 250, 354]
    r.send(dot_stuff(body))
    assert r.reply()[0] == 250
    r.close()
    assert read_back(tern, tok)[3] == body


def test_data_line_over_64k_gets_552_534_and_nothing_stored(tern):
    tok = token()
    before = count(tern, "messages")
    r = connect(tern)
    r.send("MAIL FROM:<s@example.org>\r\nRCPT TO:<alice@a.test>\r\nDATA\r\n")
    assert [r.reply()[0] for _ in range(3)] == [250, 250, 354]
    r.send(dot_stuff(make_message(tok, body=b"ok\r\n" + b"y" * (LINE_MAX + 1) + b"\r\nmore\r\n")))
    code, text = r.reply()
    assert code == 552 and text.startswith("552 5.3.4 "), text
    assert r.cmd("NOOP") == (250, "250 2.0.0 Ok"), "the session stays in step"
    r.close()
    assert count(tern, "messages") == before
    assert messages_with_token(tern, tok) == 0
    assert os.listdir(os.path.join(tern.data_dir, "tmp")) == []


def test_8bit_body_with_body_8bitmime_is_byte_exact(tern):
    tok = token()
    raw = bytes(b for b in range(0x80, 0x100))      # every high octet
    body = make_message(tok, extra_headers=b"Content-Type: text/plain; charset=utf-8\r\n"
                        b"Content-Transfer-Encoding: 8bit\r\n",
                        body=("Grüße, Ωμέγα, 日本語\r\n".encode() + raw +
                              b"\r\n\x00nul\x7fdel\r\n"))
    send(tern, body, mail_options=["BODY=8BITMIME"])
    assert read_back(tern, tok)[3] == body


def test_ehlo_advertises_8bitmime_smtputf8_size_chunking(tern):
    r = connect(tern, ehlo=None)
    code, text = r.cmd("EHLO client.example.org")
    lines = [l[4:] for l in text.split("\n")]
    for ext in ("8BITMIME", "SMTPUTF8", "CHUNKING", "ENHANCEDSTATUSCODES", "STARTTLS"):
        assert ext in lines
    assert "SIZE 52428800" in lines
    r.close()


def test_smtputf8_with_utf8_local_part_reaches_account(tern):
    tok = token()
    body = make_message(tok, sender="jörg@exämple.org", to="alice+grüße@a.test")
    send(tern, body, rcpts=["alice+grüße@a.test"], sender="jörg@exämple.org",
         mail_options=["SMTPUTF8", "BODY=8BITMIME"])
    msgs = pop_find(tern, "alice@a.test", tok, delete=True)
    assert len(msgs) == 1
    assert msgs[0].startswith("Return-Path: <jörg@exämple.org>\r\n"
                              "Delivered-To: alice+grüße@a.test\r\n".encode())
    received, rest = split_trace(msgs[0])[2:]
    assert " with UTF8SMTP id " in received
    assert rest == body


def test_smtputf8_catch_all_with_utf8_local_part_reaches_carol(tern):
    tok = token()
    body = make_message(tok, to="δοκιμή@other.test")
    send(tern, body, rcpts=["δοκιμή@other.test"], mail_options=["SMTPUTF8"])
    msgs = pop_find(tern, "carol@a.test", tok, delete=True)
    assert len(msgs) == 1
    assert "Delivered-To: δοκιμή@other.test\r\n".encode() in msgs[0]
    assert split_trace(msgs[0])[3] == body


def test_non_ascii_rcpt_without_smtputf8_gets_553_567(tern):
    r = connect(tern)
    assert r.cmd("MAIL FROM:<sender@example.org>")[0] == 250
    r.send("RCPT TO:<grüße@a.test>\r\n".encode())
    code, text = r.reply()
    assert code == 553 and text.startswith("553 5.6.7 "), text
    r.close()


def test_non_ascii_sender_without_smtputf8_gets_553_567(tern):
    r = connect(tern)
    r.send("MAIL FROM:<jörg@example.org>\r\n".encode())
    code, text = r.reply()
    assert code == 553 and text.startswith("553 5.6.7 "), text
    assert r.cmd("MAIL FROM:<jorg@example.org>")[0] == 250, "no transaction was started"
    r.close()


def test_smtputf8_mail_param_with_utf8_sender_is_accepted(tern):
    r = connect(tern)
    r.send("MAIL FROM:<jörg@exämple.org> SMTPUTF8\r\n".encode())
    assert r.reply()[0] == 250
    r.send("RCPT TO:<δοκιμή@other.test>\r\n".encode())
    assert r.reply()[0] == 250
    r.cmd("RSET")
    r.close()


def test_null_sender_gives_empty_return_path(tern):
    tok = token()
    body = make_message(tok, sender="MAILER-DAEMON@example.org")
    r = connect(tern)
    r.send("MAIL FROM:<>\r\nRCPT TO:<alice@a.test>\r\nDATA\r\n")
    assert [r.reply()[0] for _ in range(3)] == [250, 250, 354]
    r.send(dot_stuff(body))
    assert r.reply()[0] == 250
    r.close()
    return_path, _, _, rest = read_back(tern, tok)
    assert return_path == "<>"
    assert rest == body


def test_empty_message_is_stored_with_trace_headers_only(tern):
    r = connect(tern)
    sender = token() + "@example.org"
    r.send("MAIL FROM:<%s>\r\nRCPT TO:<bob@a.test>\r\nDATA\r\n" % sender)
    assert [r.reply()[0] for _ in range(3)] == [250, 250, 354]
    r.send(".\r\n")
    code, text = r.reply()
    assert code == 250
    qid = queue_id(text)
    r.close()
    blob_id = tern.sql("SELECT blob_id FROM messages WHERE queue_id = '%s'" % qid)
    data = tern.sql("SELECT CAST(data AS TEXT) FROM blobs WHERE id = %s" % blob_id)
    assert data.startswith("Received: from client.example.org")
    assert data.rstrip("\n").endswith("+0000"), "nothing after the Received header"
