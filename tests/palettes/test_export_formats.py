"""Write-only formats: CSS custom properties, Tailwind color object, PNG swatch strip."""
from __future__ import annotations

import io
import json
import re

import numpy as np
import pytest
from PIL import Image

from palette_app.core import Palette
from palette_app.io.palettes import css, swatch_png, tailwind
from palette_app.io.palettes.loaded import LoadedPalette

PAL = Palette(np.array([[255, 128, 0], [26, 43, 60], [255, 255, 255]], np.uint8),
              counts=[2, 1, 1], names=("Orange", None, "Café Crème"))


def test_css_exact_output():
    assert css.dumps(PAL, name="Sunset */ Beach").decode() == (
        "/* Sunset * / Beach: 3 colors (Palette App) */\n"
        ":root {\n"
        "  --sunset-beach-orange: #ff8000; /* Orange, 50.0% */\n"
        "  --sunset-beach-2: #1a2b3c; /* 25.0% */\n"
        "  --sunset-beach-cafe-creme: #ffffff; /* Café Crème, 25.0% */\n"
        "}\n"
    )


def test_css_tailwind4_theme_block_and_duplicate_keys():
    pal = Palette.from_hex(["#000000", "#ffffff80", "#ff0000"], names=["Ink", "Ink", "2"])
    text = css.dumps(pal, prefix="color", selector="@theme").decode()
    props = re.findall(r"--([\w-]+): (#[0-9a-f]+);", text)
    assert props == [("color-ink", "#000000"), ("color-ink-2", "#ffffff80"),
                     ("color-2", "#ff0000")]
    assert "\n@theme {\n" in text
    with pytest.raises(ValueError, match="selector"):
        css.dumps(pal, selector="a { color: red }")


def test_css_default_prefix_is_palette_and_title_comes_from_loaded_palette():
    assert "--palette-1: #ff8000;" in css.dumps(Palette.from_hex(["#ff8000"])).decode()
    loaded = LoadedPalette(np.array([[1, 2, 3]], np.uint8), title="Deep Sea")
    assert "--deep-sea-1: #010203;" in css.dumps(loaded).decode()


def _tailwind_object(text: str, start: str) -> dict:
    body = [ln for ln in text.splitlines() if not ln.startswith("//")]
    joined = "\n".join(body)
    assert joined.startswith(start) and joined.endswith(";")
    return json.loads(joined[len(start):-1])


def test_tailwind_object_commonjs_and_esm():
    text = tailwind.dumps(PAL, name="Sunset").decode()
    assert text.startswith("// Tailwind CSS colors: Sunset (Palette App)\n")
    assert _tailwind_object(text, "module.exports = ") == {
        "sunset": {"orange": "#ff8000", "2": "#1a2b3c", "cafe-creme": "#ffffff"}}
    esm = tailwind.dumps(PAL, key="brand", module="esm").decode()
    assert _tailwind_object(esm, "export default ") == {
        "brand": {"orange": "#ff8000", "2": "#1a2b3c", "cafe-creme": "#ffffff"}}
    with pytest.raises(ValueError, match="module"):
        tailwind.dumps(PAL, module="amd")


def _png(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def test_png_strip_one_block_per_color_with_alpha():
    pal = Palette.from_hex(["#ff8000", "#1a2b3c80", "#ffffff"])
    im = _png(swatch_png.dumps(pal, name="Sunset"))
    assert im.format == "PNG" and im.mode == "RGBA" and im.size == (3 * 96, 96)
    for i, rgba in enumerate(pal.rgba.tolist()):
        # the top of each block is plain color; labels sit at the bottom
        assert im.getpixel((i * 96 + 48, 10)) == tuple(rgba)
        assert im.getpixel((i * 96 + 2, 2)) == tuple(rgba)
    assert im.text["Title"] == "Sunset"
    assert im.text["Description"].splitlines() == ["#ff8000", "#1a2b3c80", "#ffffff"]


def test_png_labels_are_drawn_in_a_contrasting_ink_and_can_be_turned_off():
    pal = Palette.from_hex(["#000000", "#ffffff"])
    labelled = np.asarray(_png(swatch_png.dumps(pal)))
    plain = np.asarray(_png(swatch_png.dumps(pal, labels=False)))
    assert np.all(plain[:, :96, :3] == 0) and np.all(plain[:, 96:, :3] == 255)
    dark_block, light_block = labelled[:, :96, :3], labelled[:, 96:, :3]
    # anti-aliased text: count clearly light pixels on black and clearly dark ones on white
    assert (dark_block.mean(axis=2) > 128).sum() > 30      # white text on black
    assert (light_block.mean(axis=2) < 128).sum() > 30     # black text on white
    assert (dark_block[:48] == 0).all()                    # text stays in the lower half


def test_png_wraps_into_rows_and_small_blocks_skip_labels():
    pal = Palette(np.array([[i, i, i] for i in range(20)], np.uint8))
    im = _png(swatch_png.dumps(pal))
    assert im.size == (16 * 96, 2 * 96)
    assert im.getpixel((3 * 96 + 5, 96 + 5))[:3] == (19, 19, 19)   # 20th color: row 2, col 4
    assert im.getpixel((4 * 96 + 5, 96 + 5)) == (0, 0, 0, 0)       # empty cell is transparent
    data, notes = swatch_png.encode(pal, block=16, columns=5)
    assert _png(data).size == (80, 64) and "no hex labels" in notes[0]


@pytest.mark.parametrize("kwargs", [dict(block=4), dict(block=2000), dict(columns=0),
                                    dict(block=20.5)])
def test_png_option_checks(kwargs):
    with pytest.raises(ValueError):
        swatch_png.dumps(PAL, **kwargs)
