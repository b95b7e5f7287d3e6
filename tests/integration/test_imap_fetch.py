"""FETCH and UID FETCH (RFC 9051 6.4.5, 7.5.2): FLAGS, INTERNALDATE,
RFC822.SIZE, ENVELOPE, BODY and BODYSTRUCTURE of a simple and a nested
multipart message, BODY[] sections with partial ranges, HEADER.FIELDS,
MIME, TEXT, BINARY and BINARY.SIZE (RFC 3516), RFC822.HEADER/TEXT,
CHANGEDSINCE (RFC 7162 3.1.4), and \\Seen set by BODY[] but not by
BODY.PEEK[]."""
import re

import pytest

from imap_helpers import deliver, imap_instance, login, new_user, raw_login

# A nested multipart: 1 multipart/alternative (1.1 text/plain, 1.2 text/html
# quoted-printable), 2 application/octet-stream base64 attachment.
MULTI = (b"From: Alice <alice@example.org>\r\n"
         b"To: bob@a.test, \"Carol C\" <carol@a.test>\r\n"
         b"Cc: dave@example.net\r\n"
         b"Subject: multipart test\r\n"
         b"Date: Mon, 02 Jan 2023 10:00:00 +0100\r\n"
         b"Message-ID: <multi-1@example.org>\r\n"
         b"MIME-Version: 1.0\r\n"
         b"Content-Type: multipart/mixed; boundary=\"outer\"\r\n"
         b"\r\n"
         b"preamble\r\n"
         b"--outer\r\n"
         b"Content-Type: multipart/alternative; boundary=\"inner\"\r\n"
         b"\r\n"
         b"--inner\r\n"
         b"Content-Type: text/plain; charset=utf-8\r\n"
         b"\r\n"
         b"plain text body\r\n"
         b"--inner\r\n"
         b"Content-Type: text/html; charset=utf-8\r\n"
         b"Content-Transfer-Encoding: quoted-printable\r\n"
         b"\r\n"
         b"<p>0123456789abcdef=3D</p>\r\n"
         b"--inner--\r\n"
         b"--outer\r\n"
         b"Content-Type: application/octet-stream; name=\"data.bin\"\r\n"
         b"Content-Disposition: attachment; filename=\"data.bin\"\r\n"
         b"Content-Transfer-Encoding: base64\r\n"
         b"\r\n"
         b"AAECAwQFBgcICQ==\r\n"
         b"--outer--\r\n")

SIMPLE = (b"From: sender@example.org\r\n"
          b"To: someone@a.test\r\n"
          b"Subject: simple one\r\n"
          b"Message-ID: <simple-1@example.org>\r\n"
          b"\r\n"
          b"hello\r\n"
          b"world\r\n")


@pytest.fixture(scope="module")
def tern(base_dir, certs):
    yield from imap_instance(base_dir, certs)


@pytest.fixture
def box(tern):
    """A session with INBOX selected holding 1 = SIMPLE, 2 = MULTI."""
    user, password = new_user(tern)
    deliver(tern, user, SIMPLE)
    deliver(tern, user, MULTI)
    r = raw_login(tern, user, password)
    r.ok("SELECT INBOX")
    r.user, r.password = user, password
    yield r
    r.close()


def one(r, command):
    tagged, lines = r.cmd(command)
    assert tagged.startswith("OK"), (command, tagged)
    assert len(lines) == 1, lines
    return lines[0]


def stored(r, n):
    """The stored message n as the server has it (with its trace headers)."""
    line = one(r, "FETCH %d BODY.PEEK[]" % n)
    m = re.match(r"\* \d+ FETCH \(BODY\[\] \{(\d+)\}\r\n", line)
    assert m, line[:200]
    data = line[m.end():m.end() + int(m.group(1))]
    return data


def test_fetch_flags_internaldate_size_uid(box):
    line = one(box, "FETCH 1 (FLAGS INTERNALDATE RFC822.SIZE UID)")
    m = re.match(r'\* 1 FETCH \(FLAGS \(\\Recent\) INTERNALDATE "(\d\d-\w{3}-\d{4} '
                 r'\d\d:\d\d:\d\d [+-]\d{4})" RFC822\.SIZE (\d+) UID 1\)$', line)
    assert m, line
    assert int(m.group(2)) == len(stored(box, 1).encode())


def test_fetch_rfc822_size_counts_stored_octets(box):
    size = int(re.search(r"RFC822\.SIZE (\d+)", one(box, "FETCH 2 RFC822.SIZE")).group(1))
    body = stored(box, 2).encode()
    assert size == len(body)
    assert body.endswith(MULTI)


def test_fetch_fast_macro(box):
    line = one(box, "FETCH 1 FAST")
    assert re.match(r'\* 1 FETCH \(FLAGS \(\\Recent\) INTERNALDATE "[^"]+" RFC822\.SIZE \d+\)$',
                    line), line


