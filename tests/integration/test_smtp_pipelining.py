"""SMTP PIPELINING (RFC 2920): commands sent in one write get their replies
in order, and input buffered behind an asynchronous step (the commit after
the end of DATA) is still processed."""
from smtp_helpers import connect, dot_stuff, make_message, pop_find, queue_id, split_trace, token


def test_ehlo_advertises_pipelining(tern):
    r = connect(tern, ehlo=None)
    code, text = r.cmd("EHLO client.example.org")
    assert code == 250
    assert "250-PIPELINING" in text.split("\n")
    r.close()


def test_mail_rcpt_rcpt_data_in_one_write_gets_replies_in_order(tern):
    tok = token()
    body = make_message(tok, to="alice@a.test, bob@a.test")
    r = connect(tern)
    r.send("MAIL FROM:<sender@example.org>\r\nRCPT TO:<alice@a.test>\r\n"
           "RCPT TO:<bob@a.test>\r\nDATA\r\n")
    assert r.reply()[0] == 250      # MAIL
    code, text = r.reply()          # RCPT alice
    assert (code, text) == (250, "250 2.1.5 Ok")
    assert r.reply() == (250, "250 2.1.5 Ok")   # RCPT bob
    assert r.reply()[0] == 354      # DATA
    r.send(dot_stuff(body))
    code, text = r.reply()
    assert code == 250 and "queued as" in text
    assert r.cmd("QUIT")[0] == 221
    for user in ("alice@a.test", "bob@a.test"):
        msgs = pop_find(tern, user, tok, delete=True)
        assert len(msgs) == 1
        assert split_trace(msgs[0])[3] == body


def test_pipelined_mail_reply_text_is_250_210(tern):
    r = connect(tern)
    r.send("MAIL FROM:<sender@example.org>\r\nRSET\r\n")
    assert r.reply() == (250, "250 2.1.0 Ok")
    assert r.reply() == (250, "250 2.0.0 Ok")
    r.close()


def test_pipelined_unknown_rcpt_between_good_ones_keeps_order(tern):
    tok = token()
    body = make_message(tok)
    r = connect(tern)
    r.send("MAIL FROM:<sender@example.org>\r\nRCPT TO:<nobody@a.test>\r\n"
           "RCPT TO:<alice@a.test>\r\nRCPT TO:<x@remote.test>\r\nDATA\r\n")
    assert r.reply()[0] == 250
    code, text = r.reply()
    assert code == 550 and " 5.1.1 " in text
    assert r.reply()[0] == 250
    code, text = r.reply()
    assert code == 554 and " 5.7.1 " in text
    assert r.reply()[0] == 354
    r.send(dot_stuff(body))
    assert r.reply()[0] == 250
    r.close()
    assert len(pop_find(tern, "alice@a.test", tok, delete=True)) == 1


def test_pipelined_data_with_only_bad_rcpts_gets_554(tern):
    r = connect(tern)
    r.send("MAIL FROM:<sender@example.org>\r\nRCPT TO:<nobody@a.test>\r\nDATA\r\nNOOP\r\n")
    assert r.reply()[0] == 250
    assert r.reply()[0] == 550
    code, text = r.reply()
    assert code == 554 and " 5.5.1 " in text
    assert r.reply() == (250, "250 2.0.0 Ok")   # NOOP: not taken as message data
    r.close()


def test_end_of_data_and_next_transaction_in_one_write_are_both_processed(tern):
    """The commit pauses input; what was buffered behind the final dot must
    be handled when the session resumes."""
    tok1, tok2 = token(), token()
    body1, body2 = make_message(tok1), make_message(tok2, to="bob@a.test")
    r = connect(tern)
    r.send("MAIL FROM:<sender@example.org>\r\nRCPT TO:<alice@a.test>\r\nDATA\r\n")
    assert [r.reply()[0] for _ in range(3)] == [250, 250, 354]
    r.send(dot_stuff(body1) + b"MAIL FROM:<sender@example.org>\r\nRCPT TO:<bob@a.test>\r\nDATA\r\n")
    code, text = r.reply()
    assert code == 250 and "queued as" in text
    id1 = queue_id(text)
    assert [r.reply()[0] for _ in range(3)] == [250, 250, 354]
    r.send(dot_stuff(body2) + b"QUIT\r\n")
    code, text = r.reply()
    assert code == 250
    assert queue_id(text) != id1
    assert r.reply()[0] == 221
    assert r.closed()
    assert split_trace(pop_find(tern, "alice@a.test", tok1, delete=True)[0])[3] == body1
    assert split_trace(pop_find(tern, "bob@a.test", tok2, delete=True)[0])[3] == body2


def test_many_transactions_in_one_write_each_get_250(tern):
    toks = [token() for _ in range(5)]
    r = connect(tern)
    # RFC 2920 3.1: the client waits after DATA; everything else may be
    # batched, including the end of one message and the next MAIL.
    r.send("MAIL FROM:<sender@example.org>\r\nRCPT TO:<carol@a.test>\r\nDATA\r\n")
    for i, tok in enumerate(toks):
        assert [r.reply()[0] for _ in range(3)] == [250, 250, 354]
        tail = (b"MAIL FROM:<sender@example.org>\r\nRCPT TO:<carol@a.test>\r\nDATA\r\n"
                if i + 1 < len(toks) else b"QUIT\r\n")
        r.send(dot_stuff(make_message(tok, to="carol@a.test")) + tail)
        code, text = r.reply()
        assert code == 250 and "queued as" in text
    assert r.reply()[0] == 221
    for tok in toks:
        assert len(pop_find(tern, "carol@a.test", tok, delete=True)) == 1


def test_rset_noop_vrfy_quit_in_one_write(tern):
    r = connect(tern)
    r.send("RSET\r\nNOOP\r\nVRFY alice\r\nQUIT\r\n")
    assert [r.reply()[0] for _ in range(4)] == [250, 250, 252, 221]
    assert r.closed()


def test_commands_after_quit_in_same_write_are_ignored(tern):
    r = connect(tern)
    r.send("QUIT\r\nNOOP\r\nNOOP\r\n")
    assert r.reply()[0] == 221
    assert r.closed()
    assert r.buf == b""


def test_thousands_of_pipelined_commands_without_reading_replies(tern):
    """The server stops reading while its replies pile up (output high
    watermark) and resumes as the client reads: every reply arrives."""
    n = 20000
    r = connect(tern)
    r.send("NOOP\r\n" * n + "QUIT\r\n")
    for _ in range(n):
        assert r.reply() == (250, "250 2.0.0 Ok")
    assert r.reply()[0] == 221
    assert r.closed()
