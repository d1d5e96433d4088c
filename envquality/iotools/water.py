"""Reader of drinking-water-source sampling results (CSV or Excel, long form).

Input: one row per sampling and parameter.  Header names are matched in
Chinese or English, case- and width-insensitively:

==================  ==========================================================
field               accepted headers
==================  ==========================================================
``source``          source, source_id, id, 水源地, 水源地编码, 水源地名称, 点位, 点位编码, 断面
``sampled_at``      sampled_at, time, date, datetime, 采样时间, 采样日期, 监测时间, 日期
``parameter``       parameter, item, indicator, 监测项目, 项目, 指标, 项目名称, 监测指标
``value``           value, result, concentration, 监测值, 浓度, 结果, 检测结果, 数值
``unit``            unit, 单位 (optional)
``qualifier``       qualifier, flag, 标识, 数据标识 (optional)
``detection_limit`` detection_limit, dl, mdl, 检出限, 方法检出限 (optional; in the row's unit)
==================  ==========================================================

Parameters are named by key (``nh3n``), Chinese name (``氨氮``, ``高锰酸盐指数``,
``粪大肠菌群``, ``总大肠菌群`` …, with or without a bracketed note such as
``总磷(以P计)``) or English name; see :data:`PARAMETER_ALIASES`.

Output (:class:`~envquality.iotools.common.ReadResult` ``data``)
-----------------------------------------------------------------
``source`` (str), ``sampled_at`` (datetime64[ns, Asia/Shanghai]; naive stamps
are China Standard Time, a date alone is its midnight), ``parameter`` (key),
``value`` (float, canonical unit), ``unit`` (canonical), ``qualifier``
(``""`` or ``"<DL"``), ``detection_limit`` (float, canonical unit; NaN unless
below detection or given).

Units and qualifiers
--------------------
Canonical units (:data:`envquality.water.classify.PARAMETER_INFO`): mg/L;
pH dimensionless; fecal coliform 个/L (**per litre**: MPN/100 mL × 10);
total coliforms MPN/100 mL (per litre ÷ 10); total bacteria CFU/mL; µg/L ÷
1000, ng/L ÷ 10⁶.  An empty unit means the canonical one (counted in
``meta["units_assumed"]``).  A value ``<0.01``, ``0.01L``, ``ND``, ``未检出``
(or a below-detection qualifier) is below detection: ``qualifier="<DL"``,
``value`` = ``detection_limit`` = the limit where stated (classes use it,
see :mod:`envquality.water.classify`); a bare ``ND`` with no limit keeps
``value`` NaN.

Rejected rows (file, line, field, reason, raw): no source, bad time, unknown
parameter, unparsable value or limit, no value, a unit that does not fit the
parameter, a value or limit that is not finite, negative or outside the
parameter's physical range, a column whose values are orders of magnitude off
the parameter's usual range (unit mislabelled; see
:mod:`envquality.water.plausibility`), conflicting duplicates.  Unreadable files and missing columns
raise :class:`~envquality.iotools.common.InputError`.
"""

from __future__ import annotations

import datetime as _dt
import io
import re
import unicodedata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from envquality.iotools._parse import csv_records, raw_lines, record_spans
from envquality.iotools.common import (
    InputError, ReadResult, decode_bytes, rejects_frame, sha256_of, split_duplicates, to_number,
)
from envquality.water.classify import BELOW_DL, PARAMETER_INFO, parse_qualified
from envquality.text import bounded_excerpt

__all__ = ["read_water_samples", "PARAMETER_ALIASES", "HEADER_ALIASES", "normalize_parameter", "unit_factor",
           "WATER_COLUMNS"]

SOURCE_NAME = "water-samples"
#: Columns of the tidy samples frame.
WATER_COLUMNS = ("source", "sampled_at", "parameter", "value", "unit", "qualifier", "detection_limit")

HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "source": ("source", "source_id", "id", "site", "水源地", "水源地编码", "水源地名称", "水源编码", "点位",
               "点位编码", "点位名称", "断面", "断面名称", "测点"),
    "sampled_at": ("sampled_at", "time", "date", "datetime", "sampling_time", "sample_time", "采样时间",
                   "采样日期", "监测时间", "监测日期", "日期", "时间"),
    "parameter": ("parameter", "item", "indicator", "监测项目", "项目", "指标", "项目名称", "监测指标", "检测项目"),
    "value": ("value", "result", "concentration", "监测值", "浓度", "结果", "检测结果", "数值", "监测结果"),
    "unit": ("unit", "units", "单位"),
    "qualifier": ("qualifier", "flag", "标识", "数据标识", "修约标识"),
    "detection_limit": ("detection_limit", "dl", "mdl", "lod", "检出限", "方法检出限"),
}

