"""``envquality water assess``: drinking-water-source compliance against the 96.85 % target.

Classifies every sampling of the period (GB 3838-2002 under the 2011 method
for surface sources, GB/T 14848-2017 for groundwater), then prints the
compliance ratio per city and for the province three ways (by sources, by
samplings, by designed supply volume), each against
:data:`envquality.targets.DRINKING_WATER_TARGET`.

Without ``--samples`` the samplings are **simulated** (seeded, so the output
is the same on every machine) for the packaged simulated Gansu registry, or
for ``--registry``.
"""

from __future__ import annotations

import argparse
import json
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("water", help="drinking-water-source assessment (GB 3838-2002, GB/T 14848-2017)")
    wsub = p.add_subparsers(dest="water_command", metavar="ACTION")
    a = wsub.add_parser("assess", help="compliance ratios per city and province for a year or month")
    a.add_argument("--period", required=True, help="a year (2020) or a month (2020-06)")
    a.add_argument("--registry", help="source registry CSV (default: the packaged SIMULATED Gansu registry)")
    a.add_argument("--samples", help="sampling results, CSV or .xlsx (default: simulated, seeded)")
    a.add_argument("--seed", type=int, default=2020, help="simulation seed (default 2020)")
    a.add_argument("--include-cod", action="store_true", help="let COD form surface classes (default: excluded)")
    a.add_argument("--json", action="store_true", help="print JSON instead of a table")
    a.add_argument("--lang", choices=["zh", "en"], default="zh")
    a.add_argument("--db", metavar="URL", default=None,
                   help="read the samplings of the period from this store (ignored with --samples)")
    a.set_defaults(func=run_assess)
    ld = wsub.add_parser("load", help="store the source registry, samplings and per-sampling classes")
    ld.add_argument("--db", metavar="URL", default=None,
                    help="store URL (default: ENVQUALITY_DB_URL, else ./var/envquality.sqlite)")
    ld.add_argument("--registry", help="source registry CSV (default: the packaged SIMULATED Gansu registry)")
    g = ld.add_mutually_exclusive_group(required=True)
    g.add_argument("--samples", help="sampling results, CSV or .xlsx")
    g.add_argument("--simulate", action="store_true", help="simulate the samplings of --period (seeded)")
    ld.add_argument("--period", help="with --simulate: the year to simulate (2020; a month 2020-06 means its year)")
    ld.add_argument("--seed", type=int, default=2020, help="simulation seed (default 2020)")
    ld.add_argument("--include-cod", action="store_true", help="classes with COD (stored as method 2011+cod)")
    ld.set_defaults(func=run_load)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def _assess(args: argparse.Namespace) -> dict:
    from envquality.targets import DRINKING_WATER_TARGET
    from envquality.water.classify import MIN_REQUIRED_FRACTION, classify_samples
    from envquality.water.compliance import compliance_ratios, parse_period, select_period, source_compliance
    from envquality.water.registry import load_water_sources
    from envquality.water.simulate import simulate_samples

    period = parse_period(args.period)
    reg = load_water_sources(args.registry)
    notes = []
    if args.samples:
        from envquality.iotools.water import read_water_samples

        res = read_water_samples(args.samples)
        samples, rejected, _ = _gate_samples(res.data, None, None, str(args.samples))
        if len(res.rejected):
            notes.append(f"{len(res.rejected)} input rows rejected (first: line {res.rejected['line'].iloc[0]}: "
                         f"{res.rejected['reason'].iloc[0]})")
        n_gated = len(rejected) if rejected is not None else 0
        if n_gated:
            notes.append(f"{n_gated} sample values excluded by the quality gate (first: {rejected['reason'].iloc[0]})")
        simulated = False
    elif getattr(args, "db", None):
        import pandas as pd

        from envquality.store import make_engine
        from envquality.store.water import read_water_samples as read_stored

        engine = make_engine(args.db)
        try:
            start = pd.Timestamp(f"{period.year}-01-01")
            samples = read_stored(engine, start, start + pd.DateOffset(years=1))
        finally:
            engine.dispose()
        simulated = "water-simulate" in samples.attrs.get("ingest_sources", [])
        if not len(samples):
            notes.append(f"no samplings of {period.year} in the store")
    else:
        samples = simulate_samples(reg, f"{period.year}-01", f"{period.year}-12", seed=args.seed)
        simulated = True
    known = samples["source"].astype(str).isin(set(reg["id"].astype(str)))
    if not known.all():
        unknown = sorted(set(samples.loc[~known, "source"].astype(str)))
        notes.append(f"{int((~known).sum())} samples of {len(unknown)} sources not in the registry left out "
                     f"(first: {unknown[0]!r})")
        samples = samples.loc[known]
    classified = classify_samples(samples, registry=reg, include_cod=args.include_cod)
    classified = select_period(classified, period)
    n_insufficient = int((classified["verdict"] == "insufficient").sum()) if "verdict" in classified else 0
    if n_insufficient:
        notes.append(f"{n_insufficient} samplings not assessed: fewer than "
                     f"{MIN_REQUIRED_FRACTION:.0%} of the required parameters measured")
    ratios = compliance_ratios(classified, reg, period)
    per_source = source_compliance(classified, reg, period)
    bad = classified[~classified["compliant"]]
    worst = (bad.groupby("source", sort=True)
             .agg(samplings=("compliant", "size"), worst_class=("class_label", "max"),
                  deciding=("deciding", lambda s: "|".join(sorted({x for v in s for x in str(v).split("|") if x}))),
                  exceeding=("exceeding", lambda s: "|".join(sorted({x for v in s for x in str(v).split("|") if x}))))
             .reset_index())
    worst_cls = bad.groupby("source")["water_class"].max()
    worst["worst_class"] = worst["source"].map(worst_cls).map(lambda c: ["", "I", "II", "III", "IV", "V", "劣V"][int(c)]
                                                               if c == c and c is not None else "")
    names = reg.set_index("id")[["name", "city"]]
    worst = worst.join(names, on="source")
    return {
        "period": str(period), "target_pct": DRINKING_WATER_TARGET, "samples_simulated": simulated,
        "registry_simulated": bool(reg["simulated"].all()), "include_cod": bool(args.include_cod),
        "n_sources": int(len(reg)), "n_samplings": int(len(classified)),
        "ratios": ratios, "noncompliant": worst, "per_source": per_source, "notes": notes,
        "ignored_parameters": classified.attrs.get("ignored_parameters", []),
    }


