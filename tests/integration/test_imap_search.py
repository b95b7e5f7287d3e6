"""IMAP SEARCH, UID SEARCH, ESEARCH (RFC 4731), CONDSTORE MODSEQ searches,
SORT and THREAD (RFC 5256) against messages delivered over SMTP.

The module's instance gets an imap listener of its own here (the shared
helpers are written in parallel elsewhere). Six related messages go to one
user, a second apart so that their INTERNALDATEs differ; flags are set
with STORE. Every expectation is exact.
"""
import datetime
import imaplib
import re
import socket
import time

import pytest

from conftest import Tern, check_sanitizers, free_port, populate
from pop3_helpers import deliver, new_user

BODY_PAD = b"padding padding padding padding padding padding padding pad\r\n"


def msg(headers, body, pad_lines=0):
    return ("\r\n".join(headers) + "\r\n\r\n").encode() + body + BODY_PAD * pad_lines


# (headers, body, padding lines): sizes grow 3 < 1 < 5 < 2 < 6 < 4
MESSAGES = [
    (["From: Alice Smith <alice@example.org>", "To: bob@b.test", "Cc: carol@c.test",
      "Subject: Meeting agenda", "Date: Mon, 01 Jan 2024 10:00:00 +0000",
      "Message-ID: <m1@x.test>"],
     b"Let us discuss the quarterly budget.\r\n", 10),
    (["From: Bob Jones <bob@b.test>", "To: alice@a.test", "Subject: Re: Meeting agenda",
      "Date: Tue, 02 Jan 2024 09:00:00 +0000", "Message-ID: <m2@x.test>",
      "In-Reply-To: <m1@x.test>", "References: <m1@x.test>"],
     b"Budget looks fine. See you there.\r\n", 40),
    (["From: =?UTF-8?Q?Zo=C3=AB_M=C3=BCller?= <zoe@z.test>", "To: alice@a.test",
      "Bcc: secret@hidden.test", "Subject: =?UTF-8?B?R3LDvMOfZQ==?=",
      "Date: Wed, 03 Jan 2024 23:30:00 -0500", "Message-ID: <m3@x.test>",
      "MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8",
      "Content-Transfer-Encoding: quoted-printable"],
     b"Sch=C3=B6ne Gr=C3=BC=C3=9Fe aus M=C3=BCnchen\r\n", 0),
    (["From: carol@c.test", "To: dave@d.test", "Subject: Re: Meeting agenda",
      "Date: Thu, 04 Jan 2024 12:00:00 +0000", "Message-ID: <m4@x.test>",
      "References: <m1@x.test> <m2@x.test>", "X-Priority: 1 (Highest)"],
     b"I cannot make it, sorry.\r\n", 90),
    (["From: Eve <eve@e.test>", "To: alice@a.test", "Subject: Lunch?",
      "Message-ID: <m5@x.test>"],
     b"tacos today?\r\n", 25),
    (["From: Frank <frank@f.test>", "To: alice@a.test", "Subject: Fwd: Lunch?",
      "Date: Fri, 05 Jan 2024 08:00:00 +0000", "Message-ID: <m6@x.test>"],
     b"Forwarding the lunch plan.\r\n", 60),
]


def imap_tern(base_dir, certs):
    t = Tern(base_dir, certs, extra={"server.plaintext_auth_loopback": "yes"})
    t.ports["imap"] = free_port(t.host)
    t.write_config()
    populate(t)
    t.start()
    return t


@pytest.fixture(scope="module")
def srv(base_dir, certs):
    t = imap_tern(base_dir, certs)
    yield t
    t.stop()
    check_sanitizers(t)


def connect(t, user, password):
    m = imaplib.IMAP4(t.host, t.ports["imap"], timeout=20)
    m.login(user, password)
    return m


