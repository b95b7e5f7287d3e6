"""SELECT and EXAMINE: the exact untagged responses (RFC 9051 6.3.2,
RFC 3501 6.3.1 for \\Recent), READ-WRITE / READ-ONLY, CONDSTORE
HIGHESTMODSEQ (RFC 7162 3.1.2), QRESYNC VANISHED (EARLIER) (RFC 7162
3.2.5), [CLOSED] on reselect, CLOSE and UNSELECT."""
import re

import pytest

from imap_helpers import (deliver, imap_instance, login, message, new_user, raw, raw_login,
                          user_with_messages, wait_for)


@pytest.fixture(scope="module")
def tern(base_dir, certs):
    yield from imap_instance(base_dir, certs)


def select_lines(r, command):
    tagged, lines = r.cmd(command)
    return tagged, lines


def uidvalidity_of(lines):
    for line in lines:
        m = re.match(r"\* OK \[UIDVALIDITY (\d+)\]", line)
        if m:
            return int(m.group(1))
    raise AssertionError(lines)


def test_select_inbox_with_messages_exact_responses(tern):
    user, password, _ = user_with_messages(tern, 3)
    r = raw_login(tern, user, password)
    tagged, lines = r.cmd("SELECT INBOX")
    assert tagged == "OK [READ-WRITE] SELECT completed"
    uv = uidvalidity_of(lines)
    highest = [l for l in lines if "HIGHESTMODSEQ" in l]
    assert len(highest) == 1
    assert re.match(r"\* OK \[HIGHESTMODSEQ \d+\] ", highest[0]), highest
    expected = [
        "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)",
        "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted",
        "* 3 EXISTS",
        "* 3 RECENT",
        "* OK [UNSEEN 1] First unseen",
        "* OK [UIDVALIDITY %d] UIDs valid" % uv,
        "* OK [UIDNEXT 4] Predicted next UID",
        highest[0],
    ]
    assert lines == expected
    r.close()


def test_select_empty_mailbox_has_no_unseen_and_uidnext_1(tern):
    user, password = new_user(tern)
    r = raw_login(tern, user, password)
    tagged, lines = r.cmd("SELECT INBOX")
    assert tagged == "OK [READ-WRITE] SELECT completed"
    assert "* 0 EXISTS" in lines
    assert "* 0 RECENT" in lines
    assert not [l for l in lines if "[UNSEEN" in l]
    assert "* OK [UIDNEXT 1] Predicted next UID" in lines
    r.close()


def test_select_second_time_has_no_recent(tern):
    """RFC 3501 2.3.2: \\Recent belongs to the first session to see it."""
    user, password, _ = user_with_messages(tern, 2)
    r = raw_login(tern, user, password)
    assert "* 2 RECENT" in r.cmd("SELECT INBOX")[1]
    r.close()
    r = raw_login(tern, user, password)
    assert "* 0 RECENT" in r.cmd("SELECT INBOX")[1]
    r.close()


def test_select_after_enable_imap4rev2_sends_no_recent(tern):
    """RFC 9051 7.4.2/ appendix E: RECENT is gone from IMAP4rev2."""
    user, password, _ = user_with_messages(tern, 1)
    r = raw_login(tern, user, password)
    r.ok("ENABLE IMAP4rev2")
    tagged, lines = r.cmd("SELECT INBOX")
    assert tagged.startswith("OK [READ-WRITE]")
    assert not [l for l in lines if l.endswith(" RECENT")], lines
    assert "* 1 EXISTS" in lines
    r.close()


def test_select_unseen_points_to_first_unseen(tern):
    user, password, _ = user_with_messages(tern, 3)
    r = raw_login(tern, user, password)
    r.ok("SELECT INBOX")
    r.ok("STORE 1:2 +FLAGS.SILENT (\\Seen)")
    r.ok("UNSELECT")
    _, lines = r.cmd("SELECT INBOX")
    assert "* OK [UNSEEN 3] First unseen" in lines
    r.close()


def test_select_flags_lists_keywords_in_use(tern):
    user, password, _ = user_with_messages(tern, 1)
    r = raw_login(tern, user, password)
    r.ok("SELECT INBOX")
    r.ok("STORE 1 +FLAGS.SILENT ($Forwarded)")
    r.ok("UNSELECT")
    _, lines = r.cmd("SELECT INBOX")
    assert "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded)" in lines
    assert ("* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded \\*)]"
            " Flags permitted") in lines
    r.close()


