"""The pages in a real browser: Debian's Chromium driven by Playwright, every off-site request blocked.

One site (``built_site``), one local HTTP server and one browser are shared by
the few test functions here.  Screenshots go to ``var/test-artifacts/website``.
"""

from __future__ import annotations

import functools
import http.server
import os
import threading

import pytest

from .conftest import EVIL, WATER, artifacts_dir

CHROMIUM = "/usr/bin/chromium"
pw = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
if not os.path.exists(CHROMIUM):  # pragma: no cover
    pytest.skip(f"{CHROMIUM} not found (apt-get install chromium fonts-noto-cjk)", allow_module_level=True)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # noqa: D401 - keep pytest output clean
        pass


@pytest.fixture(scope="module")
def server(built_site):
    _, public = built_site
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(public.resolve())))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


@pytest.fixture(scope="module")
def browser():
    with pw.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


class Watch:
    """Console errors, page errors, dialogs (an executed alert) and blocked off-site requests of one page."""

    def __init__(self, page, base: str):
        self.errors: list[str] = []
        self.offsite: list[str] = []
        self.dialogs: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))

        def route(r):
            if r.request.url.startswith(base) or r.request.url.startswith(("data:", "about:")):
                r.continue_()
            else:
                self.offsite.append(r.request.url)
                r.abort()

        page.route("**/*", route)

    def clean(self):
        assert self.errors == [] and self.offsite == [] and self.dialogs == [], (self.errors, self.offsite,
                                                                                 self.dialogs)


def _open(browser, server, name, width=1200):
    page = browser.new_page(viewport={"width": width, "height": 800})
    w = Watch(page, server)
    page.goto(f"{server}/{name}")
    page.wait_for_load_state("networkidle")
    return page, w


def _shot(page, name):
    page.wait_for_timeout(350)  # popups fade in
    page.screenshot(path=str(artifacts_dir() / f"{name}.png"))


def test_province_page(browser, server):
    page, w = _open(browser, server, "index.html")
    markers = page.locator(".leaflet-marker-pane .eq-aqi")
    assert markers.count() == 14
    _shot(page, "province")
    # popup by click: Lanzhou, PM2.5 80 µg/m³ on the 2026 rules -> AQI 119, light pollution, primary PM2.5
    page.locator(".leaflet-marker-icon[title^='兰州市']").click()
    popup = page.locator(".leaflet-popup-content .eq-popup")
    popup.wait_for()
    assert popup.locator(".eq-aqi-value").inner_text() == "119"
    text = popup.inner_text()
    assert "轻度污染" in text and "PM2.5" in popup.locator(".eq-primary").inner_text()
    assert "儿童、老年人及心脏病、呼吸系统疾病患者应减少长时间、高强度的户外锻炼" in text
    assert "80 µg/m³" in text
    _shot(page, "province-popup")
    page.keyboard.press("Escape")
    # popup by keyboard: focus the Tianshui marker, press Enter
    page.locator(".leaflet-marker-icon[title^='天水市']").focus()
    page.keyboard.press("Enter")
    page.locator(".leaflet-popup-content .eq-popup[data-city='620500']").wait_for()
    # layer control: stations on, AQI off
    page.get_by_label("监测站点").check()
    assert page.locator("path.eq-station-marker").count() >= 30
    page.get_by_label("今日 AQI").uncheck()
    assert page.locator(".leaflet-marker-pane .eq-aqi").count() == 0
    page.get_by_label("优良天数比例", exact=False).check()
    labels = page.locator(".eq-ytd-good .eq-label")
    assert labels.count() == 14 and "✗ 80.0 %" in page.locator(".leaflet-marker-icon[title^='兰州市']").inner_text()
    _shot(page, "province-layers")
    # a station named with HTML shows as text
    page.get_by_label("优良天数比例", exact=False).uncheck()
    evil = page.locator("path.eq-station-marker")
    for i in range(evil.count()):
        evil.nth(i).dispatch_event("click")
        name = page.locator(".leaflet-popup-content .eq-station-name").last
        if name.count() and name.inner_text() == EVIL:
            break
    else:
        pytest.fail("the HTML-named station's popup was not found")
    _shot(page, "province-html-station")
    # language switch
    assert page.get_by_text("Air today").first.is_hidden()
    page.locator("#eq-lang").click()
    assert page.get_by_text("Air today").first.is_visible() and page.get_by_text("今日空气").first.is_hidden()
    assert page.evaluate("document.documentElement.lang") == "en"
    _shot(page, "province-en")
    w.clean()
    # on a phone the legend is folded away and does not cover the search box
    phone, w2 = _open(browser, server, "index.html", width=390)
    assert phone.locator("details.eq-legend").evaluate("d => d.open") is False
    assert phone.locator(".leaflet-control-layers-list").is_hidden()  # folded: the search box stays usable
    phone.locator(".leaflet-control-search input").press_sequentially("Tianshui", delay=20)  # keyup per key
    phone.locator(".search-tip", has_text="天水市 Tianshui").click()
    phone.locator(".leaflet-popup-content .eq-popup[data-city='620500']").wait_for()
    _shot(phone, "province-phone")
    w2.clean()


def test_day_slider_recolours_the_map(browser, server):
    page, w = _open(browser, server, "time.html")
    date = page.locator(".timecontrol-date")
    assert "2026-03-31" in date.inner_text()

    def fills():
        return page.eval_on_selector_all("path.leaflet-interactive", "ps => ps.map(p => p.getAttribute('fill'))")

    before = fills()
    assert len(before) == 14
    _shot(page, "time-last-day")
    page.locator("a.timecontrol-backward").click()
    page.wait_for_function("document.querySelector('.timecontrol-date').innerText.indexOf('2026-03-30') >= 0")
    after = fills()
    assert len(after) == 14 and after != before
    _shot(page, "time-previous-day")
    w.clean()


def test_water_page_shows_every_source(browser, server):
    page, w = _open(browser, server, "water.html")
    sources = page.locator("path.eq-water-source")
    assert sources.count() == len(WATER)
    for i in range(sources.count()):
        sources.nth(i).dispatch_event("click")
        pop = page.locator(".leaflet-popup-content .eq-water").last  # the previous one may still fade out
        pop.wait_for()
        if pop.locator("h3").inner_text() == EVIL:
            assert pop.locator(".eq-class").inner_text() == "Ⅳ"
            assert pop.locator(".eq-deciding").inner_text() == "nh3n, fluoride"
            break
    else:
        pytest.fail("source W2 not found")
    panel = page.locator("#eq-water-panel")
    assert "96.85" in panel.inner_text() and page.locator("details.eq-legend").count() == 0
    lanzhou = panel.locator("tr", has_text="兰州市").inner_text()
    assert "50.00 %" in lanzhou and "1 / 2" in lanzhou  # W1 compliant, W2 class IV
    _shot(page, "water")
    w.clean()


def test_text_pages(browser, server):
    for name in ("table.html", "division-620100.html", "downloads.html"):
        page, w = _open(browser, server, name)
        assert page.locator("table.eq-table").count() >= 1
        if name == "table.html":
            assert page.locator("table.eq-table tbody tr").count() == 14
            page.locator("a[href='division-620100.html']").focus()
            page.keyboard.press("Enter")
            page.wait_for_url("**/division-620100.html")
        if name == "division-620100.html":
            assert page.locator("svg.eq-calendar rect").count() == 365
            assert page.locator(".eq-station-name", has_text=EVIL).count() == 1
            assert "210" in page.locator("#eq-needed").inner_text()
        _shot(page, name.replace(".html", ""))
        w.clean()
        page.close()
