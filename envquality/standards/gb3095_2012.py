"""GB 3095-2012 Ambient Air Quality Standard (with the 2018 amendment).

Data only: Class 2 concentration limits (Table 1) and data-validity rules
(Table 4).  Concentrations in µg/m³ except CO in mg/m³.
"""

from __future__ import annotations

NAME = "GB3095-2012"

#: Class 2 limits, GB 3095-2012 Table 1: (pollutant, averaging) -> limit.
CLASS2_LIMITS: dict[tuple[str, str], float] = {
    ("so2", "annual"): 60, ("so2", "24h"): 150, ("so2", "1h"): 500,
    ("no2", "annual"): 40, ("no2", "24h"): 80, ("no2", "1h"): 200,
    ("co", "24h"): 4, ("co", "1h"): 10,
    ("o3", "8h"): 160, ("o3", "1h"): 200,
    ("pm10", "annual"): 70, ("pm10", "24h"): 150,
    ("pm25", "annual"): 35, ("pm25", "24h"): 75,
}

#: Class 1 limits, GB 3095-2012 Table 1.
CLASS1_LIMITS: dict[tuple[str, str], float] = {
    ("so2", "annual"): 20, ("so2", "24h"): 50, ("so2", "1h"): 150,
    ("no2", "annual"): 40, ("no2", "24h"): 80, ("no2", "1h"): 200,
    ("co", "24h"): 4, ("co", "1h"): 10,
    ("o3", "8h"): 100, ("o3", "1h"): 160,
    ("pm10", "annual"): 40, ("pm10", "24h"): 50,
    ("pm25", "annual"): 15, ("pm25", "24h"): 35,
}

# GB 3095-2012 Table 4 (data validity)
#: 24-h mean: at least 20 hourly means in the day.
MIN_HOURS_PER_DAY = 20
#: 8-h mean: at least 6 hourly means in the 8-h window.
MIN_HOURS_PER_8H = 6
#: Annual mean: at least 324 daily means in the year ...
MIN_DAYS_PER_YEAR = 324
#: ... and at least 27 in every month (25 in February).
MIN_DAYS_PER_MONTH = 27
MIN_DAYS_FEBRUARY = 25
