"""GIMP palettes (``.gpl``): GIMP, Inkscape, Krita, Aseprite, Scribus, MyPaint.

Text in UTF-8 with LF lines::

    GIMP Palette
    Name: Sunset            (optional, the palette's title)
    Columns: 8              (optional, 0..256: how GIMP lays out the swatches)
    # comment lines start with '#'; empty lines are ignored
    255 128   0	Orange     (R G B, whitespace-separated, then an optional name)

The RGBA extension (Aseprite's) adds a header line ``Channels: RGBA`` and an
alpha value after B on every color line. GIMP itself does not know it: it
shows that header line as an extra black swatch and reads the alpha as the
start of the name, so the writer uses it only for palettes that have alpha.
"""
from __future__ import annotations

import re

from palette_app.core.palette import Palette
from palette_app.io.palettes._text import decode_text, lines, one_line, parse_byte
from palette_app.io.palettes.errors import PaletteFormatError
from palette_app.io.palettes.loaded import LoadedPalette, PaletteBuilder
from palette_app.io.palettes.spec import PaletteFormat

NAME = "gpl"
FORMAT = PaletteFormat(
    name=NAME, extensions=(".gpl",), can_read=True, can_write=True,
    description="GIMP palette: GIMP, Inkscape, Krita, Aseprite, Scribus",
    alpha="full", names=True, title=True, counts=False, options=("columns", "alpha"),
)
MAGIC = "GIMP Palette"
_HEADER = re.compile(r"^([A-Za-z][A-Za-z ]*):(.*)$")
# GIMP and Aseprite give unnamed swatches this name; it is no name.
_NO_NAME = "Untitled"


def _error(problem: str) -> PaletteFormatError:
    return PaletteFormatError(problem, format=NAME)


def loads(data: bytes) -> LoadedPalette:
    text, notes = decode_text(data, NAME)
    rows = lines(text)
    if not rows[0].startswith(MAGIC):
        raise _error("missing the 'GIMP Palette' first line")
    b = PaletteBuilder(NAME)
    for n in notes:
        b.note(n)
    title = None
    channels = 3
    in_header = True
    for lineno, row in enumerate(rows[1:], start=2):
        s = row.strip()
        if not s or s.startswith("#"):
            continue
        if in_header:
            m = _HEADER.match(s)
            if m:
                key, value = m[1].strip().lower(), m[2].strip()
                if key == "name":
                    title = value or None
                elif key == "columns":
                    if not (value.isascii() and value.isdigit() and len(value) <= 3
                            and int(value) <= 256):
                        b.note(f"line {lineno}: Columns value {value!r} ignored (expected 0..256)")
                elif key == "channels":
                    if value.upper() not in ("RGB", "RGBA"):
                        raise _error(f"line {lineno}: unsupported 'Channels: {value}' "
                                     "(expected RGB or RGBA)")
                    channels = len(value)
                else:
                    b.note(f"line {lineno}: unknown header {m[1].strip()!r} ignored")
                continue
            in_header = False
        parts = s.split(None, channels)
        if len(parts) < channels:
            want = "R G B A" if channels == 4 else "R G B"
            raise _error(f"line {lineno}: expected {want} values, got {s!r}")
        values = [parse_byte(p) for p in parts[:channels]]
        for p, v in zip(parts[:channels], values, strict=True):
            if v is None:
                raise _error(f"line {lineno}: {p!r} is not a value 0..255")
        name = parts[channels].strip() if len(parts) > channels else None
        if name == _NO_NAME:
            name = None
        b.add8(*values[:3], alpha=values[3] if channels == 4 else 255, name=name)
    return b.build(title=title)


def encode(palette: Palette, *, name: str | None = None, columns: int = 0,
           alpha: bool | None = None) -> tuple[bytes, list[str]]:
    """GPL bytes and notes.

    Parameters
    ----------
    name : str, optional
        The palette title (``Name:``); default the palette's own title, else
        ``"Palette"``.
    columns : int
        ``Columns:`` value, 0..256 (0 lets GIMP flow the swatches).
    alpha : bool or None
        Write the RGBA extension. ``None`` (default): only if some color is
        not opaque. ``False`` drops alpha (reported in the notes).
    """
    if not isinstance(columns, int) or not 0 <= columns <= 256:
        raise ValueError(f"columns must be an integer 0..256, got {columns!r}")
    notes: list[str] = []
    given = name if name is not None else getattr(palette, "title", None)
    title = one_line(given or "") or "Palette"
    if given and title != given:
        notes.append(f"the palette name was changed to {title!r} to fit on one line")
    rgba = alpha if alpha is not None else palette.alpha is not None
    if rgba:
        notes.append("written with the RGBA 'Channels:' extension (Aseprite); GIMP does not "
                     "read alpha and shows that header line as an extra swatch")
    elif palette.alpha is not None:
        n = int((palette.alpha != 255).sum())
        notes.append(f"{n} color(s) that are not opaque were written opaque (alpha=False)")
    out = [MAGIC, f"Name: {title}", f"Columns: {columns}"]
    if rgba:
        out.append("Channels: RGBA")
    out.append("#")
    names = palette.names or (None,) * len(palette)
    changed = 0
    for (r, g, b, a), label, h in zip(palette.rgba.tolist(), names, palette.hex, strict=True):
        text = h
        if label:
            text = one_line(label)
            if not text or text == _NO_NAME:
                text = h
            changed += text != label
        values = f"{r:3d} {g:3d} {b:3d}" + (f" {a:3d}" if rgba else "")
        out.append(f"{values}\t{text}")
    if changed:
        notes.append(f"{changed} color name(s) could not be kept as given (GPL names are one "
                     "line without surrounding spaces, and 'Untitled' means no name)")
    return ("\n".join(out) + "\n").encode("utf-8"), notes


def dumps(palette: Palette, **options) -> bytes:
    """GPL bytes for ``palette`` (see :func:`encode` for the options)."""
    return encode(palette, **options)[0]
