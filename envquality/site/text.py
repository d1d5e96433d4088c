"""HTML text helpers: escaping every data text, and the two-language spans.

Every text that comes from data (names, pollutant labels, deciding
parameters, ...) goes through :func:`esc` before it is put in a page.
Besides the HTML specials it neutralises ``$`` and the backtick, because
folium places popup and tooltip HTML inside JavaScript template literals,
where ``${...}`` would run, and the braces, because folium renders every
element's script output a second time as a Jinja template (``{{ ... }}``
in a name would be evaluated at build time).
"""

from __future__ import annotations

import html
import math
from typing import Any

__all__ = ["esc", "bi", "fmt", "fmt_pct"]


def esc(value: Any) -> str:
    """Escaped text for HTML content, attributes and JS template literals.

    >>> esc('<script>alert(1)</script>')
    '&lt;script&gt;alert(1)&lt;/script&gt;'
    >>> esc('${x}`')
    '&#36;&#123;x&#125;&#96;'
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    s = html.escape(str(value), quote=True)
    return (s.replace("$", "&#36;").replace("`", "&#96;").replace("\\", "&#92;")
            .replace("{", "&#123;").replace("}", "&#125;"))


def bi(zh: Any, en: Any, *, raw: bool = False) -> str:
    """Chinese and English versions of a text; the page's language switch shows one.

    ``raw=True`` when both are already HTML (built from escaped parts).
    """
    z, e = (str(zh), str(en)) if raw else (esc(zh), esc(en))
    return f'<span lang="zh-CN">{z}</span><span lang="en">{e}</span>'


def fmt(value: Any, digits: int = 0, missing: str = "—") -> str:
    """A number for display (``—`` when missing)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return missing
    if math.isnan(v):
        return missing
    return f"{v:.{digits}f}"


def fmt_pct(value: Any, digits: int = 1) -> str:
    """A percentage for display (``—`` when missing)."""
    s = fmt(value, digits)
    return s if s == "—" else f"{s} %"
