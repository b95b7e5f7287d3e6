"""`tern status` and `tern reload` over the daemon's control socket."""
import os
import stat

from conftest import PASSWORDS
from pop3_helpers import deliver, login, message, new_user, status, wait_for

STATUS_KEYS = ("version", "pid", "uptime_s", "hostname", "data_dir", "connections_open",
               "connections_total", "messages_accepted", "messages_rejected", "logins_ok",
               "logins_failed", "domains", "accounts", "aliases", "messages", "blobs", "queued")


def test_status_prints_key_value_lines(tern):
    r = tern.cli("status")
    assert r.returncode == 0
    lines = r.stdout.splitlines()
    assert lines and all("=" in line and " " not in line.split("=", 1)[0] for line in lines)
    st = dict(line.split("=", 1) for line in lines)
    for key in STATUS_KEYS:
        assert key in st, key
    assert int(st["pid"]) == tern.proc.pid
    assert st["hostname"] == tern.hostname
    assert st["data_dir"] == tern.data_dir


def test_status_counts_domains_and_accounts(tern):
    st = status(tern)
    assert int(st["domains"]) == int(tern.sql("SELECT count(*) FROM domains"))
    assert int(st["accounts"]) == int(tern.sql("SELECT count(*) FROM accounts"))


def test_status_messages_accepted_grows_with_deliveries(tern):
    user, _ = new_user(tern)
    before = int(status(tern)["messages_accepted"])
    deliver(tern, user, message("one"))
    deliver(tern, user, message("two"))
    assert int(status(tern)["messages_accepted"]) == before + 2


def test_status_shows_open_pop3_connection(tern):
    user, password = new_user(tern)
    p = login(tern, user, password)
    st = status(tern)
    assert int(st["connections_open_pop3"]) >= 1
    p.quit()
    assert wait_for(lambda: int(status(tern)["connections_open_pop3"]) == 0)


def test_status_when_daemon_not_running_fails_clearly(fresh):
    t = fresh()           # configured and populated, never started
    open(t.log_path, "a").close()   # fresh's teardown reads the log
    r = t.cli("status", check=False)
    assert r.returncode == 1
    assert "cannot reach ternd" in r.stderr
    assert "is it running?" in r.stderr
    assert r.stdout == ""


def test_reload_when_daemon_not_running_fails_clearly(fresh):
    t = fresh()
    open(t.log_path, "a").close()   # fresh's teardown reads the log
    r = t.cli("reload", check=False)
    assert r.returncode == 1
    assert "cannot reach ternd" in r.stderr


def test_status_after_daemon_stopped_fails_clearly(fresh):
    t = fresh()
    t.start()
    assert t.cli("status").returncode == 0
    assert t.stop() == 0
    r = t.cli("status", check=False)
    assert r.returncode == 1
    assert "cannot reach ternd" in r.stderr


def test_status_with_extra_argument_exits_2(tern):
    r = tern.cli("status", "now", check=False)
    assert r.returncode == 2


def test_reload_prints_ok_and_daemon_logs_it(tern):
    offset = len(tern.log())
    r = tern.cli("reload")
    assert r.returncode == 0
    assert r.stdout.strip() == "ok"
    assert "reloaded config=" in tern.log()[offset:]


def test_reload_with_broken_config_fails_and_keeps_running(fresh):
    t = fresh()
    t.start()
    with open(t.conf) as f:
        good = f.read()
    with open(t.conf, "a") as f:
        f.write("[server]\nno_such_key = 1\n")
    r = t.cli("reload", check=False)
    # the CLI itself reads the same config: either it or the daemon refuses
    assert r.returncode == 1
    assert "no_such_key" in r.stdout + r.stderr
    with open(t.conf, "w") as f:
        f.write(good)
    assert t.proc.poll() is None
    assert t.cli("status").returncode == 0


def test_reload_with_missing_certificate_reports_daemon_error(fresh):
    t = fresh()
    t.start()
    cert, key = t.certificates[0]
    t.certificates = [(cert + ".missing", key)]
    t.write_config()
    r = t.cli("reload", check=False)
    assert r.returncode == 1
    assert r.stdout.startswith("error=")
    assert cert + ".missing" in r.stdout
    assert t.proc.poll() is None
    # the old certificate still serves
    p = login(t, "alice@a.test", PASSWORDS["alice@a.test"], mode="pop3s")
    p.quit()


def test_reload_applies_new_log_level(fresh):
    t = fresh()
    t.start()
    t.write_config({"server.plaintext_auth_loopback": "yes", "server.log_level": "warn"})
    assert t.cli("reload").stdout.strip() == "ok"
    offset = len(t.log())
    user, password = new_user(t)
    login(t, user, password).quit()
    assert "login user=" not in t.log()[offset:]


def test_control_socket_is_private(tern):
    path = os.path.join(tern.data_dir, "control.sock")
    st = os.stat(path)
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) & 0o077 == 0
