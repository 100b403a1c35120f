"""A Tailwind CSS color object (``.js``, write only), for ``theme.extend.colors``.

::

    // Tailwind CSS colors: Sunset (Palette App)
    // tailwind.config.js: theme: { extend: { colors: require(<this file>) } }
    module.exports = {
      "sunset": {
        "orange": "#ff8000",
        "2": "#1a2b3c"
      }
    };

Keys are the colors' names made into identifiers, else their positions;
classes then read ``bg-sunset-orange``. ``module="esm"`` writes
``export default`` instead of ``module.exports``.
"""
from __future__ import annotations

import json

from palette_app.core.palette import Palette
from palette_app.io.palettes._slug import color_keys, comment_safe, slug
from palette_app.io.palettes.errors import PaletteFormatError
from palette_app.io.palettes.spec import PaletteFormat

NAME = "tailwind"
FORMAT = PaletteFormat(
    name=NAME, extensions=(".js",), can_read=False, can_write=True,
    description="Tailwind CSS color object: tailwind.config.js (Tailwind 3)",
    alpha="full", names=True, title=True, counts=False, options=("key", "module"),
)


def encode(palette: Palette, *, name: str | None = None, key: str | None = None,
           module: str = "cjs") -> tuple[bytes, list[str]]:
    """JavaScript bytes: ``{ key: { color-key: "#hex", ... } }``.

    ``key`` is the color family name (default: the title as an identifier,
    else ``"palette"``); ``module`` is ``"cjs"`` or ``"esm"``.
    """
    if module not in ("cjs", "esm"):
        raise ValueError(f"module must be 'cjs' or 'esm', got {module!r}")
    title = name if name is not None else getattr(palette, "title", None)
    family = slug(key) if key is not None else (slug(title) or "palette")
    if not family:
        raise PaletteFormatError(f"key {key!r} has no letters or digits", format=NAME)
    colors = dict(zip(color_keys(palette.names, len(palette)), palette.hex, strict=True))
    body = json.dumps({family: colors}, indent=2)
    head = f": {comment_safe(title)}" if title else ""
    lines = [f"// Tailwind CSS colors{head} (Palette App)"]
    if module == "cjs":
        lines += ["// tailwind.config.js: theme: { extend: { colors: require(<this file>) } }",
                  f"module.exports = {body};"]
    else:
        lines += ["// tailwind.config.js: import colors from <this file>; "
                  "theme: { extend: { colors } }",
                  f"export default {body};"]
    return ("\n".join(lines) + "\n").encode("utf-8"), []


def dumps(palette: Palette, **options) -> bytes:
    return encode(palette, **options)[0]
