"""Color space conversions: values against coloraide, round trips, edge cases, speed."""
from __future__ import annotations

import time

import numpy as np
import pytest
from coloraide import Color

from palette_app.core._config import CHUNK
from palette_app.core.colorspace import SPACES, from_space, to_space, to_srgb_uint8

# Float32 outputs: half an ulp at 255 is 7.6e-6, so this is "exact up to float32".
ATOL = 2e-5


def _grid_and_random(step: int, n_random: int, seed: int = 7) -> np.ndarray:
    g = np.arange(0, 256, step)
    if g[-1] != 255:
        g = np.append(g, 255)
    grid = np.stack(np.meshgrid(g, g, g, indexing="ij"), axis=-1).reshape(-1, 3)
    rnd = np.random.default_rng(seed).integers(0, 256, (n_random, 3))
    return np.concatenate([grid, rnd]).astype(np.uint8)


@pytest.fixture(scope="module")
def reference():
    """sRGB colors and coloraide's lab-d65, oklab and srgb-linear coordinates for them."""
    colors = _grid_and_random(51, 400)
    ref = {"lab": [], "oklab": [], "linear": []}
    for c in colors.tolist():
        col = Color("srgb", [v / 255.0 for v in c])
        ref["lab"].append(col.convert("lab-d65").coords())
        ref["oklab"].append([100.0 * v for v in col.convert("oklab").coords()])
        ref["linear"].append([255.0 * v for v in col.convert("srgb-linear").coords()])
    return colors, {k: np.array(v) for k, v in ref.items()}


@pytest.mark.parametrize("space", ["lab", "oklab", "linear"])
def test_matches_coloraide(reference, space):
    colors, ref = reference
    out = to_space(colors, space)
    assert out.dtype == np.float32 and out.shape == colors.shape
    np.testing.assert_allclose(out, ref[space], rtol=0, atol=ATOL)
    # Float input (0..255) goes through the transfer function instead of the table.
    out_f = to_space(colors.astype(np.float32), space)
    np.testing.assert_allclose(out_f, ref[space], rtol=0, atol=ATOL)


@pytest.mark.parametrize("space, atol", [("lab", 1e-4), ("linear", 1e-4), ("oklab", 1e-3)])
def test_from_space_matches_coloraide(reference, space, atol):
    colors, ref = reference
    back = from_space(ref[space].astype(np.float64), space)
    # OKLab: coloraide re-derives Ottosson's matrices through XYZ; they differ
    # from the published ones by ~4e-8, which the steep sRGB curve near black
    # turns into up to ~4e-4 of a level.
    np.testing.assert_allclose(back, colors, rtol=0, atol=atol)


def test_srgb_is_identity():
    rgb = _grid_and_random(85, 50)
    out = to_space(rgb, "srgb")
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, rgb.astype(np.float32))
    f = np.array([[0.25, 254.5, 12.0]], np.float32)
    np.testing.assert_array_equal(to_space(f, "srgb"), f)
    np.testing.assert_array_equal(from_space(f, "srgb"), f)


def test_known_values():
    rgb = np.array([[255, 255, 255], [0, 0, 0], [255, 0, 0]], np.uint8)
    lab = to_space(rgb, "lab")
    np.testing.assert_allclose(lab[0], [100.0, 0.0, 0.0], atol=1e-5)
    np.testing.assert_array_equal(lab[1], [0.0, 0.0, 0.0])
    # sRGB red in CIELAB D65 with the full-precision matrix (CSS Color 4 values).
    np.testing.assert_allclose(lab[2], [53.2371, 80.0901, 67.2033], atol=1e-4)
    ok = to_space(rgb, "oklab")
    np.testing.assert_allclose(ok[0], [100.0, 0.0, 0.0], atol=1e-4)
    # Ottosson's post: sRGB red is OKLab (0.628, 0.2249, 0.1258).
    np.testing.assert_allclose(ok[2], [62.80, 22.49, 12.58], atol=5e-3)
    np.testing.assert_allclose(to_space(rgb, "linear")[0], [255.0, 255.0, 255.0], atol=1e-4)


def test_grays_are_exactly_achromatic_in_lab():
    # CIEDE2000 treats zero chroma specially, so grays must not pick up a
    # 1e-14 a*/b* (and a hue) from rounding; and they must come back gray.
    gray = np.repeat(np.arange(256, dtype=np.uint8)[:, None], 3, axis=1)
    for rgb in (gray, gray.astype(np.float32)):
        lab = to_space(rgb, "lab")
        assert (lab[:, 1:] == 0.0).all()
        assert np.all(np.diff(lab[:, 0]) > 0)
    back = from_space(np.column_stack([np.linspace(-5.0, 110.0, 500), np.zeros(500), np.zeros(500)]), "lab")
    assert (back[:, 0] == back[:, 1]).all() and (back[:, 1] == back[:, 2]).all()


