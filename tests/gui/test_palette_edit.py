"""Palettes in and palette editing: apply a palette file, edit with undo/redo, export the edit."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QModelIndex, QPointF, Qt
from PySide6.QtGui import QColor, QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from palette_app.core import Palette
from palette_app.gui import palette_edit as edit
from palette_app.gui.document import Document
from palette_app.gui.swatches import SWATCH_MIME, NameRole
from palette_app.io import load_image, read_palette, write_palette

BRAND = Palette.from_hex(["#1b2a49", "#e9c46a", "#f4a261", "#2a9d8f", "#e76f51", "#fafafa"],
                         names=["Navy", "Sand", None, "Teal", "Coral", "Snow"])


def _state(window):
    """What an undo must restore: the fixed palette (hex codes and names), or None."""
    pal = window.document.fixed_palette
    return None if pal is None else (tuple(pal.hex), pal.names)


def _export(qtbot, window, kind, path, fmt=None):
    with qtbot.waitSignal(window.exportFinished, timeout=30000) as blocker:
        window.export(kind, path, fmt)
    return blocker.args[0]


# --------------------------------------------------------------------------- pure edits
def test_edit_functions_are_pure_and_exact():
    p = BRAND
    d = edit.delete_entry(p, 1)
    assert d.hex == [h for i, h in enumerate(p.hex) if i != 1]
    assert d.names == ("Navy", None, "Teal", "Coral", "Snow")
    m = edit.move_entry(p, 0, 3)
    assert m.hex == [p.hex[i] for i in (1, 2, 3, 0, 4, 5)]
    assert m.names[3] == "Navy"
    assert edit.move_entry(p, 5, -4).hex[0] == p.hex[5]          # clamped to the start
    r = edit.rename_entry(p, 2, "  Amber ")
    assert r.names[2] == "Amber"
    assert edit.rename_entry(r, 2, "  ").names[2] is None
    a = edit.insert_color(p, "#ABC", at=1, name="Pale")
    assert a.hex[1] == "#aabbcc" and a.names[1] == "Pale" and len(a) == 7
    assert edit.insert_color(p, "#000000").hex[-1] == "#000000"
    c = edit.set_entry_color(p, 4, "#010203")
    assert c.hex[4] == "#010203" and c.names[4] == "Coral"
    assert p.hex == BRAND.hex and p.names == BRAND.names               # the input is untouched
    with pytest.raises(ValueError):
        edit.delete_entry(Palette.from_hex(["#000000"]), 0)
    with pytest.raises(IndexError):
        edit.rename_entry(p, 6, "x")
    with pytest.raises(ValueError):
        edit.insert_color(Palette(np.zeros((256, 3), np.uint8)), "#ffffff")
    # A clustered palette made editable drops counts, locks and the transparent entry.
    clustered = Palette(np.array([[1, 2, 3], [0, 0, 0], [9, 9, 9]], np.uint8), alpha=[255, 0, 128],
                        counts=[5, 3, 2], locked=[True, False, False])
    e = edit.editable(clustered)
    assert e.hex == ["#010203", "#09090980"] and e.counts is None and not e.locked.any()


def test_normalize_hex():
    assert edit.normalize_hex(" ABC ") == "#aabbcc"
    assert edit.normalize_hex("#12ab34") == "#12ab34"
    for bad in ("", "#12ab3", "zzzzzz", "#12ab34ff"):
        with pytest.raises(ValueError):
            edit.normalize_hex(bad)


def test_document_undo_restores_every_exact_state(qtbot):
    doc = Document()
    changes = []
    doc.stateChanged.connect(lambda: changes.append(1))
    doc.apply_palette(BRAND, "brand.gpl", title="Brand")
    doc.add_color("#000000", at=2, name="Ink")
    doc.delete_entry(0)
    doc.move_entry(4, 0)
    doc.rename_entry(1, "Gold")
    doc.set_locked("#2a9d8f", True)
    doc.set_entry_color(4, "#2a9d90")           # the Teal entry
    states = [doc.state]
    for _ in range(7):
        doc.undo_stack.undo()
        states.append(doc.state)
    assert states[-1].palette is None and states[-1].locked == ()
    assert doc.palette_source == ""
    for expected in reversed(states[:-1]):
        doc.undo_stack.redo()
        assert doc.state == expected
    assert doc.palette_source == "brand.gpl, edited" and doc.palette_title == "Brand"
    assert doc.locked == ("#2a9d90",)              # the locked entry was recolored: the lock follows
    assert len(changes) == 7 + 7 + 7
    # No-op edits make no command.
    count = doc.undo_stack.count()
    doc.rename_entry(1, "Gold")
    doc.set_locked("#2a9d90", True)
    assert doc.undo_stack.count() == count


# --------------------------------------------------------------------------- palettes in
@pytest.mark.parametrize("ext", [".gpl", ".ase"])
def test_apply_palette_file(window, qtbot, wait_preview, dialogs, small_image_path, tmp_path, ext,
                            preview_pixels, colors_of):
    path = tmp_path / f"brand{ext}"
    write_palette(BRAND, path)
    window.open_path(small_image_path)
    wait_preview(window, 16)
    dialogs.open_answers.append(str(path))
    with qtbot.waitSignal(window.paletteApplied, timeout=10000):
        window.apply_palette_action.trigger()
    assert dialogs.open_calls[-1][0] == "Apply Palette"
    shown = wait_preview(window)
    assert shown.request.palette is not None
    # Every preview pixel is a palette color; the swatches are the file's colors, in order, with names.
    assert colors_of(preview_pixels(window)) <= set(BRAND.hex)
    assert window.swatches.model.hex_codes() == BRAND.hex
    assert window.swatches.model.names() == list(read_palette(path).names)
    assert window.swatches.model.index(0).data(NameRole) == "Navy"
    assert not window.swatches.sort_combo.isEnabled()          # shown in the palette's own order
    assert window.mode_bar.button.isVisible()
    assert f"brand{ext}" in window.mode_bar.label.text()
    assert not window.controls.colors_spin.isEnabled()
    assert window.cluster_again_action.isEnabled()
    assert dialogs.errors == [] and not window.message_bar.isVisible()
    # The space and dithering settings apply to the remap.
    window.controls.dither_combo.setCurrentIndex(window.controls.dither_combo.findData("fs"))
    shown = wait_preview(window)
    assert shown.request.dither == "fs" and shown.request.palette is not None
    assert colors_of(preview_pixels(window)) <= set(BRAND.hex)
    # Back to clustering, and undo goes back to the palette.
    window.cluster_again_action.trigger()
    shown = wait_preview(window, 16)
    assert shown.request.palette is None and window.swatches.count() == 16
    assert window.controls.colors_spin.isEnabled() and not window.mode_bar.button.isVisible()
    window.controls.colors_slider.setValue(9)
    assert "picks 9 colors" in window.mode_bar.label.text()
    wait_preview(window, 9)
    window.undo_action.trigger()
    assert wait_preview(window).request.palette is not None
    assert window.swatches.model.hex_codes() == BRAND.hex


def test_dropped_palette_file_is_applied(window, qtbot, wait_preview, small_image_path, tmp_path):
    path = tmp_path / "drop.hex"
    write_palette(BRAND, path)
    window.open_path(small_image_path)
    wait_preview(window)
    mime = QMimeData()
    from PySide6.QtCore import QUrl

    mime.setUrls([QUrl.fromLocalFile(str(path))])
    with qtbot.waitSignal(window.paletteApplied, timeout=10000):
        window.dropEvent(QDropEvent(QPointF(5, 5), Qt.DropAction.CopyAction, mime,
                                    Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier))
    assert wait_preview(window).palette.hex == BRAND.hex
    assert window.loaded.name == "small.png"


def test_bad_palette_files_are_messages_naming_the_file(window, qtbot, wait_preview, dialogs,
                                                        small_image_path, tmp_path, capfd):
    window.open_path(small_image_path)
    before = wait_preview(window, 16)
    broken = tmp_path / "broken.ase"
    broken.write_bytes(b"ASEF\x00\x01\x00\x00\x00\x00\x00\x05" + b"\x00\x01" * 7)
    too_many = tmp_path / "huge.hex"
    too_many.write_text("\n".join(f"{i:06x}" for i in range(300)))
    cases = [(broken, "broken.ase"), (tmp_path / "missing.gpl", "missing.gpl"),
             (too_many, "huge.hex"), (tmp_path / "empty.gpl", "empty.gpl")]
    (tmp_path / "empty.gpl").write_bytes(b"")
    messages = {}
    for path, name in cases:
        window.apply_palette_path(path)
        qtbot.waitUntil(lambda name=name: name in window.message_bar.text, timeout=10000)
        messages[name] = text = window.message_bar.text
        assert "Traceback" not in text and "Error" not in text, text
    assert "does not exist" in messages["missing.gpl"]
    assert "300 colors" in messages["huge.hex"]
    assert "empty" in messages["empty.gpl"]
    assert dialogs.errors == []                     # in the window, not a pop-up
    assert not window.document.is_fixed
    assert window.shown is before                   # nothing changed
    assert "Traceback" not in capfd.readouterr().err
    # Still usable: a good file works and clears the message.
    good = tmp_path / "good.gpl"
    write_palette(BRAND, good)
    window.apply_palette_path(good)
    assert wait_preview(window).request.palette is not None
    assert not window.message_bar.isVisible()


# --------------------------------------------------------------------------- editing
def test_edit_sequence_undo_redo_and_export(window, qtbot, wait_preview, dialogs, small_image_path,
                                            tmp_path, preview_pixels, colors_of):
    window.controls.colors_slider.setValue(6)
    window.open_path(small_image_path)
    first = wait_preview(window, 6)
    window.swatches.view.setCurrentIndex(QModelIndex())
    model = window.swatches.model
    states = [_state(window)]
    on_screen = [model.hex_codes()]

    def check_preview():
        shown = wait_preview(window)
        pal = window.document.fixed_palette
        assert shown.request.palette is not None
        assert colors_of(preview_pixels(window)) <= set(pal.hex)
        assert model.hex_codes() == pal.hex
        states.append(_state(window))
        on_screen.append(model.hex_codes())

    # Add: the clustered palette becomes fixed, in the order on screen, plus the new color.
    window.add_color("#123456", name="Ink")
    assert window.document.fixed_palette.hex == first.palette.sorted("share").hex + ["#123456"]
    check_preview()
    # Delete the most used color: it really leaves the image.
    gone = model.hex_codes()[0]
    window.delete_color(model.palette_index(0))
    check_preview()
    assert gone not in colors_of(preview_pixels(window))
    # Move the new color to the front.
    window.move_color(model.palette_index(model.hex_codes().index("#123456")), 0)
    check_preview()
    assert model.hex_codes()[0] == "#123456"
    # Rename (through the dialog) the second entry.
    dialogs.text_answers.append("Sky")
    window.rename_color(model.palette_index(1))
    assert dialogs.last_text[0] == "Rename Color"
    check_preview()
    assert window.document.fixed_palette.names[:2] == ("Ink", "Sky")
    # A cancelled rename changes nothing.
    window.rename_color(model.palette_index(1))
    assert window.document.undo_stack.count() == 4

    # Undo every step: each earlier state comes back exactly, swatches included.
    for expected, hexes in zip(reversed(states[:-1]), reversed(on_screen[:-1]), strict=True):
        window.undo_action.trigger()
        assert _state(window) == expected
        if expected is not None:
            assert model.hex_codes() == list(hexes)
    assert not window.document.is_fixed
    assert wait_preview(window, 6).palette.hex == first.palette.hex      # the same clustering
    assert not window.undo_action.isEnabled()
    # Redo every step.
    for expected in states[1:]:
        window.redo_action.trigger()
        assert _state(window) == expected
    assert not window.redo_action.isEnabled()
    wait_preview(window)
    final = window.document.fixed_palette
    assert colors_of(preview_pixels(window)) <= set(final.hex)
    assert gone not in colors_of(preview_pixels(window))

    # Exports use the edited palette: names and order in the palette file, colors in the image.
    _export(qtbot, window, "palette", tmp_path / "edited.gpl")
    back = read_palette(tmp_path / "edited.gpl")
    assert back.hex == final.hex and back.names == final.names
    _export(qtbot, window, "palette", tmp_path / "edited.json")
    assert read_palette(tmp_path / "edited.json").names == final.names
    _export(qtbot, window, "image", tmp_path / "edited.png")
    assert colors_of(load_image(tmp_path / "edited.png").pixels) <= set(final.hex)
    assert dialogs.errors == []


def test_edit_color_and_delete_in_a_fixed_palette(window, qtbot, wait_preview, dialogs, small_image_path,
                                                  preview_pixels, colors_of):
    window.open_path(small_image_path)
    wait_preview(window)
    window.document.apply_palette(BRAND, "brand")
    wait_preview(window)
    window.set_locked(3, True)                              # Teal
    dialogs.color_answers.append(QColor("#2b9e90"))
    window.edit_color(3)
    pal = window.document.fixed_palette
    assert pal.hex[3] == "#2b9e90" and pal.names[3] == "Teal"
    assert window.locked == ["#2b9e90"]                    # the lock follows the entry
    assert "#2b9e90" in colors_of(wait_preview(window) and preview_pixels(window))
    # Deleting a locked entry unlocks it; the last color cannot go.
    window.delete_color(3)
    assert window.locked == [] and "#2b9e90" not in window.document.fixed_palette.hex
    for _ in range(len(window.document.fixed_palette) - 1):
        window.delete_color(0)
    window.delete_color(0)
    assert len(window.document.fixed_palette) == 1
    assert "at least one color" in window.message_bar.text


def test_drag_a_swatch_to_reorder(window, qtbot, wait_preview, small_image_path):
    window.open_path(small_image_path)
    wait_preview(window)
    window.document.apply_palette(BRAND, "brand")
    wait_preview(window)
    view = window.swatches.view
    qtbot.waitExposed(view)
    target = view.visualRect(window.swatches.model.index(3))
    # Card 0 dragged over the right half of card 3 and dropped: it lands after card 3.
    pos = QPointF(target.center().x() + target.width() / 4, target.center().y())
    mime = view.mime_for_row(0)
    buttons, mods = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(pos, Qt.DropAction.MoveAction, mime, buttons, mods)
    QApplication.sendEvent(view.viewport(), enter)
    assert enter.isAccepted()
    move = QDragMoveEvent(pos, Qt.DropAction.MoveAction, mime, buttons, mods)
    QApplication.sendEvent(view.viewport(), move)
    assert view._drop_row == 4                      # the insertion bar is after card 3
    QApplication.sendEvent(view.viewport(), QDropEvent(pos, Qt.DropAction.MoveAction, mime, buttons, mods))
    assert window.document.fixed_palette.hex == [BRAND.hex[i] for i in (1, 2, 3, 0, 4, 5)]
    assert window.document.fixed_palette.names[3] == "Navy"
    assert window.document.undo_stack.undoText() == "Move #1b2a49"
    window.undo_action.trigger()
    assert window.document.fixed_palette.hex == BRAND.hex
    # A drag from anywhere else is refused.
    foreign = QMimeData()
    foreign.setData(SWATCH_MIME, b"12345:0")
    enter = QDragEnterEvent(pos, Qt.DropAction.MoveAction, foreign, buttons, mods)
    QApplication.sendEvent(view.viewport(), enter)
    assert not enter.isAccepted()


def test_swatches_by_keyboard(window, qtbot, wait_preview, dialogs, small_image_path):
    window.open_path(small_image_path)
    wait_preview(window)
    window.document.apply_palette(BRAND, "brand")
    wait_preview(window)
    view = window.swatches.view
    window.activateWindow()
    view.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is view)
    view.setCurrentIndex(window.swatches.model.index(0))
    qtbot.keyClick(view, Qt.Key.Key_Right)                  # arrow keys move between cards
    assert window.swatches.current_row() == 1
    qtbot.keyClick(view, Qt.Key.Key_Space)                  # Space locks
    assert window.locked == [BRAND.hex[1]]
    qtbot.keyClick(view, Qt.Key.Key_Space)                  # and unlocks
    assert window.locked == []
    qtbot.keyClick(view, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)   # Alt+Right moves
    assert window.document.fixed_palette.hex[:3] == [BRAND.hex[0], BRAND.hex[2], BRAND.hex[1]]
    assert window.swatches.current_row() == 2               # the card moved with the selection
    dialogs.text_answers.append("Gold")
    qtbot.keyClick(view, Qt.Key.Key_F2)                     # F2 renames
    assert window.document.fixed_palette.names[2] == "Gold"
    qtbot.keyClick(view, Qt.Key.Key_Delete)                 # Delete removes
    assert BRAND.hex[1] not in window.document.fixed_palette.hex
    assert len(window.document.fixed_palette) == 5
    qtbot.keyClick(view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)   # Ctrl+Z undoes
    assert window.document.fixed_palette.hex[2] == BRAND.hex[1]


def test_a_json_palette_brings_its_locks(window, qtbot, wait_preview, small_image_path, tmp_path):
    path = tmp_path / "locked.json"
    write_palette(BRAND.with_locked([False, True, False, False, True, False]), path)
    window.open_path(small_image_path)
    wait_preview(window)
    with qtbot.waitSignal(window.paletteApplied, timeout=10000):
        window.apply_palette_path(path)
    assert window.locked == [BRAND.hex[1], BRAND.hex[4]]
    assert window.locked_panel.hex_codes() == window.locked
    shown = wait_preview(window)
    assert window.document.lock_mask(shown.palette).tolist() == [False, True, False, False, True, False]
    assert "2 locked" in window.swatches.summary.text()
    # Exported as JSON, the locks and names come back as they went in.
    with qtbot.waitSignal(window.exportFinished, timeout=30000):
        window.export("palette", tmp_path / "again.json")
    back = read_palette(tmp_path / "again.json")
    assert back.hex == BRAND.hex and back.names == BRAND.names
    assert back.locked.tolist() == [False, True, False, False, True, False]
