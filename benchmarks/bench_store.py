"""Benchmark of the store's bulk upsert (issue: ingestion into a durable store).

Loads N generated readings (default 50 M; ``--rows`` to reduce) streaming
through :func:`envquality.store.bulk.upsert_readings` into PostgreSQL and
SQLite with the fast path (binary ``COPY`` / ``executemany`` straight into
``reading`` when a chunk cannot collide with stored rows), in one
transaction each, then
re-upserts the first 1 M rows from the same delivery (no-change path) and
from a later delivery with changed values (loading over existing rows:
corrected data), and compares with a plain bulk copy and a plain
``DataFrame.to_sql`` baseline on a subset in the same process.
Prints rows/s and peak memory (``ru_maxrss``; the frame generator's share
is included, so it is an upper bound for the store's) and writes the
``bench_store`` section of docs/benchmarks.md (``--no-doc`` to skip).

Usage::

    ENVQUALITY_TEST_PG_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        python benchmarks/bench_store.py [--rows 5000000] [--backends postgres sqlite]

PostgreSQL work happens in a private schema ``bench_<random>`` dropped at the
end; SQLite in a temporary file.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._report import peak_rss_mb, write_section  # noqa: E402
from envquality.store import make_engine, upgrade_to_head  # noqa: E402
from envquality.store.bulk import upsert_readings  # noqa: E402

POLLUTANTS = ("so2", "no2", "pm10", "pm25", "co", "o3")


def frames(total: int, per_frame: int = 1_002_000, n_stations: int = 2000):
    """Yield tidy frames (station-major blocks of hours) until ``total`` rows."""
    rng = np.random.default_rng(0)
    hours_per_frame = max(1, per_frame // (n_stations * len(POLLUTANTS)))
    stations = np.array([f"{i:04d}A" for i in range(n_stations)], dtype=object)
    start = pd.Timestamp("2020-01-01 01:00", tz="Asia/Shanghai")
    done, block = 0, 0
    while done < total:
        times = pd.date_range(start + pd.Timedelta(hours=block * hours_per_frame), periods=hours_per_frame,
                              freq="h", tz="Asia/Shanghai")
        n = n_stations * hours_per_frame * len(POLLUTANTS)
        st = np.repeat(stations, hours_per_frame * len(POLLUTANTS))
        tt = np.tile(np.repeat(times.asi8, len(POLLUTANTS)), n_stations)
        pp = np.tile(np.array(POLLUTANTS, dtype=object), n_stations * hours_per_frame)
        df = pd.DataFrame({
            "station": pd.array(st, dtype="str"),
            "time": pd.DatetimeIndex(tt.astype(f"datetime64[{times.unit}]")).tz_localize("UTC").tz_convert(
                "Asia/Shanghai"),
            "pollutant": pd.array(pp, dtype="str"),
            "value": np.round(rng.gamma(2.0, 20.0, n), 1),
        })
        take = min(n, total - done)
        yield df.iloc[:take]
        done += take
        block += 1


class Timed:
    """Wrap an iterator, accumulating the time spent producing items."""

    def __init__(self, it):
        self.it, self.seconds = it, 0.0

    def __iter__(self):
        while True:
            t = time.perf_counter()
            try:
                item = next(self.it)
            except StopIteration:
                self.seconds += time.perf_counter() - t
                return
            self.seconds += time.perf_counter() - t
            yield item


def open_store(kind: str, pg_url: str | None, tmp: Path):
    if kind == "sqlite":
        engine = make_engine(f"sqlite:///{tmp / 'bench.sqlite'}")
        return engine, lambda: engine.dispose()
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = make_engine(pg_url)
    with admin.begin() as c:
        c.exec_driver_sql(f"CREATE SCHEMA {schema}")
    engine = make_engine(pg_url, schema=schema)

    def cleanup():
        engine.dispose()
        with admin.begin() as c:
            c.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()

    return engine, cleanup


def plain_copy(engine, sub: pd.DataFrame) -> float:
    """Rows/s of a plain bulk load of ``sub`` into an unindexed table (PostgreSQL binary COPY; SQLite
    executemany), with the series ids already known: the floor under any loader."""
    from envquality.store import bulk

    with engine.begin() as conn:
        chunk = bulk._prepare(sub)
        sid = pd.factorize(chunk.station.astype(str) + "|" + chunk.pollutant.astype(str))[0].astype(np.int32) + 1
        raw = conn.connection.driver_connection
        cur = raw.cursor()
        try:
            if conn.dialect.name == "postgresql":
                cur.execute("CREATE TABLE bench_copy (series_id int4, time timestamptz, value float8, flag text, "
                            "ingest_id int4)")
                data = bulk._pg_binary(sid, chunk, 1)
                t0 = time.perf_counter()
                bulk._pg_copy(cur, "bench_copy", data)
            else:
                cur.execute("CREATE TABLE bench_copy (series_id INTEGER, time INTEGER, value REAL, flag TEXT, "
                            "ingest_id INTEGER)")
                t0 = time.perf_counter()
                cur.executemany("INSERT INTO bench_copy VALUES (?, ?, ?, ?, ?)", bulk._sqlite_rows(sid, chunk, 1))
            return len(sub) / (time.perf_counter() - t0)
        finally:
            cur.close()


def bench_backend(kind: str, rows: int, chunk: int, baseline_rows: int, pg_url: str | None, tmp: Path) -> dict:
    engine, cleanup = open_store(kind, pg_url, tmp)
    try:
        upgrade_to_head(engine)
        gen = Timed(frames(rows))
        t0 = time.perf_counter()
        with engine.begin() as conn:
            stats = upsert_readings(conn, gen, 1, chunk_rows=chunk)
        total = time.perf_counter() - t0
        load_s = total - gen.seconds
        out = {"backend": kind, "rows": stats.rows, "written": stats.written, "seconds": load_s,
               "direct_chunks": stats.direct_chunks, "chunks": stats.chunks,
               "rows_per_s": stats.rows / load_s, "gen_seconds": gen.seconds, "peak_rss_mb": peak_rss_mb()}

        first = next(frames(min(rows, 1_002_000)))
        t0 = time.perf_counter()
        with engine.begin() as conn:
            again = upsert_readings(conn, first, 1, chunk_rows=chunk)
        out["noop_rows_per_s"] = len(first) / (time.perf_counter() - t0)
        assert again.written == 0, again

        # corrected data: a later delivery of the same keys, one value in ten changed (the merge path)
        fixed = first.assign(value=np.where(np.arange(len(first)) % 10 == 0, first["value"] + 1.0, first["value"]))
        t0 = time.perf_counter()
        with engine.begin() as conn:
            corr = upsert_readings(conn, fixed, 2, chunk_rows=chunk)
        out["correction_rows_per_s"] = len(fixed) / (time.perf_counter() - t0)
        out["correction_rows"] = len(fixed)
        assert corr.written >= len(fixed) // 10, corr

        # baselines: plain to_sql and a plain bulk copy of a subset (no upsert semantics at all)
        sub = next(frames(baseline_rows))
        out["copy_rows_per_s"] = plain_copy(engine, sub)
        if kind == "sqlite":  # SQLite has no timestamptz; give to_sql the epoch seconds
            sub = sub.assign(time=sub["time"].astype("int64") // 10**6)
        t0 = time.perf_counter()
        with engine.begin() as conn:
            sub.to_sql("bench_to_sql", conn, if_exists="replace", index=False, chunksize=50_000)
        out["to_sql_rows_per_s"] = len(sub) / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        with engine.begin() as conn:
            sub.to_sql("bench_to_sql_multi", conn, if_exists="replace", index=False, chunksize=2_000,
                       method="multi")
        out["to_sql_multi_rows_per_s"] = len(sub) / (time.perf_counter() - t0)
        out["peak_rss_mb_end"] = peak_rss_mb()
        return out
    finally:
        cleanup()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=50_000_000)
    ap.add_argument("--chunk", type=int, default=500_000, help="rows per COPY/executemany batch")
    ap.add_argument("--baseline-rows", type=int, default=200_000)
    ap.add_argument("--backends", nargs="+", default=["postgres", "sqlite"], choices=["postgres", "sqlite"])
    ap.add_argument("--no-doc", action="store_true", help="do not write docs/benchmarks.md")
    ap.add_argument("--pg-url", default=os.environ.get("ENVQUALITY_BENCH_PG_URL")
                    or os.environ.get("ENVQUALITY_TEST_PG_URL"))
    args = ap.parse_args(argv)
    print(f"# bench_store: {args.rows:,} rows, chunk {args.chunk:,}; {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs, Python {platform.python_version()}, pandas {pd.__version__}")
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-store-") as tmp:
        for kind in args.backends:
            if kind == "postgres" and not args.pg_url:
                print("postgres: skipped (set ENVQUALITY_TEST_PG_URL or --pg-url)")
                continue
            r = bench_backend(kind, args.rows, args.chunk, args.baseline_rows, args.pg_url, Path(tmp))
            print(f"{kind:9s} upsert_readings: {r['rows']:>12,} rows in {r['seconds']:7.1f} s = "
                  f"{r['rows_per_s']:>9,.0f} rows/s (frame generation {r['gen_seconds']:.1f} s excluded); "
                  f"re-upsert unchanged: {r['noop_rows_per_s']:,.0f} rows/s; peak RSS {r['peak_rss_mb']:,.0f} MB")
            print(f"{'':9s} correction over existing rows: {r['correction_rows_per_s']:,.0f} rows/s; plain bulk copy: "
                  f"{r['copy_rows_per_s']:,.0f} rows/s")
            print(f"{'':9s} DataFrame.to_sql baseline ({args.baseline_rows:,} rows, plain INSERT, no upsert): "
                  f"{r['to_sql_rows_per_s']:,.0f} rows/s; method='multi': {r['to_sql_multi_rows_per_s']:,.0f} rows/s")
            sys.stdout.flush()
            results.append(r)
    if results and not args.no_doc:
        write_section("bench_store", report(results, args))
    return 0


GOAL_PG_ROWS_PER_S = 500_000


def report(results: list[dict], args) -> str:
    machine = (f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
               f"Python {platform.python_version()}, pandas {pd.__version__}")
    lines = [
        "## Loading hourly readings into the store (`benchmarks/bench_store.py`)", "",
        f"{machine}. {args.rows:,} generated readings (2,000 stations × 6 pollutants, blocks of hours) streamed "
        f"through `upsert_readings` in one transaction per backend, chunks of {args.chunk:,} rows; the frame "
        "generation time is excluded. Peak RSS is the process's (generator included) and stays flat with the "
        "row count (one chunk in memory). Baseline: plain `DataFrame.to_sql` (no upsert, no idempotence) of "
        f"{args.baseline_rows:,} rows into a fresh table, same process and database; plain bulk copy: the same "
        "rows with series ids precomputed, binary `COPY` (PostgreSQL) or `executemany` (SQLite) into an "
        "unindexed table, the floor under any loader. Re-upsert unchanged: the first 1,002,000 rows again from "
        "the same delivery (nothing written). Correction over existing rows: the same 1,002,000 keys from a "
        "later delivery with one value in ten changed (the merge path: every row is re-pointed to the later "
        "delivery and the earlier delivery's row kept in `reading_delivery`).", "",
        "| backend | rows | rows/s (fast path) | chunks direct / total | re-upsert unchanged rows/s "
        "| correction over existing rows, rows/s | plain bulk copy rows/s | `to_sql` rows/s "
        "| `to_sql(method='multi')` rows/s | ratio vs `to_sql` | peak RSS [MB] |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['backend']} | {r['rows']:,} | **{r['rows_per_s']:,.0f}** | {r['direct_chunks']} / {r['chunks']} "
            f"| {r['noop_rows_per_s']:,.0f} | {r['correction_rows_per_s']:,.0f} | {r['copy_rows_per_s']:,.0f} "
            f"| {r['to_sql_rows_per_s']:,.0f} | {r['to_sql_multi_rows_per_s']:,.0f} "
            f"| {r['rows_per_s'] / r['to_sql_rows_per_s']:,.1f}× | {r['peak_rss_mb_end']:,.0f} |")
    pg = [r for r in results if r["backend"] == "postgres"]
    lines.append("")
    if pg:
        rate = pg[0]["rows_per_s"]
        lines.append(f"Goal ≥ {GOAL_PG_ROWS_PER_S:,} rows/s into PostgreSQL: "
                     + ("**met**." if rate >= GOAL_PG_ROWS_PER_S else
                        f"**not met** ({rate:,.0f} rows/s measured)."))
    else:
        lines.append("PostgreSQL was not measured in this run.")
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
