"""Which clustering space gives the best palettes? PSNR and mean CIEDE2000 per space.

    python benchmarks/bench_spaces.py

For each real photo (scikit-learn's china.jpg and flower.jpg, scikit-image's
hubble_deep_field.jpg and astronaut.png) and 16, 64 and 256 colors, quantizes
in sRGB, linear RGB, CIELAB and OKLab (no dithering) and prints PSNR (sRGB)
and mean ΔE2000 over the pixels. The rule of the quantization issue: the
default is the space with the lowest mean ΔE2000 unless its PSNR is more than
0.5 dB below sRGB's. Quality only: times here are not a target.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np


def photos():
    from PIL import Image
    from sklearn.datasets import load_sample_image
    import skimage

    data = Path(skimage.__file__).parent / "data"
    return {
        "china": load_sample_image("china.jpg"),
        "flower": load_sample_image("flower.jpg"),
        "hubble": np.asarray(Image.open(data / "hubble_deep_field.jpg").convert("RGB")),
        "astronaut": np.asarray(Image.open(data / "astronaut.png").convert("RGB")),
    }


def main() -> int:
    import importlib

    import palette_app
    from palette_app.core import SPACES

    qmod = importlib.import_module("palette_app.core.quantize")

    palette_app.warmup()
    totals = {sp: [0.0, 0.0, 0] for sp in SPACES}
    print(f"{'image':<10} {'k':>4}  " + "  ".join(f"{sp:>17}" for sp in SPACES))
    for name, img in photos().items():
        for k in (16, 64, 256):
            cells = []
            for sp in SPACES:
                t = time.perf_counter()
                r = palette_app.quantize(img, k, space=sp)
                dt = time.perf_counter() - t
                cells.append(f"{r.psnr:6.2f}dB {r.delta_e:5.2f}ΔE")
                totals[sp][0] += r.psnr
                totals[sp][1] += r.delta_e
                totals[sp][2] += 1
            print(f"{name:<10} {k:>4}  " + "  ".join(f"{c:>17}" for c in cells), flush=True)
    print("\nmean over all images and color counts:")
    means = {sp: (p / n, d / n) for sp, (p, d, n) in totals.items()}
    for sp, (p, d) in means.items():
        print(f"  {sp:<7} PSNR {p:6.3f} dB   ΔE2000 {d:5.3f}")
    best = min(means, key=lambda sp: means[sp][1])
    ok = means[best][0] >= means["srgb"][0] - 0.5
    choice = best if ok else "srgb"
    print(f"\nlowest ΔE2000: {best}; its PSNR is {means[best][0] - means['srgb'][0]:+.3f} dB against sRGB"
          f" -> default space: {choice} (palette_app.core.quantize.DEFAULT_SPACE = "
          f"{qmod.DEFAULT_SPACE!r})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
