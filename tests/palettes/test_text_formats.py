"""GPL, JASC-PAL, Paint.NET and Lospec hex: exact output and hand-made files from other tools."""
from __future__ import annotations

from pathlib import Path

import pytest

from palette_app.core import Palette
from palette_app.io.palettes import gpl, hexfile, jasc_pal, paintnet, read_palette
from palette_app.io.palettes.errors import PaletteFormatError

DATA = Path(__file__).resolve().parents[1] / "data" / "palettes"
PAL = Palette.from_hex(["#ff0000", "#0033cc"], names=["Red", None])


# -- GPL -----------------------------------------------------------------------------------
def test_gpl_exact_output_names_unnamed_colors_by_hex():
    assert gpl.dumps(PAL, name="Test") == (
        b"GIMP Palette\nName: Test\nColumns: 0\n#\n"
        b"255   0   0\tRed\n"
        b"  0  51 204\t#0033cc\n"
    )


def test_gpl_rgba_extension_only_when_alpha_is_present():
    pal = Palette.from_hex(["#ff000080", "#00ff00"], names=["Half", "Green"])
    data, notes = gpl.encode(pal, name="A", columns=2)
    assert data == (b"GIMP Palette\nName: A\nColumns: 2\nChannels: RGBA\n#\n"
                    b"255   0   0 128\tHalf\n  0 255   0 255\tGreen\n")
    assert any("Channels" in n for n in notes)
    assert gpl.loads(data) == pal
    opaque, notes = gpl.encode(pal, name="A", alpha=False)
    assert b"Channels" not in opaque and any("written opaque" in n for n in notes)


def test_gpl_hand_made_gimp_file():
    pal = read_palette(DATA / "gimp_classic.gpl")
    assert pal.title == "Classic Test"
    assert pal.colors.tolist() == [[0, 0, 0], [255, 255, 255], [255, 0, 0], [18, 52, 86],
                                   [1, 2, 3], [128, 128, 128]]
    # "Untitled" is GIMP's word for no name; a name that is the color's own hex is none either.
    assert pal.names == ("Black", "White", None, "Deep Sea Blue", None, None)
    assert pal.alpha is None and pal.notes == ()


def test_gpl_hand_made_aseprite_rgba_file_with_crlf():
    pal = read_palette(DATA / "aseprite_rgba.gpl")
    assert pal.hex == ["#00000000", "#fa5a50", "#50b4f080"]
    assert pal.names == ("Transparent", "Coral", "Half Sky")
    assert pal.title is None


def test_gpl_old_format_without_name_header():
    pal = read_palette(DATA / "old_format.gpl")
    assert pal.hex == ["#ffff00", "#008000"] and pal.names == ("Yellow", None)


def test_gpl_names_keep_inner_spaces_and_unicode():
    pal = Palette.from_hex(["#010203"], names=["Deep  Sea – Ünï 🎨"])
    assert gpl.loads(gpl.dumps(pal)).names == pal.names


def test_gpl_multiline_names_are_flattened_with_a_note():
    data, notes = gpl.encode(Palette.from_hex(["#010203"], names=["two\nlines"]))
    assert b"\ttwo lines\n" in data
    assert any("could not be kept as given" in n for n in notes)


def test_gpl_latin1_file_is_read_with_a_note():
    pal = gpl.loads("GIMP Palette\n1 2 3 Caf\xe9\n".encode("latin-1"))
    assert pal.names == ("Café",)
    assert "Latin-1" in pal.notes[0]


def test_gpl_utf16_file_with_bom_is_read():
    pal = gpl.loads("GIMP Palette\n1 2 3 Ünï\n".encode("utf-16"))
    assert pal.names == ("Ünï",) and pal.notes == ()


def test_gpl_columns_option_is_checked():
    with pytest.raises(ValueError, match="columns"):
        gpl.dumps(PAL, columns=300)


# -- JASC-PAL -------------------------------------------------------------------------------
def test_jasc_exact_output_with_crlf():
    assert jasc_pal.dumps(PAL) == b"JASC-PAL\r\n0100\r\n2\r\n255 0 0\r\n0 51 204\r\n"


def test_jasc_hand_made_file():
    pal = read_palette(DATA / "jasc.pal")
    assert pal.format == "jasc-pal"
    assert pal.hex == ["#000000", "#ffffff", "#ff0000", "#0c2238"]


def test_jasc_reads_a_fourth_alpha_value_and_lf_lines():
    pal = jasc_pal.loads(b"JASC-PAL\n0100\n1\n1 2 3 4\n")
    assert pal.hex == ["#01020304"]


# -- Paint.NET ------------------------------------------------------------------------------
def test_paintnet_exact_output():
    data = paintnet.dumps(Palette.from_hex(["#ff0000", "#0033cc80"]))
    lines = data.decode("ascii").split("\r\n")
    assert lines[0] == "; paint.net Palette File"
    assert [ln for ln in lines if ln and not ln.startswith(";")] == ["FFFF0000", "800033CC"]
    assert data.endswith(b"800033CC\r\n")


def test_paintnet_hand_made_file_with_comments_blank_lines_and_lowercase():
    pal = read_palette(DATA / "paintnet.txt")
    assert pal.hex == ["#000000", "#ff000080", "#00ff00", "#1a2b3c"]


def test_paintnet_notes_the_96_color_limit():
    big = Palette([[i % 256, 0, 0] for i in range(100)])
    data, notes = paintnet.encode(big)
    assert "first 96" in notes[0]
    assert len(paintnet.loads(data)) == 100


# -- Lospec hex -----------------------------------------------------------------------------
def test_hex_exact_output():
    assert hexfile.dumps(PAL) == b"ff0000\n0033cc\n"


def test_hex_hand_made_lospec_file():
    pal = read_palette(DATA / "lospec.hex")
    assert pal.hex == ["#1a1c2c", "#5d275d", "#b13e53", "#ef7d57"]


def test_hex_reader_accepts_hash_blank_lines_and_rrggbbaa():
    pal = hexfile.loads(b"#FF0000\r\n\r\n00ff0080\n")
    assert pal.hex == ["#ff0000", "#00ff0080"]


@pytest.mark.parametrize("module, data", [
    (hexfile, b"\xd9\xa3\xd9\xa3\xd9\xa3\xd9\xa3\xd9\xa3\xd9\xa3\n"),  # Arabic-Indic digits
    (jasc_pal, "JASC-PAL\n0100\n1\n\u0663 1 1\n".encode()),
    (gpl, "GIMP Palette\n\u00b2 1 1\n".encode()),                    # superscript two
])
def test_non_ascii_digits_are_not_numbers(module, data):
    with pytest.raises(PaletteFormatError):
        module.loads(data)


def test_hex_refuses_an_empty_palette_that_would_be_an_empty_file():
    with pytest.raises(PaletteFormatError, match="empty"):
        hexfile.dumps(Palette.from_hex([]))
