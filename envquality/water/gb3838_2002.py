"""GB 3838-2002 limit tables as data, and the 2011 assessment-method item sets.

Table 1 (basic items, GB 3838-2002 §4, Table 1) and Table 2 (supplementary
items for centralized drinking-water surface sources, §4, Table 2), as
transcribed in ``shared/reference/standards.md`` §5.2–§5.3 (official text,
cross-checked with two code bases).  Limits are in the unit named in each
entry: mg/L unless stated; pH dimensionless; fecal coliform in count per
litre (个/L); water temperature in °C.

Item sets
---------
:data:`ASSESSED_2011`
    The 21 items of 地表水环境质量评价办法（试行） (环办〔2011〕22号, standards.md
    §5.4): Table 1 minus water temperature, total nitrogen and fecal coliform.
:data:`ASSESSED_DRINKING`
    Those 21 minus COD (20 items): the class of a drinking-water source in the
    monthly source reports (standards.md §5.5, Hunan EEB practice).  COD can be
    put back with ``include_cod=True`` in the classifiers.
:data:`REFERENCE_ITEMS`
    Reported but never used for the class: ``temp``, ``tn`` (lakes and
    reservoirs only; ignored for rivers), ``fecal_coliform``.

Examples
--------
>>> TABLE1["nh3n"].limits
(0.15, 0.5, 1.0, 1.5, 2.0)
>>> TABLE1["do"].kind, TABLE1["do"].limits[0]
('min', 7.5)
>>> TABLE1_LAKE_TP.limits
(0.01, 0.025, 0.05, 0.1, 0.2)
>>> len(ASSESSED_2011), len(ASSESSED_DRINKING)
(21, 20)
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "Limit", "TABLE1", "TABLE1_LAKE_TP", "TABLE2", "ASSESSED_2011", "ASSESSED_DRINKING",
    "REFERENCE_ITEMS", "SURFACE_KEYS", "DO_CLASS_I", "PH_RANGE", "CLASS_LABELS",
]

#: Class labels, index = class number (6 = worse than Class V, 劣Ⅴ).
CLASS_LABELS: dict[int, str] = {1: "I", 2: "II", 3: "III", 4: "IV", 5: "V", 6: "劣V"}

#: DO Class I threshold [mg/L].  The standard writes "饱和率90%（或7.5）"; the
#: 7.5 mg/L alternative is used because saturation needs water temperature,
#: salinity and pressure that source reports rarely carry (docs/water.md).
DO_CLASS_I = 7.5

#: pH range of all classes, GB 3838-2002 Table 1 item 2 (dimensionless).
PH_RANGE = (6.0, 9.0)


@dataclass(frozen=True)
class Limit:
    """One item of a limit table.

    Attributes
    ----------
    key : str
        Parameter key used throughout :mod:`envquality.water`.
    name_zh, name_en : str
        Names as the standard (Chinese) and reports (English) write them.
    unit : str
        Canonical unit of values and limits (``mg/L``, ``1`` for pH, ``个/L``,
        ``MPN/100mL``, ``°C`` ...).
    kind : str
        ``"max"`` (value ≤ limit passes), ``"min"`` (value ≥ limit passes,
        dissolved oxygen), ``"range"`` (pH, ``limits`` = (low, high)),
        ``"ph_gw"`` (groundwater pH bands), ``"single"`` (one pass/fail limit,
        GB 3838 Table 2) or ``"none"`` (no numeric limit, water temperature).
    limits : tuple of float
        Upper (``max``) or lower (``min``) limits of Class I, II, III, IV, V
        (GB 3838) or I–IV (GB/T 14848, Class V being "above IV").
    clause : str
        Where the numbers come from.
    note : str
        Anything a reader must know (shared limits, exclusions).
    """

    key: str
    name_zh: str
    name_en: str
    unit: str
    kind: str
    limits: tuple[float, ...]
    clause: str
    note: str = ""


def _t1(item: int, key: str, zh: str, en: str, limits, *, kind: str = "max", unit: str = "mg/L",
        note: str = "") -> Limit:
    return Limit(key, zh, en, unit, kind, tuple(float(x) for x in limits),
                 f"GB 3838-2002 §4, Table 1, item {item}", note)


_T1 = [
    Limit("temp", "水温", "water temperature", "°C", "none", (),
          "GB 3838-2002 §4, Table 1, item 1",
          "limit is on man-made change (weekly mean max rise ≤ 1, drop ≤ 2 °C); reference item, "
          "not used for the class (环办〔2011〕22号)"),
    _t1(2, "ph", "pH值", "pH", PH_RANGE, kind="range", unit="1",
        note="6–9 for all classes; outside → 劣V (convention, standards.md §5.2)"),
    _t1(3, "do", "溶解氧", "dissolved oxygen", (DO_CLASS_I, 6, 5, 3, 2), kind="min",
        note="higher is better (≥); Class I '90% saturation (or 7.5)': 7.5 mg/L used"),
    _t1(4, "codmn", "高锰酸盐指数", "permanganate index (COD_Mn)", (2, 4, 6, 10, 15)),
    _t1(5, "cod", "化学需氧量", "chemical oxygen demand (COD_Cr)", (15, 15, 20, 30, 40),
        note="I = II = 15; not in the drinking-source class by default (standards.md §5.5)"),
    _t1(6, "bod5", "五日生化需氧量", "BOD5", (3, 3, 4, 6, 10)),
    _t1(7, "nh3n", "氨氮", "ammonia nitrogen (NH3-N)", (0.15, 0.5, 1.0, 1.5, 2.0)),
    _t1(8, "tp", "总磷", "total phosphorus (as P)", (0.02, 0.1, 0.2, 0.3, 0.4),
        note="rivers; lakes and reservoirs use TABLE1_LAKE_TP"),
    _t1(9, "tn", "总氮", "total nitrogen (as N)", (0.2, 0.5, 1.0, 1.5, 2.0),
        note="lakes and reservoirs only; reference item, not used for the class"),
    _t1(10, "cu", "铜", "copper", (0.01, 1.0, 1.0, 1.0, 1.0)),
    _t1(11, "zn", "锌", "zinc", (0.05, 1.0, 1.0, 2.0, 2.0)),
    _t1(12, "fluoride", "氟化物", "fluoride (as F-)", (1.0, 1.0, 1.0, 1.5, 1.5)),
    _t1(13, "se", "硒", "selenium", (0.01, 0.01, 0.01, 0.02, 0.02)),
    _t1(14, "as", "砷", "arsenic", (0.05, 0.05, 0.05, 0.1, 0.1)),
    _t1(15, "hg", "汞", "mercury", (0.00005, 0.00005, 0.0001, 0.001, 0.001)),
    _t1(16, "cd", "镉", "cadmium", (0.001, 0.005, 0.005, 0.005, 0.01)),
    _t1(17, "cr6", "铬(六价)", "chromium (VI)", (0.01, 0.05, 0.05, 0.05, 0.1)),
    _t1(18, "pb", "铅", "lead", (0.01, 0.01, 0.05, 0.05, 0.1)),
    _t1(19, "cyanide", "氰化物", "cyanide", (0.005, 0.05, 0.2, 0.2, 0.2)),
    _t1(20, "phenol", "挥发酚", "volatile phenol", (0.002, 0.002, 0.005, 0.01, 0.1)),
    _t1(21, "petroleum", "石油类", "petroleum", (0.05, 0.05, 0.05, 0.5, 1.0)),
    _t1(22, "las", "阴离子表面活性剂", "anionic surfactant (LAS)", (0.2, 0.2, 0.2, 0.3, 0.3)),
    _t1(23, "sulfide", "硫化物", "sulfide", (0.05, 0.1, 0.2, 0.5, 1.0)),
    _t1(24, "fecal_coliform", "粪大肠菌群", "fecal coliform", (200, 2000, 10000, 20000, 40000),
        unit="个/L", note="count per litre; reference item, not used for the class (环办〔2011〕22号)"),
]

#: GB 3838-2002 Table 1, keyed by parameter (total phosphorus: rivers).
TABLE1: dict[str, Limit] = {lim.key: lim for lim in _T1}

#: Total phosphorus for lakes and reservoirs, GB 3838-2002 Table 1 item 8 (湖、库).
TABLE1_LAKE_TP = _t1(8, "tp", "总磷(湖、库)", "total phosphorus (as P), lakes/reservoirs",
                     (0.01, 0.025, 0.05, 0.1, 0.2))


def _t2(key: str, zh: str, en: str, limit: float) -> Limit:
    return Limit(key, zh, en, "mg/L", "single", (float(limit),), "GB 3838-2002 §4, Table 2")


#: GB 3838-2002 Table 2, supplementary items of centralized drinking-water surface sources.
TABLE2: dict[str, Limit] = {lim.key: lim for lim in [
    _t2("sulfate", "硫酸盐", "sulfate (as SO4)", 250),
    _t2("chloride", "氯化物", "chloride (as Cl)", 250),
    _t2("nitrate", "硝酸盐", "nitrate (as N)", 10),
    _t2("fe", "铁", "iron", 0.3),
    _t2("mn", "锰", "manganese", 0.1),
]}

#: Reference items of the 2011 method: reported, never used for the class.
REFERENCE_ITEMS: tuple[str, ...] = ("temp", "tn", "fecal_coliform")

#: The 21 class-forming items of 环办〔2011〕22号 (Table 1 minus REFERENCE_ITEMS).
ASSESSED_2011: tuple[str, ...] = tuple(k for k in TABLE1 if k not in REFERENCE_ITEMS)

#: The 20 class-forming items for drinking-water sources (ASSESSED_2011 minus COD), standards.md §5.5.
ASSESSED_DRINKING: tuple[str, ...] = tuple(k for k in ASSESSED_2011 if k != "cod")

#: Every surface-water parameter key (Table 1 and Table 2).
SURFACE_KEYS: tuple[str, ...] = tuple(TABLE1) + tuple(TABLE2)