def _table(r: dict, lang: str) -> str:
    from envquality.standards.rounding import round_half_even

    zh = lang == "zh"
    rat = r["ratios"]
    look = {(x.city_code, x.method): x for x in rat.itertuples(index=False)}
    order = list(dict.fromkeys(zip(rat["city_code"], rat["city"], rat["scope"])))

    def cell(x) -> str:
        if x.ratio_pct != x.ratio_pct:
            return "—"
        return f"{round_half_even(x.ratio_pct, 2).item():.2f}{'' if x.meets_target else ' ✗'}"

    head = (["城市", "水源地(达标/评价)", "按水源地%", "按频次%", "按水量%"] if zh else
            ["city", "sources (ok/assessed)", "by sources %", "by samplings %", "by volume %"])
    from envquality.registry import load_cities

    en = dict(zip(load_cities()["code"].astype(str), load_cities()["name_en"]))
    en["620000"] = "Gansu (province)"
    rows = []
    for code, city, scope in order:
        src = look[(code, "sources")]
        rows.append([city if zh else en.get(code, code),
                     f"{int(src.numerator)}/{int(src.denominator)}",
                     *(cell(look[(code, m)]) for m in ("sources", "samplings", "volume"))])
    widths = [max(_w(x[i]) for x in [head, *rows]) for i in range(len(head))]
    out = []
    title = (f"集中式饮用水水源地达标情况 {r['period']}（目标 {r['target_pct']}%，✗ = 未达目标）" if zh else
             f"Drinking-water sources, compliance {r['period']} (target {r['target_pct']} %, ✗ = below target)")
    out.append(title)
    if r["samples_simulated"] or r["registry_simulated"]:
        out.append("注意：模拟数据（水源地名录和/或监测数据为模拟），非真实结果。" if zh else
                   "NOTE: SIMULATED data (registry and/or samplings), not real results.")
    for i, row in enumerate([head, *rows]):
        out.append("  ".join(_pad(x, widths[j], left=j == 0) for j, x in enumerate(row)))
        if i == 0:
            out.append("  ".join("-" * wd for wd in widths))
    nc = r["noncompliant"]
    if len(nc):
        out.append("")
        out.append("未达标水源地：" if zh else "Non-compliant sources:")
        for x in nc.head(20).itertuples(index=False):
            out.append(f"  {x.source} {x.name if zh else ''} {x.worst_class} "
                       f"{'超标' if zh else 'exceeding'}: {x.exceeding or x.deciding}")
        if len(nc) > 20:
            out.append(f"  … {len(nc) - 20} more")
    for note in r["notes"]:
        out.append(note)
    return "\n".join(out)


