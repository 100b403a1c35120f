"""Weighted mini-batch k-means for (n, d) float32 data, tuned for color histograms.

Three tiers, as in scikit-learn's ``_kmeans.py``:

* :class:`MiniBatchKMeans` and :func:`weighted_kmeans` validate and convert;
* ``_fit_once`` runs one initialisation assuming valid input;
* the ``_``-prefixed Numba kernels take preallocated outputs.

The algorithm (one run):

1. Greedy weighted k-means++ on a weighted subsample (``init_size`` points
   drawn in proportion to their weight, duplicates merged into weights).
2. Mini-batches drawn in proportion to the sample weights; every center moves
   toward its batch mean with a per-center learning rate ``1 / cumulative
   count``; centers that starve (cumulative count below ``reassignment_ratio``
   of the largest) are moved to badly fitted batch points; the run stops early
   when the exponentially smoothed batch inertia has not improved for
   ``max_no_improvement`` batches.
3. Full weighted Lloyd passes over all points to polish ("exact" k-means on
   the histogram), with empty clusters moved to the worst-fitted points. For
   d <= 4 the assignment is pruned with a grid: each grid cell keeps only the
   centers that can be nearest to some point of its bounding box, which makes
   a pass over 1.5 million colors and 256 centers cost a few candidates per
   color instead of 256.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np
from numba import njit, prange

from palette_app.core._config import CHUNK, JIT, JIT_PARALLEL, PARALLEL_LOCK
from palette_app.core.errors import Cancelled, FewerColorsWarning

ProgressCallback = Callable[[float], "bool | None"]


# --------------------------------------------------------------------------- kernels
@njit(**JIT)
def _sqdist(X, i, C, j):
    d = X.shape[1]
    s = np.float32(0.0)
    for t in range(d):
        diff = X[i, t] - C[j, t]
        s += diff * diff
    return s


@njit(**JIT)
def _assign_brute(X, C, labels, d2):
    """Nearest center of every point (lowest index on ties); serial, for mini-batches.

    X : (n, d) float32                      # IN
    C : (k, d) float32                      # IN
    labels : (n,) int32                     # OUT
    d2 : (n,) float32                       # OUT squared distance to it
    """
    n = X.shape[0]
    k = C.shape[0]
    for i in range(n):
        best = np.inf
        bj = 0
        for j in range(k):
            s = _sqdist(X, i, C, j)
            if s < best:
                best = s
                bj = j
        labels[i] = bj
        d2[i] = best


@njit(**JIT)
def _box_min(c, cell_lo, cell_hi, C, j):
    """Smallest distance from center j to cell c's box."""
    s = np.float32(0.0)
    for t in range(C.shape[1]):
        g = max(cell_lo[c, t] - C[j, t], C[j, t] - cell_hi[c, t], np.float32(0.0))
        s += g * g
    return np.sqrt(s)


@njit(**JIT)
def _box_max(c, cell_lo, cell_hi, C, j):
    """Largest distance from center j to a point of cell c's box."""
    s = np.float32(0.0)
    for t in range(C.shape[1]):
        f = max(abs(cell_lo[c, t] - C[j, t]), abs(C[j, t] - cell_hi[c, t]))
        s += f * f
    return np.sqrt(s)


