"""``envquality run`` plans the embedded run: history by reprocess, the last days daily, the last full month."""

from __future__ import annotations

import argparse
import datetime as dt

from envquality.commands.run import _plan
from envquality.orchestration.embedded import day_logical_date, month_logical_date


def _args(**kw) -> argparse.Namespace:
    return argparse.Namespace(**{"end": None, "days": 3, "history_start": None, **kw})


def test_plan_mid_month():
    start, hist_end, days, month = _plan(_args(end="2024-03-10"))
    assert start == dt.date(2024, 2, 1) and hist_end == dt.date(2024, 3, 7)
    assert days == [dt.date(2024, 3, 8), dt.date(2024, 3, 9), dt.date(2024, 3, 10)]
    assert month == "2024-02"


def test_plan_month_end_and_history_override():
    start, hist_end, days, month = _plan(_args(end="2024-04-30", days=1, history_start="2024-04-20"))
    assert (start, hist_end, days, month) == (dt.date(2024, 4, 20), dt.date(2024, 4, 29), [dt.date(2024, 4, 30)],
                                              "2024-04")


def test_logical_dates_end_the_interval():
    assert str(day_logical_date(dt.date(2024, 3, 10))) == "2024-03-11 00:00:00+08:00"
    assert str(month_logical_date("2024-02")) == "2024-03-01 00:00:00+08:00"
