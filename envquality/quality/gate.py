"""The data-quality gate: Great Expectations validation, quarantine and severities.

One call, :func:`run_gate`, validates a DataFrame against one of the suites of
the file-backed GX project in ``expectations/`` (see ``docs/quality.md``):

1. derived columns are computed vectorized for the rules GX cannot express
   directly (:func:`prepare`): ``time_ok``, ``in_window``, ``key_unique``,
   ``spike_ok``, ``stuck_run_ok``, ``pm_ratio_ok``, ``likely_dust`` and the
   completeness columns for hourly readings; ``category_ok``,
   ``city_valid_day_share`` for daily city statistics and site data;
   ``unit_ok``, ``dl_ok``, ``range_ok`` for water samples;
2. the suite's validation definition (or, with ``build_docs=True``, its
   checkpoint, whose action rebuilds the operator Data Docs) runs on the frame
   passed as batch parameter ``{"dataframe": df}``, with the thresholds of
   ``thresholds.yaml`` as suite parameters;
3. every row listed in the ``unexpected_index_list`` of a row-level
   expectation (``meta.level == "row"``) goes to quarantine with the failing
   expectation names as reason; the other rows pass on;
4. failed expectations are sorted by their ``severity``: ``critical`` →
   :attr:`GateResult.critical` (``publish_allowed`` False, see
   :mod:`envquality.quality.publish_guard`), ``warning`` →
   :attr:`GateResult.warnings`, ``info`` → summary only.

The GX project is located by :func:`gx_root`: env ``ENVQUALITY_GX_ROOT``,
else ``expectations/`` of the repository holding this package, else a copy
shipped as package data (``envquality/quality/gx_project``).  It is loaded
once per process (:func:`get_context`) from a private temporary copy, so GX
never writes into the repository.

>>> import pandas as pd
>>> df = pd.DataFrame({"station": ["1476A", "1476A"], "pollutant": ["pm10", "pm10"],
...                    "time": pd.to_datetime(["2024-04-01 01:00", "2024-04-01 02:00"]).tz_localize("Asia/Shanghai"),
...                    "value": [80.0, -5.0]})
>>> res = run_gate(df, build_docs=False)
>>> len(res.passed), res.quarantined["expectations"].tolist()
(1, ['hourly.range.pm10'])
"""

from __future__ import annotations

import atexit
import datetime as _dt
import html
import json
import logging
import os
import re
import shutil
import tempfile
import threading
import time as _time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from envquality.iotools.common import REJECT_COLUMNS
from envquality.model import HOURLY_POLLUTANTS, TIMEZONE
from envquality.quality.config import SUITES, expectation_parameters, load_thresholds

__all__ = [
    "GateResult", "Finding", "run_gate", "prepare", "get_context", "gx_root", "site_dir",
    "data_docs_dir", "results_dir", "make_offline", "GX_ROOT_ENV", "SITE_DIR_ENV", "QUARANTINE_COLUMNS",
]

log = logging.getLogger("envquality.quality")

GX_ROOT_ENV = "ENVQUALITY_GX_ROOT"
SITE_DIR_ENV = "ENVQUALITY_SITE_DIR"
RESULTS_DIR_ENV = "ENVQUALITY_GX_RESULTS_DIR"

#: Columns of :attr:`GateResult.quarantined`: the rejects-frame columns, the
#: failing expectation names (``;``-separated) and the row's position in the batch.
QUARANTINE_COLUMNS: tuple[str, ...] = REJECT_COLUMNS + ("expectations", "severity", "row")

_PKG_ROOT = Path(__file__).resolve().parents[2]
_SEVERITY_ORDER = {"info": 0, "warning": 1, "critical": 2}

# Field reported in quarantine for a derived column.
_FIELD_OF = {
    "time_ok": "time", "in_window": "time", "key_unique": "station,time,pollutant", "spike_ok": "value",
    "stuck_run_ok": "value", "pm_ratio_ok": "value", "category_ok": "category_zh", "unit_ok": "unit",
    "dl_ok": "qualifier", "range_ok": "value",
}
# Helper columns added by prepare() and removed from GateResult.passed.
_DERIVED = (
    "time_ok", "in_window", "key_unique", "spike_ok", "stuck_run_ok", "pm_ratio_ok", "station_completeness",
    "hour_completeness", "batch_completeness", "category_ok", "city_valid_day_share", "unit_ok", "dl_ok",
    "range_ok", "_city_derived",
)


