"""``pipeline.images``: reading photos with a clear per-file reason when they are unusable."""

from __future__ import annotations

import struct
from pathlib import Path

import cv2
import numpy as np
import pytest

from heyan.pipeline.images import ImageReadError, decode_image, expand_inputs, read_image


def photo(h: int = 240, w: int = 320, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = cv2.GaussianBlur(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), (0, 0), 2)
    img[: h // 2, : w // 2] = (30, 140, 220)  # a flat block whose colour must survive decoding
    return img


def encode(img: np.ndarray, ext: str = ".jpg", params: list[int] | None = None) -> bytes:
    ok, buf = cv2.imencode(ext, img, params or [])
    assert ok
    return buf.tobytes()


def with_exif_thumbnail(jpeg: bytes, thumb: bytes) -> bytes:
    """Insert an APP1 segment carrying a small JPEG (as cameras store their EXIF thumbnail)."""
    payload = b"Exif\x00\x00" + thumb
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload + jpeg[2:]


# --------------------------------------------------------------------------- good files


def test_reads_a_jpeg_as_bgr_uint8(tmp_path):
    img = photo()
    p = tmp_path / "DJI_0001.JPG"
    p.write_bytes(encode(img, params=[cv2.IMWRITE_JPEG_QUALITY, 95]))
    got = read_image(p)
    assert got.shape == (240, 320, 3) and got.dtype == np.uint8
    assert np.abs(got[20:100, 20:140].astype(int) - (30, 140, 220)).max() <= 6  # BGR order kept
    assert np.abs(got.astype(int) - img).mean() < 4


def test_reduce_two_halves_the_size(tmp_path):
    p = tmp_path / "a.jpg"
    p.write_bytes(encode(photo(240, 320)))
    small = read_image(p, reduce=2)
    assert small.shape == (120, 160, 3)
    assert np.abs(small[10:50, 10:70].astype(int) - (30, 140, 220)).max() <= 8
    assert read_image(p, reduce=4).shape == (60, 80, 3)


def test_png_with_alpha_gives_three_channels(tmp_path):
    bgra = np.zeros((30, 40, 4), np.uint8)
    bgra[..., :3] = (10, 200, 30)
    bgra[..., 3] = np.linspace(0, 255, 40, dtype=np.uint8)[None, :]
    p = tmp_path / "alpha.png"
    p.write_bytes(encode(bgra, ".png"))
    got = read_image(p)
    assert got.shape == (30, 40, 3) and got.dtype == np.uint8
    assert (got == (10, 200, 30)).all()


def test_sixteen_bit_png_becomes_uint8(tmp_path):
    img16 = np.zeros((20, 30, 3), np.uint16)
    img16[:, :10] = 65535
    img16[:, 10:20] = 257 * 100
    img16[:, 20:] = (257 * 10, 257 * 20, 257 * 30)
    p = tmp_path / "deep.png"
    p.write_bytes(encode(img16, ".png"))
    got = read_image(p)
    assert got.dtype == np.uint8 and got.shape == (20, 30, 3)
    assert (got[:, :10] == 255).all() and (got[:, 10:20] == 100).all()
    assert (got[:, 20:] == (10, 20, 30)).all()


def test_greyscale_becomes_three_channels():
    grey = np.tile(np.arange(50, dtype=np.uint8), (20, 1))
    got = decode_image(encode(grey, ".png"), "g.png")
    assert got.shape == (20, 50, 3)
    assert (got[..., 0] == grey).all() and (got[..., 2] == grey).all()


# --------------------------------------------------------------------------- bad files


def test_empty_file(tmp_path):
    p = tmp_path / "empty.jpg"
    p.write_bytes(b"")
    with pytest.raises(ImageReadError) as exc:
        read_image(p)
    assert str(p) in str(exc.value) and "empty" in exc.value.reason
    assert exc.value.file == str(p) and exc.value.reason == "file is empty"


def test_truncated_jpeg_says_truncated_and_names_the_file(tmp_path):
    data = encode(photo(480, 640, seed=1), params=[cv2.IMWRITE_JPEG_QUALITY, 95])
    p = tmp_path / "DJI_0042.JPG"
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageReadError) as exc:
        read_image(p)
    # (the reason is checked on its own: tmp_path contains the test's name)
    assert str(p) in str(exc.value) and "truncated" in exc.value.reason.lower()
    assert isinstance(exc.value, ValueError)


