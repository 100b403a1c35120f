"""Dithering kernels: exact nearest search, Floyd–Steinberg against a plain numpy reference,
ordered dithering, masks, strips, validation."""
from __future__ import annotations

import threading

import numba
import numpy as np
import pytest

from palette_app.core import dither as D
from palette_app.core.colorspace import to_space


# ------------------------------------------------------------------ helpers
def _brute_nearest(img, pal):
    """Plain numpy nearest: float64 squared distances, first minimum (lowest index) on ties."""
    d2 = ((img[..., None, :].astype(np.float64) - pal.astype(np.float64)) ** 2).sum(-1)
    return d2.argmin(-1)


def _blur(a, sigma=2.0):
    """Separable Gaussian blur with reflected borders (numpy only)."""
    r = int(3 * sigma)
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    k /= k.sum()
    a = np.asarray(a, np.float64)
    for ax in (0, 1):
        pad = [(0, 0)] * a.ndim
        pad[ax] = (r, r)
        ap = np.pad(a, pad, mode="reflect")
        n = a.shape[ax]
        a = sum(k[i] * np.take(ap, np.arange(i, i + n), axis=ax) for i in range(2 * r + 1))
    return a


def _lowpass_error(img, pal, idx, sigma=2.0):
    """RMS difference between the blurred result and the blurred original."""
    return float(np.sqrt(((_blur(pal[idx], sigma) - _blur(img, sigma)) ** 2).mean()))


def _reference_fs(img, pal, *, serpentine, max_err=np.inf, strength=1.0, row0=0):
    """Textbook Floyd–Steinberg in plain Python: weights 7, 3, 5, 1 / 16, error
    diffused to the pixels not yet visited, dropped at the borders; optional
    clamp of each coordinate of the outgoing error, and gain on the error a
    pixel receives. ``row0``: absolute index of the first row (for the
    serpentine direction)."""
    h, w, _ = img.shape
    img = img.astype(np.float64)
    pal = pal.astype(np.float64)
    err = np.zeros((h + 1, w + 2, 3))  # column x + 1 holds pixel x
    out = np.zeros((h, w), np.int64)
    for y in range(h):
        fwd = (not serpentine) or (row0 + y) % 2 == 0
        d = 1 if fwd else -1
        for x in (range(w) if fwd else range(w - 1, -1, -1)):
            t = img[y, x] + strength * err[y, x + 1]
            j = int(((t - pal) ** 2).sum(-1).argmin())
            out[y, x] = j
            e = np.clip(t - pal[j], -max_err, max_err)
            err[y, x + 1 + d] += e * (7 / 16)
            err[y + 1, x + 1 - d] += e * (3 / 16)
            err[y + 1, x + 1] += e * (5 / 16)
            err[y + 1, x + 1 + d] += e * (1 / 16)
    return out


def _reference_strips(img, pal, strip, warmup, *, serpentine=True, max_err=np.inf, strength=1.0):
    """What dither_fs does: each strip of ``strip`` rows starts ``warmup`` rows above
    itself with no error, and keeps only its own rows."""
    h = img.shape[0]
    out = np.zeros(img.shape[:2], np.int64)
    for y_out in range(0, h, strip):
        y0 = max(0, y_out - warmup)
        part = _reference_fs(img[y0:y_out + strip], pal, serpentine=serpentine, max_err=max_err,
                             strength=strength, row0=y0)
        out[y_out:y_out + strip] = part[y_out - y0:]
    return out


def _gray_gradient(h=32, w=256):
    g = np.tile(np.linspace(0.0, 255.0, w, dtype=np.float32), (h, 1))
    return np.repeat(g[:, :, None], 3, axis=2).copy()


GRAYS3 = np.array([[0, 0, 0], [128, 128, 128], [255, 255, 255]], np.float32)
DITHERS = [D.dither_fs, D.dither_ordered]


# ------------------------------------------------------------------ exact nearest search
@pytest.mark.parametrize("k", [1, 2, 7, 64, 256])
def test_strength_zero_is_the_exact_nearest_color(k):
    rng = np.random.default_rng(k)
    # A clustered palette (dense in one corner, as k-means palettes of photos are)
    # and pixels well outside it too.
    pal = (rng.random((k, 3)) ** 2 * 120 + 20).astype(np.float32)
    img = (rng.random((37, 53, 3)) * 400 - 70).astype(np.float32)
    ref = _brute_nearest(img, pal)
    assert np.array_equal(D.nearest_indices(img, pal), ref)
    for fn in DITHERS:
        assert np.array_equal(fn(img, pal, strength=0.0), ref)