@njit(**JIT_PARALLEL)
def _assign_bounded(X, w, cell_starts, cell_lo, cell_hi, chunk_cells, C, shift, first,
                    labels, upper, lower, cand, ncand, cell_lb, dsum, dw):
    """One exact assignment pass with Hamerly-style bounds over grid cells.

    X : (n, d) float32, points sorted by grid cell                      # IN
    w : (n,) float64 weights                                            # IN
    cell_starts : (ncells + 1,) int64, points of cell c are
        cell_starts[c]:cell_starts[c+1]                                 # IN
    cell_lo, cell_hi : (ncells, d) float32 tight bounding boxes         # IN
    chunk_cells : (nchunks + 1,) int64, cells of chunk q are
        chunk_cells[q]:chunk_cells[q+1] (about CHUNK points)            # IN
    C : (k, d) float32 current centers                                  # IN
    shift : (k,) float32 distance each center moved since last pass     # IN
    first : bool, no valid bounds yet (search every point)              # IN
    labels : (n,) int32                                                 # INOUT
    upper : (n,) float32 bound on the distance to the own center        # INOUT
    lower : (n,) float32 bound on the distance to any other center
        that can be nearest                                             # INOUT
    cand : (ncells, k) int32 candidate centers per cell; ncand (ncells,) # OUT
    cell_lb : (ncells, k) float32 lower bound on the distance from each
        cell's box to each center                                       # INOUT
    dsum : (nchunks, k, d) float64, dw : (nchunks, k) float64: per chunk,
        the change of each cluster's weighted sum and weight caused by
        points that changed label (unused on the first pass)            # OUT

    Candidates: a center can be nearest to a point of a box only if its
    smallest distance to the box is at most ``ub``, the largest distance of
    some center to the box. Box bounds decay by each center's move and are
    recomputed exactly only near the cut, so building the lists costs O(k)
    cheap steps per cell. A point's lower bound decays by the largest move
    among its cell's candidates and is capped by the cell's bound on all
    other centers, so a point whose upper bound stays below its lower bound
    keeps its label without a distance computation: late Lloyd passes, where
    centers barely move, touch few points. Candidates are scanned in index
    order: ties go to the lowest index.
    """
    k = C.shape[0]
    dim = X.shape[1]
    nchunks = chunk_cells.shape[0] - 1
    for q in prange(nchunks):
        for j in range(k):
            dw[q, j] = 0.0
            for t in range(dim):
                dsum[q, j, t] = 0.0
        is_cand = np.zeros(k, np.bool_)
        for c in range(chunk_cells[q], chunk_cells[q + 1]):
            # Upper bound on the nearest center's distance, for any box point.
            ub = np.inf
            if first:
                for j in range(k):
                    cell_lb[c, j] = _box_min(c, cell_lo, cell_hi, C, j)
                    mx = _box_max(c, cell_lo, cell_hi, C, j)
                    if mx < ub:
                        ub = mx
            else:
                for m in range(ncand[c]):
                    mx = _box_max(c, cell_lo, cell_hi, C, cand[c, m])
                    if mx < ub:
                        ub = mx
            nc = 0
            rest = np.inf
            m1 = np.float32(0.0)
            m2 = np.float32(0.0)
            j1 = -1
            for j in range(k):
                lb = cell_lb[c, j]
                if not first:
                    lb -= shift[j]
                    if lb <= ub:
                        lb = _box_min(c, cell_lo, cell_hi, C, j)
                    cell_lb[c, j] = lb
                if lb <= ub:
                    cand[c, nc] = j
                    nc += 1
                    is_cand[j] = True
                    sj = shift[j]
                    if sj > m1:
                        m2 = m1
                        m1 = sj
                        j1 = j
                    elif sj > m2:
                        m2 = sj
                elif lb < rest:
                    rest = lb
            ncand[c] = nc
            for i in range(cell_starts[c], cell_starts[c + 1]):
                if not first:
                    a = labels[i]
                    if is_cand[a]:
                        upper[i] += shift[a]
                        # Candidates moved at most m1 (m2 besides the own
                        # center); every other center is at least rest away.
                        lower[i] = min(lower[i] - (m2 if a == j1 else m1), rest)
                        if upper[i] <= lower[i]:
                            continue
                        upper[i] = np.sqrt(_sqdist(X, i, C, a))
                        if upper[i] <= lower[i]:
                            continue
                best = np.inf
                second = np.inf
                bj = 0
                for m in range(nc):
                    j = cand[c, m]
                    s = _sqdist(X, i, C, j)
                    if s < best:
                        second = best
                        best = s
                        bj = j
                    elif s < second:
                        second = s
                if not first:
                    a = labels[i]
                    if a != bj:
                        wi = w[i]
                        dw[q, a] -= wi
                        dw[q, bj] += wi
                        for t in range(dim):
                            dsum[q, a, t] -= wi * X[i, t]
                            dsum[q, bj, t] += wi * X[i, t]
                labels[i] = bj
                upper[i] = np.sqrt(best)
                lower[i] = min(np.sqrt(second), rest)
            for m in range(nc):
                is_cand[cand[c, m]] = False


@njit(**JIT_PARALLEL)
def _nearest_grid(X, order, cell_starts, cell_lo, cell_hi, chunk_cells, C, labels, d2):
    """Exact nearest center of every point, through the grid's candidate lists.

    X : (n, d) float32 in original order; order : (n,) int64 sorted position
    -> point; grid arrays as in ``_assign_bounded``; C : (k, d) float32   # IN
    labels : (n,) int32; d2 : (n,) float32, in original order             # OUT
    """
    k = C.shape[0]
    nchunks = chunk_cells.shape[0] - 1
    for q in prange(nchunks):
        cand = np.empty(k, np.int32)
        lbs = np.empty(k, np.float32)
        for c in range(chunk_cells[q], chunk_cells[q + 1]):
            ub = np.inf
            for j in range(k):
                lbs[j] = _box_min(c, cell_lo, cell_hi, C, j)
                mx = _box_max(c, cell_lo, cell_hi, C, j)
                if mx < ub:
                    ub = mx
            nc = 0
            for j in range(k):
                if lbs[j] <= ub:
                    cand[nc] = j
                    nc += 1
            for p in range(cell_starts[c], cell_starts[c + 1]):
                i = order[p]
                best = np.inf
                bj = 0
                for m in range(nc):
                    j = cand[m]
                    s = _sqdist(X, i, C, j)
                    if s < best:
                        best = s
                        bj = j
                labels[i] = bj
                d2[i] = best


@njit(**JIT_PARALLEL)
def _label_d2(X, C, labels, d2):
    """d2[i] = squared distance of point i to its labelled center (IN X, C, labels; OUT d2)."""
    n = X.shape[0]
    nchunks = (n + CHUNK - 1) // CHUNK
    for ch in prange(nchunks):
        for i in range(ch * CHUNK, min(n, (ch + 1) * CHUNK)):
            d2[i] = _sqdist(X, i, C, labels[i])


