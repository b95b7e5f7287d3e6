"""Timeouts and connection limits: an idle client gets 421 4.4.2 and is
disconnected; a stalled DATA likewise, leaving nothing behind; the
connection over max_connections_per_ip gets 421 4.7.0."""
import socket

from conftest import Raw
from smtp_helpers import connect, count, make_message, messages_with_token, tmp_files, token, wait_for


def test_idle_client_gets_421_442_and_is_disconnected(fresh):
    t = fresh(extra={"smtp.command_timeout": "2s"})
    t.start()
    r = connect(t, ehlo=None)
    r.sock.settimeout(30)
    code, text = r.reply()      # nothing sent: the server speaks first
    assert code == 421 and text.startswith("421 4.4.2 "), text
    assert r.closed()
    assert "disconnect reason=timeout" in t.log()


def test_stalled_data_gets_421_442_and_stores_nothing(fresh):
    t = fresh(extra={"smtp.data_timeout": "1s"})
    t.start()
    tok = token()
    r = connect(t)
    r.sock.settimeout(30)
    r.send("MAIL FROM:<sender@example.org>\r\nRCPT TO:<alice@a.test>\r\nDATA\r\n")
    assert [r.reply()[0] for _ in range(3)] == [250, 250, 354]
    r.send(make_message(tok, body=b"".join(b"%06d %s\r\n" % (i, b"s" * 100) for i in range(1000))))
    code, text = r.reply()
    assert code == 421 and text.startswith("421 4.4.2 "), text
    assert r.closed()
    assert wait_for(lambda: tmp_files(t) == []), tmp_files(t)
    assert count(t, "messages") == 0
    assert messages_with_token(t, tok) == 0


def test_fourth_connection_from_one_ip_gets_421_470(fresh):
    t = fresh(extra={"server.max_connections_per_ip": "3"})
    t.start()
    clients = [connect(t) for _ in range(3)]
    r = Raw(t.host, t.ports["smtp"])
    code, text = r.reply()
    assert code == 421 and text.startswith("421 4.7.0 "), text
    assert r.closed()
    for c in clients:
        assert c.cmd("NOOP")[0] == 250, "the first three are unaffected"
    # one leaves: a new connection is welcome again
    assert clients[0].cmd("QUIT")[0] == 221
    assert clients[0].closed()
    r = Raw(t.host, t.ports["smtp"])
    assert r.reply()[0] == 220
    r.close()
    for c in clients[1:]:
        c.close()
    assert "reason=max_connections_per_ip" in t.log()


def test_connection_limit_is_per_ip(fresh):
    t = fresh(extra={"server.max_connections_per_ip": "1"})
    t.start()
    first = connect(t)
    r = Raw(t.host, t.ports["smtp"])
    assert r.reply()[0] == 421
    r.close()
    # another source address on loopback is counted separately
    s = socket.socket()
    s.bind(("127.0.0.9", 0))
    s.settimeout(10)
    s.connect((t.host, t.ports["smtp"]))
    assert s.recv(100).startswith(b"220 ")
    s.close()
    first.close()
