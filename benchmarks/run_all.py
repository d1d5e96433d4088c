"""Run every benchmark in turn; each rewrites its own section of docs/benchmarks.md.

``python benchmarks/run_all.py [--quick]``.  The store and ingest benchmarks
need PostgreSQL: they read ``ENVQUALITY_TEST_PG_URL`` (as the tests do) and
skip the PostgreSQL part without it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = ["bench_engine.py", "bench_water.py", "bench_gate.py", "bench_ingest.py", "bench_store.py",
           "bench_readers.py", "bench_reports.py", "bench_site.py", "bench_airflow.py", "bench_compute.py"]


def main() -> int:
    extra = [a for a in sys.argv[1:] if a == "--quick"]
    failed = []
    for name in SCRIPTS:
        path = HERE / name
        if not path.exists():
            continue
        print(f"== {name}", flush=True)
        if subprocess.run([sys.executable, str(path), *extra]).returncode:
            failed.append(name)
    if failed:
        print("failed:", ", ".join(failed), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
