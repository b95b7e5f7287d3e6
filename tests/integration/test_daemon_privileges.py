"""ternd starts as root, then runs as the configured user (nobody here),
and every file under data_dir belongs to that user (DESIGN: process model)."""
import os
import pwd
import stat

import pytest

from pop3_helpers import big_body, deliver, login, message, new_user

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to test dropping it")

NOBODY = pwd.getpwnam("nobody")


def proc_ids(pid):
    """(uids, gids, groups) from /proc/PID/status."""
    ids = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("Uid", "Gid", "Groups"):
                ids[key] = [int(v) for v in value.split()]
    return ids["Uid"], ids["Gid"], ids["Groups"]


def test_ternd_runs_as_nobody(tern):
    uids, gids, groups = proc_ids(tern.proc.pid)
    assert uids == [NOBODY.pw_uid] * 4          # real, effective, saved, filesystem
    assert gids == [NOBODY.pw_gid] * 4
    assert set(groups) <= {NOBODY.pw_gid}
    assert "running as user=nobody" in tern.log()


def test_ternd_has_no_capabilities(tern):
    with open("/proc/%d/status" % tern.proc.pid) as f:
        caps = dict(l.split(":", 1) for l in f if l.startswith("Cap"))
    assert int(caps["CapEff"].strip(), 16) == 0
    assert int(caps["CapPrm"].strip(), 16) == 0


def test_every_thread_runs_as_nobody(tern):
    # worker and committer threads too: setuid applies to all threads (glibc)
    tids = os.listdir("/proc/%d/task" % tern.proc.pid)
    assert len(tids) > 1
    for tid in tids:
        with open("/proc/%d/task/%s/status" % (tern.proc.pid, tid)) as f:
            uid_line = next(l for l in f if l.startswith("Uid:"))
        assert [int(v) for v in uid_line.split()[1:]] == [NOBODY.pw_uid] * 4


def test_data_dir_files_are_owned_by_nobody(tern):
    user, password = new_user(tern)
    deliver(tern, user, message("small"))
    deliver(tern, user, message("large", big_body(1.1)))
    p = login(tern, user, password)
    p.dele(1)
    p.quit()
    tern.cli("domain", "add", "owned.test")     # CLI writes as root-turned-nobody
    wrong = []
    for dirpath, dirnames, filenames in os.walk(tern.data_dir):
        for name in [dirpath] + [os.path.join(dirpath, n) for n in dirnames + filenames]:
            st = os.lstat(name)
            if st.st_uid != NOBODY.pw_uid:
                wrong.append((name, st.st_uid))
    assert wrong == []
    assert os.path.exists(os.path.join(tern.data_dir, "tern.db"))


def test_data_dir_is_not_world_readable(tern):
    st = os.stat(tern.data_dir)
    assert stat.S_IMODE(st.st_mode) & 0o007 == 0
    db = os.stat(os.path.join(tern.data_dir, "tern.db"))
    assert stat.S_IMODE(db.st_mode) & 0o077 == 0


def test_data_dir_created_by_root_is_handed_to_nobody(fresh):
    t = fresh()
    # make the store's files root's, as an admin running sqlite3 as root would
    for dirpath, dirnames, filenames in os.walk(t.data_dir):
        for n in [dirpath] + [os.path.join(dirpath, x) for x in dirnames + filenames]:
            os.lchown(n, 0, 0)
    t.start()
    assert os.stat(t.data_dir).st_uid == NOBODY.pw_uid
    assert os.stat(os.path.join(t.data_dir, "tern.db")).st_uid == NOBODY.pw_uid
    login(t, "alice@a.test", "alice-secret-1").quit()


def test_user_root_is_refused(fresh):
    t = fresh()
    t.write_config({"server.plaintext_auth_loopback": "yes", "server.user": "root"})
    with pytest.raises(RuntimeError) as e:
        t.start()
    assert "unprivileged user" in str(e.value)


def test_unknown_user_is_refused(fresh):
    t = fresh()
    t.write_config({"server.plaintext_auth_loopback": "yes", "server.user": "no-such-user-tern"})
    with pytest.raises(RuntimeError) as e:
        t.start()
    assert "does not exist" in str(e.value)
