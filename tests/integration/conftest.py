"""Integration test harness: real ternd processes on loopback addresses.

Each Tern instance gets its own temporary data dir, a tern.conf with
listeners on 127.0.0.2 (or another loopback address), certificates from a
test CA made with the openssl command, and is administered with the real
`tern` CLI. TERN_BUILD names the build directory (default: build).
"""
import itertools
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, os.environ.get("TERN_BUILD", "build"))
TERND = os.path.join(BUILD, "ternd")
TERN = os.path.join(BUILD, "tern")

_ports = itertools.count(21000 + (os.getpid() % 200) * 40)

SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


def free_port(host="127.0.0.2"):
    """Next port from a per-run range that is free on host."""
    while True:
        port = next(_ports)
        with socket.socket() as s:
            try:
                s.bind((host, port))
                return port
            except OSError:
                continue


def make_base_dir():
    """A temp dir the unprivileged service user can traverse."""
    d = tempfile.mkdtemp(prefix="tern-test-", dir="/tmp")
    os.chmod(d, 0o755)
    return d


class Certs:
    """A test CA and server certificates signed by it."""

    def __init__(self, base):
        self.dir = os.path.join(base, "certs")
        os.makedirs(self.dir)
        os.chmod(self.dir, 0o755)
        self.ca = os.path.join(self.dir, "ca.pem")
        self.ca_key = os.path.join(self.dir, "ca.key")
        self._run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                  "-nodes", "-keyout", self.ca_key, "-out", self.ca, "-days", "30",
                  "-subj", "/CN=Tern Test CA")

    def _run(self, *args):
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    def issue(self, name, sans):
        """Returns (cert, key) paths for a leaf naming sans (e.g. DNS:a.test)."""
        key = os.path.join(self.dir, name + ".key")
        csr = os.path.join(self.dir, name + ".csr")
        cert = os.path.join(self.dir, name + ".pem")
        ext = os.path.join(self.dir, name + ".ext")
        with open(ext, "w") as f:
            f.write("basicConstraints=critical,CA:FALSE\n"
                    "keyUsage=critical,digitalSignature\n"
                    "extendedKeyUsage=serverAuth\n"
                    "subjectAltName=" + ",".join(sans) + "\n")
        self._run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                  "-keyout", key, "-out", csr, "-subj", "/CN=" + name)
        self._run("x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", self.ca_key,
                  "-CAcreateserial", "-out", cert, "-days", "30", "-extfile", ext)
        os.chmod(key, 0o644)   # the daemon re-reads it as nobody on SIGHUP
        return cert, key

    def client_context(self, hostname_check=True):
        ctx = ssl.create_default_context(cafile=self.ca)
        ctx.check_hostname = hostname_check
        return ctx


class Tern:
    """One ternd instance with its config, data dir and CLI."""

    def __init__(self, base, certs, host="127.0.0.2", hostname="mail.a.test", extra=None,
                 certificates=None, imap=False):
        self.base = tempfile.mkdtemp(prefix="ternd-", dir=base)
        os.chmod(self.base, 0o755)
        self.host = host
        self.hostname = hostname
        self.certs = certs
        self.ports = {"smtp": free_port(host), "pop3": free_port(host), "pop3s": free_port(host)}
        # imap=True adds the imap (143-like) and imaps (993-like) listeners
        self.imap_port = self.imaps_port = None
        if imap:
            self.ports["imap"] = self.imap_port = free_port(host)
            self.ports["imaps"] = self.imaps_port = free_port(host)
        self.data_dir = os.path.join(self.base, "data")
        self.conf = os.path.join(self.base, "tern.conf")
        self.log_path = os.path.join(self.base, "ternd.log")
        self.sendmail_socket = os.path.join(self.base, "sendmail.sock")
        if certificates is None:
            certificates = [certs.issue(hostname + "-" + os.path.basename(self.base),
                                        ["DNS:" + hostname, "DNS:localhost", "IP:" + host])]
        self.certificates = certificates
        self.extra = extra or {}
        self.proc = None
        self.write_config()

    def write_config(self, extra=None):
        if extra is not None:
            self.extra = extra
        sections = {
            "server": {"hostname": self.hostname, "data_dir": self.data_dir,
                       "user": "nobody", "log_level": "debug",
                       # one per instance, not the shared /run/tern default
                       "sendmail_socket": self.sendmail_socket},
            "listen": {k: "%s:%d" % (self.host, p) for k, p in self.ports.items()},
            # the tests place messages on both sides of a 64 KiB boundary
            # (inline in tern.db / blob file), whatever the default is
            "store": {"inline_max": "64k"},
            # the suite uses short test passwords and fails logins on purpose
            # from one client IP; test_auth_*.py set [auth] as they need
            "auth": {"min_password_length": "8", "min_password_score": "0",
                     "max_failures_per_ip": "100000", "max_failures_per_account": "100000",
                     "failure_delay": "0"},
            # no DNS unless a test brings its own server (queue_helpers.py):
            # remote mail then stays queued, deferred, and nothing leaves
            # the machine
            "dns": {"resolver": "127.0.0.1@9"},
        }
        for key, value in self.extra.items():
            section, name = key.split(".", 1)
            sections.setdefault(section, {})[name] = value
        lines = []
        for section, values in sections.items():
            lines.append("[%s]" % section)
            lines += ["%s = %s" % kv for kv in values.items()]
            lines.append("")
        lines.append("[tls]")
        for cert, key in self.certificates:
            lines += ["certificate = " + cert, "key = " + key]
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.chmod(self.conf, 0o644)

    # -- process ---------------------------------------------------------
    def start(self, timeout=20):
        self._log_offset = os.path.getsize(self.log_path) if os.path.exists(self.log_path) else 0
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([TERND, "-c", self.conf], stdout=log, stderr=log)
        log.close()
        deadline = time.time() + timeout
        while time.time() < deadline:
            if " ready " in self.log()[self._log_offset:]:
                return self
            if self.proc.poll() is not None:
                raise RuntimeError("ternd exited with %s:\n%s" % (self.proc.returncode, self.log()))
            time.sleep(0.02)
        raise RuntimeError("ternd did not become ready:\n" + self.log())

    def stop(self, sig=signal.SIGTERM, timeout=40):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.proc = None
        return rc

    def kill9(self):
        return self.stop(signal.SIGKILL)

    def log(self):
        if not os.path.exists(self.log_path):
            return ""
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def sanitizer_errors(self):
        text = self.log()
        return [m for m in SANITIZER_MARKERS if m in text]

    # -- admin -------------------------------------------------------------
    def cli(self, *args, input=None, check=True):
        r = subprocess.run([TERN, "-c", self.conf, *args], input=input, capture_output=True,
                           text=True, timeout=60)
        if check and r.returncode != 0:
            raise RuntimeError("tern %s failed (%d): %s%s" % (" ".join(args), r.returncode,
                                                             r.stdout, r.stderr))
        return r

    def add_user(self, address, password):
        self.cli("user", "add", address, "--password-stdin", input=password + "\n")

    def sql(self, query):
        """Reads the store directly with the sqlite3 CLI (for checks; a few tests
        also write, as the tern command would, while ternd runs)."""
        r = subprocess.run(["sqlite3", "-cmd", ".timeout 10000",
                            os.path.join(self.data_dir, "tern.db"), query],
                           capture_output=True, text=True, check=True)
        return r.stdout.strip()


