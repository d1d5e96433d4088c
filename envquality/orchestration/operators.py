"""The one operator class of the DAGs: wait for a source's day, with a deadline (Task SDK sensor).

Only the DAG files import this module (it needs Airflow); the logic is
:func:`envquality.orchestration.air.poke_pull`.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue

__all__ = ["SourceDaySensor"]


class SourceDaySensor(BaseSensorOperator):
    """Pull the run's CST day until it is complete or its wait deadline has passed.

    Done either way; past the deadline the day goes ahead marked incomplete
    (an alert goes out) and later runs pick up the late data.  The pulled
    files travel on as the XCom value.  Use ``mode="reschedule"`` so the
    wait holds no worker slot.
    """

    def poke(self, context: Any) -> PokeReturnValue:
        from envquality.orchestration.air import interval_day, poke_pull
        from envquality.orchestration.config import airflow_settings

        poke = poke_pull(airflow_settings(), interval_day(context["data_interval_start"]))
        return PokeReturnValue(is_done=poke.done, xcom_value=poke.pulled.to_dict())
