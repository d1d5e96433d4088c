"""Versioned rule sets and their selection by date.

The three air standards were replaced together on 2026-03-01
(GB 3095-2026, HJ 633-2026, HJ 663-2026).  A :class:`RuleSet` bundles what
one generation prescribes; :func:`ruleset_for` picks it by the date a value
belongs to, so a period that straddles the switch is computed day by day.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

import numpy as np
import numpy.typing as npt

from envquality.standards import gb3095_2012, gb3095_2026, hj633_2012, hj633_2026

__all__ = [
    "RuleSet", "RULESETS", "RULESET_2012", "RULESET_2026", "SWITCH_DATE",
    "ruleset_for", "ruleset_codes_for_days", "get_ruleset",
]

#: Date on which GB 3095-2026, HJ 633-2026 and HJ 663-2026 took effect.
SWITCH_DATE = _dt.date(2026, 3, 1)


@dataclass(frozen=True, eq=False)  # identity: one object per generation
class RuleSet:
    """One generation of the national air standards.

    Attributes
    ----------
    name : str
        Short id, ``"2012"`` or ``"2026"``.
    aqi_standard : str
        ``"HJ633-2012"`` or ``"HJ633-2026"``.
    ambient_standard, assessment_standard : str
        ``"GB3095-2012"``/``"GB3095-2026"`` and ``"HJ663-2013"``/``"HJ663-2026"``.
    breakpoints, above_table :
        HJ 633 Table 1 and its special rules.
    daily_indicators : tuple of str
        IAQI columns that enter the daily AQI (HJ 633 daily report).
    class2_limits : mapping
        GB 3095 Table 1 Class 2 limits used for exceedances and the composite
        index (:meth:`class2_limits_on` for the limits of a given day).
    later_limits, later_limits_from : mapping, date, optional
        A later stage of the limits within the same generation (GB 3095-2026
        Table 1 "final" column from 2031-01-01); chosen by date by
        :meth:`class2_limits_on`.
    capture : DataCapture
        GB 3095 Table 4 validity rules (hours per day and per 8-h window,
        days per year and per month).
    mda8_min_windows : int
        HJ 663 §6.1.2: MDA8 valid with at least this many valid 8-h windows
        (of the 17 ending 08:00-24:00), or with fewer when above the limit.
    composite_weights : mapping
        Weights of the single indices in the composite index (HJ 663 §6.2.3).
        All 1 by default; see ``docs/standards.md`` for the unverified
        weighted HJ 663-2026 variant.
    exceeding_pollutants : bool
        Whether the rule set defines exceeding pollutants (HJ 633-2012 only).
    missing_pollutant_rule : bool
        HJ 633-2026 §5.3: with a pollutant missing, publish AQI only if the
        remaining IAQIs already exceed 100, else AQI is NA.  HJ 633-2012 is
        silent; envquality applies the same rule to it by default so that a
        day with, say, only SO2 is never a "good day" (docs/standards.md).
    """

    name: str
    aqi_standard: str
    ambient_standard: str
    assessment_standard: str
    breakpoints: Mapping[str, tuple[float, ...]]
    above_table: Mapping[str, int | None]
    iaqi_nodes: tuple[int, ...]
    daily_indicators: tuple[str, ...]
    hourly_columns: Mapping[str, str]
    class2_limits: Mapping[tuple[str, str], float]
    capture: gb3095_2012.DataCapture
    mda8_min_windows: int
    later_limits: Mapping[tuple[str, str], float] | None = None
    later_limits_from: _dt.date | None = None
    composite_weights: Mapping[str, float] = field(
        default_factory=lambda: MappingProxyType(
            {"so2": 1.0, "no2": 1.0, "pm10": 1.0, "pm25": 1.0, "co": 1.0, "o3": 1.0}
        )
    )
    exceeding_pollutants: bool = True
    missing_pollutant_rule: bool = False

    @property
    def label(self) -> str:
        """Human-readable list of the standards in this rule set."""
        return f"{self.aqi_standard}/{self.ambient_standard}/{self.assessment_standard}"

    def class2_limits_on(self, day: _dt.date | str | np.datetime64) -> Mapping[tuple[str, str], float]:
        """Class 2 limits of the ambient standard in force on ``day``.

        References
        ----------
        GB 3095-2026 Table 1: transition limits 2026-03-01 to 2030-12-31,
        final limits from 2031-01-01 (GB 3095-2012 Table 1 has one stage).
        """
        if self.later_limits is not None and self.later_limits_from is not None \
                and np.datetime64(str(day)[:10], "D") >= np.datetime64(self.later_limits_from.isoformat(), "D"):
            return self.later_limits
        return self.class2_limits


RULESET_2012 = RuleSet(
    name="2012",
    aqi_standard=hj633_2012.NAME,
    ambient_standard=gb3095_2012.NAME,
    assessment_standard="HJ663-2013",
    breakpoints=MappingProxyType(hj633_2012.BREAKPOINTS),
    above_table=MappingProxyType(hj633_2012.ABOVE_TABLE),
    iaqi_nodes=hj633_2012.IAQI_NODES,
    daily_indicators=hj633_2012.DAILY_INDICATORS,
    hourly_columns=MappingProxyType(hj633_2012.HOURLY_COLUMNS),
    class2_limits=MappingProxyType(gb3095_2012.CLASS2_LIMITS),
    capture=gb3095_2012.TABLE4,
    mda8_min_windows=14,  # HJ 663-2013 §6.1.2
    exceeding_pollutants=True,
    missing_pollutant_rule=True,  # envquality's choice: 2012 is silent, see docstring
)

RULESET_2026 = RuleSet(
    name="2026",
    aqi_standard=hj633_2026.NAME,
    ambient_standard=gb3095_2026.NAME,
    assessment_standard="HJ663-2026",
    breakpoints=MappingProxyType(hj633_2026.BREAKPOINTS),
    above_table=MappingProxyType(hj633_2026.ABOVE_TABLE),
    iaqi_nodes=hj633_2026.IAQI_NODES,
    daily_indicators=hj633_2026.DAILY_INDICATORS,
    hourly_columns=MappingProxyType(hj633_2026.HOURLY_COLUMNS),
    class2_limits=MappingProxyType(gb3095_2026.CLASS2_LIMITS_TRANSITION),
    later_limits=MappingProxyType(gb3095_2026.CLASS2_LIMITS_FINAL),
    later_limits_from=gb3095_2026.FINAL_LIMITS_FROM,
    capture=gb3095_2026.TABLE4,
    mda8_min_windows=14,  # HJ 663-2026 §6.1.2
    exceeding_pollutants=False,
    missing_pollutant_rule=True,
)

#: Rule sets by every name they answer to.
RULESETS: dict[str, RuleSet] = {
    "2012": RULESET_2012, "HJ633-2012": RULESET_2012, "GB3095-2012": RULESET_2012,
    "HJ663-2013": RULESET_2012,
    "2026": RULESET_2026, "HJ633-2026": RULESET_2026, "GB3095-2026": RULESET_2026,
    "HJ663-2026": RULESET_2026,
}

#: Integer codes used in vectorized per-day selection.
RULESET_BY_CODE: tuple[RuleSet, ...] = (RULESET_2012, RULESET_2026)


def get_ruleset(name: str | RuleSet) -> RuleSet:
    """Return the rule set called ``name`` (e.g. ``"HJ633-2026"`` or ``"2012"``)."""
    if isinstance(name, RuleSet):
        return name
    try:
        return RULESETS[str(name).upper().replace(" ", "").replace("/T", "")]
    except KeyError:
        raise ValueError(
            f"unknown standard {name!r}; expected one of {sorted(set(RULESETS))}"
        ) from None


def ruleset_for(day: _dt.date | str | np.datetime64) -> RuleSet:
    """Rule set in force on ``day``: 2026 generation from 2026-03-01, else 2012.

    >>> ruleset_for("2026-02-28").aqi_standard, ruleset_for("2026-03-01").aqi_standard
    ('HJ633-2012', 'HJ633-2026')
    """
    d = np.datetime64(str(day)[:10], "D")  # date, Timestamp, datetime64 or ISO text
    return RULESET_2026 if d >= np.datetime64(SWITCH_DATE.isoformat(), "D") else RULESET_2012


def ruleset_codes_for_days(days: npt.ArrayLike) -> np.ndarray:
    """Vectorized :func:`ruleset_for`: 0 (2012 generation) or 1 (2026) per day."""
    d = np.asarray(days, dtype="datetime64[D]")
    return (d >= np.datetime64(SWITCH_DATE, "D")).astype(np.int8)
