""""How many colors?": the elbow curve, a suggested count, and a quality target."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from palette_app.core._config import PARALLEL_LOCK
from palette_app.core.colorspace import from_space, to_space
from palette_app.core.errors import Cancelled
from palette_app.core.histogram import check_image, reduce_histogram
from palette_app.core.kmeans import _build_grid, _Lloyd, _lloyd, weighted_kmeans
from palette_app.core.metrics import delta_e2000
from palette_app.core.quantize import (
    DEFAULT_SPACE,
    _coords,
    _samples,
    _weighted_means,
    quantize,
)
from palette_app.core.result import QuantizeResult


@dataclass(frozen=True)
class ElbowCurve:
    """Inertia and color error against the number of colors.

    ks : (n,) int, the color counts tried (k_min .. k_max)
    inertia : (n,) float, mean squared distance per pixel to the nearest
        palette color, in the clustering space
    delta_e : (n,) float, mean CIEDE2000 per pixel
    suggested_k : int, the knee of the inertia curve
    space : the clustering space
    """

    ks: np.ndarray
    inertia: np.ndarray
    delta_e: np.ndarray
    suggested_k: int
    space: str

    def as_rows(self) -> list[tuple[int, float, float]]:
        return [(int(k), float(i), float(d)) for k, i, d in zip(self.ks, self.inertia, self.delta_e)]


def knee(ks, values, min_range: float = 0.0) -> int:
    """The knee of a decreasing curve (Kneedle: the point farthest above the
    chord of the normalised, flipped curve). Returns the k at the knee, or
    the first k when the curve falls by no more than ``min_range``."""
    ks = np.asarray(ks, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    if len(ks) < 3 or v.max() - v.min() <= min_range:
        # Flat from the start: more colors barely help.
        return int(ks[0])
    x = (ks - ks[0]) / (ks[-1] - ks[0])
    y = (v - v.min()) / (v.max() - v.min())
    diff = (1.0 - y) - x
    return int(ks[int(np.argmax(diff))])


def elbow(image, k_max: int = 32, *, k_min: int = 2, space: str = DEFAULT_SPACE, random_state: int = 0,
          alpha_threshold: int = 1, callback=None) -> ElbowCurve:
    """Inertia and mean ΔE2000 for k = k_min .. k_max from one histogram.

    Each k starts from the previous centers plus one new center on the
    worst-fitted color, then Lloyd passes converge (warm start): the whole
    curve costs about as much as a few quantizations. Colors are binned at
    5 bits per channel (heavy bins kept exact) and ΔE is measured on the bins'
    mean colors, so the values are close to, not exactly, a full
    quantization's. The suggested k is the knee of the inertia curve.

    Only opaque pixels are counted (partially transparent ones are not);
    raises ValueError when the image has none.
    """
    img = check_image(image)
    if not (isinstance(k_min, (int, np.integer)) and isinstance(k_max, (int, np.integer))):
        raise TypeError("k_min and k_max must be integers")
    if not 1 <= k_min < k_max <= 256:
        raise ValueError(f"need 1 <= k_min < k_max <= 256, got k_min={k_min}, k_max={k_max}")
    samples = _samples(img, alpha_threshold)
    if samples.colors.shape[0] == 0:
        raise ValueError("the image has no opaque pixels")
    means, w, point_of = reduce_histogram(samples.colors, samples.counts, 5,
                                          split_weight=float(samples.counts.sum()) / (16 * k_max),
                                          return_mapping=True)
    cx = _coords(samples.colors, space, None, False)
    X = means if space == "srgb" else _weighted_means(cx, samples.counts, point_of, len(w))
    total = float(w.sum())
    lab_points = to_space(from_space(X, space), "lab")
    ks = np.arange(k_min, k_max + 1)
    inertia = np.full(len(ks), 0.0)
    de = np.full(len(ks), 0.0)
    n = len(X)
    mean = (w @ X) / total
    var = float(w @ ((X - mean) ** 2).sum(axis=1)) / total / X.shape[1]

    def report(p):
        if callback is not None and callback(min(max(p, 0.0), 1.0)) is False:
            raise Cancelled("cancelled")

    C = None
    with PARALLEL_LOCK:
        lloyd = _Lloyd(X, w, _build_grid(X, min(k_max, n)))
    for i, k in enumerate(ks):
        if k >= n:
            # As many centers as points: zero error from here on.
            inertia[i:] = 0.0
            de[i:] = 0.0
            break
        if C is None:
            C = weighted_kmeans(X, w, int(k), random_state=random_state, max_no_improvement=3,
                                tol=1e-3).centers
        else:
            d2 = lloyd.d2(C)
            worst = int(np.argmax(w * d2))
            C = np.vstack([C, lloyd.X[worst][None, :]]).astype(np.float32)
        with PARALLEL_LOCK:
            _lloyd(lloyd, C, n_fixed=0, max_iter=20, tol=1e-3, var=var, progress=lambda p: None)
            d2 = lloyd.d2(C)
        inertia[i] = float(lloyd.w @ d2) / total
        labels = lloyd.original_labels()
        pal_lab = to_space(from_space(C, space), "lab")
        de[i] = float(w @ delta_e2000(lab_points, pal_lab[labels])) / total
        report((i + 1) / len(ks))
    # The knee of log(inertia): an image of N flat colors drops to its noise
    # floor at N, a photo bends smoothly. A curve that falls by less than 4x
    # over the whole range has no knee worth more colors.
    log_inertia = np.log(np.maximum(inertia, 1e-12 * max(float(inertia[0]), 1e-300)))
    return ElbowCurve(ks, inertia, de, knee(ks, log_inertia, min_range=np.log(4.0)), space)


def colors_for_quality(image, *, min_psnr: float | None = None, max_delta_e: float | None = None,
                       k_min: int = 2, k_max: int = 256, space: str = DEFAULT_SPACE,
                       random_state: int = 0, effort: str = "default", locked=None,
                       callback=None) -> QuantizeResult:
    """The fewest colors whose result meets the target, as pngquant's
    ``--quality`` does but answering with the count.

    Give ``min_psnr`` (dB), ``max_delta_e`` (mean CIEDE2000), or both. A
    binary search over k quantizes about log2(k_max) times; the answer k meets
    the target and k - 1 was tried and did not (unless k == k_min). When even
    ``k_max`` misses the target, its result is returned; check ``result.psnr``
    / ``result.delta_e``.
    """
    if min_psnr is None and max_delta_e is None:
        raise ValueError("give a target: min_psnr, max_delta_e or both")
    if not 2 <= k_min <= k_max <= 256:
        raise ValueError(f"need 2 <= k_min <= k_max <= 256, got {k_min}, {k_max}")
    img = check_image(image)
    cache: dict[int, QuantizeResult] = {}

    def run(k: int) -> QuantizeResult:
        if k not in cache:
            cache[k] = quantize(img, k, random_state=random_state, space=space, effort=effort, locked=locked)
            if callback is not None and callback(len(cache) / 9.0) is False:
                raise Cancelled("cancelled")
        return cache[k]

    def meets(r: QuantizeResult) -> bool:
        ok = True
        if min_psnr is not None:
            ok &= r.psnr >= min_psnr
        if max_delta_e is not None:
            ok &= r.delta_e <= max_delta_e
        return bool(ok)

    if meets(run(k_min)):
        return run(k_min)
    if not meets(run(k_max)):
        return run(k_max)
    lo, hi = k_min, k_max  # lo misses, hi meets
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if meets(run(mid)):
            hi = mid
        else:
            lo = mid
    return run(hi)
