"""Rule-set selection by date and by name (standards.md §0, §8.1)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from envquality.standards import (
    RULESET_2012,
    RULESET_2026,
    SWITCH_DATE,
    RuleSet,
    daily_aqi,
    get_ruleset,
    iaqi,
    ruleset_codes_for_days,
    ruleset_for,
)


def test_switch_date_is_2026_03_01():
    # GB 3095-2026, HJ 633-2026 and HJ 663-2026 all took effect on 2026-03-01
    assert SWITCH_DATE == dt.date(2026, 3, 1)


def _generation(rs: RuleSet) -> tuple[str, str, str]:
    return rs.aqi_standard, rs.ambient_standard, rs.assessment_standard


OLD = ("HJ633-2012", "GB3095-2012", "HJ663-2013")
NEW = ("HJ633-2026", "GB3095-2026", "HJ663-2026")

DATE_CASES = [
    ("2016-01-01", OLD),
    ("2025-12-31", OLD),
    ("2026-02-28", OLD),
    ("2026-03-01", NEW),
    ("2026-03-02", NEW),
    ("2031-01-01", NEW),
]


@pytest.mark.parametrize(("day", "expected"), DATE_CASES, ids=[c[0] for c in DATE_CASES])
@pytest.mark.parametrize(
    "form",
    [str, dt.date.fromisoformat, np.datetime64, lambda s: dt.datetime.fromisoformat(s + "T23:59:59")],
    ids=["str", "date", "datetime64", "datetime-late"],
)
def test_ruleset_for_by_date(day, expected, form):
    assert _generation(ruleset_for(form(day))) == expected


def test_ruleset_for_last_minute_before_switch():
    assert ruleset_for(np.datetime64("2026-02-28T23:59")) is RULESET_2012
    assert ruleset_for("2026-02-28T23:59") is RULESET_2012
    assert ruleset_for(dt.datetime(2026, 3, 1, 0, 0)) is RULESET_2026


def test_ruleset_codes_for_days_vectorized():
    days = np.array(["2025-06-01", "2026-02-28", "2026-03-01", "2027-01-01"], dtype="datetime64[D]")
    codes = ruleset_codes_for_days(days)
    assert codes.tolist() == [0, 0, 1, 1]
    # codes agree with the scalar selection and accept other datetime units and lists
    assert [ruleset_for(d) for d in days] == [(RULESET_2012, RULESET_2026)[c] for c in codes]
    hours = np.array(["2026-02-28T23:00", "2026-03-01T00:00"], dtype="datetime64[h]")
    assert ruleset_codes_for_days(hours).tolist() == [0, 1]
    assert ruleset_codes_for_days(["2026-02-28", "2026-03-01"]).tolist() == [0, 1]
    assert ruleset_codes_for_days(days.reshape(2, 2)).shape == (2, 2)


def test_period_straddling_the_switch_is_computed_day_by_day():
    # PM2.5 80 each day: 107 (2012 table) on Feb 28, 119 (2026 table) on Mar 1
    days = np.array(["2026-02-27", "2026-02-28", "2026-03-01", "2026-03-02"], dtype="datetime64[D]")
    got = [iaqi("pm25_24h", 80, standard=ruleset_for(d).aqi_standard) for d in days]
    assert got == [107, 107, 119, 119]


ALIASES_2012 = ["2012", "HJ633-2012", "hj633-2012", "HJ 633-2012", "GB3095-2012", "GB 3095-2012", "HJ663-2013"]
ALIASES_2026 = ["2026", "HJ633-2026", "hj 633-2026", "GB3095-2026", "HJ663-2026"]


@pytest.mark.parametrize("name", ALIASES_2012)
def test_aliases_2012(name):
    assert get_ruleset(name) is RULESET_2012
    assert iaqi("pm25_24h", 80, standard=name) == 107


@pytest.mark.parametrize("name", ALIASES_2026)
def test_aliases_2026(name):
    assert get_ruleset(name) is RULESET_2026
    assert iaqi("pm25_24h", 80, standard=name) == 119


def test_ruleset_instance_passes_through():
    assert get_ruleset(RULESET_2026) is RULESET_2026
    assert float(daily_aqi({"pm25_24h": 80}, standard=RULESET_2026).aqi) == 119


@pytest.mark.parametrize("name", ["HJ633-2020", "2013", "", "HJ633", "GB 3838-2002", None])
def test_unknown_standard_raises_clear_value_error(name):
    with pytest.raises(ValueError) as exc:
        get_ruleset(name)
    msg = str(exc.value)
    assert "unknown standard" in msg and repr(name) in msg
    assert "HJ633-2012" in msg and "HJ633-2026" in msg  # tells the user what is accepted


def test_unknown_standard_through_public_functions():
    with pytest.raises(ValueError, match="unknown standard"):
        iaqi("pm25_24h", 80, standard="HJ633-2020")
    with pytest.raises(ValueError, match="unknown standard"):
        daily_aqi({"pm25_24h": 80}, standard="HJ633-2020")


def test_unknown_pollutant_column_raises():
    with pytest.raises(ValueError, match="unknown pollutant column 'pm25'"):
        iaqi("pm25", 80)
    with pytest.raises(ValueError, match="unknown pollutant column"):
        iaqi("co_8h", 1.0, standard="HJ633-2026")


def test_generation_flags():
    # exceeding pollutants exist only in HJ 633-2012; the §5.3 missing rule is in 2026 and,
    # by envquality's documented choice, applied to the silent 2012 generation too
    assert RULESET_2012.exceeding_pollutants and not RULESET_2026.exceeding_pollutants
    assert RULESET_2026.missing_pollutant_rule and RULESET_2012.missing_pollutant_rule
    assert "o3_1h" in RULESET_2012.daily_indicators and "o3_1h" not in RULESET_2026.daily_indicators
