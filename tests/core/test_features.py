"""Issue 5: color spaces, locked colors, remap, shared palettes, transparency, "how many colors?"."""
import numpy as np
import pytest

import palette_app
from palette_app.core import SPACES, Palette, colors_for_quality, elbow, quantize, remap, shared_palette


def _separated_colors(rng, n, min_dist=60):
    while True:
        cols = rng.integers(0, 256, (n, 3)).astype(float)
        d = np.sqrt(((cols[:, None] - cols[None]) ** 2).sum(-1)) + np.eye(n) * 1e9
        if d.min() > min_dist:
            return cols


def _blocks(rng, n, size=160, noise=2.0):
    cols = _separated_colors(rng, n)
    img = cols[rng.integers(0, n, (size, size))] + rng.normal(0, noise, (size, size, 3))
    return np.clip(img, 0, 255).astype(np.uint8), cols


# ---------------------------------------------------------------- spaces
@pytest.mark.parametrize("space", SPACES)
def test_every_space_gives_a_valid_exact_remap(astronaut, space):
    img = astronaut[::2, ::2]
    r = quantize(img, 24, space=space)
    assert len(r.palette) == 24 and r.psnr > 24
    # Every pixel's entry is its nearest palette color in that space.
    from palette_app.core.colorspace import to_space

    px = to_space(img.reshape(-1, 3), space).astype(np.float64)
    pal = to_space(r.palette.colors, space).astype(np.float64)
    d = ((px[:, None, :] - pal[None]) ** 2).sum(-1)
    got = d[np.arange(len(px)), r.indices.ravel()]
    assert np.allclose(got, d.min(1), rtol=1e-5, atol=1e-4)


def test_lab_lowers_delta_e_against_srgb(astronaut):
    srgb = quantize(astronaut, 64, space="srgb")
    lab = quantize(astronaut, 64, space="lab")
    assert lab.delta_e < srgb.delta_e - 0.1
    assert srgb.psnr > lab.psnr  # and sRGB wins PSNR: why sRGB stays the default


# ---------------------------------------------------------------- locked colors
@pytest.mark.parametrize("space", ["srgb", "oklab"])
def test_locked_colors_are_kept_bit_exact_and_own_their_pixels(astronaut, space):
    img = astronaut.copy()
    img[:20, :20] = [255, 0, 0]          # pure brand red
    img[-10:, -10:] = [18, 52, 86]       # another brand color
    r = quantize(img, 12, locked=["#ff0000", "#123456"], space=space)
    hexes = r.palette.hex
    assert "#ff0000" in hexes and "#123456" in hexes
    red, blue = hexes.index("#ff0000"), hexes.index("#123456")
    assert r.palette.locked[red] and r.palette.locked[blue] and r.palette.locked.sum() == 2
    assert np.all(r.indices[:20, :20] == red) and np.all(r.indices[-10:, -10:] == blue)
    # The free colors still fit the photo.
    assert r.psnr > quantize(img, 10, space=space).psnr - 1.0


def test_a_locked_color_absent_from_the_image_stays_in_the_palette(china):
    r = quantize(china, 8, locked=np.array([[0, 255, 0]]))
    assert "#00ff00" in r.palette.hex and len(r.palette) == 8


def test_locked_colors_validation():
    img = np.zeros((4, 4, 3), np.uint8)
    with pytest.raises(ValueError, match="hex"):
        quantize(img, 4, locked=["#12345"])
    with pytest.raises(ValueError, match="do not fit"):
        quantize(img, 2, locked=["#000000", "#111111", "#222222"])


# ---------------------------------------------------------------- remap
def test_remap_to_a_palette_file_uses_only_it(tmp_path, china):
    from palette_app.io import read_palette, write_palette

    path = tmp_path / "brand.gpl"
    write_palette(Palette.from_hex(["#102030", "#f0e0d0", "#808080", "#c04020"], names=["a", "b", "c", "d"]),
                  path)
    pal = read_palette(path)
    for space in ("srgb", "lab"):
        r = remap(china, pal, space=space)
        assert r.palette.hex == pal.hex and r.palette.names == pal.names
        assert set(np.unique(r.indices)) <= set(range(4))
        assert r.palette.counts.sum() == china.shape[0] * china.shape[1]


def test_remap_adds_a_transparent_entry_when_needed():
    img = np.zeros((4, 4, 4), np.uint8)
    img[..., 0] = 200
    img[:2, ..., 3] = 255
    r = remap(img, ["#c80000", "#000000"])
    assert len(r.palette) == 3 and r.transparent_index == 2 and r.palette.alpha[2] == 0
    assert np.all(r.indices[:2] == 0) and np.all(r.indices[2:] == 2)


