"""Bad-input corpus over every subcommand (issue 9, "No tracebacks").

Each case builds tiny hostile inputs in ``tmp_path`` and runs
``envquality.cli.main(argv)`` in-process.  For every case: a non-zero exit, no
traceback, one stderr line (argparse usage errors may add their usage text), no
raw control characters, the offending file named where the input is a file, and
the ``--db`` store (a migrated SQLite file) left with the same row counts.
"""

from __future__ import annotations

import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from envquality.cli import main

TIDY_HEADER = "time,station,pollutant,value\n"


@dataclass(frozen=True)
class Case:
    """One hostile invocation: ``build(tmp, db_url)`` returns argv and the file name stderr must carry."""

    build: Callable[[Path, str], tuple[list[str], str | None]]


def _w(tmp: Path, name: str, data: bytes | str) -> Path:
    p = tmp / name
    p.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return p


BINARY = bytes(range(256)) * 4
GBK = "时间,站点,污染物,数值\n2026-01-01 00:00,兰州,PM2.5,35\n".encode("gbk")
UTF16 = "time,station,pollutant,value\n2026-01-01T00:00,1001A,PM2.5,35\n".encode("utf-16")
TRUNCATED = 'time,station,pollutant,value\n2026-01-01T00:00,1001A,PM2.5,"3'
WRONG_HEADER = "foo,bar,baz\n1,2,3\n"
MIXED_TZ = ("time,station,pollutant,value\n2026-01-01T00:00+08:00,1001A,PM2.5,35\n"
            "2026-01-01T01:00Z,1001A,PM2.5,36\n2026-01-01T02:00,1001A,PM2.5,37\n")
BAD_MONTH = "time,station,pollutant,value\n2026-13-01T00:00,1001A,PM2.5,35\n"
HUGE = "time,station,pollutant,value\n2026-01-01T00:00,1001A,PM2.5,1e309\n"
NEGATIVE = "time,station,pollutant,value\n2026-01-01T00:00,1001A,PM2.5,-50\n"
ANSI = "time,station,pollutant,value\n2026-01-01T00:00,\x1b[31m1001A\x1b[0m,PM2.5,\x1b]0;pwn\x07\n"
HTML = "time,station,pollutant,value\n2026-01-01T00:00,<script>alert(1)</script>,PM2.5,abc\n"
NUL = "time,station,pollutant,value\n2026-01-01T00:00,10\x0001A,PM2.5,35\n"
PASSWD = "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"

CONTENTS: dict[str, bytes | str] = {
    "empty": b"",
    "binary": BINARY,
    "gbk": GBK,
    "utf16": UTF16,
    "truncated": TRUNCATED,
    "wrongheader": WRONG_HEADER,
    "mixedtz": MIXED_TZ,
    "month13": BAD_MONTH,
    "huge": HUGE,
    "negative": NEGATIVE,
    "ansi": ANSI,
    "html": HTML,
    "nul": NUL,
    "passwd": PASSWD,
}


def _file_case(prefix: list[str], kind: str, suffix: list[str] | None = None, ext: str = "csv",
               flag: str | None = None, name_it: bool = True) -> Case:
    """argv = prefix + [flag] file + suffix, with ``file`` holding CONTENTS[kind] (or missing/a dir)."""

    def build(tmp: Path, db: str) -> tuple[list[str], str | None]:
        name = f"bad_{kind}.{ext}"
        if kind == "missing":
            path = tmp / name
        elif kind == "directory":
            path = tmp / f"bad_{kind}"
            path.mkdir()
            name = path.name
        else:
            path = _w(tmp, name, CONTENTS[kind])
        mid = [flag, str(path)] if flag else [str(path)]
        argv = [a.replace("{db}", db) for a in prefix] + mid + [a.replace("{db}", db) for a in (suffix or [])]
        # a well-formed file (kind "negative") is not what the error is about
        return argv, name if name_it and kind != "negative" else None

    return Case(build)


def _argv(*argv: str) -> Case:
    """A fixed argv (``{db}`` replaced by the store URL, ``{tmp}`` by the case directory)."""

    def build(tmp: Path, db: str) -> tuple[list[str], str | None]:
        return [a.replace("{db}", db).replace("{tmp}", str(tmp)) for a in argv], None

    return Case(build)


