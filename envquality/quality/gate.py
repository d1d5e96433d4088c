"""The data-quality gate: Great Expectations validation, quarantine and severities.

One call, :func:`run_gate`, validates a DataFrame against one of the suites of
the file-backed GX project in ``expectations/`` (see ``docs/quality.md``):

1. derived columns are computed vectorised for the rules GX cannot express
   directly (:func:`envquality.quality.derive.prepare`);
2. the suite's validation definition runs on the frame passed as batch
   parameter ``{"dataframe": df}``, with the thresholds of ``thresholds.yaml``
   as suite parameters; the stored result is replaced by an HTML-escaped copy
   and, with ``build_docs=True``, its operator Data Docs page is rendered
   offline (:mod:`envquality.quality.docs`);
3. every row listed in the ``unexpected_index_list`` of a row-level
   expectation (``meta.level == "row"``) goes to quarantine with the failing
   expectation names as reason, its input ``line`` and raw text; the other
   rows pass on;
4. failed expectations are sorted by their ``severity``: ``critical`` →
   :attr:`GateResult.critical` (``publish_allowed`` False, see
   :mod:`envquality.quality.publish_guard`), ``warning`` →
   :attr:`GateResult.warnings`, ``info`` → summary only.

Input lines and raw text
    A frame may carry ``line`` (the physical input line of each row) and
    ``raw`` (its raw text); the gate writes both into the quarantine rows and
    keeps them on the passed rows.  Readers that do not keep ``raw`` per row
    put a callable ``frame.attrs["raw_of"](lines) -> list[str]`` on the frame
    (the raw text of the given physical lines); the gate calls it for the
    quarantined rows only.  Without either, ``raw`` is the row rebuilt as
    ``col=value`` text.

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
import logging
import os
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
from envquality.quality.config import expectation_parameters, load_thresholds
from envquality.quality.derive import FIELD_OF, prepare
from envquality.quality.docs import make_offline, store_result

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
_RESULT_FORMAT = {"result_format": "COMPLETE", "return_unexpected_index_query": False,
                  "partial_unexpected_count": 20}


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
    out = cols[0] + "=" + frame[cols[0]].astype("string").fillna("nan")
    for c in cols[1:]:
        out = out + ("," + c + "=") + frame[c].astype("string").fillna("nan")
    return out


def _parameters(suite: str, cfg: dict, known_stations: Sequence[str] | None) -> dict:
    params = expectation_parameters(suite, cfg)
    if known_stations is not None and "known_stations" in params:
        params["known_stations"] = sorted(set(params["known_stations"]) | {str(x) for x in known_stations})
    return params


def _validate(batch: pd.DataFrame, suite: str, params: dict, *, build_docs: bool, cfg: dict):
    """Run the suite's validation definition; store the escaped result; build its page."""
    import warnings

    from great_expectations.core.run_identifier import RunIdentifier

    ctx = get_context()
    vd = ctx.validation_definitions.get(suite)
    run_id = RunIdentifier(run_time=_dt.datetime.now(_dt.timezone.utc))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        vres = vd.run(batch_parameters={"dataframe": batch}, expectation_parameters=params,
                      result_format=_RESULT_FORMAT, run_id=run_id)
        keep = cfg.get("data_docs", {}).get("keep_results")
        docs_path = store_result(ctx, suite, vres, docs_dir=data_docs_dir(), build_docs=build_docs,
                                 keep_results=None if keep is None else int(keep))
    return vres, docs_path


@dataclass
class _Outcome:
    """Expectation results of one validation, read into arrays."""

    summary: list[dict] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    critical: list[Finding] = field(default_factory=list)
    fail_rows: list[np.ndarray] = field(default_factory=list)
    fail_names: list[np.ndarray] = field(default_factory=list)
    fail_sev: list[np.ndarray] = field(default_factory=list)
    fail_field: list[np.ndarray] = field(default_factory=list)
    descr: dict[str, str] = field(default_factory=dict)


def _row_failures(out: _Outcome, idx: list, name: str, sev: str, col: str | None, description: str) -> int:
    if isinstance(idx[0], dict):  # compound-column expectations may return dicts
        idx = [d.get("index", d.get("row")) for d in idx]
    ii = np.unique(np.asarray(idx, dtype=np.int64))
    out.fail_rows.append(ii)
    out.fail_names.append(np.full(len(ii), name, dtype=object))
    out.fail_sev.append(np.full(len(ii), _SEVERITY_ORDER.get(sev, 2)))
    out.fail_field.append(np.full(len(ii), FIELD_OF.get(col or "", col or ""), dtype=object))
    out.descr[name] = description
    return len(ii)


def _read_results(vres: Any, suite: str) -> _Outcome:
    out = _Outcome()
    for er in vres.results:
        ec = er.expectation_config
        meta = ec.meta or {}
        name, level, sev = meta.get("name", ec.type), meta.get("level", "batch"), _severity_of(ec)
        col = ec.kwargs.get("column") or ",".join(ec.kwargs.get("column_list", []) or []) or None
        res = er.result or {}
        exc = (er.exception_info or {}).get("raised_exception", False)
        idx = res.get("unexpected_index_list") if level == "row" else None
        n_q = _row_failures(out, idx, name, sev, col, ec.description or name) if idx and not exc else 0
        observed = _fmt_observed(res.get("observed_value"))
        out.summary.append({
            "suite": suite, "expectation": name, "type": ec.type, "column": col, "level": level,
            "severity": sev, "success": bool(er.success) and not exc,
            "unexpected_count": res.get("unexpected_count"), "unexpected_percent": res.get("unexpected_percent"),
            "observed": observed, "quarantined": n_q, "threshold": meta.get("threshold", ""),
        })
        if er.success and not exc:
            continue
        desc = ec.description or name
        if exc:
            desc += f" (error: {(er.exception_info or {}).get('exception_message')})"
            sev = "critical"
        f = Finding(suite, name, sev, ec.type, col, desc, observed, res.get("unexpected_count"),
                    res.get("unexpected_percent"), meta.get("threshold", ""))
        {"critical": out.critical, "warning": out.warnings}.get(sev, []).append(f)
    return out


