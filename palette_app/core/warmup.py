"""Compile (or load from the on-disk cache) every Numba kernel on tiny inputs.

The GUI calls :func:`warmup` in a background thread at start-up so the first
preview does not wait for the compiler; the CLI's workers call it once each.
"""
from __future__ import annotations

import threading
import time

import numpy as np

_done = threading.Event()
_lock = threading.RLock()
_steps_done: set[int] = set()


def _images():
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (48, 48, 3), dtype=np.uint8)
    rgba = np.dstack([rgb, np.where(rng.random((48, 48)) < 0.1, 0, 255).astype(np.uint8)])
    soft = rgba.copy()
    soft[::3, ::3, 3] = 128  # partial alpha: the premultiplied 4-D path
    return rng, rgb, rgba, soft


def _step_quantize() -> None:
    """What a first default preview needs: histogram, k-means, remap, metrics."""
    from palette_app.core.histogram import color_histogram, reduce_histogram
    from palette_app.core.quantize import quantize, remap

    _, rgb, rgba, soft = _images()
    for img in (rgb, rgba, soft):
        h = color_histogram(img)
        reduce_histogram(h.colors, h.counts, 6, split_weight=10.0, return_mapping=True)
        r = quantize(img, 8, effort="fast")
        _ = r.psnr, r.delta_e
        remap(img, r.palette)
        # The GUI's previews and load_image's pixels (CLI, batch) are
        # read-only, and Numba compiles the kernels that read the pixels
        # themselves (histogram, lookup table) again for read-only arrays:
        # 1.4 s at the first 1-MP quantize otherwise.
        frozen = img.copy()
        frozen.setflags(write=False)
        remap(frozen, quantize(frozen, 4, effort="fast").palette)


def _step_elbow() -> None:
    from palette_app.core.elbow import elbow

    elbow(_images()[1], 6)


def _step_spaces() -> None:
    from palette_app.core.colorspace import SPACES
    from palette_app.core.quantize import quantize

    rgb = _images()[1]
    for space in SPACES:
        quantize(rgb, 6, space=space, locked=["#ff0000"])


def _step_dither() -> None:
    from palette_app.core.quantize import quantize

    _, rgb, rgba, _ = _images()
    # The kernels specialise on the pixels' type (uint8 in sRGB, float32 in the
    # other spaces) and on whether any mask is given (transparency, smooth-only).
    for kind in ("fs", "ordered"):
        quantize(rgb, 6, dither=kind)
        quantize(rgba, 6, dither=kind)
        quantize(rgb, 6, dither=kind, space="oklab")
        quantize(rgba, 6, dither=kind, space="oklab", dither_smooth_only=True)


def _step_minibatch() -> None:
    # Paths the tiny image does not reach: the grid and the mini-batch phase.
    from palette_app.core.estimator import MiniBatchKMeans

    X = _images()[0].random((4096, 3), dtype=np.float32) * 255
    MiniBatchKMeans(8, n_init=1, batch_size=64, random_state=0).fit(X)


def _step_module(name: str):
    def step() -> None:
        import importlib

        fn = getattr(importlib.import_module(f"palette_app.core.{name}"), "_warm_up", None)
        if fn is not None:
            fn()
    return step


# In the order a new user needs them: the first preview, the chart beside it,
# then the other spaces, dithering and the remaining specialisations.
STEPS = (
    ("quantize", _step_quantize),
    ("elbow", _step_elbow),
    ("spaces", _step_spaces),
    ("dither", _step_dither),
    ("minibatch", _step_minibatch),
    ("colorspace", _step_module("colorspace")),
    ("metrics", _step_module("metrics")),
    ("dither kernels", _step_module("dither")),
)


def warmup_step(index: int) -> float:
    """Run one step of :data:`STEPS`; returns its seconds (0 when all are done).

    The GUI runs the steps one by one on its engine queue, so that a preview
    asked for meanwhile waits for one step, not for all of them.
    """
    if _done.is_set():
        return 0.0
    t0 = time.perf_counter()
    with _lock:
        STEPS[index][1]()
        _steps_done.add(index)
        if len(_steps_done) == len(STEPS):
            _done.set()
    return time.perf_counter() - t0


def warmup() -> float:
    """Compile every kernel; returns the seconds it took (0 when already done)."""
    if _done.is_set():
        return 0.0
    with _lock:
        if _done.is_set():
            return 0.0
        t0 = time.perf_counter()
        for _name, step in STEPS:
            step()
        _done.set()
        return time.perf_counter() - t0