def test_examine_is_read_only_with_empty_permanentflags(tern):
    user, password, _ = user_with_messages(tern, 2)
    r = raw_login(tern, user, password)
    tagged, lines = r.cmd("EXAMINE INBOX")
    assert tagged == "OK [READ-ONLY] EXAMINE completed"
    assert "* OK [PERMANENTFLAGS ()] Flags permitted" in lines
    assert "* 2 EXISTS" in lines
    tagged, _ = r.cmd("STORE 1 +FLAGS (\\Seen)")
    assert tagged.startswith("NO"), tagged
    tagged, _ = r.cmd("EXPUNGE")
    assert tagged.startswith("NO"), tagged
    r.close()


def test_examine_does_not_claim_recent(tern):
    user, password, _ = user_with_messages(tern, 1)
    r = raw_login(tern, user, password)
    r.ok("EXAMINE INBOX")
    r.close()
    r = raw_login(tern, user, password)
    assert "* 1 RECENT" in r.cmd("SELECT INBOX")[1]
    r.close()


def test_select_missing_mailbox_gets_no_and_leaves_unselected(tern):
    user, password, _ = user_with_messages(tern, 1)
    r = raw_login(tern, user, password)
    r.ok("SELECT INBOX")
    tagged, _ = r.cmd("SELECT nope")
    assert tagged.startswith("NO [NONEXISTENT]"), tagged
    # RFC 9051 6.3.2: a failed SELECT leaves no mailbox selected
    tagged, _ = r.cmd("NOOP")
    tagged, _ = r.cmd("FETCH 1 FLAGS")
    assert tagged.startswith("BAD"), tagged
    r.close()


def test_reselect_with_qresync_sends_closed_first(tern):
    """RFC 7162 3.2.11: [CLOSED] separates the old mailbox's responses from
    the new one's when SELECT replaces a selected mailbox."""
    user, password = new_user(tern)
    r = raw_login(tern, user, password)
    r.ok("ENABLE QRESYNC")
    r.ok("SELECT INBOX")
    tagged, lines = r.cmd("SELECT Trash")
    assert tagged == "OK [READ-WRITE] SELECT completed"
    assert lines[0] == "* OK [CLOSED] Previous mailbox closed"
    r.close()


def test_reselect_without_enable_sends_closed(tern):
    user, password = new_user(tern)
    r = raw_login(tern, user, password)
    r.ok("SELECT INBOX")
    _, lines = r.cmd("EXAMINE Trash")
    assert lines[0] == "* OK [CLOSED] Previous mailbox closed", lines
    r.close()


def test_select_condstore_parameter_enables_modseq(tern):
    user, password, _ = user_with_messages(tern, 1)
    r = raw_login(tern, user, password)
    tagged, lines = r.cmd("SELECT INBOX (CONDSTORE)")
    assert tagged == "OK [READ-WRITE] SELECT completed"
    assert [l for l in lines if l.startswith("* OK [HIGHESTMODSEQ ")]
    _, lines = r.cmd("STORE 1 +FLAGS (\\Flagged)")
    assert re.match(r"\* 1 FETCH \(FLAGS \(\\Flagged \\Recent\) MODSEQ \(\d+\)\)$", lines[0]) or \
        re.match(r"\* 1 FETCH \(MODSEQ \(\d+\) FLAGS \(\\Flagged \\Recent\)\)$", lines[0]), lines
    r.close()


def test_highestmodseq_grows_with_each_change(tern):
    user, password, _ = user_with_messages(tern, 1)
    r = raw_login(tern, user, password)

    def highest():
        _, lines = r.cmd("STATUS INBOX (HIGHESTMODSEQ)")
        return int(re.search(r"HIGHESTMODSEQ (\d+)", lines[0]).group(1))

    h0 = highest()
    deliver(tern, user, message())
    h1 = highest()
    assert h1 > h0
    r.ok("SELECT INBOX")
    r.ok("STORE 1 +FLAGS.SILENT (\\Seen)")
    r.ok("UNSELECT")
    assert highest() > h1
    r.close()


def qresync_selected(tern, n):
    """A session with QRESYNC enabled and INBOX (n messages) selected;
    returns it with the UIDVALIDITY and HIGHESTMODSEQ it reported."""
    user, password, _ = user_with_messages(tern, n)
    r = raw_login(tern, user, password)
    r.ok("ENABLE QRESYNC")
    r.user = user
    _, lines = r.cmd("SELECT INBOX")
    uv = uidvalidity_of(lines)
    modseq = int(re.search(r"HIGHESTMODSEQ (\d+)", " ".join(lines)).group(1))
    return r, uv, modseq


