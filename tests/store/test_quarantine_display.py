"""Quarantine rows name the original file (archived by sha256), and list/show neutralise terminal escapes."""

from __future__ import annotations

import hashlib

import sqlalchemy as sa

from envquality.cli import main
from envquality.iotools.readings import read_readings
from envquality.store import make_engine, schema as S, upgrade_to_head
from envquality.store.ingest import RawInput, run_ingest

EVIL = "S1\x1b[2J\x1b]0;pwned\x07,2024-01-01 01:00,pm10,abc"


def test_bytes_ingest_quarantine_names_original_file_and_archive(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'q.sqlite'}"
    engine = make_engine(url)
    upgrade_to_head(engine)
    body = f"station,time,pollutant,value\nS1,2024-01-01 01:00,pm10,10\n{EVIL}\n".encode()
    sha = hashlib.sha256(body).hexdigest()
    run_ingest(engine, "tidy", [RawInput("crawl_兰州.csv", body)], lambda p: read_readings(p, strict=False),
               progress=False, archive_root=tmp_path / "raw")
    with engine.connect() as conn:
        files = conn.execute(sa.select(S.quarantine.c.file)).scalars().all()
    engine.dispose()
    assert files == ["crawl_兰州.csv"]  # not /tmp/envquality-ingest-…/crawl_兰州.csv

    assert main(["quarantine", "list", "--db", url]) == 0
    out = capsys.readouterr().out
    assert f"crawl_兰州.csv@{sha[:8]}" in out
    assert "\x1b" not in out and "\x07" not in out and "\\x1b" in out

    assert main(["quarantine", "show", "1", "--db", url]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out
    assert sha in out and "archived_as" in out and "tmp/envquality-ingest" not in out
