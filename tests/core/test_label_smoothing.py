"""Label smoothing: kernels against brute-force references, and what quantize guarantees with it."""
import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from palette_app.core import QuantizeSettings, quantize, remap
from palette_app.core.label_smoothing import (
    CHANGE_COST,
    STRIP_ROWS,
    UP_CHANGE_COST,
    added_error,
    second_choices,
    smooth_rows,
)


# ---------------------------------------------------------------- second_choices
def _d2(X, C):
    return ((X[:, None, :].astype(np.float64) - C[None].astype(np.float64)) ** 2).sum(-1)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 300), st.integers(2, 40), st.integers(0, 2**31 - 1), st.floats(1.0, 5000.0))
def test_second_choices_against_brute_force(m, k, seed, limit):
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 256, (m, 3)).astype(np.float32)
    C = rng.integers(0, 256, (k, 3)).astype(np.float32)
    D = _d2(X, C)
    near = D.argmin(1)
    d_near = D[np.arange(m), near]
    fixed = rng.random(m) < 0.1
    alt, cost = second_choices(X, C, near, d_near.astype(np.float32), limit, fixed)
    D2 = D.copy()
    D2[np.arange(m), near] = np.inf
    gap = D2.min(1) - d_near
    for i in range(m):
        if fixed[i] or gap[i] >= limit * (1 + 1e-6):
            assert cost[i] == 255 and alt[i] == near[i]
        elif gap[i] < limit * (1 - 1e-6):
            assert cost[i] <= 254 and alt[i] != near[i]
            # A second-nearest entry (exact ties may pick either), its cost the rounded-up gap.
            assert D[i, alt[i]] == pytest.approx(D2[i].min(), abs=1e-2)
            assert abs(int(cost[i]) - np.ceil(gap[i] * 254 / limit)) <= 1
        if cost[i] < 255:
            # Never 'limit' or more worse than the nearest.
            assert D[i, alt[i]] - d_near[i] < limit * (1 + 1e-6)


def test_second_choices_one_entry_and_validation():
    X = np.zeros((3, 3), np.float32)
    alt, cost = second_choices(X, np.zeros((1, 3), np.float32), np.zeros(3, int), np.zeros(3), 10.0)
    assert alt.tolist() == [0, 0, 0] and cost.tolist() == [255, 255, 255]
    with pytest.raises(ValueError):
        second_choices(X, np.zeros((2, 3), np.float32), np.zeros(3, int), np.zeros(3), 0.0)
    with pytest.raises(ValueError):
        second_choices(X, np.zeros((2, 3), np.float32), np.full(3, 2), np.zeros(3), 1.0)
    with pytest.raises(ValueError):
        second_choices(X, np.zeros((2, 4), np.float32), np.zeros(3, int), np.zeros(3), 1.0)


def test_added_error_against_numpy():
    rng = np.random.default_rng(5)
    X = rng.random((500, 4), dtype=np.float32) * 100
    C = rng.random((7, 4), dtype=np.float32) * 100
    a, b = rng.integers(0, 7, 500), rng.integers(0, 7, 500)
    want = (_d2(X, C)[np.arange(500), b] - _d2(X, C)[np.arange(500), a]).sum()
    assert added_error(X, C, a, b) == pytest.approx(want, rel=1e-9)
    assert added_error(X[:0], C, a[:0], b[:0]) == 0.0


# ---------------------------------------------------------------- smooth_rows
def _row_cost(labels, near, alt, cost, up):
    """The objective one row minimises (integer units)."""
    total = 0
    for x, lab in enumerate(labels):
        if lab != near[x]:
            total += int(cost[x])
        if x and lab != labels[x - 1]:
            total += CHANGE_COST
        if up is not None and lab != up[x]:
            total += UP_CHANGE_COST
    return total


