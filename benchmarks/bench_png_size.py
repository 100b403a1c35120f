"""Indexed PNG size: ``palette_app`` (quantize + save_image) against ``pngquant --nofs``.

For each photo and color count, both tools reduce the same RGB image to the
same number of colors without dithering and write an indexed PNG; the table
gives both sizes and their ratio (target: ours ≤ 1.1 × pngquant's) and both
PSNRs (over all pixels, sRGB; ours must not be lower). ``smoothing`` is the
label smoothing strength our default used (see
``palette_app.core.label_smoothing``); the "exact" columns give the same
quantization with ``smoothing=0`` (every pixel on its nearest color), which
shows what smoothing buys. "encoder only" re-encodes pngquant's own palette
and indices with our PNG writer, which separates the encoder (same data) from
the quantizer (different data).

    python benchmarks/bench_png_size.py [--colors 4 16 64 256] [--markdown]

Needs the ``pngquant`` program (Debian: ``apt-get install pngquant``) and
scikit-learn (for the sample photos).
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

import palette_app
from palette_app.core.palette import Palette
from palette_app.core.result import QuantizeResult
from palette_app.io import load_image, save_image

ROOT = Path(__file__).resolve().parents[1]
TARGET = 1.1


def photos() -> dict[str, np.ndarray]:
    from sklearn.datasets import load_sample_image

    return {
        "china.jpg": load_sample_image("china.jpg"),
        "flower.jpg": load_sample_image("flower.jpg"),
        "astronaut.png": load_image(ROOT / "assets" / "astronaut.png").pixels,
    }


def pngquant(src: Path, out: Path, n_colors: int) -> None:
    subprocess.run(["pngquant", "--nofs", "--force", "--output", str(out), str(n_colors), str(src)],
                   check=True, timeout=300)


def reencode(pq_file: Path, out: Path) -> int:
    """Our writer on pngquant's own palette and indices (encoder-only comparison)."""
    with Image.open(pq_file) as im:
        colors = np.array(im.getpalette("RGB"), np.uint8).reshape(-1, 3)
        idx = np.asarray(im).copy()
        t = im.info.get("transparency")
    alpha = None
    if t is not None:
        alpha = np.full(len(colors), 255, np.uint8)
        if isinstance(t, int):
            alpha[t] = 0
        else:
            alpha[:len(t)] = np.frombuffer(t, np.uint8)
    result = QuantizeResult(palette=Palette(colors, alpha=alpha), indices=idx)
    return save_image(result, out, overwrite=True, color_profile=None).n_bytes


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    d = a.astype(np.float64) - b.astype(np.float64)
    mse = float(np.mean(d * d))
    return float("inf") if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def pq_rgb(pq_file: Path) -> np.ndarray:
    with Image.open(pq_file) as im:
        return np.asarray(im.convert("RGB"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--colors", type=int, nargs="+", default=[4, 8, 16, 32, 64, 128, 256])
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = ap.parse_args(argv)
    if shutil.which("pngquant") is None:
        print("pngquant is not installed (apt-get install pngquant)", file=sys.stderr)
        return 2
    version = subprocess.run(["pngquant", "--version"], capture_output=True, text=True,
                             check=False).stdout.strip()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name, rgb in photos().items():
            src = tmp / (Path(name).stem + ".png")
            Image.fromarray(rgb).save(src)
            for k in args.colors:
                t = time.perf_counter()
                result = palette_app.quantize(rgb, n_colors=k, random_state=0)
                t_q = time.perf_counter() - t
                t = time.perf_counter()
                ours = save_image(result, tmp / "ours.png", overwrite=True).n_bytes
                t_w = time.perf_counter() - t
                smoothing = result.settings["smoothing"]
                if smoothing > 0:
                    exact = palette_app.quantize(rgb, n_colors=k, random_state=0, smoothing=0.0)
                    exact_bytes = save_image(exact, tmp / "exact.png", overwrite=True).n_bytes
                    exact_psnr = exact.psnr
                else:
                    exact_bytes, exact_psnr = ours, result.psnr
                pq_file = tmp / "pq.png"
                t = time.perf_counter()
                pngquant(src, pq_file, k)
                t_pq = time.perf_counter() - t
                pq = pq_file.stat().st_size
                same = reencode(pq_file, tmp / "re.png")
                rows.append({"image": name, "k": k, "colors": result.n_colors, "smoothing": smoothing,
                             "ours": ours, "pq": pq, "ratio": ours / pq, "psnr": result.psnr,
                             "pq_psnr": psnr(rgb, pq_rgb(pq_file)), "exact_ratio": exact_bytes / pq,
                             "exact_psnr": exact_psnr, "encoder": same / pq,
                             "t_q": t_q, "t_w": t_w, "t_pq": t_pq})

    head = ("image", "k", "smoothing", "ours bytes", "pngquant bytes", "ours/pq", "PSNR ours", "PSNR pq",
            "exact ours/pq", "exact PSNR", "encoder only", "quantize s", "write s", "pngquant s")
    fmt = ("{image}", "{k}", "{smoothing:g}", "{ours:,}", "{pq:,}", "{ratio:.3f}", "{psnr:.2f}", "{pq_psnr:.2f}",
           "{exact_ratio:.3f}", "{exact_psnr:.2f}", "{encoder:.3f}", "{t_q:.2f}", "{t_w:.2f}", "{t_pq:.2f}")
    if args.markdown:
        print(f"pngquant: {version}; numpy {np.__version__}; palette_app {palette_app.__version__}\n")
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for r in rows:
            print("| " + " | ".join(f.format(**r) for f in fmt) + " |")
    else:
        print(f"pngquant {version}")
        widths = (14, 4, 6, 9, 9, 7, 7, 7, 7, 7, 7, 6, 6, 6)
        short = ("image", "k", "smooth", "ours", "pngquant", "ratio", "PSNR", "PSNR pq", "exact", "PSNR ex",
                 "encoder", "quant", "write", "pq")
        print(" ".join(f"{h:<{w}}" if i == 0 else f"{h:>{w}}" for i, (h, w) in enumerate(zip(short, widths))))
        for r in rows:
            cells = [f.format(**r) for f in fmt]
            print(" ".join(f"{c:<{w}}" if i == 0 else f"{c:>{w}}" for i, (c, w) in enumerate(zip(cells, widths))))
    print("\n(exact: the same quantization with smoothing=0, every pixel on its nearest color; "
          "encoder only: our writer on pngquant's own palette and indices)")
    worst = max(rows, key=lambda r: r["ratio"])
    total = sum(r["ours"] for r in rows) / sum(r["pq"] for r in rows)
    size_ok = worst["ratio"] <= TARGET
    print(f"\n[{'PASS' if size_ok else 'FAIL'}] size: ours <= {TARGET} x pngquant --nofs at every image and k: "
          f"worst {worst['ratio']:.3f} ({worst['image']} k={worst['k']}), total bytes ratio {total:.3f}")
    low = min(rows, key=lambda r: r["psnr"] - r["pq_psnr"])
    psnr_ok = low["psnr"] >= low["pq_psnr"]
    print(f"[{'PASS' if psnr_ok else 'FAIL'}] quality: PSNR ours >= pngquant's at every image and k: "
          f"smallest margin {low['psnr'] - low['pq_psnr']:+.3f} dB ({low['image']} k={low['k']})")
    return 0 if size_ok and psnr_ok else 1


if __name__ == "__main__":
    sys.exit(main())
