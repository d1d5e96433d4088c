"""Vectorized water-quality classes of drinking-water-source samplings.

Surface sources: single-factor method over GB 3838-2002 Table 1 under
地表水环境质量评价办法（试行）(环办〔2011〕22号): every class-forming item is
classed by its own limits and the sampling takes the **worst** item class
(standards.md §5.4).  Groundwater sources: GB/T 14848-2017, each index classed
by its limits, the sampling class being the worst index class (standards.md §6).

Rules (choices are explained in ``docs/water.md``)
-------------------------------------------------
* Limits are inclusive: a value equal to the Class k limit is Class k.  When
  two classes share a limit the better class applies (从优不从劣).  Values
  within a relative 1e-9 of a limit count as equal to it (binary float error
  of unit conversions, never a real difference).
* Dissolved oxygen is higher-is-better (≥), Class I threshold 7.5 mg/L.
* Surface pH outside 6–9 is 劣V (class 6); groundwater pH has its own bands.
* Total phosphorus uses the lake/reservoir column for ``water_body="lake"``.
* Water temperature, total nitrogen (lakes only; rivers ignore it) and fecal
  coliform are reference items: classed and reported, never used for the
  class (2011 method).  COD is left out of drinking-source classes unless
  ``include_cod=True`` (standards.md §5.5).
* GB 3838 Table 2 items (sulfate, chloride, nitrate, iron, manganese) are
  pass/fail against their single limit; they never change the class.
* A value below the detection limit (qualifier ``<0.01``, ``0.01L``, ``ND``,
  ``未检出``) is **classed by its detection limit**.  A bare ``ND`` with no
  known limit is classed as if 0 (the best class; for DO the worst).
* Exceedance multiple = (C − L_III) / L_III for items above their Class III
  limit (GB 3838 Table 2: its single limit); none for pH, DO and temperature.
* A sampling complies when its class is I–III and (surface) every measured
  Table 2 item meets its limit.

Data layouts accepted by :func:`classify_samples`
-------------------------------------------------
Long: one row per sampling and parameter with columns ``source``,
``sampled_at``, ``parameter``, ``value`` and optionally ``qualifier``
(``""``/NaN = quantified; ``<DL``, ``<``, ``ND``, ``未检出``, ``L`` = below
detection), ``detection_limit`` and ``source_type``.  Wide: one row per
sampling, one column per parameter key (numbers or text such as ``"<0.01"``),
any other columns kept as keys.

Examples
--------
>>> r = classify_surface({"ph": 7.6, "do": 8.1, "codmn": 2.2, "nh3n": 0.62, "tp": 0.04})
>>> r.water_class, r.label, r.deciding
(3, 'III', ('nh3n',))
>>> classify_surface({"tp": 0.04}, water_body="lake").water_class
3
>>> classify_groundwater({"ph": 8.7, "total_hardness": 420}).water_class
4
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Literal, Mapping, overload

import numpy as np
import pandas as pd

from envquality.water import gb3838_2002 as gb
from envquality.water import gbt14848_2017 as gw
from envquality.water.gb3838_2002 import CLASS_LABELS, Limit

__all__ = [
    "WaterClassResult", "classify_surface", "classify_groundwater", "classify_samples",
    "parse_qualified", "normalize_source_type", "to_wide", "SURFACE_PARAMETERS",
    "GROUNDWATER_PARAMETERS", "ALL_PARAMETERS", "PARAMETER_INFO", "BELOW_DL", "REL_TOL", "class_label",
    "required_parameters", "MIN_REQUIRED_FRACTION",
]

#: Relative tolerance of limit comparisons (float error of unit conversion only).
REL_TOL = 1e-9
#: Canonical qualifier of a value below its detection limit.
BELOW_DL = "<DL"

#: Surface-water parameter keys, in the order of the class matrices.
SURFACE_PARAMETERS: tuple[str, ...] = gb.SURFACE_KEYS
#: Groundwater parameter keys, in the order of the class matrices.
GROUNDWATER_PARAMETERS: tuple[str, ...] = gw.GROUNDWATER_KEYS
#: Every known parameter key.
ALL_PARAMETERS: tuple[str, ...] = tuple(dict.fromkeys(SURFACE_PARAMETERS + GROUNDWATER_PARAMETERS))

#: Key → (Chinese name, English name, canonical unit), from the limit tables
#: (GB 3838 first where a key is in both; units agree).
PARAMETER_INFO: dict[str, tuple[str, str, str]] = {
    **{lim.key: (lim.name_zh, lim.name_en, lim.unit) for lim in gw.TABLE.values()},
    **{lim.key: (lim.name_zh, lim.name_en, lim.unit) for lim in (*gb.TABLE1.values(), *gb.TABLE2.values())},
}

_BELOW_WORDS = {"<dl", "<", "nd", "n.d.", "n.d", "未检出", "l", "低于检出限", "<检出限", "bdl", "u"}
_SOURCE_TYPES = {
    "river": "river", "河流": "river", "河流型": "river", "河": "river", "stream": "river",
    "lake": "lake", "reservoir": "lake", "lake/reservoir": "lake", "湖库": "lake", "湖库型": "lake",
    "湖泊": "lake", "水库": "lake", "湖": "lake", "库": "lake",
    "groundwater": "groundwater", "地下水": "groundwater", "地下水型": "groundwater", "well": "groundwater",
}


def class_label(c: int) -> str:
    """``1``–``6`` → ``I``…``V``, ``劣V``; 0 (nothing assessed) → ``""``."""
    return CLASS_LABELS.get(int(c), "")


def normalize_source_type(values: Any) -> Any:
    """Map source-type spellings to ``river``, ``lake`` (lakes and reservoirs) or ``groundwater``.

    Accepts a scalar or a Series; unknown spellings raise ``ValueError``.

    >>> normalize_source_type("水库")
    'lake'
    """
    if isinstance(values, pd.Series):
        key = values.astype("string").str.strip().str.lower()
        out = key.map(_SOURCE_TYPES)
        bad = out.isna()
        if bad.any():
            raise ValueError(f"unknown source type(s): {sorted(set(values[bad].astype(str)))}")
        return out.astype(object)
    k = str(values).strip().lower()
    if k not in _SOURCE_TYPES:
        raise ValueError(f"unknown source type {values!r}; use river, lake (lake/reservoir) or groundwater")
    return _SOURCE_TYPES[k]


# --------------------------------------------------------------------------- qualifiers
def parse_qualified(values: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Parse values that may carry a below-detection qualifier, vectorized.

    Recognised: plain numbers; ``<0.01`` / ``＜0.01`` / ``≤0.01`` (below the
    limit 0.01); ``0.01L`` (HJ convention: detection limit followed by L);
    ``ND``, ``N.D.``, ``未检出``, ``<DL`` (below an unstated limit).

    Parameters
    ----------
    values : array_like
        Numbers or text.

    Returns
    -------
    value : ndarray of float
        The number (for ``<x`` and ``xL``: x, the detection limit); NaN for a
        bare ``ND`` and for empty or unparsable text.
    below : ndarray of bool
        True where the text says "below detection".
    dl : ndarray of float
        Detection limit where stated (``<x``/``xL``), else NaN.
    bad : ndarray of bool
        Text that is neither a number, a qualified number nor empty.

    Examples
    --------
    >>> v, b, d, bad = parse_qualified(["0.5", "<0.01", "0.004L", "ND", "未检出", "", "abc"])
    >>> v.tolist()[:3], b.tolist(), bad.tolist()
    ([0.5, 0.01, 0.004], [False, True, True, True, True, False, False], [False, False, False, False, False, False, True])
    """
    s = pd.Series(values)
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        v = s.to_numpy(dtype=np.float64, na_value=np.nan)
        n = len(v)
        return v, np.zeros(n, bool), np.full(n, np.nan), np.zeros(n, bool)
    t = s.astype("string").str.strip()
    t = t.str.replace("＜", "<", regex=False).str.replace("≤", "<", regex=False).str.replace("﹤", "<", regex=False)
    empty = t.isna() | t.isin(["", "nan", "NaN", "—", "-", "--", "/", "NA", "N/A", "null", "None"])
    low = t.str.lower()
    word = low.isin(_BELOW_WORDS)
    m = t.str.extract(r"^(<)?\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([lL])?$")
    num = pd.to_numeric(m[1], errors="coerce").astype("float64")
    qual = m[0].notna() | m[2].notna()
    below = (word | (qual & num.notna())).fillna(False).to_numpy(bool)
    value = num.to_numpy(np.float64, na_value=np.nan)
    dl = np.where(qual.fillna(False).to_numpy(bool), value, np.nan)
    bad = (~empty & ~word & num.isna()).fillna(False).to_numpy(bool)
    return value, below, dl, bad


