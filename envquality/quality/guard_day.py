"""The rules of the publication guard, read from the stored data of one day.

See :mod:`envquality.quality.publish_guard` for the rules and how publishers
call them.  Every query is an aggregate (GROUP BY), parameterised; nothing
loops over readings in Python.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

import pandas as pd
import sqlalchemy as sa

from envquality.model import HOURLY_POLLUTANTS, TIMEZONE
from envquality.quality.config import load_thresholds

__all__ = ["GuardDecision", "Override", "check_day", "day_bounds"]

log = logging.getLogger("envquality.quality.publish")


@dataclass(frozen=True)
class Override:
    """An operator's explicit permission to publish a day holding ungated (``--no-gate``) data.

    It lifts the "ungated delivery" rule only; critical gate outcomes,
    implausible values and missing coverage still block.
    """

    operator: str
    reason: str

    def __post_init__(self) -> None:
        if not str(self.operator).strip() or not str(self.reason).strip():
            raise ValueError("an override needs the operator's name and a reason")


@dataclass
class GuardDecision:
    """Whether ``day`` may be published, and why not.

    Attributes
    ----------
    day : date
    allowed : bool
    reasons : list of str
        Why the day is blocked (empty when allowed).
    warnings : list of str
        Shown to operators, never block (cities with low coverage).
    coverage : float
        Stored share of the expected values of the day (0-1).
    deliveries : list of dict
        Ingests touching the day: ``id``, ``source``, ``file``, ``gate_status``, ``readings``.
    lifted : list of str
        Reasons an override lifted.
    override_applied : bool
    """

    day: dt.date
    allowed: bool
    reasons: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    coverage: float = 0.0
    deliveries: list[dict] = field(default_factory=list)
    lifted: list[str] = field(default_factory=list)
    override_applied: bool = False

    def __str__(self) -> str:
        head = f"{self.day}: {'publishable' if self.allowed else 'BLOCKED'} (coverage {self.coverage:.1%})"
        return "\n  ".join([head, *self.reasons, *(f"warning: {w}" for w in self.warnings)])


def day_bounds(day: dt.date | str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last hour-ending time of CST day ``day`` (D 01:00 … D+1 00:00, inclusive)."""
    d = pd.Timestamp(str(day)).normalize()
    return (d + pd.Timedelta(hours=1)).tz_localize(TIMEZONE), (d + pd.Timedelta(days=1)).tz_localize(TIMEZONE)


def _expected_stations() -> tuple[list[str], dict[str, str]]:
    from envquality.registry import default_registry

    st = default_registry().stations
    if "assessment" in st:
        st = st[st["assessment"].astype(bool)]
    codes = st["code"].astype(str).tolist()
    return codes, dict(zip(codes, st["city_code"].astype(str)))


def _per_station_pollutant(conn: sa.Connection, lo: pd.Timestamp, hi: pd.Timestamp) -> pd.DataFrame:
    """Stored readings of the day per station and pollutant: values, min, max."""
    from envquality.store import schema as S

    R, Se = S.reading.c, S.series.c
    q = (sa.select(Se.station, Se.pollutant, sa.func.count(R.value).label("n"),
                   sa.func.min(R.value).label("vmin"), sa.func.max(R.value).label("vmax"))
         .select_from(S.reading.join(S.series, S.series.c.id == R.series_id))
         .where(R.time.between(lo.to_pydatetime(), hi.to_pydatetime()))
         .group_by(Se.station, Se.pollutant))
    return pd.DataFrame(conn.execute(q).all(), columns=["station", "pollutant", "n", "vmin", "vmax"])


def _deliveries(conn: sa.Connection, day: dt.date, lo: pd.Timestamp, hi: pd.Timestamp) -> pd.DataFrame:
    """Ingests touching the day: by its readings, its reported daily values, or its logged period."""
    from envquality.store import schema as S

    R, L, D = S.reading.c, S.ingest_log.c, S.daily_stat.c
    by_reading = (sa.select(R.ingest_id.label("id"), sa.func.count().label("readings"))
                  .where(R.time.between(lo.to_pydatetime(), hi.to_pydatetime())).group_by(R.ingest_id))
    ids = {int(i): int(n) for i, n in conn.execute(by_reading).all()}
    by_daily = sa.select(D.ingest_id).where(D.date == day, D.ingest_id.is_not(None)).distinct()
    for (i,) in conn.execute(by_daily).all():
        ids.setdefault(int(i), 0)
    by_period = sa.select(L.id).where(L.status == "ok", L.period_start <= hi.to_pydatetime(),
                                      L.period_end >= lo.to_pydatetime())
    for (i,) in conn.execute(by_period).all():
        ids.setdefault(int(i), 0)
    cols = ["id", "source", "file", "status", "gate_status", "readings"]
    if not ids:
        return pd.DataFrame(columns=cols)
    rows = conn.execute(sa.select(L.id, L.source, L.file_or_url, L.status, L.gate_status)
                        .where(L.id.in_(sorted(ids)))).all()
    known = pd.DataFrame(rows, columns=cols[:-1])
    out = pd.DataFrame({"id": sorted(ids)}).merge(known, on="id", how="left")
    out["readings"] = out["id"].map(ids)
    return out[cols]


