"""Palette App JSON palettes (``.json``): everything a palette holds, for people and scripts.

Schema (version 1)::

    {
      "format": "palette-app/palette",
      "version": 1,
      "name": "Sunset",                  # palette title, string or null
      "colors": [
        {
          "hex": "#ff8000",              # "#rrggbb", "#rrggbbaa" when not opaque
          "rgb": [255, 128, 0],          # sRGB, integers 0..255
          "name": "Orange",              # string or null
          "share": 0.25,                 # fraction of the counted pixels, or null
          "count": 1234,                 # optional: pixels (written when known)
          "alpha": 128,                  # optional: 0..255 (written when not opaque)
          "locked": true                 # optional: written when true
        }
      ]
    }

The reader is lenient where it costs nothing: ``format`` and ``version`` may
be missing, a color may be just a hex string, the top level may be just the
list of colors, and unknown keys are ignored. It is strict where values
disagree (``hex`` against ``rgb``), are of the wrong type, or out of range.
"""
from __future__ import annotations

import json
import math

import numpy as np

from palette_app.core.palette import Palette, parse_hex
from palette_app.io.palettes.errors import PaletteFormatError
from palette_app.io.palettes.loaded import LoadedPalette, PaletteBuilder
from palette_app.io.palettes.spec import PaletteFormat

NAME = "json"
FORMAT_ID = "palette-app/palette"
VERSION = 1
FORMAT = PaletteFormat(
    name=NAME, extensions=(".json",), can_read=True, can_write=True,
    description="Palette App JSON: colors, names, shares, locks",
    alpha="full", names=True, title=True, counts=True, options=("indent",),
)
# Shares without counts become counts out of this many pixels.
SHARE_SCALE = 1_000_000


def _error(problem: str) -> PaletteFormatError:
    return PaletteFormatError(problem, format=NAME)


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def loads(data: bytes) -> LoadedPalette:
    try:
        doc = json.loads(bytes(data).decode("utf-8-sig"))
    except UnicodeDecodeError as e:
        raise _error(f"the file is not UTF-8 text ({e.reason} at byte {e.start})") from None
    except json.JSONDecodeError as e:
        raise _error(f"not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}") from None
    except RecursionError:
        raise _error("not a palette: the JSON is nested too deeply") from None
    except ValueError as e:  # e.g. an integer with more digits than Python converts
        raise _error(f"not valid JSON: {e}") from None
    title = None
    if isinstance(doc, dict):
        fmt = doc.get("format", FORMAT_ID)
        if fmt != FORMAT_ID:
            raise _error(f"\"format\" is {fmt!r}, not {FORMAT_ID!r}")
        version = doc.get("version", VERSION)
        if not _is_int(version) or version < 1:
            raise _error(f"\"version\" must be a positive integer, got {version!r}")
        if version > VERSION:
            raise _error(f"version {version} was written by a newer Palette App "
                         f"(this one reads version {VERSION})")
        title = doc.get("name")
        if title is not None and not isinstance(title, str):
            raise _error("\"name\" must be a string or null")
        if "colors" not in doc:
            raise _error("no \"colors\" list")
        colors = doc["colors"]
    else:
        colors = doc
    if not isinstance(colors, list):
        raise _error("\"colors\" must be a list")
    b = PaletteBuilder(NAME)
    counts, shares, locked = [], [], []
    for i, c in enumerate(colors, start=1):
        if isinstance(c, str):
            c = {"hex": c}
        if not isinstance(c, dict):
            raise _error(f"color {i} must be an object or a hex string")
        r, g, bl, a = _color(c, i)
        name = c.get("name")
        if name is not None and not isinstance(name, str):
            raise _error(f"color {i}: \"name\" must be a string or null")
        count = c.get("count")
        if count is not None and (not _is_int(count) or count < 0):
            raise _error(f"color {i}: \"count\" must be a whole number >= 0")
        share = c.get("share")
        if share is not None and (not isinstance(share, (int, float)) or isinstance(share, bool)
                                  or not math.isfinite(share) or not 0 <= share <= 1):
            raise _error(f"color {i}: \"share\" must be a number 0..1 or null")
        lock = c.get("locked", False)
        if not isinstance(lock, bool):
            raise _error(f"color {i}: \"locked\" must be true or false")
        b.add8(r, g, bl, alpha=a, name=name)
        counts.append(count)
        shares.append(share)
        locked.append(lock)
    k = len(colors)
    counts_arr = None
    if k and all(c is not None for c in counts):
        if sum(counts) < 2 ** 62:
            counts_arr = np.array(counts, dtype=np.int64)
        else:
            b.note("pixel counts too large to keep were ignored")
    elif any(c is not None for c in counts):
        b.note("only some colors have a \"count\"; the counts were ignored")
    elif k and all(s is not None for s in shares):
        counts_arr = np.rint(np.array(shares) * SHARE_SCALE).astype(np.int64)
        b.note(f"the file gives shares without pixel counts; they were kept as counts out of "
               f"{SHARE_SCALE:,} pixels")
    elif any(s is not None for s in shares):
        b.note("only some colors have a \"share\"; the shares were ignored")
    return b.build(title=title, counts=counts_arr, locked=np.array(locked, bool))