_ONE = re.compile(r"^(<)?\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([lL])?$")


def _parse_one(text: str) -> tuple[float, bool, float, bool]:
    """Scalar :func:`parse_qualified` (the per-sampling API's fast path)."""
    t = text.strip().replace("＜", "<").replace("≤", "<").replace("﹤", "<")
    if t.lower() in _BELOW_WORDS:
        return math.nan, True, math.nan, False
    m = _ONE.match(t)
    if not m:
        return math.nan, False, math.nan, t not in ("", "nan", "NaN", "—", "-", "--", "/", "NA", "N/A", "null", "None")
    v = float(m.group(2))
    q = bool(m.group(1) or m.group(3))
    return v, q, (v if q else math.nan), False


def _below_mask(qualifier: pd.Series) -> np.ndarray:
    """True where a qualifier column says below detection (vectorized via factorize)."""
    codes, uniques = pd.factorize(qualifier, use_na_sentinel=True)
    flags = np.array([str(u).strip().lower().replace("＜", "<") in _BELOW_WORDS
                      or str(u).strip().startswith(("<", "＜")) for u in uniques], dtype=bool)
    out = np.zeros(len(codes), bool)
    ok = codes >= 0
    out[ok] = flags[codes[ok]]
    return out


# --------------------------------------------------------------------------- wide matrices
@dataclass
class _Wide:
    keys: pd.DataFrame          # one row per sampling (key columns)
    params: tuple[str, ...]     # column order of the matrices
    value: np.ndarray           # (n, p) float, canonical units
    below: np.ndarray           # (n, p) bool
    dl: np.ndarray              # (n, p) float
    ignored: tuple[str, ...] = ()


