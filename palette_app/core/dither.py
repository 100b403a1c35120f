"""Dithering in the clustering space: Floyd–Steinberg, ordered (Bayer 8×8), and a smoothness mask.

Every function here works on pixel coordinates already converted to the
clustering space (:func:`palette_app.core.colorspace.to_space`) and on the
palette in that same space; which space it is does not matter. For the sRGB
space the image may stay uint8 (the coordinates are the 8-bit values): it is
then read as is, without a float32 copy of the whole image.

Three tiers, as everywhere in :mod:`palette_app.core`: the public, validating
:func:`dither_fs`, :func:`dither_ordered`, :func:`smooth_mask` and
:func:`nearest_indices`; private ``_`` functions that assume valid input; and
``@njit`` kernels that take preallocated outputs.

Exact nearest search
--------------------
Each pixel's (error-adjusted) color t needs its nearest palette entry: the
entry p with the smallest score |p|^2 - 2 t.p (the squared distance less
|t|^2, which is the same for every entry), computed in float64 with fused
multiply-adds (:func:`_score`), lowest index among equal scores. With integer
coordinates (uint8 sRGB pixels and palettes) every term is exact, so a tie is
a true tie; otherwise the score and a plain squared distance can disagree
only where two entries are equally far to about 1e-11.

:class:`_Grid` covers a box around the palette (grown by how far queries
stray from it) with 16³ coarse cells. A coarse cell that the image's colors
reach (found from a sample of its pixels) and where the palette is dense is
split into 2³ .. 16³ fine cells, about half as small as the spacing of its
entries (16³ only where at least ``_Grid.HOT`` of the sampled pixels fall).
Each fine cell holds one 32-bit word: the (at most) four entries that can be
nearest to *some* point of the cell, in increasing palette order, padded by
repeating the last. An entry ``c`` is left out only when, for one of the two
entries ``p`` nearest the cell's center, the bisector of ``p`` and ``c``
leaves the whole cell on ``p``'s side (a linear test at the cell's corners; a
small tolerance keeps borderline entries, so rounding can never drop the true
nearest). The outermost cells extend to infinity, so every query, however
far outside the palette, is answered exactly. A cell where more than four
entries can win holds a marker instead (low byte 255: never an ascending
list but [255] * 4), and its query reads an 8-entry word kept aside, or,
past eight, scans the coarse cell's list.

A query is then a few integer operations, two dependent table reads and four
scores, without a branch: the candidates are compared pairwise, and since the
word is ascending a later entry wins only when strictly lower, which keeps
the lowest index on ties. Measured on a 12-MP photo mosaic with 256 colors:
99.6 % of its pixels' colors (and of colors jittered by half the error clamp)
end in the 4-entry word in sRGB and OKLab, nearly all the rest in the 8-entry
one; the grids have 0.3 M (sRGB) and 0.8 M (OKLab) words and build in 8-10 ms.

Why Floyd–Steinberg is still the slow one
-----------------------------------------
Floyd–Steinberg is sequential along a row: each pixel's color needs the error
of the pixel just before it, and that error needs the pixel's nearest entry
(the cell from the color, two dependent table reads, the candidates' scores,
the comparisons, the clamp: a chain of about a hundred cycles). Independent
strips of rows run in parallel on the cores, and each core runs four strips
in lockstep, pixel by pixel, so that while one strip's chain waits the
others fill the gap. The four strips' rows have the same parity, so they walk
the same columns in the same direction and share one column index, and
their error rows are interleaved. Every per-pixel step is branch-free
(:func:`_select`, not ``if``) but for the rare long-list query, since a
mispredicted branch throws away all four strips' work in flight.

Measured on that mosaic (256 colors, sRGB, one core of the 2-core Zen 4 VM
the benchmark runs on): 14 ns per pixel, from 21 with three strips, a
shallower grid and plain squared distances, and 41 before the lockstep design.
The kernels are compiled without Numba's runtime (``JIT_NO_NRT``): they
allocate nothing, and with the runtime every inlined helper that takes an
array and branches cost a reference-count call per pixel.
"""
from __future__ import annotations

import numpy as np
from llvmlite import ir as llvm_ir
from numba import njit, prange, types
from numba.extending import intrinsic, overload

from palette_app.core._config import JIT, JIT_PARALLEL, PARALLEL_LOCK

#: Each coordinate of the error a pixel passes on is clamped to this many
#: palette spreads (see :func:`palette_spread`). Measured on china.jpg at 8-256
#: colors in sRGB and OKLab: 1 gives a lower blurred error than no clamp and
#: than 0.5, and far fewer outlier pixels than 2 or no clamp (see the README).
FS_MAX_ERROR = 1.0

#: Floyd–Steinberg runs in independent strips of rows (see _fs_strip_rows):
#: one strip up to FS_STRIP rows, else strips of at most 2 * FS_MIN_STRIP rows
#: (and at least FS_MIN_STRIP from 8 * FS_MIN_STRIP rows up). Each strip first
#: runs, and discards, the FS_WARMUP rows above it, so that it starts with a
#: realistic error state instead of none: measured on
#: china.jpg at 16-256 colors, the low-pass error of a strip's first rows is
#: that of one serial pass with 4, 8 or 16 rows (and 3-7 % higher with none).
#: Strips and warm-up are even: every strip starts on an even row, as the
#: serpentine scan of the whole image does.
FS_STRIP = 256
FS_MIN_STRIP = 96
FS_WARMUP = 8


def _bayer(n: int) -> np.ndarray:
    """The n×n Bayer index matrix (n a power of two), values 0 .. n*n - 1."""
    m = np.zeros((1, 1), np.int64)
    while m.shape[0] < n:
        m = np.block([[4 * m, 4 * m + 2], [4 * m + 3, 4 * m + 1]])
    return m


#: Bayer 8×8 thresholds in (0, 1): (index + 0.5) / 64.
BAYER8 = (_bayer(8) + 0.5) / 64.0


@intrinsic
def _select(typingctx, cond, a, b):
    """``a if cond else b`` as one LLVM ``select``.

    Numba lowers a conditional expression to branches, which LLVM keeps when
    the arms are more than a move; on data-dependent conditions (which of two
    candidates is nearer) those branches mispredict about half the time.
    """
    if a != b:
        return None
    sig = a(cond, a, b)

    def codegen(context, builder, signature, args):
        c, x, y = args
        return builder.select(c, x, y)
    return sig, codegen


@intrinsic
def _fma(typingctx, a, b, c):
    """``a * b + c`` rounded once (LLVM's ``fma``).

    An explicit fused multiply-add is never re-associated or contracted
    differently from one copy of an expression to the next, as fastmath may do
    with ``a * b + c``: equal inputs always give equal results, so the lowest
    index wins a tie between two entries at the same place.
    """
    if not all(isinstance(t, types.Float) for t in (a, b, c)):
        return None
    sig = types.float64(types.float64, types.float64, types.float64)

    def codegen(context, builder, signature, args):
        f64 = llvm_ir.DoubleType()
        fn = builder.module.declare_intrinsic("llvm.fma", [f64], llvm_ir.FunctionType(f64, [f64, f64, f64]))
        return builder.call(fn, list(args))
    return sig, codegen


# -- the search grid ------------------------------------------------------------------