def test_nearest_lowest_index_on_ties_and_duplicates():
    pal = np.array([[0, 0, 0], [10, 0, 0], [0, 0, 0], [10, 0, 0], [5, 5, 0]], np.float32)
    img = np.array([[[5, 0, 0], [0, 0, 0], [10, 0, 0], [5, 10, 0], [5, -1, 0]]], np.float32)
    out = D.nearest_indices(img, pal)
    assert out.tolist() == [[0, 0, 1, 4, 0]]
    assert np.array_equal(out, _brute_nearest(img, pal))


def test_nearest_on_integer_lattice_with_many_ties():
    # Integer coordinates make exact ties common: the lowest index must win.
    rng = np.random.default_rng(3)
    pal = rng.integers(0, 256, (256, 3)).astype(np.float32)
    pal[128:] = pal[:128]  # every color twice
    g = np.arange(0, 256, 15, dtype=np.float32)
    img = np.stack(np.meshgrid(g, g, g, indexing="ij"), -1).reshape(-1, 18, 3)
    assert np.array_equal(D.nearest_indices(img, pal), _brute_nearest(img, pal))


@pytest.mark.parametrize("space", ["lab", "oklab", "linear"])
def test_nearest_in_other_spaces(space):
    rng = np.random.default_rng(5)
    rgb = rng.integers(0, 256, (40, 60, 3), dtype=np.uint8)
    img = to_space(rgb, space)
    pal = to_space(rng.integers(0, 256, (200, 3), dtype=np.uint8), space)
    assert np.array_equal(D.nearest_indices(img, pal), _brute_nearest(img, pal))


def test_grid_words_are_ascending_and_hold_the_nearest():
    # Every point of a fine cell has its nearest entry in the cell's word (or,
    # for a long cell, its 8-entry word or coarse list), and words are ascending.
    rng = np.random.default_rng(0)
    pal = (rng.random((256, 3)) ** 2 * 255).astype(np.float32)
    g = D._Grid(pal)
    pts = rng.random((20000, 3)) * 320 - 30
    want = _brute_nearest(pts[:, None, :], pal)[:, 0]
    idx = g.word_index(pts)
    w = g.words[idx].astype(np.int64)
    short = (w & 0xFF) != D._LONG
    cands = (w[:, None] >> (8 * np.arange(4))) & 0xFF
    assert np.all(np.diff(cands[short], axis=1) >= 0)
    assert np.all((cands[short] == want[short, None]).any(axis=1))
    w8 = g.words8[idx[~short]].astype(np.uint64)
    has8 = (w8 & np.uint64(0xFF)) != D._LONG
    c8 = ((w8[has8, None] >> (np.uint64(8) * np.arange(8, dtype=np.uint64))) & np.uint64(0xFF)).astype(np.int64)
    assert np.all(np.diff(c8, axis=1) >= 0)
    assert np.all((c8 == want[~short][has8, None]).any(axis=1))
    four, eight, scan = g.query_kinds(pts)
    assert four > 0.5 and abs(four + eight + scan - 1.0) < 1e-9


def test_entry_255_alone_in_its_cells():
    # A cell whose only candidate is entry 255 has the word [255] * 4, whose low
    # byte is also the long-list marker: it must still answer 255.
    rng = np.random.default_rng(24)
    pal = (rng.random((256, 3)) * 100).astype(np.float32)
    pal[255] = [250, 250, 250]
    img = (pal[255] + rng.random((30, 40, 3)) * 20 - 10).astype(np.float32)
    assert np.all(D.nearest_indices(img, pal) == 255)
    assert np.array_equal(D.dither_fs(img, pal), _reference_fs(img, pal, serpentine=True,
                                                             max_err=D.palette_spread(pal)))


@pytest.mark.parametrize("k", [1, 3, 256])
@pytest.mark.parametrize("fn", DITHERS)
def test_output_uses_palette_indices_only(fn, k):
    rng = np.random.default_rng(k + 100)
    img = (rng.random((40, 48, 3)) * 300 - 20).astype(np.float32)
    pal = (rng.random((k, 3)) * 255).astype(np.float32)
    for s in (0.3, 1.0):
        out = fn(img, pal, strength=s)
        assert out.dtype == np.uint8 and out.shape == (40, 48) and int(out.max()) < k


