"""STORE (+FLAGS, -FLAGS, FLAGS, .SILENT, keywords, UNCHANGEDSINCE ->
[MODIFIED], RFC 9051 6.4.6 and RFC 7162 3.1.3), EXPUNGE and UID EXPUNGE
(RFC 4315), COPY -> [COPYUID] and MOVE (RFC 6851)."""
import re

import pytest

from imap_helpers import fetch_flags, imap_instance, login, raw_login, user_with_messages


@pytest.fixture(scope="module")
def tern(base_dir, certs):
    yield from imap_instance(base_dir, certs)


def selected(t, count=3):
    user, password, bodies = user_with_messages(t, count)
    r = raw_login(t, user, password)
    r.ok("SELECT INBOX")
    return r


def uidvalidity(r, mailbox):
    _, lines = r.cmd("STATUS %s (UIDVALIDITY)" % mailbox)
    return int(re.search(r"UIDVALIDITY (\d+)", lines[0]).group(1))


# -- STORE ---------------------------------------------------------------------

def test_store_plus_flags_returns_fetch_with_all_flags(tern):
    r = selected(tern)
    tagged, lines = r.cmd("STORE 1 +FLAGS (\\Seen)")
    assert tagged == "OK STORE completed"
    assert lines == ["* 1 FETCH (FLAGS (\\Seen \\Recent))"]
    tagged, lines = r.cmd("STORE 1 +FLAGS (\\Flagged)")
    assert len(lines) == 1
    assert fetch_flags(lines) == {1: {"\\Flagged", "\\Seen", "\\Recent"}}   # any order
    r.close()


def test_store_minus_flags_removes_only_those(tern):
    r = selected(tern)
    r.ok("STORE 2 +FLAGS.SILENT (\\Seen \\Answered \\Draft)")
    _, lines = r.cmd("STORE 2 -FLAGS (\\Seen \\Draft)")
    assert lines == ["* 2 FETCH (FLAGS (\\Answered \\Recent))"]
    r.close()


def test_store_flags_replaces_all_flags(tern):
    r = selected(tern)
    r.ok("STORE 3 +FLAGS.SILENT (\\Seen \\Answered)")
    _, lines = r.cmd("STORE 3 FLAGS (\\Deleted)")
    assert lines == ["* 3 FETCH (FLAGS (\\Deleted \\Recent))"]
    r.close()


def test_store_silent_sends_no_fetch(tern):
    r = selected(tern)
    for op in ("+FLAGS.SILENT", "-FLAGS.SILENT", "FLAGS.SILENT"):
        tagged, lines = r.cmd("STORE 1:3 %s (\\Seen)" % op)
        assert tagged == "OK STORE completed"
        assert lines == [], (op, lines)
    r.close()


def test_store_range_reports_each_message(tern):
    r = selected(tern)
    _, lines = r.cmd("STORE 1:* +FLAGS (\\Flagged)")
    assert fetch_flags(lines) == {n: {"\\Flagged", "\\Recent"} for n in (1, 2, 3)}
    r.close()


def test_store_flags_without_parentheses(tern):
    r = selected(tern)
    _, lines = r.cmd("STORE 1 +FLAGS \\Seen")
    assert lines == ["* 1 FETCH (FLAGS (\\Seen \\Recent))"]
    r.close()


def test_store_new_keyword_is_in_fetch_and_flags(tern):
    r = selected(tern)
    tagged, lines = r.cmd("STORE 1 +FLAGS (Work)")
    assert tagged == "OK STORE completed"
    assert "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft Work)" in lines
    assert fetch_flags(lines) == {1: {"Work", "\\Recent"}}, lines
    r.close()


def test_store_new_keyword_flags_response_precedes_fetch(tern):
    """RFC 9051 7.3.5: FLAGS announces the new keyword; a client only knows
    a keyword in a FETCH response once FLAGS has named it."""
    r = selected(tern)
    _, lines = r.cmd("STORE 2 +FLAGS (Later)")
    i_flags = next(i for i, l in enumerate(lines) if l.startswith("* FLAGS "))
    i_fetch = next(i for i, l in enumerate(lines) if " FETCH " in l)
    assert i_flags < i_fetch, lines
    r.close()