@njit(**JIT_PARALLEL)
def _accumulate(X, w, labels, k, sums, wsums):
    """Per-chunk weighted sums per cluster (reduced in order by the caller).

    X : (n, d) float32; w : (n,) float64; labels : (n,) int32     # IN
    sums : (nchunks, k, d) float64                                 # OUT
    wsums : (nchunks, k) float64                                   # OUT
    """
    n = X.shape[0]
    dim = X.shape[1]
    nchunks = sums.shape[0]
    for ch in prange(nchunks):
        for j in range(k):
            wsums[ch, j] = 0.0
            for t in range(dim):
                sums[ch, j, t] = 0.0
        for i in range(ch * CHUNK, min(n, (ch + 1) * CHUNK)):
            j = labels[i]
            wi = w[i]
            wsums[ch, j] += wi
            for t in range(dim):
                sums[ch, j, t] += wi * X[i, t]


@njit(**JIT_PARALLEL)
def _weighted_d2_sum(w, d2, parts):
    """parts[chunk] = sum of w * d2 over the chunk (IN w, d2; OUT parts)."""
    n = w.shape[0]
    for ch in prange(parts.shape[0]):
        acc = 0.0
        for i in range(ch * CHUNK, min(n, (ch + 1) * CHUNK)):
            acc += w[i] * d2[i]
        parts[ch] = acc


@njit(**JIT_PARALLEL)
def _best_two(X, C, labels, d2, second):
    """Nearest and second-nearest squared distances of every point.

    X : (n, d) float32; C : (k, d) float32            # IN
    labels : (n,) int32; d2, second : (n,) float64    # OUT
    """
    n = X.shape[0]
    k = C.shape[0]
    nchunks = (n + CHUNK - 1) // CHUNK
    for ch in prange(nchunks):
        for i in range(ch * CHUNK, min(n, (ch + 1) * CHUNK)):
            b1 = np.inf
            b2 = np.inf
            j1 = 0
            for j in range(k):
                s = np.float64(_sqdist(X, i, C, j))
                if s < b1:
                    b2 = b1
                    b1 = s
                    j1 = j
                elif s < b2:
                    b2 = s
            labels[i] = j1
            d2[i] = b1
            second[i] = b2


@njit(**JIT_PARALLEL)
def _swap_delta(X, w, labels, d2, second, p, parts):
    """Change of the weighted inertia if center j were replaced by point p, for every j.

    X : (n, d) float32; w : (n,) float64; labels : (n,) int32;
    d2, second : (n,) float64 nearest / second-nearest squared distances;
    p : int candidate point                                       # IN
    parts : (nchunks, k + 1) float64: per chunk, column k holds the gain
        every swap shares (points closer to p than to their center), column
        j the extra cost of removing center j                      # OUT
    The delta for center j is parts[:, j].sum() + parts[:, k].sum().
    """
    n = X.shape[0]
    dim = X.shape[1]
    k = parts.shape[1] - 1
    nchunks = parts.shape[0]
    for ch in prange(nchunks):
        for j in range(k + 1):
            parts[ch, j] = 0.0
        for i in range(ch * CHUNK, min(n, (ch + 1) * CHUNK)):
            dp = 0.0
            for t in range(dim):
                diff = np.float64(X[i, t]) - np.float64(X[p, t])
                dp += diff * diff
            if dp < d2[i]:
                parts[ch, k] += w[i] * (dp - d2[i])
            else:
                parts[ch, labels[i]] += w[i] * (min(second[i], dp) - d2[i])


