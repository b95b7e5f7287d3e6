"""Fixtures for the outbound queue tests: a test DNS server, a sender
(a.test on 127.0.0.2) configured to deliver through it, a receiver
(b.test on 127.0.0.3), and fake remote MXs on further loopback addresses.

Every remote MX in a test listens on the same port (the sender's
`[delivery] port`, standing in for 25), each on its own 127.0.0.x.
"""
import email
import email.policy
import itertools
import smtplib
import time
import uuid

import pytest

from conftest import Tern, check_sanitizers, free_port, populate
from dns_server import DnsServer
from fake_smtp import FakeSmtp

BASE_ZONE = """
a.test.        60 IN MX 10 mail.a.test.
mail.a.test.   60 IN A  127.0.0.2
b.test.        60 IN MX 10 mail.b.test.
mail.b.test.   60 IN A  127.0.0.3
"""

_hosts = itertools.count(20)


def next_ip():
    """A loopback address of its own for a fake MX."""
    return "127.0.%d.%d" % divmod(next(_hosts), 250)


def token():
    return uuid.uuid4().hex[:16]


class Pair:
    """DNS + sender + receiver, with helpers to add fake MXs and send."""

    def __init__(self, base_dir, certs, sender_extra=None):
        self.dns = DnsServer(BASE_ZONE).start()
        self.port = free_port("127.0.0.3")
        self.fakes = []
        extra = {"server.plaintext_auth_loopback": "yes", "dns.resolver": self.dns.address,
                 "delivery.port": str(self.port), "queue.retry_first": "1s",
                 "queue.retry_max": "2s"}
        extra.update(sender_extra or {})
        self.a = Tern(base_dir, certs, host="127.0.0.2", hostname="mail.a.test", extra=extra)
        populate(self.a)
        self.b = Tern(base_dir, certs, host="127.0.0.3", hostname="mail.b.test",
                      extra={"dns.resolver": self.dns.address})
        self.b.ports["smtp"] = self.port
        self.b.write_config()
        self.b.cli("domain", "add", "b.test")
        self.b.add_user("bob@b.test", "bob-b-secret-1")
        self.b.start()
        self.a.start()

    def fake(self, domain=None, **kwargs):
        """A fake MX on a new address; with domain, DNS points domain at it."""
        ip = next_ip()
        f = FakeSmtp(ip, self.port, **kwargs).start()
        self.fakes.append(f)
        if domain is not None:
            self.dns.add_zone("%s. 60 IN MX 10 mx.%s.\nmx.%s. 60 IN A %s\n" %
                              (domain, domain, domain, ip))
        return f

    def alias(self, *targets):
        """A new alias on a.test forwarding to targets; returns its address."""
        source = "fwd-%s@a.test" % token()
        self.a.cli("alias", "add", source, *targets)
        return source

    def send(self, rcpt, tok=None, sender="alice@a.test", body="hello\r\n", headers="",
             smtputf8=False):
        tok = tok or token()
        msg = ("From: <%s>\r\nTo: <%s>\r\nSubject: test %s\r\nMessage-ID: <%s@a.test>\r\n%s"
               "\r\n%s" % (sender, rcpt, tok, tok, headers, body))
        with smtplib.SMTP(self.a.host, self.a.ports["smtp"], timeout=30) as s:
            s.ehlo("client.test")
            opts = ["SMTPUTF8", "BODY=8BITMIME"] if smtputf8 else []
            s.sendmail(sender, [rcpt] if isinstance(rcpt, str) else rcpt,
                       msg.encode("utf-8"), mail_options=opts)
        return tok

    def queued(self, where=""):
        return int(self.a.sql("SELECT count(*) FROM queue " + where))

    def inbox(self, t, address, tok=None):
        """Messages in address's INBOX on t (parsed), optionally with tok."""
        rows = t.sql("SELECT m.id FROM messages m JOIN mailboxes mb ON mb.id = m.mailbox_id "
                     "JOIN accounts a ON a.id = mb.account_id JOIN domains d ON "
                     "d.id = a.domain_id WHERE a.localpart || '@' || d.name = '%s' AND "
                     "mb.name = 'INBOX' ORDER BY m.id" % address).split()
        out = []
        for mid in rows:
            raw = stored_message(t, int(mid))
            if tok is None or tok.encode() in raw:
                out.append(email.message_from_bytes(raw, policy=email.policy.default))
        return out

    def bounces(self, tok, address="alice@a.test"):
        return [m for m in self.inbox(self.a, address, tok)
                if m.get_content_type() == "multipart/report"]

    def stop(self):
        for f in self.fakes:
            f.stop()
        for t in (self.a, self.b):
            t.stop()
            check_sanitizers(t)
        self.dns.stop()


def stored_message(t, mid):
    import os
    prefix_data = t.sql("SELECT hex(m.prefix), hex(coalesce(b.data, '')), coalesce(b.file, '') "
                        "FROM messages m JOIN blobs b ON b.id = m.blob_id WHERE m.id = %d" % mid)
    prefix, data, path = prefix_data.split("|")
    raw = bytes.fromhex(prefix)
    if path:
        with open(os.path.join(t.data_dir, "blobs", path), "rb") as f:
            return raw + f.read()
    return raw + bytes.fromhex(data)


def wait_for(predicate, timeout=30, interval=0.05):
    deadline = time.time() + timeout
    while True:
        value = predicate()
        if value or time.time() > deadline:
            return value
        time.sleep(interval)


def delivery_status(report):
    """The per-recipient field groups of a DSN's message/delivery-status."""
    for part in report.walk():
        if part.get_content_type() == "message/delivery-status":
            payload = part.get_payload()
            return [dict(g.items()) for g in payload]
    raise AssertionError("no message/delivery-status part")


@pytest.fixture(scope="module")
def pair(base_dir, certs):
    p = Pair(base_dir, certs)
    yield p
    p.stop()
