"""Indexed PNG size: ``palette_app`` (quantize + save_image) against ``pngquant --nofs``.

For each photo and color count, both tools reduce the same RGB image to the
same number of colors without dithering and write an indexed PNG; the table
gives both sizes and their ratio (target: ours ≤ 1.1 × pngquant's). A second
ratio re-encodes pngquant's own palette and indices with our PNG writer, which
separates the encoder (same data) from the quantizer (different data).

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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--colors", type=int, nargs="+", default=[4, 8, 16, 32, 64, 128, 256])
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = ap.parse_args(argv)
    if shutil.which("pngquant") is None:
        print("pngquant is not installed (apt-get install pngquant)", file=sys.stderr)
        return 2
    version = subprocess.run(["pngquant", "--version"], capture_output=True, text=True).stdout.strip()
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
                pq_file = tmp / "pq.png"
                t = time.perf_counter()
                pngquant(src, pq_file, k)
                t_pq = time.perf_counter() - t
                pq = pq_file.stat().st_size
                same = reencode(pq_file, tmp / "re.png")
                rows.append((name, k, result.n_colors, ours, pq, ours / pq, same / pq, t_q, t_w, t_pq))

    head = ("image", "k", "ours colors", "ours bytes", "pngquant bytes", "ours/pq",
            "encoder only", "quantize s", "write s", "pngquant s")
    if args.markdown:
        print(f"pngquant: {version}; numpy {np.__version__}; palette_app {palette_app.__version__}\n")
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for r in rows:
            print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]:,} | {r[4]:,} | {r[5]:.3f} | {r[6]:.3f} "
                  f"| {r[7]:.2f} | {r[8]:.2f} | {r[9]:.2f} |")
    else:
        print(f"pngquant {version}")
        print("{:<14} {:>4} {:>6} {:>10} {:>10} {:>8} {:>8} {:>7} {:>7} {:>7}".format(*[
            "image", "k", "colors", "ours", "pngquant", "ratio", "encoder", "quant", "write", "pq"]))
        for r in rows:
            print(f"{r[0]:<14} {r[1]:>4} {r[2]:>6} {r[3]:>10,} {r[4]:>10,} {r[5]:>8.3f} {r[6]:>8.3f} "
                  f"{r[7]:>7.2f} {r[8]:>7.2f} {r[9]:>7.2f}")
    worst = max(r[5] for r in rows)
    total = sum(r[3] for r in rows) / sum(r[4] for r in rows)
    print(f"\nworst ratio {worst:.3f}, total bytes ratio {total:.3f} (target ≤ {TARGET})")
    return 0 if worst <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