def _best_row_cost(near, alt, cost, up):
    """Minimum of the row objective over every choice (brute force)."""
    options = [(near[x],) if cost[x] == 255 else (near[x], alt[x]) for x in range(len(near))]
    return min(_row_cost(lab, near, alt, cost, up) for lab in itertools.product(*options))


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 5), st.integers(1, 9), st.integers(2, 5), st.integers(0, 2**31 - 1))
def test_smooth_rows_is_optimal_per_row(h, w, k, seed):
    rng = np.random.default_rng(seed)
    near = rng.integers(0, k, (h, w)).astype(np.uint8)
    alt = ((near + rng.integers(1, k, (h, w))) % k).astype(np.uint8)
    cost = rng.integers(0, 255, (h, w)).astype(np.uint8)
    cost[rng.random((h, w)) < 0.3] = 255
    out, changed = smooth_rows(near, alt, cost)
    # Every pixel takes its nearest or (when allowed) its second entry.
    assert np.all((out == near) | ((out == alt) & (cost < 255)))
    assert np.array_equal(np.flatnonzero(out.ravel() != near.ravel()), changed)
    # Each row reaches the minimum of its objective, given the row above.
    for y in range(h):
        up = out[y - 1] if y % STRIP_ROWS else (near[y - 1] if y else None)
        assert _row_cost(out[y], near[y], alt[y], cost[y], up) == _best_row_cost(near[y], alt[y], cost[y], up)
    # Packed form (both entries in one byte) gives the same result.
    out2, changed2 = smooth_rows(near | (alt << 4), None, cost, packed=True)
    assert np.array_equal(out, out2) and np.array_equal(changed, changed2)


def test_smooth_rows_joins_a_flickering_band_and_keeps_what_is_fixed():
    # A row flickering between 0 and 1 at zero cost becomes one run; fixed pixels stay.
    near = np.array([[0, 1, 0, 1, 0, 1, 0, 1]], np.uint8)
    alt = 1 - near
    cost = np.zeros_like(near)
    out, _ = smooth_rows(near, alt, cost)
    assert len(set(out[0].tolist())) == 1
    cost[0, 3] = 255
    out, _ = smooth_rows(near, alt, cost)
    assert out[0, 3] == 1 and np.all(out == 1)
    # Costly alternatives are not taken for a single change.
    cost[:] = 254
    out, changed = smooth_rows(np.array([[0, 0, 1, 1]], np.uint8), np.array([[1, 1, 0, 0]], np.uint8),
                               cost[:, :4])
    assert out.tolist() == [[0, 0, 1, 1]] and changed.size == 0


def test_smooth_rows_does_not_depend_on_the_thread_count():
    import numba

    rng = np.random.default_rng(1)
    h, w = 3 * STRIP_ROWS + 7, 50
    near = rng.integers(0, 4, (h, w)).astype(np.uint8)
    alt = ((near + 1) % 4).astype(np.uint8)
    cost = rng.integers(0, 256, (h, w)).astype(np.uint8)
    a, ca = smooth_rows(near, alt, cost)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        b, cb = smooth_rows(near, alt, cost)
    finally:
        numba.set_num_threads(before)
    assert np.array_equal(a, b) and np.array_equal(ca, cb)
    assert ca.size > 0


# ---------------------------------------------------------------- through quantize
def _nearest_table(img, pal):
    px = img.reshape(-1, 3).astype(np.int64)
    return ((px[:, None, :] - pal[None].astype(np.int64)) ** 2).sum(-1)


