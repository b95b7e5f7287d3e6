"""IMAP mailbox commands: CREATE (with parents), DELETE, RENAME (INBOX
included), the "/" hierarchy, SUBSCRIBE/UNSUBSCRIBE/LSUB, LIST with * and
%, LIST-EXTENDED selection and return options (RFC 5258), LIST-STATUS
(RFC 5819), SPECIAL-USE attributes (RFC 6154), NAMESPACE (RFC 2342),
STATUS items, GETQUOTA(ROOT), modified UTF-7 names (RFC 9051 5.1.3) and
UTF-8 names after ENABLE UTF8=ACCEPT (RFC 6855)."""
import pytest

from imap_helpers import (DEFAULT_MAILBOXES, imap_instance, list_attrs, login, mailbox_names,
                          new_user, raw, raw_login, user_with_messages)


@pytest.fixture(scope="module")
def tern(base_dir, certs):
    yield from imap_instance(base_dir, certs)


def session(t):
    user, password = new_user(t)
    return raw_login(t, user, password)


def names(r, ref, pattern):
    tagged, lines = r.cmd('LIST "%s" "%s"' % (ref, pattern))
    assert tagged == "OK LIST completed", tagged
    return mailbox_names(lines)


# -- defaults, LIST patterns ---------------------------------------------------

def test_list_star_of_new_account_shows_default_mailboxes_with_special_use(tern):
    r = session(tern)
    tagged, lines = r.cmd('LIST "" "*"')
    assert tagged == "OK LIST completed"
    attrs = list_attrs(lines)
    for name, use in DEFAULT_MAILBOXES.items():
        assert name in attrs, (name, lines)
        if use:
            assert use in attrs[name], (name, attrs[name])
    assert "\\Archive" in attrs.get("Archive", set())
    assert all(line.split(") ", 1)[1].startswith('"/" ') for line in lines)
    r.close()


def test_list_exact_lines_for_inbox_and_trash(tern):
    r = session(tern)
    _, lines = r.cmd('LIST "" INBOX')
    assert lines == ['* LIST (\\HasNoChildren) "/" INBOX']
    _, lines = r.cmd('LIST "" Trash')
    assert lines == ['* LIST (\\HasNoChildren \\Trash) "/" Trash']
    r.close()


def test_list_empty_pattern_returns_delimiter(tern):
    r = session(tern)
    tagged, lines = r.cmd('LIST "" ""')
    assert tagged == "OK LIST completed"
    assert lines == ['* LIST (\\Noselect) "/" ""']
    r.close()


def test_list_percent_stops_at_hierarchy_delimiter(tern):
    r = session(tern)
    r.ok("CREATE a/b/c")
    top = names(r, "", "%")
    assert "a" in top and "a/b" not in top and "a/b/c" not in top
    assert names(r, "", "a/%") == ["a/b"]
    assert names(r, "a/", "%") == ["a/b"]
    assert names(r, "", "a/*") == ["a/b", "a/b/c"]
    assert names(r, "", "a*") == ["a", "a/b", "a/b/c"]
    r.close()


def test_list_inbox_is_case_insensitive(tern):
    r = session(tern)
    assert names(r, "", "inbox") == ["INBOX"]
    assert names(r, "", "InBoX") == ["INBOX"]
    r.close()


def test_list_unknown_name_returns_nothing(tern):
    r = session(tern)
    assert names(r, "", "does-not-exist") == []
    r.close()


# -- CREATE --------------------------------------------------------------------

def test_create_with_parents_makes_each_level_and_children_attributes(tern):
    r = session(tern)
    assert r.cmd("CREATE projects/2024/q1")[0] == "OK CREATE completed"
    _, lines = r.cmd('LIST "" "projects*"')
    assert lines == ['* LIST (\\HasChildren) "/" projects',
                     '* LIST (\\HasChildren) "/" projects/2024',
                     '* LIST (\\HasNoChildren) "/" projects/2024/q1']
    r.close()


