"""Averages with data-capture counts and GB 3095 Table 4 validity.

Every aggregate here is returned with the number of values it was computed
from and a reason code; an aggregate computed from too little data is NaN,
never a quietly biased number (MetPy-style masking).

Array layout: hourly values of one calendar day sit on the last axis, 24
long, index 0 being the hour ending 01:00 (``docs/conventions.md``).  Daily
values sit on the last axis in date order.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from envquality.standards.rulesets import RULESET_2026

#: GB 3095 Table 4 (identical in GB 3095-2012 and -2026): the defaults of this
#: module come from the rule set, never typed again here.
_T4 = RULESET_2026.capture
#: HJ 663 §6.1.2 MDA8 window rule and its exceedance limit (GB 3095 Table 1
#: Class 2 O3 8-h limit, the same in both generations).
_MDA8_WINDOWS = RULESET_2026.mda8_min_windows
_O3_8H_LIMIT = float(RULESET_2026.class2_limits[("o3", "8h")])

__all__ = [
    "Aggregate", "REASONS", "OK", "TOO_FEW_HOURS", "TOO_FEW_WINDOWS", "TOO_FEW_DAYS",
    "TOO_FEW_DAYS_IN_MONTH", "NO_DATA", "daily_mean", "daily_max", "eight_hour_means",
    "mda8", "period_capture", "PeriodRule", "month_minimum",
]

# Reason codes carried next to every aggregate (int8 arrays).
OK = 0
NO_DATA = 1
TOO_FEW_HOURS = 2
TOO_FEW_WINDOWS = 3
TOO_FEW_DAYS = 4
TOO_FEW_DAYS_IN_MONTH = 5
NO_STATION = 6
DUST_EXCLUDED = 7

#: Human-readable text of each reason code.
REASONS: dict[int, str] = {
    OK: "",
    NO_DATA: "no valid data",
    TOO_FEW_HOURS: f"fewer than {_T4.min_hours_per_day} valid hours (GB 3095 Table 4)",
    TOO_FEW_WINDOWS: f"fewer than {_MDA8_WINDOWS} valid 8-h means and not above the limit (HJ 663 §6.1.2)",
    TOO_FEW_DAYS: f"fewer than {_T4.min_days_per_year} valid days in the year (GB 3095 Table 4)",
    TOO_FEW_DAYS_IN_MONTH: (f"a month with fewer than {_T4.min_days_per_month} valid days "
                            f"({_T4.min_days_february} in February) (GB 3095 Table 4)"),
    NO_STATION: "no valid assessment station",
    DUST_EXCLUDED: "dust-affected (环办监测〔2016〕120号)",
}


@dataclass(frozen=True)
class Aggregate:
    """An aggregate with its data capture.

    Attributes
    ----------
    value : ndarray of float64
        The statistic; NaN where invalid.
    count : ndarray of int
        Number of valid input values (hours, windows or days) used.
    reason : ndarray of int8
        :data:`REASONS` code; 0 where valid.
    """

    value: np.ndarray
    count: np.ndarray
    reason: np.ndarray

    def __iter__(self) -> Iterator[np.ndarray]:
        """Unpack as ``value, count, reason``."""
        return iter((self.value, self.count, self.reason))

    @property
    def valid(self) -> np.ndarray:
        """True where the aggregate is valid."""
        return self.reason == OK


def _sum_count(x: np.ndarray, axis: int = -1) -> tuple[np.ndarray, np.ndarray]:
    valid = ~np.isnan(x)
    # accumulate in float64 whatever the input dtype (float32 input stays unconverted)
    total = np.where(valid, x, x.dtype.type(0)).sum(axis=axis, dtype=np.float64)
    return total, valid.sum(axis=axis)


def _as_float(values: npt.ArrayLike) -> np.ndarray:
    x = np.asarray(values)
    return x if x.dtype.kind == "f" else x.astype(np.float64)


def daily_mean(hourly: npt.ArrayLike, *, min_hours: int = _T4.min_hours_per_day) -> Aggregate:
    """24-h mean of one calendar day with data capture.

    GB 3095-2012 Table 4 (= GB 3095-2026 Table 4): a 24-h mean of SO2, NO2,
    CO, PM10 or PM2.5 needs at least 20 hourly means.

    Parameters
    ----------
    hourly : array_like, shape (..., 24)
        1-h means of the day [µg/m³; CO mg/m³], NaN = missing.
    min_hours : int
        Minimum number of valid hours (20).

    Examples
    --------
    >>> day = [10.0] * 20 + [float("nan")] * 4
    >>> r = daily_mean(day)
    >>> float(r.value), int(r.count), bool(r.valid)
    (10.0, 20, True)
    >>> bool(daily_mean([10.0] * 19 + [float("nan")] * 5).valid)
    False

    References
    ----------
    .. [1] GB 3095-2012 Table 4 (24-h mean valid with ≥ 20 hourly values); GB 3095-2026 Table 4.
    """
    x = _as_float(hourly)
    total, n = _sum_count(x)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / n
    reason = np.where(n == 0, NO_DATA, np.where(n < min_hours, TOO_FEW_HOURS, OK)).astype(np.int8)
    return Aggregate(np.where(reason == OK, mean, np.nan), n, reason)


def daily_max(hourly: npt.ArrayLike, *, min_hours: int = _T4.min_hours_per_day) -> Aggregate:
    """Daily maximum 1-h value (O3 1-h maximum of the HJ 633-2012 daily report).

    GB 3095 gives no capture rule for it; envquality applies the 24-h rule
    (≥ 20 valid hours) by default, and like HJ 663 §6.1.2 for MDA8 accepts a
    day with fewer hours when the maximum already exceeds a limit only if the
    caller passes ``min_hours=1``.  See ``docs/standards.md``.

    References
    ----------
    .. [1] HJ 633-2012 §5.2 (O3 daily maximum 1-h value in the daily AQI).
    """
    x = np.asarray(hourly, dtype=np.float64)
    n = (~np.isnan(x)).sum(axis=-1)
    with np.errstate(invalid="ignore"):
        mx = np.where(n > 0, np.nanmax(np.where(np.isnan(x), -np.inf, x), axis=-1), np.nan)
    reason = np.where(n == 0, NO_DATA, np.where(n < min_hours, TOO_FEW_HOURS, OK)).astype(np.int8)
    return Aggregate(np.where(reason == OK, mx, np.nan), n, reason)


def eight_hour_means(hourly: npt.ArrayLike, *, min_hours: int = _T4.min_hours_per_8h) -> Aggregate:
    """The 17 8-h moving means of a calendar day, ending 08:00 … 24:00.

    GB 3095-2026 §3.9: an 8-h mean is the mean of 8 consecutive 1-h means;
    GB 3095 Table 4: valid with at least 6 of them.  HJ 663 §6.1.2 takes
    the windows ending 08:00 to 24:00 of the day, all of which lie inside it.

    Parameters
    ----------
    hourly : array_like, shape (..., 24)
        O3 1-h means of the day [µg/m³].

    Returns
    -------
    Aggregate with shape (..., 17)

    References
    ----------
    .. [1] GB 3095-2012 §3.9 / GB 3095-2026 §3.9 (8-h moving average: mean of 8 consecutive hours, ≥ 6 valid, Table 4).
    """
    x = np.asarray(hourly, dtype=np.float64)
    valid = ~np.isnan(x)
    csum = np.concatenate(
        [np.zeros(x.shape[:-1] + (1,)), np.cumsum(np.where(valid, x, 0.0), axis=-1)], axis=-1
    )
    ccnt = np.concatenate(
        [np.zeros(x.shape[:-1] + (1,), dtype=np.int64), np.cumsum(valid, axis=-1)], axis=-1
    )
    total = csum[..., 8:] - csum[..., :-8]
    n = ccnt[..., 8:] - ccnt[..., :-8]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / n
    reason = np.where(n == 0, NO_DATA, np.where(n < min_hours, TOO_FEW_HOURS, OK)).astype(np.int8)
    return Aggregate(np.where(reason == OK, mean, np.nan), n, reason)


def mda8(
    hourly: npt.ArrayLike,
    *,
    min_hours: int = _T4.min_hours_per_8h,
    min_windows: int = _MDA8_WINDOWS,
    limit: float = _O3_8H_LIMIT,
) -> Aggregate:
    """O3 daily maximum 8-h average (MDA8) with the 14-window rule.

    GB 3095-2026 §3.9 (definition); HJ 663-2013 §6.1.2 and HJ 663-2026
    §6.1.2: valid with at least 14 valid 8-h means among the 17 of the day;
    with fewer, valid only if it exceeds the concentration limit.

    Parameters
    ----------
    hourly : array_like, shape (..., 24)
        O3 1-h means of the day [µg/m³].
    limit : float
        Limit for the exceedance exception [µg/m³]; GB 3095 Class 2 MDA8
        limit 160 by default (which class applies is unverified: configurable).

    Returns
    -------
    Aggregate
        ``count`` is the number of valid 8-h means.

    Examples
    --------
    >>> import numpy as np
    >>> day = np.full(24, 100.0)
    >>> float(mda8(day).value), int(mda8(day).count)
    (100.0, 17)
    >>> day[:13] = np.nan              # only the 6 windows ending 19:00-24:00 keep 6 hours
    >>> bool(mda8(day).valid), int(mda8(day).count)
    (False, 6)
    >>> day[13:] = 200.0               # ... but an MDA8 above the limit stands
    >>> bool(mda8(day).valid), float(mda8(day).value)
    (True, 200.0)

    References
    ----------
    .. [1] GB 3095-2026 §3.9 (MDA8); HJ 663-2013 §6.1.2 and HJ 663-2026 §6.1.2 (≥ 14 valid 8-h means, or an exceedance).
    """
    w = eight_hour_means(hourly, min_hours=min_hours)
    n = w.valid.sum(axis=-1)
    with np.errstate(invalid="ignore"):
        mx = np.where(n > 0, np.max(np.where(w.valid, w.value, -np.inf), axis=-1), np.nan)
        exceeds = mx > limit
    reason = np.where(
        n == 0, NO_DATA, np.where((n < min_windows) & ~exceeds, TOO_FEW_WINDOWS, OK)
    ).astype(np.int8)
    return Aggregate(np.where(reason == OK, mx, np.nan), n, reason)


@dataclass(frozen=True)
class PeriodRule:
    """Capture rule for period statistics (GB 3095 Table 4, annual row).

    ``min_days_per_year`` applies when the period is one whole calendar year;
    the monthly minimum applies to every month the period touches, scaled to
    the part of the month covered: a part of L days of a month of D days
    needs ``L - (D - min)`` valid days (the same number of missing days the
    whole-month rule tolerates).  GB 3095 sets no rule for other periods:
    this extension is envquality's documented choice.
    """

    min_days_per_year: int = _T4.min_days_per_year
    min_days_per_month: int = _T4.min_days_per_month
    min_days_february: int = _T4.min_days_february


def month_minimum(year: int, month: int, rule: PeriodRule = PeriodRule()) -> int:
    """Valid days needed in a whole month (27; 25 in February).

    References
    ----------
    .. [1] GB 3095-2012 Table 4 (monthly mean: ≥ 27 daily values, 25 in February).
    """
    return rule.min_days_february if month == 2 else rule.min_days_per_month


def period_capture(
    valid: npt.ArrayLike,
    days: npt.ArrayLike,
    rule: PeriodRule = PeriodRule(),
) -> tuple[np.ndarray, np.ndarray]:
    """Valid-day count and period validity for daily values.

    GB 3095-2012 Table 4 (annual: ≥ 324 daily values and ≥ 27 in every
    month, ≥ 25 in February), extended to other periods per
    :class:`PeriodRule`.

    Parameters
    ----------
    valid : array_like of bool, shape (..., n_days)
    days : array_like of datetime64[D], shape (n_days,)
        Consecutive calendar days of the period.

    Returns
    -------
    count : ndarray of int, shape (...)
    reason : ndarray of int8, shape (...)
        0 valid, :data:`TOO_FEW_DAYS` or :data:`TOO_FEW_DAYS_IN_MONTH`.

    Examples
    --------
    >>> import numpy as np
    >>> days = np.arange("2015-01-01", "2016-01-01", dtype="datetime64[D]")
    >>> ok = np.ones(365, bool); ok[31:31 + 4] = False   # 24 valid days in February
    >>> period_capture(ok, days)[1].item() == TOO_FEW_DAYS_IN_MONTH
    True
    >>> ok[34] = True                                     # 25 in February is enough
    >>> period_capture(ok, days)[1].item()
    0

    References
    ----------
    .. [1] GB 3095-2012 Table 4 (annual ≥ 324, monthly ≥ 27 / 25 daily values); HJ 663-2013 §6.
    """
    v = np.asarray(valid, dtype=bool)
    d = np.asarray(days, dtype="datetime64[D]")
    count = v.sum(axis=-1)
    reason = np.zeros(count.shape, dtype=np.int8)
    if d.size == 0:
        return count, np.full(count.shape, NO_DATA, dtype=np.int8)
    months = d.astype("datetime64[M]")
    month_ok = np.ones(count.shape, dtype=bool)
    for m in np.unique(months):
        sel = months == m
        year, month = int(str(m)[:4]), int(str(m)[5:7])
        length = calendar.monthrange(year, month)[1]
        need = int(sel.sum()) - (length - month_minimum(year, month, rule))
        if need > 0:
            month_ok &= v[..., sel].sum(axis=-1) >= need
    reason[~month_ok] = TOO_FEW_DAYS_IN_MONTH
    first, last = d[0], d[-1]
    whole_year = (
        str(first)[5:] == "01-01" and str(last)[5:] == "12-31" and str(first)[:4] == str(last)[:4]
    )
    if whole_year:
        reason[(count < rule.min_days_per_year) & month_ok] = TOO_FEW_DAYS
    reason[count == 0] = NO_DATA
    return count, reason
