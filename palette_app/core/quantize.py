"""Quantization that designers trust: :func:`quantize`, :func:`remap`, :func:`shared_palette`.

All three share one pipeline:

1. the image's exact color histogram (opaque pixels), plus the distinct
   partially transparent pixels when there are any;
2. coordinates in the clustering space (sRGB, linear RGB, CIELAB or OKLab),
   with alpha as a fourth, premultiplied coordinate when the image has
   partial transparency (as pngquant does, so soft edges survive);
3. weighted k-means on the (reduced) histogram, locked colors as fixed
   centers (:func:`quantize`, :func:`shared_palette`), or a given palette
   (:func:`remap`);
4. the exact nearest palette entry per distinct color in that space, spread
   to pixels through a lookup table, or Floyd–Steinberg / ordered dithering
   in that space;
5. optionally (``smoothing``, on by default at few colors, never with
   dithering), label smoothing (:mod:`palette_app.core.label_smoothing`):
   pixels nearly halfway between two palette colors take the one that
   continues their row, for smaller PNG files at a bounded extra error.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from palette_app.core.colorspace import SPACES, to_space, to_srgb_uint8
from palette_app.core.errors import Cancelled
from palette_app.core.histogram import (
    ColorHistogram,
    check_image,
    color_histogram,
    reduce_histogram,
)
from palette_app.core.kmeans import assign_labels, weighted_kmeans
from palette_app.core.label_smoothing import added_error, second_choices, smooth_rows
from palette_app.core.palette import Palette, parse_hex
from palette_app.core.remap import labels_to_indices, labels_via_points
from palette_app.core.result import QuantizeResult

DITHERS = ("none", "fs", "ordered")

#: Effort presets: (bits per channel of the reduced histogram, or None for
#: exact colors; a bin is kept as exact colors when it holds more than
#: 1/(split * n_colors) of the pixels; swap local-search trials).
#: Measured on china, flower and hubble at 16-256 colors: "default" is within
#: 0.1 dB of clustering every distinct color, with 3-5x fewer points; "best"
#: adds 16 swaps, worth 0.02-0.1 dB (see benchmarks/).
EFFORTS = {
    "fast": (5, 16, 0),
    "default": (6, 64, 0),
    "best": (None, 0, 16),
}
#: Histograms with at most this many distinct colors are clustered exactly.
EXACT_MAX_COLORS = 1 << 16
#: Default clustering space (see the README's benchmark section for why).
DEFAULT_SPACE = "srgb"
#: The alpha coordinate spans 0..ALPHA_SCALE[space], comparable to the space's
#: color axes, so a step in opacity weighs like a step in color.
ALPHA_SCALE = {"srgb": 255.0, "linear": 255.0, "lab": 100.0, "oklab": 100.0}

#: ``smoothing=None`` (automatic) means SMOOTHING_AUTO up to
#: SMOOTHING_AUTO_MAX_COLORS colors without dithering, and 0 (exact nearest
#: colors) otherwise. Measured on china, flower and astronaut (see
#: benchmarks/bench_png_size.py): at 4-16 colors, 0.5 makes the PNG files
#: 5-19 % smaller for 0.01-0.05 dB of PSNR (still above pngquant's on those
#: photos). Not above 8 colors: at 16 it would cost a 1-MP preview about
#: 15 ms (40 % more time; benchmarks/bench_quantize.py's time target there has
#: 6 ms to spare), and from 16 colors up our files are already within 3 % of
#: pngquant's.
SMOOTHING_AUTO = 0.5
SMOOTHING_AUTO_MAX_COLORS = 8
#: Automatic smoothing adds at most this fraction to the squared error of the
#: nearest colors (1 %: 0.043 dB of PSNR in sRGB), else it is redone weaker.
SMOOTHING_AUTO_BUDGET = 0.01
SMOOTHING_AUTO_TRIES = 3

ProgressCallback = Callable[[float], "bool | None"]


def parse_colors(colors) -> np.ndarray:
    """Locked colors as an (n, 3) uint8 array.

    Accepts a :class:`Palette`, a sequence of ``"#rrggbb"`` strings, or an
    (n, 3) integer array. Duplicates are dropped (first one kept).
    """
    if colors is None:
        return np.zeros((0, 3), np.uint8)
    if isinstance(colors, Palette):
        arr = colors.colors
    elif isinstance(colors, str):
        arr = np.array([parse_hex(colors)[:3]], np.uint8)
    else:
        items = list(colors) if not isinstance(colors, np.ndarray) else None
        if items is not None and items and all(isinstance(c, str) for c in items):
            arr = np.array([parse_hex(c)[:3] for c in items], np.uint8).reshape(-1, 3)
        else:
            arr = np.asarray(colors)
            if arr.size == 0:
                return np.zeros((0, 3), np.uint8)
            if arr.ndim != 2 or arr.shape[1] != 3 or not np.issubdtype(arr.dtype, np.integer):
                raise ValueError("locked colors must be '#rrggbb' strings or an (n, 3) integer array")
            if arr.min() < 0 or arr.max() > 255:
                raise ValueError("locked colors must be in 0..255")
            arr = arr.astype(np.uint8)
    _, first = np.unique(arr, axis=0, return_index=True)
    return np.ascontiguousarray(arr[np.sort(first)])


@dataclass(frozen=True)
class QuantizeSettings:
    """Checked settings on the user's own scale (as libimagequant's ``Attributes``).

    n_colors : 2..256 palette entries (one of them transparent when the image
        has transparent pixels).
    random_state : int seed; the same seed gives the same result, bit for bit.
    effort : 'fast', 'default' or 'best' (speed against quality).
    space : clustering and matching space: 'srgb', 'linear', 'lab', 'oklab'.
    dither : 'none', 'fs' (Floyd–Steinberg, serpentine) or 'ordered' (Bayer 8×8).
    dither_strength : 0..1.
    dither_smooth_only : dither only where the image is smooth, keep edges crisp.
    locked : colors kept exactly in the palette (hex strings), at most n_colors
        (at most n_colors - 1 for an image with transparent pixels: quantize
        raises ValueError otherwise).
    alpha_threshold : pixels with alpha below it (RGBA images) become the one
        transparent entry; alpha between it and 254 is clustered as a
        premultiplied coordinate.
    smoothing : 0..1, or None for automatic. Trades a little error for
        fewer index changes along rows (smaller PNG files): with λ =
        smoothing × the mean squared error per pixel, a pixel may take its
        second-nearest color instead of its nearest when that is less than
        2 λ worse, and each row minimises the added error + λ per index
        change (+ λ/2 per index unlike the one above). 0: every pixel gets
        its exact nearest color. None: 0.5 (SMOOTHING_AUTO) up to 8 colors
        (SMOOTHING_AUTO_MAX_COLORS), weakened as needed so that it adds at
        most 1 % to the squared error (SMOOTHING_AUTO_BUDGET, 0.043 dB), and
        0 above 8 colors. Never with dithering; pixels equal to a locked
        color, transparent and partially transparent pixels keep their exact
        entry. The result's ``settings["smoothing"]`` is the strength used.
    """

    n_colors: int = 16
    random_state: int = 0
    effort: str = "default"
    space: str = DEFAULT_SPACE
    dither: str = "none"
    dither_strength: float = 1.0
    dither_smooth_only: bool = False
    locked: tuple[str, ...] = ()
    alpha_threshold: int = 1
    batch_size: int = 2048
    max_iter: int = 100
    tol: float | None = None
    smoothing: float | None = None

    def __post_init__(self):
        if isinstance(self.n_colors, bool) or not isinstance(self.n_colors, (int, np.integer)):
            raise TypeError(f"n_colors must be an integer, got {self.n_colors!r}")
        if not 2 <= int(self.n_colors) <= 256:
            raise ValueError(f"n_colors must be between 2 and 256, got {self.n_colors}")
        if not isinstance(self.random_state, (int, np.integer)) or isinstance(self.random_state, bool):
            raise TypeError(f"random_state must be an integer seed, got {self.random_state!r}")
        if self.effort not in EFFORTS:
            raise ValueError(f"effort must be one of {tuple(EFFORTS)}, got {self.effort!r}")
        if self.space not in SPACES:
            raise ValueError(f"space must be one of {SPACES}, got {self.space!r}")
        if self.dither not in DITHERS:
            raise ValueError(f"dither must be one of {DITHERS}, got {self.dither!r}")
        if not (isinstance(self.dither_strength, (int, float)) and 0.0 <= self.dither_strength <= 1.0):
            raise ValueError(f"dither_strength must be between 0 and 1, got {self.dither_strength!r}")
        if len(self.locked) > int(self.n_colors):
            raise ValueError(f"{len(self.locked)} locked colors do not fit in {self.n_colors} colors")
        if not 0 <= int(self.alpha_threshold) <= 256:
            raise ValueError(f"alpha_threshold must be in 0..256, got {self.alpha_threshold}")
        if int(self.batch_size) < 16:
            raise ValueError(f"batch_size must be at least 16, got {self.batch_size}")
        if int(self.max_iter) < 1:
            raise ValueError(f"max_iter must be at least 1, got {self.max_iter}")
        if self.tol is not None and not self.tol >= 0:
            raise ValueError(f"tol must be >= 0 or None, got {self.tol}")
        if self.smoothing is not None:
            if isinstance(self.smoothing, bool) or not isinstance(self.smoothing, (int, float, np.integer,
                                                                                    np.floating)):
                raise TypeError(f"smoothing must be a number or None, got {self.smoothing!r}")
            if not 0.0 <= float(self.smoothing) <= 1.0:
                raise ValueError(f"smoothing must be between 0 and 1, got {self.smoothing!r}")

    @property
    def effective_smoothing(self) -> float:
        """The smoothing strength used: ``smoothing`` resolved when it is None; 0 with dithering."""
        if self.dither != "none":
            return 0.0
        if self.smoothing is None:
            return SMOOTHING_AUTO if int(self.n_colors) <= SMOOTHING_AUTO_MAX_COLORS else 0.0
        return float(self.smoothing)

    @property
    def locked_colors(self) -> np.ndarray:
        return parse_colors(list(self.locked))


def _settings(n_colors, random_state, effort, space, dither, dither_strength, dither_smooth_only,
              locked, alpha_threshold, batch_size=2048, max_iter=100, tol=None,
              smoothing=None) -> QuantizeSettings:
    lock = parse_colors(locked)
    hexes = tuple(f"#{r:02x}{g:02x}{b:02x}" for r, g, b in lock.tolist())
    return QuantizeSettings(n_colors=n_colors, random_state=random_state, effort=effort, space=space,
                            dither=dither, dither_strength=float(dither_strength),
                            dither_smooth_only=bool(dither_smooth_only), locked=hexes,
                            alpha_threshold=alpha_threshold, batch_size=batch_size,
                            max_iter=max_iter, tol=tol, smoothing=smoothing)


# --------------------------------------------------------------------------- samples
@dataclass
class _Samples:
    """What the clustering sees: opaque distinct colors and partial-alpha ones."""

    colors: np.ndarray          # (m, 3) uint8 opaque distinct colors
    counts: np.ndarray          # (m,) int64
    p_rgba: np.ndarray          # (q, 4) uint8 distinct partially transparent pixels
    p_counts: np.ndarray        # (q,) int64
    p_inverse: np.ndarray | None  # (n_partial_pixels,) index into p_rgba
    p_where: np.ndarray | None    # (n_partial_pixels,) flat pixel positions
    n_transparent: int

    @property
    def partial(self) -> bool:
        return self.p_rgba.shape[0] > 0


def _samples(img: np.ndarray, alpha_threshold: int) -> _Samples:
    if img.shape[2] == 3:
        h = color_histogram(img)
        return _Samples(h.colors, h.counts, np.zeros((0, 4), np.uint8), np.zeros(0, np.int64),
                        None, None, 0)
    thr = max(1, int(alpha_threshold))
    a = img[..., 3]
    partial_mask = (a >= thr) & (a < 255)
    if not partial_mask.any():
        h = color_histogram(img, alpha_threshold=thr)
        return _Samples(h.colors, h.counts, np.zeros((0, 4), np.uint8), np.zeros(0, np.int64),
                        None, None, h.n_transparent)
    h = color_histogram(img, alpha_threshold=255)
    where = np.flatnonzero(partial_mask.ravel())
    px = img.reshape(-1, 4)[where]
    keys = (px[:, 3].astype(np.uint32) << 24) | (px[:, 0].astype(np.uint32) << 16) | \
        (px[:, 1].astype(np.uint32) << 8) | px[:, 2].astype(np.uint32)
    uniq, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    rgba = np.stack([(uniq >> 16) & 255, (uniq >> 8) & 255, uniq & 255, uniq >> 24], axis=1).astype(np.uint8)
    n_transparent = int(np.count_nonzero(a < thr))
    return _Samples(h.colors, h.counts, rgba, counts.astype(np.int64), inverse.astype(np.intp), where,
                    n_transparent)


def _coords(rgb: np.ndarray, space: str, alpha: np.ndarray | None, four: bool) -> np.ndarray:
    """Clustering coordinates: the space's 3 axes, premultiplied by alpha and
    followed by alpha as a 4th axis when ``four``."""
    x = to_space(np.ascontiguousarray(rgb, np.uint8), space)
    if not four:
        return np.ascontiguousarray(x, np.float32)
    a = np.ones(len(x), np.float32) if alpha is None else alpha.astype(np.float32) / 255.0
    out = np.empty((len(x), 4), np.float32)
    out[:, :3] = x * a[:, None]
    out[:, 3] = a * ALPHA_SCALE[space]
    return out


def _from_coords(c: np.ndarray, space: str, four: bool) -> tuple[np.ndarray, np.ndarray]:
    """Palette colors (k, 3) uint8 and alpha (k,) uint8 from cluster centers."""
    if not four:
        return to_srgb_uint8(c, space), np.full(len(c), 255, np.uint8)
    a = np.clip(c[:, 3] / ALPHA_SCALE[space], 0.0, 1.0)
    alpha = np.rint(a * 255).astype(np.uint8)
    safe = np.where(a > 1e-6, a, 1.0)
    rgb = to_srgb_uint8(np.ascontiguousarray(c[:, :3] / safe[:, None], np.float32), space)
    return rgb, alpha


# --------------------------------------------------------------------------- palette fitting
def _fit(samples: _Samples, s: QuantizeSettings, k: int, report):
    """Fit a palette to the samples; the locked colors come first.

    Returns (rgb (k', 3) uint8, alpha (k',) uint8, iterations, shortcut), where
    ``shortcut`` is (k-means state, points, point_of, color coordinates) for the
    remap's proof of exact labels, or None.
    """
    locked = s.locked_colors
    four = samples.partial
    m = samples.colors.shape[0]
    extra = samples.colors
    if len(locked):
        extra = extra[~(extra[:, None, :] == locked[None, :, :]).all(axis=2).any(axis=1)]
    # Few enough distinct colors: they are the palette.
    if len(locked) + len(extra) + samples.p_rgba.shape[0] <= k:
        rgb = np.vstack([locked, extra, samples.p_rgba[:, :3]]).astype(np.uint8)
        alpha = np.concatenate([np.full(len(locked) + len(extra), 255, np.uint8), samples.p_rgba[:, 3]])
        return rgb, alpha, 0, None
    if len(locked) >= k:
        return locked.astype(np.uint8), np.full(len(locked), 255, np.uint8), 0, None
    bits, split, n_swaps = EFFORTS[s.effort]
    exact = bits is None or m <= EXACT_MAX_COLORS
    point_of = None
    srgb3 = s.space == "srgb" and not four
    cx = samples.colors.astype(np.float32) if srgb3 else _coords(samples.colors, s.space, None, four)
    if exact:
        X, w = cx, samples.counts.astype(np.float64)
    else:
        means, w, point_of = reduce_histogram(samples.colors, samples.counts, bits,
                                              split_weight=float(samples.counts.sum()) / (split * k),
                                              return_mapping=True)
        X = means if srgb3 else _weighted_means(cx, samples.counts, point_of, len(w))
    if four:
        X = np.vstack([X, _coords(samples.p_rgba[:, :3], s.space, samples.p_rgba[:, 3], True)])
        w = np.concatenate([w, samples.p_counts.astype(np.float64)])
    fixed = _coords(locked, s.space, None, four) if len(locked) else None
    kk = min(k, len(X))
    if kk <= len(locked):
        return locked.astype(np.uint8), np.full(len(locked), 255, np.uint8), 0, None
    tol = s.tol if s.tol is not None else (1e-4 if exact else 1e-3)
    # Patience 3: on histograms the mini-batch phase only warms up the Lloyd
    # polish; longer patience bought < 0.01 dB for 20 % more time.
    state = weighted_kmeans(X, w, kk, n_swaps=n_swaps, batch_size=s.batch_size,
                            max_no_improvement=3, max_iter=s.max_iter, tol=tol,
                            fixed_centers=fixed, random_state=s.random_state,
                            callback=lambda p: report(0.02 + 0.9 * p))
    rgb, alpha = _from_coords(state.centers, s.space, four)
    rgb[: len(locked)] = locked
    alpha[: len(locked)] = 255
    shortcut = None if four else (state, X, point_of, cx)
    return rgb, alpha, state.n_iter + state.n_steps, shortcut


def _weighted_means(cx: np.ndarray, counts: np.ndarray, point_of: np.ndarray, r: int) -> np.ndarray:
    """Count-weighted mean coordinates of the colors of each point."""
    w = counts.astype(np.float64)
    out = np.zeros((r, cx.shape[1]), np.float64)
    for t in range(cx.shape[1]):
        out[:, t] = np.bincount(point_of, weights=w * cx[:, t], minlength=r)
    tot = np.bincount(point_of, weights=w, minlength=r)
    return np.ascontiguousarray(out / tot[:, None], np.float32)


# --------------------------------------------------------------------------- mapping to a palette
@dataclass
class _Mapping:
    """Labels of the samples on a palette (indices into the palette)."""

    labels: np.ndarray      # (m,) uint8, opaque distinct colors
    p_labels: np.ndarray    # (q,) uint8, partial-alpha distinct pixels
    inertia: float
    d2: np.ndarray | None = None  # (m,) float32 squared distance of each opaque color to its entry


def _usable(alpha: np.ndarray, transparent_index: int | None) -> np.ndarray:
    """Entries pixels may be matched to: all but the fully transparent ones."""
    if transparent_index is None:
        return np.arange(len(alpha))
    return np.flatnonzero(alpha > 0)


def _map(samples: _Samples, rgb, alpha, s: QuantizeSettings, transparent_index, shortcut) -> _Mapping:
    """Exact nearest entry, in the clustering space, of every sample."""
    four = samples.partial
    usable = _usable(alpha, transparent_index)
    pal = _coords(rgb[usable], s.space, alpha[usable], four)
    inertia = 0.0
    labels = np.zeros(0, np.uint8)
    d2 = np.zeros(0, np.float32)
    if samples.colors.shape[0]:
        if shortcut is not None and np.array_equal(usable, np.arange(len(usable))):
            state, X, point_of, cx = shortcut
            if point_of is None:
                point_of = np.arange(samples.colors.shape[0], dtype=np.int32)
            lab, d2 = labels_via_points(cx, point_of, X, state, pal)
        else:
            lab, d2 = assign_labels(_coords(samples.colors, s.space, None, four), pal)
        labels = usable[lab.astype(np.intp)].astype(np.uint8)
        inertia += float(np.dot(samples.counts, d2.astype(np.float64)))
    p_labels = np.zeros(0, np.uint8)
    if four:
        plab, pd2 = assign_labels(_coords(samples.p_rgba[:, :3], s.space, samples.p_rgba[:, 3], True), pal)
        p_labels = usable[plab.astype(np.intp)].astype(np.uint8)
        inertia += float(np.dot(samples.p_counts, pd2.astype(np.float64)))
    return _Mapping(labels, p_labels, inertia, d2)


def _weighted_bincount(labels: np.ndarray, weights: np.ndarray, k: int) -> np.ndarray:
    """(k,) float64 sums of ``weights`` per label.

    ``np.bincount`` returns an *integer* array when ``labels`` is empty, even
    with weights; adding float sums to that in place raised (an RGBA image
    whose pixels are all partially transparent has no opaque colors).
    """
    return np.bincount(labels, weights=weights, minlength=k).astype(np.float64, copy=False)


def _sample_counts(samples: _Samples, mp: _Mapping, k: int, transparent_index) -> np.ndarray:
    """(k,) int64 pixels per palette entry, from the samples' labels."""
    counts = _weighted_bincount(mp.labels, samples.counts, k)
    if samples.partial:
        counts += _weighted_bincount(mp.p_labels, samples.p_counts, k)
    if transparent_index is not None:
        counts[transparent_index] += samples.n_transparent
    return np.rint(counts).astype(np.int64)