@pytest.mark.parametrize("space", SPACES)
def test_uint8_round_trip_is_exact(space):
    rgb = _grid_and_random(5, 20000)  # 52**3 + 20000 colors
    x = to_space(rgb, space)
    np.testing.assert_array_equal(to_srgb_uint8(x, space), rgb)
    back = from_space(x, space)
    assert back.dtype == np.float32
    np.testing.assert_allclose(back, rgb, rtol=0, atol=1e-3)


@pytest.mark.parametrize("space", ["linear", "lab", "oklab"])
def test_extended_range_round_trip(space, rng):
    # Cluster centers can leave the gamut; the curve is mirrored, so values
    # outside 0..255 survive a round trip instead of being clipped.
    rgb = rng.uniform(-40.0, 300.0, (5000, 3))
    back = from_space(to_space(rgb, space).astype(np.float64), space)
    np.testing.assert_allclose(back, rgb, rtol=0, atol=2e-3)


def test_out_of_gamut_is_unclipped_and_uint8_is_clipped():
    lab = np.array([[50.0, 120.0, -120.0], [110.0, 0.0, 0.0], [-5.0, 0.0, 0.0]])
    f = from_space(lab, "lab")
    assert f[0].min() < 0.0 and f[0].max() > 255.0
    assert f[1].min() > 255.0 and f[2].max() < 0.0
    u = to_srgb_uint8(lab, "lab")
    np.testing.assert_array_equal(u, np.clip(np.floor(f.astype(np.float64) + 0.5), 0, 255))
    np.testing.assert_array_equal(u[1], [255, 255, 255])
    np.testing.assert_array_equal(u[2], [0, 0, 0])


def test_rounding_half_up():
    x = np.array([[0.49, 0.5, 254.5], [-3.0, 300.0, 127.51]])
    np.testing.assert_array_equal(to_srgb_uint8(x, "srgb"), [[0, 1, 255], [0, 255, 128]])


def test_chunk_boundaries_and_shapes(rng):
    n = 2 * CHUNK + 17
    rgb = rng.integers(0, 256, (n, 3), dtype=np.uint8)
    for space in ("lab", "oklab"):
        big = to_space(rgb, space)
        assert np.isfinite(big).all()
        for i in (0, CHUNK - 1, CHUNK, 2 * CHUNK, n - 1):
            np.testing.assert_array_equal(big[i], to_space(rgb[i:i + 1], space)[0])
    img = rng.integers(0, 256, (7, 5, 3), dtype=np.uint8)
    lab = to_space(img, "lab")
    assert lab.shape == (7, 5, 3)
    np.testing.assert_array_equal(lab.reshape(-1, 3), to_space(img.reshape(-1, 3), "lab"))
    assert to_srgb_uint8(lab, "lab").shape == (7, 5, 3)
    assert to_space(np.empty((0, 3), np.uint8), "oklab").shape == (0, 3)
    assert from_space(np.empty((0, 3)), "oklab").shape == (0, 3)


def test_bad_input():
    rgb = np.zeros((4, 3), np.uint8)
    with pytest.raises(ValueError, match="unknown color space"):
        to_space(rgb, "hsv")
    with pytest.raises(ValueError, match="unknown color space"):
        from_space(rgb, "LAB")
    with pytest.raises(ValueError, match=r"\(n, 3\)"):
        to_space(np.zeros((4, 4), np.uint8), "lab")
    with pytest.raises(ValueError, match="dtype"):
        to_space(np.zeros((4, 3), complex), "lab")
    with pytest.raises(ValueError, match="NaN"):
        to_srgb_uint8(np.array([[np.nan, 0.0, 0.0]]), "lab")
    # NaN propagates through the float conversions rather than turning into a color.
    assert np.isnan(from_space(np.array([[np.nan, 0.0, 0.0]]), "lab")[0]).any()


def test_speed_1_7m_colors(rng):
    rgb = rng.integers(0, 256, (1_700_000, 3), dtype=np.uint8)
    to_space(rgb[:10], "lab")  # compiled / loaded from cache
    t0 = time.perf_counter()
    lab = to_space(rgb, "lab")
    back = to_srgb_uint8(lab, "lab")
    elapsed = time.perf_counter() - t0
    np.testing.assert_array_equal(back, rgb)
    # ~0.2 s on two cores; per-pixel Python would take minutes.
    assert elapsed < 3.0, f"1.7M-color Lab round trip took {elapsed:.2f} s"