FILE_KINDS = ["missing", "directory", "empty", "binary", "gbk", "utf16", "truncated", "wrongheader",
              "mixedtz", "month13", "huge", "ansi", "html", "nul"]
SHORT_KINDS = ["missing", "directory", "empty", "binary", "wrongheader", "truncated"]

CASES: dict[str, Case] = {}

# ingest: every source with hostile files
for source in ["tidy", "pm25in", "aqistudy", "china-sites", "china-cities"]:
    for kind in FILE_KINDS:
        CASES[f"ingest-{source}-{kind}"] = _file_case(["ingest", source, "--db", "{db}", "--no-progress"], kind)
for kind in ["missing", "directory", "binary", "passwd", "empty", "gbk", "ansi"]:
    CASES[f"ingest-generic-mapping-{kind}"] = Case(
        lambda tmp, db, kind=kind: (
            ["ingest", "generic", str(_w(tmp, "ok.csv", NEGATIVE)), "--db", db, "--no-progress", "--mapping",
             str(_file_case([], kind, ext="yaml").build(tmp, db)[0][-1])],
            f"bad_{kind}" + ("" if kind == "directory" else ".yaml")))
CASES["ingest-generic-no-mapping"] = _file_case(["ingest", "generic", "--db", "{db}", "--no-progress"], "negative")
CASES["ingest-unknown-source"] = _argv("ingest", "nosuchsource", "--db", "{db}")
CASES["ingest-bad-date"] = _argv("ingest", "simulate", "--db", "{db}", "--date", "2026-13-01", "--no-progress")
CASES["ingest-start-after-end"] = _argv("ingest", "simulate", "--db", "{db}", "--start", "2026-02-01",
                                        "--end", "2026-01-01", "--no-progress")
CASES["ingest-simulate-negative-stations"] = _argv("ingest", "simulate", "--db", "{db}", "--stations", "-3",
                                                   "--no-progress")
CASES["ingest-simulate-stations-text"] = _argv("ingest", "simulate", "--db", "{db}", "--stations", "many")
CASES["ingest-openaq-bad-base-url"] = _argv("ingest", "openaq", "--db", "{db}", "--base-url", "not a url",
                                            "--location", "1", "--date", "2026-01-01", "--no-progress")
CASES["ingest-cnemc-live-bad-base-url"] = _argv("ingest", "cnemc-live", "--db", "{db}", "--base-url",
                                                "ftp://\x1b[31mx", "--no-progress")
CASES["ingest-tidy-dir-missing"] = _argv("ingest", "tidy", "--db", "{db}", "--dir", "{tmp}/nodir", "--no-progress")
CASES["ingest-tidy-archive-is-file"] = Case(lambda tmp, db: (
    ["ingest", "tidy", "--db", db, "--no-progress", "--archive", str(_w(tmp, "arch.txt", "x")),
     str(_w(tmp, "bad_wrongheader.csv", WRONG_HEADER))], None))
CASES["ingest-ansi-filename"] = Case(lambda tmp, db: (
    ["ingest", "tidy", "--db", db, "--no-progress", str(tmp / "x\x1b[31mred.csv")], "red.csv"))
CASES["ingest-supersedes-unknown"] = Case(lambda tmp, db: (
    ["ingest", "tidy", "--db", db, "--no-progress", "--supersedes", "999999",
     str(_w(tmp, "bad_wrongheader.csv", WRONG_HEADER))], None))

# validate
for kind in FILE_KINDS:
    CASES[f"validate-hourly-{kind}"] = _file_case(["validate", "--no-docs"], kind)
for kind in SHORT_KINDS + ["gbk", "mixedtz"]:
    CASES[f"validate-site-data-{kind}"] = _file_case(["validate", "--no-docs", "--suite", "site_data"], kind)
    CASES[f"validate-water-{kind}"] = _file_case(["validate", "--no-docs", "--suite", "water_samples"], kind)
CASES["validate-quarantine-directory"] = Case(lambda tmp, db: (
    ["validate", "--no-docs", "--quarantine", str(tmp), str(_w(tmp, "bad_wrongheader.csv", WRONG_HEADER))], None))
