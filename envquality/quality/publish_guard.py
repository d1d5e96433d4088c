"""The publication guard: decide from the stored data of a day whether it may go public.

:func:`check_day` looks at the **data of the day being published** in the
store, never only at ingest metadata (which can be absent: an ingest whose
every row was quarantined has no period).  A day D (the hours ending
D 01:00 … D+1 00:00 CST, docs/conventions.md) is blocked when

1. **coverage** — the stored values of the six hourly pollutants of the
   registry's assessment stations are fewer than ``publish.coverage_min``
   (thresholds.yaml) of stations × 24 × 6 (a day whose every row was
   quarantined has coverage 0);
2. **critical gate outcome** — a delivery that touches the day (wrote a
   reading of the day, or an ingest whose period overlaps it, or a reported
   daily value of the day) had a critical quality-gate outcome;
3. **ungated data** — such a delivery never went through the gate
   (``ingest --no-gate``: ``gate_status`` NULL).  An explicit operator
   :class:`Override` (who and why) lifts this rule only; it is logged and
   written to the alerts folder;
4. **implausible values** — a stored value of the day lies outside the
   gate's physical range (``hourly.ranges``), however it got there.

:func:`require_publishable` is what publishers call: it returns the
:class:`GuardDecision` when the day may go public, else writes an alert
record (JSON in ``var/alerts/`` and one ERROR log line) and raises
:class:`PublishBlocked` with the reasons; the publisher then leaves the last
good public pages where they are.  :func:`guard_publish` blocks on in-memory
gate results (a critical failure of the batch being published).

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

from envquality.quality.guard_day import GuardDecision, Override, check_day

__all__ = ["PublishBlocked", "guard_publish", "write_alert", "alerts_dir", "ALERTS_DIR_ENV", "check_day",
           "require_publishable", "GuardDecision", "Override"]

log = logging.getLogger("envquality.quality.publish")

#: Environment variable naming the alerts folder (default ``var/alerts`` of the checkout).
ALERTS_DIR_ENV = "ENVQUALITY_ALERTS_DIR"


class PublishBlocked(RuntimeError):
    """A critical data-quality failure: do not publish; keep the last good pages."""

    def __init__(self, reason: str, alert_path: Path | None = None, findings: list | None = None,
                 decision: "GuardDecision | None" = None):
        super().__init__(reason)
        self.reason = reason
        self.alert_path = alert_path
        self.findings = findings or []
        #: The :class:`GuardDecision` of a day that was refused (None for in-memory gate results).
        self.decision = decision

    @property
    def reasons(self) -> list[str]:
        """Every reason the publish was refused."""
        return list(self.decision.reasons) if self.decision is not None else [self.reason]


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
                alerts_dir: str | Path | None = None, extra: dict | None = None) -> Path:
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
        **(extra or {}),
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


def require_publishable(engine, day, *, override: Override | None = None,
                        alerts_dir: str | Path | None = None, config: dict | None = None) -> GuardDecision:
    """:func:`check_day`, raising :class:`PublishBlocked` (after writing an alert) when the day is blocked.

    An applied override is written to the alerts folder (level ``override``)
    and logged, so every publish of ungated data leaves a record of who
    allowed it and why.
    """
    decision = check_day(engine, day, override=override, config=config)
    if decision.override_applied and override is not None:
        write_alert(f"operator override for {decision.day}: {override.operator}: {override.reason}",
                    level="override", alerts_dir=alerts_dir,
                    extra={"day": str(decision.day), "lifted": decision.lifted, "operator": override.operator,
                           "override_reason": override.reason})
    if decision.allowed:
        return decision
    reason = f"publication of {decision.day} blocked: " + "; ".join(decision.reasons)
    path = write_alert(reason, alerts_dir=alerts_dir, extra={"day": str(decision.day),
                                                             "reasons": decision.reasons,
                                                             "coverage": decision.coverage})
    raise PublishBlocked(reason, path, decision=decision)
