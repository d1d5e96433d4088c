"""The water month: the month's samplings → quality gate → store → classes and compliance.

Tasks of the ``water_sources_monthly`` DAG.  Samplings come from the drop
folder (``water_drop_dir``: ``<YYYY-MM>*.csv|.xlsx`` read by
:func:`envquality.iotools.water.read_water_samples`) or, without one, from
the seeded simulator (the whole year is simulated and the month taken, so a
month equals the same month of ``envquality water load --simulate``).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from envquality.orchestration.alerts import Alert, notify
from envquality.orchestration.config import Settings
from envquality.orchestration.sources import TZ

__all__ = ["interval_month", "load_month", "classify_month"]


def interval_month(data_interval_start: Any) -> str:
    """``YYYY-MM`` of the CST month a monthly data interval starts in."""
    ts = pd.Timestamp(data_interval_start)
    ts = ts.tz_localize(TZ) if ts.tzinfo is None else ts.tz_convert(TZ)
    return f"{ts:%Y-%m}"


def _samples(settings: Settings, month: str) -> tuple[pd.DataFrame, pd.DataFrame, str, str]:
    """(samples, rejected rows, source name, logical name) of the month."""
    folder = str(settings["water_drop_dir"] or "")
    if folder:
        from envquality.iotools.water import read_water_samples

        files = sorted(p for pat in (f"{month}*.csv", f"{month}*.xlsx") for p in Path(folder).glob(pat))
        parts = [read_water_samples(p) for p in files]
        data = pd.concat([p.data for p in parts], ignore_index=True) if parts else pd.DataFrame()
        rejected = pd.concat([p.rejected for p in parts], ignore_index=True) if parts else pd.DataFrame()
        return data, rejected, "water-samples", ",".join(p.name for p in files)
    from envquality.water.registry import load_water_sources
    from envquality.water.simulate import simulate_samples

    year = month[:4]
    seed = int(settings["water_seed"])
    year_samples = simulate_samples(load_water_sources(), f"{year}-01", f"{year}-12", seed=seed)
    local = year_samples["sampled_at"].dt.tz_convert(TZ).dt.strftime("%Y-%m")
    return (year_samples[local == month].reset_index(drop=True), pd.DataFrame(), "water-simulate",
            f"simulate_{month}_seed{seed}")


def load_month(settings: Settings, month: str) -> dict[str, Any]:
    """Gate the month's samplings and store the passing ones; an ingest-log row records the outcome.

    Rows the gate quarantines are not stored (counted as rejected); a
    critical outcome is recorded in ``ingest_log.gate_status`` and alerted.
    """
    from envquality.orchestration.air import engine_for
    from envquality.quality.gate import run_gate
    from envquality.store import schema as S
    from envquality.store.water import sync_water_sources, upsert_water_samples

    engine = engine_for(settings)
    samples, rejected, source, name = _samples(settings, month)
    if not len(samples):
        notify(Alert("day_missing", f"no water samplings for {month}", day=month, level="warning"), settings)
        return {"month": month, "samples": 0, "written": 0, "gate_status": None}
    # the simulator writes "<DL" for "below the detection limit", the gate's vocabulary is "<"
    checked = samples.assign(qualifier=samples["qualifier"].astype("string").replace("<DL", "<"))
    gate = run_gate(checked, "water_samples", file=name, source=source, build_docs=False)
    status = "critical" if not gate.publish_allowed else ("warning" if gate.warnings else "pass")
    bad = np.zeros(len(samples), bool)
    bad[gate.quarantined["row"].to_numpy(dtype=np.int64)] = True  # positions in the batch
    keep = samples[~bad]
    start = pd.Timestamp(f"{month}-01").tz_localize(TZ)
    sync_water_sources(engine)
    with engine.begin() as conn:
        ingest_id = conn.execute(S.ingest_log.insert().values(
            source=source, file_or_url=name, status="running", started_at=S.utcnow(),
            period_start=start.to_pydatetime(), period_end=(start + pd.offsets.MonthBegin(1)).to_pydatetime(),
            rows_in=len(samples) + len(rejected), rows_ok=len(keep), rows_rejected=len(rejected) + len(gate.quarantined),
            gate_status=status, gate_findings=json.dumps([f.to_dict() for f in gate.critical + gate.warnings],
                                                         default=str, ensure_ascii=False),
        ).returning(S.ingest_log.c.id)).scalar_one()
        written = upsert_water_samples(conn, keep, ingest_id=ingest_id)
        conn.execute(S.ingest_log.update().where(S.ingest_log.c.id == ingest_id).values(
            status="ok" if written else "noop", rows_written=written, finished_at=S.utcnow()))
    if status == "critical":
        notify(Alert("gate_failed", f"critical quality-gate outcome for water samplings {name}", day=month,
                     details={"findings": [f.to_dict() for f in gate.critical]}), settings)
    return {"month": month, "samples": int(len(samples)), "written": int(written), "gate_status": status,
            "quarantined": int(len(gate.quarantined))}


def classify_month(settings: Settings, month: str) -> dict[str, Any]:
    """Classes of the month's stored samplings (GB 3838 / GB/T 14848) and compliance vs 96.85 %."""
    from envquality.orchestration.air import engine_for
    from envquality.store.water import read_water_samples, store_classes
    from envquality.targets import DRINKING_WATER_TARGET
    from envquality.water.classify import classify_samples
    from envquality.water.compliance import compliance_ratios, select_period
    from envquality.water.registry import load_water_sources

    engine = engine_for(settings)
    reg = load_water_sources()
    start = pd.Timestamp(f"{month}-01")
    samples = read_water_samples(engine, start, start + pd.offsets.MonthBegin(1))
    if not len(samples):
        return {"month": month, "samplings": 0, "written": 0}
    result = classify_samples(samples, registry=reg)
    classified = select_period(result[0] if isinstance(result, tuple) else result, month)
    written = store_classes(engine, classified)
    ratios = compliance_ratios(classified, reg, month)
    prov = ratios[(ratios["scope"] == "province") & (ratios["method"] == "sources")] if "scope" in ratios else ratios
    pct = float(prov["ratio_pct"].iloc[0]) if len(prov) else float("nan")
    if pct == pct and pct < DRINKING_WATER_TARGET:
        notify(Alert("off_target_path", f"drinking-water sources {month}: {pct:.2f} % Class I–III by sources, "
                                        f"below {DRINKING_WATER_TARGET} %", day=month, level="warning"), settings)
    return {"month": month, "samplings": int(len(classified)), "written": int(written),
            "province_sources_pct": pct, "computed": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
