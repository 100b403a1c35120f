"""JASC (Paint Shop Pro) palettes (``.pal``), also read by Aseprite, GIMP, many game tools.

Text, CRLF lines: ``JASC-PAL``, ``0100``, the number of colors, then one
``R G B`` line per color (some tools add a fourth value, alpha, which is read).
"""
from __future__ import annotations

from palette_app.core.palette import Palette
from palette_app.io.palettes._text import decode_text, lines, parse_byte
from palette_app.io.palettes.errors import PaletteFormatError
from palette_app.io.palettes.loaded import LoadedPalette, PaletteBuilder
from palette_app.io.palettes.spec import PaletteFormat

NAME = "jasc-pal"
FORMAT = PaletteFormat(
    name=NAME, extensions=(".pal",), can_read=True, can_write=True,
    description="JASC palette: Paint Shop Pro, Aseprite, game tools",
    alpha="none", names=False, title=False, counts=False,
)
MAGIC = "JASC-PAL"


def _error(problem: str) -> PaletteFormatError:
    return PaletteFormatError(problem, format=NAME)


def loads(data: bytes) -> LoadedPalette:
    text, notes = decode_text(data, NAME)
    rows = lines(text)
    while rows and not rows[-1].strip():
        rows.pop()
    if not rows or rows[0].strip() != MAGIC:
        raise _error("missing the 'JASC-PAL' first line")
    if len(rows) < 3:
        raise _error("the header is cut short (expected 'JASC-PAL', '0100' and a count)")
    if rows[1].strip() != "0100":
        raise _error(f"unsupported version {rows[1].strip()!r} (expected '0100')")
    try:
        count = int(rows[2].strip())
    except ValueError:
        raise _error(f"line 3: the color count {rows[2].strip()!r} is not a number") from None
    body = rows[3:]
    if count < 0 or count != len(body):
        raise _error(f"the header announces {count} colors, but {len(body)} color lines follow")
    b = PaletteBuilder(NAME)
    for n in notes:
        b.note(n)
    for lineno, row in enumerate(body, start=4):
        parts = row.split()
        if len(parts) not in (3, 4):
            raise _error(f"line {lineno}: expected 'R G B' (or 'R G B A'), got {row.strip()!r}")
        values = [parse_byte(p) for p in parts]
        for p, v in zip(parts, values, strict=True):
            if v is None:
                raise _error(f"line {lineno}: {p!r} is not a value 0..255")
        b.add8(*values)
    return b.build()


def encode(palette: Palette, *, name: str | None = None) -> tuple[bytes, list[str]]:
    """JASC-PAL bytes (CRLF lines, as Paint Shop Pro writes them)."""
    out = [MAGIC, "0100", str(len(palette))]
    out += [f"{r} {g} {b}" for r, g, b in palette.colors.tolist()]
    return ("\r\n".join(out) + "\r\n").encode("ascii"), []


def dumps(palette: Palette, **options) -> bytes:
    return encode(palette, **options)[0]
