"""The bureau's reports: monthly/YTD ranking, annual summary, drinking-water sources.

>>> from envquality.reports import monthly_report          # doctest: +SKIP
>>> monthly_report(engine, "2016-12").write("var/reports")  # doctest: +SKIP

See :mod:`envquality.reports.builders` and ``docs/reports.md``.
"""

from envquality.reports.builders import (
    annual_report, gb3095_compliance, monthly_report, period_figures, ranking_table, water_report,
)
from envquality.reports.model import COLUMNS, FORMATS, Column, Report, Table

__all__ = ["monthly_report", "annual_report", "water_report", "period_figures", "ranking_table",
           "gb3095_compliance", "Report", "Table", "Column", "COLUMNS", "FORMATS"]
