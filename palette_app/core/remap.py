"""Remap: the exact nearest palette entry for every pixel.

Work is done per distinct color (k-means labels or a nearest-entry search over
the histogram), then spread to pixels through a 2**24-entry lookup table, so a
12-megapixel photo costs one table read per pixel.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from palette_app.core._config import CHUNK, JIT, JIT_PARALLEL, PARALLEL_LOCK
from palette_app.core.histogram import ColorHistogram, check_image, color_histogram


@njit(**JIT)
def _fill_lut(colors, labels, lut):
    """lut[r << 16 | g << 8 | b] = label.

    colors : (m, 3) uint8 IN; labels : (m,) uint8 IN; lut : (2**24,) uint8 OUT
    """
    for j in range(colors.shape[0]):
        key = (np.int64(colors[j, 0]) << 16) | (np.int64(colors[j, 1]) << 8) | np.int64(colors[j, 2])
        lut[key] = labels[j]


@njit(**JIT_PARALLEL)
def _apply_lut(pix, alpha_threshold, lut, fill, out):
    """Index image through the lookup table.

    pix : (n, c) uint8 IN; alpha_threshold : int IN; lut : (2**24,) uint8 IN;
    fill : uint8 index for pixels with alpha below the threshold IN; out : (n,) uint8 OUT
    """
    n = pix.shape[0]
    c = pix.shape[1]
    nchunks = (n + CHUNK - 1) // CHUNK
    for ch in prange(nchunks):
        for i in range(ch * CHUNK, min(n, (ch + 1) * CHUNK)):
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
    lut = np.zeros(1 << 24, np.uint8)
    _fill_lut(np.ascontiguousarray(colors, np.uint8), np.ascontiguousarray(labels, np.uint8), lut)
    out = np.empty(h * w, np.uint8)
    with PARALLEL_LOCK:
        _apply_lut(img.reshape(h * w, c), int(alpha_threshold), lut, np.uint8(fill), out)
    return out.reshape(h, w)


def nearest_labels(colors: np.ndarray, palette: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact nearest palette entry (sRGB, squared Euclidean) for each color.

    colors : (m, 3) uint8; palette : (k, 3) uint8, k <= 256.
    Returns (labels (m,) uint8, squared distances (m,) float32). Ties go to
    the lowest palette index.
    """
    from palette_app.core.kmeans import assign_labels

    labels, d2 = assign_labels(np.asarray(colors, np.float32), np.asarray(palette, np.float32))
    return labels.astype(np.uint8), d2


def remap(image, palette, *, alpha_threshold: int = 1,
          histogram: ColorHistogram | None = None) -> np.ndarray:
    """Map every pixel of an (H, W, 3|4) uint8 image to its nearest palette color.

    palette : (k, 3) uint8 array or a :class:`~palette_app.core.Palette`
    (at most 256 entries). Returns the (H, W) uint8 index image. Pixels with
    alpha below ``alpha_threshold`` map to the palette's first fully
    transparent entry (a ValueError if it has none).
    """
    from palette_app.core.palette import Palette

    img = check_image(image)
    fill = 0
    if isinstance(palette, Palette):
        pal = palette.colors
        alpha = palette.alpha
    else:
        pal = np.asarray(palette)
        alpha = None
        if pal.ndim == 2 and pal.shape[1] == 4:
            pal, alpha = pal[:, :3], pal[:, 3]
    if pal.ndim != 2 or pal.shape[1] != 3 or not 1 <= pal.shape[0] <= 256:
        raise ValueError(f"palette must have 1..256 colors of 3 channels, got shape {pal.shape}")
    pal = np.ascontiguousarray(pal, np.uint8)
    opaque = np.arange(pal.shape[0]) if alpha is None else np.flatnonzero(np.asarray(alpha) > 0)
    if opaque.size == 0:
        raise ValueError("the palette has no opaque color to map pixels to")
    hist = histogram if histogram is not None else color_histogram(img, alpha_threshold=alpha_threshold)
    if hist.n_transparent:
        if alpha is None or not np.any(np.asarray(alpha) == 0):
            raise ValueError("the image has transparent pixels but the palette has no transparent entry")
        fill = int(np.flatnonzero(np.asarray(alpha) == 0)[0])
    lab, _ = nearest_labels(hist.colors, pal[opaque])
    labels = opaque[lab.astype(np.intp)].astype(np.uint8)
    return labels_to_indices(img, hist.colors, labels, alpha_threshold=alpha_threshold, fill=fill)
