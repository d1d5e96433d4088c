"""Release folders and the one-rename switch of ``<site_root>/public``.

``<site_root>/releases/<id>/`` holds one complete site.  ``<site_root>/public``
is a symbolic link to the current release; a new release is written under a
hidden ``.partial`` name, renamed when complete, and the link is replaced
with ``rename(2)`` over it — a reader sees the old site or the new one,
never a mix.  A failure or a blocked publish before the switch leaves the
last good site online.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from pathlib import Path

__all__ = ["new_release", "switch", "prune", "KEEP_RELEASES"]

#: Releases kept besides the current one (rollback, readers still on them).
KEEP_RELEASES = 3


def new_release(site_root: Path, day: dt.date) -> tuple[Path, str]:
    """A fresh hidden folder to build into, and the release id it will get."""
    releases = site_root / "releases"
    releases.mkdir(parents=True, exist_ok=True)
    rid = f"{day:%Y%m%d}-{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:6]}"
    tmp = releases / f".{rid}.partial"
    tmp.mkdir()
    return tmp, rid


def switch(site_root: Path, tmp: Path, rid: str) -> Path:
    """Complete the release (rename) and point ``public`` at it (atomic rename of a new link)."""
    final = tmp.parent / rid
    tmp.rename(final)
    public = site_root / "public"
    if public.exists() and not public.is_symlink():
        # a plain folder from an older layout (site data only): keep it as a release, once
        legacy = tmp.parent / f"00000000-legacy-{uuid.uuid4().hex[:6]}"
        public.rename(legacy)
    staging = site_root / f".public-{uuid.uuid4().hex[:8]}"
    os.symlink(Path("releases") / rid, staging)
    os.replace(staging, public)
    return public


def prune(site_root: Path, keep: int = KEEP_RELEASES) -> list[Path]:
    """Remove old releases (never the current one) and abandoned partial builds; returns what went."""
    releases = site_root / "releases"
    public = site_root / "public"
    current = public.resolve().name if public.is_symlink() else None
    done = sorted((p for p in releases.iterdir() if p.is_dir() and not p.name.startswith(".")),
                  key=lambda p: p.name)
    removed = []
    for old in done[:-(keep + 1)] if len(done) > keep + 1 else []:
        if old.name != current:
            shutil.rmtree(old, ignore_errors=True)
            removed.append(old)
    for part in releases.glob(".*.partial"):
        age = dt.datetime.now().timestamp() - part.stat().st_mtime
        if age > 3600:  # a crashed build; a running one is younger
            shutil.rmtree(part, ignore_errors=True)
            removed.append(part)
    return removed
