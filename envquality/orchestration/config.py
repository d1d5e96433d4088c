"""Orchestration settings: from the environment, Airflow Variables and Connections — never from code.

Every setting has one key (e.g. ``source``).  Its value is looked up, first
hit wins, in

1. the Airflow Variable ``envquality`` — one JSON object holding any of the
   keys (``{"source": "dropfolder", "drop_dir": "/data/in"}``); one lookup
   per task instead of one per key;
2. the environment variable ``ENVQUALITY_<KEY>`` (upper case), e.g.
   ``ENVQUALITY_SOURCE=simulate``;
3. the default of :data:`DEFAULTS`.

Secrets never sit in either: the store URL may come from the Airflow
Connection named by ``store_conn_id`` (its URI), the OpenAQ key from the
password of ``openaq_conn_id``, SMTP and webhook credentials from
``smtp_conn_id`` / ``webhook_conn_id``.  Outside Airflow the same code runs
with ``variables=None`` and a connection getter that reads nothing, so
``ENVQUALITY_*`` alone configures it (the tests and the CLI do that).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

__all__ = ["Settings", "ConnectionInfo", "DEFAULTS", "SOURCES", "load_settings", "airflow_settings",
           "SettingsError"]

#: The sources a day can be pulled from.
SOURCES = ("simulate", "dropfolder", "cnemc", "openaq", "quotsoft")

#: Every key with its default.  Paths are relative to the working directory.
DEFAULTS: dict[str, Any] = {
    "source": "simulate",          # one of SOURCES
    "seed": 2017,                  # simulator seed (air); water uses water_seed
    "water_seed": 2020,
    "simulate_lag_hours": 1.0,     # the simulator "publishes" an hour this long after it ends
    "drop_dir": "var/drop",        # dropfolder: tidy CSV/Parquet exports named <YYYY-MM-DD>*.csv
    "water_drop_dir": "",          # water samplings <YYYY-MM>*.csv|xlsx; empty = simulate them
    "cnemc_url": "",               # live feed URL (hourly DAG), archived per hour under raw_dir/cnemc
    "openaq_base_url": "https://api.openaq.org",
    "openaq_locations": "",        # comma-separated OpenAQ location ids
    "openaq_conn_id": "openaq_default",
    "quotsoft_dir": "",            # folder of china_sites_YYYYMMDD.csv
    "db_url": "",                  # store URL (else store_conn_id, else envquality's default store)
    "store_conn_id": "",
    "site_dir": "var/site",        # site root: public/ (served), operator/
    "raw_dir": "var/raw",          # raw archive of every ingested file
    "staging_dir": "var/staging",  # pulled files waiting for the gate
    "alerts_dir": "var/alerts",
    "data_docs": True,             # rebuild the operator Data Docs after each gate run
    "complete_fraction": 0.9,      # station-hours of the day needed to call it complete
    "wait_deadline_hours": 6.0,    # past (day end + this), an incomplete day goes ahead
    "late_days": 7,                # days looked back for incomplete days (late data)
    "publish_deadline_hour": 10,   # the day D must be published by D+1 this hour (CST)
    "alert_targets": "log",        # comma-separated: log, smtp, webhook
    "smtp_conn_id": "",            # host/port/login/password of the mail server
    "smtp_host": "localhost",
    "smtp_port": 25,
    "smtp_from": "envquality@localhost",
    "smtp_to": "",                 # comma-separated recipients
    "smtp_starttls": False,
    "webhook_url": "",
    "webhook_conn_id": "",         # its password becomes a bearer token
    "target_alert_statuses": "at_risk,out_of_reach",
}

_INT = {"seed", "water_seed", "late_days", "publish_deadline_hour", "smtp_port"}
_FLOAT = {"simulate_lag_hours", "complete_fraction", "wait_deadline_hours"}
_BOOL = {"smtp_starttls", "data_docs"}


class SettingsError(ValueError):
    """A setting has a value that cannot be used; the message names the key and where it came from."""


@dataclass(frozen=True)
class ConnectionInfo:
    """The parts of an Airflow Connection the orchestration uses."""

    host: str | None = None
    port: int | None = None
    login: str | None = None
    password: str | None = None
    uri: str | None = None
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Settings:
    """Resolved settings (see :data:`DEFAULTS`) plus where each came from.

    ``values`` maps every key of :data:`DEFAULTS` to its typed value;
    ``origin`` to ``variable``, ``env`` or ``default``; ``connection`` is
    the getter used for the secrets (returns None for an unknown id).
    """

    values: Mapping[str, Any]
    origin: Mapping[str, str]
    connection: Callable[[str], ConnectionInfo | None] = field(default=lambda _id: None, repr=False)

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def path(self, key: str) -> Path:
        return Path(str(self.values[key]))

    def listed(self, key: str) -> list[str]:
        """A comma-separated setting as a list (empty items dropped)."""
        return [s.strip() for s in str(self.values[key] or "").split(",") if s.strip()]

    def store_url(self) -> str | None:
        """Store URL: ``db_url``, else the URI of ``store_conn_id``, else None (envquality's default)."""
        if self.values["db_url"]:
            return str(self.values["db_url"])
        if self.values["store_conn_id"]:
            conn = self.connection(str(self.values["store_conn_id"]))
            if conn is None or not conn.uri:
                raise SettingsError(f"store_conn_id: Airflow Connection {self.values['store_conn_id']!r} not found")
            return conn.uri
        return None

    def secret(self, conn_key: str) -> ConnectionInfo | None:
        """The Connection named by the setting ``conn_key`` (None when the setting is empty)."""
        conn_id = str(self.values[conn_key] or "")
        return self.connection(conn_id) if conn_id else None


def _typed(key: str, raw: Any, origin: str) -> Any:
    try:
        if key in _INT:
            return int(raw)
        if key in _FLOAT:
            return float(raw)
        if key in _BOOL:
            return raw if isinstance(raw, bool) else str(raw).strip().lower() in ("1", "true", "yes", "on")
    except (TypeError, ValueError):
        raise SettingsError(f"setting {key} (from {origin}): not a number: {raw!r}") from None
    return raw


def load_settings(env: Mapping[str, str] | None = None, variables: Mapping[str, Any] | None = None,
                  connection: Callable[[str], ConnectionInfo | None] | None = None) -> Settings:
    """Resolve every key of :data:`DEFAULTS`: Airflow Variable, then environment, then default.

    >>> s = load_settings(env={"ENVQUALITY_SOURCE": "dropfolder", "ENVQUALITY_LATE_DAYS": "3"},
    ...                   variables={"late_days": 5})
    >>> s["source"], s.origin["source"], s["late_days"], s.origin["late_days"]
    ('dropfolder', 'env', 5, 'variable')
    """
    env = os.environ if env is None else env
    variables = variables or {}
    unknown = sorted(set(variables) - set(DEFAULTS))
    if unknown:
        raise SettingsError(f"Airflow Variable envquality: unknown key(s) {', '.join(unknown)}")
    values, origin = {}, {}
    for key, default in DEFAULTS.items():
        if key in variables:
            values[key], origin[key] = _typed(key, variables[key], "Variable envquality"), "variable"
        elif f"ENVQUALITY_{key.upper()}" in env:
            values[key] = _typed(key, env[f"ENVQUALITY_{key.upper()}"], f"ENVQUALITY_{key.upper()}")
            origin[key] = "env"
        else:
            values[key], origin[key] = default, "default"
    # the store's own variables keep working (envquality.store.engine, quality.publish_guard)
    if origin["db_url"] == "default" and env.get("ENVQUALITY_DB_URL"):
        values["db_url"], origin["db_url"] = env["ENVQUALITY_DB_URL"], "env"
    if origin["site_dir"] == "default" and env.get("ENVQUALITY_SITE_DIR"):
        values["site_dir"], origin["site_dir"] = env["ENVQUALITY_SITE_DIR"], "env"
    if values["source"] not in SOURCES:
        raise SettingsError(f"setting source (from {origin['source']}): {values['source']!r} is not one of "
                            f"{', '.join(SOURCES)}")
    if not 0 < values["complete_fraction"] <= 1:
        raise SettingsError(f"setting complete_fraction: {values['complete_fraction']} is not in (0, 1]")
    return Settings(values, origin, connection or (lambda _id: None))


def airflow_settings() -> Settings:
    """:func:`load_settings` inside an Airflow task: Variable ``envquality`` and Connections via the Task SDK."""
    from airflow.sdk import Connection, Variable

    raw = Variable.get("envquality", default=None)
    variables = json.loads(raw) if isinstance(raw, str) and raw.strip() else (raw or {})

    def connection(conn_id: str) -> ConnectionInfo | None:
        try:
            c = Connection.get(conn_id)
        except Exception:  # the SDK raises its own not-found error; an absent Connection is just absent
            return None
        return ConnectionInfo(host=c.host, port=c.port, login=c.login, password=c.password,
                              uri=c.get_uri(), extra=c.extra_dejson)

    return load_settings(variables=variables, connection=connection)
