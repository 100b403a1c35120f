"""How far a reduced-color image is from its original.

Two families of measures, both in sRGB terms:

* squared error per channel (``mse``) and PSNR, on 0..255 values;
* CIEDE2000 color difference (ΔE00, Sharma, Wu & Dalal 2005), on CIELAB D65
  computed by :mod:`palette_app.core.colorspace` in float64.

The ``histogram_*`` functions measure a quantization on the weighted color
histogram (one term per distinct color, weighted by its pixel count), which
is what :class:`~palette_app.core.result.QuantizeResult` keeps; the others
take two images. Sums run over fixed-size chunks reduced in order, so results
do not depend on the number of threads; squared errors are summed exactly in
integers.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from palette_app.core._config import CHUNK, JIT, JIT_PARALLEL, PARALLEL_LOCK
from palette_app.core.colorspace import _LIN_LUT, _lin_to_lab

_G7 = 6103515625.0  # 25 ** 7
_DEG = math.pi / 180.0

#: Pixels per block when summing image squared errors in numpy (bounds the
#: int32 temporaries to ~12 MB).
_MSE_BLOCK = 1 << 20


# -- per-pair helpers ------------------------------------------------------------------

@njit(**JIT)
def _de2000(L1, a1, b1, L2, a2, b2):
    """CIEDE2000 between two CIELAB colors (kL = kC = kH = 1), float64.

    Follows the implementation notes of Sharma, Wu & Dalal (2005): hue angles
    of achromatic colors are 0, and the hue difference and mean are taken
    without the 360° adjustment when a chroma is zero.
    """
    c1 = math.sqrt(a1 * a1 + b1 * b1)
    c2 = math.sqrt(a2 * a2 + b2 * b2)
    cm = 0.5 * (c1 + c2)
    cm7 = cm ** 7
    g = 0.5 * (1.0 - math.sqrt(cm7 / (cm7 + _G7)))
    ap1 = (1.0 + g) * a1
    ap2 = (1.0 + g) * a2
    cp1 = math.sqrt(ap1 * ap1 + b1 * b1)
    cp2 = math.sqrt(ap2 * ap2 + b2 * b2)
    # Hues in degrees, as in the paper: the ±180° tests of the test pairs sit
    # exactly on the boundary and must round the way the reference does.
    h1 = 0.0
    if ap1 != 0.0 or b1 != 0.0:
        h1 = math.degrees(math.atan2(b1, ap1))
        if h1 < 0.0:
            h1 += 360.0
    h2 = 0.0
    if ap2 != 0.0 or b2 != 0.0:
        h2 = math.degrees(math.atan2(b2, ap2))
        if h2 < 0.0:
            h2 += 360.0

    dl = L2 - L1
    dc = cp2 - cp1
    cc = cp1 * cp2
    hd = h2 - h1
    if cc == 0.0:
        dhp = 0.0
    elif hd > 180.0:
        dhp = hd - 360.0
    elif hd < -180.0:
        dhp = hd + 360.0
    else:
        dhp = hd
    dh = 2.0 * math.sqrt(cc) * math.sin(0.5 * dhp * _DEG)

    lm = 0.5 * (L1 + L2)
    cpm = 0.5 * (cp1 + cp2)
    hs = h1 + h2
    if cc == 0.0:
        hm = hs
    elif abs(hd) > 180.0:
        hm = 0.5 * (hs + 360.0) if hs < 360.0 else 0.5 * (hs - 360.0)
    else:
        hm = 0.5 * hs

    t = (1.0 - 0.17 * math.cos((hm - 30.0) * _DEG) + 0.24 * math.cos(2.0 * hm * _DEG)
         + 0.32 * math.cos((3.0 * hm + 6.0) * _DEG) - 0.20 * math.cos((4.0 * hm - 63.0) * _DEG))
    q = (hm - 275.0) / 25.0
    dtheta = 30.0 * math.exp(-q * q)
    cpm7 = cpm ** 7
    rc = 2.0 * math.sqrt(cpm7 / (cpm7 + _G7))
    l50 = (lm - 50.0) * (lm - 50.0)
    sl = 1.0 + 0.015 * l50 / math.sqrt(20.0 + l50)
    sc = 1.0 + 0.045 * cpm
    sh = 1.0 + 0.015 * cpm * t
    rt = -math.sin(2.0 * dtheta * _DEG) * rc
    xl = dl / sl
    xc = dc / sc
    xh = dh / sh
    # |rt| <= 2 keeps the form non-negative; guard the rounding at the edge.
    return math.sqrt(max(0.0, xl * xl + xc * xc + xh * xh + rt * xc * xh))


@njit(**JIT)
def _srgb8_lab(c0, c1, c2):
    return _lin_to_lab(_LIN_LUT[c0], _LIN_LUT[c1], _LIN_LUT[c2])


# -- kernels ---------------------------------------------------------------------------

@njit(**JIT_PARALLEL)
def _delta_e2000_kernel(lab1, lab2, out):
    """Elementwise CIEDE2000.

    lab1, lab2 : (n, 3) float64   # IN
    out : (n,) float64            # OUT
    """
    n = lab1.shape[0]
    nchunks = (n + CHUNK - 1) // CHUNK
    for ch in prange(nchunks):
        for i in range(ch * CHUNK, min(n, (ch + 1) * CHUNK)):
            out[i] = _de2000(lab1[i, 0], lab1[i, 1], lab1[i, 2], lab2[i, 0], lab2[i, 1], lab2[i, 2])


@njit(**JIT_PARALLEL)
def _weighted_sse(colors, counts, labels, palette, chunk_sse):
    """Count-weighted sum of squared channel errors, per chunk (exact integers).

    colors : (m, 3) uint8         # IN
    counts : (m,) int64           # IN
    labels : (m,) int64           # IN in 0..k-1
    palette : (k, 3) uint8        # IN
    chunk_sse : (nchunks,) int64  # OUT
    """
    m = colors.shape[0]
    nchunks = chunk_sse.shape[0]
    for ch in prange(nchunks):
        s = np.int64(0)
        for i in range(ch * CHUNK, min(m, (ch + 1) * CHUNK)):
            p = labels[i]
            d0 = np.int64(colors[i, 0]) - np.int64(palette[p, 0])
            d1 = np.int64(colors[i, 1]) - np.int64(palette[p, 1])
            d2 = np.int64(colors[i, 2]) - np.int64(palette[p, 2])
            s += counts[i] * (d0 * d0 + d1 * d1 + d2 * d2)
        chunk_sse[ch] = s


@njit(**JIT_PARALLEL)
def _weighted_delta_e(colors, counts, labels, palette, chunk_sums):
    """Count-weighted sum of CIEDE2000 between each color and its palette color, per chunk.

    colors : (m, 3) uint8            # IN
    counts : (m,) int64              # IN
    labels : (m,) int64              # IN in 0..k-1
    palette : (k, 3) uint8           # IN
    chunk_sums : (nchunks,) float64  # OUT
    """
    k = palette.shape[0]
    plab = np.empty((k, 3))
    for j in range(k):
        plab[j, 0], plab[j, 1], plab[j, 2] = _srgb8_lab(palette[j, 0], palette[j, 1], palette[j, 2])
    m = colors.shape[0]
    nchunks = chunk_sums.shape[0]
    for ch in prange(nchunks):
        s = 0.0
        for i in range(ch * CHUNK, min(m, (ch + 1) * CHUNK)):
            p = labels[i]
            if colors[i, 0] == palette[p, 0] and colors[i, 1] == palette[p, 1] and colors[i, 2] == palette[p, 2]:
                continue
            L, a, b = _srgb8_lab(colors[i, 0], colors[i, 1], colors[i, 2])
            s += counts[i] * _de2000(L, a, b, plab[p, 0], plab[p, 1], plab[p, 2])
        chunk_sums[ch] = s


@njit(**JIT_PARALLEL)
def _pairs_delta_e(a, b, chunk_sums):
    """Sum of CIEDE2000 between corresponding uint8 sRGB colors, per chunk.

    a, b : (n, 3) uint8              # IN
    chunk_sums : (nchunks,) float64  # OUT
    """
    n = a.shape[0]
    nchunks = chunk_sums.shape[0]
    for ch in prange(nchunks):
        s = 0.0
        for i in range(ch * CHUNK, min(n, (ch + 1) * CHUNK)):
            if a[i, 0] == b[i, 0] and a[i, 1] == b[i, 1] and a[i, 2] == b[i, 2]:
                continue
            L1, a1, b1 = _srgb8_lab(a[i, 0], a[i, 1], a[i, 2])
            L2, a2, b2 = _srgb8_lab(b[i, 0], b[i, 1], b[i, 2])
            s += _de2000(L1, a1, b1, L2, a2, b2)
        chunk_sums[ch] = s


# -- validation ------------------------------------------------------------------------

def _kernel_array(a, dtype) -> np.ndarray:
    # C-contiguous and writeable: read-only inputs (e.g. Palette.colors) would
    # otherwise compile and cache a second specialization of every kernel.
    return np.require(a, dtype, ("C", "W"))


def _nchunks(n: int) -> int:
    return (n + CHUNK - 1) // CHUNK


def _check_u8_colors(a, what: str) -> np.ndarray:
    x = np.asarray(a)
    if x.ndim != 2 or x.shape[1] != 3:
        raise ValueError(f"{what} must be an (n, 3) array, got shape {x.shape}")
    if x.dtype != np.uint8:
        raise ValueError(f"{what} must be uint8 sRGB, got dtype {x.dtype}")
    return _kernel_array(x, np.uint8)


def _check_histogram(colors, counts, labels, palette):
    colors = _check_u8_colors(colors, "colors")
    palette = _check_u8_colors(palette, "palette")
    m = colors.shape[0]
    counts = np.asarray(counts)
    labels = np.asarray(labels)
    for name, v in (("counts", counts), ("labels", labels)):
        if v.shape != (m,):
            raise ValueError(f"{name} must have shape ({m},) to match colors, got {v.shape}")
        if not np.issubdtype(v.dtype, np.integer):
            raise ValueError(f"{name} must be integers, got dtype {v.dtype}")
    counts = _kernel_array(counts, np.int64)
    labels = _kernel_array(labels, np.int64)
    if m:
        if counts.min() < 0:
            raise ValueError("counts must be non-negative")
        if palette.shape[0] == 0:
            raise ValueError("palette is empty")
        lo, hi = labels.min(), labels.max()
        if lo < 0 or hi >= palette.shape[0]:
            raise ValueError(f"labels must index the palette (0..{palette.shape[0] - 1}), got {lo}..{hi}")
    return colors, counts, labels, palette


def _check_image_pair(original, quantized):
    a = np.asarray(original)
    b = np.asarray(quantized)
    for name, x in (("original", a), ("quantized", b)):
        if x.ndim < 2 or x.shape[-1] != 3:
            raise ValueError(f"{name} must be an (H, W, 3) RGB image, got shape {x.shape}")
        if x.dtype != np.uint8:
            raise ValueError(f"{name} must be uint8, got dtype {x.dtype}")
    if a.shape != b.shape:
        raise ValueError(f"the images differ in shape: {a.shape} vs {b.shape}")
    return _kernel_array(a.reshape(-1, 3), np.uint8), _kernel_array(b.reshape(-1, 3), np.uint8)


# -- public API ------------------------------------------------------------------------

def delta_e2000(lab1, lab2) -> np.ndarray:
    """CIEDE2000 color difference (kL = kC = kH = 1) between CIELAB colors.

    Parameters
    ----------
    lab1, lab2 : (n, 3) float
        L*a*b* colors; the two broadcast against each other (e.g. ``(n, 3)``
        against one ``(3,)`` reference color).

    Returns
    -------
    (n,) float64
    """
    x = np.asarray(lab1, dtype=np.float64)
    y = np.asarray(lab2, dtype=np.float64)
    for name, v in (("lab1", x), ("lab2", y)):
        if v.ndim not in (1, 2) or v.shape[-1] != 3:
            raise ValueError(f"{name} must be an (n, 3) array of L*a*b* colors, got shape {v.shape}")
    x = np.atleast_2d(x)
    y = np.atleast_2d(y)
    shape = np.broadcast_shapes(x.shape, y.shape)
    # broadcast_to gives read-only views; _kernel_array copies them.
    x = _kernel_array(np.broadcast_to(x, shape), np.float64)
    y = _kernel_array(np.broadcast_to(y, shape), np.float64)
    out = np.empty(x.shape[0], np.float64)
    if out.shape[0]:
        with PARALLEL_LOCK:
            _delta_e2000_kernel(x, y, out)
    return out


def histogram_mse(colors, counts, labels, palette) -> float:
    """Mean squared error per channel per pixel, sRGB 0..255, of a quantized histogram.

    Parameters
    ----------
    colors : (m, 3) uint8
        Distinct colors of the original.
    counts : (m,) int
        Pixels per color (the weights).
    labels : (m,) int
        Palette index each color maps to.
    palette : (k, 3) uint8

    Returns
    -------
    float
        ``sum(counts * |color - palette[label]|^2) / (3 * sum(counts))``;
        NaN when there are no pixels.
    """
    colors, counts, labels, palette = _check_histogram(colors, counts, labels, palette)
    total = int(counts.sum())
    if total == 0:
        return float("nan")
    chunk_sse = np.empty(_nchunks(colors.shape[0]), np.int64)
    with PARALLEL_LOCK:
        _weighted_sse(colors, counts, labels, palette, chunk_sse)
    return int(chunk_sse.sum()) / (3.0 * total)


def psnr_from_mse(mse: float) -> float:
    """Peak signal-to-noise ratio in dB for 8-bit data: ``10 log10(255² / mse)``; inf when mse == 0."""
    mse = float(mse)
    if math.isnan(mse):
        return float("nan")
    if mse < 0.0:
        raise ValueError(f"mse must be non-negative, got {mse}")
    if mse == 0.0:
        return float("inf")
    if math.isinf(mse):
        return float("-inf")
    return 10.0 * math.log10(255.0 * 255.0 / mse)


def histogram_delta_e(colors, counts, labels, palette) -> float:
    """Mean CIEDE2000 per pixel between a histogram's colors and their palette colors.

    Same arguments as :func:`histogram_mse`. Each distinct color is converted
    to CIELAB (D65) once and its ΔE00 weighted by its count. NaN when there
    are no pixels.
    """
    colors, counts, labels, palette = _check_histogram(colors, counts, labels, palette)
    total = int(counts.sum())
    if total == 0:
        return float("nan")
    chunk_sums = np.empty(_nchunks(colors.shape[0]), np.float64)
    with PARALLEL_LOCK:
        _weighted_delta_e(colors, counts, labels, palette, chunk_sums)
    return float(chunk_sums.sum()) / total


def mse(original, quantized) -> float:
    """Mean squared error per channel per pixel between two (H, W, 3) uint8 images."""
    a, b = _check_image_pair(original, quantized)
    sse = 0
    for start in range(0, a.shape[0], _MSE_BLOCK):
        d = a[start:start + _MSE_BLOCK].astype(np.int32) - b[start:start + _MSE_BLOCK]
        sse += int(np.einsum("ij,ij->", d, d, dtype=np.int64))
    return sse / float(a.size) if a.size else float("nan")


def psnr(original, quantized) -> float:
    """PSNR in dB between two (H, W, 3) uint8 images (inf when identical)."""
    return psnr_from_mse(mse(original, quantized))


def mean_delta_e(original, quantized) -> float:
    """Mean CIEDE2000 per pixel between two (H, W, 3) uint8 sRGB images."""
    a, b = _check_image_pair(original, quantized)
    n = a.shape[0]
    if n == 0:
        return float("nan")
    chunk_sums = np.empty(_nchunks(n), np.float64)
    with PARALLEL_LOCK:
        _pairs_delta_e(a, b, chunk_sums)
    return float(chunk_sums.sum()) / n


def _warm_up() -> None:
    """Compile (or load from the cache) every kernel here on tiny inputs."""
    c = np.array([[0, 128, 255], [10, 20, 30]], np.uint8)
    n = np.array([1, 2], np.int64)
    lab = np.array([[50.0, 2.5, 0.0], [61.0, -5.0, 29.0]])
    delta_e2000(lab, lab[::-1])
    histogram_mse(c, n, np.array([1, 0]), c)
    histogram_delta_e(c, n, np.array([1, 0]), c)
    mean_delta_e(c[None], c[None, ::-1])