@dataclass
class _Smoothed:
    """What label smoothing changed: the pixels, their nearest and new entries."""

    where: np.ndarray       # (c,) flat positions of the changed pixels
    near: np.ndarray        # (c,) uint8 their nearest entries
    new: np.ndarray         # (c,) uint8 their entries now
    d_inertia: float        # added squared error, clustering space


def _indices(img, samples: _Samples, mp: _Mapping, rgb, alpha, s: QuantizeSettings,
             transparent_index) -> tuple[np.ndarray, _Smoothed | None, float]:
    """The (H, W) uint8 index image: through the lookup table (then smoothed,
    when ``s`` asks for it), or dithered. Also returns what smoothing changed
    (or None) and the smoothing strength used."""
    four = samples.partial
    fill = transparent_index if transparent_index is not None else 0
    smoothed = None
    strength = s.effective_smoothing
    if s.dither != "none":
        indices = _dither(img, rgb, alpha, _usable(alpha, transparent_index), s, transparent_index, four)
    else:
        thr = (255 if four else max(1, int(s.alpha_threshold))) if img.shape[2] == 4 else 1
        out, strength = _smooth(img, samples, mp, rgb, alpha, s, transparent_index, thr, fill)
        if out is not None:
            return out[0], out[1], strength
        indices = labels_to_indices(img, samples.colors, mp.labels, alpha_threshold=thr, fill=fill)
    if four:
        indices.reshape(-1)[samples.p_where] = mp.p_labels[samples.p_inverse]
    locked = s.locked_colors
    if len(locked) and s.dither != "none":
        # Pixels exactly equal to a locked color map to it (dithering may move them).
        keys = (img[..., 0].astype(np.uint32) << 16) | (img[..., 1].astype(np.uint32) << 8) | img[..., 2]
        opaque = img[..., 3] == 255 if img.shape[2] == 4 else True
        for c in locked:
            key = (int(c[0]) << 16) | (int(c[1]) << 8) | int(c[2])
            j = int(np.flatnonzero((rgb == c).all(axis=1) & (alpha == 255))[0])
            indices[(keys == key) & opaque] = j
    return indices, smoothed, strength


