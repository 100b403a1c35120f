"""Round trips: write → read gives the same colors and names, for every format."""
from __future__ import annotations

import io
import json
import re

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image

from palette_app.core import Palette
from palette_app.io.palettes import (
    PALETTE_FORMATS, encode_palette, read_palette, write_palette,
)

READABLE = sorted(n for n, f in PALETTE_FORMATS.items() if f.can_read)
HEX_LIKE = re.compile(r"#?([0-9a-fA-F]{6}|[0-9a-fA-F]{8})")

# Names as people write them: any characters but controls, line breaks and lone surrogates,
# no surrounding spaces; not "Untitled" (GPL's word for no name) nor a bare hex code (read
# back as no name, by design).
NAMES = (st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1,
                 max_size=12)
         .map(str.strip)
         .filter(lambda s: s and s != "Untitled" and not HEX_LIKE.fullmatch(s)))


@st.composite
def palettes(draw, min_k=0, max_k=20):
    k = draw(st.integers(min_k, max_k))
    colors = draw(arrays(np.uint8, (k, 3)))
    alpha = draw(st.none() | arrays(np.uint8, (k,)))
    names = draw(st.none() | st.lists(st.none() | NAMES, min_size=k, max_size=k))
    counts = draw(st.none() | arrays(np.int64, (k,), elements=st.integers(0, 10 ** 12)))
    locked = draw(arrays(np.bool_, (k,)))
    return Palette(colors, alpha=alpha, counts=counts, names=names, locked=locked)


def _expected_alpha(pal: Palette, fmt: str):
    mode = PALETTE_FORMATS[fmt].alpha
    if mode == "full":
        return pal.alpha
    if mode == "transparent-index" and pal.alpha is not None:
        clear = np.flatnonzero(pal.alpha == 0)
        if clear.size:
            a = np.full(len(pal), 255, np.uint8)
            a[clear[0]] = 0
            return a
    return None


@pytest.mark.parametrize("fmt", READABLE)
@settings(max_examples=40, deadline=None, database=None)
@given(data=st.data())
def test_write_then_read_keeps_colors_names_and_what_the_format_holds(fmt, data):
    spec = PALETTE_FORMATS[fmt]
    min_k = 1 if fmt in ("act", "hex") else 0       # both refuse an empty palette
    pal = data.draw(palettes(min_k=min_k, max_k=min(20, spec.max_colors or 20)))
    title = data.draw(st.none() | NAMES)
    raw, notes = encode_palette(pal, fmt, name=title)
    back = read_palette(raw, format=fmt)
    assert back.format == fmt
    np.testing.assert_array_equal(back.colors, pal.colors)
    expected_alpha = _expected_alpha(pal, fmt)
    if expected_alpha is None or np.all(expected_alpha == 255):
        assert back.alpha is None
    else:
        np.testing.assert_array_equal(back.alpha, expected_alpha)
    assert back.names == (pal.names if spec.names else None)
    if spec.title:
        assert back.title == (title or ("Palette" if fmt == "gpl" else None))
    if spec.counts and len(pal):
        assert back == pal                                   # everything, counts and locks too
    assert back.notes == ()                                  # our own files read exactly
    if pal.alpha is not None and spec.alpha == "none":
        assert any("opaque" in n for n in notes)


RICH = Palette(np.array([[255, 128, 0], [26, 43, 60], [0, 0, 0], [255, 255, 255]], np.uint8),
               counts=[5, 3, 1, 1], names=("Orange", "Deep Sea", None, "Blanc cassé 🎨"),
               locked=[True, False, False, False])


@pytest.mark.parametrize("fmt", READABLE)
def test_files_on_disk_round_trip(fmt, tmp_path):
    path = tmp_path / f"rich{PALETTE_FORMATS[fmt].extensions[0]}"
    write_palette(RICH, path, format=fmt, name="Rich")
    back = read_palette(path, format=fmt if fmt == "riff-pal" else None)
    assert back.hex == RICH.hex
    if PALETTE_FORMATS[fmt].names:
        assert back.names == RICH.names


@settings(max_examples=40, deadline=None, database=None)
@given(pal=palettes(min_k=1, max_k=20))
def test_css_and_tailwind_hold_every_color_under_a_unique_key(pal):
    css = encode_palette(pal, "css")[0].decode()
    props = re.findall(r"^  --([\w-]+): (#[0-9a-f]+);", css, flags=re.M)
    assert [h for _, h in props] == pal.hex
    assert len({k for k, _ in props}) == len(pal)
    js = encode_palette(pal, "tailwind")[0].decode()
    body = "\n".join(ln for ln in js.splitlines() if not ln.startswith("//"))
    obj = json.loads(body[len("module.exports = "):-1])
    assert list(obj["palette"].values()) == pal.hex


@settings(max_examples=15, deadline=None, database=None)
@given(pal=palettes(min_k=1, max_k=40))
def test_png_strip_shows_every_color(pal):
    im = Image.open(io.BytesIO(encode_palette(pal, "png", block=48)[0]))
    cols = min(len(pal), 16)
    assert im.size == (cols * 48, -(-len(pal) // cols) * 48)
    for i, rgba in enumerate(pal.rgba.tolist()):
        assert im.getpixel(((i % cols) * 48 + 24, (i // cols) * 48 + 8)) == tuple(rgba)
