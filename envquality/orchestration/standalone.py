"""Start and stop real local Airflow components (api-server, scheduler, dag-processor) by PID.

Used by the scheduler test and the backfill benchmark; ``envquality airflow``
starts ``airflow standalone`` instead.  Each instance has its own
``AIRFLOW_HOME`` and metadata database; the admin password is written to a
file in that home (simple auth manager) and a JWT from ``POST /auth/token``
authorises ``/api/v2``.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

__all__ = ["LocalAirflow", "free_port"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalAirflow:
    """Airflow components as child processes; use as a context manager (stopped by PID on exit)."""

    def __init__(self, home: Path, metadata_url: str, dags: Path, *, env: dict[str, str] | None = None,
                 components: tuple[str, ...] = ("api-server", "scheduler", "dag-processor")):
        self.home, self.dags = Path(home), Path(dags)
        self.port = free_port()
        self.password = secrets.token_urlsafe(12)
        self.components = components
        self.procs: list[subprocess.Popen] = []
        self.token: str | None = None
        pw_file = self.home / "passwords.json"
        self.env = {
            **os.environ, **(env or {}),
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_url,
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(self.port),
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{self.port}",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{self.port}/execution/",
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(pw_file),
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        }
        self.home.mkdir(parents=True, exist_ok=True)
        pw_file.write_text(json.dumps({"admin": self.password}), encoding="utf-8")
        self.airflow = str(Path(sys.executable).with_name("airflow"))

    # ------------------------------------------------------------ processes
    def migrate(self) -> None:
        subprocess.run([self.airflow, "db", "migrate"], env=self.env, check=True, capture_output=True,
                       timeout=300)

    def start(self) -> "LocalAirflow":
        for name in self.components:
            log = open(self.home / f"{name}.log", "wb")
            self.procs.append(subprocess.Popen([self.airflow, *name.split()], env=self.env, stdout=log,
                                               stderr=subprocess.STDOUT, start_new_session=True))
        return self

    def stop(self) -> None:
        """SIGTERM each component's process group by PID, then SIGKILL what is left."""
        for p in self.procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for p in self.procs:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=10)

    def __enter__(self) -> "LocalAirflow":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # ------------------------------------------------------------ REST
    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def request(self, method: str, path: str, body: dict | None = None) -> Any:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url(path), data=data, headers=headers, method=method)
        with urllib.request.urlopen(req, timeout=30) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def wait_ready(self, dag_id: str, timeout: float) -> None:
        """Wait for the api-server (then log in) and for ``dag_id`` to be parsed."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self._check_alive()
            try:
                if self.token is None:
                    self.token = self.request("POST", "/auth/token",
                                              {"username": "admin", "password": self.password})["access_token"]
                self.request("GET", f"/api/v2/dags/{dag_id}")
                return
            except (urllib.error.URLError, ConnectionError, OSError, KeyError):
                time.sleep(1)
        raise TimeoutError(f"Airflow not ready with {dag_id} after {timeout:.0f} s (logs in {self.home})")

    def _check_alive(self) -> None:
        dead = [(n, p.returncode) for n, p in zip(self.components, self.procs) if p.poll() is not None]
        if dead:
            raise RuntimeError(f"Airflow component(s) exited: {dead} (logs in {self.home})")

    def trigger(self, dag_id: str, logical_date: str, conf: dict | None = None) -> str:
        run = self.request("POST", f"/api/v2/dags/{dag_id}/dagRuns", {"logical_date": logical_date, "conf": conf or {}})
        return str(run["dag_run_id"])

    def unpause(self, dag_id: str) -> None:
        self.request("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})

    def fail_other_runs(self, dag_id: str, keep: str, seconds: float) -> list[str]:
        """For ``seconds``, mark every other queued/running run of ``dag_id`` failed (unpausing schedules one)."""
        end, failed = time.monotonic() + seconds, []
        while time.monotonic() < end:
            try:
                runs = self.request("GET", f"/api/v2/dags/{dag_id}/dagRuns?limit=100")["dag_runs"]
                for r in runs:
                    if r["dag_run_id"] != keep and r["state"] in ("queued", "running"):
                        self.request("PATCH", f"/api/v2/dags/{dag_id}/dagRuns/{urllib.parse.quote(r['dag_run_id'])}",
                                     {"state": "failed"})
                        failed.append(r["dag_run_id"])
            except (TimeoutError, urllib.error.URLError, ConnectionError):
                pass
            time.sleep(1)
        return failed

    def wait_run(self, dag_id: str, run_id: str, timeout: float) -> str:
        end = time.monotonic() + timeout
        state = "?"
        while time.monotonic() < end:
            self._check_alive()
            try:
                state = self.request("GET", f"/api/v2/dags/{dag_id}/dagRuns/{urllib.parse.quote(run_id)}")["state"]
            except (TimeoutError, urllib.error.URLError, ConnectionError):
                continue  # a busy api-server answers late: ask again until the deadline
            if state in ("success", "failed"):
                return state
            time.sleep(1)
        raise TimeoutError(f"{dag_id} {run_id} still {state} after {timeout:.0f} s (logs in {self.home})")
