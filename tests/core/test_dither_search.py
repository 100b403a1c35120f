"""The nearest-entry search behind the dithers (palette_app.core.dither._Grid): exact against
brute force for awkward palettes and queries, on all three paths (4-entry word, 8-entry word,
coarse-list scan), with and without the image sample that decides where to split."""
from __future__ import annotations

import numpy as np
import pytest

from palette_app.core import dither as D


def _brute(points, pal):
    """Plain numpy: float64 squared distances, lowest index among equal ones."""
    d2 = ((np.asarray(points, np.float64)[:, None, :] - pal.astype(np.float64)[None]) ** 2).sum(-1)
    return d2.argmin(1)


def _search(points, pal, image=None, reach=0.0):
    """The kernels' answer for each point (N, 3), through the plain nearest remap."""
    grid = D._Grid(pal, reach, image)
    img = np.ascontiguousarray(np.asarray(points, np.float32)[:, None, :])
    out, bad = D._nearest_image(img, grid, None, 0)
    assert bad == 0
    return out[:, 0].astype(np.int64), grid


def _palettes():
    rng = np.random.default_rng(30)
    yield "uniform 256", (rng.random((256, 3)) * 255).astype(np.float32)
    yield "dense dark corner", (rng.random((256, 3)) ** 3 * 255).astype(np.float32)
    yield "one", np.array([[10, 20, 30]], np.float32)
    yield "all the same", np.full((7, 3), 42.0, np.float32)
    dup = (rng.random((40, 3)) * 255).astype(np.float32)
    yield "duplicates", np.concatenate([dup, dup[::-1]])
    t = rng.random(30)
    yield "on a line", (np.array([10, 200, 60]) + t[:, None] * np.array([200, -150, 30])).astype(np.float32)
    yield "flat in one axis", np.column_stack([rng.random((50, 2)) * 255, np.full(50, 7.0)]).astype(np.float32)
    yield "OKLab-like scale", ((rng.random((128, 3)) - [0, 0.5, 0.5]) * [100, 40, 40]).astype(np.float32)


@pytest.mark.parametrize("name,pal", list(_palettes()), ids=[n for n, _ in _palettes()])
def test_search_is_exact_for_awkward_palettes(name, pal):
    rng = np.random.default_rng(31)
    lo = pal.min(0) - 50
    hi = pal.max(0) + 50
    pts = np.concatenate([
        lo + rng.random((4000, 3)) * (hi - lo),            # around the palette
        pal[rng.integers(0, len(pal), 500)] + rng.normal(0, 0.5, (500, 3)),   # near entries
        rng.normal(0, 1e5, (200, 3)),                      # far outside
    ])
    got, _ = _search(pts, pal)
    assert np.array_equal(got, _brute(pts, pal))


def test_image_sample_changes_speed_not_answers():
    # Splitting only where a sample of the image lands: queries anywhere else
    # (here all over the box) are still answered exactly, by longer lists.
    rng = np.random.default_rng(32)
    pal = (rng.random((256, 3)) ** 2 * 255).astype(np.float32)
    image = (rng.random((64, 64, 3)) * 40).astype(np.float32)   # dark pixels only
    pts = rng.random((20000, 3)) * 300 - 20
    plain, g_all = _search(pts, pal)
    sampled, g_img = _search(pts, pal, image=image, reach=5.0)
    assert np.array_equal(plain, sampled)
    assert np.array_equal(plain, _brute(pts, pal))
    assert g_img.words.size < g_all.words.size


def test_long_lists_are_scanned_exactly():
    # Entries on a sphere around a point: near the center more than eight of
    # them can be nearest, so the query scans the coarse list.
    rng = np.random.default_rng(33)
    v = rng.normal(size=(40, 3))
    pal = (128 + 60 * v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)
    pts = 128 + rng.normal(0, 3, (5000, 3))
    got, grid = _search(pts, pal)
    assert np.array_equal(got, _brute(pts, pal))
    assert grid.query_kinds(pts)[2] > 0.1


def test_ties_between_distinct_entries_go_to_the_lowest_index():
    # Integer palette and points halfway between entries: exact float64 ties.
    pal = np.array([[0, 0, 0], [2, 0, 0], [0, 2, 0], [2, 2, 0], [1, 1, 2], [1, 1, -2]], np.float32)
    g = np.arange(-1, 4, 0.5)
    pts = np.stack(np.meshgrid(g, g, g, indexing="ij"), -1).reshape(-1, 3)
    got, _ = _search(pts, pal)
    assert np.array_equal(got, _brute(pts, pal))


def test_query_kinds_on_a_photo_like_palette():
    # Most queries near a dense palette end in a 4-entry word.
    rng = np.random.default_rng(34)
    pal = (rng.random((256, 3)) * 255).astype(np.float32)
    pts = pal[rng.integers(0, 256, 20000)] + rng.normal(0, 4, (20000, 3))
    four, _, scan = D._Grid(pal, 10.0, pts.reshape(-1, 1, 3).astype(np.float32)).query_kinds(pts)
    assert four > 0.7 and scan < 0.01
