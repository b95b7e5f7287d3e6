"""Log lines: one line per event, "session=<id> event key=value", the queue
id following the message from MAIL to "accepted", client bytes escaped."""
import re
import shlex

from smtp_helpers import connect, dot_stuff, make_message, pop_find, queue_id, token, wait_for

LINE = re.compile(r"^\S+ ternd\[\d+\] (debug|info|warn|error): (.*)$")


def session_lines(t, sid):
    """The messages (after "level: ") of every log line of session sid."""
    out = []
    for line in t.log().splitlines():
        m = LINE.match(line)
        assert m, "not a log line: %r" % line
        if m.group(2).startswith("session=%s " % sid):
            out.append(m.group(2))
    return out


def fields(msg):
    """key=value pairs of a log message (values may be "quoted")."""
    return dict(w.split("=", 1) for w in shlex.split(msg) if "=" in w)


def deliver(t, sender, rcpts, body):
    r = connect(t)
    r.send("MAIL FROM:<%s>\r\n" % sender + "".join("RCPT TO:<%s>\r\n" % a for a in rcpts) + "DATA\r\n")
    replies = [r.reply() for _ in range(2 + len(rcpts))]
    assert replies[-1][0] == 354, replies
    r.send(dot_stuff(body))
    code, text = r.reply()
    assert code == 250, text
    assert r.cmd("QUIT")[0] == 221
    assert r.closed()
    return queue_id(text)


def test_accepted_line_carries_the_queue_id_of_the_250_reply(tern):
    tok = token()
    sender = tok + "@example.org"
    qid = deliver(tern, sender, ["alice@a.test", "fwd@a.test"], make_message(tok))
    sid = re.search(r"session=(\w+) queue=%s accepted " % qid, tern.log()).group(1)
    lines = session_lines(tern, sid)
    events = [l.split(" ")[1] for l in lines if not l.split(" ")[1].startswith("state")]
    assert events[0] == "connect"
    assert events[-1] == "disconnect"
    mail = [l for l in lines if " mail from=" in l]
    assert mail == ["session=%s queue=%s mail from=<%s> size=0" % (sid, qid, sender)]
    rcpts = [l for l in lines if " rcpt to=" in l]
    assert rcpts == ["session=%s queue=%s rcpt to=<alice@a.test> status=ok" % (sid, qid),
                     "session=%s queue=%s rcpt to=<fwd@a.test> status=ok" % (sid, qid)]
    accepted = [l for l in lines if " accepted " in l]
    assert len(accepted) == 1
    f = fields(accepted[0])
    assert f["queue"] == qid and f["local"] == "1" and f["remote"] == "1"
    assert int(f["size"]) > len(make_message(tok))
    assert fields([l for l in lines if " disconnect " in l][0])["reason"] == "quit"
    pop_find(tern, "alice@a.test", tok, delete=True)


def test_each_transaction_gets_its_own_queue_id(tern):
    toks = [token(), token()]
    r = connect(tern)
    ids = []
    for tok in toks:
        r.send("MAIL FROM:<%s@example.org>\r\nRCPT TO:<bob@a.test>\r\nDATA\r\n" % tok)
        assert [r.reply()[0] for _ in range(3)] == [250, 250, 354]
        r.send(dot_stuff(make_message(tok)))
        ids.append(queue_id(r.reply()[1]))
    r.close()
    assert ids[0] != ids[1]
    for tok, qid in zip(toks, ids):
        assert re.search(r"queue=%s mail from=<%s@example.org>" % (qid, tok), tern.log())
        assert "queue=%s accepted " % qid in tern.log()
        pop_find(tern, "bob@a.test", tok, delete=True)


def test_rejected_recipients_are_logged_with_status(tern):
    tok = token()
    r = connect(tern)
    assert r.cmd("MAIL FROM:<%s@example.org>" % tok)[0] == 250
    assert r.cmd("RCPT TO:<nobody@a.test>")[0] == 550
    assert r.cmd("RCPT TO:<victim@remote.test>")[0] == 554
    r.close()
    log = tern.log()
    sid = re.search(r"session=(\w+) queue=\w+ mail from=<%s@" % tok, log).group(1)
    lines = session_lines(tern, sid)
    assert any(l.endswith("rcpt to=<nobody@a.test> status=unknown") for l in lines)
    assert any(l.endswith("rcpt to=<victim@remote.test> status=relay_denied") for l in lines)


def test_rejected_message_is_logged_as_one_parsable_line(tern):
    tok = token()
    r = connect(tern)
    r.send("MAIL FROM:<%s@example.org>\r\nRCPT TO:<alice@a.test>\r\nDATA\r\n" % tok)
    assert [r.reply()[0] for _ in range(3)] == [250, 250, 354]
    r.send("Subject: x\r\n\r\nbare\nLF\r\n.\r\n")
    assert r.reply()[0] == 554
    r.close()
    sid = re.search(r"session=(\w+) queue=\w+ mail from=<%s@" % tok, tern.log()).group(1)
    rejected = [l for l in session_lines(tern, sid) if " rejected " in l]
    assert len(rejected) == 1
    f = fields(rejected[0])
    assert "LF" in f["reason"] or "lf" in f["reason"]
    assert set(f) == {"session", "queue", "reason"}, rejected[0]


def test_client_bytes_are_escaped_in_the_log(tern):
    """A UTF-8 address (SMTPUTF8) is logged escaped, on one line."""
    r = connect(tern)
    r.send("MAIL FROM:<jörg@example.org> SMTPUTF8\r\n".encode())
    assert r.reply()[0] == 250
    r.send("RCPT TO:<ünknown\"@a.test>\r\n".encode())
    r.reply()
    r.send("RCPT TO:<\"a b\\\" status=ok\"@a.test>\r\n".encode())
    r.reply()
    r.close()
    log = tern.log()
    assert "from=<j\\xc3\\xb6rg@example.org>" in log
    assert "jörg" not in log
    assert " status=ok\"@a.test> status=" not in log
    for line in log.splitlines():
        assert LINE.match(line), line


def test_peer_close_is_logged_with_reason_and_state(tern):
    r = connect(tern)
    assert r.cmd("MAIL FROM:<closer@example.org>")[0] == 250
    r.close()
    assert wait_for(lambda: re.search(r"disconnect reason=peer_closed state=mail", tern.log()))
