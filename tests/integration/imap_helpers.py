"""Shared helpers for the IMAP integration tests (test_imap_*.py).

An instance made with imap_instance() listens on imap (plain, STARTTLS)
and imaps (implicit TLS) besides smtp and pop3. Each test that looks at a
mailbox's contents makes a user of its own with new_user(), so tests that
share a module's instance never see each other's messages.

Two clients:
- Imap (imaplib.IMAP4 / IMAP4_SSL with a transcript of every line the
  server sent), for flows as a stdlib client sees them;
- ImapRaw, a tagged line client that returns exact untagged and tagged
  lines, for checking responses byte for byte and for malformed input.
"""
import imaplib
import itertools
import re

from conftest import Raw, running
from pop3_helpers import deliver, message, new_user, wait_for  # noqa: F401 (re-exported)

# Literal FETCH data and long LIST answers exceed imaplib's 1 MB default
imaplib._MAXLINE = 16 << 20

LOOPBACK_OK = {"server.plaintext_auth_loopback": "yes"}
LOOPBACK_NO = {"server.plaintext_auth_loopback": "no"}

# the five mailboxes every account has, with their RFC 6154 attributes
DEFAULT_MAILBOXES = {"INBOX": None, "Drafts": "\\Drafts", "Sent": "\\Sent",
                     "Junk": "\\Junk", "Trash": "\\Trash"}


def imap_instance(base_dir, certs, extra=None, **kwargs):
    """Generator for module fixtures: a populated, started instance with
    imap and imaps listeners (plaintext login allowed from loopback unless
    extra says otherwise)."""
    yield from running(base_dir, certs, LOOPBACK_OK if extra is None else extra,
                       imap=True, **kwargs)


class _Transcript:
    """Mixin recording every response line (and literal) imaplib reads."""

    def _init_transcript(self):
        self.transcript = []

    def _get_line(self):
        line = super()._get_line()
        self.transcript.append(line.decode("utf-8", "replace"))
        return line

    def lines(self, fn, *args, **kwargs):
        """Calls fn (an imaplib method) and returns (its result, the lines
        the server sent meanwhile, including the tagged one)."""
        start = len(self.transcript)
        result = fn(*args, **kwargs)
        return result, self.transcript[start:]


class Imap(_Transcript, imaplib.IMAP4):
    def __init__(self, host, port, timeout=10):
        self._init_transcript()
        super().__init__(host, port, timeout=timeout)


class ImapSSL(_Transcript, imaplib.IMAP4_SSL):
    def __init__(self, host, port, ssl_context, timeout=10):
        self._init_transcript()
        super().__init__(host, port, ssl_context=ssl_context, timeout=timeout)


def connect(t, mode="plain", timeout=10):
    """An imaplib client on imap ("plain"), imap + STARTTLS ("starttls")
    or imaps ("tls"), with the test CA and hostname checking."""
    if mode == "tls":
        return ImapSSL(t.host, t.imaps_port, t.certs.client_context(), timeout=timeout)
    m = Imap(t.host, t.imap_port, timeout=timeout)
    if mode == "starttls":
        m.starttls(ssl_context=t.certs.client_context())
    return m


def login(t, user, password, mode="plain"):
    m = connect(t, mode)
    typ, _ = m.login(user, password)
    assert typ == "OK"
    return m


def user_with_messages(t, count=0, subjects=None, password=None):
    """A new user with count messages (Subject "m1", "m2", ... unless
    subjects is given) delivered to its INBOX by SMTP; returns (address,
    password, [message bytes])."""
    address, password = new_user(t, password=password)
    subjects = subjects or ["m%d" % (i + 1) for i in range(count)]
    bodies = []
    for subject in subjects:
        body = message(subject=subject)
        deliver(t, address, body)
        bodies.append(body)
    return address, password, bodies