@njit(**JIT)
def _minibatch_block(X, cumw, C, counts, rand, n_fixed, alpha, reassign_every,
                     reassignment_ratio, shift_tol, max_no_improvement, state):
    """Run up to ``rand.shape[0]`` mini-batch steps.

    X : (n, d) float32; cumw : (n,) float64 cumulative weights            # IN
    C : (k, d) float32 centers; counts : (k,) float64 cumulative counts  # INOUT
    rand : (steps, b) float64 uniforms in [0, 1), each row sorted        # IN
    state : (4,) float64 [smoothed inertia (NaN before the first step),
        best smoothed inertia, steps without improvement, steps so far]  # INOUT
    Returns 1 when an early-stop criterion fired, else 0.

    Each step draws b points in proportion to their weight (sorted draws:
    a faster search and a cache-friendly gather), assigns them, and moves
    each center toward its batch mean with rate 1 / cumulative count.
    """
    n, dim = X.shape
    k = C.shape[0]
    b = rand.shape[1]
    total = cumw[n - 1]
    Xb = np.empty((b, dim), np.float32)
    draw = np.empty(b, np.int64)
    labels = np.empty(b, np.int32)
    d2 = np.empty(b, np.float32)
    old = np.empty((k, dim), np.float32)
    for s in range(rand.shape[0]):
        for i in range(b):
            j = np.searchsorted(cumw, rand[s, i] * total, side="right")
            if j > n - 1:
                j = n - 1
            draw[i] = j
            for t in range(dim):
                Xb[i, t] = X[j, t]
        _assign_brute(Xb, C, labels, d2)
        old[:] = C
        _minibatch_update(Xb, labels, C, counts, n_fixed)
        inertia = 0.0
        for i in range(b):
            inertia += d2[i]
        inertia /= b
        ewa = inertia if np.isnan(state[0]) else state[0] * (1.0 - alpha) + inertia * alpha
        state[0] = ewa
        if ewa < state[1]:
            state[1] = ewa
            state[2] = 0.0
        else:
            state[2] += 1.0
        state[3] += 1.0
        if reassignment_ratio > 0 and np.int64(state[3]) % reassign_every == 0:
            # Starving centers (almost never nearest) go to the worst-fitted
            # distinct batch points. The ratio is small on purpose: in a color
            # histogram a rarely used center often holds a rare but distant
            # color (a bright star on a dark sky) that matters for the error.
            cmax = counts.max()
            worst = np.argsort(-d2)
            picked = np.empty(b, np.int64)
            npick = 0
            w_i = 0
            for j in range(n_fixed, k):
                if counts[j] >= reassignment_ratio * cmax or npick >= b // 2:
                    continue
                while w_i < b:
                    cand = worst[w_i]
                    w_i += 1
                    if d2[cand] <= 0:
                        w_i = b
                        break
                    dup = False
                    for q in range(npick):
                        if draw[picked[q]] == draw[cand]:
                            dup = True
                            break
                    if not dup:
                        picked[npick] = cand
                        npick += 1
                        for t in range(dim):
                            C[j, t] = Xb[cand, t]
                        counts[j] = -1.0  # set below to the smallest kept count
                        break
            if npick:
                low = np.inf
                for j in range(k):
                    if counts[j] >= 0 and counts[j] < low:
                        low = counts[j]
                if low == np.inf:
                    low = 0.0
                for j in range(k):
                    if counts[j] < 0:
                        counts[j] = low
        if state[2] >= max_no_improvement:
            return 1
        if shift_tol > 0:
            sh = 0.0
            for j in range(k):
                for t in range(dim):
                    diff = np.float64(C[j, t]) - np.float64(old[j, t])
                    sh += diff * diff
            if sh <= shift_tol:
                return 1
    return 0


@njit(**JIT)
def _minibatch_update(Xb, labels, C, counts, n_fixed):
    """Move centers toward their batch means with rate 1 / cumulative count.

    Xb : (b, d) float32 (points drawn in proportion to their weight)   # IN
    labels : (b,) int32                                                 # IN
    C : (k, d) float32                                                  # INOUT
    counts : (k,) float64 cumulative points per center                 # INOUT
    n_fixed : int, centers 0..n_fixed-1 never move (locked colors)     # IN
    """
    k = C.shape[0]
    dim = C.shape[1]
    bsum = np.zeros((k, dim), np.float64)
    bcnt = np.zeros(k, np.float64)
    for i in range(Xb.shape[0]):
        j = labels[i]
        bcnt[j] += 1.0
        for t in range(dim):
            bsum[j, t] += Xb[i, t]
    for j in range(k):
        if bcnt[j] == 0.0:
            continue
        total = counts[j] + bcnt[j]
        if j >= n_fixed:
            for t in range(dim):
                C[j, t] = np.float32((C[j, t] * counts[j] + bsum[j, t]) / total)
        counts[j] = total


@njit(**JIT)
def _kmeanspp_kernel(X, w, start, C, closest, rand):
    """Greedy weighted k-means++ from center ``start`` on.

    X : (n, d) float32; w : (n,) float64                               # IN
    start : int, centers 0..start-1 are already chosen                 # IN
    C : (k, d) float32                                                 # INOUT
    closest : (n,) float64 squared distance to the nearest chosen center  # INOUT
    rand : (k, t) float64 uniform numbers in [0, 1), t trials per center  # IN
    """
    n = X.shape[0]
    dim = X.shape[1]
    k = C.shape[0]
    t = rand.shape[1]
    cum = np.empty(n, np.float64)
    trial = np.empty((t, n), np.float64)
    pots = np.empty(t, np.float64)
    for c in range(start, k):
        acc = 0.0
        for i in range(n):
            acc += w[i] * closest[i]
            cum[i] = acc
        if acc <= 0.0:
            # Every point sits on a chosen center (fewer distinct points than k).
            for u in range(dim):
                C[c, u] = C[c - 1, u]
            continue
        for q in range(t):
            ci = np.searchsorted(cum, rand[c, q] * acc, side="right")
            if ci >= n:
                ci = n - 1
            pot = 0.0
            for i in range(n):
                s = 0.0
                for u in range(dim):
                    diff = np.float64(X[i, u]) - np.float64(X[ci, u])
                    s += diff * diff
                if s > closest[i]:
                    s = closest[i]
                trial[q, i] = s
                pot += w[i] * s
            pots[q] = pot
        best = 0
        for q in range(1, t):
            if pots[q] < pots[best]:
                best = q
        ci = np.searchsorted(cum, rand[c, best] * acc, side="right")
        if ci >= n:
            ci = n - 1
        for u in range(dim):
            C[c, u] = X[ci, u]
        for i in range(n):
            closest[i] = trial[best, i]