@pytest.fixture(scope="module")
def box(srv):
    """A user holding MESSAGES (UIDs 1-6) with flags set; returns
    (user, password, uid sizes)."""
    user, password = new_user(srv, prefix="s")
    for i, (headers, body, pad) in enumerate(MESSAGES):
        if i:
            time.sleep(1.05)        # distinct INTERNALDATEs for ARRIVAL
        deliver(srv, user, msg(headers, body, pad))
    m = connect(srv, user, password)
    m.select("INBOX")
    for seq, flags in (("1", r"(\Seen \Answered)"), ("2", r"(\Flagged)"),
                       ("3", r"(\Deleted \Seen)"), ("4", r"(\Draft $Work)"),
                       ("6", r"(\Seen $Work)")):
        typ, _ = m.store(seq, "+FLAGS", flags)
        assert typ == "OK"
    m.logout()
    rows = srv.sql("SELECT m.uid, m.size FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id"
                   " JOIN accounts a ON a.id = b.account_id WHERE a.localpart = '%s'"
                   " AND b.name = 'INBOX' ORDER BY m.uid" % user.split("@")[0])
    sizes = {int(u): int(s) for u, s in (r.split("|") for r in rows.splitlines())}
    return user, password, sizes


@pytest.fixture
def m(srv, box):
    user, password, _ = box
    c = connect(srv, user, password)
    c.select("INBOX")
    yield c
    try:
        c.logout()
    except (imaplib.IMAP4.error, OSError):
        pass


def nums(data):
    return [int(x) for x in b" ".join(d for d in data if d).split()]


def search(m, *criteria):
    typ, data = m.search(None, *criteria)
    assert typ == "OK", data
    return nums(data)


def uid_search(m, *criteria):
    typ, data = m.uid("SEARCH", *criteria)
    assert typ == "OK", data
    return nums(data)


def raw_cmd(m, line):
    """Sends one tagged command; returns (untagged lines, tagged line)."""
    tag = m._new_tag().decode()
    m.send(("%s %s\r\n" % (tag, line)).encode())
    untagged = []
    while True:
        resp = m._get_line().decode("utf-8", "replace")
        if resp.startswith(tag + " "):
            return untagged, resp
        untagged.append(resp)


def today():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%d-%b-%Y")


def day_offset(days):
    d = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=days)
    return d.strftime("%d-%b-%Y")


# ---- SEARCH keys -------------------------------------------------------------

@pytest.mark.parametrize("criteria,expected", [
    (["ALL"], [1, 2, 3, 4, 5, 6]),
    (["ANSWERED"], [1]),
    (["UNANSWERED"], [2, 3, 4, 5, 6]),
    (["DELETED"], [3]),
    (["UNDELETED"], [1, 2, 4, 5, 6]),
    (["DRAFT"], [4]),
    (["UNDRAFT"], [1, 2, 3, 5, 6]),
    (["FLAGGED"], [2]),
    (["UNFLAGGED"], [1, 3, 4, 5, 6]),
    (["SEEN"], [1, 3, 6]),
    (["UNSEEN"], [2, 4, 5]),
    (["KEYWORD", "$Work"], [4, 6]),
    (["KEYWORD", "$work"], [4, 6]),
    (["UNKEYWORD", "$Work"], [1, 2, 3, 5]),
    (["KEYWORD", "$Never"], []),
    (["UNKEYWORD", "$Never"], [1, 2, 3, 4, 5, 6]),
    (["RECENT"], []),
    (["NEW"], []),
    (["OLD"], [1, 2, 3, 4, 5, 6]),
    (["FROM", "alice"], [1]),
    (["FROM", "SMITH"], [1]),
    (["FROM", "b.test"], [2]),
    (["TO", "alice@a.test"], [2, 3, 5, 6]),
    (["TO", "dave"], [4]),
    (["CC", "carol"], [1]),
    (["BCC", "hidden"], [3]),
    (["SUBJECT", "meeting"], [1, 2, 4]),
    (["SUBJECT", '"re: meeting"'], [2, 4]),
    (["SUBJECT", "lunch"], [5, 6]),
    (["SUBJECT", "nothing-like-this"], []),
    (["HEADER", "X-Priority", "highest"], [4]),
    (["HEADER", "x-priority", '""'], [4]),
    (["HEADER", "In-Reply-To", "m1@x.test"], [2]),
    (["HEADER", "Message-ID", "m5@"], [5]),
    (["BODY", "budget"], [1, 2]),
    (["BODY", "TACOS"], [5]),
    (["BODY", "Meeting"], []),
    (["BODY", "to"], [5]),
    (["TEXT", "Meeting"], [1, 2, 4]),
    (["TEXT", "budget"], [1, 2]),
    (["TEXT", "zoe@z.test"], [3]),
    (["LARGER", "0"], [1, 2, 3, 4, 5, 6]),
    (["SMALLER", "1"], []),
    (["SENTBEFORE", "2-Jan-2024"], [1]),
    (["SENTON", "2-Jan-2024"], [2]),
    (["SENTON", "4-Jan-2024"], [3, 4]),
    (["SENTSINCE", "4-Jan-2024"], [3, 4, 5, 6]),
    (["SENTSINCE", "5-Jan-2024", "SENTBEFORE", "6-Jan-2024"], [6]),
    (["1:3"], [1, 2, 3]),
    (["2,4:*"], [2, 4, 5, 6]),
    (["*"], [6]),
    (["5:9"], [5, 6]),
    (["UID", "2:3"], [2, 3]),
    (["UID", "*"], [6]),
    (["OR", "FLAGGED", "DRAFT"], [2, 4]),
    (["NOT", "SEEN"], [2, 4, 5]),
    (["NOT", "NOT", "SEEN"], [1, 3, 6]),
    (["OR", "SEEN", "OR", "FLAGGED", "DRAFT"], [1, 2, 3, 4, 6]),
    (["NOT", "OR", "SEEN", "FLAGGED"], [4, 5]),
    (["(SEEN UNDELETED)"], [1, 6]),
    (["OR", "(SUBJECT lunch SEEN)", "(FROM bob FLAGGED)"], [2, 6]),
    (["NOT", "(OR BODY budget SUBJECT lunch)"], [3, 4]),
    (["SEEN", "NOT", "BODY", "budget"], [3, 6]),
    (["2:5", "UNSEEN", "TEXT", "meeting"], [2, 4]),
    (["OR", "1", "6", "SUBJECT", "lunch"], [6]),
])
def test_search_key_gives_exact_matches(m, criteria, expected):
    assert search(m, *criteria) == expected


