""""How many colors?": the elbow curve, a suggested count, and a quality target."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from palette_app.core._config import JIT, PARALLEL_LOCK
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
    suggested_k : int, N for an image of N separated colors (a gap in the
        error curve, see :func:`find_gap`), else the knee of log(inertia)
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


#: A gap: one more color divides the error by at least GAP_RATIO ...
GAP_RATIO = 8.0
#: ... and by GAP_DOMINANCE times more (in log) than any later step does.
GAP_DOMINANCE = 10.0
#: Squared sRGB error per pixel of rounding to 8 bits (1/12 per channel):
#: an error below it is none.
RGB_ROUNDING = 3.0 / 12.0


def find_gap(ks, errors, *, error_below: float | None = None, floor: float = RGB_ROUNDING) -> int | None:
    """The k of a gap in an error curve, or None: where one more color
    divides the error by at least GAP_RATIO, and by GAP_DOMINANCE times more
    (in log) than any later step that does not end on the floor. Of several
    gaps, the largest.

    ks : (n,) consecutive color counts; errors : (n,) their mean squared
    errors per pixel; error_below : the error at ``ks[0] - 1`` colors when
    known (one color: the variance), so that a gap at ``ks[0]`` shows;
    floor : errors below it count as it (none that 8 bits can show).

    An image of N separated colors falls to its noise floor at N; more
    colors only split the noise (steps of a few tens of percent), or reach
    the floor when the colors run out. Measured on the tests' images and the
    benchmark photos, in sRGB error: such gaps divide the error by 15 or more
    and are 25+ times later steps; a photo's steps divide it by 10 at most
    and are at most 5 times later ones. Only ratios of errors count, not
    their units.
    """
    ks = np.asarray(ks, dtype=np.int64)
    v = np.maximum(np.asarray(errors, dtype=np.float64), float(floor))
    top = max(float(v.max()), float(error_below or 0.0))
    if not top > 0.0:
        return None
    log_v = np.log(np.maximum(v, 1e-12 * top))
    steps = -np.diff(log_v)
    ends, at = v[1:], ks[1:]     # the error each step ends on, and its k
    if error_below is not None and error_below > 0.0:
        steps = np.concatenate([[np.log(max(float(error_below), 1e-12 * top)) - log_v[0]], steps])
        ends, at = v, ks
    if steps.size == 0:
        return None
    counted = np.where(ends > floor, steps, 0.0)   # steps onto the floor: the colors ran out
    later = np.concatenate([np.maximum.accumulate(counted[::-1])[::-1][1:], [0.0]])
    gap = (steps >= np.log(GAP_RATIO)) & (steps >= GAP_DOMINANCE * later)
    if not gap.any():
        return None
    return int(at[np.flatnonzero(gap)[np.argmax(steps[gap])]])


def elbow(image, k_max: int = 32, *, k_min: int = 2, space: str = DEFAULT_SPACE, random_state: int = 0,
          alpha_threshold: int = 1, callback=None) -> ElbowCurve:
    """Inertia and mean ΔE2000 for k = k_min .. k_max from one histogram.

    Each k starts from the previous centers plus one new center on a
    worst-fitted color, then Lloyd passes converge (warm start): the whole
    curve costs about as much as a few quantizations. Colors are binned at
    5 bits per channel (heavy bins kept exact) and ΔE is measured on the bins'
    mean colors, so the values are close to, not exactly, a full
    quantization's. The suggested k is the gap of an image of N separated
    colors, the same in every space (:func:`find_gap`, on the sRGB error),
    else the knee of log(inertia) (:func:`knee`).

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
    rgb_points = from_space(X, space)
    lab_points = to_space(rgb_points, "lab")
    ks = np.arange(k_min, k_max + 1)
    inertia = np.full(len(ks), 0.0)
    de = np.full(len(ks), 0.0)
    # The error in sRGB (what PSNR measures), the same quantity whatever the
    # clustering space: the suggested k is judged on it.
    rgb_error = np.full(len(ks), 0.0)
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
            rgb_error[i:] = 0.0
            break
        if C is None:
            C = weighted_kmeans(X, w, int(k), random_state=random_state, max_no_improvement=3,
                                tol=1e-3).centers
        else:
            C = np.vstack([C, _new_center(lloyd.X, lloyd.w, lloyd.d2(C))[None, :]]).astype(np.float32)
        with PARALLEL_LOCK:
            _lloyd(lloyd, C, n_fixed=0, max_iter=20, tol=1e-3, var=var, progress=lambda p: None)
            d2 = lloyd.d2(C)
        inertia[i] = float(lloyd.w @ d2) / total
        labels = lloyd.original_labels()
        pal_rgb = np.clip(from_space(C, space), 0.0, 255.0)
        pal_lab = to_space(pal_rgb, "lab")
        de[i] = float(w @ delta_e2000(lab_points, pal_lab[labels])) / total
        # In sRGB it is the inertia itself.
        rgb_error[i] = inertia[i] if space == "srgb" else _sq_error(rgb_points, w, pal_rgb[labels]) / total
        report((i + 1) / len(ks))
    # One color (the mean) shows a gap at k_min = 2.
    below = None
    if k_min == 2:
        below = _sq_error(rgb_points, w, np.clip(from_space(mean[None, :], space), 0.0, 255.0)) / total
    # An image of N separated colors: a gap at N. Judged on the sRGB error,
    # the same in every space: OKLab stretches the noise of near-black colors
    # (it has no linear toe), so in its own units their noise looks like
    # structure and the gap at N looks small.
    suggested = find_gap(ks, rgb_error, error_below=below)
    if suggested is None:
        # A photo bends smoothly: the knee of log(inertia), in the clustering
        # space. A curve that falls by less than 4x has no knee worth more colors.
        log_inertia = np.log(np.maximum(inertia, 1e-12 * max(float(inertia[0]), 1e-300)))
        suggested = knee(ks, log_inertia, min_range=np.log(4.0))
    return ElbowCurve(ks, inertia, de, suggested, space)