def _w(s: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(s))


def _pad(s: str, width: int, *, left: bool) -> str:
    fill = " " * (width - _w(s))
    return s + fill if left else fill + s


def run_assess(args: argparse.Namespace) -> int:
    r = _assess(args)
    if args.json:
        rat = r["ratios"].astype(object).where(r["ratios"].notna(), None)
        doc = {k: v for k, v in r.items() if k not in ("ratios", "noncompliant", "per_source")}
        doc["ratios"] = rat.to_dict("records")
        doc["noncompliant"] = r["noncompliant"].astype(object).where(r["noncompliant"].notna(), None).to_dict("records")
        json.dump(doc, sys.stdout, ensure_ascii=False, indent=1, default=str)
        sys.stdout.write("\n")
    else:
        print(_table(r, args.lang))
    return 0


def _method(include_cod: bool) -> str:
    return "2011+cod" if include_cod else "2011"


def _load_input(args: argparse.Namespace, reg):
    """(samples, rejected, origin, source, name, sha256, rows_in) of ``water load``; None after a usage error."""
    if args.simulate:
        if not args.period:
            print("envquality water load: --simulate needs --period", file=sys.stderr)
            return None
        from envquality.water.compliance import parse_period
        from envquality.water.simulate import simulate_samples

        year = parse_period(args.period).year
        samples = simulate_samples(reg, f"{year}-01", f"{year}-12", seed=args.seed)
        return samples, None, None, "water-simulate", f"simulate_{year}_seed{args.seed}", None, len(samples)
    from envquality.iotools.common import InputError
    from envquality.iotools.water import read_water_samples

    try:
        res = read_water_samples(args.samples)
    except (InputError, FileNotFoundError, IsADirectoryError) as exc:
        print(f"envquality water load: {exc}", file=sys.stderr)
        return None
    meta = res.meta or {}
    name = str(args.samples)
    samples, rejected, origin = _gate_samples(res.data, res.rejected, meta.get("row_origin"), name)
    return samples, rejected, origin, "water-samples", name, meta.get("sha256"), meta.get("rows_in")


def _gate_samples(samples, rejected, origin, name: str):
    """The ``water_samples`` quality suite (docs/quality.md): rows it fails join the reader's rejects.

    Returns (passing samples, all rejected rows, the passing rows' origin).
    """
    import pandas as pd

    from envquality.core import REJECT_COLUMNS
    from envquality.quality.entry import gate_water_samples

    samples = samples.reset_index(drop=True)
    gated = gate_water_samples(samples, file=name, source="water-samples")
    keep = samples.index.isin(gated.passed.index)  # the gate keeps the batch's row labels
    passed = gated.passed.reset_index(drop=True)
    if origin is not None and len(origin) == len(samples) and keep.sum() == len(passed):
        origin = origin.reset_index(drop=True)[keep].reset_index(drop=True)
    else:
        origin = None
    parts = [f for f in (rejected, gated.quarantined.reindex(columns=list(REJECT_COLUMNS))) if f is not None and len(f)]
    return passed, (pd.concat(parts, ignore_index=True) if parts else rejected), origin


def run_load(args: argparse.Namespace) -> int:
    """One transaction: registry, samples (unregistered sources and bad rows quarantined) and classes."""
    from envquality.store import make_engine, upgrade_to_head
    from envquality.store.water import load_water
    from envquality.water.registry import load_water_sources

    reg = load_water_sources(args.registry)
    got = _load_input(args, reg)
    if got is None:
        return 2
    samples, rejected, origin, source, name, sha, rows_in = got
    engine = make_engine(args.db)
    try:
        upgrade_to_head(engine)
        r = load_water(engine, samples, reg, source=source, name=name, sha256=sha, rejected=rejected,
                       origin=origin, rows_in=rows_in, include_cod=args.include_cod, method=_method(args.include_cod))
    finally:
        engine.dispose()
    print(f"sources: {len(reg)} ({r.sources_written} written); samples: {r.samples} ({r.written} written); "
          f"quarantined: {r.quarantined} ({r.unregistered} of unregistered sources); samplings classed: "
          f"{r.samplings} ({r.classes_written} written, method {_method(args.include_cod)}); ingest {r.ingest_id}")
    if r.quarantined:
        print(f"see: envquality quarantine list --source {source}")
    return 0
