"""Identifiers made from color and palette names, for CSS properties and Tailwind keys."""
from __future__ import annotations

import re
import unicodedata


def slug(text: str | None) -> str:
    """``"Café Rouge!"`` → ``"cafe-rouge"``: ASCII letters, digits and single dashes."""
    if not text:
        return ""
    t = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^A-Za-z0-9]+", "-", t).strip("-").lower()


def color_keys(names, k: int) -> list[str]:
    """One unique key per color: the slug of its name, else its 1-based position."""
    names = names or (None,) * k
    seen: set[str] = set()
    keys = []
    for i in range(k):
        base = slug(names[i]) or str(i + 1)
        key, n = base, 2
        while key in seen:
            key, n = f"{base}-{n}", n + 1
        seen.add(key)
        keys.append(key)
    return keys


def comment_safe(text: str) -> str:
    """``text`` that cannot close a ``/* */`` comment or break a ``//`` line."""
    return " ".join(text.replace("*/", "* /").split())
