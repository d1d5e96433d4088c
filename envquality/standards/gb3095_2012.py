"""GB 3095-2012 Ambient Air Quality Standard (with the 2018 amendment).

Data only: Class 2 concentration limits (Table 1) and data-validity rules
(Table 4).  Concentrations in µg/m³ except CO in mg/m³.
"""

from __future__ import annotations

from dataclasses import dataclass

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

@dataclass(frozen=True)
class DataCapture:
    """GB 3095 Table 4: the least data an average needs to be valid."""

    #: 24-h mean: at least this many hourly means in the day.
    min_hours_per_day: int
    #: 8-h mean: at least this many hourly means in the 8-h window.
    min_hours_per_8h: int
    #: Annual mean: at least this many daily means in the year ...
    min_days_per_year: int
    #: ... and at least this many in every month ...
    min_days_per_month: int
    #: ... but this many in February.
    min_days_february: int


#: GB 3095-2012 Table 4 (data validity); the one place these numbers are typed.
TABLE4 = DataCapture(min_hours_per_day=20, min_hours_per_8h=6, min_days_per_year=324,
                     min_days_per_month=27, min_days_february=25)
