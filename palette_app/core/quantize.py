"""The public entry point: :func:`quantize` an image to a palette and an index image."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Callable

import numpy as np

from palette_app.core.errors import Cancelled
from palette_app.core.histogram import check_image, color_histogram, reduce_histogram
from palette_app.core.kmeans import weighted_kmeans
from palette_app.core.palette import Palette
from palette_app.core.remap import labels_to_indices, labels_via_points, nearest_labels
from palette_app.core.result import QuantizeResult

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


@dataclass(frozen=True)
class QuantizeSettings:
    """Checked settings on the user's own scale (as libimagequant's ``Attributes``).

    n_colors : 2..256 palette entries (one of them transparent when the image
        has transparent pixels).
    random_state : int seed; the same seed gives the same result, bit for bit.
    effort : 'fast', 'default' or 'best' (speed against quality).
    alpha_threshold : pixels with alpha below it (RGBA images) become the one
        transparent entry.
    """

    n_colors: int = 16
    random_state: int = 0
    effort: str = "default"
    alpha_threshold: int = 1
    batch_size: int = 2048
    max_iter: int = 100
    tol: float | None = None

    def __post_init__(self):
        if isinstance(self.n_colors, bool) or not isinstance(self.n_colors, (int, np.integer)):
            raise TypeError(f"n_colors must be an integer, got {self.n_colors!r}")
        if not 2 <= int(self.n_colors) <= 256:
            raise ValueError(f"n_colors must be between 2 and 256, got {self.n_colors}")
        if not isinstance(self.random_state, (int, np.integer)) or isinstance(self.random_state, bool):
            raise TypeError(f"random_state must be an integer seed, got {self.random_state!r}")
        if self.effort not in EFFORTS:
            raise ValueError(f"effort must be one of {tuple(EFFORTS)}, got {self.effort!r}")
        if not 0 <= int(self.alpha_threshold) <= 256:
            raise ValueError(f"alpha_threshold must be in 0..256, got {self.alpha_threshold}")
        if int(self.batch_size) < 16:
            raise ValueError(f"batch_size must be at least 16, got {self.batch_size}")
        if int(self.max_iter) < 1:
            raise ValueError(f"max_iter must be at least 1, got {self.max_iter}")
        if self.tol is not None and not self.tol >= 0:
            raise ValueError(f"tol must be >= 0 or None, got {self.tol}")


def quantize(image, n_colors: int = 16, *, random_state: int = 0, effort: str = "default",
             alpha_threshold: int = 1, batch_size: int = 2048, max_iter: int = 100,
             tol: float | None = None, callback: Callable[[float], "bool | None"] | None = None
             ) -> QuantizeResult:
    """Reduce an (H, W, 3) or (H, W, 4) uint8 image to at most ``n_colors`` colors.

    The palette is found by weighted mini-batch k-means on the image's color
    histogram (see :mod:`palette_app.core.kmeans`), rounded to sRGB, and every
    pixel is mapped to its exact nearest palette color. When the image has no
    more distinct colors than asked, the palette is exactly those colors.

    ``tol`` (None: automatic) stops the Lloyd polish when the total squared
    center shift falls below ``tol`` times the data's variance: 1e-4 when
    every distinct color is clustered, 1e-3 on a reduced histogram, whose
    binning already costs more than the passes a tighter tol buys (measured:
    under 0.025 dB, for a third less time).

    ``callback(progress)`` is called with a fraction in [0, 1] between
    mini-batches; returning False raises :class:`~palette_app.Cancelled`.

    Returns a :class:`QuantizeResult` whose palette is sorted by pixel share,
    most used first.
    """
    settings = QuantizeSettings(n_colors=n_colors, random_state=random_state, effort=effort,
                                alpha_threshold=alpha_threshold, batch_size=batch_size,
                                max_iter=max_iter, tol=tol)
    img = check_image(image)
    return _quantize(img, settings, callback)


def _quantize(img: np.ndarray, s: QuantizeSettings, callback) -> QuantizeResult:
    def report(p):
        if callback is not None and callback(p) is False:
            raise Cancelled("quantization was cancelled")

    report(0.0)
    hist = color_histogram(img, alpha_threshold=s.alpha_threshold)
    has_transparent = hist.n_transparent > 0
    k = int(s.n_colors) - (1 if has_transparent else 0)
    bits, split, n_swaps = EFFORTS[s.effort]
    n_iter = 0
    inertia = 0.0
    state = None
    m = len(hist)
    if m == 0:
        palette_rgb = np.zeros((0, 3), np.uint8)
    elif m <= k:
        palette_rgb = hist.colors.copy()
    else:
        exact = bits is None or m <= EXACT_MAX_COLORS
        if exact:
            X, w = hist.colors.astype(np.float32), hist.counts.astype(np.float64)
            point_of = np.arange(m, dtype=np.int32)
        else:
            X, w, point_of = reduce_histogram(hist.colors, hist.counts, bits,
                                              split_weight=float(hist.counts.sum()) / (split * k),
                                              return_mapping=True)

        def sub(p):
            report(0.02 + 0.93 * p)

        if len(X) <= k:
            centers = X.copy()
        else:
            # Patience 3: on histograms the mini-batch phase only warms up
            # the Lloyd polish; longer patience bought < 0.01 dB for 20 % time.
            tol = s.tol if s.tol is not None else (1e-4 if exact else 1e-3)
            state = weighted_kmeans(X, w, k, n_swaps=n_swaps, batch_size=s.batch_size,
                                    max_no_improvement=3,
                                    max_iter=s.max_iter, tol=tol, random_state=s.random_state,
                                    callback=sub)
            centers = state.centers
            n_iter = state.n_iter + state.n_steps
        palette_rgb = np.clip(np.rint(centers), 0, 255).astype(np.uint8)
    report(0.95)

    # Exact nearest palette color per distinct color, then per pixel.
    if m:
        if state is not None:
            # Most colors inherit their bin's label, proven exact by its bounds.
            labels, d2 = labels_via_points(hist.colors, point_of, X, state, palette_rgb)
        else:
            labels, d2 = nearest_labels(hist.colors, palette_rgb)
        inertia = float(np.dot(hist.counts, d2.astype(np.float64)))
        counts = np.bincount(labels, weights=hist.counts, minlength=len(palette_rgb)).astype(np.int64)
        used = np.flatnonzero(counts > 0)
        # Most used first (ties by color value): a stable, meaningful order.
        order = used[np.lexsort((np.arange(used.size), -counts[used]))]
    else:
        labels = np.zeros(0, np.uint8)
        counts = np.zeros(0, np.int64)
        order = np.zeros(0, np.intp)
    remap_to = np.empty(max(len(palette_rgb), 1), np.uint8)
    remap_to[order] = np.arange(order.size, dtype=np.uint8)
    colors = palette_rgb[order]
    pal_counts = counts[order]
    alpha = None
    transparent_index = None
    if has_transparent:
        transparent_index = order.size
        colors = np.vstack([colors, np.zeros((1, 3), np.uint8)])
        pal_counts = np.append(pal_counts, hist.n_transparent)
        alpha = np.full(len(colors), 255, np.uint8)
        alpha[transparent_index] = 0
    new_labels = remap_to[labels] if m else labels
    indices = labels_to_indices(img, hist.colors, new_labels, alpha_threshold=s.alpha_threshold,
                                fill=transparent_index or 0)
    palette = Palette(colors, alpha=alpha, counts=pal_counts)
    report(1.0)
    return QuantizeResult(
        palette=palette,
        indices=indices,
        transparent_index=transparent_index,
        inertia=inertia,
        n_iter=n_iter,
        settings=asdict(s),
        _hist_colors=hist.colors,
        _hist_counts=hist.counts,
        _hist_labels=new_labels,
    )
