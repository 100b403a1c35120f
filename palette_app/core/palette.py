"""The :class:`Palette` type: sRGB colors with optional alpha, names, counts and locks."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

SORT_KEYS = ("share", "hue", "lum")


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.setflags(write=False)
    return a


def parse_hex(text: str) -> tuple[int, int, int, int]:
    """Parse ``#rgb``, ``#rrggbb`` or ``#rrggbbaa`` (the ``#`` optional) into RGBA."""
    s = text.strip()
    if s.startswith("#"):
        s = s[1:]
    if len(s) == 3:
        s = "".join(c * 2 for c in s)
    if len(s) not in (6, 8) or any(c not in "0123456789abcdefABCDEF" for c in s):
        raise ValueError(f"{text!r} is not a hex color (expected #rrggbb or #rrggbbaa)")
    v = [int(s[i:i + 2], 16) for i in range(0, len(s), 2)]
    if len(v) == 3:
        v.append(255)
    return v[0], v[1], v[2], v[3]


def relative_luminance(rgb: np.ndarray) -> np.ndarray:
    """WCAG relative luminance of (k, 3) uint8 sRGB colors, in [0, 1]."""
    c = np.asarray(rgb, dtype=np.float64) / 255.0
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return lin @ np.array([0.2126, 0.7152, 0.0722])


