"""A client that vanishes in the middle of DATA or BDAT: nothing is stored,
no spool file stays in data/tmp, and the server keeps serving."""
import socket
import struct

import pytest

from smtp_helpers import (connect, count, dot_stuff, make_message, messages_with_token, pop_find,
                          session_id, tmp_files, token, wait_for)

BIG_PART = b"".join(b"%06d %s\r\n" % (i, b"v" * 100) for i in range(1500))   # > 64 KiB


def vanish(r, reset):
    if reset:   # RST instead of FIN
        r.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    r.close()


def assert_server_still_serves(t):
    tok = token()
    r = connect(t)
    r.send("MAIL FROM:<sender@example.org>\r\nRCPT TO:<bob@a.test>\r\nDATA\r\n")
    assert [r.reply()[0] for _ in range(3)] == [250, 250, 354]
    r.send(dot_stuff(make_message(tok)))
    assert r.reply()[0] == 250
    r.close()
    assert len(pop_find(t, "bob@a.test", tok, delete=True)) == 1


def wait_disconnect(t, sender):
    sid = session_id(t, "from=<%s>" % sender)
    assert sid, "MAIL was logged"
    assert wait_for(lambda: "session=%s disconnect" % sid in t.log()), t.log()[-3000:]


@pytest.mark.parametrize("size", ["small", "large"])
@pytest.mark.parametrize("reset", [False, True], ids=["fin", "rst"])
def test_client_vanishing_mid_data_stores_nothing_and_leaves_no_tmp_file(tern, size, reset):
    tok = token()
    sender = tok + "@example.org"
    before = count(tern, "messages")
    r = connect(tern)
    r.send("MAIL FROM:<%s>\r\nRCPT TO:<alice@a.test>\r\nDATA\r\n" % sender)
    assert [r.reply()[0] for _ in range(3)] == [250, 250, 354]
    body = make_message(tok, body=BIG_PART if size == "large" else b"partial line\r\nno end")
    r.send(body)
    if size == "large":
        assert wait_for(lambda: tmp_files(tern)), "the message spilled to data/tmp"
    vanish(r, reset)
    wait_disconnect(tern, sender)
    assert wait_for(lambda: tmp_files(tern) == []), tmp_files(tern)
    assert count(tern, "messages") == before
    assert messages_with_token(tern, tok) == 0
    assert_server_still_serves(tern)


def test_client_vanishing_right_after_the_dot_before_reading_250(tern):
    """The client closes after sending the end marker: the message may or
    may not be stored (it was complete), but never twice nor truncated."""
    tok = token()
    sender = tok + "@example.org"
    body = make_message(tok, body=BIG_PART)
    r = connect(tern)
    r.send("MAIL FROM:<%s>\r\nRCPT TO:<carol@a.test>\r\nDATA\r\n" % sender)
    assert [r.reply()[0] for _ in range(3)] == [250, 250, 354]
    r.send(dot_stuff(body))
    r.close()
    wait_disconnect(tern, sender)
    assert wait_for(lambda: tmp_files(tern) == []), tmp_files(tern)
    msgs = pop_find(tern, "carol@a.test", tok, delete=True)
    assert len(msgs) <= 1
    if msgs:
        assert msgs[0].endswith(body)
    assert_server_still_serves(tern)


@pytest.mark.parametrize("where", ["inside_first_chunk", "between_chunks", "inside_last_chunk"])
@pytest.mark.parametrize("reset", [False, True], ids=["fin", "rst"])
def test_client_vanishing_mid_bdat_stores_nothing_and_leaves_no_tmp_file(tern, where, reset):
    tok = token()
    sender = tok + "@example.org"
    before = count(tern, "messages")
    body = make_message(tok, body=BIG_PART)
    r = connect(tern)
    r.send("MAIL FROM:<%s>\r\nRCPT TO:<alice@a.test>\r\n" % sender)
    assert [r.reply()[0] for _ in range(2)] == [250, 250]
    if where == "inside_first_chunk":
        r.send(b"BDAT %d\r\n" % len(body) + body[:-100])
    else:
        r.send(b"BDAT %d\r\n" % len(body) + body)
        assert r.reply()[0] == 250
        if where == "inside_last_chunk":
            r.send(b"BDAT 1000 LAST\r\n" + b"w" * 500)
    assert wait_for(lambda: tmp_files(tern)), "the message spilled to data/tmp"
    vanish(r, reset)
    wait_disconnect(tern, sender)
    assert wait_for(lambda: tmp_files(tern) == []), tmp_files(tern)
    assert count(tern, "messages") == before
    assert messages_with_token(tern, tok) == 0
    assert_server_still_serves(tern)


def test_many_clients_vanishing_mid_data_at_once(tern):
    toks = [token() for _ in range(10)]
    before = count(tern, "messages")
    clients = []
    for tok in toks:
        r = connect(tern)
        r.send("MAIL FROM:<%s@example.org>\r\nRCPT TO:<alice@a.test>\r\nDATA\r\n" % tok)
        clients.append(r)
    for r, tok in zip(clients, toks):
        assert [r.reply()[0] for _ in range(3)] == [250, 250, 354]
        r.send(make_message(tok, body=BIG_PART[:50000 + len(tok)]))
    for r in clients:
        r.close()
    for tok in toks:
        wait_disconnect(tern, tok + "@example.org")
    assert wait_for(lambda: tmp_files(tern) == []), tmp_files(tern)
    assert count(tern, "messages") == before
    assert_server_still_serves(tern)
