"""Targets of Gansu's 2017 quality-improvement plan tracked by envquality."""

#: The 14 divisions' average share of good-air days (daily AQI ≤ 100) [%].
GOOD_DAY_RATIO_TARGET = 82.0
#: Share of county-level-and-above centralized drinking-water sources with
#: good quality (Class I–III) [%].
DRINKING_WATER_TARGET = 96.85
