"""Malformed files: a hand-made corpus with the expected message, and fuzzing where only
PaletteFormatError may escape."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from palette_app.core import Palette
from palette_app.io.palettes import (
    PALETTE_FORMATS, LoadedPalette, PaletteFormatError, encode_palette, read_palette,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "palettes"
MALFORMED = DATA / "malformed"

# file → (format named in the error, a piece of the problem)
CORPUS = {
    "empty.gpl": ("gpl", "the file is empty"),
    "no_magic.gpl": ("gpl", "missing the 'GIMP Palette' first line"),
    "value_out_of_range.gpl": ("gpl", "line 3: '256' is not a value 0..255"),
    "missing_blue.gpl": ("gpl", "line 2: expected R G B values"),
    "bad_channels.gpl": ("gpl", "unsupported 'Channels: CMYK'"),
    "binary.gpl": ("gpl", "NUL bytes"),
    "wrong_magic.ase": ("ase", "wrong magic"),
    "short.ase": ("ase", "the file ends too early"),
    "version2.ase": ("ase", "unsupported version 2.0"),
    "block_count_lies.ase": ("ase", "block 2 of 3"),
    "block_length_lies.ase": ("ase", "says it is 999 bytes long"),
    "name_not_terminated.ase": ("ase", "not NUL-terminated"),
    "name_length_lies.ase": ("ase", "the color name in block 1 of 1 needs 80 bytes"),
    "bad_utf16.ase": ("ase", "not valid UTF-16"),
    "unknown_model.ase": ("ase", "unknown color model b'XYZ '"),
    "bad_type.ase": ("ase", "color type 7"),
    "nan.ase": ("ase", "not a finite number"),
    "trailing.ase": ("ase", "3 unexpected bytes after the 1 block"),
    "short.aco": ("aco", "too short"),
    "wrong_version.aco": ("aco", "wrong version 3"),
    "count_lies.aco": ("aco", "announces 5 colors (50 bytes), but only 10 bytes follow"),
    "name_overrun.aco": ("aco", "the name of color 1 needs 2000 bytes"),
    "bad_utf16.aco": ("aco", "not valid UTF-16"),
    "section_after_v1.aco": ("aco", "section of version 7"),
    "trailing.aco": ("aco", "1 unexpected byte after the 1 color"),
    "wrong_size.act": ("act", "768 or 772 bytes long, this one 700"),
    "count_zero.act": ("act", "the color count is 0"),
    "transparent_outside.act": ("act", "transparent index 9"),
    "count_lies.pal": ("jasc-pal", "announces 5 colors, but 2 color lines follow"),
    "bad_version.pal": ("jasc-pal", "unsupported version '0200'"),
    "bad_value.pal": ("jasc-pal", "'red' is not a value"),
    "riff_count_lies.pal": ("riff-pal", "announces 9 colors"),
    "riff_size_lies.pal": ("riff-pal", "says the file is 4008 bytes long"),
    "bad_line.txt": ("paint.net", "'FF00GG00' is not an AARRGGBB hex color"),
    "bad_line.hex": ("hex", "'12345' is not a hex color"),
    "binary.hex": ("hex", "NUL bytes"),
    "truncated.json": ("json", "not valid JSON"),
    "hex_rgb_disagree.json": ("json", "disagree"),
    "wrong_types.json": ("json", "\"share\" must be a number"),
    "newer_version.json": ("json", "newer Palette App"),
    "no_colors.json": ("json", "no \"colors\" list"),
    "unknown_format.xyz": (None, "not a palette file in any format"),
}


def test_corpus_is_complete():
    assert sorted(p.name for p in MALFORMED.iterdir()) == sorted(CORPUS)


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_malformed_file_raises_a_clear_error(name):
    fmt, problem = CORPUS[name]
    path = MALFORMED / name
    with pytest.raises(PaletteFormatError) as info:
        read_palette(path)
    e = info.value
    assert e.format == fmt and e.path == os.fspath(path)
    assert problem in e.problem
    label = PALETTE_FORMATS[fmt].label if fmt else None
    assert str(e).startswith(f"{path}: {label}: " if label else f"{path}: ")


# -- fuzzing -----------------------------------------------------------------------------
READABLE = sorted(n for n, f in PALETTE_FORMATS.items() if f.can_read)
SAMPLE_PAL = Palette.from_hex(["#ff8000", "#1a2b3c80", "#ffffff", "#000000"],
                              names=["Orange", "Ünï 🎨", None, "Black"])
SEEDS = {fmt: encode_palette(SAMPLE_PAL, fmt)[0] for fmt in READABLE}
SEEDS_ON_DISK = [p.read_bytes() for p in sorted(DATA.glob("*.*"))]


def _only_format_errors(data: bytes, fmt: str | None) -> None:
    try:
        pal = read_palette(data, format=fmt)
    except PaletteFormatError as e:
        assert fmt is None or e.format == fmt
        assert str(e)
    else:
        assert isinstance(pal, LoadedPalette)
        assert pal.colors.dtype == np.uint8 and pal.colors.shape == (len(pal), 3)


@st.composite
def mutated(draw, seed: bytes):
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["cut", "flip", "insert", "delete", "set16"]))
        i = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "cut":
            del data[i:]
        elif op == "flip" and data:
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif op == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete":
            del data[i:i + draw(st.integers(1, 8))]
        elif op == "set16" and len(data) >= 2:
            # counts and lengths live in 16- and 32-bit fields: make them lie
            j = min(i, len(data) - 2)
            data[j:j + 2] = draw(st.sampled_from([b"\x00\x00", b"\xff\xff", b"\x00\x01",
                                                  b"\x7f\xff", b"\x80\x00"]))
    return bytes(data)


FUZZ = settings(max_examples=60, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("fmt", READABLE)
@FUZZ
@given(data=st.data())
def test_fuzz_mutated_files_only_raise_palette_format_error(fmt, data):
    seed = data.draw(st.sampled_from([SEEDS[fmt], *SEEDS_ON_DISK]))
    blob = data.draw(mutated(seed))
    _only_format_errors(blob, fmt)
    _only_format_errors(blob, None)          # sniffing the content must hold up too


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("fmt", [*READABLE, None])
@FUZZ
@given(blob=st.binary(max_size=1024))
def test_fuzz_random_bytes_only_raise_palette_format_error(fmt, blob):
    _only_format_errors(blob, fmt)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-2 ** 70, 2 ** 70) | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["hex", "rgb", "name", "share", "count", "alpha", "locked", "colors",
                         "format", "version", "x"]), inner, max_size=5),
    max_leaves=12,
)


@pytest.mark.filterwarnings("error")
@FUZZ
@given(doc=JSON_VALUES)
def test_fuzz_json_documents_only_raise_palette_format_error(doc):
    for wrapped in (doc, {"colors": doc}, {"colors": [doc]}):
        _only_format_errors(json.dumps(wrapped).encode(), "json")