CASES["validate-bad-fraction-5"] = _argv("validate", "--no-docs", "--bad-fraction", "5")
CASES["validate-bad-fraction-negative"] = _argv("validate", "--no-docs", "--bad-fraction", "-0.5")
CASES["validate-bad-fraction-nan"] = _argv("validate", "--no-docs", "--bad-fraction", "nan")
CASES["validate-bad-fraction-text"] = _argv("validate", "--no-docs", "--bad-fraction", "lots")
CASES["validate-unknown-suite"] = _argv("validate", "--suite", "nosuch")
CASES["validate-bad-date"] = _argv("validate", "--no-docs", "--date", "2026-13-01")

# assess
for kind in FILE_KINDS:
    CASES[f"assess-{kind}"] = _file_case(["assess"], kind)
for period in ["2020-13", "garbage", "2020-00", "20201"]:
    CASES[f"assess-period-{period}"] = _file_case(["assess", "--period", period], "negative")
CASES["assess-compare-bad"] = _file_case(["assess", "--compare", "2020-13"], "negative")
CASES["assess-dust-missing"] = _file_case(["assess", "--dust", "{db}nope.csv"], "negative")
CASES["assess-unknown-standard"] = _file_case(["assess", "--standard", "HJ999"], "negative")
CASES["assess-unknown-lang"] = _file_case(["assess", "--lang", "fr"], "negative")

# water
for period in ["2020-13", "garbage", "2020-00"]:
    CASES[f"water-assess-period-{period}"] = _argv("water", "assess", "--period", period, "--db", "{db}")
for kind in SHORT_KINDS + ["gbk", "html", "ansi"]:
    CASES[f"water-assess-registry-{kind}"] = _file_case(
        ["water", "assess", "--period", "2026-01", "--db", "{db}"], kind, flag="--registry")
    CASES[f"water-assess-samples-{kind}"] = _file_case(
        ["water", "assess", "--period", "2026-01", "--db", "{db}"], kind, flag="--samples")
    CASES[f"water-load-samples-{kind}"] = _file_case(["water", "load", "--db", "{db}"], kind, flag="--samples")
    CASES[f"water-load-registry-{kind}"] = _file_case(["water", "load", "--db", "{db}", "--simulate"], kind,
                                                      flag="--registry")
CASES["water-load-period-bad"] = _argv("water", "load", "--db", "{db}", "--simulate", "--period", "2020-13")
CASES["water-load-no-source"] = _argv("water", "load", "--db", "{db}")

# quarantine / db / store
CASES["quarantine-list-new-db"] = _argv("quarantine", "list", "--db", "sqlite:///{tmp}/new.sqlite", "--limit", "0x")
CASES["quarantine-list-negative-limit"] = _argv("quarantine", "list", "--db", "{db}", "--limit", "-1")
CASES["quarantine-show-unknown"] = _argv("quarantine", "show", "--db", "{db}", "999999")
CASES["quarantine-show-text-id"] = _argv("quarantine", "show", "--db", "{db}", "abc")
CASES["quarantine-replay-unknown-ingest"] = _argv("quarantine", "replay", "--db", "{db}", "--ingest", "999999",
                                                  "--archive", "{tmp}/noarchive")
CASES["quarantine-replay-archive-file"] = Case(lambda tmp, db: (
    ["quarantine", "replay", "--db", db, "--archive", str(_w(tmp, "bad_archive.bin", BINARY))], "bad_archive.bin"))
CASES["store-invalidate-bad-start"] = _argv("store", "invalidate", "--db", "{db}", "--station", "1001A",
                                            "--start", "2026-13-01", "--end", "2026-01-02", "--reason", "x")
CASES["store-invalidate-end-before-start"] = _argv("store", "invalidate", "--db", "{db}", "--station", "1001A",
                                                   "--start", "2026-02-01", "--end", "2026-01-01", "--reason", "x")
CASES["store-invalidate-unknown-station"] = _argv("store", "invalidate", "--db", "{db}", "--station", "NOPE",
                                                  "--start", "2026-01-01", "--end", "2026-01-02", "--reason", "x")
CASES["store-invalidate-unknown-pollutant"] = _argv("store", "invalidate", "--db", "{db}", "--station", "1001A",
                                                    "--pollutant", "XX", "--start", "2026-01-01",
                                                    "--end", "2026-01-02", "--reason", "x")
