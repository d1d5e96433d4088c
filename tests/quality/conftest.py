"""Shared fixtures of the data-quality gate tests: one GX context per session, site in a tmp dir."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
REAL = ROOT.parent / "shared" / "realdata"


@pytest.fixture(scope="session", autouse=True)
def _site_dir(tmp_path_factory):
    site = tmp_path_factory.mktemp("site")
    old = {k: os.environ.get(k) for k in ("ENVQUALITY_SITE_DIR", "ENVQUALITY_ALERTS_DIR")}
    os.environ["ENVQUALITY_SITE_DIR"] = str(site / "site")
    os.environ["ENVQUALITY_ALERTS_DIR"] = str(site / "alerts")
    yield site
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="session", autouse=True)
def _git_tree_unchanged():
    """The tests must not write into the repository (GX works on a temporary copy)."""
    def status():
        try:
            out = subprocess.run(["git", "status", "--porcelain", "--", "expectations", "envquality/quality"],
                                 cwd=ROOT, capture_output=True, text=True, timeout=30)
            return out.stdout if out.returncode == 0 else None
        except (OSError, subprocess.SubprocessError):
            return None

    before = status()
    yield
    after = status()
    if before is not None and after is not None:
        assert before == after, f"tests changed the git tree:\n{before}\n---\n{after}"


def _stations():
    from envquality.registry import default_registry

    st = default_registry().stations
    act = st[st["status"] == "active"]
    return act["code"].astype(str).tolist(), dict(zip(act["code"].astype(str), act["city_code"].astype(str)))


@pytest.fixture(scope="session")
def clean_day():
    """One simulated clean day (no gaps, no bad values) of the registry's active stations."""
    from envquality.simulate import simulate_tidy

    codes, city_of = _stations()
    df = simulate_tidy(codes, "2024-07-10", "2024-07-10", gap_fraction=0.0, bad_fraction=0.0,
                       dust_events=False, city_of=city_of)
    return df, codes


@pytest.fixture()
def window():
    return (pd.Timestamp("2024-07-10 01:00", tz="Asia/Shanghai"), pd.Timestamp("2024-07-11 00:00", tz="Asia/Shanghai"))


def row_of(df: pd.DataFrame, station: str, pollutant: str, hour: int) -> int:
    t = pd.Timestamp("2024-07-10", tz="Asia/Shanghai") + pd.Timedelta(hours=hour)
    m = (df["station"] == station) & (df["pollutant"] == pollutant) & (df["time"] == t)
    idx = np.flatnonzero(m.to_numpy())
    assert len(idx) == 1
    return int(idx[0])
