"""Data-capture rules: GB 3095 Table 4 and HJ 663 §6.1.2 (standards.md §2.5).

Hand-made days with a known number of valid hours; expected values are
worked out by hand in the comments.
"""

from __future__ import annotations

import calendar

import numpy as np
import pytest

from envquality.stats.validity import (
    NO_DATA,
    OK,
    REASONS,
    TOO_FEW_DAYS,
    TOO_FEW_DAYS_IN_MONTH,
    TOO_FEW_HOURS,
    TOO_FEW_WINDOWS,
    PeriodRule,
    daily_max,
    daily_mean,
    eight_hour_means,
    mda8,
    period_capture,
)

NAN = np.nan


def day_with(n_valid: int, value: float = 10.0) -> np.ndarray:
    """24 hours, the first ``n_valid`` valid."""
    x = np.full(24, NAN)
    x[:n_valid] = value
    return x


# --------------------------------------------------------------------------- 24-h mean


@pytest.mark.parametrize("n, ok", [(24, True), (20, True), (19, False), (1, False)])
def test_daily_mean_needs_20_hours(n, ok):
    r = daily_mean(day_with(n, 37.0))
    assert int(r.count) == n
    assert bool(r.valid) is ok
    if ok:
        assert float(r.value) == 37.0 and int(r.reason) == OK
    else:
        assert np.isnan(r.value) and int(r.reason) == TOO_FEW_HOURS


def test_daily_mean_value_is_mean_of_valid_hours_only():
    x = np.arange(24, dtype=float)  # 0..23
    x[[0, 5, 10, 23]] = NAN  # 20 valid: sum 276 - (0+5+10+23) = 238
    r = daily_mean(x)
    assert int(r.count) == 20 and float(r.value) == pytest.approx(238 / 20, abs=0, rel=1e-15)


def test_daily_mean_all_missing_is_no_data():
    r = daily_mean(np.full(24, NAN))
    assert int(r.count) == 0 and int(r.reason) == NO_DATA and np.isnan(r.value)


def test_daily_mean_vectorised_over_leading_axes():
    x = np.stack([day_with(20, 5.0), day_with(19, 5.0), np.full(24, NAN)])
    r = daily_mean(x.reshape(3, 24))
    assert r.count.tolist() == [20, 19, 0]
    assert r.reason.tolist() == [OK, TOO_FEW_HOURS, NO_DATA]
    assert r.value[0] == 5.0 and np.isnan(r.value[1:]).all()


# --------------------------------------------------------------------------- O3 daily max 1-h


@pytest.mark.parametrize("n, ok", [(20, True), (19, False)])
def test_o3_daily_max_needs_20_hours(n, ok):
    x = day_with(n, 50.0)
    x[3] = 180.0
    r = daily_max(x)
    assert int(r.count) == n and bool(r.valid) is ok
    assert (float(r.value) == 180.0) if ok else (np.isnan(r.value) and int(r.reason) == TOO_FEW_HOURS)


# --------------------------------------------------------------------------- 8-h windows


def test_seventeen_windows_ending_0800_to_2400_inside_the_day():
    # value = hour index 0..23; window ending at index e covers e-7..e, mean e-3.5
    r = eight_hour_means(np.arange(24, dtype=float))
    assert r.value.shape == (17,)
    assert r.value.tolist() == [e - 3.5 for e in range(7, 24)]
    assert r.count.tolist() == [8] * 17


def test_first_and_last_hour_each_in_exactly_one_window():
    # hour index 0 (ending 01:00) lies only in the window ending 08:00; the hour
    # ending 24:00 (index 23) only in the last one: no window reaches another day
    for idx, window in ((0, 0), (23, 16)):
        x = np.zeros(24)
        x[idx] = 800.0
        r = eight_hour_means(x)
        assert np.flatnonzero(r.value).tolist() == [window]
        assert r.value[window] == 100.0


@pytest.mark.parametrize("n_missing, ok", [(2, True), (3, False)])
def test_eight_hour_window_needs_6_hours(n_missing, ok):
    x = np.full(24, 90.0)
    x[:n_missing] = NAN  # first window (indices 0..7) keeps 8 - n_missing hours
    r = eight_hour_means(x)
    assert int(r.count[0]) == 8 - n_missing
    if ok:
        assert r.value[0] == 90.0 and r.reason[0] == OK
    else:
        assert np.isnan(r.value[0]) and r.reason[0] == TOO_FEW_HOURS
    assert (r.value[n_missing:] == 90.0).all()  # windows from index n_missing on are complete enough


