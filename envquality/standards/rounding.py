"""Rounding of concentrations per GB/T 8170-2008 ("四舍六入五成双").

GB/T 8170-2008 §3.2 rounds half to even: a discarded part of exactly one half
keeps the retained last digit even; anything above or below one half rounds up
or down as usual.  HJ 633-2026 §4.2.2 applies it to concentrations before the
IAQI is computed: SO2, NO2, O3, PM10 and PM2.5 to integer µg/m³, CO to one
decimal in mg/m³.

Binary floating point cannot hold most decimal ties (``1.15`` is stored as
``1.149999999999999911…``), so a plain ``numpy.rint(x * 10)`` rounds it down.
:func:`round_half_even` treats a float as the shortest decimal that prints as
it, which is what a reader of a CSV file meant: values within a relative
``1e-9`` of a tie are ties.  For exact decimal input pass strings or
:class:`decimal.Decimal` objects to :func:`round_half_even_exact`.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Iterable

import numpy as np
import numpy.typing as npt

__all__ = ["round_half_even", "round_half_even_exact", "TIE_TOLERANCE"]

#: Relative distance from an exact x.5 within which a float counts as a tie.
#: Doubles carry ~16 significant digits; concentrations carry at most ~6, so
#: 1e-9 only ever catches representation error, never a real non-tie value.
TIE_TOLERANCE = 1e-9


def round_half_even(
    values: npt.ArrayLike, decimals: int = 0
) -> np.ndarray:
    """Round half to even (GB/T 8170-2008 §3.2), robust to binary representation.

    Parameters
    ----------
    values : array_like
        Concentrations (any unit).  NaN stays NaN.
    decimals : int
        Number of decimals kept (0 for µg/m³, 1 for CO in mg/m³ per
        HJ 633-2026 §4.2.2).

    Returns
    -------
    numpy.ndarray of float64

    Examples
    --------
    >>> round_half_even([34.5, 35.5, 0.5, 1.5, -2.5]).tolist()
    [34.0, 36.0, 0.0, 2.0, -2.0]
    >>> round_half_even([1.05, 1.15, 1.25, 2.2], decimals=1).tolist()
    [1.0, 1.2, 1.2, 2.2]

    References
    ----------
    .. [1] GB/T 8170-2008 Rules of rounding off for numerical values, §3.2
       (round half to even, 四舍六入五成双).
    .. [2] HJ 633-2026 §4.2.2 (concentrations rounded once before the IAQI:
       integers in µg/m³, CO to 0.1 mg/m³).
    """
    x = np.asarray(values, dtype=np.float64)
    scale = 10.0**decimals
    y = x * scale if decimals else x
    r = np.array(np.rint(y), dtype=np.float64)  # IEEE rint: half-to-even on exact binary ties
    err = np.abs(y - r)
    # near-ties (decimal ties not representable in binary) are rare: fix sparsely
    near = err > 0.5 - TIE_TOLERANCE * np.maximum(1.0, np.abs(y))
    if near.any():
        r[near] = np.rint(np.round(y[near] * 2.0) / 2.0)
    if decimals:
        r = np.asarray(r / scale)
    return r


def round_half_even_exact(values: Iterable[object], decimals: int = 0) -> np.ndarray:
    """Round decimal strings or :class:`~decimal.Decimal` exactly (GB/T 8170 §3.2).

    Use this where the decimal text is available (a parsed report), so that
    ``"2.675"`` rounds to ``2.68`` with no binary detour.  Empty strings,
    ``None`` and unparsable text become NaN.

    >>> round_half_even_exact(["2.675", "1.15", "34.5", ""], decimals=2).tolist()
    [2.68, 1.15, 34.5, nan]

    References
    ----------
    .. [1] GB/T 8170-2008 §3.2 (round half to even).
    """
    q = Decimal(1).scaleb(-decimals)
    if isinstance(values, (str, bytes, Decimal)):
        values = [values.decode() if isinstance(values, bytes) else values]  # one value, not characters
    out = []
    for v in values:
        try:
            d = v if isinstance(v, Decimal) else Decimal(str(v).strip())
            out.append(float(d.quantize(q, rounding=ROUND_HALF_EVEN)))
        except (InvalidOperation, ValueError):
            out.append(float("nan"))
    return np.asarray(out, dtype=np.float64)
