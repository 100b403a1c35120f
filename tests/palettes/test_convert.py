"""Color conversions against independent references (coloraide, colorsys) and known values."""
from __future__ import annotations

import colorsys

import numpy as np
from coloraide import Color

from palette_app.io.palettes._convert import (
    SRGB_TO_XYZ_D65, cmyk_to_srgb, hsb_to_srgb, lab_d50_to_srgb, to_uint8,
)


def test_srgb_matrix_matches_the_published_one():
    # IEC 61966-2-1 gives these to 4 decimals.
    published = [[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]
    np.testing.assert_allclose(SRGB_TO_XYZ_D65, published, atol=6e-5)


def test_lab_d50_matches_coloraide_css_lab(rng):
    labs = np.column_stack([rng.uniform(0, 100, 500), rng.uniform(-128, 127, 500),
                            rng.uniform(-128, 127, 500)])
    ours = lab_d50_to_srgb(labs)
    ref = np.array([Color("lab", list(v)).convert("srgb").coords() for v in labs])
    np.testing.assert_allclose(ours, ref, atol=1e-9)


def test_lab_reference_points():
    out, clipped = to_uint8(lab_d50_to_srgb([[100, 0, 0], [0, 0, 0], [50, 0, 0],
                                             [54.29, 80.82, 69.88]]))
    # D50 white maps to sRGB white through the adaptation; L=50 neutral is 119; the last is
    # sRGB red in D50 Lab as CSS Color 4 writes it: lab(54.29% 80.82 69.88).
    assert out.tolist() == [[255, 255, 255], [0, 0, 0], [119, 119, 119], [255, 0, 0]]
    assert not clipped.any()


def test_hsb_matches_colorsys(rng):
    hsv = rng.uniform(0, 1, (300, 3))
    ours = hsb_to_srgb(np.column_stack([hsv[:, 0] * 360, hsv[:, 1], hsv[:, 2]]))
    ref = np.array([colorsys.hsv_to_rgb(*v) for v in hsv])
    np.testing.assert_allclose(ours, ref, atol=1e-12)


def test_cmyk_plain_formula():
    out = cmyk_to_srgb([[0, 0, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1], [0.5, 0, 0, 0.5]])
    np.testing.assert_allclose(out, [[1, 1, 1], [0, 1, 1], [0, 0, 0], [0.25, 0.5, 0.5]])


def test_to_uint8_rounds_half_up_and_reports_real_clipping_only():
    out, clipped = to_uint8(np.array([[0.5 / 255, 127.5 / 255, 1.0000001],
                                      [-0.001 / 255, 1.2, 0.0],
                                      [-0.01, 0.5, 0.5]]))
    assert out.tolist() == [[1, 128, 255], [0, 255, 0], [0, 128, 128]]
    assert clipped.tolist() == [False, True, True]
