"""CSS custom properties (``.css``, write only).

::

    /* Sunset: 3 colors (Palette App) */
    :root {
      --sunset-orange: #ff8000; /* Orange, 52.0% */
      --sunset-2: #1a2b3c; /* 48.0% */
    }

Property names are ``--{prefix}-{key}``: the key is the color's name made
into an identifier, else its position. ``selector="@theme"`` with
``prefix="color"`` gives the theme block Tailwind CSS 4 reads.
"""
from __future__ import annotations

from palette_app.core.palette import Palette
from palette_app.io.palettes._slug import color_keys, comment_safe, slug
from palette_app.io.palettes.errors import PaletteFormatError
from palette_app.io.palettes.spec import PaletteFormat

NAME = "css"
FORMAT = PaletteFormat(
    name=NAME, extensions=(".css",), can_read=False, can_write=True,
    description="CSS custom properties: web pages, Tailwind CSS 4 (@theme)",
    alpha="full", names=True, title=True, counts=False, options=("prefix", "selector"),
)


def encode(palette: Palette, *, name: str | None = None, prefix: str | None = None,
           selector: str = ":root") -> tuple[bytes, list[str]]:
    """CSS bytes.

    Parameters
    ----------
    name : str, optional
        Palette title for the header comment (default: the palette's own).
    prefix : str, optional
        Property prefix; default the title as an identifier, else ``"palette"``.
    selector : str
        The rule's selector, ``":root"`` by default.
    """
    title = name if name is not None else getattr(palette, "title", None)
    pre = slug(prefix) if prefix is not None else (slug(title) or "palette")
    if not pre:
        raise PaletteFormatError(f"prefix {prefix!r} has no letters or digits", format=NAME)
    if not selector.strip() or any(c in selector for c in "{};"):
        raise ValueError(f"selector {selector!r} is not a plain CSS selector")
    shares = palette.shares
    names = palette.names or (None,) * len(palette)
    head = f"{comment_safe(title)}: " if title else ""
    out = [f"/* {head}{len(palette)} colors (Palette App) */", f"{selector.strip()} {{"]
    for i, (key, h) in enumerate(
            zip(color_keys(palette.names, len(palette)), palette.hex, strict=True)):
        note = [comment_safe(names[i])] if names[i] else []
        if shares is not None:
            note.append(f"{100 * shares[i]:.1f}%")
        tail = f" /* {', '.join(note)} */" if note else ""
        out.append(f"  --{pre}-{key}: {h};{tail}")
    out.append("}")
    return ("\n".join(out) + "\n").encode("utf-8"), []


def dumps(palette: Palette, **options) -> bytes:
    return encode(palette, **options)[0]
