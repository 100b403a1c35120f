"""The app icon set (drawn by packaging/make_icons.py) exists at every size."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
ASSETS = ROOT / "assets"
ICON_SIZES = (16, 32, 48, 64, 128, 256, 512)
ICONS = ASSETS / "icons"


@pytest.mark.parametrize("size", ICON_SIZES)
def test_png_at_every_size(size, make_icons):
    path = ICONS / f"palette-app-{size}.png"
    with Image.open(path) as im:
        assert im.format == "PNG" and im.size == (size, size) and im.mode == "RGBA"
        px = np.asarray(im)
    assert px[0, 0, 3] == 0, "corners are transparent (rounded square)"
    assert px[size // 2, size // 2, 3] == 255
    # The committed file is what the generator draws (small tolerance for Pillow's resampler).
    drawn = np.asarray(make_icons.draw_icon(size)).astype(int)
    assert np.abs(drawn - px.astype(int)).max() <= 2, f"{path.name} is stale: run packaging/make_icons.py"


def test_sizes_match_the_generator(make_icons):
    assert tuple(make_icons.SIZES) == ICON_SIZES


def test_windows_ico_holds_16_to_256():
    with Image.open(ICONS / "palette-app.ico") as im:
        assert im.format == "ICO"
        assert {(n, n) for n in (16, 32, 48, 64, 128, 256)} <= set(im.info["sizes"])


def test_macos_icns():
    with Image.open(ICONS / "palette-app.icns") as im:
        assert im.format == "ICNS"
        assert (512, 512, 1) in im.info["sizes"] and (16, 16, 2) in im.info["sizes"]
