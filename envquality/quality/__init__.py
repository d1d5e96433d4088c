"""Data-quality gate (Great Expectations 1.x): suites in ``expectations/``, see ``docs/quality.md``.

:func:`run_gate` validates a batch and splits it into passed and quarantined
rows; :func:`ingest_gate` and :func:`gate_water_samples` are the entry points
of ingests and water loads; :func:`check_day` / :func:`require_publishable`
decide from the stored data of a day whether it may be published;
:func:`guard_publish` stops a publish after a critical failure of a batch.
Importing this package does not import Great Expectations (about 3 s); the
first :func:`run_gate` does.
"""

from __future__ import annotations

from envquality.quality.config import SUITES, expectation_parameters, load_thresholds
from envquality.quality.entry import gate_water_samples, ingest_gate
from envquality.quality.gate import Finding, GateResult, get_context, prepare, run_gate
from envquality.quality.publish_guard import (
    GuardDecision, Override, PublishBlocked, check_day, guard_publish, require_publishable, write_alert,
)

__all__ = [
    "SUITES", "load_thresholds", "expectation_parameters", "run_gate", "prepare", "get_context",
    "GateResult", "Finding", "guard_publish", "PublishBlocked", "write_alert", "ingest_gate",
    "gate_water_samples", "check_day", "require_publishable", "GuardDecision", "Override",
]
