"""Limits of the standards, typed again from the standards' text for the tests.

Nothing here is imported from ``envquality``: a test that took its expected
values from the package's own tables would only check the package against
itself.  Every table below was typed from /work/shared/reference/standards.md
(which quotes the official texts); the section is named beside each table.
``tests/water/test_reference_tables.py`` compares the package's tables with
these, so a typo on either side fails a test.

Units: air in µg/m³ except CO in mg/m³; water in mg/L unless stated.
"""

from __future__ import annotations

import math

# --------------------------------------------------------------------------- HJ 633 (air quality index)
#: IAQI at the breakpoints (first column of HJ 633-2012 Table 1).
IAQI_NODES: tuple[int, ...] = (0, 50, 100, 150, 200, 300, 400, 500)

#: HJ 633-2012 Table 1 (standards.md §1.1): concentration at each IAQI node.
#: SO2 1-h stops at 800 (footnote 2) and O3 8-h at 800 (footnote 3).
HJ633_2012: dict[str, tuple[int, ...]] = {
    "so2_24h": (0, 50, 150, 475, 800, 1600, 2100, 2620),
    "so2_1h": (0, 150, 500, 650, 800),
    "no2_24h": (0, 40, 80, 180, 280, 565, 750, 940),
    "no2_1h": (0, 100, 200, 700, 1200, 2340, 3090, 3840),
    "pm10_24h": (0, 50, 150, 250, 350, 420, 500, 600),
    "co_24h": (0, 2, 4, 14, 24, 36, 48, 60),
    "co_1h": (0, 5, 10, 35, 60, 90, 120, 150),
    "o3_1h": (0, 160, 200, 300, 400, 800, 1000, 1200),
    "o3_8h": (0, 100, 160, 215, 265, 800),
    "pm25_24h": (0, 35, 75, 115, 150, 250, 350, 500),
}

#: HJ 633-2026 Table 1 (standards.md §1.4): only the PM columns change, at IAQI 100.
HJ633_2026: dict[str, tuple[int, ...]] = {
    **HJ633_2012,
    "pm10_24h": (0, 50, 120, 250, 350, 420, 500, 600),
    "pm25_24h": (0, 35, 60, 115, 150, 250, 350, 500),
}

# --------------------------------------------------------------------------- GB 3838-2002 (surface water)
#: GB 3838-2002 Table 1 (standards.md §5.2), "≤" items: limits of classes I–V.
#: Total phosphorus here is the river column; lakes and reservoirs: :data:`GB3838_TP_LAKE`.
GB3838_MAX: dict[str, tuple[float, ...]] = {
    "codmn": (2, 4, 6, 10, 15),
    "cod": (15, 15, 20, 30, 40),
    "bod5": (3, 3, 4, 6, 10),
    "nh3n": (0.15, 0.5, 1.0, 1.5, 2.0),
    "tp": (0.02, 0.1, 0.2, 0.3, 0.4),
    "tn": (0.2, 0.5, 1.0, 1.5, 2.0),
    "cu": (0.01, 1.0, 1.0, 1.0, 1.0),
    "zn": (0.05, 1.0, 1.0, 2.0, 2.0),
    "fluoride": (1.0, 1.0, 1.0, 1.5, 1.5),
    "se": (0.01, 0.01, 0.01, 0.02, 0.02),
    "as": (0.05, 0.05, 0.05, 0.1, 0.1),
    "hg": (0.00005, 0.00005, 0.0001, 0.001, 0.001),
    "cd": (0.001, 0.005, 0.005, 0.005, 0.01),
    "cr6": (0.01, 0.05, 0.05, 0.05, 0.1),
    "pb": (0.01, 0.01, 0.05, 0.05, 0.1),
    "cyanide": (0.005, 0.05, 0.2, 0.2, 0.2),
    "phenol": (0.002, 0.002, 0.005, 0.01, 0.1),
    "petroleum": (0.05, 0.05, 0.05, 0.5, 1.0),
    "las": (0.2, 0.2, 0.2, 0.3, 0.3),
    "sulfide": (0.05, 0.1, 0.2, 0.5, 1.0),
    "fecal_coliform": (200, 2000, 10000, 20000, 40000),  # count per litre
}