# --------------------------------------------------------------------------- locations
def gx_root() -> Path:
    """Folder of the GX project (the one holding ``great_expectations.yml``)."""
    env = os.environ.get(GX_ROOT_ENV)
    if env:
        p = Path(env)
        if not (p / "great_expectations.yml").is_file():
            raise FileNotFoundError(f"{GX_ROOT_ENV}={env}: no great_expectations.yml there")
        return p
    repo = _PKG_ROOT / "expectations"
    if (repo / "great_expectations.yml").is_file():
        return repo
    shipped = resources.files("envquality.quality").joinpath("gx_project")
    if shipped.joinpath("great_expectations.yml").is_file():
        return Path(str(shipped))
    raise FileNotFoundError(
        "Great Expectations project not found: set ENVQUALITY_GX_ROOT or run from a checkout with expectations/")


def site_dir() -> Path:
    """Root of the generated site: env ``ENVQUALITY_SITE_DIR``, default ``var/site`` of the checkout."""
    env = os.environ.get(SITE_DIR_ENV)
    if env:
        return Path(env)
    base = _PKG_ROOT if (_PKG_ROOT / "expectations").is_dir() else Path.cwd()
    return base / "var" / "site"


def data_docs_dir() -> Path:
    """Operator (non-public) Data Docs: ``<site>/operator/data_docs``."""
    return site_dir() / "operator" / "data_docs"


def results_dir() -> Path:
    """Stored GX validation results: env ``ENVQUALITY_GX_RESULTS_DIR``, default ``<site>/../quality/validations``."""
    env = os.environ.get(RESULTS_DIR_ENV)
    return Path(env) if env else site_dir().parent / "quality" / "validations"


# --------------------------------------------------------------------------- context
_LOCK = threading.RLock()
_CONTEXTS: dict[tuple[str, str, str], Any] = {}
_TMPDIRS: list[str] = []


def _cleanup() -> None:  # pragma: no cover - at exit
    for d in _TMPDIRS:
        shutil.rmtree(d, ignore_errors=True)


atexit.register(_cleanup)


def get_context():
    """The GX ``FileDataContext`` of :func:`gx_root`, loaded once per process and locations.

    The project is copied to a temporary folder first: GX writes store ids and
    ``uncommitted/`` when it opens a project, and the repository must stay
    clean.  Data Docs go to :func:`data_docs_dir`, results to :func:`results_dir`.
    """
    root, docs, res = gx_root(), data_docs_dir(), results_dir()
    key = (str(root.resolve()), str(docs.resolve()), str(res.resolve()))
    with _LOCK:
        ctx = _CONTEXTS.get(key)
        if ctx is not None:
            return ctx
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        import warnings

        import great_expectations as gx

        tmp = tempfile.mkdtemp(prefix="envquality-gx-")
        _TMPDIRS.append(tmp)
        proj = Path(tmp) / "project"
        shutil.copytree(root, proj, ignore=shutil.ignore_patterns("uncommitted", "__pycache__", "*.py",
                                                                   ".ge_store_backend_id"))
        docs.mkdir(parents=True, exist_ok=True)
        res.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx = gx.get_context(mode="file", context_root_dir=str(proj), runtime_environment={
                "ENVQUALITY_DATA_DOCS_DIR": str(docs.resolve()) + os.sep,
                "ENVQUALITY_GX_RESULTS_DIR": str(res.resolve()) + os.sep,
            })
        _CONTEXTS[key] = ctx
        return ctx


# --------------------------------------------------------------------------- derived columns
def _registry_maps() -> tuple[dict[str, str], list[str]]:
    from envquality.registry import default_registry

    reg = default_registry()
    city_of = reg.station_city()  # current and historical stations
    cities = reg.cities["code"].astype(str).tolist()
    city_of.update({c: c for c in cities})
    return city_of, cities