TEXT_CRITERIA = [["BODY", "budget"], ["BODY", "TACOS"], ["BODY", "to"], ["TEXT", "Meeting"],
                 ["TEXT", "zoe@z.test"], ["NOT", "(OR BODY budget SUBJECT lunch)"]]


def wait_indexed(srv, timeout=30):
    deadline = time.time() + timeout
    while srv.sql("SELECT count(*) FROM text_queue") != "0":
        assert time.time() < deadline, "the text index never caught up"
        time.sleep(0.05)


def test_text_search_agrees_before_and_after_indexing(m, srv):
    """The full-text index is brought up to date after the commit (the
    committer works text_queue off when idle). A search before that reads
    the queued messages itself and must give the same answer."""
    wait_indexed(srv)
    assert srv.sql("SELECT count(*) FROM blob_text") != "0"
    indexed = [search(m, *c) for c in TEXT_CRITERIA]
    assert indexed[0] == [1, 2]
    # queue every message again, as if just stored: read directly until indexed
    srv.sql("INSERT OR IGNORE INTO text_queue SELECT blob_id FROM messages")
    assert [search(m, *c) for c in TEXT_CRITERIA] == indexed
    wait_indexed(srv)
    assert [search(m, *c) for c in TEXT_CRITERIA] == indexed


def test_text_index_work_left_at_a_crash_is_done_after_restart(base_dir, certs):
    """text_queue is committed with the messages, so index work the
    committer had not done when ternd died is done by the next ternd."""
    t = imap_tern(base_dir, certs)
    try:
        user, password = new_user(t, prefix="k")
        for i in range(12):
            deliver(t, user, msg(["From: k@x.test", "Subject: crash %d" % i],
                                 b"zebra%02d striped\r\n" % i))
        wait_indexed(t)
        t.kill9()
        # as if the kill came first: every blob queued, and the index emptied
        t.sql("INSERT OR IGNORE INTO text_queue SELECT blob_id FROM messages;"
              " DELETE FROM blob_text;")
        t.start()
        c = connect(t, user, password)
        c.select("INBOX")
        assert search(c, "BODY", "zebra07") == [8]     # read directly, or indexed
        wait_indexed(t)
        assert t.sql("SELECT count(*) FROM blob_text") == t.sql(
            "SELECT count(DISTINCT blob_id) FROM messages")
        assert search(c, "BODY", "zebra07") == [8]
        assert search(c, "TEXT", "striped") == list(range(1, 13))
        c.logout()
    finally:
        t.stop()
    check_sanitizers(t)


