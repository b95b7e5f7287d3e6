"""Outbound delivery: a.test relays mail for remote recipients to their
MX, found through the test DNS server; b.test and fake MXs receive it.
Mail is injected through an alias on a.test that points remote."""
from queue_helpers import delivery_status, next_ip, pair, token, wait_for  # noqa: F401


def test_alias_to_b_test_lands_in_bob_inbox(pair):
    tok = pair.send(pair.alias("bob@b.test"))
    assert wait_for(lambda: pair.inbox(pair.b, "bob@b.test", tok))
    msg = pair.inbox(pair.b, "bob@b.test", tok)[0]
    assert msg["Subject"] == "test " + tok
    assert wait_for(lambda: pair.queued() == 0)
    # logged on the main loop after the store thread removed the row
    assert wait_for(lambda: "result=delivered" in pair.a.log())


def test_delivery_uses_starttls_with_b_test(pair):
    tok = pair.send(pair.alias("bob@b.test"))
    assert wait_for(lambda: pair.inbox(pair.b, "bob@b.test", tok))
    received = pair.inbox(pair.b, "bob@b.test", tok)[0].get_all("Received")[0]
    assert "ESMTPS" in received


def test_451_then_250_is_delivered_on_retry(pair):
    fake = pair.fake("retry-%s.test" % token())
    domain = fake_domain(pair, fake)
    rcpt = "user@" + domain
    fake.rcpt_replies[rcpt] = [(451, "4.7.1 greylisted, try again"), (250, "2.1.5 ok")]
    tok = pair.send(pair.alias(rcpt))
    assert wait_for(lambda: fake.recipients() == [rcpt], timeout=30)
    assert tok.encode() in fake.messages[0][2]
    assert wait_for(lambda: pair.queued() == 0)
    assert "result=deferred" in pair.a.log()


def test_550_bounces_to_sender_as_multipart_report(pair):
    fake = pair.fake("rej-%s.test" % token())
    rcpt = "nobody@" + fake_domain(pair, fake)
    fake.rcpt_replies[rcpt] = [(550, "5.1.1 <%s>: no such user" % rcpt)]
    tok = pair.send(pair.alias(rcpt))
    bounces = wait_for(lambda: pair.bounces(tok))
    assert len(bounces) == 1
    dsn = bounces[0]
    assert dsn["From"].addresses[0].username == "MAILER-DAEMON"
    assert dsn.get_param("report-type") == "delivery-status"
    groups = delivery_status(dsn)
    assert groups[0]["Reporting-MTA"] == "dns; mail.a.test"
    rg = groups[1]
    assert rg["Final-Recipient"] == "rfc822; " + rcpt
    assert rg["Action"] == "failed"
    assert rg["Status"] == "5.1.1"
    assert "no such user" in rg["Diagnostic-Code"]
    assert rg["Remote-MTA"].startswith("dns; mx.")
    headers = [p for p in dsn.walk() if p.get_content_type() == "text/rfc822-headers"]
    assert headers and tok in headers[0].get_payload()
    assert pair.queued("WHERE recipient = '%s'" % rcpt) == 0
    # the bounce was delivered locally with the null sender
    assert "Return-Path: <>" in pair.a.sql(
        "SELECT m.prefix FROM messages m ORDER BY m.id DESC LIMIT 1")


def test_null_mx_bounces_at_once(pair):
    domain = "nullmx-%s.test" % token()
    pair.dns.add_zone("%s. 60 IN MX 0 .\n" % domain)
    tok = pair.send(pair.alias("x@" + domain))
    bounces = wait_for(lambda: pair.bounces(tok))
    assert bounces
    rg = delivery_status(bounces[0])[1]
    assert rg["Status"] == "5.1.10"
    assert "does not accept mail" in bounces[0].get_body(("plain",)).get_content()


def test_no_mx_falls_back_to_a_record(pair):
    domain = "nomx-%s.test" % token()
    ip = next_ip()
    from fake_smtp import FakeSmtp
    fake = FakeSmtp(ip, pair.port).start()
    pair.fakes.append(fake)
    pair.dns.add_zone("%s. 60 IN A %s\n" % (domain, ip))
    pair.send(pair.alias("y@" + domain))
    assert wait_for(lambda: fake.recipients() == ["y@" + domain])


def test_unreachable_first_mx_then_second_mx_delivers(pair):
    domain = "twomx-%s.test" % token()
    live = pair.fake()
    dead_ip = next_ip()     # nothing listens there
    pair.dns.add_zone("%s. 60 IN MX 10 dead.%s.\n%s. 60 IN MX 20 live.%s.\n"
                      "dead.%s. 60 IN A %s\nlive.%s. 60 IN A %s\n" %
                      (domain, domain, domain, domain, domain, dead_ip, domain, live.host))
    pair.send(pair.alias("z@" + domain))
    assert wait_for(lambda: live.recipients() == ["z@" + domain])