def test_create_trailing_delimiter_creates_the_name(tern):
    """RFC 9051 6.3.4: a trailing delimiter says the client means to make
    inferior names; the name itself is created."""
    r = session(tern)
    assert r.cmd("CREATE folder/")[0].startswith("OK")
    assert names(r, "", "folder") == ["folder"]
    r.close()


def test_create_existing_gets_no_alreadyexists(tern):
    r = session(tern)
    r.ok("CREATE dup")
    tagged, _ = r.cmd("CREATE dup")
    assert tagged.startswith("NO [ALREADYEXISTS]"), tagged
    r.close()


def test_create_inbox_gets_no_alreadyexists(tern):
    r = session(tern)
    tagged, _ = r.cmd("CREATE inbox")
    assert tagged.startswith("NO [ALREADYEXISTS]"), tagged
    r.close()


def test_create_with_use_marks_special_use(tern):
    """RFC 6154 3: CREATE name (USE (\\Archive))."""
    r = session(tern)
    tagged, _ = r.cmd("CREATE Old-Archive (USE (\\Flagged))")
    assert tagged.startswith("OK"), tagged
    _, lines = r.cmd('LIST "" Old-Archive')
    assert "\\Flagged" in lines[0], lines
    r.close()


def test_create_then_select_shows_empty_mailbox(tern):
    r = session(tern)
    r.ok("CREATE fresh")
    tagged, lines = r.cmd("SELECT fresh")
    assert tagged == "OK [READ-WRITE] SELECT completed"
    assert "* 0 EXISTS" in lines
    r.close()


def test_create_via_imaplib(tern):
    user, password = new_user(tern)
    m = login(tern, user, password)
    assert m.create("work/reports")[0] == "OK"
    typ, data = m.list('""', "work*")
    assert typ == "OK"
    assert [d.decode() for d in data] == ['(\\HasChildren) "/" work',
                                          '(\\HasNoChildren) "/" work/reports']
    m.logout()


# -- DELETE --------------------------------------------------------------------

def test_delete_mailbox_removes_it(tern):
    r = session(tern)
    r.ok("CREATE gone")
    assert r.cmd("DELETE gone")[0] == "OK DELETE completed"
    assert names(r, "", "gone") == []
    tagged, _ = r.cmd("SELECT gone")
    assert tagged.startswith("NO [NONEXISTENT]"), tagged
    r.close()


def test_delete_missing_gets_no_nonexistent(tern):
    r = session(tern)
    tagged, _ = r.cmd("DELETE nope")
    assert tagged.startswith("NO [NONEXISTENT]"), tagged
    r.close()


def test_delete_inbox_gets_no(tern):
    r = session(tern)
    tagged, _ = r.cmd("DELETE INBOX")
    assert tagged.startswith("NO"), tagged
    assert names(r, "", "INBOX") == ["INBOX"]
    r.close()


def test_delete_parent_keeps_children(tern):
    """RFC 9051 6.3.5: DELETE must not remove inferior names."""
    r = session(tern)
    r.ok("CREATE top/child")
    assert r.cmd("DELETE top")[0].startswith("OK")
    listed = list_attrs(r.cmd('LIST "" "top*"')[1])
    assert "top/child" in listed
    if "top" in listed:
        assert listed["top"] & {"\\Noselect", "\\NonExistent"}, listed
    r.close()


def test_delete_mailbox_with_messages_removes_them(tern):
    user, password, _ = user_with_messages(tern, 2)
    r = raw_login(tern, user, password)
    r.ok("CREATE box")
    r.ok("SELECT INBOX")
    r.ok("COPY 1:2 box")
    r.ok("UNSELECT")
    assert r.cmd("DELETE box")[0] == "OK DELETE completed"
    r.ok("CREATE box")
    _, lines = r.cmd("STATUS box (MESSAGES)")
    assert lines == ["* STATUS box (MESSAGES 0)"]
    r.close()


# -- RENAME --------------------------------------------------------------------

def test_rename_moves_name_and_children(tern):
    r = session(tern)
    r.ok("CREATE old/sub")
    assert r.cmd("RENAME old new")[0] == "OK RENAME completed"
    assert names(r, "", "old*") == []
    assert names(r, "", "new*") == ["new", "new/sub"]
    r.close()


