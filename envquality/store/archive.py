"""Content-addressed archive of raw inputs, written before anything is parsed.

A file whose SHA-256 is ``abcdef…`` is stored unchanged at
``root/ab/cdef…``.  Storing the same bytes twice is a no-op; the write goes
through a temporary file and an atomic rename, so a killed process never
leaves a truncated archive entry under the final name.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ArchivedFile", "archive_raw", "archive_path", "default_archive_root"]


@dataclass(frozen=True)
class ArchivedFile:
    """Where raw bytes were archived.

    Attributes
    ----------
    sha256 : str
        Hex digest of the bytes.
    name : str
        Original name (as given by the caller).
    size : int
        Size in bytes.
    path : pathlib.Path
        Absolute path of the archived copy.
    relpath : str
        Path relative to the archive root (``ab/cdef…``), stored in ``raw_archive.path``.
    created : bool
        False when the bytes were already archived.
    """

    sha256: str
    name: str
    size: int
    path: Path
    relpath: str
    created: bool


def default_archive_root() -> Path:
    """``ENVQUALITY_ARCHIVE`` or ``./var/raw``."""
    return Path(os.environ.get("ENVQUALITY_ARCHIVE", "var/raw"))


def archive_path(root: str | Path, sha256: str) -> Path:
    """Path of the archive entry for a digest: ``root/ab/cdef…``."""
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError(f"not a hex SHA-256 digest: {sha256!r}")
    return Path(root) / sha256[:2] / sha256[2:]


def archive_raw(data: bytes, name: str, root: str | Path, *, sha256: str | None = None) -> ArchivedFile:
    """Store ``data`` unchanged under ``root`` by its SHA-256; idempotent.

    Parameters
    ----------
    data : bytes
        Raw input exactly as received.
    name : str
        Original file name or URL (recorded by the caller in ``raw_archive``).
    root : str or pathlib.Path
        Archive root directory (created if missing).
    sha256 : str, optional
        Precomputed digest of ``data`` (verified cheaply by size only when the
        entry exists; recomputed otherwise).

    Returns
    -------
    ArchivedFile

    Raises
    ------
    OSError
        If an existing entry has a different size than ``data`` (a corrupted
        archive; never overwritten silently).
    """
    digest = hashlib.sha256(data).hexdigest() if sha256 is None else sha256
    target = archive_path(root, digest)
    rel = f"{digest[:2]}/{digest[2:]}"
    if target.exists():
        size = target.stat().st_size
        if size != len(data):
            raise OSError(f"archive entry {target} has {size} bytes, expected {len(data)}: corrupted archive")
        return ArchivedFile(digest, name, len(data), target.resolve(), rel, False)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o444)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return ArchivedFile(digest, name, len(data), target.resolve(), rel, True)
