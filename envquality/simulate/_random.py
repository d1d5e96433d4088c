"""Counter-based hashing and normal variates: every random number is addressed, never drawn in sequence."""

from __future__ import annotations

import hashlib

import numpy as np
import numpy.typing as npt

from envquality.simulate._params import _GOLDEN, _M1, _M2


def _mix(x: npt.ArrayLike) -> np.ndarray:
    """SplitMix64 finalizer (bijective avalanche) of uint64 values."""
    x = np.array(x, dtype=np.uint64, ndmin=1)
    with np.errstate(over="ignore"):
        x ^= x >> np.uint64(30)
        x *= _M1
        x ^= x >> np.uint64(27)
        x *= _M2
        x ^= x >> np.uint64(31)
    return x


def _hash(*parts: npt.ArrayLike) -> np.ndarray:
    """Order-dependent 64-bit hash of broadcast non-negative integer arrays."""
    h = np.array([0x243F6A8885A308D3], dtype=np.uint64)
    with np.errstate(over="ignore"):
        for p in parts:
            p = np.asarray(p)
            if p.dtype != np.uint64:
                p = p.astype(np.int64).astype(np.uint64)
            h = _mix(h ^ _mix(p + _GOLDEN))
    return h


def _hash_uniform(*parts: npt.ArrayLike) -> np.ndarray:
    """Uniform float64 in [0, 1) from :func:`_hash`."""
    return (_hash(*parts) >> np.uint64(11)).astype(np.float64) * 2.0**-53


def _hash_normal(*parts: npt.ArrayLike) -> np.ndarray:
    """Standard normal float64 (Box-Muller on the two 32-bit halves of a hash)."""
    h = _hash(*parts)
    u1 = ((h >> np.uint64(32)).astype(np.float64) + 0.5) * 2.0**-32
    u2 = (h & np.uint64(0xFFFFFFFF)).astype(np.float64) * 2.0**-32
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


def _code_key(code: str) -> int:
    """Stable 64-bit key of a station or city code (BLAKE2b, not ``hash()``)."""
    return int.from_bytes(hashlib.blake2b(code.encode("utf-8"), digest_size=8).digest(), "little")


def _seed_key(seed: int) -> int:
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return int(_hash(np.uint64(int(seed) % 2**64), 0x5EED)[0])


def _box_muller(u1: np.ndarray, u2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two independent standard normals (float32) from two uniforms in [0, 1)."""
    r = np.float32(1.0) - u1  # exact for 24-bit uniforms, in (0, 1]
    np.log(r, out=r)
    r *= np.float32(-2.0)
    np.sqrt(r, out=r)
    th = u2 * np.float32(2.0 * np.pi)
    return r * np.cos(th), r * np.sin(th)