_EXTRA: dict[str, tuple[str, ...]] = {
    "ph": ("pH值", "pH"), "do": ("DO", "dissolved oxygen"),
    "codmn": ("COD_Mn", "CODMn", "高锰酸盐指数", "耗氧量", "耗氧量(COD_Mn法)", "耗氧量(CODMn法,以O2计)",
              "permanganate index"),
    "cod": ("COD", "CODcr", "COD_Cr", "化学需氧量"), "bod5": ("BOD5", "BOD", "五日生化需氧量"),
    "nh3n": ("NH3-N", "NH3N", "NH4-N", "氨氮", "氨氮(以N计)", "ammonia", "ammonia nitrogen"),
    "tp": ("TP", "总磷", "总磷(以P计)", "total phosphorus"), "tn": ("TN", "总氮", "总氮(以N计)", "total nitrogen"),
    "cu": ("Cu", "铜", "copper"), "zn": ("Zn", "锌", "zinc"),
    "fluoride": ("F", "F-", "氟化物", "氟化物(以F-计)", "fluoride"), "se": ("Se", "硒", "selenium"),
    "as": ("As", "砷", "arsenic"), "hg": ("Hg", "汞", "mercury"), "cd": ("Cd", "镉", "cadmium"),
    "cr6": ("Cr6+", "Cr(VI)", "六价铬", "铬(六价)", "chromium(VI)", "hexavalent chromium"),
    "pb": ("Pb", "铅", "lead"), "cyanide": ("CN", "氰化物", "cyanide"),
    "phenol": ("挥发酚", "挥发性酚类", "挥发性酚类(以苯酚计)", "volatile phenol", "volatile phenols"),
    "petroleum": ("石油类", "oil", "petroleum"), "las": ("LAS", "阴离子表面活性剂", "anionic surfactant"),
    "sulfide": ("S2-", "硫化物", "sulfide", "sulphide"),
    "fecal_coliform": ("粪大肠菌群", "fecal coliform", "fecal coliforms", "faecal coliform"),
    "temp": ("水温", "water temperature", "temperature", "T"),
    "sulfate": ("SO4", "硫酸盐", "硫酸盐(以SO42-计)", "sulfate", "sulphate"),
    "chloride": ("Cl", "Cl-", "氯化物", "氯化物(以Cl-计)", "chloride"),
    "nitrate": ("NO3-N", "硝酸盐", "硝酸盐氮", "硝酸盐(以N计)", "nitrate"),
    "fe": ("Fe", "铁", "iron"), "mn": ("Mn", "锰", "manganese"),
    "total_hardness": ("总硬度", "总硬度(以CaCO3计)", "total hardness", "hardness"),
    "tds": ("TDS", "溶解性总固体", "total dissolved solids"), "al": ("Al", "铝", "aluminium", "aluminum"),
    "na": ("Na", "钠", "sodium"), "total_coliforms": ("总大肠菌群", "total coliforms", "total coliform"),
    "total_bacteria": ("菌落总数", "细菌总数", "total bacteria", "total bacterial count"),
    "nitrite": ("NO2-N", "亚硝酸盐", "亚硝酸盐氮", "亚硝酸盐(以N计)", "nitrite"),
    "iodide": ("碘化物", "iodide"), "color": ("色", "色度", "colour", "color"),
    "turbidity": ("浑浊度", "浊度", "turbidity"),
    "gross_alpha": ("总α放射性", "gross alpha", "gross α"), "gross_beta": ("总β放射性", "gross beta", "gross β"),
}


def _norm(text: object) -> str:
    s = unicodedata.normalize("NFKC", str(text))
    return re.sub(r"\s+", "", s).casefold()


def _build_aliases() -> dict[str, str]:
    out: dict[str, str] = {}
    for key, (zh, en, _unit) in PARAMETER_INFO.items():
        for name in (key, zh, en, *_EXTRA.get(key, ())):
            out.setdefault(_norm(name), key)
    return out


