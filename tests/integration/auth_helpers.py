"""Helpers for the account security tests (test_auth_*.py): an instance
with an IMAP listener and explicit [auth] settings, logins over IMAP and
POP3 from a chosen source address, and two-factor enrolment through the
real `tern user 2fa enable` with codes from oathtool."""
import imaplib
import poplib
import re
import socket
import subprocess
import time

from conftest import Tern, check_sanitizers, free_port, populate


def auth_instance(base_dir, certs, **auth):
    """A populated, started ternd with imap, and [auth] keys from auth."""
    extra = {"server.plaintext_auth_loopback": "yes",
             "listen.imap": "127.0.0.2:%d" % free_port(),
             "listen.submission": "127.0.0.2:%d" % free_port()}
    t = Tern(base_dir, certs, extra=dict(extra))
    t.imap_port = int(extra["listen.imap"].rsplit(":", 1)[1])
    t.submission_port = int(extra["listen.submission"].rsplit(":", 1)[1])
    populate(t)  # the suite's passwords, under the suite's relaxed policy
    for k, v in auth.items():
        extra["auth." + k] = str(v)
    t.write_config(extra)
    t.start()
    return t


def stop(t):
    t.stop()
    check_sanitizers(t)


class _SourcePOP3(poplib.POP3):
    def __init__(self, host, port, source):
        self._source = source
        super().__init__(host, port, timeout=30)

    def _create_socket(self, timeout):
        return socket.create_connection((self.host, self.port), timeout,
                                        source_address=(self._source, 0))


class _SourceIMAP(imaplib.IMAP4):
    def __init__(self, host, port, source):
        self._source = source
        super().__init__(host, port, timeout=30)

    def _create_socket(self, timeout):
        return socket.create_connection((self.host, self.port), timeout,
                                        source_address=(self._source, 0))


def pop3_login(t, user, password, source="127.0.0.1"):
    """Returns (ok, reply text)."""
    c = _SourcePOP3(t.host, t.ports["pop3"], source)
    try:
        c.user(user)
        reply = c.pass_(password)
        c.quit()
        return True, reply.decode()
    except poplib.error_proto as e:
        return False, str(e)
    finally:
        c.close()


def imap_login(t, user, password, source="127.0.0.1"):
    """Returns (ok, reply text)."""
    c = _SourceIMAP(t.host, t.imap_port, source)
    try:
        typ, data = c.login(user, password)
        c.logout()
        return True, data[0].decode()
    except imaplib.IMAP4.error as e:
        return False, str(e)
    finally:
        try:
            c.shutdown()
        except OSError:
            pass


def smtp_login(t, user, password):
    """AUTH PLAIN on the submission port (loopback, plaintext allowed)."""
    import smtplib
    with smtplib.SMTP("127.0.0.2", t.submission_port, timeout=30) as s:
        s.ehlo("client.test")
        try:
            s.login(user, password)
            return True
        except smtplib.SMTPAuthenticationError:
            return False


def oathtool(secret, offset=0):
    args = ["oathtool", "--totp", "-b", secret]
    if offset:
        args.append("--now=@%d" % (time.time() + offset))
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout.strip()


def enable_2fa(t, user):
    """Runs `tern user 2fa enable` answering with oathtool's current code;
    returns (secret, recovery codes, the code used, the whole output)."""
    from conftest import TERN
    p = subprocess.Popen([TERN, "-c", t.conf, "user", "2fa", "enable", user],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    head = []
    secret = None
    while secret is None:
        line = p.stdout.readline()
        assert line, "no secret line in:\n" + "".join(head)
        head.append(line)
        m = re.match(r"secret: ([A-Z2-7]+)$", line.strip())
        if m:
            secret = m.group(1)
    code = oathtool(secret)
    out, err = p.communicate(code + "\n", timeout=60)
    assert p.returncode == 0, err
    text = "".join(head) + out
    codes = re.findall(r"^  ([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})$", out, re.M)
    return secret, codes, code, text


def app_password(t, user, name):
    r = t.cli("user", "app-password", "add", user, name)
    return r.stdout.strip().splitlines()[-1]
