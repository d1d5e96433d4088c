"""Benchmark of the pm25.in reader on a large crawl (the speed goal that used to be a test).

The MIT-licensed sample ``tests/data/pm25in/兰州.csv`` (784 records) is repeated 130
times (101,920 records, the size of a multi-year city crawl) and parsed with
:func:`envquality.iotools.pm25in.read_pm25in` from bytes.  Timed region: the
``read_pm25in`` call only (the text is built before).  Median of the runs;
the record count is checked in the same run.

Usage::

    python benchmarks/bench_readers.py            # writes its section of docs/benchmarks.md
    python benchmarks/bench_readers.py --quick    # 3 runs instead of 5
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._report import peak_rss_mb, write_section  # noqa: E402

SAMPLE = ROOT / "tests" / "data" / "pm25in" / "兰州.csv"
REPEAT = 130
#: Goal: the limit the former unit test asserted (101,920 records in < 20 s).
GOAL_RECORDS_PER_S = 5_100


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-doc", action="store_true")
    args = ap.parse_args(argv)
    import numpy as np
    import pandas as pd

    from envquality.iotools.pm25in import read_pm25in

    text = SAMPLE.read_text(encoding="utf-8")
    head, body = text.split("\n", 1)
    lines = body.rstrip("\n").split("\n")
    raw = (head + "\n" + "\n".join(lines * REPEAT) + "\n").encode("utf-8")
    # one copy read first (also the warm-up: imports, registry): the big file holds REPEAT times its records
    n_records = read_pm25in(text.encode("utf-8"), city="兰州").meta["rows_in"] * REPEAT
    times, cpu = [], []
    for _ in range(3 if args.quick else 5):
        t0, c0 = time.perf_counter(), time.process_time()
        r = read_pm25in(raw, city="兰州")
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        assert r.meta["rows_in"] == n_records, r.meta["rows_in"]  # checked in the same run
    med = statistics.median(times)
    rate = n_records / med
    text = (
        "## Reading a large pm25.in crawl (`benchmarks/bench_readers.py`)\n\n"
        f"{platform.machine()}, {__import__('os').cpu_count()} CPUs, Python {platform.python_version()}, "
        f"pandas {pd.__version__}, numpy {np.__version__}. `tests/data/pm25in/兰州.csv` repeated "
        f"{REPEAT} times: {n_records:,} records ({len(raw) / 2**20:.1f} MiB), parsed from bytes by "
        f"`read_pm25in`; median of {len(times)} runs.\n\n"
        "| measure | result |\n|---|---|\n"
        f"| time (median) | {med:.2f} s (runs: {', '.join(f'{t:.2f}' for t in times)}) |\n"
        f"| throughput | **{rate:,.0f} records/s** (goal ≥ {GOAL_RECORDS_PER_S:,}: "
        f"{'met' if rate >= GOAL_RECORDS_PER_S else 'NOT met'}) |\n"
        f"| CPU time of the process (median) | {statistics.median(cpu):.2f} s |\n"
        f"| peak RSS | {peak_rss_mb():.0f} MB |\n\n"
        "Wall-clock time well above the CPU time means the machine was busy with other work "
        "while this ran.\n\n"
    )
    print(text)
    if not args.no_doc:
        write_section("bench_readers", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