def _series_order(station: np.ndarray, pol: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row order sorted by (station, pollutant, time) and a series id per sorted row."""
    s_code = pd.factorize(station)[0]
    p_code = pd.factorize(pol)[0]
    order = np.lexsort((t, p_code, s_code))
    sid = s_code[order].astype(np.int64) * (p_code.max(initial=0) + 1) + p_code[order]
    return order, sid


def _per_pol(values: dict, pol: np.ndarray, default: float) -> np.ndarray:
    return pd.Series(pol).map({k: float(v) for k, v in values.items()}).fillna(default).to_numpy(float)


def _prepare_hourly(df: pd.DataFrame, cfg: dict, window, expected_stations) -> pd.DataFrame:
    h = cfg["hourly"]
    out = df.reset_index(drop=True).copy(deep=False)
    n = len(out)
    def col(c):  # a missing column stays missing (hourly.schema fails); computations see NA
        return out[c] if c in out else pd.Series([pd.NA] * n, dtype="object")

    station = col("station").astype("string").fillna("").to_numpy(dtype=object)
    pol = col("pollutant").astype("string").fillna("").to_numpy(dtype=object)
    v = pd.to_numeric(col("value"), errors="coerce").to_numpy(dtype=float, na_value=np.nan)

    # city from the registry where not given
    city_of, _ = _registry_maps()
    derived_city = pd.Series(station).map(city_of)
    if "city" in out and out["city"].notna().any():
        given = out["city"].astype("string")
        from envquality.registry import default_registry

        reg = default_registry()

        def _code(name):
            try:
                return reg.city_code(name)
            except (KeyError, ValueError):
                return name  # unknown: left for hourly.city_known

        codes = {u: _code(u) for u in given.dropna().unique()}
        given = given.map(codes).astype("string")
        out["city"] = given.where(given.notna(), derived_city.astype("string"))
    else:
        out["city"] = derived_city.astype("string").to_numpy()

    # time
    t = col("time")
    tz_ok = isinstance(t.dtype, pd.DatetimeTZDtype) and str(t.dt.tz) in (TIMEZONE, "UTC+08:00", "+08:00")
    if isinstance(t.dtype, pd.DatetimeTZDtype):
        tt = t.dt.tz_convert(TIMEZONE)
    else:
        tt = pd.to_datetime(t, errors="coerce")
        tt = tt.dt.tz_localize(TIMEZONE) if getattr(tt.dt, "tz", None) is None else tt.dt.tz_convert(TIMEZONE)
    t_ns = tt.astype("datetime64[ns, Asia/Shanghai]").to_numpy(dtype="datetime64[ns]").view("int64")
    nat = tt.isna().to_numpy()
    whole = ~nat & (t_ns % 3_600_000_000_000 == 0)
    out["time_ok"] = whole & tz_ok
    now = pd.Timestamp.now(tz=TIMEZONE) + pd.Timedelta(hours=float(h["window"]["future_hours"]))
    inw = ~nat & (t_ns <= now.value)
    if window is not None:
        w0, w1 = (pd.Timestamp(x) for x in window)
        w0 = w0.tz_localize(TIMEZONE) if w0.tzinfo is None else w0
        w1 = w1.tz_localize(TIMEZONE) if w1.tzinfo is None else w1
        inw &= (t_ns >= w0.value) & (t_ns <= w1.value)
    out["in_window"] = inw

    # duplicate keys: identical copies after the first fail, conflicting copies all fail
    key = pd.DataFrame({"s": station, "t": t_ns, "p": pol})
    kid = key.groupby(["s", "t", "p"], sort=False).ngroup().to_numpy()
    vkey = np.where(np.isnan(v), -1.2345e308, v)
    first_kv = ~pd.DataFrame({"k": kid, "v": vkey}).duplicated().to_numpy()
    distinct = np.bincount(kid, weights=first_kv.astype(float))[kid] if n else np.zeros(0)
    out["key_unique"] = first_kv & (distinct <= 1)

    # per (station, time) PM pair: ratio and dust
    st_id = pd.DataFrame({"s": station, "t": t_ns}).groupby(["s", "t"], sort=False).ngroup().to_numpy()
    nst = int(st_id.max()) + 1 if n else 0
    pm10 = np.full(nst, np.nan)
    pm25 = np.full(nst, np.nan)
    m10, m25 = pol == "pm10", pol == "pm25"
    pm10[st_id[m10]] = v[m10]
    pm25[st_id[m25]] = v[m25]
    r = h["pm_ratio"]
    with np.errstate(invalid="ignore", divide="ignore"):
        bad_pair = pm25 > pm10 * (1 + float(r["relative"])) + float(r["absolute"])
        d = h["dust"]
        dust = (pm10 >= float(d["pm10_min"])) & (np.isnan(pm25) | (pm25 / pm10 <= float(d["ratio_max"])))
    is_pm = m10 | m25
    out["pm_ratio_ok"] = ~(bad_pair[st_id] & is_pm) if n else np.ones(0, bool)
    likely_dust = (dust[st_id] & is_pm) if n else np.zeros(0, bool)
    out["likely_dust"] = likely_dust

    # series-ordered rules: stuck analyser and spikes
    order, sid = _series_order(station, pol, t_ns)
    vs = v[order]
    ps = pol[order]
    same = np.zeros(n, bool)
    if n > 1:
        same[1:] = (vs[1:] == vs[:-1]) & (sid[1:] == sid[:-1])
    run_id = np.cumsum(~same)
    run_len = np.bincount(run_id)[run_id] if n else np.zeros(0, int)
    st = h["stuck"]
    min_run = _per_pol(st["hours"], ps, np.inf)
    floor = _per_pol(st["floor"], ps, np.inf)
    stuck_sorted = (run_len >= min_run) & (vs > floor)
    stuck = np.zeros(n, bool)
    stuck[order] = stuck_sorted
    out["stuck_run_ok"] = ~stuck

    sp = h["spike"]
    half = int(sp["window_hours"]) // 2
    win = np.full((n, 2 * half + 1), np.nan)
    for k in range(-half, half + 1):
        col = np.full(n, np.nan)
        if k < 0:
            ok = sid[-k:] == sid[:k]
            col[-k:] = np.where(ok, vs[:k], np.nan)
        elif k > 0:
            ok = sid[:-k] == sid[k:]
            col[:-k] = np.where(ok, vs[k:], np.nan)
        else:
            col = vs
        win[:, k + half] = col
    with np.errstate(invalid="ignore"), _quiet():
        med = np.nanmedian(win, axis=1) if n else np.zeros(0)
        spike_sorted = (vs > float(sp["factor"]) * med) & (vs > _per_pol(sp["min_value"], ps, np.inf))
    spike = np.zeros(n, bool)
    spike[order] = spike_sorted
    out["spike_ok"] = ~(spike & ~likely_dust)

    # completeness over the expected stations and hours (the six 1-h pollutants)
    basic = pd.Series(pol).isin(HOURLY_POLLUTANTS).to_numpy() & whole & inw
    valid = basic & ~np.isnan(v)
    if window is not None:
        n_hours = max(int((w1 - w0) / pd.Timedelta(hours=1)) + 1, 1)
    elif whole.any():
        n_hours = int((t_ns[whole].max() - t_ns[whole].min()) // 3_600_000_000_000) + 1
    else:
        n_hours = 1
    exp_st = list(expected_stations) if expected_stations is not None else sorted(set(station[basic]))
    n_exp = max(len(exp_st), 1)
    npol = len(HOURLY_POLLUTANTS)
    per_station = pd.Series(valid).groupby(station).sum()
    per_hour = pd.Series(valid).groupby(t_ns).sum()
    sc = pd.Series(station).map(per_station).fillna(0).to_numpy(float) / (n_hours * npol)
    out["station_completeness"] = np.where(pd.Series(station).isin(exp_st).to_numpy(), sc, np.nan)  # others: station_known
    hc = pd.Series(t_ns).map(per_hour).fillna(0).to_numpy(float) / (n_exp * npol)
    out["hour_completeness"] = np.where(whole & inw, hc, np.nan)  # others: time_ok / in_window
    out["batch_completeness"] = float(valid.sum()) / (n_exp * n_hours * npol)
    out.attrs["absent_stations"] = sorted(set(exp_st) - set(station[valid]))
    return out


class _quiet:
    def __enter__(self):
        import warnings

        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        self._w.__exit__(*exc)


def _aqi_levels(aqi: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Level 1-6, Chinese category and colour of each AQI (standards.md §1.5); NaN AQI → level 0."""
    edges = np.array([50, 100, 150, 200, 300])
    lvl = np.where(np.isnan(aqi), 0, np.searchsorted(edges, np.nan_to_num(aqi), side="left") + 1)
    cats = np.array(["", "优", "良", "轻度污染", "中度污染", "重度污染", "严重污染"], dtype=object)
    cols = np.array(["", "#00E400", "#FFFF00", "#FF7E00", "#FF0000", "#99004C", "#7E0023"], dtype=object)
    return lvl, cats[lvl], cols[lvl]


def _level_number(level: pd.Series) -> np.ndarray:
    roman = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "一级": 1, "二级": 2, "三级": 3, "四级": 4,
             "五级": 5, "六级": 6}
    num = pd.to_numeric(level, errors="coerce")
    txt = level.astype("string").str.strip().map(roman)
    return num.fillna(pd.to_numeric(txt, errors="coerce")).to_numpy(float, na_value=np.nan)


