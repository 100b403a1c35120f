"""The Palette type: validation, views, sorting, equality and repr, on hand-computed cases."""
from __future__ import annotations

import numpy as np
import pytest

from palette_app.core.palette import Palette, hsv_hue, parse_hex, relative_luminance


def test_colors_are_read_only_uint8_and_defaults_are_filled():
    p = Palette([[255, 0, 0], [0, 0, 255]])
    assert p.colors.dtype == np.uint8 and p.colors.shape == (2, 3)
    assert p.alpha is None and p.counts is None and p.names is None
    assert p.locked.tolist() == [False, False]
    with pytest.raises(ValueError):
        p.colors[0, 0] = 1
    with pytest.raises(ValueError):
        p.locked[0] = True


def test_fourth_column_becomes_alpha_and_opaque_alpha_is_dropped():
    p = Palette(np.array([[1, 2, 3, 128], [4, 5, 6, 255]], np.uint8))
    assert p.colors.tolist() == [[1, 2, 3], [4, 5, 6]]
    assert p.alpha.tolist() == [128, 255]
    assert Palette([[1, 2, 3]], alpha=[255]).alpha is None
    with pytest.raises(ValueError, match="not both"):
        Palette([[1, 2, 3, 4]], alpha=[4])


@pytest.mark.parametrize("kwargs, message", [
    (dict(colors=[[1, 2]]), "shape"),
    (dict(colors=[[1, 2, 300]]), "0..255"),
    (dict(colors=[[1.5, 2, 3]]), "integers"),
    (dict(colors=[[1, 2, 3]], alpha=[1, 2]), "alpha"),
    (dict(colors=[[1, 2, 3]], counts=[-1]), "negative"),
    (dict(colors=[[1, 2, 3]], counts=[1, 2]), "counts"),
    (dict(colors=[[1, 2, 3]], names=("a", "b")), "names"),
    (dict(colors=[[1, 2, 3]], locked=[True, False]), "locked"),
])
def test_invalid_construction_is_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Palette(**kwargs)


def test_names_all_none_collapse_to_none():
    assert Palette([[0, 0, 0]], names=(None,)).names is None
    assert Palette([[0, 0, 0], [1, 1, 1]], names=["x", None]).names == ("x", None)


def test_from_hex_and_hex_round_trip():
    p = Palette.from_hex(["#FF8000", "0033cc", "#abc", "#11223380"], names=["a", None, "c", None])
    assert p.colors.tolist() == [[255, 128, 0], [0, 51, 204], [170, 187, 204], [17, 34, 51]]
    assert p.alpha.tolist() == [255, 255, 255, 128]
    assert p.hex == ["#ff8000", "#0033cc", "#aabbcc", "#11223380"]
    assert p.rgba[:, 3].tolist() == [255, 255, 255, 128]
    assert Palette.from_hex(p.hex, names=p.names) == p


@pytest.mark.parametrize("text", ["", "#12345", "#gggggg", "#1234567", "red"])
def test_parse_hex_rejects_non_hex(text):
    with pytest.raises(ValueError, match="hex color"):
        parse_hex(text)


def test_shares_sum_to_one_and_zero_counts_give_zero_shares():
    p = Palette([[0, 0, 0], [9, 9, 9]], counts=[3, 1])
    assert p.shares.tolist() == [0.75, 0.25]
    assert Palette([[0, 0, 0]], counts=[0]).shares.tolist() == [0.0]
    assert Palette([[0, 0, 0]]).shares is None


def test_luminance_and_hue_reference_values():
    lum = relative_luminance(np.array([[0, 0, 0], [255, 255, 255], [255, 0, 0]]))
    np.testing.assert_allclose(lum, [0.0, 1.0, 0.2126])
    h, s = hsv_hue(np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255], [128, 128, 128]]))
    np.testing.assert_allclose(h, [0, 120, 240, 0])
    np.testing.assert_allclose(s, [1, 1, 1, 0])


def test_sort_by_share_most_used_first_ties_dark_first():
    p = Palette([[255, 255, 255], [0, 0, 0], [128, 128, 128]], counts=[5, 9, 5])
    assert p.sort_order("share").tolist() == [1, 2, 0]
    with pytest.raises(ValueError, match="no pixel counts"):
        Palette([[0, 0, 0]]).sort_order("share")


def test_sort_by_lum_dark_to_light():
    p = Palette.from_hex(["#ffffff", "#000000", "#ff0000", "#0000ff"])
    # luminance: white 1, black 0, red 0.2126, blue 0.0722
    assert p.sort_order("lum").tolist() == [1, 3, 2, 0]


def test_sort_by_hue_grays_first_then_around_the_wheel():
    p = Palette.from_hex(["#0000ff", "#808080", "#00ff00", "#ff0000", "#000000", "#800000"])
    order = p.sort_order("hue").tolist()
    # grays (black, gray) first dark to light; then red hue bucket dark to light, green, blue
    assert order == [4, 1, 5, 3, 2, 0]
    with pytest.raises(ValueError, match="sort key"):
        p.sort_order("name")


def test_take_sorted_and_with_helpers_carry_every_attribute():
    p = Palette([[1, 1, 1], [2, 2, 2]], alpha=[10, 20], counts=[1, 3], names=("a", "b"),
                locked=[True, False])
    t = p.take([1, 0])
    assert t.colors.tolist() == [[2, 2, 2], [1, 1, 1]]
    assert t.alpha.tolist() == [20, 10] and t.counts.tolist() == [3, 1]
    assert t.names == ("b", "a") and t.locked.tolist() == [False, True]
    assert p.sorted("share") == t
    assert p.with_locked([False, True]).locked.tolist() == [False, True]
    assert p.with_names(["x", None]).names == ("x", None)
    assert p.with_names(None).names is None


def test_equality_compares_every_attribute_and_palettes_are_unhashable():
    base = Palette([[1, 2, 3]], names=("a",))
    assert base == Palette([[1, 2, 3]], names=("a",))
    assert base != Palette([[1, 2, 4]], names=("a",))
    assert base != Palette([[1, 2, 3]], names=("b",))
    assert base != Palette([[1, 2, 3]], names=("a",), alpha=[3])
    assert base != Palette([[1, 2, 3]], names=("a",), counts=[3])
    assert base != Palette([[1, 2, 3]], names=("a",), locked=[True])
    assert base != "not a palette"
    with pytest.raises(TypeError):
        hash(base)


def test_repr_shows_hex_names_shares_locks_and_elides_long_palettes():
    p = Palette([[255, 0, 0], [0, 0, 0]], counts=[1, 3], names=("Red", None), locked=[True, False])
    assert repr(p) == "Palette(2 colors: #ff0000 'Red' 25.0% locked, #000000 75.0%)"
    long = Palette(np.zeros((10, 3), np.uint8))
    assert repr(long).endswith("… 2 more)")
