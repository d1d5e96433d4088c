"""A report: named tables with labelled, unit-bearing columns, charts and notes; written four ways.

:meth:`Report.write` produces, in one folder, for a report stem such as
``monthly_2016-12``:

* ``<stem>_<table>.csv`` — one UTF-8 (BOM) CSV per table, machine column names;
* ``<stem>.xlsx`` — one sheet per table, headers ``中文 / English [unit]``,
  number formats of the reported decimals;
* ``<stem>.html`` — one printable page, inline CSS and SVG, no scripts and
  no external URLs, every text from data HTML-escaped;
* ``<stem>.json`` — tables as records with column metadata, for machines.

Numbers are rounded once, as reported (GB/T 8170 half-to-even, the HJ 663
decimals of each column), so no file shows float noise.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import tempfile
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from envquality.standards.rounding import round_half_even

__all__ = ["Column", "Table", "Report", "COLUMNS", "column", "FORMATS"]

FORMATS: tuple[str, ...] = ("csv", "xlsx", "html", "json")


@dataclass(frozen=True)
class Column:
    """Labels, unit and reported decimals of a column (decimals None: not a number)."""

    zh: str
    en: str
    unit: str = ""
    decimals: int | None = None

    def header(self) -> str:
        return f"{self.zh} / {self.en}" + (f" [{self.unit}]" if self.unit else "")


_C = Column
UG, MG, PCT = "µg/m³", "mg/m³", "%"
#: Known columns; names ending in _change / _change_pct / _previous derive from their base.
COLUMNS: dict[str, Column] = {
    "dust": _C("沙尘", "dust"),
    "rank": _C("排名", "rank", "", 0),
    "entity_code": _C("行政区划代码", "division code"),
    "entity_name_zh": _C("名称", "name (zh)"),
    "entity_name_en": _C("名称(英文)", "name (en)"),
    "period": _C("时段", "period"),
    "period_start": _C("起", "from"), "period_end": _C("止", "to"),
    "rulesets": _C("标准", "rule sets"),
    "composite_index": _C("综合指数", "composite index", "", 2),
    "composite_leading": _C("最大单项指数污染物", "leading pollutant"),
    "pm25_mean": _C("PM2.5平均浓度", "PM2.5 mean", UG, 0),
    "pm10_mean": _C("PM10平均浓度", "PM10 mean", UG, 0),
    "so2_mean": _C("SO2平均浓度", "SO2 mean", UG, 0),
    "no2_mean": _C("NO2平均浓度", "NO2 mean", UG, 0),
    "so2_p98": _C("SO2日均值第98百分位数", "SO2 P98 of daily means", UG, 0),
    "no2_p98": _C("NO2日均值第98百分位数", "NO2 P98 of daily means", UG, 0),
    "pm10_p95": _C("PM10日均值第95百分位数", "PM10 P95 of daily means", UG, 0),
    "pm25_p95": _C("PM2.5日均值第95百分位数", "PM2.5 P95 of daily means", UG, 0),
    "co_p95": _C("CO日均值第95百分位数", "CO P95 of daily means", MG, 1),
    "o3_p90": _C("O3日最大8小时平均第90百分位数", "O3 MDA8 P90", UG, 0),
    "good_ratio": _C("优良天数比例", "good-day ratio", PCT, 1),
    "valid_days": _C("有效天数", "valid days", "d", 0),
    "good_days": _C("优良天数", "good days", "d", 0),
    "exceed_days": _C("超标天数", "exceedance days", "d", 0),
    "heavy_days": _C("重度及以上污染天数", "heavy-pollution days", "d", 0),
    "severe_days": _C("严重污染天数", "severe-pollution days", "d", 0),
    "dust_removed_days": _C("扣除沙尘天数", "dust days removed", "d", 0),
    "rank_composite": _C("综合指数排名", "rank by composite index", "", 0),
    "rank_pm25": _C("PM2.5排名", "rank by PM2.5", "", 0),
    "rank_good_ratio": _C("优良天数比例排名", "rank by good-day ratio", "", 0),
    "meets_gb3095": _C("六项均达GB 3095二级", "all items within GB 3095 Class 2"),
    "limits": _C("限值标准", "limits of"),
    "target_id": _C("目标", "target"), "title_zh": _C("目标名称", "title (zh)"), "title_en": _C("目标(英文)", "title"),
    "metric": _C("指标", "metric"), "status": _C("状态", "status"),
    "value_so_far": _C("年度值", "value of the year"), "value_so_far_dust_excluded": _C("扣沙年度值", "dust excluded"),
    "threshold": _C("目标值", "threshold"), "unit": _C("单位", "unit"),
    "month": _C("月份", "month"),
    "ratio_pct": _C("达标率(按水源地个数)", "compliance by sources", PCT, 2),
    "ratio_samplings_pct": _C("达标率(按监测频次)", "compliance by samplings", PCT, 2),
    "ratio_volume_pct": _C("达标率(按设计供水量)", "compliance by supply volume", PCT, 2),
    "target_pct": _C("目标", "target", PCT, 2),
    "meets_target": _C("达到目标", "meets target"),
    "n_compliant": _C("达标水源地数", "compliant sources", "", 0),
    "n_sources": _C("评价水源地数", "assessed sources", "", 0),
    "n_unassessed": _C("未评价水源地数", "sources not assessed", "", 0),
    "source_id": _C("水源地编号", "source id"), "source_name": _C("水源地名称", "source name"),
    "source_type": _C("类型", "type"), "level": _C("级别", "level"),
    "n_samplings": _C("监测次数", "samplings", "", 0), "n_failing": _C("不达标次数", "failing samplings", "", 0),
    "months_failing": _C("不达标月份", "failing months"), "worst_class": _C("最差类别", "worst class"),
    "deciding": _C("定类项目", "deciding parameters"),
    "exceeding": _C("超标项目", "exceeding parameters"),
    "max_multiple": _C("最大超标倍数", "largest exceedance multiple", "", 2),
}
for _item in ("so2_mean", "so2_p98", "no2_mean", "no2_p98", "pm10_mean", "pm10_p95", "pm25_mean", "pm25_p95",
              "co_p95", "o3_p90"):
    COLUMNS[f"{_item}_ok"] = _C(COLUMNS[_item].zh + "达标", COLUMNS[_item].en + " within limit")
    COLUMNS[f"{_item}_limit"] = _C(COLUMNS[_item].zh + "限值", COLUMNS[_item].en + " limit", COLUMNS[_item].unit,
                                   COLUMNS[_item].decimals)


def column(name: str) -> Column:
    """Metadata of a column (derived names: ``X_previous``, ``X_change``, ``X_change_pct``)."""
    if name in COLUMNS:
        return COLUMNS[name]
    for suffix, zh, en in (("_previous", "上年同期", "same period last year"), ("_change_pct", "同比变化率", "change %"),
                           ("_change", "同比变化", "change")):
        if name.endswith(suffix):
            base = column(name[: -len(suffix)])
            if suffix == "_change_pct":
                return Column(base.zh + zh, f"{base.en}, {en}", PCT, 1)
            unit = "pp" if base.unit == PCT and suffix == "_change" else base.unit
            return Column(base.zh + zh, f"{base.en}, {en}", unit, base.decimals)
    return Column(name, name)


@dataclass
class Table:
    """A named table of a report."""

    name: str
    title_zh: str
    title_en: str
    frame: pd.DataFrame

    def rounded(self) -> pd.DataFrame:
        """The frame with every numeric column rounded once to its reported decimals (computed once)."""
        cached = self.__dict__.get("_rounded")
        if cached is not None and cached[0] is self.frame:
            return cached[1].copy()
        out = self._round()
        self.__dict__["_rounded"] = (self.frame, out)
        return out.copy()

    def _round(self) -> pd.DataFrame:
        out = self.frame.copy()
        for c in out.columns:
            meta = column(c)
            if meta.decimals is not None and pd.api.types.is_numeric_dtype(out[c]) \
                    and not pd.api.types.is_bool_dtype(out[c]):
                vals = round_half_even(pd.to_numeric(out[c]).to_numpy(dtype="float64", na_value=np.nan),
                                       meta.decimals)
                out[c] = pd.array(vals, dtype="Int64") if meta.decimals == 0 and \
                    np.all(np.isnan(vals) | (vals == np.round(vals))) else vals
        return out


@dataclass
class Report:
    """A report ready to be written (see the module docstring for the files)."""

    kind: str
    period: str
    title_zh: str
    title_en: str
    tables: list[Table]
    charts: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def stem(self) -> str:
        return f"{self.kind}_{self.period}"

    def table(self, name: str) -> pd.DataFrame:
        """Rounded frame of the table called ``name``."""
        for t in self.tables:
            if t.name == name:
                return t.rounded()
        raise KeyError(name)

    # ------------------------------------------------------------------ writers
    def write(self, out_dir: str | Path, formats: Iterable[str] = FORMATS) -> list[Path]:
        """Write the report files into ``out_dir`` (created); returns their paths."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths: list[Path] = []
        for fmt in formats:
            if fmt == "csv":
                for t in self.tables:
                    p = out / f"{self.stem}_{t.name}.csv"
                    _atomic(p, t.rounded().to_csv(index=False, lineterminator="\n").encode("utf-8-sig"))
                    paths.append(p)
            elif fmt == "xlsx":
                paths.append(self._xlsx(out / f"{self.stem}.xlsx"))
            elif fmt == "html":
                p = out / f"{self.stem}.html"
                _atomic(p, self.to_html().encode("utf-8"))
                paths.append(p)
            elif fmt == "json":
                p = out / f"{self.stem}.json"
                _atomic(p, (json.dumps(self.to_dict(), ensure_ascii=False, indent=1) + "\n").encode("utf-8"))
                paths.append(p)
            else:
                raise ValueError(f"unknown report format {fmt!r}; use {', '.join(FORMATS)}")
        return paths

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready document: metadata, notes and every table as records."""
        tables = {}
        for t in self.tables:
            frame = t.rounded()
            cols = [{"name": c, "zh": column(c).zh, "en": column(c).en, "unit": column(c).unit,
                     "decimals": column(c).decimals} for c in frame.columns]
            tables[t.name] = {"title": {"zh": t.title_zh, "en": t.title_en}, "columns": cols,
                              "rows": [{k: _plain(v) for k, v in r.items()} for r in frame.to_dict("records")]}
        return {"report": self.kind, "period": self.period, "title": {"zh": self.title_zh, "en": self.title_en},
                "meta": {k: _plain(v) for k, v in self.meta.items()}, "notes": list(self.notes), "tables": tables}

    def _xlsx(self, path: Path) -> Path:
        from openpyxl import Workbook
        from openpyxl.styles import Alignment, Font
        from openpyxl.utils import get_column_letter

        wb = Workbook()
        wb.remove(wb.active)
        for t in self.tables:
            ws = wb.create_sheet(t.name[:31])
            frame = t.rounded()
            metas = [column(c) for c in frame.columns]
            ws.append([m.header() for m in metas])
            for cell in ws[1]:
                cell.font = Font(bold=True)
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            for rec in frame.itertuples(index=False):
                ws.append([_plain(v) for v in rec])
            for j, m in enumerate(metas, start=1):
                letter = get_column_letter(j)
                ws.column_dimensions[letter].width = max(10, min(40, len(m.header()) * 0.9))
                if m.decimals is not None:
                    fmt = "0" if m.decimals == 0 else "0." + "0" * m.decimals
                    for (cell,) in ws.iter_rows(min_row=2, min_col=j, max_col=j):
                        cell.number_format = fmt
            ws.freeze_panes = "A2"
        about = wb.create_sheet("about")
        about.append(["报告 / report", f"{self.title_zh} / {self.title_en}"])
        about.append(["时段 / period", self.period])
        for k, v in self.meta.items():
            about.append([str(k), str(_plain(v))])
        for n in self.notes:
            about.append(["说明 / note", n])
        wb.properties.title = self.title_en
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".xlsx.tmp")
        os.close(fd)
        try:
            wb.save(tmp)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return path

    def to_html(self) -> str:
        """The printable page (inline CSS and SVG; no scripts, no external URLs)."""
        e = escape
        parts = ["<!DOCTYPE html>", '<html lang="zh-CN"><head><meta charset="utf-8">',
                 '<meta name="viewport" content="width=device-width, initial-scale=1">',
                 f"<title>{e(self.title_zh)} · {e(self.title_en)}</title>", f"<style>{_CSS}</style></head><body>",
                 f"<h1>{e(self.title_zh)}</h1>", f'<p class="en">{e(self.title_en)}</p>',
                 '<dl class="meta">' + "".join(f"<dt>{e(str(k))}</dt><dd>{e(str(_plain(v)))}</dd>"
                                               for k, v in self.meta.items()) + "</dl>"]
        if self.notes:
            parts.append('<ul class="notes">' + "".join(f"<li>{e(n)}</li>" for n in self.notes) + "</ul>")
        if self.charts:
            parts.append('<section class="charts">' + "".join(f"<figure>{svg}</figure>" for svg in self.charts)
                         + "</section>")
        for t in self.tables:
            parts.append(_html_table(t))
        parts.append(f'<footer>envquality · {e(self.stem)}</footer></body></html>')
        return "\n".join(parts)


_CSS = """
body{font-family:'Noto Sans CJK SC','Noto Sans SC',sans-serif;margin:1.5em;color:#222}
h1{font-size:1.4em;margin:0}.en{color:#555;margin:.2em 0 1em}
dl.meta{display:grid;grid-template-columns:max-content auto;gap:.1em 1em;font-size:.85em}
dl.meta dt{font-weight:bold}dl.meta dd{margin:0}
.notes{font-size:.85em;color:#444}
section.charts{display:flex;flex-wrap:wrap;gap:1em}figure{margin:0}
table{border-collapse:collapse;margin:1em 0 2em;font-size:.8em}
caption{text-align:left;font-weight:bold;font-size:1.1em;padding:.3em 0}
th,td{border:1px solid #bbb;padding:.2em .4em}th{background:#eee;vertical-align:top}
td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.province td{font-weight:bold;background:#f6f6f6}
footer{color:#888;font-size:.75em;margin-top:2em}
@media print{body{margin:0}section.charts,table{break-inside:avoid}th{background:#eee !important}}
"""


def _html_table(t: Table) -> str:
    e = escape
    frame = t.rounded()
    metas = [column(c) for c in frame.columns]
    head = "".join(f"<th>{e(m.zh)}<br><small>{e(m.en)}{e(f' [{m.unit}]' if m.unit else '')}</small></th>"
                   for m in metas)
    rows = []
    for rec in frame.to_dict("records"):
        cls = ' class="province"' if str(rec.get("entity_code", "")) == "620000" else ""
        cells = []
        for c, m in zip(frame.columns, metas):
            text, num = _cell(rec[c], m)
            cells.append(f'<td class="num">{e(text)}</td>' if num else f"<td>{e(text)}</td>")
        rows.append(f"<tr{cls}>{''.join(cells)}</tr>")
    return (f'<table id="{e(t.name)}"><caption>{e(t.title_zh)} · {e(t.title_en)}</caption>'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>")


def _cell(v: Any, m: Column) -> tuple[str, bool]:
    v = _plain(v)
    if v is None:
        return "—", False
    if isinstance(v, bool):
        return ("✓" if v else "✗"), False
    if isinstance(v, (int, float)) and m.decimals is not None:
        return f"{float(v):.{m.decimals}f}", True
    if isinstance(v, float):
        return f"{v:g}", True
    return str(v), isinstance(v, int)


def _plain(v: Any) -> Any:
    """Python scalars for JSON/Excel: NaN/NA -> None, numpy -> Python."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, (pd.Timestamp, dt.date)):
        return v.isoformat()[:10] if isinstance(v, pd.Timestamp) else v.isoformat()
    return v


def _atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
