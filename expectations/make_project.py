"""Regenerate the Great Expectations project files in this folder.

The JSON files next to this script (``expectations/*.json``,
``validation_definitions/*.json``, ``checkpoints/*.json``) and the
``fluent_datasources`` / ``data_docs_sites`` sections of
``great_expectations.yml`` are the source of truth and are committed; this
script only exists so that a reviewer can see (and re-create) them from one
readable Python description.  The gate never runs it.

    .venv/bin/python expectations/make_project.py     # rewrites the files

Conventions of every expectation:

* ``severity`` (GX 1.x field): ``critical`` blocks publishing, ``warning`` is
  recorded and shown to operators, ``info`` is informational (dust flags) and
  has ``mostly=0``: it counts its rows but never fails, so Data Docs never
  show "Failed" for a batch the CLI calls a pass;
* ``meta.level``: ``row`` — every unexpected row goes to quarantine, the
  expectation's own success (with ``mostly``) decides the batch-level
  severity; ``batch`` — nothing is quarantined; ``flag`` — marks rows only;
* ``meta.name``: the stable rule name written into the quarantine reason;
* ``meta.threshold``: where the threshold comes from (thresholds.yaml key).

Thresholds are suite parameters (``{"$PARAMETER": ...}``) filled from
``envquality/quality/thresholds.yaml`` at run time
(:func:`envquality.quality.config.expectation_parameters`).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import great_expectations as gx
from great_expectations.expectations.row_conditions import Column

HERE = Path(__file__).resolve().parent
E = gx.expectations
DATASOURCE = "envquality"
BATCH_DEFINITION = "whole_dataframe"


def P(name: str) -> dict:
    return {"$PARAMETER": name}


def X(cls, name: str, level: str, severity: str, description: str, threshold: str = "", **kwargs):
    meta = {"name": name, "level": level}
    if threshold:
        meta["threshold"] = threshold
    return cls(meta=meta, severity=severity, description=description, **kwargs)


def hourly() -> list:
    T = "thresholds.yaml"
    out = [
        X(E.ExpectTableRowCountToBeBetween, "hourly.not_empty", "batch", "critical",
          "The batch holds at least one reading.", min_value=1),
        X(E.ExpectTableColumnsToMatchSet, "hourly.schema", "batch", "critical",
          "Tidy hourly model columns station, time, pollutant, value are present (envquality.model).",
          column_set=["station", "time", "pollutant", "value"], exact_match=False),
        X(E.ExpectColumnValuesToBeInTypeList, "hourly.value_type", "batch", "critical",
          "Values are floating point (NaN = missing, docs/conventions.md).",
          column="value", type_list=["float64", "float32", "Float64"]),
        X(E.ExpectColumnValuesToBeInSet, "hourly.time_ok", "row", "critical",
          "time is a tz-aware Asia/Shanghai whole hour (hour-ending CST).", T + ": -",
          column="time_ok", value_set=[True], mostly=P("mostly_key")),
        X(E.ExpectColumnValuesToBeInSet, "hourly.in_window", "row", "critical",
          "time inside the ingest window and not in the future.", T + ": hourly.window",
          column="in_window", value_set=[True], mostly=P("mostly_key")),
        X(E.ExpectColumnValuesToBeInSet, "hourly.key_unique", "row", "critical",
          "No duplicate (station, time, pollutant); identical copies after the first and every "
          "conflicting copy fail.", T + ": hourly.mostly.key",
          column="key_unique", value_set=[True], mostly=P("mostly_key")),
        X(E.ExpectColumnValuesToBeInSet, "hourly.pollutant_known", "row", "critical",
          "Pollutant key of envquality.model (so2 no2 pm10 pm25 co o3 and published moving means).",
          T + ": hourly.mostly.key",
          column="pollutant", value_set=P("known_pollutants"), mostly=P("mostly_key")),
        X(E.ExpectColumnValuesToBeInSet, "hourly.station_known", "row", "warning",
          "Station code (or city admin code) known to the registry.", "registry; " + T + ": hourly.mostly.registry",
          column="station", value_set=P("known_stations"), mostly=P("mostly_registry")),
        X(E.ExpectColumnValuesToBeInSet, "hourly.city_known", "row", "warning",
          "City admin code known to the registry.", "registry; " + T + ": hourly.mostly.registry",
          column="city", value_set=P("known_cities"), mostly=P("mostly_registry")),
    ]
    for pol, unit in (("so2", "µg/m³"), ("no2", "µg/m³"), ("pm10", "µg/m³"), ("pm25", "µg/m³"),
                      ("co", "mg/m³"), ("o3", "µg/m³"), ("aqi", "")):
        out.append(X(E.ExpectColumnValuesToBeBetween, f"hourly.range.{pol}", "row", "critical",
                     f"{pol} hourly value physically possible [{unit}].", f"{T}: hourly.ranges.{pol}",
                     column="value", min_value=P(f"{pol}_min"), max_value=P(f"{pol}_max"),
                     row_condition=(Column("pollutant") == pol), mostly=P("mostly_range")))
    out += [
        X(E.ExpectColumnValuesToBeInSet, "hourly.spike", "row", "critical",
          "No isolated single-hour spike (value > factor × centred 5-h median); dust exempt.",
          T + ": hourly.spike", column="spike_ok", value_set=[True], mostly=P("mostly_range")),
        X(E.ExpectColumnValuesToBeInSet, "hourly.stuck", "row", "warning",
          "No stuck analyser: the same value for N consecutive reported hours.", T + ": hourly.stuck",
          column="stuck_run_ok", value_set=[True], mostly=P("mostly_range")),
        X(E.ExpectColumnValuesToBeInSet, "hourly.pm_ratio", "row", "warning",
          "PM2.5 ≤ PM10 × (1 + relative) + absolute for the station-hour.", T + ": hourly.pm_ratio",
          column="pm_ratio_ok", value_set=[True], mostly=P("mostly_range")),
        X(E.ExpectColumnValuesToNotBeNull, "hourly.value_not_null", "batch", "warning",
          "Share of rows with a value (NaN rows are missing data, not errors).",
          T + ": hourly.completeness.value_not_null_min", column="value", mostly=P("value_not_null_min")),
        X(E.ExpectColumnMinToBeBetween, "hourly.station_completeness", "batch", "warning",
          "Every expected station delivers ≥ station_min of its values in the window (GB 3095 Table 4: 20/24).",
          T + ": hourly.completeness.station_min",
          column="station_completeness", min_value=P("station_completeness_min")),
        X(E.ExpectColumnMinToBeBetween, "hourly.hour_completeness", "batch", "warning",
          "Every hour of the window has ≥ hour_min of the expected values.",
          T + ": hourly.completeness.hour_min",
          column="hour_completeness", min_value=P("hour_completeness_min")),
        X(E.ExpectColumnMinToBeBetween, "hourly.batch_completeness", "batch", "critical",
          "The batch holds ≥ batch_critical_min of the expected values (else the feed is broken).",
          T + ": hourly.completeness.batch_critical_min",
          column="batch_completeness", min_value=P("batch_completeness_critical_min")),
        X(E.ExpectColumnValuesToBeInSet, "hourly.likely_dust", "flag", "info",
          "Likely dust event (PM10 high, PM2.5/PM10 low): passes, flagged for the dust-exclusion rule.",
          T + ": hourly.dust", column="likely_dust", value_set=[False], mostly=0.0),
    ]
    return out


def daily_city() -> list:
    T = "thresholds.yaml"
    return [
        X(E.ExpectTableRowCountToBeBetween, "daily.not_empty", "batch", "critical",
          "The batch holds at least one city-day.", min_value=1),
        X(E.ExpectTableColumnsToMatchSet, "daily.schema", "batch", "critical",
          "Columns of envquality.stats.datasets.daily_city_aqi as a frame.",
          column_set=["city", "date", "aqi", "level", "category_zh"], exact_match=False),
        X(E.ExpectColumnValuesToBeInSet, "daily.city_known", "row", "critical",
          "City admin code known to the registry.", "registry",
          column="city", value_set=P("known_cities")),
        X(E.ExpectColumnDistinctValuesToContainSet, "daily.no_city_missing", "batch", "critical",
          "Every city of the registry is present.", "registry",
          column="city", value_set=P("expected_cities")),
        X(E.ExpectCompoundColumnsToBeUnique, "daily.key_unique", "row", "critical",
          "One row per city and date.", "", column_list=["city", "date"]),
        X(E.ExpectColumnValuesToBeBetween, "daily.aqi_range", "row", "critical",
          "Daily AQI within 0-500 (HJ 633 caps at 500).", T + ": daily_city.aqi",
          column="aqi", min_value=P("aqi_min"), max_value=P("aqi_max")),
        X(E.ExpectColumnValuesToBeInSet, "daily.category_consistent", "row", "critical",
          "Level, category and colour agree with the AQI (standards.md §1.5).", "standards.md §1.5",
          column="category_ok", value_set=[True]),
        X(E.ExpectColumnValuesToNotBeNull, "daily.aqi_not_null", "batch", "critical",
          "Share of city-days with an AQI.", T + ": daily_city.aqi_not_null_min",
          column="aqi", mostly=P("aqi_not_null_min")),
        X(E.ExpectColumnMinToBeBetween, "daily.valid_days", "batch", "warning",
          "Each city has ≥ valid_day_share_min valid (complete) days in the batch.",
          T + ": daily_city.valid_day_share_min",
          column="city_valid_day_share", min_value=P("valid_day_share_min")),
    ]


def water() -> list:
    return [
        X(E.ExpectTableRowCountToBeBetween, "water.not_empty", "batch", "critical",
          "The batch holds at least one sample value.", min_value=1),
        X(E.ExpectTableColumnsToMatchSet, "water.schema", "batch", "critical",
          "Tidy water-sample columns (envquality.water contract).",
          column_set=["source", "sampled_at", "parameter", "value", "unit", "qualifier", "detection_limit"],
          exact_match=False),
        X(E.ExpectColumnValuesToNotBeNull, "water.source_present", "row", "critical",
          "Every sample names its source (water body / intake).", "", column="source"),
        X(E.ExpectColumnValuesToNotBeNull, "water.sampled_at_present", "row", "critical",
          "Every sample has a sampling time.", "", column="sampled_at"),
        X(E.ExpectColumnValuesToBeInSet, "water.parameter_known", "row", "critical",
          "Parameter key of GB 3838-2002 / GB/T 14848-2017 (envquality.water).", "thresholds.yaml: water.parameters",
          column="parameter", value_set=P("known_parameters")),
        X(E.ExpectColumnValuesToBeInSet, "water.unit_ok", "row", "critical",
          "Unit is the standard's unit for the parameter.", "thresholds.yaml: water.parameters.*.unit",
          column="unit_ok", value_set=[True]),
        X(E.ExpectColumnValuesToBeInSet, "water.qualifier_known", "row", "critical",
          "Detection-limit qualifier is '', '<DL', '<', 'ND' or '>'.", "thresholds.yaml: water.qualifiers",
          column="qualifier", value_set=P("qualifiers")),
        X(E.ExpectColumnValuesToBeInSet, "water.detection_limit_ok", "row", "critical",
          "'<DL'/'<'/'ND' rows carry a detection limit and no value above it; quantified rows have a value.",
          "thresholds.yaml: water.qualifiers", column="dl_ok", value_set=[True]),
        X(E.ExpectColumnValuesToBeInSet, "water.range", "row", "critical",
          "Value plausible for the parameter (not a class: ~100× the worst limit).",
          "thresholds.yaml: water.parameters", column="range_ok", value_set=[True]),
        X(E.ExpectCompoundColumnsToBeUnique, "water.key_unique", "row", "warning",
          "One value per source, time and parameter.", "", column_list=["source", "sampled_at", "parameter"]),
    ]


def site() -> list:
    T = "thresholds.yaml: site"
    return [
        X(E.ExpectTableColumnsToMatchSet, "site.schema", "batch", "critical",
          "Site data contract: these columns are present (docs/quality.md).",
          column_set=["city_code", "name_zh", "name_en", "lat", "lon", "date", "aqi", "level",
                      "category_zh", "colour"], exact_match=False),
        X(E.ExpectColumnDistinctValuesToContainSet, "site.no_city_missing", "batch", "critical",
          "Every city of the registry is on the map.", "registry",
          column="city_code", value_set=P("expected_cities")),
        X(E.ExpectColumnValuesToBeInSet, "site.city_known", "row", "critical",
          "City admin code known to the registry.", "registry", column="city_code", value_set=P("known_cities")),
        X(E.ExpectCompoundColumnsToBeUnique, "site.key_unique", "row", "critical",
          "One row per city and date.", "", column_list=["city_code", "date"]),
        X(E.ExpectColumnValuesToNotBeNull, "site.name_present", "row", "critical",
          "Chinese name present.", "", column="name_zh"),
        X(E.ExpectColumnValuesToBeBetween, "site.lat", "row", "critical",
          "Latitude inside Gansu's bounding box.", T + ".lat", column="lat",
          min_value=P("lat_min"), max_value=P("lat_max")),
        X(E.ExpectColumnValuesToBeBetween, "site.lon", "row", "critical",
          "Longitude inside Gansu's bounding box.", T + ".lon", column="lon",
          min_value=P("lon_min"), max_value=P("lon_max")),
        X(E.ExpectColumnValuesToBeBetween, "site.aqi", "row", "critical",
          "AQI within 0-500.", T + ".aqi", column="aqi", min_value=P("aqi_min"), max_value=P("aqi_max")),
        X(E.ExpectColumnValuesToMatchRegex, "site.colour_hex", "row", "critical",
          "Colour is a #RRGGBB hex string.", "standards.md §1.5", column="colour", regex=r"^#[0-9A-Fa-f]{6}$"),
        X(E.ExpectColumnValuesToBeInSet, "site.category_consistent", "row", "critical",
          "Level, category and colour agree with the AQI (standards.md §1.5).", "standards.md §1.5",
          column="category_ok", value_set=[True]),
    ]


def daily_values() -> list:
    T = "thresholds.yaml"
    return [
        X(E.ExpectTableRowCountToBeBetween, "dvalues.not_empty", "batch", "critical",
          "The batch holds at least one daily value.", min_value=1),
        X(E.ExpectTableColumnsToMatchSet, "dvalues.schema", "batch", "critical",
          "Long daily columns city, date, pollutant, value (reader contract, envquality.iotools.aqistudy).",
          column_set=["city", "date", "pollutant", "value"], exact_match=False),
        X(E.ExpectColumnValuesToBeInSet, "dvalues.date_ok", "row", "critical",
          "A calendar day from daily_values.date_min up to today (CST): no day that has not ended.",
          T + ": daily_values.date_min", column="date_ok", value_set=[True], mostly=P("mostly_key")),
        X(E.ExpectColumnValuesToBeInSet, "dvalues.key_unique", "row", "critical",
          "One value per city, day and pollutant (conflicting copies all fail).", "",
          column="key_unique", value_set=[True], mostly=P("mostly_key")),
        X(E.ExpectColumnValuesToBeInSet, "dvalues.pollutant_known", "row", "critical",
          "Daily pollutant key of envquality.model (so2_24h … o3_8h, aqi).", "envquality.model",
          column="pollutant", value_set=P("known_pollutants"), mostly=P("mostly_key")),
        X(E.ExpectColumnValuesToBeInSet, "dvalues.city_known", "row", "warning",
          "City admin code known to the registry.", "registry",
          column="city", value_set=P("known_cities"), mostly=P("mostly_registry")),
        X(E.ExpectColumnValuesToBeInSet, "dvalues.range", "row", "critical",
          "Value physically possible for its pollutant (the hourly ranges; AQI 0-500).",
          T + ": hourly.ranges", column="range_ok", value_set=[True], mostly=P("mostly_range")),
    ]


SUITES = {"hourly_readings": hourly, "daily_city": daily_city, "daily_values": daily_values,
          "water_samples": water, "site_data": site}


def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    try:
        ctx = gx.get_context(mode="file", project_root_dir=tmp)
        ds = ctx.data_sources.add_pandas(DATASOURCE)
        for name, build in SUITES.items():
            bd = ds.add_dataframe_asset(name).add_batch_definition_whole_dataframe(BATCH_DEFINITION)
            suite = gx.ExpectationSuite(name=name, meta={"owner": "envquality", "doc": "docs/quality.md"})
            for exp in build():
                suite.add_expectation(exp)
            suite = ctx.suites.add(suite)
            vd = ctx.validation_definitions.add(gx.ValidationDefinition(name=name, data=bd, suite=suite))
            # no UpdateDataDocsAction: pages are built by envquality.quality.docs from
            # the escaped copy of each result, never from the raw one
            ctx.checkpoints.add(gx.Checkpoint(
                name=name, validation_definitions=[vd], actions=[],
                result_format={"result_format": "COMPLETE", "return_unexpected_index_query": False,
                               "partial_unexpected_count": 20},
            ))
        src = tmp / "gx"
        for sub in ("expectations", "validation_definitions", "checkpoints"):
            shutil.rmtree(HERE / sub, ignore_errors=True)
            shutil.copytree(src / sub, HERE / sub, ignore=shutil.ignore_patterns(".ge_store_backend_id"))
        # great_expectations.yml: keep our own header/stores, replace fluent_datasources
        import yaml

        gen = yaml.safe_load((src / "great_expectations.yml").read_text())
        ours_path = HERE / "great_expectations.yml"
        text = ours_path.read_text(encoding="utf-8")
        head = text.split("fluent_datasources:")[0].rstrip() + "\n"
        fl = yaml.safe_dump({"fluent_datasources": gen["fluent_datasources"]}, sort_keys=False,
                            allow_unicode=True)
        ours_path.write_text(head + fl, encoding="utf-8")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