def _category_ok(out: pd.DataFrame, aqi_col: str) -> np.ndarray:
    aqi = pd.to_numeric(out[aqi_col], errors="coerce").to_numpy(float, na_value=np.nan)
    lvl, cat, col = _aqi_levels(aqi)
    ok = np.ones(len(out), bool)
    if "level" in out:
        ok &= (_level_number(out["level"]) == lvl) | np.isnan(aqi)
    if "category_zh" in out:
        ok &= (out["category_zh"].astype("string").fillna("").to_numpy(object) == cat) | np.isnan(aqi)
    if "colour" in out:
        ok &= (out["colour"].astype("string").fillna("").str.upper().to_numpy(object) == col) | np.isnan(aqi)
    return ok


def _prepare_daily(df: pd.DataFrame, cfg: dict) -> pd.DataFrame:
    out = df.reset_index(drop=True).copy(deep=False)
    if "aqi" in out:
        out["category_ok"] = _category_ok(out, "aqi")
    if "city" in out:
        comp = out["complete"].astype(bool) if "complete" in out else pd.to_numeric(
            out.get("aqi"), errors="coerce").notna()
        share = comp.groupby(out["city"].astype(str)).mean()
        out["city_valid_day_share"] = out["city"].astype(str).map(share).to_numpy(float)
    return out