def _raw_of_rows(data: pd.DataFrame, src_rows: pd.DataFrame, input_cols: list[str]) -> pd.Series:
    """Raw text of the quarantined rows: ``raw`` column, else the reader's ``raw_of``, else rebuilt."""
    if "raw" in src_rows:
        return src_rows["raw"].astype(object)
    raw_of = data.attrs.get("raw_of")
    if callable(raw_of) and "line" in src_rows and len(src_rows) and src_rows["line"].notna().all():
        lines = src_rows["line"].astype("int64").tolist()
        return pd.Series(list(raw_of(lines)), index=src_rows.index, dtype=object)
    cols = [c for c in input_cols if c not in ("raw", "line")]
    return _raw_text(src_rows, cols) if cols else pd.Series([""] * len(src_rows), index=src_rows.index)


def _quarantine(batch: pd.DataFrame, data: pd.DataFrame, out: _Outcome, input_cols: list[str], *,
                suite: str, file: str, source: str) -> tuple[pd.DataFrame, np.ndarray]:
    """The quarantine frame (:data:`QUARANTINE_COLUMNS`) and the mask of quarantined rows."""
    n = len(batch)
    if out.fail_rows:
        fr = pd.DataFrame({"row": np.concatenate(out.fail_rows), "name": np.concatenate(out.fail_names),
                           "sev": np.concatenate(out.fail_sev), "field": np.concatenate(out.fail_field)})
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
    raw = _raw_of_rows(data, src_rows, input_cols)
    line = src_rows["line"] if "line" in batch else pd.Series([pd.NA] * len(src_rows))
    if "source" in batch and suite != "water_samples":
        src = src_rows["source"].astype(str).to_numpy()
    else:
        src = np.full(len(src_rows), source or f"gate:{suite}", dtype=object)
    quarantined = pd.DataFrame({
        "file": np.full(len(qrows), file, dtype=object),
        "line": pd.to_numeric(pd.Series(np.asarray(line, dtype=object)), errors="coerce").to_numpy(float)
        if len(qrows) else np.zeros(0, float),
        "field": np.asarray(fields, dtype=object),
        "reason": [" ; ".join(f"{nm}: {out.descr.get(nm, nm)}" for nm in s.split(";")) for s in names],
        "raw": np.asarray(raw, dtype=object),
        "source": src,
        "expectations": np.asarray(names, dtype=object),
        "severity": np.asarray(sevs, dtype=object),
        "row": qrows.astype(np.int64),
    })
    quarantined["line"] = quarantined["line"].astype("Int64")
    return quarantined, bad


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
        Optional ``line`` / ``raw`` columns and ``attrs["raw_of"]`` give the
        quarantine rows their input line and raw text (module docstring).
    suite : str
        One of :data:`envquality.quality.config.SUITES`.
    window, expected_stations
        Hourly readings only, see :func:`~envquality.quality.derive.prepare`.
    file, source : str
        Written into the quarantine rows.
    build_docs : bool, default True
        Render this validation's operator Data Docs page (incremental,
        offline, escaped; :mod:`envquality.quality.docs`).  The result is
        stored (escaped) either way.
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
    t1 = _time.perf_counter()
    vres, docs_path = _validate(batch, suite, _parameters(suite, cfg, known_stations), build_docs=build_docs,
                                cfg=cfg)
    t2 = _time.perf_counter()
    out = _read_results(vres, suite)
    absent = batch.attrs.get("absent_stations") or []
    if absent:
        out.warnings.append(Finding(suite, "hourly.stations_absent", "warning", "gate", "station",
                                    f"{len(absent)} expected station(s) sent nothing: {', '.join(absent[:20])}"))
    quarantined, bad = _quarantine(batch, data, out, input_cols, suite=suite, file=file, source=source)
    keep_cols = input_cols + (["likely_dust"] if "likely_dust" in batch and "likely_dust" not in input_cols else [])
    passed = batch.loc[~bad, [c for c in keep_cols if c in batch]]
    info = {
        "rows": len(batch), "passed": int((~bad).sum()), "quarantined": int(bad.sum()),
        "seconds_prepare": round(t1 - t0, 4), "seconds_gx": round(t2 - t1, 4),
        "likely_dust_rows": int(batch["likely_dust"].sum()) if "likely_dust" in batch else 0,
        "absent_stations": absent, "run_time": str(getattr(vres.meta.get("run_id"), "run_time", "")),
        "period": _period(batch, suite),
    }
    result = GateResult(suite, passed, quarantined, out.warnings, out.critical, not out.critical,
                        pd.DataFrame(out.summary), docs_path, info)
    for f in out.critical:
        log.error("quality gate: %s", f.message())
    for f in out.warnings:
        log.warning("quality gate: %s", f.message())
    return result


def _period(batch: pd.DataFrame, suite: str) -> tuple[str, str] | None:
    """First and last time (or day) of the whole batch, quarantined rows included (ISO text)."""
    col = {"hourly_readings": "time", "daily_values": "date", "daily_city": "date"}.get(suite)
    if col is None or col not in batch or not len(batch):
        return None
    t = pd.to_datetime(batch[col], errors="coerce")
    if t.notna().sum() == 0:
        return None
    return t.min().isoformat(), t.max().isoformat()
