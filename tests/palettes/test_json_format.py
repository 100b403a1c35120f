"""JSON: the documented schema, exactly; lenient inputs; strict disagreements."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from palette_app.core import Palette
from palette_app.io.palettes import json_format, read_palette
from palette_app.io.palettes.errors import PaletteFormatError

DATA = Path(__file__).resolve().parents[1] / "data" / "palettes"


def test_schema_of_written_file():
    pal = Palette.from_hex(["#ff8000", "#33669980"], names=["Orange", None]).with_locked(
        [False, True])
    pal = Palette(pal.colors, alpha=pal.alpha, counts=[300, 100], names=pal.names,
                  locked=pal.locked)
    data = json_format.dumps(pal, name="Sunset")
    assert data.endswith(b"}\n") and b'\n  "colors": [' in data    # indented, final newline
    assert json.loads(data) == {
        "format": "palette-app/palette",
        "version": 1,
        "name": "Sunset",
        "colors": [
            {"hex": "#ff8000", "rgb": [255, 128, 0], "name": "Orange", "share": 0.75,
             "count": 300},
            {"hex": "#33669980", "rgb": [51, 102, 153], "name": None, "share": 0.25,
             "count": 100, "alpha": 128, "locked": True},
        ],
    }


def test_without_counts_share_is_null_and_count_absent():
    doc = json.loads(json_format.dumps(Palette.from_hex(["#000000"])))
    assert doc["name"] is None
    assert doc["colors"] == [{"hex": "#000000", "rgb": [0, 0, 0], "name": None, "share": None}]


def test_hand_made_file_reads_everything():
    pal = read_palette(DATA / "palette.json")
    assert pal.title == "Sunset"
    assert pal.hex == ["#ff8000", "#33669980"]
    assert pal.names == ("Orange", None)
    assert pal.counts.tolist() == [300, 100]
    assert pal.locked.tolist() == [False, True]
    assert pal.notes == ()


def test_bare_list_of_hex_strings_and_objects():
    pal = read_palette(DATA / "colors_only.json")
    assert pal.hex == ["#ff0000", "#00ff00", "#0000ff"]
    assert pal.names == (None, "Green", None)


def test_shares_without_counts_become_scaled_counts_with_a_note():
    pal = json_format.loads(b'{"colors": [{"hex": "#000", "share": 0.2}, '
                            b'{"hex": "#fff", "share": 0.8}]}')
    assert pal.shares.tolist() == [0.2, 0.8]
    assert "shares without pixel counts" in pal.notes[0]


def test_partial_counts_are_ignored_with_a_note():
    pal = json_format.loads(b'{"colors": [{"hex": "#000", "count": 5}, {"hex": "#fff"}]}')
    assert pal.counts is None and "only some colors" in pal.notes[0]


@pytest.mark.parametrize("doc, message", [
    ('{"format": "other", "colors": []}', "not 'palette-app/palette'"),
    ('{"colors": [{"hex": "#000", "alpha": 300}]}', "alpha"),
    ('{"colors": [{"hex": "#00000080", "alpha": 10}]}', "disagree"),
    ('{"colors": [{"rgb": [1, 2, true]}]}', "three integers"),
    ('{"colors": [{"name": "x"}]}', "neither"),
    ('{"colors": [{"hex": "#000", "count": -1}]}', "count"),
    ('{"colors": [{"hex": "#000", "locked": "yes"}]}', "locked"),
    ('{"colors": [{"hex": "#000", "name": 5}]}', "name"),
    ('{"colors": [{"hex": "#000", "share": NaN}]}', "share"),
    ('{"colors": [3]}', "object or a hex string"),
    ('{"name": [], "colors": []}', "name"),
    ('"just a string"', "must be a list"),
    ('{"colors": [{"hex": "#000", "count": 1' + "0" * 5000 + "}]}", "not valid JSON"),
    ("[" * 100000, "nested too deeply"),
    ('\xff', "not UTF-8"),
])
def test_invalid_documents(doc, message):
    data = doc.encode("latin-1") if doc == "\xff" else doc.encode()
    with pytest.raises(PaletteFormatError, match=message):
        json_format.loads(data)