def _prepare_site(df: pd.DataFrame, cfg: dict) -> pd.DataFrame:
    out = df.reset_index(drop=True).copy(deep=False)
    if "aqi" in out:
        out["category_ok"] = _category_ok(out, "aqi")
    return out


def _norm_unit(u: pd.Series, aliases: dict) -> pd.Series:
    s = u.astype("string").fillna("").str.strip()
    low = s.str.lower().str.replace("μ", "µ", regex=False)
    al = {str(k).lower(): str(v) for k, v in aliases.items()}
    return low.map(al).fillna(s)


def _prepare_water(df: pd.DataFrame, cfg: dict) -> pd.DataFrame:
    w = cfg["water"]
    out = df.reset_index(drop=True).copy(deep=False)
    n = len(out)
    par = out["parameter"].astype("string").fillna("") if "parameter" in out else pd.Series([""] * n)
    spec = w["parameters"]
    want = par.map({k: str(s["unit"]) for k, s in spec.items()})
    unit = _norm_unit(out["unit"], w.get("unit_aliases", {})) if "unit" in out else pd.Series([""] * n)
    want_n = _norm_unit(want.fillna(""), w.get("unit_aliases", {}))
    out["unit_ok"] = (want.isna() | (unit == want_n)).fillna(False).to_numpy(bool)
    v = pd.to_numeric(out.get("value"), errors="coerce").to_numpy(float, na_value=np.nan) if "value" in out \
        else np.full(n, np.nan)
    lo = par.map({k: float(s["min"]) for k, s in spec.items()}).to_numpy(float, na_value=-np.inf)
    hi = par.map({k: float(s["max"]) for k, s in spec.items()}).to_numpy(float, na_value=np.inf)
    out["range_ok"] = np.isnan(v) | ((v >= lo) & (v <= hi))
    if "qualifier" in out:
        out["qualifier"] = out["qualifier"].astype("string").fillna("").str.strip().to_numpy(object)
        q = out["qualifier"].to_numpy(object)
    else:
        q = np.array([""] * n, dtype=object)
    dl = pd.to_numeric(out.get("detection_limit"), errors="coerce").to_numpy(float, na_value=np.nan) \
        if "detection_limit" in out else np.full(n, np.nan)
    below = (q == "<") | (q == "ND")
    with np.errstate(invalid="ignore"):
        ok_below = ~np.isnan(dl) & (dl > 0) & (np.isnan(v) | (v <= dl))
    ok_quant = ~np.isnan(v)
    out["dl_ok"] = np.where(below, ok_below, ok_quant)
    return out


def prepare(suite: str, df: pd.DataFrame, *, config: dict | None = None, window=None,
            expected_stations: Sequence[str] | None = None) -> pd.DataFrame:
    """The batch as validated: a copy of ``df`` (index reset) plus the derived columns of ``suite``.

    For ``hourly_readings``: ``window`` = (first, last) hour-ending time of
    the ingest window (inclusive; naive times are CST); ``expected_stations``
    = the stations that should report (default: those present).
    """
    cfg = config or load_thresholds()
    if suite == "hourly_readings":
        return _prepare_hourly(df, cfg, window, expected_stations)
    if suite == "daily_city":
        return _prepare_daily(df, cfg)
    if suite == "water_samples":
        return _prepare_water(df, cfg)
    if suite == "site_data":
        return _prepare_site(df, cfg)
    raise KeyError(f"unknown suite {suite!r}; known: {', '.join(SUITES)}")