def quote(s):
    """An IMAP quoted string."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


_LITERAL_AT_END = re.compile(rb"\{(\d+)\+?\}\r\n$")


class LiteralLines:
    """rline()/line() over self.buf, refilled by self._fill(): response
    lines with their literals inlined. ImapRaw reads the socket; a
    compressed session (test_imap_compress.py) inflates first."""

    def rline(self):
        """One response line with its literals inlined (bytes, no CRLF)."""
        out = b""
        while True:
            while b"\r\n" not in self.buf:
                self._fill()
            i = self.buf.index(b"\r\n") + 2
            out += self.buf[:i]
            self.buf = self.buf[i:]
            m = _LITERAL_AT_END.search(out)
            if not m:
                return out[:-2]
            n = int(m.group(1))
            while len(self.buf) < n:
                self._fill()
            out += self.buf[:n]
            self.buf = self.buf[n:]

    def line(self):
        return self.rline().decode("utf-8", "replace")


class ImapRaw(LiteralLines, Raw):
    """Tagged IMAP client: cmd() sends one command and returns (tagged
    line, [untagged and continuation lines]). A response literal stays in
    its line, as "{n}\\r\\n" followed by its n octets, so a FETCH item reads
    as one string."""

    _tags = itertools.count(1)

    def __init__(self, host, port, greeting=True, **kwargs):
        super().__init__(host, port, **kwargs)
        self.greeting = self.line() if greeting else None

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("connection closed; buffered %r" % self.buf)
        self.buf += chunk

    def next_tag(self):
        return "t%d" % next(self._tags)

    def send_cmd(self, text, tag=None):
        """Sends "tag text" and returns the tag (does not read)."""
        tag = tag or self.next_tag()
        data = text.encode() if isinstance(text, str) else text
        self.send(tag.encode() + b" " + data + b"\r\n")
        return tag

    def read_until_tagged(self, tag):
        untagged = []
        while True:
            line = self.line()
            if line.startswith(tag + " "):
                return line, untagged
            untagged.append(line)

    def cmd(self, text, tag=None):
        """Sends one command; returns (tagged line without the tag,
        [other lines])."""
        tag = self.send_cmd(text, tag)
        tagged, untagged = self.read_until_tagged(tag)
        return tagged[len(tag) + 1:], untagged

    def ok(self, text):
        """cmd() that must end in OK; returns the untagged lines."""
        tagged, untagged = self.cmd(text)
        assert tagged.startswith("OK"), (text, tagged, untagged)
        return untagged

    def login(self, user, password):
        return self.ok("LOGIN %s %s" % (quote(user), quote(password)))

    def wait_line(self, predicate, timeout=10):
        """Reads lines until one satisfies predicate; returns it (or raises
        socket.timeout)."""
        self.sock.settimeout(timeout)
        try:
            while True:
                line = self.line()
                if predicate(line):
                    return line
        finally:
            self.sock.settimeout(10)


def raw(t, mode="plain", **kwargs):
    """An ImapRaw on imap ("plain") or imaps ("tls")."""
    if mode == "tls":
        return ImapRaw(t.host, t.imaps_port, tls_context=t.certs.client_context(),
                       server_hostname=t.host, **kwargs)
    return ImapRaw(t.host, t.imap_port, **kwargs)


def raw_login(t, user, password, mode="plain"):
    r = raw(t, mode)
    r.login(user, password)
    return r


def code(line, name):
    """The argument of response code [name ...] in line, or None."""
    m = re.search(r"\[" + re.escape(name) + r"(?: ([^\]]*))?\]", line)
    if not m:
        return None
    return m.group(1) if m.group(1) is not None else ""


def untagged_code(lines, name):
    for line in lines:
        value = code(line, name)
        if value is not None:
            return value
    return None


def find(lines, prefix):
    """Lines starting with prefix."""
    return [line for line in lines if line.startswith(prefix)]


def fetch_flags(lines):
    """{seq: set of flags} from "* n FETCH (... FLAGS (...) ...)" lines."""
    out = {}
    for line in lines:
        m = re.match(r"\* (\d+) FETCH \(.*FLAGS \(([^)]*)\)", line)
        if m:
            out[int(m.group(1))] = set(m.group(2).split())
    return out


def mailbox_names(list_lines):
    """Mailbox names from LIST/LSUB lines (quoted or atom, unquoted)."""
    names = []
    for line in list_lines:
        m = re.match(r'\* (?:LIST|LSUB) \([^)]*\) (?:"[^"]*"|NIL) (.*)$', line)
        if m:
            name = m.group(1)
            if name.startswith('"'):
                name = re.sub(r'\\(.)', r"\1", name[1:-1])
            names.append(name)
    return names


def list_attrs(list_lines):
    """{name: set of attributes} from LIST lines."""
    out = {}
    for line in list_lines:
        m = re.match(r'\* (?:LIST|LSUB) \(([^)]*)\) (?:"[^"]*"|NIL) (.*?)(?: \(.*\))?$', line)
        if m:
            name = m.group(2)
            if name.startswith('"'):
                name = re.sub(r'\\(.)', r"\1", name[1:-1])
            out[name] = set(m.group(1).split())
    return out


def wait_untagged(r, pattern, timeout=10):
    """Reads lines from an idling ImapRaw until one matches the regex;
    returns the line. The client sends nothing meanwhile, so the line was
    pushed. How fast is a benchmark's business (bench/imap, idle_wake),
    not a test's."""
    return r.wait_line(lambda l: re.search(pattern, l) is not None, timeout)