def _smooth(img, samples: _Samples, mp: _Mapping, rgb, alpha, s: QuantizeSettings, transparent_index,
            thr: int, fill: int) -> tuple[tuple[np.ndarray, _Smoothed] | None, float]:
    """Label smoothing (see :mod:`palette_app.core.label_smoothing`): ((indices,
    changes) or None when it is off or cannot change anything, strength used).

    Automatic smoothing (``s.smoothing is None``) keeps the added squared
    error within SMOOTHING_AUTO_BUDGET of the error of the nearest colors:
    when a pass adds more, it is redone with a weaker strength (the added
    error grows about as the square of the strength), at most
    SMOOTHING_AUTO_TRIES times, and then not at all.
    """
    strength = s.effective_smoothing
    m = samples.colors.shape[0]
    if strength <= 0.0 or m == 0 or mp.d2 is None:
        return None, strength
    err = float(np.dot(samples.counts, mp.d2.astype(np.float64)))
    if not err > 0.0 or len(_usable(alpha, transparent_index)) < 2:
        return None, strength
    mean_err = err / float(samples.counts.sum())
    auto = s.smoothing is None
    for _ in range(SMOOTHING_AUTO_TRIES if auto else 1):
        out = _smooth_pass(img, samples, mp, rgb, alpha, s, transparent_index, thr, fill, strength * mean_err)
        added = out[1].d_inertia
        if not auto or added <= SMOOTHING_AUTO_BUDGET * err:
            return out, strength
        strength = round(strength * float(np.sqrt(0.8 * SMOOTHING_AUTO_BUDGET * err / added)), 3)
        if strength < 0.01:
            break
    return None, 0.0


