"""Publishing: guard, target progress, site build (atomic), the provisional hour, the deadline watch.

Tasks of the ``publish_site``, ``air_quality_hourly`` and ``publication_watch``
DAGs.  A critical gate outcome for the day blocks the site build: the guard
raises, an alert goes out, and the last good site stays online (the site is
only ever switched atomically to a complete new release).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from pathlib import Path
from typing import Any

import pandas as pd

from envquality.orchestration import jobs
from envquality.orchestration.alerts import Alert, notify
from envquality.orchestration.config import Settings
from envquality.orchestration.sources import TZ

__all__ = ["day_to_publish", "guard", "build", "published_day", "watch_publication", "provisional_hour"]


def day_to_publish(settings: Settings) -> str | None:
    """The latest CST day with stored figures (ISO), or None when nothing is computed yet."""
    from envquality.orchestration.air import engine_for

    d = jobs.latest_day(engine_for(settings))
    return str(d) if d else None


def guard(settings: Settings, day: str) -> str:
    """Raise ``PublishBlocked`` (after alerting) when the day has a critical gate outcome."""
    from envquality.orchestration.air import engine_for
    from envquality.quality.publish_guard import PublishBlocked

    try:
        jobs.check_day(engine_for(settings), dt.date.fromisoformat(day))
    except PublishBlocked as exc:
        notify(Alert("publish_blocked", f"site not rebuilt for {day}: {exc.reason}; the last good site stays "
                                        f"online", day=day, details={"alert": str(exc.alert_path)}), settings)
        raise
    return day


def build(settings: Settings, day: str) -> str:
    """Target progress, then the public site of ``day`` built and switched atomically; returns its folder."""
    from envquality.orchestration.air import engine_for
    from envquality.quality.publish_guard import PublishBlocked

    engine = engine_for(settings)
    d = dt.date.fromisoformat(day)
    progress = jobs.target_progress(engine, d)
    site_root = settings.path("site_dir")
    try:
        out = jobs.publish(engine, d, site_root=site_root, progress=progress)
    except PublishBlocked as exc:
        notify(Alert("publish_blocked", f"site not rebuilt for {day}: {exc.reason}; the last good site stays "
                                        f"online", day=day, details={"alert": str(exc.alert_path)}), settings)
        raise
    _write_marker(site_root, d)
    return str(out)


def _write_marker(site_root: Path, day: dt.date) -> None:
    """``<site_root>/published.json``: the day last published (read by the deadline watch)."""
    site_root.mkdir(parents=True, exist_ok=True)
    tmp = site_root / f".published-{uuid.uuid4().hex[:6]}.json"
    tmp.write_text(json.dumps({"day": str(day), "at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}),
                   encoding="utf-8")
    os.replace(tmp, site_root / "published.json")


def published_day(settings: Settings) -> dt.date | None:
    """The day the public site shows (None before the first publication)."""
    path = settings.path("site_dir") / "published.json"
    try:
        return dt.date.fromisoformat(json.loads(path.read_text(encoding="utf-8"))["day"])
    except (OSError, ValueError, KeyError):
        return None


def watch_publication(settings: Settings, *, now: dt.datetime | None = None) -> bool:
    """Alert when yesterday (CST) is not published by ``publish_deadline_hour``; True when on time."""
    now_cst = pd.Timestamp(now or dt.datetime.now(dt.timezone.utc)).tz_convert(TZ)
    due = (now_cst.normalize() - pd.Timedelta(days=1)).date()
    if now_cst.hour < int(settings["publish_deadline_hour"]):
        due = due - dt.timedelta(days=1)  # before today's deadline only the day before yesterday is due
    shown = published_day(settings)
    if shown is not None and shown >= due:
        return True
    notify(Alert("not_published", f"{due} was not published by {settings['publish_deadline_hour']}:00 CST "
                                  f"(site shows {shown or 'nothing'})", day=str(due)), settings)
    return False


def provisional_hour(settings: Settings, *, now: dt.datetime | None = None) -> str | None:
    """The latest hour of the live source into ``<site_dir>/provisional/latest_hour.json`` (labelled provisional).

    The live feed's answer is archived for the daily run
    (:func:`envquality.orchestration.sources.cnemc_hour_path`); the simulator
    stands in for it by default.  Not stored and not gated as final data.
    """
    from envquality.orchestration.sources import cnemc_hour_path

    now_ts = pd.Timestamp(now or dt.datetime.now(dt.timezone.utc)).tz_convert(TZ)
    hour_end = now_ts.floor("h")
    if settings["source"] == "cnemc" and settings["cnemc_url"]:
        import urllib.request

        from envquality.iotools.cnemc import read_cnemc_live

        url = str(settings["cnemc_url"])
        if not url.startswith(("http://", "https://")):
            raise ValueError("setting cnemc_url must be an http(s) URL")
        with urllib.request.urlopen(url, timeout=30) as resp:  # noqa: S310 - scheme checked above
            raw = resp.read()
        frame = read_cnemc_live(raw).data
        if len(frame):
            hour_end = pd.Timestamp(frame["time"].max()).tz_convert(TZ)
        path = cnemc_hour_path(settings, hour_end)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(raw)  # the daily run ingests the archived hours
    else:
        from envquality.registry import default_registry
        from envquality.simulate import simulate_tidy

        reg = default_registry()
        codes = [str(c) for c in reg.stations["code"]]
        day = (hour_end - pd.Timedelta(hours=1)).date()
        frame = simulate_tidy(codes, day, day, seed=int(settings["seed"]),
                              city_of=dict(zip(codes, reg.stations["city_code"].astype(str))))
        frame = frame[frame["time"] == hour_end]
    out = settings.path("site_dir") / "provisional"
    out.mkdir(parents=True, exist_ok=True)
    doc: dict[str, Any] = {"provisional": True, "label_zh": "实时数据，未经审核", "label_en": "provisional, not validated",
                           "hour_end": str(hour_end), "source": settings["source"],
                           "readings": frame.assign(time=frame["time"].astype(str)).to_dict("records")}
    tmp = out / f".latest_hour-{uuid.uuid4().hex[:6]}.json"
    tmp.write_text(json.dumps(doc, ensure_ascii=False, default=str), encoding="utf-8")
    os.replace(tmp, out / "latest_hour.json")
    return str(out / "latest_hour.json")
