"""Weighted histogram of an image's distinct colors.

Every later step (k-means, remap, metrics) works per distinct color rather
than per pixel: a 12-megapixel photo rarely has more than two million distinct
colors, and flat artwork has a few thousand.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from palette_app.core._config import CHUNK, JIT, JIT_PARALLEL, PARALLEL_LOCK

#: Colors are bucketed by their top 12 bits (4096 buckets of 4096 colors each),
#: so the per-bucket counting table (16 KiB) stays in L1 cache.
_NB = 4096
#: Pixels per chunk in the parallel passes (fixed: results must not depend on
#: the thread count).
_PCHUNK = 1 << 16


@njit(**JIT_PARALLEL)
def _bucket_count(pix, alpha_threshold, chunk_counts):
    """Pass 1: per chunk of pixels, how many fall in each top-12-bit bucket.

    pix : (n, c) uint8, c in {3, 4}          # IN
    alpha_threshold : int                    # IN pixels with alpha below it are skipped
    chunk_counts : (nchunks, 4096) int64     # OUT, zeros
    """
    n = pix.shape[0]
    c = pix.shape[1]
    nchunks = chunk_counts.shape[0]
    for ch in prange(nchunks):
        for i in range(ch * _PCHUNK, min(n, (ch + 1) * _PCHUNK)):
            if c == 4 and np.int64(pix[i, 3]) < alpha_threshold:
                continue
            b = (np.int64(pix[i, 0]) << 4) | (np.int64(pix[i, 1]) >> 4)
            chunk_counts[ch, b] += 1


@njit(**JIT_PARALLEL)
def _bucket_scatter(pix, alpha_threshold, chunk_offsets, low):
    """Pass 2: write each pixel's low 12 bits into its bucket's run.

    chunk_offsets : (nchunks, 4096) int64    # INOUT start of each chunk's part of a bucket
    low : (n_kept,) uint16                   # OUT
    """
    n = pix.shape[0]
    c = pix.shape[1]
    nchunks = chunk_offsets.shape[0]
    for ch in prange(nchunks):
        for i in range(ch * _PCHUNK, min(n, (ch + 1) * _PCHUNK)):
            if c == 4 and np.int64(pix[i, 3]) < alpha_threshold:
                continue
            b = (np.int64(pix[i, 0]) << 4) | (np.int64(pix[i, 1]) >> 4)
            low[chunk_offsets[ch, b]] = np.uint16(((np.int64(pix[i, 1]) & 15) << 8) | np.int64(pix[i, 2]))
            chunk_offsets[ch, b] += 1


@njit(**JIT_PARALLEL)
def _bucket_distinct(low, starts, n_distinct):
    """Pass 3a: distinct colors per bucket.

    low : (n_kept,) uint16 IN; starts : (4097,) int64 IN; n_distinct : (4096,) int64 OUT
    """
    for g in prange(_NB // 64):
        seen = np.zeros(4096, np.uint8)
        for b in range(g * 64, (g + 1) * 64):
            m = 0
            for i in range(starts[b], starts[b + 1]):
                v = low[i]
                if seen[v] == 0:
                    seen[v] = 1
                    m += 1
            n_distinct[b] = m
            for i in range(starts[b], starts[b + 1]):
                seen[low[i]] = 0


# De Bruijn sequence B(2, 6) and its position table: the index of a 64-bit
# word's lowest set bit without a loop (Numba has no count-trailing-zeros).
_DEBRUIJN = np.uint64(0x03F79D71B4CB0A89)
_DEBRUIJN_POS = np.zeros(64, np.int64)
for _i in range(64):
    _DEBRUIJN_POS[((int(_DEBRUIJN) << _i) & 0xFFFFFFFFFFFFFFFF) >> 58] = _i
del _i


@njit(**JIT_PARALLEL)
def _bucket_emit(low, starts, out_starts, colors, counts):
    """Pass 3b: distinct colors (ascending 24-bit value) and their counts.

    out_starts : (4097,) int64 IN; colors : (m, 3) uint8 OUT; counts : (m,) int64 OUT

    A 4096-bit occupancy map per bucket lists the present values in order at
    a cost of O(64 + distinct) instead of a scan of all 4096 table entries.
    """
    for g in prange(_NB // 64):
        tab = np.zeros(4096, np.int64)
        bits = np.zeros(64, np.uint64)
        for b in range(g * 64, (g + 1) * 64):
            if starts[b + 1] == starts[b]:
                continue
            for i in range(starts[b], starts[b + 1]):
                v = np.int64(low[i])
                if tab[v] == 0:
                    bits[v >> 6] |= np.uint64(1) << np.uint64(v & 63)
                tab[v] += 1
            j = out_starts[b]
            for wi in range(64):
                word = bits[wi]
                while word != np.uint64(0):
                    lowest = word & (~word + np.uint64(1))
                    v = wi * 64 + _DEBRUIJN_POS[np.int64((lowest * _DEBRUIJN) >> np.uint64(58))]
                    colors[j, 0] = b >> 4
                    colors[j, 1] = ((b & 15) << 4) | (v >> 8)
                    colors[j, 2] = v & 255
                    counts[j] = tab[v]
                    tab[v] = 0
                    j += 1
                    word ^= lowest
                bits[wi] = np.uint64(0)


@dataclass(frozen=True)
class ColorHistogram:
    """The distinct colors of an image and how many pixels have each.

    Attributes
    ----------
    colors : (m, 3) uint8
        Distinct sRGB colors, sorted by their 24-bit value ``r << 16 | g << 8 | b``.
    counts : (m,) int64
        Pixels per color.
    shape : (H, W)
    n_transparent : int
        Pixels left out (alpha below the threshold).
    """

    colors: np.ndarray
    counts: np.ndarray
    shape: tuple[int, int]
    n_transparent: int

    @property
    def n_pixels(self) -> int:
        return int(self.shape[0] * self.shape[1])

    def __len__(self) -> int:
        return int(self.colors.shape[0])


def check_image(image) -> np.ndarray:
    """Validate an (H, W, 3) or (H, W, 4) uint8 image; return it C-contiguous."""
    a = np.asarray(image)
    if a.ndim != 3 or a.shape[2] not in (3, 4):
        raise ValueError(f"expected an (H, W, 3) RGB or (H, W, 4) RGBA image, got shape {a.shape}")
    if a.dtype != np.uint8:
        raise ValueError(f"expected a uint8 image, got dtype {a.dtype}")
    if a.shape[0] == 0 or a.shape[1] == 0:
        raise ValueError(f"the image is empty (shape {a.shape})")
    return np.ascontiguousarray(a)


_local = threading.local()


def _scratch_uint16(n: int) -> np.ndarray:
    """A per-thread reusable buffer: a fresh 24 MiB array for a 12-MP image
    costs its page faults (~10 ms) on every call."""
    buf = getattr(_local, "low", None)
    if buf is None or buf.shape[0] < n:
        buf = _local.low = np.empty(max(n, 1 << 16), np.uint16)
    return buf[:n]


def color_histogram(image, *, alpha_threshold: int = 1) -> ColorHistogram:
    """Weighted histogram of the distinct colors of an (H, W, 3|4) uint8 image.

    Exact (full 24-bit colors), in three cache-friendly passes: bucket by the
    top 12 bits, scatter, then count each bucket in an L1-sized table. Pixels
    whose alpha is below ``alpha_threshold`` (RGBA only) are left out.
    """
    img = check_image(image)
    if not 0 <= int(alpha_threshold) <= 256:
        raise ValueError("alpha_threshold must be in 0..256")
    h, w, c = img.shape
    n = h * w
    pix = img.reshape(n, c)
    nchunks = (n + _PCHUNK - 1) // _PCHUNK
    with PARALLEL_LOCK:
        chunk_counts = np.zeros((nchunks, _NB), np.int64)
        _bucket_count(pix, int(alpha_threshold), chunk_counts)
        # Offsets: bucket-major, then chunk order: deterministic run layout.
        flat = chunk_counts.T.ravel()
        offsets = np.concatenate(([0], np.cumsum(flat)[:-1])).reshape(_NB, nchunks).T.copy()
        per_bucket = chunk_counts.sum(axis=0)
        starts = np.concatenate(([0], np.cumsum(per_bucket))).astype(np.int64)
        n_kept = int(starts[-1])
        low = _scratch_uint16(n_kept)
        _bucket_scatter(pix, int(alpha_threshold), offsets, low)
        n_distinct = np.empty(_NB, np.int64)
        _bucket_distinct(low, starts, n_distinct)
        out_starts = np.concatenate(([0], np.cumsum(n_distinct))).astype(np.int64)
        m = int(out_starts[-1])
        colors = np.empty((m, 3), np.uint8)
        counts = np.empty(m, np.int64)
        _bucket_emit(low, starts, out_starts, colors, counts)
    return ColorHistogram(colors, counts, (h, w), n - n_kept)


@njit(**JIT)
def _reduce_colors(colors, counts, bits, split_weight, slot, bin_w, means, out_w, point_of):
    """Merge colors into (2**bits)**3 bins, keeping each bin's weighted mean;
    colors of bins heavier than ``split_weight`` are kept exact.

    colors : (m, 3) uint8; counts : (m,) int64; bits : int; split_weight : float  # IN
    slot : (2**(3*bits),) int32, all -1                                            # INOUT scratch
    bin_w : (2**(3*bits),) float64, zeros                                          # INOUT scratch
    means : (m, 3) float32; out_w : (m,) float64                                   # OUT (first r rows)
    point_of : (m,) int32, the point each color went to                            # OUT
    Returns r, the number of points written.
    """
    shift = 8 - bits
    m = colors.shape[0]
    for i in range(m):
        b = ((np.int64(colors[i, 0]) >> shift) << (2 * bits)) | ((np.int64(colors[i, 1]) >> shift) << bits) | (np.int64(colors[i, 2]) >> shift)
        bin_w[b] += np.float64(counts[i])
    sums = np.zeros((m, 3), np.float64)
    r = 0
    for i in range(m):
        b = ((np.int64(colors[i, 0]) >> shift) << (2 * bits)) | ((np.int64(colors[i, 1]) >> shift) << bits) | (np.int64(colors[i, 2]) >> shift)
        c = np.float64(counts[i])
        if bin_w[b] > split_weight:
            j = r
            r += 1
            out_w[j] = 0.0
        else:
            j = slot[b]
            if j < 0:
                j = r
                slot[b] = r
                out_w[r] = 0.0
                r += 1
        out_w[j] += c
        point_of[i] = j
        sums[j, 0] += c * colors[i, 0]
        sums[j, 1] += c * colors[i, 1]
        sums[j, 2] += c * colors[i, 2]
    for j in range(r):
        means[j, 0] = np.float32(sums[j, 0] / out_w[j])
        means[j, 1] = np.float32(sums[j, 1] / out_w[j])
        means[j, 2] = np.float32(sums[j, 2] / out_w[j])
    return r


def reduce_histogram(colors: np.ndarray, counts: np.ndarray, bits: int = 6,
                     split_weight: float = np.inf, *, return_mapping: bool = False):
    """Merge a histogram's colors into ``bits``-per-channel bins.

    Returns (points (r, 3) float32, weights (r,) float64), and with
    ``return_mapping`` also (m,) int32, the point each color went to: each occupied bin's
    count-weighted mean color and total count, except that the colors of bins
    weighing more than ``split_weight`` pixels stay exact (a heavy bin is
    where merging would cost the most error). Sums per bin are exact, so a
    Lloyd update over the bins moves centers exactly as over the colors
    whenever a bin lies inside one cluster; only bins straddling a cluster
    boundary are assigned as a whole (libimagequant posterizes likewise).
    """
    if not 1 <= bits <= 8:
        raise ValueError("bits must be in 1..8")
    colors = np.ascontiguousarray(colors, np.uint8)
    counts = np.ascontiguousarray(counts, np.int64)
    slot = np.full(1 << (3 * bits), -1, np.int32)
    bin_w = np.zeros(1 << (3 * bits), np.float64)
    m = colors.shape[0]
    means = np.empty((m, 3), np.float32)
    out_w = np.empty(m, np.float64)
    point_of = np.empty(m, np.int32)
    r = _reduce_colors(colors, counts, bits, float(split_weight), slot, bin_w, means, out_w, point_of)
    if return_mapping:
        return means[:r].copy(), out_w[:r].copy(), point_of
    return means[:r].copy(), out_w[:r].copy()
