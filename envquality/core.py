"""Shared types every part of envquality may import: the reader result, the
input error, the rejected-rows layout and byte decoding.

This module imports nothing from envquality but :mod:`envquality.text`, so
``iotools``, ``registry``, ``water`` and ``store`` can all depend on it
without import cycles.
:mod:`envquality.iotools.common` re-exports these names.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

import pandas as pd

from envquality.text import bounded_excerpt, terminal_safe

__all__ = ["InputError", "ReadResult", "REJECT_COLUMNS", "TIDY_COLUMNS", "decode_bytes", "rejects_frame"]

#: Columns of the tidy hourly frame every reader returns.
TIDY_COLUMNS: tuple[str, ...] = ("station", "time", "pollutant", "value")

#: Columns of a rejected-rows frame (quarantine input).
REJECT_COLUMNS: tuple[str, ...] = ("file", "line", "field", "reason", "raw", "source")


class InputError(ValueError):
    """Unreadable input, with the file, line and field at fault.

    Its message is meant for operators: ``"readings.csv, line 12, field
    'time': cannot parse '2024-13-01 01:00' as a time"``.  Callers quote
    input in ``message`` through :func:`envquality.text.bounded_excerpt`; the
    whole message is passed through :func:`envquality.text.terminal_safe`
    and the field name is a bounded excerpt, so no control character or
    long piece of a file reaches the operator's terminal.
    """

    def __init__(self, file: str | Path, line: int | None, field: str | None, message: str):
        self.file, self.line, self.field = str(file), line, field
        where = [Path(self.file).name]
        if line is not None:
            where.append(f"line {line}")
        if field is not None:
            where.append(f"field {bounded_excerpt(field, 40)}")
        super().__init__(terminal_safe(f"{', '.join(where)}: {message}"))


def rejects_frame(rows: Iterable[dict[str, Any]] | pd.DataFrame) -> pd.DataFrame:
    """A rejected-rows frame with exactly :data:`REJECT_COLUMNS`."""
    df = pd.DataFrame(rows if not isinstance(rows, pd.DataFrame) else rows)
    for c in REJECT_COLUMNS:
        if c not in df:
            df[c] = pd.Series(dtype="object")
    df = df.loc[:, list(REJECT_COLUMNS)]
    df["line"] = df["line"].astype("Int64")
    return df.reset_index(drop=True)


@dataclass
class ReadResult:
    """What a reader returns.

    Attributes
    ----------
    data : pandas.DataFrame
        Tidy readings, columns :data:`TIDY_COLUMNS` (plus optional extras
        such as ``city``), ``time`` tz-aware Asia/Shanghai, hour-ending.
    meta : dict
        ``source``, ``file``, ``sha256``, ``encoding``, ``rows_in``,
        ``rows_ok``, ``rows_rejected``, ``rows_duplicate`` and
        source-specific entries.
    rejected : pandas.DataFrame
        Columns :data:`REJECT_COLUMNS`; one row per rejected input row.
    """

    data: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)
    rejected: pd.DataFrame = field(default_factory=lambda: rejects_frame([]))

    def __iter__(self) -> Iterator[Any]:  # ``data, meta, rejected = read_x(...)``, pvlib-style plus rejects
        return iter((self.data, self.meta, self.rejected))


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode UTF-8 (with or without BOM) or GB18030 (a superset of GBK).

    Returns ``(text, encoding)``; CRLF and CR line ends become LF.
    """
    if data.startswith(codecs.BOM_UTF8):
        text, enc = data[len(codecs.BOM_UTF8):].decode("utf-8"), "utf-8-sig"
    else:
        try:
            text, enc = data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            text, enc = data.decode("gb18030"), "gb18030"
    return text.replace("\r\n", "\n").replace("\r", "\n"), enc