def test_store_existing_keyword_shown(tern):
    r = selected(tern)
    r.ok("STORE 1 +FLAGS.SILENT ($Label1)")
    _, lines = r.cmd("STORE 1 +FLAGS ($Label2)")
    assert fetch_flags(lines)[1] >= {"$Label1"}
    _, lines = r.cmd("STORE 1 -FLAGS ($Label2)")
    assert fetch_flags(lines)[1] == {"$Label1", "\\Recent"}
    r.close()


def test_store_recent_gets_bad(tern):
    r = selected(tern)
    tagged, _ = r.cmd("STORE 1 +FLAGS (\\Recent)")
    assert tagged.startswith("BAD"), tagged
    r.close()


def test_store_unknown_system_flag_gets_bad(tern):
    r = selected(tern)
    tagged, _ = r.cmd("STORE 1 +FLAGS (\\Bogus)")
    assert tagged.startswith(("BAD", "NO")), tagged
    r.close()


def test_uid_store_reports_uid(tern):
    r = selected(tern)
    tagged, lines = r.cmd("UID STORE 2 +FLAGS (\\Seen)")
    assert tagged == "OK UID STORE completed" or tagged == "OK STORE completed", tagged
    assert len(lines) == 1
    assert lines[0].startswith("* 2 FETCH (")
    assert "UID 2" in lines[0] and "\\Seen" in lines[0]
    r.close()


def test_uid_store_on_missing_uid_does_nothing(tern):
    r = selected(tern)
    tagged, lines = r.cmd("UID STORE 99 +FLAGS (\\Seen)")
    assert tagged.startswith("OK"), tagged
    assert lines == []
    r.close()


def test_store_unchangedsince_current_modseq_succeeds(tern):
    r = selected(tern)
    r.ok("ENABLE CONDSTORE")
    _, lines = r.cmd("STATUS INBOX (HIGHESTMODSEQ)")
    highest = int(re.search(r"HIGHESTMODSEQ (\d+)", lines[0]).group(1))
    tagged, lines = r.cmd("STORE 1 (UNCHANGEDSINCE %d) +FLAGS (\\Seen)" % highest)
    assert tagged == "OK STORE completed"
    m = re.match(r"\* 1 FETCH \((.*)\)$", lines[0])
    assert m and "\\Seen" in m.group(1)
    assert int(re.search(r"MODSEQ \((\d+)\)", lines[0]).group(1)) > highest
    r.close()


def test_store_unchangedsince_older_modseq_gets_modified(tern):
    r = selected(tern)
    r.ok("ENABLE CONDSTORE")
    _, lines = r.cmd("STATUS INBOX (HIGHESTMODSEQ)")
    before = int(re.search(r"HIGHESTMODSEQ (\d+)", lines[0]).group(1))
    r.ok("STORE 2 +FLAGS.SILENT (\\Answered)")    # message 2 moves past `before`
    tagged, lines = r.cmd("STORE 1:3 (UNCHANGEDSINCE %d) +FLAGS (\\Flagged)" % before)
    assert tagged.startswith("OK [MODIFIED 2] "), tagged
    flags = fetch_flags(lines)
    assert set(flags) == {1, 3}
    assert "\\Flagged" in flags[1] and "\\Flagged" in flags[3]
    r.close()


def test_uid_store_unchangedsince_zero_fails_for_all(tern):
    """RFC 7162 3.1.3: UNCHANGEDSINCE 0 always fails."""
    r = selected(tern)
    r.ok("ENABLE CONDSTORE")
    tagged, lines = r.cmd("UID STORE 1:3 (UNCHANGEDSINCE 0) +FLAGS (\\Seen)")
    assert tagged.startswith("OK [MODIFIED 1:3] "), tagged
    assert [l for l in lines if "FETCH" in l] == []
    r.close()


