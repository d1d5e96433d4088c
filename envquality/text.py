"""Safe text for terminals and error messages.

Text from data files (station names, raw rows, file contents) is untrusted:
it may carry ANSI escape sequences that rewrite the operator's terminal, or
be the content of a file the user passed by mistake (``--mapping
../../etc/shadow``).  :func:`terminal_safe` neutralises control characters
for terminal output; :func:`bounded_excerpt` quotes at most a short,
sanitised piece of user-supplied input in an error message.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["terminal_safe", "bounded_excerpt"]

# C0 and C1 controls (ESC, CSI, BEL, NUL...), DEL, and the bidi overrides and
# isolates that can make a line read differently from what it contains
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _escape(m: re.Match[str]) -> str:
    c = m.group(0)
    return f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}"


def terminal_safe(s: object, *, keep_newlines: bool = False) -> str:
    """Text safe to print to a terminal: control characters shown as escapes.

    Every C0/C1 control character (ESC, CSI, BEL, NUL, CR...), DEL and the
    Unicode bidirectional overrides become visible ``\\xNN`` / ``\\uNNNN``
    escapes, so an ANSI sequence in the data is printed, not executed.  Tabs
    become a space; newlines become ``\\n`` unless ``keep_newlines``.

    Parameters
    ----------
    s : object
        Anything; ``None`` gives ``""``.
    keep_newlines : bool, default False
        Keep ``\\n`` as a line break (for multi-line raw text).

    Returns
    -------
    str

    Examples
    --------
    >>> terminal_safe("兰州\\x1b[2J\\x07")
    '兰州\\\\x1b[2J\\\\x07'
    >>> terminal_safe("a\\nb")
    'a\\\\nb'
    """
    if s is None:
        return ""
    text = str(s).replace("\t", " ")
    if not keep_newlines:
        text = text.replace("\r\n", "\n").replace("\n", "\\n")
    return _UNSAFE.sub(_escape, text)


def bounded_excerpt(s: object, limit: int = 80) -> str:
    """A short, sanitised, quoted excerpt of user-supplied input for error messages.

    Only the first line is used, control characters are escaped
    (:func:`terminal_safe`), and the result is cut to ``limit`` characters
    with ``…`` and quoted with ``repr``-style single quotes.  An error
    message built with it never reproduces more than ``limit`` characters of
    a file the user passed by mistake.

    Parameters
    ----------
    s : object
        The input text (a cell, a line, a file's content).
    limit : int, default 80
        Maximum number of characters of ``s`` quoted (at least 8).

    Returns
    -------
    str
        E.g. ``'2024-13-01 01:00'``; ``'root:$6$abc…'`` for a long line;
        ``'first line…'`` when ``s`` has several lines.

    Examples
    --------
    >>> bounded_excerpt("x" * 200, limit=10)
    "'xxxxxxxxx…'"
    >>> bounded_excerpt("ok\\nsecret")
    "'ok…'"
    """
    limit = max(8, int(limit))
    text = "" if s is None else unicodedata.normalize("NFC", str(s))
    first, _, rest = text.partition("\n")
    cut = bool(rest) or len(first) > limit
    first = first[: limit - 1] if len(first) > limit else first
    safe = terminal_safe(first).replace("'", "\\'")
    if len(safe) > limit:  # escapes lengthen the text: bound the printed form too
        safe, cut = safe[: limit - 1], True
    return "'" + safe + ("…" if cut else "") + "'"
