"""GB/T 14848-2017 groundwater quality: conventional-index limits as data.

Transcribed from ``shared/reference/standards.md`` §6 (two code bases agreeing,
the pH bands from one).  Do **not** confuse with GB/T 14848-93 (e.g. total
hardness IV 550, Fe IV 1.5, Mn IV 1.0): standards.md §8 pitfall 13.

Each entry's ``limits`` are the upper limits of Classes I–IV; Class V is
"above the Class IV limit", so groundwater has no class worse than V.  A
value equal to a limit is in that class; when two classes share a limit the
better class applies (从优不从劣).  The overall class of a sampling is the
worst single-index class.

Units: mg/L except pH (dimensionless), total coliforms (MPN/100 mL, **not**
per litre as surface-water fecal coliform), total bacterial count (CFU/mL),
colour (Pt-Co degrees), turbidity (NTU), gross α/β (Bq/L).

Special cases
-------------
* ``ph``: Class I–III 6.5 ≤ pH ≤ 8.5; IV 5.5 ≤ pH < 6.5 or 8.5 < pH ≤ 9.0; V outside.
* ``las``: Class I is "未检出" (not detected).  Encoded as a Class I limit of 0:
  a below-detection value is Class I, any quantified value at least Class II.
* ``gross_alpha``/``gross_beta``: the standard gives "> limit" for both IV and V,
  so by 从优不从劣 a value above the Class III limit is Class IV (upper limit
  ``inf``); such values call for radionuclide analysis, not a worse class.

:data:`DEFAULT_GROUNDWATER_SET` is every index of :data:`TABLE` (the 33
conventional indices transcribed in standards.md §6); the organic and
non-conventional indices of GB/T 14848 Tables 1–2 are not included.  Only the
indices present in a sampling are classed; the set selects which ones may be.

Examples
--------
>>> TABLE["total_hardness"].limits
(150.0, 300.0, 450.0, 650.0)
>>> TABLE["total_coliforms"].unit
'MPN/100mL'
"""

from __future__ import annotations

import math

from envquality.water.gb3838_2002 import Limit

__all__ = ["TABLE", "DEFAULT_GROUNDWATER_SET", "PH_BANDS", "GROUNDWATER_KEYS"]

#: Groundwater pH bands: (I–III low, I–III high, IV low, IV high).
PH_BANDS = (6.5, 8.5, 5.5, 9.0)

_CLAUSE = "GB/T 14848-2017, Table 1 (conventional indices)"


def _g(key: str, zh: str, en: str, limits, *, unit: str = "mg/L", kind: str = "max", note: str = "") -> Limit:
    return Limit(key, zh, en, unit, kind, tuple(float(x) for x in limits), _CLAUSE, note)


_ROWS = [
    _g("ph", "pH", "pH", PH_BANDS, unit="1", kind="ph_gw",
       note="I–III 6.5–8.5; IV 5.5≤pH<6.5 or 8.5<pH≤9.0; V <5.5 or >9.0 (IV/V bands: 1 source)"),
    _g("total_hardness", "总硬度", "total hardness (as CaCO3)", (150, 300, 450, 650)),
    _g("tds", "溶解性总固体", "total dissolved solids", (300, 500, 1000, 2000)),
    _g("sulfate", "硫酸盐", "sulfate", (50, 150, 250, 350)),
    _g("chloride", "氯化物", "chloride", (50, 150, 250, 350)),
    _g("fe", "铁", "iron", (0.1, 0.2, 0.3, 2.0)),
    _g("mn", "锰", "manganese", (0.05, 0.05, 0.10, 1.50)),
    _g("cu", "铜", "copper", (0.01, 0.05, 1.00, 1.50)),
    _g("zn", "锌", "zinc", (0.05, 0.5, 1.00, 5.00)),
    _g("al", "铝", "aluminium", (0.01, 0.05, 0.20, 0.50)),
    _g("phenol", "挥发性酚类", "volatile phenols (as phenol)", (0.001, 0.001, 0.002, 0.01)),
    _g("las", "阴离子表面活性剂", "anionic surfactant", (0.0, 0.1, 0.3, 0.3),
       note="Class I = not detected (encoded as limit 0)"),
    _g("codmn", "耗氧量", "oxygen consumption (COD_Mn, as O2)", (1.0, 2.0, 3.0, 10.0)),
    _g("nh3n", "氨氮", "ammonia nitrogen (as N)", (0.02, 0.10, 0.50, 1.50)),
    _g("sulfide", "硫化物", "sulfide", (0.005, 0.01, 0.02, 0.10)),
    _g("na", "钠", "sodium", (100, 150, 200, 400)),
    _g("total_coliforms", "总大肠菌群", "total coliforms", (3.0, 3.0, 3.0, 100), unit="MPN/100mL"),
    _g("total_bacteria", "菌落总数", "total bacterial count", (100, 100, 100, 1000), unit="CFU/mL"),
    _g("nitrite", "亚硝酸盐", "nitrite (as N)", (0.01, 0.10, 1.00, 4.80)),
    _g("nitrate", "硝酸盐", "nitrate (as N)", (2.0, 5.0, 20.0, 30.0)),
    _g("cyanide", "氰化物", "cyanide", (0.001, 0.01, 0.05, 0.1)),
    _g("fluoride", "氟化物", "fluoride", (1.0, 1.0, 1.0, 2.0)),
    _g("iodide", "碘化物", "iodide", (0.04, 0.04, 0.08, 0.50)),
    _g("hg", "汞", "mercury", (0.0001, 0.0001, 0.001, 0.002)),
    _g("as", "砷", "arsenic", (0.001, 0.001, 0.01, 0.05)),
    _g("se", "硒", "selenium", (0.01, 0.01, 0.01, 0.1)),
    _g("cd", "镉", "cadmium", (0.0001, 0.001, 0.005, 0.01)),
    _g("cr6", "铬(六价)", "chromium (VI)", (0.005, 0.01, 0.05, 0.10)),
    _g("pb", "铅", "lead", (0.005, 0.005, 0.01, 0.10)),
    _g("color", "色", "colour", (5, 5, 15, 25), unit="度"),
    _g("turbidity", "浑浊度", "turbidity", (3, 3, 3, 10), unit="NTU"),
    _g("gross_alpha", "总α放射性", "gross alpha", (0.1, 0.1, 0.5, math.inf), unit="Bq/L",
       note="'>0.5' for both IV and V: above III is Class IV (从优不从劣)"),
    _g("gross_beta", "总β放射性", "gross beta", (0.1, 1.0, 1.0, math.inf), unit="Bq/L",
       note="'>1.0' for both IV and V: above III is Class IV (从优不从劣)"),
]

#: GB/T 14848-2017 Table 1 conventional indices, keyed by parameter.
TABLE: dict[str, Limit] = {r.key: r for r in _ROWS}

#: Indices that may form a groundwater class by default (all of :data:`TABLE`).
DEFAULT_GROUNDWATER_SET: tuple[str, ...] = tuple(TABLE)

GROUNDWATER_KEYS = DEFAULT_GROUNDWATER_SET
