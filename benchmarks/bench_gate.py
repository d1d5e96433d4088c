"""Benchmark of the data-quality gate (issue: Great Expectations data-quality gate).

Separates Great Expectations' fixed overhead (import, context load from the
project files, first validation of a 1-row batch) from the per-row work,
then times one day of the 14 Gansu cities (the registry's active stations)
and a simulated national day (1,700 stations × 24 hours × 6 pollutants),
each with and without rebuilding the operator Data Docs.

Usage::

    python benchmarks/bench_gate.py            # writes the docs/benchmarks.md section
    python benchmarks/bench_gate.py --quick    # 200 stations instead of 1,700
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._report import peak_rss_mb, write_section  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    os.environ.setdefault("ENVQUALITY_SITE_DIR", str(Path(tempfile.mkdtemp()) / "site"))

    t0 = time.perf_counter()
    import great_expectations  # noqa: F401

    t_import = time.perf_counter() - t0
    import pandas as pd

    from envquality.quality import run_gate
    from envquality.quality.gate import get_context
    from envquality.registry import default_registry
    from envquality.simulate import simulate_tidy

    t0 = time.perf_counter()
    get_context()
    t_ctx = time.perf_counter() - t0
    one = pd.DataFrame({"station": ["1476A"], "time": [pd.Timestamp("2024-04-10 01:00", tz="Asia/Shanghai")],
                        "pollutant": ["pm10"], "value": [80.0]})
    t0 = time.perf_counter()
    run_gate(one, build_docs=False)
    t_first = time.perf_counter() - t0
    t0 = time.perf_counter()
    run_gate(one, build_docs=False)
    t_one = time.perf_counter() - t0

    st = default_registry().stations
    act = st[st["status"] == "active"]
    codes = act["code"].tolist()
    city_of = dict(zip(act["code"], act["city_code"]))
    day = "2024-04-10"
    window = (pd.Timestamp(day, tz="Asia/Shanghai") + pd.Timedelta(hours=1),
              pd.Timestamp(day, tz="Asia/Shanghai") + pd.Timedelta(days=1))
    gansu = simulate_tidy(codes, day, day, city_of=city_of)
    rows = []

    def case(label, df, expected, docs):
        t = time.perf_counter()
        r = run_gate(df, window=window, expected_stations=expected, build_docs=docs, known_stations=expected)
        wall = time.perf_counter() - t
        rows.append((label, len(df), docs, wall, r.info["seconds_prepare"], r.info["seconds_gx"],
                     len(r.quarantined)))

    case("Gansu day (14 cities)", gansu, codes, False)
    case("Gansu day (14 cities)", gansu, codes, True)
    n_nat = 200 if args.quick else 1700
    nat_codes = [f"S{i:04d}" for i in range(n_nat)]
    t = time.perf_counter()
    national = simulate_tidy(nat_codes, day, day, gap_fraction=0.05, bad_fraction=0.0005)
    t_sim = time.perf_counter() - t
    case(f"national day ({n_nat} stations)", national, nat_codes, False)
    case(f"national day ({n_nat} stations)", national, nat_codes, True)

    lines = [
        "## Data-quality gate (`benchmarks/bench_gate.py`)\n",
        f"Machine: {platform.platform()}, Python {platform.python_version()}, "
        f"great_expectations {great_expectations.__version__}, pandas {pd.__version__}; "
        f"{'quick run' if args.quick else 'full run'}.\n",
        "Fixed overhead of Great Expectations (once per process):\n",
        "| step | seconds |", "|---|---:|",
        f"| `import great_expectations` | {t_import:.2f} |",
        f"| load the file-backed context (copy of `expectations/`) | {t_ctx:.2f} |",
        f"| first validation, 1-row batch (suite load, metric setup) | {t_first:.2f} |",
        f"| later validation, 1-row batch (per-run floor) | {t_one:.2f} |",
        "",
        "Per batch (context already loaded; `prepare` = derived columns in numpy/pandas, "
        "`GX` = validation incl. result storage and, with docs, the checkpoint's Data Docs update):\n",
        "| batch | rows | Data Docs | wall s | prepare s | GX s | quarantined |",
        "|---|---:|---|---:|---:|---:|---:|",
    ]
    for label, n, docs, wall, prep, gxs, q in rows:
        lines.append(f"| {label} | {n:,} | {'yes' if docs else 'no'} | {wall:.2f} | {prep:.2f} | {gxs:.2f} | {q} |")
    fixed = t_import + t_ctx + t_first
    lines += [
        "",
        f"A cold `envquality validate` process pays the fixed {fixed:.1f} s once; the per-row work is the "
        "difference between a batch and the 1-row floor. Simulating the national day took "
        f"{t_sim:.1f} s (not included). Peak RSS {peak_rss_mb():.0f} MB.\n",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.quick:
        write_section("bench_gate", text)


if __name__ == "__main__":
    main()