def test_qresync_select_reports_vanished_earlier(tern):
    r, uv, modseq = qresync_selected(tern, 4)
    r.ok("STORE 2,4 +FLAGS.SILENT (\\Deleted)")
    _, lines = r.cmd("EXPUNGE")
    assert lines == ["* VANISHED 2,4"] or lines == ["* VANISHED 4", "* VANISHED 2"], lines
    r.ok("UNSELECT")
    tagged, lines = r.cmd("SELECT INBOX (QRESYNC (%d %d 1:4))" % (uv, modseq))
    assert tagged == "OK [READ-WRITE] SELECT completed"
    assert "* VANISHED (EARLIER) 2,4" in lines, lines
    assert "* 2 EXISTS" in lines
    r.close()


def test_qresync_known_uids_limit_what_is_reported(tern):
    """RFC 7162 3.2.5.1: with known-uids, VANISHED and FETCH cover only
    those; seq-match-data is accepted, and not needed while the expunges
    asked about are still on record."""
    r, uv, modseq = qresync_selected(tern, 6)
    r.ok("STORE 1,2 +FLAGS.SILENT (\\Deleted)")
    r.ok("EXPUNGE")
    r.ok("STORE 1,4 +FLAGS.SILENT (\\Flagged)")   # UIDs 3 and 6
    r.ok("UNSELECT")
    _, lines = r.cmd("SELECT INBOX (QRESYNC (%d %d 2:5))" % (uv, modseq))
    assert "* VANISHED (EARLIER) 2" in lines, lines
    fetches = [l for l in lines if " FETCH " in l]
    assert len(fetches) == 1 and "UID 3 " in fetches[0], lines
    r.ok("UNSELECT")
    _, lines = r.cmd("SELECT INBOX (QRESYNC (%d %d 1:* (1:2 3:4)))" % (uv, modseq))
    assert "* VANISHED (EARLIER) 1:2" in lines, lines
    assert len([l for l in lines if " FETCH " in l]) == 2, lines
    r.ok("UNSELECT")
    for bad in ["(QRESYNC (%d %d 0:3))", "(QRESYNC (%d %d $))", "(QRESYNC (%d %d 1:5 (1:2)))",
                "(QRESYNC (%d %d 1:5 (1 2) 3))"]:
        tagged, _ = r.cmd("SELECT INBOX " + bad % (uv, modseq))
        assert tagged.startswith("BAD"), (bad, tagged)
    r.ok("NOOP")
    r.close()


def inbox_id(tern, user):
    return int(tern.sql("SELECT m.id FROM mailboxes m JOIN accounts a ON a.id = m.account_id"
                        " WHERE a.localpart = '%s' AND m.name = 'INBOX'" % user.split("@")[0]))


def prune_all_expunges(tern, mailbox):
    """What ternd's prune leaves once it dropped every row of the mailbox
    (store/expunged.c), done behind its back."""
    tern.sql("BEGIN; UPDATE mailboxes SET expunge_floor = highestmodseq WHERE id = %d;"
             " DELETE FROM expunged WHERE mailbox_id = %d; COMMIT" % (mailbox, mailbox))


