"""A PNG swatch strip (``.png``, write only): one square block per color, for people.

Blocks are ``block`` pixels square (96 by default: big enough to judge a
color), laid out in one row up to 16 colors and wrapped into rows of 16
beyond that (or ``columns`` per row). Each block carries its hex code in black
or white, whichever reads better on it, unless ``labels=False`` or the
blocks are under 48 pixels. Colors keep
their alpha. The palette's title and the color list go in PNG text chunks.
Uses Pillow, imported only when a strip is written.
"""
from __future__ import annotations

import io
import math

from palette_app.core.palette import Palette
from palette_app.io.palettes.errors import PaletteFormatError
from palette_app.io.palettes.spec import PaletteFormat

NAME = "png"
FORMAT = PaletteFormat(
    name=NAME, extensions=(".png",), can_read=False, can_write=True,
    description="PNG swatch strip: a picture of the palette",
    alpha="full", names=False, title=True, counts=False,
    options=("block", "labels", "columns"),
)
DEFAULT_COLUMNS = 16
MIN_LABEL_BLOCK = 48
# WCAG: on colors lighter than this relative luminance, black text has the better contrast.
_BLACK_TEXT_ABOVE = 0.179


def encode(palette: Palette, *, name: str | None = None, block: int = 96, labels: bool = True,
           columns: int | None = None) -> tuple[bytes, list[str]]:
    """PNG bytes of the swatch strip.

    Parameters
    ----------
    block : int
        Side of one color block in pixels, 8..1024.
    labels : bool
        Draw each color's hex code on its block.
    columns : int, optional
        Blocks per row; default all colors in one row up to 16, else 16.
    """
    from PIL import Image, ImageDraw, PngImagePlugin

    k = len(palette)
    if k == 0:
        raise PaletteFormatError("a swatch strip needs at least one color", format=NAME)
    if not isinstance(block, int) or not 8 <= block <= 1024:
        raise ValueError(f"block must be an integer 8..1024 (pixels), got {block!r}")
    if columns is not None and (not isinstance(columns, int) or columns < 1):
        raise ValueError(f"columns must be a positive integer, got {columns!r}")
    cols = min(k, columns or DEFAULT_COLUMNS)
    rows = math.ceil(k / cols)
    img = Image.new("RGBA", (cols * block, rows * block), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    notes: list[str] = []
    font = None
    if labels and block < MIN_LABEL_BLOCK:
        notes.append(f"no hex labels: blocks under {MIN_LABEL_BLOCK} pixels are too small for them")
    elif labels:
        font = _font(block)
    lum = palette.luminance
    for i, (rgba, h) in enumerate(zip(palette.rgba.tolist(), palette.hex, strict=True)):
        x, y = (i % cols) * block, (i // cols) * block
        draw.rectangle([x, y, x + block - 1, y + block - 1], fill=tuple(rgba))
        if font is not None:
            ink = (0, 0, 0, 255) if lum[i] > _BLACK_TEXT_ABOVE else (255, 255, 255, 255)
            pad = max(2, block // 12)
            bottom = draw.textbbox((0, 0), h, font=font)[3]
            draw.text((x + pad, y + block - pad - bottom), h, fill=ink, font=font)
    info = PngImagePlugin.PngInfo()
    title = name if name is not None else getattr(palette, "title", None)
    if title:
        info.add_itxt("Title", title)
    info.add_text("Software", "Palette App")
    names = palette.names or (None,) * k
    info.add_itxt("Description", "\n".join(
        h + (f" {names[i]}" if names[i] else "") for i, h in enumerate(palette.hex)))
    buf = io.BytesIO()
    img.save(buf, format="PNG", pnginfo=info)
    return buf.getvalue(), notes


def _font(block: int):
    """A font whose ``#rrggbbaa`` fits on a block; Pillow's bitmap font on old Pillow."""
    from PIL import ImageFont

    size = max(6, block // 8)
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError, ImportError):  # Pillow < 10.1 or no FreeType
        return ImageFont.load_default()


def dumps(palette: Palette, **options) -> bytes:
    return encode(palette, **options)[0]