_NB_BITS = 4
#: Coarse cells per axis.
_NB = 1 << _NB_BITS
#: A coarse cell splits into at most 2**_RMAX fine cells per axis.
_RMAX = 4
#: Low bits of a coarse cell's ``cw`` entry that hold its depth (0 .. _RMAX).
_DBITS = 3
#: Fine-cell positions per axis (the finest resolution).
_NF = _NB << _RMAX
#: Entries in a fine cell's word.
_K = 4
#: Low byte of a word whose cell has more than _K candidates.
_LONG = 0xFF
#: A dense coarse cell is split until its fine cells are no larger than this
#: many times the distance from its entries to their nearest neighbours.
#: Measured on a 12-MP photo mosaic, 256 colors, sRGB, with up to 16^3 fine
#: cells per coarse cell: 0.5 leaves 0.3 % of the pixels' colors to the
#: 8-entry words, 1 leaves 13 %; 0.25 builds twice the words for no gain.
_SPLIT = 0.5
_NO_ENTRY = np.int64(-1)


@njit(inline="always", **JIT)
def _side(w, a, b):
    """Smallest w * x over a <= x <= b (infinite ends allowed; 0 when w is 0)."""
    return _select(w > 0.0, w * a, _select(w < 0.0, w * b, 0.0))


@njit(inline="always", **JIT)
def _may_win(pal, p, c, a0, b0, a1, b1, a2, b2, tol):
    """Whether palette entry ``c`` is at least as close as ``p`` somewhere in the box.

    |x - c|^2 <= |x - p|^2  <=>  2 x.(p - c) <= |p|^2 - |c|^2; the left side
    is linear in x, so its minimum over the box sits at a corner (or is -inf
    along an unbounded side).
    """
    p0 = pal[p, 0]
    p1 = pal[p, 1]
    p2 = pal[p, 2]
    c0 = pal[c, 0]
    c1 = pal[c, 1]
    c2 = pal[c, 2]
    lhs = (_side(2.0 * (p0 - c0), a0, b0) + _side(2.0 * (p1 - c1), a1, b1)
           + _side(2.0 * (p2 - c2), a2, b2))
    rhs = (p0 * p0 + p1 * p1 + p2 * p2) - (c0 * c0 + c1 * c1 + c2 * c2)
    return lhs <= rhs + tol


@njit(**JIT)
def _mid(a, b):
    """Middle of [a, b]; one unit inside the finite end of a half-unbounded interval."""
    if a == -np.inf:
        return b - 1.0
    if b == np.inf:
        return a + 1.0
    return 0.5 * (a + b)


@njit(**JIT)
def _prune(pal, src, s, e, a0, b0, a1, b1, a2, b2, tol, dst, pos):
    """Append to dst[pos:] the entries of src[s:e] that may be nearest somewhere in the box.

    pal : (k, 3) float64            # IN
    src : uint8                     # IN candidate entries, ascending
    a0, b0, a1, b1, a2, b2 : float  # IN the box (infinite ends allowed)
    dst : uint8                     # OUT (appended at pos, ascending)
    An entry is dropped when one of the two entries nearest the box's center
    is at least as close everywhere in the box (see :func:`_may_win`).
    Returns the new pos.
    """
    x0 = _mid(a0, b0)
    x1 = _mid(a1, b1)
    x2 = _mid(a2, b2)
    p = _NO_ENTRY
    q = _NO_ENTRY
    dp = np.inf
    dq = np.inf
    for i in range(s, e):
        j = np.int64(src[i])
        d0 = x0 - pal[j, 0]
        d1 = x1 - pal[j, 1]
        d2 = x2 - pal[j, 2]
        d = d0 * d0 + d1 * d1 + d2 * d2
        if d < dp:
            q, dq = p, dp
            p, dp = j, d
        elif d < dq:
            q, dq = j, d
    for i in range(s, e):
        c = np.int64(src[i])
        if c != p and not _may_win(pal, p, c, a0, b0, a1, b1, a2, b2, tol):
            continue
        if q != _NO_ENTRY and c != q and not _may_win(pal, q, c, a0, b0, a1, b1, a2, b2, tol):
            continue
        dst[pos] = c
        pos += 1
    return pos


@njit(**JIT)
def _bound(i, n, lo, h):
    """Bounds of cell i of n along one axis (cell side h); the end cells are unbounded."""
    a = -np.inf if i == 0 else lo + i * h
    b = np.inf if i == n - 1 else lo + (i + 1) * h
    return a, b