def test_search_size_keys_follow_stored_sizes(m, box):
    sizes = box[2]
    by_size = sorted(sizes, key=lambda u: sizes[u])
    assert by_size == [3, 1, 5, 2, 6, 4]
    assert search(m, "LARGER", str(sizes[6])) == [4]
    assert search(m, "SMALLER", str(sizes[1])) == [3]
    assert search(m, "LARGER", str(sizes[5] - 1), "SMALLER", str(sizes[2] + 1)) == [2, 5]


def test_internal_date_keys_use_the_utc_day(m):
    assert search(m, "ON", today()) == [1, 2, 3, 4, 5, 6] or \
        search(m, "ON", day_offset(-1)) != []  # delivery straddled midnight
    assert search(m, "SINCE", day_offset(-1)) == [1, 2, 3, 4, 5, 6]
    assert search(m, "BEFORE", day_offset(-1)) == []
    assert search(m, "BEFORE", day_offset(2)) == [1, 2, 3, 4, 5, 6]
    assert search(m, "SINCE", day_offset(2)) == []
    assert search(m, "ON", "1-Jan-2024") == []


def test_sentdate_falls_back_to_internal_date(m):
    # message 5 has no Date: header
    assert search(m, "SENTSINCE", day_offset(-1)) == [5]
    assert search(m, "SENTBEFORE", "1-Jan-2024") == []


def test_uid_search_answers_uids(m, srv, box):
    assert uid_search(m, "ALL") == [1, 2, 3, 4, 5, 6]
    assert uid_search(m, "UID", "4:*", "UNSEEN") == [4, 5]
    assert uid_search(m, "2:3") == [2, 3]


def test_charset_utf8_literal_matches_decoded_headers_and_body(m):
    m.literal = "Grüße".encode()
    typ, data = m.search("UTF-8", "SUBJECT")
    assert typ == "OK" and nums(data) == [3]
    m.literal = "müller".encode()
    typ, data = m.search("UTF-8", "FROM")
    assert typ == "OK" and nums(data) == [3]
    m.literal = "MÜNCHEN".encode()
    typ, data = m.search("UTF-8", "BODY")
    assert typ == "OK" and nums(data) == [3]
    assert search(m, "CHARSET", "US-ASCII", "SUBJECT", "lunch") == [5, 6]


def test_unknown_charset_gets_badcharset(m):
    untagged, tagged = raw_cmd(m, "SEARCH CHARSET KOI8-R SUBJECT x")
    assert re.match(r"^\S+ NO \[BADCHARSET \(UTF-8 US-ASCII\)\]", tagged), tagged
    assert search(m, "SEEN") == [1, 3, 6]


@pytest.mark.parametrize("line", [
    "SEARCH",
    "SEARCH FOO",
    "SEARCH SUBJECT",
    "SEARCH OR SEEN",
    "SEARCH NOT",
    "SEARCH (SEEN",
    "SEARCH SEEN)",
    "SEARCH ()",
    "SEARCH LARGER x",
    "SEARCH BEFORE 32-Foo-2024",
    "SEARCH UID 0",
    "SEARCH 1:x",
    "SEARCH RETURN (BOGUS) ALL",
    "SEARCH HEADER Subject",
    "SEARCH $",
    "SORT SUBJECT UTF-8 ALL",
    "SORT () UTF-8 ALL",
    "SORT (SUBJECT BOGUS) UTF-8 ALL",
    "THREAD BOGUS UTF-8 ALL",
    "THREAD REFERENCES",
])
def test_malformed_program_is_bad_and_session_continues(m, line):
    _, tagged = raw_cmd(m, line)
    assert re.match(r"^\S+ BAD ", tagged), tagged
    assert search(m, "FLAGGED") == [2]


def test_sort_without_charset_reads_the_key_as_a_charset(m):
    _, tagged = raw_cmd(m, "SORT (SUBJECT) ALL")
    assert re.match(r"^\S+ NO \[BADCHARSET", tagged), tagged
    assert search(m, "FLAGGED") == [2]


