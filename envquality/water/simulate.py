"""Seeded simulator of monthly drinking-water-source samplings (SIMULATED data).

One sampling per source and month (the national monthly monitoring rhythm of
standards.md §5.5), on a day between the 5th and the 20th at 09:00–11:59
China Standard Time.  Parameters: 28 surface items (GB 3838 Table 1 without
COD, TN added for lakes/reservoirs, Table 2) and 30 groundwater indices of
GB/T 14848 Table 1.

Model (all numbers invented to look plausible for Gansu, not fitted):

* value = median × source factor × seasonal factor × lognormal noise, with
  the seasonal factor ``exp(a·cos(2π(month − 7)/12))`` peaking in the July
  flood season (nutrients, bacteria, iron); dissolved oxygen is lower and
  water temperature higher in summer; pH is normal around 8.0 (surface) and
  7.7 (groundwater).
* occasional exceedances: 3 % of sources are "at risk" (exceedance chance
  12 % per sampling), the others 0.2 %; an exceeding sampling gets one
  parameter from a short list (NH3-N, TP, iron, manganese … / nitrate,
  hardness, fluoride …) set to 1.05–2.5 × its Class III (or Table 2) limit.
* below-detection values: anything under the parameter's detection limit
  (:data:`DETECTION_LIMITS`, typical method limits, *assumed*) is reported
  as ``qualifier="<DL"``, ``value`` = ``detection_limit`` = the limit.

:func:`export_samples` writes the result the way bureau exports look
(Chinese names, some µg/L and MPN/100 mL units, ``<0.01``/``ND``/``未检出``/
``0.01L`` texts) for reader round trips.

Examples
--------
>>> s = simulate_samples(start="2020-01", end="2020-02", seed=1)
>>> sorted(s.columns)
['detection_limit', 'parameter', 'qualifier', 'sampled_at', 'source', 'unit', 'value']
>>> s["source"].nunique(), str(s["sampled_at"].dt.tz)
(128, 'Asia/Shanghai')
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from envquality.water import gb3838_2002 as gb
from envquality.water import gbt14848_2017 as gw
from envquality.water.classify import BELOW_DL, PARAMETER_INFO

__all__ = [
    "simulate_samples", "replicate_registry", "export_samples", "DETECTION_LIMITS",
    "SIM_SURFACE", "SIM_GROUNDWATER",
]

#: Typical method detection limits [canonical units] — ASSUMED for the simulation
#: and as documentation examples; real data carry their own limits.
DETECTION_LIMITS: dict[str, float] = {
    "bod5": 0.5, "codmn": 0.5, "nh3n": 0.025, "tp": 0.01, "tn": 0.05, "cu": 0.001, "zn": 0.05,
    "fluoride": 0.05, "se": 0.0004, "as": 0.0003, "hg": 0.00004, "cd": 0.0005, "cr6": 0.004,
    "pb": 0.0025, "cyanide": 0.001, "phenol": 0.0003, "petroleum": 0.01, "las": 0.05, "sulfide": 0.005,
    "fecal_coliform": 20.0, "sulfate": 8.0, "chloride": 10.0, "nitrate": 0.08, "fe": 0.03, "mn": 0.01,
    "al": 0.009, "nitrite": 0.003, "iodide": 0.025, "total_coliforms": 2.0, "turbidity": 0.3,
}

# key: (median, lognormal sigma, seasonal amplitude)
_SURFACE_MODEL: dict[str, tuple[float, float, float]] = {
    "codmn": (1.6, 0.25, 0.2), "bod5": (1.4, 0.3, 0.2), "nh3n": (0.1, 0.45, 0.3), "tp": (0.03, 0.35, 0.25),
    "tn": (0.6, 0.3, 0.2), "cu": (0.003, 0.6, 0.0), "zn": (0.01, 0.6, 0.0), "fluoride": (0.35, 0.3, 0.0),
    "se": (0.0006, 0.4, 0.0), "as": (0.002, 0.5, 0.1), "hg": (0.00002, 0.4, 0.0), "cd": (0.0002, 0.4, 0.0),
    "cr6": (0.004, 0.4, 0.0), "pb": (0.002, 0.6, 0.1), "cyanide": (0.0008, 0.5, 0.0),
    "phenol": (0.0006, 0.5, 0.0), "petroleum": (0.01, 0.35, 0.1), "las": (0.03, 0.5, 0.0),
    "sulfide": (0.004, 0.5, 0.0), "fecal_coliform": (800.0, 0.9, 0.6), "sulfate": (60.0, 0.4, -0.1),
    "chloride": (25.0, 0.4, -0.1), "nitrate": (1.2, 0.4, 0.1), "fe": (0.05, 0.4, 0.3), "mn": (0.015, 0.4, 0.2),
}
_GROUND_MODEL: dict[str, tuple[float, float, float]] = {
    "total_hardness": (200.0, 0.18, 0.0), "tds": (380.0, 0.18, 0.0), "sulfate": (60.0, 0.25, 0.0),
    "chloride": (40.0, 0.3, 0.0), "fe": (0.04, 0.4, 0.1), "mn": (0.012, 0.4, 0.1), "cu": (0.002, 0.6, 0.0),
    "zn": (0.01, 0.6, 0.0), "al": (0.02, 0.5, 0.0), "phenol": (0.0003, 0.35, 0.0), "las": (0.03, 0.4, 0.0),
    "codmn": (0.8, 0.3, 0.1), "nh3n": (0.03, 0.4, 0.1), "sulfide": (0.002, 0.5, 0.0), "na": (50.0, 0.25, 0.0),
    "total_coliforms": (0.3, 0.6, 0.4), "total_bacteria": (10.0, 0.5, 0.3), "nitrite": (0.005, 0.6, 0.1),
    "nitrate": (3.0, 0.3, 0.05), "cyanide": (0.0005, 0.4, 0.0), "fluoride": (0.4, 0.2, 0.0),
    "iodide": (0.02, 0.4, 0.0), "hg": (0.00002, 0.5, 0.0), "as": (0.0008, 0.5, 0.0),
    "se": (0.0005, 0.4, 0.0), "cd": (0.00005, 0.5, 0.0), "cr6": (0.004, 0.4, 0.0), "pb": (0.0015, 0.4, 0.0),
    "turbidity": (0.5, 0.35, 0.2),
}
#: Surface parameters simulated (TN for lakes/reservoirs only).
SIM_SURFACE: tuple[str, ...] = ("temp", "ph", "do", *_SURFACE_MODEL)
#: Groundwater parameters simulated (30).
SIM_GROUNDWATER: tuple[str, ...] = ("ph", *_GROUND_MODEL)

_PRONE_SURFACE = ("nh3n", "tp", "codmn", "fe", "mn", "sulfate", "bod5")
_PRONE_GROUND = ("nitrate", "total_hardness", "fluoride", "mn", "fe", "total_coliforms", "nh3n")


def _exceed_limit(key: str, surface: bool, lake: np.ndarray | None = None) -> np.ndarray | float:
    if surface:
        if key in gb.TABLE2:
            return gb.TABLE2[key].limits[0]
        if key == "tp" and lake is not None:
            return np.where(lake, gb.TABLE1_LAKE_TP.limits[2], gb.TABLE1["tp"].limits[2])
        return gb.TABLE1[key].limits[2]
    return gw.TABLE[key].limits[2]


def replicate_registry(registry: pd.DataFrame, n_sources: int, *, seed: int = 0) -> pd.DataFrame:
    """A registry of ``n_sources`` sources made by cycling ``registry`` with new ids (benchmarks).

    >>> from envquality.water.registry import load_water_sources
    >>> len(replicate_registry(load_water_sources(), 1000))
    1000
    """
    idx = np.arange(n_sources) % len(registry)
    out = registry.iloc[idx].reset_index(drop=True).copy()
    out["id"] = [f"{i}-{k:05d}" for k, i in enumerate(out["id"])]
    out["simulated"] = True
    return out


def _months(start: str, end: str) -> pd.PeriodIndex:
    return pd.period_range(pd.Period(start, "M"), pd.Period(end, "M"), freq="M")


def _schedule(n_src: int, months: pd.PeriodIndex, rng: np.random.Generator, at_risk_share: float,
              at_risk_rate: float, base_rate: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sampling stamps (source × month), the seasonal cycle per month and the exceedance draws."""
    n_m = len(months)
    day = rng.integers(5, 21, size=(n_src, n_m))
    minute = rng.integers(9 * 60, 12 * 60, size=(n_src, n_m))
    base = months.to_timestamp().to_numpy().astype("datetime64[m]")
    stamps = base[None, :] + (day - 1).astype("timedelta64[D]") + minute.astype("timedelta64[m]")
    month_no = np.asarray(months.month)
    season = np.cos(2 * np.pi * (month_no - 7) / 12.0)  # +1 in July, −1 in January
    at_risk = rng.random(n_src) < at_risk_share
    rate = np.where(at_risk, at_risk_rate, base_rate)
    exceed = rng.random((n_src, n_m)) < rate[:, None]
    return stamps, season, exceed


