"""Real IMAP clients against Tern: curl (imap:// and imaps://), mbsync
(isync: a two-way sync between Tern and a local Maildir) and mutt (opens
INBOX over imaps in a pseudo-terminal and shows the right message count).
mbsync turns on COMPRESS=DEFLATE (RFC 4978) whenever it is offered, mutt
when imap_deflate is set; the tests check in the server log that it was.
The instance's certificate also names 127.0.0.2 as a DNS name because
isync ignores IP SANs (see DESIGN, demo mode)."""
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import time

import pytest

from conftest import running
from imap_helpers import LOOPBACK_OK, login, message, new_user, user_with_messages
from pop3_helpers import big_body


@pytest.fixture(scope="module")
def tern(base_dir, certs):
    host = "127.0.0.2"
    cert = certs.issue("imap-clients", ["DNS:mail.a.test", "DNS:localhost", "IP:" + host,
                                        "DNS:" + host])
    yield from running(base_dir, certs, LOOPBACK_OK, imap=True, certificates=[cert])


def need(tool):
    return pytest.mark.skipif(shutil.which(tool) is None, reason=tool + " not installed")


# -- curl ----------------------------------------------------------------------

def curl(user, password, url, *extra):
    return subprocess.run(["curl", "-sS", "--max-time", "30", "--user", "%s:%s" % (user, password),
                           *extra, url], capture_output=True, timeout=60)


@need("curl")
def test_curl_imap_lists_mailboxes(tern):
    user, password = new_user(tern)
    r = curl(user, password, "imap://%s:%d/" % (tern.host, tern.imap_port))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.decode().split("\r\n")
    names = [l.rsplit(" ", 1)[1] for l in lines if l.startswith("* LIST ")]
    assert {"INBOX", "Drafts", "Sent", "Junk", "Trash"} <= set(names), lines


@need("curl")
def test_curl_imap_starttls_examines_inbox(tern):
    user, password, _ = user_with_messages(tern, 2)
    r = curl(user, password, "imap://%s:%d/INBOX" % (tern.host, tern.imap_port), "--ssl-reqd",
             "--cacert", tern.certs.ca, "-X", "EXAMINE INBOX")
    assert r.returncode == 0, r.stderr
    assert b"* 2 EXISTS" in r.stdout


@need("curl")
def test_curl_imaps_fetches_message_by_uid(tern):
    user, password, bodies = user_with_messages(tern, 2)
    r = curl(user, password, "imaps://%s:%d/INBOX;UID=2" % (tern.host, tern.imaps_port),
             "--cacert", tern.certs.ca)
    assert r.returncode == 0, r.stderr
    assert r.stdout.endswith(bodies[1])


@need("curl")
def test_curl_imaps_wrong_password_fails(tern):
    user, _ = new_user(tern)
    r = curl(user, "wrong", "imaps://%s:%d/INBOX;UID=1" % (tern.host, tern.imaps_port),
             "--cacert", tern.certs.ca)
    assert r.returncode == 67, (r.returncode, r.stderr)   # CURLE_LOGIN_DENIED


# -- mbsync --------------------------------------------------------------------

def mbsync_config(t, home, user, password):
    local = os.path.join(home, "Mail")
    os.makedirs(local, exist_ok=True)
    conf = os.path.join(home, "mbsyncrc")
    with open(conf, "w") as f:
        f.write("IMAPAccount tern\nHost %s\nPort %d\nUser %s\nPass %s\nSSLType IMAPS\n"
                "CertificateFile %s\n\nIMAPStore remote\nAccount tern\n\n"
                "MaildirStore local\nPath %s/\nInbox %s/INBOX\nSubFolders Verbatim\n\n"
                "Channel sync\nFar :remote:\nNear :local:\nPatterns INBOX\nCreate Both\n"
                "Expunge Both\nSyncState *\n"
                % (t.host, t.imaps_port, user, password, t.certs.ca, local, local))
    return conf, os.path.join(local, "INBOX")


def compressed_sessions(t):
    """How many sessions so far turned on COMPRESS=DEFLATE."""
    return t.log().count(" compress=deflate")


