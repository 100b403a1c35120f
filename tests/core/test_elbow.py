"""The suggested number of colors: the same N in every space for N separated colors with noise.

Regression: OKLab has no linear toe, so the ±1–2 noise of a near-black color
spans ~8 of its 100 L units; in its own units that noise looked like structure,
the gap at N was small next to the noise splits after it, and the knee of
log(inertia) landed at 8 for 5 colors. The incremental warm start also put a
new center on that heavy noise while two real colors still shared one, so the
drop came one k late.
"""
import importlib

import numpy as np
import pytest

from palette_app.core import SPACES, elbow

E = importlib.import_module("palette_app.core.elbow")

#: Corners and middles of the RGB cube, black and white first (the hard ones in OKLab).
SEPARATED = np.array([[0, 0, 0], [255, 255, 255], [220, 20, 20], [20, 200, 40], [30, 40, 230],
                      [250, 220, 0], [0, 210, 220], [200, 0, 200], [128, 128, 128], [120, 60, 10],
                      [255, 150, 200], [20, 90, 90], [140, 140, 255]], np.float64)


def _random_separated(rng, n, min_dist=60.0):
    while True:
        cols = rng.integers(0, 256, (n, 3)).astype(np.float64)
        d = np.sqrt(((cols[:, None] - cols[None]) ** 2).sum(-1)) + np.eye(n) * 1e9
        if d.min() > min_dist:
            return cols


def _noisy(cols, rng, size, amp, bands):
    n = len(cols)
    if bands:
        labels = np.arange(size * size).reshape(size, size) * n // (size * size)
    else:
        labels = rng.integers(0, n, (size, size))
    noise = rng.integers(-amp, amp + 1, (size, size, 3))
    return np.clip(cols[labels] + noise, 0, 255).astype(np.uint8)


CASES = [(n, amp, palette) for n in (2, 3, 5, 8, 12) for amp in (1, 2) for palette in ("fixed", "random")]


@pytest.mark.parametrize("n,amp,palette", CASES)
def test_every_space_suggests_the_number_of_separated_colors(n, amp, palette):
    rng = np.random.default_rng(100 * n + amp)
    cols = SEPARATED[:n] if palette == "fixed" else _random_separated(rng, n)
    img = _noisy(cols, rng, 128, amp, bands=palette == "fixed")
    got = {space: elbow(img, space=space).suggested_k for space in SPACES}
    assert got == dict.fromkeys(SPACES, n)


def test_five_colors_with_black_and_white_in_oklab():
    """The reported case: 8 in OKLab (11 at ±1), 5 in the other spaces."""
    rng = np.random.default_rng(0)
    cols = np.array([[255, 255, 255], [0, 0, 0], [200, 30, 30], [30, 30, 200], [120, 200, 120]], float)
    for amp in (1, 2):
        img = np.clip(cols[rng.integers(0, 5, (256, 256))] + rng.integers(-amp, amp + 1, (256, 256, 3)),
                      0, 255).astype(np.uint8)
        curve = elbow(img, space="oklab")
        assert curve.suggested_k == 5
        # The curve itself falls most at 5, not one k later.
        assert int(np.argmax(-np.diff(np.log(curve.inertia)))) == 5 - 3


