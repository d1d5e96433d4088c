"""Helpers shared by the benchmark scripts: peak memory and docs/benchmarks.md sections."""

from __future__ import annotations

import re
import resource
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"

HEADER = """# Benchmarks

Figures written by the scripts in `benchmarks/` (each script replaces its own section).
Re-run with `make bench` or the script named in each section. Timings are wall-clock
on the machine named in each section; they are goals to track, never assertions in the
unit tests.
"""


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far [MB].

    Linux: ``VmHWM`` of ``/proc/self/status``, which starts afresh in a new
    program; ``ru_maxrss`` would carry the parent's high-water mark across
    ``exec`` into a benchmark's subprocess.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024 if sys.platform != "darwin" else kb / 1024 / 1024


def write_section(name: str, text: str) -> None:
    """Replace (or append) the section tagged ``name`` in docs/benchmarks.md."""
    DOC.parent.mkdir(exist_ok=True)
    doc = DOC.read_text(encoding="utf-8") if DOC.exists() else HEADER
    begin, end = f"<!-- begin {name} -->", f"<!-- end {name} -->"
    block = f"{begin}\n{text}{end}"
    if begin in doc:
        doc = re.sub(re.escape(begin) + r".*?" + re.escape(end), lambda _: block, doc, flags=re.S)
    else:
        doc = doc.rstrip("\n") + "\n\n" + block + "\n"
    DOC.write_text(doc, encoding="utf-8")