def test_store_silent_unchangedsince_still_reports_modseq(tern):
    """RFC 7162 3.1.3 example 7: with .SILENT the updated messages still get
    an untagged FETCH with MODSEQ."""
    r = selected(tern)
    r.ok("ENABLE CONDSTORE")
    tagged, lines = r.cmd("STORE 1 (UNCHANGEDSINCE 1000000) +FLAGS.SILENT (\\Seen)")
    assert tagged == "OK STORE completed"
    assert len(lines) == 1 and re.match(r"\* 1 FETCH \(MODSEQ \(\d+\)\)$", lines[0]), lines
    r.close()


# -- EXPUNGE -------------------------------------------------------------------

def test_expunge_sends_expunge_in_descending_safe_order(tern):
    r = selected(tern, 4)
    r.ok("STORE 2,3 +FLAGS.SILENT (\\Deleted)")
    tagged, lines = r.cmd("EXPUNGE")
    assert tagged == "OK EXPUNGE completed"
    # each EXPUNGE renumbers the rest: deleting 2 and 3 reads "2, 2" or "3, 2"
    assert lines in (["* 2 EXPUNGE", "* 2 EXPUNGE"], ["* 3 EXPUNGE", "* 2 EXPUNGE"]), lines
    _, lines = r.cmd("NOOP")
    assert lines == []
    _, lines = r.cmd("STATUS INBOX (MESSAGES)")
    assert lines == ["* STATUS INBOX (MESSAGES 2)"]
    r.close()


def test_expunge_with_nothing_deleted_sends_nothing(tern):
    r = selected(tern)
    tagged, lines = r.cmd("EXPUNGE")
    assert tagged == "OK EXPUNGE completed" and lines == []
    r.close()


def test_expunge_after_qresync_sends_vanished(tern):
    user, password, _ = user_with_messages(tern, 3)
    r = raw_login(tern, user, password)
    r.ok("ENABLE QRESYNC")
    r.ok("SELECT INBOX")
    r.ok("STORE 1,3 +FLAGS.SILENT (\\Deleted)")
    _, lines = r.cmd("EXPUNGE")
    assert lines == ["* VANISHED 1,3"] or sorted(lines) == ["* VANISHED 1", "* VANISHED 3"]
    r.close()


def test_uid_expunge_only_removes_listed_deleted(tern):
    r = selected(tern, 3)
    r.ok("STORE 1:3 +FLAGS.SILENT (\\Deleted)")
    tagged, lines = r.cmd("UID EXPUNGE 2")
    assert tagged.startswith("OK"), tagged
    assert lines == ["* 2 EXPUNGE"]
    _, lines = r.cmd("STATUS INBOX (MESSAGES DELETED)")
    assert lines == ["* STATUS INBOX (MESSAGES 2 DELETED 2)"]
    r.close()


def test_uid_expunge_of_undeleted_message_does_nothing(tern):
    r = selected(tern, 2)
    tagged, lines = r.cmd("UID EXPUNGE 1:2")
    assert tagged.startswith("OK") and lines == [], (tagged, lines)
    r.close()


def test_expunge_via_imaplib(tern):
    user, password, _ = user_with_messages(tern, 3)
    m = login(tern, user, password)
    m.select("INBOX")
    assert m.store("1", "+FLAGS", "(\\Deleted)")[0] == "OK"
    typ, data = m.expunge()
    assert (typ, data) == ("OK", [b"1"])
    m.logout()


# -- COPY and MOVE -------------------------------------------------------------

def test_copy_returns_copyuid_and_keeps_source(tern):
    r = selected(tern, 3)
    r.ok("CREATE dest")
    uv = uidvalidity(r, "dest")
    tagged, lines = r.cmd("COPY 1:2 dest")
    assert tagged == "OK [COPYUID %d 1:2 1:2] COPY completed" % uv
    assert lines == []
    _, lines = r.cmd("STATUS dest (MESSAGES UIDNEXT)")
    assert lines == ["* STATUS dest (MESSAGES 2 UIDNEXT 3)"]
    _, lines = r.cmd("STATUS INBOX (MESSAGES)")
    assert lines == ["* STATUS INBOX (MESSAGES 3)"]
    r.close()