# --------------------------------------------------------------------------- results
@dataclass
class Finding:
    """A failed batch-level outcome of one expectation."""

    suite: str
    name: str
    severity: str
    expectation_type: str
    column: str | None
    description: str
    observed: Any = None
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    threshold: str = ""

    def message(self) -> str:
        parts = [f"[{self.severity}] {self.suite}/{self.name}: {self.description}"]
        if self.observed is not None:
            parts.append(f"observed {self.observed}")
        if self.unexpected_count:
            parts.append(f"{self.unexpected_count} row(s) ({self.unexpected_percent:.2f} %)")
        return "; ".join(parts)

    def to_dict(self) -> dict:
        return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in self.__dict__.items()}


@dataclass
class GateResult:
    """What the gate returns.

    Attributes
    ----------
    passed : DataFrame
        Input rows that failed no row-level expectation (original columns,
        plus ``likely_dust`` for hourly readings).
    quarantined : DataFrame
        Columns :data:`QUARANTINE_COLUMNS`: ``file``, ``line`` (input line
        when the frame has a ``line`` column), ``field``, ``reason``, ``raw``
        (the row as ``col=value`` text), ``source``, ``expectations`` (the
        failing expectation names, ``;``-separated), ``severity`` (highest)
        and ``row`` (position in the batch).
    warnings, critical : list of Finding
        Failed expectations by severity.
    publish_allowed : bool
        False when any critical expectation failed.
    summary : DataFrame
        One row per expectation: name, type, column, level, severity,
        success, unexpected_count/percent, observed value, quarantined rows.
    docs_path : Path or None
        Operator Data Docs index page, when built.
    """

    suite: str
    passed: pd.DataFrame
    quarantined: pd.DataFrame
    warnings: list[Finding] = field(default_factory=list)
    critical: list[Finding] = field(default_factory=list)
    publish_allowed: bool = True
    summary: pd.DataFrame = field(default_factory=pd.DataFrame)
    docs_path: Path | None = None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def success(self) -> bool:
        return self.publish_allowed


def _severity_of(cfg) -> str:
    s = getattr(cfg, "severity", None)
    s = getattr(s, "value", s)
    if s is None:
        s = (cfg.meta or {}).get("severity", "critical")
    return str(s).lower()


def _fmt_observed(v: Any) -> Any:
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float):
        return round(v, 4)
    if isinstance(v, (list, tuple)) and len(v) > 10:
        return f"{list(v[:10])}…"
    return v


def _raw_text(frame: pd.DataFrame, cols: list[str]) -> pd.Series:
    if frame.empty:
        return pd.Series([], dtype=object)
    # astype("string").fillna: under pandas 3 astype(str) keeps NaN, which blanked the whole text
    parts = [cols[0] + "=" + frame[cols[0]].astype("string").fillna("nan")]
    for c in cols[1:]:
        parts.append("," + c + "=" + frame[c].astype("string").fillna("nan"))
    out = parts[0]
    for p in parts[1:]:
        out = out + p
    return out


