"""Lospec hex palettes (``.hex``): one ``rrggbb`` color per line, nothing else.

The reader also accepts a leading ``#``, blank lines and ``rrggbbaa``.
"""
from __future__ import annotations

from palette_app.core.palette import Palette
from palette_app.io.palettes._text import decode_text, lines, parse_hex_digits
from palette_app.io.palettes.errors import PaletteFormatError
from palette_app.io.palettes.loaded import LoadedPalette, PaletteBuilder
from palette_app.io.palettes.spec import PaletteFormat

NAME = "hex"
FORMAT = PaletteFormat(
    name=NAME, extensions=(".hex",), can_read=True, can_write=True,
    description="Lospec hex palette: one hex color per line",
    alpha="none", names=False, title=False, counts=False,
)


def loads(data: bytes) -> LoadedPalette:
    text, notes = decode_text(data, NAME)
    b = PaletteBuilder(NAME)
    for n in notes:
        b.note(n)
    for lineno, row in enumerate(lines(text), start=1):
        s = row.strip()
        if not s:
            continue
        h = s[1:] if s.startswith("#") else s
        v = parse_hex_digits(h) if len(h) in (6, 8) else None
        if v is None:
            raise PaletteFormatError(f"line {lineno}: {s[:40]!r} is not a hex color (rrggbb)",
                                     format=NAME)
        if len(h) == 8:
            b.add8(v >> 24, (v >> 16) & 0xFF, (v >> 8) & 0xFF, alpha=v & 0xFF)
        else:
            b.add8(v >> 16, (v >> 8) & 0xFF, v & 0xFF)
    return b.build()


def encode(palette: Palette, *, name: str | None = None) -> tuple[bytes, list[str]]:
    if len(palette) == 0:
        raise PaletteFormatError("an empty palette would be an empty .hex file, which reads "
                                 "as no palette at all", format=NAME)
    return "".join(f"{h[1:7]}\n" for h in palette.hex).encode("ascii"), []


def dumps(palette: Palette, **options) -> bytes:
    return encode(palette, **options)[0]
