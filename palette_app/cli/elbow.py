"""``palette-app elbow IMAGE``: the error for k = MIN..MAX colors and a suggested k."""
from __future__ import annotations

import io
import math
import os
import sys

from palette_app.cli.main import EXIT_OK, UsageError, fail, load_or_fail


def run_elbow(args) -> int:
    import palette_app
    from palette_app.io import OutputExistsError, atomic_write

    if args.min >= args.max:
        raise UsageError(f"--min ({args.min}) must be smaller than --max ({args.max})")
    if args.plot is not None:
        if not args.plot.lower().endswith(".png"):
            raise UsageError(f"{args.plot}: the plot is a PNG image; name it .png")
        if os.path.lexists(args.plot) and not args.overwrite:
            return fail(f"{args.plot}: the file already exists; pass --overwrite to replace it")
    img, code = load_or_fail(args.image)
    if img is None:
        return code
    kw = {} if args.space is None else {"space": args.space}
    try:
        curve = palette_app.elbow(img.pixels, k_max=args.max, k_min=args.min,
                                  random_state=args.seed, **kw)
    except ValueError as e:  # e.g. a fully transparent image
        return fail(f"{args.image}: {e}")
    sys.stdout.write(elbow_table(curve) + "\n")
    if args.plot is not None:
        png = elbow_plot(curve, title=os.path.basename(args.image))
        try:
            with atomic_write(args.plot, overwrite=args.overwrite) as f:
                f.write(png)
        except OutputExistsError:
            return fail(f"{args.plot}: the file already exists; pass --overwrite to replace it")
        except OSError as e:
            return fail(f"{args.plot}: could not write the plot ({e.strerror or e})")
        sys.stderr.write(f"wrote the plot to {args.plot}\n")
    return EXIT_OK


def elbow_table(curve) -> str:
    """``k  inertia  ΔE2000`` rows, the suggested k marked, and a last line naming it."""
    rows = [f"{'k':>4}  {'inertia':>12}  {'ΔE2000':>8}"]
    for k, inertia, de in curve.as_rows():
        mark = "  <- suggested" if k == curve.suggested_k else ""
        rows.append(f"{k:>4}  {inertia:>12.5g}  {de:>8.3f}{mark}")
    rows.append(f"suggested: {curve.suggested_k} colors")
    return "\n".join(rows)


def _font(size: int):
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError, ImportError):  # Pillow without FreeType: the bitmap font
        return ImageFont.load_default()


def elbow_plot(curve, *, title: str = "", width: int = 800, height: int = 480) -> bytes:
    """A PNG chart: inertia (log scale, left axis, blue) and mean CIEDE2000 (right axis, orange)
    against k, with the suggested k marked."""
    from PIL import Image, ImageDraw

    ks = [int(k) for k in curve.ks]
    inertia = [max(float(v), 1e-9) for v in curve.inertia]
    de = [float(v) for v in curve.delta_e]
    left, right, top, bottom = 80, 80, 50, 60
    pw, ph = width - left - right, height - top - bottom
    im = Image.new("RGB", (width, height), "white")
    d = ImageDraw.Draw(im)
    font, small = _font(15), _font(12)
    blue, orange, gray, ink = (31, 119, 180), (230, 120, 20), (225, 225, 225), (40, 40, 40)

    def x_of(k):
        return left + pw * (k - ks[0]) / max(ks[-1] - ks[0], 1)

    lo, hi = math.log10(min(inertia)), math.log10(max(inertia))
    if hi - lo < 1e-9:
        hi = lo + 1

    def y_inertia(v):
        return top + ph * (1 - (math.log10(v) - lo) / (hi - lo))

    de_max = max(de) * 1.05 or 1.0

    def y_de(v):
        return top + ph * (1 - v / de_max)

    # Grid and axes.
    for i in range(6):
        y = top + ph * i / 5
        d.line([(left, y), (left + pw, y)], fill=gray)
        d.text((left + pw + 6, y - 7), f"{de_max * (1 - i / 5):.1f}", fill=orange, font=small)
        v = 10 ** (hi - (hi - lo) * i / 5)
        d.text((4, y - 7), f"{v:,.0f}" if v >= 100 else f"{v:.3g}", fill=blue, font=small)
    step = max(1, round(len(ks) / 12))
    for k in ks[::step]:
        x = x_of(k)
        d.line([(x, top + ph), (x, top + ph + 5)], fill=ink)
        d.text((x - 6, top + ph + 8), str(k), fill=ink, font=small)
    d.rectangle([left, top, left + pw, top + ph], outline=ink)
    # The suggested k.
    xs = x_of(curve.suggested_k)
    d.line([(xs, top), (xs, top + ph)], fill=(120, 120, 120), width=2)
    d.text((xs + 5, top + 4), f"suggested k = {curve.suggested_k}", fill=ink, font=font)
    # The curves.
    d.line([(x_of(k), y_inertia(v)) for k, v in zip(ks, inertia)], fill=blue, width=3)
    d.line([(x_of(k), y_de(v)) for k, v in zip(ks, de)], fill=orange, width=3)
    for k, v in zip(ks, inertia):
        d.ellipse([x_of(k) - 3, y_inertia(v) - 3, x_of(k) + 3, y_inertia(v) + 3], fill=blue)
    # Labels.
    head = f"How many colors? {title}".strip()
    d.text((left, 14), head, fill=ink, font=font)
    d.text((left, height - 26), "number of colors k", fill=ink, font=font)
    d.text((left + pw - 230, height - 26), "inertia (log)", fill=blue, font=font)
    # (The built-in font has no Greek letters.)
    d.text((left + pw - 110, height - 26), "mean dE2000", fill=orange, font=font)
    buf = io.BytesIO()
    im.save(buf, "PNG", optimize=True)
    return buf.getvalue()
