"""`ternd --demo DIR`: a complete server on 127.0.0.1 (smtp 2025, pop3 2110,
pop3s 2995) that prints how to use it, and reuses DIR on the next start."""
import os
import poplib
import re
import shlex
import shutil
import signal
import ssl
import stat
import subprocess
import tempfile
import time

import pytest

from conftest import SANITIZER_MARKERS, TERN, TERND
from pop3_helpers import port_free

DEMO_PORTS = (2025, 2110, 2995, 2587, 2465)


class Demo:
    def __init__(self, base):
        self.dir = tempfile.mkdtemp(prefix="demo-", dir=base)
        os.chmod(self.dir, 0o755)
        self.proc = None
        self.out_path = os.path.join(self.dir, "..", os.path.basename(self.dir) + ".out")
        self.err_path = self.out_path[:-4] + ".err"
        self.outputs = []

    def start(self, timeout=30):
        if not all(port_free("127.0.0.1", p) for p in DEMO_PORTS):
            pytest.skip("demo ports %s on 127.0.0.1 are in use" % "/".join(map(str, DEMO_PORTS)))
        out = open(self.out_path, "w")
        err = open(self.err_path, "w")
        self.proc = subprocess.Popen([TERND, "--demo", self.dir], stdout=out, stderr=err)
        out.close()
        err.close()
        deadline = time.time() + timeout
        while time.time() < deadline:
            if " ready " in self.stderr() and "curl" in self.stdout():
                return self.stdout()
            if self.proc.poll() is not None:
                if "Address already in use" in self.stderr():
                    pytest.skip("demo ports are in use")
                raise RuntimeError("demo exited %s:\n%s" % (self.proc.returncode, self.stderr()))
            time.sleep(0.05)
        raise RuntimeError("demo did not become ready:\n" + self.stderr())

    def stdout(self):
        with open(self.out_path, errors="replace") as f:
            return f.read()

    def stderr(self):
        with open(self.err_path, errors="replace") as f:
            return f.read()

    def stop(self):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(40)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.proc = None
        self.outputs.append(self.stderr())
        return rc


@pytest.fixture
def demo(base_dir):
    d = Demo(base_dir)
    yield d
    d.stop()
    for text in d.outputs:
        errors = [m for m in SANITIZER_MARKERS if m in text]
        assert not errors, "sanitizer reported %s:\n%s" % (errors, text[-5000:])


def printed_password(out):
    m = re.search(r"^\s*password (\S+)", out, re.M)
    assert m, out
    return m.group(1)


def printed_line(out, tool):
    lines = [l.strip() for l in out.splitlines() if l.strip().startswith(tool + " ")]
    assert lines, out
    return lines[0]


def test_demo_creates_dir_files_and_prints_password(demo):
    out = demo.start()
    for name in ("tern.conf", "cert.pem", "key.pem", "demo-password"):
        assert os.path.exists(os.path.join(demo.dir, name)), name
    mode = stat.S_IMODE(os.stat(os.path.join(demo.dir, "demo-password")).st_mode)
    assert mode == 0o600
    with open(os.path.join(demo.dir, "demo-password")) as f:
        password = f.read().strip()
    assert len(password) >= 16
    assert printed_password(out) == password
    assert "demo@example.test" in out
    assert "swaks --server 127.0.0.1:2025" in out
    assert "pop3s://127.0.0.1:2995" in out


def test_demo_key_is_not_world_readable(demo):
    demo.start()
    mode = stat.S_IMODE(os.stat(os.path.join(demo.dir, "key.pem")).st_mode)
    assert mode & 0o077 == 0


@pytest.mark.skipif(shutil.which("swaks") is None or shutil.which("curl") is None,
                    reason="needs swaks and curl")
def test_demo_printed_swaks_and_curl_lines_work(demo):
    out = demo.start()
    swaks = printed_line(out, "swaks")
    r = subprocess.run(shlex.split(swaks), capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "<-  250 2.0.0 Ok: queued" in r.stdout
    curl = printed_line(out, "curl")
    assert "-k" in shlex.split(curl)
    r = subprocess.run(shlex.split(curl) + ["--max-time", "30"], capture_output=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    assert b"To: demo@example.test" in r.stdout
    assert b"From: you@example.org" in r.stdout
    assert b"This is a test mailing" in r.stdout


def test_demo_second_start_reuses_dir_and_password(demo):
    first = demo.start()
    with open(os.path.join(demo.dir, "tern.conf")) as f:
        conf = f.read()
    with open(os.path.join(demo.dir, "cert.pem")) as f:
        cert = f.read()
    assert demo.stop() == 0
    second = demo.start()
    assert printed_password(second) == printed_password(first)
    with open(os.path.join(demo.dir, "tern.conf")) as f:
        assert f.read() == conf
    with open(os.path.join(demo.dir, "cert.pem")) as f:
        assert f.read() == cert
    assert "demo: created" not in demo.stderr()


def test_demo_password_logs_in_over_pop3s_after_restart(demo):
    demo.start()
    demo.stop()
    demo.start()
    with open(os.path.join(demo.dir, "demo-password")) as f:
        password = f.read().strip()
    ctx = ssl.create_default_context(cafile=os.path.join(demo.dir, "cert.pem"))
    ctx.check_hostname = True
    p = poplib.POP3_SSL("127.0.0.1", 2995, context=ctx, timeout=10)
    p.user("demo@example.test")
    assert p.pass_(password).startswith(b"+OK")
    p.quit()


def test_demo_tern_user_list_shows_demo_user(demo):
    demo.start()
    r = subprocess.run([TERN, "-c", os.path.join(demo.dir, "tern.conf"), "user", "list"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[0] == "demo@example.test"


def test_demo_tern_status_works(demo):
    demo.start()
    r = subprocess.run([TERN, "-c", os.path.join(demo.dir, "tern.conf"), "status"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "hostname=localhost" in r.stdout


def test_demo_sigterm_exits_0(demo):
    demo.start()
    assert demo.stop() == 0
