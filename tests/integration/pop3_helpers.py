"""Shared helpers for the POP3, CLI, config and daemon integration tests.

Each POP3 test that looks at a mailbox's contents makes a user of its own
with new_user(), so tests sharing the module's `tern` instance never see
each other's messages or hold each other's mailbox lock.
"""
import base64
import itertools
import os
import poplib
import secrets
import smtplib
import socket
import time

from conftest import Raw

_users = itertools.count(1)


def new_user(t, prefix="u", domain="a.test", password=None):
    """Adds a fresh user to t; returns (address, password)."""
    address = "%s%d-%s@%s" % (prefix, next(_users), secrets.token_hex(3), domain)
    password = password or "pw-" + secrets.token_hex(8)
    t.add_user(address, password)
    return address, password


def message(subject="test", body=b"hello\r\n", token=None, extra_headers=b""):
    """A CRLF message; token (random by default) makes its blob unique."""
    token = token or secrets.token_hex(8)
    return (b"From: sender@example.org\r\nTo: someone@a.test\r\nSubject: " + subject.encode() +
            b"\r\nMessage-ID: <" + token.encode() + b"@example.org>\r\n" + extra_headers +
            b"\r\n" + body)


def big_body(mbytes=1.5):
    """About mbytes MiB of 76-character lines, some starting with '.'."""
    lines = []
    size = 0
    i = 0
    while size < mbytes * 1024 * 1024:
        prefix = b"." if i % 97 == 0 else b""
        line = prefix + (b"%08d " % i) + secrets.token_hex(33).encode() + b"\r\n"
        lines.append(line)
        size += len(line)
        i += 1
    return b"".join(lines)


def deliver(t, rcpt, body, sender="sender@example.org"):
    """Sends body to rcpt over SMTP; returns once the server said 250."""
    with smtplib.SMTP(t.host, t.ports["smtp"], timeout=30) as s:
        s.ehlo("client.example.org")
        s.sendmail(sender, [rcpt], body)


def deliver_many(t, rcpt, bodies):
    for body in bodies:
        deliver(t, rcpt, body)


def pop_plain(t, timeout=10):
    return poplib.POP3(t.host, t.ports["pop3"], timeout=timeout)


def pop_stls(t, timeout=10):
    p = poplib.POP3(t.host, t.ports["pop3"], timeout=timeout)
    p.stls(context=t.certs.client_context())
    return p


def pop_ssl(t, timeout=10):
    return poplib.POP3_SSL(t.host, t.ports["pop3s"], timeout=timeout,
                           context=t.certs.client_context())


def connect(t, mode="plain"):
    """A poplib client over pop3 ("plain"), pop3 + STLS ("stls") or pop3s."""
    return {"plain": pop_plain, "stls": pop_stls, "pop3s": pop_ssl}[mode](t)


def login(t, user, password, mode="plain"):
    p = connect(t, mode)
    p.user(user)
    p.pass_(password)
    return p


def retr_bytes(p, n):
    """RETR n as the exact octets of the message (poplib undoes stuffing)."""
    _, lines, _ = p.retr(n)
    return b"".join(line + b"\r\n" for line in lines)


def top_lines(p, n, count):
    _, lines, _ = p.top(n, count)
    return lines


def list_sizes(p):
    """LIST as {number: size}."""
    _, lines, _ = p.list()
    out = {}
    for line in lines:
        n, size = line.split()
        out[int(n)] = int(size)
    return out


def uidl_map(p):
    """UIDL as {number: unique-id}."""
    _, lines, _ = p.uidl()
    out = {}
    for line in lines:
        n, uid = line.split()
        out[int(n)] = uid.decode()
    return out


def blob_files(t):
    """Relative paths of every blob file under data_dir/blobs."""
    root = os.path.join(t.data_dir, "blobs")
    found = set()
    for dirpath, _, files in os.walk(root):
        for f in files:
            found.add(os.path.relpath(os.path.join(dirpath, f), root))
    return found


def wait_for(predicate, timeout=30, interval=0.02):
    """Polls predicate until it is true; returns its last value."""
    deadline = time.time() + timeout
    while True:
        value = predicate()
        if value or time.time() > deadline:
            return value
        time.sleep(interval)


def wait_log(t, text, timeout=30, start=0):
    """Waits until text appears in t's log after offset start."""
    return wait_for(lambda: text in t.log()[start:], timeout)


def port_free(host, port):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
            return True
        except OSError:
            return False


class PopRaw(Raw):
    """Line-level POP3 client: status lines and multi-line replies."""

    def __init__(self, host, port, greeting=True, **kwargs):
        super().__init__(host, port, **kwargs)
        self.greeting = self.line() if greeting else None

    def cmd(self, line):
        """Sends one command line; returns the status line."""
        self.send(line + "\r\n")
        return self.line()

    def multi(self):
        """Reads the body of a multi-line reply up to "." (unstuffed)."""
        lines = []
        while True:
            line = self.line()
            if line == ".":
                return lines
            lines.append(line[1:] if line.startswith("..") else line)

    def login(self, user, password):
        assert self.cmd("USER " + user).startswith("+OK")
        reply = self.cmd("PASS " + password)
        assert reply.startswith("+OK"), reply
        return reply


def raw(t, service="pop3", tls=False, **kwargs):
    """A PopRaw on t's pop3 (or pop3s with tls=True)."""
    if tls:
        return PopRaw(t.host, t.ports["pop3s"], tls_context=t.certs.client_context(),
                      server_hostname=t.hostname, **kwargs)
    return PopRaw(t.host, t.ports[service], **kwargs)


def plain_b64(user, password, authzid=""):
    """An AUTH PLAIN response (RFC 4616) in base64."""
    return base64.b64encode(("%s\0%s\0%s" % (authzid, user, password)).encode()).decode()


def peer_cert(host, port, ca_ctx, server_hostname):
    """The DER certificate a TLS server presents for server_hostname."""
    with socket.create_connection((host, port), timeout=10) as sock:
        with ca_ctx.wrap_socket(sock, server_hostname=server_hostname) as tls:
            return tls.getpeercert(binary_form=True), tls.getpeercert()


def cert_serial(path):
    """The serial number of a PEM certificate, as an int."""
    import subprocess
    out = subprocess.run(["openssl", "x509", "-in", path, "-noout", "-serial"],
                         capture_output=True, text=True, check=True).stdout
    return int(out.strip().split("=", 1)[1], 16)


def der_serial(der):
    import subprocess
    out = subprocess.run(["openssl", "x509", "-inform", "DER", "-noout", "-serial"],
                         input=der, capture_output=True, check=True).stdout.decode()
    return int(out.strip().split("=", 1)[1], 16)


def status(t):
    """`tern status` as a dict of its key=value lines."""
    r = t.cli("status")
    return dict(line.split("=", 1) for line in r.stdout.splitlines() if "=" in line)


def cli_lines(t, *args):
    return t.cli(*args).stdout.splitlines()


def first_words(lines):
    return [line.split()[0] for line in lines if line.strip()]