def test_rename_to_new_hierarchy_creates_parents(tern):
    r = session(tern)
    r.ok("CREATE flat")
    assert r.cmd("RENAME flat deep/er/name")[0] == "OK RENAME completed"
    assert names(r, "", "deep*") == ["deep", "deep/er", "deep/er/name"]
    r.close()


def test_rename_keeps_messages_and_uidvalidity_rules(tern):
    user, password, _ = user_with_messages(tern, 2)
    r = raw_login(tern, user, password)
    r.ok("CREATE src")
    r.ok("SELECT INBOX")
    r.ok("COPY 1:2 src")
    r.ok("UNSELECT")
    r.ok("RENAME src dst")
    _, lines = r.cmd("STATUS dst (MESSAGES)")
    assert lines == ["* STATUS dst (MESSAGES 2)"]
    r.close()


def test_rename_inbox_moves_messages_and_leaves_empty_inbox(tern):
    """RFC 9051 6.3.6: renaming INBOX moves its messages to the new name
    and leaves INBOX empty."""
    user, password, _ = user_with_messages(tern, 3)
    r = raw_login(tern, user, password)
    assert r.cmd("RENAME INBOX saved")[0] == "OK RENAME completed"
    _, lines = r.cmd("STATUS saved (MESSAGES)")
    assert lines == ["* STATUS saved (MESSAGES 3)"]
    _, lines = r.cmd("STATUS INBOX (MESSAGES)")
    assert lines == ["* STATUS INBOX (MESSAGES 0)"]
    assert names(r, "", "INBOX") == ["INBOX"]
    r.close()


def test_rename_to_existing_gets_no_alreadyexists(tern):
    r = session(tern)
    r.ok("CREATE r1")
    r.ok("CREATE r2")
    tagged, _ = r.cmd("RENAME r1 r2")
    assert tagged.startswith("NO [ALREADYEXISTS]"), tagged
    r.close()


def test_rename_missing_gets_no_nonexistent(tern):
    r = session(tern)
    tagged, _ = r.cmd("RENAME missing other")
    assert tagged.startswith("NO [NONEXISTENT]"), tagged
    r.close()


def test_rename_to_inbox_gets_no(tern):
    r = session(tern)
    r.ok("CREATE notinbox")
    tagged, _ = r.cmd("RENAME notinbox INBOX")
    assert tagged.startswith("NO"), tagged
    r.close()


# -- SUBSCRIBE / LSUB ----------------------------------------------------------

def test_subscribe_then_lsub_and_list_subscribed_show_it(tern):
    r = session(tern)
    r.ok("CREATE news")
    assert r.cmd("SUBSCRIBE news")[0] == "OK SUBSCRIBE completed"
    assert "news" in mailbox_names(r.cmd('LSUB "" "*"')[1])
    _, lines = r.cmd('LIST (SUBSCRIBED) "" "news"')
    assert len(lines) == 1 and "\\Subscribed" in lines[0], lines
    assert r.cmd("UNSUBSCRIBE news")[0] == "OK UNSUBSCRIBE completed"
    assert "news" not in mailbox_names(r.cmd('LSUB "" "*"')[1])
    assert mailbox_names(r.cmd('LIST (SUBSCRIBED) "" "news"')[1]) == []
    r.close()


def test_lsub_exact_line(tern):
    r = session(tern)
    r.ok("CREATE lsubbed")
    r.ok("SUBSCRIBE lsubbed")
    tagged, lines = r.cmd('LSUB "" lsubbed')
    assert tagged == "OK LSUB completed"
    assert lines == ['* LSUB (\\HasNoChildren) "/" lsubbed'] or \
        lines == ['* LSUB () "/" lsubbed'], lines
    r.close()


def test_subscribe_missing_mailbox_gets_no(tern):
    r = session(tern)
    tagged, _ = r.cmd("SUBSCRIBE not-there")
    assert tagged.startswith("NO"), tagged
    r.close()