#: Total phosphorus of lakes and reservoirs, GB 3838-2002 Table 1 item 8 (湖、库).
GB3838_TP_LAKE: tuple[float, ...] = (0.01, 0.025, 0.05, 0.1, 0.2)

#: Dissolved oxygen, the one "≥" item: classes I–V (Class I "90 % saturation (or 7.5)").
GB3838_DO_MIN: tuple[float, ...] = (7.5, 6, 5, 3, 2)

#: pH, all classes: 6–9 (dimensionless).
GB3838_PH: tuple[float, float] = (6, 9)

#: Reference items assessed apart from the class (环办〔2011〕22号, standards.md §5.4).
GB3838_REFERENCE_ITEMS: frozenset[str] = frozenset({"temp", "tn", "fecal_coliform"})

#: GB 3838-2002 Table 2 (standards.md §5.3): supplementary items of drinking-water sources, single limit.
GB3838_TABLE2: dict[str, float] = {
    "sulfate": 250,
    "chloride": 250,
    "nitrate": 10,
    "fe": 0.3,
    "mn": 0.1,
}

# --------------------------------------------------------------------------- GB/T 14848-2017 (groundwater)
#: GB/T 14848-2017 Table 1 (standards.md §6), "≤" indices: upper limits of classes I–IV
#: (Class V: above the Class IV limit).  Gross α and β have no Class IV upper limit
#: ("> 0.5" / "> 1.0" is Class IV), written as infinity.
GBT14848_MAX: dict[str, tuple[float, ...]] = {
    "total_hardness": (150, 300, 450, 650),
    "tds": (300, 500, 1000, 2000),
    "sulfate": (50, 150, 250, 350),
    "chloride": (50, 150, 250, 350),
    "fe": (0.1, 0.2, 0.3, 2.0),
    "mn": (0.05, 0.05, 0.10, 1.50),
    "cu": (0.01, 0.05, 1.00, 1.50),
    "zn": (0.05, 0.5, 1.00, 5.00),
    "al": (0.01, 0.05, 0.20, 0.50),
    "phenol": (0.001, 0.001, 0.002, 0.01),
    "codmn": (1.0, 2.0, 3.0, 10.0),
    "nh3n": (0.02, 0.10, 0.50, 1.50),
    "sulfide": (0.005, 0.01, 0.02, 0.10),
    "na": (100, 150, 200, 400),
    "total_coliforms": (3.0, 3.0, 3.0, 100),  # MPN/100 mL
    "total_bacteria": (100, 100, 100, 1000),  # CFU/mL
    "nitrite": (0.01, 0.10, 1.00, 4.80),
    "nitrate": (2.0, 5.0, 20.0, 30.0),
    "cyanide": (0.001, 0.01, 0.05, 0.1),
    "fluoride": (1.0, 1.0, 1.0, 2.0),
    "iodide": (0.04, 0.04, 0.08, 0.50),
    "hg": (0.0001, 0.0001, 0.001, 0.002),
    "as": (0.001, 0.001, 0.01, 0.05),
    "se": (0.01, 0.01, 0.01, 0.1),
    "cd": (0.0001, 0.001, 0.005, 0.01),
    "cr6": (0.005, 0.01, 0.05, 0.10),
    "pb": (0.005, 0.005, 0.01, 0.10),
    "color": (5, 5, 15, 25),  # Pt-Co units
    "turbidity": (3, 3, 3, 10),  # NTU
    "gross_alpha": (0.1, 0.1, 0.5, math.inf),  # Bq/L
    "gross_beta": (0.1, 1.0, 1.0, math.inf),  # Bq/L
}

#: Anionic surfactant: Class I "not detected", then ≤ 0.1 / 0.3 / 0.3.
GBT14848_LAS: tuple[float, ...] = (0.0, 0.1, 0.3, 0.3)


def class_of_max(limits: tuple[float, ...], value: float) -> int:
    """Class of a "≤" item: the first class whose limit holds ``value`` (1-based).

    Shared limits give the better class (GB/T 14848 §6.2; the same convention
    for GB 3838).  Above the last limit: one class past it (劣V for surface
    water, V for groundwater).
    """
    for k, limit in enumerate(limits, start=1):
        if value <= limit:
            return k
    return len(limits) + 1
