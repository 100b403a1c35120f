"""ACO: exact bytes (version 1 then version 2), hand-made files in every color space."""
from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from palette_app.core import Palette
from palette_app.io.palettes import aco, read_palette

DATA = Path(__file__).resolve().parents[1] / "data" / "palettes"

PAL = Palette.from_hex(["#ff0000", "#0033cc"], names=["Red", None])

EXPECTED = bytes.fromhex(
    # version 1 section: version, count, then (space, w, x, y, z) per color; RGB = space 0,
    # 8-bit values times 257 (0x33 → 0x3333, 0xcc → 0xcccc)
    "0001" "0002"
    "0000" "ffff" "0000" "0000" "0000"
    "0000" "0000" "3333" "cccc" "0000"
    # version 2 section: the same colors, each followed by a u32 name length in UTF-16
    # units counting the terminating NUL, the UTF-16BE name and the NUL
    "0002" "0002"
    "0000" "ffff" "0000" "0000" "0000" "00000004" "0052006500640000"
    "0000" "0000" "3333" "cccc" "0000" "00000008" "00230030003000330033006300630000"
)


def test_dumps_matches_hand_written_bytes():
    assert aco.dumps(PAL) == EXPECTED


def test_version_1_section_comes_before_version_2():
    data = aco.dumps(PAL)
    assert data[:2] == b"\x00\x01"
    v2_at = 4 + 10 * len(PAL)
    assert data[v2_at:v2_at + 4] == b"\x00\x02\x00\x02"


def test_loads_reads_exactly_what_dumps_wrote():
    back = aco.loads(EXPECTED)
    assert back == PAL and back.notes == ()


def test_hand_made_file_in_every_color_space():
    pal = read_palette(DATA / "photoshop.aco")
    # RGB orange; HSB hue 21845/65535*360 = 120 deg full → green; CMYK with 0 = 100 % ink:
    # cyan; Lab L=50.00 a=b=0 → 119 gray; Grayscale 7500 = 75 % ink → 25 % of white = 64;
    # a Pantone entry (skipped); Lab L=50 a=127 b=-128 (outside sRGB: clipped).
    assert pal.hex[:5] == ["#ff8000", "#00ff00", "#00ffff", "#777777", "#404040"]
    assert pal.names == ("Orange", "Green HSB", "Cyan", "Lab Gray", "75% Gray", "Too Vivid")
    notes = " | ".join(pal.notes)
    assert "1 Pantone entry (#6) skipped" in notes
    assert "Lab colors outside the sRGB gamut were clipped to the nearest sRGB color: " \
        "#6 'Too Vivid'" in notes
    assert "CMYK" in notes and "profile" in notes
    assert len(pal.notes) == 3


def test_version_2_only_and_version_1_only_files():
    v2 = read_palette(DATA / "v2_only.aco")
    assert v2.hex == ["#0000ff", "#0a141e"] and v2.names == ("Blue", None)
    v1 = read_palette(DATA / "v1_only.aco")
    # Grayscale 0 means no ink: white.
    assert v1.hex == ["#ff0000", "#ffffff"] and v1.names is None


def test_version_2_preferred_when_sections_disagree():
    v1 = struct.pack(">HH", 1, 1) + struct.pack(">5H", 0, 0, 0, 0, 0)
    v2 = aco.dumps(PAL)[4 + 20:]
    pal = aco.loads(v1 + v2)
    assert pal == PAL
    assert "version 2 colors were used" in pal.notes[0]


def test_sixteen_bit_values_round_to_nearest_eight_bit():
    # 0x7f80 / 257 = 127.0 ... 0x8000 / 257 = 127.5 → 128 (never a tie in practice: 257 is odd)
    data = struct.pack(">HH", 1, 1) + struct.pack(">5H", 0, 0x7F80, 0x8000, 0x0080, 0)
    assert aco.loads(data).colors.tolist() == [[127, 128, 0]]


def test_hsb_hue_wraps_and_brightness_scales():
    data = struct.pack(">HH", 1, 2) + struct.pack(">5H", 1, 65535, 65535, 65535, 0) \
        + struct.pack(">5H", 1, 0, 0, 32896, 0)
    # hue 65535 is 360 deg = red; saturation 0 and brightness 128/255 → gray 128
    assert aco.loads(data).hex == ["#ff0000", "#808080"]


def test_too_many_colors_is_refused():
    from palette_app.io.palettes import PaletteFormatError
    with pytest.raises(PaletteFormatError, match="65535"):
        aco.dumps(Palette(np.zeros((65536, 3), np.uint8)))


def test_gray_beyond_full_ink_is_clipped_and_reported():
    data = struct.pack(">HH", 1, 1) + struct.pack(">5H", 8, 12000, 0, 0, 0)
    pal = aco.loads(data)
    assert pal.hex == ["#000000"]
    assert pal.notes == ("gray values outside 0..100% were clipped to the nearest sRGB color: #1",)
