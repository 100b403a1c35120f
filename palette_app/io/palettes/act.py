"""Photoshop color tables (``.act``): 256 RGB triples, optionally a count and a transparent index.

Layout: 768 bytes of 256 ``R G B`` triples; the longer 772-byte form adds a
big-endian u16 with the number of colors in use and a u16 with the index of
the transparent color (0xFFFF: none). Unused entries are zero-filled, since
Photoshop refuses tables shorter than 256 entries.
"""
from __future__ import annotations

import struct

import numpy as np

from palette_app.core.palette import Palette
from palette_app.io.palettes.errors import PaletteFormatError
from palette_app.io.palettes.loaded import LoadedPalette, PaletteBuilder
from palette_app.io.palettes.spec import PaletteFormat

NAME = "act"
FORMAT = PaletteFormat(
    name=NAME, extensions=(".act",), can_read=True, can_write=True,
    description="Photoshop color table: indexed images, GIF export",
    alpha="transparent-index", names=False, title=False, counts=False, max_colors=256,
)

NO_TRANSPARENCY = 0xFFFF


def loads(data: bytes) -> LoadedPalette:
    """Parse ACT bytes (768 or 772 of them)."""
    data = bytes(data)
    if len(data) not in (768, 772):
        raise PaletteFormatError(f"an ACT file is 768 or 772 bytes long, this one {len(data)}",
                                 format=NAME)
    count, transparent = 256, NO_TRANSPARENCY
    if len(data) == 772:
        count, transparent = struct.unpack(">HH", data[768:])
        if not 1 <= count <= 256:
            raise PaletteFormatError(f"the color count is {count}; it must be 1..256",
                                     format=NAME)
        if transparent != NO_TRANSPARENCY and transparent >= count:
            raise PaletteFormatError(
                f"the transparent index {transparent} is not among the {count} colors",
                format=NAME)
    rgb = np.frombuffer(data, np.uint8, count * 3).reshape(count, 3)
    b = PaletteBuilder(NAME)
    for i, (r, g, bl) in enumerate(rgb.tolist()):
        b.add8(r, g, bl, alpha=0 if i == transparent else 255)
    return b.build()


def encode(palette: Palette, *, name: str | None = None) -> tuple[bytes, list[str]]:
    """ACT bytes and notes.

    A full opaque table of 256 colors is written in the classic 768-byte form;
    anything else in the 772-byte form with count and transparent index. One
    fully transparent color becomes the transparent index; ACT cannot keep
    partial opacity (reported in the notes).
    """
    k = len(palette)
    if k > 256:
        raise PaletteFormatError(f"ACT holds at most 256 colors, not {k}", format=NAME)
    if k == 0:
        raise PaletteFormatError("ACT cannot hold an empty palette (at least 1 color)",
                                 format=NAME)
    notes: list[str] = []
    alpha = palette.rgba[:, 3]
    transparent = NO_TRANSPARENCY
    clear = np.flatnonzero(alpha == 0)
    if clear.size:
        transparent = int(clear[0])
        if clear.size > 1:
            notes.append(f"{clear.size} colors are fully transparent; ACT marks only one "
                         f"(#{transparent + 1}), the others were written opaque")
    partial = int(np.count_nonzero((alpha > 0) & (alpha < 255)))
    if partial:
        notes.append(f"{partial} partly transparent color(s) written opaque: ACT has no alpha")
    table = np.zeros((256, 3), np.uint8)
    table[:k] = palette.colors
    out = table.tobytes()
    if k < 256 or transparent != NO_TRANSPARENCY:
        out += struct.pack(">HH", k, transparent)
    return out, notes


def dumps(palette: Palette, **options) -> bytes:
    """ACT bytes for ``palette`` (see :func:`encode`)."""
    return encode(palette, **options)[0]
