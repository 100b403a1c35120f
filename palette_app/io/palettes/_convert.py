"""Color conversions for palette entries stored in other color spaces, into sRGB.

All functions take and return float64 arrays; sRGB results are 0..1 and may
lie outside that range (out of gamut): :func:`to_uint8` rounds and clips, and
says which entries it clipped so readers can report them.

Lab is CIE L*a*b* relative to D50, as in ICC profiles, Photoshop (ACO) and
ASE files. It reaches sRGB (D65) through XYZ with a Bradford chromatic
adaptation, the same chain CSS Color 4 specifies; the matrices are derived here
from the sRGB primaries and the white points rather than typed in.
CMYK has no profile in these files, so it uses the plain device formula
``R = (1 - C)(1 - K)``: an approximation, and readers say so.
"""
from __future__ import annotations

import numpy as np


def _xyz(x: float, y: float) -> np.ndarray:
    """XYZ (Y = 1) of chromaticity (x, y)."""
    return np.array([x / y, 1.0, (1.0 - x - y) / y])


WHITE_D65 = _xyz(0.3127, 0.3290)
WHITE_D50 = _xyz(0.3457, 0.3585)

# Bradford cone response matrix (Lam 1985), the usual one for ICC adaptation.
_BRADFORD = np.array([
    [0.8951, 0.2664, -0.1614],
    [-0.7502, 1.7135, 0.0367],
    [0.0389, -0.0685, 1.0296],
])


def _rgb_to_xyz_matrix(primaries, white) -> np.ndarray:
    p = np.column_stack([_xyz(*xy) for xy in primaries])
    scale = np.linalg.solve(p, white)
    return p * scale


def _adaptation(src_white, dst_white) -> np.ndarray:
    gain = (_BRADFORD @ dst_white) / (_BRADFORD @ src_white)
    return np.linalg.solve(_BRADFORD, np.diag(gain) @ _BRADFORD)


SRGB_TO_XYZ_D65 = _rgb_to_xyz_matrix(((0.64, 0.33), (0.30, 0.60), (0.15, 0.06)), WHITE_D65)
XYZ_D50_TO_LINEAR_SRGB = np.linalg.solve(SRGB_TO_XYZ_D65, _adaptation(WHITE_D50, WHITE_D65))

_KAPPA = 24389.0 / 27.0
_EPSILON = 216.0 / 24389.0


def srgb_encode(linear: np.ndarray) -> np.ndarray:
    """Linear light to the sRGB transfer curve, mirrored for negative values."""
    a = np.abs(linear)
    enc = np.where(a <= 0.0031308, 12.92 * a, 1.055 * np.power(a, 1.0 / 2.4) - 0.055)
    return np.sign(linear) * enc


def lab_d50_to_srgb(lab: np.ndarray) -> np.ndarray:
    """(k, 3) L* (0..100), a*, b* relative to D50 → (k, 3) sRGB, 0..1 where in gamut."""
    lab = np.asarray(lab, dtype=np.float64).reshape(-1, 3)
    L, a, b = lab[:, 0], lab[:, 1], lab[:, 2]
    fy = (L + 16.0) / 116.0
    fx = fy + a / 500.0
    fz = fy - b / 200.0
    xr = np.where(fx ** 3 > _EPSILON, fx ** 3, (116.0 * fx - 16.0) / _KAPPA)
    yr = np.where(L > _KAPPA * _EPSILON, fy ** 3, L / _KAPPA)
    zr = np.where(fz ** 3 > _EPSILON, fz ** 3, (116.0 * fz - 16.0) / _KAPPA)
    xyz = np.column_stack([xr, yr, zr]) * WHITE_D50
    return srgb_encode(xyz @ XYZ_D50_TO_LINEAR_SRGB.T)


def hsb_to_srgb(hsb: np.ndarray) -> np.ndarray:
    """(k, 3) hue in degrees, saturation and brightness in 0..1 → (k, 3) sRGB 0..1.

    HSB (Photoshop's name for HSV) is a transform of the RGB values themselves,
    so this is exact.
    """
    hsb = np.asarray(hsb, dtype=np.float64).reshape(-1, 3)
    h = np.mod(hsb[:, 0], 360.0) / 60.0
    s, v = hsb[:, 1], hsb[:, 2]
    c = v * s
    x = c * (1.0 - np.abs(np.mod(h, 2.0) - 1.0))
    z = np.zeros_like(c)
    sector = np.minimum(np.floor(h).astype(int), 5)
    table = [(c, x, z), (x, c, z), (z, c, x), (z, x, c), (x, z, c), (c, z, x)]
    rgb = np.zeros((len(h), 3))
    for i, (r, g, b) in enumerate(table):
        m = sector == i
        rgb[m] = np.column_stack([r, g, b])[m]
    return rgb + (v - c)[:, None]


def cmyk_to_srgb(cmyk: np.ndarray) -> np.ndarray:
    """(k, 4) C, M, Y, K ink coverage in 0..1 → (k, 3) sRGB by the profile-less formula."""
    cmyk = np.asarray(cmyk, dtype=np.float64).reshape(-1, 4)
    k = cmyk[:, 3:4]
    return (1.0 - cmyk[:, :3]) * (1.0 - k)


def to_uint8(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(k, 3) float sRGB 0..1 → ((k, 3) uint8, (k,) bool: True where a channel was clipped).

    Rounds half up. A channel counts as clipped only when clipping changes the
    rounded value, so 1.0000001 from float32 noise is not reported.
    """
    scaled = np.asarray(rgb, dtype=np.float64).reshape(-1, 3) * 255.0
    clipped = np.any((scaled < -0.5) | (scaled >= 255.5), axis=1)
    out = np.clip(np.floor(scaled + 0.5), 0, 255).astype(np.uint8)
    return out, clipped
