"""A bounds-checked reader for binary palette files: short data raises PaletteFormatError."""
from __future__ import annotations

import struct

from palette_app.io.palettes.errors import PaletteFormatError

_U16 = struct.Struct(">H")
_I16 = struct.Struct(">h")
_U32 = struct.Struct(">I")
_F32 = struct.Struct(">f")


class BinaryReader:
    """Reads big-endian fields from ``data``; every read names what it was reading."""

    def __init__(self, data: bytes, fmt: str):
        self.data = bytes(data)
        self.pos = 0
        self.fmt = fmt

    @property
    def remaining(self) -> int:
        return len(self.data) - self.pos

    def error(self, problem: str) -> PaletteFormatError:
        return PaletteFormatError(problem, format=self.fmt)

    def take(self, n: int, what: str) -> bytes:
        if n < 0 or n > self.remaining:
            raise self.error(
                f"the file ends too early: {what} needs {n} bytes at offset {self.pos}, "
                f"but only {self.remaining} remain"
            )
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def u16(self, what: str) -> int:
        return _U16.unpack(self.take(2, what))[0]

    def i16(self, what: str) -> int:
        return _I16.unpack(self.take(2, what))[0]

    def u32(self, what: str) -> int:
        return _U32.unpack(self.take(4, what))[0]

    def f32(self, what: str) -> float:
        return _F32.unpack(self.take(4, what))[0]

    def utf16(self, units: int, what: str) -> str:
        """``units`` UTF-16BE code units whose last one is the terminating NUL (0 units: "")."""
        if units == 0:
            return ""
        raw = self.take(2 * units, what)
        if raw[-2:] != b"\0\0":
            raise self.error(
                f"{what} is not NUL-terminated: its length ({units} UTF-16 units) must count "
                "the terminating NUL"
            )
        try:
            return raw[:-2].decode("utf-16-be")
        except UnicodeDecodeError as e:
            raise self.error(f"{what} is not valid UTF-16 ({e.reason} at byte {e.start})") from None


def pack_utf16_name(name: str) -> tuple[int, bytes]:
    """(length in UTF-16 units counting the terminating NUL, UTF-16BE bytes with the NUL)."""
    raw = name.encode("utf-16-be") + b"\0\0"
    return len(raw) // 2, raw
