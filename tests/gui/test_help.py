"""Help and accessibility: About, tooltips everywhere, shortcuts or mnemonics, tab order."""
from __future__ import annotations

import platform
import re
from importlib import metadata

import numpy as np
from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt, qVersion
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSlider,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLabel,
    QLineEdit,
    QMenu,
    QScrollBar,
    QWidget,
)

from palette_app import __version__
from palette_app.gui.about import AboutDialog, about_info, about_text

INTERACTIVE = (QAbstractButton, QAbstractSlider, QAbstractSpinBox, QComboBox, QLineEdit, QAbstractItemView)


def _interactive(root: QWidget) -> list[QWidget]:
    out = []
    for w in root.findChildren(QWidget):
        if not isinstance(w, INTERACTIVE) or isinstance(w, QScrollBar) or not w.isVisibleTo(root):
            continue
        if w.objectName() in ("qt_spinbox_lineedit",):     # the editor inside a spin box
            continue
        out.append(w)
    return out


def _name(w: QWidget) -> str:
    text = w.text() if hasattr(w, "text") and callable(w.text) else ""
    return f"{type(w).__name__}({w.objectName() or text!r})"


def test_about_lists_the_versions(window, qtbot, dialogs):
    info = about_info()
    assert info["Palette App"] == __version__
    assert info["Python"].startswith(platform.python_version())
    assert info["NumPy"] == np.__version__
    assert info["Numba"] == metadata.version("numba")
    assert info["Pillow"] == metadata.version("pillow")
    assert info["PySide6"] == pyside_version and info["Qt"] == qVersion()
    assert info["Numba cache folder"]
    assert "BSD" in info["License"]
    box = AboutDialog(window)
    qtbot.addWidget(box)
    text = box.label.text()
    for value in (__version__, np.__version__, info["Numba"], info["Pillow"], pyside_version, qVersion(),
                  info["Numba cache folder"], info["License"]):
        assert value in text
    box.copy_button.click()
    assert QApplication.clipboard().text() == about_text()
    assert all(b.toolTip() for b in _interactive(box))
    window.about_action.trigger()
    assert dialogs.abouts == 1
    assert "&Help" in [a.text() for a in window.menuBar().actions()]


def test_every_control_has_a_tooltip(window, wait_preview, small_image_path):
    window.open_path(small_image_path)
    wait_preview(window)
    window.message_bar.show_message("A message with its own close button")
    window.history_dock.show()
    window.cancel_button.show()
    widgets = _interactive(window)
    assert len(widgets) > 20
    e = window.elbow_panel
    assert {e.kmax_spin, e.target_combo, e.target_spin, e.find_button} <= set(widgets)
    assert e.chart.toolTip().strip()
    missing = [_name(w) for w in widgets if not w.toolTip().strip()]
    assert missing == []


def test_every_action_has_tips_and_a_key(window):
    window._settings.setValue("recentFiles", ["/tmp/a.png"])
    window._fill_recent_menu()
    actions = [a for a in window.findChildren(QAction) if not a.isSeparator() and a.text()]
    assert len(actions) > 30
    no_tip = [a.text() for a in actions if not a.statusTip().strip() or not a.toolTip().strip()]
    assert no_tip == []
    # A shortcut, or a mnemonic (&x) to reach it from the menu by keyboard.
    no_key = [a.text() for a in actions if a.shortcut().isEmpty() and "&" not in a.text().replace("&&", "")]
    assert no_key == []
    # Mnemonics of the menu bar are unique.
    letters = [a.text()[a.text().index("&") + 1].lower() for a in window.menuBar().actions()]
    assert len(letters) == len(set(letters))


def _mnemonic(text: str) -> str | None:
    m = re.search(r"&(\w)", text.replace("&&", ""))
    return m.group(1).lower() if m else None


def test_mnemonics_are_unique_in_each_menu_and_in_the_window(window):
    window._settings.setValue("recentFiles", ["/tmp/a.png", "/tmp/b.png"])
    window._fill_recent_menu()
    menus = [a.menu() for a in window.menuBar().actions()]
    seen_menus = 0
    while menus:
        menu = menus.pop()
        seen_menus += 1
        actions = [a for a in menu.actions() if not a.isSeparator() and a.isVisible()]
        letters = [_mnemonic(a.text()) for a in actions if _mnemonic(a.text())]
        assert len(letters) == len(set(letters)), (menu.title(), sorted(letters))
        menus += [a.menu() for a in actions if isinstance(a.menu(), QMenu)]
    assert seen_menus >= 8          # File, Open Recent, Edit, Palette, View, Panels, Theme, Help
    panels = [a.text() for a in window.panels_menu.actions()]
    assert "How &Many Colors?" in panels and "&Batch Export…" in [a.text() for a in window.file_menu.actions()]
    # Alt+letter of the menu bar and of every label and button of the window (docks too) are
    # unique, or one of them would never be reached.
    letters = [_mnemonic(a.text()) for a in window.menuBar().actions()]
    for w in window.findChildren(QWidget):
        if isinstance(w, (QLabel, QAbstractButton)) and w.window() is window and _mnemonic(w.text()):
            letters.append(_mnemonic(w.text()))
    assert len(letters) >= 12
    assert len(letters) == len(set(letters)), sorted(letters)


def _focus_chain(window) -> list[QWidget]:
    """Widgets Tab should reach: visible, enabled, accepting tab focus."""
    out = []
    for w in window.findChildren(QWidget):
        if (w.isVisibleTo(window) and w.isEnabled() and w.focusPolicy() & Qt.FocusPolicy.TabFocus
                and w.window() is window and not w.focusProxy()):
            out.append(w)
    return out


def test_tab_cycles_through_every_control(window, qtbot, wait_preview, small_image_path):
    window.open_path(small_image_path)
    wait_preview(window)
    window.history_dock.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    expected = _focus_chain(window)
    assert window.swatches.view in expected and window.locked_panel.hex_edit in expected
    start = window.preview.original_pane
    start.setFocus(Qt.FocusReason.OtherFocusReason)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is start)
    seen = [start]
    for _ in range(len(expected) + 5):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        w = QApplication.focusWidget()
        if w is start:
            break
        seen.append(w)
    assert QApplication.focusWidget() is start, "Tab did not come back to the start"
    assert set(seen) == set(expected), {_name(w) for w in set(expected) ^ set(seen)}
    # In reading order: the preview, the controls, the palette, then the side panels.
    e = window.elbow_panel
    order = [seen.index(w) for w in (window.preview.original_pane, window.controls.colors_slider,
                                     window.swatches.view, window.locked_panel.list,
                                     e.kmax_spin, e.chart, e.target_combo, e.find_button,
                                     window.undo_view)]
    assert order == sorted(order)
    # Keyboard focus on the preview is visible (a frame), mouse focus is not.
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Backtab)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is start and start._focus_visible