@pytest.mark.parametrize("k", [3, 4, 8])
def test_smoothed_pixels_stay_within_the_margin_of_nearest(astronaut, k):
    img = astronaut[::2, ::2]
    exact = quantize(img, k, smoothing=0.0)
    r = quantize(img, k, smoothing=0.5)
    assert r.settings["smoothing"] == 0.5 and exact.settings["smoothing"] == 0.0
    # Same palette (smoothing only relabels), possibly reordered by the new shares.
    assert sorted(map(tuple, r.palette.colors.tolist())) == sorted(map(tuple, exact.palette.colors.tolist()))
    n = img.shape[0] * img.shape[1]
    lam = 0.5 * exact.inertia / n
    d = _nearest_table(img, r.palette.colors)
    got = d[np.arange(n), r.indices.ravel()]
    extra = got - d.min(1)
    assert np.all(extra < 2 * lam + 1e-6)
    # Only nearest or second-nearest entries.
    second = np.sort(d, axis=1)[:, 1]
    assert np.all((extra == 0) | (got == second))
    changed = extra > 0
    assert 0.001 < changed.mean() < 0.2
    # Fewer index changes along rows; a small, honest error cost.
    def changes(idx):
        return int((idx[:, 1:] != idx[:, :-1]).sum())
    assert changes(r.indices) < 0.95 * changes(exact.indices)
    assert exact.psnr - 0.1 < r.psnr < exact.psnr
    # Metrics, counts and order agree with the pixels.
    assert r.inertia == pytest.approx(float(got.sum()), rel=1e-6)
    diff = img.astype(float) - r.to_rgb().astype(float)
    assert r.psnr == pytest.approx(10 * np.log10(255 ** 2 / (diff ** 2).mean()), abs=1e-6)
    from palette_app.core.metrics import mean_delta_e

    assert r.delta_e == pytest.approx(mean_delta_e(img, r.to_rgb()), rel=1e-9)
    assert np.array_equal(np.bincount(r.indices.ravel(), minlength=len(r.palette)), r.palette.counts)
    assert np.all(np.diff(r.palette.counts) <= 0)


def test_smoothing_default_is_automatic(china):
    assert QuantizeSettings(n_colors=8).effective_smoothing == 0.5
    assert QuantizeSettings(n_colors=9).effective_smoothing == 0.0
    assert QuantizeSettings(n_colors=4, dither="fs").effective_smoothing == 0.0
    assert QuantizeSettings(n_colors=200, smoothing=0.25).effective_smoothing == 0.25
    img = china[::3, ::3]
    auto = quantize(img, 4)
    assert auto.settings["smoothing"] == 0.5
    assert np.array_equal(auto.indices, quantize(img, 4, smoothing=0.5).indices)
    assert quantize(img, 16).settings["smoothing"] == 0.0


def test_automatic_smoothing_stays_within_its_error_budget():
    # Dark noise (many cheap near-ties) with rare colorful specks (which make
    # the mean error, and so λ, large): strength 0.5 would add 7 % to the MSE.
    rng = np.random.default_rng(0)
    img = np.clip(12 + rng.normal(0, 4, (160, 200, 1)).repeat(3, 2), 0, 255)
    specks = rng.random((160, 200)) < 0.03
    img[specks] = rng.integers(0, 256, (specks.sum(), 3))
    img = img.astype(np.uint8)
    exact = quantize(img, 8, smoothing=0.0)
    strong = quantize(img, 8, smoothing=0.5)
    auto = quantize(img, 8)
    assert strong.mse > 1.05 * exact.mse
    used = auto.settings["smoothing"]
    assert 0.01 <= used < 0.5
    assert exact.mse < auto.mse <= 1.01 * exact.mse
    # The recorded strength reproduces the result.
    again = quantize(img, 8, smoothing=used)
    assert np.array_equal(again.indices, auto.indices) and again.palette == auto.palette


@pytest.mark.parametrize("value,err", [(-0.1, ValueError), (1.5, ValueError), ("x", TypeError), (True, TypeError)])
def test_smoothing_setting_is_checked(value, err):
    with pytest.raises(err):
        quantize(np.zeros((4, 4, 3), np.uint8), 4, smoothing=value)


def test_smoothing_is_reproducible(china):
    a = quantize(china, 6, smoothing=0.7, random_state=3)
    b = quantize(china, 6, smoothing=0.7, random_state=3)
    assert a.palette == b.palette and np.array_equal(a.indices, b.indices)