def to_wide(frame: pd.DataFrame, *, key: Iterable[str] = ("source", "sampled_at")) -> _Wide:
    """Long or wide samples → matrices (internal layout of :func:`classify_samples`).

    Long frames (with a ``parameter`` column) are pivoted without Python
    loops: samplings are numbered by factorizing ``key``; a repeated
    (sampling, parameter) keeps the last row.
    """
    if "parameter" in frame.columns:
        return _long_to_wide(frame, tuple(key))
    params = tuple(c for c in frame.columns if c in ALL_PARAMETERS)
    keys = frame.drop(columns=list(params)).reset_index(drop=True)
    n, p = len(frame), len(params)
    value = np.full((n, p), np.nan)
    below = np.zeros((n, p), bool)
    dl = np.full((n, p), np.nan)
    for j, c in enumerate(params):
        v, b, d, bad = parse_qualified(frame[c])
        if bad.any():
            raise ValueError(f"column {c!r}: unparsable values {sorted(set(frame[c][bad].astype(str)))[:5]}")
        value[:, j], below[:, j], dl[:, j] = v, b, d
    return _Wide(keys, params, value, below, dl)


def _long_to_wide(df: pd.DataFrame, key: tuple[str, ...]) -> _Wide:
    missing = [c for c in (*key, "parameter", "value") if c not in df.columns]
    if missing:
        raise ValueError(f"long samples lack columns {missing}")
    n_rows = len(df)
    # sampling number from the key columns: factorize each, combine as int64, factorize again
    combo = np.zeros(n_rows, np.int64)
    for c in key:
        col = df[c]
        if isinstance(col.dtype, pd.CategoricalDtype):
            codes, size = col.cat.codes.to_numpy(np.int64), len(col.cat.categories) + 1
        elif pd.api.types.is_datetime64_any_dtype(col.dtype):
            codes, uniq = pd.factorize(col.to_numpy().view("int64") if not isinstance(col.dtype, pd.DatetimeTZDtype)
                                       else col.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy().view("int64"))
            size = len(uniq) + 1
        else:
            codes, uniq_index = pd.factorize(col)
            size = len(uniq_index) + 1
        combo = combo * size + (codes.astype(np.int64) + 1)
    row_of, first_idx = _factorize_first(combo)
    keys_df = df.iloc[first_idx][list(key) + [c for c in ("source_type",) if c in df.columns and c not in key]]
    keys_df = keys_df.reset_index(drop=True)
    pcodes, puniq = pd.factorize(df["parameter"])
    known = np.array([u in ALL_PARAMETERS for u in puniq], dtype=bool)
    params = tuple(u for u, k in zip(puniq, known) if k)
    ignored = tuple(str(u) for u, k in zip(puniq, known) if not k)
    col_of = np.full(len(puniq), -1, np.int64)
    col_of[np.flatnonzero(known)] = np.arange(len(params))
    pcol = col_of[pcodes] if len(pcodes) else np.zeros(0, np.int64)
    use = pcol >= 0
    n, p = len(keys_df), len(params)
    vcol = df["value"]
    if vcol.dtype == object or pd.api.types.is_string_dtype(vcol.dtype):
        v, b_txt, d_txt, bad = parse_qualified(vcol)
        if bad.any():
            raise ValueError(f"unparsable values {sorted(set(vcol[bad].astype(str)))[:5]}")
    else:
        v = vcol.to_numpy(np.float64, na_value=np.nan)
        b_txt, d_txt = np.zeros(n_rows, bool), np.full(n_rows, np.nan)
    below_r = b_txt | (_below_mask(df["qualifier"]) if "qualifier" in df.columns else False)
    dl_r = d_txt
    if "detection_limit" in df.columns:
        dcol = df["detection_limit"].to_numpy(np.float64, na_value=np.nan)
        dl_r = np.where(np.isnan(dcol), d_txt, dcol)
    value = np.full((n, p), np.nan)
    below = np.zeros((n, p), bool)
    dl = np.full((n, p), np.nan)
    ri, ci = row_of[use], pcol[use]
    value[ri, ci] = v[use]
    below[ri, ci] = below_r[use] if isinstance(below_r, np.ndarray) else False
    dl[ri, ci] = dl_r[use]
    return _Wide(keys_df, params, value, below, dl, ignored)


