"""Conversions between sRGB and the color spaces k-means can cluster in.

Every space is an (n, 3) array. The clustering spaces are scaled so that a
distance of 1 means roughly the same thing in each of them:

``"srgb"``
    sRGB as float32 0..255 (gamma-encoded, as stored in image files).
``"linear"``
    Linear-light sRGB, scaled to 0..255 (IEC 61966-2-1 transfer function).
``"lab"``
    CIELAB, D65 white, L* 0..100 (the sRGB→XYZ matrix of IEC 61966-2-1 with the
    D65 white x=0.3127, y=0.3290, as in CSS Color 4).
``"oklab"``
    OKLab (Björn Ottosson, 2020) with all three axes multiplied by 100, so L
    runs 0..100 and a tolerance reads like a Lab one.

Three tiers, as everywhere in :mod:`palette_app.core`: public validated
functions (:func:`to_space`, :func:`from_space`, :func:`to_srgb_uint8`),
parallel kernels over fixed-size chunks, and small per-color ``@njit``
helpers (also used by :mod:`palette_app.core.metrics`). Everything is
computed in float64; only the clustering-space outputs are float32.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from palette_app.core._config import CHUNK, JIT, JIT_PARALLEL, PARALLEL_LOCK

#: The color spaces :func:`to_space` and :func:`from_space` understand.
SPACES = ("srgb", "linear", "lab", "oklab")

_SRGB, _LINEAR, _LAB, _OKLAB = 0, 1, 2, 3

# -- constants -------------------------------------------------------------------

#: Linear sRGB (0..1) to CIE XYZ (D65), derived from the sRGB primaries and the
#: D65 white (0.3127, 0.3290) in full double precision (the CSS Color 4 values).
_RGB_TO_XYZ = np.array([
    [0.4123907992659593, 0.357584339383878, 0.1804807884018343],
    [0.21263900587151024, 0.715168678767756, 0.07219231536073371],
    [0.01933081871559182, 0.11919477979462598, 0.9505321522496607],
])
#: XYZ of the white point: the matrix applied to RGB (1, 1, 1), so that sRGB
#: white is exactly L* = 100, a* = b* = 0.
_WHITE = _RGB_TO_XYZ.sum(axis=1)
# Folded: linear RGB -> XYZ / white, and back.
_RGB_TO_XYZN = np.ascontiguousarray(_RGB_TO_XYZ / _WHITE[:, None])
_XYZN_TO_RGB = np.ascontiguousarray(np.linalg.inv(_RGB_TO_XYZN))

#: CIE constants (exact rationals, CIE 15:2004).
_LAB_EPS = 216.0 / 24389.0
_LAB_KAPPA = 24389.0 / 27.0
_LAB_F_EPS = 6.0 / 29.0

#: OKLab, from Björn Ottosson's post "A perceptual color space for image
#: processing" (2020): linear sRGB -> LMS (M1) and cube-rooted LMS -> Lab (M2).
_OK_M1 = np.array([
    [0.4122214708, 0.5363325363, 0.0514459929],
    [0.2119034982, 0.6806995451, 0.1073969566],
    [0.0883024619, 0.2817188376, 0.6299787005],
])
_OK_M2 = np.array([
    [0.2104542553, 0.7936177850, -0.0040720468],
    [1.9779984951, -2.4285922050, 0.4505937099],
    [0.0259040371, 0.7827717662, -0.8086757660],
])
# The inverses are computed rather than typed from the post's 10-digit ones so
# that round trips are exact to double precision.
_OK_M1_INV = np.ascontiguousarray(np.linalg.inv(_OK_M1))
_OK_M2_INV = np.ascontiguousarray(np.linalg.inv(_OK_M2))
_OK_SCALE = 100.0


def _srgb_decode_lut() -> np.ndarray:
    c = np.arange(256, dtype=np.float64) / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


#: Linear value (0..1) of each 8-bit sRGB code: uint8 input needs no pow().
_LIN_LUT = _srgb_decode_lut()


# -- per-color helpers (float64) --------------------------------------------------

@njit(**JIT)
def _decode(v):
    """sRGB 0..1 -> linear 0..1; mirrored for negative values (as CSS, coloraide)."""
    a = abs(v)
    if a <= 0.04045:
        return v / 12.92
    return math.copysign(((a + 0.055) / 1.055) ** 2.4, v)


@njit(**JIT)
def _encode(v):
    """Linear 0..1 -> sRGB 0..1; mirrored for negative values."""
    a = abs(v)
    if a <= 0.0031308:
        return v * 12.92
    return math.copysign(1.055 * a ** (1.0 / 2.4) - 0.055, v)


@njit(**JIT)
def _lab_f(t):
    if t > _LAB_EPS:
        return np.cbrt(t)
    return (_LAB_KAPPA * t + 16.0) / 116.0


@njit(**JIT)
def _lab_finv(f):
    if f > _LAB_F_EPS:
        return f * f * f
    return (116.0 * f - 16.0) / _LAB_KAPPA


@njit(**JIT)
def _lin_to_lab(r, g, b):
    """Linear sRGB 0..1 -> CIELAB (D65), float64."""
    m = _RGB_TO_XYZN
    # Each row of m sums to 1 (white maps to white), so write m @ (r, g, b) as
    # g + m0 (r - g) + m2 (b - g): grays then get x = y = z exactly and
    # a* = b* = 0 exactly (CIEDE2000 treats zero chroma specially).
    dr = r - g
    db = b - g
    y = g + m[1, 0] * dr + m[1, 2] * db
    fx = _lab_f(g + m[0, 0] * dr + m[0, 2] * db)
    fy = _lab_f(y)
    fz = _lab_f(g + m[2, 0] * dr + m[2, 2] * db)
    # L* = kappa * Y below the knee: the same value, but black is exactly 0.
    L = 116.0 * fy - 16.0 if y > _LAB_EPS else _LAB_KAPPA * y
    return L, 500.0 * (fx - fy), 200.0 * (fy - fz)


@njit(**JIT)
def _lab_to_lin(L, a, b):
    """CIELAB (D65) -> linear sRGB 0..1 (unclipped), float64."""
    fy = (L + 16.0) / 116.0
    # The same knee test for all three (fy > 6/29 is L* > 8), so a gray gives x = y = z.
    x = _lab_finv(fy + a / 500.0)
    y = _lab_finv(fy)
    z = _lab_finv(fy - b / 200.0)
    m = _XYZN_TO_RGB
    # Rows sum to 1 here too: grays stay exactly gray.
    dx = x - y
    dz = z - y
    return (y + m[0, 0] * dx + m[0, 2] * dz,
            y + m[1, 0] * dx + m[1, 2] * dz,
            y + m[2, 0] * dx + m[2, 2] * dz)


@njit(**JIT)
def _lin_to_oklab(r, g, b):
    """Linear sRGB 0..1 -> OKLab (unscaled, L 0..1), float64."""
    m1 = _OK_M1
    m2 = _OK_M2
    l_ = np.cbrt(m1[0, 0] * r + m1[0, 1] * g + m1[0, 2] * b)
    m_ = np.cbrt(m1[1, 0] * r + m1[1, 1] * g + m1[1, 2] * b)
    s_ = np.cbrt(m1[2, 0] * r + m1[2, 1] * g + m1[2, 2] * b)
    return (m2[0, 0] * l_ + m2[0, 1] * m_ + m2[0, 2] * s_,
            m2[1, 0] * l_ + m2[1, 1] * m_ + m2[1, 2] * s_,
            m2[2, 0] * l_ + m2[2, 1] * m_ + m2[2, 2] * s_)


@njit(**JIT)
def _oklab_to_lin(L, a, b):
    """OKLab (unscaled) -> linear sRGB 0..1 (unclipped), float64."""
    m2 = _OK_M2_INV
    m1 = _OK_M1_INV
    l_ = m2[0, 0] * L + m2[0, 1] * a + m2[0, 2] * b
    m_ = m2[1, 0] * L + m2[1, 1] * a + m2[1, 2] * b
    s_ = m2[2, 0] * L + m2[2, 1] * a + m2[2, 2] * b
    l3 = l_ * l_ * l_
    m3 = m_ * m_ * m_
    s3 = s_ * s_ * s_
    return (m1[0, 0] * l3 + m1[0, 1] * m3 + m1[0, 2] * s3,
            m1[1, 0] * l3 + m1[1, 1] * m3 + m1[1, 2] * s3,
            m1[2, 0] * l3 + m1[2, 1] * m3 + m1[2, 2] * s3)


@njit(**JIT)
def _lin_to_space(r, g, b, space):
    """Linear sRGB 0..1 -> coordinates in ``space`` (its documented scale)."""
    if space == _LAB:
        return _lin_to_lab(r, g, b)
    if space == _OKLAB:
        L, a, bb = _lin_to_oklab(r, g, b)
        return L * _OK_SCALE, a * _OK_SCALE, bb * _OK_SCALE
    if space == _LINEAR:
        return r * 255.0, g * 255.0, b * 255.0
    return _encode(r) * 255.0, _encode(g) * 255.0, _encode(b) * 255.0


@njit(**JIT)
def _space_to_srgb255(c0, c1, c2, space):
    """Coordinates in ``space`` -> sRGB 0..255 (unclipped)."""
    if space == _SRGB:
        return c0, c1, c2
    if space == _LINEAR:
        r, g, b = c0 / 255.0, c1 / 255.0, c2 / 255.0
    elif space == _LAB:
        r, g, b = _lab_to_lin(c0, c1, c2)
    else:
        r, g, b = _oklab_to_lin(c0 / _OK_SCALE, c1 / _OK_SCALE, c2 / _OK_SCALE)
    return _encode(r) * 255.0, _encode(g) * 255.0, _encode(b) * 255.0


# -- kernels -----------------------------------------------------------------------

@njit(**JIT_PARALLEL)
def _srgb8_to_space(rgb, space, out):
    """uint8 sRGB -> ``space``.

    rgb : (n, 3) uint8         # IN
    space : int                # IN one of _LINEAR, _LAB, _OKLAB (_SRGB works too)
    out : (n, 3) float32       # OUT
    """
    n = rgb.shape[0]
    nchunks = (n + CHUNK - 1) // CHUNK
    for ch in prange(nchunks):
        for i in range(ch * CHUNK, min(n, (ch + 1) * CHUNK)):
            c0, c1, c2 = _lin_to_space(_LIN_LUT[rgb[i, 0]], _LIN_LUT[rgb[i, 1]],
                                       _LIN_LUT[rgb[i, 2]], space)
            out[i, 0] = c0
            out[i, 1] = c1
            out[i, 2] = c2


@njit(**JIT_PARALLEL)
def _srgbf_to_space(rgb, space, out):
    """Float sRGB 0..255 -> ``space``.

    rgb : (n, 3) float64       # IN
    space : int                # IN
    out : (n, 3) float32       # OUT
    """
    n = rgb.shape[0]
    nchunks = (n + CHUNK - 1) // CHUNK
    for ch in prange(nchunks):
        for i in range(ch * CHUNK, min(n, (ch + 1) * CHUNK)):
            c0, c1, c2 = _lin_to_space(_decode(rgb[i, 0] / 255.0), _decode(rgb[i, 1] / 255.0),
                                       _decode(rgb[i, 2] / 255.0), space)
            out[i, 0] = c0
            out[i, 1] = c1
            out[i, 2] = c2


@njit(**JIT_PARALLEL)
def _space_to_srgbf(x, space, out):
    """``space`` -> float sRGB 0..255, unclipped.

    x : (n, 3) float64         # IN
    space : int                # IN
    out : (n, 3) float32       # OUT
    """
    n = x.shape[0]
    nchunks = (n + CHUNK - 1) // CHUNK
    for ch in prange(nchunks):
        for i in range(ch * CHUNK, min(n, (ch + 1) * CHUNK)):
            r, g, b = _space_to_srgb255(x[i, 0], x[i, 1], x[i, 2], space)
            out[i, 0] = r
            out[i, 1] = g
            out[i, 2] = b


@njit(**JIT)
def _to_u8(v):
    """Clip to 0..255 and round half up."""
    if v <= 0.0:
        return np.uint8(0)
    if v >= 255.0:
        return np.uint8(255)
    return np.uint8(math.floor(v + 0.5))


@njit(**JIT_PARALLEL)
def _space_to_srgb8(x, space, out):
    """``space`` -> uint8 sRGB (rounded, clipped).

    x : (n, 3) float64, finite # IN
    space : int                # IN
    out : (n, 3) uint8         # OUT
    """
    n = x.shape[0]
    nchunks = (n + CHUNK - 1) // CHUNK
    for ch in prange(nchunks):
        for i in range(ch * CHUNK, min(n, (ch + 1) * CHUNK)):
            r, g, b = _space_to_srgb255(x[i, 0], x[i, 1], x[i, 2], space)
            out[i, 0] = _to_u8(r)
            out[i, 1] = _to_u8(g)
            out[i, 2] = _to_u8(b)


# -- public API ----------------------------------------------------------------------

def _kernel_array(a, dtype) -> np.ndarray:
    # C-contiguous and writeable: read-only inputs (e.g. Palette.colors) would
    # otherwise compile and cache a second specialization of every kernel.
    return np.require(a, dtype, ("C", "W"))


def _space_code(space) -> int:
    try:
        return SPACES.index(space)
    except ValueError:
        raise ValueError(f"unknown color space {space!r}; expected one of {', '.join(SPACES)}") from None


def _check_triplets(a, what: str) -> np.ndarray:
    x = np.asarray(a)
    if x.ndim < 1 or x.shape[-1] != 3:
        raise ValueError(f"{what} must be an (n, 3) array, got shape {x.shape}")
    if x.dtype != np.uint8 and not (np.issubdtype(x.dtype, np.integer)
                                     or np.issubdtype(x.dtype, np.floating)):
        raise ValueError(f"{what} must be uint8 or a real number dtype, got {x.dtype}")
    return x


def to_space(rgb, space: str) -> np.ndarray:
    """Convert sRGB colors to a clustering space.

    Parameters
    ----------
    rgb : (n, 3) uint8, or float 0..255
        sRGB colors (any ``(..., 3)`` shape works; the output keeps it).
        Float values outside 0..255 are extrapolated, not clipped.
    space : {"srgb", "linear", "lab", "oklab"}

    Returns
    -------
    (n, 3) float32
        ``"srgb"``: the values unchanged; ``"linear"``: linear RGB 0..255;
        ``"lab"``: CIELAB D65 (L* 0..100); ``"oklab"``: OKLab times 100.
    """
    code = _space_code(space)
    x = _check_triplets(rgb, "rgb")
    shape = x.shape
    if code == _SRGB:
        return np.array(x, dtype=np.float32, order="C")
    flat = x.reshape(-1, 3)
    out = np.empty(flat.shape, np.float32)
    if flat.shape[0] == 0:
        return out.reshape(shape)
    if flat.dtype == np.uint8:
        flat = _kernel_array(flat, np.uint8)
        with PARALLEL_LOCK:
            _srgb8_to_space(flat, code, out)
    else:
        flat = _kernel_array(flat, np.float64)
        with PARALLEL_LOCK:
            _srgbf_to_space(flat, code, out)
    return out.reshape(shape)


def _space_input(x, space):
    code = _space_code(space)
    a = _check_triplets(x, "x")
    flat = _kernel_array(a.reshape(-1, 3), np.float64)
    return code, a.shape, flat


def from_space(x, space: str) -> np.ndarray:
    """Convert coordinates in ``space`` (scaled as :func:`to_space` returns them) to sRGB.

    Parameters
    ----------
    x : (n, 3) float
    space : {"srgb", "linear", "lab", "oklab"}

    Returns
    -------
    (n, 3) float32
        sRGB 0..255, **not** clipped: colors outside the sRGB gamut come out
        below 0 or above 255 (the transfer curve is mirrored for negatives).
    """
    code, shape, flat = _space_input(x, space)
    out = np.empty(flat.shape, np.float32)
    if flat.shape[0] > 0:
        with PARALLEL_LOCK:
            _space_to_srgbf(flat, code, out)
    return out.reshape(shape)


def to_srgb_uint8(x, space: str) -> np.ndarray:
    """Like :func:`from_space`, then clipped to 0..255 and rounded (half up) to uint8.

    This turns cluster centers back into palette colors. ``x`` must be finite.
    """
    code, shape, flat = _space_input(x, space)
    if not np.isfinite(flat).all():
        raise ValueError("x contains NaN or infinite values; they have no sRGB color")
    out = np.empty(flat.shape, np.uint8)
    if flat.shape[0] > 0:
        with PARALLEL_LOCK:
            _space_to_srgb8(flat, code, out)
    return out.reshape(shape)


def _warm_up() -> None:
    """Compile (or load from the cache) every kernel here on tiny inputs."""
    rgb = np.array([[0, 128, 255], [10, 20, 30]], np.uint8)
    for space in SPACES[1:]:
        x = to_space(rgb, space)
        to_space(rgb.astype(np.float32), space)
        from_space(x, space)
        to_srgb_uint8(x, space)