def mbsync(t, conf, home):
    before = compressed_sessions(t)
    r = subprocess.run(["mbsync", "-c", conf, "sync"], capture_output=True, text=True,
                       env={**os.environ, "HOME": home}, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert compressed_sessions(t) > before, "mbsync did not use COMPRESS=DEFLATE"
    return r


def maildir_files(inbox):
    out = {}
    for sub in ("new", "cur"):
        d = os.path.join(inbox, sub)
        for name in os.listdir(d) if os.path.isdir(d) else []:
            with open(os.path.join(d, name), "rb") as f:
                out[os.path.join(sub, name)] = f.read()
    return out


@need("mbsync")
def test_mbsync_pulls_inbox_into_maildir(tern, base_dir):
    user, password, bodies = user_with_messages(tern, 3)
    home = os.path.join(base_dir, "mbsync-pull-" + user)
    os.makedirs(home)
    conf, inbox = mbsync_config(tern, home, user, password)
    mbsync(tern, conf, home)
    files = maildir_files(inbox)
    got = sorted(re.sub(rb"X-TUID: .*\n", b"", v[v.index(b"From: "):]) for v in files.values())
    assert got == sorted(b.replace(b"\r\n", b"\n") for b in bodies)
    # a second run with nothing new changes nothing
    mbsync(tern, conf, home)
    assert maildir_files(inbox) == files


@need("mbsync")
def test_mbsync_two_way_sync(tern, base_dir):
    user, password, bodies = user_with_messages(tern, 2)
    home = os.path.join(base_dir, "mbsync-" + user)
    os.makedirs(home)
    conf, inbox = mbsync_config(tern, home, user, password)

    # far -> near: the two delivered messages land in the Maildir
    mbsync(tern, conf, home)
    files = maildir_files(inbox)
    assert len(files) == 2, files.keys()
    # the Maildir copy: LF line ends, Tern's trace headers first, and the
    # X-TUID header mbsync adds while the message is in flight
    got = sorted(re.sub(rb"X-TUID: .*\n", b"", v[v.index(b"From: "):]) for v in files.values())
    assert got == sorted(b.replace(b"\r\n", b"\n") for b in bodies)

    # near -> far: a message written into the Maildir is appended to INBOX
    # (large enough to take many compressed reads on the server)
    local_msg = message(subject="from maildir", token="maildir-1",
                        body=big_body(0.5)).replace(b"\r\n", b"\n")
    with open(os.path.join(inbox, "new", "1700000000.local1.host"), "wb") as f:
        f.write(local_msg)
    mbsync(tern, conf, home)
    m = login(tern, user, password)
    assert m.select("INBOX") == ("OK", [b"3"])
    typ, data = m.fetch("3", "(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)] BODY.PEEK[TEXT])")
    assert b"<maildir-1@example.org>" in data[0][1]
    assert data[1][1] == local_msg.split(b"\n\n", 1)[1].replace(b"\n", b"\r\n")

    # flags both ways: \Seen set in the Maildir reaches Tern, \Flagged set
    # in Tern reaches the Maildir
    name = [n for n in maildir_files(inbox) if "local1" not in n and ",U=1:" in n][0]
    src = os.path.join(inbox, name)
    os.rename(src, os.path.join(inbox, "cur", os.path.basename(src).split(":2,")[0] + ":2,S"))
    m.store("2", "+FLAGS", "(\\Flagged)")
    mbsync(tern, conf, home)
    # m's FETCH answers from m's view and the change mbsync's session made
    # follows as an update when the command ends (imaplib returns both),
    # so the last FETCH response for message 1 is the current one
    typ, data = m.fetch("1", "(FLAGS)")
    assert b"\\Seen" in data[-1], data
    assert [n for n in maildir_files(inbox) if ",U=2:" in n and n.endswith("F")], \
        maildir_files(inbox).keys()

    # a message expunged in Tern disappears from the Maildir
    m.store("1", "+FLAGS", "(\\Deleted)")
    m.expunge()
    mbsync(tern, conf, home)
    assert len(maildir_files(inbox)) == 2
    m.logout()


# -- mutt ----------------------------------------------------------------------

def run_in_pty(argv, env, timeout=60):
    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.environ.update(env)
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)                # never return into pytest
    out = b""
    deadline = time.time() + timeout
    while time.time() < deadline:
        ready, _, _ = select.select([fd], [], [], 1)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        else:
            done_pid, status = os.waitpid(pid, os.WNOHANG)
            if done_pid != 0:
                os.close(fd)
                return os.waitstatus_to_exitcode(status), out
    grace = time.time() + 5              # EOF on the pty comes just before exit
    done_pid, status = os.waitpid(pid, os.WNOHANG)
    while done_pid == 0 and time.time() < grace:
        time.sleep(0.05)
        done_pid, status = os.waitpid(pid, os.WNOHANG)
    if done_pid == 0:                    # still running after timeout
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), out


@need("mutt")
@pytest.mark.parametrize("deflate", [False, True], ids=["plain", "deflate"])
def test_mutt_opens_inbox_over_imaps_with_right_count(tern, base_dir, deflate):
    user, password, _ = user_with_messages(tern, 3, subjects=["alpha", "beta", "gamma"])
    before = compressed_sessions(tern)
    home = os.path.join(base_dir, "mutt-" + user)
    os.makedirs(os.path.join(home, "Mail"))
    url = "imaps://%s:%d/INBOX" % (tern.host, tern.imaps_port)
    argv = ["mutt", "-n", "-F", "/dev/null",
            "-e", "set imap_user=%s imap_pass=%s" % (user, password),
            "-e", "set ssl_ca_certificates_file=%s certificate_file=/dev/null" % tern.certs.ca,
            "-e", "set header_cache=%s/hcache message_cachedir=%s/bcache" % (home, home),
            "-e", "set mail_check=0 timeout=1",
            "-e", "set imap_deflate=%s" % ("yes" if deflate else "no"),
            "-e", "set folder=imaps://%s:%d/ spoolfile=%s" % (tern.host, tern.imaps_port, url),
            "-e", "set status_format='MSGCOUNT=%m END'",
            "-e", "push <exit>", "-f", url]
    code, out = run_in_pty(argv, {"HOME": home, "TERM": "vt100"})
    assert code == 0, out[-2000:]
    # drawn once or, on a slow run, again: always with 3
    assert set(re.findall(rb"MSGCOUNT=(\d+) END", out)) == {b"3"}, out[-2000:]
    for subject in (b"alpha", b"beta", b"gamma"):
        assert subject in out
    assert b"Closing connection" in out
    assert (compressed_sessions(tern) > before) == deflate