def _smooth_pass(img, samples: _Samples, mp: _Mapping, rgb, alpha, s: QuantizeSettings, transparent_index,
                 thr: int, fill: int, lam: float) -> tuple[np.ndarray, _Smoothed]:
    """One smoothing pass with change cost ``lam`` (clustering-space units)."""
    usable = _usable(alpha, transparent_index)
    four = samples.partial
    every = len(usable) == len(rgb)  # no transparent entry: palette slots are entries
    labels = mp.labels
    if not every:
        slot = np.full(len(rgb), -1, np.int32)
        slot[usable] = np.arange(len(usable), dtype=np.int32)
        labels = slot[mp.labels]
    fixed = None
    locked = s.locked_colors
    if len(locked):
        # Pixels equal to a locked color keep it.
        fixed = np.isin(_keys(samples.colors), _keys(locked))
    alt, cost = second_choices(_coords(samples.colors, s.space, None, four),
                               _coords(rgb[usable], s.space, alpha[usable], four),
                               labels, mp.d2, 2.0 * lam, fixed)
    if not every:
        alt = usable[alt].astype(np.uint8)
    packed = len(rgb) <= 16
    if packed:
        # Both entries of a color in one byte: one lookup pass fewer.
        near = labels_to_indices(img, samples.colors, mp.labels | (alt << 4), alpha_threshold=thr,
                                 fill=fill | (fill << 4))
        alt_img = None
    else:
        near = labels_to_indices(img, samples.colors, mp.labels, alpha_threshold=thr, fill=fill)
        alt_img = labels_to_indices(img, samples.colors, alt, alpha_threshold=thr, fill=fill)
    cost_img = labels_to_indices(img, samples.colors, cost, alpha_threshold=thr, fill=255)
    if four:
        p = mp.p_labels[samples.p_inverse]
        near.reshape(-1)[samples.p_where] = (p | (p << 4)) if packed else p
        cost_img.reshape(-1)[samples.p_where] = 255
    indices, where = smooth_rows(near, alt_img, cost_img, packed=packed)
    near_w = near.reshape(-1)[where] & (15 if packed else 255)
    new_w = indices.reshape(-1)[where]
    d_inertia = added_error(_coords(img.reshape(-1, img.shape[2])[where, :3], s.space, None, four),
                            _coords(rgb, s.space, alpha, four), near_w, new_w)
    return indices, _Smoothed(where, near_w, new_w, d_inertia)


