"""Raw archive: content-addressed, unchanged bytes, idempotent."""

from __future__ import annotations

import hashlib

import pytest

from envquality.store.archive import archive_path, archive_raw


def test_archive_layout_and_idempotence(tmp_path):
    data = "站点,时间\r\n1476A,2024-01-01 01:00\r\n".encode("gb18030")
    sha = hashlib.sha256(data).hexdigest()
    a = archive_raw(data, "china_sites_20240101.csv", tmp_path)
    assert a.created and a.sha256 == sha
    assert a.path == (tmp_path / sha[:2] / sha[2:]).resolve()
    assert a.relpath == f"{sha[:2]}/{sha[2:]}"
    assert a.path.read_bytes() == data  # unchanged: encoding and CRLF kept
    b = archive_raw(data, "other-name.csv", tmp_path)
    assert not b.created and b.path == a.path
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == [sha[2:]]


def test_corrupted_entry_is_not_overwritten(tmp_path):
    data = b"abc"
    p = archive_path(tmp_path, hashlib.sha256(data).hexdigest())
    p.parent.mkdir(parents=True)
    p.write_bytes(b"abcd")
    with pytest.raises(OSError, match="corrupted"):
        archive_raw(data, "x", tmp_path)


def test_archive_path_validates_digest(tmp_path):
    with pytest.raises(ValueError):
        archive_path(tmp_path, "../../etc/passwd")
