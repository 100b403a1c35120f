"""The Locked Colors panel: add, edit, remove; in sync with the swatch locks; the preview follows."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor

from palette_app.core import Palette
from palette_app.gui.swatches import LockedRole
from palette_app.gui.worker import CORE_FEATURES

pytestmark = pytest.mark.skipif("locked" not in CORE_FEATURES, reason="the core cannot lock colors")


def _swatch_locked(window, hexcode) -> bool:
    model = window.swatches.model
    return bool(model.index(model.hex_codes().index(hexcode)).data(LockedRole))


def test_add_and_remove_sync_with_swatches_and_preview(window, qtbot, wait_preview, dialogs,
                                                       small_image_path, preview_pixels, colors_of):
    window.controls.colors_slider.setValue(8)
    window.open_path(small_image_path)
    wait_preview(window, 8)
    panel = window.locked_panel
    assert panel.hex_codes() == [] and panel.empty_label.isVisible()
    # Add a typed code (short form, upper case, no '#').
    panel.hex_edit.setText("1AB")
    assert panel.add_button.isEnabled()
    panel.add_button.click()
    shown = wait_preview(window, 8)
    assert window.locked == ["#11aabb"] and panel.hex_codes() == ["#11aabb"]
    assert panel.hex_edit.text() == "" and not panel.empty_label.isVisible()
    # Bit-exact in the palette, marked locked on its swatch.
    assert "#11aabb" in shown.palette.hex
    assert _swatch_locked(window, "#11aabb")
    # Lock a swatch: the list follows.
    other = next(h for h in window.swatches.model.hex_codes() if h != "#11aabb")
    window.set_locked(window.swatches.model.palette.hex.index(other), True)
    assert panel.hex_codes() == ["#11aabb", other]
    shown = wait_preview(window, 8)
    assert {"#11aabb", other} <= set(shown.palette.hex)
    # Unlock from the list (select, then the button): the swatch is no longer locked.
    panel.list.setCurrentIndex(panel.model.index(1, 0))
    panel.remove_button.click()
    assert window.locked == ["#11aabb"] and panel.hex_codes() == ["#11aabb"]
    wait_preview(window, 8)
    if other in window.swatches.model.hex_codes():
        assert not _swatch_locked(window, other)
    # Delete key in the list unlocks too.
    window.activateWindow()
    panel.list.setFocus()
    panel.list.setCurrentIndex(panel.model.index(0, 0))
    qtbot.keyClick(panel.list, Qt.Key.Key_Delete)
    assert window.locked == [] and panel.hex_codes() == []
    # Undo brings the lock back, in the list as well.
    window.undo_action.trigger()
    assert panel.hex_codes() == ["#11aabb"]
    assert dialogs.errors == []


def test_edit_pick_and_invalid_input(window, qtbot, wait_preview, dialogs, small_image_path,
                                     preview_pixels, colors_of):
    window.controls.colors_slider.setValue(6)
    window.open_path(small_image_path)
    wait_preview(window, 6)
    panel = window.locked_panel
    # Pick a color to lock.
    dialogs.color_answers.append(QColor("#abcdef"))
    panel.pick_button.click()
    assert window.locked == ["#abcdef"]
    # Type a new code in place: the lock is replaced, in the same place.
    panel.model.item(0).setText("#00ff00")
    assert window.locked == ["#00ff00"] and panel.hex_codes() == ["#00ff00"]
    shown = wait_preview(window, 6)
    assert "#00ff00" in shown.palette.hex and "#abcdef" not in shown.palette.hex
    # Re-pick the selected locked color.
    panel.list.setCurrentIndex(panel.model.index(0, 0))
    dialogs.color_answers.append(QColor("#102030"))
    panel.edit_button.click()
    assert window.locked == ["#102030"]
    # What is not a color is said in the status bar and changes nothing.
    panel.model.item(0).setText("not a color")
    assert panel.hex_codes() == ["#102030"] and window.locked == ["#102030"]
    assert "not a color" in window.statusBar().currentMessage()
    panel.hex_edit.setText("#12")
    assert not panel.add_button.isEnabled()
    panel.add_typed()
    assert window.locked == ["#102030"]
    # The locked color is drawn in the preview where it is nearest.
    shown = wait_preview(window, 6)
    assert "#102030" in shown.palette.hex
    assert "#102030" in colors_of(preview_pixels(window)) or shown.palette.counts[
        shown.palette.hex.index("#102030")] == 0
    assert dialogs.errors == []


def test_locking_a_color_in_a_fixed_palette_adds_it(window, qtbot, wait_preview, small_image_path,
                                                    preview_pixels, colors_of):
    window.open_path(small_image_path)
    wait_preview(window)
    window.document.apply_palette(Palette.from_hex(["#000000", "#ffffff"]), "bw")
    wait_preview(window)
    window.locked_panel.hex_edit.setText("#ff0000")
    window.locked_panel.add_typed()
    assert window.document.fixed_palette.hex == ["#000000", "#ffffff", "#ff0000"]
    shown = wait_preview(window)
    assert shown.palette.hex == ["#000000", "#ffffff", "#ff0000"]
    assert colors_of(preview_pixels(window)) <= {"#000000", "#ffffff", "#ff0000"}
    assert window.swatches.model.index(2).data(LockedRole)
    window.undo_action.trigger()
    assert window.document.fixed_palette.hex == ["#000000", "#ffffff"] and window.locked == []


def test_panel_icons_carry_the_device_pixel_ratio(window):
    window.document.set_locked("#336699", True)
    icon = window.locked_panel.model.item(0).icon()
    dpr = window.locked_panel.devicePixelRatioF()
    pix = icon.pixmap(QSize(16, 16), dpr)
    assert pix.devicePixelRatio() == pytest.approx(dpr)
    assert pix.width() == round(16 * dpr)
    img = pix.toImage()
    assert img.pixelColor(img.width() // 2, img.height() // 2).name() == "#336699"
