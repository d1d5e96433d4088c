"""Operator Data Docs: escaped results, one page per validated batch, offline assets, retention.

Every validation of the gate goes through :func:`store_result`:

1. **Escaping.**  Great Expectations 1.24 writes the values it found in the
   data (``partial_unexpected_list``, ``observed_value``, the value sets of
   the expectation) into the HTML of its pages without escaping them, so a
   station named ``<script>alert(1)</script>`` would run in the operator's
   browser.  The stored result is replaced by a copy whose every string
   (and every dict key) from the data is HTML-escaped (:func:`sanitise`):
   GX then renders ``&lt;script&gt;`` as text.  The quarantine table keeps
   the raw text; the stored GX result is for display only.  The long
   ``unexpected_list`` / ``unexpected_index_list`` of the COMPLETE result
   format are dropped from the stored copy (pages show the partial lists).
2. **Incremental build.**  With ``build_docs`` the page of that one result
   (and the index, and the suite's page the first time) is rendered
   (``build_data_docs(resource_identifiers=[key])``), so every batch gets
   its page at the cost of one page, not of the whole site.
3. **Offline.**  :func:`make_offline` points the CDN ``<script>`` and
   ``<link>`` tags of the new pages at vendored copies (``maps/assets/vendor``,
   see its ``VERSIONS.md``) copied into ``<docs>/static/vendor`` and drops the
   tags of libraries no envquality page uses (Vega).  Nothing is loaded from
   the internet; icons, the "Failed only" filter and the index table work.
4. **Retention.**  Stored results beyond ``data_docs.keep_results`` (newest
   kept; ``thresholds.yaml``) are deleted with their pages
   (:func:`prune_results`): GX reads every stored result when it builds the
   index, so an unbounded store slows every validation down.
"""

from __future__ import annotations

import hashlib
import html
import logging
import os
import re
import shutil
import time
from pathlib import Path
from typing import Any

__all__ = ["sanitise", "store_result", "make_offline", "prune_results", "vendor_dir", "VENDOR_DIR_ENV",
           "CDN_ASSETS"]

log = logging.getLogger("envquality.quality")

#: Environment variable naming the vendored assets folder (default ``maps/assets/vendor`` of the checkout).
VENDOR_DIR_ENV = "ENVQUALITY_VENDOR_DIR"

_PKG_ROOT = Path(__file__).resolve().parents[2]

#: CDN URL referenced by GX 1.24's Data Docs templates → vendored file (relative to the vendor folder).
#: ``None``: the library is not needed by any envquality page and its tag is dropped.
CDN_ASSETS: dict[str, str | None] = {
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery-3.7.1/dist/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js":
        "popper.js-1.12.9/dist/umd/popper.min.js",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": "bootstrap-4.3.1/dist/js/bootstrap.min.js",
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css":
        "bootstrap-4.3.1/dist/css/bootstrap.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js":
        "bootstrap-table-1.19.1/dist/bootstrap-table.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css":
        "bootstrap-table-1.19.1/dist/bootstrap-table.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js":
        "bootstrap-table-1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css":
        "bootstrap-table-1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.css",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css":
        "bootstrap-table-1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js":
        "bootstrap-datepicker-1.9.0/dist/js/bootstrap-datepicker.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css":
        "bootstrap-datepicker-1.9.0/dist/css/bootstrap-datepicker.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css":
        "fortawesome-fontawesome-free-6.2.0/css/all.min.css",
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css":
        "forevolve-bootstrap-dark-1.1.0/dist/css/bootstrap-prefers-dark.css",
    # charts: no envquality expectation renders one (no vegaEmbed call in any page)
    "https://cdn.jsdelivr.net/npm/vega@5": None,
    "https://cdn.jsdelivr.net/npm/vega-lite@5": None,
    "https://cdn.jsdelivr.net/npm/vega-embed@6": None,
}

_TAG = re.compile(r"<script[^>]*\bsrc=\"(https?://[^\"]*)\"[^>]*>\s*</script>"
                  r"|<link[^>]*\bhref=\"(https?://[^\"]*)\"[^>]*/?>", re.I)
_S3 = re.compile(r"https://great-expectations-web-assets\.s3\.us-east-2\.amazonaws\.com/([A-Za-z_.-]+)(\?[^\"')]*)?")
_OFFLINE_MARK = "<!-- envquality: offline -->"
# the logo GX 1.24 loads from S3; the local static/images has logo-long.png only
_S3_LOCAL = {"full_logo_dark.png": "logo-long.png"}


