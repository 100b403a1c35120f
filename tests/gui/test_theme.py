"""Light and dark themes: the choice, the desktop's scheme, and custom painting from the palette."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from palette_app.core import Palette
from palette_app.gui import theme

WINDOW = QPalette.ColorRole.Window


def _lightness(widget) -> int:
    return widget.palette().color(WINDOW).lightness()


def _painted(window):
    """Colors the app paints itself: preview surround, message bar, a swatch card's background."""
    pane = window.preview.original_pane
    surround = pane.grab().toImage().pixelColor(5, 5)
    bar = window.message_bar
    bar_color = bar.grab().toImage().pixelColor(3, bar.height() // 2)
    view = window.swatches.view
    rect = view.visualRect(window.swatches.model.index(0))
    card = view.viewport().grab().toImage().pixelColor(rect.left() + 5, rect.bottom() - 4)
    return surround, bar_color, card


def test_light_dark_and_back_to_system(window, qtbot):
    original = QApplication.palette().color(WINDOW).name()
    window.document.apply_palette(Palette.from_hex(["#808080", "#ff0000"]), "test")
    window.message_bar.show_message("Cannot use x.gpl as a palette: test")
    qtbot.waitExposed(window)

    window.set_theme("dark")
    qtbot.waitUntil(lambda: _lightness(window) < 80)
    assert window.theme_actions["dark"].isChecked() and window.theme.appearance() == "dark"
    assert theme.is_dark(window.swatches.view.palette())
    surround, bar, card = _painted(window)
    assert surround.lightness() < 60 and surround.saturation() == 0          # neutral, dark
    assert bar.lightness() < 110 and bar.red() > bar.green()                  # dark, tinted red
    assert card.lightness() < 80                                              # the base color

    window.set_theme("light")
    qtbot.waitUntil(lambda: _lightness(window) > 200)
    assert window.theme.appearance() == "light"
    surround, bar, card = _painted(window)
    assert surround.lightness() > 140 and surround.saturation() == 0
    assert bar.lightness() > 180 and bar.red() > bar.green()
    assert card.lightness() > 200

    window.set_theme("system")
    qtbot.waitUntil(lambda: window.palette().color(WINDOW).name() == original)
    assert window.theme_actions["system"].isChecked()


def test_system_follows_the_desktop_scheme(window, qtbot):
    hints = QGuiApplication.styleHints()
    window.set_theme("system")
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    qtbot.waitUntil(lambda: _lightness(window) < 80)
    assert window.theme.appearance() == "dark"
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Light)
    qtbot.waitUntil(lambda: _lightness(window) > 200)
    # An explicit choice wins over the desktop.
    window.set_theme("light")
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    qtbot.wait(10)
    assert _lightness(window) > 200
    hints.colorSchemeChanged.emit(hints.colorScheme())


def test_palettes_and_derived_colors():
    dark, light = theme.dark_palette(), theme.light_palette()
    assert theme.is_dark(dark) and not theme.is_dark(light)
    for pal in (dark, light):
        a, b = theme.checker_colors(pal)
        assert a != b and a.saturation() == 0 and b.saturation() == 0
        bg, ink = theme.overlay_colors(pal)
        assert abs(bg.lightness() - ink.lightness()) > 120                    # readable labels
        bar, _border, text = theme.message_colors(pal)
        assert abs(bar.lightness() - text.lightness()) > 100
    brush = theme.checker_brush(light, 2.0)
    assert brush.texture().devicePixelRatio() == 2.0
    assert brush.texture().width() == 32                                      # 2 × 8 logical px × DPR 2