# --------------------------------------------------------------------------- MDA8


def o3_day(first_missing: int, value: float = 100.0) -> np.ndarray:
    """Hours ``first_missing``..23 missing.

    The window ending at index e has min(8, first_missing + 7 - e ... ) valid hours;
    it is invalid when it holds >= 3 missing hours, i.e. e >= first_missing + 2, so
    22 - first_missing windows are invalid: first_missing = 19 -> 14 valid windows,
    18 -> 13 valid windows.
    """
    x = np.full(24, value)
    x[first_missing:] = NAN
    return x


def test_mda8_with_14_valid_windows_is_valid():
    r = mda8(o3_day(19))
    assert int(r.count) == 14 and bool(r.valid) and float(r.value) == 100.0


def test_mda8_with_13_valid_windows_is_invalid():
    r = mda8(o3_day(18))
    assert int(r.count) == 13 and not bool(r.valid)
    assert np.isnan(r.value) and int(r.reason) == TOO_FEW_WINDOWS
    assert "14" in REASONS[int(r.reason)]


def test_mda8_with_13_windows_stands_when_above_160():
    r = mda8(o3_day(18, 170.0))
    assert int(r.count) == 13 and bool(r.valid) and float(r.value) == 170.0


def test_mda8_exception_needs_strictly_above_limit():
    r = mda8(o3_day(18, 160.0))  # equal to the limit is not an exceedance
    assert not bool(r.valid) and int(r.reason) == TOO_FEW_WINDOWS
    # the limit is configurable (Class 1: 100)
    assert bool(mda8(o3_day(18, 120.0), limit=100.0).valid)


def test_mda8_is_max_of_8h_means():
    x = np.full(24, 60.0)
    x[12:16] = 180.0  # 4 hours at 180: best window holds all four -> (4*180+4*60)/8 = 120
    r = mda8(x)
    assert float(r.value) == 120.0 and int(r.count) == 17


def test_mda8_all_missing():
    r = mda8(np.full(24, NAN))
    assert int(r.count) == 0 and int(r.reason) == NO_DATA and np.isnan(r.value)


# --------------------------------------------------------------------------- every invalid aggregate


@pytest.mark.parametrize("func", [daily_mean, daily_max, eight_hour_means, mda8])
def test_invalid_aggregates_are_nan_with_reason_and_count(func):
    rng = np.random.default_rng(7)
    x = rng.uniform(0, 300, size=(400, 24))
    x[rng.random(x.shape) < rng.uniform(0, 0.6, size=(400, 1))] = NAN
    r = func(x)
    bad = r.reason != OK
    assert bad.any() and (~bad).any()
    assert np.isnan(r.value[bad]).all()
    assert not np.isnan(r.value[~bad]).any()
    assert all(REASONS[int(c)] for c in np.unique(r.reason[bad]))
    if func in (daily_mean, daily_max):
        assert (r.count == (~np.isnan(x)).sum(axis=-1)).all()
    assert r.count.shape == r.value.shape == r.reason.shape


# --------------------------------------------------------------------------- period capture


def year_days(year: int) -> np.ndarray:
    return np.arange(f"{year}-01-01", f"{year + 1}-01-01", dtype="datetime64[D]")


def valid_with_missing(days: np.ndarray, missing_per_month: dict[int, int]) -> np.ndarray:
    """All valid except the first k days of the given months."""
    ok = np.ones(days.size, bool)
    months = days.astype("datetime64[M]").astype(int) % 12 + 1
    dom = (days - days.astype("datetime64[M]")).astype(int)
    for m, k in missing_per_month.items():
        ok[(months == m) & (dom < k)] = False
    return ok


# 2015: allowed misses per month keeping >= 27 (Feb >= 25): 31-day months 4, 30-day 3, Feb 3 -> 43
MAX_MISS_2015 = {m: calendar.monthrange(2015, m)[1] - (25 if m == 2 else 27) for m in range(1, 13)}


