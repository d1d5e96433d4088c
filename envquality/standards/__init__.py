"""National air-quality standards as pure array computations.

HJ 633 (AQI), GB 3095 (limits and validity) and HJ 663 (assessment), in
their 2012/2013 and 2026 generations; see :mod:`envquality.standards.rulesets`.
"""

from envquality.standards.aqi import (
    LEVELS,
    POLLUTANT_COLUMNS,
    PRIMARY_LABELS,
    AQIResult,
    aqi_level,
    daily_aqi,
    hourly_aqi,
    iaqi,
    iaqi_table,
)
from envquality.standards.rounding import round_half_even, round_half_even_exact
from envquality.standards.rulesets import (
    RULESET_2012,
    RULESET_2026,
    SWITCH_DATE,
    RuleSet,
    get_ruleset,
    ruleset_codes_for_days,
    ruleset_for,
)

__all__ = [
    "LEVELS", "POLLUTANT_COLUMNS", "PRIMARY_LABELS", "AQIResult", "aqi_level",
    "daily_aqi", "hourly_aqi", "iaqi", "iaqi_table", "round_half_even",
    "round_half_even_exact", "RULESET_2012", "RULESET_2026", "SWITCH_DATE",
    "RuleSet", "get_ruleset", "ruleset_codes_for_days", "ruleset_for",
]
