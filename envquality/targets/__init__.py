"""Targets of Gansu's 2017 quality-improvement plan, and progress towards them on any day.

The targets are data (:func:`load_targets`: the packaged
``envquality/data/targets.yaml`` plus an operator file); progress on a day
is :func:`progress_table` (from the store) or :func:`progress_from_daily`
(from a frame of daily city values, no store needed).  See
``docs/targets.md``.
"""

from __future__ import annotations

from typing import Any

#: The 14 divisions' average share of good-air days (daily AQI ≤ 100) [%].
GOOD_DAY_RATIO_TARGET = 82.0
#: Share of county-level-and-above centralized drinking-water sources with
#: good quality (Class I–III) [%].
DRINKING_WATER_TARGET = 96.85

from envquality.targets.schema import (  # noqa: E402  (constants first: envquality.water imports them)
    TARGETS_ENV, Target, TargetsFileError, load_targets, parse_targets,
)

__all__ = ["GOOD_DAY_RATIO_TARGET", "DRINKING_WATER_TARGET", "Target", "TargetsFileError", "load_targets",
           "parse_targets", "TARGETS_ENV", "progress_table", "progress_from_daily", "PROGRESS_COLUMNS",
           "STATUSES"]

_LAZY = {"progress_table", "progress_from_daily", "PROGRESS_COLUMNS", "STATUSES"}


def __getattr__(name: str) -> Any:
    # the progress module imports the statistics engine, which imports this package
    if name in _LAZY:
        from envquality.targets import progress

        return getattr(progress, name)
    raise AttributeError(f"module 'envquality.targets' has no attribute {name!r}")