def test_fetch_envelope_of_simple_message(box):
    assert one(box, "FETCH 1 ENVELOPE") == (
        '* 1 FETCH (ENVELOPE (NIL "simple one" ((NIL NIL "sender" "example.org")) '
        '((NIL NIL "sender" "example.org")) ((NIL NIL "sender" "example.org")) '
        '((NIL NIL "someone" "a.test")) NIL NIL NIL "<simple-1@example.org>"))')


def test_fetch_envelope_with_names_cc_and_date(box):
    assert one(box, "FETCH 2 ENVELOPE") == (
        '* 2 FETCH (ENVELOPE ("Mon, 02 Jan 2023 10:00:00 +0100" "multipart test" '
        '(("Alice" NIL "alice" "example.org")) (("Alice" NIL "alice" "example.org")) '
        '(("Alice" NIL "alice" "example.org")) '
        '((NIL NIL "bob" "a.test")("Carol C" NIL "carol" "a.test")) '
        '((NIL NIL "dave" "example.net")) NIL NIL "<multi-1@example.org>"))')


def test_fetch_bodystructure_of_simple_message(box):
    assert one(box, "FETCH 1 BODYSTRUCTURE") == (
        '* 1 FETCH (BODYSTRUCTURE ("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 14 2 '
        'NIL NIL NIL NIL))')


def test_fetch_bodystructure_of_nested_multipart(box):
    assert one(box, "FETCH 2 BODYSTRUCTURE") == (
        '* 2 FETCH (BODYSTRUCTURE ((('
        '"TEXT" "PLAIN" ("CHARSET" "utf-8") NIL NIL "7BIT" 15 1 NIL NIL NIL NIL)('
        '"TEXT" "HTML" ("CHARSET" "utf-8") NIL NIL "QUOTED-PRINTABLE" 26 1 NIL NIL NIL NIL) '
        '"ALTERNATIVE" ("BOUNDARY" "inner") NIL NIL NIL)('
        '"APPLICATION" "OCTET-STREAM" ("NAME" "data.bin") NIL NIL "BASE64" 16 NIL '
        '("ATTACHMENT" ("FILENAME" "data.bin")) NIL NIL) '
        '"MIXED" ("BOUNDARY" "outer") NIL NIL NIL))')


def test_fetch_body_is_bodystructure_without_extensions(box):
    assert one(box, "FETCH 2 BODY") == (
        '* 2 FETCH (BODY ((("TEXT" "PLAIN" ("CHARSET" "utf-8") NIL NIL "7BIT" 15 1)'
        '("TEXT" "HTML" ("CHARSET" "utf-8") NIL NIL "QUOTED-PRINTABLE" 26 1) "ALTERNATIVE")'
        '("APPLICATION" "OCTET-STREAM" ("NAME" "data.bin") NIL NIL "BASE64" 16) "MIXED"))')


def test_fetch_body_peek_header_fields_subject(box):
    assert one(box, "FETCH 1 BODY.PEEK[HEADER.FIELDS (SUBJECT)]") == (
        "* 1 FETCH (BODY[HEADER.FIELDS (SUBJECT)] {23}\r\nSubject: simple one\r\n\r\n)")


def test_fetch_header_fields_not(box):
    line = one(box, "FETCH 1 BODY.PEEK[HEADER.FIELDS.NOT (SUBJECT FROM TO)]")
    assert "Subject:" not in line and "From:" not in line
    assert "Message-ID: <simple-1@example.org>\r\n\r\n)" in line


def test_fetch_partial_of_nested_part(box):
    assert one(box, "FETCH 2 BODY.PEEK[1.2]<0.10>") == \
        "* 2 FETCH (BODY[1.2]<0> {10}\r\n<p>0123456)"
    assert one(box, "FETCH 2 BODY.PEEK[1.2]<3.4>") == "* 2 FETCH (BODY[1.2]<3> {4}\r\n0123)"


def test_fetch_partial_beyond_end_is_empty(box):
    assert one(box, "FETCH 2 BODY.PEEK[1.1]<100.10>") == '* 2 FETCH (BODY[1.1]<100> "")' or \
        one(box, "FETCH 2 BODY.PEEK[1.1]<100.10>") == "* 2 FETCH (BODY[1.1]<100> {0}\r\n)"


def test_fetch_body_text(box):
    assert one(box, "FETCH 1 BODY.PEEK[TEXT]") == "* 1 FETCH (BODY[TEXT] {14}\r\nhello\r\nworld\r\n)"


def test_fetch_part_mime_header(box):
    assert one(box, "FETCH 2 BODY.PEEK[2.MIME]") == (
        '* 2 FETCH (BODY[2.MIME] {148}\r\nContent-Type: application/octet-stream; '
        'name="data.bin"\r\nContent-Disposition: attachment; filename="data.bin"\r\n'
        'Content-Transfer-Encoding: base64\r\n\r\n)')


def test_fetch_binary_of_simple_message_part_1(box):
    assert one(box, "FETCH 1 BINARY.PEEK[1]") == "* 1 FETCH (BINARY[1] {14}\r\nhello\r\nworld\r\n)"


def test_fetch_binary_size_of_simple_message(box):
    assert one(box, "FETCH 1 BINARY.SIZE[1]") == "* 1 FETCH (BINARY.SIZE[1] 14)"