def _keys(rgb: np.ndarray) -> np.ndarray:
    c = rgb.astype(np.uint32)
    return (c[:, 0] << 16) | (c[:, 1] << 8) | c[:, 2]


def _dither(img, rgb, alpha, usable, s: QuantizeSettings, transparent_index, four):
    from palette_app.core import dither as D

    h, w = img.shape[:2]
    fill = transparent_index if transparent_index is not None else 0
    if usable.size == 0:
        # Every pixel is transparent (the palette is the transparent entry alone).
        return np.full((h, w), fill, np.uint8)
    if s.space == "srgb":
        # sRGB coordinates are the 8-bit values: the ditherer reads the uint8
        # image as it is (no 12-byte-per-pixel float copy).
        x = np.ascontiguousarray(img[..., :3])
    else:
        x = to_space(np.ascontiguousarray(img[..., :3].reshape(-1, 3)), s.space).reshape(h, w, 3)
        x = np.ascontiguousarray(x, np.float32)
    pal = np.ascontiguousarray(to_space(rgb[usable], s.space), np.float32)
    edge = D.smooth_mask(np.ascontiguousarray(img[..., :3])) if s.dither_smooth_only else None
    mask = None
    if img.shape[2] == 4:
        mask = img[..., 3] < (255 if four else max(1, int(s.alpha_threshold)))
    kw = {"strength": float(s.dither_strength), "edge_mask": edge, "alpha_mask": mask}
    if s.dither == "fs":
        idx = D.dither_fs(x, pal, transparent_index=0, **kw)
    else:
        idx = D.dither_ordered(x, pal, transparent_index=0, **kw)
    if usable.size == len(rgb) and np.array_equal(usable, np.arange(usable.size)):
        out = idx                      # every entry usable: indices are palette indices
    else:
        lut = np.zeros(256, np.uint8)  # usable slot -> palette index, one byte lookup
        lut[:usable.size] = usable
        out = lut[idx]
    if mask is not None:
        out[mask] = fill
    return out