def test_search_save_is_refused(m):
    _, tagged = raw_cmd(m, "SEARCH RETURN (SAVE) ALL")
    assert re.match(r"^\S+ NO ", tagged), tagged


# ---- ESEARCH -------------------------------------------------------------------

def esearch(m, line):
    untagged, tagged = raw_cmd(m, line)
    assert " OK " in tagged, (untagged, tagged)
    [resp] = [u for u in untagged if u.startswith("* ESEARCH")]
    return resp


def test_esearch_return_options(m):
    tag_re = r'\* ESEARCH \(TAG "[^"]+"\)'
    assert re.fullmatch(tag_re + r" MIN 2 MAX 5 COUNT 3",
                        esearch(m, "SEARCH RETURN (MIN MAX COUNT) UNSEEN"))
    assert re.fullmatch(tag_re + r" ALL 1:2,4:6", esearch(m, "SEARCH RETURN (ALL) NOT DELETED"))
    assert re.fullmatch(tag_re + r" ALL 1:6", esearch(m, "SEARCH RETURN () ALL"))
    assert re.fullmatch(tag_re + r" COUNT 0", esearch(m, "SEARCH RETURN (COUNT MIN) SMALLER 1"))
    assert re.fullmatch(tag_re, esearch(m, "SEARCH RETURN (MIN MAX ALL) SMALLER 1"))
    assert re.fullmatch(tag_re + r" UID MAX 6 COUNT 3",
                        esearch(m, "UID SEARCH RETURN (MAX COUNT) SEEN"))


def test_rev2_session_gets_esearch_without_return(srv, box):
    user, password, _ = box
    c = connect(srv, user, password)
    assert c.enable("IMAP4rev2")[0] == "OK"
    c.select("INBOX")
    resp = esearch(c, "SEARCH SEEN")
    assert re.fullmatch(r'\* ESEARCH \(TAG "[^"]+"\) ALL 1,3,6', resp), resp
    c.logout()


# ---- MODSEQ (RFC 7162) ------------------------------------------------------------

def test_modseq_search_reports_highest_modseq(srv):
    user, password = new_user(srv, prefix="q")
    for i in range(3):
        deliver(srv, user, msg(["From: q@q.test", "To: %s" % user, "Subject: q%d" % i,
                                "Message-ID: <q%d-%s>" % (i, user)], b"q\r\n"))
    c = connect(srv, user, password)
    c.select("INBOX")
    untagged, tagged = raw_cmd(c, "SEARCH MODSEQ 1")
    assert " OK " in tagged
    match = re.fullmatch(r"\* SEARCH 1 2 3 \(MODSEQ (\d+)\)", untagged[-1])
    assert match, untagged
    top = int(match.group(1))
    assert c.store("2", "+FLAGS", r"(\Flagged)")[0] == "OK"
    untagged, _ = raw_cmd(c, "SEARCH MODSEQ %d" % (top + 1))
    [resp] = [u for u in untagged if u.startswith("* SEARCH")]
    match = re.fullmatch(r"\* SEARCH 2 \(MODSEQ (\d+)\)", resp)
    assert match and int(match.group(1)) > top, untagged
    untagged, _ = raw_cmd(c, "SEARCH MODSEQ %d" % (int(match.group(1)) + 1))
    assert "* SEARCH" in untagged
    # the MODSEQ key turned CONDSTORE on: STORE answers carry MODSEQ
    untagged, _ = raw_cmd(c, r"STORE 1 +FLAGS (\Seen)")
    assert any("MODSEQ" in u for u in untagged), untagged
    resp = esearch(c, 'SEARCH RETURN (COUNT) MODSEQ "/flags/\\\\seen" all 1')
    assert re.fullmatch(r'\* ESEARCH \(TAG "[^"]+"\) COUNT 3 MODSEQ \d+', resp), resp
    c.logout()