def hsv_hue(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hue in degrees [0, 360) and HSV saturation of (k, 3) uint8 colors."""
    c = np.asarray(rgb, dtype=np.float64) / 255.0
    mx = c.max(axis=1)
    mn = c.min(axis=1)
    d = mx - mn
    r, g, b = c[:, 0], c[:, 1], c[:, 2]
    safe = np.where(d == 0, 1.0, d)
    h = np.where(mx == r, ((g - b) / safe) % 6.0,
                 np.where(mx == g, (b - r) / safe + 2.0, (r - g) / safe + 4.0))
    h = np.where(d == 0, 0.0, h * 60.0)
    s = np.where(mx == 0, 0.0, d / np.where(mx == 0, 1.0, mx))
    return h, s


@dataclass(frozen=True, eq=False)
class Palette:
    """An ordered list of sRGB colors.

    Attributes
    ----------
    colors : (k, 3) uint8
        sRGB colors.
    alpha : (k,) uint8 or None
        Opacity per color; ``None`` means every color is opaque.
    counts : (k,) int64 or None
        Pixels per color in the image the palette came from.
    names : tuple of (str or None), or None
        Optional names (from palette files or the user).
    locked : (k,) bool
        Colors the user pinned; quantization keeps them unchanged.
    """

    colors: np.ndarray
    alpha: np.ndarray | None = None
    counts: np.ndarray | None = None
    names: tuple[str | None, ...] | None = None
    locked: np.ndarray = field(default=None)  # type: ignore[assignment]

    def __post_init__(self):
        colors = np.asarray(self.colors)
        if colors.ndim != 2 or colors.shape[1] not in (3, 4):
            raise ValueError(f"palette colors must have shape (k, 3) or (k, 4), got {colors.shape}")
        if colors.dtype != np.uint8:
            if not np.issubdtype(colors.dtype, np.integer) or colors.size and (
                colors.min() < 0 or colors.max() > 255
            ):
                raise ValueError("palette colors must be integers in 0..255")
            colors = colors.astype(np.uint8)
        alpha = self.alpha
        if colors.shape[1] == 4:
            if alpha is not None:
                raise ValueError("give alpha either as a 4th column or as `alpha`, not both")
            alpha = colors[:, 3]
            colors = colors[:, :3]
        k = colors.shape[0]
        if alpha is not None:
            alpha = np.asarray(alpha)
            if alpha.shape != (k,):
                raise ValueError(f"alpha must have shape ({k},), got {alpha.shape}")
            alpha = alpha.astype(np.uint8)
            if np.all(alpha == 255):
                alpha = None
        counts = self.counts
        if counts is not None:
            counts = np.asarray(counts)
            if counts.shape != (k,):
                raise ValueError(f"counts must have shape ({k},), got {counts.shape}")
            if counts.size and counts.min() < 0:
                raise ValueError("counts must not be negative")
            counts = counts.astype(np.int64)
        names = self.names
        if names is not None:
            names = tuple(None if n is None else str(n) for n in names)
            if len(names) != k:
                raise ValueError(f"names must have {k} entries, got {len(names)}")
            if all(n is None for n in names):
                names = None
        locked = self.locked
        locked = np.zeros(k, bool) if locked is None else np.asarray(locked, dtype=bool)
        if locked.shape != (k,):
            raise ValueError(f"locked must have shape ({k},), got {locked.shape}")
        object.__setattr__(self, "colors", _readonly(colors))
        object.__setattr__(self, "alpha", None if alpha is None else _readonly(alpha))
        object.__setattr__(self, "counts", None if counts is None else _readonly(counts))
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "locked", _readonly(locked))

    # -- construction -------------------------------------------------------
    @classmethod
    def from_hex(cls, hexes: Iterable[str], names: Sequence[str | None] | None = None) -> "Palette":
        """Build a palette from ``#rrggbb`` / ``#rrggbbaa`` strings."""
        rgba = np.array([parse_hex(h) for h in hexes], dtype=np.uint8).reshape(-1, 4)
        return cls(rgba[:, :3], alpha=rgba[:, 3], names=None if names is None else tuple(names))

    # -- views ----------------------------------------------------------------
    def __len__(self) -> int:
        return int(self.colors.shape[0])

    @property
    def rgba(self) -> np.ndarray:
        """(k, 4) uint8 colors with alpha (255 where opaque)."""
        a = np.full(len(self), 255, np.uint8) if self.alpha is None else self.alpha
        return np.column_stack([self.colors, a]).astype(np.uint8)

    @property
    def hex(self) -> list[str]:
        """``#rrggbb`` per color (``#rrggbbaa`` for colors that are not opaque)."""
        out = []
        for i, (r, g, b) in enumerate(self.colors.tolist()):
            h = f"#{r:02x}{g:02x}{b:02x}"
            if self.alpha is not None and self.alpha[i] != 255:
                h += f"{int(self.alpha[i]):02x}"
            out.append(h)
        return out

    @property
    def shares(self) -> np.ndarray | None:
        """Fraction of the counted pixels per color (sums to 1), or ``None``."""
        if self.counts is None:
            return None
        total = int(self.counts.sum())
        if total == 0:
            return np.zeros(len(self))
        return self.counts / total

    @property
    def luminance(self) -> np.ndarray:
        return relative_luminance(self.colors)

    # -- sorting ------------------------------------------------------------
    def sort_order(self, by: str = "share") -> np.ndarray:
        """The permutation that sorts the palette ``by`` 'share', 'hue' or 'lum'.

        share: most used first (needs counts; ties by luminance). lum: dark to
        light. hue: grays first (dark to light), then colors around the hue
        circle from red, each hue bucket dark to light. Stable and deterministic.
        """
        if by not in SORT_KEYS:
            raise ValueError(f"sort key must be one of {SORT_KEYS}, got {by!r}")
        lum = self.luminance
        if by == "lum":
            return np.lexsort((np.arange(len(self)), lum))
        if by == "share":
            if self.counts is None:
                raise ValueError("this palette has no pixel counts to sort by share")
            return np.lexsort((np.arange(len(self)), lum, -self.counts))
        h, s = hsv_hue(self.colors)
        gray = s < 0.08
        # Quantise hue so near-equal hues sort by lightness, like a swatch book.
        hue_bucket = np.where(gray, -1, np.floor(h / 10.0))
        return np.lexsort((np.arange(len(self)), lum, hue_bucket))

    def take(self, order: Sequence[int] | np.ndarray) -> "Palette":
        """A new palette with the entries in ``order``."""
        order = np.asarray(order, dtype=np.intp)
        return Palette(
            self.colors[order],
            alpha=None if self.alpha is None else self.alpha[order],
            counts=None if self.counts is None else self.counts[order],
            names=None if self.names is None else tuple(self.names[i] for i in order),
            locked=self.locked[order],
        )

    def sorted(self, by: str = "share") -> "Palette":
        return self.take(self.sort_order(by))

    def with_locked(self, locked: Sequence[bool] | np.ndarray) -> "Palette":
        return Palette(self.colors, alpha=self.alpha, counts=self.counts,
                       names=self.names, locked=locked)

    def with_names(self, names: Sequence[str | None] | None) -> "Palette":
        return Palette(self.colors, alpha=self.alpha, counts=self.counts,
                       names=None if names is None else tuple(names), locked=self.locked)

    # -- comparison and display ------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Palette):
            return NotImplemented
        def same(a, b):
            if a is None or b is None:
                return a is None and b is None
            return a.shape == b.shape and bool(np.array_equal(a, b))
        return (
            same(self.colors, other.colors)
            and same(self.alpha, other.alpha)
            and same(self.counts, other.counts)
            and self.names == other.names
            and same(self.locked, other.locked)
        )

    __hash__ = None  # type: ignore[assignment]  # mutable-looking arrays inside

    def __repr__(self) -> str:
        parts = []
        shares = self.shares
        for i, h in enumerate(self.hex[:8]):
            p = h
            if self.names is not None and self.names[i]:
                p += f" {self.names[i]!r}"
            if shares is not None:
                p += f" {100 * shares[i]:.1f}%"
            if self.locked[i]:
                p += " locked"
            parts.append(p)
        more = f", … {len(self) - 8} more" if len(self) > 8 else ""
        return f"Palette({len(self)} colors: {', '.join(parts)}{more})"
