"""Speed and quality of palette_app.quantize against its peers, measured in one run.

    python benchmarks/bench_quantize.py            # everything (scikit-learn KMeans on 12 MP takes minutes)
    python benchmarks/bench_quantize.py --quick    # skip scikit-learn on the 12-MP image

Needs the ``bench`` extra (scikit-learn, scikit-image, imagequant). Images: scikit-learn's
``china.jpg`` and ``flower.jpg``, scikit-image's ``hubble_deep_field.jpg``, a 12-MP mosaic built from
them (bicubic upscales, so it has about 1.4 million distinct colors), and a 1-MP upscale of
china.jpg (the size of a live preview). Times are warm (best of ``--repeat``), exclude file decoding,
and include everything each method needs to produce an index image: for palette_app the histogram,
k-means and remap; for libimagequant its quantize and remap (no dithering); for Pillow its quantize;
for scikit-learn a fit on the weighted color histogram (equivalent to a fit on the pixels, and much
faster) plus the prediction. PSNR is over all pixels, in sRGB, without dithering.

It ends with the targets of the core issue as ratios between methods measured in this run, and
writes everything to ``bench_out/quantize.json``.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def load_images():
    from PIL import Image
    from sklearn.datasets import load_sample_image
    import skimage

    china = load_sample_image("china.jpg")
    flower = load_sample_image("flower.jpg")
    hubble = np.asarray(Image.open(Path(skimage.__file__).parent / "data" / "hubble_deep_field.jpg").convert("RGB"))
    tiles = [Image.fromarray(a) for a in (china, flower, hubble)]
    mosaic = Image.new("RGB", (4000, 3000))
    mosaic.paste(tiles[0].resize((2000, 1500), Image.BICUBIC), (0, 0))
    mosaic.paste(tiles[1].resize((2000, 1500), Image.BICUBIC), (2000, 0))
    mosaic.paste(tiles[2].resize((4000, 1500), Image.BICUBIC), (0, 1500))
    one_mp = np.asarray(tiles[0].resize((1155, 866), Image.BICUBIC))
    return {"china": china, "flower": flower, "hubble": hubble, "mosaic-12MP": np.asarray(mosaic),
            "china-1MP": one_mp}


def psnr(a, b):
    d = a.astype(np.float64) - b.astype(np.float64)
    mse = float(np.mean(d * d))
    return float("inf") if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def best_time(fn, repeat):
    out, best = None, float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def run_ours(img, k, repeat, effort="default"):
    import palette_app

    t, r = best_time(lambda: palette_app.quantize(img, k, random_state=0, effort=effort), repeat)
    return t, r.to_rgb()


def run_liq(img, k, repeat):
    import imagequant
    from PIL import Image

    pil = Image.fromarray(img)
    t, out = best_time(lambda: imagequant.quantize_pil_image(pil, dithering_level=0.0, max_colors=k), repeat)
    return t, np.asarray(out.convert("RGB"))


def run_pillow(img, k, repeat, method):
    from PIL import Image

    pil = Image.fromarray(img)
    t, out = best_time(lambda: pil.quantize(k, method=method, dither=Image.Dither.NONE), repeat)
    return t, np.asarray(out.convert("RGB"))


def _hist(img):
    from palette_app.core import color_histogram

    h = color_histogram(img)
    return h.colors, h.counts


def run_sk_kmeans(img, k):
    from sklearn.cluster import KMeans
    from palette_app.core.remap import labels_to_indices

    colors, counts = _hist(img)
    t = time.perf_counter()
    km = KMeans(k, n_init=1, random_state=0).fit(colors.astype(np.float64), sample_weight=counts)
    labels = km.predict(colors.astype(np.float64))
    dt = time.perf_counter() - t
    pal = np.clip(np.rint(km.cluster_centers_), 0, 255).astype(np.uint8)
    idx = labels_to_indices(img, colors, labels.astype(np.uint8))
    return dt, pal[idx]


def run_sk_minibatch(img, k):
    from sklearn.cluster import MiniBatchKMeans

    X = img.reshape(-1, 3).astype(np.float64)
    t = time.perf_counter()
    km = MiniBatchKMeans(k, random_state=0, n_init=1, batch_size=4096).fit(X)
    labels = km.predict(X)
    dt = time.perf_counter() - t
    pal = np.clip(np.rint(km.cluster_centers_), 0, 255).astype(np.uint8)
    return dt, pal[labels].reshape(img.shape)


def jit_latency():
    """Cold (empty Numba cache) and warm (cache filled) import + warmup, in fresh processes."""
    code = ("import time; t = time.perf_counter(); import palette_app; palette_app.warmup(); "
            "print(time.perf_counter() - t)")
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        cold = float(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                                    text=True, check=True).stdout)
        warm = float(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                                    text=True, check=True).stdout)
    return cold, warm


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="skip scikit-learn KMeans on the 12-MP image")
    ap.add_argument("--minibatch-12mp", action="store_true",
                    help="also run scikit-learn MiniBatchKMeans on the 12-MP image (minutes; reported, not a target)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", default="bench_out/quantize.json")
    args = ap.parse_args(argv)

    import palette_app
    from PIL import Image

    cold, warm = jit_latency()
    print(f"JIT: import + warmup {cold:.1f} s cold (empty cache), {warm:.2f} s warm (cached)")
    palette_app.warmup()
    images = load_images()
    rows = []
    ks = (16, 64, 256)
    for name, img in images.items():
        n_distinct = len(palette_app.core.color_histogram(img))
        print(f"\n{name}: {img.shape[1]}x{img.shape[0]}, {n_distinct:,} distinct colors")
        for k in ks:
            if name == "china-1MP" and k != 16:
                continue
            big = img.shape[0] * img.shape[1] > 4e6
            methods = {
                "palette_app": lambda: run_ours(img, k, args.repeat),
                "libimagequant": lambda: run_liq(img, k, args.repeat),
                "pillow-mediancut": lambda: run_pillow(img, k, args.repeat, Image.Quantize.MEDIANCUT),
                "pillow-fastoctree": lambda: run_pillow(img, k, args.repeat, Image.Quantize.FASTOCTREE),
            }
            if not (big and args.quick) and name != "china-1MP":
                methods["sklearn-KMeans"] = lambda: run_sk_kmeans(img, k)
            if (not big or args.minibatch_12mp) and name != "china-1MP":
                methods["sklearn-MiniBatchKMeans"] = lambda: run_sk_minibatch(img, k)
            for method, fn in methods.items():
                t, out = fn()
                row = dict(image=name, k=k, method=method, seconds=t, psnr=psnr(img, out))
                rows.append(row)
                print(f"  k={k:<3} {method:<24} {t * 1000:10.1f} ms   PSNR {row['psnr']:.3f} dB", flush=True)

    def get(image, k, method):
        for r in rows:
            if r["image"] == image and r["k"] == k and r["method"] == method:
                return r
        return None

    print("\nTargets (ratios within this run):")
    checks = []
    diffs = []
    for name in ("china", "flower", "hubble", "mosaic-12MP"):
        for k in ks:
            ours, liq, sk = get(name, k, "palette_app"), get(name, k, "libimagequant"), get(name, k, "sklearn-KMeans")
            if k in (64, 256):
                d = ours["psnr"] - liq["psnr"]
                diffs.append(d)
                checks.append((f"PSNR >= libimagequant  {name} k={k}", d >= 0, f"{d:+.3f} dB"))
            if sk is not None:
                d = ours["psnr"] - sk["psnr"]
                checks.append((f"PSNR within 0.15 dB of sklearn KMeans  {name} k={k}", d >= -0.15, f"{d:+.3f} dB"))
    avg = float(np.mean(diffs))
    checks.append(("mean PSNR over libimagequant at 64/256 >= +0.25 dB", avg >= 0.25, f"{avg:+.3f} dB"))
    for name, k, limit in (("mosaic-12MP", 16, 0.1), ("mosaic-12MP", 256, 0.1), ("china-1MP", 16, 1 / 8)):
        ratio = get(name, k, "palette_app")["seconds"] / get(name, k, "libimagequant")["seconds"]
        checks.append((f"time / libimagequant <= {limit:.3g}  {name} k={k}", ratio <= limit, f"{ratio:.3f}"))
    for label, ok, value in checks:
        print(f"  [{'PASS' if ok else 'FAIL'}] {label}: {value}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(dict(jit_cold_s=cold, jit_warm_s=warm, rows=rows,
                                   checks=[dict(check=c, ok=bool(o), value=v) for c, o, v in checks]), indent=1))
    print(f"\nwrote {out}")
    return 0 if all(ok for _, ok, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
