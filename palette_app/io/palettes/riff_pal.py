"""Microsoft RIFF palettes (``.pal``): a RIFF ``PAL `` form with a ``data`` chunk.

Layout (little-endian): ``RIFF`` u32 size ``PAL `` then chunks (u32 id, u32
size, data, padded to even length). The ``data`` chunk is a LOGPALETTE:
u16 version 0x0300, u16 count, count x (R, G, B, flags).
"""
from __future__ import annotations

import struct

import numpy as np

from palette_app.core.palette import Palette
from palette_app.io.palettes.errors import PaletteFormatError
from palette_app.io.palettes.loaded import LoadedPalette, PaletteBuilder
from palette_app.io.palettes.spec import PaletteFormat

NAME = "riff-pal"
FORMAT = PaletteFormat(
    name=NAME, extensions=(".pal",), can_read=True, can_write=True,
    description="RIFF palette: Windows, older paint programs",
    alpha="none", names=False, title=False, counts=False, max_colors=0xFFFF,
)


def _error(problem: str) -> PaletteFormatError:
    return PaletteFormatError(problem, format=NAME)


def is_riff_pal(data: bytes) -> bool:
    return len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"PAL "


def loads(data: bytes) -> LoadedPalette:
    data = bytes(data)
    if not is_riff_pal(data):
        raise _error("wrong magic: a RIFF palette starts with 'RIFF', a size and 'PAL '")
    size = struct.unpack("<I", data[4:8])[0]
    if size + 8 != len(data):
        raise _error(f"the RIFF header says the file is {size + 8} bytes long, "
                     f"but it is {len(data)}")
    pos, chunk = 12, None
    while pos < len(data):
        if pos + 8 > len(data):
            raise _error(f"a chunk header at offset {pos} is cut short")
        cid, csize = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        if pos + 8 + csize > len(data):
            raise _error(f"chunk {cid!r} says it is {csize} bytes long, but only "
                         f"{len(data) - pos - 8} bytes remain")
        if cid == b"data":
            chunk = data[pos + 8:pos + 8 + csize]
            break
        pos += 8 + csize + (csize & 1)
    if chunk is None:
        raise _error("no 'data' chunk")
    if len(chunk) < 4:
        raise _error(f"the 'data' chunk is {len(chunk)} bytes; it needs at least 4")
    version, count = struct.unpack("<HH", chunk[:4])
    if version != 0x0300:
        raise _error(f"unsupported palette version 0x{version:04X} (expected 0x0300)")
    if 4 + 4 * count != len(chunk):
        raise _error(f"the palette announces {count} colors ({4 + 4 * count} bytes), but its "
                     f"chunk holds {len(chunk)} bytes")
    rgbx = np.frombuffer(chunk, np.uint8, 4 * count, offset=4).reshape(count, 4)
    b = PaletteBuilder(NAME)
    for r, g, bl, _flags in rgbx.tolist():
        b.add8(r, g, bl)
    return b.build()


def encode(palette: Palette, *, name: str | None = None) -> tuple[bytes, list[str]]:
    k = len(palette)
    if k > 0xFFFF:
        raise _error(f"a RIFF palette holds at most 65535 colors, not {k}")
    rgbx = np.zeros((k, 4), np.uint8)
    rgbx[:, :3] = palette.colors
    chunk = struct.pack("<HH", 0x0300, k) + rgbx.tobytes()
    body = b"PAL " + b"data" + struct.pack("<I", len(chunk)) + chunk
    return b"RIFF" + struct.pack("<I", len(body)) + body, []


def dumps(palette: Palette, **options) -> bytes:
    return encode(palette, **options)[0]
