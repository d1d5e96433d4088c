"""Stop a publish after a critical data-quality failure; write the operator alert.

The map/site publisher calls :func:`guard_publish` with the gate results of
the run before it replaces any public page.  On a critical failure it writes
an alert record (a JSON file in ``var/alerts/`` and one ERROR log line) and
raises :class:`PublishBlocked`; the publisher then leaves the last good
public pages where they are.  Warnings never block; they are listed in the
alert of a blocked run and in the operator Data Docs.

>>> from envquality.quality.gate import GateResult, Finding
>>> import pandas as pd, tempfile
>>> ok = GateResult("hourly_readings", pd.DataFrame(), pd.DataFrame())
>>> guard_publish([ok]) is None
True
>>> bad = GateResult("hourly_readings", pd.DataFrame(), pd.DataFrame(), publish_allowed=False,
...                  critical=[Finding("hourly_readings", "hourly.schema", "critical", "t", None, "columns")])
>>> try:
...     guard_publish(bad, alerts_dir=tempfile.mkdtemp())
... except PublishBlocked as exc:
...     print(exc.reason)
critical data-quality failure: hourly_readings/hourly.schema: columns
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
from pathlib import Path
from typing import Iterable

__all__ = ["PublishBlocked", "guard_publish", "write_alert", "alerts_dir", "ALERTS_DIR_ENV"]

log = logging.getLogger("envquality.quality.publish")

#: Environment variable naming the alerts folder (default ``var/alerts`` of the checkout).
ALERTS_DIR_ENV = "ENVQUALITY_ALERTS_DIR"


class PublishBlocked(RuntimeError):
    """A critical data-quality failure: do not publish; keep the last good pages."""

    def __init__(self, reason: str, alert_path: Path | None = None, findings: list | None = None):
        super().__init__(reason)
        self.reason = reason
        self.alert_path = alert_path
        self.findings = findings or []


def alerts_dir() -> Path:
    env = os.environ.get(ALERTS_DIR_ENV)
    if env:
        return Path(env)
    from envquality.quality.gate import site_dir

    return site_dir().parent / "alerts"


def _as_list(gate_results) -> list:
    if gate_results is None:
        return []
    if hasattr(gate_results, "publish_allowed"):
        return [gate_results]
    if isinstance(gate_results, dict):
        return list(gate_results.values())
    return list(gate_results)


def write_alert(reason: str, gate_results: Iterable = (), *, level: str = "critical",
                alerts_dir: str | Path | None = None) -> Path:
    """Write an alert record ``<alerts>/<UTC time>-<level>.json`` and log one line; returns the path."""
    folder = Path(alerts_dir) if alerts_dir is not None else globals()["alerts_dir"]()
    folder.mkdir(parents=True, exist_ok=True)
    now = _dt.datetime.now(_dt.timezone.utc)
    results = _as_list(gate_results)
    record = {
        "time": now.isoformat(timespec="seconds"),
        "level": level,
        "reason": reason,
        "publish_allowed": all(r.publish_allowed for r in results),
        "suites": [
            {"suite": r.suite, "publish_allowed": r.publish_allowed,
             "critical": [f.to_dict() for f in r.critical], "warnings": [f.to_dict() for f in r.warnings],
             "quarantined_rows": int(len(r.quarantined)),
             "docs": str(r.docs_path) if r.docs_path else None}
            for r in results
        ],
    }
    path = folder / f"{now.strftime('%Y%m%dT%H%M%S%fZ')}-{level}.json"
    path.write_text(json.dumps(record, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    (log.error if level == "critical" else log.warning)("ALERT %s: %s (%s)", level.upper(), reason, path)
    return path


def guard_publish(gate_results, *, alerts_dir: str | Path | None = None) -> None:
    """Raise :class:`PublishBlocked` if any gate result has a critical failure.

    ``gate_results``: one :class:`~envquality.quality.gate.GateResult`, a list
    or a dict of them.  Returns None when publishing may go ahead.
    """
    results = _as_list(gate_results)
    blocked = [r for r in results if not r.publish_allowed]
    if not blocked:
        return None
    findings = [f for r in blocked for f in r.critical]
    what = "; ".join(f"{f.suite}/{f.name}: {f.description}" for f in findings[:5]) or "critical failure"
    if len(findings) > 5:
        what += f"; and {len(findings) - 5} more"
    reason = f"critical data-quality failure: {what}"
    path = write_alert(reason, results, alerts_dir=alerts_dir)
    raise PublishBlocked(reason, path, findings)
