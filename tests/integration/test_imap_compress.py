"""COMPRESS=DEFLATE (RFC 4978): after "OK DEFLATE active" both directions
are raw deflate streams; every response must be flushed, LOGOUT's too.
The client here is zlib over the raw socket (plain or imaps), so the tests
control exactly how the compressed bytes are cut into sends: with the
COMPRESS command, a large literal in one burst, or a slow reader."""
import re
import time
import zlib

import pytest

from imap_helpers import (LiteralLines, deliver, imap_instance, message, new_user, quote, raw,
                          raw_login)
from pop3_helpers import big_body, wait_for


@pytest.fixture(scope="module")
def tern(base_dir, certs):
    yield from imap_instance(base_dir, certs)


class Deflated(LiteralLines):
    """Sends and reads IMAP lines through raw deflate on an ImapRaw socket.
    comp is the compressor the caller may already have used (bytes sent in
    the same send() as COMPRESS)."""

    def __init__(self, r, comp=None):
        self.sock = r.sock
        self.comp = comp or zlib.compressobj(wbits=-15)
        self.decomp = zlib.decompressobj(wbits=-15)
        # whatever ImapRaw read past "OK DEFLATE active" is compressed
        self.buf = self.decomp.decompress(r.buf)
        r.buf = b""
        self.eof = False

    def deflate(self, data):
        return self.comp.compress(data) + self.comp.flush(zlib.Z_SYNC_FLUSH)

    def send(self, line):
        self.send_raw(line.encode() + b"\r\n")

    def send_raw(self, data):
        self.sock.sendall(self.deflate(data))

    def _fill(self, timeout=20):
        self.sock.settimeout(timeout)
        chunk = self.sock.recv(65536)
        if not chunk:
            self.eof = True
            raise EOFError("connection closed; buffered %r" % self.buf[-200:])
        self.buf += self.decomp.decompress(chunk)

    def lines_until(self, tag):
        """Lines up to the tagged one; stops early (eof set) on EOF."""
        out = []
        while True:
            try:
                line = self.line()
            except EOFError:
                return out
            out.append(line)
            if line.startswith(tag + " "):
                return out

    def read_to_eof(self, timeout=20):
        """Reads until the server closes; returns what it sent meanwhile."""
        deadline = time.time() + timeout
        while not self.eof:
            assert time.time() < deadline, "server did not close: %r" % self.buf[-200:]
            try:
                self._fill(timeout=max(0.1, deadline - time.time()))
            except EOFError:
                pass
            except ConnectionResetError:
                self.eof = True
        return self.buf


def logged_in(t, user, password, mode):
    """An ImapRaw logged in over plain, imaps ("tls") or STARTTLS."""
    if mode != "starttls":
        return raw_login(t, user, password, mode=mode)
    r = raw(t, "plain")
    tagged, _ = r.cmd("STARTTLS")
    assert tagged.startswith("OK"), tagged
    r.sock = t.certs.client_context().wrap_socket(r.sock, server_hostname=t.host)
    r.login(user, password)
    return r


def compressed_session(t, mode="tls", user=None, password=None):
    if user is None:
        user, password = new_user(t)
    r = logged_in(t, user, password, mode)
    tagged, _ = r.cmd("COMPRESS DEFLATE")
    assert tagged == "OK DEFLATE active", tagged
    return Deflated(r)


def caps_of(line):
    m = re.search(r"CAPABILITY ([^\]]*)", line)
    return m.group(1).split() if m else []


@pytest.mark.parametrize("mode", ["plain", "starttls", "tls"])
def test_compress_then_commands_work(tern, mode):
    d = compressed_session(tern, mode)
    d.send("n1 NOOP")
    assert d.lines_until("n1") == ["n1 OK NOOP completed"]
    d.send("l1 LIST \"\" INBOX")
    assert d.lines_until("l1") == ['* LIST (\\HasNoChildren) "/" INBOX', "l1 OK LIST completed"]


