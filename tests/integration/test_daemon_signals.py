"""Daemon lifecycle: SIGHUP reloads config and certificates without
dropping connections; SIGTERM/SIGINT drain idle sessions and exit 0."""
import os
import shutil
import signal
import smtplib
import socket

import pytest

from conftest import PASSWORDS, Raw
from pop3_helpers import (cert_serial, deliver, der_serial, login, message, new_user, peer_cert,
                          raw, retr_bytes, wait_for)


def served_serial(t, port="pop3s", server_hostname=None):
    der, _ = peer_cert(t.host, t.ports[port], t.certs.client_context(),
                       server_hostname or t.hostname)
    return der_serial(der)


def stls_serial(t):
    c = raw(t)
    assert c.cmd("STLS").startswith("+OK")
    c.starttls(t.certs.client_context(), t.hostname)
    serial = der_serial(c.sock.getpeercert(binary_form=True))
    c.close()
    return serial


def hup(t):
    """Sends SIGHUP and waits until the daemon has handled it."""
    offset = len(t.log())
    t.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: "reloaded config=" in t.log()[offset:] or
                    "reload failed" in t.log()[offset:])
    return t.log()[offset:]


def test_sighup_serves_swapped_certificate_on_new_connections(fresh, certs):
    t = fresh()
    t.start()
    cert, key = t.certificates[0]
    old = cert_serial(cert)
    assert served_serial(t) == old
    new_cert, new_key = certs.issue("swapped-%s" % t.ports["pop3s"],
                                    ["DNS:" + t.hostname, "DNS:localhost", "IP:" + t.host])
    shutil.copyfile(new_cert, cert)
    shutil.copyfile(new_key, key)
    new = cert_serial(cert)
    assert new != old
    assert served_serial(t) == old          # nothing changes before the signal
    assert "reloaded config=" in hup(t)
    assert served_serial(t) == new
    assert stls_serial(t) == new


def test_sighup_keeps_open_sessions(fresh):
    t = fresh()
    t.start()
    user, password = new_user(t)
    deliver(t, user, message("kept"))
    p = login(t, user, password)
    s = smtplib.SMTP(t.host, t.ports["smtp"], timeout=10)
    s.ehlo("client.example.org")
    hup(t)
    assert p.stat()[0] == 1
    assert p.noop().startswith(b"+OK")
    p.quit()
    assert s.noop()[0] == 250
    s.quit()


def test_sighup_with_broken_config_keeps_old_config_and_logs_error(fresh):
    t = fresh()
    t.start()
    old = served_serial(t)
    with open(t.conf, "a") as f:
        f.write("\n[server]\nbogus_key = 1\n")
    log = hup(t)
    assert "reload failed" in log
    assert t.conf + ":" in log and "bogus_key" in log
    assert t.proc.poll() is None
    assert served_serial(t) == old
    login(t, "alice@a.test", PASSWORDS["alice@a.test"]).quit()
    login(t, "bob@a.test", PASSWORDS["bob@a.test"], mode="pop3s").quit()


def test_sighup_with_missing_certificate_keeps_old_certificate(fresh):
    t = fresh()
    t.start()
    old = served_serial(t)
    cert, key = t.certificates[0]
    t.certificates = [(cert + ".gone", key)]
    t.write_config()
    log = hup(t)
    assert "reload failed" in log and cert + ".gone" in log
    assert served_serial(t) == old
    assert t.proc.poll() is None


def test_sighup_applies_changed_setting(fresh):
    t = fresh()
    t.start()
    c = raw(t)
    assert c.cmd("USER alice@a.test").startswith("+OK")
    c.cmd("QUIT")
    t.write_config({"server.plaintext_auth_loopback": "no"})
    assert "reloaded config=" in hup(t)
    c = raw(t)
    assert c.cmd("USER alice@a.test").startswith("-ERR [AUTH]")
    c.cmd("QUIT")


def test_sighup_twice_then_sigterm_exits_cleanly(fresh):
    t = fresh()
    t.start()
    hup(t)
    hup(t)
    login(t, "alice@a.test", PASSWORDS["alice@a.test"], mode="pop3s").quit()
    assert t.stop() == 0


