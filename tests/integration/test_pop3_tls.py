"""POP3 over TLS: STLS on the pop3 listener (RFC 2595 4), implicit TLS on
pop3s, and the CAPA list (RFC 2449 5) in each state."""
import poplib
import socket
import ssl

import pytest

from pop3_helpers import (connect, deliver, list_sizes, login, message, new_user, raw,
                          retr_bytes)

COMMON_CAPS = ("TOP", "UIDL", "RESP-CODES", "PIPELINING")


def test_capa_plain_loopback_lists_user_sasl_plain_and_stls(tern):
    p = connect(tern)
    caps = p.capa()
    p.quit()
    for cap in COMMON_CAPS:
        assert cap in caps
    assert "USER" in caps
    assert caps["SASL"] == ["PLAIN"]
    assert "STLS" in caps


def test_capa_after_stls_has_no_stls(tern):
    p = connect(tern, "stls")
    caps = p.capa()
    p.quit()
    assert "STLS" not in caps
    for cap in COMMON_CAPS:
        assert cap in caps
    assert "USER" in caps
    assert caps["SASL"] == ["PLAIN"]


def test_capa_over_pop3s_has_no_stls(tern):
    p = connect(tern, "pop3s")
    caps = p.capa()
    p.quit()
    assert "STLS" not in caps
    for cap in COMMON_CAPS:
        assert cap in caps
    assert "USER" in caps


def test_capa_after_login_still_lists_user_and_sasl(tern):
    # RFC 2449 5: capabilities available in AUTHORIZATION are announced
    # in both states (USER and SASL: "Announced states: both").
    user, password = new_user(tern)
    p = login(tern, user, password)
    caps = p.capa()
    p.quit()
    for cap in COMMON_CAPS:
        assert cap in caps
    assert "USER" in caps
    assert caps["SASL"] == ["PLAIN"]
    assert "STLS" not in caps   # RFC 2595 4: AUTHORIZATION state only


def test_stls_then_login_and_retr(tern):
    user, password = new_user(tern)
    body = message("over stls", b"secret stuff\r\n")
    deliver(tern, user, body)
    p = login(tern, user, password, mode="stls")
    assert retr_bytes(p, 1).endswith(body)
    p.quit()


def test_stls_twice_gets_err(tern):
    p = connect(tern, "stls")
    with pytest.raises(poplib.error_proto) as e:
        p._shortcmd("STLS")
    assert e.value.args[0].startswith(b"-ERR")
    p.quit()


def test_stls_after_login_gets_err(tern):
    user, password = new_user(tern)
    c = raw(tern)
    c.login(user, password)
    assert c.cmd("STLS").startswith("-ERR")
    assert c.cmd("QUIT").startswith("+OK")


def test_stls_discards_pipelined_plaintext(tern):
    # RFC 2595 / RFC 3207 5: bytes sent after STLS before the handshake
    # must not be executed after TLS starts.
    c = raw(tern)
    c.send("STLS\r\nNOOP\r\n")
    assert c.line().startswith("+OK")
    try:
        c.starttls(tern.certs.client_context(), tern.host)
    except (ssl.SSLError, OSError):
        return      # the server treated NOOP as TLS garbage and dropped us: fine
    # After the handshake, the first reply must belong to our next command.
    assert c.cmd("CAPA").startswith("+OK")
    c.multi()
    c.cmd("QUIT")


def test_pop3s_login_and_retr(tern):
    user, password = new_user(tern)
    body = message("over pop3s", b"tls body\r\n")
    deliver(tern, user, body)
    p = login(tern, user, password, mode="pop3s")
    assert list_sizes(p)[1] == len(retr_bytes(p, 1))
    assert retr_bytes(p, 1).endswith(body)
    p.quit()


def test_pop3s_certificate_verifies_against_test_ca(tern):
    ctx = tern.certs.client_context()
    with socket.create_connection((tern.host, tern.ports["pop3s"]), timeout=10) as s:
        with ctx.wrap_socket(s, server_hostname=tern.hostname) as tls:
            assert tls.version() in ("TLSv1.2", "TLSv1.3")
            greeting = tls.recv(512)
    assert greeting.startswith(b"+OK")


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_pop3s_refuses_tls_1_1(tern):
    ctx = tern.certs.client_context()
    ctx.minimum_version = ssl.TLSVersion.TLSv1
    ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    try:
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    except ssl.SSLError:
        pass
    with socket.create_connection((tern.host, tern.ports["pop3s"]), timeout=10) as s:
        try:
            with ctx.wrap_socket(s, server_hostname=tern.hostname):
                handshake_ok = True
        except (ssl.SSLError, OSError):
            handshake_ok = False
    assert not handshake_ok


def test_plaintext_client_on_pop3s_gets_nothing_and_server_survives(tern):
    with socket.create_connection((tern.host, tern.ports["pop3s"]), timeout=10) as s:
        s.settimeout(1)
        try:
            data = s.recv(100)
        except socket.timeout:
            data = b""
        assert not data.startswith(b"+OK")
        s.sendall(b"USER alice@a.test\r\nPASS x\r\nQUIT\r\n")
        s.settimeout(5)
        try:
            data = s.recv(100)
        except (socket.timeout, ConnectionResetError):
            data = b""
        assert b"+OK" not in data
    # the server still serves both listeners
    for mode in ("pop3s", "plain"):
        p = connect(tern, mode)
        assert p.getwelcome().startswith(b"+OK")
        p.quit()


def test_tls_garbage_on_pop3s_closes_and_server_survives(tern):
    with socket.create_connection((tern.host, tern.ports["pop3s"]), timeout=10) as s:
        s.sendall(b"\x16\x03\x01\x00\x05garbagegarbage" * 10)
        s.settimeout(5)
        try:
            while s.recv(4096):
                pass
        except (socket.timeout, ConnectionResetError):
            pass
    connect(tern, "pop3s").quit()
