"""Metrics: CIEDE2000 against Sharma et al. and coloraide; MSE/PSNR/ΔE on histograms and images."""
from __future__ import annotations

import math

import numba
import numpy as np
import pytest
from coloraide import Color

from palette_app.core._config import CHUNK
from palette_app.core.metrics import (
    delta_e2000,
    histogram_delta_e,
    histogram_mse,
    mean_delta_e,
    mse,
    psnr,
    psnr_from_mse,
)

#: Sharma, Wu & Dalal (2005), "The CIEDE2000 color-difference formula:
#: implementation notes, supplementary test data, and mathematical
#: observations", Color Res. Appl. 30(1), Table 1: L1, a1, b1, L2, a2, b2, ΔE00.
SHARMA = np.array([
    (50.0000, 2.6772, -79.7751, 50.0000, 0.0000, -82.7485, 2.0425),
    (50.0000, 3.1571, -77.2803, 50.0000, 0.0000, -82.7485, 2.8615),
    (50.0000, 2.8361, -74.0200, 50.0000, 0.0000, -82.7485, 3.4412),
    (50.0000, -1.3802, -84.2814, 50.0000, 0.0000, -82.7485, 1.0000),
    (50.0000, -1.1848, -84.8006, 50.0000, 0.0000, -82.7485, 1.0000),
    (50.0000, -0.9009, -85.5211, 50.0000, 0.0000, -82.7485, 1.0000),
    (50.0000, 0.0000, 0.0000, 50.0000, -1.0000, 2.0000, 2.3669),
    (50.0000, -1.0000, 2.0000, 50.0000, 0.0000, 0.0000, 2.3669),
    (50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0009, 7.1792),
    (50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0010, 7.1792),
    (50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0011, 7.2195),
    (50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0012, 7.2195),
    (50.0000, -0.0010, 2.4900, 50.0000, 0.0009, -2.4900, 4.8045),
    (50.0000, -0.0010, 2.4900, 50.0000, 0.0010, -2.4900, 4.8045),
    (50.0000, -0.0010, 2.4900, 50.0000, 0.0011, -2.4900, 4.7461),
    (50.0000, 2.5000, 0.0000, 50.0000, 0.0000, -2.5000, 4.3065),
    (50.0000, 2.5000, 0.0000, 73.0000, 25.0000, -18.0000, 27.1492),
    (50.0000, 2.5000, 0.0000, 61.0000, -5.0000, 29.0000, 22.8977),
    (50.0000, 2.5000, 0.0000, 56.0000, -27.0000, -3.0000, 31.9030),
    (50.0000, 2.5000, 0.0000, 58.0000, 24.0000, 15.0000, 19.4535),
    (50.0000, 2.5000, 0.0000, 50.0000, 3.1736, 0.5854, 1.0000),
    (50.0000, 2.5000, 0.0000, 50.0000, 3.2972, 0.0000, 1.0000),
    (50.0000, 2.5000, 0.0000, 50.0000, 1.8634, 0.5757, 1.0000),
    (50.0000, 2.5000, 0.0000, 50.0000, 3.2592, 0.3350, 1.0000),
    (60.2574, -34.0099, 36.2677, 60.4626, -34.1751, 39.4387, 1.2644),
    (63.0109, -31.0961, -5.8663, 62.8187, -29.7946, -4.0864, 1.2630),
    (61.2901, 3.7196, -5.3901, 61.4292, 2.2480, -4.9620, 1.8731),
    (35.0831, -44.1164, 3.7933, 35.0232, -40.0716, 1.5901, 1.8645),
    (22.7233, 20.0904, -46.6940, 23.0331, 14.9730, -42.5619, 2.0373),
    (36.4612, 47.8580, 18.3852, 36.2715, 50.5065, 21.2231, 1.4146),
    (90.8027, -2.0831, 1.4410, 91.1528, -1.6435, 0.0447, 1.4441),
    (90.9257, -0.5406, -0.9208, 88.6381, -0.8985, -0.7239, 1.5381),
    (6.7747, -0.2908, -2.4247, 5.8714, -0.0985, -2.2286, 0.6377),
    (2.0776, 0.0795, -1.1350, 0.9033, -0.0636, -0.5514, 0.9082),
])


def _coloraide_de(space, c1, c2):
    return np.array([Color(space, list(a)).delta_e(Color(space, list(b)), method="2000")
                     for a, b in zip(np.asarray(c1, float), np.asarray(c2, float))])


def _rgb_to_ca(rgb):
    return np.asarray(rgb, float) / 255.0


# -- CIEDE2000 ---------------------------------------------------------------------------