def _finish(img, samples: _Samples, rgb, alpha, mp: _Mapping, n_iter, s: QuantizeSettings, *,
            sort: bool, transparent_index, n_locked: int, names=None, locked_flags=None) -> QuantizeResult:
    """Order the palette, build the index image and the result."""
    k = len(rgb)
    counts = _sample_counts(samples, mp, k, transparent_index)
    if sort:
        order = _share_order(counts, np.arange(k) < n_locked, transparent_index)
        remap_to = np.zeros(k, np.uint8)
        remap_to[order] = np.arange(order.size, dtype=np.uint8)
        mp = _Mapping(remap_to[mp.labels], remap_to[mp.p_labels], mp.inertia, mp.d2)
        rgb, alpha, counts = rgb[order], alpha[order], counts[order]
        locked_flags = order < n_locked
        transparent_index = None if transparent_index is None else int(order.size - 1)
    indices, smoothed, strength = _indices(img, samples, mp, rgb, alpha, s, transparent_index)
    if s.dither != "none":
        counts = np.bincount(indices.reshape(-1), minlength=len(rgb)).astype(np.int64)
    inertia = mp.inertia
    # Per-color labels give the metrics exactly (smoothed pixels as a
    # correction), unless dithering maps one color to several entries or
    # pixels are partly transparent: then the metrics are measured per pixel.
    exact_metrics = s.dither == "none" and not samples.partial
    hist_labels = mp.labels
    moved = None
    if smoothed is not None:
        counts = counts - np.bincount(smoothed.near, minlength=len(rgb)) + \
            np.bincount(smoothed.new, minlength=len(rgb))
        inertia += smoothed.d_inertia
        moved = (smoothed.near, smoothed.new)
        if sort:
            # Smoothing moved a few pixels between entries: sort by share again.
            lock = np.zeros(len(rgb), bool) if locked_flags is None else locked_flags
            order = _share_order(counts, lock, transparent_index)
            if not np.array_equal(order, np.arange(len(rgb))):
                if order.size < len(rgb):
                    exact_metrics = False  # an entry lost all its pixels: labels point at it
                remap_to = np.zeros(256, np.uint8)
                remap_to[order] = np.arange(order.size, dtype=np.uint8)
                indices = remap_to[indices]
                hist_labels = remap_to[hist_labels]
                moved = (remap_to[smoothed.near], remap_to[smoothed.new])
                rgb, alpha, counts, locked_flags = rgb[order], alpha[order], counts[order], lock[order]
                transparent_index = None if transparent_index is None else int(order.size - 1)
    palette = Palette(rgb, alpha=alpha, counts=counts, names=names,
                      locked=np.zeros(len(rgb), bool) if locked_flags is None else locked_flags)
    settings = asdict(s)
    settings["smoothing"] = strength
    moved_rgb = None
    if exact_metrics and smoothed is not None:
        moved_rgb = np.ascontiguousarray(img.reshape(-1, img.shape[2])[smoothed.where, :3])
    return QuantizeResult(
        palette=palette,
        indices=indices,
        transparent_index=transparent_index,
        inertia=inertia,
        n_iter=n_iter,
        settings=settings,
        _hist_colors=samples.colors if exact_metrics else None,
        _hist_counts=samples.counts if exact_metrics else None,
        _hist_labels=hist_labels if exact_metrics else None,
        _original=None if exact_metrics else np.ascontiguousarray(img[..., :3]),
        _moved_rgb=moved_rgb,
        _moved_from=moved[0] if moved_rgb is not None else None,
        _moved_to=moved[1] if moved_rgb is not None else None,
    )


def _share_order(counts: np.ndarray, locked: np.ndarray, transparent_index) -> np.ndarray:
    """Entries to keep, most used first (ties: lower index first): used and
    locked entries, the transparent one last."""
    keep = np.flatnonzero((counts > 0) | locked)
    if transparent_index is not None:
        keep = keep[keep != transparent_index]
    order = keep[np.lexsort((keep, -counts[keep]))]
    if transparent_index is not None:
        order = np.append(order, transparent_index)
    return order


def _reporter(callback):
    def report(p):
        if callback is not None and callback(min(max(float(p), 0.0), 1.0)) is False:
            raise Cancelled("quantization was cancelled")
    return report


