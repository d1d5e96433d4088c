"""SIGKILL an ingest of a ≥1 M-row file mid-way; the rerun equals a clean run."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest
import sqlalchemy as sa

from envquality.store import schema as S
from envquality.store.bulk import readings_checksum
from envquality.store.ingest import ingest_file

from . import BACKENDS, make_frame, read_tidy_csv, worker_command, write_tidy_csv

N_STATIONS, N_HOURS = 1000, 167  # 1000 × 167 × 6 = 1,002,000 readings
BAD = ["S0000,2024-01-01 01:00,so2,n/a?", "S0001,2024-02-30 01:00,co,1.1"]


@pytest.fixture(scope="module")
def big_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("big") / "hourly_2024w01.csv"
    frame = make_frame(N_STATIONS, N_HOURS, seed=42)
    frame.loc[frame.index % 97 == 0, "value"] = float("nan")  # some missing values
    return write_tidy_csv(frame, path, bad_lines=BAD)


def _fingerprint(engine):
    with engine.connect() as conn:
        quarantine = conn.execute(
            sa.select(S.quarantine.c.line, S.quarantine.c.raw, S.quarantine.c.reason).order_by(S.quarantine.c.line)
        ).all()
        n_ok = conn.execute(sa.select(sa.func.count()).where(S.ingest_log.c.status == "ok")).scalar_one()
        # order-independent hash of every stored row
        if engine.dialect.name == "postgresql":
            digest = conn.exec_driver_sql(
                "SELECT sum(hashtext(station || '|' || extract(epoch FROM time)::bigint || '|' || pollutant"
                " || '|' || coalesce(value::text, 'NULL'))::numeric) FROM reading JOIN series s ON s.id = series_id"
            ).scalar_one()
        else:
            digest = conn.exec_driver_sql(
                "SELECT sum(((time % 1000003) * 31 + length(station) * 7 + unicode(pollutant))"
                " * coalesce(CAST(value * 10 AS INTEGER) + 1, 0)) FROM reading JOIN series s ON s.id = series_id"
            ).scalar_one()
    return readings_checksum(engine), quarantine, n_ok, digest


@pytest.mark.slow
@pytest.mark.parametrize("kind", BACKENDS)
def test_kill_mid_ingest_then_rerun_equals_clean_run(fresh_store, kind, big_file, tmp_path):
    with fresh_store(kind) as clean:
        r = ingest_file(clean, big_file, read_tidy_csv, "bulk", archive_root=tmp_path / "raw-clean")
        assert r.status == "ok" and r.readings == N_STATIONS * N_HOURS * 6 and r.quarantined == 2
        expected = _fingerprint(clean)

    with fresh_store(kind) as engine:
        url = engine.url.render_as_string(hide_password=False)
        schema = getattr(engine, "info_schema", None)
        proc = subprocess.Popen(worker_command(url, schema, big_file, tmp_path / "raw", "bulk"),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env={**os.environ, "PYTHONUNBUFFERED": "1"})
        lines = []
        deadline = time.monotonic() + 600  # a hang guard, not a speed limit
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line.strip())
            if line.startswith("chunk 2"):  # 200 k rows merged, transaction still open
                proc.send_signal(signal.SIGKILL)
                break
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL, (lines, proc.stderr.read())
        assert "running" in lines and not any(x.startswith("done") for x in lines)

        # nothing of the killed transaction is visible
        with engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(S.reading)).scalar_one() == 0
            assert conn.execute(sa.select(sa.func.count()).select_from(S.quarantine)).scalar_one() == 0
            statuses = conn.execute(sa.select(S.ingest_log.c.status)).scalars().all()
        assert statuses == ["running"]

        r = ingest_file(engine, big_file, read_tidy_csv, "bulk", archive_root=tmp_path / "raw")
        assert r.status == "ok"
        assert _fingerprint(engine) == expected
        with engine.connect() as conn:
            log = conn.execute(sa.select(S.ingest_log.c.status, S.ingest_log.c.error)
                               .order_by(S.ingest_log.c.id)).all()
        assert [s for s, _ in log] == ["failed", "ok"] and "abandoned" in log[0][1]
        # and once more: a noop
        assert ingest_file(engine, big_file, read_tidy_csv, "bulk", archive_root=tmp_path / "raw").status == "noop"
        assert _fingerprint(engine) == expected
