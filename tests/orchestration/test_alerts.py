"""Alerts reach the log (JSON record), a real SMTP conversation and a real HTTP webhook, all on loopback."""

from __future__ import annotations

import http.server
import json
import socketserver
import threading
from email import message_from_bytes

import pytest

from envquality.orchestration.alerts import Alert, notify, read_alerts
from envquality.orchestration.config import ConnectionInfo, load_settings


class _SMTPHandler(socketserver.StreamRequestHandler):
    """A minimal SMTP server (RFC 5321 subset: EHLO, MAIL, RCPT, DATA, QUIT) recording each message."""

    def handle(self):
        self.wfile.write(b"220 test ESMTP\r\n")
        mail = {"rcpt": [], "data": b"", "auth": None}
        while True:
            line = self.rfile.readline()
            if not line:
                return
            cmd = line.strip().upper()
            if cmd.startswith((b"EHLO", b"HELO")):
                self.wfile.write(b"250-test\r\n250 AUTH PLAIN\r\n")
            elif cmd.startswith(b"AUTH PLAIN"):
                mail["auth"] = line.strip().split()[-1]
                self.wfile.write(b"235 ok\r\n")
            elif cmd.startswith(b"MAIL FROM"):
                mail["from"] = line.strip()[10:]
                self.wfile.write(b"250 ok\r\n")
            elif cmd.startswith(b"RCPT TO"):
                mail["rcpt"].append(line.strip()[8:])
                self.wfile.write(b"250 ok\r\n")
            elif cmd == b"DATA":
                self.wfile.write(b"354 go\r\n")
                chunks = []
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    chunks.append(chunk)
                mail["data"] = b"".join(chunks)
                self.server.messages.append(dict(mail))
                self.wfile.write(b"250 queued\r\n")
            elif cmd == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


@pytest.fixture
def smtp_server():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SMTPHandler)
    server.messages = []
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def webhook_server():
    received = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"path": self.path, "auth": self.headers.get("Authorization"),
                             "type": self.headers.get("Content-Type"), "body": json.loads(body)})
            self.send_response(204)
            self.end_headers()

        def log_message(self, *a):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.received = received
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield server
    server.shutdown()
    server.server_close()


def test_log_target_writes_a_record(tmp_path):
    s = load_settings(env={"ENVQUALITY_ALERTS_DIR": str(tmp_path)})
    out = notify(Alert("day_incomplete", "source delivered 50 %", day="2024-03-01", level="warning"), s)
    assert set(out) == {"log"}
    [rec] = read_alerts(tmp_path)
    assert rec["kind"] == "day_incomplete" and rec["day"] == "2024-03-01"


def test_smtp_and_webhook_and_a_failing_target(tmp_path, smtp_server, webhook_server):
    smtp_port = smtp_server.server_address[1]
    hook = f"http://127.0.0.1:{webhook_server.server_address[1]}/alerts"
    conns = {"mail": ConnectionInfo(host="127.0.0.1", port=smtp_port, login="bot", password="pw"),
             "hook": ConnectionInfo(password="tok3n")}
    s = load_settings(env={"ENVQUALITY_ALERTS_DIR": str(tmp_path),
                           "ENVQUALITY_ALERT_TARGETS": "log,smtp,webhook,pager",
                           "ENVQUALITY_SMTP_CONN_ID": "mail", "ENVQUALITY_SMTP_TO": "duty@example.org, b@example.org",
                           "ENVQUALITY_WEBHOOK_URL": hook, "ENVQUALITY_WEBHOOK_CONN_ID": "hook"},
                      connection=conns.get)
    # a control character in data-derived text must not break the mail header
    out = notify(Alert("gate_failed", "critical outcome for\r\nBcc: x@evil", day="2024-03-02"), s)
    assert out["pager"].startswith("failed: unknown alert target")
    assert "mailed to 2" in out["smtp"] and "204" in out["webhook"]
    [mail] = smtp_server.messages
    assert mail["rcpt"] == [b"<duty@example.org>", b"<b@example.org>"] and mail["auth"] is not None
    msg = message_from_bytes(mail["data"])
    assert msg["Subject"].startswith("[envquality critical] gate_failed 2024-03-02")
    assert msg["Bcc"] is None
    [hit] = webhook_server.received
    assert hit["path"] == "/alerts" and hit["auth"] == "Bearer tok3n"
    assert hit["body"]["kind"] == "gate_failed" and hit["type"].startswith("application/json")
    assert len(read_alerts(tmp_path)) == 1  # the log record is written whatever else happens


def test_smtp_down_does_not_stop_the_other_targets(tmp_path):
    s = load_settings(env={"ENVQUALITY_ALERTS_DIR": str(tmp_path), "ENVQUALITY_ALERT_TARGETS": "smtp,log",
                           "ENVQUALITY_SMTP_HOST": "127.0.0.1", "ENVQUALITY_SMTP_PORT": "1",
                           "ENVQUALITY_SMTP_TO": "a@example.org"})
    out = notify(Alert("not_published", "late"), s)
    assert out["smtp"].startswith("failed:") and len(read_alerts(tmp_path)) == 1
