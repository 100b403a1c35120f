"""Remap: the exact nearest palette entry for every pixel.

Work is done per distinct color (k-means labels or a nearest-entry search over
the histogram), then spread to pixels through a 2**24-entry lookup table, so a
12-megapixel photo costs one table read per pixel.
"""
from __future__ import annotations

import threading

import numpy as np
from numba import njit

from palette_app.core._config import JIT
from palette_app.core.histogram import check_image


@njit(**JIT)
def _fill_lut(colors, labels, lut):
    """lut[r << 16 | g << 8 | b] = label.

    colors : (m, 3) uint8 IN; labels : (m,) uint8 IN; lut : (2**24,) uint8 OUT
    """
    for j in range(colors.shape[0]):
        key = (np.int64(colors[j, 0]) << 16) | (np.int64(colors[j, 1]) << 8) | np.int64(colors[j, 2])
        lut[key] = labels[j]


@njit(**JIT)
def _clear_lut(colors, lut):
    """Zero the entries ``_fill_lut`` wrote (colors : (m, 3) uint8 IN; lut : INOUT)."""
    for j in range(colors.shape[0]):
        key = (np.int64(colors[j, 0]) << 16) | (np.int64(colors[j, 1]) << 8) | np.int64(colors[j, 2])
        lut[key] = 0


@njit(**JIT)
def _apply_lut(pix, alpha_threshold, lut, fill, out):
    """Index image through the lookup table.

    pix : (n, c) uint8 IN; alpha_threshold : int IN; lut : (2**24,) uint8 IN;
    fill : uint8 index for pixels with alpha below the threshold IN; out : (n,) uint8 OUT
    """
    # Serial on purpose: one table read per pixel is memory-bound, and on two
    # cores a parallel loop measured twice as slow as this one.
    n = pix.shape[0]
    c = pix.shape[1]
    for i in range(n):
        if c == 4 and np.int64(pix[i, 3]) < alpha_threshold:
            out[i] = fill
        else:
            key = (np.int64(pix[i, 0]) << 16) | (np.int64(pix[i, 1]) << 8) | np.int64(pix[i, 2])
            out[i] = lut[key]


def labels_to_indices(image: np.ndarray, colors: np.ndarray, labels: np.ndarray,
                      *, alpha_threshold: int = 1, fill: int = 0) -> np.ndarray:
    """Spread per-color labels to an (H, W) uint8 index image.

    image : (H, W, 3|4) uint8; colors : (m, 3) uint8 distinct colors of the
    image's kept pixels; labels : (m,) index of each color's palette entry.
    Pixels with alpha below ``alpha_threshold`` get ``fill``.
    """
    img = check_image(image)
    h, w, c = img.shape
    colors = np.ascontiguousarray(colors, np.uint8)
    lut = _thread_lut()
    _fill_lut(colors, np.ascontiguousarray(labels, np.uint8), lut)
    out = np.empty(h * w, np.uint8)
    try:
        _apply_lut(img.reshape(h * w, c), int(alpha_threshold), lut, np.uint8(fill), out)
    finally:
        _clear_lut(colors, lut)
    return out.reshape(h, w)


_local = threading.local()


def _thread_lut() -> np.ndarray:
    """A zeroed 2**24 table kept per thread: allocating and page-faulting 16 MiB
    each call cost more than the remap itself on a 1-MP preview."""
    lut = getattr(_local, "lut", None)
    if lut is None:
        lut = _local.lut = np.zeros(1 << 24, np.uint8)
    return lut


@njit(**JIT)
def _labels_from_points(colors, point_of, points, p_labels, p_upper, p_lower, slack, palette, labels, d2, todo):
    """Carry k-means labels from points (bins) to their colors where provably exact.

    colors : (m, d) float32; point_of : (m,) int32; points : (r, d) float32;
    p_labels : (r,) int32; p_upper, p_lower : (r,) float32 bounds on each
    point's distance to its center and to any other center; slack : float,
    the largest distance any center moved since (rounding to the palette)
    palette : implied by the caller through ``d2`` below                   # IN
    labels : (m,) uint8; d2 : unused here                                  # OUT
    todo : (m,) bool, colors that need a real search                       # OUT
    Returns the number of colors left to search.

    A color x of point p is within r = |x - p| of it, so its distance to any
    palette color other than p's is at least lower - r - slack; when its
    exact distance to p's palette color is strictly smaller, p's label is
    x's (ties fall through to the search, which picks the lowest index).
    """
    left = 0
    dim = colors.shape[1]
    for i in range(colors.shape[0]):
        p = point_of[i]
        r = 0.0
        for t in range(dim):
            diff = np.float64(colors[i, t]) - np.float64(points[p, t])
            r += diff * diff
        r = np.sqrt(r)
        lo = p_lower[p] - r - slack
        a = p_labels[p]
        # The exact distance to the point's own palette color, against a
        # lower bound on every other palette color.
        u = 0.0
        for t in range(dim):
            diff = np.float64(colors[i, t]) - np.float64(palette[a, t])
            u += diff * diff
        if np.sqrt(u) < lo:
            labels[i] = a
            d2[i] = u
            todo[i] = False
        else:
            todo[i] = True
            left += 1
    return left


def labels_via_points(colors, point_of, points, state, palette):
    """Exact nearest palette entry per color, reusing a k-means state on points.

    colors : (m, d) coordinates of the distinct colors in the clustering
    space; ``state`` is the :class:`~palette_app.core.kmeans.KMeansState` of a
    fit on ``points`` (r, d) (the reduced histogram); ``point_of`` maps each
    color to its point; palette : (k, d) the palette in the same space.
    Colors whose bounds prove the point's label exact take it; the others get
    a full nearest search. Returns (labels (m,) uint8, squared distances (m,)
    float32).
    """
    from palette_app.core.kmeans import assign_labels

    colors_f = np.ascontiguousarray(colors, np.float32)
    pal = np.ascontiguousarray(palette, np.float32)
    slack = float(np.sqrt(((pal - state.centers) ** 2).sum(axis=1)).max()) + 1e-3
    m = colors_f.shape[0]
    labels = np.empty(m, np.uint8)
    d2 = np.empty(m, np.float32)
    todo = np.empty(m, np.bool_)
    left = _labels_from_points(colors_f, np.ascontiguousarray(point_of, np.int32),
                               np.ascontiguousarray(points, np.float32), state.labels,
                               state.upper, state.lower, slack, pal, labels, d2, todo)
    if left:
        idx = np.flatnonzero(todo)
        lab, dd = assign_labels(colors_f[idx], pal)
        labels[idx] = lab
        d2[idx] = dd
    return labels, d2
