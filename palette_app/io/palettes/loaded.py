""":class:`LoadedPalette`, the palette a file reader returns, and the builder readers share."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from palette_app.core.palette import Palette
from palette_app.io.palettes._convert import to_uint8
from palette_app.io.palettes.errors import PaletteFormatError

SWATCH_TYPES = ("global", "spot", "process")


@dataclass(frozen=True, eq=False, repr=False)
class LoadedPalette(Palette):
    """A :class:`~palette_app.core.Palette` read from a file, with what the file said about it.

    Equality is the palette's (colors, alpha, counts, names, locks); the extra
    attributes below describe the file and take no part in it. Methods that
    make a new palette (``take``, ``sorted``, ...) return a plain ``Palette``.

    Attributes
    ----------
    title : str or None
        The palette's own name (GPL ``Name:``, JSON ``name``), if the file has one.
    format : str or None
        Registry name of the format it was read from.
    notes : tuple of str
        What could not be represented exactly, one sentence each: colors
        converted from CMYK without a profile, Lab colors outside sRGB that
        were clipped, entries in color books that were skipped, ... Empty when
        the file was read exactly.
    groups : tuple of (str or None), or None
        ASE group name per color (``None`` outside any group).
    swatch_types : tuple of str, or None
        ASE swatch type per color: ``"global"``, ``"spot"`` or ``"process"``.
    """

    title: str | None = None
    format: str | None = None
    notes: tuple[str, ...] = ()
    groups: tuple[str | None, ...] | None = None
    swatch_types: tuple[str, ...] | None = None

    def __post_init__(self):
        super().__post_init__()
        k = len(self)
        object.__setattr__(self, "notes", tuple(str(n) for n in self.notes))
        if self.groups is not None:
            groups = tuple(None if g is None else str(g) for g in self.groups)
            if len(groups) != k:
                raise ValueError(f"groups must have {k} entries, got {len(groups)}")
            object.__setattr__(self, "groups", None if all(g is None for g in groups) else groups)
        if self.swatch_types is not None:
            types = tuple(self.swatch_types)
            if len(types) != k or any(t not in SWATCH_TYPES for t in types):
                raise ValueError(f"swatch_types must be {k} values from {SWATCH_TYPES}")
            object.__setattr__(self, "swatch_types", types)

    def __repr__(self) -> str:
        inner = super().__repr__()[len("Palette("):-1]
        head = f"{self.title!r}, " if self.title else ""
        src = f", from {self.format}" if self.format else ""
        notes = f", {len(self.notes)} note(s)" if self.notes else ""
        return f"LoadedPalette({head}{inner}{src}{notes})"


def is_hex_echo(name: str, rgb: tuple[int, int, int], alpha: int) -> bool:
    """True when ``name`` only repeats the color's own hex code (``#1a2b3c``, ``1A2B3C``...).

    Writers name unnamed colors by their hex code, because several applications
    need a name; reading such a name back as "no name" keeps round trips exact.
    """
    s = name.strip().lower()
    if s.startswith("#"):
        s = s[1:]
    r, g, b = rgb
    h6 = f"{r:02x}{g:02x}{b:02x}"
    return s == h6 or s == f"{h6}{alpha:02x}"


class PaletteBuilder:
    """Collects entries while a reader walks a file, then makes a :class:`LoadedPalette`.

    Colors arrive as floats in 0..1 sRGB (already converted from the file's
    color space); :meth:`build` rounds them to uint8 and reports, per color
    space, entries that had to be clipped into the sRGB gamut.
    """

    def __init__(self, fmt: str):
        self.fmt = fmt
        self._rgb: list[tuple[float, float, float]] = []
        self._alpha: list[int] = []
        self._names: list[str | None] = []
        self._spaces: list[str] = []
        self._groups: list[str | None] = []
        self._types: list[str] = []
        self.notes: list[str] = []

    def __len__(self) -> int:
        return len(self._rgb)

    def add(self, rgb01, *, name: str | None = None, alpha: int = 255, space: str = "RGB",
            group: str | None = None, swatch_type: str = "process") -> None:
        """Add one color; ``rgb01`` is three floats, 0..1 sRGB (may lie outside: clipped)."""
        rgb = tuple(float(v) for v in rgb01)
        if not all(math.isfinite(v) for v in rgb):
            raise PaletteFormatError(f"color #{len(self._rgb) + 1} has a value that is not a "
                                     "finite number", format=self.fmt)
        self._rgb.append(rgb)
        self._alpha.append(int(alpha))
        self._names.append(name if name else None)
        self._spaces.append(space)
        self._groups.append(group)
        self._types.append(swatch_type)

    def add8(self, r: int, g: int, b: int, alpha: int = 255, name: str | None = None) -> None:
        """Add one color given as 0..255 integers (exact)."""
        self.add((r / 255.0, g / 255.0, b / 255.0), name=name, alpha=alpha)

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def build(self, *, title: str | None = None, counts=None, locked=None,
              keep_groups: bool = False, keep_types: bool = False) -> LoadedPalette:
        k = len(self._rgb)
        rgb = np.array(self._rgb, dtype=np.float64).reshape(k, 3)
        colors, clipped = to_uint8(rgb)
        notes = list(self.notes)
        for space in dict.fromkeys(self._spaces):
            idx = [i for i in range(k) if self._spaces[i] == space and clipped[i]]
            if idx:
                notes.append(_clip_note(space, idx, self._names))
        if "CMYK" in self._spaces:
            n = self._spaces.count("CMYK")
            notes.append(
                f"{count_noun(n, 'CMYK color')} converted to sRGB by the plain formula, without a "
                "printer profile: the screen colors approximate the printed ones"
            )
        names = []
        for i in range(k):
            n = self._names[i]
            if n is not None and is_hex_echo(n, tuple(int(v) for v in colors[i]), self._alpha[i]):
                n = None
            names.append(n)
        return LoadedPalette(
            colors,
            alpha=np.array(self._alpha, dtype=np.uint8).reshape(k),
            counts=counts,
            names=tuple(names),
            locked=locked,
            title=title or None,
            format=self.fmt,
            notes=tuple(notes),
            groups=tuple(self._groups) if keep_groups else None,
            swatch_types=tuple(self._types) if keep_types else None,
        )


def count_noun(n: int, noun: str, plural: str | None = None) -> str:
    """``"1 color"``, ``"3 colors"``."""
    return f"1 {noun}" if n == 1 else f"{n} {plural or noun + 's'}"


def _clip_note(space: str, idx: list[int], names: list[str | None]) -> str:
    shown = [f"#{i + 1}" + (f" {names[i]!r}" if names[i] else "") for i in idx[:5]]
    more = f" and {len(idx) - 5} more" if len(idx) > 5 else ""
    what = {"RGB": "RGB values outside 0..1", "Lab": "Lab colors outside the sRGB gamut",
            "HSB": "HSB values outside their range", "Gray": "gray values outside 0..100%",
            "CMYK": "CMYK values outside 0..100%"}.get(space, f"{space} colors outside sRGB")
    return f"{what} were clipped to the nearest sRGB color: {', '.join(shown)}{more}"
