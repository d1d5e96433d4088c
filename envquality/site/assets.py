"""The site's own copies of every script and stylesheet, and the check that nothing else is loaded.

folium writes CDN links (``default_js``/``default_css`` class attributes of
``Map`` and of each plugin).  :func:`localize` replaces them **on the
instance** (never the class-wide lists, so other maps in the process keep
theirs) with files under the release's ``assets/`` folder, which
:func:`copy_assets` fills from ``maps/assets`` (shipped in the wheel as
``envquality/site/_assets``).  :func:`offsite_urls` parses a written page and
lists every URL it would fetch from another site; the build fails on any
that is not the configured tile layer.
"""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path
from typing import Iterable

__all__ = ["ASSET_ROOT", "LEAFLET", "SEARCH", "TIMEDIMENSION", "SITE", "localize", "copy_assets",
           "offsite_urls", "OffsiteURLError", "check_release"]

# No jQuery: only folium's own Popup/Html elements need it (``$(`<div>`)[0]``); the site's layers bind
# popups with Leaflet alone.
#: maps/assets in a checkout (symbolic link) or the copy installed with the wheel.
ASSET_ROOT = Path(__file__).resolve().parent / "_assets"

_V = "assets/vendor"
LEAFLET = {"js": [("leaflet", f"{_V}/leaflet-1.9.4/dist/leaflet.js")],
           "css": [("leaflet_css", f"{_V}/leaflet-1.9.4/dist/leaflet.css")]}
SEARCH = {"js": [("Leaflet.Search.js", f"{_V}/leaflet-search-2.9.7/dist/leaflet-search.min.js")],
          "css": [("Leaflet.Search.css", f"{_V}/leaflet-search-2.9.7/dist/leaflet-search.min.css")]}
TIMEDIMENSION = {
    "js": [("iso8601", f"{_V}/iso8601-js-period-0.2.1/iso8601.js"),
           ("leaflet.timedimension", f"{_V}/leaflet-timedimension-1.1.1/dist/leaflet.timedimension.min.js"),
           ("moment", f"{_V}/moment-2.18.1/min/moment.min.js")],
    "css": [("leaflet.timedimension_css",
             f"{_V}/leaflet-timedimension-1.1.1/dist/leaflet.timedimension.control.offline.min.css")],
}
SITE = {"js": [("envquality_site_js", "assets/site/site.js")],
        "css": [("envquality_site_css", "assets/site/site.css")]}

_VENDOR_DIRS = ("leaflet-1.9.4", "leaflet-search-2.9.7", "leaflet-timedimension-1.1.1",
                "iso8601-js-period-0.2.1", "moment-2.18.1")


class OffsiteURLError(RuntimeError):
    """A page of the release would load something from another site."""


def localize(element, assets: dict, prefix: str = "") -> None:
    """Point one folium element's asset lists at the site's files (instance attributes only)."""
    element.default_js = [(n, prefix + u) for n, u in assets.get("js", [])]
    element.default_css = [(n, prefix + u) for n, u in assets.get("css", [])]


def copy_assets(dest: Path) -> None:
    """Copy the vendored packages the pages use, their licences and VERSIONS.md, and the site's own files."""
    vendor = ASSET_ROOT / "vendor"
    for name in _VENDOR_DIRS:
        shutil.copytree(vendor / name, dest / "assets" / "vendor" / name,
                        ignore=shutil.ignore_patterns("package.json", "README.md"))
    shutil.copy2(vendor / "VERSIONS.md", dest / "assets" / "vendor" / "VERSIONS.md")
    shutil.copytree(ASSET_ROOT / "site", dest / "assets" / "site")


_FETCH_TAGS = {"script": ("src",), "link": ("href",), "img": ("src", "srcset"), "iframe": ("src",),
               "source": ("src", "srcset"), "video": ("src", "poster"), "audio": ("src",), "embed": ("src",),
               "object": ("data",), "input": ("src",), "track": ("src",), "image": ("href", "xlink:href"),
               "use": ("href", "xlink:href")}
