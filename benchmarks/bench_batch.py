"""Batch throughput: ``palette-app quantize --jobs 2`` against ``pngquant`` run two at a time.

40 one-megapixel photos (crops, flips and resizes of scikit-learn's china.jpg and
flower.jpg and scikit-image's data photos, so no two are alike) are reduced to 256
colors, PNG in and PNG out:

* ours: ``palette-app quantize IN -n 256 -o OUT --jobs 2 -q`` (the whole command: start-up,
  worker processes, kernel warm-up, decode, quantize, encode, measure);
* pngquant: ``xargs -P 2 -n 1 pngquant --nofs --force --ext -pq.png 256`` (one process per
  file, two at a time; ``--nofs``: no dithering, as ours);
* ours with ``--jobs 1`` (one process, Numba threads on every core) for scale.

Runs are interleaved and repeated; the median wall time is reported, and the CPU time of
every process involved (less sensitive to other work on the machine). Quality is measured
the same way for both from the files on disk: PSNR over every pixel, and the mean CIEDE2000.

    python benchmarks/bench_batch.py [--images 40] [--repeat 3] [--jobs 2] [--workdir DIR]

Needs scikit-learn, scikit-image (pip install '.[bench]') and pngquant (apt-get install pngquant).
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

#: Output sizes of about one megapixel (width, height): 4:3, 1:1, 3:2, 16:9, 3:4.
SIZES = [(1152, 864), (1000, 1000), (1224, 816), (1328, 748), (864, 1152)]


def source_photos() -> list[tuple[str, np.ndarray]]:
    from skimage import data
    from sklearn.datasets import load_sample_image

    photos = [("china", load_sample_image("china.jpg")), ("flower", load_sample_image("flower.jpg"))]
    for name in ("astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field", "retina",
                 "immunohistochemistry"):
        photos.append((name, getattr(data, name)()))
    left, right, _ = data.stereo_motorcycle()
    photos += [("motorcycle_left", left), ("motorcycle_right", right)]
    return [(n, np.ascontiguousarray(p[..., :3])) for n, p in photos]


def make_photos(folder: Path, n: int, seed: int = 0) -> list[Path]:
    """``n`` different ~1-megapixel PNG photos in ``folder``."""
    rng = np.random.default_rng(seed)
    sources = source_photos()
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        name, rgb = sources[i % len(sources)]
        h, w = rgb.shape[:2]
        frac = rng.uniform(0.6, 1.0)
        ch, cw = max(16, int(h * frac)), max(16, int(w * rng.uniform(0.6, 1.0)))
        y, x = rng.integers(0, h - ch + 1), rng.integers(0, w - cw + 1)
        crop = rgb[y:y + ch, x:x + cw]
        if rng.random() < 0.5:
            crop = crop[:, ::-1]
        if rng.random() < 0.3:
            crop = crop[::-1]
        size = SIZES[i % len(SIZES)]
        im = Image.fromarray(np.ascontiguousarray(crop)).resize(size, Image.LANCZOS)
        path = folder / f"{i:02d}-{name}.png"
        im.save(path)
        paths.append(path)
    return paths


def palette_app_command() -> list[str]:
    exe = shutil.which("palette-app", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "palette_app.cli"]


def _timed(cmd: list[str], stdin: bytes | None = None) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the command and every process it waited for)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, input=stdin, check=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def run_ours(src: Path, out: Path, jobs: int) -> tuple[float, float]:
    shutil.rmtree(out, ignore_errors=True)
    return _timed(palette_app_command() + ["quantize", str(src), "-n", "256", "-o", str(out),
                                           "--jobs", str(jobs), "-q"])


def run_pngquant(files: list[Path], jobs: int) -> tuple[float, float]:
    for f in files:
        f.with_name(f.stem + "-pq.png").unlink(missing_ok=True)
    return _timed(["xargs", "-0", "-P", str(jobs), "-n", "1", "pngquant", "--nofs", "--force",
                   "--ext", "-pq.png", "256"], b"\0".join(os.fsencode(f) for f in files))


def quality(original: Path, reduced: Path) -> tuple[float, float, int]:
    """(PSNR dB, mean CIEDE2000, bytes) of ``reduced`` against ``original``."""
    from palette_app.core import metrics

    with Image.open(original) as a, Image.open(reduced) as b:
        x = np.asarray(a.convert("RGB"))
        y = np.asarray(b.convert("RGB"))
    return metrics.psnr(x, y), metrics.mean_delta_e(x, y), reduced.stat().st_size


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", type=int, default=40)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--workdir", type=Path, help="keep the photos and results here")
    args = ap.parse_args(argv)
    if shutil.which("pngquant") is None:
        sys.exit("pngquant is not installed (apt-get install pngquant)")
    pq_version = subprocess.run(["pngquant", "--version"], capture_output=True,
                                text=True).stdout.strip()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench-batch-"))
    src = work / "photos"
    files = sorted(src.glob("*.png")) if src.is_dir() else []
    if len(files) != args.images:
        shutil.rmtree(src, ignore_errors=True)
        files = make_photos(src, args.images)
    pq_dir = work / "pngquant"
    shutil.rmtree(pq_dir, ignore_errors=True)
    pq_dir.mkdir(parents=True)
    pq_files = [pq_dir / f.name for f in files]
    for f, g in zip(files, pq_files):
        shutil.copy(f, g)
    mp = statistics.mean(Image.open(f).size[0] * Image.open(f).size[1] for f in files) / 1e6
    print(f"{len(files)} photos, {mp:.2f} MP on average, in {src}; {os.cpu_count()} cores; "
          f"pngquant {pq_version}", flush=True)

    # Warm the Numba cache once (a first-ever run compiles for ~20 s; not what is measured).
    run_ours(src, work / "warm", 1)
    times: dict[str, list[float]] = {"ours": [], "pngquant": [], "ours_j1": []}
    cpu: dict[str, list[float]] = {k: [] for k in times}
    for r in range(args.repeat):
        for key, run in (("ours", lambda: run_ours(src, work / "ours", args.jobs)),
                         ("pngquant", lambda: run_pngquant(pq_files, args.jobs)),
                         ("ours_j1", lambda: run_ours(src, work / "ours_j1", 1))):
            wall, used = run()
            times[key].append(wall)
            cpu[key].append(used)
        print(f"run {r + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s (CPU {cpu[k][-1]:.1f} s)"
                                           for k, v in times.items()), flush=True)

    q_ours = [quality(f, work / "ours" / f.name) for f in files]
    q_pq = [quality(f, g.with_name(g.stem + "-pq.png")) for f, g in zip(files, pq_files)]
    n = len(files)
    med = {k: statistics.median(v) for k, v in times.items()}
    med_cpu = {k: statistics.median(v) for k, v in cpu.items()}
    rows = [
        (f"palette-app `--jobs {args.jobs}`", "ours", q_ours),
        (f"pngquant `--nofs 256`, `xargs -P {args.jobs}`", "pngquant", q_pq),
        ("palette-app `--jobs 1`", "ours_j1", q_ours),
    ]
    print()
    print("| run | wall time | images/s | CPU time per image | mean PSNR | mean ΔE2000 | total size |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for label, key, q in rows:
        t = med[key]
        print(f"| {label} | {t:.2f} s | {n / t:.2f} | {med_cpu[key] / n:.2f} s | "
              f"{statistics.mean(x[0] for x in q):.2f} dB | "
              f"{statistics.mean(x[1] for x in q):.2f} | {sum(x[2] for x in q) / 1e6:.1f} MB |")
    better = sum(a[0] >= b[0] for a, b in zip(q_ours, q_pq))
    print()
    print(f"throughput, ours --jobs {args.jobs} / pngquant: {med['pngquant'] / med['ours']:.2f}x; "
          f"--jobs {args.jobs} / --jobs 1: {med['ours_j1'] / med['ours']:.2f}x")
    print(f"PSNR: ours >= pngquant on {better} of {n} photos; worst difference "
          f"{min(a[0] - b[0] for a, b in zip(q_ours, q_pq)):+.2f} dB, "
          f"mean {statistics.mean(a[0] - b[0] for a, b in zip(q_ours, q_pq)):+.2f} dB")
    print(f"CPU time, pngquant / ours: {med_cpu['pngquant'] / med_cpu['ours']:.2f}x")
    print("wall times (s): " + "; ".join(f"{k} {', '.join(f'{x:.2f}' for x in v)}"
                                         for k, v in times.items()))
    try:
        print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    except OSError:
        pass
    if args.workdir is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