def _base_values(rng: np.random.Generator, params: tuple[str, ...], surface: bool, lake: np.ndarray,
                 season: np.ndarray) -> np.ndarray:
    """Background values (parameter × source × month) for one group of sources."""
    model = _SURFACE_MODEL if surface else _GROUND_MODEL
    n, n_m = len(lake), len(season)
    vals = np.empty((len(params), n, n_m))
    for j, k in enumerate(params):
        if k == "temp":
            v = 11 + 9 * season[None, :] + rng.normal(0, 1.5, (n, n_m)) + rng.normal(0, 1.5, (n, 1))
        elif k == "ph":
            v = rng.normal(8.0 if surface else 7.7, 0.2, (n, n_m)) + rng.normal(0, 0.1, (n, 1))
        elif k == "do":
            v = np.maximum(9.0 - 1.4 * season[None, :] + rng.normal(0, 0.6, (n, n_m)), 3.5)
        else:
            med, sig, amp = model[k]
            centre = np.where(lake, 0.012, 0.03)[:, None] if k == "tp" and surface else med
            src_factor = np.exp(rng.normal(0, 0.15, (n, 1)))
            v = centre * src_factor * np.exp(amp * season[None, :] + rng.normal(0, sig, (n, n_m)))
        vals[j] = v
    return vals


