"""Issue 9, no tracebacks (store part): unusable --db gives one line; concurrent first use waits."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from envquality.cli import main
from envquality.store import current_revision, make_engine

from . import BACKENDS

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("command", [["quarantine", "list"], ["db", "upgrade"], ["store", "history"]])
@pytest.mark.parametrize("url,expect", [
    ("NOTADB", "not an SQLite database"),
    ("postgresql://postgres@127.0.0.1:1/nothing", "cannot connect to PostgreSQL"),
    ("mysql://user@localhost/db", "unsupported database"),
    ("::not a url::", "not a database URL"),
])
def test_unusable_db_gives_one_line(tmp_path, capsys, command, url, expect):
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not a database\n" * 20)
    url = url.replace("NOTADB", f"sqlite:///{junk}")
    assert main([*command, "--db", url]) == 2
    err = capsys.readouterr().err.strip()
    assert expect in err and "Traceback" not in err and len(err.splitlines()) == 1
    assert junk.read_bytes() == b"this is not a database\n" * 20  # unchanged


def _target(kind: str, tmp_path: Path, pg_url: str | None) -> tuple[str, str | None]:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'new.sqlite'}", None
    schema = f"eqt_{uuid.uuid4().hex[:12]}"
    admin = make_engine(pg_url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    admin.dispose()
    return str(pg_url), schema


@pytest.mark.parametrize("kind", BACKENDS)
def test_concurrent_first_use_of_a_new_store(kind, tmp_path, request):
    pg_url = request.getfixturevalue("pg_url") if kind == "postgres" else None
    url, schema = _target(kind, tmp_path, pg_url)
    code = ("import sys; from envquality.store import make_engine, upgrade_to_head; "
            "e = make_engine(sys.argv[1], schema=sys.argv[2] or None); print(upgrade_to_head(e))")
    procs = [subprocess.Popen([sys.executable, "-c", code, url, schema or ""], cwd=REPO, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin"})
             for _ in range(6)]
    outs = [p.communicate(timeout=300) for p in procs]
    try:
        assert [p.returncode for p in procs] == [0] * 6, [o[1][-500:] for o in outs]
        assert all(o[0].strip() == "0005" for o in outs)
        engine = make_engine(url, schema=schema)
        assert current_revision(engine) == "0005"
        engine.dispose()
    finally:
        if schema:
            admin = make_engine(pg_url)
            with admin.begin() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            admin.dispose()
