"""Operator Data Docs in headless Chromium: offline, escaped, icons, "Failed only" filter (issues 8 and 9).

Hostile station and city names (``<script>alert(1)</script>``, ``<img src=x
onerror=…>``) are validated; every page is opened from disk with every
non-``file:`` request blocked.  No dialog may open, no injected element may
exist, no console error may appear.  Screenshots go to the test's tmp dir.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

CHROMIUM = Path("/usr/bin/chromium")
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed")

HOSTILE_STATION = "<script>alert(1)</script>"
HOSTILE_CITY = '<img src=x onerror="document.title=\'pwned\';alert(2)">'


@pytest.fixture(scope="module")
def docs(tmp_path_factory, clean_day):
    """A fresh Data Docs site: a hostile failing batch and a clean batch with a dust event."""
    import os

    from envquality.quality import run_gate
    from envquality.quality.gate import data_docs_dir

    site = tmp_path_factory.mktemp("docs-site")
    old = os.environ.get("ENVQUALITY_SITE_DIR")
    os.environ["ENVQUALITY_SITE_DIR"] = str(site / "site")
    try:
        df, codes = clean_day
        one = df[df["station"].isin(codes[:3])].reset_index(drop=True)
        hostile = one.head(200).copy()
        hostile["station"] = hostile["station"].astype(object)
        hostile.loc[:9, "station"] = HOSTILE_STATION
        hostile["city"] = None
        hostile.loc[10:19, "city"] = HOSTILE_CITY
        hostile.loc[20:29, "value"] = -5.0  # range failures: a "Failed" page
        bad = run_gate(hostile, build_docs=True, file="hostile.csv")
        dusty = one.copy()
        st = codes[0]
        hours = dusty["time"].dt.hour.between(10, 13) & (dusty["station"] == st)
        dusty.loc[hours & (dusty["pollutant"] == "pm10"), "value"] = 800.0
        dusty.loc[hours & (dusty["pollutant"] == "pm25"), "value"] = 90.0
        window = (pd.Timestamp("2024-07-10 01:00", tz="Asia/Shanghai"), pd.Timestamp("2024-07-11", tz="Asia/Shanghai"))
        dust = run_gate(dusty, build_docs=True, file="dust.csv", window=window, expected_stations=codes[:3])
        yield data_docs_dir(), bad, dust
    finally:
        if old is None:
            os.environ.pop("ENVQUALITY_SITE_DIR", None)
        else:
            os.environ["ENVQUALITY_SITE_DIR"] = old


def _pages(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.html"))


def test_every_batch_has_a_page_and_results_are_escaped(docs):
    folder, bad, dust = docs
    vals = [p for p in _pages(folder) if "validations" in p.parts]
    assert len(vals) == 2  # one page per validated batch, not only the last one
    assert dust.info["likely_dust_rows"] > 0 and dust.publish_allowed and not dust.warnings
    assert bool(dust.summary.set_index("expectation").loc["hourly.likely_dust", "success"])
    from envquality.quality.gate import results_dir

    stored = [json.loads(p.read_text(encoding="utf-8")) for p in results_dir().rglob("*.json")]
    assert len(stored) == 2
    text = json.dumps(stored)
    assert HOSTILE_STATION not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def _open(browser, page_path: Path, shots: Path, n: int):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    events: dict[str, list] = {"console": [], "dialogs": [], "external": [], "pageerror": []}
    page.on("console", lambda m: events["console"].append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: events["pageerror"].append(str(e)))

    def on_dialog(d):
        events["dialogs"].append(d.message)
        d.dismiss()

    page.on("dialog", on_dialog)

    def route(r):
        if r.request.url.startswith("file:"):
            r.continue_()
        else:
            events["external"].append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.goto(page_path.as_uri(), wait_until="load")
    page.wait_for_timeout(300)
    page.screenshot(path=str(shots / f"{n:02d}-{page_path.stem}.png"), full_page=False)
    return page, events


def test_pages_work_offline_with_icons_filter_and_no_script_from_data(docs, tmp_path):
    folder, _, _ = docs
    shots = tmp_path / "screenshots"
    shots.mkdir()
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        try:
            hostile_page = None
            for n, path in enumerate(_pages(folder)):
                page, ev = _open(browser, path, shots, n)
                assert ev == {"console": [], "dialogs": [], "external": [], "pageerror": []}, (path, ev)
                assert page.evaluate("document.querySelectorAll('img[src=\"x\"]').length") == 0
                assert page.title() != "pwned"
                if path.name == "index.html":  # the index table is filled by jQuery/bootstrap-table
                    assert page.evaluate("document.querySelectorAll('table tbody tr').length") >= 3
                    assert page.evaluate("typeof window.jQuery") == "function"
                if "validations" in path.parts and HOSTILE_STATION in page.inner_text("body"):
                    hostile_page = page
                else:
                    page.close()
            assert hostile_page is not None, "the hostile station name is shown as text"
            _check_icons_and_filter(hostile_page, shots)
        finally:
            browser.close()
    assert len(list(shots.glob("*.png"))) == len(_pages(folder)) + 1


def _check_icons_and_filter(page, shots: Path) -> None:
    page.evaluate("document.fonts.ready")
    icon = page.evaluate("""() => { const el = document.querySelector('.fas.fa-check-circle');
        const st = getComputedStyle(el, '::before'); return [st.content, st.fontFamily]; }""")
    assert icon[0] not in ("none", '""', "normal") and "Font Awesome" in icon[1], icon
    assert page.evaluate("document.fonts.check('900 16px \"Font Awesome 6 Free\"')")

    visible = """() => Array.from(document.querySelectorAll('.hide-succeeded-validation-target-child'))
        .filter(el => el.parentElement.offsetParent !== null).length"""
    failed = "() => Array.from(document.querySelectorAll('.fa-times')).filter(e => e.offsetParent !== null).length"
    before = page.evaluate(visible)
    assert before > 0 and page.evaluate(failed) > 0
    page.get_by_text("Failed Only").click()
    page.wait_for_timeout(900)  # jQuery fadeOut
    assert page.evaluate(visible) == 0
    assert page.evaluate(failed) > 0
    page.screenshot(path=str(shots / "failed-only.png"))
