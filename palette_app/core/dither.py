"""Dithering in the clustering space: Floyd–Steinberg, ordered (Bayer 8×8), and a smoothness mask.

Every function here works on pixel coordinates already converted to the
clustering space (:func:`palette_app.core.colorspace.to_space`) and on the
palette in that same space; which space it is does not matter.

Three tiers, as everywhere in :mod:`palette_app.core`: the public, validating
:func:`dither_fs`, :func:`dither_ordered`, :func:`smooth_mask` and
:func:`nearest_indices`; private ``_`` functions that assume valid input; and
``@njit`` kernels that take preallocated outputs.

Exact nearest search
--------------------
Each pixel's (error-adjusted) color needs the exact nearest palette entry
(smallest squared Euclidean distance in float64, lowest index among equal
distances), and a brute-force search over 256 entries per pixel would cost
more than everything else together. :class:`_Grid` splits a box around the
palette into at most ``_GRID_CELLS`` cubic cells and keeps, per cell, the
entries that can be nearest to *some* point of that cell: entry ``c`` is
dropped only when, for one of the two entries ``p`` nearest the cell's
center, the bisector of ``p`` and ``c`` leaves the whole cell on ``p``'s side
(a linear test at the cell's corners; a small tolerance keeps borderline
entries, so rounding can never drop the true nearest). The outermost cells
extend to infinity, so every query, however far outside the palette, has a
valid list. Lists are built coarse to fine (halving the cell side; a cell
tests only its parent's list) in increasing palette order, so a query is a
cell index and a few distances, and the strict ``<`` keeps the lowest index.

Why not faster
--------------
Floyd–Steinberg is sequential along a row (each pixel needs its left
neighbour's error), and error-adjusted colors sit, by design, near the
boundaries between palette entries, so most queries need two or more
distances: no cache of "this cell is always entry j" helps (measured on a
12-MP photo with 256 colors: even with cells of 0.5 sRGB levels, only 59 % of
the queries fell in a cell proven single). The remaining lever is running
independent strips of rows in parallel (``FS_STRIP``).
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from palette_app.core._config import JIT, JIT_PARALLEL, PARALLEL_LOCK

#: At most this many cells in the nearest-search grid (128 per palette entry
#: below that). Measured on a 12-MP photo with 256 colors: the grid builds in
#: ~12 ms with ~7 entries per cell; grids from 4k to 128k cells gave the same
#: Floyd–Steinberg time within 10 %, the bigger ones building slower.
_GRID_CELLS = 1 << 15

#: Each coordinate of the error a pixel passes on is clamped to this many
#: palette spreads (see :func:`palette_spread`). Measured on china.jpg at 8-256
#: colors in sRGB and OKLab: 1 gives a lower blurred error than no clamp and
#: than 0.5, and far fewer outlier pixels than 2 or no clamp (see the README).
FS_MAX_ERROR = 1.0

#: Rows per independent Floyd–Steinberg strip (strips run in parallel), and
#: the rows each strip runs, and discards, above its first row so that it
#: starts with a realistic error state instead of none.
FS_STRIP = 256
FS_WARMUP = 16


def _bayer(n: int) -> np.ndarray:
    """The n×n Bayer index matrix (n a power of two), values 0 .. n*n - 1."""
    m = np.zeros((1, 1), np.int64)
    while m.shape[0] < n:
        m = np.block([[4 * m, 4 * m + 2], [4 * m + 3, 4 * m + 1]])
    return m


#: Bayer 8×8 thresholds in (0, 1): (index + 0.5) / 64.
BAYER8 = (_bayer(8) + 0.5) / 64.0


# -- nearest search -------------------------------------------------------------------

@njit(**JIT)
def _box_bounds(i, n, lo, h):
    """Bounds of cell ``i`` of ``n`` along one axis; the end cells are unbounded."""
    a = -np.inf if i == 0 else lo + i * h
    b = np.inf if i == n - 1 else lo + (i + 1) * h
    return a, b


@njit(**JIT)
def _may_win(pal, p, c, a0, b0, a1, b1, a2, b2, tol):
    """Whether palette entry ``c`` is at least as close as ``p`` somewhere in the box.

    |x - c|^2 <= |x - p|^2  <=>  2 x.(p - c) <= |p|^2 - |c|^2; the left side
    is linear in x, so its minimum over the box sits at a corner (or is -inf
    along an unbounded side).
    """
    lhs = 0.0
    rhs = 0.0
    for d in range(3):
        pd = np.float64(pal[p, d])
        cd = np.float64(pal[c, d])
        w = 2.0 * (pd - cd)
        rhs += pd * pd - cd * cd
        if d == 0:
            a, b = a0, b0
        elif d == 1:
            a, b = a1, b1
        else:
            a, b = a2, b2
        if w > 0.0:
            if a == -np.inf:
                return True
            lhs += w * a
        elif w < 0.0:
            if b == np.inf:
                return True
            lhs += w * b
    return lhs <= rhs + tol


#: Entries nearest a cell's center that every other entry is tested against.
_NDOM = 2


@njit(**JIT)
def _prune(pal, src, s, e, a0, b0, a1, b1, a2, b2, x0, x1, x2, tol, dom, dd, dst, pos):
    """Append to dst[pos:] the entries of src[s:e] that may be nearest somewhere in the box.

    An entry is dropped when, for one of the ``_NDOM`` entries nearest to the
    box's center x, the bisector leaves the whole box on that entry's side
    (a necessary condition for winning anywhere in the box fails).
    dom : (_NDOM,) int64, dd : (_NDOM,) float64  # scratch
    Returns the new pos.
    """
    nd = 0
    for q in range(s, e):
        j = np.int64(src[q])
        d0 = x0 - pal[j, 0]
        d1 = x1 - pal[j, 1]
        d2 = x2 - pal[j, 2]
        d = d0 * d0 + d1 * d1 + d2 * d2
        if nd < dom.shape[0]:
            t = nd
            nd += 1
        elif d < dd[nd - 1]:
            t = nd - 1
        else:
            continue
        while t > 0 and dd[t - 1] > d:
            dd[t] = dd[t - 1]
            dom[t] = dom[t - 1]
            t -= 1
        dd[t] = d
        dom[t] = j
    for q in range(s, e):
        c = np.int64(src[q])
        keep = True
        for r in range(nd):
            p = dom[r]
            if p != c and not _may_win(pal, p, c, a0, b0, a1, b1, a2, b2, tol):
                keep = False
                break
        if keep:
            dst[pos] = c
            pos += 1
    return pos


@njit(**JIT)
def _refine(pal, lo, h, dims, pdims, pstarts, pcands, tol):
    """Candidate lists of every cell of a grid, from those of a grid twice as coarse.

    pal : (k, 3) float64           # IN palette in the clustering space
    lo : (3,) float64              # IN lower corner of the finite part of both grids
    h : float                      # IN cell side of this grid (the coarse one's is 2 h)
    dims : (3,) int64              # IN cells per axis here; pdims = ceil(dims / 2) there
    pstarts, pcands                # IN the coarse grid's lists (a single cell listing
                                   #    every entry to start from)
    tol : float                    # IN slack of the bisector test (keeps borderline entries)
    Returns (starts (ncells + 1,) int64, cands (starts[-1],) uint8): cell
    (i, j, l) = (i * dims[1] + j) * dims[2] + l lists cands[starts[c]:starts[c + 1]],
    in increasing palette order. Only a parent's entries can win inside its
    children, so each child tests its parent's list.
    """
    n0, n1, n2 = dims[0], dims[1], dims[2]
    p1, p2 = pdims[1], pdims[2]
    dom = np.empty(_NDOM, np.int64)
    dd = np.empty(_NDOM, np.float64)
    ncell = n0 * n1 * n2
    starts = np.zeros(ncell + 1, np.int64)
    cap = ncell * 8 + pal.shape[0]
    cands = np.empty(cap, np.uint8)
    pos = 0
    for i in range(n0):
        a0, b0 = _box_bounds(i, n0, lo[0], h)
        x0 = lo[0] + (i + 0.5) * h
        for j in range(n1):
            a1, b1 = _box_bounds(j, n1, lo[1], h)
            x1 = lo[1] + (j + 0.5) * h
            for l in range(n2):
                a2, b2 = _box_bounds(l, n2, lo[2], h)
                x2 = lo[2] + (l + 0.5) * h
                parent = ((i // 2) * p1 + j // 2) * p2 + l // 2
                s = pstarts[parent]
                e = pstarts[parent + 1]
                if pos + (e - s) > cap:
                    cap = 2 * cap + (e - s)
                    grown = np.empty(cap, np.uint8)
                    grown[:pos] = cands[:pos]
                    cands = grown
                pos = _prune(pal, pcands, s, e, a0, b0, a1, b1, a2, b2, x0, x1, x2, tol, dom, dd,
                             cands, pos)
                starts[(i * n1 + j) * n2 + l + 1] = pos
    return starts, cands[:pos].copy()


def _build_grid(pal, lo, h, dims, tol):
    """Candidate lists of the grid (see :func:`_refine`), built coarse to fine
    by halving the cell side, starting from one cell that lists every entry."""
    levels = [np.asarray(dims, np.int64)]
    while levels[-1].max() > 1:
        levels.append((levels[-1] + 1) // 2)
    k = pal.shape[0]
    starts = np.array([0, k], np.int64)
    cands = np.arange(k).astype(np.uint8)
    for depth in range(len(levels) - 2, -1, -1):
        starts, cands = _refine(pal, lo, h * 2.0 ** depth, levels[depth], levels[depth + 1],
                                starts, cands, tol)
    return starts, cands


@njit(**JIT)
def _cell(v, lo, inv_h, n):
    """Grid coordinate of v along one axis, clamped into 0..n-1 (NaN goes to 0)."""
    f = (v - lo) * inv_h
    if f >= n - 1:
        return n - 1
    if f >= 1.0:
        return np.int64(f)
    return 0


@njit(**JIT)
def _nearest(x0, x1, x2, pal, g, n0, n1, n2, starts, cands):
    """Exact nearest palette entry to (x0, x1, x2): lowest index among equal distances.

    pal : (k, 3) float64        # IN
    g : (4,) float64            # IN grid lower corner (3) and inverse cell side
    n0, n1, n2 : int            # IN cells per axis
    starts, cands               # IN the cells' candidate lists (see _build_grid)
    """
    c = np.uintp((_cell(x0, g[0], g[3], n0) * n1 + _cell(x1, g[1], g[3], n1)) * n2
                 + _cell(x2, g[2], g[3], n2))
    # Unsigned indices: no negative-index wraparound code in the hot loop.
    s = np.uintp(starts[c])
    e = np.uintp(starts[c + np.uintp(1)])
    best = np.uintp(cands[s])
    if e - s > np.uintp(1):
        bd = np.inf
        for q in range(s, e):
            j = np.uintp(cands[q])
            d0 = x0 - pal[j, np.uintp(0)]
            d1 = x1 - pal[j, np.uintp(1)]
            d2 = x2 - pal[j, np.uintp(2)]
            dd = d0 * d0 + d1 * d1 + d2 * d2
            # Lists are in increasing palette order, so '<' keeps the lowest index on ties.
            better = dd < bd
            best = j if better else best
            bd = dd if better else bd
    return best


class _Grid:
    """The nearest-search grid of one palette (see the module docstring)."""

    def __init__(self, palette: np.ndarray):
        pal = np.ascontiguousarray(palette, np.float64)
        self.pal = pal
        pmin = pal.min(axis=0)
        pmax = pal.max(axis=0)
        scale = float(np.abs(pal).max()) + 1.0
        # A margin around the palette's box so queries a little outside it
        # still land in small cells; beyond it the end cells are unbounded.
        margin = max(float((pmax - pmin).max()) / 8.0, 1e-3 * scale)
        lo = pmin - margin
        ext = (pmax + margin) - lo
        ncells = min(_GRID_CELLS, max(512, 128 * pal.shape[0]))
        h = float(np.cbrt(np.prod(ext) / ncells))
        h = max(h, float(ext.max()) / 256.0)
        dims = np.maximum(1, np.ceil(ext / h)).astype(np.int64)
        self.dims = dims
        #: lower corner and inverse cell side, as the kernels take them
        self.g = np.array([lo[0], lo[1], lo[2], 1.0 / h])
        # Rounding in a squared distance is ~1e-16 of it; this slack is far larger.
        tol = 1e-9 * (scale + margin) ** 2 * 16.0
        self.starts, self.cands = _build_grid(pal, np.ascontiguousarray(lo), h, dims, tol)

    def args(self):
        """(pal, g, n0, n1, n2, starts, cands): the grid as the kernels take it."""
        d = self.dims
        return self.pal, self.g, int(d[0]), int(d[1]), int(d[2]), self.starts, self.cands

    def mean_candidates(self) -> float:
        return float(self.cands.size) / float(self.starts.size - 1)


# -- kernels -----------------------------------------------------------------------

@njit(**JIT)
def _finite3(a, b, c):
    return abs(a) + abs(b) + abs(c) < np.inf


@njit(**JIT)
def _fs_strip(img, pal, g, n0, n1, n2, starts, cands, strength, serpentine, edge, use_edge,
              alpha, use_alpha, tindex, max_err, y0, y_out, y1, err, out):
    """Floyd–Steinberg over rows y0 .. y1-1, writing rows y_out .. y1-1 of ``out``.

    img : (H, W, 3) float32          # IN
    pal, g, n0, n1, n2, starts, cands : the grid (_Grid.args)  # IN
    strength : float                 # IN gain on the error each pixel receives
    serpentine : bool                # IN odd rows right to left (by absolute row,
                                     #    so a strip scans as the whole image would)
    edge : (H, W) float32, or (1, 1) when not use_edge  # IN per-pixel gain
    alpha : (H, W) bool, or (1, 1) when not use_alpha   # IN transparent pixels
    tindex : uint8                   # IN index for transparent pixels
    max_err : float                  # IN clamp of each coordinate of a pixel's outgoing error (inf: none)
    err : (2 * (W + 2) * 3,) float64 # scratch: error for this row and the next, slot x + 1 for pixel x
    out : (H, W) uint8               # OUT rows y_out .. y1-1
    Returns the number of opaque pixels whose error-adjusted color was not finite.
    """
    wid = img.shape[1]
    row3 = (wid + 2) * 3
    w7 = 7.0 / 16.0
    w5 = 5.0 / 16.0
    w3 = 3.0 / 16.0
    w1 = 1.0 / 16.0
    lim = max_err
    bad = 0
    # The first row of a run gets no error from above.
    for t in range((y0 & 1) * row3, (y0 & 1) * row3 + row3):
        err[t] = 0.0
    for y in range(y0, y1):
        cur = (y & 1) * row3
        nxt = row3 - cur
        # Slots the row's first pixel adds to; every other slot's first write is '='.
        for d in range(6):
            err[nxt + d] = 0.0
            err[nxt + row3 - 6 + d] = 0.0
        fwd = (not serpentine) or (y & 1) == 0
        keep = y >= y_out
        c0 = 0.0
        c1 = 0.0
        c2 = 0.0
        for step in range(wid):
            x = step if fwd else wid - 1 - step
            # Slots (times 3) of pixel x, of the pixel ahead in scan order, and behind.
            sm = (x + 1) * 3
            sa = sm + 3 if fwd else sm - 3
            sb = sm - 3 if fwd else sm + 3
            if use_alpha and alpha[y, x]:
                # Excluded: the error meant for it is dropped, and it sends none.
                if keep:
                    out[y, x] = tindex
                c0 = 0.0
                c1 = 0.0
                c2 = 0.0
                err[nxt + sa] = 0.0
                err[nxt + sa + 1] = 0.0
                err[nxt + sa + 2] = 0.0
                continue
            gain = strength
            if use_edge:
                gain = gain * np.float64(edge[y, x])
            # Error from the row above (complete) plus 7/16 from the previous pixel.
            t0 = np.float64(img[y, x, 0]) + gain * (err[cur + sm] + c0)
            t1 = np.float64(img[y, x, 1]) + gain * (err[cur + sm + 1] + c1)
            t2 = np.float64(img[y, x, 2]) + gain * (err[cur + sm + 2] + c2)
            j = _nearest(t0, t1, t2, pal, g, n0, n1, n2, starts, cands)
            if keep:
                out[y, x] = j
            e0 = t0 - pal[j, 0]
            e1 = t1 - pal[j, 1]
            e2 = t2 - pal[j, 2]
            if not _finite3(e0, e1, e2):
                bad += 1
                e0 = 0.0
                e1 = 0.0
                e2 = 0.0
            # Clamp each coordinate (branch-free min/max; a no-op when lim is inf).
            e0 = min(max(e0, -lim), lim)
            e1 = min(max(e1, -lim), lim)
            e2 = min(max(e2, -lim), lim)
            c0 = e0 * w7
            c1 = e1 * w7
            c2 = e2 * w7
            err[nxt + sb] += e0 * w3
            err[nxt + sb + 1] += e1 * w3
            err[nxt + sb + 2] += e2 * w3
            err[nxt + sm] += e0 * w5
            err[nxt + sm + 1] += e1 * w5
            err[nxt + sm + 2] += e2 * w5
            err[nxt + sa] = e0 * w1
            err[nxt + sa + 1] = e1 * w1
            err[nxt + sa + 2] = e2 * w1
    return bad


@njit(**JIT_PARALLEL)
def _fs_strips(img, pal, g, n0, n1, n2, starts, cands, strength, serpentine, edge, use_edge,
               alpha, use_alpha, tindex, max_err, strip, warmup, bad, out):
    """Floyd–Steinberg in independent horizontal strips, in parallel.

    Arguments as :func:`_fs_strip`, plus
    strip, warmup : int             # IN rows per strip; rows each strip runs (and
                                    #    discards) above its first row
    bad : (n_strips,) int64         # OUT non-finite count per strip
    out : (H, W) uint8              # OUT
    """
    hgt = img.shape[0]
    wid = img.shape[1]
    ns = (hgt + strip - 1) // strip
    for s in prange(ns):
        err = np.empty(2 * (wid + 2) * 3)
        y_out = s * strip
        bad[s] = _fs_strip(img, pal, g, n0, n1, n2, starts, cands, strength, serpentine, edge,
                           use_edge, alpha, use_alpha, tindex, max_err, max(0, y_out - warmup),
                           y_out, min(hgt, y_out + strip), err, out)


@njit(**JIT)
def _ordered_rows(img, pal, g, n0, n1, n2, starts, cands, offsets, edge, use_edge,
                  alpha, use_alpha, tindex, ya, yb, out):
    """Ordered dithering of rows ya .. yb-1.

    img : (H, W, 3) float32          # IN
    pal, g, n0, n1, n2, starts, cands : the grid (_Grid.args)  # IN
    offsets : (8, 8, 3) float64      # IN offset added at (y % 8, x % 8)
    edge : (H, W) float32, or (1, 1) when not use_edge  # IN per-pixel gain on the offset
    alpha : (H, W) bool, or (1, 1) when not use_alpha   # IN transparent pixels
    tindex : uint8                   # IN
    out : (H, W) uint8               # OUT rows ya .. yb-1
    Returns the number of opaque pixels with non-finite coordinates.
    """
    wid = img.shape[1]
    bad = 0
    for y in range(ya, yb):
        yy = y & 7
        for x in range(wid):
            if use_alpha and alpha[y, x]:
                out[y, x] = tindex
                continue
            gain = 1.0
            if use_edge:
                gain = np.float64(edge[y, x])
            xx = x & 7
            x0 = np.float64(img[y, x, 0]) + gain * offsets[yy, xx, 0]
            x1 = np.float64(img[y, x, 1]) + gain * offsets[yy, xx, 1]
            x2 = np.float64(img[y, x, 2]) + gain * offsets[yy, xx, 2]
            if not _finite3(x0, x1, x2):
                bad += 1
            out[y, x] = _nearest(x0, x1, x2, pal, g, n0, n1, n2, starts, cands)
    return bad


@njit(**JIT_PARALLEL)
def _ordered_kernel(img, pal, g, n0, n1, n2, starts, cands, offsets, edge, use_edge,
                    alpha, use_alpha, tindex, bad, out):
    """Ordered dithering, blocks of 8 rows in parallel (arguments as :func:`_ordered_rows`).

    bad : ((H + 7) // 8,) int64      # OUT non-finite count per block
    """
    hgt = img.shape[0]
    nblocks = (hgt + 7) // 8
    for b in prange(nblocks):
        bad[b] = _ordered_rows(img, pal, g, n0, n1, n2, starts, cands, offsets, edge, use_edge,
                               alpha, use_alpha, tindex, b * 8, min(hgt, b * 8 + 8), out)


#: Contrast (sRGB levels, the larger second difference of the 3x3 cross) at
#: which :func:`smooth_mask` reaches 0.
SMOOTH_EDGE_LEVELS = 32.0


@njit(**JIT)
def _smooth_rows(img, ya, yb, inv_levels, out):
    """smooth_mask of rows ya .. yb-1.

    img : (H, W, C >= 3) uint8        # IN sRGB
    inv_levels : float                # IN 1 / SMOOTH_EDGE_LEVELS
    out : (H, W) float32              # OUT rows ya .. yb-1
    """
    hgt = img.shape[0]
    wid = img.shape[1]
    for y in range(ya, yb):
        # At the borders the missing neighbour is extrapolated linearly, which
        # makes that axis's second difference 0: clamp both neighbours to y.
        vert = 0 < y < hgt - 1
        yu = y - 1 if vert else y
        yd = y + 1 if vert else y
        for x in range(wid):
            horiz = 0 < x < wid - 1
            xl = x - 1 if horiz else x
            xr = x + 1 if horiz else x
            e = 0
            for c in range(3):
                c2 = 2 * np.int32(img[y, x, c])
                hz = abs(np.int32(img[y, xl, c]) + np.int32(img[y, xr, c]) - c2)
                vt = abs(np.int32(img[yu, x, c]) + np.int32(img[yd, x, c]) - c2)
                e = max(e, max(hz, vt))
            out[y, x] = max(np.float32(0.0), np.float32(1.0 - e * inv_levels))


@njit(**JIT_PARALLEL)
def _smooth_kernel(img, inv_levels, out):
    """smooth_mask, blocks of rows in parallel (arguments as :func:`_smooth_rows`)."""
    hgt = img.shape[0]
    nblocks = (hgt + 15) // 16
    for b in prange(nblocks):
        _smooth_rows(img, b * 16, min(hgt, b * 16 + 16), inv_levels, out)


# -- private tier (valid input assumed) ---------------------------------------------

_DUMMY_EDGE = np.ones((1, 1), np.float32)
_DUMMY_ALPHA = np.zeros((1, 1), np.bool_)


def palette_spread(palette_space: np.ndarray) -> float:
    """The palette's typical spacing: the median distance from each entry to
    its nearest *different* entry (0 for a palette of one color)."""
    pal = np.asarray(palette_space, np.float64)
    if pal.shape[0] < 2:
        return 0.0
    d2 = ((pal[:, None, :] - pal[None, :, :]) ** 2).sum(-1)
    d2[d2 == 0.0] = np.inf
    nn = np.sqrt(d2.min(axis=1))
    nn = nn[np.isfinite(nn)]
    return float(np.median(nn)) if nn.size else 0.0


def _principal_axis(pal: np.ndarray) -> np.ndarray:
    """Unit vector along which the palette varies most (sign fixed: largest component > 0)."""
    p = np.asarray(pal, np.float64)
    if p.shape[0] < 2:
        return np.array([1.0, 0.0, 0.0])
    q = p - p.mean(axis=0)
    w, v = np.linalg.eigh(q.T @ q)
    u = v[:, int(np.argmax(w))]
    if u[int(np.argmax(np.abs(u)))] < 0:
        u = -u
    return u / np.linalg.norm(u)


def _masks(edge_mask, alpha_mask):
    edge = _DUMMY_EDGE if edge_mask is None else edge_mask
    alpha = _DUMMY_ALPHA if alpha_mask is None else alpha_mask
    return edge, edge_mask is not None, alpha, alpha_mask is not None


_ZERO_OFFSETS = np.zeros((8, 8, 3))


def _nearest_image(img, grid: _Grid, alpha_mask, tindex) -> tuple[np.ndarray, int]:
    """Nearest-color indices; returns (indices (H, W) uint8, non-finite pixel count).

    The ordered kernel with zero offsets (x + 0.0 is x exactly): one kernel
    less to compile.
    """
    return _run_ordered(img, grid, _ZERO_OFFSETS, None, alpha_mask, tindex)


def _floyd_steinberg(img, pal, strength, serpentine, edge_mask, alpha_mask, tindex, max_err,
                     grid: _Grid | None = None, strip: int | None = None) -> tuple[np.ndarray, int]:
    """Floyd–Steinberg (valid, C-contiguous input assumed); ``max_err=inf`` disables the clamp.

    ``strip`` rows per independent strip (default ``FS_STRIP``; the image's
    height or more gives one serial pass). Returns (indices (H, W) uint8,
    number of opaque pixels whose error-adjusted color was not finite).
    """
    g = grid if grid is not None else _Grid(pal)
    h = img.shape[0]
    strip = FS_STRIP if strip is None else max(1, int(strip))
    ns = max(1, -(-h // strip))
    bad = np.zeros(ns, np.int64)
    edge, use_edge, alpha, use_alpha = _masks(edge_mask, alpha_mask)
    out = np.empty(img.shape[:2], np.uint8)
    with PARALLEL_LOCK:
        _fs_strips(img, *g.args(), float(strength), bool(serpentine), edge, use_edge, alpha,
                   use_alpha, np.uint8(tindex), float(max_err), strip, FS_WARMUP, bad, out)
    return out, int(bad.sum())


def _ordered(img, pal, strength, edge_mask, alpha_mask, tindex,
             grid: _Grid | None = None) -> tuple[np.ndarray, int]:
    """Ordered dithering; returns (indices (H, W) uint8, non-finite pixel count)."""
    g = grid if grid is not None else _Grid(pal)
    amp = float(strength) * palette_spread(pal)
    offsets = np.ascontiguousarray((BAYER8 - 0.5)[:, :, None] * amp * _principal_axis(pal)[None, None, :])
    return _run_ordered(img, g, offsets, edge_mask, alpha_mask, tindex)


def _run_ordered(img, g: _Grid, offsets, edge_mask, alpha_mask, tindex) -> tuple[np.ndarray, int]:
    h, w = img.shape[:2]
    out = np.empty((h, w), np.uint8)
    bad = np.zeros((h + 7) // 8, np.int64)
    edge, use_edge, alpha, use_alpha = _masks(edge_mask, alpha_mask)
    with PARALLEL_LOCK:
        _ordered_kernel(img, *g.args(), offsets, edge, use_edge, alpha, use_alpha, np.uint8(tindex),
                        bad, out)
    return out, int(bad.sum())


def _raise_if_bad(bad: int) -> None:
    if bad:
        raise ValueError(f"image_space has {bad} opaque pixel(s) with NaN or infinite coordinates")


# -- public API ----------------------------------------------------------------------

def _check_image_space(image_space) -> np.ndarray:
    x = np.asarray(image_space)
    if x.ndim != 3 or x.shape[2] != 3:
        raise ValueError(f"image_space must be an (H, W, 3) array, got shape {x.shape}")
    if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
        raise ValueError(f"image_space must hold real numbers, got {x.dtype}")
    # Writeable too: a read-only input would compile a second specialization.
    return np.require(x, np.float32, ("C", "W"))


def _check_palette_space(palette_space) -> np.ndarray:
    p = np.asarray(palette_space)
    if p.ndim != 2 or p.shape[1] != 3 or not 1 <= p.shape[0] <= 256:
        raise ValueError(f"palette_space must be a (k, 3) array with 1 <= k <= 256, got shape {p.shape}")
    if not (np.issubdtype(p.dtype, np.floating) or np.issubdtype(p.dtype, np.integer)):
        raise ValueError(f"palette_space must hold real numbers, got {p.dtype}")
    p = np.ascontiguousarray(p, np.float32)
    if not np.isfinite(p).all():
        raise ValueError("palette_space contains NaN or infinite values")
    return p


def _check_strength(strength) -> float:
    try:
        s = float(strength)
    except (TypeError, ValueError):
        raise ValueError(f"strength must be a number between 0 and 1, got {strength!r}") from None
    if not 0.0 <= s <= 1.0:
        raise ValueError(f"strength must be between 0 and 1, got {strength!r}")
    return s


def _check_mask(mask, shape, what: str, dtype):
    if mask is None:
        return None
    m = np.asarray(mask)
    if m.shape != shape:
        raise ValueError(f"{what} must have the image's shape {shape}, got {m.shape}")
    if dtype is np.bool_:
        if m.dtype != np.bool_:
            raise ValueError(f"{what} must be a bool array, got {m.dtype}")
        m = np.require(m, np.bool_, ("C", "W"))
        return m if m.any() else None
    if not np.issubdtype(m.dtype, np.floating):
        raise ValueError(f"{what} must be a float array with values in [0, 1], got {m.dtype}")
    m = np.require(m, np.float32, ("C", "W"))
    # min/max propagate NaN, which then fails both comparisons.
    if m.size and not (float(m.min()) >= 0.0 and float(m.max()) <= 1.0):
        raise ValueError(f"{what} values must lie in [0, 1] (NaN is not allowed)")
    return m


def _check_index(transparent_index) -> int:
    if isinstance(transparent_index, (bool, np.bool_)) or not isinstance(transparent_index, (int, np.integer)):
        raise TypeError(f"transparent_index must be an integer 0..255, got {transparent_index!r}")
    if not 0 <= int(transparent_index) <= 255:
        raise ValueError(f"transparent_index must be 0..255, got {transparent_index}")
    return int(transparent_index)


def _check_common(image_space, palette_space, strength, edge_mask, alpha_mask, transparent_index):
    img = _check_image_space(image_space)
    pal = _check_palette_space(palette_space)
    s = _check_strength(strength)
    hw = img.shape[:2]
    edge = _check_mask(edge_mask, hw, "edge_mask", np.float32)
    alpha = _check_mask(alpha_mask, hw, "alpha_mask", np.bool_)
    return img, pal, s, edge, alpha, _check_index(transparent_index)


def nearest_indices(image_space, palette_space, *, alpha_mask=None, transparent_index: int = 0) -> np.ndarray:
    """Exact nearest palette entry of every pixel: what both dithers give at strength 0.

    Parameters
    ----------
    image_space : (H, W, 3) float32
        Pixel coordinates in the clustering space.
    palette_space : (k, 3) float32, 1 <= k <= 256
        The palette in that space.
    alpha_mask : optional (H, W) bool
        True pixels are transparent and get ``transparent_index``.
    transparent_index : int 0..255

    Returns
    -------
    (H, W) uint8: the entry at the smallest squared Euclidean distance, the
    lowest index among equal distances.

    Raises ValueError for NaN or infinite coordinates in opaque pixels.
    """
    img, pal, _, _, alpha, t = _check_common(image_space, palette_space, 0.0, None, alpha_mask,
                                             transparent_index)
    out, bad = _nearest_image(img, _Grid(pal), alpha, t)
    _raise_if_bad(bad)
    return out


def dither_fs(image_space, palette_space, *, strength: float = 1.0, serpentine: bool = True,
              edge_mask=None, alpha_mask=None, transparent_index: int = 0) -> np.ndarray:
    """Floyd–Steinberg error diffusion in the clustering space.

    Parameters
    ----------
    image_space : (H, W, 3) float32
        Pixel coordinates in the clustering space (any of them).
    palette_space : (k, 3) float32, 1 <= k <= 256
        The palette in the same space.
    strength : float in [0, 1]
        Gain on the error each pixel receives. 0 is exactly
        :func:`nearest_indices`; below 1 the error leaks away, so only colors
        far enough between two palette entries get dithered (in one
        dimension, a color a fraction f of the way from one entry to the next
        is dithered when f > (1 - strength) / 2).
    serpentine : bool
        Alternate the scan direction row by row (even rows left to right).
    edge_mask : optional (H, W) float in [0, 1]
        Multiplies the error each pixel receives, e.g. :func:`smooth_mask`:
        where it is 0 the pixel gets its nearest color (crisp edges).
    alpha_mask : optional (H, W) bool
        Transparent pixels: they get ``transparent_index``, and no error
        flows into or out of them (they act like pixels outside the image).
    transparent_index : int 0..255
        Index written for transparent pixels (need not be < k).

    Returns
    -------
    (H, W) uint8 palette indices.

    Raises ValueError for NaN or infinite coordinates in opaque pixels.

    Notes
    -----
    *Clamp.* Each coordinate of the error a pixel passes on is clamped to
    ``±FS_MAX_ERROR * palette_spread(palette_space)``; since the four weights
    (7, 3, 5, 1)/16 sum to 1, the error a pixel receives is bounded the same
    way. Colors outside the palette's range therefore cannot pile up error
    into streaks of far-off colors (libimagequant damps such errors by 0.75
    for the same reason). On photos this lowers both the blurred error and
    the worst pixels compared with no clamp (see the README).

    *Strips.* Rows run in strips of ``FS_STRIP`` rows, in parallel; each strip
    first runs the ``FS_WARMUP`` rows above it, without writing them, so its
    first row starts from a realistic error state rather than none. The
    result does not depend on the number of threads, and an image of at
    most ``FS_STRIP`` rows is one plain serpentine pass.
    """
    img, pal, s, edge, alpha, t = _check_common(image_space, palette_space, strength, edge_mask,
                                                alpha_mask, transparent_index)
    grid = _Grid(pal)
    if s == 0.0:
        out, bad = _nearest_image(img, grid, alpha, t)
    else:
        max_err = FS_MAX_ERROR * palette_spread(pal)
        out, bad = _floyd_steinberg(img, pal, s, serpentine, edge, alpha, t, max_err, grid)
    _raise_if_bad(bad)
    return out


def dither_ordered(image_space, palette_space, *, strength: float = 1.0, edge_mask=None,
                   alpha_mask=None, transparent_index: int = 0) -> np.ndarray:
    """Ordered (Bayer 8×8) dithering in the clustering space.

    Each pixel moves by ``(BAYER8[y % 8, x % 8] - 0.5) * strength * spread``
    along the palette's first principal axis, then takes its nearest palette
    entry. ``spread`` is :func:`palette_spread` (the median distance from an
    entry to its nearest neighbour), so the offsets span one typical palette
    step. The principal axis is the direction in which the palette varies
    most (mostly lightness for most palettes; the line between the two colors
    of a two-color palette), so flat areas dither between neighbouring
    entries along it instead of picking up colored noise. The pattern
    repeats every 8 pixels in both directions.

    strength : 0..1 (0 is exactly :func:`nearest_indices`). ``edge_mask``
    multiplies the offset; ``alpha_mask`` and ``transparent_index`` are as in
    :func:`dither_fs`. Returns (H, W) uint8 indices. Raises ValueError for
    NaN or infinite coordinates in opaque pixels.
    """
    img, pal, s, edge, alpha, t = _check_common(image_space, palette_space, strength, edge_mask,
                                                alpha_mask, transparent_index)
    grid = _Grid(pal)
    if s == 0.0:
        out, bad = _nearest_image(img, grid, alpha, t)
    else:
        out, bad = _ordered(img, pal, s, edge, alpha, t, grid)
    _raise_if_bad(bad)
    return out


def smooth_mask(image_srgb_uint8) -> np.ndarray:
    """Where to dither: 1 in smooth areas, falling to 0 at edges and in busy texture.

    image_srgb_uint8 : (H, W, 3) or (H, W, 4) uint8 (alpha is ignored).
    Returns (H, W) float32 ``max(0, 1 - contrast / SMOOTH_EDGE_LEVELS)``,
    where contrast is the largest absolute second difference
    ``|left + right - 2 center|`` or ``|up + down - 2 center|`` over the three
    color channels, in 8-bit levels (along an axis a border pixel lacks a
    neighbour, that axis counts 0, as if the image continued linearly). Like
    libimagequant's edge map, a linear gradient scores 1, while a step edge
    of 32 levels or more scores 0 on both of its sides, and fine texture
    (which hides banding by itself) scores low. Pass it as ``edge_mask``.
    """
    x = np.asarray(image_srgb_uint8)
    if x.ndim != 3 or x.shape[2] not in (3, 4) or x.dtype != np.uint8:
        raise ValueError(f"image must be an (H, W, 3|4) uint8 array, got {x.dtype} {x.shape}")
    x = np.require(x, np.uint8, ("C", "W"))
    out = np.empty(x.shape[:2], np.float32)
    if out.size:
        with PARALLEL_LOCK:
            _smooth_kernel(x, 1.0 / SMOOTH_EDGE_LEVELS, out)
    return out


def _warm_up() -> None:
    """Compile (or load from the cache) every kernel here on tiny inputs."""
    rng = np.random.default_rng(0)
    img = (rng.random((9, 11, 3)) * 255).astype(np.float32)
    pal = (rng.random((5, 3)) * 255).astype(np.float32)
    alpha = rng.random((9, 11)) < 0.2
    rgb = (img + 0.5).astype(np.uint8)
    edge = smooth_mask(rgb)
    nearest_indices(img, pal, alpha_mask=alpha)
    dither_fs(img, pal, edge_mask=edge, alpha_mask=alpha)
    dither_ordered(img, pal, edge_mask=edge, alpha_mask=alpha)
