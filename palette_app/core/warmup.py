"""Compile (or load from the on-disk cache) every Numba kernel on tiny inputs.

The GUI calls :func:`warmup` in a background thread at start-up so the first
preview does not wait for the compiler; the CLI's workers call it once each.
"""
from __future__ import annotations

import threading
import time

import numpy as np

_done = threading.Event()
_lock = threading.Lock()


def warmup() -> float:
    """Compile every kernel; returns the seconds it took (0 when already done)."""
    if _done.is_set():
        return 0.0
    with _lock:
        if _done.is_set():
            return 0.0
        t0 = time.perf_counter()
        from palette_app.core import colorspace, dither, metrics
        from palette_app.core.colorspace import SPACES
        from palette_app.core.estimator import MiniBatchKMeans
        from palette_app.core.histogram import color_histogram, reduce_histogram
        from palette_app.core.quantize import quantize, remap

        rng = np.random.default_rng(0)
        rgb = rng.integers(0, 256, (48, 48, 3), dtype=np.uint8)
        rgba = np.dstack([rgb, np.where(rng.random((48, 48)) < 0.1, 0, 255).astype(np.uint8)])
        soft = rgba.copy()
        soft[::3, ::3, 3] = 128  # partial alpha: the premultiplied 4-D path
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
        for space in SPACES:
            quantize(rgb, 6, space=space, locked=["#ff0000"])
        for kind in ("fs", "ordered"):
            quantize(rgba, 6, dither=kind, dither_smooth_only=True)
        from palette_app.core.elbow import elbow

        elbow(rgb, 6)
        # Paths the tiny image does not reach: the grid and the mini-batch phase.
        X = rng.random((4096, 3), dtype=np.float32) * 255
        MiniBatchKMeans(8, n_init=1, batch_size=64, random_state=0).fit(X)
        for mod in (colorspace, metrics, dither):
            fn = getattr(mod, "_warm_up", None)
            if fn is not None:
                fn()
        _done.set()
        return time.perf_counter() - t0
