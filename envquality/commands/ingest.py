"""``envquality ingest SOURCE [PATH…] [--dir DIR --date DAY | --start DAY --end DAY]``.

A thin layer over :func:`envquality.store.ingest.run_ingest`: pick the reader
of the source, collect the inputs, run (tqdm progress bar on stderr), print a
summary table.  The database (``--db URL``, else ``ENVQUALITY_DB_URL``, else
the demo's ``sqlite:///var/demo/envquality.sqlite``) is migrated to the latest schema first.

Exit status: 0 when something was read (also when some rows were quarantined
or every file was already ingested), 1 when nothing could be read, 2 for a
usage or input error (one line naming file, line and field).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any, Callable

__all__ = ["register", "SOURCES"]

#: CLI source → (directory globs, file name of a day (format of ``d``) or None, description).
SOURCES: dict[str, tuple[tuple[str, ...], str | None, str]] = {
    "cnemc-live": (("*.csv", "*.json"), "{d:%Y-%m-%d}T*", "CNEMC live station feed (JSON or archived CSV)"),
    "china-sites": (("china_sites_*.csv",), "china_sites_{d:%Y%m%d}.csv", "quotsoft china_sites_YYYYMMDD.csv"),
    "china-cities": (("china_cities_*.csv",), "china_cities_{d:%Y%m%d}.csv", "quotsoft china_cities_YYYYMMDD.csv"),
    "pm25in": (("*.csv",), None, "pm25.in city crawls (<city>.csv)"),
    "aqistudy": (("*.csv",), None, "aqistudy daily city values (-> daily_stat, ruleset reported:aqistudy)"),
    "generic": (("*.csv", "*.xlsx"), None, "bureau export described by --mapping FILE"),
    "tidy": (("*.csv", "*.csv.gz", "*.parquet"), None, "envquality tidy readings (CSV/Parquet)"),
    "openaq": ((), None, "OpenAQ API v3 hourly means (--location ID…, key from OPENAQ_API_KEY)"),
    "simulate": ((), None, "simulated hourly readings of the registry stations (demos, load tests)"),
}


class UsageError(Exception):
    """Bad arguments: exit 2 with one line."""


def register(subparsers) -> None:
    """Add ``ingest`` to the CLI."""
    p = subparsers.add_parser(
        "ingest", help="ingest raw files or API data into the store (archive, parse, load, quarantine)",
        description="Ingest into the store. Sources: " + "; ".join(f"{k}: {v[2]}" for k, v in SOURCES.items()),
    )
    p.add_argument("source", choices=list(SOURCES), metavar="SOURCE", help=", ".join(SOURCES))
    p.add_argument("paths", nargs="*", metavar="PATH", help="files or directories (globbed by the source's pattern)")
    p.add_argument("--db", metavar="URL", default=None,
                   help="database URL (default: $ENVQUALITY_DB_URL or sqlite:///var/demo/envquality.sqlite)")
    p.add_argument("--dir", metavar="DIR", default=".", help="where --date/--start/--end look for day files")
    p.add_argument("--date", metavar="DAY", help="one day (YYYY-MM-DD)")
    p.add_argument("--start", metavar="DAY", help="first day of a range (YYYY-MM-DD)")
    p.add_argument("--end", metavar="DAY", help="last day of a range (YYYY-MM-DD, inclusive)")
    p.add_argument("--mapping", metavar="FILE", help="generic: the YAML mapping of the export")
    p.add_argument("--location", metavar="ID", type=int, nargs="+", help="openaq: location id(s)")
    p.add_argument("--base-url", default="https://api.openaq.org", help="openaq: API root (https; tests point it elsewhere)")
    p.add_argument("--insecure-localhost", action="store_true",
                   help="openaq: allow a plain http:// --base-url on 127.0.0.1/localhost (a local test server)")
    p.add_argument("--stations", metavar="N", type=int, default=None,
                   help="simulate: N synthetic stations S0001… instead of the registry's")
    p.add_argument("--seed", type=int, default=0, help="simulate: seed")
    p.add_argument("--archive", metavar="DIR", default=None,
                   help="raw archive root (default: $ENVQUALITY_ARCHIVE or var/raw)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--supersedes", metavar="ID", type=int, nargs="+",
                   help="this (single) file corrects ingest ID: its readings replace that delivery's")
    p.add_argument("--delivery-id", metavar="ID",
                   help="declared identity of this (single) delivery; a later one with the same id, period and "
                        "series supersedes it")
    p.add_argument("--note", metavar="TEXT", help="operator's reason, kept in the ingest log and history")
    p.add_argument("--no-gate", action="store_true",
                   help="skip the Great Expectations quality gate (default: every batch passes it); "
                        "a day holding ungated data is never published without an operator override")
    p.add_argument("--no-docs", action="store_true", help="do not rebuild the operator Data Docs after the gate")
    p.set_defaults(func=cmd_ingest)


# ------------------------------------------------------------------ arguments
def _day(text: str, opt: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except (TypeError, ValueError):
        raise UsageError(f"{opt}: not a day YYYY-MM-DD: {text!r}") from None


def _days(args) -> list[dt.date] | None:
    if args.date and (args.start or args.end):
        raise UsageError("give --date or --start/--end, not both")
    if args.date:
        return [_day(args.date, "--date")]
    if args.start or args.end:
        if not (args.start and args.end):
            raise UsageError("--start and --end go together")
        a, b = _day(args.start, "--start"), _day(args.end, "--end")
        if b < a:
            raise UsageError(f"--end {b} is before --start {a}")
        return [a + dt.timedelta(days=i) for i in range((b - a).days + 1)]
    return None


def _reader(source: str, args) -> Callable[[Path], Any]:
    if source == "cnemc-live":
        from envquality.iotools.cnemc import read_cnemc_live
        return read_cnemc_live
    if source == "china-sites":
        from envquality.iotools.quotsoft import read_china_sites
        return read_china_sites
    if source == "china-cities":
        from envquality.iotools.quotsoft import read_china_cities
        return read_china_cities
    if source == "pm25in":
        from envquality.iotools.pm25in import read_pm25in
        return read_pm25in
    if source == "aqistudy":
        from envquality.iotools.aqistudy import read_aqistudy_daily
        return read_aqistudy_daily
    if source == "generic":
        from envquality.iotools.generic import load_mapping, read_generic
        if not args.mapping:
            raise UsageError("generic needs --mapping FILE")
        if not Path(args.mapping).is_file():
            raise UsageError(f"{args.mapping}: mapping file not found")
        mapping = load_mapping(args.mapping)  # InputError (file, key) -> exit 2
        return lambda p: read_generic(p, mapping)
    if source in ("tidy", "simulate"):
        import functools

        from envquality.iotools.readings import read_readings
        # ingestion keeps going past bad rows: they go to quarantine, not to an error
        return functools.partial(read_readings, strict=False)
    raise UsageError(f"unknown source {source!r}")  # pragma: no cover - argparse checks


def _file_inputs(source: str, args) -> list:
    patterns, day_name, _ = SOURCES[source]
    days = _days(args)
    if days is not None and args.paths:
        raise UsageError("give PATHs or --date/--start/--end, not both")
    if days is not None:
        if day_name is None:
            raise UsageError(f"{source} files are not named by day: give PATHs instead of --date")
        d = Path(args.dir)
        if not d.is_dir():
            raise UsageError(f"--dir {d}: not a directory")
        out = []
        for day in days:
            name = day_name.format(d=day)
            found = sorted(d.glob(name)) if "*" in name else ([d / name] if (d / name).is_file() else [])
            if not found and len(days) == 1:
                raise UsageError(f"{d / name}: file not found")
            out.extend(found)
        return out
    if not args.paths:
        raise UsageError(f"{source}: give PATHs (files or directories)" +
                         (" or --date DAY" if day_name else ""))
    for p in args.paths:
        if not Path(p).exists():
            raise UsageError(f"{p}: file not found")
    return [Path(p) for p in args.paths]


def _simulate_inputs(args) -> list:
    from envquality.store.ingest import RawInput

    days = _days(args)
    if days is None:
        raise UsageError("simulate needs --date DAY or --start DAY --end DAY")
    if args.paths:
        raise UsageError("simulate takes no PATHs")
    if args.stations is not None:
        if args.stations <= 0:
            raise UsageError("--stations must be positive")
        codes, city_of = args.stations, None
    else:
        from envquality.registry import default_registry

        st = default_registry().stations
        codes = [str(c) for c in st["code"]]
        city_of = dict(zip(codes, (str(c) for c in st["city_code"])))

    def make(day: dt.date) -> Callable[[], bytes]:
        def gen() -> bytes:
            from envquality.simulate import simulate_tidy

            df = simulate_tidy(codes, day, day, seed=args.seed, city_of=city_of)
            df = df.assign(time=df["time"].dt.strftime("%Y-%m-%d %H:%M:%S%z"))
            return df.to_csv(index=False, lineterminator="\n").encode("utf-8")
        return gen

    tag = f"n{args.stations}" if args.stations is not None else "registry"
    # the name carries every parameter of the seeded simulation: a rerun is a noop without simulating
    return [RawInput(f"simulate_{tag}_seed{args.seed}_{d:%Y%m%d}.csv", make(d), name_fixes_bytes=True) for d in days]


def _openaq_inputs(args):
    """Fetch every location × day from OpenAQ; each becomes one ingest (raw answers archived as JSON)."""
    from envquality.iotools.openaq import ClientValidationError, OpenAQClient, read_openaq
    from envquality.store.ingest import RawInput

    days = _days(args)
    if days is None:
        raise UsageError("openaq needs --date DAY or --start DAY --end DAY")
    if not args.location:
        raise UsageError("openaq needs --location ID…")

    class Recording(OpenAQClient):
        """Keeps every answer so the raw bytes can be archived."""

        def __init__(self, *a, **kw):
            super().__init__(*a, **kw)
            self.answers: list = []

        def get(self, path, params=None):
            answer = super().get(path, params)
            self.answers.append({"path": path, "params": params, "answer": answer})
            return answer

    results: dict[str, Any] = {}
    inputs = []
    for loc in args.location:
        a = days[0]
        b = days[-1] + dt.timedelta(days=1)
        try:
            client = Recording(args.base_url, allow_insecure_localhost=args.insecure_localhost)
        except ClientValidationError as exc:
            raise UsageError(f"--base-url: {exc}") from None
        name = f"{args.base_url.rstrip('/')}/v3/locations/{loc}?from={a:%Y-%m-%d}&to={b:%Y-%m-%d}"

        def fetch(loc=loc, a=a, b=b, client=client, name=name) -> bytes:
            rr = read_openaq(client, [loc], f"{a:%Y-%m-%d}T00:00:00", f"{b:%Y-%m-%d}T00:00:00")
            rr.meta.pop("sha256", None)  # the archived bytes below are the ingest's identity
            results[name] = rr
            return json.dumps(client.answers, ensure_ascii=False, sort_keys=True).encode("utf-8")

        inputs.append(RawInput(name, fetch))

    def reader(path: Path):
        # the answers were parsed when fetched; look the result up by the logical name
        for name, rr in results.items():
            if Path(name).name == path.name:
                return rr
        raise RuntimeError(f"no OpenAQ result for {path.name}")  # pragma: no cover

    return inputs, reader


# ------------------------------------------------------------------ output
def _table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    out = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip(), "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.rjust(w) if i >= 2 else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip()
            for r in rows]
    return "\n".join(out)


def _print_summary(summary, out=None, max_files: int = 40) -> None:
    out = out or sys.stdout
    rows = []
    for r in summary.results[:max_files]:
        rows.append([r.name, r.status, f"{r.readings:,}", f"{r.rows_written:,}", f"{r.quarantined:,}",
                     f"{r.rows_duplicate:,}", r.gate_status or "—"])
    if len(summary.results) > max_files:
        rows.append([f"… {len(summary.results) - max_files} more files", "", "", "", "", "", ""])
    rows.append(["TOTAL", f"{summary.ok} ok/{summary.noop} noop/{summary.failed} failed", f"{summary.rows_ok:,}",
                 f"{summary.rows_written:,}", f"{summary.rows_quarantined:,}", f"{summary.rows_duplicate:,}",
                 summary.gate_status or "—"])
    print(_table(["FILE", "STATUS", "ROWS OK", "WRITTEN", "QUARANTINED", "DUPLICATE", "GATE"], rows), file=out)
    for r in summary.results:
        if r.gate_status == "critical":
            print(f"quality gate CRITICAL for {r.name}: publishing is blocked until fixed "
                  f"(envquality quarantine list; operator Data Docs under var/site/operator/)", file=out)
    for path, msg in summary.errors:
        print(f"failed: {path}: {msg}", file=out)


def _gate(args):
    """The quality gate for hourly and daily batches (docs/quality.md), or None with --no-gate."""
    if getattr(args, "no_gate", False):
        return None
    from envquality.quality.entry import ingest_gate

    def known(frame, source):
        # simulated --stations codes (S0001 ...) are not registry stations: accept them
        return frame["station"].unique().tolist() if source == "simulate" and args.stations else None

    return ingest_gate(build_docs=not getattr(args, "no_docs", False), known_stations=known)


# ------------------------------------------------------------------ command
def cmd_ingest(args) -> int:
    """``envquality ingest``; see the module docstring for the exit codes."""
    from envquality.store import make_engine, resolve_url, upgrade_to_head
    from envquality.store.ingest import SupersedeError, run_ingest

    try:
        if args.source == "simulate":
            inputs, reader = _simulate_inputs(args), _reader("simulate", args)
        elif args.source == "openaq":
            inputs, reader = _openaq_inputs(args)
        else:
            reader = _reader(args.source, args)
            inputs = _file_inputs(args.source, args)
    except UsageError as exc:
        print(f"envquality ingest: error: {exc}", file=sys.stderr)
        return 2
    engine = make_engine(args.db)
    try:
        upgrade_to_head(engine)  # first use creates the schema; later a no-op
        from envquality.store.registry_sync import sync_registry

        sync_registry(engine)  # city and station tables follow the registry
        summary = run_ingest(engine, args.source, inputs, reader, progress=not args.no_progress,
                             archive_root=args.archive, pattern=SOURCES[args.source][0] or None,
                             gate=_gate(args), supersedes=args.supersedes, delivery_id=args.delivery_id,
                             note=args.note)
    except SupersedeError as exc:
        print(f"envquality ingest: error: {exc}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    _print_summary(summary)
    print(f"{summary}  [{resolve_url(args.db).render_as_string(hide_password=True)}]")
    if summary.files == 0:
        print("envquality ingest: nothing to ingest: no input files found", file=sys.stderr)
        return 1
    if summary.ok + summary.noop > 0:
        return 0
    if summary.input_errors and len(summary.input_errors) == summary.failed:
        # every input was unreadable: the first one's message names file, line and field
        print(f"envquality ingest: error: {summary.input_errors[0][1]}", file=sys.stderr)
        return 2
    print("envquality ingest: nothing could be read", file=sys.stderr)
    return 1