# ---------------------------------------------------------------- shared palette
def test_shared_palette_is_shared_and_weights_matter(china, astronaut):
    imgs = [china[::2, ::2], astronaut[::2, ::2]]
    pal = shared_palette(imgs, 16)
    assert len(pal) == 16
    results = [remap(im, pal) for im in imgs]
    assert all(r.palette.hex == pal.hex for r in results)
    for im, r in zip(imgs, results):
        assert r.indices.shape == im.shape[:2] and r.psnr > 22
    only_first = shared_palette(imgs, 16, weights=[1.0, 0.0])
    alone = shared_palette(imgs[:1], 16)
    assert only_first.hex == alone.hex
    assert only_first.hex != pal.hex


def test_shared_palette_accepts_histograms(china):
    from palette_app.core import color_histogram

    a = shared_palette([china], 8)
    b = shared_palette([color_histogram(china)], 8)
    assert a == b


# ---------------------------------------------------------------- transparency
def test_partial_alpha_is_clustered_premultiplied():
    yy, xx = np.mgrid[:96, :96]
    r_ = np.hypot(yy - 48, xx - 48)
    alpha = np.clip((40 - r_) * 32, 0, 255).astype(np.uint8)  # soft-edged disc
    img = np.zeros((96, 96, 4), np.uint8)
    img[..., 0] = 220
    img[..., 1] = (xx * 2).astype(np.uint8)
    img[..., 2] = 40
    img[..., 3] = alpha
    res = quantize(img, 16)
    a = res.palette.alpha
    assert res.transparent_index is not None and a[res.transparent_index] == 0
    assert np.any((a > 0) & (a < 255)), "soft edges need translucent entries"
    out = res.to_rgba()
    assert np.all(out[alpha == 0, 3] == 0)
    assert np.abs(out[..., 3].astype(int) - alpha).mean() < 6
    assert np.all(out[alpha == 255, 3] >= 200)


# ---------------------------------------------------------------- how many colors?
@pytest.mark.parametrize("n", [3, 5, 8])
def test_elbow_suggests_the_number_of_separated_colors(n):
    img, _ = _blocks(np.random.default_rng(n), n)
    curve = elbow(img, 16)
    assert curve.suggested_k == n
    assert list(curve.ks) == list(range(2, 17))
    assert np.all(np.diff(curve.inertia[: n - 1]) < 0)  # falls until the knee
    assert curve.delta_e[n - 2] < 1.5                      # and the colors are matched there


def test_elbow_on_a_photo_is_sensible(china):
    curve = elbow(china, 32)
    assert 4 <= curve.suggested_k <= 20
    assert curve.inertia[0] > 5 * curve.inertia[-1]
    assert curve.delta_e[-1] < curve.delta_e[0]


@pytest.mark.parametrize("target", [dict(min_psnr=30.0), dict(max_delta_e=3.0)])
def test_quality_target_uses_the_fewest_colors(china, target):
    img = china[::2, ::2]
    r = colors_for_quality(img, **target)
    k = r.n_colors
    below = quantize(img, k - 1)
    if "min_psnr" in target:
        assert r.psnr >= target["min_psnr"] and below.psnr < target["min_psnr"]
    else:
        assert r.delta_e <= target["max_delta_e"] and below.delta_e > target["max_delta_e"]


def test_quality_target_needs_a_target(china):
    with pytest.raises(ValueError, match="target"):
        colors_for_quality(china)


# ---------------------------------------------------------------- dithering through quantize/remap
@pytest.mark.parametrize("kind", ["fs", "ordered"])
def test_dithered_quantize_uses_only_the_palette_and_lowers_low_pass_error(kind):
    x = np.linspace(0, 255, 256)
    img = np.dstack([np.tile(x, (64, 1)), np.tile(x[::-1], (64, 1)), np.full((64, 256), 90.0)]).astype(np.uint8)
    plain = quantize(img, 4)
    dith = quantize(img, 4, dither=kind)
    assert dith.palette.hex == plain.palette.hex
    assert dith.indices.max() < len(dith.palette)

    def blur(a):
        k = np.ones(7) / 7
        a = a.astype(float)
        a = np.apply_along_axis(lambda r: np.convolve(r, k, mode="same"), 1, a)
        return np.apply_along_axis(lambda c: np.convolve(c, k, mode="same"), 0, a)

    def lowpass_err(r):
        return np.abs(blur(r.to_rgb()) - blur(img))[8:-8, 8:-8].mean()

    assert lowpass_err(dith) < lowpass_err(plain)
    assert dith.psnr > 10  # metrics measured per pixel for dithered results


def test_dithering_keeps_locked_pixels_and_transparency():
    rng = np.random.default_rng(1)
    img = np.dstack([rng.integers(0, 256, (40, 40, 3)), np.full((40, 40), 255)]).astype(np.uint8)
    img[:5, :5, :3] = [255, 0, 0]
    img[-5:, -5:, 3] = 0
    r = quantize(img, 8, dither="fs", locked=["#ff0000"])
    red = r.palette.hex.index("#ff0000")
    assert np.all(r.indices[:5, :5] == red)
    assert np.all(r.indices[-5:, -5:] == r.transparent_index)
    rm = remap(img, r.palette, dither="ordered")
    assert np.all(rm.indices[-5:, -5:] == rm.transparent_index)