def test_list_return_subscribed_marks_subscribed_only(tern):
    r = session(tern)
    r.ok("CREATE sub-yes")
    r.ok("CREATE sub-no")
    r.ok("SUBSCRIBE sub-yes")
    r.cmd("UNSUBSCRIBE sub-no")
    attrs = list_attrs(r.cmd('LIST "" "sub-*" RETURN (SUBSCRIBED)')[1])
    assert "\\Subscribed" in attrs["sub-yes"]
    assert "\\Subscribed" not in attrs["sub-no"]
    r.close()


def test_list_subscribed_includes_deleted_subscribed_as_nonexistent(tern):
    """RFC 5258 3.1: a subscribed name that does not exist is listed by
    (SUBSCRIBED) with \\NonExistent."""
    r = session(tern)
    r.ok("CREATE ephemeral")
    r.ok("SUBSCRIBE ephemeral")
    r.ok("DELETE ephemeral")
    attrs = list_attrs(r.cmd('LIST (SUBSCRIBED) "" "ephemeral"')[1])
    if "ephemeral" in attrs:    # servers may also drop the subscription
        assert {"\\NonExistent", "\\Subscribed"} <= attrs["ephemeral"], attrs
    r.close()


# -- LIST-EXTENDED, SPECIAL-USE, LIST-STATUS -----------------------------------

def test_list_special_use_selection_returns_only_special_mailboxes(tern):
    r = session(tern)
    r.ok("CREATE plain-box")
    attrs = list_attrs(r.cmd('LIST (SPECIAL-USE) "" "*"')[1])
    assert set(attrs) == {"Archive", "Drafts", "Junk", "Sent", "Trash"}
    assert attrs["Drafts"] >= {"\\Drafts"}
    assert attrs["Sent"] >= {"\\Sent"}
    assert attrs["Junk"] >= {"\\Junk"}
    assert attrs["Trash"] >= {"\\Trash"}
    r.close()


def test_list_return_special_use_shows_attributes(tern):
    r = session(tern)
    _, lines = r.cmd('LIST "" "*" RETURN (SPECIAL-USE)')
    attrs = list_attrs(lines)
    for name, use in DEFAULT_MAILBOXES.items():
        if use:
            assert use in attrs[name]
    r.close()


def test_list_return_children(tern):
    r = session(tern)
    r.ok("CREATE kids/one")
    attrs = list_attrs(r.cmd('LIST "" "kids*" RETURN (CHILDREN)')[1])
    assert "\\HasChildren" in attrs["kids"]
    assert "\\HasNoChildren" in attrs["kids/one"]
    r.close()


def test_list_multiple_patterns(tern):
    """RFC 5258 3: LIST "" (pat1 pat2)."""
    r = session(tern)
    tagged, lines = r.cmd('LIST "" (INBOX Trash)')
    assert tagged == "OK LIST completed"
    assert sorted(mailbox_names(lines)) == ["INBOX", "Trash"]
    r.close()


def test_list_remote_selection_is_accepted(tern):
    r = session(tern)
    tagged, lines = r.cmd('LIST (REMOTE) "" INBOX')
    assert tagged == "OK LIST completed"
    assert mailbox_names(lines) == ["INBOX"]
    r.close()


def test_list_unknown_selection_option_gets_bad(tern):
    r = session(tern)
    tagged, _ = r.cmd('LIST (BOGUS) "" "*"')
    assert tagged.startswith("BAD"), tagged
    r.close()


def test_list_recursivematch_without_other_option_gets_bad(tern):
    """RFC 5258 3.1: RECURSIVEMATCH alone is an error."""
    r = session(tern)
    tagged, _ = r.cmd('LIST (RECURSIVEMATCH) "" "*"')
    assert tagged.startswith("BAD"), tagged
    r.close()