# --------------------------------------------------------------------------- public API
def quantize(image, n_colors: int = 16, *, random_state: int = 0, effort: str = "default",
             space: str = DEFAULT_SPACE, dither: str = "none", dither_strength: float = 1.0,
             dither_smooth_only: bool = False, locked=None, alpha_threshold: int = 1,
             batch_size: int = 2048, max_iter: int = 100, tol: float | None = None,
             smoothing: float | None = None,
             callback: ProgressCallback | None = None) -> QuantizeResult:
    """Reduce an (H, W, 3) or (H, W, 4) uint8 image to at most ``n_colors`` colors.

    The palette is found by weighted mini-batch k-means on the image's color
    histogram in ``space`` (see :mod:`palette_app.core.kmeans`), rounded to
    sRGB, and every pixel is mapped to its exact nearest palette color in that
    space, or dithered (``dither='fs'`` or ``'ordered'``, ``dither_strength``
    0..1, ``dither_smooth_only`` to keep edges crisp).

    ``smoothing`` (0..1) lets a pixel nearly halfway between two palette
    colors take the second-nearest when that saves index changes along its
    row, for smaller PNG files: with λ = smoothing × the mean squared error
    per pixel, a pixel's entry is never 2 λ or more worse than its nearest,
    and each row minimises the added error + λ per index change.
    ``smoothing=0`` maps every pixel to its exact nearest color. The default
    (None) is 0.5 up to 8 colors without dithering, weakened when it would add
    more than 1 % to the squared error (0.043 dB), and 0 above 8 colors;
    ``result.settings["smoothing"]`` is the strength used. See
    :mod:`palette_app.core.label_smoothing` and :class:`QuantizeSettings`.

    ``locked`` colors
    (``'#rrggbb'`` strings or an (n, 3) array) appear in the palette exactly;
    k-means places the remaining colors around them, and pixels equal to a
    locked color map to it. When the image has no more distinct colors than
    asked, the palette is exactly those colors.

    Fully transparent pixels (alpha below ``alpha_threshold``) become one
    transparent entry; partially transparent ones are clustered with alpha
    as a premultiplied coordinate, so palette entries can be translucent.

    ``tol`` (None: automatic) stops the Lloyd polish when the total squared
    center shift falls below ``tol`` times the data's variance: 1e-4 when
    every distinct color is clustered, 1e-3 on a reduced histogram, whose
    binning already costs more than the passes a tighter tol buys (measured:
    under 0.025 dB, for a third less time).

    ``callback(progress)`` is called with a fraction in [0, 1] between
    mini-batches; returning False raises :class:`~palette_app.Cancelled`.

    Returns a :class:`QuantizeResult` whose palette is sorted by pixel share,
    most used first (the transparent entry last).
    """
    s = _settings(n_colors, random_state, effort, space, dither, dither_strength, dither_smooth_only,
                  locked, alpha_threshold, batch_size, max_iter, tol, smoothing)
    img = check_image(image)
    return _quantize(img, s, callback)


def _quantize(img: np.ndarray, s: QuantizeSettings, callback) -> QuantizeResult:
    report = _reporter(callback)
    report(0.0)
    samples = _samples(img, s.alpha_threshold)
    has_transparent = samples.n_transparent > 0
    k = int(s.n_colors) - (1 if has_transparent else 0)
    if len(s.locked) > k:
        # Else the palette would exceed n_colors (and overflow the uint8 indices at 256).
        more = f", or ask for {len(s.locked) + 1} colors" if len(s.locked) < 256 else ""
        raise ValueError(f"the image has transparent pixels, which take one of the {s.n_colors} colors: "
                         f"lock at most {k} colors{more}")
    rgb, alpha, n_iter, shortcut = _fit(samples, s, k, report)
    transparent_index = None
    if has_transparent:
        transparent_index = len(rgb)
        rgb = np.vstack([rgb, np.zeros((1, 3), np.uint8)])
        alpha = np.append(alpha, np.uint8(0))
    report(0.93)
    mp = _map(samples, rgb, alpha, s, transparent_index, shortcut)
    result = _finish(img, samples, rgb, alpha, mp, n_iter, s, sort=True,
                     transparent_index=transparent_index, n_locked=len(s.locked))
    report(1.0)
    return result


def remap(image, palette, *, space: str = DEFAULT_SPACE, dither: str = "none",
          dither_strength: float = 1.0, dither_smooth_only: bool = False, alpha_threshold: int = 1,
          smoothing: float | None = 0.0, callback: ProgressCallback | None = None) -> QuantizeResult:
    """Map an image to an existing palette: no clustering, nearest color in ``space``.

    ``smoothing`` (default 0: every pixel on its exact nearest color) is label
    smoothing as in :func:`quantize` (None: automatic, as quantize does), for
    mapping a full image to a palette that was clustered on a preview of it.
    Pixels equal to a locked entry of a :class:`Palette` keep it.

    ``palette`` is a :class:`Palette` (from any palette file), a sequence of
    ``'#rrggbb'`` strings or a (k, 3) / (k, 4) uint8 array, at most 256
    entries. The result keeps the palette's order; pixel counts are filled
    in. Transparent pixels go to the palette's first fully transparent entry,
    which is appended when it has none. Partially transparent pixels match
    in the premultiplied space like :func:`quantize`.
    """
    img = check_image(image)
    rgb, alpha = _palette_arrays(palette)
    locked = None
    if isinstance(palette, Palette) and dither == "none" and smoothing != 0.0:
        # Smoothing never moves a pixel off a locked color.
        keep = palette.locked & (palette.rgba[:, 3] == 255)
        locked = [palette.hex[i][:7] for i in np.flatnonzero(keep)] or None
    s = _settings(max(2, min(256, len(rgb))), 0, "default", space, dither, dither_strength,
                  dither_smooth_only, locked, alpha_threshold, smoothing=smoothing)
    report = _reporter(callback)
    report(0.0)
    samples = _samples(img, s.alpha_threshold)
    transparent_index = None
    clear = np.flatnonzero(alpha == 0)
    if samples.n_transparent:
        if clear.size:
            transparent_index = int(clear[0])
        else:
            if len(rgb) >= 256:
                raise ValueError("the image has transparent pixels and the 256-color palette has no "
                                 "transparent entry to map them to")
            transparent_index = len(rgb)
            rgb = np.vstack([rgb, np.zeros((1, 3), np.uint8)])
            alpha = np.append(alpha, np.uint8(0))
    if not np.any(alpha > 0):
        raise ValueError("the palette has no opaque color to map pixels to")
    report(0.3)
    mp = _map(samples, rgb, alpha, s, transparent_index, None)
    names = flags = None
    if isinstance(palette, Palette):
        names = palette.names
        if names is not None and len(names) < len(rgb):
            names = tuple(names) + (None,) * (len(rgb) - len(names))
        flags = np.concatenate([palette.locked, np.zeros(len(rgb) - len(palette), bool)])
    result = _finish(img, samples, rgb, alpha, mp, 0, s, sort=False, transparent_index=transparent_index,
                     n_locked=0, names=names, locked_flags=flags)
    report(1.0)
    return result