CASES["store-invalidate-no-reason"] = _argv("store", "invalidate", "--db", "{db}", "--station", "1001A",
                                            "--start", "2026-01-01", "--end", "2026-01-02")
CASES["store-history-bad-limit"] = _argv("store", "history", "--db", "{db}", "--limit", "ten")

# compute / targets / report / publish / demo / run
CASES["compute-bad-day"] = _argv("compute", "--db", "{db}", "--day", "2026-13-01", "--quiet")
CASES["compute-end-before-start"] = _argv("compute", "--db", "{db}", "--start", "2026-02-01", "--end",
                                          "2026-01-01", "--quiet")
CASES["compute-no-mode"] = _argv("compute", "--db", "{db}")
CASES["targets-bad-date"] = _argv("targets", "--db", "{db}", "--date", "2026-13-01")
for kind in SHORT_KINDS + ["passwd", "html"]:
    CASES[f"targets-file-{kind}"] = _file_case(["targets", "--db", "{db}", "--date", "2026-01-01"], kind,
                                               ext="yaml", flag="--targets")
    CASES[f"targets-input-{kind}"] = _file_case(["targets", "--date", "2026-01-01"], kind, flag="--input")
for kind in SHORT_KINDS + ["mixedtz"]:
    CASES[f"report-monthly-input-{kind}"] = _file_case(["report", "monthly", "2026-01", "--out", "{db}x"], kind,
                                                       flag="--input")
    CASES[f"report-annual-input-{kind}"] = _file_case(["report", "annual", "2026"], kind, flag="--input")
    # the empty store is refused before the registry is read, so the line need not name it
    CASES[f"report-water-registry-{kind}"] = _file_case(["report", "water", "2026", "--db", "{db}"], kind,
                                                        flag="--registry", name_it=False)
CASES["report-monthly-bad-month"] = _argv("report", "monthly", "2026-13", "--db", "{db}", "--out", "{tmp}/o")
CASES["report-annual-bad-year"] = _argv("report", "annual", "year", "--db", "{db}", "--out", "{tmp}/o")
CASES["report-unknown-format"] = _argv("report", "monthly", "2026-01", "--db", "{db}", "--formats", "exe",
                                       "--out", "{tmp}/o")
CASES["report-db-and-input"] = _argv("report", "annual", "2026", "--db", "{db}", "--input", "{tmp}/x.csv")
CASES["publish-bad-date"] = _argv("publish", "--db", "{db}", "--date", "2026-13-01", "--site", "{tmp}/site")
CASES["publish-unknown-tiles"] = _argv("publish", "--db", "{db}", "--tiles", "google")
CASES["publish-boundary-binary"] = Case(lambda tmp, db: (
    ["publish", "--db", db, "--date", "2026-01-01", "--site", str(tmp / "site"),
     "--boundary", str(_w(tmp, "bad_boundary.geojson", BINARY))], None))
CASES["publish-override-without-reason"] = _argv("publish", "--db", "{db}", "--date", "2026-01-01",
                                                 "--site", "{tmp}/site", "--override-by", "me")
CASES["demo-bad-start"] = _argv("demo", "--start", "2026-13-01", "--out", "{tmp}/o", "--no-progress")
CASES["demo-end-before-start"] = _argv("demo", "--start", "2026-02-01", "--end", "2026-01-01",
                                       "--out", "{tmp}/o", "--no-progress")
CASES["demo-unknown-lang"] = _argv("demo", "--lang", "fr")
CASES["run-bad-end"] = _argv("run", "--end", "2026-13-01")
CASES["run-days-text"] = _argv("run", "--days", "week")
CASES["run-days-negative"] = _argv("run", "--days", "-3")
CASES["no-such-command"] = _argv("frobnicate")

