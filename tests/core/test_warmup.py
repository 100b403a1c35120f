"""warmup() leaves nothing to compile for the calls the GUI, the CLI and the batch make.

Numba compiles a kernel again for every new combination of argument types,
read-only arrays included (the GUI's previews and ``load_image``'s pixels are
read-only): a first preview that compiles costs over a second. This runs in a
fresh process with an empty cache folder, so every kernel is compiled once
(35-55 s on two cores: the whole test takes about a minute).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(r'''
    import importlib, json, pkgutil, sys
    import numpy as np
    import palette_app
    import palette_app.core as core
    from numba.core.dispatcher import Dispatcher

    kernels = {}
    for info in pkgutil.iter_modules(core.__path__):
        mod = importlib.import_module(f"palette_app.core.{info.name}")
        for obj in vars(mod).values():
            if isinstance(obj, Dispatcher) and obj.py_func.__module__ == mod.__name__:
                kernels[f"{mod.__name__}.{obj.py_func.__name__}"] = obj

    def signatures():
        return {name: {str(s) for s in k.signatures} for name, k in kernels.items()}

    seconds = palette_app.warmup()
    warm = signatures()

    # A photo-like image with more distinct colors than EXACT_MAX_COLORS (the
    # reduced-histogram path), opaque and with transparent and translucent pixels.
    # Kernels specialise on types (dtype, layout, read-only), not sizes: small is enough.
    from palette_app.core.quantize import EXACT_MAX_COLORS

    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:272, 0:272]
    base = np.stack([xx * 0.9, yy * 0.9, (xx + yy) * 0.45], axis=-1)
    rgb = np.clip(base + rng.normal(0, 20, base.shape), 0, 255).astype(np.uint8)
    assert len(np.unique(rgb.reshape(-1, 3), axis=0)) > EXACT_MAX_COLORS
    rgba = np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)])
    rgba[:30, :, 3] = 0
    rgba[30:60, :, 3] = rng.integers(1, 255, (30, 272))

    def frozen(a):
        a = a.copy()
        a.setflags(write=False)
        return a

    pal = palette_app.quantize(rgb[::4, ::4], 16).palette
    calls = []
    for tag, img in (("rgb", rgb), ("rgba", rgba), ("read-only rgb", frozen(rgb)),
                     ("read-only rgba", frozen(rgba))):
        for k in (16, 4):
            calls.append((f"quantize {k} {tag}", lambda img=img, k=k: palette_app.quantize(img, k)))
        for space in ("srgb", "linear", "lab", "oklab"):
            for k in (16, 4):
                calls.append((f"quantize {k} {space} {tag}",
                              lambda img=img, k=k, space=space: palette_app.quantize(img, k, space=space)))
        for dither in ("fs", "ordered"):
            calls.append((f"quantize {dither} {tag}",
                          lambda img=img, d=dither: palette_app.quantize(img, 16, dither=d)))
            calls.append((f"quantize {dither} smooth-only lab {tag}",
                          lambda img=img, d=dither: palette_app.quantize(img, 16, dither=d, space="lab",
                                                                          dither_smooth_only=True)))
            calls.append((f"remap {dither} {tag}",
                          lambda img=img, d=dither: palette_app.remap(img, pal, dither=d)))
        calls += [
            (f"quantize 4 locked {tag}", lambda img=img: palette_app.quantize(img, 4, locked=["#ff0000"])),
            (f"quantize 256 smoothing {tag}", lambda img=img: palette_app.quantize(img, 256, smoothing=0.5)),
            (f"quantize 16 best {tag}", lambda img=img: palette_app.quantize(img[::2], 16, effort="best")),
            (f"remap {tag}", lambda img=img: palette_app.remap(img, pal)),
            (f"remap oklab {tag}", lambda img=img: palette_app.remap(img, pal, space="oklab")),
            (f"shared_palette {tag}", lambda img=img: palette_app.shared_palette([img, img[::2]], 16)),
            (f"elbow {tag}", lambda img=img: palette_app.elbow(img, 12)),
            (f"elbow oklab {tag}", lambda img=img: palette_app.elbow(img, 12, space="oklab")),
            (f"colors_for_quality {tag}",
             lambda img=img: palette_app.colors_for_quality(img, min_psnr=30, k_max=32)),
        ]

    new = {}
    for name, call in calls:
        before = signatures()
        r = call()
        if hasattr(r, "psnr"):
            r.psnr, r.delta_e, r.to_rgba()
        after = signatures()
        gained = {k: sorted(after[k] - before[k]) for k in after if after[k] - before[k]}
        if gained:
            new[name] = gained
    json.dump({"warmup_seconds": seconds, "kernels": len(kernels), "calls": len(calls),
               "compiled_at_warmup": sum(len(v) for v in warm.values()), "new": new}, sys.stdout)
''')


@pytest.mark.slow
def test_no_kernel_compiles_after_warmup(tmp_path):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "numba-cache"))
    proc = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True,
                          timeout=900, check=False)
    assert proc.returncode == 0, proc.stderr[-4000:]
    out = json.loads(proc.stdout)
    assert out["kernels"] >= 60           # every @njit kernel of palette_app.core was watched
    assert out["warmup_seconds"] > 0      # an empty cache: warmup really compiled
    # (From an empty cache, kernels called only by other kernels compile too.)
    assert out["compiled_at_warmup"] >= 0.8 * out["kernels"]
    assert out["new"] == {}, "kernels compiled after warmup:\n" + json.dumps(out["new"], indent=1)