def test_compress_announced_after_login_until_active(tern):
    """COMPRESS is an authenticated-state command (RFC 4978 5,
    command-auth); once on, announcing it again would invite a second."""
    user, password = new_user(tern)
    r = raw(tern, "tls")
    assert "COMPRESS=DEFLATE" not in caps_of(r.greeting), r.greeting
    _, lines = r.cmd("CAPABILITY")
    assert "COMPRESS=DEFLATE" not in caps_of(lines[0]), lines
    tagged, _ = r.cmd("LOGIN %s %s" % (quote(user), quote(password)))
    assert "COMPRESS=DEFLATE" in caps_of(tagged), tagged
    _, lines = r.cmd("CAPABILITY")
    assert "COMPRESS=DEFLATE" in caps_of(lines[0]), lines
    tagged, _ = r.cmd("COMPRESS DEFLATE")
    assert tagged == "OK DEFLATE active"
    d = Deflated(r)
    d.send("c1 CAPABILITY")
    lines = d.lines_until("c1")
    assert lines[-1] == "c1 OK CAPABILITY completed", lines
    assert "COMPRESS=DEFLATE" not in caps_of(lines[0]), lines


def test_compress_before_login_gets_bad(tern):
    r = raw(tern, "tls")
    tagged, _ = r.cmd("COMPRESS DEFLATE")
    assert tagged.startswith("BAD"), tagged
    _, lines = r.cmd("CAPABILITY")           # still talking plain
    assert lines[0].startswith("* CAPABILITY"), lines


def test_compress_twice_gets_no_compressionactive(tern):
    d = compressed_session(tern)
    d.send("c2 COMPRESS DEFLATE")
    lines = d.lines_until("c2")
    assert lines[-1].startswith("c2 NO [COMPRESSIONACTIVE]") or lines[-1].startswith("c2 BAD"), lines


def test_logout_under_compress_sends_bye_and_ok_then_closes(tern):
    """mbsync waits for the server to close after LOGOUT's OK: the close
    must wait for the compressed bytes to leave, then happen."""
    d = compressed_session(tern)
    d.send("lo LOGOUT")
    lines = d.lines_until("lo")
    assert lines == ["* BYE Logging out", "lo OK LOGOUT completed"], lines
    d.read_to_eof()


@pytest.mark.parametrize("mode", ["plain", "starttls", "tls"])
def test_first_command_in_same_send_as_compress_is_inflated(tern, mode):
    """A client that does not wait for the OK (RFC 4978 3 says it must,
    some pipeline anyway): the bytes after the COMPRESS line are already
    compressed and must not be read as plain text."""
    user, password = new_user(tern)
    r = logged_in(tern, user, password, mode)
    comp = zlib.compressobj(wbits=-15)
    r.send(b"c1 COMPRESS DEFLATE\r\n" + comp.compress(b"n1 NOOP\r\nn2 LIST \"\" INBOX\r\n") +
           comp.flush(zlib.Z_SYNC_FLUSH))
    assert r.line() == "c1 OK DEFLATE active"
    d = Deflated(r, comp)
    assert d.lines_until("n1") == ["n1 OK NOOP completed"]
    assert d.lines_until("n2") == ['* LIST (\\HasNoChildren) "/" INBOX', "n2 OK LIST completed"]


def repetitive_message(mbytes):
    """A message that deflates to a few percent of its size, so that a
    single compressed send inflates to far more than the server's read
    buffer."""
    lines = [b"line %07d of a long and very repetitive message body\r\n" % i
             for i in range(int(mbytes * 1024 * 1024 / 56))]
    return message(subject="big", body=b"".join(lines))


@pytest.mark.parametrize("literal_plus", [False, True], ids=["sync", "literal+"])
def test_compressed_append_of_large_literal_is_stored_whole(tern, literal_plus):
    d = compressed_session(tern)
    body = repetitive_message(3)
    if literal_plus:
        # the whole command, literal and a NOOP after it in one send
        d.send_raw(b"a1 APPEND INBOX {%d+}\r\n" % len(body) + body + b"\r\nn1 NOOP\r\n")
    else:
        d.send("a1 APPEND INBOX {%d}" % len(body))
        assert d.line().startswith("+ ")
        d.send_raw(body + b"\r\nn1 NOOP\r\n")
    lines = d.lines_until("a1")
    assert lines[-1].startswith("a1 OK [APPENDUID "), lines
    assert d.lines_until("n1")[-1] == "n1 OK NOOP completed"
    d.send("s1 SELECT INBOX")
    assert d.lines_until("s1")[-1].startswith("s1 OK")
    d.send("f1 FETCH 1 BODY.PEEK[]")
    got = d.rline()
    assert got.endswith(b" {%d}\r\n" % len(body) + body + b")"), got[:200]
    assert d.lines_until("f1")[-1] == "f1 OK FETCH completed"


