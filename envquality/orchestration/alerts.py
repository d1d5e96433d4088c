"""Operator alerts: one record, sent to every configured target (log, SMTP e-mail, webhook).

Kinds raised by the DAGs:

``gate_failed``        a critical quality-gate outcome in the day's ingests;
``day_incomplete``     the source had not delivered the whole day by the wait deadline;
``day_missing``        nothing at all arrived for the day;
``off_target_path``    a division's target progress is ``at_risk`` or ``out_of_reach``;
``not_published``      the day was not on the public site by the publication deadline;
``publish_blocked``    the site was not rebuilt (the last good site stays online).

Every alert is also written as a JSON record to the alerts folder (the one
:mod:`envquality.quality.publish_guard` uses), so nothing depends on a mail
server being up.  A target that fails is logged and the others still get
the alert; :func:`notify` returns what each target did.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import smtplib
import urllib.request
from dataclasses import asdict, dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Callable

from envquality.orchestration.config import Settings

__all__ = ["Alert", "notify", "send_log", "send_smtp", "send_webhook", "TARGETS"]

log = logging.getLogger("envquality.orchestration.alerts")


@dataclass
class Alert:
    """One operator alert; ``details`` must be JSON-serialisable."""

    kind: str
    message: str
    day: str | None = None
    level: str = "critical"
    details: dict[str, Any] = field(default_factory=dict)
    time: str = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"))

    def subject(self) -> str:
        # one line, no control characters: it goes into a mail header and a log line
        text = f"[envquality {self.level}] {self.kind} {self.day or ''}: {self.message}"
        return "".join(ch if ch.isprintable() else " " for ch in text)[:200]

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, default=str)


def send_log(alert: Alert, settings: Settings) -> str:
    """Log one line and write ``<alerts_dir>/<time>-<kind>.json``; returns the file path."""
    folder = settings.path("alerts_dir")
    folder.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    path = folder / f"{stamp}-{alert.kind}.json"
    path.write_text(alert.to_json() + "\n", encoding="utf-8")
    (log.error if alert.level == "critical" else log.warning)("ALERT %s (%s)", alert.subject(), path)
    return str(path)


def send_smtp(alert: Alert, settings: Settings) -> str:
    """Mail the alert to ``smtp_to`` through ``smtp_host:smtp_port`` (or the ``smtp_conn_id`` Connection)."""
    recipients = settings.listed("smtp_to")
    if not recipients:
        raise ValueError("alert target smtp: setting smtp_to is empty")
    conn = settings.secret("smtp_conn_id")
    host = (conn.host if conn and conn.host else None) or str(settings["smtp_host"])
    port = (conn.port if conn and conn.port else None) or int(settings["smtp_port"])
    msg = EmailMessage()
    msg["Subject"] = alert.subject()
    msg["From"] = str(settings["smtp_from"])
    msg["To"] = ", ".join(recipients)
    msg.set_content(f"{alert.message}\n\n{json.dumps(asdict(alert), ensure_ascii=False, indent=1, default=str)}\n")
    with smtplib.SMTP(host, port, timeout=20) as smtp:
        if settings["smtp_starttls"]:
            smtp.starttls()
        if conn and conn.login:
            smtp.login(conn.login, conn.password or "")
        smtp.send_message(msg)
    return f"mailed to {len(recipients)} recipient(s) via {host}:{port}"


def send_webhook(alert: Alert, settings: Settings) -> str:
    """POST the alert as JSON to ``webhook_url``; the ``webhook_conn_id`` password is a bearer token."""
    url = str(settings["webhook_url"])
    if not url.startswith(("http://", "https://")):
        raise ValueError("alert target webhook: setting webhook_url must be an http(s) URL")
    headers = {"Content-Type": "application/json; charset=utf-8"}
    conn = settings.secret("webhook_conn_id")
    if conn and conn.password:
        headers["Authorization"] = f"Bearer {conn.password}"
    req = urllib.request.Request(url, data=alert.to_json().encode("utf-8"), headers=headers, method="POST")
    with urllib.request.urlopen(req, timeout=20) as resp:  # noqa: S310 - scheme checked above
        return f"webhook answered {resp.status}"


#: Alert target name → sender.
TARGETS: dict[str, Callable[[Alert, Settings], str]] = {"log": send_log, "smtp": send_smtp,
                                                          "webhook": send_webhook}


def notify(alert: Alert, settings: Settings) -> dict[str, str]:
    """Send ``alert`` to every target of ``alert_targets``; one failing target does not stop the others.

    The log target always runs (the JSON record is the audit trail).
    Returns target → outcome (``"failed: ..."`` for a target that failed).
    """
    names = list(dict.fromkeys(["log", *settings.listed("alert_targets")]))
    outcome = {}
    for name in names:
        sender = TARGETS.get(name)
        if sender is None:
            outcome[name] = f"failed: unknown alert target {name!r} (known: {', '.join(TARGETS)})"
            log.error("alert target %s: unknown", name)
            continue
        try:
            outcome[name] = sender(alert, settings)
        except Exception as exc:  # an alert channel being down must not hide the alert elsewhere
            outcome[name] = f"failed: {type(exc).__name__}: {exc}"
            log.error("alert target %s failed: %s", name, exc)
    return outcome


def read_alerts(folder: str | Path) -> list[dict]:
    """The alert records of a folder, oldest first (for tests and the operator)."""
    out = []
    for p in sorted(Path(folder).glob("*.json")):
        try:
            out.append(json.loads(p.read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError):
            continue
    return out
