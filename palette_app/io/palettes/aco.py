"""Photoshop color swatches (``.aco``).

Layout (big-endian u16 words, after Adobe's Photoshop file format
specification and public descriptions)::

    version 1 section: u16 1, u16 count, count x (u16 space, u16 w, x, y, z)
    version 2 section: u16 2, u16 count, count x (the same 5 words,
                       u32 name length in UTF-16 units counting the NUL,
                       UTF-16BE name, NUL)

Photoshop 7 and later write the version 1 section first and the version 2
section after it, and read version 2 when it is there; files holding only
one of the two exist and are read too.

Color spaces: 0 RGB (0..65535), 1 HSB (hue 0..65535 for 0..360 degrees),
2 CMYK (0..65535 where 0 means 100 % ink), 7 Lab (L 0..10000, a and b signed
-12800..12700, D50), 8 Grayscale (0..10000 ink: 0 is white). Spaces 3, 4, 5,
6 and 10 are color books (Pantone, Focoltone, Trumatch, Toyo, HKS) whose
values are private book references; such entries cannot be converted and
are skipped with a note.
"""
from __future__ import annotations

import struct

import numpy as np

from palette_app.core.palette import Palette
from palette_app.io.palettes._binary import BinaryReader, pack_utf16_name
from palette_app.io.palettes._convert import cmyk_to_srgb, hsb_to_srgb, lab_d50_to_srgb
from palette_app.io.palettes._text import without_nul
from palette_app.io.palettes.errors import PaletteFormatError
from palette_app.io.palettes.loaded import LoadedPalette, PaletteBuilder, count_noun
from palette_app.io.palettes.spec import PaletteFormat

NAME = "aco"
FORMAT = PaletteFormat(
    name=NAME, extensions=(".aco",), can_read=True, can_write=True,
    description="Photoshop color swatches",
    alpha="none", names=True, title=False, counts=False, max_colors=0xFFFF,
)

RGB, HSB, CMYK, LAB, GRAY = 0, 1, 2, 7, 8
COLOR_BOOKS = {3: "Pantone", 4: "Focoltone", 5: "Trumatch", 6: "Toyo 88", 10: "HKS"}
_ENTRY = struct.Struct(">5H")


def loads(data: bytes) -> LoadedPalette:
    """Parse ACO bytes. Raises :class:`PaletteFormatError` for anything malformed."""
    r = BinaryReader(data, NAME)
    if len(r.data) < 4:
        raise r.error(f"{len(r.data)} bytes is too short for an ACO file (at least 4)")
    version = r.u16("the version")
    if version not in (1, 2):
        raise r.error(f"wrong version {version}: an ACO file starts with version 1 or 2 "
                      "(this is not a Photoshop swatch file)")
    v1: list[tuple[int, ...]] | None = None
    if version == 1:
        n1 = r.u16("the color count of the version 1 section")
        if n1 * 10 > r.remaining:
            raise r.error(f"the version 1 section announces {n1} colors ({n1 * 10} bytes), "
                          f"but only {r.remaining} bytes follow")
        v1 = [_ENTRY.unpack(r.take(10, f"color {i + 1}")) for i in range(n1)]
        if r.remaining == 0:
            return _build(v1, [None] * n1, [])
        version = r.u16("the version of the section after version 1")
        if version != 2:
            raise r.error(f"after the version 1 section comes a section of version {version} "
                          "(expected 2)")
    n2 = r.u16("the color count of the version 2 section")
    if n2 * 14 > r.remaining:
        raise r.error(f"the version 2 section announces {n2} colors (at least {n2 * 14} bytes), "
                      f"but only {r.remaining} bytes follow")
    specs, names = [], []
    for i in range(n2):
        specs.append(_ENTRY.unpack(r.take(10, f"color {i + 1} of the version 2 section")))
        units = r.u32(f"the name length of color {i + 1}")
        names.append(r.utf16(units, f"the name of color {i + 1}") or None)
    if r.remaining:
        raise r.error(f"{count_noun(r.remaining, 'unexpected byte')} after the "
                      f"{count_noun(n2, 'color')} of the version 2 section "
                      "(a count is wrong or the file is damaged)")
    notes = []
    if v1 is not None and len(v1) != n2:
        notes.append(f"the version 1 section lists {len(v1)} colors and the version 2 section "
                     f"{n2}; the version 2 colors were used, as Photoshop does")
    return _build(specs, names, notes)


def _signed(v: int) -> int:
    return v - 0x10000 if v >= 0x8000 else v


def _build(specs, names, notes) -> LoadedPalette:
    b = PaletteBuilder(NAME)
    for n in notes:
        b.note(n)
    skipped: dict[str, list[int]] = {}
    for i, ((space, w, x, y, z), name) in enumerate(zip(specs, names, strict=True)):
        if space == RGB:
            b.add((w / 65535.0, x / 65535.0, y / 65535.0), name=name)
        elif space == HSB:
            hsb = [[w / 65535.0 * 360.0, x / 65535.0, y / 65535.0]]
            b.add(hsb_to_srgb(hsb)[0], name=name, space="HSB")
        elif space == CMYK:
            ink = 1.0 - np.array([w, x, y, z]) / 65535.0
            b.add(cmyk_to_srgb(ink)[0], name=name, space="CMYK")
        elif space == LAB:
            lab = [[w / 100.0, _signed(x) / 100.0, _signed(y) / 100.0]]
            b.add(lab_d50_to_srgb(lab)[0], name=name, space="Lab")
        elif space == GRAY:
            g = 1.0 - w / 10000.0
            b.add((g, g, g), name=name, space="Gray")
        else:
            book = COLOR_BOOKS.get(space, f"unknown color space {space}")
            skipped.setdefault(book, []).append(i + 1)
    for book, idx in skipped.items():
        shown = ", ".join(f"#{i}" for i in idx[:8]) + (" …" if len(idx) > 8 else "")
        b.note(f"{count_noun(len(idx), book + ' entry', book + ' entries')} ({shown}) skipped: "
               "color book references cannot be converted to RGB")
    return b.build()


def encode(palette: Palette, *, name: str | None = None) -> tuple[bytes, list[str]]:
    """ACO bytes (version 1 section, then version 2 with names) and notes.

    Colors are written in the RGB space (8-bit values times 257, so 255 is
    65535); each is named by the user's name or its hex code. ``name`` (the
    palette title) has no place in ACO and is ignored.
    """
    k = len(palette)
    if k > 0xFFFF:
        raise PaletteFormatError(f"ACO holds at most 65535 colors, not {k}", format=NAME)
    notes: list[str] = []
    names = palette.names or (None,) * k
    specs = [_ENTRY.pack(RGB, int(r) * 257, int(g) * 257, int(b) * 257, 0)
             for r, g, b in palette.colors.tolist()]
    v1 = struct.pack(">HH", 1, k) + b"".join(specs)
    v2 = [struct.pack(">HH", 2, k)]
    for i, h in enumerate(palette.hex):
        label = names[i] if names[i] else h[:7]
        clean = without_nul(label)
        if clean != label:
            notes.append(f"NUL characters removed from color name {clean!r}")
        units, raw = pack_utf16_name(clean)
        v2.append(specs[i] + struct.pack(">I", units) + raw)
    return v1 + b"".join(v2), notes


def dumps(palette: Palette, **options) -> bytes:
    """ACO bytes for ``palette`` (see :func:`encode`)."""
    return encode(palette, **options)[0]
