"""Malformed IMAP input gets a tagged (or untagged) BAD and the session
goes on (RFC 9051 7.1.3): unknown commands, missing arguments, unbalanced
parentheses, bad sequence sets, a too-big literal, a too-long line, a NUL
byte, commands in the wrong state. Too many bad commands end the session
with BYE; a connection dropped mid-literal is cleaned up."""
import pytest

from conftest import Tern, populate
from imap_helpers import LOOPBACK_OK, imap_instance, new_user, raw, raw_login, user_with_messages, wait_for


@pytest.fixture(scope="module")
def tern(base_dir, certs):
    yield from imap_instance(base_dir, certs, extra={"server.plaintext_auth_loopback": "yes",
                                                     "imap.max_bad_commands": "5"})


def selected(t):
    user, password, _ = user_with_messages(t, 2)
    r = raw_login(t, user, password)
    r.ok("SELECT INBOX")
    return r


def still_alive(r):
    assert r.cmd("NOOP")[0] == "OK NOOP completed"


BAD_SELECTED = [
    "FROB",                              # unknown command
    "UID FROB 1",                        # unknown UID command
    "UID NOOP",                          # NOOP has no UID form
    "SELECT",                            # missing argument
    "STORE 1 +FLAGS",                    # missing flag list
    "STORE 1 +FLAGS (\\Seen",            # unbalanced parenthesis
    "STORE 1 +FLAGS \\Seen)",            # stray close parenthesis
    "FETCH 1 (FLAGS",                    # unbalanced parenthesis
    "FETCH 1 BODY[1",                    # unbalanced bracket
    "FETCH 0 FLAGS",                     # 0 is not a sequence number
    "FETCH 1:x FLAGS",                   # bad sequence set
    "FETCH 1,,2 FLAGS",                  # bad sequence set
    "FETCH 99 FLAGS",                    # beyond EXISTS
    "STATUS INBOX (MESSAGES",            # unbalanced parenthesis
    "LIST",                              # missing arguments
    'LIST ""',                           # missing pattern
    "COPY 1",                            # missing mailbox
    'LOGIN "a" "b"',                     # wrong state
    "AUTHENTICATE PLAIN",                # wrong state
    "CAPABILITY extra",                  # unexpected argument
    "NOOP extra",                        # unexpected argument
    'SELECT "unterminated',              # unterminated quoted string
    "CREATE {abc}",                      # malformed literal
]


@pytest.mark.parametrize("line", BAD_SELECTED)
def test_malformed_command_gets_bad_and_session_continues(tern, line):
    r = selected(tern)
    tagged, _ = r.cmd(line)
    assert tagged.startswith("BAD"), (line, tagged)
    still_alive(r)
    r.close()


def test_tag_only_gets_bad(tern):
    r = raw(tern)
    r.send("lonely\r\n")
    line = r.line()
    assert line.startswith(("lonely BAD", "* BAD")), line
    still_alive(r)
    r.close()


@pytest.mark.parametrize("data", [b"\r\n", b"a{b NOOP\r\n", b"   \r\n"])
def test_line_without_valid_tag_gets_untagged_bad_cleanly(base_dir, certs, data):
    """An empty line or a tag with forbidden characters: "* BAD", the
    session goes on, and the daemon hits no undefined behaviour. Runs on an
    instance of its own so a sanitizer report fails only this test."""
    t = Tern(base_dir, certs, extra=LOOPBACK_OK, imap=True)
    populate(t)
    t.start()
    try:
        r = raw(t)
        r.send(data)
        line = r.line()
        assert line.startswith("* BAD"), line
        still_alive(r)
        r.close()
    finally:
        t.stop()
    assert not t.sanitizer_errors(), t.log()[-2000:]


@pytest.mark.parametrize("line", ["SELECT INBOX", "FETCH 1 FLAGS", "LIST \"\" *", "CLOSE",
                                  "EXPUNGE", "STATUS INBOX (MESSAGES)", "IDLE"])
def test_command_before_login_gets_bad_log_in_first(tern, line):
    r = raw(tern)
    tagged, _ = r.cmd(line)
    assert tagged == "BAD Log in first", (line, tagged)
    r.close()


@pytest.mark.parametrize("line", ["FETCH 1 FLAGS", "STORE 1 +FLAGS (\\Seen)", "CLOSE",
                                  "EXPUNGE", "UNSELECT", "COPY 1 INBOX", "UID FETCH 1 FLAGS"])
def test_selected_command_in_authenticated_state_gets_bad(tern, line):
    user, password = new_user(tern)
    r = raw_login(tern, user, password)
    tagged, _ = r.cmd(line)
    assert tagged.startswith("BAD"), (line, tagged)
    r.close()


def test_too_long_line_gets_bad_and_session_continues(tern):
    r = selected(tern)
    r.send(b"long FETCH 1 (" + b"FLAGS " * 20000 + b")\r\n")
    line = r.line()
    assert line.startswith(("long BAD", "* BAD")), line
    still_alive(r)
    r.close()


def test_nul_byte_gets_bad_and_session_continues(tern):
    r = selected(tern)
    r.send(b"nul SELECT IN\x00BOX\r\n")
    line = r.line()
    assert line.startswith(("nul BAD", "* BAD")), line
    still_alive(r)
    r.close()


def test_literal_too_big_outside_append_is_refused(tern):
    r = selected(tern)
    r.send(b"lit SELECT {100000000}\r\n")
    line = r.line()
    assert line.startswith(("lit NO", "lit BAD")), line
    still_alive(r)
    r.close()


def test_bad_sequence_set_message(tern):
    r = selected(tern)
    tagged, _ = r.cmd("STORE a +FLAGS (\\Seen)")
    assert tagged.startswith("BAD Invalid sequence set"), tagged
    r.close()


def test_too_many_bad_commands_get_bye(tern):
    r = raw(tern)
    for i in range(4):
        tagged, _ = r.cmd("BOGUS%d" % i)
        assert tagged.startswith("BAD"), tagged
    r.send("last BOGUS\r\n")
    assert r.line().startswith("last BAD")
    assert r.line().startswith("* BYE ")
    assert r.closed()


def test_good_commands_do_not_reset_bad_count_below_limit(tern):
    """The limit counts bad commands in the session (as Dovecot does)."""
    r = raw(tern)
    for _ in range(2):
        r.cmd("BOGUS")
        still_alive(r)
    r.close()


def test_connection_dropped_mid_literal_is_cleaned_up(tern):
    user, password = new_user(tern)
    r = raw_login(tern, user, password)
    offset = len(tern.log())
    r.send_cmd("CREATE {20}", tag="half")
    assert r.line().startswith("+ ")
    r.send(b"0123456789")
    r.close()
    assert wait_for(lambda: "disconnect reason=peer_closed" in tern.log()[offset:])
    r = raw_login(tern, user, password)
    still_alive(r)
    r.close()


def test_bad_then_good_pipelined_commands_both_answered(tern):
    r = selected(tern)
    r.send(b"p1 FROB\r\np2 NOOP\r\np3 FETCH 1 (FLAGS\r\np4 NOOP\r\n")
    got = [r.line() for _ in range(4)]
    assert got[0].startswith("p1 BAD")
    assert got[1] == "p2 OK NOOP completed"
    assert got[2].startswith("p3 BAD")
    assert got[3] == "p4 OK NOOP completed"
    r.close()
