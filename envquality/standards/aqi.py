"""Individual and overall Air Quality Index (HJ 633-2012 / HJ 633-2026).

Pure array computation: concentrations in, index values out.  No I/O.

Exactness
---------
HJ 633-2012 §6.2 and HJ 633-2026 §4.2.6 round every IAQI **up** to an
integer; HJ 633-2026 §4.2.2 rounds input concentrations once, half to even
(GB/T 8170), to integer µg/m³ (CO: 0.1 mg/m³).  After that rounding every
input is an integer number of units (tenths for CO), so each IAQI is a
rational number whose ceiling is computed here in integer arithmetic, once
per possible concentration, into a lookup table.  Evaluating an array is then
a rounding step and a table gather: exact (CO 2.2 mg/m³ -> 55, where naive
floating point gives 56) and fast.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Mapping

import numpy as np
import numpy.typing as npt
import pandas as pd

from envquality.standards.rulesets import RuleSet, get_ruleset

__all__ = [
    "POLLUTANT_COLUMNS", "iaqi", "iaqi_table", "aqi_level", "AQIResult",
    "hourly_aqi", "daily_aqi", "LEVELS", "PRIMARY_LABELS",
]

#: IAQI columns of HJ 633 Table 1 accepted by :func:`iaqi`.
POLLUTANT_COLUMNS: tuple[str, ...] = (
    "so2_24h", "so2_1h", "no2_24h", "no2_1h", "pm10_24h",
    "co_24h", "co_1h", "o3_1h", "o3_8h", "pm25_24h",
)

#: Decimal places kept when rounding the input (HJ 633-2026 §4.2.2).
DECIMALS: dict[str, int] = {c: (1 if c.startswith("co") else 0) for c in POLLUTANT_COLUMNS}

_CHUNK = 1 << 15  # elements per block: temporaries stay in L2 cache


def _like(template: Any, values: np.ndarray) -> Any:
    """``values`` in the container of ``template``: Series in → Series out (same index and
    name), DataArray in → DataArray out (same dims and coords), as pvlib and MetPy do;
    otherwise the ndarray (a float for a scalar)."""
    if isinstance(template, pd.Series) and values.shape == template.shape:
        return pd.Series(values, index=template.index, name=template.name)
    if type(template).__name__ == "DataArray" and values.shape == np.shape(template):
        return template.copy(data=values)  # xarray.DataArray, without importing xarray here
    if values.ndim == 0:
        return float(values)
    return values


@dataclass(frozen=True)
class _Table:
    lut: np.ndarray  # float64; [0] invalid -> NaN, [i+1] IAQI at i units, [-1] above table
    scale: float  # units per input unit (10 for CO: tenths of mg/m³)
    top: int  # last breakpoint in units


@lru_cache(maxsize=None)
def _table(column: str, standard: str) -> _Table:
    rs = get_ruleset(standard)
    if column not in POLLUTANT_COLUMNS:
        raise ValueError(
            f"unknown pollutant column {column!r}; expected one of {', '.join(POLLUTANT_COLUMNS)}"
        )
    scale = 10 ** DECIMALS[column]
    bps = [round(b * scale) for b in rs.breakpoints[column]]
    nodes = rs.iaqi_nodes[: len(bps)]
    top = bps[-1]
    c = np.arange(top + 1, dtype=np.int64)
    seg = np.clip(np.searchsorted(bps, c, side="right") - 1, 0, len(bps) - 2)
    bl, bh = np.asarray(bps)[seg], np.asarray(bps)[seg + 1]
    il, ih = np.asarray(nodes)[seg], np.asarray(nodes)[seg + 1]
    # ceil(a / b) = -((-a) // b) in exact integer arithmetic (HJ 633 §6.2 rounds up)
    num = (ih - il) * (c - bl)
    values = il + -((-num) // (bh - bl))
    above = rs.above_table.get(column, 500)
    lut = np.empty(top + 3, dtype=np.float64)
    lut[0] = np.nan
    lut[1:-1] = values
    lut[-1] = np.nan if above is None else above
    lut.setflags(write=False)
    return _Table(lut, float(scale), top)


def iaqi_table(pollutant: str, *, standard: str = "HJ633-2012") -> np.ndarray:
    """IAQI for every representable rounded concentration 0, 1, … (or 0.0, 0.1, … for CO).

    Index ``i`` holds the IAQI of ``i`` µg/m³ (``i/10`` mg/m³ for CO), up to
    the last breakpoint of HJ 633 Table 1.  Useful for audits and plots.

    References
    ----------
    .. [1] HJ 633-2012 §5 Table 1 and §6.2 formula (1); HJ 633-2026 Table 1, §4.2.6.
    """
    return _table(pollutant, get_ruleset(standard).aqi_standard).lut[1:-1].copy()


def iaqi(
    pollutant: str,
    concentration: npt.ArrayLike,
    *,
    standard: str = "HJ633-2012",
    rounded: bool = False,
) -> Any:
    """Individual air quality index (IAQI) of one pollutant column.

    HJ 633-2012 §5 Table 1 and §6.2 (formula (1), rounding up);
    HJ 633-2026 Table 1, §4.2.2 (input rounding) and §4.2.6.

    Parameters
    ----------
    pollutant : str
        Column of HJ 633 Table 1: ``so2_24h so2_1h no2_24h no2_1h pm10_24h
        co_24h co_1h o3_1h o3_8h pm25_24h``.
    concentration : float or array_like
        [µg/m³]; CO in [mg/m³].  NaN means missing.
    standard : {"HJ633-2012", "HJ633-2026"}
        Breakpoint table and special rules.
    rounded : bool
        Set if the input is already rounded per GB/T 8170 (skips that step).

    Returns
    -------
    float, numpy.ndarray, pandas.Series or xarray.DataArray of float64
        The input's type and index (a Series in gives a Series with its
        index, a DataArray its dims and coords; a scalar gives a float).
        Integer-valued IAQI.  NaN where the standard defines none: missing
        or negative input, and under HJ 633-2012 SO2 1-h above 800 µg/m³
        (the SO2 24-h IAQI decides) and O3 8-h above 800 µg/m³ (the O3 1-h
        IAQI decides).  Under HJ 633-2026 those two give 200 and 300.  Above
        the last breakpoint of other columns: 500.

    Examples
    --------
    >>> float(iaqi("co_24h", 2.2))
    55.0
    >>> iaqi("pm25_24h", [36, 80, 600], standard="HJ633-2026").tolist()
    [52.0, 119.0, 500.0]
    >>> iaqi("so2_1h", [801, -1, float("nan")]).tolist()
    [nan, nan, nan]
    >>> iaqi("pm10_24h", pd.Series([50.0, 150.0], index=["a", "b"])).to_dict()
    {'a': 50.0, 'b': 100.0}

    References
    ----------
    .. [1] HJ 633-2012 Technical Regulation on Ambient Air Quality Index (on trial),
       §5 Table 1 (IAQI breakpoints), §6.2 formula (1) and rounding up.
    .. [2] HJ 633-2026, Table 1, §4.2.2 (input rounding per GB/T 8170), §4.2.6.
    """
    table = _table(pollutant, get_ruleset(standard).aqi_standard)
    x = np.asarray(concentration, dtype=np.float64)
    out = np.empty(x.shape, dtype=np.float64)
    _evaluate(np.ascontiguousarray(x).reshape(-1), out.reshape(-1), table, rounded)
    return _like(concentration, out)


#: Absolute distance (in rounding units) from an exact x.5 within which a
#: float counts as a decimal tie: 1.15 mg/m³ is 11.499999999999998 tenths.
#: Doubles near the largest breakpoint (3,840) carry errors ~1e-12; real
#: concentrations never carry a digit at 1e-6 units.
_TIE_ABS = 1e-6


def _evaluate(x: np.ndarray, out: np.ndarray, table: _Table, rounded: bool) -> None:
    """Round (GB/T 8170) and look up, block by block in reused buffers to stay in cache."""
    n = x.size
    m = min(n, _CHUNK)
    bufs = (np.empty(m), np.empty(m), np.empty(m, dtype=bool), np.empty(m, dtype=np.intp))
    with np.errstate(invalid="ignore"):  # ±inf: inf - inf in the tie test; result is still right
        for start in range(0, n, _CHUNK):
            stop = min(n, start + _CHUNK)
            k = stop - start
            _evaluate_block(x[start:stop], out[start:stop], table, rounded, tuple(b[:k] for b in bufs))


def _evaluate_block(xs: np.ndarray, out: np.ndarray, table: _Table, rounded: bool, bufs: tuple) -> None:
    y, r, mask, idx = bufs
    if table.scale != 1.0:
        np.multiply(xs, table.scale, out=y)
    else:
        y[...] = xs
    np.rint(y, out=r)
    if not rounded:
        # decimal ties not representable in binary (1.15 -> 11.4999…): half to even
        d = out  # reuse the output buffer as scratch: it is overwritten by the lookup below
        np.subtract(y, r, out=d)
        np.abs(d, out=d)
        np.greater(d, 0.5 - _TIE_ABS, out=mask)
        if mask.any():
            r[mask] = np.rint(np.round(y[mask] * 2.0) / 2.0)
    r += 1.0
    np.fmax(r, 0.0, out=r)  # NaN -> slot 0 (fmax ignores NaN)
    np.fmin(r, table.top + 2.0, out=r)  # above the table -> last slot
    np.less(y, 0.0, out=mask)
    r[mask] = 0.0  # negative concentrations are invalid, even -0.4
    idx[...] = r
    np.take(table.lut, idx, out=out)


# --------------------------------------------------------------------------
# Levels, categories and colours: HJ 633-2012 §7 Table 2 / HJ 633-2026 Table 2

#: (upper AQI, level, roman, category zh, category en, colour zh, hex)
LEVELS: tuple[tuple[int, int, str, str, str, str, str], ...] = (
    (50, 1, "一级", "优", "Excellent", "绿色", "#00E400"),
    (100, 2, "二级", "良", "Good", "黄色", "#FFFF00"),
    (150, 3, "三级", "轻度污染", "Lightly polluted", "橙色", "#FF7E00"),
    (200, 4, "四级", "中度污染", "Moderately polluted", "红色", "#FF0000"),
    (300, 5, "五级", "重度污染", "Heavily polluted", "紫色", "#99004C"),
    (500, 6, "六级", "严重污染", "Severely polluted", "褐红色", "#7E0023"),
)

_UPPER = np.array([lv[0] for lv in LEVELS[:-1]], dtype=np.float64)


def aqi_level(aqi: npt.ArrayLike) -> Any:
    """AQI level 1–6 (HJ 633 Table 2); 0 where AQI is NaN.

    Returns the input's type and index (Series → Series, DataArray →
    DataArray; else an int8 ndarray).

    >>> aqi_level([0, 50, 51, 100, 101, 200, 201, 300, 301, 500, float("nan")]).tolist()
    [1, 1, 2, 2, 3, 4, 5, 5, 6, 6, 0]

    References
    ----------
    .. [1] HJ 633-2012 §7 Table 2 (AQI levels and categories); HJ 633-2026 Table 2.
    """
    a = np.asarray(aqi, dtype=np.float64)
    level = np.searchsorted(_UPPER, a, side="left") + 1
    out = np.asarray(np.where(np.isnan(a), 0, level).astype(np.int8))
    return out if out.ndim == 0 else _like(aqi, out)


def _level_lookup(column: int, level: np.ndarray) -> np.ndarray:
    table = np.array([""] + [lv[column] for lv in LEVELS], dtype=object)
    return table[level]


#: Labels of primary / exceeding pollutants, one bit each.
PRIMARY_LABELS: tuple[str, ...] = ("SO2", "NO2", "PM10", "CO", "PM2.5", "O3", "O3_1h", "O3_8h")

_DAILY_LABEL = {
    "so2_24h": "SO2", "no2_24h": "NO2", "pm10_24h": "PM10", "co_24h": "CO",
    "pm25_24h": "PM2.5", "o3_1h": "O3_1h", "o3_8h": "O3_8h",
}
_HOURLY_LABEL = {"so2": "SO2", "no2": "NO2", "pm10": "PM10", "co": "CO", "pm25": "PM2.5", "o3": "O3"}


def _masks_to_labels(mask: np.ndarray, sep: str = ",") -> np.ndarray:
    """Bit masks -> comma-separated labels, vectorized through the unique masks."""
    mask = np.asarray(mask)
    uniq, inv = np.unique(mask.reshape(-1), return_inverse=True)
    text = np.array(
        [sep.join(lab for b, lab in enumerate(PRIMARY_LABELS) if int(u) >> b & 1) for u in uniq],
        dtype=object,
    )
    out = text[inv].reshape(mask.shape)
    return out[()] if out.ndim == 0 else out


@dataclass
class AQIResult:
    """Overall AQI and its components (HJ 633-2012 §4–§7, HJ 633-2026 §3–§5).

    Attributes
    ----------
    aqi : ndarray of float64
        Integer-valued AQI, NaN where none is defined (see ``complete``).
    iaqi : dict of str to ndarray
        IAQI per indicator (keys are pollutant labels such as ``"PM2.5"``).
    primary_mask, exceeding_mask : ndarray of uint8
        Bit masks over :data:`PRIMARY_LABELS`.  Primary: largest IAQI when
        AQI > 50, ties all count.  Exceeding: IAQI > 100, HJ 633-2012 only.
    complete : ndarray of bool
        True where every indicator had an IAQI.
    standard : str or ndarray of object
        ``"HJ633-2012"`` or ``"HJ633-2026"``; an array (per element) where
        results of both generations were combined day by day.
    """

    aqi: np.ndarray
    iaqi: dict[str, np.ndarray]
    primary_mask: np.ndarray
    exceeding_mask: np.ndarray
    complete: np.ndarray
    standard: str | np.ndarray

    @property
    def level(self) -> np.ndarray:
        """Level 1–6, 0 where AQI is NaN (HJ 633 Table 2)."""
        return aqi_level(self.aqi)

    def category(self, lang: str = "zh") -> np.ndarray:
        """Category name (``"优"`` … or ``"Excellent"`` …); empty where AQI is NaN."""
        return _level_lookup(3 if lang == "zh" else 4, self.level)

    def colour(self) -> np.ndarray:
        """Official colour as hex RGB (HJ 633 Annex A); empty where AQI is NaN."""
        return _level_lookup(6, self.level)

    def primary_pollutants(self, sep: str = ",") -> np.ndarray:
        """Primary pollutant labels joined by ``sep``; empty when AQI ≤ 50."""
        return _masks_to_labels(self.primary_mask, sep)

    def exceeding_pollutants(self, sep: str = ",") -> np.ndarray:
        """Exceeding pollutant labels (IAQI > 100; HJ 633-2012 §4.5 only)."""
        return _masks_to_labels(self.exceeding_mask, sep)


def _combine(
    iaqis: dict[str, np.ndarray],
    rs: RuleSet,
    shape: tuple[int, ...],
    *,
    groups: tuple[tuple[str, ...], ...] | None = None,
) -> AQIResult:
    """AQI = max IAQI (HJ 633-2012 §6.1 formula (2); HJ 633-2026 §4.2.5).

    Also primary pollutants (HJ 633 §4.4: largest IAQI when AQI > 50, ties
    all count), exceeding pollutants (HJ 633-2012 §4.5: IAQI > 100) and the
    HJ 633-2026 §5.3 rule for a missing pollutant.  ``groups`` lists the
    pollutants that must each have at least one IAQI for the result to be
    complete (default: every indicator).  One pass per pollutant, no stacked
    copy, so national-scale arrays stay within memory.
    """
    aqi = np.full(shape, np.nan)
    for v in iaqis.values():
        np.fmax(aqi, v, out=aqi)  # fmax skips NaN
    complete = np.ones(shape, dtype=bool)
    for group in groups or tuple((k,) for k in iaqis):
        present = np.zeros(shape, dtype=bool)
        for label in group:
            present |= ~np.isnan(iaqis[label])
        complete &= present
    if rs.missing_pollutant_rule:
        # HJ 633-2026 §5.3: incomplete -> AQI only when the others exceed 100
        with np.errstate(invalid="ignore"):
            aqi[~complete & ~(aqi > 100)] = np.nan
    primary = np.zeros(shape, dtype=np.uint8)
    exceeding = np.zeros(shape, dtype=np.uint8)
    with np.errstate(invalid="ignore"):
        above_50 = aqi > 50
        for label, v in iaqis.items():
            bit = np.uint8(1 << PRIMARY_LABELS.index(label))
            primary |= np.where((v == aqi) & above_50, bit, np.uint8(0))
            if rs.exceeding_pollutants:
                exceeding |= np.where(v > 100, bit, np.uint8(0))
    return AQIResult(
        aqi=aqi,
        iaqi=dict(iaqis),
        primary_mask=primary,
        exceeding_mask=exceeding,
        complete=complete,
        standard=rs.aqi_standard,
    )


def _shape_of(values: Mapping[str, npt.ArrayLike]) -> tuple[int, ...]:
    return np.broadcast_shapes(*(np.shape(v) for v in values.values()))


def _like_inputs(result: AQIResult, values: Mapping[str, Any]) -> AQIResult:
    """AQI and IAQI in the container of the inputs (the first Series or DataArray among them)."""
    template = next((v for v in values.values()
                     if isinstance(v, pd.Series) or type(v).__name__ == "DataArray"), None)
    if template is None or np.shape(template) != np.shape(result.aqi):
        return result
    result.aqi = _like(template, result.aqi)
    result.iaqi = {k: _like(template, np.asarray(v)) for k, v in result.iaqi.items()}
    return result


def hourly_aqi(
    concentrations: Mapping[str, npt.ArrayLike],
    *,
    standard: str = "HJ633-2012",
    so2_24h: npt.ArrayLike | None = None,
) -> AQIResult:
    """Real-time (hourly) AQI from 1-h concentrations.

    HJ 633-2012 §5.1 and Table 1 footnotes; HJ 633-2026 §4.1.2.  The six
    1-h values enter; PM10 and PM2.5 1-h values are compared with the 24-h
    columns (the only PM columns).

    Parameters
    ----------
    concentrations : mapping
        ``so2 no2 pm10 co o3 pm25`` 1-h values [µg/m³; CO mg/m³]; missing
        keys count as missing values.
    standard : {"HJ633-2012", "HJ633-2026"}
    so2_24h : array_like, optional
        SO2 24-h (moving) mean [µg/m³].  HJ 633-2012 footnote 2: where SO2
        1-h exceeds 800 its IAQI comes from the 24-h mean.  Without it that
        IAQI is NaN.  Unused under HJ 633-2026 (IAQI 200).

    Examples
    --------
    >>> r = hourly_aqi({"so2": 10, "no2": 30, "pm10": 160, "co": 0.5, "o3": 60, "pm25": 50})
    >>> int(r.aqi), str(r.primary_pollutants()), str(r.category("en"))
    (105, 'PM10', 'Lightly polluted')

    ``aqi`` and ``iaqi`` come back in the inputs' container: pandas Series
    (their index) or xarray DataArrays (their dims and coords) in, the same
    out; plain arrays otherwise.

    References
    ----------
    .. [1] HJ 633-2012 §5.1 (real-time AQI from 1-h values), Table 1 and its
       footnotes 1–2, §6 formulas (1)–(2).
    .. [2] HJ 633-2026 §4.1.2, §4.2.
    """
    rs = get_ruleset(standard)
    shape = _shape_of({**concentrations, **({"so2_24h": so2_24h} if so2_24h is not None else {})})
    iaqis: dict[str, np.ndarray] = {}
    for pol, column in rs.hourly_columns.items():
        label = _HOURLY_LABEL[pol]
        if pol not in concentrations:
            iaqis[label] = np.full(shape, np.nan)
            continue
        values = np.asarray(iaqi(column, concentrations[pol], standard=rs.aqi_standard), dtype=np.float64)
        if pol == "so2" and rs.above_table.get("so2_1h", 500) is None and so2_24h is not None:
            replace = np.isnan(values) & (np.asarray(concentrations[pol], dtype=np.float64) > 800)
            if np.any(replace):
                values = np.where(replace, iaqi("so2_24h", so2_24h, standard=rs.aqi_standard), values)
        iaqis[label] = np.broadcast_to(values, shape)
    return _like_inputs(_combine(iaqis, rs, shape), concentrations)


def daily_aqi(
    concentrations: Mapping[str, npt.ArrayLike],
    *,
    standard: str = "HJ633-2012",
) -> AQIResult:
    """Daily AQI from daily statistics.

    HJ 633-2012 §5.2: SO2, NO2, PM10, PM2.5, CO 24-h means plus the O3
    daily maximum 1-h value and maximum 8-h moving average (MDA8); where
    MDA8 exceeds 800 µg/m³ the O3 1-h IAQI decides (footnote 3).
    HJ 633-2026 §4.1.1: the same without the O3 1-h maximum; MDA8 above 800
    gives IAQI 300.

    Parameters
    ----------
    concentrations : mapping
        Keys ``so2_24h no2_24h pm10_24h co_24h pm25_24h o3_8h`` and, for
        2012, ``o3_1h`` (daily maximum 1-h) [µg/m³; CO mg/m³].  Missing keys
        are missing values; extra keys are ignored (so one mapping serves
        both versions).
    standard : {"HJ633-2012", "HJ633-2026"}

    Examples
    --------
    >>> day = {"so2_24h": 12, "no2_24h": 35, "pm10_24h": 151, "co_24h": 0.9,
    ...        "pm25_24h": 80, "o3_1h": 120, "o3_8h": 95}
    >>> int(daily_aqi(day).aqi), int(daily_aqi(day, standard="HJ633-2026").aqi)
    (107, 119)
    >>> str(daily_aqi(day).exceeding_pollutants())
    'PM10,PM2.5'

    ``aqi`` and ``iaqi`` come back in the inputs' container (Series or
    DataArray in, the same out).

    References
    ----------
    .. [1] HJ 633-2012 §5.2 (daily AQI), Table 1 and footnote 3, §6 formulas (1)–(2),
       §4.4–4.5 (primary and exceeding pollutants).
    .. [2] HJ 633-2026 §4.1.1, §4.2, §5.3 (missing pollutant).
    """
    rs = get_ruleset(standard)
    shape = _shape_of({k: v for k, v in concentrations.items() if k in rs.daily_indicators})
    iaqis: dict[str, np.ndarray] = {}
    for column in rs.daily_indicators:
        label = _DAILY_LABEL[column]
        if column in concentrations:
            iaqis[label] = np.broadcast_to(
                np.asarray(iaqi(column, concentrations[column], standard=rs.aqi_standard), dtype=np.float64),
                shape,
            )
        else:
            iaqis[label] = np.full(shape, np.nan)
    # O3 counts as present with either of its daily indicators (2012): daily
    # data often carry MDA8 only, and with MDA8 > 800 the 1-h IAQI decides.
    # With MDA8 > 800 and no 1-h value, O3 has no IAQI: the day is incomplete.
    groups = tuple((k,) for k in iaqis if not k.startswith("O3")) + (
        tuple(k for k in iaqis if k.startswith("O3")),
    )
    return _like_inputs(_combine(iaqis, rs, shape, groups=groups), concentrations)
