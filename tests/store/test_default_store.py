"""One default store for every command; a missing or unmigrated store is one clear line."""

from __future__ import annotations

import sqlite3

import pytest

from envquality.cli import main
from envquality.store import StoreNotReady, default_url, open_store
from envquality.store.engine import DEFAULT_URL


@pytest.fixture
def elsewhere(tmp_path, monkeypatch):
    """Run in an empty folder with no ENVQUALITY_DB_URL."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ENVQUALITY_DB_URL", raising=False)
    return tmp_path


def _one_line(err: str) -> str:
    lines = [x for x in err.splitlines() if x.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_default_is_the_demo_store_and_env_overrides(elsewhere, monkeypatch):
    assert default_url() == DEFAULT_URL == "sqlite:///var/demo/envquality.sqlite"
    monkeypatch.setenv("ENVQUALITY_DB_URL", "sqlite:///other.sqlite")
    assert default_url() == "sqlite:///other.sqlite"


def test_missing_store_is_one_line_and_creates_nothing(elsewhere, capsys):
    assert main(["quarantine", "list"]) == 2
    line = _one_line(capsys.readouterr().err)
    assert "no store at var/demo/envquality.sqlite" in line and "envquality demo" in line
    assert list(elsewhere.iterdir()) == []  # neither the file nor its folder
    with pytest.raises(StoreNotReady):
        open_store()


def test_unmigrated_store_names_the_upgrade(elsewhere, capsys, monkeypatch):
    sqlite3.connect(elsewhere / "empty.sqlite").close()
    monkeypatch.setenv("ENVQUALITY_DB_URL", "sqlite:///empty.sqlite")
    assert main(["quarantine", "list"]) == 2
    line = _one_line(capsys.readouterr().err)
    assert "has no schema" in line and "envquality db upgrade" in line
    assert main(["db", "upgrade"]) == 0  # the environment variable names the same store
    capsys.readouterr()
    assert main(["quarantine", "list"]) == 0
    assert "(0 of 0 unresolved rows)" in capsys.readouterr().out


def test_db_option_wins_over_environment(elsewhere, capsys, monkeypatch):
    monkeypatch.setenv("ENVQUALITY_DB_URL", "sqlite:///absent.sqlite")
    assert main(["db", "upgrade", "--db", "sqlite:///chosen.sqlite"]) == 0
    capsys.readouterr()
    assert main(["quarantine", "list", "--db", "sqlite:///chosen.sqlite"]) == 0
    assert not (elsewhere / "absent.sqlite").exists()


def test_create_migrates(elsewhere):
    engine = open_store("sqlite:///new/store.sqlite", create=True)
    engine.dispose()
    open_store("sqlite:///new/store.sqlite").dispose()  # now passes the check