def test_qresync_after_pruned_expunges_lists_every_absent_uid(tern):
    """RFC 7162 5.3: once the expunges since the client's MODSEQ are no
    longer on record, VANISHED (EARLIER) lists every UID not present (more
    than vanished since), narrowed by known-uids and seq-match-data."""
    r, uv, _ = qresync_selected(tern, 6)
    user = r.user
    r.ok("UID STORE 2 +FLAGS.SILENT (\\Deleted)")
    r.ok("EXPUNGE")                       # before the client's MODSEQ
    r.ok("UNSELECT")
    _, lines = r.cmd("SELECT INBOX")
    modseq = int(re.search(r"HIGHESTMODSEQ (\d+)", " ".join(lines)).group(1))
    r.ok("UID STORE 3,5 +FLAGS.SILENT (\\Deleted)")
    r.ok("EXPUNGE")                       # after it: UIDs 1, 4, 6 are left
    r.ok("UNSELECT")
    _, lines = r.cmd("SELECT INBOX (QRESYNC (%d %d))" % (uv, modseq))
    assert "* VANISHED (EARLIER) 3,5" in lines, lines     # exact while on record
    r.ok("UNSELECT")

    prune_all_expunges(tern, inbox_id(tern, user))
    cases = [("", "2:3,5"), (" 4:6", "5"), (" 1:6 (2 4)", "5"), (" 1:6 (1:2 1,3)", "2:3,5"),
             (" 1:6 (3 6)", None)]
    for params, vanished in cases:
        tagged, lines = r.cmd("SELECT INBOX (QRESYNC (%d %d%s))" % (uv, modseq, params))
        assert tagged == "OK [READ-WRITE] SELECT completed", (params, tagged)
        got = [l for l in lines if "VANISHED" in l]
        assert got == (["* VANISHED (EARLIER) " + vanished] if vanished else []), (params, got)
        r.ok("UNSELECT")
    r.ok("SELECT INBOX")
    _, lines = r.cmd("UID FETCH 1:* (FLAGS) (CHANGEDSINCE %d VANISHED)" % modseq)
    assert lines[0] == "* VANISHED (EARLIER) 2:3,5", lines
    r.close()


def test_session_sync_after_pruned_expunges_compares_uids(tern):
    """A session whose view predates the pruned rows still learns of each
    expunge (as EXPUNGE, or VANISHED with QRESYNC), and of nothing else."""
    user, password, _ = user_with_messages(tern, 4)
    plain = raw_login(tern, user, password)
    plain.ok("SELECT INBOX")
    q = raw_login(tern, user, password)
    q.ok("ENABLE QRESYNC")
    q.ok("SELECT INBOX")
    other = raw_login(tern, user, password)
    other.ok("SELECT INBOX")
    other.ok("UID STORE 2,3 +FLAGS.SILENT (\\Deleted)")
    other.ok("EXPUNGE")
    prune_all_expunges(tern, inbox_id(tern, user))
    assert plain.ok("NOOP") == ["* 2 EXPUNGE", "* 2 EXPUNGE"]
    assert q.ok("NOOP") == ["* VANISHED 2:3"]
    _, lines = plain.cmd("UID FETCH 1:* (FLAGS)")
    assert [re.search(r"UID (\d+)", l).group(1) for l in lines] == ["1", "4"], lines
    # a new SELECT starts from ternd's shared copy of the list, last
    # brought up to date before the expunge
    fresh = raw_login(tern, user, password)
    assert "* 2 EXISTS" in fresh.ok("SELECT INBOX")
    _, lines = fresh.cmd("UID FETCH 1:* (FLAGS)")
    assert [re.search(r"UID (\d+)", l).group(1) for l in lines] == ["1", "4"], lines
    for c in (plain, q, other, fresh):
        c.close()


def test_committer_prunes_expunge_history(tern):
    """The committer keeps the newest 10,000 expunge rows per mailbox that
    had an expunge, a chunk of 20,000 a second, raises the floor, and
    QRESYNC stays right either side of it."""
    r, uv, _ = qresync_selected(tern, 2)
    mailbox = inbox_id(tern, r.user)
    # 30,005 old expunges on record, MODSEQ 1..30005, for UIDs never used
    tern.sql("BEGIN; UPDATE mailboxes SET highestmodseq = 40000 WHERE id = %d;"
             " WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 30005)"
             " INSERT INTO expunged SELECT %d, 100000 + i, i FROM n; COMMIT" % (mailbox, mailbox))
    log_start = len(tern.log())
    r.ok("UID STORE 1 +FLAGS.SILENT (\\Deleted)")
    r.ok("EXPUNGE")                       # MODSEQ 40001: the mailbox is pruned
    # newest first: 40001, 30005, ... ; the 10,001st has MODSEQ 20006
    assert wait_for(lambda: tern.sql("SELECT expunge_floor FROM mailboxes WHERE id = %d"
                                     % mailbox) == "20006")
    assert tern.sql("SELECT count(*) FROM expunged WHERE mailbox_id = %d" % mailbox) == "10000"
    # the 20,006 rows went in two prunes: the oldest 20,000, then 6
    prunes = re.findall(r"store expunged prune rows=(\d+)", tern.log()[log_start:])
    assert prunes == ["20000", "6"], prunes
    r.ok("UNSELECT")
    _, lines = r.cmd("SELECT INBOX (QRESYNC (%d 40000))" % uv)
    assert "* VANISHED (EARLIER) 1" in lines, lines
    r.ok("UNSELECT")
    _, lines = r.cmd("SELECT INBOX (QRESYNC (%d 5))" % uv)
    assert "* VANISHED (EARLIER) 1" in lines, lines       # all of 1:1 absent
    r.close()


