"""Every DAG imports cleanly; schedules, graph, retries and Asset wiring are what the docs say."""

from __future__ import annotations

import datetime as dt
import warnings

import pytest

from envquality.orchestration import AIR_DAILY_ASSET, DAG_IDS, WATER_MONTHLY_ASSET

from .conftest import REPO

pytest.importorskip("airflow")


@pytest.fixture(scope="module")
def bag():
    from airflow.dag_processing.dagbag import DagBag

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bag = DagBag(dag_folder=str(REPO / "dags"))
    return bag, caught


def test_dags_import_without_errors_or_deprecation_warnings(bag):
    dagbag, caught = bag
    assert dagbag.import_errors == {}
    assert set(dagbag.dags) == set(DAG_IDS)
    ours = [w for w in caught if issubclass(w.category, (DeprecationWarning, PendingDeprecationWarning))
            or "deprecat" in str(w.message).lower()]
    from_dags = [w for w in ours if "/dags/" in str(w.filename) or "envquality" in str(w.filename)]
    assert from_dags == [], [str(w.message) for w in from_dags]


def _graph(dag) -> dict[str, set[str]]:
    return {t.task_id: set(t.downstream_task_ids) for t in dag.tasks}


def test_air_quality_daily(bag):
    dag = bag[0].dags["air_quality_daily"]
    tt = dag.timetable
    assert type(tt).__name__ == "CronDataIntervalTimetable"
    assert tt.expression == "0 0 * * *" and str(getattr(tt.timezone, "name", tt.timezone)) == "Asia/Shanghai"
    assert dag.catchup is False and dag.max_active_runs == 1
    assert _graph(dag) == {"wait_and_pull": {"gate_and_store"}, "gate_and_store": {"late_data", "figures"},
                           "late_data": {"figures"}, "figures": {"check_targets"}, "check_targets": set()}
    sensor = dag.get_task("wait_and_pull")
    assert sensor.mode == "reschedule"
    for t in dag.tasks:
        assert t.retries == 3 and t.retry_exponential_backoff == 2.0
        assert t.retry_delay == dt.timedelta(minutes=2) and t.max_retry_delay == dt.timedelta(minutes=30)
    assert [a.uri for a in dag.get_task("figures").outlets] == [AIR_DAILY_ASSET]
    # the interval of a run is exactly one CST day
    from airflow.sdk import timezone
    from airflow.serialization.encoders import coerce_to_core_timetable

    end = timezone.datetime(2024, 3, 5, 16, 0)  # 2024-03-06 00:00 CST
    iv = coerce_to_core_timetable(tt).infer_manual_data_interval(run_after=end)
    assert (iv.end - iv.start) == dt.timedelta(days=1) and iv.start.in_timezone("Asia/Shanghai").hour == 0


def test_water_sources_monthly(bag):
    dag = bag[0].dags["water_sources_monthly"]
    assert dag.timetable.expression == "0 0 1 * *"
    assert _graph(dag) == {"gate_and_store": {"classes_and_compliance"}, "classes_and_compliance": set()}
    assert [a.uri for a in dag.get_task("classes_and_compliance").outlets] == [WATER_MONTHLY_ASSET]


def test_publish_site_is_scheduled_on_the_assets(bag):
    dag = bag[0].dags["publish_site"]
    uris = {a.uri for a in dag.timetable.asset_condition.objects}  # AssetAny of the two
    assert uris == {AIR_DAILY_ASSET, WATER_MONTHLY_ASSET}
    assert type(dag.timetable.asset_condition).__name__ == "AssetAny"
    assert _graph(dag) == {"pick_day": {"guard"}, "guard": {"build"}, "build": set()}


def test_reprocess_is_manual_with_params(bag):
    dag = bag[0].dags["reprocess"]
    assert type(dag.timetable).__name__ == "NullTimetable"
    assert set(dag.params.keys()) == {"start", "end", "what"}
    assert {a.uri for a in dag.get_task("range_figures").outlets} == {AIR_DAILY_ASSET}
    assert {a.uri for a in dag.get_task("water_months").outlets} == {WATER_MONTHLY_ASSET}


def test_hourly_is_off_by_default_and_watch_is_daily(bag):
    hourly = bag[0].dags["air_quality_hourly"]
    assert hourly.is_paused_upon_creation is True and hourly.catchup is False
    watch = bag[0].dags["publication_watch"]
    assert watch.timetable.expression == "0 10 * * *"