# ------------------------------------------------------------------ Floyd–Steinberg
@pytest.mark.parametrize("serpentine", [False, True])
@pytest.mark.parametrize("clamp", [np.inf, 20.0])
def test_fs_matches_plain_reference(serpentine, clamp):
    rng = np.random.default_rng(11)
    img = (rng.random((13, 17, 3)) * 255).astype(np.float32)
    pal = (rng.random((6, 3)) * 255).astype(np.float32)
    got, bad = D._floyd_steinberg(img, pal, 1.0, serpentine, None, None, 0, clamp)
    assert bad == 0
    assert np.array_equal(got, _reference_fs(img, pal, serpentine=serpentine, max_err=clamp))


def test_fs_public_default_uses_clamp_from_spread():
    rng = np.random.default_rng(12)
    img = (rng.random((9, 21, 3)) * 300 - 20).astype(np.float32)
    pal = (rng.random((5, 3)) * 255).astype(np.float32)
    lim = D.FS_MAX_ERROR * D.palette_spread(pal)
    assert np.array_equal(D.dither_fs(img, pal), _reference_fs(img, pal, serpentine=True, max_err=lim))


@pytest.mark.parametrize("serpentine", [False, True])
@pytest.mark.parametrize("strength", [1.0, 0.6])
@pytest.mark.parametrize("rows", [46, 40, 27])
def test_fs_strips_four_at_a_time_match_the_reference(serpentine, strength, rows, monkeypatch):
    # Strips of 6 rows: 46 rows make 8 strips (two groups of four in lockstep, the
    # last strip shorter), 40 make 7 (the second group one strip short: a repeated
    # strip that writes nothing), 27 make 5 (a group of one, run alone).
    monkeypatch.setattr(D, "FS_WARMUP", 2)
    rng = np.random.default_rng(21)
    img = (rng.random((rows, 19, 3)) * 300 - 20).astype(np.float32)
    pal = (rng.random((12, 3)) * 255).astype(np.float32)
    lim = D.FS_MAX_ERROR * D.palette_spread(pal)
    got, bad = D._floyd_steinberg(img, pal, strength, serpentine, None, None, 0, lim, strip=6)
    assert bad == 0
    want = _reference_strips(img, pal, 6, 2, serpentine=serpentine, max_err=lim, strength=strength)
    assert np.array_equal(got, want)