#: Normalized label → parameter key (keys, Chinese and English names, common aliases).
PARAMETER_ALIASES: dict[str, str] = _build_aliases()
_BRACKETED = re.compile(r"[(\[（【].*?[)\]）】]")


def normalize_parameter(label: object) -> str | None:
    """Parameter key of a label, or None.

    >>> [normalize_parameter(x) for x in ("高锰酸盐指数", "氨氮（mg/L）", "TP", "粪大肠菌群", "总大肠菌群", "苯")]
    ['codmn', 'nh3n', 'tp', 'fecal_coliform', 'total_coliforms', None]
    """
    k = _norm(label)
    if k in PARAMETER_ALIASES:
        return PARAMETER_ALIASES[k]
    stripped = _BRACKETED.sub("", k)
    return PARAMETER_ALIASES.get(stripped)


_MASS = {"mg/l": 1.0, "毫克/升": 1.0, "μg/l": 1e-3, "ug/l": 1e-3, "微克/升": 1e-3, "ng/l": 1e-6, "g/l": 1e3,
         "mg/dm3": 1.0, "ppm": 1.0, "ppb": 1e-3}
_PER_L = {"l": 1.0, "100ml": 10.0, "ml": 1000.0}  # count per X → per litre
_COUNT = re.compile(r"^(?:个|mpn|cfu|个数)/(l|100ml|ml)$")


def unit_factor(parameter: str, unit: object) -> float | None:
    """Factor taking ``unit`` to the parameter's canonical unit; None if it does not fit.

    Empty units mean the canonical unit (factor 1).

    >>> unit_factor("hg", "μg/L"), unit_factor("fecal_coliform", "MPN/100mL"), unit_factor("total_coliforms", "MPN/L")
    (0.001, 10.0, 0.1)
    >>> unit_factor("nh3n", "MPN/L") is None
    True
    """
    canon = PARAMETER_INFO[parameter][2]
    u = _norm(unit) if unit is not None and not (isinstance(unit, float) and np.isnan(unit)) else ""
    if u in ("", "nan", "none", _norm(canon)):
        return 1.0
    if canon == "mg/L":
        return _MASS.get(u)
    if canon == "1":
        return 1.0 if u in ("无量纲", "-", "dimensionless", "ph", "无", "1", "ph单位") else None
    m = _COUNT.match(u)
    if canon in ("个/L", "MPN/100mL", "CFU/mL"):
        if not m:
            return None
        per_l = _PER_L[m.group(1)]
        return {"个/L": per_l, "MPN/100mL": per_l / 10.0, "CFU/mL": per_l / 1000.0}[canon]
    if canon == "°C":
        return 1.0 if u in ("°c", "℃", "摄氏度", "c", "degc") else None
    if canon == "度":
        return 1.0 if u in ("度", "铂钴色度单位", "pt-co", "hazen", "pcu") else None
    if canon == "NTU":
        return 1.0 if u in ("ntu", "度", "ftu", "fnu") else None
    if canon == "Bq/L":
        return {"bq/l": 1.0, "mbq/l": 1e-3}.get(u)
    return None


def _find_columns(header: list[str], file: str, line: int) -> dict[str, int]:
    norm = [_norm(h) for h in header]
    found: dict[str, int] = {}
    for field_, names in HEADER_ALIASES.items():
        keys = {_norm(n) for n in names}
        hits = [i for i, h in enumerate(norm) if h in keys]
        if hits:
            found[field_] = hits[0]
    missing = [f for f in ("source", "sampled_at", "parameter", "value") if f not in found]
    if missing:
        raise InputError(file, line, missing[0],
                         f"no column for {missing} in header {bounded_excerpt(', '.join(map(str, header)))}; accepted headers: "
                         + "; ".join(f"{f}: {', '.join(HEADER_ALIASES[f][:6])}" for f in missing))
    return found