# --------------------------------------------------------------------------- grid index
@dataclass
class _Grid:
    order: np.ndarray        # (n,) int64: sorted position -> original index
    cell_starts: np.ndarray  # (ncells + 1,) int64
    cell_lo: np.ndarray      # (ncells, d) float32
    cell_hi: np.ndarray      # (ncells, d) float32
    chunk_cells: np.ndarray  # (nchunks + 1,) int64


def _grid_cells_per_dim(n: int, d: int, k: int) -> int:
    # Measured on photo histograms (25k-1.3M colors, k 16-256): 16 cells per
    # axis in 3-D balances the per-cell candidate search against the
    # candidates each point scans; fewer when there are few points per cell.
    g = min(16, int(round((n / 8.0) ** (1.0 / d))))
    if d != 3:
        g = min(g, int(2 ** (12 / d)))
    return max(g, 2)


@njit(**JIT)
def _bounds(X):
    """Per-dimension (min, max) of (n, d) float32 X as float64 arrays."""
    d = X.shape[1]
    lo = np.full(d, np.inf)
    hi = np.full(d, -np.inf)
    for i in range(X.shape[0]):
        for t in range(d):
            v = np.float64(X[i, t])
            if v < lo[t]:
                lo[t] = v
            if v > hi[t]:
                hi[t] = v
    return lo, hi


@njit(**JIT)
def _grid_sort(X, lo, scale, g, order, cell_of):
    """Counting sort of points by grid cell.

    X : (n, d) float32; lo : (d,) float64; scale : (d,) float64 cells per unit; g : int  # IN
    order : (n,) int64 sorted position -> point                                           # OUT
    cell_of : (n,) int64 scratch                                                          # OUT
    Returns (cell_starts (ncells+1,), cell_lo (ncells, d), cell_hi (ncells, d)) for the
    occupied cells in ascending cell id.
    """
    n, d = X.shape
    ncell_all = g ** d
    count = np.zeros(ncell_all + 1, np.int64)
    for i in range(n):
        cid = 0
        for t in range(d):
            ct = np.int64((X[i, t] - lo[t]) * scale[t])
            if ct > g - 1:
                ct = g - 1
            if ct < 0:
                ct = 0
            cid = cid * g + ct
        cell_of[i] = cid
        count[cid + 1] += 1
    occupied = 0
    for c in range(ncell_all):
        if count[c + 1] > 0:
            occupied += 1
        count[c + 1] += count[c]
    pos = count[:ncell_all].copy()
    for i in range(n):
        c = cell_of[i]
        order[pos[c]] = i
        pos[c] += 1
    cell_starts = np.empty(occupied + 1, np.int64)
    cell_lo = np.empty((occupied, d), np.float32)
    cell_hi = np.empty((occupied, d), np.float32)
    r = 0
    for c in range(ncell_all):
        p0 = count[c]
        p1 = count[c + 1]
        if p1 == p0:
            continue
        cell_starts[r] = p0
        for t in range(d):
            cell_lo[r, t] = np.inf
            cell_hi[r, t] = -np.inf
        for p in range(p0, p1):
            i = order[p]
            for t in range(d):
                v = X[i, t]
                if v < cell_lo[r, t]:
                    cell_lo[r, t] = v
                if v > cell_hi[r, t]:
                    cell_hi[r, t] = v
        r += 1
    cell_starts[occupied] = n
    return cell_starts, cell_lo, cell_hi


def _build_grid(X: np.ndarray, k: int) -> _Grid:
    """Sort points by grid cell (a single cell when a grid would not help)."""
    n, d = X.shape
    g = 1 if (d > 4 or n < 2048 or k < 4) else _grid_cells_per_dim(n, d, k)
    lo, hi = _bounds(X)
    span = np.maximum(hi - lo, 1e-12)
    order = np.empty(n, np.int64)
    scratch = np.empty(n, np.int64)
    cell_starts, cell_lo, cell_hi = _grid_sort(X, lo, g / span, g, order, scratch)
    # Chunks of whole cells holding about CHUNK points each (fixed layout).
    ends = cell_starts[1:]
    bounds = [0]
    target = CHUNK
    for c, e in enumerate(ends.tolist()):
        if e >= target:
            bounds.append(c + 1)
            target = e + CHUNK
    if bounds[-1] != len(ends):
        bounds.append(len(ends))
    return _Grid(order, cell_starts, cell_lo, cell_hi, np.asarray(bounds, np.int64))


# --------------------------------------------------------------------------- one run
@dataclass
class KMeansState:
    """Outcome of :func:`weighted_kmeans`."""

    centers: np.ndarray   # (k, d) float32
    labels: np.ndarray    # (n,) int32
    inertia: float        # weighted sum of squared distances
    n_iter: int           # Lloyd passes
    n_steps: int          # mini-batch steps
    upper: np.ndarray | None = None  # (n,) float32 bound on each point's distance to its center
    lower: np.ndarray | None = None  # (n,) float32 bound on its distance to any other center


