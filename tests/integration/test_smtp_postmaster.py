"""RFC 5321 4.5.1 <postmaster> and aliases that keep a copy."""
import smtplib

from conftest import Raw


def test_bare_postmaster_reaches_postmaster_of_the_hostnames_domain(fresh):
    t = fresh()   # hostname mail.a.test; a.test is local
    t.cli("alias", "add", "postmaster@a.test", "carol@a.test")
    t.start()
    r = Raw(t.host, t.ports["smtp"])
    assert r.reply()[0] == 220
    assert r.cmd("EHLO client.test")[0] == 250
    assert r.cmd("MAIL FROM:<>")[0] == 250
    code, text = r.cmd("RCPT TO:<Postmaster>")
    assert code == 250, text
    assert r.cmd("DATA")[0] == 354
    code, text = r.cmd("Subject: bounce\r\n\r\nhi\r\n.")
    assert code == 250, text
    r.close()
    assert "Delivered-To: postmaster@a.test" in t.sql(
        "SELECT CAST(prefix AS TEXT) FROM messages ORDER BY id DESC LIMIT 1")


def test_bare_postmaster_without_alias_is_unknown_user_not_relay(tern):
    r = Raw(tern.host, tern.ports["smtp"])
    r.reply()
    r.cmd("EHLO client.test")
    r.cmd("MAIL FROM:<>")
    code, text = r.cmd("RCPT TO:<postmaster>")
    assert code == 550 and "5.1.1" in text
    r.close()


def test_alias_to_itself_and_remote_keeps_a_local_copy(fresh):
    t = fresh()
    t.cli("alias", "add", "bob@a.test", "bob@a.test", "bob@elsewhere.test")
    t.start()
    with smtplib.SMTP(t.host, t.ports["smtp"], timeout=10) as s:
        s.sendmail("x@example.org", ["bob@a.test"], b"Subject: copy\r\n\r\nkeep me\r\n")
    bob = t.sql("SELECT count(*) FROM messages m JOIN mailboxes mb ON mb.id = m.mailbox_id "
                "JOIN accounts a ON a.id = mb.account_id WHERE a.localpart = 'bob'")
    assert bob == "1"
    assert t.sql("SELECT recipient FROM queue") == "bob@elsewhere.test"
