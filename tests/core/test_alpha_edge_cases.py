"""RGBA images with no opaque pixel, and tiny images, through every public entry point.

Regression: an image whose pixels were all partially transparent has an empty
opaque histogram, and ``np.bincount`` of no labels returns an *integer* array
even with weights, so adding the partial pixels' float counts to it in place
raised ``UFuncTypeError`` in quantize and remap.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from palette_app.core import colors_for_quality, elbow, quantize, remap, shared_palette

REMAP_PALETTE = ["#000000", "#ffffff", "#ff0000", "#00ff00", "#0000ff"]


def _rgba(shape, alpha, seed=0):
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 256, (*shape, 4), dtype=np.uint8)
    img[..., 3] = alpha(rng, shape) if callable(alpha) else alpha
    return img


CASES = {
    "all alpha 128": _rgba((16, 12), 128),
    "random alpha 1..254": _rgba((16, 12), lambda rng, s: rng.integers(1, 255, s)),
    "all transparent": _rgba((16, 12), 0),
    "single pixel": _rgba((1, 1), 128),
    "1xN": _rgba((1, 23), lambda rng, s: rng.integers(1, 255, s)),
    "Nx1": _rgba((23, 1), lambda rng, s: rng.integers(1, 255, s)),
}


def _check_valid(img, r, alpha_threshold=1):
    """A result any caller may rely on: indices in range, counts matching,
    transparent pixels on the transparent entry and visible ones off it."""
    h, w = img.shape[:2]
    k = len(r.palette)
    assert r.indices.shape == (h, w) and r.indices.dtype == np.uint8
    assert 1 <= k <= 256 and int(r.indices.max()) < k
    assert np.array_equal(np.bincount(r.indices.ravel(), minlength=k), r.palette.counts)
    rgba = r.palette.rgba
    clear = img[..., 3] < alpha_threshold
    if clear.any():
        assert r.transparent_index is not None and rgba[r.transparent_index, 3] == 0
        assert np.all(r.indices[clear] == r.transparent_index)
    assert np.all(rgba[r.indices[~clear], 3] > 0)
    out = r.to_rgba()
    assert out.shape == (h, w, 4)
    # Metrics cover the pixels on opaque entries; with none they are NaN (as documented).
    measured = bool((rgba[r.indices, 3] == 255).any())
    assert np.isnan(r.psnr) != measured and np.isnan(r.delta_e) != measured


def _nearest_premultiplied(img, rgba, usable):
    """Squared distance in premultiplied sRGB + alpha (quantize's 4-D space)
    of every partially transparent pixel to its own entry and to the nearest."""
    def coords(c):
        a = c[:, 3:4].astype(np.float64) / 255.0
        return np.hstack([c[:, :3] * a, a * 255.0])

    px = img.reshape(-1, 4)
    part = (px[:, 3] > 0) & (px[:, 3] < 255)
    x = coords(px[part])
    p = coords(rgba[usable])
    d = ((x[:, None, :] - p[None]) ** 2).sum(-1)
    return x, d, part


def _assert_nearest(img, r):
    rgba = r.palette.rgba
    usable = np.flatnonzero(rgba[:, 3] > 0) if r.transparent_index is not None else np.arange(len(rgba))
    _, d, part = _nearest_premultiplied(img, rgba, usable)
    if not part.any():
        return
    slot = np.full(len(rgba), -1)
    slot[usable] = np.arange(len(usable))
    got = d[np.arange(len(d)), slot[r.indices.ravel()[part]]]
    assert np.all(got <= d.min(1) + 1e-3 * (1.0 + d.min(1)))


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("dither", ["none", "fs", "ordered"])
def test_remap_without_opaque_pixels(case, dither):
    img = CASES[case]
    r = remap(img, REMAP_PALETTE, dither=dither)
    _check_valid(img, r)
    # The given colors, in their order; a transparent entry appended only when needed.
    assert r.palette.hex[:5] == REMAP_PALETTE
    assert len(r.palette) == (6 if (img[..., 3] == 0).any() else 5)
    if dither == "none":
        _assert_nearest(img, r)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("kw", [
    {},
    {"dither": "fs"},
    {"dither": "ordered"},
    {"locked": ["#ff0000", "#102030"]},
    {"locked": ["#ff0000"], "dither": "fs"},
    {"smoothing": 1.0},
    {"n_colors": 2, "locked": ["#ff0000", "#00ff00"]},
], ids=["plain", "fs", "ordered", "locked", "locked-fs", "smoothing", "all-locked"])
def test_quantize_without_opaque_pixels(case, kw):
    img = CASES[case]
    kw = {"n_colors": 4, **kw}
    if len(kw.get("locked", [])) == kw["n_colors"] and (img[..., 3] == 0).any():
        # The transparent entry takes one of the colors: the locked ones do not fit.
        with pytest.raises(ValueError, match="lock at most 1 colors, or ask for 3 colors"):
            quantize(img, **kw)
        return
    r = quantize(img, **kw)
    _check_valid(img, r)
    assert len(r.palette) <= kw["n_colors"]
    rgba = r.palette.rgba
    for c in kw.get("locked", []):
        j = r.palette.hex.index(c)
        assert rgba[j, 3] == 255 and r.palette.locked[j]
    if (img[..., 3] == 0).all():
        # Only the transparent entry (and the locked colors) remain.
        assert r.transparent_index is not None
        assert len(r.palette) == 1 + len(kw.get("locked", []))
    if kw.get("dither", "none") == "none":
        _assert_nearest(img, r)


@pytest.mark.parametrize("case", CASES)
def test_shared_palette_then_remap_without_opaque_pixels(case):
    img = CASES[case]
    if (img[..., 3] == 0).all():
        with pytest.raises(ValueError, match="no opaque pixels"):
            shared_palette([img, img], 4)
        return
    pal = shared_palette([img, img[::-1]], 4, locked=["#ff0000"])
    assert 1 <= len(pal) <= 4 and "#ff0000" in pal.hex
    # Partially transparent pixels count by their color: the palette is opaque.
    assert pal.alpha is None or np.all(pal.alpha == 255)
    for dither in ("none", "fs"):
        r = remap(img, pal, dither=dither)
        _check_valid(img, r)
        assert r.palette.hex[: len(pal)] == pal.hex


@pytest.mark.parametrize("n_colors", [2, 256])
def test_locked_colors_filling_the_palette_leave_no_room_for_transparency(n_colors):
    """They used to give n_colors + 1 entries (an OverflowError at 256)."""
    img = np.zeros((4, 4, 4), np.uint8)
    img[..., 3] = 255
    img[0, 0, 3] = 0
    locked = [f"#{i:02x}{i:02x}{i:02x}" for i in range(n_colors)]
    with pytest.raises(ValueError, match="transparent pixels"):
        quantize(img, n_colors, locked=locked)
    r = quantize(img, n_colors, locked=locked[:-1])
    assert len(r.palette) == n_colors and r.palette.alpha[r.transparent_index] == 0
    opaque = img.copy()
    opaque[0, 0, 3] = 255
    assert len(quantize(opaque, n_colors, locked=locked).palette) == n_colors


def test_semi_transparent_image_keeps_its_alpha():
    """Not only no crash: every pixel at alpha 128 maps to entries at alpha 128."""
    img = CASES["all alpha 128"]
    r = quantize(img, 8)
    assert r.transparent_index is None
    assert np.all(r.palette.alpha == 128)
    assert r.palette.counts.sum() == img.shape[0] * img.shape[1]
    assert np.all(r.to_rgba()[..., 3] == 128)


# --------------------------------------------------------------------------- property sweep
@st.composite
def tiny_rgba(draw):
    h, w = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    rgb = draw(arrays(np.uint8, (h, w, 3)))
    alpha = draw(st.one_of(
        arrays(np.uint8, (h, w)),
        arrays(np.uint8, (h, w), elements=st.sampled_from([0, 1, 128, 254, 255])),
        st.sampled_from([0, 1, 128, 254, 255]).map(lambda a: np.full((h, w), a, np.uint8)),
    ))
    return np.ascontiguousarray(np.dstack([rgb, alpha]))


@settings(max_examples=60, deadline=None)
@given(tiny_rgba(), st.integers(2, 6), st.sampled_from(["none", "fs", "ordered"]),
       st.sampled_from(["srgb", "linear", "lab", "oklab"]), st.booleans())
def test_public_entry_points_on_tiny_rgba_images(img, k, dither, space, lock):
    """Any tiny RGBA image: a valid result, or the one documented error (no
    opaque pixels where the function needs some) and only when it is true."""
    locked = ["#ff0000"] if lock else None
    no_visible = not (img[..., 3] > 0).any()    # alpha_threshold=1
    no_opaque = not (img[..., 3] == 255).any()

    r = quantize(img, k, dither=dither, space=space, locked=locked)
    _check_valid(img, r)
    assert len(r.palette) <= k
    if lock:
        assert "#ff0000" in r.palette.hex

    given = REMAP_PALETTE[:k]
    r = remap(img, given, dither=dither, space=space)
    _check_valid(img, r)
    assert r.palette.hex[: len(given)] == given

    if no_visible:
        with pytest.raises(ValueError, match="no opaque pixels"):
            shared_palette([img], k)
    else:
        pal = shared_palette([img], k, space=space, locked=locked)
        assert 1 <= len(pal) <= k
        _check_valid(img, remap(img, pal, space=space))

    if no_opaque:
        with pytest.raises(ValueError, match="no opaque pixels"):
            elbow(img, k_max=k + 1, space=space)
    else:
        curve = elbow(img, k_max=k + 1, space=space)
        assert list(curve.ks) == list(range(2, k + 2))
        assert np.all(np.isfinite(curve.inertia)) and np.all(curve.inertia >= 0)
        assert np.all(np.isfinite(curve.delta_e)) and np.all(curve.delta_e >= 0)
        assert 2 <= curve.suggested_k <= k + 1

    r = colors_for_quality(img, min_psnr=30, k_max=k, space=space)
    _check_valid(img, r)
    assert len(r.palette) <= k
