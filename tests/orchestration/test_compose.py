"""The production compose file, parsed (no Docker daemon here): services, health checks, localhost, no secrets."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
SERVICES = COMPOSE["services"]
SECRET_KEY = re.compile(r"PASSWORD|SECRET|FERNET|TOKEN|API_KEY", re.I)


def _env(svc: dict) -> dict[str, str]:
    env = svc.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def test_services_present():
    assert {"airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer",
            "airflow-worker", "airflow-db", "envquality-db", "redis", "site"} <= set(SERVICES)
    assert _env(SERVICES["airflow-worker"])["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert "celery" in SERVICES["airflow-worker"]["command"]
    # two PostgreSQL databases: Airflow's metadata and the envquality store
    assert _env(SERVICES["airflow-db"])["POSTGRES_DB"] == "airflow"
    assert _env(SERVICES["envquality-db"])["POSTGRES_DB"] == "envquality"
    assert "@envquality-db:5432/envquality" in _env(SERVICES["airflow-scheduler"])["ENVQUALITY_DB_URL"]
    assert "@redis:6379" in _env(SERVICES["airflow-scheduler"])["AIRFLOW__CELERY__BROKER_URL"]


def test_every_long_running_service_has_a_health_check():
    for name, svc in SERVICES.items():
        assert svc.get("healthcheck", {}).get("test"), f"{name} has no health check"


def test_published_ports_bind_to_localhost_unless_configured():
    for name, svc in SERVICES.items():
        for port in svc.get("ports", []):
            m = re.match(r"(127\.0\.0\.1|\$\{[A-Z_]+:-127\.0\.0\.1\}):", str(port))
            assert m, f"{name}: port {port} is not bound to 127.0.0.1 (or a *_BIND variable defaulting to it)"


def test_no_committed_secrets():
    for name, svc in SERVICES.items():
        for key, value in _env(svc).items():
            if SECRET_KEY.search(key):
                assert re.fullmatch(r"\$\{[A-Z_]+:\?[^}]*\}", value), f"{name}: {key} is not taken from the environment"
            # URLs carrying credentials take the password from a required variable
            for pw in re.findall(r"://[^:/@\s]*:([^@]*)@", value):
                assert re.fullmatch(r"\$\{[A-Z_]+:\?[^}]*\}", pw), f"{name}: {key} embeds a literal password"
    assert "--requirepass" in " ".join(SERVICES["redis"]["command"])
    env_example = (REPO / ".env.example").read_text(encoding="utf-8")
    for line in env_example.splitlines():
        if "=" in line and not line.startswith("#") and SECRET_KEY.search(line.split("=")[0]):
            assert line.split("=", 1)[1] == "CHANGE-ME", line
    assert ".env" in (REPO / ".gitignore").read_text(encoding="utf-8").split()


def test_site_is_served_read_only():
    site = SERVICES["site"]
    assert all(str(v).endswith(":ro") for v in site["volumes"])
    assert site.get("read_only") is True
