"""Targets as data: the schema of a targets file, its validator and loader.

A targets file is YAML (layout in ``docs/targets.md``; the packaged one is
``envquality/data/targets.yaml`` with the three environmental targets of
Gansu's 2017 plan).  :func:`load_targets` reads the packaged file, then an
operator file (``path`` or env :data:`TARGETS_ENV`) whose targets are added
(same ``id``: replaced).  Validation is explicit and stops at the first
fault with one line naming the file, the target and the field
(:class:`TargetsFileError`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from envquality.iotools.common import InputError

__all__ = ["Target", "TargetsFileError", "load_targets", "parse_targets", "TARGETS_ENV", "METRICS", "SCOPES",
           "COMPARATORS", "PACKAGED_TARGETS"]

#: Environment variable naming an operator targets file.
TARGETS_ENV = "ENVQUALITY_TARGETS"
#: Name of the packaged file in ``envquality/data``.
PACKAGED_TARGETS = "targets.yaml"

#: metric -> (unit, decimals reported, smaller is better)
METRICS: dict[str, tuple[str, int, bool]] = {
    "good_day_ratio": ("%", 1, False),
    "pm25_annual_mean": ("µg/m³", 0, True),
    "pm10_annual_mean": ("µg/m³", 0, True),
    "water_source_compliance": ("%", 2, False),
}
#: Scopes: which entities a target has rows for.
SCOPES: tuple[str, ...] = ("province", "divisions", "province_and_divisions", "drinking_water_sources")
COMPARATORS: tuple[str, ...] = (">=", ">", "<=", "<")
_WATER_METHODS = ("sources", "samplings", "volume")
_KEYS = {"id", "title", "scope", "metric", "comparator", "threshold", "change", "deadline", "dust_excluded",
         "source", "divisions", "method", "notes"}


class TargetsFileError(InputError):
    """A malformed targets file: names the file, the target and the field."""

    def __init__(self, file: str | Path, target: str | None, field: str | None, message: str):
        self.target = target
        where = f"target {target!r}: " if target else ""
        super().__init__(file, None, field, where + message)


@dataclass(frozen=True)
class Target:
    """One target (a row of the targets file).

    Attributes
    ----------
    id, title_zh, title_en : str
    scope : str
        One of :data:`SCOPES`.  ``province``: the province figure (mean of
        the divisions, HJ 663 city values averaged as the plan states);
        ``divisions``: each division (``divisions`` restricts the list);
        ``province_and_divisions``: both; ``drinking_water_sources``:
        centralized sources of county-level and higher cities (province and
        each division).
    metric : str
        One of :data:`METRICS`.
    comparator : str
        ``>=``, ``>``, ``<=`` or ``<``.
    threshold : float or None
        Fixed threshold in the metric's unit; None for a change target.
    baseline_year : int or None
        Change target: the value must fall below the baseline year's value,
        by ``required_decline_pct`` percent when given.
    baseline_value : float or None
        Baseline given in the file (else computed from the data).
    deadline : int
    dust_excluded : bool
        Status judged on the dust-excluded figures (环办监测〔2016〕120号).
    source_document, source_clause : str
    divisions : tuple of str
        Division codes for ``divisions`` scope (empty: all).
    method : str
        Water compliance method (:data:`envquality.water.compliance.METHODS`).
    """

    id: str
    title_zh: str
    title_en: str
    scope: str
    metric: str
    comparator: str
    threshold: float | None
    deadline: int
    dust_excluded: bool
    source_document: str
    source_clause: str = ""
    baseline_year: int | None = None
    required_decline_pct: float | None = None
    baseline_value: float | None = None
    divisions: tuple[str, ...] = ()
    method: str = "sources"
    file: str = ""

    @property
    def unit(self) -> str:
        return METRICS[self.metric][0]

    @property
    def decimals(self) -> int:
        return METRICS[self.metric][1]

    @property
    def is_change(self) -> bool:
        return self.baseline_year is not None

    def threshold_from_baseline(self, baseline: float) -> float:
        """Threshold of a change target: the baseline less the required decline."""
        return baseline * (1.0 - (self.required_decline_pct or 0.0) / 100.0)

    def meets(self, value: float, threshold: float) -> bool:
        """``value comparator threshold`` (unrounded figures, as the water compliance does)."""
        return {">=": value >= threshold, ">": value > threshold, "<=": value <= threshold,
                "<": value < threshold}[self.comparator]


def _fail(file: str, target: str | None, field: str, message: str) -> TargetsFileError:
    return TargetsFileError(file, target, field, message)


def _number(file: str, tid: str, field: str, v: Any, *, allow_none: bool = False) -> float | None:
    if v is None and allow_none:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise _fail(file, tid, field, f"expected a number, got {v!r}")
    return float(v)


def _text(file: str, tid: str | None, field: str, v: Any) -> str:
    if not isinstance(v, str) or not v.strip():
        raise _fail(file, tid, field, f"expected non-empty text, got {v!r}")
    return v.strip()


def _one(file: str, raw: Any, index: int) -> Target:
    if not isinstance(raw, dict):
        raise _fail(file, f"#{index + 1}", "targets", f"each target must be a mapping, got {type(raw).__name__}")
    tid = _text(file, f"#{index + 1}", "id", raw.get("id"))
    unknown = sorted(set(map(str, raw)) - _KEYS)
    if unknown:
        raise _fail(file, tid, unknown[0], f"unknown field (known: {', '.join(sorted(_KEYS))})")
    title = raw.get("title")
    if not isinstance(title, dict):
        raise _fail(file, tid, "title", "expected a mapping with zh and en")
    zh, en = _text(file, tid, "title.zh", title.get("zh")), _text(file, tid, "title.en", title.get("en"))
    scope = raw.get("scope")
    if scope not in SCOPES:
        raise _fail(file, tid, "scope", f"{scope!r} is not one of {', '.join(SCOPES)}")
    metric = raw.get("metric")
    if metric not in METRICS:
        raise _fail(file, tid, "metric", f"{metric!r} is not one of {', '.join(METRICS)}")
    if (scope == "drinking_water_sources") != (metric == "water_source_compliance"):
        raise _fail(file, tid, "metric", "water_source_compliance goes with scope drinking_water_sources only")
    change = raw.get("change")
    threshold = baseline_year = decline = baseline_value = None
    comparator = raw.get("comparator")
    if change is not None:
        if not isinstance(change, dict):
            raise _fail(file, tid, "change", "expected a mapping with baseline_year")
        if "threshold" in raw:
            raise _fail(file, tid, "threshold", "give either threshold or change, not both")
        if not METRICS[metric][2]:
            raise _fail(file, tid, "change", f"a required decline applies to concentrations, not {metric}")
        by = change.get("baseline_year", 2015)
        if isinstance(by, bool) or not isinstance(by, int) or not 1990 <= by <= 2100:
            raise _fail(file, tid, "change.baseline_year", f"expected a year, got {by!r}")
        baseline_year = by
        decline = _number(file, tid, "change.required_decline_pct", change.get("required_decline_pct"),
                          allow_none=True)
        if decline is not None and not 0 <= decline < 100:
            raise _fail(file, tid, "change.required_decline_pct", f"expected 0 ≤ x < 100, got {decline}")
        baseline_value = _number(file, tid, "change.baseline_value", change.get("baseline_value"), allow_none=True)
        extra = sorted(set(change) - {"baseline_year", "required_decline_pct", "baseline_value"})
        if extra:
            raise _fail(file, tid, f"change.{extra[0]}", "unknown field")
        # "falling" without a number: strictly below the baseline
        comparator = comparator or ("<" if decline is None else "<=")
        if comparator not in ("<", "<="):
            raise _fail(file, tid, "comparator", "a decline target compares with < or <=")
    else:
        if comparator not in COMPARATORS:
            raise _fail(file, tid, "comparator", f"{comparator!r} is not one of {', '.join(COMPARATORS)}")
        threshold = _number(file, tid, "threshold", raw.get("threshold"))
    if comparator in (("<", "<=") if not METRICS[metric][2] else (">", ">=")):
        better = "a larger" if not METRICS[metric][2] else "a smaller"
        raise _fail(file, tid, "comparator", f"{comparator!r} does not fit {metric} ({better} value is better)")
    deadline = raw.get("deadline")
    if isinstance(deadline, bool) or not isinstance(deadline, int) or not 1990 <= deadline <= 2100:
        raise _fail(file, tid, "deadline", f"expected a year, got {deadline!r}")
    dust = raw.get("dust_excluded", False)
    if not isinstance(dust, bool):
        raise _fail(file, tid, "dust_excluded", f"expected true or false, got {dust!r}")
    src = raw.get("source")
    if isinstance(src, str):
        src = {"document": src}
    if not isinstance(src, dict):
        raise _fail(file, tid, "source", "expected the document the target comes from")
    document = _text(file, tid, "source.document", src.get("document"))
    clause = str(src.get("clause") or "")
    divisions = raw.get("divisions") or []
    if not isinstance(divisions, list) or not all(isinstance(d, (str, int)) for d in divisions):
        raise _fail(file, tid, "divisions", "expected a list of division codes")
    method = raw.get("method", "sources")
    if method not in _WATER_METHODS:
        raise _fail(file, tid, "method", f"{method!r} is not one of {', '.join(_WATER_METHODS)}")
    return Target(id=tid, title_zh=zh, title_en=en, scope=scope, metric=metric, comparator=comparator,
                  threshold=threshold, deadline=deadline, dust_excluded=dust, source_document=document,
                  source_clause=clause, baseline_year=baseline_year, required_decline_pct=decline,
                  baseline_value=baseline_value, divisions=tuple(str(d) for d in divisions), method=method,
                  file=file)


def parse_targets(text: str, file: str = "targets.yaml") -> list[Target]:
    """Targets of one file's text; raises :class:`TargetsFileError` on the first fault."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise _fail(file, None, "yaml", f"not valid YAML{where}: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(doc, dict):
        raise _fail(file, None, "targets", "expected a mapping with 'version' and 'targets'")
    if doc.get("version") != 1:
        raise _fail(file, None, "version", f"unsupported version {doc.get('version')!r} (this envquality reads 1)")
    raw = doc.get("targets")
    if not isinstance(raw, list):
        raise _fail(file, None, "targets", "expected a list of targets")
    out = [_one(file, r, i) for i, r in enumerate(raw)]
    seen: set[str] = set()
    for t in out:
        if t.id in seen:
            raise _fail(file, t.id, "id", "duplicate id")
        seen.add(t.id)
    return out


def load_targets(path: str | Path | None = None, *, packaged: bool = True) -> list[Target]:
    """The packaged targets plus an operator file (``path``, else env :data:`TARGETS_ENV`).

    Operator targets are appended; one with a packaged ``id`` replaces it.

    >>> [t.id for t in load_targets()][:2]
    ['gansu-2020-good-day-ratio', 'gansu-2020-pm25-falling']
    """
    targets: list[Target] = []
    if packaged:
        text = resources.files("envquality").joinpath("data", PACKAGED_TARGETS).read_text(encoding="utf-8")
        targets = parse_targets(text, PACKAGED_TARGETS)
    extra = path if path is not None else os.environ.get(TARGETS_ENV) or None
    if extra is not None:
        p = Path(extra)
        if not p.is_file():
            raise TargetsFileError(p, None, None, "targets file not found")
        try:
            text = p.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            raise TargetsFileError(p, None, None, "not UTF-8 text") from None
        own = parse_targets(text, str(p))
        ids = {t.id for t in own}
        targets = [t for t in targets if t.id not in ids] + own
    return targets
