"""`tern sendmail` (and the binary run as `sendmail`): the sendmail(8)
interface over the daemon's local socket, fed from a shell pipe as cron
and scripts do."""
import os
import pwd
import subprocess

import pytest

from conftest import TERN
from smtp_helpers import token
from submission_helpers import header_block, running_submission, stored


@pytest.fixture(scope="module")
def sub(base_dir, certs):
    yield from running_submission(base_dir, certs)


def sendmail(t, args, data, argv0=None):
    cmd = [TERN, "-c", t.conf, "sendmail"] + args
    if argv0 is not None:
        cmd = [argv0, "-C", t.conf] + args
    return subprocess.run(cmd, input=data, capture_output=True, timeout=60)


def test_t_from_a_shell_script_delivers_and_strips_bcc(sub, tmp_path):
    tok = token()
    script = tmp_path / "send.sh"
    script.write_text("#!/bin/sh\nprintf 'To: alice@a.test\\nBcc: carol@a.test\\nSubject: %s\\n\\n"
                      "hello\\n' | %s -c %s sendmail -t\n" % (tok, TERN, sub.conf))
    script.chmod(0o755)
    r = subprocess.run([str(script)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    msgs = stored(sub, tok)
    assert len(msgs) == 2       # alice and carol (Bcc) both got it
    for m in msgs:
        head = header_block(m)
        assert b"Bcc" not in head and b"carol" not in head.split(b"Delivered-To:")[1].split(b"\r\n", 1)[1]
        assert b"Received: by mail.a.test (Tern, from userid %d)" % os.getuid() in head
        assert b"Message-ID: <" in head and b"\r\nDate: " in head
    user = pwd.getpwuid(os.getuid()).pw_name
    assert msgs[0].startswith(b"Return-Path: <%s@mail.a.test>" % user.encode())
    assert b"\r\nFrom: %s@mail.a.test\r\n" % user.encode() in msgs[0]


def test_f_sets_the_envelope_sender_and_F_the_from_name(sub):
    tok = token()
    r = sendmail(sub, ["-f", "robot@a.test", "-F", 'Cron "Daemon"', "alice@a.test"],
                 b"Subject: " + tok.encode() + b"\n\nbody\n")
    assert r.returncode == 0, r.stderr
    m = stored(sub, tok)[0]
    assert m.startswith(b"Return-Path: <robot@a.test>")
    assert b'\r\nFrom: "Cron \\"Daemon\\"" <robot@a.test>\r\n' in m


def test_lone_dot_ends_input_without_i(sub):
    tok = token()
    r = sendmail(sub, ["alice@a.test"], b"Subject: " + tok.encode() + b"\n\nbefore\n.\nafter\n")
    assert r.returncode == 0, r.stderr
    m = stored(sub, tok)[0]
    assert m.endswith(b"before\r\n") and b"after" not in m


@pytest.mark.parametrize("flag", ["-i", "-oi"])
def test_lone_dot_is_data_with_i(sub, flag):
    tok = token()
    r = sendmail(sub, [flag, "-odi", "--", "alice@a.test"],
                 b"Subject: " + tok.encode() + b"\n\nbefore\n.\n..\nafter\n")
    assert r.returncode == 0, r.stderr
    assert stored(sub, tok)[0].endswith(b"before\r\n.\r\n..\r\nafter\r\n")


def test_binary_run_as_sendmail_works(sub, tmp_path):
    link = tmp_path / "sendmail"
    os.symlink(TERN, link)
    tok = token()
    r = sendmail(sub, ["-t"], b"To: bob@a.test\nSubject: " + tok.encode() + b"\n\nx\n",
                 argv0=str(link))
    assert r.returncode == 0, r.stderr
    assert len(stored(sub, tok)) == 1


def test_remote_recipient_is_queued(sub):
    tok = token()
    r = sendmail(sub, ["far@remote.test"], b"Subject: " + tok.encode() + b"\n\nx\n")
    assert r.returncode == 0, r.stderr
    assert "far@remote.test" in sub.sql("select recipient from queue").split()


def test_unknown_local_recipient_is_reported(sub):
    r = sendmail(sub, ["nobody-here@a.test"], b"Subject: x\n\nx\n")
    assert r.returncode == 67 and b"nobody-here@a.test" in r.stderr


def test_no_recipients_is_a_usage_error(sub):
    r = sendmail(sub, [], b"Subject: x\n\nx\n")
    assert r.returncode == 64 and b"no recipients" in r.stderr


def test_bs_speaks_smtp_on_stdin(sub):
    tok = token()
    r = sendmail(sub, ["-bs"], ("EHLO x\r\nMAIL FROM:<a@a.test>\r\nRCPT TO:<alice@a.test>\r\n"
                                "DATA\r\nSubject: %s\r\n\r\nhi\r\n.\r\nQUIT\r\n" % tok).encode())
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(b"220 ") and b"221 2.0.0" in r.stdout
    assert len(stored(sub, tok)) == 1


def test_daemon_not_running_exits_75(base_dir, certs):
    gen = running_submission(base_dir, certs)
    t = next(gen)
    next(gen, None)     # stopped
    r = sendmail(t, ["alice@a.test"], b"Subject: x\n\nx\n")
    assert r.returncode == 75
    assert b"tern sendmail: cannot reach ternd at " + t.sendmail_socket.encode() in r.stderr


def test_unprivileged_user_is_recorded_by_uid(sub):
    """The socket is 0666, and the uid in Received comes from the kernel
    (SO_PEERCRED), not from the client."""
    assert os.stat(sub.sendmail_socket).st_mode & 0o777 == 0o666
    tok = token()
    r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", TERN,
                        "-c", sub.conf, "sendmail", "alice@a.test"],
                       input=b"Subject: " + tok.encode() + b"\n\nx\n", capture_output=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    m = stored(sub, tok)[0]
    assert b"(Tern, from userid 65534)" in m
    assert m.startswith(b"Return-Path: <nobody@mail.a.test>")