# --------------------------------------------------------------------------- escaping
def sanitise(obj: Any) -> Any:
    """A copy of ``obj`` (dicts, lists, scalars) with every string and dict key HTML-escaped.

    >>> sanitise({"v": ["<script>alert(1)</script>", 3], "<k>": "a&b"})
    {'v': ['&lt;script&gt;alert(1)&lt;/script&gt;', 3], '&lt;k&gt;': 'a&amp;b'}
    """
    if isinstance(obj, str):
        return html.escape(obj, quote=True)
    if isinstance(obj, dict):
        return {sanitise(k) if isinstance(k, str) else k: sanitise(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(sanitise(v) for v in obj)
    if isinstance(obj, (set, frozenset)):
        return [sanitise(v) for v in sorted(obj, key=str)]
    return obj


_DROP_RESULT_KEYS = ("unexpected_list", "unexpected_index_list", "unexpected_index_query")


def _sanitised_copy(vres: Any) -> Any:
    """The validation result as stored for display: data escaped, long row lists dropped."""
    import copy

    out = copy.deepcopy(vres)
    for er in out.results:
        res = {k: v for k, v in (er.result or {}).items() if k not in _DROP_RESULT_KEYS}
        er.result = sanitise(res)
        cfg = er.expectation_config
        if cfg is not None:
            kwargs = cfg.kwargs
            for k in list(kwargs):
                kwargs[k] = sanitise(kwargs[k])
        if er.exception_info:
            er.exception_info = sanitise(er.exception_info)
    return out


# --------------------------------------------------------------------------- store and build
def _keys(suite: str, vres: Any):
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier, ValidationResultIdentifier,
    )

    suite_id = ExpectationSuiteIdentifier(name=suite)
    abd = vres.meta.get("active_batch_definition") or {}
    batch_id = f"{abd.get('datasource_name', 'envquality')}-{abd.get('data_asset_name', suite)}"
    return suite_id, ValidationResultIdentifier(expectation_suite_identifier=suite_id,
                                                run_id=vres.meta["run_id"], batch_identifier=batch_id)


def store_result(ctx: Any, suite: str, vres: Any, *, docs_dir: Path, build_docs: bool,
                 keep_results: int | None = None) -> Path | None:
    """Replace the stored result by its sanitised copy; render its page offline when ``build_docs``.

    Returns the index page when pages were built, else None.
    """
    suite_id, key = _keys(suite, vres)
    store = ctx.validation_results_store
    store.set(key, _sanitised_copy(vres))  # GX stored the raw result; the page must never see it
    if keep_results is not None:
        prune_results(store, keep_results, docs_dir=docs_dir)
    if not build_docs:
        return None
    start = time.time()
    ids: list[Any] = [key]
    if not (docs_dir / "expectations" / f"{suite}.html").exists():
        ids.append(suite_id)
    ctx.build_data_docs(site_names=["local_site"], resource_identifiers=ids)
    make_offline(docs_dir, since=start - 1)
    return docs_dir / "index.html"


def prune_results(store: Any, keep: int, *, docs_dir: Path | None = None) -> int:
    """Delete stored validation results beyond the newest ``keep`` (and their pages); returns the number."""
    keys = [k for k in store.list_keys() if hasattr(k, "run_id")]
    if len(keys) <= keep:
        return 0
    keys.sort(key=lambda k: k.run_id.run_time, reverse=True)
    for k in keys[keep:]:
        store.remove_key(k)
        if docs_dir is not None:
            rt = k.run_id.run_time.strftime("%Y%m%dT%H%M%S.%fZ")
            page = (docs_dir / "validations" / k.expectation_suite_identifier.name / str(k.run_id.run_name or
                    "__none__") / rt / f"{k.batch_identifier}.html")
            page.unlink(missing_ok=True)
    return len(keys) - keep


# --------------------------------------------------------------------------- offline
def vendor_dir() -> Path | None:
    """The vendored web assets: env ``ENVQUALITY_VENDOR_DIR``, else ``maps/assets/vendor`` of the checkout."""
    env = os.environ.get(VENDOR_DIR_ENV)
    p = Path(env) if env else _PKG_ROOT / "maps" / "assets" / "vendor"
    return p if (p / "VERSIONS.md").is_file() else None


def _copy_vendor(folder: Path) -> bool:
    """Copy the vendored files the pages use into ``<folder>/static/vendor`` (once per content)."""
    src = vendor_dir()
    if src is None:
        return False
    dst = folder / "static" / "vendor"
    stamp = hashlib.sha256((src / "VERSIONS.md").read_bytes()).hexdigest()
    if (dst / ".stamp").is_file() and (dst / ".stamp").read_text() == stamp:
        return True
    tops = {rel.split("/", 1)[0] for rel in CDN_ASSETS.values() if rel}
    for top in sorted(tops):
        shutil.copytree(src / top, dst / top, dirs_exist_ok=True)
    shutil.copy2(src / "VERSIONS.md", dst / "VERSIONS.md")
    (dst / ".stamp").write_text(stamp)
    return True


def _local_tag(m: re.Match, rel: str) -> str:
    url = m.group(1) or m.group(2)
    target = CDN_ASSETS.get(url.split("?")[0])
    if target is None:
        if url not in CDN_ASSETS:
            log.warning("Data Docs: dropped unknown external asset %s", url)
        return ""
    href = f"{rel}static/vendor/{target}"
    if m.group(1):
        return f'<script src="{href}"></script>'
    return f'<link rel="stylesheet" type="text/css" href="{href}">'


def make_offline(folder: Path | str, since: float | None = None) -> int:
    """Make Data Docs pages load nothing from the internet; returns the pages changed.

    CDN tags become tags of the vendored copies (without ``integrity`` and
    ``crossorigin``, which a ``file://`` page cannot satisfy); unused
    libraries are dropped; the GX logo comes from ``static/images``.  Pages
    written before ``since`` (epoch seconds) are skipped, except the index.
    Without the vendored folder the external tags are only removed.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return 0
    have_vendor = _copy_vendor(folder)
    changed = 0
    for page in folder.rglob("*.html"):
        if since is not None and page.stat().st_mtime < since and page.name != "index.html":
            continue
        text = page.read_text(encoding="utf-8")
        if _OFFLINE_MARK in text:
            continue
        rel = "../" * (len(page.relative_to(folder).parts) - 1)
        text = _TAG.sub(lambda m: _local_tag(m, rel) if have_vendor else "", text)
        text = _S3.sub(lambda m: f"{rel}static/images/{_S3_LOCAL.get(m.group(1), m.group(1))}", text)
        text = text.replace("</head>", f"{_OFFLINE_MARK}\n</head>", 1)
        page.write_text(text, encoding="utf-8")
        changed += 1
    return changed
