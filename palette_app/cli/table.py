"""Readable palette tables for a terminal."""
from __future__ import annotations

import os
import sys
from typing import TextIO

from palette_app.core import Palette


def use_color(stream: TextIO) -> bool:
    """24-bit color swatches only on a terminal, and never when NO_COLOR is set."""
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and os.environ.get("TERM") != "dumb"


def palette_table(palette: Palette, *, color: bool = False) -> str:
    """One row per color: index, swatch, hex, share and pixel count."""
    shares = palette.shares
    rows = []
    header = f"{'#':>3}  {'swatch':<6}  {'hex':<9}  {'share':>6}  {'pixels':>11}"
    rows.append(header)
    for i, h in enumerate(palette.hex):
        r, g, b = (int(v) for v in palette.colors[i])
        if color:
            swatch = f"\x1b[48;2;{r};{g};{b}m      \x1b[0m"
        else:
            swatch = " " * 6
        share = "" if shares is None else f"{100 * shares[i]:5.1f}%"
        count = "" if palette.counts is None else f"{int(palette.counts[i]):,}"
        name = ""
        if palette.names is not None and palette.names[i]:
            name = f"  {palette.names[i]}"
        lock = "  locked" if palette.locked[i] else ""
        rows.append(f"{i + 1:>3}  {swatch}  {h:<9}  {share:>6}  {count:>11}{name}{lock}")
    return "\n".join(rows)


def print_palette(palette: Palette, stream: TextIO | None = None) -> None:
    stream = stream or sys.stdout
    stream.write(palette_table(palette, color=use_color(stream)) + "\n")