def test_compressed_fetch_of_large_bodies_to_slow_reader(tern):
    """Poorly compressible bodies larger than the server's output limit:
    FETCH pauses until the compressed bytes have left and resumes."""
    user, password = new_user(tern)
    bodies = [message(subject="big%d" % i, body=big_body(0.7)) for i in range(3)]
    for body in bodies:
        deliver(tern, user, body)
    d = compressed_session(tern, user=user, password=password)
    d.send("s1 SELECT INBOX")
    assert "* 3 EXISTS" in d.lines_until("s1")
    d.send("f1 FETCH 1:3 BODY.PEEK[]")
    time.sleep(1)                            # let the server's buffers fill
    for i, body in enumerate(bodies):
        got = d.rline()
        m = re.match(rb"\* %d FETCH \(BODY\[\] \{(\d+)\}\r\n" % (i + 1), got)
        assert m, got[:100]
        # the stored message is the delivered one after Tern's trace headers
        assert len(got) == m.end() + int(m.group(1)) + 1, (len(got), m.group(1))
        assert got.endswith(body + b")")
    assert d.lines_until("f1") == ["f1 OK FETCH completed"]


def test_pipelined_fetch_and_large_append_under_compress(tern):
    """mbsync's pattern: commands sent without waiting. FETCH stops
    reading while its output waits, with a large compressed literal
    behind it in the buffers; all of it must be answered."""
    user, password = new_user(tern)
    bodies = [message(subject="big%d" % i, body=big_body(0.7)) for i in range(2)]
    for body in bodies:
        deliver(tern, user, body)
    d = compressed_session(tern, user=user, password=password)
    d.send("s1 SELECT INBOX")
    assert "* 2 EXISTS" in d.lines_until("s1")
    big = repetitive_message(3)
    d.send_raw(b"f1 FETCH 1:2 BODY.PEEK[]\r\na1 APPEND INBOX {%d+}\r\n" % len(big) + big +
               b"\r\nn1 NOOP\r\n")
    time.sleep(1)                            # let the server's buffers fill
    lines = d.lines_until("f1")
    assert lines[-1] == "f1 OK FETCH completed", lines[-1]
    assert [l.split(" (", 1)[0] for l in lines[:-1]] == ["* 1 FETCH", "* 2 FETCH"]
    assert d.lines_until("a1")[-1].startswith("a1 OK [APPENDUID ")
    assert d.lines_until("n1")[-1] == "n1 OK NOOP completed"


def test_idle_under_compress_reports_new_mail_and_ends_on_done(tern):
    user, password = new_user(tern)
    d = compressed_session(tern, user=user, password=password)
    d.send("s1 SELECT INBOX")
    assert d.lines_until("s1")[-1].startswith("s1 OK")
    d.send("i1 IDLE")
    assert d.line().startswith("+ ")
    deliver(tern, user, message(subject="while idle"))
    d.sock.settimeout(20)
    assert d.line() == "* 1 EXISTS"
    d.send("DONE")
    lines = d.lines_until("i1")
    assert lines[-1] == "i1 OK IDLE terminated", lines
    d.send("n1 NOOP")
    assert d.lines_until("n1")[-1] == "n1 OK NOOP completed"


def test_corrupt_deflate_stream_closes_connection(tern):
    """Bytes that are not deflate (here a reserved block type) cannot be
    resynchronised: the server drops the connection instead of waiting."""
    d = compressed_session(tern)
    d.sock.sendall(b"\xff" * 16)
    d.read_to_eof()
    assert wait_for(lambda: "deflate_error" in tern.log()), tern.log()[-2000:]
