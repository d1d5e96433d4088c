"""GB 3095-2026 Ambient Air Quality Standard (issued 2026-02-13).

Data only: Class 2 limits of Table 1 in their transition form (2026-03-01 to
2030-12-31) and final form (from 2031-01-01), and Table 4 validity rules,
which are unchanged from GB 3095-2012.
"""

from __future__ import annotations

import datetime as _dt

from envquality.standards import gb3095_2012 as _prev

NAME = "GB3095-2026"

#: Class 2 limits, GB 3095-2026 Table 1, transition column (to 2030-12-31).
CLASS2_LIMITS_TRANSITION: dict[tuple[str, str], float] = {
    **_prev.CLASS2_LIMITS,
    ("pm10", "annual"): 60, ("pm10", "24h"): 120,
    ("pm25", "annual"): 30, ("pm25", "24h"): 60,
}

#: Class 2 limits, GB 3095-2026 Table 1, final column (from 2031-01-01).
CLASS2_LIMITS_FINAL: dict[tuple[str, str], float] = {
    ("so2", "annual"): 20, ("so2", "24h"): 50, ("so2", "1h"): 150,
    ("no2", "annual"): 30, ("no2", "24h"): 50, ("no2", "1h"): 200,
    ("co", "24h"): 4, ("co", "1h"): 10,
    ("o3", "8h"): 160, ("o3", "1h"): 200,
    ("pm10", "annual"): 50, ("pm10", "24h"): 100,
    ("pm25", "annual"): 25, ("pm25", "24h"): 50,
}

#: First day of the final limits (RuleSet.class2_limits_on chooses by date).
FINAL_LIMITS_FROM = _dt.date(2031, 1, 1)

#: Default Class 2 limits in force while the transition lasts.
CLASS2_LIMITS = CLASS2_LIMITS_TRANSITION

#: GB 3095-2026 Table 4: unchanged from GB 3095-2012.
TABLE4 = _prev.TABLE4
