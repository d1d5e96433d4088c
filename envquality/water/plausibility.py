"""Plausibility of water sampling values: physical ranges and unit sanity.

Checks applied by :func:`envquality.iotools.water.read_water_samples` before
anything is classified or stored (rejected rows go to the quarantine with
file, line, field, reason and raw text):

* a value or detection limit that is not a finite number (``1e309`` reads as
  infinity) or is negative (``<-1``, pH −3) is rejected;
* a value outside the physical range of its parameter (:func:`plausible_range`)
  is rejected (pH outside 0–14, dissolved oxygen above 25 mg/L,
  99999 mg/L ammonia);
* **unit sanity**: when the median of a parameter's detected values in one
  file lies more than :data:`UNIT_SUSPECT_FACTOR` times above the loosest
  limit of its standard (GB 3838-2002 Class V, else GB/T 14848-2017
  Class V), the whole column is rejected as probably mislabelled (µg/L
  values labelled mg/L are 1000 times too large).

These are envquality's screening rules, not clauses of the standards: the
ranges are physical bounds (pH scale; oxygen saturation below 25 mg/L in
fresh water) and a margin of three orders of magnitude over the loosest
class limit for concentrations.

References
----------
.. [1] GB 3838-2002 Environmental quality standards for surface water, Tables 1–2.
.. [2] GB/T 14848-2017 Standard for groundwater quality, Table 1.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from envquality.water import gb3838_2002 as gb
from envquality.water import gbt14848_2017 as gw

__all__ = ["plausible_range", "loosest_limit", "implausible_values", "suspect_units", "UNIT_SUSPECT_FACTOR",
           "MAX_FACTOR_OVER_LIMIT"]

#: A file's median more than this many times the loosest class limit flags the column's unit.
UNIT_SUSPECT_FACTOR = 100.0
#: Values above this many times the loosest class limit are implausible.
MAX_FACTOR_OVER_LIMIT = 1000.0

#: Physical ranges that do not follow from a limit: (low, high) in the canonical unit.
_FIXED: dict[str, tuple[float, float]] = {
    "ph": (0.0, 14.0),
    "do": (0.0, 25.0),       # mg/L; oxygen saturation in fresh water stays well below 25
    "temp": (-5.0, 50.0),    # °C
}
#: Ceiling of any mass concentration in mg/L (saturated brine is ~3.6e5 mg/L).
_MG_L_CEILING = 1.0e5


def loosest_limit(parameter: str) -> float | None:
    """Largest finite class limit of the parameter (surface table first, then groundwater), or None."""
    lim = gb.TABLE1.get(parameter) or gb.TABLE2.get(parameter) or gw.TABLE.get(parameter)
    vals = [v for v in getattr(lim, "limits", ()) if isinstance(v, (int, float)) and math.isfinite(v)]
    return max(vals) if vals else None


def plausible_range(parameter: str) -> tuple[float, float]:
    """(low, high) a value of ``parameter`` (canonical unit) can physically take."""
    if parameter in _FIXED:
        return _FIXED[parameter]
    top = loosest_limit(parameter)
    hi = math.inf if top is None else MAX_FACTOR_OVER_LIMIT * top
    lim = gb.TABLE1.get(parameter) or gb.TABLE2.get(parameter) or gw.TABLE.get(parameter)
    if getattr(lim, "unit", "") == "mg/L":
        hi = min(hi, _MG_L_CEILING)
    return 0.0, hi


def implausible_values(parameter: pd.Series, value: pd.Series, detection_limit: pd.Series,
                       below: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Rows whose value or detection limit is not plausible.

    Returns
    -------
    (mask, field, reason) : Series
        ``field`` is ``value`` or ``detection_limit``; ``reason`` says why.
    """
    ranges = {p: plausible_range(p) for p in pd.unique(parameter.dropna())}
    lo = parameter.map(lambda p: ranges.get(p, (0.0, math.inf))[0]).astype("float64")
    hi = parameter.map(lambda p: ranges.get(p, (0.0, math.inf))[1]).astype("float64")
    v = value.astype("float64")
    d = detection_limit.astype("float64")
    vv, dd, bb = v.to_numpy(), d.to_numpy(), below.to_numpy(bool)
    lov, hiv = lo.to_numpy(), hi.to_numpy()
    fin = np.isfinite(vv)
    bad_dl = ~np.isnan(dd) & (~np.isfinite(dd) | (np.nan_to_num(dd) < 0))
    inf = ~np.isnan(vv) & ~fin & ~bb
    low = fin & (np.nan_to_num(vv) < lov) & ~bb
    high = fin & (np.nan_to_num(vv) > hiv) & ~bb
    texts = []
    for i in np.flatnonzero(low | high):
        side = "below the physical minimum" if low[i] else "above the plausible maximum"
        bound = lov[i] if low[i] else hiv[i]
        texts.append((i, f"implausible: {vv[i]:g} {side} {bound:g} of {parameter.iloc[i]}"))
    reason = np.full(len(v), "", dtype=object)
    for i, text in texts:
        reason[i] = text
    reason[inf] = "value is not a finite number"
    reason[bad_dl] = "detection limit is negative or not a finite number"
    idx = value.index
    field = pd.Series(np.where(bad_dl, "detection_limit", "value"), index=idx, dtype=object)
    return pd.Series(inf | low | high | bad_dl, index=idx), field, pd.Series(reason, index=idx)


def suspect_units(parameter: pd.Series, value: pd.Series, below: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Rows of parameters whose file-wide median is far above the usual range (probably a unit mislabel).

    Returns
    -------
    (mask, reason) : Series
    """
    det = parameter.notna() & ~below & np.isfinite(value.astype("float64"))
    med = value[det].groupby(parameter[det]).median()
    flagged = {}
    for p, m in med.items():
        top = loosest_limit(str(p))
        if p in _FIXED or top is None or top <= 0:
            continue
        if m > UNIT_SUSPECT_FACTOR * top:
            flagged[p] = (f"unit suspect: the median of {p} in this file ({m:g}) is {m / top:,.0f}× its loosest "
                          f"class limit ({top:g}); µg/L values labelled mg/L?")
    mask = parameter.isin(list(flagged)) & parameter.notna()
    reason = parameter.map(flagged).astype(object).where(mask, "")
    return mask, reason