def test_fs_strip_rows_depend_on_the_height_only():
    # One strip up to FS_STRIP rows; above, 4 * 2**m even strips of FS_MIN_STRIP rows or more.
    assert D._fs_strip_rows(D.FS_STRIP) == D.FS_STRIP
    for h in (D.FS_STRIP + 1, 300, 1000, 3000, 4000, 12001):
        rows = D._fs_strip_rows(h)
        n = -(-h // rows)
        assert rows % 2 == 0 and rows <= D.FS_STRIP
        assert n % 4 == 0 and (n // 4) & (n // 4 - 1) == 0
        assert h <= 8 * D.FS_MIN_STRIP or rows >= D.FS_MIN_STRIP
    assert -(-3000 // D._fs_strip_rows(3000)) == 16   # a 12-MP photo: four groups


@pytest.mark.parametrize("fn", [D.nearest_indices, D.dither_fs, D.dither_ordered])
def test_uint8_input_is_read_as_is(fn):
    rng = np.random.default_rng(22)
    rgb = rng.integers(0, 256, (600, 37, 3), dtype=np.uint8)
    pal = rng.integers(0, 256, (40, 3)).astype(np.float32)
    assert np.array_equal(fn(rgb, pal), fn(rgb.astype(np.float32), pal))


def test_masked_kernel_without_transparent_pixels_is_the_plain_one():
    # A mask that changes nothing gives the plain result (masks are dummies otherwise).
    rng = np.random.default_rng(23)
    img = (rng.random((70, 31, 3)) * 255).astype(np.float32)
    pal = (rng.random((9, 3)) * 255).astype(np.float32)
    lim = D.FS_MAX_ERROR * D.palette_spread(pal)
    plain, _ = D._floyd_steinberg(img, pal, 1.0, True, None, None, 0, lim, strip=16)
    none_clear = np.zeros(img.shape[:2], bool)
    masked, _ = D._floyd_steinberg(img, pal, 1.0, True, np.ones(img.shape[:2], np.float32), none_clear, 0,
                                   lim, strip=16)
    assert np.array_equal(plain, masked)


@pytest.mark.parametrize("pal", [GRAYS3[[0, 2]], GRAYS3, np.array([[0] * 3, [80] * 3, [170] * 3, [255] * 3])])
@pytest.mark.parametrize("fn", DITHERS)
def test_dithering_lowers_the_low_pass_error_on_a_gradient(pal, fn):
    img = _gray_gradient()
    pal = np.asarray(pal, np.float32)
    none = _lowpass_error(img, pal, D.nearest_indices(img, pal))
    dithered = fn(img, pal)
    assert set(np.unique(dithered)) <= set(range(len(pal)))
    assert _lowpass_error(img, pal, dithered) < 0.5 * none


def test_fs_lowers_the_low_pass_error_of_a_color_gradient_in_oklab():
    h, w = 24, 200
    t = np.linspace(0, 1, w)[None, :, None]
    rgb = (np.array([230, 40, 30]) * (1 - t) + np.array([20, 60, 220]) * t).repeat(h, 0)
    rgb = np.round(rgb).astype(np.uint8)
    pal_rgb = np.array([[230, 40, 30], [20, 60, 220], [120, 50, 125], [0, 0, 0]], np.uint8)
    img, pal = to_space(rgb, "oklab"), to_space(pal_rgb, "oklab")
    none = _lowpass_error(rgb, pal_rgb.astype(float), D.nearest_indices(img, pal))
    fs = _lowpass_error(rgb, pal_rgb.astype(float), D.dither_fs(img, pal))
    assert fs < 0.6 * none


def test_strength_scales_the_dithering():
    img = _gray_gradient()
    pal = GRAYS3[[0, 2]]
    errs = [_lowpass_error(img, pal, D.dither_fs(img, pal, strength=s)) for s in (0.0, 0.5, 1.0)]
    assert errs[0] > errs[1] > errs[2]
    # Strength s < 1: a gray only a fraction f < (1 - s) / 2 of the way to the other entry stays flat.
    out = D.dither_fs(img, pal, strength=0.5)
    assert np.all(out[:, img[0, :, 0] < 0.2 * 255] == 0)


def test_serpentine_changes_the_result():
    img = _gray_gradient()
    a = D.dither_fs(img, GRAYS3, serpentine=True)
    b = D.dither_fs(img, GRAYS3, serpentine=False)
    assert not np.array_equal(a, b)
    assert np.array_equal(a[0], b[0])  # the first row runs left to right in both


def test_edge_mask_zero_is_no_dithering_and_one_is_full():
    rng = np.random.default_rng(2)
    img = (rng.random((30, 40, 3)) * 255).astype(np.float32)
    pal = (rng.random((8, 3)) * 255).astype(np.float32)
    zero = np.zeros(img.shape[:2], np.float32)
    one = np.ones(img.shape[:2], np.float32)
    nearest = D.nearest_indices(img, pal)
    assert np.array_equal(D.dither_fs(img, pal, edge_mask=zero), nearest)
    assert np.array_equal(D.dither_ordered(img, pal, edge_mask=zero), nearest)
    assert np.array_equal(D.dither_fs(img, pal, edge_mask=one), D.dither_fs(img, pal))
    assert np.array_equal(D.dither_ordered(img, pal, edge_mask=one), D.dither_ordered(img, pal))
    # Where the mask is 0 the pixel gets its own nearest color, whatever its neighbours did.
    band = one.copy()
    band[:, 10:14] = 0
    out = D.dither_fs(img, pal, edge_mask=band)
    assert np.array_equal(out[:, 10:14], nearest[:, 10:14])


@pytest.mark.parametrize("fn", DITHERS)
def test_alpha_pixels_get_the_transparent_index_and_act_as_absent(fn):
    rng = np.random.default_rng(4)
    img = (rng.random((20, 30, 3)) * 255).astype(np.float32)
    pal = (rng.random((5, 3)) * 255).astype(np.float32)
    # Transparent right columns and bottom rows behave as if the image were cropped.
    alpha = np.zeros(img.shape[:2], bool)
    alpha[:, 24:] = True
    alpha[16:] = True
    garbage = img.copy()
    garbage[alpha] = np.nan  # their contents must not matter (nor raise)
    out = fn(garbage, pal, alpha_mask=alpha, transparent_index=200)
    assert np.all(out[alpha] == 200)
    assert np.array_equal(out[:16, :24], fn(np.ascontiguousarray(img[:16, :24]), pal))
    # A hole inside: its contents do not matter either.
    hole = np.zeros(img.shape[:2], bool)
    hole[5:9, 7:15] = True
    other = img.copy()
    other[hole] = rng.random((hole.sum(), 3)) * 255
    a = fn(img, pal, alpha_mask=hole, transparent_index=9)
    b = fn(other, pal, alpha_mask=hole, transparent_index=9)
    assert np.array_equal(a, b) and np.all(a[hole] == 9) and a[~hole].max() < len(pal)


def test_fs_with_alpha_matches_reference_with_hole_as_border():
    # No error flows into or out of a transparent pixel: a fully transparent
    # column splits the image into two independent halves.
    rng = np.random.default_rng(8)
    img = (rng.random((10, 21, 3)) * 255).astype(np.float32)
    pal = (rng.random((4, 3)) * 255).astype(np.float32)
    alpha = np.zeros(img.shape[:2], bool)
    alpha[:, 10] = True
    got, _ = D._floyd_steinberg(img, pal, 1.0, False, None, alpha, 7, np.inf)
    assert np.all(got[:, 10] == 7)
    assert np.array_equal(got[:, :10], _reference_fs(img[:, :10], pal, serpentine=False))
    assert np.array_equal(got[:, 11:], _reference_fs(img[:, 11:], pal, serpentine=False))


def test_fs_strips_are_deterministic_and_thread_count_independent():
    h = 8 * D.FS_MIN_STRIP + 37   # two groups of four strips: the threads share them
    assert -(-h // D._fs_strip_rows(h)) == 8
    img = _gray_gradient(h, 64)
    img[:, :, 1] *= 0.5
    pal = np.array([[0, 0, 0], [255, 128, 255], [90, 40, 90]], np.float32)
    a = D.dither_fs(img, pal)
    n = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        b = D.dither_fs(img, pal)
    finally:
        numba.set_num_threads(n)
    assert np.array_equal(a, b)
    assert np.array_equal(a, D.dither_fs(img, pal))
    # Strips only change where the error state restarts: the first strip is a plain pass,
    # and the dithering stays as good across the seams.
    whole, _ = D._floyd_steinberg(img, pal, 1.0, True, None, None, 0, D.FS_MAX_ERROR * D.palette_spread(pal),
                                  strip=h)
    first = D._fs_strip_rows(h)
    assert first < h
    assert np.array_equal(a[:first], whole[:first])
    assert _lowpass_error(img, pal, a) < 1.1 * _lowpass_error(img, pal, whole)


def test_parallel_calls_from_threads_agree():
    rng = np.random.default_rng(6)
    img = (rng.random((300, 80, 3)) * 255).astype(np.float32)
    pal = (rng.random((32, 3)) * 255).astype(np.float32)
    want = [D.dither_fs(img, pal), D.dither_ordered(img, pal)]
    got = [None, None]

    def run(i, fn):
        got[i] = fn(img, pal)

    ts = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(DITHERS)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert all(np.array_equal(g, w) for g, w in zip(got, want))


# ------------------------------------------------------------------ ordered
def test_ordered_pattern_repeats_every_8_pixels():
    img = np.full((24, 40, 3), 100.0, np.float32)
    out = D.dither_ordered(img, GRAYS3)
    assert len(np.unique(out)) == 2  # a flat mid-tone between two entries is dithered
    assert np.array_equal(out[8:], out[:-8]) and np.array_equal(out[:, 8:], out[:, :-8])
    assert not np.array_equal(out[4:], out[:-4])
    # The share of the lighter entry follows the tone: 100 is 100/128 of the way from 0 to 128.
    assert abs((out == 1).mean() - 100 / 128) <= 1 / 64


def test_ordered_offsets_follow_the_palette_axis():
    # Two colors differing only in the second coordinate: a flat color between them dithers.
    pal = np.array([[50, 0, 50], [50, 100, 50]], np.float32)
    img = np.full((8, 8, 3), 50.0, np.float32)
    img[..., 1] = 30.0
    out = D.dither_ordered(img, pal)
    assert abs((out == 1).mean() - 0.3) <= 1 / 64
    assert np.allclose(np.abs(D._principal_axis(pal)), [0, 1, 0])


# ------------------------------------------------------------------ smooth mask
def test_smooth_mask_is_one_on_gradients_and_zero_at_edges():
    ramp = np.add.outer(np.arange(64), np.arange(100)).astype(np.uint8)  # linear in x and y
    img = np.stack([ramp, 200 - ramp, np.full_like(ramp, 7)], -1)
    m = D.smooth_mask(img)
    assert m.dtype == np.float32 and m.shape == (64, 100)
    assert np.all(m == 1.0)
    step = np.zeros((20, 30, 4), np.uint8)
    step[:, 15:, :3] = 200
    m = D.smooth_mask(step)
    assert np.all(m[:, 14:16] == 0.0)
    assert np.all(m[:, :13] == 1.0) and np.all(m[:, 17:] == 1.0)
    # A small bump scores in between.
    bump = np.zeros((9, 9, 3), np.uint8)
    bump[4, 4] = 8
    m = D.smooth_mask(bump)
    assert m[4, 4] == pytest.approx(1 - 16 / D.SMOOTH_EDGE_LEVELS) and m[4, 3] == pytest.approx(1 - 8 / 32)


def test_smooth_mask_keeps_edges_crisp():
    # Two flat halves whose colors lie between palette entries: with the mask the
    # pixels along the boundary get their nearest color, away from it they dither.
    rgb = np.zeros((32, 64, 3), np.uint8)
    rgb[:, :32] = 70
    rgb[:, 32:] = 180
    pal = GRAYS3
    img = rgb.astype(np.float32)
    out = D.dither_fs(img, pal, edge_mask=D.smooth_mask(rgb))
    nearest = D.nearest_indices(img, pal)
    assert np.array_equal(out[:, 31:33], nearest[:, 31:33])
    assert len(np.unique(out[:, :28])) == 2


# ------------------------------------------------------------------ validation
def test_validation_errors():
    img = np.zeros((4, 5, 3), np.float32)
    pal = np.zeros((2, 3), np.float32)
    with pytest.raises(ValueError, match="image_space"):
        D.dither_fs(np.zeros((4, 5)), pal)
    with pytest.raises(ValueError, match="palette_space"):
        D.dither_fs(img, np.zeros((257, 3)))
    with pytest.raises(ValueError, match="palette_space"):
        D.dither_ordered(img, np.zeros((0, 3)))
    with pytest.raises(ValueError, match="NaN"):
        D.dither_fs(img, np.array([[0, 0, np.nan]]))
    with pytest.raises(ValueError, match="strength"):
        D.dither_fs(img, pal, strength=1.5)
    with pytest.raises(ValueError, match="strength"):
        D.dither_ordered(img, pal, strength="a lot")
    with pytest.raises(ValueError, match="edge_mask"):
        D.dither_fs(img, pal, edge_mask=np.ones((4, 4), np.float32))
    with pytest.raises(ValueError, match="edge_mask"):
        D.dither_fs(img, pal, edge_mask=np.full((4, 5), np.nan, np.float32))
    with pytest.raises(ValueError, match="alpha_mask"):
        D.dither_fs(img, pal, alpha_mask=np.ones((4, 5), np.uint8))
    with pytest.raises(ValueError, match="transparent_index"):
        D.dither_fs(img, pal, transparent_index=256)
    with pytest.raises(ValueError, match="image"):
        D.smooth_mask(np.zeros((4, 5, 3), np.float32))
    bad = img.copy()
    bad[1, 2, 0] = np.inf
    for fn in (D.nearest_indices, D.dither_fs, D.dither_ordered):
        with pytest.raises(ValueError, match="1 opaque pixel"):
            fn(bad, pal)


def test_inputs_are_converted_and_not_modified():
    rng = np.random.default_rng(9)
    img = rng.integers(0, 256, (10, 12, 3)).astype(np.float64)
    img.setflags(write=False)
    pal = rng.integers(0, 256, (4, 3))
    keep = img.copy()
    out = D.dither_fs(img, pal)
    assert out.dtype == np.uint8 and out.shape == (10, 12)
    assert np.array_equal(img, keep)
    assert np.array_equal(out, D.dither_fs(img.astype(np.float32), pal.astype(np.float32)))


def test_warm_up_runs():
    D._warm_up()
