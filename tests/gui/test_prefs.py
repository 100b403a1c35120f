"""Preferences in QSettings: a new window restores folders, theme, layout and settings."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, QSize
from PySide6.QtGui import QPalette

from palette_app.core import Palette
from palette_app.gui.mainwindow import MainWindow, palette_filters
from palette_app.io import write_palette


def _window(qtbot, path: str) -> MainWindow:
    w = MainWindow(QSettings(path, QSettings.Format.IniFormat), warmup=False)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    return w


def test_a_new_window_restores_the_preferences(qtbot, tmp_path, dialogs, wait_preview, small_image_path):
    ini = str(tmp_path / "prefs.ini")
    palettes = tmp_path / "palettes"
    exports = tmp_path / "exports"
    palettes.mkdir()
    exports.mkdir()
    brand = palettes / "brand.gpl"
    write_palette(Palette.from_hex(["#102030", "#f0e0d0", "#808080"]), brand)

    w = _window(qtbot, ini)
    # Folders: open, apply-palette and export are remembered separately.
    w.open_path(small_image_path)
    wait_preview(w)
    with qtbot.waitSignal(w.paletteApplied, timeout=10000):
        w.apply_palette_path(brand)
    wait_preview(w)
    gpl = next(f for f, (name, _) in palette_filters().items() if name == "gpl")
    dialogs.save_answers.append((str(exports / "mine.gpl"), gpl))
    with qtbot.waitSignal(w.exportFinished, timeout=30000):
        w.export_palette_action.trigger()
    # Settings, theme and layout.
    w.controls.colors_slider.setValue(24)
    w.controls.space_combo.setCurrentIndex(w.controls.space_combo.findData("oklab"))
    w.set_theme("dark")
    w.history_dock.show()
    w.locked_dock.hide()
    w.elbow_dock.hide()
    # Smaller than the offscreen screen (800 × 800), which restoreGeometry clamps to;
    # possible once the layout has taken the hidden docks into account.
    qtbot.waitUntil(lambda: w.minimumSize().width() < 700)
    w.resize(700, 560)
    qtbot.waitUntil(lambda: w.size() == QSize(700, 560))
    w.splitter.setSizes([320, 300])
    sizes = w.splitter.sizes()
    w.close()

    w2 = _window(qtbot, ini)
    try:
        assert w2.size() == QSize(700, 560)
        assert w2.history_dock.isVisible() and not w2.locked_dock.isVisible()
        assert not w2.elbow_dock.isVisible()
        assert w2.splitter.sizes() == sizes
        assert w2.theme.choice == "dark" and w2.theme_actions["dark"].isChecked()
        qtbot.waitUntil(lambda: w2.palette().color(QPalette.ColorRole.Window).lightness() < 80)
        s = w2.controls.settings()
        assert (s.n_colors, s.space) == (24, "oklab")
        # Each dialog starts in its own last folder.
        w2.open_action.trigger()
        assert dialogs.open_calls[-1] == ("Open Image", str(small_image_path.parent))
        w2.apply_palette_action.trigger()
        assert dialogs.open_calls[-1] == ("Apply Palette", str(palettes))
        w2.open_path(small_image_path)
        wait_preview(w2)
        # A hidden "How Many Colors?" panel computes nothing; shown, it catches up.
        assert w2.elbow_panel.pixels is None and w2.elbow_panel.curve is None
        with qtbot.waitSignal(w2.elbow_panel.curveReady, timeout=30000):
            w2.elbow_dock.toggleViewAction().trigger()
        assert w2.elbow_panel.chart.current == 24
        w2.export_palette_action.trigger()          # cancelled (no answer queued)
        assert Path(dialogs.last_save[1]).parent == exports
        assert dialogs.last_save[3] == gpl             # and the format chosen last time
    finally:
        w2.set_theme("system")
        w2.close()


def test_a_broken_layout_is_ignored(qtbot, tmp_path, dialogs):
    ini = str(tmp_path / "broken.ini")
    s = QSettings(ini, QSettings.Format.IniFormat)
    s.setValue("window/geometry", b"garbage")
    s.setValue("window/state", b"garbage")
    s.setValue("window/splitter", "nonsense")
    s.setValue("view/theme", "purple")
    s.sync()
    w = _window(qtbot, ini)
    try:
        assert w.theme.choice == "system"
        assert w.locked_dock.isVisible() and not w.history_dock.isVisible()
        assert w.elbow_dock.isVisible()
    finally:
        w.close()