def _coverage_rules(stats: pd.DataFrame, cfg: dict, decision: GuardDecision) -> None:
    codes, city_of = _expected_stations()
    hourly = stats[stats["pollutant"].isin(HOURLY_POLLUTANTS) & stats["station"].isin(codes)]
    expected = max(len(codes), 1) * 24 * len(HOURLY_POLLUTANTS)
    decision.coverage = float(hourly["n"].sum()) / expected
    pub = cfg.get("publish", {})
    cmin = float(pub.get("coverage_min", 0.5))
    if decision.coverage < cmin:
        decision.reasons.append(
            f"coverage {decision.coverage:.1%} of the expected hourly values of {len(codes)} assessment "
            f"stations is below publish.coverage_min {cmin:.0%} (quarantined or missing data)")
    per_city = hourly.assign(city=hourly["station"].map(city_of)).groupby("city")["n"].sum()
    n_st = pd.Series(city_of).value_counts()
    share = (per_city.reindex(n_st.index).fillna(0) / (n_st * 24 * len(HOURLY_POLLUTANTS))).sort_index()
    warn = float(pub.get("city_coverage_warn", 0.8333))
    for city, s in share[share < warn].items():
        decision.warnings.append(f"city {city}: coverage {s:.1%}")


def _range_rules(stats: pd.DataFrame, cfg: dict, decision: GuardDecision) -> None:
    ranges = cfg["hourly"]["ranges"]
    base = stats["pollutant"].str.replace(r"_(24h|8h_24h|8h|1h)$", "", regex=True)
    lo = base.map({k: float(r["min"]) for k, r in ranges.items()})
    hi = base.map({k: float(r["max"]) for k, r in ranges.items()})
    bad = stats[(stats["vmin"] < lo) | (stats["vmax"] > hi)]
    for pol, g in bad.groupby("pollutant"):
        stations = ", ".join(sorted(g["station"].astype(str))[:5])
        decision.reasons.append(
            f"implausible stored {pol} values (min {g['vmin'].min():g}, max {g['vmax'].max():g}; outside "
            f"{lo[g.index[0]]:g}-{hi[g.index[0]]:g}) at {stations}")


def _delivery_rules(deliveries: pd.DataFrame, decision: GuardDecision, override: Override | None) -> None:
    decision.deliveries = deliveries.astype(object).where(deliveries.notna(), None).to_dict("records")
    for d in decision.deliveries:
        what = f"ingest {d['id']} ({d['source']}:{d['file']})"
        if d["gate_status"] == "critical":
            decision.reasons.append(f"{what} failed a critical quality-gate expectation")
        elif d["gate_status"] is None:
            reason = f"{what} did not go through the quality gate (--no-gate)"
            if override is not None:
                decision.lifted.append(reason)
            else:
                decision.reasons.append(reason + ": publishing it needs an operator override")


def check_day(engine: sa.Engine, day: dt.date | str, *, override: Override | None = None,
              config: dict | None = None) -> GuardDecision:
    """Decide from the stored data of ``day`` whether it may be published (never raises on a block).

    Parameters
    ----------
    engine : sqlalchemy.Engine
        The store.
    day : date or str
        CST calendar day.
    override : Override, optional
        Lifts the ungated-delivery rule (and only that one).
    config : dict, optional
        Thresholds (default :func:`~envquality.quality.config.load_thresholds`).

    Returns
    -------
    GuardDecision
    """
    cfg = config or load_thresholds()
    d = pd.Timestamp(str(day)).date()
    lo, hi = day_bounds(d)
    with engine.connect() as conn:
        stats = _per_station_pollutant(conn, lo, hi)
        deliveries = _deliveries(conn, d, lo, hi)
    decision = GuardDecision(d, False)
    _coverage_rules(stats, cfg, decision)
    _range_rules(stats, cfg, decision)
    _delivery_rules(deliveries, decision, override)
    decision.allowed = not decision.reasons
    decision.override_applied = bool(decision.lifted)
    if decision.override_applied:
        log.warning("publication guard: operator override by %s for %s lifts: %s",
                    override.operator if override else "?", d, "; ".join(decision.lifted))
    return decision