def _sq_error(a: np.ndarray, w: np.ndarray, b: np.ndarray) -> float:
    """Weighted sum of squared distances between (n, 3) rows of ``a`` and ``b`` (or one row)."""
    return float(w @ ((a.astype(np.float64) - b) ** 2).sum(axis=1))


def _new_center(X: np.ndarray, w: np.ndarray, d2: np.ndarray, n_candidates: int = 8) -> np.ndarray:
    """The next center of the warm start: among the worst-fitted points (the
    largest ``w * d2``, and the largest ``d2``), the one that lowers the error
    most when added.

    The single worst point by ``w * d2`` is often a heavy point of a wide
    noise cloud (a near-black color in OKLab, clipped at 0, piles its noise
    on a few far-apart points) while two real colors still share a center;
    the next k then fixes that, and the curve shows its drop one k late.

    X : (n, d) float32 points; w : (n,) float64 weights; d2 : (n,) float32
    squared distance to their center. Returns (d,) float32.
    """
    m = min(n_candidates, len(X))
    cand = np.union1d(np.argpartition(-(w * d2), m - 1)[:m], np.argpartition(-d2, m - 1)[:m])
    gain = np.empty(len(cand), np.float64)
    _candidate_gains(X, w, d2, np.ascontiguousarray(X[cand]), gain)
    return X[cand[int(np.argmax(gain))]]


@njit(**JIT)
def _candidate_gains(X, w, d2, C, gain):
    """Error each candidate center would remove, added alone.

    X : (n, d) float32 points; w : (n,) float64 weights; d2 : (n,) float32
    squared distance of each point to its center; C : (m, d) float32   # IN
    gain : (m,) float64, sum over points of w * max(0, d2 - |x - c|^2)  # OUT
    """
    n, d = X.shape
    m = C.shape[0]
    for c in range(m):
        gain[c] = 0.0
    for i in range(n):
        di = d2[i]
        if di <= 0.0:
            continue
        for c in range(m):
            s = 0.0
            for t in range(d):
                u = X[i, t] - C[c, t]
                s += u * u
            if s < di:
                gain[c] += w[i] * (di - s)


def colors_for_quality(image, *, min_psnr: float | None = None, max_delta_e: float | None = None,
                       k_min: int = 2, k_max: int = 256, space: str = DEFAULT_SPACE,
                       random_state: int = 0, effort: str = "default", locked=None,
                       smoothing: float | None = None, callback=None) -> QuantizeResult:
    """The fewest colors whose result meets the target, as pngquant's
    ``--quality`` does but answering with the count.

    Give ``min_psnr`` (dB), ``max_delta_e`` (mean CIEDE2000), or both. A
    binary search over k quantizes about log2(k_max) times; the answer k meets
    the target and k - 1 was tried and did not (unless k == k_min). When even
    ``k_max`` misses the target, its result is returned; check ``result.psnr``
    / ``result.delta_e``. ``smoothing`` goes to :func:`quantize` (the target
    is checked on the smoothed result).
    """
    if min_psnr is None and max_delta_e is None:
        raise ValueError("give a target: min_psnr, max_delta_e or both")
    if not 2 <= k_min <= k_max <= 256:
        raise ValueError(f"need 2 <= k_min <= k_max <= 256, got {k_min}, {k_max}")
    img = check_image(image)
    cache: dict[int, QuantizeResult] = {}

    def run(k: int) -> QuantizeResult:
        if k not in cache:
            cache[k] = quantize(img, k, random_state=random_state, space=space, effort=effort, locked=locked,
                                smoothing=smoothing)
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