def _add_exceedances(rng: np.random.Generator, vals: np.ndarray, params: tuple[str, ...], surface: bool,
                     lake: np.ndarray, ex: np.ndarray) -> None:
    """Occasional exceedances (in place): one prone parameter per exceeding sampling."""
    prone = _PRONE_SURFACE if surface else _PRONE_GROUND
    n, n_m = ex.shape
    which = rng.integers(0, len(prone), size=(n, n_m))
    factor = rng.uniform(1.05, 2.5, size=(n, n_m))
    for i, k in enumerate(prone):
        hit = ex & (which == i)
        if hit.any():
            lim = _exceed_limit(k, surface, lake)
            lim = np.broadcast_to(np.asarray(lim, dtype=float).reshape(-1, 1) if np.ndim(lim) else lim, (n, n_m))
            j = params.index(k)
            vals[j] = np.where(hit, np.maximum(vals[j], lim * factor), vals[j])


def _group_long(vals: np.ndarray, params: tuple[str, ...], surface: bool, lake: np.ndarray, ids: np.ndarray,
                stamps: np.ndarray) -> pd.DataFrame:
    """Long layout of one group: parameter-major blocks of (source, month), below-DL set to the limit."""
    p, n, n_m = vals.shape
    value = vals.reshape(p, -1)
    dl = np.array([DETECTION_LIMITS.get(k, np.nan) for k in params])[:, None] * np.ones((1, n * n_m))
    below = value < dl  # NaN limits compare False
    value = np.where(below, dl, value)
    keep_2d = np.ones((p, n * n_m), bool)
    if surface and "tn" in params:  # TN only for lakes and reservoirs
        keep_2d[params.index("tn")] = np.repeat(lake, n_m)
    keep = keep_2d.ravel()
    src = np.tile(np.repeat(ids, n_m), p)[keep]
    t = np.tile(stamps.ravel(), p)[keep]
    return pd.DataFrame({
        "source": src,
        "sampled_at": t,
        "parameter": np.repeat(np.array(params, dtype=object), n * n_m)[keep],
        "value": value.ravel()[keep],
        "qualifier": np.where(below.ravel(), BELOW_DL, "")[keep],
        "detection_limit": np.where(below, dl, np.nan).ravel()[keep],
    })


