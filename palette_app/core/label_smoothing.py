"""Label smoothing: fewer index changes along rows, for a bounded extra error.

A PNG stores the index image row by row through deflate, which codes runs of
one index, and rows that repeat the row above, almost for free; every change
of index costs bits. In a photo reduced to a few colors, wide bands of pixels
lie almost halfway between two palette colors, and noise flips their nearest
color back and forth. Giving such a pixel its second-nearest color, when that
is barely worse, removes the flips at almost no cost in error.

Two steps, both in the clustering space:

1. :func:`second_choices`, per distinct color: the second-nearest palette
   entry and how much worse it is than the nearest (the *gap* of squared
   distances), as an integer cost 0..254 in units of ``limit / 254``, or 255
   when the gap is ``limit`` or more (the color keeps its nearest entry).
2. :func:`smooth_rows`, per pixel: each row's indices minimise, over the
   choice nearest / second-nearest of every pixel, the sum of the gap costs +
   :data:`CHANGE_COST` per index change along the row + :data:`UP_CHANGE_COST`
   per pixel whose index differs from the (already smoothed) pixel above: a
   Viterbi pass on two states per pixel.

With ``limit = 2 λ`` the change costs are λ and λ/2 (in the same units), so a
pixel takes its second color only to save index changes worth more than the
extra error, and never when that color is ``2 λ`` or more worse than its
nearest: every pixel's squared distance to its entry is below its nearest
entry's plus ``limit``. :func:`palette_app.quantize` sets λ to
``smoothing × the mean squared error per pixel``.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from palette_app.core._config import CHUNK, JIT, JIT_PARALLEL, PARALLEL_LOCK

#: Integer cost of an index change along a row (the gap costs are 0..254 for
#: a gap of 0..limit, so this is limit / 2, i.e. λ).
CHANGE_COST = 127
#: Integer cost of an index different from the one above (λ / 2). Measured on
#: china, flower and astronaut at 4 and 8 colors (full and half size, smoothing
#: 0.5): files 0-5 % smaller than with no vertical term, for at most 0.2 %
#: more squared error; the full horizontal cost gained 1-2 % more for up to
#: three times the added error.
UP_CHANGE_COST = 64
#: Cost of a color without an acceptable second choice.
NO_CHOICE = 255
#: Rows per strip. Strips are smoothed in parallel; the first row of a strip
#: looks up at its unsmoothed neighbour. Fixed, so results do not depend on
#: the number of threads.
STRIP_ROWS = 128


@njit(**JIT_PARALLEL)
def _second_choices(X, C, labels, d2, fixed, order, cdist, limit, alt, cost):
    """Second-nearest palette entry of every color, when it is within ``limit``.

    X : (m, d) float32 colors; C : (k, d) float32 palette              # IN
    labels : (m,) int32 nearest entry; d2 : (m,) float32 its distance   # IN
    fixed : (m,) bool colors that keep their nearest entry              # IN
    order : (k, k-1) int32 the other entries of each entry, nearest
        first; cdist : (k, k-1) float32 their distances (not squared)   # IN
    limit : float, largest acceptable gap of squared distances (excl.)  # IN
    alt : (m,) uint8 second choice (the nearest when none)              # OUT
    cost : (m,) uint8 ceil(gap * 254 / limit), or 255 when none         # OUT

    The other entries are visited nearest to the color's entry first: once
    ``cdist - r`` (a lower bound on their distance, by the triangle
    inequality) squared reaches the best distance so far, or the nearest's
    distance + limit, no later entry can do better. Measured at 1 MP, this
    visits few entries: 3 ms at 16 colors, 11 ms at 256 (brute force: 14
    and 106 ms).
    """
    m = X.shape[0]
    d = X.shape[1]
    n_other = order.shape[1]
    scale = 254.0 / limit
    nchunks = (m + CHUNK - 1) // CHUNK
    for ch in prange(nchunks):
        for i in range(ch * CHUNK, min(m, (ch + 1) * CHUNK)):
            a = labels[i]
            alt[i] = np.uint8(a)
            cost[i] = np.uint8(255)
            if fixed[i]:
                continue
            da = max(d2[i], np.float32(0.0))
            r = np.sqrt(da)
            best = np.float32(da + limit)
            bj = -1
            for t in range(n_other):
                lb = cdist[a, t] - r
                if lb > 0.0 and lb * lb >= best:
                    break
                j = order[a, t]
                s = np.float32(0.0)
                for u in range(d):
                    diff = X[i, u] - C[j, u]
                    s += diff * diff
                if s < best:
                    best = s
                    bj = j
            gap = max(np.float64(best) - np.float64(da), 0.0)
            if bj >= 0 and gap < limit:
                alt[i] = np.uint8(bj)
                cost[i] = np.uint8(min(np.ceil(gap * scale), 254.0))


@njit(**JIT_PARALLEL)
def _smooth_rows(near, alt, mask, shift, cost, change, up_change, strip, out, back):
    """Per row, the cheapest choice of nearest / second entry (Viterbi, 2 states).

    near : (h, w) uint8, nearest entry = near & mask                    # IN
    alt : (h, w) uint8, second entry = alt >> shift (may be ``near``)   # IN
    mask, shift : int, unpacking (255, 0), or (15, 4) when both entries
        are packed in one byte                                          # IN
    cost : (h, w) uint8 gap cost of the second entry, 255 for none      # IN
    change, up_change : int costs of an index change along the row and
        against the pixel above                                         # IN
    strip : int rows per strip                                          # IN
    out : (h, w) uint8 smoothed indices                                 # OUT
    back : (n_strips, w) uint8 scratch: per pixel, which state of the
        previous pixel each of its two states came from (bit 0, bit 1)  # OUT
    """
    h, w = near.shape
    big = np.int64(1) << 40
    n_strips = (h + strip - 1) // strip
    for st in prange(n_strips):
        bk = back[st]
        y0 = st * strip
        for y in range(y0, min(h, y0 + strip)):
            c0 = np.int64(0)
            c1 = big
            pa = np.int64(-1)
            pb = np.int64(-1)
            for x in range(w):
                ax = np.int64(near[y, x]) & mask
                q = np.int64(cost[y, x])
                if q == 255:
                    # One candidate: only which state of the previous pixel leads here.
                    t0 = c0 if pa == ax else c0 + change
                    t1 = c1 if pb == ax else c1 + change
                    bk[x] = np.uint8(0 if t0 <= t1 else 1)
                    c0 = np.int64(0)
                    c1 = big
                    pa = ax
                    pb = np.int64(-1)
                    continue
                bx = np.int64(alt[y, x]) >> shift
                u0 = np.int64(0)
                u1 = q
                if y > y0:
                    up = np.int64(out[y - 1, x])
                elif y > 0:
                    up = np.int64(near[y - 1, x]) & mask
                else:
                    up = np.int64(-1)
                if up >= 0:
                    if ax != up:
                        u0 += up_change
                    if bx != up:
                        u1 += up_change
                t0 = c0 if pa == ax else c0 + change
                t1 = c1 if pb == ax else c1 + change
                if t0 <= t1:
                    n0 = t0 + u0
                    b = 0
                else:
                    n0 = t1 + u0
                    b = 1
                t0 = c0 if pa == bx else c0 + change
                t1 = c1 if pb == bx else c1 + change
                if t0 <= t1:
                    n1 = t0 + u1
                else:
                    n1 = t1 + u1
                    b |= 2
                bk[x] = np.uint8(b)
                base = min(n0, n1)
                c0 = n0 - base
                c1 = n1 - base
                pa = ax
                pb = bx
            s = 0 if c0 <= c1 else 1
            for x in range(w - 1, -1, -1):
                if s == 0:
                    out[y, x] = np.uint8(np.int64(near[y, x]) & mask)
                else:
                    out[y, x] = np.uint8(np.int64(alt[y, x]) >> shift)
                s = (np.int64(bk[x]) >> s) & 1


@njit(**JIT)
def _changes(near, mask, out, where):
    """Flat positions where ``out`` differs from the nearest entry.

    near : (n,) uint8, nearest = near & mask; out : (n,) uint8          # IN
    where : (n,) int64                                                  # OUT (first `count` used)
    Returns count.
    """
    c = 0
    for i in range(out.shape[0]):
        if np.int64(out[i]) != (np.int64(near[i]) & mask):
            where[c] = i
            c += 1
    return c


@njit(**JIT)
def _added_error(X, C, near, new):
    """Sum over pixels of |x - C[new]|^2 - |x - C[near]|^2 (float64).

    X : (c, d) float32 pixel colors; C : (k, d) float32 palette;
    near, new : (c,) uint8 entries                                      # IN
    """
    total = 0.0
    for i in range(X.shape[0]):
        a = near[i]
        b = new[i]
        for u in range(X.shape[1]):
            x = np.float64(X[i, u])
            da = x - np.float64(C[a, u])
            db = x - np.float64(C[b, u])
            total += db * db - da * da
    return total


def added_error(colors, palette, near, new) -> float:
    """Added squared error of moving pixels from entry ``near`` to ``new``.

    colors : (c, d) pixel coordinates; palette : (k, d); near, new : (c,)
    entries. Returns the sum of the differences of squared distances.
    """
    X = np.ascontiguousarray(colors, np.float32)
    C = np.ascontiguousarray(palette, np.float32)
    a = np.ascontiguousarray(near, np.uint8)
    b = np.ascontiguousarray(new, np.uint8)
    if X.ndim != 2 or C.ndim != 2 or X.shape[1] != C.shape[1] or a.shape != (len(X),) or b.shape != a.shape:
        raise ValueError("colors (c, d), palette (k, d), near and new (c,) expected")
    if len(X) and max(int(a.max()), int(b.max())) >= len(C):
        raise ValueError("entries must index the palette")
    return float(_added_error(X, C, a, b))


def second_choices(colors, palette, labels, d2, limit: float, fixed=None) -> tuple[np.ndarray, np.ndarray]:
    """Second-nearest palette entry of every color and its integer gap cost.

    colors : (m, d) coordinates in the clustering space; palette : (k, d),
    k <= 256; labels : (m,) the nearest entry of every color (exact);
    d2 : (m,) its squared distance; limit : > 0, the largest gap of squared
    distances a second choice may have (exclusive); fixed : (m,) bool,
    colors that must keep their nearest entry (locked colors), or None.

    Returns (alt (m,) uint8, cost (m,) uint8): ``alt`` is the second-nearest
    entry (ties: the lowest index) when its squared distance is less than
    ``d2 + limit``, with ``cost = ceil(gap * 254 / limit)`` in 0..254;
    otherwise ``alt`` is the nearest entry and ``cost`` is 255.
    """
    X = np.ascontiguousarray(colors, np.float32)
    C = np.ascontiguousarray(palette, np.float32)
    if X.ndim != 2 or C.ndim != 2 or X.shape[1] != C.shape[1]:
        raise ValueError(f"colors {X.shape} and palette {C.shape} must be (m, d) and (k, d)")
    m, k = X.shape[0], C.shape[0]
    if not 1 <= k <= 256:
        raise ValueError(f"the palette must have 1 to 256 entries, got {k}")
    if not limit > 0:
        raise ValueError(f"limit must be > 0, got {limit!r}")
    lab = np.ascontiguousarray(labels, np.int32)
    dd = np.ascontiguousarray(d2, np.float32)
    if lab.shape != (m,) or dd.shape != (m,):
        raise ValueError("labels and d2 must have one entry per color")
    if m and (lab.min() < 0 or lab.max() >= k):
        raise ValueError(f"labels must lie in 0..{k - 1}")
    fx = np.zeros(m, np.bool_) if fixed is None else np.ascontiguousarray(fixed, np.bool_)
    if fx.shape != (m,):
        raise ValueError("fixed must have one entry per color")
    alt = np.empty(m, np.uint8)
    cost = np.empty(m, np.uint8)
    if k == 1 or m == 0:
        alt[:] = 0
        cost[:] = NO_CHOICE
        return alt, cost
    C64 = C.astype(np.float64)
    cd = np.sqrt(((C64[:, None, :] - C64[None, :, :]) ** 2).sum(-1))
    np.fill_diagonal(cd, np.inf)
    order = np.argsort(cd, axis=1, kind="stable")[:, : k - 1]
    cdist = np.ascontiguousarray(np.take_along_axis(cd, order, axis=1), np.float32)
    with PARALLEL_LOCK:
        _second_choices(X, C, lab, dd, fx, np.ascontiguousarray(order, np.int32), cdist, float(limit),
                        alt, cost)
    return alt, cost


def smooth_rows(near: np.ndarray, alt: np.ndarray | None, cost: np.ndarray, *,
                packed: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Smoothed (H, W) uint8 index image from per-pixel nearest / second entries.

    near, alt, cost : (H, W) uint8; every pixel takes ``near`` or ``alt``,
    never ``alt`` where ``cost`` is 255. With ``packed``, ``near`` holds both
    entries of a pixel (nearest in the low 4 bits, second in the high 4 bits;
    palettes of at most 16 entries) and ``alt`` is ignored.

    Returns (indices (H, W) uint8, changed (c,) int64 flat positions of the
    pixels that did not get their nearest entry).
    """
    near = np.ascontiguousarray(near, np.uint8)
    cost = np.ascontiguousarray(cost, np.uint8)
    if near.ndim != 2 or cost.shape != near.shape:
        raise ValueError("near and cost must be (H, W) arrays of one shape")
    if packed:
        alt_arr, mask, shift = near, 15, 4
    else:
        alt_arr = np.ascontiguousarray(alt, np.uint8)
        if alt_arr.shape != near.shape:
            raise ValueError("alt must have the shape of near")
        mask, shift = 255, 0
    h, w = near.shape
    out = np.empty((h, w), np.uint8)
    if h == 0 or w == 0:
        return out, np.zeros(0, np.int64)
    back = np.empty(((h + STRIP_ROWS - 1) // STRIP_ROWS, w), np.uint8)
    with PARALLEL_LOCK:
        _smooth_rows(near, alt_arr, mask, shift, cost, CHANGE_COST, UP_CHANGE_COST, STRIP_ROWS, out, back)
    where = np.empty(h * w, np.int64)
    n = _changes(near.reshape(-1), mask, out.reshape(-1), where)
    return out, where[:n].copy()
