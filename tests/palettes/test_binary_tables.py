"""ACT and RIFF PAL: exact bytes and hand-made files."""
from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from palette_app.core import Palette
from palette_app.io.palettes import act, read_palette, riff_pal
from palette_app.io.palettes.errors import PaletteFormatError

DATA = Path(__file__).resolve().parents[1] / "data" / "palettes"
PAL = Palette.from_hex(["#ff0000", "#0033cc"])


def test_act_short_palette_uses_772_bytes_with_count_and_no_transparency():
    data = act.dumps(PAL)
    assert len(data) == 772
    assert data[:6] == bytes.fromhex("ff0000" "0033cc")
    assert data[6:768] == bytes(762)                 # unused entries zero-filled
    assert data[768:] == bytes.fromhex("0002" "ffff")


def test_act_full_opaque_table_uses_classic_768_bytes():
    full = Palette(np.stack([np.arange(256)] * 3, axis=1).astype(np.uint8))
    data = act.dumps(full)
    assert len(data) == 768 and data[3:6] == b"\x01\x01\x01"
    assert act.loads(data) == full


def test_act_transparent_color_becomes_the_transparent_index():
    pal = Palette.from_hex(["#102030", "#00000000", "#405060"])
    data, notes = act.encode(pal)
    assert data[768:] == bytes.fromhex("0003" "0001") and notes == []
    assert act.loads(data) == pal


def test_act_partial_alpha_and_extra_transparent_colors_are_reported():
    pal = Palette.from_hex(["#00000000", "#11111100", "#22222280"])
    data, notes = act.encode(pal)
    assert any("only one" in n for n in notes)
    assert any("partly transparent" in n for n in notes)
    assert act.loads(data).hex == ["#00000000", "#111111", "#222222"]


def test_act_hand_made_files():
    classic = read_palette(DATA / "classic.act")
    assert len(classic) == 256
    assert classic.hex[:4] == ["#ff0000", "#00ff00", "#0000ff", "#0a141e"]
    tr = read_palette(DATA / "transparent.act")
    assert tr.hex == ["#010203", "#28323c", "#c86400", "#ffffff00"]


def test_act_limits():
    with pytest.raises(PaletteFormatError, match="256"):
        act.dumps(Palette(np.zeros((257, 3), np.uint8)))
    with pytest.raises(PaletteFormatError, match="empty"):
        act.dumps(Palette(np.zeros((0, 3), np.uint8)))


def test_riff_exact_bytes():
    assert riff_pal.dumps(PAL) == bytes.fromhex(
        "52494646" "18000000"        # 'RIFF', 24 bytes follow (little-endian)
        "50414c20"                   # 'PAL '
        "64617461" "0c000000"        # 'data', 12 bytes
        "0003" "0200"                # version 0x0300, 2 colors (little-endian)
        "ff000000" "0033cc00"        # R G B flags
    )


def test_riff_hand_made_file_is_told_apart_from_jasc_by_content():
    pal = read_palette(DATA / "riff.pal")
    assert pal.format == "riff-pal"
    assert pal.hex == ["#ff0000", "#00ff00", "#070809"]


def test_riff_skips_other_chunks_before_data():
    chunk = struct.pack("<HH", 0x0300, 1) + b"\x01\x02\x03\x00"
    body = b"PAL " + b"note" + struct.pack("<I", 3) + b"abc\x00" + b"data" + \
        struct.pack("<I", len(chunk)) + chunk
    data = b"RIFF" + struct.pack("<I", len(body)) + body
    assert riff_pal.loads(data).hex == ["#010203"]
