"""Edits of a fixed palette, as pure functions: each returns a new :class:`Palette`.

The document (:mod:`palette_app.gui.document`) keeps the palette the user
edits and records every change on its undo stack as a before/after
:class:`PaletteState`; these functions only compute the "after". They never
touch Qt, so they are tested on their own.

A fixed palette carries colors, alpha and names, and nothing that belongs to
one image: pixel counts and locks are dropped (the preview's remap counts the
pixels again; locks live in the document).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from palette_app.core import Palette
from palette_app.core.palette import parse_hex

__all__ = [
    "MAX_COLORS",
    "PaletteState",
    "delete_entry",
    "editable",
    "hex6",
    "insert_color",
    "move_entry",
    "normalize_hex",
    "rename_entry",
    "set_entry_color",
]

#: The most colors a palette may have (an index image holds 256).
MAX_COLORS = 256


def hex6(hexcode: str) -> str:
    """``"#rrggbb"`` of a ``#rrggbb`` or ``#rrggbbaa`` code, lower case."""
    return hexcode[:7].lower()


def normalize_hex(text: str) -> str:
    """``"#rrggbb"`` for what a user typed (``#abc``, ``ABCDEF``, ``#aabbcc``);
    ValueError with a readable message otherwise. Alpha is not accepted."""
    s = text.strip()
    if len(s.lstrip("#")) == 8:
        raise ValueError(f"{text.strip()!r}: give an opaque color as #rrggbb (no alpha)")
    r, g, b, _ = parse_hex(s)
    return f"#{r:02x}{g:02x}{b:02x}"


@dataclass(frozen=True)
class PaletteState:
    """Everything an undoable edit changes.

    palette : the fixed palette, or None while k-means picks the colors.
    source : where the fixed palette came from, for the user ("brand.gpl",
        "edited", "brand.gpl, edited"); "" while clustering.
    title : the palette's own name (a palette file's title), kept through export.
    locked : the locked colors, ``"#rrggbb"``, in the order they were locked.
    """

    palette: Palette | None = None
    source: str = ""
    title: str | None = None
    locked: tuple[str, ...] = ()

    __hash__ = None  # type: ignore[assignment]  # holds a Palette


def editable(palette: Palette) -> Palette:
    """``palette`` as a fixed palette: colors, alpha and names, without counts,
    locks or fully transparent entries (a remap adds the transparent entry an
    image needs by itself)."""
    keep = np.ones(len(palette), bool) if palette.alpha is None else palette.alpha != 0
    idx = np.flatnonzero(keep)
    return Palette(palette.colors[idx],
                   alpha=None if palette.alpha is None else palette.alpha[idx],
                   names=None if palette.names is None else tuple(palette.names[i] for i in idx))


def _check_index(palette: Palette, index: int) -> int:
    index = int(index)
    if not 0 <= index < len(palette):
        raise IndexError(f"palette entry {index} does not exist (the palette has {len(palette)})")
    return index


def _names(palette: Palette) -> list[str | None]:
    return list(palette.names) if palette.names is not None else [None] * len(palette)


def _alpha(palette: Palette) -> np.ndarray:
    return palette.rgba[:, 3].copy()


def _build(colors, alpha, names) -> Palette:
    colors = np.asarray(colors, np.uint8).reshape(-1, 3)
    return Palette(colors, alpha=np.asarray(alpha, np.uint8).reshape(-1),
                   names=tuple(names) if any(n is not None for n in names) else None)


def delete_entry(palette: Palette, index: int) -> Palette:
    """Without entry ``index``; a palette keeps at least one color."""
    index = _check_index(palette, index)
    if len(palette) <= 1:
        raise ValueError("a palette needs at least one color")
    keep = [i for i in range(len(palette)) if i != index]
    names = _names(palette)
    return _build(palette.colors[keep], _alpha(palette)[keep], [names[i] for i in keep])


def move_entry(palette: Palette, index: int, to: int) -> Palette:
    """Entry ``index`` moved to position ``to`` (0 … k-1; the others keep their order)."""
    index = _check_index(palette, index)
    to = min(max(int(to), 0), len(palette) - 1)
    order = [i for i in range(len(palette)) if i != index]
    order.insert(to, index)
    names = _names(palette)
    return _build(palette.colors[order], _alpha(palette)[order], [names[i] for i in order])


def rename_entry(palette: Palette, index: int, name: str | None) -> Palette:
    """Entry ``index`` named ``name`` (blank or None: no name)."""
    index = _check_index(palette, index)
    names = _names(palette)
    names[index] = (name or "").strip() or None
    return _build(palette.colors, _alpha(palette), names)


def insert_color(palette: Palette, hexcode: str, at: int | None = None,
                 name: str | None = None) -> Palette:
    """``hexcode`` (``#rrggbb``) added at position ``at`` (default: the end)."""
    if len(palette) >= MAX_COLORS:
        raise ValueError(f"a palette holds at most {MAX_COLORS} colors")
    r, g, b, a = parse_hex(hexcode)
    at = len(palette) if at is None else min(max(int(at), 0), len(palette))
    colors = np.insert(np.asarray(palette.colors).reshape(-1, 3), at, (r, g, b), axis=0)
    alpha = np.insert(_alpha(palette), at, a)
    names = _names(palette)
    names.insert(at, (name or "").strip() or None)
    return _build(colors, alpha, names)


def set_entry_color(palette: Palette, index: int, hexcode: str) -> Palette:
    """Entry ``index`` with the color ``hexcode`` (its name and place kept)."""
    index = _check_index(palette, index)
    r, g, b, a = parse_hex(hexcode)
    colors = np.array(palette.colors)
    colors[index] = (r, g, b)
    alpha = _alpha(palette)
    alpha[index] = a
    return _build(colors, alpha, _names(palette))
