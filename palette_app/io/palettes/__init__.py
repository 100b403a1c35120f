"""Palette files: read and write the formats designers use.

>>> from palette_app.io.palettes import read_palette, write_palette
>>> pal = read_palette("swatches.ase")                        # doctest: +SKIP
>>> pal.notes            # what could not be represented exactly  # doctest: +SKIP
>>> write_palette(pal, "swatches.gpl", overwrite=True)        # doctest: +SKIP

:func:`read_palette` returns a :class:`LoadedPalette` (a ``Palette`` with the
file's title and notes). :func:`write_palette` writes atomically and returns
notes on what the format could not keep. Every format module also has
``dumps(palette, **options) -> bytes`` and, if readable, ``loads(data)``.
Anything malformed raises :class:`PaletteFormatError`, naming the file, the
format and the problem.
"""
from __future__ import annotations

import codecs
import os
import types
from pathlib import Path

from palette_app.core.palette import Palette
from palette_app.io.atomic import atomic_write
from palette_app.io.palettes import (
    aco, act, ase, css, gpl, hexfile, jasc_pal, json_format, paintnet, riff_pal, swatch_png,
    tailwind,
)
from palette_app.io.palettes.errors import PaletteFormatError
from palette_app.io.palettes.loaded import LoadedPalette
from palette_app.io.palettes.spec import PaletteFormat

__all__ = [
    "PALETTE_FORMATS",
    "LoadedPalette",
    "PaletteFormat",
    "PaletteFormatError",
    "encode_palette",
    "format_for_path",
    "read_palette",
    "sniff_format",
    "write_palette",
]

_MODULES = {m.NAME: m for m in (gpl, ase, aco, act, jasc_pal, riff_pal, paintnet, hexfile,
                                json_format, css, tailwind, swatch_png)}

#: Every known format: name → :class:`PaletteFormat` (extensions, can_read,
#: can_write, description, what it keeps). Read-only mapping.
PALETTE_FORMATS: types.MappingProxyType[str, PaletteFormat] = types.MappingProxyType(
    {name: m.FORMAT for name, m in _MODULES.items()})

# Extension → format for writing; ".pal" is sniffed when reading (JASC text or RIFF).
_BY_EXTENSION = {}
for _spec in PALETTE_FORMATS.values():
    for _ext in _spec.extensions:
        _BY_EXTENSION.setdefault(_ext, _spec.name)
del _spec, _ext

# Larger than any palette; stops a wrong file (a video, a disk image) being read into memory.
MAX_FILE_BYTES = 32 * 1024 * 1024


def _resolve(format: str) -> str:
    key = format.strip().lower()
    if key in PALETTE_FORMATS:
        return key
    ext = key if key.startswith(".") else "." + key
    if ext in _BY_EXTENSION:
        return _BY_EXTENSION[ext]
    known = ", ".join(PALETTE_FORMATS)
    raise ValueError(f"unknown palette format {format!r} (known: {known})")


def format_for_path(path: str | os.PathLike) -> str | None:
    """The format a file name implies by its extension (``.pal`` → ``"jasc-pal"``), or ``None``."""
    return _BY_EXTENSION.get(Path(path).suffix.lower())


def sniff_format(data: bytes) -> str | None:
    """The format ``data`` looks like from its content, or ``None``."""
    data = bytes(data)
    if data.startswith(b"ASEF"):
        return "ase"
    if riff_pal.is_riff_pal(data):
        return "riff-pal"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[:2] in (b"\0\1", b"\0\2"):
        try:
            aco.loads(data)
            return "aco"
        except PaletteFormatError:
            pass
    text = _text_prefix(data)
    if text is not None:
        if text.startswith("GIMP Palette"):
            return "gpl"
        if text.startswith("JASC-PAL"):
            return "jasc-pal"
        first = text.lstrip()[:1]
        if first in ("{", "["):
            return "json"
        if first == ";":
            return "paint.net"
        rows = [r.strip() for r in text.splitlines() if r.strip()]
        rows = rows[:-1] if len(data) > _SNIFF_BYTES else rows  # the last row may be cut
        if rows and all(len(r) == 8 and _is_hex(r) for r in rows):
            return "paint.net"
        if rows and all(len(r.lstrip("#")) in (6, 8) and _is_hex(r.lstrip("#")) for r in rows):
            return "hex"
    # Checked last: any 768 or 772 bytes would do, including a text palette of that size.
    if len(data) in (768, 772):
        return "act"
    return None


_SNIFF_BYTES = 4096