@pytest.fixture(scope="session")
def base_dir():
    d = make_base_dir()
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def certs(base_dir):
    return Certs(base_dir)


PASSWORDS = {"alice@a.test": "alice-secret-1", "bob@a.test": "bob-secret-22",
             "carol@a.test": "carol-secret-333"}


def populate(t):
    t.cli("domain", "add", "a.test")
    t.cli("domain", "add", "other.test")
    for address, password in PASSWORDS.items():
        t.add_user(address, password)
    t.cli("alias", "add", "team@a.test", "alice@a.test", "bob@a.test")
    t.cli("alias", "add", "info@a.test", "carol@a.test")
    t.cli("alias", "add", "@other.test", "carol@a.test")
    t.cli("alias", "add", "fwd@a.test", "someone@remote.test")


def check_sanitizers(t):
    """Fails the test if the daemon's log holds an ASan/UBSan report."""
    errors = t.sanitizer_errors()
    if errors:
        lines = t.log().splitlines()
        found = [i for i, l in enumerate(lines) if any(m in l for m in SANITIZER_MARKERS)]
        report = "\n".join(lines[found[0]:found[0] + 30])
    assert not errors, "sanitizer reported %s:\n%s" % (errors, report)


def running(base_dir, certs, extra, **kwargs):
    """Generator for module fixtures: a populated, started instance that is
    stopped and checked for sanitizer reports afterwards. kwargs go to Tern
    (e.g. imap=True)."""
    t = Tern(base_dir, certs, extra=extra, **kwargs)
    populate(t)
    t.start()
    yield t
    t.stop()
    check_sanitizers(t)


@pytest.fixture(scope="module")
def tern(base_dir, certs):
    """A running ternd for a.test on 127.0.0.2 with users and aliases."""
    yield from running(base_dir, certs, {"server.plaintext_auth_loopback": "yes"})


@pytest.fixture
def fresh(base_dir, certs):
    """A ternd of its own for tests that kill, restart or reconfigure it."""
    instances = []

    def make(**kwargs):
        kwargs.setdefault("extra", {"server.plaintext_auth_loopback": "yes"})
        t = Tern(base_dir, certs, **kwargs)
        populate(t)
        instances.append(t)
        return t

    yield make
    for t in instances:
        t.stop()
        check_sanitizers(t)


class Raw:
    """A line-level client for protocol tests that smtplib/poplib hide."""

    def __init__(self, host, port, timeout=10, tls_context=None, server_hostname=None):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        if tls_context is not None:
            self.sock = tls_context.wrap_socket(self.sock, server_hostname=server_hostname)
        self.buf = b""

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def line(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed; buffered %r" % self.buf)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r").decode(errors="replace")

    def reply(self):
        """One SMTP reply (all its lines); returns (code, text of last line)."""
        lines = []
        while True:
            line = self.line()
            lines.append(line)
            if len(line) < 4 or line[3] != "-":
                return int(line[:3]), "\n".join(lines)

    def cmd(self, line):
        self.send(line + "\r\n")
        return self.reply()

    def starttls(self, context, server_hostname):
        self.sock = context.wrap_socket(self.sock, server_hostname=server_hostname)
        self.buf = b""

    def closed(self, timeout=30):
        """True if the server closes the connection (EOF) within timeout."""
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except (ConnectionResetError, ssl.SSLError):
            return True
        except socket.timeout:
            return False

    def close(self):
        self.sock.close()
