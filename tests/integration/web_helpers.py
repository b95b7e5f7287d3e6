"""Helpers for the portal tests (test_web_*.py): an instance with an https
and an imap listener, a small cookie-keeping HTTPS client on http.client,
form token scraping, and RFC 6238 codes computed with hmac/hashlib."""
import base64
import hashlib
import hmac
import http.client
import re
import struct
import time
import urllib.parse

from conftest import Tern, check_sanitizers, free_port, populate


def web_instance(base_dir, certs, **extra):
    """A populated, started ternd with https and imap listeners; extra keys
    are "section.key" = value."""
    cfg = {"server.plaintext_auth_loopback": "yes",
           "listen.imap": "127.0.0.2:%d" % free_port(),
           "listen.https": "127.0.0.2:%d" % free_port()}
    t = Tern(base_dir, certs, extra=dict(cfg))
    populate(t)
    cfg.update(extra)
    t.write_config(cfg)
    t.imap_port = int(cfg["listen.imap"].rsplit(":", 1)[1])
    t.https_port = int(cfg["listen.https"].rsplit(":", 1)[1])
    t.start()
    return t


def stop(t):
    t.stop()
    check_sanitizers(t)


def totp(secret_b32, at=None, step=30):
    """RFC 6238 TOTP, SHA-1, 6 digits."""
    key = base64.b32decode(secret_b32.upper() + "=" * (-len(secret_b32) % 8))
    counter = int((time.time() if at is None else at) // step)
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    code = (struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 1000000
    return "%06d" % code


def csrf_of(html):
    m = re.search(r'name="csrf" value="([0-9a-f]{64})"', html)
    return m.group(1) if m else None


class Client:
    """HTTPS with a cookie jar of one origin (enough for the portal)."""

    def __init__(self, t, certs):
        self.t = t
        self.ctx = certs.client_context(hostname_check=False)
        self.cookies = {}
        self.last_set_cookie = []

    def conn(self):
        return http.client.HTTPSConnection(self.t.host, self.t.https_port, context=self.ctx,
                                           timeout=30)

    def request(self, method, path, body=None, headers=None, raw_body=None):
        c = self.conn()
        h = dict(headers or {})
        if self.cookies:
            h["Cookie"] = "; ".join("%s=%s" % kv for kv in self.cookies.items())
        data = raw_body
        if body is not None:
            data = urllib.parse.urlencode(body)
            h.setdefault("Content-Type", "application/x-www-form-urlencoded")
        c.request(method, path, body=data, headers=h)
        r = c.getresponse()
        text = r.read().decode("utf-8", "replace")
        self.last_set_cookie = r.headers.get_all("Set-Cookie") or []
        for sc in self.last_set_cookie:
            name, _, rest = sc.partition("=")
            value = rest.split(";", 1)[0]
            if "Max-Age=0" in sc:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        c.close()
        return r, text

    def get(self, path):
        return self.request("GET", path)

    def post(self, path, fields, with_csrf=True, page=None):
        fields = dict(fields)
        if with_csrf:
            _, html = self.get(page or path)
            fields["csrf"] = csrf_of(html)
        return self.request("POST", path, body=fields)

    def login(self, user, password):
        r, _ = self.post("/login", {"user": user, "password": password})
        return r
