"""ASE: exact bytes against the public layout, hand-made files, groups, types, conversions."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from palette_app.core import Palette
from palette_app.io.palettes import ase, read_palette
from palette_app.io.palettes.errors import PaletteFormatError
from palette_app.io.palettes.loaded import LoadedPalette

DATA = Path(__file__).resolve().parents[1] / "data" / "palettes"

# Red named "Red", and #0033cc without a name (so named by its hex code).
# 0x33 = 51 = 0.2 * 255 and 0xcc = 204 = 0.8 * 255, whose float32 forms are well known.
PAL = Palette.from_hex(["#ff0000", "#0033cc"], names=["Red", None])

EXPECTED = bytes.fromhex(
    "41534546" "0001" "0000" "00000002"          # 'ASEF', version 1.0, 2 blocks
    "0001" "0000001c"                             # color block, 28 bytes follow
    "0004" "0052006500640000"                     # 4 UTF-16 units: 'Red' + NUL
    "52474220"                                    # 'RGB ' padded with a space, not a NUL
    "3f800000" "00000000" "00000000"              # 1.0, 0.0, 0.0
    "0002"                                        # process ("normal") color
    "0001" "00000024"                             # color block, 36 bytes follow
    "0008" "00230030003000330033006300630000"     # '#0033cc' + NUL = 8 units
    "52474220"
    "00000000" "3e4ccccd" "3f4ccccd"              # 0.0, 0.2, 0.8 as float32
    "0002"
)


def test_dumps_matches_hand_written_bytes():
    assert ase.dumps(PAL) == EXPECTED


def test_color_model_is_space_padded_and_name_length_counts_the_nul():
    data = ase.dumps(Palette.from_hex(["#000000"], names=["A"]))
    # 12-byte header, u16 block type, u32 block length, then the name length at 18
    assert data[18:20] == b"\x00\x02"            # 2 units: 'A' and the NUL
    assert data[20:24] == b"\x00\x41\x00\x00"    # 'A', NUL
    assert data[24:28] == b"RGB "                # the model, padded with a space


def test_group_option_wraps_colors_in_group_blocks():
    data = ase.dumps(PAL, group="Brand")
    assert data[8:12] == b"\x00\x00\x00\x04"     # group start + 2 colors + group end
    start = bytes.fromhex("c001" "0000000e" "0006" "004200720061006e00640000")
    assert data[12:12 + len(start)] == start
    assert data.endswith(bytes.fromhex("c002" "00000000"))
    back = ase.loads(data)
    assert back.groups == ("Brand", "Brand")


def test_loads_reads_exactly_what_dumps_wrote():
    back = ase.loads(EXPECTED)
    assert back == PAL
    assert back.swatch_types == ("process", "process")
    assert back.notes == ()


def test_hand_made_file_with_groups_models_and_types():
    pal = read_palette(DATA / "swatches.ase")
    assert isinstance(pal, LoadedPalette) and pal.format == "ase"
    assert pal.hex == ["#ff8000", "#00ffff", "#777777", "#333333", "#336699", "#0000ff"]
    # RGB 1/.5/0; CMYK 100 % cyan; LAB L=0.5 (50 %) a=b=0 → sRGB 119; Gray 0.2 → 51;
    # an unnamed (length 0) RGB swatch; a name with an astral character (a surrogate pair).
    assert pal.names == ("Orange", "Cyan", "Mid Gray", "Dark", None, "Palette \U0001F3A8 Ünïcode")
    assert pal.groups == ("Brand", "Brand", None, None, None, None)
    assert pal.swatch_types == ("spot", "process", "global", "process", "process", "process")
    assert len(pal.notes) == 1 and "CMYK" in pal.notes[0] and "profile" in pal.notes[0]


def test_lab_l_is_a_fraction_and_out_of_gamut_lab_is_clipped_and_reported():
    def lab_block(L, a, b):
        import struct
        payload = b"\x00\x00" + b"LAB " + struct.pack(">3fH", L, a, b, 2)
        head = b"ASEF" + struct.pack(">HHI", 1, 0, 1)
        return head + struct.pack(">HI", 1, len(payload)) + payload

    white = ase.loads(lab_block(1.0, 0.0, 0.0))
    assert white.hex == ["#ffffff"] and white.notes == ()
    percent = ase.loads(lab_block(50.0, 0.0, 0.0))          # a writer using 0..100 for L
    assert percent.hex == ["#777777"] and "0..100 scale" in percent.notes[0]
    vivid = ase.loads(lab_block(0.5, 127.0, -128.0))
    assert vivid.notes and "outside the sRGB gamut" in vivid.notes[0]
    assert vivid.colors.min() >= 0 and vivid.colors.max() <= 255


def test_spot_colors_are_written_as_process_with_a_note():
    pal = read_palette(DATA / "swatches.ase")
    data, notes = ase.encode(pal)
    assert any("global or spot" in n for n in notes)
    back = ase.loads(data)
    assert back.swatch_types == ("process",) * 6
    assert back.groups == pal.groups                 # groups survive the round trip
    assert back.hex == pal.hex and back.names == pal.names


def test_nul_padded_model_from_buggy_writers_is_accepted():
    bad = EXPECTED.replace(b"RGB ", b"RGB\x00")
    assert ase.loads(bad).hex == PAL.hex


def test_over_long_name_is_refused():
    with pytest.raises(PaletteFormatError, match="too long"):
        ase.dumps(Palette([[0, 0, 0]], names=("x" * 70000,)))


def test_nul_in_name_is_removed_and_reported():
    data, notes = ase.encode(Palette([[0, 0, 0]], names=("a\0b",)))
    assert ase.loads(data).names == ("ab",)
    assert any("NUL" in n for n in notes)


def test_unknown_block_types_are_skipped_with_a_note():
    import struct
    extra = struct.pack(">HI", 0x0042, 3) + b"xyz"
    data = b"ASEF" + struct.pack(">HHI", 1, 0, 3) + EXPECTED[12:] + extra
    pal = ase.loads(data)
    assert pal.hex == PAL.hex
    assert pal.notes == ("1 block of unknown type 0x0042 skipped",)


def test_empty_palette_round_trips():
    empty = Palette(np.zeros((0, 3), np.uint8))
    assert ase.dumps(empty) == b"ASEF\x00\x01\x00\x00\x00\x00\x00\x00"
    assert len(ase.loads(ase.dumps(empty))) == 0