# ---- SIGTERM ---------------------------------------------------------------

def test_sigterm_with_idle_sessions_exits_0_and_tells_them(fresh):
    t = fresh()
    t.start()
    user, password = new_user(t)
    pre_login = raw(t)
    logged_in = raw(t)
    logged_in.login(user, password)
    over_tls = raw(t, tls=True)
    smtp = Raw(t.host, t.ports["smtp"])
    assert smtp.reply()[0] == 220
    assert smtp.cmd("EHLO client.example.org")[0] == 250

    t.proc.send_signal(signal.SIGTERM)
    assert pre_login.line().startswith("-ERR")
    assert pre_login.closed()
    assert logged_in.line().startswith("-ERR")
    assert logged_in.closed()
    assert over_tls.line().startswith("-ERR")
    assert over_tls.closed()
    assert smtp.reply()[0] == 421
    assert smtp.closed()
    assert t.proc.wait(timeout=40) == 0
    log = t.log()
    assert "still open after" not in log     # drained, not cut off by the grace timer
    assert "stopped status=0" in log


def assert_drained(t):
    """ternd exited 0 with every session ended, not cut off by the grace timer."""
    assert t.proc.wait(timeout=40) == 0
    log = t.log()
    assert "still open after" not in log
    assert "stopped status=0" in log


def test_sigterm_with_unfinished_pop3s_handshake_does_not_wait_for_it(fresh):
    t = fresh()
    t.start()
    offset = len(t.log())
    s = socket.create_connection((t.host, t.ports["pop3s"]), timeout=10)
    assert wait_for(lambda: "tls=implicit" in t.log()[offset:])
    t.proc.send_signal(signal.SIGTERM)
    s.settimeout(20)
    assert s.recv(100) == b""
    s.close()
    assert_drained(t)


def test_sigterm_during_stls_handshake_does_not_wait_for_it(fresh):
    t = fresh()
    t.start()
    c = raw(t)
    assert c.cmd("STLS").startswith("+OK")
    t.proc.send_signal(signal.SIGTERM)
    assert c.closed(timeout=20)
    assert_drained(t)


def test_sigterm_during_login_check_ends_session(fresh):
    t = fresh()
    t.start()
    c = raw(t)
    c.send("USER alice@a.test\r\nPASS %s\r\n" % PASSWORDS["alice@a.test"])
    t.proc.send_signal(signal.SIGTERM)
    lines = []
    try:
        while True:
            lines.append(c.line())
    except (EOFError, ConnectionResetError):
        pass
    # the login finished or not, the session was told and closed
    assert lines and lines[-1].startswith("-ERR")
    assert_drained(t)


def test_sigterm_after_dele_without_quit_deletes_nothing(fresh):
    t = fresh()
    t.start()
    user, password = new_user(t)
    deliver(t, user, message("survives shutdown"))
    c = raw(t)
    c.login(user, password)
    assert c.cmd("DELE 1").startswith("+OK")
    assert t.stop() == 0
    t.start()
    p = login(t, user, password)
    assert p.stat()[0] == 1
    p.quit()


def test_sigterm_stops_accepting_connections(fresh):
    t = fresh()
    t.start()
    idle = raw(t)
    t.proc.send_signal(signal.SIGTERM)
    assert idle.line().startswith("-ERR")
    assert t.proc.wait(timeout=40) == 0
    with pytest.raises(OSError):
        socket.create_connection((t.host, t.ports["pop3"]), timeout=5).close()


def test_sigint_exits_0(fresh):
    t = fresh()
    t.start()
    assert t.stop(signal.SIGINT) == 0
    assert "stopped status=0" in t.log()


def test_sigterm_removes_control_socket(fresh):
    t = fresh()
    t.start()
    path = os.path.join(t.data_dir, "control.sock")
    assert os.path.exists(path)
    assert t.stop() == 0
    assert not os.path.exists(path)


def test_restart_after_sigkill_serves_stored_mail(fresh):
    t = fresh()
    t.start()
    user, password = new_user(t)
    body = message("durable")
    deliver(t, user, body)
    t.kill9()
    t.start()
    p = login(t, user, password)
    assert retr_bytes(p, 1).endswith(body)
    p.quit()