@pytest.mark.parametrize("space", SPACES)
def test_flat_colors_without_noise(space):
    img = SEPARATED[np.arange(64 * 64).reshape(64, 64) * 6 // (64 * 64)].astype(np.uint8)
    curve = elbow(img, 16, space=space)
    assert curve.suggested_k == 6
    assert np.all(curve.inertia[4:] == 0)


@pytest.mark.parametrize("space", SPACES)
def test_a_photo_gets_a_knee_in_every_space(china, space):
    curve = elbow(china, 32, space=space)
    assert 4 <= curve.suggested_k <= 20
    if space == "srgb":  # there the sRGB error is the inertia: no gap, a knee
        assert E.find_gap(curve.ks, curve.inertia) is None


# --------------------------------------------------------------------------- find_gap on curves
def _noise_tail(n, level, rng):
    """n errors of a noise floor split by more and more colors: 3-20 % less per step."""
    return level * np.cumprod(np.concatenate([[1.0], rng.uniform(0.8, 0.97, n - 1)]))


def test_find_gap_is_scale_invariant():
    rng = np.random.default_rng(3)
    ks = np.arange(2, 33)
    merges = 1000.0 / np.arange(1, 5)                       # k = 2..5: colors still shared
    errors = np.concatenate([merges + 4.0, _noise_tail(len(ks) - 4, 4.0, rng)])
    for scale in (1e-6, 1e-2, 1.0, 1e4):
        assert E.find_gap(ks, errors * scale, error_below=3000.0 * scale, floor=0.25 * scale) == 6


def test_find_gap_needs_a_dominant_step():
    ks = np.arange(2, 33)
    photo = 3000.0 * ks ** -0.6                              # a power law: no gap
    assert E.find_gap(ks, photo, error_below=3000.0, floor=1e-9) is None
    # One step divides the error by 12 * 1.3, but a later one by 3.1: no gap either.
    bumpy = photo.copy()
    bumpy[1:] /= 12.0
    bumpy[10:] /= 3.0
    assert E.find_gap(ks, bumpy, floor=1e-9) is None
    bumpy[10:] *= 3.0 / 1.1                                  # the later step now divides it by 1.2
    assert E.find_gap(ks, bumpy, floor=1e-9) == 3


def test_find_gap_at_k_min_needs_the_error_of_one_color():
    rng = np.random.default_rng(4)
    ks = np.arange(2, 17)
    errors = _noise_tail(len(ks), 6.0, rng)                  # two colors: noise from k = 2 on
    assert E.find_gap(ks, errors) is None
    assert E.find_gap(ks, errors, error_below=5000.0) == 2


def test_running_out_of_colors_is_not_a_gap():
    """The error reaches the floor when k reaches the number of distinct colors:
    that last step neither hides the real gap nor replaces it."""
    ks = np.arange(2, 33)
    tail = 30.0 * 0.95 ** np.arange(12)                      # k = 4..15, then no error from 16 on
    errors = np.concatenate([[8000.0, 3000.0], tail, np.zeros(17)])
    assert np.log(errors[13] / 0.25) > 0.9 * np.log(errors[3] / errors[4])   # a big step onto the floor
    assert E.find_gap(ks, errors, error_below=20000.0) == 4


# --------------------------------------------------------------------------- warm start
def test_new_center_goes_to_shared_colors_not_to_heavy_noise():
    """A wide noise cloud of a few heavy points (a near-black color in OKLab)
    and two real colors sharing one center: the worst point by w * d2 is in
    the noise, but a center on the shared colors removes far more error."""
    noise = np.array([[0, 0, 0], [9, 0, 0], [0, 9, 0], [0, 0, 9]], np.float32)   # center at its mean
    a = np.array([[50, 50, 50]], np.float32) + np.random.default_rng(0).integers(-1, 2, (60, 3))
    b = np.array([[64, 50, 50]], np.float32) + np.random.default_rng(1).integers(-1, 2, (60, 3))
    X = np.ascontiguousarray(np.vstack([noise, a, b]).astype(np.float32))
    w = np.concatenate([np.full(4, 400.0), np.full(120, 100.0)])
    centers = np.array([noise.mean(0), np.vstack([a, b]).mean(0)], np.float32)
    lab = np.array([0] * 4 + [1] * 120)
    d2 = ((X - centers[lab]) ** 2).sum(1).astype(np.float32)
    assert int(np.argmax(w * d2)) < 4                        # the old choice: a noise point
    new = E._new_center(X, w, d2)
    assert new[0] >= 40                                      # one of the shared colors
    gain = np.empty(1, np.float64)
    E._candidate_gains(X, w, d2, np.ascontiguousarray(new[None, :]), gain)
    ref = float(w @ np.maximum(d2 - ((X - new) ** 2).sum(1), 0.0))
    assert gain[0] == pytest.approx(ref, rel=1e-9)
