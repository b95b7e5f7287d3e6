"""Issue 4's end-to-end case with two real mail hosts and real clients:
alice@a.test (127.0.0.2) submits over 587 with smtplib, the message goes
out by MX lookup to b.test (127.0.0.3) and bob reads it over IMAP; bob
replies over 465 with curl and alice reads the reply over POP3.

Both hosts listen for SMTP on the same port number (each on its own
address), which both use as `[delivery] port`: it stands in for port 25.
"""
import imaplib
import poplib
import smtplib
import ssl
import subprocess
import tempfile

import pytest

from conftest import Tern, check_sanitizers, free_port, populate
from dns_server import DnsServer
from queue_helpers import BASE_ZONE, token, wait_for


@pytest.fixture(scope="module")
def hosts(base_dir, certs):
    dns = DnsServer(BASE_ZONE).start()
    port = free_port("127.0.0.2")
    while True:  # the same number must be free on both addresses
        try:
            import socket
            with socket.socket() as s:
                s.bind(("127.0.0.3", port))
            break
        except OSError:
            port = free_port("127.0.0.2")
    common = {"server.plaintext_auth_loopback": "yes", "dns.resolver": dns.address,
              "delivery.port": str(port)}
    a = Tern(base_dir, certs, host="127.0.0.2", hostname="mail.a.test", extra=dict(common))
    a.ports["smtp"] = port
    a.ports["submission"] = free_port("127.0.0.2")
    a.write_config()
    populate(a)
    b = Tern(base_dir, certs, host="127.0.0.3", hostname="mail.b.test", extra=dict(common),
             imap=True)
    b.ports["smtp"] = port
    b.ports["submissions"] = free_port("127.0.0.3")
    b.write_config()
    b.cli("domain", "add", "b.test")
    b.add_user("bob@b.test", "bob-b-secret-1")
    a.start()
    b.start()
    yield a, b, certs
    for t in (a, b):
        t.stop()
        check_sanitizers(t)
    dns.stop()


def imap_subjects(b):
    m = imaplib.IMAP4("127.0.0.3", b.imap_port, timeout=30)
    try:
        m.login("bob@b.test", "bob-b-secret-1")
        m.select("INBOX", readonly=True)
        _, data = m.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        return b" ".join(part[1] for part in data if isinstance(part, tuple))
    except imaplib.IMAP4.error:
        return b""
    finally:
        m.logout()


def pop3_all(a):
    p = poplib.POP3("127.0.0.2", a.ports["pop3"], timeout=30)
    try:
        p.user("alice@a.test")
        p.pass_("alice-secret-1")
        count = len(p.list()[1])
        return b"\n".join(b"\n".join(p.retr(i)[1]) for i in range(1, count + 1))
    finally:
        p.quit()


def test_submit_on_587_reaches_b_over_imap_and_reply_on_465_reaches_a_over_pop3(hosts):
    a, b, certs = hosts
    tok = token()
    ctx = ssl.create_default_context(cafile=certs.ca)
    ctx.check_hostname = False
    with smtplib.SMTP("127.0.0.2", a.ports["submission"], timeout=30) as s:
        s.ehlo("laptop.test")
        s.starttls(context=ctx)
        s.ehlo("laptop.test")
        s.login("alice@a.test", "alice-secret-1")
        s.sendmail("alice@a.test", ["bob@b.test"],
                   ("From: Alice <alice@a.test>\r\nTo: bob@b.test\r\n"
                    "Subject: lunch %s\r\n\r\nNoon?\r\n" % tok).encode())
    assert wait_for(lambda: tok.encode() in imap_subjects(b), timeout=30), a.log()[-3000:]

    reply = "From: bob@b.test\r\nTo: alice@a.test\r\nSubject: Re: lunch %s\r\n\r\nYes.\r\n" % tok
    with tempfile.NamedTemporaryFile("w", suffix=".eml") as f:
        f.write(reply)
        f.flush()
        r = subprocess.run(
            ["curl", "-sS", "--ssl-reqd", "--cacert", certs.ca,
             "--resolve", "mail.b.test:%d:127.0.0.3" % b.ports["submissions"],
             "smtps://mail.b.test:%d" % b.ports["submissions"],
             "--mail-from", "bob@b.test", "--mail-rcpt", "alice@a.test",
             "--user", "bob@b.test:bob-b-secret-1", "-T", f.name],
            capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert wait_for(lambda: ("Re: lunch %s" % tok).encode() in pop3_all(a), timeout=30), \
        b.log()[-3000:]
    assert wait_for(lambda: a.sql("SELECT count(*) FROM queue") == "0")
    assert wait_for(lambda: b.sql("SELECT count(*) FROM queue") == "0")
