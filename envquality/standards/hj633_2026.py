"""HJ 633-2026 Technical Regulation on Ambient Air Quality Index.

Data only: IAQI breakpoints (HJ 633-2026 Table 1) and special rules.  Only the
PM10 and PM2.5 columns differ from HJ 633-2012 (IAQI 100 at 120 and 60
µg/m³).  In force for data dated on or after 2026-03-01.
"""

from __future__ import annotations

from envquality.standards import hj633_2012 as _prev

NAME = "HJ633-2026"

IAQI_NODES = _prev.IAQI_NODES

BREAKPOINTS: dict[str, tuple[float, ...]] = {
    **_prev.BREAKPOINTS,
    "pm10_24h": (0, 50, 120, 250, 350, 420, 500, 600),
    "pm25_24h": (0, 35, 60, 115, 150, 250, 350, 500),
}

#: HJ 633-2026 Table 1 notes: SO2 1-h above 800 -> IAQI 200;
#: O3 8-h above 800 -> IAQI 300.
ABOVE_TABLE: dict[str, int | None] = {
    "so2_1h": 200,
    "o3_8h": 300,
}

#: Daily report (HJ 633-2026 §4.1): six indicators; the O3 1-h maximum is no
#: longer part of the daily AQI.
DAILY_INDICATORS: tuple[str, ...] = (
    "so2_24h", "no2_24h", "pm10_24h", "co_24h", "pm25_24h", "o3_8h",
)

#: Hourly AQI: six 1-h values, PM against the daily columns (§4.2.3).
HOURLY_COLUMNS = dict(_prev.HOURLY_COLUMNS)

