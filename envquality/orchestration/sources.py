"""Pull one CST day of hourly readings from the configured source into files the ingest reads.

A pull never writes to the store: it leaves files (generated, exported,
archived or fetched) and says how complete the day is, as the share of the
expected station-hours that have at least one value (:func:`completeness`).
The air DAG pulls again until the day is complete or its wait deadline has
passed (:func:`envquality.orchestration.air.wait_and_pull`).

Sources (setting ``source``):

``simulate``    the seeded simulator (default): every hour that ended at
                least ``simulate_lag_hours`` ago; one file per day,
                always under the same name, so a later fuller pull of the
                same day supersedes the earlier one in the store;
``dropfolder``  exported tidy files ``<drop_dir>/<YYYY-MM-DD>*.csv|.parquet``;
``quotsoft``    ``<quotsoft_dir>/china_sites_YYYYMMDD.csv`` (registry stations kept);
``cnemc``       the live feed's hourly answers archived by the hourly DAG
                under ``<raw_dir>/cnemc/cnemc_live_<YYYY-MM-DDTHH>.json``;
``openaq``      the OpenAQ v3 ``/hours`` of ``openaq_locations`` (API key
                from the password of the ``openaq_conn_id`` Connection),
                written as a tidy CSV per location and day.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from envquality.orchestration.config import Settings

__all__ = ["Pulled", "pull_day", "completeness", "reader_for", "day_window", "TZ", "cnemc_hour_path"]

TZ = "Asia/Shanghai"


@dataclass
class Pulled:
    """The files of one pull (plain types only: it travels between Airflow tasks as XCom)."""

    day: str
    source: str
    reader: str
    files: list[str] = field(default_factory=list)
    completeness: float = 0.0
    expected_station_hours: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Pulled":
        return cls(**d)


def day_window(day: dt.date) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last hour-ENDING time of CST day ``day`` (docs/conventions.md): D 01:00 … D+1 00:00."""
    d = pd.Timestamp(day)
    return (d + pd.Timedelta(hours=1)).tz_localize(TZ), (d + pd.Timedelta(days=1)).tz_localize(TZ)


def completeness(frame: pd.DataFrame, day: dt.date, expected_stations: int) -> float:
    """Share of the day's expected station-hours with at least one non-missing value (0 … 1).

    >>> t = pd.date_range("2024-01-01 01:00", periods=24, freq="h", tz=TZ)
    >>> f = pd.DataFrame({"station": ["A"] * 24 + ["B"] * 12, "time": list(t) + list(t[:12]), "value": 1.0})
    >>> completeness(f, dt.date(2024, 1, 1), 2)
    0.75
    """
    if expected_stations <= 0 or frame is None or not len(frame):
        return 0.0
    lo, hi = day_window(day)
    t = pd.to_datetime(frame["time"])
    ok = (t >= lo) & (t <= hi) & frame["value"].notna()
    pairs = pd.DataFrame({"s": frame["station"][ok].astype(str).to_numpy(), "t": t[ok].to_numpy()})
    return float(min(1.0, len(pairs.drop_duplicates()) / (expected_stations * 24)))


def reader_for(name: str, settings: Settings | None = None) -> Callable[[Path], Any]:
    """The ``reader(path) -> ReadResult`` of a pull's ``reader`` name."""
    if name == "tidy":
        from envquality.iotools.readings import read_readings

        return functools.partial(read_readings, strict=False)  # bad rows go to quarantine
    if name == "china_sites":
        from envquality.iotools.quotsoft import read_china_sites

        return functools.partial(read_china_sites, stations=_station_codes())
    if name == "cnemc":
        from envquality.iotools.cnemc import read_cnemc_live

        return read_cnemc_live
    raise ValueError(f"unknown reader {name!r}")


@functools.lru_cache(maxsize=1)
def _station_codes_cached() -> tuple[str, ...]:
    from envquality.registry import default_registry

    return tuple(str(c) for c in default_registry().stations["code"])


def _station_codes() -> list[str]:
    return list(_station_codes_cached())


def _simulate(settings: Settings, day: dt.date, now: dt.datetime) -> Pulled:
    from envquality.registry import default_registry
    from envquality.simulate import simulate_tidy

    reg = default_registry()
    codes = _station_codes()
    city_of = dict(zip(codes, (str(c) for c in reg.stations["city_code"])))
    seed = int(settings["seed"])
    frame = simulate_tidy(codes, day, day, seed=seed, city_of=city_of)
    published_until = pd.Timestamp(now).tz_convert(TZ) - pd.Timedelta(hours=float(settings["simulate_lag_hours"]))
    frame = frame[frame["time"] <= published_until]
    folder = settings.path("staging_dir") / f"{day:%Y-%m-%d}"
    folder.mkdir(parents=True, exist_ok=True)
    # one name per day: a fuller pull later is a correction of the same file (superseding)
    path = folder / f"simulate_registry_seed{seed}_{day:%Y%m%d}.csv"
    out = frame.assign(time=frame["time"].dt.strftime("%Y-%m-%d %H:%M:%S%z"))
    _write_atomic(path, out.to_csv(index=False, lineterminator="\n").encode("utf-8"))
    return Pulled(str(day), "simulate", "tidy", [str(path)], completeness(frame, day, len(codes)), len(codes) * 24)


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.partial")
    tmp.write_bytes(data)
    tmp.replace(path)


