"""read_palette / write_palette / PALETTE_FORMATS: formats by extension or name, errors, notes."""
from __future__ import annotations

import io
import os
import pickle
from pathlib import Path

import numpy as np
import pytest

import palette_app.io as pio
from palette_app.core import Palette
from palette_app.io.atomic import OutputExistsError
from palette_app.io.palettes import (
    PALETTE_FORMATS, LoadedPalette, PaletteFormatError, encode_palette, format_for_path,
    read_palette, sniff_format, write_palette,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "palettes"
PAL = Palette.from_hex(["#ff0000", "#0033cc"], names=["Red", None])


def test_io_package_re_exports_the_palette_api():
    assert pio.read_palette is read_palette and pio.write_palette is write_palette
    assert pio.PaletteFormatError is PaletteFormatError
    assert pio.PALETTE_FORMATS is PALETTE_FORMATS


def test_registry_lists_every_format_with_its_abilities():
    assert set(PALETTE_FORMATS) == {"gpl", "ase", "aco", "act", "jasc-pal", "riff-pal",
                                    "paint.net", "hex", "json", "css", "tailwind", "png"}
    readable = {n for n, f in PALETTE_FORMATS.items() if f.can_read}
    assert readable == set(PALETTE_FORMATS) - {"css", "tailwind", "png"}
    assert all(f.can_write for f in PALETTE_FORMATS.values())
    for name, f in PALETTE_FORMATS.items():
        assert f.name == name and f.description and f.extensions
        assert all(e.startswith(".") and e == e.lower() for e in f.extensions)
    assert PALETTE_FORMATS["ase"].label == "Adobe Swatch Exchange (.ase)"
    with pytest.raises(TypeError):
        PALETTE_FORMATS["new"] = PALETTE_FORMATS["ase"]  # read-only


@pytest.mark.parametrize("name, fmt", [
    ("a.gpl", "gpl"), ("A.ASE", "ase"), ("x.aco", "aco"), ("x.act", "act"), ("x.pal", "jasc-pal"),
    ("x.txt", "paint.net"), ("x.hex", "hex"), ("x.json", "json"), ("x.css", "css"),
    ("x.js", "tailwind"), ("x.png", "png"), ("x.doc", None), ("noext", None),
])
def test_format_for_path(name, fmt):
    assert format_for_path(name) == fmt


@pytest.mark.parametrize("file, fmt", [
    ("gimp_classic.gpl", "gpl"), ("swatches.ase", "ase"), ("photoshop.aco", "aco"),
    ("v2_only.aco", "aco"), ("classic.act", "act"), ("transparent.act", "act"),
    ("jasc.pal", "jasc-pal"), ("riff.pal", "riff-pal"), ("paintnet.txt", "paint.net"),
    ("lospec.hex", "hex"), ("palette.json", "json"), ("colors_only.json", "json"),
])
def test_sniffing_recognises_every_hand_made_file(file, fmt):
    data = (DATA / file).read_bytes()
    assert sniff_format(data) == fmt
    assert read_palette(data).format == fmt          # bytes: format from the content


def test_unknown_extension_is_sniffed(tmp_path):
    p = tmp_path / "colors.dat"
    p.write_bytes((DATA / "swatches.ase").read_bytes())
    assert read_palette(p).format == "ase"


def test_explicit_format_by_name_or_extension():
    data = (DATA / "lospec.hex").read_bytes()
    assert read_palette(data, format="hex").format == "hex"
    assert read_palette(data, format=".HEX").format == "hex"
    with pytest.raises(ValueError, match="unknown palette format"):
        read_palette(data, format="bmp")


def test_file_objects_and_bytes_like_inputs():
    data = (DATA / "jasc.pal").read_bytes()
    assert len(read_palette(bytearray(data))) == 4
    assert len(read_palette(memoryview(data))) == 4
    assert len(read_palette(io.BytesIO(data))) == 4
    with open(DATA / "riff.pal", "rb") as f:
        assert read_palette(f).format == "riff-pal"
    with pytest.raises(TypeError):
        read_palette(12)


def test_error_names_file_format_and_problem():
    path = DATA / "malformed" / "block_length_lies.ase"
    with pytest.raises(PaletteFormatError) as info:
        read_palette(path)
    e = info.value
    assert e.path == os.fspath(path) and e.format == "ase"
    assert str(e) == (f"{path}: Adobe Swatch Exchange (.ase): block 1 of 1 says it is 999 bytes "
                      "long, but only 24 bytes remain")
    assert isinstance(e, ValueError)
    again = pickle.loads(pickle.dumps(e))
    assert str(again) == str(e)


def test_error_for_bytes_says_palette_data():
    with pytest.raises(PaletteFormatError, match=r"^<palette data>: Photoshop color table"):
        read_palette(bytes(10), format="act")


def test_wrong_extension_error_hints_at_the_real_format(tmp_path):
    p = tmp_path / "really_ase.gpl"
    p.write_bytes((DATA / "swatches.ase").read_bytes())
    with pytest.raises(PaletteFormatError, match=r"looks like Adobe Swatch Exchange.*format='ase'"):
        read_palette(p)


def test_write_only_formats_cannot_be_read(tmp_path):
    p = tmp_path / "strip.png"
    write_palette(PAL, p)
    with pytest.raises(PaletteFormatError, match="written but not read"):
        read_palette(p)


def test_missing_file_is_an_os_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_palette(tmp_path / "nope.gpl")


def test_write_palette_is_atomic_and_respects_overwrite(tmp_path):
    p = tmp_path / "out.gpl"
    assert write_palette(PAL, p, name="One") == ()
    first = p.read_bytes()
    with pytest.raises(OutputExistsError):
        write_palette(PAL, p, name="Two")
    assert p.read_bytes() == first
    write_palette(PAL, p, name="Two", overwrite=True)
    assert b"Name: Two" in p.read_bytes()
    assert [x.name for x in tmp_path.iterdir()] == ["out.gpl"]   # no temporary left behind


def test_write_palette_format_from_extension_or_explicit(tmp_path):
    write_palette(PAL, tmp_path / "a.pal")
    assert (tmp_path / "a.pal").read_bytes().startswith(b"JASC-PAL")
    write_palette(PAL, tmp_path / "b.pal", format="riff-pal")
    assert (tmp_path / "b.pal").read_bytes().startswith(b"RIFF")
    assert read_palette(tmp_path / "b.pal").format == "riff-pal"
    with pytest.raises(PaletteFormatError, match="extension"):
        write_palette(PAL, tmp_path / "c.unknown")


def test_write_palette_reports_what_the_format_cannot_keep(tmp_path):
    pal = Palette(PAL.colors, alpha=[255, 128], counts=[1, 2], names=PAL.names,
                  locked=[True, False])
    notes = write_palette(pal, tmp_path / "x.hex")
    assert len(notes) == 4
    assert "not opaque" in notes[0] and "names" in notes[1]
    assert "counts" in notes[2] and "locked" in notes[3]
    assert write_palette(pal, tmp_path / "x.json") == ()


def test_write_palette_limits_and_options(tmp_path):
    with pytest.raises(PaletteFormatError, match="at most 256") as info:
        write_palette(Palette(np.zeros((300, 3), np.uint8)), tmp_path / "big.act")
    assert info.value.path == os.fspath(tmp_path / "big.act")
    assert not (tmp_path / "big.act").exists()
    with pytest.raises(TypeError, match="no option"):
        write_palette(PAL, tmp_path / "x.ase", columns=3)
    with pytest.raises(TypeError, match="Palette"):
        write_palette([[0, 0, 0]], tmp_path / "x.ase")


def test_encode_palette_gives_bytes_and_notes():
    data, notes = encode_palette(PAL, "css", prefix="brand")
    assert b"--brand-red: #ff0000;" in data and notes == ()


def test_loaded_palette_equality_and_repr():
    pal = read_palette(DATA / "gimp_classic.gpl")
    plain = Palette(pal.colors, names=pal.names)
    assert pal == plain and plain == pal                  # file details take no part
    assert repr(pal).startswith("LoadedPalette('Classic Test', 6 colors: #000000 'Black'")
    assert repr(pal).endswith(", from gpl)")
    assert type(pal.take([0])) is Palette
    with pytest.raises(ValueError, match="groups"):
        LoadedPalette(np.zeros((1, 3), np.uint8), groups=("a", "b"))
    with pytest.raises(ValueError, match="swatch_types"):
        LoadedPalette(np.zeros((1, 3), np.uint8), swatch_types=("ink",))


def test_file_too_large_is_refused_before_reading(tmp_path, monkeypatch):
    import palette_app.io.palettes as palettes
    monkeypatch.setattr(palettes, "MAX_FILE_BYTES", 10)
    p = tmp_path / "x.hex"
    p.write_bytes(b"000000\n111111\n")
    with pytest.raises(PaletteFormatError, match="too large"):
        read_palette(p)


def test_sniffing_text_palettes_of_act_size_and_other_encodings():
    # 96 Paint.NET lines of 8 bytes: exactly 768 bytes, yet clearly not a color table
    pn = b"FF000000" + b"\n" * 0 + b"".join(b"\nFF%06X" % i for i in range(1, 85)) + b"\n"
    pn += b"\n" * (768 - len(pn))
    assert len(pn) == 768 and sniff_format(pn) == "paint.net"
    utf16 = "GIMP Palette\n1 2 3 Ünï\n".encode("utf-16")
    assert sniff_format(utf16) == "gpl" and read_palette(utf16).names == ("Ünï",)
    # a multi-byte character cut at the sniffing window does not hide a JSON file
    doc = b'["#000000", {"hex": "#ffffff", "name": "' + "é".encode() * 3000 + b'"}]'
    assert sniff_format(doc) == "json"