def run_gate(
    data: pd.DataFrame,
    suite: str = "hourly_readings",
    *,
    window: tuple | None = None,
    expected_stations: Sequence[str] | None = None,
    file: str = "",
    source: str = "",
    build_docs: bool = True,
    config: dict | None = None,
    known_stations: Sequence[str] | None = None,
) -> GateResult:
    """Validate ``data`` with ``suite`` and split it into passed and quarantined rows.

    Parameters
    ----------
    data : DataFrame
        The batch (for ``hourly_readings`` the tidy model of
        :mod:`envquality.model`; see ``docs/quality.md`` for the others).
    suite : str
        One of :data:`envquality.quality.config.SUITES`.
    window, expected_stations
        Hourly readings only, see :func:`prepare`.
    file, source : str
        Written into the quarantine rows.
    build_docs : bool, default True
        Run the suite's checkpoint (stores the result and rebuilds the
        operator Data Docs, made offline by :func:`make_offline`); with
        False only the validation definition runs (faster).
    config : dict, optional
        Thresholds (default :func:`~envquality.quality.config.load_thresholds`).
    known_stations : sequence of str, optional
        Extra station codes to accept besides the registry's (another
        network, simulated ``S0001`` codes in benchmarks).
    """
    cfg = config or load_thresholds()
    input_cols = [str(c) for c in data.columns]
    t0 = _time.perf_counter()
    batch = prepare(suite, data, config=cfg, window=window, expected_stations=expected_stations)
    t_prep = _time.perf_counter() - t0
    params = expectation_parameters(suite, cfg)
    if known_stations is not None and "known_stations" in params:
        params["known_stations"] = sorted(set(params["known_stations"]) | {str(x) for x in known_stations})
    ctx = get_context()
    t1 = _time.perf_counter()
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        if build_docs:
            cp = ctx.checkpoints.get(suite)
            start = _time.time()
            cres = cp.run(batch_parameters={"dataframe": batch}, expectation_parameters=params)
            vres = list(cres.run_results.values())[0]
            docs_path = data_docs_dir() / "index.html"
            make_offline(data_docs_dir(), since=start - 1)
        else:
            vd = ctx.validation_definitions.get(suite)
            vres = vd.run(batch_parameters={"dataframe": batch}, expectation_parameters=params,
                          result_format={"result_format": "COMPLETE", "return_unexpected_index_query": False,
                                         "partial_unexpected_count": 20})
            docs_path = None
    t_gx = _time.perf_counter() - t1

    n = len(batch)
    fail_names: list[np.ndarray] = []
    fail_sev: list[np.ndarray] = []
    fail_rows: list[np.ndarray] = []
    fail_field: list[np.ndarray] = []
    rows, warnings_, critical = [], [], []
    descr: dict[str, str] = {}
    for er in vres.results:
        ec = er.expectation_config
        meta = ec.meta or {}
        name = meta.get("name", ec.type)
        level = meta.get("level", "batch")
        sev = _severity_of(ec)
        col = ec.kwargs.get("column") or ",".join(ec.kwargs.get("column_list", []) or []) or None
        res = er.result or {}
        exc = (er.exception_info or {}).get("raised_exception", False)
        idx = res.get("unexpected_index_list") if level == "row" else None
        n_q = 0
        if level == "row" and idx and not exc:
            if isinstance(idx[0], dict):  # compound-column expectations may return dicts
                idx = [d.get("index", d.get("row")) for d in idx]
            ii = np.unique(np.asarray(idx, dtype=np.int64))
            n_q = len(ii)
            fail_rows.append(ii)
            fail_names.append(np.full(len(ii), name, dtype=object))
            fail_sev.append(np.full(len(ii), _SEVERITY_ORDER.get(sev, 2)))
            fail_field.append(np.full(len(ii), _FIELD_OF.get(col, col or ""), dtype=object))
            descr[name] = ec.description or name
        observed = _fmt_observed(res.get("observed_value"))
        rows.append({
            "suite": suite, "expectation": name, "type": ec.type, "column": col, "level": level,
            "severity": sev, "success": bool(er.success) and not exc,
            "unexpected_count": res.get("unexpected_count"), "unexpected_percent": res.get("unexpected_percent"),
            "observed": observed, "quarantined": n_q, "threshold": meta.get("threshold", ""),
        })
        if not er.success or exc:
            desc = ec.description or name
            if exc:
                desc += f" (error: {(er.exception_info or {}).get('exception_message')})"
                sev = "critical"
            f = Finding(suite, name, sev, ec.type, col, desc, observed, res.get("unexpected_count"),
                        res.get("unexpected_percent"), meta.get("threshold", ""))
            if sev == "critical":
                critical.append(f)
            elif sev == "warning":
                warnings_.append(f)
    absent = batch.attrs.get("absent_stations") or []
    if absent:
        warnings_.append(Finding(suite, "hourly.stations_absent", "warning", "gate", "station",
                                 f"{len(absent)} expected station(s) sent nothing: {', '.join(absent[:20])}"))

    # quarantine
    if fail_rows:
        fr = pd.DataFrame({"row": np.concatenate(fail_rows), "name": np.concatenate(fail_names),
                           "sev": np.concatenate(fail_sev), "field": np.concatenate(fail_field)})
        fr = fr.sort_values(["row", "sev"], ascending=[True, False], kind="stable")
        g = fr.groupby("row", sort=True)
        qrows = g.size().index.to_numpy()
        names = g["name"].agg(";".join)
        sevs = g["sev"].max().map({v: k for k, v in _SEVERITY_ORDER.items()})
        fields = g["field"].first()
    else:
        qrows = np.zeros(0, np.int64)
        names = sevs = fields = pd.Series([], dtype=object)
    bad = np.zeros(n, bool)
    bad[qrows] = True
    src_rows = batch.iloc[qrows]
    raw_cols = [c for c in input_cols if c not in ("raw", "line")]
    if "raw" in batch:
        raw = src_rows["raw"].astype(str)
    else:
        raw = _raw_text(src_rows, raw_cols) if raw_cols else pd.Series([""] * len(src_rows))
    line = src_rows["line"] if "line" in batch else pd.Series([pd.NA] * len(src_rows))
    if "source" in batch and suite != "water_samples":
        src = src_rows["source"].astype(str).to_numpy()
    else:
        src = np.full(len(src_rows), source or f"gate:{suite}", dtype=object)
    quarantined = pd.DataFrame({
        "file": np.full(len(qrows), file, dtype=object),
        "line": pd.array(np.asarray(line, dtype=object), dtype="Int64") if len(qrows) else pd.array([], "Int64"),
        "field": np.asarray(fields, dtype=object),
        "reason": [" ; ".join(f"{nm}: {descr.get(nm, nm)}" for nm in s.split(";")) for s in names],
        "raw": np.asarray(raw, dtype=object),
        "source": src,
        "expectations": np.asarray(names, dtype=object),
        "severity": np.asarray(sevs, dtype=object),
        "row": qrows.astype(np.int64),
    })
    keep_cols = input_cols + (["likely_dust"] if "likely_dust" in batch and "likely_dust" not in input_cols else [])
    passed = batch.loc[~bad, [c for c in keep_cols if c in batch]]
    summary = pd.DataFrame(rows)
    info = {
        "rows": n, "passed": int((~bad).sum()), "quarantined": int(bad.sum()),
        "seconds_prepare": round(t_prep, 4), "seconds_gx": round(t_gx, 4),
        "likely_dust_rows": int(batch["likely_dust"].sum()) if "likely_dust" in batch else 0,
        "absent_stations": absent, "run_time": str(getattr(vres.meta.get("run_id"), "run_time", "")),
    }
    result = GateResult(suite, passed, quarantined, warnings_, critical, not critical, summary, docs_path, info)
    for f in critical:
        log.error("quality gate: %s", f.message())
    for f in warnings_:
        log.warning("quality gate: %s", f.message())
    return result


