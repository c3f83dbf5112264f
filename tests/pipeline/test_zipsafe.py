from __future__ import annotations

import stat
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest

from heyan.pipeline.zipsafe import UnsafeZipError, ZipLimits, check_zip, extract_images, iter_zip_images


def _jpeg(seed: int = 0) -> bytes:
    img = np.random.default_rng(seed).integers(0, 255, (40, 60, 3), dtype=np.uint8)
    return cv2.imencode(".jpg", img)[1].tobytes()


def _zip(path: Path, members: list[tuple[str, bytes]], mode: int | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            if mode is not None:
                info.external_attr = mode << 16
            zf.writestr(info, data)
    return path


def test_extracts_images_keeping_folders_and_ignoring_other_files(tmp_path):
    z = _zip(tmp_path / "f.zip", [("DCIM/a.JPG", _jpeg(1)), ("DCIM/b.jpg", _jpeg(2)), ("notes.txt", b"hi"),
                                   ("__MACOSX/._a.JPG", b"junk")])
    out = extract_images(z, tmp_path / "x")
    assert [p.relative_to(tmp_path / "x").as_posix() for p in out] == ["DCIM/a.JPG", "DCIM/b.jpg"]
    assert out[0].read_bytes() == _jpeg(1)
    assert not list((tmp_path / "x").rglob("*.part"))


@pytest.mark.parametrize("name", ["../evil.jpg", "a/../../evil.jpg", "/etc/evil.jpg", "C:/evil.jpg", "..\\evil.jpg"])
def test_paths_escaping_the_destination_are_refused(tmp_path, name):
    z = _zip(tmp_path / "bad.zip", [("ok.jpg", _jpeg()), (name, _jpeg())])
    with pytest.raises(UnsafeZipError) as exc:
        extract_images(z, tmp_path / "x")
    assert "bad.zip" in str(exc.value) and ("outside" in exc.value.reason or "absolute" in exc.value.reason)
    assert not (tmp_path / "evil.jpg").exists() and not (tmp_path / "x" / "ok.jpg").exists(), "nothing is extracted from a refused zip"


def test_symlinks_are_refused(tmp_path):
    z = _zip(tmp_path / "link.zip", [("a.jpg", b"/etc/passwd")], mode=stat.S_IFLNK | 0o777)
    with pytest.raises(UnsafeZipError, match="link"):
        check_zip(z)


def test_decompression_bomb_is_refused_before_inflating(tmp_path):
    z = _zip(tmp_path / "bomb.zip", [("big.jpg", b"\0" * 50_000_000)])
    assert z.stat().st_size < 200_000
    with pytest.raises(UnsafeZipError, match="bomb"):
        check_zip(z)


def test_total_size_limit(tmp_path):
    z = _zip(tmp_path / "many.zip", [(f"{i}.jpg", _jpeg(i)) for i in range(5)])
    with pytest.raises(UnsafeZipError, match="inflates to more than"):
        check_zip(z, ZipLimits(max_total_bytes=2 * len(_jpeg(0))))
    with pytest.raises(UnsafeZipError, match="members exceed"):
        check_zip(z, ZipLimits(max_members=3))


def test_lying_header_is_caught_while_inflating(tmp_path):
    data = _jpeg(3)
    z = _zip(tmp_path / "lie.zip", [("a.jpg", data)])
    raw = bytearray(z.read_bytes())
    # Patch the declared uncompressed size (central directory and local header) to 10 bytes.
    real = len(data).to_bytes(4, "little")
    idx = [i for i in range(len(raw) - 4) if raw[i : i + 4] == real]
    assert idx
    for i in idx:
        raw[i : i + 4] = (10).to_bytes(4, "little")
    z.write_bytes(bytes(raw))
    with pytest.raises((UnsafeZipError, zipfile.BadZipFile)):
        list(iter_zip_images(z))


def test_not_a_zip(tmp_path):
    p = tmp_path / "x.zip"
    p.write_bytes(b"PK but not really")
    with pytest.raises(UnsafeZipError, match="not a valid zip"):
        check_zip(p)
