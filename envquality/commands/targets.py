"""``envquality targets``: progress towards the plan's targets on a day (from the store or a file)."""

from __future__ import annotations

import argparse
import json
import sys

from envquality.commands._inputs import add_source_options, daily_from_input, safe, store_engine, store_errors


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "targets", help="progress towards the targets on a day: so far, still needed, reachable, projection",
        description="For every target (packaged, plus --targets FILE or ENVQUALITY_TARGETS): the value so far "
        "this year, what the rest of the year needs, whether it is still reachable and an 80 %% projection band.")
    p.add_argument("--date", help="the day (YYYY-MM-DD; data through it count); default: the last day with data")
    p.add_argument("--targets", metavar="FILE", help="operator targets file (YAML), added to the packaged targets")
    p.add_argument("--lang", choices=["zh", "en"], default="zh")
    add_source_options(p)
    p.set_defaults(func=run)


def _day(text: str | None, last) -> "object":
    import pandas as pd

    from envquality.iotools.common import InputError

    if text is None:
        if last is None:
            raise InputError("store", None, "--date", "no daily values to assess; give --date or load data")
        return last
    t = pd.to_datetime(text, errors="coerce", format="ISO8601")
    if pd.isna(t):
        raise InputError(text, None, "--date", "expected a day such as 2020-06-30")
    return t.date()


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    from envquality.targets import load_targets
    from envquality.targets.progress import progress_from_daily, progress_table

    targets = load_targets(args.targets)
    if args.input:
        daily = daily_from_input(args)
        last = pd.Timestamp(daily["date"].max()).date() if len(daily) else None
        day = _day(args.date, last)
        table = progress_from_daily(daily, day, targets)
    else:
        engine = store_engine(args)
        try:
            import sqlalchemy as sa

            with store_errors():
                with engine.connect() as conn:
                    last = conn.execute(sa.text("SELECT MAX(date) FROM daily_stat WHERE entity_kind = 'city'")
                                        ).scalar()
                day = _day(args.date, pd.Timestamp(last).date() if last is not None else None)
                table = progress_table(engine, day, targets=targets)  # type: ignore[arg-type]
        finally:
            engine.dispose()
    if args.out:
        from pathlib import Path

        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        stem = out / f"targets_{day}"
        table.to_csv(f"{stem}.csv", index=False, encoding="utf-8-sig")
        Path(f"{stem}.json").write_text(_json(table, day) + "\n", encoding="utf-8")
        print(f"wrote {stem}.csv and {stem}.json", file=sys.stderr)
    if args.json:
        print(_json(table, day))
    else:
        print(format_progress(table, lang=args.lang))
    return 0


def _json(table, day) -> str:
    clean = table.astype(object).where(table.notna(), None)
    return json.dumps({"date": str(day), "progress": clean.to_dict("records")}, ensure_ascii=False, indent=1,
                      default=str)


_STATUS = {"zh": {"met": "已达成", "on_track": "有望达成", "at_risk": "有风险", "out_of_reach": "无法达成",
                  "no_data": "无数据"},
           "en": {s: s.replace("_", " ") for s in ("met", "on_track", "at_risk", "out_of_reach", "no_data")}}


def format_progress(table, *, lang: str = "zh") -> str:
    """Readable lines of a progress table, one block per target."""
    import pandas as pd

    def f(v, d=1):
        return "—" if v is None or pd.isna(v) else f"{float(v):.{d}f}"

    lines = []
    for tid, g in table.groupby("target_id", sort=False):
        head = g.iloc[0]
        lines.append(f"== {safe(head['title_zh'] if lang == 'zh' else head['title_en'])}  [{safe(tid)}]  "
                     f"{head['date']}")
        for r in g.itertuples(index=False):
            d = 0 if r.metric.startswith("pm") else (2 if r.metric.startswith("water") else 1)
            parts = [f"  {safe(r.entity_name if lang == 'zh' else r.entity_name_en):<16}",
                     f"so far {f(r.value_so_far, d)}{r.unit}",
                     f"(dust excl. {f(r.value_so_far_dust_excluded, d)})" if r.metric != "water_source_compliance"
                     else "", f"target {r.comparator} {f(r.threshold, 2)}"]
            if r.metric == "good_day_ratio" and not pd.isna(r.good_days_needed):
                parts.append(f"good {r.day_unit} needed {r.good_days_needed} of {r.days_left}")
            elif r.metric.startswith("pm") and not pd.isna(r.needed_rest_of_year):
                parts.append(f"rest-of-year mean ≤ {f(r.needed_rest_of_year)}")
            if not pd.isna(r.projection_p50):
                parts.append(f"projection {f(r.projection_p10, d)}–{f(r.projection_p90, d)} "
                             f"(median {f(r.projection_p50, d)})")
            parts.append(f"→ {_STATUS[lang].get(r.status, r.status)}")
            if r.note and (r.status == "no_data" or r.entity_code == "620000"):
                parts.append(f"({safe(r.note)})")
            lines.append("  ".join(p for p in parts if p))
        notes = sorted({safe(n) for n in g["projection_note"] if n})
        lines += [f"  note: {n}" for n in notes]
    return "\n".join(lines)