# --------------------------------------------------------------------------- offline Data Docs
_EXTERNAL_TAG = re.compile(
    r"<script[^>]*\bsrc=\"https?://[^\"]*\"[^>]*>\s*</script>|<link[^>]*\bhref=\"https?://[^\"]*\"[^>]*/?>",
    re.I)
_S3_IMAGES = "https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/"
_OFFLINE_MARK = "<!-- envquality: offline -->"
_OFFLINE_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC",sans-serif;margin:0;padding:0 1rem;
color:#222;background:#fff}
a{color:#0b5cad} img{max-width:220px}
table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem} td,th{border:1px solid #ccc;padding:.25rem .5rem;
vertical-align:top} th{background:#f2f2f2}
.container-fluid,.row{display:block} .col-md-2,.col-md-8,.col-md-10,.col-12{display:block;width:auto}
.card{border:1px solid #ddd;border-radius:4px;margin:.75rem 0;padding:.5rem}
.card-header{font-weight:bold;background:#f7f7f7;padding:.3rem}
.badge{padding:0 .3rem;border-radius:3px;background:#eee} .text-danger{color:#b00} .text-success{color:#070}
.fa:before,.fas:before{content:""} .sticky{position:static} nav,.navbar{padding:.5rem 0;border-bottom:1px solid #ddd}
.collapse{display:block} .d-none{display:none} ul.nav{list-style:none;padding-left:0}
"""


def make_offline(folder: Path | str, since: float | None = None) -> int:
    """Make Data Docs pages load nothing from the internet; returns the pages changed.

    GX pages reference Bootstrap, jQuery, bootstrap-table, Font Awesome and
    Vega from public CDNs and the GX logo from S3.  This strips those tags,
    points the logo at the local ``static/images`` copy and adds a small local
    stylesheet, so the pages read well offline (tables and text are plain
    HTML; only the interactive table filters and Vega charts are lost).
    """
    folder = Path(folder)
    if not folder.is_dir():
        return 0
    css = folder / "static" / "styles" / "envquality-offline.css"
    css.parent.mkdir(parents=True, exist_ok=True)
    if not css.exists() or css.read_text(encoding="utf-8") != _OFFLINE_CSS:
        css.write_text(_OFFLINE_CSS, encoding="utf-8")
    changed = 0
    for page in folder.rglob("*.html"):
        if since is not None and page.stat().st_mtime < since and page.name != "index.html":
            continue
        text = page.read_text(encoding="utf-8")
        if _OFFLINE_MARK in text:
            continue
        depth = len(page.relative_to(folder).parts) - 1
        rel = "../" * depth
        text = _EXTERNAL_TAG.sub("", text)
        text = text.replace(_S3_IMAGES, rel + "static/images/")
        text = text.replace("</head>", f'<link rel="stylesheet" href="{rel}static/styles/envquality-offline.css">'
                                       f"\n{_OFFLINE_MARK}\n</head>", 1)
        page.write_text(text, encoding="utf-8")
        changed += 1
    return changed