@njit(**JIT)
def _coarse_lists(pal, lo, hf, tol):
    """Candidate lists of the _NB^3 coarse cells, refined level by level from one cell.

    pal : (k, 3) float64     # IN
    lo : (3,) float64        # IN lower corner of the grid's finite part
    hf : (3,) float64        # IN fine-cell sides
    tol : float              # IN slack of the bisector test
    Returns (starts (_NB^3 + 1,) int64, cands uint8): coarse cell
    (i * _NB + j) * _NB + l lists cands[starts[c]:starts[c + 1]], ascending.
    """
    k = pal.shape[0]
    starts = np.zeros(2, np.int64)
    starts[1] = k
    cands = np.arange(k).astype(np.uint8)
    n = 1
    while n < _NB:
        pn = n
        n *= 2
        h0 = hf[0] * (_NF // n)
        h1 = hf[1] * (_NF // n)
        h2 = hf[2] * (_NF // n)
        nstarts = np.zeros(n * n * n + 1, np.int64)
        cap = n * n * n * 16 + k
        ncands = np.empty(cap, np.uint8)
        pos = 0
        for i in range(n):
            a0, b0 = _bound(i, n, lo[0], h0)
            for j in range(n):
                a1, b1 = _bound(j, n, lo[1], h1)
                for m in range(n):
                    a2, b2 = _bound(m, n, lo[2], h2)
                    par = ((i >> 1) * pn + (j >> 1)) * pn + (m >> 1)
                    s = starts[par]
                    e = starts[par + 1]
                    if pos + (e - s) > cap:
                        cap = 2 * cap + (e - s)
                        grown = np.empty(cap, np.uint8)
                        grown[:pos] = ncands[:pos]
                        ncands = grown
                    pos = _prune(pal, cands, s, e, a0, b0, a1, b1, a2, b2, tol, ncands, pos)
                    nstarts[(i * n + j) * n + m + 1] = pos
        starts = nstarts
        cands = ncands[:pos].copy()
    return starts, cands


@njit(**JIT)
def _mark(img, rows, cols, of0, of1, of2, ih0, ih1, ih2, hits):
    """Count, per coarse cell, the pixels of a sample that fall in it.

    img : (H, W, 3) float32 or uint8    # IN
    rows, cols : int                    # IN sample every cols-th pixel of every rows-th row
    of0 .. ih2 : float                  # IN the grid's offsets and inverse fine-cell sides (_axis)
    hits : (_NB^3,) int64               # INOUT
    """
    for y in range(0, img.shape[0], rows):
        for x in range(0, img.shape[1], cols):
            f0 = _axis(np.float64(img[y, x, 0]), of0, ih0)
            f1 = _axis(np.float64(img[y, x, 1]), of1, ih1)
            f2 = _axis(np.float64(img[y, x, 2]), of2, ih2)
            u = np.uintp
            hits[((f0 >> u(_RMAX)) << u(2 * _NB_BITS)) | ((f1 >> u(_RMAX)) << u(_NB_BITS))
                 | (f2 >> u(_RMAX))] += 1


@njit(**JIT)
def _depths(cstarts, ccands, nn, hc, split, used, cap, depth):
    """Split depth of every coarse cell.

    cstarts, ccands          # IN coarse lists
    nn : (k,) float64        # IN each entry's distance to its nearest other entry
    hc : float               # IN the coarse cells' longest side
    split : float            # IN fine side <= split * the smallest nn in the list
    used : (_NB^3,) bool     # IN cells that queries reach (the others stay whole)
    cap : (_NB^3,) int64     # IN largest depth per cell
    depth : (_NB^3,) int64   # OUT 0 .. _RMAX (0 where the list fits one word)
    """
    for c in range(depth.shape[0]):
        s = cstarts[c]
        e = cstarts[c + 1]
        r = 0
        if used[c] and e - s > _K:
            near = np.inf
            for i in range(s, e):
                near = min(near, nn[np.int64(ccands[i])])
            h = hc
            while r < cap[c] and h > split * near:
                h *= 0.5
                r += 1
        depth[c] = r


@njit(**JIT)
def _spacing(pal, nn):
    """nn[j] = distance from entry j to the nearest entry at a different place (inf if none).

    pal : (k, 3) float32 or float64   # IN
    nn : (k,) float64                 # OUT
    """
    k = pal.shape[0]
    for a in range(k):
        best = np.inf
        for b in range(k):
            d0 = np.float64(pal[a, 0]) - np.float64(pal[b, 0])
            d1 = np.float64(pal[a, 1]) - np.float64(pal[b, 1])
            d2 = np.float64(pal[a, 2]) - np.float64(pal[b, 2])
            d = d0 * d0 + d1 * d1 + d2 * d2
            if 0.0 < d < best:
                best = d
        nn[a] = np.sqrt(best)


@njit(**JIT)
def _pack(lst, s, e):
    """The word of a cell listing lst[s:e] (ascending), or the long-list marker."""
    m = e - s
    if m > _K:
        return np.uint32(_LONG)
    w = np.uint32(0)
    for q in range(_K):
        w |= np.uint32(lst[s + min(q, m - 1)]) << np.uint32(8 * q)
    return w


@njit(**JIT)
def _pack8(lst, s, e):
    """The 8-entry word of a cell listing lst[s:e], or the long-list marker."""
    m = e - s
    if m > 2 * _K:
        return np.uint64(_LONG)
    w = np.uint64(0)
    for q in range(2 * _K):
        w |= np.uint64(lst[s + min(q, m - 1)]) << np.uint64(8 * q)
    return w


@njit(**JIT_PARALLEL)
def _fine_words(pal, lo, hf, tol, cstarts, ccands, depth, base, words, words8):
    """Words of every fine cell, coarse cells in parallel.

    pal, lo, hf, tol                # IN as in :func:`_coarse_lists`
    cstarts, ccands                 # IN coarse lists
    depth : (_NB^3,) int64          # IN split depth r of each coarse cell
    base : (_NB^3,) int64           # IN where its 8^r words start
    words : uint32                  # OUT fine cell (si, sj, sl) of coarse cell c is
                                    #     words[base[c] + ((si << 2r) | (sj << r) | sl)]
    words8 : uint64                 # OUT where a word's low byte is _LONG: the 8-entry word
                                    #     (low byte _LONG again: scan the coarse list);
                                    #     elsewhere untouched
    Lists are refined a level at a time from the coarse list; a cell whose
    parent list already fits a word shares it (no test, no copy).
    """
    ncell = _NB * _NB * _NB
    sub = 1 << (3 * _RMAX)
    longest = 0
    for c in range(ncell):
        longest = max(longest, cstarts[c + 1] - cstarts[c])
    nchunk = 64
    per = ncell // nchunk
    for ch in prange(nchunk):
        # Every level's lists, appended; a child is never longer than its parent.
        levels = 0
        for r in range(_RMAX + 1):
            levels += 1 << (3 * r)
        pool = np.empty(levels * longest, np.uint8)
        st = np.empty(sub, np.int64)
        ln = np.empty(sub, np.int64)
        nst = np.empty(sub, np.int64)
        nln = np.empty(sub, np.int64)
        for c in range(ch * per, ch * per + per):
            ci = c >> (2 * _NB_BITS)
            cj = (c >> _NB_BITS) & (_NB - 1)
            cl = c & (_NB - 1)
            s = cstarts[c]
            m = cstarts[c + 1] - s
            pool[:m] = ccands[s:s + m]
            pos = m
            st[0] = 0
            ln[0] = m
            rt = depth[c]
            for r in range(rt):
                r1 = r + 1
                n1 = 1 << r1
                nr = _NB << r1
                sh = _RMAX - r1
                h0 = hf[0] * (1 << sh)
                h1 = hf[1] * (1 << sh)
                h2 = hf[2] * (1 << sh)
                for si in range(n1):
                    a0, b0 = _bound((ci << r1) + si, nr, lo[0], h0)
                    for sj in range(n1):
                        a1, b1 = _bound((cj << r1) + sj, nr, lo[1], h1)
                        for sl in range(n1):
                            par = ((si >> 1) << (2 * r)) | ((sj >> 1) << r) | (sl >> 1)
                            q = (si << (2 * r1)) | (sj << r1) | sl
                            if ln[par] <= _K:
                                nst[q] = st[par]
                                nln[q] = ln[par]
                            else:
                                a2, b2 = _bound((cl << r1) + sl, nr, lo[2], h2)
                                e = _prune(pal, pool, st[par], st[par] + ln[par], a0, b0, a1, b1, a2, b2,
                                           tol, pool, pos)
                                nst[q] = pos
                                nln[q] = e - pos
                                pos = e
                st, nst = nst, st
                ln, nln = nln, ln
            b = base[c]
            for q in range(1 << (3 * rt)):
                w = _pack(pool, st[q], st[q] + ln[q])
                words[b + q] = w
                # Also for [255] * 4, which queries take for the marker.
                if (w & np.uint32(0xFF)) == _LONG:
                    words8[b + q] = _pack8(pool, st[q], st[q] + ln[q])


class _Grid:
    """The nearest-search grid of one palette (see the module docstring).

    ``reach``: how far outside the palette's box queries usually go (the
    error clamp for Floyd–Steinberg); the grid's finite part covers it, so
    those queries get small cells too.
    """

    def __init__(self, palette: np.ndarray, reach: float = 0.0, image=None):
        pal = np.ascontiguousarray(palette, np.float64)
        k = pal.shape[0]
        pmin = pal.min(axis=0)
        pmax = pal.max(axis=0)
        scale = float(np.abs(pal).max()) + 1.0
        ext = float((pmax - pmin).max())
        margin = float(reach) + max(ext / 16.0, 1e-3 * scale)
        lo = pmin - margin
        hf = ((pmax + margin) - lo) / _NF
        #: inverse fine-cell sides and offsets: t's fine cell along axis a is
        #: t * ih[a] + of[a] (see _axis)
        self.ih = 1.0 / hf
        self.of = -lo * self.ih
        # Rounding in a squared distance is ~1e-16 of it; this slack is far larger.
        tol = 1e-9 * (scale + margin) ** 2 * 16.0
        self.cstarts, self.ccands = _coarse_lists(pal, lo, hf, tol)
        used, cap = self._used(image, reach, hf)
        nn = np.empty(k)
        _spacing(pal, nn)
        depth = np.empty(_NB ** 3, np.int64)
        _depths(self.cstarts, self.ccands, nn, float(hf.max()) * (1 << _RMAX), _SPLIT, used, cap, depth)
        size = np.left_shift(1, 3 * depth)
        base = np.zeros(_NB ** 3, np.int64)
        np.cumsum(size[:-1], out=base[1:])
        self.words = np.empty(int(size.sum()), np.uint32)
        self.words8 = np.empty(int(size.sum()), np.uint64)
        with PARALLEL_LOCK:
            _fine_words(pal, lo, hf, tol, self.cstarts, self.ccands, depth, base, self.words, self.words8)
        #: per coarse cell: (where its words start << _DBITS) | depth
        self.cw = ((base << _DBITS) | depth).astype(np.uint32)
        # Rows of 4 so that an entry's coordinates are one aligned 32-byte block;
        # 256 rows so that a stray index can never read outside.
        pal4 = np.zeros((256, 4))
        pal4[:k, :3] = pal
        self.pal4 = pal4.reshape(-1)
        # The same rows as (2p, |p|^2), what a query's scores are made of (see _score).
        palx = np.zeros((256, 4))
        palx[:k, :3] = 2.0 * pal
        palx[:k, 3] = (pal * pal).sum(axis=1)
        self.palx = palx.reshape(-1)

    #: Pixels sampled to find the coarse cells an image's queries reach.
    SAMPLE = 1 << 16
    #: Share of the sampled pixels a coarse cell needs to be split 16 x 16 x 16
    #: (others stop at 8 x 8 x 8): the deepest split costs 8x the words, and
    #: pays only where many queries land. Measured on a 12-MP photo mosaic
    #: (256 colors, sRGB): 0.1 % and 1 % give the same Floyd–Steinberg speed.
    HOT = 1e-3

    def _used(self, image, reach, hf):
        """(used, cap): the coarse cells worth splitting (those a sample of
        ``image``'s pixels fall in, grown by ``reach``; all without an image),
        and how deep each may be split."""
        if image is None:  # everywhere, but not to the deepest level (8x the words)
            return np.ones(_NB ** 3, np.bool_), np.full(_NB ** 3, _RMAX - 1, np.int64)
        h, w = image.shape[:2]
        # Whole stretches of a few rows: reading them costs far fewer memory
        # round trips than a sparse grid of pixels.
        cols = 4 if h * w >= 64 * self.SAMPLE else 1
        rows = max(1, int(h * w / (cols * self.SAMPLE)))
        hits = np.zeros(_NB ** 3, np.int64)
        _mark(_frozen(image), rows, cols, *self.of, *self.ih, hits)
        used = (hits > 0).reshape(_NB, _NB, _NB)
        for axis in range(3):
            cells = int(np.ceil(float(reach) / (hf[axis] * (1 << _RMAX))))
            for _ in range(min(cells, _NB)):
                grown = used.copy()
                lo_, hi_ = [slice(None)] * 3, [slice(None)] * 3
                lo_[axis], hi_[axis] = slice(1, None), slice(None, -1)
                grown[tuple(lo_)] |= used[tuple(hi_)]
                grown[tuple(hi_)] |= used[tuple(lo_)]
                used = grown
        cap = np.where(hits >= self.HOT * hits.sum(), _RMAX, _RMAX - 1)
        return used.reshape(-1), cap.astype(np.int64)

    def args(self):
        """The grid as the kernels take it (see :func:`_locate`)."""
        return (self.of[0], self.of[1], self.of[2], self.ih[0], self.ih[1], self.ih[2],
                self.cw, self.words, self.words8, self.cstarts, self.ccands, self.pal4, self.palx)

    def word_index(self, points) -> np.ndarray:
        """Index into ``words`` of the fine cell of each of ``points`` (N, 3) (numpy, for tests)."""
        f = np.clip(np.asarray(points, np.float64) * self.ih + self.of, 0, _NF - 1).astype(np.int64)
        c = self.cw[((f[:, 0] >> _RMAX) << (2 * _NB_BITS)) | ((f[:, 1] >> _RMAX) << _NB_BITS)
                    | (f[:, 2] >> _RMAX)].astype(np.int64)
        r = c & ((1 << _DBITS) - 1)
        sh = _RMAX - r
        m = (1 << _RMAX) - 1
        return (c >> _DBITS) + ((((f[:, 0] & m) >> sh) << (2 * r)) | (((f[:, 1] & m) >> sh) << r)
                           | ((f[:, 2] & m) >> sh))

    def query_kinds(self, points) -> tuple[float, float, float]:
        """Shares of ``points`` (N, 3) answered by a 4-entry word, an 8-entry word,
        and a scan of the coarse list."""
        i = self.word_index(points)
        long4 = (self.words[i] & 0xFF) == _LONG
        long8 = long4 & ((self.words8[np.where(long4, i, 0)] & 0xFF) == _LONG)
        return 1.0 - float(long4.mean()), float((long4 & ~long8).mean()), float(long8.mean())


# -- one query: branch-free ----------------------------------------------------------

#: The per-pixel kernels and their helpers allocate nothing; compiled without
#: Numba's runtime, a helper that takes arrays and branches costs no reference
#: counting per pixel once inlined. The small helpers are plain functions that
#: LLVM inlines: inlining them in Numba (``inline="always"``) compiled the
#: four-strip kernel in 23 s instead of 5 s, for the same speed.
JIT_NO_NRT = dict(JIT, _nrt=False)


@njit(**JIT_NO_NRT)
def _axis(t, of, ih):
    """Fine-cell coordinate of t along one axis, (t - lo) / side as t * ih + of
    (one multiply-add), clamped into 0 .. _NF-1 (NaN -> 0)."""
    f = t * ih + of
    f = _select(f > 0.0, f, 0.0)
    f = _select(f < _NF - 1.0, f, _NF - 1.0)
    return np.uintp(f)


@njit(**JIT_NO_NRT)
def _locate(t0, t1, t2, of0, of1, of2, ih0, ih1, ih2, cw, words):
    """(word, its index, coarse cell) of the point (t0, t1, t2)."""
    f0 = _axis(t0, of0, ih0)
    f1 = _axis(t1, of1, ih1)
    f2 = _axis(t2, of2, ih2)
    u = np.uintp
    cell = (((f0 >> u(_RMAX)) << u(2 * _NB_BITS)) | ((f1 >> u(_RMAX)) << u(_NB_BITS))
            | (f2 >> u(_RMAX)))
    c = u(cw[cell])
    r = c & u((1 << _DBITS) - 1)
    sh = u(_RMAX) - r
    m = u((1 << _RMAX) - 1)
    q = (((f0 & m) >> sh) << (r + r)) | (((f1 & m) >> sh) << r) | ((f2 & m) >> sh)
    i = (c >> u(_DBITS)) + q
    return u(words[i]), i, cell


@njit(**JIT_NO_NRT)
def _score(t0, t1, t2, palx, j):
    """|p|^2 - 2 t.p for entry p = j: its squared distance to t less |t|^2 (the
    same for every entry), from palx's row (2p, |p|^2) with three multiply-adds."""
    k = j << np.uintp(2)
    s = _fma(-t0, palx[k], palx[k + np.uintp(3)])
    s = _fma(-t1, palx[k + np.uintp(1)], s)
    return _fma(-t2, palx[k + np.uintp(2)], s)


@njit(**JIT_NO_NRT)
def _best4(t0, t1, t2, w, palx):
    """(j, its score) for the nearest of the four entries in word w.

    The word is ascending, so a later entry wins only when strictly closer:
    the lowest index among equal scores. Meaningless for a long-list word.
    """
    u = np.uintp
    j0 = w & u(255)
    j1 = (w >> u(8)) & u(255)
    j2 = (w >> u(16)) & u(255)
    j3 = (w >> u(24)) & u(255)
    d0 = _score(t0, t1, t2, palx, j0)
    d1 = _score(t0, t1, t2, palx, j1)
    d2 = _score(t0, t1, t2, palx, j2)
    d3 = _score(t0, t1, t2, palx, j3)
    x = d1 < d0
    d0 = _select(x, d1, d0)
    j0 = _select(x, j1, j0)
    y = d3 < d2
    d2 = _select(y, d3, d2)
    j2 = _select(y, j3, j2)
    z = d2 < d0
    return _select(z, j2, j0), _select(z, d2, d0)


@njit(**JIT_NO_NRT)
def _scan(t0, t1, t2, cell, cstarts, ccands, palx):
    """The nearest entry of coarse cell ``cell``'s list (the rarest path: a call)."""
    s = np.uintp(cstarts[cell])
    e = np.uintp(cstarts[cell + np.uintp(1)])
    bj = np.uintp(ccands[s])
    bd = _score(t0, t1, t2, palx, bj)
    for n in range(s + np.uintp(1), e):
        j = np.uintp(ccands[n])
        d = _score(t0, t1, t2, palx, j)
        if d < bd:
            bd = d
            bj = j
    return bj


@njit(inline="always", **JIT)
def _long(t0, t1, t2, i, cell, words8, cstarts, ccands, palx):
    """The nearest entry where fine cell i has more than _K candidates: from its
    8-entry word, or when even that is too short, the coarse cell's list.

    Inlined: a call in the middle of the lockstep loop makes the compiler keep
    every strip's state on the stack around it (measured: about 5 % slower).
    """
    w = np.uintp(words8[i])
    if (w & np.uintp(255)) == np.uintp(_LONG):
        return _scan(t0, t1, t2, cell, cstarts, ccands, palx)
    j, a = _best4(t0, t1, t2, w & np.uintp(0xFFFFFFFF), palx)
    k, b = _best4(t0, t1, t2, w >> np.uintp(32), palx)
    # The upper half holds the later entries: it wins only when strictly closer.
    return _select(b < a, k, j)


@njit(**JIT_NO_NRT)
def _long_call(t0, t1, t2, i, cell, words8, cstarts, ccands, palx):
    """:func:`_long` as a call, for the loops with one pixel at a time: there,
    inlining it measured 1.6x slower (nearest remap and ordered dithering)."""
    return _long(t0, t1, t2, i, cell, words8, cstarts, ccands, palx)


@njit(**JIT_NO_NRT)
def _nearest(t0, t1, t2, of0, of1, of2, ih0, ih1, ih2, cw, words, words8, cstarts, ccands, palx):
    """Index of the entry nearest (t0, t1, t2) (see the module docstring)."""
    w, i, c = _locate(t0, t1, t2, of0, of1, of2, ih0, ih1, ih2, cw, words)
    j = _best4(t0, t1, t2, w, palx)[0]
    if (w & np.uintp(255)) == np.uintp(_LONG):
        j = _long_call(t0, t1, t2, i, c, words8, cstarts, ccands, palx)
    return j


@njit(**JIT_NO_NRT)
def _clamp(e, lim):
    """e clamped into [-lim, lim]; NaN goes to -lim (it must not reach the error rows)."""
    e = _select(e > -lim, e, -lim)
    return _select(e < lim, e, lim)


def _gain(strength, edge, ue, p):
    """strength, times edge[p] when there is an edge mask (ue = 1; edge may also
    be a one-element dummy with ue = 0, or None). Masks are flat: p = y * W + x."""


@overload(_gain, inline="always")
def _gain_impl(strength, edge, ue, p):
    if isinstance(edge, types.NoneType):
        return lambda strength, edge, ue, p: np.float64(strength)
    return lambda strength, edge, ue, p: strength * np.float64(edge[p * ue])


def _clear(alpha, ua, p):
    """Whether pixel p is transparent (ua = 1; alpha may also be a one-element
    dummy with ua = 0, or None: never)."""


@overload(_clear, inline="always")
def _clear_impl(alpha, ua, p):
    if isinstance(alpha, types.NoneType):
        return lambda alpha, ua, p: False
    return lambda alpha, ua, p: alpha[p * ua] & (ua != np.uintp(0))


# Integer images cannot hold NaN: their kernels skip the test.

def _finite(img, t0, t1, t2):
    """Whether (t0, t1, t2) is finite (always, for integer images)."""


@overload(_finite, inline="always")
def _finite_impl(img, t0, t1, t2):
    if isinstance(img.dtype, types.Integer):
        return lambda img, t0, t1, t2: True
    return lambda img, t0, t1, t2: (t0 * 0.0 == 0.0) & (t1 * 0.0 == 0.0) & (t2 * 0.0 == 0.0)


# -- Floyd–Steinberg -------------------------------------------------------------------


_W7 = 7.0 / 16.0
_W5 = 5.0 / 16.0
_W3 = 3.0 / 16.0
_W1 = 1.0 / 16.0


@njit(**JIT_NO_NRT)
def _fs_in(img, p, err, i, a0, a1, a2, strength, edge, ue):
    """Error-adjusted color of flat pixel p.

    err[i:i + 3] is the error from the row above; a is the previous pixel's
    error (it passes on 7/16 of it).
    """
    u = np.uintp
    g = _gain(strength, edge, ue, p)
    q = p * u(3)
    # a last, in one multiply-add: the chain from pixel to pixel is that long.
    g7 = g * _W7
    t0 = (np.float64(img[q]) + g * err[i]) + g7 * a0
    t1 = (np.float64(img[q + u(1)]) + g * err[i + u(1)]) + g7 * a1
    t2 = (np.float64(img[q + u(2)]) + g * err[i + u(2)]) + g7 * a2
    return t0, t1, t2


@njit(**JIT_NO_NRT)
def _fs_out(img, alpha, ua, p, j, t0, t1, t2, tindex, lim, pal4):
    """(index, clamped error, bad) of flat pixel p whose nearest entry is j: a
    transparent pixel gets tindex and passes on no error; bad flags an opaque
    pixel whose color is not finite."""
    u = np.uintp
    k = j << u(2)
    clear = _clear(alpha, ua, p)
    e0 = _select(clear, 0.0, _clamp(t0 - pal4[k], lim))
    e1 = _select(clear, 0.0, _clamp(t1 - pal4[k + u(1)], lim))
    e2 = _select(clear, 0.0, _clamp(t2 - pal4[k + u(2)], lim))
    bad = (not clear) & (not _finite(img, t0, t1, t2))
    return _select(clear, tindex, j), e0, e1, e2, np.int64(bad)


@njit(**JIT_NO_NRT)
def _fs_below(err, i, p0, p1, p2, a0, a1, a2, e0, e1, e2):
    """err[i:i + 3] = (p/16 + 5a/16) + 3e/16: the next row's error under the pixel
    with error a, from it and from the pixels before (p) and after (e) it in scan order."""
    err[i] = p0 * _W1 + a0 * _W5 + e0 * _W3
    err[i + np.uintp(1)] = p1 * _W1 + a1 * _W5 + e1 * _W3
    err[i + np.uintp(2)] = p2 * _W1 + a2 * _W5 + e2 * _W3


@njit(**JIT_NO_NRT)
def _fs_four(img, wid, y0, y_out, y_end, nrows, strength, serpentine, edge, ue, alpha, ua, tindex, lim, err,
             out, of0, of1, of2, ih0, ih1, ih2, cw, words, words8, cstarts, ccands, pal4, palx):
    """Floyd–Steinberg on four independent strips at once, pixel by pixel in lockstep.

    img : (H * W * 3,) float32 or uint8  # IN the image, flat
    wid : uintp                          # IN W
    y0, y_out, y_end : (4,) int64        # IN strip l runs rows y0[l] .. and writes rows
                                         #    y_out[l] .. y_end[l] - 1; every y0[l] even
    nrows : int                          # IN rows every strip runs (one past its end repeats
                                         #    its last row and writes nothing)
    strength : float                     # IN gain on the error a pixel receives
    serpentine : bool                    # IN odd rows (absolute) right to left
    edge, ue                             # IN per-pixel gain on the error received: (H * W,)
                                         #    float32 and 1, a (1,) dummy and 0, or None
    alpha, ua                            # IN transparent pixels: (H * W,) bool and 1, a
                                         #    (1,) dummy and 0, or None
    tindex : uintp                       # IN index written for transparent pixels
    lim : float                          # IN clamp of each coordinate of a pixel's error
    err : (2 * W * 12,) float64          # INOUT the strips' error rows, interleaved: strip
                                         #       l's for row y at ((y & 1) * W + x) * 12 + 3 * l
                                         #       (zero at the start)
    out : (H * W,) uint8                 # OUT
    of0 .. palx                          # IN the grid (_Grid.args)
    Returns the number of opaque written pixels whose color was not finite.

    The strips are four dependency chains: while one waits for its nearest
    entry, the CPU works on the others (see the module docstring). Their rows
    have the same parity, so they walk the same columns in the same direction:
    one column index and one error-row offset serve all four.
    """
    u = np.uintp
    n12 = wid * u(12)
    bad = 0
    for r in range(nrows):
        ya = u(min(y0[0] + r, y_end[0] - 1))
        yb = u(min(y0[1] + r, y_end[1] - 1))
        yc = u(min(y0[2] + r, y_end[2] - 1))
        yd = u(min(y0[3] + r, y_end[3] - 1))
        wa = y_out[0] <= y0[0] + r < y_end[0]
        wb = y_out[1] <= y0[1] + r < y_end[1]
        wc = y_out[2] <= y0[2] + r < y_end[2]
        wd = y_out[3] <= y0[3] + r < y_end[3]
        ra = ya * wid
        rb = yb * wid
        rc = yc * wid
        rd = yd * wid
        odd = u(r & 1)
        o = odd * n12
        nxt = n12 - o
        fwd = (not serpentine) or odd == u(0)
        # Per strip (a, b, c, d): the last pixel's error (a0, a1, a2) and the one before (p0, p1, p2).
        a0 = a1 = a2 = p0 = p1 = p2 = 0.0
        b0 = b1 = b2 = q0 = q1 = q2 = 0.0
        c0 = c1 = c2 = r0 = r1 = r2 = 0.0
        d0 = d1 = d2 = s0 = s1 = s2 = 0.0
        x_prev = u(0)
        for step in range(wid):
            x = u(step) if fwd else wid - u(1) - u(step)
            e = o + x * u(12)
            ta0, ta1, ta2 = _fs_in(img, ra + x, err, e + u(0), a0, a1, a2, strength, edge, ue)
            tb0, tb1, tb2 = _fs_in(img, rb + x, err, e + u(3), b0, b1, b2, strength, edge, ue)
            tc0, tc1, tc2 = _fs_in(img, rc + x, err, e + u(6), c0, c1, c2, strength, edge, ue)
            td0, td1, td2 = _fs_in(img, rd + x, err, e + u(9), d0, d1, d2, strength, edge, ue)
            wda, ia, ca = _locate(ta0, ta1, ta2, of0, of1, of2, ih0, ih1, ih2, cw, words)
            wdb, ib, cb = _locate(tb0, tb1, tb2, of0, of1, of2, ih0, ih1, ih2, cw, words)
            wdc, ic, cc = _locate(tc0, tc1, tc2, of0, of1, of2, ih0, ih1, ih2, cw, words)
            wdd, id, cd = _locate(td0, td1, td2, of0, of1, of2, ih0, ih1, ih2, cw, words)
            ja = _best4(ta0, ta1, ta2, wda, palx)[0]
            jb = _best4(tb0, tb1, tb2, wdb, palx)[0]
            jc = _best4(tc0, tc1, tc2, wdc, palx)[0]
            jd = _best4(td0, td1, td2, wdd, palx)[0]
            if (wda & u(255)) == u(_LONG):
                ja = _long(ta0, ta1, ta2, ia, ca, words8, cstarts, ccands, palx)
            if (wdb & u(255)) == u(_LONG):
                jb = _long(tb0, tb1, tb2, ib, cb, words8, cstarts, ccands, palx)
            if (wdc & u(255)) == u(_LONG):
                jc = _long(tc0, tc1, tc2, ic, cc, words8, cstarts, ccands, palx)
            if (wdd & u(255)) == u(_LONG):
                jd = _long(td0, td1, td2, id, cd, words8, cstarts, ccands, palx)
            ja, ea0, ea1, ea2, bada = _fs_out(img, alpha, ua, ra + x, ja, ta0, ta1, ta2, tindex, lim, pal4)
            jb, eb0, eb1, eb2, badb = _fs_out(img, alpha, ua, rb + x, jb, tb0, tb1, tb2, tindex, lim, pal4)
            jc, ec0, ec1, ec2, badc = _fs_out(img, alpha, ua, rc + x, jc, tc0, tc1, tc2, tindex, lim, pal4)
            jd, ed0, ed1, ed2, badd = _fs_out(img, alpha, ua, rd + x, jd, td0, td1, td2, tindex, lim, pal4)
            if wa:
                out[ra + x] = ja
                bad += bada
            if wb:
                out[rb + x] = jb
                bad += badb
            if wc:
                out[rc + x] = jc
                bad += badc
            if wd:
                out[rd + x] = jd
                bad += badd
            if step > 0:
                f = nxt + x_prev * u(12)
                _fs_below(err, f + u(0), p0, p1, p2, a0, a1, a2, ea0, ea1, ea2)
                _fs_below(err, f + u(3), q0, q1, q2, b0, b1, b2, eb0, eb1, eb2)
                _fs_below(err, f + u(6), r0, r1, r2, c0, c1, c2, ec0, ec1, ec2)
                _fs_below(err, f + u(9), s0, s1, s2, d0, d1, d2, ed0, ed1, ed2)
            p0, p1, p2 = a0, a1, a2
            q0, q1, q2 = b0, b1, b2
            r0, r1, r2 = c0, c1, c2
            s0, s1, s2 = d0, d1, d2
            a0, a1, a2 = ea0, ea1, ea2
            b0, b1, b2 = eb0, eb1, eb2
            c0, c1, c2 = ec0, ec1, ec2
            d0, d1, d2 = ed0, ed1, ed2
            x_prev = x
        f = nxt + x_prev * u(12)
        _fs_below(err, f + u(0), p0, p1, p2, a0, a1, a2, 0.0, 0.0, 0.0)
        _fs_below(err, f + u(3), q0, q1, q2, b0, b1, b2, 0.0, 0.0, 0.0)
        _fs_below(err, f + u(6), r0, r1, r2, c0, c1, c2, 0.0, 0.0, 0.0)
        _fs_below(err, f + u(9), s0, s1, s2, d0, d1, d2, 0.0, 0.0, 0.0)
    return bad


@njit(**JIT_NO_NRT)
def _fs_single(img, wid, ya, nrows, ya_out, strength, serpentine, edge, ue, alpha, ua, tindex, lim,
               err, out, of0, of1, of2, ih0, ih1, ih2, cw, words, words8, cstarts, ccands, pal4, palx):
    """Floyd–Steinberg on one strip: rows ya .. ya + nrows - 1, written from ya_out on.

    err : (2 * W * 3,) float64: its error rows; other arguments as in :func:`_fs_four`.
    """
    u = np.uintp
    n3 = wid * u(3)
    bad = 0
    for r in range(nrows):
        y = u(ya + r)
        ry = y * wid
        odd = y & u(1)
        o = odd * n3
        nxt = n3 - o
        fwd = (not serpentine) or odd == u(0)
        keep = ya + r >= ya_out
        a0 = a1 = a2 = p0 = p1 = p2 = 0.0
        x_prev = u(0)
        for step in range(wid):
            x = u(step) if fwd else wid - u(1) - u(step)
            t0, t1, t2 = _fs_in(img, ry + x, err, o + x * u(3), a0, a1, a2, strength, edge, ue)
            j = _nearest(t0, t1, t2, of0, of1, of2, ih0, ih1, ih2, cw, words, words8, cstarts, ccands, palx)
            j, e0, e1, e2, b = _fs_out(img, alpha, ua, ry + x, j, t0, t1, t2, tindex, lim, pal4)
            if keep:
                out[ry + x] = j
                bad += b
            if step > 0:
                _fs_below(err, nxt + x_prev * u(3), p0, p1, p2, a0, a1, a2, e0, e1, e2)
            p0, p1, p2 = a0, a1, a2
            a0, a1, a2 = e0, e1, e2
            x_prev = x
        _fs_below(err, nxt + x_prev * u(3), p0, p1, p2, a0, a1, a2, 0.0, 0.0, 0.0)
    return bad


@njit(**JIT_PARALLEL)
def _fs_strips(img, strip, warmup, strength, serpentine, edge, ue, alpha, ua, tindex, lim, bad, out,
               of0, of1, of2, ih0, ih1, ih2, cw, words, words8, cstarts, ccands, pal4, palx):
    """Floyd–Steinberg in independent strips of rows, four at a time, groups in parallel.

    img : (H, W, 3) float32 or uint8 # IN
    strip, warmup : int              # IN rows per strip; rows each strip runs (and
                                     #    discards) above its first row; both even
                                     #    unless one strip covers the image
    edge, alpha : flat masks, one-element dummies or None (see :func:`_fs_four`)
    bad : (n_groups,) int64          # OUT non-finite count per group of four strips
    out : (H, W) uint8               # OUT
    Other arguments as in :func:`_fs_four`. Strips 4i .. 4i + 3 form group i; a
    group short of strips repeats its last one without writing it; a group of
    one strip runs alone.
    """
    hgt = img.shape[0]
    wid = img.shape[1]
    flat = img.reshape(-1)
    oflat = out.reshape(-1)
    tix = np.uintp(tindex)
    ns = (hgt + strip - 1) // strip
    for i in prange((ns + 3) // 4):
        y0 = np.empty(4, np.int64)
        y_out = np.empty(4, np.int64)
        y_end = np.empty(4, np.int64)
        for q in range(4):
            s = min(4 * i + q, ns - 1)
            y_out[q] = s * strip
            y0[q] = max(0, y_out[q] - warmup)
            y_end[q] = min(hgt, y_out[q] + strip)
            if 4 * i + q >= ns:
                y_out[q] = y_end[q]  # a repeat: run, never written
        if 4 * i + 1 >= ns:
            err = np.zeros(2 * wid * 3)
            bad[i] = _fs_single(flat, np.uintp(wid), y0[0], y_end[0] - y0[0], y_out[0], strength, serpentine,
                                edge, ue, alpha, ua, tix, lim, err, oflat, of0, of1, of2, ih0, ih1, ih2, cw,
                                words, words8, cstarts, ccands, pal4, palx)
        else:
            nrows = 0
            for q in range(4):
                nrows = max(nrows, y_end[q] - y0[q])
            err = np.zeros(2 * wid * 12)
            bad[i] = _fs_four(flat, np.uintp(wid), y0, y_out, y_end, nrows, strength, serpentine, edge, ue,
                              alpha, ua, tix, lim, err, oflat, of0, of1, of2, ih0, ih1, ih2, cw, words, words8,
                              cstarts, ccands, pal4, palx)


def _fs_strip_rows(h: int) -> int:
    """Rows per Floyd–Steinberg strip for an image h rows high (a function of h only,
    so that the result never depends on the number of threads).

    One strip up to ``FS_STRIP`` rows. Above, 4 * 2**m strips: groups of four
    run in lockstep, and a power-of-two number of groups shares 2 or 4 cores
    evenly. The most groups whose strips keep at least ``FS_MIN_STRIP`` rows
    (at most 192 rows, even): a 1-MP preview gets two groups, a 12-MP photo four.
    """
    if h <= FS_STRIP:
        return max(1, h)
    groups = 1
    while 4 * 2 * groups * FS_MIN_STRIP <= h:
        groups *= 2
    rows = -(-h // (4 * groups))
    return rows + (rows & 1)


# -- ordered dithering and the plain nearest remap --------------------------------------

@njit(**JIT_NO_NRT)
def _ordered_rows(img, offsets, edge, ue, alpha, ua, tindex, ya, yb, out,
                  of0, of1, of2, ih0, ih1, ih2, cw, words, words8, cstarts, ccands, pal4, palx):
    """Ordered dithering of rows ya .. yb-1 (each pixel on its own: no chain).

    img : (H, W, 3) float32 or uint8   # IN
    offsets : (8, 8, 3) float64         # IN offset added at (y % 8, x % 8)
    edge, alpha, tindex                 # IN as in :func:`_fs_four` (edge scales the offset)
    out : (H, W) uint8                  # OUT rows ya .. yb-1
    of0 .. palx                         # IN the grid
    Returns the number of opaque pixels with non-finite coordinates.
    """
    u = np.uintp
    wid = u(img.shape[1])
    tix = u(tindex)
    bad = 0
    for yy in range(ya, yb):
        y = u(yy)
        oy = y & u(7)
        for xx in range(wid):
            x = u(xx)
            ox = x & u(7)
            p = y * wid + x
            g = _gain(1.0, edge, ue, p)
            t0 = np.float64(img[y, x, 0]) + g * offsets[oy, ox, 0]
            t1 = np.float64(img[y, x, 1]) + g * offsets[oy, ox, 1]
            t2 = np.float64(img[y, x, 2]) + g * offsets[oy, ox, 2]
            j = _nearest(t0, t1, t2, of0, of1, of2, ih0, ih1, ih2, cw, words, words8, cstarts, ccands, palx)
            clear = _clear(alpha, ua, p)
            out[y, x] = _select(clear, tix, j)
            bad += np.int64((not clear) & (not _finite(img, t0, t1, t2)))
    return bad


@njit(**JIT_PARALLEL)
def _ordered_kernel(img, offsets, edge, ue, alpha, ua, tindex, bad, out,
                    of0, of1, of2, ih0, ih1, ih2, cw, words, words8, cstarts, ccands, pal4, palx):
    """Ordered dithering, blocks of 8 rows in parallel (arguments as :func:`_ordered_rows`).

    bad : ((H + 7) // 8,) int64      # OUT non-finite count per block
    """
    hgt = img.shape[0]
    for b in prange((hgt + 7) // 8):
        bad[b] = _ordered_rows(img, offsets, edge, ue, alpha, ua, tindex, b * 8, min(hgt, b * 8 + 8), out,
                               of0, of1, of2, ih0, ih1, ih2, cw, words, words8, cstarts, ccands, pal4, palx)


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

def palette_spread(palette_space: np.ndarray) -> float:
    """The palette's typical spacing: the median distance from each entry to
    its nearest *different* entry (0 for a palette of one color)."""
    pal = np.ascontiguousarray(palette_space, np.float64)
    if pal.shape[0] < 2:
        return 0.0
    nn = np.empty(pal.shape[0])
    _spacing(pal, nn)
    nn = nn[np.isfinite(nn)]
    return float(np.median(nn)) if nn.size else 0.0


def _frozen(a: np.ndarray) -> np.ndarray:
    """A read-only view of a (a itself if it is one).

    Numba compiles a kernel again for read-only arrays; the kernels only read
    their inputs, so they always get read-only ones: one compilation serves
    both (the GUI's previews and ``load_image``'s pixels are read-only).
    """
    if not a.flags.writeable:
        return a
    v = a.view()
    v.flags.writeable = False
    return v


_DUMMY_EDGE = _frozen(np.ones(1, np.float32))
_DUMMY_ALPHA = _frozen(np.zeros(1, np.bool_))


def _masks(edge_mask, alpha_mask):
    """(edge, ue, alpha, ua) as the kernels take them: flat read-only masks with
    1, or a dummy with 0 for the one not given; None for both when neither is.

    Without masks the kernels compile without any mask code: measured on a
    12-MP photo, 5 % faster Floyd–Steinberg on float32 coordinates.
    """
    if edge_mask is None and alpha_mask is None:
        return None, np.uintp(0), None, np.uintp(0)
    edge = _DUMMY_EDGE if edge_mask is None else _frozen(edge_mask.reshape(-1))
    alpha = _DUMMY_ALPHA if alpha_mask is None else _frozen(alpha_mask.reshape(-1))
    return edge, np.uintp(edge_mask is not None), alpha, np.uintp(alpha_mask is not None)


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
    g = grid if grid is not None else _Grid(pal, max_err if np.isfinite(max_err) else 0.0, img)
    h = img.shape[0]
    strip = _fs_strip_rows(h) if strip is None else max(1, int(strip))
    if strip < h:  # strips start on even rows (see _fs_four)
        strip += strip & 1
    ns = max(1, -(-h // strip))
    bad = np.zeros((ns + 3) // 4, np.int64)
    edge, ue, alpha, ua = _masks(edge_mask, alpha_mask)
    out = np.empty(img.shape[:2], np.uint8)
    warmup = FS_WARMUP + (FS_WARMUP & 1)
    with PARALLEL_LOCK:
        _fs_strips(_frozen(img), strip, warmup, float(strength), bool(serpentine), edge, ue, alpha, ua,
                   np.uint8(tindex), float(max_err), bad, out, *g.args())
    return out, int(bad.sum())


def _ordered(img, pal, strength, edge_mask, alpha_mask, tindex,
             grid: _Grid | None = None) -> tuple[np.ndarray, int]:
    """Ordered dithering; returns (indices (H, W) uint8, non-finite pixel count)."""
    amp = float(strength) * palette_spread(pal)
    g = grid if grid is not None else _Grid(pal, 0.5 * amp, img)
    offsets = np.ascontiguousarray((BAYER8 - 0.5)[:, :, None] * amp * _principal_axis(pal)[None, None, :])
    return _run_ordered(img, g, offsets, edge_mask, alpha_mask, tindex)


def _run_ordered(img, g: _Grid, offsets, edge_mask, alpha_mask, tindex) -> tuple[np.ndarray, int]:
    h, w = img.shape[:2]
    out = np.empty((h, w), np.uint8)
    bad = np.zeros((h + 7) // 8, np.int64)
    edge, ue, alpha, ua = _masks(edge_mask, alpha_mask)
    with PARALLEL_LOCK:
        _ordered_kernel(_frozen(img), offsets, edge, ue, alpha, ua, np.uint8(tindex), bad, out, *g.args())
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
    # uint8 stays uint8 (sRGB coordinates): no float32 copy of the whole image.
    # Writeable too: a read-only input would compile a second specialization.
    dtype = np.uint8 if x.dtype == np.uint8 else np.float32
    return np.require(x, dtype, ("C", "W"))


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
    image_space : (H, W, 3) float32 (or uint8 sRGB coordinates)
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
    out, bad = _nearest_image(img, _Grid(pal, 0.0, img), alpha, t)
    _raise_if_bad(bad)
    return out


def dither_fs(image_space, palette_space, *, strength: float = 1.0, serpentine: bool = True,
              edge_mask=None, alpha_mask=None, transparent_index: int = 0) -> np.ndarray:
    """Floyd–Steinberg error diffusion in the clustering space.

    Parameters
    ----------
    image_space : (H, W, 3) float32, or uint8
        Pixel coordinates in the clustering space (any of them). For the sRGB
        space pass the uint8 image itself: it is read as is, without a
        float32 copy (other integer types are converted to float32).
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

    *Strips.* An image of at most ``FS_STRIP`` rows is one plain serpentine
    pass. Taller ones run in 4 * 2**m strips of at most 192 rows (a 12-MP photo:
    16 strips of 188 rows), four strips at a time per core and groups of four
    in parallel; each strip first runs the ``FS_WARMUP`` rows above it,
    without writing them, so its first row starts from a realistic error state
    rather than none. The strips depend on the image's height only: the result
    does not depend on the number of threads.
    """
    img, pal, s, edge, alpha, t = _check_common(image_space, palette_space, strength, edge_mask,
                                                alpha_mask, transparent_index)
    if s == 0.0:
        out, bad = _nearest_image(img, _Grid(pal, 0.0, img), alpha, t)
    else:
        max_err = FS_MAX_ERROR * palette_spread(pal)
        out, bad = _floyd_steinberg(img, pal, s, serpentine, edge, alpha, t, max_err)
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
    :func:`dither_fs`; ``image_space`` as there (uint8 read as is). Returns
    (H, W) uint8 indices. Raises ValueError for NaN or infinite coordinates
    in opaque pixels.
    """
    img, pal, s, edge, alpha, t = _check_common(image_space, palette_space, strength, edge_mask,
                                                alpha_mask, transparent_index)
    if s == 0.0:
        out, bad = _nearest_image(img, _Grid(pal, 0.0, img), alpha, t)
    else:
        out, bad = _ordered(img, pal, s, edge, alpha, t)
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
    for x in (img, rgb):  # float32 coordinates, and uint8 sRGB read as is
        for masks in ({}, {"edge_mask": edge, "alpha_mask": alpha}):  # no mask code, and masks
            nearest_indices(x, pal, alpha_mask=masks.get("alpha_mask"))
            dither_fs(x, pal, **masks)
            dither_ordered(x, pal, **masks)