def test_truncated_small_jpeg_with_exif_thumbnail_says_truncated(tmp_path):
    """The thumbnail's own end-of-image marker must not hide the main image's missing one."""
    thumb = encode(photo(60, 80, seed=2))
    data = with_exif_thumbnail(encode(photo(240, 320, seed=3)), thumb)
    assert len(data) < 65536
    whole = tmp_path / "whole.jpg"
    whole.write_bytes(data)
    assert read_image(whole).shape == (240, 320, 3)
    p = tmp_path / "cut.jpg"
    p.write_bytes(data[: len(data) * 3 // 4])
    with pytest.raises(ImageReadError) as exc:
        read_image(p)
    assert "truncated" in exc.value.reason.lower() and "cut.jpg" in str(exc.value)


def test_jpeg_with_trailing_bytes_after_the_end_marker_still_reads():
    data = encode(photo()) + b"\x00" * 100 + b"DJI trailer"
    assert decode_image(data, "t.jpg").shape == (240, 320, 3)


def test_jpeg_with_a_long_trailer_after_the_end_marker_still_reads():
    """Phone "motion photos" append an MP4 of several MB after the JPEG's end marker."""
    data = encode(photo()) + b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 200_000
    assert decode_image(data, "MVIMG_0001.jpg").shape == (240, 320, 3)


def test_jpeg_cut_inside_its_header_is_truncated():
    data = encode(photo())
    with pytest.raises(ImageReadError) as exc:
        decode_image(data[:300], "head.jpg")
    assert "truncated" in exc.value.reason


def test_random_bytes_are_corrupt(tmp_path):
    p = tmp_path / "noise.jpg"
    p.write_bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    with pytest.raises(ImageReadError) as exc:
        read_image(p)
    assert str(p) in str(exc.value) and "corrupt" in exc.value.reason


def test_jpeg_header_with_garbage_body_is_corrupt():
    data = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4 + b"\xff\xd9"
    with pytest.raises(ImageReadError, match="JPEG"):
        decode_image(data, "x.jpg")


def test_missing_file_and_directory(tmp_path):
    missing = tmp_path / "nope.jpg"
    with pytest.raises(ImageReadError) as exc:
        read_image(missing)
    assert str(missing) in str(exc.value) and "not found" in exc.value.reason
    with pytest.raises(ImageReadError) as exc:
        read_image(tmp_path)
    assert str(tmp_path) in str(exc.value) and "directory" in exc.value.reason


def test_decode_image_names_the_source():
    with pytest.raises(ImageReadError) as exc:
        decode_image(b"", "upload/DJI_0007.JPG")
    assert str(exc.value).startswith("upload/DJI_0007.JPG:")


# --------------------------------------------------------------------------- expand_inputs


def test_expand_inputs_expands_folders_sorted_and_keeps_files(tmp_path):
    flight = tmp_path / "flight"
    (flight / "b").mkdir(parents=True)
    (flight / "a").mkdir()
    names = ["z.jpg", "b/2.JPG", "b/1.png", "a/9.tif", "notes.txt", "a/.hidden.srt", "m.webp"]
    for n in names:
        (flight / n).write_bytes(b"x")
    (flight / "dir.jpg").mkdir()  # a folder named like an image is not a file
    single = tmp_path / "single.jpeg"
    single.write_bytes(b"x")
    other = tmp_path / "readme.md"  # files given explicitly are kept whatever they are
    other.write_bytes(b"x")
    got = expand_inputs([single, flight, other])
    rel = [str(p.relative_to(tmp_path)) for p in got]
    assert rel == ["single.jpeg", "flight/a/9.tif", "flight/b/1.png", "flight/b/2.JPG", "flight/m.webp",
                   "flight/z.jpg", "readme.md"]
    assert expand_inputs([]) == []
    assert expand_inputs([Path(tmp_path / "missing.jpg")]) == [tmp_path / "missing.jpg"]