def test_list_status_returns_status_after_each_list(tern):
    user, password, _ = user_with_messages(tern, 2)
    r = raw_login(tern, user, password)
    tagged, lines = r.cmd('LIST "" (INBOX Trash) RETURN (STATUS (MESSAGES UNSEEN))')
    assert tagged == "OK LIST completed"
    # RFC 5819 2: each STATUS follows its LIST (special-use attributes
    # are optional without RETURN (SPECIAL-USE), RFC 6154 2)
    assert [l.replace(" \\Trash", "") for l in lines] == [
        '* LIST (\\HasNoChildren) "/" INBOX',
        '* STATUS INBOX (MESSAGES 2 UNSEEN 2)',
        '* LIST (\\HasNoChildren) "/" Trash',
        '* STATUS Trash (MESSAGES 0 UNSEEN 0)'], lines
    r.close()


def test_list_status_skips_noselect(tern):
    r = session(tern)
    r.ok("CREATE ns/leaf")
    r.ok("DELETE ns")
    _, lines = r.cmd('LIST "" "ns*" RETURN (STATUS (MESSAGES))')
    assert not [l for l in lines if l.startswith("* STATUS ns ")], lines
    assert "* STATUS ns/leaf (MESSAGES 0)" in lines
    r.close()


# -- NAMESPACE, STATUS, QUOTA --------------------------------------------------

def test_namespace_is_personal_with_slash(tern):
    r = session(tern)
    tagged, lines = r.cmd("NAMESPACE")
    assert tagged == "OK NAMESPACE completed"
    assert lines == ['* NAMESPACE (("" "/")) NIL NIL']
    r.close()


def test_namespace_via_imaplib(tern):
    user, password = new_user(tern)
    m = login(tern, user, password)
    assert m.namespace() == ("OK", [b'(("" "/")) NIL NIL'])
    m.logout()


def test_status_all_items_on_delivered_inbox(tern):
    user, password, bodies = user_with_messages(tern, 3)
    r = raw_login(tern, user, password)
    tagged, lines = r.cmd("STATUS INBOX (MESSAGES UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE "
                          "RECENT HIGHESTMODSEQ)")
    assert tagged == "OK STATUS completed"
    assert len(lines) == 1
    line = lines[0]
    assert line.startswith("* STATUS INBOX (MESSAGES 3 UIDNEXT 4 UIDVALIDITY ")
    items = line[line.index("(") + 1:-1].split()
    values = dict(zip(items[::2], items[1::2]))
    assert values["UNSEEN"] == "3"
    assert values["DELETED"] == "0"
    assert values["RECENT"] == "3"
    assert int(values["UIDVALIDITY"]) > 0
    assert int(values["HIGHESTMODSEQ"]) >= 1
    # SIZE counts the stored messages (the trace headers the server adds
    # make each one longer than what was sent)
    assert int(values["SIZE"]) > sum(len(b) for b in bodies)
    r.close()


def test_status_reflects_flags_and_deleted(tern):
    user, password, _ = user_with_messages(tern, 3)
    r = raw_login(tern, user, password)
    r.ok("SELECT INBOX")
    r.ok("STORE 1 +FLAGS.SILENT (\\Seen)")
    r.ok("STORE 2 +FLAGS.SILENT (\\Deleted)")
    r.ok("UNSELECT")
    _, lines = r.cmd("STATUS INBOX (MESSAGES UNSEEN DELETED)")
    assert lines == ["* STATUS INBOX (MESSAGES 3 UNSEEN 2 DELETED 1)"]
    r.close()


def test_status_missing_mailbox_gets_no_nonexistent(tern):
    r = session(tern)
    tagged, lines = r.cmd("STATUS nothing (MESSAGES)")
    assert tagged.startswith("NO [NONEXISTENT]"), tagged
    assert lines == []
    r.close()


def test_status_unknown_item_gets_bad(tern):
    r = session(tern)
    tagged, _ = r.cmd("STATUS INBOX (BOGUS)")
    assert tagged.startswith("BAD"), tagged
    r.close()


def test_status_via_imaplib(tern):
    user, password, _ = user_with_messages(tern, 1)
    m = login(tern, user, password)
    typ, data = m.status("INBOX", "(MESSAGES UNSEEN)")
    assert (typ, data) == ("OK", [b"INBOX (MESSAGES 1 UNSEEN 1)"])
    m.logout()