def test_copy_keeps_flags(tern):
    r = selected(tern, 1)
    r.ok("CREATE keep")
    r.ok("STORE 1 +FLAGS.SILENT (\\Flagged Important)")
    r.ok("COPY 1 keep")
    r.ok("SELECT keep")
    _, lines = r.cmd("STORE 1 +FLAGS (\\Seen)")
    assert fetch_flags(lines)[1] >= {"\\Flagged", "Important", "\\Seen"}, lines
    r.close()


def test_uid_copy_maps_uids_in_order(tern):
    r = selected(tern, 3)
    r.ok("CREATE ucopy")
    uv = uidvalidity(r, "ucopy")
    tagged, _ = r.cmd("UID COPY 3,1 ucopy")
    # RFC 4315 3: the two sets correspond in order; the server may sort
    assert tagged.startswith(("OK [COPYUID %d 1,3 1:2]" % uv, "OK [COPYUID %d 3,1 1:2]" % uv,
                              "OK [COPYUID %d 3,1 1,2]" % uv)), tagged
    r.close()


def test_copy_to_missing_mailbox_gets_trycreate(tern):
    r = selected(tern)
    tagged, _ = r.cmd("COPY 1 missing-box")
    assert tagged == "NO [TRYCREATE] No such mailbox"
    r.close()


def test_move_sends_copyuid_then_expunge(tern):
    r = selected(tern, 3)
    r.ok("CREATE moved")
    uv = uidvalidity(r, "moved")
    tagged, lines = r.cmd("MOVE 2 moved")
    assert tagged == "OK MOVE completed"
    assert lines == ["* OK [COPYUID %d 2 1] Moved" % uv, "* 2 EXPUNGE"]
    _, lines = r.cmd("STATUS moved (MESSAGES)")
    assert lines == ["* STATUS moved (MESSAGES 1)"]
    r.close()


def test_uid_move_with_qresync_sends_vanished(tern):
    user, password, _ = user_with_messages(tern, 3)
    r = raw_login(tern, user, password)
    r.ok("ENABLE QRESYNC")
    r.ok("SELECT INBOX")
    r.ok("CREATE qmoved")
    uv = uidvalidity(r, "qmoved")
    tagged, lines = r.cmd("UID MOVE 1:2 qmoved")
    assert tagged.startswith("OK"), tagged
    assert lines == ["* OK [COPYUID %d 1:2 1:2] Moved" % uv, "* VANISHED 1:2"], lines
    r.close()


def test_move_to_missing_mailbox_gets_trycreate_and_keeps_message(tern):
    r = selected(tern, 1)
    tagged, lines = r.cmd("MOVE 1 nowhere")
    assert tagged == "NO [TRYCREATE] No such mailbox"
    assert lines == []
    _, lines = r.cmd("STATUS INBOX (MESSAGES)")
    assert lines == ["* STATUS INBOX (MESSAGES 1)"]
    r.close()


def test_copy_in_read_only_mailbox_is_allowed(tern):
    user, password, _ = user_with_messages(tern, 1)
    r = raw_login(tern, user, password)
    r.ok("CREATE ro-dest")
    r.ok("EXAMINE INBOX")
    tagged, _ = r.cmd("COPY 1 ro-dest")
    assert tagged.startswith("OK [COPYUID "), tagged
    tagged, _ = r.cmd("MOVE 1 ro-dest")
    assert tagged.startswith("NO"), tagged
    r.close()


def test_move_via_imaplib(tern):
    user, password, _ = user_with_messages(tern, 2)
    m = login(tern, user, password)
    m.select("INBOX")
    typ, _ = m._simple_command("MOVE", "1", "Trash")
    assert typ == "OK"
    assert m.select("Trash") == ("OK", [b"1"])
    m.logout()
