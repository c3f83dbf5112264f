"""``vision.preprocess``: letterbox geometry (Ultralytics' LetterBox(auto=False, center=True))
and the NCHW RGB float batch."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from heyan.vision.preprocess import PAD_VALUE, letterbox, to_input


def content_rows_cols(out: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows / columns that are not entirely padding grey."""
    not_pad = (out != PAD_VALUE).any(axis=2)
    return np.nonzero(not_pad.any(axis=1))[0], np.nonzero(not_pad.any(axis=0))[0]


@pytest.mark.parametrize(
    "w, h, size, gain, new_w, new_h, pad_x, pad_y",
    [
        (640, 480, 320, 0.5, 320, 240, 0, 40),  # landscape: bars top and bottom
        (480, 640, 320, 0.5, 240, 320, 40, 0),  # portrait: bars left and right
        (500, 500, 320, 0.64, 320, 320, 0, 0),  # square: no bars
        (100, 50, 320, 3.2, 320, 160, 0, 80),  # upscale
        (100, 36, 64, 0.64, 64, 23, 0, 20),  # odd padding (41 rows): 20 on top, 21 below
    ],
)
def test_letterbox_geometry(w, h, size, gain, new_w, new_h, pad_x, pad_y):
    img = np.full((h, w, 3), 200, np.uint8)
    out, info = letterbox(img, size)
    assert out.shape == (size, size, 3) and out.dtype == np.uint8
    assert info.gain == pytest.approx(gain)
    assert (info.pad_x, info.pad_y) == (pad_x, pad_y)
    assert (info.src_w, info.src_h) == (w, h)
    rows, cols = content_rows_cols(out)
    assert (len(cols), len(rows)) == (new_w, new_h)
    # Content is one contiguous block starting at the reported padding.
    assert rows[0] == pad_y and rows[-1] == pad_y + new_h - 1
    assert cols[0] == pad_x and cols[-1] == pad_x + new_w - 1
    # Padding is grey 114 everywhere outside it.
    mask = np.ones((size, size), bool)
    mask[pad_y : pad_y + new_h, pad_x : pad_x + new_w] = False
    assert (out[mask] == PAD_VALUE).all()


@pytest.mark.parametrize("seed", range(12))
def test_letterbox_random_sizes_are_consistent(seed):
    rng = np.random.default_rng(seed)
    w, h = (int(v) for v in rng.integers(7, 900, 2))
    size = int(rng.choice([32, 64, 96, 160]))
    img = np.full((h, w, 3), 10, np.uint8)
    out, info = letterbox(img, size)
    assert out.shape == (size, size, 3)
    assert info.gain == pytest.approx(min(size / w, size / h))
    rows, cols = content_rows_cols(out)
    # The longer side fills the model input; the padding is centred (differs by <= 1 px).
    assert len(rows) == size or len(cols) == size
    # The reported padding is recomputed from the gain as Ultralytics' scale_boxes does, so
    # when the resized side was rounded it may differ from the real padding by one pixel.
    assert abs(rows[0] - info.pad_y) <= 1 and abs(cols[0] - info.pad_x) <= 1
    assert abs((size - 1 - rows[-1]) - rows[0]) <= 1
    assert abs((size - 1 - cols[-1]) - cols[0]) <= 1


def test_letterbox_maps_source_points_by_gain_and_pad():
    """A bright pixel block lands where ``p * gain + pad`` says."""
    w, h, size = 400, 200, 200
    img = np.zeros((h, w, 3), np.uint8)
    img[100:120, 300:340] = 255  # block centred at (320, 110)
    out, info = letterbox(img, size)
    ys, xs = np.nonzero(out[..., 0] > 128)
    cx, cy = (xs.min() + xs.max() + 1) / 2, (ys.min() + ys.max() + 1) / 2
    assert cx == pytest.approx(320 * info.gain + info.pad_x, abs=1)
    assert cy == pytest.approx(110 * info.gain + info.pad_y, abs=1)


def test_letterbox_content_is_the_resized_image_and_input_untouched():
    rng = np.random.default_rng(1)
    img = rng.integers(0, 255, (120, 200, 3), dtype=np.uint8)
    before = img.copy()
    out, info = letterbox(img, 100)
    np.testing.assert_array_equal(img, before)
    resized = cv2.resize(img, (100, 60), interpolation=cv2.INTER_LINEAR)
    np.testing.assert_array_equal(out[info.pad_y : info.pad_y + 60], resized)


def test_letterbox_same_size_is_unchanged():
    img = np.random.default_rng(2).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    out, info = letterbox(img, 64)
    np.testing.assert_array_equal(out, img)
    assert (info.gain, info.pad_x, info.pad_y) == (1.0, 0, 0)


# --------------------------------------------------------------------------- to_input


def test_to_input_is_rgb_chw_float_in_unit_range():
    a = np.zeros((4, 6, 3), np.uint8)
    a[..., 0], a[..., 1], a[..., 2] = 10, 20, 255  # B, G, R
    a[1, 2] = (0, 128, 51)
    b = np.full((4, 6, 3), 255, np.uint8)
    x = to_input([a, b])
    assert x.shape == (2, 3, 4, 6) and x.dtype == np.float32
    assert x[0, 0, 0, 0] == pytest.approx(1.0)  # R first
    assert x[0, 1, 0, 0] == pytest.approx(20 / 255)
    assert x[0, 2, 0, 0] == pytest.approx(10 / 255)  # B last
    np.testing.assert_allclose(x[0, :, 1, 2], [51 / 255, 128 / 255, 0], rtol=1e-6)
    assert (x[1] == pytest.approx(1.0))
    assert x.min() >= 0 and x.max() <= 1
    assert x.flags["C_CONTIGUOUS"]


def test_to_input_matches_a_plain_numpy_reference():
    rng = np.random.default_rng(3)
    ims = [rng.integers(0, 256, (9, 13, 3), dtype=np.uint8) for _ in range(3)]
    ref = np.stack([im[..., ::-1].transpose(2, 0, 1) for im in ims]).astype(np.float32) / 255
    np.testing.assert_allclose(to_input(ims), ref, rtol=1e-6, atol=1e-7)


def test_to_input_reuses_a_matching_buffer_and_overwrites_it():
    rng = np.random.default_rng(4)
    ims = [rng.integers(0, 256, (8, 8, 3), dtype=np.uint8) for _ in range(2)]
    buf = np.full((2, 3, 8, 8), -7.0, np.float32)
    out = to_input(ims, out=buf)
    assert out is buf
    np.testing.assert_allclose(buf, to_input(ims))
    # A second call with other images writes into the same memory.
    ims2 = [np.zeros((8, 8, 3), np.uint8)] * 2
    assert to_input(ims2, out=buf) is buf and (buf == 0).all()


def test_to_input_ignores_a_buffer_of_the_wrong_shape():
    ims = [np.zeros((8, 8, 3), np.uint8)]
    buf = np.full((2, 3, 8, 8), -1.0, np.float32)
    out = to_input(ims, out=buf)
    assert out is not buf and out.shape == (1, 3, 8, 8)
    assert (buf == -1).all()
