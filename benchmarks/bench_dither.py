"""Speed and quality of the dithering kernels (palette_app.core.dither), measured in one run.

    python benchmarks/bench_dither.py            # everything
    python benchmarks/bench_dither.py --quick    # fewer repeats, quality on china.jpg only

Needs the ``bench`` extra (scikit-learn, scikit-image) for the sample photos.

Speed: a 12-MP photo mosaic (scikit-learn's china.jpg and flower.jpg and scikit-image's
hubble_deep_field.jpg, bicubic upscales, as in bench_quantize.py) is saved as a quality-90 JPEG in
memory; the reference time is Pillow decoding it into a numpy array. Against it: a Floyd–Steinberg
remap to a 256-color palette (from palette_app.quantize on the same image) with dither_fs, from
clustering-space coordinates to indices (the nearest-search grid included; the conversion to the
space is listed separately), in parallel strips, on one thread, and as one serial pass (one strip,
no lockstep), plus ordered dithering, the plain nearest remap and smooth_mask. For sRGB, dither_fs
also on the uint8 image itself (no float32 copy). Then the dithered remap as
``palette_app.quantize(img, 256, dither="fs")`` runs it today (conversion to the space included),
and the whole quantize call with and without dithering. For reference (not with --quick),
libimagequant's extra time for dithering: its quantize + remap with dithering_level=1 minus the
same with 0. Times are the best of ``--repeat`` runs, wall clock and process CPU time (all
threads). The machine's load average and a two-thread scaling probe are printed first: on a shared
2-core VM another process can take a core, and then parallel wall times are serial ones.

Target (issue #5): the 12-MP Floyd–Steinberg remap to 256 colors (dither_fs, sRGB) takes less wall
time than decoding the JPEG; a PASS/FAIL line says whether it did in this run, on how many threads.

Quality: for photos quantized to 8, 32 and 256 colors, the RMS difference in sRGB between the
Gaussian-blurred (sigma 2) result and the blurred original ("low-pass error", what the eye sees from
a distance; lower is better) and the plain PSNR, for no dithering, Floyd–Steinberg, FS with the
smooth-only mask, and ordered; and for FS with the error clamp at 0.5, 1, 2 spreads and none.

Writes everything to ``bench_out/dither.json``.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import time
from pathlib import Path

import numba
import numpy as np


def load_photos():
    import skimage
    from PIL import Image
    from sklearn.datasets import load_sample_image

    china = load_sample_image("china.jpg")
    flower = load_sample_image("flower.jpg")
    hubble = np.asarray(Image.open(Path(skimage.__file__).parent / "data" / "hubble_deep_field.jpg").convert("RGB"))
    return {"china": china, "flower": flower, "hubble": hubble}


def mosaic_12mp(photos):
    from PIL import Image

    tiles = [Image.fromarray(photos[n]) for n in ("china", "flower", "hubble")]
    m = Image.new("RGB", (4000, 3000))
    m.paste(tiles[0].resize((2000, 1500), Image.BICUBIC), (0, 0))
    m.paste(tiles[1].resize((2000, 1500), Image.BICUBIC), (2000, 0))
    m.paste(tiles[2].resize((4000, 1500), Image.BICUBIC), (0, 1500))
    return np.asarray(m)


def timed(fn, repeat):
    """Best wall and best CPU time (all threads) over ``repeat`` runs, and the last result."""
    best_wall = best_cpu = float("inf")
    out = None
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        out = fn()
        best_wall = min(best_wall, time.perf_counter() - w)
        best_cpu = min(best_cpu, time.process_time() - c)
    return best_wall, best_cpu, out


def parallel_probe():
    """Speed-up of a pure compute loop on two threads (2.0 when two cores are free)."""
    from numba import njit, prange

    @njit(parallel=True, nogil=True)
    def work(n, parts):
        acc = np.zeros(parts)
        for t in prange(parts):
            s = 0.0
            for i in range(n):
                s += np.sqrt(i * 1.0 + t)
            acc[t] = s
        return acc

    work(10, 2)
    n = 30_000_000
    t = time.perf_counter()
    work(n, 1)
    one = time.perf_counter() - t
    t = time.perf_counter()
    work(n, 2)
    two = time.perf_counter() - t
    return 2 * one / two


def blur(a, sigma=2.0):
    r = int(3 * sigma)
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    k /= k.sum()
    a = np.asarray(a, np.float64)
    for ax in (0, 1):
        pad = [(0, 0)] * a.ndim
        pad[ax] = (r, r)
        ap = np.pad(a, pad, mode="reflect")
        n = a.shape[ax]
        a = sum(k[i] * np.take(ap, np.arange(i, i + n), axis=ax) for i in range(2 * r + 1))
    return a


def psnr(a, b):
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def speed(photos, repeat, with_liq=True):
    from PIL import Image

    import palette_app
    from palette_app.core.colorspace import to_space

    img = mosaic_12mp(photos)
    h, w = img.shape[:2]
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "JPEG", quality=90)
    data = buf.getvalue()
    decode = timed(lambda: np.asarray(Image.open(io.BytesIO(data)).convert("RGB")), repeat)
    res = {"image": f"{w}x{h} mosaic", "jpeg_bytes": len(data), "jpeg_decode_s": decode[0],
           "jpeg_decode_cpu_s": decode[1], "by_space": {}}
    print(f"\n12-MP mosaic {w}x{h}, JPEG q90 {len(data) / 1e6:.1f} MB: Pillow decode to numpy "
          f"{decode[0] * 1e3:.0f} ms (CPU {decode[1] * 1e3:.0f} ms)")
    palette = np.asarray(palette_app.quantize(img, 256, random_state=0).palette.colors)
    for space in ("srgb", "oklab"):
        conv = timed(lambda sp=space: to_space(img.reshape(-1, 3), sp).reshape(h, w, 3), repeat)
        x = conv[2]
        pal = to_space(palette, space)
        rows = _speed_rows(img, x, pal, repeat, uint8=space == "srgb")
        rows[f"to_space {space} (not in the rows above)"] = conv
        kinds = rows["grid build"][2].query_kinds(x.reshape(-1, 3)[::97])
        print(f"\n{space}, 256 colors (grid {rows['grid build'][2].words.size} words; pixels' own colors "
              f"answered by a 4-entry word {kinds[0]:.0%}, 8-entry {kinds[1]:.0%}, list scan {kinds[2]:.1%}):")
        print(f"  {'step':42s} {'wall ms':>8s} {'CPU ms':>8s} {'ns/px CPU':>10s} {'wall/decode':>12s}")
        out = {}
        for name, (wall, cpu, _) in rows.items():
            print(f"  {name:42s} {wall * 1e3:8.0f} {cpu * 1e3:8.0f} {cpu / (h * w) * 1e9:10.1f} "
                  f"{wall / decode[0]:12.2f}")
            out[name] = {"wall_s": wall, "cpu_s": cpu, "cpu_ns_per_px": cpu / (h * w) * 1e9,
                         "wall_vs_decode": wall / decode[0], "cpu_vs_decode": cpu / decode[1]}
        res["by_space"][space] = out
    res["end_to_end"] = end_to_end(img, palette, decode[0], repeat)
    fs = res["by_space"]["srgb"]["dither_fs (strips, parallel)"]
    ok = fs["wall_s"] < decode[0]
    res["target_met"] = ok
    print(f"\nTarget (dither_fs on 12 MP, 256 colors, sRGB float32 coordinates, wall < JPEG decode): "
          f"{'PASS' if ok else 'FAIL'}: {fs['wall_s'] * 1e3:.0f} ms vs {decode[0] * 1e3:.0f} ms "
          f"({fs['wall_vs_decode']:.2f}x) on {numba.get_num_threads()} threads; one thread would need "
          f"{fs['cpu_s'] * 1e3:.0f} ms of CPU")
    if with_liq:
        res["libimagequant"] = liq_dither_cost(img, decode[0])
    return res


@contextlib.contextmanager
def one_thread():
    n = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(n)


def _one_thread(fn):
    def run():
        with one_thread():
            return fn()
    return run


def _speed_rows(img, x, pal, repeat, uint8=False):
    from palette_app.core import dither as D

    h = x.shape[0]
    spread = D.palette_spread(pal)
    lim = D.FS_MAX_ERROR * spread
    rows = {
        "grid build": timed(lambda: D._Grid(pal, lim, x), repeat),
        "dither_fs (strips, parallel)": timed(lambda: D.dither_fs(x, pal), repeat),
        "dither_fs, one thread": timed(_one_thread(lambda: D.dither_fs(x, pal)), repeat),
        "FS one serial pass (one strip)": timed(lambda: D._floyd_steinberg(x, pal, 1.0, True, None, None, 0,
                                                                           lim, strip=h), repeat),
    }
    if uint8:
        rows["dither_fs on the uint8 image"] = timed(lambda: D.dither_fs(img, pal), repeat)
    rows.update({
        "dither_ordered": timed(lambda: D.dither_ordered(x, pal), repeat),
        "nearest_indices": timed(lambda: D.nearest_indices(x, pal), repeat),
        "smooth_mask": timed(lambda: D.smooth_mask(img), repeat),
    })
    return rows


def end_to_end(img, palette, decode_s, repeat):
    """The dithered remap as palette_app.quantize(img, 256, dither="fs") runs it (conversion
    to the default space included), and the whole quantize call with and without dithering."""
    import palette_app
    from palette_app.core import dither as D
    from palette_app.core.colorspace import to_space

    h, w = img.shape[:2]
    pal = np.ascontiguousarray(to_space(palette, "srgb"), np.float32)

    small = np.ascontiguousarray(img[:64, :64])
    for kind in ("none", "fs"):  # compile (or load) quantize's kernels outside the timings
        palette_app.quantize(small, 16, dither=kind)

    def stage():  # what quantize's dithering step does today
        x = to_space(np.ascontiguousarray(img[..., :3].reshape(-1, 3)), "srgb").reshape(h, w, 3)
        return D.dither_fs(np.ascontiguousarray(x, np.float32), pal, transparent_index=0)

    rows = {
        "quantize's dithered remap (to_space + dither_fs)": timed(stage, repeat),
        "  the same on the uint8 image (no to_space)": timed(lambda: D.dither_fs(img, pal), repeat),
        "quantize(img, 256)": timed(lambda: palette_app.quantize(img, 256, random_state=0), max(1, repeat // 2)),
        "quantize(img, 256, dither='fs')": timed(lambda: palette_app.quantize(img, 256, random_state=0,
                                                                              dither="fs"),
                                                 max(1, repeat // 2)),
    }
    print("\nEnd to end, sRGB (the default space):")
    out = {}
    for name, (wall, cpu, _) in rows.items():
        print(f"  {name:50s} wall {wall * 1e3:6.0f} ms  CPU {cpu * 1e3:6.0f} ms  wall/decode {wall / decode_s:5.2f}")
        out[name.strip()] = {"wall_s": wall, "cpu_s": cpu, "wall_vs_decode": wall / decode_s}
    return out


def liq_dither_cost(img, decode_s):
    """libimagequant's extra time for Floyd–Steinberg: quantize + remap with dithering
    minus the same without (its remap with dithering on a 12-MP image; no dither map,
    which it skips above 4 MP). A reference point, one run each."""
    import imagequant
    from PIL import Image

    pil = Image.fromarray(img).convert("RGBA")
    out = {}
    for level in (0.0, 1.0):
        w, c = time.perf_counter(), time.process_time()
        imagequant.quantize_pil_image(pil, dithering_level=level, max_colors=256)
        out[level] = (time.perf_counter() - w, time.process_time() - c)
    wall = out[1.0][0] - out[0.0][0]
    cpu = out[1.0][1] - out[0.0][1]
    print(f"\nlibimagequant, 256 colors: quantize + remap {out[0.0][1] * 1e3:.0f} ms CPU without "
          f"dithering, {out[1.0][1] * 1e3:.0f} ms with: Floyd–Steinberg adds {cpu * 1e3:.0f} ms CPU "
          f"({wall * 1e3:.0f} ms wall, {wall / decode_s:.2f}x decode)")
    return {"no_dither_cpu_s": out[0.0][1], "dither_cpu_s": out[1.0][1], "fs_extra_cpu_s": cpu,
            "fs_extra_wall_s": wall}


def quality(photos, names):
    import palette_app
    from palette_app.core import dither as D
    from palette_app.core.colorspace import to_space

    res = []
    print("\nQuality: low-pass error (RMS of the sigma-2 blurred difference, sRGB levels; lower is "
          "better) / PSNR dB")
    for name in names:
        img = photos[name]
        ref = blur(img)
        for space in ("srgb", "oklab"):
            x = to_space(img, space)
            for k in (8, 32, 256):
                rgb = np.asarray(palette_app.quantize(img, k, random_state=0, space=space).palette.colors)
                pal = to_space(rgb, space)
                spread = D.palette_spread(pal)
                mask = D.smooth_mask(img)
                variants = {
                    "none": D.nearest_indices(x, pal),
                    "fs": D.dither_fs(x, pal),
                    "fs+smooth": D.dither_fs(x, pal, edge_mask=mask),
                    "ordered": D.dither_ordered(x, pal),
                }
                for f in (0.5, 2.0, np.inf):
                    variants[f"fs clamp {f:g}"] = D._floyd_steinberg(x, pal, 1.0, True, None, None, 0,
                                                                      f * spread)[0]
                row = {"image": name, "space": space, "n_colors": k}
                cells = []
                for v, idx in variants.items():
                    q = rgb[idx]
                    lp = float(np.sqrt(((blur(q) - ref) ** 2).mean()))
                    row[v] = {"lowpass": lp, "psnr": psnr(q, img)}
                    cells.append(f"{v} {lp:.2f}/{row[v]['psnr']:.1f}")
                res.append(row)
                print(f"  {name:6s} {space:5s} {k:3d}: " + " | ".join(cells))
    return res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeat", type=int, default=None)
    args = ap.parse_args(argv)
    repeat = args.repeat or (2 if args.quick else 5)

    from palette_app.core.dither import _warm_up

    _warm_up()
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    probe = parallel_probe()
    print(f"{os.cpu_count()} CPUs, load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}; "
          f"two-thread speed-up of a compute loop right now: {probe:.2f}x")
    photos = load_photos()
    out = {"cpus": os.cpu_count(), "loadavg": load, "parallel_probe": probe,
           "speed": speed(photos, repeat, with_liq=not args.quick)}
    out["loadavg_after_speed"] = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    print(f"load average after the speed runs: {out['loadavg_after_speed'][0]:.1f}")
    out["quality"] = quality(photos, ["china"] if args.quick else ["china", "flower"])
    path = Path("bench_out")
    path.mkdir(exist_ok=True)
    (path / "dither.json").write_text(json.dumps(out, indent=1, default=float))
    print(f"\nwrote {path / 'dither.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
