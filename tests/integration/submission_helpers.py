"""Helpers for the submission (587/465) and sendmail tests: an instance
with submission listeners, authenticated smtplib sessions, and reading a
stored message back from the store by a token it contains."""
import smtplib

from conftest import PASSWORDS, Tern, check_sanitizers, free_port, populate


def submission_instance(base_dir, certs, plaintext_loopback="no", extra=None):
    """A started, populated Tern with submission (587-like, STARTTLS) and
    submissions (465-like, implicit TLS) listeners."""
    conf = {"server.plaintext_auth_loopback": plaintext_loopback}
    conf.update(extra or {})
    t = Tern(base_dir, certs, extra=conf)
    t.ports["submission"] = free_port(t.host)
    t.ports["submissions"] = free_port(t.host)
    t.write_config()
    populate(t)
    t.cli("alias", "add", "shared@a.test", "alice@a.test", "bob@a.test")
    t.start()
    return t


def running_submission(base_dir, certs, **kwargs):
    t = submission_instance(base_dir, certs, **kwargs)
    yield t
    t.stop()
    check_sanitizers(t)


def smtp_587(t, login=None):
    """smtplib over STARTTLS on the submission port, logged in as login
    (an address of PASSWORDS) unless it is None."""
    s = smtplib.SMTP(t.host, t.ports["submission"], timeout=20)
    s.ehlo("client.example.org")
    s.starttls(context=t.certs.client_context())
    s.ehlo("client.example.org")
    if login is not None:
        s.login(login, PASSWORDS[login])
    return s


def message(tok, sender="alice@a.test", to="bob@a.test", extra=b"", msgid=True, date=True):
    head = b"From: " + sender.encode() + b"\r\nTo: " + to.encode() + b"\r\nSubject: t " + tok.encode() + b"\r\n"
    if msgid:
        head += b"Message-ID: <" + tok.encode() + b"@client.example>\r\n"
    if date:
        head += b"Date: Mon, 02 Jan 2006 15:04:05 +0000\r\n"
    return head + extra + b"\r\nbody " + tok.encode() + b"\r\n"


def stored(t, tok):
    """The stored messages (prefix + blob, inline ones) that contain tok."""
    out = t.sql("SELECT hex(m.prefix) || ':' || hex(b.data) FROM messages m "
                "JOIN blobs b ON b.id = m.blob_id WHERE b.data IS NOT NULL AND "
                "instr(b.data, CAST('%s' AS BLOB)) > 0" % tok)
    msgs = []
    for line in out.split():
        prefix, data = line.split(":")
        msgs.append(bytes.fromhex(prefix) + bytes.fromhex(data))
    return msgs


def header_block(msg):
    return msg.split(b"\r\n\r\n", 1)[0]