def _parse_times(values: pd.Series) -> pd.Series:
    """Stamps (text or datetime cells) → Asia/Shanghai; NaT where unparsable."""
    obj = values.astype(object)
    is_dt = obj.map(lambda x: isinstance(x, (_dt.datetime, _dt.date))).to_numpy(bool)
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns, Asia/Shanghai]")
    if is_dt.any():
        t = pd.to_datetime(pd.Series(list(obj[is_dt]), index=values.index[is_dt]), errors="coerce")
        out[is_dt] = t.dt.tz_localize("Asia/Shanghai") if t.dt.tz is None else t.dt.tz_convert("Asia/Shanghai")
    txt = obj[~is_dt].astype("string").str.strip()
    if len(txt):
        tz_aware = txt.str.contains(r"(?:[+-]\d{2}:?\d{2}|Z)$", regex=True).fillna(False)
        for aware in (False, True):
            part = txt[(tz_aware == aware).to_numpy()]
            if not len(part):
                continue
            p = pd.to_datetime(part, format="ISO8601", errors="coerce", utc=aware)
            retry = p.isna() & part.notna()
            if retry.any():
                p2 = pd.to_datetime(part[retry], format="mixed", errors="coerce", utc=aware)
                p = p.astype(p2.dtype) if len(p2) else p
                p[retry] = p2
            p = p.dt.tz_convert("Asia/Shanghai") if aware else p.dt.tz_localize("Asia/Shanghai",
                                                                                   nonexistent="NaT", ambiguous="NaT")
            out[part.index] = p
    return out


def _load(path: str | Path, sheet: str | int) -> tuple[pd.DataFrame, np.ndarray, list[str], str, bytes]:
    """Cells (header in row 0), 1-based line of each record, raw text per record, encoding, bytes."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise InputError(p, None, None, f"cannot read file: {exc}") from None
    if p.suffix.lower() in (".xlsx", ".xlsm"):
        try:
            cells = pd.read_excel(io.BytesIO(raw), sheet_name=sheet, header=None, dtype=object, engine="openpyxl")
        except ValueError as exc:
            raise InputError(p, None, "sheet", bounded_excerpt(exc, 120)) from None
        except Exception as exc:
            raise InputError(p, None, None, f"not a readable .xlsx workbook: {exc}") from None
        cells = cells.where(cells.notna(), None)
        lines = np.arange(1, len(cells) + 1)
        rawtext = [",".join("" if v is None else str(v) for v in r).rstrip(",") for r in cells.itertuples(index=False)]
        return cells.reset_index(drop=True), lines, rawtext, "xlsx", raw
    if p.suffix.lower() == ".xls":
        raise InputError(p, None, None, "old .xls workbooks are not supported; save as .xlsx or CSV")
    try:
        text, enc = decode_bytes(raw)
    except UnicodeDecodeError as exc:
        raise InputError(p, None, None, f"neither UTF-8 nor GB18030 text: {exc.reason}") from None
    if "\x00" in text[:4096]:
        raise InputError(p, None, None, "binary file, not CSV text")
    fields, start, _n = csv_records(text, file=str(p))
    spans = record_spans(text, start)
    rawtext = raw_lines(text, start.tolist(), [spans.get(s, 1) for s in start.tolist()])
    return fields, start, rawtext, enc, raw


def _check_plausible(param: Any, value: Any, dl: Any, below: Any, reject: Any,
                     value_field: str, dl_field: str) -> None:
    """Reject implausible values and limits, then columns whose unit looks wrong (envquality.water.plausibility)."""
    from envquality.water.plausibility import implausible_values, suspect_units

    mask, field_, reason = implausible_values(param, value, dl, below.astype(bool))
    for which, name in (("value", value_field), ("detection_limit", dl_field)):
        m = mask & (field_ == which)
        if m.any():
            reject(m, name, reason)
    ok = param.notna() & ~mask
    sus, why = suspect_units(param.where(ok), value.where(ok), below.astype(bool))
    if sus.any():
        reject(sus, value_field, why)


class _Rejects:
    """Collects rejected rows; each row is rejected once, for its first failing check."""

    def __init__(self, file: str, line: pd.Series, rawser: pd.Series) -> None:
        self.file, self.line, self.rawser = file, line, rawser
        self.frames: list[pd.DataFrame] = []
        self.bad_any = pd.Series(False, index=line.index)

    def __call__(self, mask: pd.Series, field_: str, reason: str | pd.Series) -> None:
        m = mask & ~self.bad_any
        if m.any():
            self.frames.append(pd.DataFrame({"file": self.file, "line": self.line[m], "field": field_,
                                             "reason": reason[m] if isinstance(reason, pd.Series) else reason,
                                             "raw": self.rawser[m], "source": SOURCE_NAME}))
        self.bad_any |= mask


def _split_header(cells: pd.DataFrame, lines: np.ndarray, rawtext: list[str], file: str) -> tuple:
    """Skip blank rows; the first non-blank row is the header.  Return header, columns, body, lines, raw."""
    nonblank = cells.notna().any(axis=1).to_numpy() & (cells.astype("string").fillna("").apply(
        lambda c: c.str.strip() != "").any(axis=1).to_numpy()) if len(cells) else np.zeros(0, bool)
    if not nonblank.any():
        raise InputError(file, None, None, "empty file: no header")
    h = int(np.flatnonzero(nonblank)[0])
    header = ["" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in cells.iloc[h].tolist()]
    col = _find_columns(header, file, int(lines[h]))
    body = cells.iloc[h + 1:]
    keep = nonblank[h + 1:]
    body = body.loc[keep]
    line = pd.Series(lines[h + 1:][keep], index=body.index)
    rawser = pd.Series(np.asarray(rawtext, dtype=object)[h + 1:][keep], index=body.index)
    return header, col, body, line, rawser


def _parse_values(get: Any, col: dict[str, int], header: list[str], index: pd.Index,
                  reject: _Rejects) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Value, below-detection flag and detection limit from the value/qualifier/limit columns."""
    vtxt = get("value")
    value_arr, below_arr, dl_txt, badv = parse_qualified(vtxt.astype(object).where(vtxt.notna(), None).map(
        lambda x: x if x is None or isinstance(x, str) else repr(x) if isinstance(x, float) else str(x)))
    value = pd.Series(value_arr, index=index)
    below = pd.Series(below_arr, index=index)
    dl = pd.Series(dl_txt, index=index)
    reject(pd.Series(badv, index=index), header[col["value"]],
           "cannot parse value " + vtxt.astype("string").fillna("").map(repr))
    if "qualifier" in col:
        q = get("qualifier")
        qv, qb, qd, _qbad = parse_qualified(q.astype("string"))
        below |= pd.Series(qb, index=index)
        dl = dl.fillna(pd.Series(qd, index=index))
    if "detection_limit" in col:
        dnum, dbad = to_number(get("detection_limit").astype(object).map(lambda x: x if x is None else str(x)))
        reject(dbad, header[col["detection_limit"]], "cannot parse detection limit")
        dl = dnum.where(dnum.notna(), dl)
    reject(value.isna() & ~below, header[col["value"]], "no value")
    return value, below, dl


