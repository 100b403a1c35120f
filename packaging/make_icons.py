"""Draw the Palette App icon set with Pillow: ``python packaging/make_icons.py``.

The icon is a dark rounded square holding six palette swatches (3 × 2). Each
size is drawn at 4× and reduced with a Lanczos filter, so edges stay smooth;
the 16 and 32 px versions use smaller margins so the swatches stay
readable. Writes into ``assets/icons/``:

- ``palette-app-{16,32,48,64,128,256,512}.png`` (RGBA)
- ``palette-app.ico`` (16–256 px, for Windows)
- ``palette-app.icns`` (for macOS; Pillow writes ICNS on every platform)

The output is deterministic, so running it again changes no file.
"""
from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

from PIL import Image, ImageDraw

SIZES = (16, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 32, 48, 64, 128, 256)
NAME = "palette-app"

BACKGROUND = (30, 33, 46, 255)       # near-black blue
SWATCHES = (                          # a warm-to-cool palette, top row then bottom row
    (231, 76, 60), (243, 156, 18), (241, 196, 15),
    (46, 204, 113), (52, 152, 219), (155, 89, 182),
)
SUPERSAMPLE = 4


def draw_icon(size: int) -> Image.Image:
    """The icon at ``size`` × ``size`` pixels, RGBA."""
    s = size * SUPERSAMPLE
    im = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    d = ImageDraw.Draw(im)
    small = size <= 32
    inset = round(s * (0.02 if small else 0.06))        # transparent border (platform shadow room)
    radius = round(s * (0.18 if small else 0.2))
    d.rounded_rectangle((inset, inset, s - 1 - inset, s - 1 - inset), radius=radius, fill=BACKGROUND)

    pad = round(s * (0.13 if small else 0.18))           # from the icon's edge to the swatches
    gap = round(s * (0.06 if small else 0.05))
    cols, rows = 3, 2
    area = s - 2 * pad
    cell_w = (area - (cols - 1) * gap) / cols
    cell_h = (area - (rows - 1) * gap) / rows
    swatch_r = round(min(cell_w, cell_h) * (0.15 if small else 0.22))
    for i, color in enumerate(SWATCHES):
        r, c = divmod(i, cols)
        x0 = pad + c * (cell_w + gap)
        y0 = pad + r * (cell_h + gap)
        d.rounded_rectangle((round(x0), round(y0), round(x0 + cell_w) - 1, round(y0 + cell_h) - 1),
                            radius=swatch_r, fill=(*color, 255))
    return im.resize((size, size), Image.Resampling.LANCZOS)


def write_icons(out: Path) -> list[Path]:
    """Write every PNG, the .ico and the .icns into ``out``; returns the paths."""
    out.mkdir(parents=True, exist_ok=True)
    images = {n: draw_icon(n) for n in SIZES}
    written = []
    for n, im in images.items():
        p = out / f"{NAME}-{n}.png"
        _write_if_changed(p, _png_bytes(im))
        written.append(p)

    buf = io.BytesIO()
    images[256].save(buf, format="ICO", sizes=[(n, n) for n in ICO_SIZES],
                     append_images=[images[n] for n in ICO_SIZES if n != 256])
    p = out / f"{NAME}.ico"
    _write_if_changed(p, buf.getvalue())
    written.append(p)

    buf = io.BytesIO()
    # Pillow picks each ICNS member (16…512 px, and the @2x ones) from the image of that
    # size; the 1024 px member (512@2x) is the 512 px drawing scaled up.
    images[512].save(buf, format="ICNS", append_images=[images[n] for n in (16, 32, 64, 128, 256)])
    p = out / f"{NAME}.icns"
    _write_if_changed(p, buf.getvalue())
    written.append(p)
    return written


def _png_bytes(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def _write_if_changed(path: Path, data: bytes) -> None:
    if path.exists() and path.read_bytes() == data:
        return
    path.write_bytes(data)


def main(argv: list[str] | None = None) -> int:
    root = Path(__file__).resolve().parents[1]
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=root / "assets" / "icons", help="output folder")
    args = p.parse_args(argv)
    for path in write_icons(args.out):
        print(path.relative_to(root) if path.is_relative_to(root) else path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
