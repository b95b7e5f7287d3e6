"""The portal over plain http.client: security headers on every answer,
status codes for unknown pages, wrong methods, oversized and malformed
bodies, the cookie attributes, CSRF refusals, login failures (unknown user
and wrong password alike), the brute-force block, and session end on
logout and on a password change elsewhere."""
import http.client
import socket
import ssl

import pytest

from web_helpers import Client, csrf_of, stop, web_instance

USER, PASSWORD = "alice@a.test", "alice-secret-1"

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Strict-Transport-Security": "max-age=",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


@pytest.fixture(scope="module")
def t(base_dir, certs):
    inst = web_instance(base_dir, certs)
    yield inst
    stop(inst)


def check_headers(r):
    for name, part in SECURITY_HEADERS.items():
        assert part in (r.getheader(name) or ""), name


def test_login_page_has_security_headers_and_no_script(t, certs):
    r, html = Client(t, certs).get("/login")
    assert r.status == 200
    check_headers(r)
    assert "script-src 'none'" in r.getheader("Content-Security-Policy")
    assert "<script" not in html and "style=" not in html
    assert csrf_of(html)


def test_root_without_session_redirects_to_login(t, certs):
    r, _ = Client(t, certs).get("/")
    assert r.status == 303 and r.getheader("Location") == "/login"
    check_headers(r)


def test_unknown_path_gets_404(t, certs):
    r, _ = Client(t, certs).get("/no/such/page")
    assert r.status == 404
    check_headers(r)


def test_get_of_post_only_page_gets_405(t, certs):
    r, _ = Client(t, certs).get("/logout")
    assert r.status == 405 and r.getheader("Allow") == "POST"
    check_headers(r)


def test_other_method_is_refused(t, certs):
    r, _ = Client(t, certs).request("PUT", "/login", raw_body=b"x")
    assert r.status in (405, 501)


def test_huge_body_gets_413(t, certs):
    c = Client(t, certs)
    r, _ = c.request("POST", "/login", raw_body=b"a=" + b"x" * (200 * 1024),
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status == 413


def test_malformed_form_gets_400(t, certs):
    c = Client(t, certs)
    c.get("/login")
    r, _ = c.request("POST", "/login", raw_body=b"user=%zz&password=1",
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status == 400
    r, _ = c.request("POST", "/login", raw_body=b"a=1&a=2",
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status == 400


def test_wrong_content_type_gets_415(t, certs):
    c = Client(t, certs)
    r, _ = c.request("POST", "/login", raw_body=b"{}", headers={"Content-Type": "application/json"})
    assert r.status == 415


def test_login_post_without_token_gets_403(t, certs):
    c = Client(t, certs)
    c.get("/login")
    r, _ = c.post("/login", {"user": USER, "password": PASSWORD}, with_csrf=False)
    assert r.status == 403
    check_headers(r)


def test_login_token_of_another_browser_gets_403(t, certs):
    a, b = Client(t, certs), Client(t, certs)
    _, html = a.get("/login")
    b.get("/login")
    r, _ = b.request("POST", "/login", body={"user": USER, "password": PASSWORD,
                                             "csrf": csrf_of(html)})
    assert r.status == 403


def test_session_cookie_is_secure_httponly_samesite(t, certs):
    c = Client(t, certs)
    r = c.login(USER, PASSWORD)
    assert r.status == 303 and r.getheader("Location") == "/"
    cookie = [sc for sc in c.last_set_cookie if sc.startswith("__Host-tern=")][0]
    for attr in ("Secure", "HttpOnly", "SameSite=Strict", "Path=/"):
        assert attr in cookie
    assert "Domain" not in cookie
    assert len(cookie.split(";")[0].split("=")[1]) == 64
    r, html = c.get("/")
    assert r.status == 200 and USER in html


def test_logged_in_post_without_token_gets_403(t, certs):
    c = Client(t, certs)
    c.login(USER, PASSWORD)
    r, _ = c.request("POST", "/app-passwords/create", body={"name": "sneaky"})
    assert r.status == 403
    r, _ = c.request("POST", "/app-passwords/create", body={"name": "sneaky", "csrf": "0" * 64})
    assert r.status == 403
    _, html = c.get("/app-passwords")
    assert "sneaky" not in html


def test_unknown_user_and_wrong_password_get_the_same_page(t, certs):
    c = Client(t, certs)
    r1, h1 = c.post("/login", {"user": USER, "password": "wrong-password"})
    r2, h2 = c.post("/login", {"user": "nobody@a.test", "password": "wrong-password"})
    assert r1.status == r2.status == 200
    assert "Wrong address or password." in h1 and "Wrong address or password." in h2
    assert "__Host-tern" not in c.cookies


def test_logout_ends_the_session(t, certs):
    c = Client(t, certs)
    c.login(USER, PASSWORD)
    old = c.cookies["__Host-tern"]
    r, _ = c.post("/logout", {}, page="/")
    assert r.status == 303 and r.getheader("Location") == "/login"
    c.cookies["__Host-tern"] = old     # replaying the old cookie does not work
    r, _ = c.get("/")
    assert r.status == 303


def test_escaped_output(t, certs):
    c = Client(t, certs)
    c.login(USER, PASSWORD)
    r, html = c.post("/app-passwords/create", {"name": "<b>x</b>\"'"}, page="/app-passwords")
    assert r.status == 200
    assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;&quot;&#39;" in html


def test_password_change_policy_and_other_sessions_end(base_dir, certs):
    t = web_instance(base_dir, certs)
    try:
        a, b = Client(t, certs), Client(t, certs)
        a.login("bob@a.test", "bob-secret-22")
        b.login("bob@a.test", "bob-secret-22")
        r, html = a.post("/password", {"current": "bob-secret-22", "new": "short",
                                        "confirm": "short"})
        assert "too short" in html
        r, html = a.post("/password", {"current": "wrong-one", "new": "a-new-secret-99",
                                        "confirm": "a-new-secret-99"})
        assert "current password is wrong" in html
        r, html = a.post("/password", {"current": "bob-secret-22", "new": "a-new-secret-99",
                                        "confirm": "a-new-secret-99"})
        assert "Your password was changed" in html
        assert a.get("/")[0].status == 200
        assert b.get("/")[0].status == 303          # the other session ended
        c = Client(t, certs)
        assert c.login("bob@a.test", "bob-secret-22").status == 200   # old one fails
        assert c.login("bob@a.test", "a-new-secret-99").status == 303
    finally:
        stop(t)


def test_blocked_ip_gets_a_clear_message(base_dir, certs):
    t = web_instance(base_dir, certs, **{"auth.max_failures_per_ip": "3"})
    try:
        c = Client(t, certs)
        for _ in range(3):
            c.post("/login", {"user": "carol@a.test", "password": "nope-nope"})
        r, html = c.post("/login", {"user": "carol@a.test", "password": "carol-secret-333"})
        assert r.status == 200 and "Too many failed logins" in html
        assert "auth failed protocol=web" in t.log()
    finally:
        stop(t)


def test_plain_http_is_not_served(t, certs):
    s = socket.create_connection((t.host, t.https_port), timeout=10)
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    data = b""
    try:
        data = s.recv(100)
    except (ConnectionResetError, socket.timeout):
        pass
    s.close()
    assert not data.startswith(b"HTTP/1.1 200")
    assert not data.startswith(b"HTTP/1.1 303")