def _to_standard_units(param: pd.Series, unit: pd.Series, value: pd.Series, dl: pd.Series,
                       col: dict[str, int], header: list[str],
                       reject: _Rejects) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Convert value and limit to each parameter's unit; reject units that do not fit.  Return factor too."""
    index = value.index
    ok_param = param.notna()
    pairs = pd.DataFrame({"p": param.where(ok_param, ""), "u": unit.astype("string").fillna("")})
    combos = pairs.drop_duplicates()
    fac_map = {(r.p, r.u): (unit_factor(str(r.p), str(r.u)) if r.p else 1.0) for r in combos.itertuples(index=False)}
    factor = pd.Series([fac_map[(p, u)] for p, u in zip(pairs["p"], pairs["u"])], index=index, dtype="float64")
    reject(factor.isna(), header[col["unit"]] if "unit" in col else "unit",
           "unit " + unit.astype("string").fillna("").map(repr) + " does not fit parameter "
           + param.astype("string").fillna(""))
    # µg/L → mg/L divides by 1000 (not × 0.001) so "50" µg/L is exactly the double 0.05
    f = factor.fillna(1.0).to_numpy()
    inv = np.where(f < 1, np.round(1.0 / f), 1.0)
    with np.errstate(invalid="ignore", over="ignore"):
        value = pd.Series(np.where(f < 1, value.to_numpy() / inv, value.to_numpy() * f), index=index)
        dl = pd.Series(np.where(f < 1, dl.to_numpy() / inv, dl.to_numpy() * f), index=index)
    return value, dl, factor


def _good_rows(good: pd.Series, src: pd.Series, times: pd.Series, param: pd.Series, value: pd.Series,
               below: pd.Series, dl: pd.Series, line: pd.Series, rawser: pd.Series) -> pd.DataFrame:
    """The accepted rows in :data:`WATER_COLUMNS` layout plus their ``line`` and ``raw``."""
    data = pd.DataFrame({
        "source": src[good].astype(str).to_numpy(),
        "sampled_at": times[good].to_numpy(),
        "parameter": param[good].astype(str).to_numpy(),
        "value": value[good].to_numpy(np.float64),
        "unit": param[good].map(lambda k: PARAMETER_INFO[k][2]).to_numpy(object),
        "qualifier": np.where(below[good].to_numpy(bool), BELOW_DL, ""),
        "detection_limit": dl[good].to_numpy(np.float64),
        "line": line[good].to_numpy(),
        "raw": rawser[good].to_numpy(),
    })
    data["sampled_at"] = pd.to_datetime(data["sampled_at"]).dt.tz_convert("Asia/Shanghai") if len(data) else \
        pd.Series(dtype="datetime64[ns, Asia/Shanghai]")
    return data


