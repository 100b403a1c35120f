import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import palette_app
from palette_app.core import Cancelled, Palette, QuantizeResult, quantize, remap


def _psnr(a, b):
    mse = ((a.astype(float) - b.astype(float)) ** 2).mean()
    return np.inf if mse == 0 else 10 * np.log10(255 ** 2 / mse)


def test_quantize_photo_end_to_end(astronaut):
    r = palette_app.quantize(astronaut, 16)
    assert isinstance(r, QuantizeResult)
    assert r.indices.shape == astronaut.shape[:2] and r.indices.dtype == np.uint8
    assert len(r.palette) == 16 and r.palette.colors.dtype == np.uint8
    # Sorted by share, counts add up, shares sum to one.
    assert np.all(np.diff(r.palette.counts) <= 0)
    assert r.palette.counts.sum() == astronaut.shape[0] * astronaut.shape[1]
    assert r.palette.shares.sum() == pytest.approx(1.0)
    assert np.array_equal(np.bincount(r.indices.ravel(), minlength=16), r.palette.counts)
    # Every pixel maps to its exact nearest palette color.
    pix = astronaut.reshape(-1, 3).astype(np.int64)
    d = ((pix[:, None, :] - r.palette.colors[None].astype(np.int64)) ** 2).sum(-1)
    got = d[np.arange(len(pix)), r.indices.ravel()]
    assert np.array_equal(got, d.min(1))
    # Metrics agree with a direct computation.
    assert r.psnr == pytest.approx(_psnr(astronaut, r.to_rgb()), abs=1e-6)
    assert r.inertia == pytest.approx(float(d.min(1).sum()), rel=1e-6)
    assert 0 < r.delta_e < 10
    assert r.psnr > 25


@pytest.mark.parametrize("k", [4, 8])
def test_smoothing_zero_maps_every_pixel_to_its_nearest_color_at_few_colors(astronaut, k):
    """Up to 8 colors the default smooths labels (see test_label_smoothing.py);
    smoothing=0 keeps the exact path: every pixel on its nearest color."""
    img = astronaut[::2, ::2]
    r = quantize(img, k, smoothing=0.0)
    assert r.settings["smoothing"] == 0.0
    pix = img.reshape(-1, 3).astype(np.int64)
    d = ((pix[:, None, :] - r.palette.colors[None].astype(np.int64)) ** 2).sum(-1)
    assert np.array_equal(d[np.arange(len(pix)), r.indices.ravel()], d.min(1))
    assert r.inertia == pytest.approx(float(d.min(1).sum()), rel=1e-6)
    assert quantize(img, k).settings["smoothing"] > 0


def test_quality_beats_pillow_median_cut(china):
    from PIL import Image

    ours = quantize(china, 32)
    pil = np.asarray(Image.fromarray(china).quantize(32, method=Image.Quantize.MEDIANCUT).convert("RGB"))
    assert ours.psnr > _psnr(china, pil) + 1.0


def test_fewer_colors_than_asked_gives_exactly_those_colors():
    img = np.zeros((10, 10, 3), np.uint8)
    img[:5] = [255, 0, 0]
    img[5:, :3] = [0, 0, 255]
    r = quantize(img, 16)
    assert sorted(map(tuple, r.palette.colors.tolist())) == [(0, 0, 0), (0, 0, 255), (255, 0, 0)]
    assert np.array_equal(r.to_rgb(), img)
    assert r.psnr == np.inf and r.delta_e == 0 and r.inertia == 0


def test_one_pixel_and_one_color_images():
    one = np.array([[[12, 34, 56]]], np.uint8)
    r = quantize(one, 2)
    assert r.palette.hex == ["#0c2238"] and r.indices.tolist() == [[0]]
    flat = np.full((64, 32, 3), 200, np.uint8)
    r = quantize(flat, 8)
    assert len(r.palette) == 1 and np.array_equal(r.to_rgb(), flat)


def test_all_transparent_image():
    img = np.zeros((8, 8, 4), np.uint8)
    r = quantize(img, 4)
    assert len(r.palette) == 1 and r.transparent_index == 0
    assert r.palette.alpha.tolist() == [0]
    assert np.all(r.indices == 0)


def test_transparent_pixels_become_one_transparent_entry(astronaut):
    img = np.dstack([astronaut, np.full(astronaut.shape[:2], 255, np.uint8)])
    img[:100, :, 3] = 0
    r = quantize(img, 16)
    assert len(r.palette) == 16 and r.transparent_index == 15
    assert r.palette.alpha[15] == 0 and np.all(r.palette.alpha[:15] == 255)
    assert np.all(r.indices[:100] == 15) and np.all(r.indices[100:] != 15)
    assert r.palette.counts[15] == 100 * 512
    assert r.to_rgba()[0, 0, 3] == 0


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 12), st.integers(1, 12), st.integers(2, 256), st.integers(0, 2**31 - 1))
def test_quantize_properties(h, w, k, seed):
    rng = np.random.default_rng(seed)
    n_distinct = int(rng.integers(1, 40))
    pool = rng.integers(0, 256, (n_distinct, 3), dtype=np.uint8)
    img = pool[rng.integers(0, n_distinct, (h, w))]
    r = quantize(img, k, random_state=seed)
    distinct = len(np.unique(img.reshape(-1, 3), axis=0))
    assert len(r.palette) <= k
    assert r.indices.max() < len(r.palette)
    if k >= distinct:
        assert np.array_equal(r.to_rgb(), img)
    # Palette colors lie inside the image's color bounds.
    lo, hi = img.reshape(-1, 3).min(0), img.reshape(-1, 3).max(0)
    assert np.all(r.palette.colors >= lo) and np.all(r.palette.colors <= hi)


def test_quantize_is_reproducible(china):
    a = quantize(china, 48, random_state=4)
    b = quantize(china, 48, random_state=4)
    assert a.palette == b.palette and np.array_equal(a.indices, b.indices)


def test_quantize_cancellation(china):
    with pytest.raises(Cancelled):
        quantize(china, 64, callback=lambda p: p < 0.3)


@pytest.mark.parametrize("kw,err", [({"n_colors": 1}, ValueError), ({"n_colors": 257}, ValueError),
                                    ({"n_colors": 2.5}, TypeError), ({"effort": "max"}, ValueError),
                                    ({"random_state": "x"}, TypeError)])
def test_settings_are_checked(kw, err):
    img = np.zeros((4, 4, 3), np.uint8)
    with pytest.raises(err):
        quantize(img, **kw)


def test_remap_to_a_given_palette_uses_only_it(china):
    pal = Palette.from_hex(["#000000", "#ffffff", "#ff0000", "#00ff00", "#0000ff"])
    r = remap(china, pal)
    assert r.palette.hex == pal.hex  # the palette's own order, no clustering
    idx = r.indices
    assert idx.max() < 5
    assert r.palette.counts.sum() == china.shape[0] * china.shape[1]
    pix = china.reshape(-1, 3).astype(np.int64)
    d = ((pix[:, None, :] - pal.colors[None].astype(np.int64)) ** 2).sum(-1)
    assert np.array_equal(d[np.arange(len(pix)), idx.ravel()], d.min(1))


@pytest.mark.parametrize("effort", ["fast", "default", "best"])
def test_efforts_all_work(china, effort):
    r = quantize(china[::4, ::4], 16, effort=effort)
    assert len(r.palette) == 16 and r.psnr > 24
