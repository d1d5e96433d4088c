"""Settings come from the Airflow Variable, then the environment, then defaults; secrets from Connections."""

from __future__ import annotations

import pytest

from envquality.orchestration.config import DEFAULTS, ConnectionInfo, SettingsError, load_settings


def test_precedence_and_types():
    s = load_settings(env={"ENVQUALITY_SOURCE": "quotsoft", "ENVQUALITY_LATE_DAYS": "2",
                           "ENVQUALITY_COMPLETE_FRACTION": "0.8", "ENVQUALITY_SMTP_STARTTLS": "yes"},
                      variables={"source": "dropfolder", "drop_dir": "/data/in"})
    assert (s["source"], s.origin["source"]) == ("dropfolder", "variable")
    assert (s["late_days"], s.origin["late_days"]) == (2, "env")
    assert s["complete_fraction"] == 0.8 and s["smtp_starttls"] is True
    assert s["drop_dir"] == "/data/in"
    assert (s["seed"], s.origin["seed"]) == (DEFAULTS["seed"], "default")


def test_store_url_from_db_url_env_or_connection():
    assert load_settings(env={"ENVQUALITY_DB_URL": "sqlite:///x.sqlite"}).store_url() == "sqlite:///x.sqlite"
    conns = {"eq_store": ConnectionInfo(uri="postgresql://u:secret@h/db")}
    s = load_settings(env={}, variables={"store_conn_id": "eq_store"}, connection=conns.get)
    assert s.store_url() == "postgresql://u:secret@h/db"
    missing = load_settings(env={}, variables={"store_conn_id": "nope"}, connection=conns.get)
    with pytest.raises(SettingsError, match="nope"):
        missing.store_url()
    assert load_settings(env={}).store_url() is None  # envquality's own default store


@pytest.mark.parametrize("env, variables, match", [
    ({"ENVQUALITY_SOURCE": "ftp"}, None, "source"),
    ({"ENVQUALITY_LATE_DAYS": "seven"}, None, "late_days"),
    ({}, {"sorce": "simulate"}, "unknown key"),
    ({"ENVQUALITY_COMPLETE_FRACTION": "1.5"}, None, "complete_fraction"),
])
def test_bad_values_name_the_setting(env, variables, match):
    with pytest.raises(SettingsError, match=match):
        load_settings(env=env, variables=variables)


def test_listed():
    s = load_settings(env={"ENVQUALITY_ALERT_TARGETS": " log, smtp ,,webhook"})
    assert s.listed("alert_targets") == ["log", "smtp", "webhook"]