def test_sharma_table():
    assert SHARMA.shape == (34, 7)
    de = delta_e2000(SHARMA[:, :3], SHARMA[:, 3:6])
    assert de.dtype == np.float64 and de.shape == (34,)
    # The published values have four decimals; pairs 9-16 sit on the ±180° hue
    # discontinuity and only pass if the boundary cases are handled as in the paper.
    np.testing.assert_array_equal(np.round(de, 4), SHARMA[:, 6])
    np.testing.assert_array_equal(delta_e2000(SHARMA[:, 3:6], SHARMA[:, :3]), de)


def test_delta_e2000_matches_coloraide(rng):
    n = 600
    lab1 = np.column_stack([rng.uniform(0, 100, n), rng.uniform(-128, 128, n), rng.uniform(-128, 128, n)])
    lab2 = lab1 + rng.normal(0.0, 4.0, lab1.shape)
    lab2[: n // 3] = np.column_stack([rng.uniform(0, 100, n // 3), rng.uniform(-128, 128, n // 3),
                                      rng.uniform(-128, 128, n // 3)])
    lab2[-50:, 1:] = 0.0   # achromatic partners
    lab2[-60:-50] = lab1[-60:-50]  # identical
    ours = delta_e2000(lab1, lab2)
    ref = _coloraide_de("lab-d65", lab1, lab2)
    np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-12)
    assert (ours[-60:-50] == 0.0).all()


def test_delta_e2000_broadcast_and_errors():
    lab = SHARMA[:5, :3]
    ref = np.array([50.0, 0.0, 0.0])
    np.testing.assert_array_equal(delta_e2000(lab, ref), delta_e2000(lab, np.tile(ref, (5, 1))))
    assert delta_e2000(ref, ref).shape == (1,)
    assert delta_e2000(np.empty((0, 3)), np.empty((0, 3))).shape == (0,)
    with pytest.raises(ValueError, match=r"\(n, 3\)"):
        delta_e2000(np.zeros((4, 2)), np.zeros((4, 2)))
    with pytest.raises(ValueError):
        delta_e2000(np.zeros((4, 3)), np.zeros((3, 3)))


# -- histogram metrics --------------------------------------------------------------------

def test_histogram_mse_toy():
    colors = np.array([[0, 0, 0], [10, 20, 30], [200, 100, 50]], np.uint8)
    counts = np.array([3, 1, 2])
    palette = np.array([[0, 0, 0], [12, 20, 27]], np.uint8)
    labels = np.array([0, 1, 1])
    # 1 * (4 + 0 + 9) + 2 * (188² + 80² + 23²) over 3 channels × 6 pixels
    expected = (13 + 2 * (188**2 + 80**2 + 23**2)) / 18
    assert histogram_mse(colors, counts, labels, palette) == expected
    assert psnr_from_mse(expected) == pytest.approx(10 * math.log10(255**2 / expected), rel=1e-15)


def test_psnr_from_mse():
    assert psnr_from_mse(0.0) == math.inf
    assert psnr_from_mse(255.0**2) == 0.0
    assert psnr_from_mse(65.025) == pytest.approx(30.0, abs=1e-12)
    assert math.isnan(psnr_from_mse(float("nan")))
    assert psnr_from_mse(math.inf) == -math.inf
    with pytest.raises(ValueError):
        psnr_from_mse(-1.0)


def _image_with_histogram(rng, h=60, w=70, n_levels=9, k=7):
    levels = rng.integers(0, 256, (n_levels ** 3 // 8, 3))
    img = levels[rng.integers(0, len(levels), h * w)].reshape(h, w, 3).astype(np.uint8)
    colors, inverse, counts = np.unique(img.reshape(-1, 3), axis=0, return_inverse=True, return_counts=True)
    palette = rng.integers(0, 256, (k, 3), dtype=np.uint8)
    labels = rng.integers(0, k, len(colors))
    quantized = palette[labels][inverse.ravel()].reshape(h, w, 3)
    return img, quantized, colors, counts, labels, palette


def test_histogram_metrics_equal_image_metrics(rng):
    img, quantized, colors, counts, labels, palette = _image_with_histogram(rng)
    m = mse(img, quantized)
    d = img.astype(np.float64) - quantized
    assert m == pytest.approx(np.mean(d * d), rel=1e-15)
    assert histogram_mse(colors, counts, labels, palette) == pytest.approx(m, rel=1e-15)
    assert psnr(img, quantized) == psnr_from_mse(m)
    de_img = mean_delta_e(img, quantized)
    de_hist = histogram_delta_e(colors, counts, labels, palette)
    assert de_hist == pytest.approx(de_img, rel=1e-12)
    # Against coloraide, converting the sRGB colors itself (lab-d65, float64).
    per_color = _coloraide_de("srgb", _rgb_to_ca(colors), _rgb_to_ca(palette[labels]))
    assert de_hist == pytest.approx(np.sum(counts * per_color) / counts.sum(), rel=1e-10)


def test_per_pixel_delta_e_matches_coloraide(rng):
    a = rng.integers(0, 256, (300, 3), dtype=np.uint8)
    b = np.clip(a.astype(int) + rng.integers(-30, 31, a.shape), 0, 255).astype(np.uint8)
    b[:20] = a[:20]
    b[20:40] = [[128, 128, 128]]
    ref = _coloraide_de("srgb", _rgb_to_ca(a), _rgb_to_ca(b))
    assert mean_delta_e(a[None], b[None]) == pytest.approx(ref.mean(), rel=1e-10)
    # Per color, through the histogram path (labels = identity into b).
    for i in (0, 25, 299):
        assert histogram_delta_e(a[i:i + 1], [1], [0], b[i:i + 1]) == pytest.approx(ref[i], rel=1e-10, abs=1e-12)


def test_exact_quantization_scores_zero(rng):
    colors = np.unique(rng.integers(0, 256, (500, 3), dtype=np.uint8), axis=0)
    counts = rng.integers(1, 100, len(colors))
    labels = np.arange(len(colors))
    assert histogram_mse(colors, counts, labels, colors) == 0.0
    assert histogram_delta_e(colors, counts, labels, colors) == 0.0
    img = colors[None]
    assert mse(img, img) == 0.0 and psnr(img, img) == math.inf and mean_delta_e(img, img) == 0.0


def test_results_do_not_depend_on_thread_count(rng):
    m = 3 * CHUNK + 11
    colors = rng.integers(0, 256, (m, 3), dtype=np.uint8)
    counts = rng.integers(1, 1000, m)
    palette = rng.integers(0, 256, (16, 3), dtype=np.uint8)
    labels = rng.integers(0, 16, m)
    img_a = colors.reshape(1, m, 3)
    img_b = palette[labels].reshape(1, m, 3)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = (histogram_mse(colors, counts, labels, palette), histogram_delta_e(colors, counts, labels, palette),
               mean_delta_e(img_a, img_b))
    finally:
        numba.set_num_threads(before)
    many = (histogram_mse(colors, counts, labels, palette), histogram_delta_e(colors, counts, labels, palette),
            mean_delta_e(img_a, img_b))
    assert one == many
    assert np.isfinite(many).all() and min(many) > 0


def test_empty_and_bad_input():
    c = np.array([[1, 2, 3]], np.uint8)
    assert math.isnan(histogram_mse(c, [0], [0], c))
    assert math.isnan(histogram_delta_e(np.empty((0, 3), np.uint8), np.empty(0, np.int64),
                                        np.empty(0, np.int64), c))
    with pytest.raises(ValueError, match="labels must index"):
        histogram_mse(c, [1], [1], c)
    with pytest.raises(ValueError, match="labels must index"):
        histogram_delta_e(c, [1], [-1], c)
    with pytest.raises(ValueError, match="non-negative"):
        histogram_mse(c, [-1], [0], c)
    with pytest.raises(ValueError, match="shape"):
        histogram_mse(c, [1, 2], [0], c)
    with pytest.raises(ValueError, match="uint8"):
        histogram_mse(c.astype(float), [1], [0], c)
    with pytest.raises(ValueError, match="integers"):
        histogram_mse(c, [1.0], [0], c)
    img = np.zeros((4, 5, 3), np.uint8)
    with pytest.raises(ValueError, match="differ in shape"):
        mse(img, img[:3])
    with pytest.raises(ValueError, match="uint8"):
        mean_delta_e(img, img.astype(np.float32))
    with pytest.raises(ValueError, match=r"\(H, W, 3\)"):
        psnr(np.zeros((4, 5, 4), np.uint8), np.zeros((4, 5, 4), np.uint8))


def test_quantize_result_uses_these_metrics(rng):
    from palette_app.core.palette import Palette
    from palette_app.core.result import QuantizeResult

    img, quantized, colors, counts, labels, palette = _image_with_histogram(rng, h=20, w=30)
    res = QuantizeResult(palette=Palette(palette), indices=np.zeros((20, 30), np.uint8),
                         _hist_colors=colors, _hist_counts=counts, _hist_labels=labels)
    assert res.mse == pytest.approx(mse(img, quantized), rel=1e-15)
    assert res.psnr == pytest.approx(psnr(img, quantized), rel=1e-15)
    assert res.delta_e == pytest.approx(mean_delta_e(img, quantized), rel=1e-12)