def test_fetch_binary_decodes_base64_with_literal8(box):
    assert one(box, "FETCH 2 BINARY.SIZE[2]") == "* 2 FETCH (BINARY.SIZE[2] 10)"
    line = one(box, "FETCH 2 BINARY.PEEK[2]")
    assert line == "* 2 FETCH (BINARY[2] ~{10}\r\n\x00\x01\x02\x03\x04\x05\x06\x07\x08\t)"


def test_fetch_binary_decodes_quoted_printable(box):
    assert one(box, "FETCH 2 BINARY.PEEK[1.2]") == \
        "* 2 FETCH (BINARY[1.2] {24}\r\n<p>0123456789abcdef=</p>)"


def test_fetch_rfc822_header_is_the_header_section(box):
    line = one(box, "FETCH 1 RFC822.HEADER")
    m = re.match(r"\* 1 FETCH \(RFC822\.HEADER \{(\d+)\}\r\n", line)
    assert m, line
    header = line[m.end():m.end() + int(m.group(1))]
    assert header.endswith("Subject: simple one\r\nMessage-ID: <simple-1@example.org>\r\n\r\n")
    assert line.endswith(header + ")")


def test_fetch_body_sets_seen_but_peek_does_not(box):
    one(box, "FETCH 1 BODY.PEEK[]")
    assert one(box, "FETCH 1 FLAGS") == "* 1 FETCH (FLAGS (\\Recent))"
    tagged, lines = box.cmd("FETCH 1 BODY[]")
    assert tagged == "OK FETCH completed"
    # RFC 9051 6.4.5: the \Seen change is reported in the same response
    assert len(lines) == 1 and re.search(r"FLAGS \(\\Seen \\Recent\)\)$", lines[0]), lines[0][-80:]
    assert one(box, "FETCH 1 FLAGS") == "* 1 FETCH (FLAGS (\\Seen \\Recent))"


def test_fetch_binary_sets_seen_and_binary_peek_does_not(box):
    one(box, "FETCH 2 BINARY.PEEK[1.1]")
    assert "\\Seen" not in one(box, "FETCH 2 FLAGS")
    box.cmd("FETCH 2 BINARY[1.1]")
    assert "\\Seen" in one(box, "FETCH 2 FLAGS")


def test_fetch_in_examine_does_not_set_seen(tern):
    user, password = new_user(tern)
    deliver(tern, user, SIMPLE)
    r = raw_login(tern, user, password)
    r.ok("EXAMINE INBOX")
    r.cmd("FETCH 1 BODY[]")
    assert one(r, "FETCH 1 FLAGS") in ("* 1 FETCH (FLAGS ())", "* 1 FETCH (FLAGS (\\Recent))")
    r.close()


def test_uid_fetch_includes_uid(box):
    line = one(box, "UID FETCH 2 FLAGS")
    assert line in ("* 2 FETCH (UID 2 FLAGS (\\Recent))", "* 2 FETCH (FLAGS (\\Recent) UID 2)")


def test_uid_fetch_missing_uid_returns_nothing(box):
    tagged, lines = box.cmd("UID FETCH 99 FLAGS")
    assert tagged.startswith("OK") and lines == []


def test_fetch_out_of_range_gets_bad(box):
    tagged, _ = box.cmd("FETCH 3 FLAGS")
    assert tagged.startswith("BAD"), tagged


def test_uid_fetch_changedsince_returns_only_changed(box):
    box.ok("ENABLE CONDSTORE")
    _, lines = box.cmd("STATUS INBOX (HIGHESTMODSEQ)")
    highest = int(re.search(r"HIGHESTMODSEQ (\d+)", lines[0]).group(1))
    box.ok("STORE 2 +FLAGS.SILENT (\\Flagged)")
    tagged, lines = box.cmd("UID FETCH 1:* (FLAGS) (CHANGEDSINCE %d)" % highest)
    assert tagged.startswith("OK"), tagged
    assert len(lines) == 1, lines
    assert lines[0].startswith("* 2 FETCH (")
    assert "UID 2" in lines[0] and "\\Flagged" in lines[0]
    assert int(re.search(r"MODSEQ \((\d+)\)", lines[0]).group(1)) > highest


def test_fetch_modseq(box):
    box.ok("ENABLE CONDSTORE")
    assert re.match(r"\* 1 FETCH \(MODSEQ \(\d+\)\)$", one(box, "FETCH 1 (MODSEQ)"))


def test_fetch_unknown_item_gets_bad(box):
    tagged, _ = box.cmd("FETCH 1 (FLAGS BOGUS)")
    assert tagged.startswith("BAD"), tagged


def test_imaplib_fetch_rfc822_returns_message(tern):
    user, password = new_user(tern)
    deliver(tern, user, SIMPLE)
    m = login(tern, user, password)
    m.select("INBOX")
    typ, data = m.fetch("1", "(RFC822)")
    assert typ == "OK"
    assert data[0][1].endswith(SIMPLE)
    typ, data = m.uid("FETCH", "1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert data[0][1] == b"Subject: simple one\r\n\r\n"
    m.logout()