def _factorize_first(combo: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes in order of first appearance and the index of each code's first row.

    ``pd.factorize`` numbers codes by first appearance, so a row holds a new
    code exactly when its code exceeds every earlier code (O(n), no sort).
    """
    codes, _ = pd.factorize(combo)
    if len(codes) == 0:
        return codes.astype(np.int64), np.zeros(0, np.int64)
    prev_max = np.maximum.accumulate(np.concatenate([[-1], codes[:-1]]))
    return codes.astype(np.int64), np.flatnonzero(codes > prev_max)


# --------------------------------------------------------------------------- the class matrices
def _effective(value: np.ndarray, below: np.ndarray, dl: np.ndarray) -> np.ndarray:
    """Value used for the class: the detection limit where below detection (0 if unknown)."""
    lim = np.where(np.isnan(dl), value, dl)
    lim = np.where(np.isnan(lim), 0.0, lim)
    return np.where(below, lim, value)


def _class_of(v: np.ndarray, lim: Limit, *, below: np.ndarray | None = None, surface: bool = True) -> np.ndarray:
    """Class (int8, 0 = no value) of one parameter's values against one table entry."""
    out = np.zeros(v.shape, np.int8)
    ok = ~np.isnan(v)
    L = np.asarray(lim.limits, dtype=np.float64)
    if lim.kind == "max":
        c = 1 + (v[:, None] > L[None, :] * (1 + REL_TOL)).sum(axis=1)
        if lim.key == "las" and not surface:  # Class I = not detected (GB/T 14848)
            c = np.where(below, 1, np.maximum(c, 2)) if below is not None else np.maximum(c, 2)
    elif lim.kind == "min":
        c = 1 + (v[:, None] < L[None, :] * (1 - REL_TOL)).sum(axis=1)
    elif lim.kind == "range":
        inside = (v >= L[0] * (1 - REL_TOL)) & (v <= L[1] * (1 + REL_TOL))
        c = np.where(inside, 1, 6)
    elif lim.kind == "ph_gw":
        lo3, hi3, lo4, hi4 = L
        in3 = (v >= lo3 * (1 - REL_TOL)) & (v <= hi3 * (1 + REL_TOL))
        in4 = (v >= lo4 * (1 - REL_TOL)) & (v <= hi4 * (1 + REL_TOL))
        c = np.where(in3, 1, np.where(in4, 4, 5))
    elif lim.kind == "single":
        c = np.where(v > L[0] * (1 + REL_TOL), 6, 1)  # 1 = meets, 6 = fails (pass/fail only)
    else:  # "none": water temperature has no class
        return out
    out[ok] = c[ok]
    return out


def _multiple(v: np.ndarray, lim: Limit) -> np.ndarray:
    """(C − L_III)/L_III where C exceeds the Class III (or single) limit; NaN otherwise."""
    if lim.kind == "max":
        L = lim.limits[2]
    elif lim.kind == "single":
        L = lim.limits[0]
    else:
        return np.full(v.shape, np.nan)
    with np.errstate(invalid="ignore"):
        m = (v - L) / L
    return np.where(v > L * (1 + REL_TOL), m, np.nan)


@dataclass
class _Matrices:
    params: tuple[str, ...]
    classes: np.ndarray      # (n, p) int8, 0 = not measured
    multiples: np.ndarray    # (n, p) float, NaN = not above Class III
    role: np.ndarray         # (p,) str: "class", "table2", "reference", "unused"


def _surface_matrices(w: _Wide, rows: np.ndarray, lake: np.ndarray, *, include_cod: bool) -> _Matrices:
    params = tuple(k for k in SURFACE_PARAMETERS if k in w.params)
    n = int(rows.sum()) if rows.dtype == bool else len(rows)
    classes = np.zeros((n, len(params)), np.int8)
    mult = np.full((n, len(params)), np.nan)
    role = []
    assessed = set(gb.ASSESSED_DRINKING) | ({"cod"} if include_cod else set())
    for j, k in enumerate(params):
        src = w.params.index(k)
        v = _effective(w.value[rows, src], w.below[rows, src], w.dl[rows, src])
        if k in gb.TABLE2:
            lim = gb.TABLE2[k]
            role.append("table2")
        else:
            lim = gb.TABLE1[k]
            role.append("class" if k in assessed else ("reference" if k in gb.REFERENCE_ITEMS else "unused"))
        if k == "tp":
            c = np.where(lake, _class_of(v, gb.TABLE1_LAKE_TP), _class_of(v, lim))
            m = np.where(lake, _multiple(v, gb.TABLE1_LAKE_TP), _multiple(v, lim))
        else:
            c, m = _class_of(v, lim), _multiple(v, lim)
        if k == "tn":  # lakes and reservoirs only
            c, m = np.where(lake, c, 0).astype(np.int8), np.where(lake, m, np.nan)
        classes[:, j], mult[:, j] = c, m
    return _Matrices(params, classes, mult, np.array(role, dtype=object))


def _ground_matrices(w: _Wide, rows: np.ndarray, groundwater_set: Iterable[str]) -> _Matrices:
    params = tuple(k for k in GROUNDWATER_PARAMETERS if k in w.params)
    n = int(rows.sum()) if rows.dtype == bool else len(rows)
    classes = np.zeros((n, len(params)), np.int8)
    mult = np.full((n, len(params)), np.nan)
    used = set(groundwater_set)
    role = []
    for j, k in enumerate(params):
        src = w.params.index(k)
        b = w.below[rows, src]
        v = _effective(w.value[rows, src], b, w.dl[rows, src])
        classes[:, j] = _class_of(v, gw.TABLE[k], below=b, surface=False)
        mult[:, j] = _multiple(v, gw.TABLE[k])
        role.append("class" if k in used else "unused")
    return _Matrices(params, classes, mult, np.array(role, dtype=object))


def _names_of_bits(bits: np.ndarray, params: tuple[str, ...]) -> np.ndarray:
    """``|``-joined parameter names of each bit pattern (strings built once per distinct pattern)."""
    if len(bits) == 0:
        return np.array([], dtype=object)
    uniq, inv = np.unique(bits, return_inverse=True)
    names = np.array(["|".join(p for j, p in enumerate(params) if (int(u) >> j) & 1) for u in uniq], dtype=object)
    return names[inv]


def _summarize(mx: _Matrices) -> dict[str, np.ndarray]:
    n = mx.classes.shape[0]
    is_class = mx.role == "class"
    is_t2 = mx.role == "table2"
    cls = mx.classes[:, is_class]
    worst = cls.max(axis=1) if cls.shape[1] else np.zeros(n, np.int8)
    weights = (np.int64(1) << np.arange(len(mx.params), dtype=np.int64))
    deciding_m = (mx.classes == worst[:, None]) & is_class[None, :] & (worst[:, None] > 0)
    t2 = mx.classes[:, is_t2]
    t2_fail = (t2 == 6)
    t2_pass = ~t2_fail.any(axis=1)
    counted = is_class | is_t2
    exceed_m = ~np.isnan(mx.multiples) & counted[None, :]
    mult = np.where(exceed_m, mx.multiples, -np.inf)
    jmax = mult.argmax(axis=1) if mult.shape[1] else np.zeros(n, np.int64)
    mmax = mult[np.arange(n), jmax] if mult.shape[1] else np.full(n, -np.inf)
    params_arr = np.array(mx.params + ("",), dtype=object)
    return {
        "water_class": worst.astype(np.int8),
        "table2_pass": t2_pass,
        "n_assessed": (cls > 0).sum(axis=1),
        "deciding": _names_of_bits(deciding_m.astype(np.int64) @ weights, mx.params),
        "exceeding": _names_of_bits(exceed_m.astype(np.int64) @ weights, mx.params),
        "max_multiple": np.where(np.isfinite(mmax), mmax, np.nan),
        "max_multiple_parameter": np.where(np.isfinite(mmax), params_arr[jmax], ""),
    }


def _classify_core(w: _Wide, st: np.ndarray, *, include_cod: bool, groundwater_set: Iterable[str]):
    """Per-sampling summary arrays and the (rows, matrices) of each standard."""
    n = len(st)
    surf = st != "groundwater"
    gwm = ~surf
    cols = {k: np.zeros(n, dtype=o) for k, o in (
        ("water_class", np.int8), ("table2_pass", bool), ("n_assessed", np.int64), ("deciding", object),
        ("exceeding", object), ("max_multiple", np.float64), ("max_multiple_parameter", object))}
    mats = []
    if surf.any():
        mats.append((surf, _surface_matrices(w, surf, (st == "lake")[surf], include_cod=include_cod)))
    if gwm.any():
        mats.append((gwm, _ground_matrices(w, gwm, groundwater_set)))
    for rows, mx in mats:
        for k, v in _summarize(mx).items():
            cols[k][rows] = v
        if rows is gwm:
            cols["table2_pass"][rows] = True
    return cols, mats


#: Share of the required parameters a sampling must have measured to be judged compliant (envquality's
#: policy: a sampling of pH and dissolved oxygen alone says nothing about metals or nutrients).
MIN_REQUIRED_FRACTION = 0.8


def required_parameters(source_type: str, *, include_cod: bool = False,
                        groundwater_set: Iterable[str] = gw.DEFAULT_GROUNDWATER_SET) -> tuple[str, ...]:
    """Parameters a drinking-water sampling is expected to measure.

    Surface sources: the items GB 3838-2002 Table 1 classes under the 2011
    method (环办〔2011〕22号: without water temperature, total nitrogen and
    fecal coliforms; COD only with ``include_cod``) and the five Table 2
    items for drinking-water sources.  Groundwater: the indices of
    ``groundwater_set`` (GB/T 14848-2017 Table 1).

    References
    ----------
    .. [1] GB 3838-2002 §4, Tables 1–2.
    .. [2] 环办〔2011〕22号《地表水环境质量评价办法（试行）》 §3.
    .. [3] GB/T 14848-2017 Table 1.
    """
    if normalize_source_type(source_type) == "groundwater":
        return tuple(groundwater_set)
    t1 = tuple(k for k in gb.ASSESSED_2011 if include_cod or k != "cod")
    return t1 + tuple(gb.TABLE2)


def _coverage(w: _Wide, st: np.ndarray, *, include_cod: bool,
              groundwater_set: Iterable[str]) -> tuple[np.ndarray, np.ndarray]:
    """Per sampling: number of required parameters and how many of them were measured."""
    measured = ~np.isnan(w.value) | w.below
    col = {p: j for j, p in enumerate(w.params)}
    n_req = np.zeros(len(st), np.int64)
    n_meas = np.zeros(len(st), np.int64)
    for kind in ("river", "lake", "groundwater"):
        rows = st == kind
        if not rows.any():
            continue
        req = required_parameters(kind, include_cod=include_cod, groundwater_set=groundwater_set)
        idx = [col[p] for p in req if p in col]
        n_req[rows] = len(req)
        n_meas[rows] = measured[np.ix_(rows, idx)].sum(axis=1) if idx else 0
    return n_req, n_meas


# --------------------------------------------------------------------------- public frame API
@overload
def classify_samples(
    frame: pd.DataFrame,
    *,
    source_type: str | None = None,
    registry: pd.DataFrame | None = None,
    include_cod: bool = False,
    groundwater_set: Iterable[str] = gw.DEFAULT_GROUNDWATER_SET,
    details: Literal[False] = False,
) -> pd.DataFrame: ...


@overload
def classify_samples(
    frame: pd.DataFrame,
    *,
    source_type: str | None = None,
    registry: pd.DataFrame | None = None,
    include_cod: bool = False,
    groundwater_set: Iterable[str] = gw.DEFAULT_GROUNDWATER_SET,
    details: Literal[True],
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]: ...


def classify_samples(
    frame: pd.DataFrame,
    *,
    source_type: str | None = None,
    registry: pd.DataFrame | None = None,
    include_cod: bool = False,
    groundwater_set: Iterable[str] = gw.DEFAULT_GROUNDWATER_SET,
    details: bool = False,
) -> pd.DataFrame | tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Class and compliance of many samplings at once (no per-sampling Python loop).

    Parameters
    ----------
    frame : pandas.DataFrame
        Long samples (``source``, ``sampled_at``, ``parameter``, ``value``
        [canonical unit: mg/L; pH 1; fecal coliform 个/L; total coliforms
        MPN/100mL], optional ``qualifier``, ``detection_limit``,
        ``source_type``) as :func:`envquality.iotools.water.read_water_samples`
        returns, or wide samples (one column per parameter key).
    source_type : {"river", "lake", "groundwater"}, optional
        Type of every sampling.  Otherwise taken from a ``source_type``
        column, else from ``registry`` (``id`` → ``source_type``).
    registry : pandas.DataFrame, optional
        Source registry (:func:`envquality.water.registry.load_water_sources`).
    include_cod : bool
        Let COD form surface classes (default False, standards.md §5.5).
    groundwater_set : iterable of str
        Groundwater indices that form the class (default all of GB/T 14848
        Table 1 as transcribed; others are classed but not used).
    details : bool
        Also return per-parameter ``classes`` and ``multiples`` frames.

    Returns
    -------
    pandas.DataFrame
        One row per sampling: the key columns, ``source_type``,
        ``water_class`` (Int8: 1–5, 6 = 劣V; NA when no class-forming item
        was measured), ``class_label``, ``table2_pass`` (surface; True when
        no Table 2 item was measured), ``compliant`` (Class I–III and Table 2
        met), ``deciding`` (``|``-joined items at the sampling's class),
        ``exceeding`` (items above Class III / Table 2), ``max_multiple`` and
        ``max_multiple_parameter``, ``n_assessed``, ``n_required`` and
        ``n_measured`` (:func:`required_parameters` and how many of them have
        a value or a below-detection result), ``sufficient`` (at least
        :data:`MIN_REQUIRED_FRACTION` of them measured), ``compliant`` (no
        measured item beyond Class III or Table 2) and ``verdict``:
        ``non-compliant`` (an item exceeds: proven whatever else is missing),
        ``compliant`` (none exceeds and the sampling is sufficient) or
        ``insufficient`` (none exceeds, but too few required items were
        measured to call it compliant).  ``attrs`` lists
        ``ignored_parameters`` (unknown keys, e.g. Table 3 items).

    Examples
    --------
    >>> df = pd.DataFrame({"source": ["a", "a", "b", "b"], "sampled_at": ["2020-01"] * 4,
    ...                    "parameter": ["nh3n", "fe", "nh3n", "fe"],
    ...                    "value": [0.3, 0.5, 1.2, 0.1]})
    >>> out = classify_samples(df, source_type="river")
    >>> out[["source", "class_label", "table2_pass", "compliant", "deciding"]].to_dict("list")
    {'source': ['a', 'b'], 'class_label': ['II', 'IV'], 'table2_pass': [False, True], 'compliant': [False, False], 'deciding': ['nh3n', 'nh3n']}
    """
    w = to_wide(frame)
    n = len(w.keys)
    if source_type is not None:
        st = np.full(n, normalize_source_type(source_type), dtype=object)
    elif "source_type" in w.keys.columns:
        st = normalize_source_type(w.keys["source_type"]).to_numpy(object)
    elif registry is not None:
        if "source" not in w.keys.columns:
            raise ValueError("samples need a 'source' column to be matched with the registry")
        m = registry.set_index(registry["id"].astype(str))["source_type"]
        looked = w.keys["source"].astype(str).map(m)
        if looked.isna().any():
            raise ValueError(f"sources not in the registry: {sorted(set(w.keys['source'][looked.isna()].astype(str)))[:10]}")
        st = normalize_source_type(looked).to_numpy(object)
    else:
        raise ValueError("say the source type: source_type=, a 'source_type' column or registry=")
    cols, mats = _classify_core(w, st, include_cod=include_cod, groundwater_set=groundwater_set)
    out = w.keys.copy()
    out["source_type"] = st
    det_classes, det_mult = [], []
    if details:
        for rows, mx in mats:
            idx = np.flatnonzero(rows)
            det_classes.append(pd.DataFrame(mx.classes, columns=list(mx.params), index=idx))
            det_mult.append(pd.DataFrame(mx.multiples, columns=list(mx.params), index=idx))
    wc = cols["water_class"]
    out["water_class"] = pd.array(np.where(wc > 0, wc, 0), dtype="Int8")
    out.loc[wc == 0, "water_class"] = pd.NA
    labels = np.array(["", "I", "II", "III", "IV", "V", "劣V"], dtype=object)
    out["class_label"] = labels[wc]
    out["table2_pass"] = cols["table2_pass"]
    n_req, n_meas = _coverage(w, st, include_cod=include_cod, groundwater_set=groundwater_set)
    out["n_required"], out["n_measured"] = n_req, n_meas
    out["sufficient"] = n_meas >= np.ceil(MIN_REQUIRED_FRACTION * n_req - 1e-9)
    out["compliant"] = (wc >= 1) & (wc <= 3) & cols["table2_pass"]
    out["verdict"] = np.where(~out["compliant"].to_numpy(bool), "non-compliant",
                              np.where(out["sufficient"].to_numpy(bool), "compliant", "insufficient"))
    for k in ("deciding", "exceeding", "max_multiple", "max_multiple_parameter", "n_assessed"):
        out[k] = cols[k]
    out.attrs["ignored_parameters"] = list(w.ignored)
    out.attrs["include_cod"] = include_cod
    if details:
        classes = pd.concat(det_classes).sort_index() if det_classes else pd.DataFrame(index=range(n))
        mults = pd.concat(det_mult).sort_index() if det_mult else pd.DataFrame(index=range(n))
        return out, {"classes": classes.astype("Int8"), "multiples": mults}
    return out


# --------------------------------------------------------------------------- scalar API
@dataclass(frozen=True)
class WaterClassResult:
    """Class of one sampling.

    Attributes
    ----------
    water_class : int
        1–5 (Class I–V); 6 = 劣V (surface only); 0 if no class-forming item.
    label : str
        ``I`` … ``V``, ``劣V``.
    standard : str
        ``GB 3838-2002`` or ``GB/T 14848-2017``.
    water_body : str
        ``river``, ``lake`` or ``groundwater``.
    deciding : tuple of str
        Class-forming items whose class equals ``water_class``.
    exceedances : dict
        Item → multiple over its Class III limit ((C − L_III)/L_III; Table 2:
        over its single limit), for class-forming and Table 2 items above it.
    classes : dict
        Class of each class-forming item.
    reference : dict
        Class of each reference item (TN for lakes, fecal coliform); never
        used for ``water_class``.
    table2 : dict
        GB 3838 Table 2 item → meets its limit.
    table2_pass : bool
    compliant : bool
        Class I–III and every measured Table 2 item met (standards.md §5.5).
    unused : tuple of str
        Items given but not used (water temperature, COD by default, TN of a river).
    """

    water_class: int
    label: str
    standard: str
    water_body: str
    deciding: tuple[str, ...]
    exceedances: dict[str, float] = field(default_factory=dict)
    classes: dict[str, int] = field(default_factory=dict)
    reference: dict[str, int] = field(default_factory=dict)
    table2: dict[str, bool] = field(default_factory=dict)
    table2_pass: bool = True
    compliant: bool = False
    unused: tuple[str, ...] = ()


def _one(values: Mapping[str, Any], kind: str, allowed: tuple[str, ...], *, include_cod: bool = False,
         groundwater_set: Iterable[str] = gw.DEFAULT_GROUNDWATER_SET) -> WaterClassResult:
    unknown = [k for k in values if k not in allowed]
    if unknown:
        raise KeyError(f"unknown parameter key(s) {unknown}; known: {' '.join(allowed)}")
    params = tuple(values)
    p = len(params)
    value, below, dl = np.full((1, p), np.nan), np.zeros((1, p), bool), np.full((1, p), np.nan)
    for j, k in enumerate(params):
        x = values[k]
        if isinstance(x, str):
            v, b, d, bad = _parse_one(x)
            if bad:
                raise ValueError(f"{k}: cannot parse {x!r}")
            value[0, j], below[0, j], dl[0, j] = v, b, d
        elif x is not None:
            value[0, j] = float(x)
    w = _Wide(pd.DataFrame(index=range(1)), params, value, below, dl)
    groundwater_set = tuple(groundwater_set)
    cols, mats = _classify_core(w, np.array([kind], dtype=object), include_cod=include_cod,
                                groundwater_set=groundwater_set)
    mx = mats[0][1]
    cls = dict(zip(mx.params, mx.classes[0].tolist()))
    mul = dict(zip(mx.params, mx.multiples[0].tolist()))
    if kind == "groundwater":
        roles = dict(zip(mx.params, mx.role.tolist()))
        standard = "GB/T 14848-2017"
    else:
        roles = {k: ("unused" if rl == "reference" and cls[k] == 0 else rl) for k, rl in zip(mx.params, mx.role)}
        standard = "GB 3838-2002"
    classes = {k: cls[k] for k, rl in roles.items() if rl == "class" and cls[k] > 0}
    reference = {k: cls[k] for k, rl in roles.items() if rl == "reference" and cls[k] > 0}
    table2 = {k: cls[k] == 1 for k, rl in roles.items() if rl == "table2" and cls[k] > 0}
    exceed = {k: mul[k] for k, rl in roles.items() if rl in ("class", "table2") and not math.isnan(mul[k])}
    wc = int(cols["water_class"][0])
    return WaterClassResult(
        water_class=wc, label=class_label(wc), standard=standard, water_body=kind,
        deciding=tuple(x for x in str(cols["deciding"][0]).split("|") if x), exceedances=exceed,
        classes=classes, reference=reference, table2=table2, table2_pass=bool(cols["table2_pass"][0]),
        compliant=bool(1 <= wc <= 3 and cols["table2_pass"][0]),
        unused=tuple(k for k, rl in roles.items() if rl == "unused"),
    )


def classify_surface(values: Mapping[str, Any], *, water_body: str = "river", include_cod: bool = False) -> WaterClassResult:
    """Class of one surface-water sampling (GB 3838-2002, 2011 single-factor method).

    Parameters
    ----------
    values : mapping
        Parameter key → value: ``ph`` (1), ``do codmn cod bod5 nh3n tp tn cu
        zn fluoride se as hg cd cr6 pb cyanide phenol petroleum las sulfide``
        (mg/L), ``fecal_coliform`` (个/L, count per litre), ``temp`` (°C) and
        the Table 2 items ``sulfate chloride nitrate fe mn`` (mg/L).  A value
        may be text with a below-detection qualifier (``"<0.01"``, ``"ND"``).
    water_body : {"river", "lake"}
        ``"lake"`` for lakes and reservoirs (TP limits; TN reported).
    include_cod : bool
        Let COD form the class (default False for drinking sources, standards.md §5.5).

    Returns
    -------
    WaterClassResult

    Examples
    --------
    >>> classify_surface({"do": 5.0, "nh3n": 0.1}).label
    'III'
    >>> classify_surface({"ph": 9.2}).label
    '劣V'
    >>> classify_surface({"nh3n": 1.2, "fecal_coliform": 50000}).reference
    {'fecal_coliform': 6}
    """
    body = normalize_source_type(water_body)
    if body == "groundwater":
        raise ValueError("use classify_groundwater for groundwater")
    return _one(values, body, SURFACE_PARAMETERS, include_cod=include_cod)


def classify_groundwater(values: Mapping[str, Any], *, groundwater_set: Iterable[str] = gw.DEFAULT_GROUNDWATER_SET) -> WaterClassResult:
    """Class of one groundwater sampling (GB/T 14848-2017, worst index class).

    Parameters
    ----------
    values : mapping
        Index key → value, keys of :data:`envquality.water.gbt14848_2017.TABLE`:
        ``ph total_hardness tds sulfate chloride fe mn cu zn al phenol las
        codmn nh3n sulfide na total_coliforms total_bacteria nitrite nitrate
        cyanide fluoride iodide hg as se cd cr6 pb color turbidity gross_alpha
        gross_beta``; mg/L except pH (1), total coliforms (MPN/100 mL), total
        bacteria (CFU/mL), colour (degrees), turbidity (NTU), gross α/β (Bq/L).
    groundwater_set : iterable of str
        Indices that form the class (default all).

    Returns
    -------
    WaterClassResult

    Examples
    --------
    >>> r = classify_groundwater({"nitrate": 24.0, "total_coliforms": 2.0})
    >>> r.label, r.deciding, round(r.exceedances["nitrate"], 2)
    ('IV', ('nitrate',), 0.2)
    """
    return _one(values, "groundwater", GROUNDWATER_PARAMETERS, groundwater_set=groundwater_set)