def test_rcpt_4xx_and_2xx_in_one_transaction(pair):
    fake = pair.fake("mixed-%s.test" % token())
    domain = fake_domain(pair, fake)
    ok, later = "ok@" + domain, "later@" + domain
    fake.rcpt_replies[later] = [(452, "4.2.2 mailbox full"), (250, "ok")]
    pair.send(pair.alias(ok, later))
    assert wait_for(lambda: sorted(fake.recipients()) == [later, ok], timeout=30)
    # one transaction carried both first; the retry carried only the deferred one
    assert [sorted(m[1]) for m in fake.messages] == [[ok], [later]]
    assert sum(1 for c in fake.commands if c.startswith("MAIL")) == 2


def test_smtputf8_message_to_server_without_it_bounces(pair):
    fake = pair.fake("noutf8-%s.test" % token())
    rcpt = "jos\u00e9@" + fake_domain(pair, fake)
    src = "fwd-%s@a.test" % token()
    pair.a.cli("alias", "add", src, rcpt)
    tok = pair.send(src, smtputf8=True)
    bounces = wait_for(lambda: pair.bounces(tok))
    assert bounces
    text = bounces[0].get_body(("plain",)).get_content()
    assert "SMTPUTF8" in text
    assert delivery_status(bounces[0])[1]["Status"] == "5.6.7"
    assert fake.messages == []


def test_bounce_of_a_bounce_never_happens(pair):
    fake = pair.fake("bb-%s.test" % token())
    rcpt = "gone@" + fake_domain(pair, fake)
    fake.rcpt_replies[rcpt] = [(550, "5.1.1 gone")]
    before = int(pair.a.sql("SELECT count(*) FROM messages"))
    tok = pair.send(pair.alias(rcpt), sender="")
    assert wait_for(lambda: "dsn_suppressed" in pair.a.log() and pair.queued(
        "WHERE recipient = '%s'" % rcpt) == 0)
    assert int(pair.a.sql("SELECT count(*) FROM messages")) == before
    assert not pair.bounces(tok)


def fake_domain(pair, fake):
    """The domain whose MX is fake (registered by pair.fake(domain))."""
    for name, rrs in pair.dns.records.items():
        for rr in rrs:
            if str(rr.rdata) == fake.host:
                return name[len("mx."):].rstrip(".")
    raise AssertionError("no domain for " + fake.host)


def test_mx_with_too_small_size_is_skipped_for_the_next(pair):
    domain = "size-%s.test" % token()
    small = pair.fake(ehlo=("PIPELINING", "SIZE 100"))
    big = pair.fake()
    pair.dns.add_zone("%s. 60 IN MX 10 small.%s.\n%s. 60 IN MX 20 big.%s.\n"
                      "small.%s. 60 IN A %s\nbig.%s. 60 IN A %s\n" %
                      (domain, domain, domain, domain, domain, small.host, domain, big.host))
    pair.send(pair.alias("s@" + domain), body="x" * 500 + "\r\n")
    assert wait_for(lambda: big.recipients() == ["s@" + domain])
    assert small.messages == [] and not any(c.startswith("MAIL") for c in small.commands)


def test_dot_stuffing_and_8bitmime_reach_the_mx_intact(pair):
    fake = pair.fake("dots-%s.test" % token())
    rcpt = "d@" + fake_domain(pair, fake)
    body = ".leading dot\r\n..two dots\r\nend\r\n"
    tok = pair.send(pair.alias(rcpt), body=body)
    assert wait_for(lambda: fake.messages)
    data = fake.messages[0][2]
    assert tok.encode() in data
    assert data.endswith(body.encode())
    assert any(c.startswith("MAIL FROM:<alice@a.test> SIZE=") for c in fake.commands)


def test_large_message_from_a_blob_file_is_streamed_intact(pair):
    fake = pair.fake("big-%s.test" % token())
    rcpt = "big@" + fake_domain(pair, fake)
    lines = "".join(("." if i % 7 == 0 else "") + "line %06d %s\r\n" % (i, "x" * 60)
                    for i in range(6000))       # ~430 KB: a blob file, not inline
    tok = pair.send(pair.alias(rcpt), body=lines)
    assert wait_for(lambda: fake.messages, timeout=30)
    data = fake.messages[0][2]
    assert tok.encode() in data
    assert data.endswith(lines.encode())