def test_qresync_select_reports_changed_flags(tern):
    r, uv, modseq = qresync_selected(tern, 3)
    r.ok("STORE 3 +FLAGS.SILENT (\\Flagged)")
    r.ok("UNSELECT")
    _, lines = r.cmd("SELECT INBOX (QRESYNC (%d %d))" % (uv, modseq))
    fetches = [l for l in lines if " FETCH " in l]
    assert len(fetches) == 1, lines
    assert fetches[0].startswith("* 3 FETCH (")
    assert "UID 3" in fetches[0] and "\\Flagged" in fetches[0]
    r.close()


def test_qresync_with_wrong_uidvalidity_sends_no_vanished(tern):
    user, password, _ = user_with_messages(tern, 2)
    r = raw_login(tern, user, password)
    r.ok("ENABLE QRESYNC")
    tagged, lines = r.cmd("SELECT INBOX (QRESYNC (1 1 1:10))")
    assert tagged == "OK [READ-WRITE] SELECT completed"
    assert not [l for l in lines if "VANISHED" in l or " FETCH " in l], lines
    r.close()


def test_qresync_parameter_without_enable_gets_bad(tern):
    """RFC 7162 3.2.5: QRESYNC in SELECT before ENABLE QRESYNC is BAD."""
    user, password = new_user(tern)
    r = raw_login(tern, user, password)
    tagged, _ = r.cmd("SELECT INBOX (QRESYNC (1 1))")
    assert tagged.startswith("BAD"), tagged
    r.close()


def test_close_expunges_deleted_silently(tern):
    user, password, _ = user_with_messages(tern, 3)
    r = raw_login(tern, user, password)
    r.ok("SELECT INBOX")
    r.ok("STORE 2 +FLAGS.SILENT (\\Deleted)")
    tagged, lines = r.cmd("CLOSE")
    assert tagged == "OK CLOSE completed"
    assert lines == []
    _, lines = r.cmd("STATUS INBOX (MESSAGES)")
    assert lines == ["* STATUS INBOX (MESSAGES 2)"]
    r.close()


def test_close_on_examine_does_not_expunge(tern):
    user, password, _ = user_with_messages(tern, 2)
    r = raw_login(tern, user, password)
    r.ok("SELECT INBOX")
    r.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
    r.ok("EXAMINE INBOX")
    assert r.cmd("CLOSE")[0] == "OK CLOSE completed"
    _, lines = r.cmd("STATUS INBOX (MESSAGES)")
    assert lines == ["* STATUS INBOX (MESSAGES 2)"]
    r.close()


def test_unselect_does_not_expunge(tern):
    user, password, _ = user_with_messages(tern, 2)
    r = raw_login(tern, user, password)
    r.ok("SELECT INBOX")
    r.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
    tagged, lines = r.cmd("UNSELECT")
    assert tagged == "OK UNSELECT completed" and lines == []
    _, lines = r.cmd("STATUS INBOX (MESSAGES DELETED)")
    assert lines == ["* STATUS INBOX (MESSAGES 2 DELETED 1)"]
    tagged, _ = r.cmd("UNSELECT")
    assert tagged.startswith("BAD"), tagged
    r.close()


def test_imaplib_select_returns_exists_count(tern):
    user, password, _ = user_with_messages(tern, 2)
    m = login(tern, user, password)
    assert m.select("INBOX") == ("OK", [b"2"])
    assert m.response("UIDNEXT") == ("UIDNEXT", [b"3"])
    assert m.select("INBOX", readonly=True) == ("OK", [b"2"])
    assert m.response("READ-ONLY")[1] == [b""]
    m.close()
    m.logout()


def test_select_before_login_gets_bad(tern):
    r = raw(tern)
    tagged, _ = r.cmd("SELECT INBOX")
    assert tagged == "BAD Log in first"
    r.close()


def test_check_in_selected_state_gets_ok(tern):
    user, password = new_user(tern)
    r = raw_login(tern, user, password)
    r.ok("SELECT INBOX")
    tagged, _ = r.cmd("CHECK")
    assert tagged.startswith("OK"), tagged
    r.close()