_TAG = re.compile(r"<(script|style)\b([^>]*)>(.*?)</\1\s*>|<([A-Za-z][\w:-]*)\b((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>",
                  re.S | re.I)
_ATTR = re.compile(r"""([^\s=/>]+)\s*=\s*("([^"]*)"|'([^']*)'|([^\s>]+))""")
_URL_IN_TEXT = re.compile(r"""(?:https?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}[^\s"'`<>)\\]*""")
_CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)['"]?\s*\)|@import\s+['"]([^'"]+)['"]""")


def _attrs(text: str) -> dict[str, str]:
    return {m[0].lower(): html.unescape(m[2] or m[3] or m[4]) for m in _ATTR.findall(text)}


def _page_urls(page: str) -> list[str]:
    """Every URL the page would fetch: resource attributes, CSS ``url()``/``@import``, URLs in inline scripts."""
    urls: list[str] = []
    for m in _TAG.finditer(page):
        tag = (m.group(1) or m.group(4)).lower()
        attrs = _attrs(m.group(2) if m.group(1) else m.group(5) or "")
        for a in _FETCH_TAGS.get(tag, ()):
            if attrs.get(a):
                urls.extend(u.strip().split(" ")[0] for u in attrs[a].split(","))
        if attrs.get("style"):
            urls.extend(x[0] or x[1] for x in _CSS_URL.findall(attrs["style"]))
        if tag == "style":
            urls.extend(x[0] or x[1] for x in _CSS_URL.findall(m.group(3)))
        elif tag == "script" and m.group(1):
            urls.extend(_URL_IN_TEXT.findall(m.group(3)))
    return urls


def _offsite(url: str) -> bool:
    u = url.strip().lower()
    return u.startswith(("http://", "https://", "//", "ftp://")) and not u.startswith(
        ("http://127.0.0.1", "http://localhost"))


#: Namespace names, never fetched.
_NAMESPACES = ("http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink", "http://www.w3.org/1999/xhtml")
_HOST = re.compile(r"(?:https?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


def offsite_urls(html_text: str, allowed: Iterable[str] = ()) -> list[str]:
    """Off-site URLs a page would fetch (script/link/img sources, CSS ``url()``, URLs in inline scripts).

    ``allowed``: URL prefixes that may stay (the configured tile layer and its attribution links).

    >>> offsite_urls('<script src="https://cdn.x.org/a.js"></script><link href="assets/a.css" rel="stylesheet">')
    ['https://cdn.x.org/a.js']
    """
    allow = tuple(a.lower() for a in allowed)
    # fast path: a page with no host-like text at all (besides namespace names) cannot fetch off-site
    hosts = (m.group(0) for m in _HOST.finditer(html_text))
    if not any(not any(ns.startswith(h) for ns in _NAMESPACES) for h in hosts):
        return []
    return [u for u in _page_urls(html_text) if _offsite(u) and not u.lower().startswith(allow)]


def check_release(folder: Path, allowed: Iterable[str] = ()) -> None:
    """Fail when any page or stylesheet of ``folder`` would load from another site.

    Raises
    ------
    OffsiteURLError
        Naming the file and the first URLs found.
    """
    allowed = tuple(allowed)
    bad: list[str] = []
    for page in sorted(folder.rglob("*.html")):
        found = offsite_urls(page.read_text(encoding="utf-8"), allowed)
        bad.extend(f"{page.relative_to(folder)}: {u}" for u in found)
    for css in sorted(folder.rglob("*.css")):
        for m in _CSS_URL.findall(css.read_text(encoding="utf-8", errors="replace")):
            u = m[0] or m[1]
            if _offsite(u):
                bad.append(f"{css.relative_to(folder)}: {u}")
    if bad:
        raise OffsiteURLError(f"{len(bad)} off-site URL(s) in the built site, first: " + "; ".join(bad[:5]))