def _finish_samples(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate the groups, localise times, add units, categorise and sort."""
    out = pd.concat(frames, ignore_index=True)
    out["sampled_at"] = pd.to_datetime(out["sampled_at"]).dt.tz_localize("Asia/Shanghai")
    out["unit"] = out["parameter"].map({k: v[2] for k, v in PARAMETER_INFO.items()})
    for c in ("source", "parameter", "unit", "qualifier"):
        out[c] = out[c].astype("category")
    out = out.sort_values(["source", "sampled_at"], kind="stable").reset_index(drop=True)
    return out.loc[:, ["source", "sampled_at", "parameter", "value", "unit", "qualifier", "detection_limit"]]


def simulate_samples(
    registry: pd.DataFrame | None = None,
    start: str = "2020-01",
    end: str = "2020-12",
    *,
    seed: int = 2020,
    at_risk_share: float = 0.03,
    at_risk_rate: float = 0.12,
    base_rate: float = 0.002,
) -> pd.DataFrame:
    """Monthly long-form samplings for every source of ``registry`` (vectorized).

    Parameters
    ----------
    registry : pandas.DataFrame, optional
        Sources (default the packaged simulated Gansu registry).
    start, end : str
        First and last month (``"2020-01"``; a year ``"2020"`` means January/December).
    seed : int
        Random seed: same seed, same data.
    at_risk_share, at_risk_rate, base_rate : float
        Share of sources prone to exceedances, their exceedance chance per
        sampling, and the chance for the other sources.

    Returns
    -------
    pandas.DataFrame
        Long samples as :func:`envquality.iotools.water.read_water_samples`
        returns them: ``source`` (category), ``sampled_at``
        (datetime64[ns, Asia/Shanghai]), ``parameter`` (category), ``value``
        [canonical unit], ``unit`` (category), ``qualifier`` (category:
        ``""`` or ``"<DL"``), ``detection_limit``.
    """
    from envquality.water.registry import load_water_sources

    reg = load_water_sources() if registry is None else registry
    if len(start) == 4:
        start = f"{start}-01"
    if len(end) == 4:
        end = f"{end}-12"
    months = _months(start, end)
    rng = np.random.default_rng(seed)
    stamps, season, exceed = _schedule(len(reg), months, rng, at_risk_share, at_risk_rate, base_rate)
    types = reg["source_type"].to_numpy(object)
    ids = reg["id"].astype(str).to_numpy(object)
    frames = []
    for surface in (True, False):
        rows = np.flatnonzero((types != "groundwater") if surface else (types == "groundwater"))
        if not len(rows):
            continue
        lake = (types[rows] == "lake")
        params = SIM_SURFACE if surface else SIM_GROUNDWATER
        vals = _base_values(rng, params, surface, lake, season)
        _add_exceedances(rng, vals, params, surface, lake, exceed[rows])
        frames.append(_group_long(vals, params, surface, lake, ids[rows], stamps[rows]))
    return _finish_samples(frames)


def export_samples(samples: pd.DataFrame, path: str | Path, *, seed: int = 0) -> Path:
    """Write samples as a bureau export would: Chinese names, mixed units, text qualifiers.

    Mercury, arsenic, cadmium, lead and selenium are written in µg/L, fecal
    coliform in MPN/100 mL (÷10), times as ``YYYY-MM-DD HH:MM`` local;
    below-detection values as ``<DL``, ``ND``, ``未检出`` or ``DLL`` at random;
    values with 4 significant digits.  ``.xlsx`` paths give a workbook.
    """
    rng = np.random.default_rng(seed)
    df = samples.copy()
    key = df["parameter"].astype(str)
    scale = pd.Series(1.0, index=df.index)
    unit = df["unit"].astype(str).copy()
    ug = key.isin(["hg", "as", "cd", "pb", "se"])
    scale[ug], unit[ug] = 1000.0, "μg/L"
    fc = key == "fecal_coliform"
    scale[fc], unit[fc] = 0.1, "MPN/100mL"
    v = df["value"] * scale
    dl = df["detection_limit"] * scale
    text = v.map(lambda x: f"{x:.4g}")
    below = df["qualifier"].astype(str) == BELOW_DL
    style = rng.integers(0, 4, len(df))
    dl_txt = dl.map(lambda x: f"{x:.4g}")
    text = text.where(~below, np.select([style == 0, style == 1, style == 2], ["<" + dl_txt, "ND", "未检出"],
                                        dl_txt + "L"))
    out = pd.DataFrame({
        "水源地编码": df["source"].astype(str),
        "采样时间": df["sampled_at"].dt.strftime("%Y-%m-%d %H:%M"),
        "监测项目": key.map(lambda k: PARAMETER_INFO[k][0]),
        "监测值": text,
        "单位": unit,
        "检出限": np.where(below & (style != 0) & (style != 3), dl_txt, ""),
    })
    path = Path(path)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        out.to_excel(path, index=False)
    else:
        out.to_csv(path, index=False, encoding="utf-8")
    return path
