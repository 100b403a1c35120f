"""Paint.NET palettes (``.txt``): one ``AARRGGBB`` hex number per line.

Lines starting with ``;`` are comments. Paint.NET shows at most 96 colors
(it pads shorter palettes with white); longer files are still written, with a
note, since other programs read them whole.
"""
from __future__ import annotations

from palette_app.core.palette import Palette
from palette_app.io.palettes._text import decode_text, lines, parse_hex_digits
from palette_app.io.palettes.errors import PaletteFormatError
from palette_app.io.palettes.loaded import LoadedPalette, PaletteBuilder
from palette_app.io.palettes.spec import PaletteFormat

NAME = "paint.net"
FORMAT = PaletteFormat(
    name=NAME, extensions=(".txt",), can_read=True, can_write=True,
    description="Paint.NET palette",
    alpha="full", names=False, title=False, counts=False,
)
PAINTNET_MAX = 96

_HEADER = (
    "; paint.net Palette File",
    "; Lines that start with a semicolon are comments",
    "; Colors are written as 8-digit hexadecimal numbers: aarrggbb",
    "; For example, this would specify green: FF00FF00",
    "; The palette must contain 96 colors or fewer",
)


def loads(data: bytes) -> LoadedPalette:
    text, notes = decode_text(data, NAME)
    b = PaletteBuilder(NAME)
    for n in notes:
        b.note(n)
    for lineno, row in enumerate(lines(text), start=1):
        s = row.strip()
        if not s or s.startswith(";"):
            continue
        v = parse_hex_digits(s) if len(s) in (6, 8) else None
        if v is None:
            raise PaletteFormatError(f"line {lineno}: {s[:40]!r} is not an AARRGGBB hex color",
                                     format=NAME)
        a = (v >> 24) & 0xFF if len(s) == 8 else 255
        b.add8((v >> 16) & 0xFF, (v >> 8) & 0xFF, v & 0xFF, alpha=a)
    return b.build()


def encode(palette: Palette, *, name: str | None = None) -> tuple[bytes, list[str]]:
    notes = []
    if len(palette) > PAINTNET_MAX:
        notes.append(f"Paint.NET shows only the first {PAINTNET_MAX} of the "
                     f"{len(palette)} colors (other programs read them all)")
    out = list(_HEADER)
    out += [f"{a:02X}{r:02X}{g:02X}{b:02X}" for r, g, b, a in palette.rgba.tolist()]
    return ("\r\n".join(out) + "\r\n").encode("ascii"), notes


def dumps(palette: Palette, **options) -> bytes:
    return encode(palette, **options)[0]