def _text_prefix(data: bytes) -> str | None:
    """The start of ``data`` as text (UTF-8, or UTF-16 with a BOM), or ``None`` if binary."""
    chunk = data[:_SNIFF_BYTES]
    if chunk[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return chunk[:len(chunk) // 2 * 2].decode("utf-16", "ignore")
    if b"\0" in chunk:
        return None
    return chunk.decode("utf-8", "ignore").lstrip("\ufeff")


def _is_hex(s: str) -> bool:
    return s.isascii() and all(c in "0123456789abcdefABCDEF" for c in s)


def read_palette(path_or_bytes, format: str | None = None) -> LoadedPalette:
    """Read a palette file.

    Parameters
    ----------
    path_or_bytes : str, os.PathLike, bytes, bytearray, memoryview or binary file object
        A path (a ``str`` is always a path), the file's bytes, or an open file.
    format : str, optional
        Format name (a key of :data:`PALETTE_FORMATS`) or extension. Default:
        from the file's extension; for bytes, unknown extensions and ``.pal``
        (JASC text or RIFF), from the content.

    Returns
    -------
    LoadedPalette
        Colors as (k, 3) uint8 sRGB, with alpha and names where the file has
        them; ``notes`` lists what could not be represented exactly.

    Raises
    ------
    PaletteFormatError
        The data is not a valid palette in that format (short, wrong magic,
        counts that lie, bad UTF-16, ...), or the format cannot be read.
    OSError
        The file cannot be opened or read.
    """
    path = None
    if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
        data = bytes(path_or_bytes)
    elif isinstance(path_or_bytes, (str, os.PathLike)):
        path = os.fspath(path_or_bytes)
        size = os.path.getsize(path)
        if size > MAX_FILE_BYTES:
            raise PaletteFormatError(f"the file is {size:,} bytes, far too large for a palette",
                                     path=path)
        with open(path, "rb") as f:
            data = f.read()
    elif hasattr(path_or_bytes, "read"):
        data = path_or_bytes.read(MAX_FILE_BYTES + 1)
        if not isinstance(data, (bytes, bytearray)):
            raise TypeError("the file object must be opened in binary mode")
        if len(data) > MAX_FILE_BYTES:
            raise PaletteFormatError("the data is far too large for a palette")
        path = getattr(path_or_bytes, "name", None)
        path = path if isinstance(path, str) else None
    else:
        raise TypeError(f"expected a path, bytes or a binary file, got {type(path_or_bytes)!r}")

    from_extension = False
    if format is not None:
        name = _resolve(format)
    else:
        name = format_for_path(path) if path is not None else None
        from_extension = name is not None
        if name in (None, "jasc-pal"):
            sniffed = sniff_format(data)
            if name is None or sniffed == "riff-pal":
                name, from_extension = sniffed, False
    try:
        if not data:
            raise PaletteFormatError("the file is empty", format=name)
        if name is None:
            raise PaletteFormatError("not a palette file in any format this app reads")
        module = _MODULES[name]
        if not PALETTE_FORMATS[name].can_read:
            raise PaletteFormatError("this format can be written but not read", format=name)
        return module.loads(data)
    except PaletteFormatError as e:
        e.path = path
        if from_extension and e.format == name:
            other = sniff_format(data)
            if other not in (None, name) and PALETTE_FORMATS[other].can_read:
                e.problem += (f" (the content looks like {PALETTE_FORMATS[other].label}; "
                              f"read it with format={other!r})")
        raise


def write_palette(palette: Palette, path: str | os.PathLike, format: str | None = None, *,
                  overwrite: bool = False, **options) -> tuple[str, ...]:
    """Write ``palette`` to ``path`` atomically.

    Parameters
    ----------
    palette : Palette
    path : str or os.PathLike
    format : str, optional
        Format name or extension; default from ``path``'s extension
        (``.pal`` writes JASC).
    overwrite : bool
        Replace an existing file; otherwise :class:`~palette_app.io.OutputExistsError`.
    **options
        ``name`` (the palette title, for formats that have one) and the
        format's own options, listed in ``PALETTE_FORMATS[format].options``.

    Returns
    -------
    tuple of str
        Notes on what the format could not keep (alpha, names, counts, ...);
        empty when the file holds the palette exactly.

    Raises
    ------
    PaletteFormatError
        The palette does not fit the format (e.g. more than 256 colors in ACT).
    ValueError, TypeError
        Unknown format or option, or a bad option value.
    """
    path = os.fspath(path)
    if format is not None:
        name = _resolve(format)
    else:
        name = format_for_path(path)
        if name is None:
            raise PaletteFormatError(f"cannot tell the palette format from the extension "
                                     f"{Path(path).suffix!r}; pass format=", path=path)
    data, notes = encode_palette(palette, name, path=path, **options)
    with atomic_write(path, overwrite=overwrite) as f:
        f.write(data)
    return notes


def encode_palette(palette: Palette, format: str, *, path: str | None = None,
           **options) -> tuple[bytes, tuple[str, ...]]:
    """The bytes of ``palette`` in ``format`` and the notes on what it could not keep."""
    name = _resolve(format)
    spec = PALETTE_FORMATS[name]
    if not spec.can_write:
        raise PaletteFormatError("this format can be read but not written", path=path, format=name)
    allowed = {"name", *spec.options}
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise TypeError(f"{spec.label} takes no option(s) {', '.join(unknown)} "
                        f"(it takes: {', '.join(sorted(allowed))})")
    if not isinstance(palette, Palette):
        raise TypeError(f"expected a Palette, got {type(palette)!r}")
    if spec.max_colors is not None and len(palette) > spec.max_colors:
        raise PaletteFormatError(f"holds at most {spec.max_colors} colors; this palette has "
                                 f"{len(palette)}", path=path, format=name)
    try:
        data, own = _MODULES[name].encode(palette, **options)
    except PaletteFormatError as e:
        e.path = path
        raise
    return data, tuple(_losses(palette, spec) + own)


def _losses(palette: Palette, spec: PaletteFormat) -> list[str]:
    notes = []
    if palette.alpha is not None and spec.alpha == "none":
        n = int((palette.alpha != 255).sum())
        notes.append(f"{n} color(s) that are not opaque were written opaque: "
                     f"{spec.label} has no alpha")
    if palette.names is not None and not spec.names:
        notes.append(f"color names are not kept: {spec.label} has no names")
    if palette.counts is not None and not spec.counts:
        notes.append(f"pixel counts (shares) are not kept: {spec.label} has none")
    if palette.locked.any() and not spec.counts:
        notes.append(f"locked flags are not kept: {spec.label} has none")
    return notes
