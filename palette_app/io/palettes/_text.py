"""Text decoding and name clean-up shared by the text palette formats."""
from __future__ import annotations

import codecs
import unicodedata

from palette_app.io.palettes.errors import PaletteFormatError


def decode_text(data: bytes, fmt: str) -> tuple[str, list[str]]:
    """Decode a text palette file: UTF-8 (BOM optional), UTF-16 with BOM, else Latin-1.

    Returns the text and notes (a Latin-1 fallback is reported).
    """
    data = bytes(data)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), []
        except UnicodeDecodeError as e:
            raise PaletteFormatError(f"the text is not valid UTF-16 ({e.reason})",
                                     format=fmt) from None
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    if b"\0" in data:
        raise PaletteFormatError("the file holds NUL bytes, so it is not a text file", format=fmt)
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError:
        return data.decode("latin-1"), ["the file is not valid UTF-8; its text was read as Latin-1"]


def lines(text: str) -> list[str]:
    """Split on LF only (names may hold other separators), dropping a CR before it."""
    return [ln[:-1] if ln.endswith("\r") else ln for ln in text.split("\n")]


def one_line(name: str) -> str:
    """``name`` made safe for a one-line text field: controls and line breaks become spaces."""
    out = "".join(" " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in name)
    return out.strip()


def without_nul(name: str) -> str:
    """``name`` without NUL characters (binary formats end names at the first NUL)."""
    return name.replace("\0", "")


def parse_byte(token: str) -> int | None:
    """``token`` as an integer 0..255 written in ASCII digits, else ``None``."""
    if not (token.isascii() and token.isdigit()) or len(token) > 3:
        return None
    v = int(token)
    return v if v <= 255 else None


def parse_hex_digits(token: str) -> int | None:
    """``token`` (ASCII hex digits only) as an integer, else ``None``."""
    if not token or not token.isascii() or any(c not in "0123456789abcdefABCDEF" for c in token):
        return None
    return int(token, 16)
