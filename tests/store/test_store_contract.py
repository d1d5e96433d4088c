"""The store's contract (docs/storage.md) as a property, on SQLite and PostgreSQL.

Random sequences of ingests of small overlapping files, operator corrections
(``supersedes``), declared versions (``delivery_id``), re-ingests of earlier
bytes and audit invalidations.  After every step the stored readings equal
what an independent model of the current, non-superseded deliveries says,
and every reading that left the store has a ``reading_history`` row naming
the operation that removed it and its cause.
"""

from __future__ import annotations

import hashlib
import math

import pandas as pd
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from envquality.store import schema as S
from envquality.store.bulk import read_readings
from envquality.store.ingest import ingest_file
from envquality.store.provenance import invalidate_readings

from . import read_tidy_csv

STATIONS = ("S0", "S1")
HOURS = pd.date_range("2024-01-01 01:00", periods=3, freq="h", tz="Asia/Shanghai")
KEYS = [(s, t) for s in STATIONS for t in HOURS]
NAN = float("nan")

values = st.one_of(st.just(NAN), st.sampled_from([1.0, 2.5, 9.2, 40.0]))
rows = st.dictionaries(st.integers(0, len(KEYS) - 1), values, min_size=1, max_size=len(KEYS))
ops = st.lists(st.one_of(
    st.tuples(st.just("new"), rows, st.sampled_from([None, "d1", "d2"])),
    st.tuples(st.just("correct"), rows, st.integers(0, 20)),
    st.tuples(st.just("reingest"), st.integers(0, 20)),
    st.tuples(st.just("invalidate"), st.integers(0, len(KEYS) - 1)),
), min_size=1, max_size=6)


def _csv(r: dict[int, float]) -> bytes:
    lines = ["station,time,pollutant,value"]
    for k in sorted(r):
        s, t = KEYS[k]
        v = r[k]
        lines.append(f"{s},{t:%Y-%m-%d %H:%M},pm25,{'' if math.isnan(v) else repr(v)}")
    return ("\n".join(lines) + "\n").encode()


class Model:
    """Deliveries as the contract sees them; ``expected()`` is the store's content."""

    def __init__(self):
        self.deliveries: dict[int, dict] = {}  # id -> {rows, current, delivery_id, sha}
        self.invalidations: dict[int, int] = {}  # key -> id of the latest invalidation
        self.inv_ids: dict[int, list[int]] = {}

    def current(self) -> list[int]:
        return sorted(i for i, d in self.deliveries.items() if d["current"])

    def expected(self) -> dict[int, tuple[float, bool]]:
        """key -> (value, invalidated) for every key some current delivery provides."""
        out = {}
        for k in range(len(KEYS)):
            provided = [(i, self.deliveries[i]["rows"][k]) for i in self.current() if k in self.deliveries[i]["rows"]]
            inv = max(self.inv_ids.get(k, []), default=None)
            if not provided and inv is None:
                continue
            valued = [(i, v) for i, v in provided if not math.isnan(v) and (inv is None or i > inv)]
            if valued:
                out[k] = (max(valued)[1], False)
            elif provided or inv is not None:
                out[k] = (NAN, inv is not None)
        return out

    def versions_of(self, r: dict, delivery_id: str | None) -> list[int]:
        if delivery_id is None:
            return []
        span = (min(KEYS[k][1] for k in r), max(KEYS[k][1] for k in r))
        series = {KEYS[k][0] for k in r}
        return [i for i in self.current() if self.deliveries[i]["delivery_id"] == delivery_id
                and (min(KEYS[k][1] for k in self.deliveries[i]["rows"]),
                     max(KEYS[k][1] for k in self.deliveries[i]["rows"])) == span
                and {KEYS[k][0] for k in self.deliveries[i]["rows"]} == series]


def _stored(engine) -> dict[int, tuple[float, bool]]:
    back = read_readings(engine, with_provenance=True)
    index = {(s, t): i for i, (s, t) in enumerate(KEYS)}
    return {index[(r.station, r.time)]: (r.value, r.flag == "invalidated") for r in back.itertuples()}


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(
        (math.isnan(a[k][0]) and math.isnan(b[k][0]) or a[k][0] == b[k][0]) and a[k][1] == b[k][1] for k in a)


def _reset(engine) -> None:
    with engine.begin() as conn:
        for t in ("reading", "reading_delivery", "reading_history", "quarantine", "daily_stat", "ingest_log",
                  "raw_archive", "series"):
            conn.execute(sa.text(f"DELETE FROM {t}"))


def _step(engine, model: Model, op, tmp_path) -> int | None:
    """Run one operation on the store and the model; returns the id of the operation's log row."""
    kind = op[0]
    if kind == "invalidate":
        k = op[1]
        s, t = KEYS[k]
        iid, n = invalidate_readings(engine, reason="audit", stations=[s], pollutants=["pm25"], start=t, end=t)
        exp = model.expected()
        if k in exp and not math.isnan(exp[k][0]):
            assert n == 1
            model.inv_ids.setdefault(k, []).append(iid)
        else:
            assert n == 0
        return iid
    if kind == "reingest":
        if not model.deliveries:
            return None
        old = model.deliveries[sorted(model.deliveries)[op[1] % len(model.deliveries)]]
        r, delivery_id, supersedes = old["rows"], old["delivery_id"], None
    elif kind == "correct":
        cur = model.current()
        if not cur:
            return None
        r, delivery_id, supersedes = op[1], None, cur[op[2] % len(cur)]
    else:
        r, delivery_id, supersedes = op[1], op[2], None
    data = _csv(r)
    sha = hashlib.sha256(data).hexdigest()
    res = ingest_file(engine, data, read_tidy_csv, "src", name="f.csv", archive_root=tmp_path / "raw",
                      supersedes=supersedes, delivery_id=delivery_id)
    if any(model.deliveries[i]["sha"] == sha for i in model.current()):
        assert res.status == "noop"
        return None
    assert res.status == "ok", res
    targets = set(model.versions_of(r, delivery_id)) | ({supersedes} if supersedes is not None else set())
    for i in targets:
        model.deliveries[i]["current"] = False
    model.deliveries[res.ingest_id] = {"rows": dict(r), "current": True, "delivery_id": delivery_id, "sha": sha}
    assert (res.supersedes_id is None) == (not targets)
    return res.ingest_id


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(sequence=ops)
def test_stored_readings_equal_the_current_deliveries(store, tmp_path, sequence):
    _reset(store)
    model = Model()
    for op in sequence:
        before = _stored(store)
        op_id = _step(store, model, op, tmp_path)
        after = _stored(store)
        assert _same(after, model.expected()), (op, after, model.expected())
        gone = before.keys() - after.keys()
        if gone:
            with store.connect() as conn:
                h = conn.execute(sa.select(S.reading_history.c.time, S.reading_history.c.cause).where(
                    S.reading_history.c.by_ingest_id == op_id, S.reading_history.c.new_ingest_id.is_(None))).all()
            assert {KEYS[k][1] for k in gone} <= {t for t, _ in h}
            assert all("superseded by ingest" in c for _, c in h)