# --db URLs that are not usable stores, across the commands that open one
BAD_DB = {
    "nondb": "sqlite:///{tmp}/bad_nondb.sqlite",
    "mysql": "mysql://root@127.0.0.1:1/x",
    "pg-unreachable": "postgresql://postgres@127.0.0.1:1/x",
    "garbage": "::not a url::",
    "ansi": "sqlite:///{tmp}/\x1b[31mred.sqlite/x",
}
DB_COMMANDS = {
    "quarantine-list": ["quarantine", "list"],
    "store-history": ["store", "history"],
    "compute": ["compute", "--day", "2026-01-01", "--quiet"],
    "db-upgrade": ["db", "upgrade"],
    "ingest-simulate": ["ingest", "simulate", "--date", "2026-01-01", "--stations", "1", "--no-progress"],
}
for dbname, url in BAD_DB.items():
    for cname, cargv in DB_COMMANDS.items():
        def build(tmp: Path, db: str, url: str = url, cargv: list[str] = cargv) -> tuple[list[str], str | None]:
            _w(tmp, "bad_nondb.sqlite", BINARY)
            return cargv + ["--db", url.replace("{tmp}", str(tmp))], None
        CASES[f"db-{dbname}-{cname}"] = Case(build)

# Known gaps (issue 9), each a strict xfail so the fix shows up as XPASS.
XFAIL: dict[str, str] = {
    "compute-bad-day": "compute prints nothing on stderr for an invalid --day",
    "db-ansi-db-upgrade": "store-open errors print on more than one line / raw",
    "db-ansi-ingest-simulate": "store-open errors print on more than one line / raw",
    "ingest-generic-mapping-binary": "a binary --mapping is not refused with a line naming it",
    "publish-boundary-binary": "a binary --boundary crashes inside pandas (.dt accessor)",
    "quarantine-list-negative-limit": "--limit -1 is accepted (exit 0)",
    "quarantine-replay-archive-file": "--archive at a file is accepted (exit 0)",
    "quarantine-replay-unknown-ingest": "--ingest of an unknown id is accepted (exit 0)",
    "store-invalidate-end-before-start": "--end before --start is accepted (exit 0)",
    "store-invalidate-unknown-pollutant": "an unknown --pollutant is accepted (exit 0)",
    "store-invalidate-unknown-station": "an unknown --station is accepted (exit 0)",
    "targets-input-passwd": "the error echoes the offending line of --input (file content reaches stderr)",
    "validate-hourly-nul": "a NUL byte in a CSV makes the logging handler print a traceback",
    "water-assess-registry-binary": "a binary --registry gives a decode error that does not name the file",
    "water-load-registry-binary": "a binary --registry gives a decode error that does not name the file",
}
for _kind in ["binary", "empty", "gbk", "mixedtz", "truncated", "wrongheader"]:
    for _suite in ["site-data", "water"]:
        XFAIL[f"validate-{_suite}-{_kind}"] = ("validate --suite site_data/water_samples: pandas read errors "
                                               "(decode, empty, tokenizing) do not name the file")


def _params() -> list[object]:
    return [pytest.param(c, marks=pytest.mark.xfail(strict=True, reason=XFAIL[c])) if c in XFAIL else c
            for c in sorted(CASES)]


@pytest.fixture(scope="module")
def template_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("store") / "template.sqlite"
    assert main(["db", "upgrade", "--db", f"sqlite:///{path}"]) == 0
    return path


def _row_counts(path: Path) -> dict[str, int]:
    con = sqlite3.connect(path)
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
    finally:
        con.close()


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 150


@pytest.mark.parametrize("case_id", _params())
def test_bad_input(case_id: str, tmp_path: Path, template_store: Path, capsys: pytest.CaptureFixture[str],
                   monkeypatch: pytest.MonkeyPatch) -> None:
    store = tmp_path / "store.sqlite"
    shutil.copy(template_store, store)
    db = f"sqlite:///{store}"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ENVQUALITY_DB_URL", db)
    work = tmp_path / "case"
    work.mkdir()
    argv, named = CASES[case_id].build(work, db)
    before = _row_counts(store)
    capsys.readouterr()
    usage = False
    try:
        rc = main(argv)
    except SystemExit as exc:  # argparse usage errors
        rc = exc.code if isinstance(exc.code, int) else 1
        usage = True
    err = capsys.readouterr().err
    assert rc != 0, err
    assert "Traceback" not in err
    assert "\x1b" not in err and "\x07" not in err and "\x00" not in err, repr(err)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    if usage:
        assert lines and lines[-1].startswith("envquality"), err
    else:
        assert len(lines) == 1, err
        assert lines[0].startswith("envquality"), err
    if named is not None:
        assert named in err, err
    assert "root:x:0:0" not in err
    assert _row_counts(store) == before