def _files_completeness(files: list[Path], reader: Callable, day: dt.date, expected: int) -> float:
    frames = [reader(p).data for p in files]
    frames = [f for f in frames if len(f)]
    return completeness(pd.concat(frames, ignore_index=True), day, expected) if frames else 0.0


def _dropfolder(settings: Settings, day: dt.date) -> Pulled:
    folder = settings.path("drop_dir")
    files = sorted(p for pat in (f"{day:%Y-%m-%d}*.csv", f"{day:%Y-%m-%d}*.parquet", f"{day:%Y-%m-%d}*.csv.gz")
                   for p in folder.glob(pat) if not p.name.startswith("."))
    n = len(_station_codes())
    return Pulled(str(day), "dropfolder", "tidy", [str(p) for p in files],
                  _files_completeness(files, reader_for("tidy"), day, n), n * 24)


def _quotsoft(settings: Settings, day: dt.date) -> Pulled:
    path = Path(str(settings["quotsoft_dir"])) / f"china_sites_{day:%Y%m%d}.csv"
    files = [path] if path.is_file() else []
    n = len(_station_codes())
    return Pulled(str(day), "quotsoft", "china_sites", [str(p) for p in files],
                  _files_completeness(files, reader_for("china_sites"), day, n), n * 24)


def cnemc_hour_path(settings: Settings, hour_end: pd.Timestamp) -> Path:
    """Where the hourly DAG archives the live feed's answer for the hour ending ``hour_end`` (CST)."""
    return settings.path("raw_dir") / "cnemc" / f"cnemc_live_{hour_end.tz_convert(TZ):%Y-%m-%dT%H}.json"


def _cnemc(settings: Settings, day: dt.date) -> Pulled:
    lo, _ = day_window(day)
    hours = [lo + pd.Timedelta(hours=h) for h in range(24)]
    files = [p for p in (cnemc_hour_path(settings, h) for h in hours) if p.is_file()]
    n = len(_station_codes())
    return Pulled(str(day), "cnemc:live", "cnemc", [str(p) for p in files],
                  _files_completeness(files, reader_for("cnemc"), day, n), n * 24)


def _openaq(settings: Settings, day: dt.date) -> Pulled:
    from envquality.iotools.openaq import OpenAQClient, read_openaq

    locations = [int(x) for x in settings.listed("openaq_locations")]
    if not locations:
        raise ValueError("source openaq: setting openaq_locations is empty")
    conn = settings.secret("openaq_conn_id")
    client = OpenAQClient(str(settings["openaq_base_url"]), api_key=conn.password if conn else None)
    folder = settings.path("staging_dir") / f"{day:%Y-%m-%d}"
    folder.mkdir(parents=True, exist_ok=True)
    frames, files = [], []
    for loc in locations:
        rr = read_openaq(client, [loc], f"{day:%Y-%m-%d}T00:00:00", f"{day + dt.timedelta(days=1):%Y-%m-%d}T00:00:00")
        data = rr.data[["station", "time", "pollutant", "value"]]
        path = folder / f"openaq_{loc}_{day:%Y%m%d}.csv"
        out = data.assign(time=pd.to_datetime(data["time"]).dt.strftime("%Y-%m-%d %H:%M:%S%z"))
        _write_atomic(path, out.to_csv(index=False, lineterminator="\n").encode("utf-8"))
        frames.append(data)
        files.append(str(path))
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["station", "time", "value"])
    return Pulled(str(day), "openaq", "tidy", files, completeness(frame, day, len(locations)), len(locations) * 24)


def pull_day(settings: Settings, day: dt.date, *, now: dt.datetime | None = None) -> Pulled:
    """Pull CST day ``day`` from ``settings["source"]``; see the module docstring."""
    now = now or dt.datetime.now(dt.timezone.utc)
    kind = settings["source"]
    if kind == "simulate":
        return _simulate(settings, day, now)
    if kind == "dropfolder":
        return _dropfolder(settings, day)
    if kind == "quotsoft":
        return _quotsoft(settings, day)
    if kind == "cnemc":
        return _cnemc(settings, day)
    if kind == "openaq":
        return _openaq(settings, day)
    raise ValueError(f"unknown source {kind!r}")  # load_settings checks it; kept for direct callers