def test_getquotaroot_inbox(tern):
    r = session(tern)
    tagged, lines = r.cmd("GETQUOTAROOT INBOX")
    assert tagged == "OK GETQUOTAROOT completed"
    assert lines[0] == '* QUOTAROOT INBOX ""'
    assert lines[1].startswith('* QUOTA "" (')
    r.close()


def test_getquota_unknown_root_gets_no(tern):
    r = session(tern)
    tagged, _ = r.cmd('GETQUOTA "nope"')
    assert tagged.startswith("NO"), tagged
    r.close()


# -- names: modified UTF-7 and UTF-8 -------------------------------------------

def test_create_modified_utf7_name_lists_the_same(tern):
    r = session(tern)
    assert r.cmd('CREATE "Entw&APw-rfe"')[0] == "OK CREATE completed"
    _, lines = r.cmd('LIST "" "Entw*"')
    assert lines == ['* LIST (\\HasNoChildren) "/" Entw&APw-rfe']
    r.close()


def test_create_invalid_modified_utf7_gets_bad_or_no(tern):
    r = session(tern)
    tagged, _ = r.cmd('CREATE "bad&-name&Zm9v"')
    assert tagged.startswith(("BAD", "NO")), tagged
    r.close()


def test_create_raw_utf8_without_utf8_accept_is_refused(tern):
    r = session(tern)
    tagged, _ = r.cmd('CREATE "Entwürfe2"')
    assert tagged.startswith(("BAD", "NO")), tagged
    r.close()


def test_utf8_accept_lists_utf8_names_and_creates_them(tern):
    """RFC 6855 3: after ENABLE UTF8=ACCEPT names are UTF-8, and a name
    created as mUTF-7 before is listed in UTF-8."""
    r = session(tern)
    r.ok('CREATE "Entw&APw-rfe"')
    _, lines = r.cmd("ENABLE UTF8=ACCEPT")
    assert lines == ["* ENABLED UTF8=ACCEPT"]
    _, lines = r.cmd('LIST "" "Entw*"')
    assert lines == ['* LIST (\\HasNoChildren) "/" "Entwürfe"'] or \
        lines == ['* LIST (\\HasNoChildren) "/" Entwürfe'], lines
    assert r.cmd('CREATE "Ördner"')[0] == "OK CREATE completed"
    tagged, lines = r.cmd('SELECT "Ördner"')
    assert tagged == "OK [READ-WRITE] SELECT completed"
    r.close()


def test_utf8_name_seen_as_mutf7_without_enable(tern):
    user, password = new_user(tern)
    r = raw_login(tern, user, password)
    r.ok("ENABLE UTF8=ACCEPT")
    r.ok('CREATE "Größe"')
    r.close()
    r = raw_login(tern, user, password)
    _, lines = r.cmd('LIST "" "Gr*"')
    assert lines == ['* LIST (\\HasNoChildren) "/" Gr&APYA3w-e'], lines
    r.close()


def test_enable_unknown_capability_is_ignored(tern):
    r = session(tern)
    tagged, lines = r.cmd("ENABLE X-UNKNOWN")
    assert tagged == "OK ENABLE completed"
    assert lines == ["* ENABLED"]
    r.close()


def test_enable_before_login_gets_bad(tern):
    c = raw(tern)
    tagged, _ = c.cmd("ENABLE CONDSTORE")
    assert tagged.startswith("BAD"), tagged
    c.close()


def test_imaplib_list_and_lsub(tern):
    user, password = new_user(tern)
    m = login(tern, user, password)
    typ, data = m.list()
    assert typ == "OK"
    listed = [d.decode().rsplit(" ", 1)[1] for d in data]
    assert set(DEFAULT_MAILBOXES) <= set(listed)
    assert m.subscribe("Trash")[0] == "OK"
    typ, data = m.lsub()
    assert typ == "OK" and any(d.endswith(b" Trash") for d in data)
    m.logout()