def read_water_samples(path: str | Path, *, sheet: str | int = 0) -> ReadResult:
    """Read long-form sampling results from CSV or Excel (see the module docstring).

    Parameters
    ----------
    path : str or Path
        ``.csv`` (UTF-8 with/without BOM, or GB18030) or ``.xlsx``.
    sheet : str or int
        Excel sheet name or 0-based index.

    Returns
    -------
    ReadResult
        ``data`` with :data:`WATER_COLUMNS`; ``meta`` with ``source``,
        ``file``, ``sha256``, ``encoding``, ``rows_in``, ``rows_ok``,
        ``rows_rejected``, ``rows_duplicate``, ``units_converted``,
        ``units_assumed``, ``below_detection``, ``row_origin`` (a frame
        aligned with ``data``: the physical ``line`` and ``raw`` text of
        each row, for quarantining it later); ``rejected`` rows.

    Raises
    ------
    InputError
        File unreadable, not CSV/xlsx, or required columns missing.
    """
    file = str(path)
    cells, lines, rawtext, enc, raw = _load(path, sheet)
    header, col, body, line, rawser = _split_header(cells, lines, rawtext, file)

    def get(f: str) -> pd.Series:
        return body[col[f]] if f in col and col[f] in body.columns else pd.Series(None, index=body.index, dtype=object)

    reject = _Rejects(file, line, rawser)
    src = get("source").astype("string").str.strip()
    reject(src.isna() | (src == ""), header[col["source"]], "no source id")
    times = _parse_times(get("sampled_at"))
    reject(times.isna(), header[col["sampled_at"]], "cannot parse the sampling time")
    labels = get("parameter")
    ulab = pd.unique(labels.astype(object))
    lab_map = {u: normalize_parameter(u) for u in ulab}
    param = labels.map(lab_map)
    reject(param.isna(), header[col["parameter"]],
           "unknown parameter " + labels.astype("string").fillna("").map(repr))
    value, below, dl = _parse_values(get, col, header, body.index, reject)
    unit = get("unit")
    value, dl, factor = _to_standard_units(param, unit, value, dl, col, header, reject)
    _check_plausible(param, value, dl, below, reject, header[col["value"]],
                     header[col["detection_limit"]] if "detection_limit" in col else header[col["value"]])
    good = ~reject.bad_any
    below_good = below & good
    value = value.where(~below, dl)
    data = _good_rows(good, src, times, param, value, below, dl, line, rawser)
    # NaN = NaN in split_duplicates: below-detection copies with equal limits collapse
    dedup_val = data["value"]
    kept, dup_rej, n_dup = split_duplicates(data.assign(value=dedup_val), key=("source", "sampled_at", "parameter"),
                                            file=file, source=SOURCE_NAME)
    rej = reject.frames
    if len(dup_rej):
        dup_rej["field"] = "value"
        rej.append(dup_rej)
    rejected = rejects_frame(pd.concat(rej, ignore_index=True) if rej else [])
    rejected = rejected.sort_values("line", kind="stable").reset_index(drop=True)
    out = kept.loc[:, list(WATER_COLUMNS)].reset_index(drop=True)
    origin = pd.DataFrame({"line": kept["line"].to_numpy(), "raw": kept["raw"].to_numpy()})
    units_given = unit.astype("string").fillna("").str.strip()
    meta = {
        "source": SOURCE_NAME, "file": file, "sha256": sha256_of(raw), "encoding": enc,
        "rows_in": int(len(body)), "rows_ok": int(len(out)), "rows_rejected": int(len(rejected)),
        "rows_duplicate": int(n_dup),
        "units_converted": int(((factor != 1.0) & good).sum()),
        "units_assumed": int(((units_given == "") & good).sum()),
        "below_detection": int(below_good.sum()),
        "row_origin": origin,
    }
    return ReadResult(out, meta, rejected)