def test_smoothing_never_moves_locked_color_pixels():
    # A flat gray 100 area sprinkled with single pixels of the locked gray 90,
    # next to a noisy area (which makes the margin wide): each locked pixel
    # interrupts a run of 100s and is close to it, cheap to relabel, but locked.
    rng = np.random.default_rng(0)
    h, w = 120, 160
    g = np.full((h, w), 100.0)
    g[:, w // 2:] = 160 + rng.normal(0, 25, (h, w - w // 2))
    spots = np.zeros((h, w), bool)
    spots[:, : w // 2] = rng.random((h, w // 2)) < 0.03
    g[spots] = 90
    img = np.clip(np.repeat(np.rint(g)[..., None], 3, axis=2), 0, 255).astype(np.uint8)
    r = quantize(img, 4, locked=["#5a5a5a"], smoothing=1.0)
    exact = quantize(img, 4, locked=["#5a5a5a"], smoothing=0.0)
    j = r.palette.hex.index("#5a5a5a")
    assert np.all(r.indices[spots] == j)
    # Those pixels were eligible: their second-nearest entry is within the margin 2 λ...
    lam = 1.0 * exact.inertia / (h * w)
    d = np.sort(((r.palette.colors.astype(float) - 90.0) ** 2).sum(1))
    assert d[0] == 0 and d[1] < 2 * lam
    # ... and smoothing did move other pixels.
    assert np.any(r.to_rgb() != exact.to_rgb())


def test_smoothing_keeps_transparency(astronaut):
    img = np.dstack([astronaut[::2, ::2], np.full((256, 256), 255, np.uint8)])
    img[:40, :, 3] = 0                       # transparent band
    img[40:60, :, 3] = 128                   # partially transparent band
    exact = quantize(img, 6, smoothing=0.0)
    r = quantize(img, 6, smoothing=1.0)
    t = r.transparent_index
    assert t is not None and r.palette.alpha[t] == 0
    assert np.all(r.indices[:40] == t) and np.all(r.indices[40:] != t)
    # Partially transparent pixels keep their exact entry (same RGBA as without smoothing).
    assert np.array_equal(r.to_rgba()[40:60], exact.to_rgba()[40:60])
    # ... while opaque ones were smoothed.
    assert np.any(r.to_rgba()[60:] != exact.to_rgba()[60:])


def test_no_smoothing_with_dithering_or_in_remap(china):
    img = china[::3, ::3]
    for kw in ({"dither": "ordered"}, {"dither": "fs"}):
        a = quantize(img, 4, smoothing=1.0, **kw)
        b = quantize(img, 4, smoothing=0.0, **kw)
        assert np.array_equal(a.indices, b.indices) and a.settings["smoothing"] == 0.0
    pal = quantize(img, 4, smoothing=0.0).palette
    r = remap(img, pal)
    d = _nearest_table(img, pal.colors)
    n = d.shape[0]
    assert np.array_equal(d[np.arange(n), r.indices.ravel()], d.min(1))


def test_exact_images_are_not_smoothed():
    img = np.zeros((20, 20, 3), np.uint8)
    img[:, ::2] = [200, 10, 10]
    img[::3, :] = [10, 10, 200]
    r = quantize(img, 4, smoothing=1.0)
    assert np.array_equal(r.to_rgb(), img) and r.psnr == np.inf


@pytest.mark.parametrize("k, locked", [(4, None), (8, None), (4, ["#ff0000"])])
def test_remap_with_automatic_smoothing_reproduces_quantize(astronaut, k, locked):
    """Mapping an image to the palette clustered on it, with smoothing=None,
    gives quantize's own indices (what the GUI's export relies on); the
    default remap stays exact nearest."""
    img = astronaut[::2, ::2]
    r = quantize(img, k, locked=locked)
    assert r.settings["smoothing"] > 0
    m = remap(img, r.palette, smoothing=None)
    assert np.array_equal(m.indices, r.indices)
    exact = remap(img, r.palette)
    assert exact.settings["smoothing"] == 0
    assert not np.array_equal(exact.indices, r.indices)