def _color(c: dict, i: int) -> tuple[int, int, int, int]:
    rgba = None
    if "hex" in c:
        h = c["hex"]
        if not isinstance(h, str):
            raise _error(f"color {i}: \"hex\" must be a string")
        try:
            rgba = parse_hex(h)
        except ValueError:
            raise _error(f"color {i}: {h[:20]!r} is not a hex color (#rrggbb or #rrggbbaa)"
                         ) from None
    if "rgb" in c:
        v = c["rgb"]
        if not (isinstance(v, list) and len(v) == 3 and all(_is_int(x) and 0 <= x <= 255
                                                             for x in v)):
            raise _error(f"color {i}: \"rgb\" must be three integers 0..255")
        if rgba is not None and tuple(v) != rgba[:3]:
            raise _error(f"color {i}: \"hex\" {c['hex']} and \"rgb\" {v} disagree")
        rgba = (v[0], v[1], v[2], 255 if rgba is None else rgba[3])
    if rgba is None:
        raise _error(f"color {i} has neither \"hex\" nor \"rgb\"")
    if "alpha" in c:
        a = c["alpha"]
        if not (_is_int(a) and 0 <= a <= 255):
            raise _error(f"color {i}: \"alpha\" must be an integer 0..255")
        hex_alpha = "hex" in c and len(c["hex"].strip().lstrip("#")) == 8
        if hex_alpha and a != rgba[3]:
            raise _error(f"color {i}: \"hex\" {c['hex']} and \"alpha\" {a} disagree")
        rgba = rgba[:3] + (a,)
    return rgba


def encode(palette: Palette, *, name: str | None = None,
           indent: int | None = 2) -> tuple[bytes, list[str]]:
    """JSON bytes (UTF-8, a final newline) following the schema above."""
    title = name if name is not None else getattr(palette, "title", None)
    shares = palette.shares
    names = palette.names or (None,) * len(palette)
    colors = []
    for i, h in enumerate(palette.hex):
        r, g, b, a = (int(v) for v in palette.rgba[i])
        entry = {"hex": h, "rgb": [r, g, b], "name": names[i],
                 "share": None if shares is None else round(float(shares[i]), 6)}
        if palette.counts is not None:
            entry["count"] = int(palette.counts[i])
        if a != 255:
            entry["alpha"] = a
        if palette.locked[i]:
            entry["locked"] = True
        colors.append(entry)
    doc = {"format": FORMAT_ID, "version": VERSION, "name": title, "colors": colors}
    return (json.dumps(doc, indent=indent, ensure_ascii=False) + "\n").encode("utf-8"), []


def dumps(palette: Palette, **options) -> bytes:
    return encode(palette, **options)[0]