class _Progress:
    """Maps the phases of all runs onto 0..1 and turns a False answer into Cancelled."""

    def __init__(self, callback, n_init):
        self.callback = callback
        self.n_init = n_init
        self.run = 0

    def __call__(self, frac_of_run: float) -> None:
        if self.callback is None:
            return
        p = (self.run + min(max(frac_of_run, 0.0), 1.0)) / self.n_init
        if self.callback(p) is False:
            raise Cancelled("cancelled")


class _Lloyd:
    """Exact weighted Lloyd passes over grid-sorted points with Hamerly bounds."""

    def __init__(self, X, w, grid):
        self.grid = grid
        self.X = np.ascontiguousarray(X[grid.order])
        self.w = np.ascontiguousarray(w[grid.order])
        n = X.shape[0]
        self.labels = np.zeros(n, np.int32)
        self.upper = np.zeros(n, np.float32)
        self.lower = np.zeros(n, np.float32)
        self.first = True
        self.nchunks = max(1, (n + CHUNK - 1) // CHUNK)
        self.k = -1

    def reset(self):
        self.first = True

    def assign(self, C, shift):
        g = self.grid
        k = C.shape[0]
        if k != self.k:
            ncells = g.cell_lo.shape[0]
            self.cand = np.empty((ncells, k), np.int32)
            self.ncand = np.zeros(ncells, np.int32)
            self.cell_lb = np.zeros((ncells, k), np.float32)
            self.k = k
            self.first = True
        d = self.X.shape[1]
        nq = g.chunk_cells.shape[0] - 1
        dsum = np.empty((nq, k, d), np.float64)
        dw = np.empty((nq, k), np.float64)
        # Full sums on the first pass and every 16th (bounds float drift).
        self.passes = getattr(self, "passes", 0) + 1
        was_first = self.first or self.passes % 16 == 0
        _assign_bounded(self.X, self.w, g.cell_starts, g.cell_lo, g.cell_hi, g.chunk_cells, C,
                        shift, self.first, self.labels, self.upper, self.lower, self.cand,
                        self.ncand, self.cell_lb, dsum, dw)
        self.first = False
        if was_first:
            sums = np.empty((self.nchunks, k, d), np.float64)
            wsums = np.empty((self.nchunks, k), np.float64)
            _accumulate(self.X, self.w, self.labels, k, sums, wsums)
            # Reduced in a fixed order: bit-for-bit reproducible whatever the threads.
            self._sums, self._wsums = sums.sum(axis=0), wsums.sum(axis=0)
        else:
            # Only points that changed label moved weight between clusters.
            self._sums = self._sums + dsum.sum(axis=0)
            self._wsums = self._wsums + dw.sum(axis=0)

    def sums(self, k):
        return self._sums, self._wsums

    def d2(self, C):
        d2 = np.empty(self.X.shape[0], np.float32)
        _label_d2(self.X, C, self.labels, d2)
        return d2

    def inertia(self, C):
        parts = np.empty(self.nchunks, np.float64)
        _weighted_d2_sum(self.w, self.d2(C), parts)
        return float(parts.sum())

    def original_labels(self):
        out = np.empty_like(self.labels)
        out[self.grid.order] = self.labels
        return out

    def original_bounds(self):
        up = np.empty_like(self.upper)
        lo = np.empty_like(self.lower)
        up[self.grid.order] = self.upper
        lo[self.grid.order] = self.lower
        return up, lo


def _kmeanspp(X, w, k, rng, fixed):
    """Greedy weighted k-means++ (``2 + ln k`` trials per center), after the fixed centers."""
    n, d = X.shape
    C = np.empty((k, d), np.float32)
    n_trials = 2 + int(math.log(k))
    Xd = X.astype(np.float64)
    if fixed is not None:
        start = fixed.shape[0]
        C[:start] = fixed
        diff = Xd[:, None, :] - fixed[None, :, :].astype(np.float64)
        closest = (diff * diff).sum(axis=2).min(axis=1)
    else:
        cumw = np.cumsum(w)
        first = min(int(np.searchsorted(cumw, rng.random() * cumw[-1], side="right")), n - 1)
        C[0] = X[first]
        closest = ((Xd - Xd[first]) ** 2).sum(axis=1)
        start = 1
    rand = rng.random((k, n_trials))
    _kmeanspp_kernel(X, np.ascontiguousarray(w, np.float64), start, C, np.ascontiguousarray(closest), rand)
    return C


def _relocate_empty(X, w, d2, nonempty, C, n_fixed):
    """Move centers that got no weight to the worst-fitted points (largest w * d2).

    Returns the indices of the moved centers.
    """
    empty = np.flatnonzero(~nonempty[n_fixed:]) + n_fixed
    if empty.size == 0:
        return empty
    cost = w * d2
    far = np.argsort(-cost, kind="stable")[: empty.size]
    far = far[cost[far] > 0]
    moved = empty[: far.size]
    C[moved] = X[far]
    return moved


def _minibatch(X, w, C, rng, *, n_fixed, batch_size, max_iter, tol, max_no_improvement,
               reassignment_ratio, var, progress):
    """Mini-batch phase; returns the number of steps taken (C is updated in place).

    Runs in blocks of steps inside Numba; progress (and so cancellation) is
    reported between blocks.
    """
    n, d = X.shape
    k = C.shape[0]
    cumw = np.cumsum(w)
    counts = np.zeros(k, np.float64)
    max_steps = max(1, int(max_iter * min(n, 64 * batch_size) // batch_size))
    alpha = min(1.0, 2.0 * batch_size / (n + 1.0))
    reassign_every = max(1, int(math.ceil(10.0 * k / batch_size)))
    state = np.array([np.nan, np.inf, 0.0, 0.0])
    block = 8
    done = 0
    while done < max_steps:
        steps = min(block, max_steps - done)
        rand = np.sort(rng.random((steps, batch_size)), axis=1)
        stop = _minibatch_block(X, cumw, C, counts, rand, n_fixed, alpha, reassign_every,
                                float(reassignment_ratio), float(tol * var), int(max_no_improvement),
                                state)
        done = int(state[3])
        progress(0.05 + 0.45 * done / max_steps)
        if stop:
            break
    return done


def _lloyd(lloyd: _Lloyd, C, *, n_fixed, max_iter, tol, var, progress, progress_span=(0.5, 1.0)):
    """Weighted Lloyd passes until centers stop moving; C is updated in place.

    Returns the number of passes. Stops when no label changed (centers did not
    move) or when the total squared center shift is at most ``tol`` times the
    data's mean variance (scikit-learn's criterion).
    """
    k = C.shape[0]
    shift = np.zeros(k, np.float32)
    lloyd.reset()
    n_iter = 0
    p0, p1 = progress_span
    for it in range(max_iter):
        lloyd.assign(C, shift)
        sums, wsums = lloyd.sums(k)
        n_iter += 1
        new = C.copy()
        nz = wsums > 1e-9 * max(float(wsums.max()), 1e-300)
        nz[:n_fixed] = False
        new[nz] = (sums[nz] / wsums[nz, None]).astype(np.float32)
        if not np.all(nz[n_fixed:]):
            moved = _relocate_empty(lloyd.X, lloyd.w, lloyd.d2(C), nz, new, n_fixed)
        else:
            moved = np.empty(0, np.int64)
        delta = np.sqrt(((new - C).astype(np.float64) ** 2).sum(axis=1))
        shift[:] = delta
        C[:] = new
        progress(p0 + (p1 - p0) * (it + 1) / max_iter)
        if moved.size == 0 and float((delta ** 2).sum()) <= tol * var:
            break
    # Exact labels for the final centers, and tight bounds (a full search):
    # the remap proves most colors' labels from them.
    lloyd.reset()
    lloyd.assign(C, shift)
    return n_iter


def _local_search(lloyd: _Lloyd, C, rng, *, n_swaps, n_fixed, tol, var, progress):
    """Swap local search after Lloyd (after Lattanzi & Sohler's k-means++ local search).

    A candidate point is drawn in proportion to its weighted squared error;
    the center whose replacement by it costs least is swapped, Lloyd passes
    converge again, and the swap is kept only if the inertia went down.
    Lloyd alone stops in the first local minimum; swaps climb out of many.
    Returns the number of Lloyd passes spent.
    """
    X, w = lloyd.X, lloyd.w
    n = X.shape[0]
    k = C.shape[0]
    if k - n_fixed < 2 or n <= k:
        return 0
    labels = np.empty(n, np.int32)
    d2 = np.empty(n, np.float64)
    second = np.empty(n, np.float64)
    parts = np.empty((max(1, (n + CHUNK - 1) // CHUNK), k + 1), np.float64)
    passes = 0
    for step in range(n_swaps):
        _best_two(X, C, labels, d2, second)
        cost = w * d2
        total = float(cost.sum())
        if total <= 0:
            break
        cum = np.cumsum(cost)
        p = min(int(np.searchsorted(cum, rng.random() * cum[-1], side="right")), n - 1)
        _swap_delta(X, w, labels, d2, second, p, parts)
        sums = parts.sum(axis=0)
        delta = sums[:k] + sums[k]
        delta[:n_fixed] = np.inf
        j = int(np.argmin(delta))
        trial = C.copy()
        trial[j] = X[p]
        passes += _lloyd(lloyd, trial, n_fixed=n_fixed, max_iter=20, tol=tol, var=var,
                         progress=lambda _p: None)
        if lloyd.inertia(trial) < total * (1 - 1e-7):
            C[:] = trial
        progress(0.9 + 0.1 * (step + 1) / n_swaps)
    # The caller expects the Lloyd state (labels, bounds) to match C.
    lloyd.reset()
    lloyd.assign(C, np.zeros(k, np.float32))
    return passes


def _fit_once(X, w, k, rng, *, batch_size, max_iter, tol, max_no_improvement,
              reassignment_ratio, init_size, polish_iter, n_swaps, fixed, lloyd, var, progress):
    n, d = X.shape
    n_fixed = 0 if fixed is None else fixed.shape[0]

    # 1. Greedy k-means++ on a weighted subsample (all points when n is small).
    if n <= init_size:
        Xi, wi = X, w
    else:
        cumw = np.cumsum(w)
        draw = np.searchsorted(cumw, rng.random(init_size) * cumw[-1], side="right")
        uniq, cnt = np.unique(np.minimum(draw, n - 1), return_counts=True)
        Xi, wi = np.ascontiguousarray(X[uniq]), cnt.astype(np.float64)
    C = _kmeanspp(Xi, wi, k, rng, fixed)
    progress(0.05)

    # 2. Mini-batches, when the data is several batches large.
    n_steps = 0
    if n >= 4 * batch_size:
        n_steps = _minibatch(X, w, C, rng, n_fixed=n_fixed, batch_size=batch_size,
                             max_iter=max_iter, tol=tol, max_no_improvement=max_no_improvement,
                             reassignment_ratio=reassignment_ratio, var=var, progress=progress)

    # 3. Full weighted Lloyd passes to polish.
    n_iter = _lloyd(lloyd, C, n_fixed=n_fixed, max_iter=max(1, polish_iter), tol=tol,
                    var=var, progress=progress, progress_span=(0.5, 0.9))
    if n_swaps:
        n_iter += _local_search(lloyd, C, rng, n_swaps=n_swaps, n_fixed=n_fixed, tol=tol,
                                var=var, progress=progress)
    inertia = lloyd.inertia(C)
    up, lo = lloyd.original_bounds()
    return KMeansState(C, lloyd.original_labels(), inertia, n_iter, n_steps, up, lo)


def _check_random_state(random_state) -> np.random.Generator:
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, (int, np.integer)):
        return np.random.default_rng(int(random_state))
    raise TypeError(f"random_state must be None, an int or a numpy Generator, got {random_state!r}")


def weighted_kmeans(X, sample_weight=None, n_clusters: int = 8, *, n_init: int = 1,
                    max_iter: int = 100, batch_size: int = 2048, tol: float = 1e-4,
                    max_no_improvement: int = 10, reassignment_ratio: float = 0.001,
                    init_size: int | None = None, polish_iter: int = 100,
                    n_swaps: int = 0, fixed_centers=None, random_state=0,
                    callback: ProgressCallback | None = None) -> KMeansState:
    """Weighted mini-batch k-means with Lloyd polish; see the module docstring.

    Parameters
    ----------
    X : (n, d) array-like of float
    sample_weight : (n,) array-like of non-negative float, or None for ones.
    n_clusters : int, at most the number of points with positive weight.
    n_swaps : int
        Local-search swap trials after the Lloyd polish (see ``_local_search``).
    fixed_centers : (f, d) array-like or None
        Centers that never move (locked colors); they are the first ``f`` rows
        of the result.
    callback : callable(progress: float) -> bool or None
        Called between mini-batches and Lloyd passes; returning False (or
        raising :class:`Cancelled`) stops the fit with :class:`Cancelled`.

    The caller guarantees ``n_clusters <= n`` distinct points (see
    :class:`MiniBatchKMeans` for the friendly checks).
    """
    X = np.ascontiguousarray(X, dtype=np.float32)
    n, d = X.shape
    w = np.ones(n) if sample_weight is None else np.ascontiguousarray(sample_weight, dtype=np.float64)
    k = int(n_clusters)
    fixed = None if fixed_centers is None else np.ascontiguousarray(fixed_centers, np.float32).reshape(-1, d)
    if fixed is not None and fixed.shape[0] == 0:
        fixed = None
    if init_size is None:
        init_size = int(min(max(4096, 16 * k), 3 * batch_size + 16 * k))
    rng = _check_random_state(random_state)
    progress = _Progress(callback, n_init)
    best = None
    total_w = float(w.sum())
    mean = (w @ X) / total_w
    var = float(w @ ((X - mean) ** 2).sum(axis=1)) / total_w / d
    with PARALLEL_LOCK:
        lloyd = _Lloyd(X, w, _build_grid(X, k))
        for run in range(n_init):
            progress.run = run
            state = _fit_once(X, w, k, rng, batch_size=batch_size, max_iter=max_iter, tol=tol,
                              max_no_improvement=max_no_improvement,
                              reassignment_ratio=reassignment_ratio, init_size=init_size,
                              polish_iter=polish_iter, n_swaps=n_swaps, fixed=fixed,
                              lloyd=lloyd, var=var,
                              progress=progress)
            if best is None or state.inertia < best.inertia:
                best = state
    progress.run = n_init - 1
    progress(1.0)
    return best


def assign_labels(X, centers) -> tuple[np.ndarray, np.ndarray]:
    """Exact nearest center per row of X (lowest index on ties).

    Returns (labels (n,) int32, squared distances (n,) float32).
    """
    X = np.ascontiguousarray(X, dtype=np.float32)
    C = np.ascontiguousarray(centers, dtype=np.float32)
    n = X.shape[0]
    labels = np.empty(n, np.int32)
    d2 = np.empty(n, np.float32)
    with PARALLEL_LOCK:
        g = _build_grid(X, C.shape[0])
        _nearest_grid(X, g.order, g.cell_starts, g.cell_lo, g.cell_hi, g.chunk_cells, C, labels, d2)
    return labels, d2
