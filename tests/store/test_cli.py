"""CLI: db upgrade, quarantine list / show."""

from __future__ import annotations

from envquality.cli import main
from envquality.store import make_engine
from envquality.store.ingest import ingest_file

from . import make_frame, read_tidy_csv, write_tidy_csv


def test_db_upgrade_and_quarantine_commands(tmp_path, capsys, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    assert main(["db", "upgrade", "--db", url]) == 0
    assert "revision 0005" in capsys.readouterr().out
    engine = make_engine(url)
    path = write_tidy_csv(make_frame(1, 2), tmp_path / "f.csv",
                          bad_lines=["S1,2024-01-01 01:00,co,abc", "S2,2024-01-01 01:00,so2,\u00b5g bad"])
    ingest_file(engine, path, read_tidy_csv, "cnemc", archive_root=tmp_path / "raw")
    engine.dispose()

    monkeypatch.setenv("ENVQUALITY_DB_URL", url)
    assert main(["quarantine", "list", "--source", "cnemc", "--limit", "1"]) == 0
    out = capsys.readouterr().out
    assert "REASON" in out and "cannot parse value" in out and "(1 of 2 unresolved rows)" in out
    assert main(["quarantine", "list", "--source", "nope"]) == 0
    assert "(0 of 0" in capsys.readouterr().out
    assert main(["quarantine", "show", "2"]) == 0
    out = capsys.readouterr().out
    assert "S2,2024-01-01 01:00,so2,\u00b5g bad" in out and "line" in out and "f.csv" in out
    assert main(["quarantine", "show", "99"]) == 1