def test_year_324_valid_days_is_enough_323_is_not():
    d = year_days(2015)
    miss = dict(MAX_MISS_2015)  # 43 missing -> 322 valid
    assert sum(miss.values()) == 43
    miss[1] -= 2  # 41 missing -> 324 valid, every month still >= 27 (25)
    count, reason = period_capture(valid_with_missing(d, miss), d)
    assert int(count) == 324 and int(reason) == OK
    miss[1] += 1  # 42 missing -> 323
    count, reason = period_capture(valid_with_missing(d, miss), d)
    assert int(count) == 323 and int(reason) == TOO_FEW_DAYS
    assert "324" in REASONS[TOO_FEW_DAYS]


@pytest.mark.parametrize("missing, ok", [(4, True), (5, False)])
def test_31_day_month_27_valid_vs_26(missing, ok):
    d = year_days(2015)
    count, reason = period_capture(valid_with_missing(d, {3: missing}), d)  # March: 31 days
    assert int(count) == 365 - missing  # far above 324
    assert int(reason) == (OK if ok else TOO_FEW_DAYS_IN_MONTH)


@pytest.mark.parametrize("year", [2015, 2016])  # 2016: leap year, February has 29 days
@pytest.mark.parametrize("valid_feb, ok", [(25, True), (24, False)])
def test_february_25_valid_days(year, valid_feb, ok):
    d = year_days(year)
    feb_len = calendar.monthrange(year, 2)[1]
    v = valid_with_missing(d, {2: feb_len - valid_feb})
    assert v[(d >= np.datetime64(f"{year}-02-01")) & (d < np.datetime64(f"{year}-03-01"))].sum() == valid_feb
    _, reason = period_capture(v, d)
    assert int(reason) == (OK if ok else TOO_FEW_DAYS_IN_MONTH)


def test_whole_month_period_has_no_annual_rule():
    d = np.arange("2015-04-01", "2015-05-01", dtype="datetime64[D]")  # 30 days: needs 27
    for missing, expected in ((3, OK), (4, TOO_FEW_DAYS_IN_MONTH)):
        v = np.ones(30, bool)
        v[:missing] = False
        count, reason = period_capture(v, d)
        assert int(count) == 30 - missing and int(reason) == expected


@pytest.mark.parametrize(
    "start, end, need",
    [
        # PeriodRule: a part of L days of a D-day month needs L - (D - min) valid days
        ("2015-01-01", "2015-01-10", 10 - (31 - 27)),  # 6
        ("2015-02-10", "2015-02-28", 19 - (28 - 25)),  # 16
        ("2016-02-01", "2016-02-15", 15 - (29 - 25)),  # 11 (leap February)
        ("2015-06-21", "2015-06-30", 10 - (30 - 27)),  # 7
    ],
)
def test_partial_month_scaling(start, end, need):
    d = np.arange(start, np.datetime64(end) + 1, dtype="datetime64[D]")
    for n_valid, expected in ((need, OK), (need - 1, TOO_FEW_DAYS_IN_MONTH)):
        v = np.zeros(d.size, bool)
        v[:n_valid] = True
        count, reason = period_capture(v, d)
        assert int(count) == n_valid and int(reason) == expected, (start, n_valid)


def test_short_partial_month_tolerates_all_missing_but_one():
    # 3 days of a 31-day month: L - (D - 27) = -1 -> no monthly minimum; 1 valid day suffices
    d = np.arange("2015-01-29", "2015-02-01", dtype="datetime64[D]")
    assert int(period_capture(np.array([True, False, False]), d)[1]) == OK
    assert int(period_capture(np.zeros(3, bool), d)[1]) == NO_DATA


def test_period_across_months_checks_each_month():
    # 2015-03-15 .. 2015-04-10: March part 17 days needs 17 - 4 = 13, April part 10 needs 7
    d = np.arange("2015-03-15", "2015-04-11", dtype="datetime64[D]")
    v = np.ones(d.size, bool)
    v[:4] = False  # March: 13 valid -> ok
    assert int(period_capture(v, d)[1]) == OK
    v[-4:] = False  # April: 6 valid -> too few
    assert int(period_capture(v, d)[1]) == TOO_FEW_DAYS_IN_MONTH


def test_period_capture_vectorised_and_custom_rule():
    d = year_days(2015)
    v = np.stack([np.ones(365, bool), valid_with_missing(d, {1: 5})])
    count, reason = period_capture(v, d)
    assert count.tolist() == [365, 360] and reason.tolist() == [OK, TOO_FEW_DAYS_IN_MONTH]
    lax = PeriodRule(min_days_per_year=300, min_days_per_month=20, min_days_february=20)
    assert period_capture(v, d, lax)[1].tolist() == [OK, OK]