def _palette_arrays(palette) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(palette, Palette):
        rgb, alpha = palette.colors, palette.rgba[:, 3]
    elif isinstance(palette, (list, tuple)) and palette and all(isinstance(c, str) for c in palette):
        rgba = np.array([parse_hex(c) for c in palette], np.uint8)
        rgb, alpha = rgba[:, :3], rgba[:, 3]
    else:
        arr = np.asarray(palette)
        if arr.ndim != 2 or arr.shape[1] not in (3, 4):
            raise ValueError(f"palette must have shape (k, 3) or (k, 4), got {arr.shape}")
        if not np.issubdtype(arr.dtype, np.integer) or (arr.size and (arr.min() < 0 or arr.max() > 255)):
            raise ValueError("palette colors must be integers in 0..255")
        arr = arr.astype(np.uint8)
        rgb = arr[:, :3]
        alpha = arr[:, 3] if arr.shape[1] == 4 else np.full(len(arr), 255, np.uint8)
    if not 1 <= len(rgb) <= 256:
        raise ValueError(f"a palette for remapping needs 1 to 256 colors, got {len(rgb)}")
    return np.ascontiguousarray(rgb, np.uint8), np.ascontiguousarray(alpha, np.uint8)


def shared_palette(images: Sequence, n_colors: int = 16, *, weights: Sequence[float] | None = None,
                   space: str = DEFAULT_SPACE, locked=None, random_state: int = 0,
                   effort: str = "default", alpha_threshold: int = 1,
                   callback: ProgressCallback | None = None) -> Palette:
    """One palette for a set of images, from their merged color histograms.

    ``images`` are (H, W, 3|4) uint8 arrays or :class:`ColorHistogram` objects
    (to merge big batches without keeping the pixels). ``weights`` (one per
    image, default 1) multiply each image's pixel counts: pass ``1 / pixels``
    to give every image the same say whatever its size. Remap each image to
    the palette with :func:`remap` so the set shares colors exactly.
    Transparent pixels are left out; the palette is opaque.
    """
    if len(images) == 0:
        raise ValueError("shared_palette needs at least one image")
    if weights is not None and len(weights) != len(images):
        raise ValueError(f"got {len(weights)} weights for {len(images)} images")
    s = _settings(n_colors, random_state, effort, space, "none", 1.0, False, locked, alpha_threshold)
    keys, counts = [], []
    for i, im in enumerate(images):
        h = im if isinstance(im, ColorHistogram) else color_histogram(
            check_image(im), alpha_threshold=max(1, int(alpha_threshold)))
        wt = 1.0 if weights is None else float(weights[i])
        if not wt >= 0:
            raise ValueError(f"weights must be non-negative, got {weights[i]!r}")
        c = h.colors.astype(np.uint32)
        keys.append((c[:, 0] << 16) | (c[:, 1] << 8) | c[:, 2])
        counts.append(h.counts * wt)
    allk = np.concatenate(keys)
    allc = np.concatenate(counts)
    uniq, inv = np.unique(allk, return_inverse=True)
    merged = np.bincount(inv, weights=allc, minlength=len(uniq))
    keep = merged > 0
    uniq, merged = uniq[keep], merged[keep]
    if len(uniq) == 0:
        raise ValueError("the images have no opaque pixels")
    # Integer counts for the histogram kernels; scale fractional weights up.
    scale = 1.0 if np.allclose(merged, np.rint(merged)) else 1e6 / max(merged.min(), 1e-300)
    scale = min(scale, 1e12 / merged.sum())
    icounts = np.maximum(np.rint(merged * scale), 1).astype(np.int64)
    colors = np.stack([(uniq >> 16) & 255, (uniq >> 8) & 255, uniq & 255], axis=1).astype(np.uint8)
    samples = _Samples(colors, icounts, np.zeros((0, 4), np.uint8), np.zeros(0, np.int64), None, None, 0)
    rgb, _, _, _ = _fit(samples, s, int(n_colors), _reporter(callback))
    # Counts of the merged histogram per palette color, most used first.
    lab, _ = assign_labels(_coords(colors, s.space, None, False), _coords(rgb, s.space, None, False))
    pc = np.bincount(lab, weights=merged, minlength=len(rgb))
    n_locked = len(s.locked)
    order = np.lexsort((np.arange(len(rgb)), -pc))
    return Palette(rgb[order], counts=np.rint(pc[order]).astype(np.int64),
                   locked=order < n_locked)
