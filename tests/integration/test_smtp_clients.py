"""Real SMTP clients other than smtplib: swaks (plain, STARTTLS with and
without verification, BDAT/pipelining) and curl smtp://."""
import os
import re
import subprocess

from smtp_helpers import make_message, pop_find, split_trace, token


def run(args, **kwargs):
    r = subprocess.run(args, capture_output=True, text=True, timeout=60, **kwargs)
    assert r.returncode == 0, "%s failed (%d):\n%s\n%s" % (args[0], r.returncode, r.stdout, r.stderr)
    return r.stdout + r.stderr


def write_file(t, name, data):
    path = os.path.join(t.base, name)
    with open(path, "wb") as f:
        f.write(data)
    return path


def swaks_file(t, tok, body):
    """swaks sends the file, then CRLF . CRLF: leave the final CRLF out."""
    assert body.endswith(b"\r\n")
    return "@" + write_file(t, "swaks-%s.eml" % tok, body[:-2])


def assert_queued(out):
    assert re.search(r"^<[-~]  250 2\.0\.0 Ok: queued as \w+$", out, re.M), out


def swaks(t, *extra):
    return ["swaks", "--server", "%s:%d" % (t.host, t.ports["smtp"]), "--helo", "swaks.example.org",
            "--from", "swaks@example.org", "--timeout", "30", *extra]


def test_swaks_plain_message_is_accepted_and_readable(tern):
    tok = token()
    body = make_message(tok, sender="swaks@example.org", body=b"sent by swaks\r\n.dot line\r\n")
    out = run(swaks(tern, "--to", "alice@a.test", "--data", swaks_file(tern, tok, body)))
    assert_queued(out)
    msgs = pop_find(tern, "alice@a.test", tok, delete=True)
    assert len(msgs) == 1
    return_path, _, received, rest = split_trace(msgs[0])
    assert return_path == "<swaks@example.org>"
    assert "from swaks.example.org " in received and " with ESMTP " in received
    assert rest == body


def test_swaks_tls_with_verification_against_test_ca(tern, certs):
    tok = token()
    body = make_message(tok, sender="swaks@example.org", to="bob@a.test")
    out = run(swaks(tern, "--to", "bob@a.test", "--data", swaks_file(tern, tok, body), "--tls",
                    "--tls-verify", "--tls-ca-path", certs.ca))
    assert_queued(out)
    msgs = pop_find(tern, "bob@a.test", tok, delete=True)
    assert len(msgs) == 1
    _, _, received, rest = split_trace(msgs[0])
    assert " with ESMTPS " in received and "(using TLSv1." in received
    assert rest == body


def test_swaks_tls_with_wrong_ca_fails_verification(tern, base_dir):
    from conftest import Certs
    other = Certs(os.path.join(base_dir, "other-ca-%s" % token()[:8]))
    r = subprocess.run(swaks(tern, "--to", "bob@a.test", "--tls", "--tls-verify",
                             "--tls-ca-path", other.ca), capture_output=True, text=True,
                       timeout=60)
    assert r.returncode != 0
    assert "queued as" not in r.stdout


def test_swaks_tls_without_verification(tern):
    tok = token()
    body = make_message(tok, sender="swaks@example.org", to="carol@a.test")
    out = run(swaks(tern, "--to", "carol@a.test", "--data", swaks_file(tern, tok, body), "--tls"))
    assert_queued(out)
    assert "<~  250 2.0.0 Ok: queued as" in out, "the 250 came inside TLS"
    msgs = pop_find(tern, "carol@a.test", tok, delete=True)
    assert len(msgs) == 1
    _, _, received, rest = split_trace(msgs[0])
    assert " with ESMTPS " in received
    assert rest == body


def test_swaks_pipelining_to_several_recipients(tern):
    tok = token()
    body = make_message(tok, sender="swaks@example.org", to="team@a.test")
    out = run(swaks(tern, "--to", "team@a.test,carol@a.test,nobody@a.test", "--pipeline",
                    "--data", swaks_file(tern, tok, body)))
    assert "<** 550 5.1.1 <nobody@a.test>" in out, out
    assert_queued(out)
    for user in ("alice@a.test", "bob@a.test", "carol@a.test"):
        msgs = pop_find(tern, user, tok, delete=True)
        assert len(msgs) == 1 and split_trace(msgs[0])[3] == body


def test_swaks_refused_relay_exits_with_error(tern):
    r = subprocess.run(swaks(tern, "--to", "victim@remote.test"), capture_output=True, text=True,
                       timeout=60)
    assert r.returncode != 0
    assert "554 5.7.1" in r.stdout


def test_curl_smtp_upload_is_accepted_and_readable(tern):
    tok = token()
    body = make_message(tok, sender="curl@example.org",
                        body=b"sent by curl\r\n.leading dot\r\n\r\nend\r\n")
    path = write_file(tern, "curl-%s.eml" % tok, body)
    run(["curl", "--silent", "--show-error", "--url",
         "smtp://%s:%d/curl.example.org" % (tern.host, tern.ports["smtp"]),
         "--mail-from", "curl@example.org", "--mail-rcpt", "alice@a.test",
         "--mail-rcpt", "bob@a.test", "--upload-file", path])
    for user in ("alice@a.test", "bob@a.test"):
        msgs = pop_find(tern, user, tok, delete=True)
        assert len(msgs) == 1
        return_path, delivered_to, received, rest = split_trace(msgs[0])
        assert return_path == "<curl@example.org>" and delivered_to == user
        assert "from curl.example.org " in received
        assert rest == body


def test_curl_smtp_with_starttls_required_and_verified(tern, certs):
    tok = token()
    body = make_message(tok, sender="curl@example.org", to="carol@a.test")
    path = write_file(tern, "curl-%s.eml" % tok, body)
    run(["curl", "--silent", "--show-error", "--ssl-reqd", "--cacert", certs.ca, "--url",
         "smtp://%s:%d" % (tern.host, tern.ports["smtp"]), "--mail-from", "curl@example.org",
         "--mail-rcpt", "carol@a.test", "--upload-file", path])
    msgs = pop_find(tern, "carol@a.test", tok, delete=True)
    assert len(msgs) == 1
    _, _, received, rest = split_trace(msgs[0])
    assert " with ESMTPS " in received
    assert rest == body


def test_curl_refused_recipient_fails(tern):
    tok = token()
    path = write_file(tern, "curl-%s.eml" % tok, make_message(tok))
    r = subprocess.run(["curl", "--silent", "--show-error", "--url",
                        "smtp://%s:%d" % (tern.host, tern.ports["smtp"]),
                        "--mail-from", "curl@example.org", "--mail-rcpt", "nobody@a.test",
                        "--upload-file", path], capture_output=True, text=True, timeout=60)
    assert r.returncode != 0
    assert "550" in r.stderr