def test_recent_and_new_in_a_fresh_mailbox(srv):
    user, password = new_user(srv, prefix="r")
    deliver(srv, user, msg(["From: r@r.test", "To: %s" % user, "Subject: r",
                            "Message-ID: <r-%s>" % user], b"r\r\n"))
    c = connect(srv, user, password)
    c.select("INBOX")
    assert search(c, "RECENT") == [1]
    assert search(c, "NEW") == [1]
    assert search(c, "OLD") == []
    c.store("1", "+FLAGS", r"(\Seen)")
    assert search(c, "NEW") == []
    assert search(c, "RECENT") == [1]
    c.logout()


# ---- SORT ------------------------------------------------------------------------

def sort(m, criteria, *search_keys, uid=False):
    if uid:
        typ, data = m.uid("SORT", criteria, "UTF-8", *search_keys)
    else:
        typ, data = m.sort(criteria, "UTF-8", *search_keys)
    assert typ == "OK", data
    return nums(data)


@pytest.mark.parametrize("criteria,expected", [
    ("(ARRIVAL)", [1, 2, 3, 4, 5, 6]),
    ("(REVERSE ARRIVAL)", [6, 5, 4, 3, 2, 1]),
    ("(SUBJECT)", [3, 5, 6, 1, 2, 4]),
    ("(REVERSE SUBJECT)", [1, 2, 4, 5, 6, 3]),
    ("(FROM)", [1, 2, 4, 5, 6, 3]),
    ("(REVERSE FROM)", [3, 6, 5, 4, 2, 1]),
    ("(TO)", [2, 3, 5, 6, 1, 4]),
    ("(REVERSE TO)", [4, 1, 2, 3, 5, 6]),
    ("(CC)", [2, 3, 4, 5, 6, 1]),
    ("(REVERSE CC)", [1, 2, 3, 4, 5, 6]),
    ("(DATE)", [1, 2, 3, 4, 6, 5]),
    ("(REVERSE DATE)", [5, 6, 4, 3, 2, 1]),
    ("(SIZE)", [3, 1, 5, 2, 6, 4]),
    ("(REVERSE SIZE)", [4, 6, 2, 5, 1, 3]),
    ("(SUBJECT REVERSE DATE)", [3, 5, 6, 4, 2, 1]),
    ("(TO REVERSE SIZE)", [6, 2, 5, 3, 1, 4]),
])
def test_sort_orders_by_criterion(m, criteria, expected):
    assert sort(m, criteria, "ALL") == expected


def test_sort_with_search_program_and_uid(m):
    assert sort(m, "(REVERSE DATE)", "UNSEEN") == [5, 4, 2]
    assert sort(m, "(SUBJECT)", "OR", "SEEN", "FLAGGED", uid=True) == [3, 6, 1, 2]
    assert sort(m, "(SIZE)", "SMALLER", "1") == []


# ---- THREAD -------------------------------------------------------------------------

def thread(m, alg, *keys, uid=False):
    if uid:
        typ, data = m.uid("THREAD", alg, "UTF-8", *keys)
    else:
        typ, data = m.thread(alg, "UTF-8", *keys)
    assert typ == "OK", data
    return b"".join(d for d in data if d).decode()


def test_thread_references_links_replies_and_merges_subjects(m):
    assert thread(m, "REFERENCES", "ALL") == "(1 2 4)(3)(5 6)"
    assert thread(m, "REFERENCES", "NOT", "2") == "(1 4)(3)(5 6)"
    assert thread(m, "REFERENCES", "SMALLER", "1") == ""


def test_thread_orderedsubject_groups_by_base_subject(m):
    assert thread(m, "ORDEREDSUBJECT", "ALL") == "(1 (2)(4))(3)(6 5)"
    assert thread(m, "ORDEREDSUBJECT", "UID", "1,4:6", uid=True) == "(1 4)(6 5)"


def test_thread_untagged_form(m):
    untagged, tagged = raw_cmd(m, "THREAD REFERENCES US-ASCII SUBJECT meeting")
    assert " OK " in tagged
    assert untagged == ["* THREAD (1 2 4)"]
    untagged, tagged = raw_cmd(m, "THREAD REFERENCES UTF-8 SMALLER 1")
    assert untagged == ["* THREAD"], untagged


def test_search_in_auth_state_is_bad(srv, box):
    user, password, _ = box
    c = connect(srv, user, password)
    _, tagged = raw_cmd(c, "SEARCH ALL")
    assert re.match(r"^\S+ BAD ", tagged)
    c.logout()
