"""Light and dark themes, and the colors custom painting takes from the palette.

:class:`ThemeManager` (one per application, :func:`theme_manager`) applies the
user's choice: ``"system"`` follows the desktop
(``QStyleHints.colorScheme()``, and its ``colorSchemeChanged`` signal),
``"light"`` and ``"dark"`` set an explicit Fusion palette (and ask the
platform for that scheme through ``QStyleHints.setColorScheme``, which Qt 6.8+
offers, so native dialogs follow where the platform supports it). Where the
desktop is dark but the platform leaves the palette light (Fusion on a bare
X11 session), "system" applies the dark palette itself.

The helpers below derive every color the app paints itself (preview
surround, checkerboards, overlay labels, the message bar) from a widget's
``QPalette``, so both themes look right.
"""
from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QGuiApplication, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QApplication, QStyleFactory

__all__ = [
    "THEMES",
    "THEME_LABELS",
    "ThemeManager",
    "checker_brush",
    "checker_colors",
    "dark_palette",
    "is_dark",
    "light_palette",
    "message_colors",
    "mix",
    "overlay_colors",
    "surround_color",
    "theme_manager",
]

THEMES = ("system", "light", "dark")
THEME_LABELS = {"system": "&System", "light": "&Light", "dark": "&Dark"}
THEME_TIPS = {
    "system": "Follow the desktop's light or dark appearance",
    "light": "Always use the light theme",
    "dark": "Always use the dark theme",
}

R = QPalette.ColorRole
G = QPalette.ColorGroup


# --------------------------------------------------------------------------- palettes
def light_palette() -> QPalette:
    """Fusion's own light palette."""
    return QStyleFactory.create("Fusion").standardPalette()


def dark_palette() -> QPalette:
    """A dark Fusion palette (neutral grays, so it does not tint how colors look)."""
    p = QPalette()
    window, base, text = QColor(45, 45, 45), QColor(30, 30, 30), QColor(230, 230, 230)
    disabled = QColor(130, 130, 130)
    highlight = QColor(42, 130, 218)
    for role, color in (
        (R.Window, window), (R.WindowText, text), (R.Base, base), (R.AlternateBase, QColor(38, 38, 38)),
        (R.ToolTipBase, QColor(60, 60, 60)), (R.ToolTipText, text), (R.PlaceholderText, QColor(150, 150, 150)),
        (R.Text, text), (R.Button, QColor(53, 53, 53)), (R.ButtonText, text), (R.BrightText, QColor(255, 90, 90)),
        (R.Light, QColor(75, 75, 75)), (R.Midlight, QColor(62, 62, 62)), (R.Mid, QColor(80, 80, 80)),
        (R.Dark, QColor(25, 25, 25)), (R.Shadow, QColor(0, 0, 0)),
        (R.Highlight, highlight), (R.HighlightedText, QColor(255, 255, 255)),
        (R.Link, QColor(90, 160, 240)), (R.LinkVisited, QColor(170, 130, 230)),
    ):
        p.setColor(role, color)
    for role in (R.WindowText, R.Text, R.ButtonText):
        p.setColor(G.Disabled, role, disabled)
    p.setColor(G.Disabled, R.Highlight, QColor(70, 70, 70))
    p.setColor(G.Disabled, R.HighlightedText, disabled)
    if hasattr(R, "Accent"):
        p.setColor(R.Accent, highlight)
    return p


def is_dark(palette: QPalette) -> bool:
    """True when the palette's window color is darker than its text."""
    return palette.color(R.Window).lightness() < palette.color(R.WindowText).lightness()


# --------------------------------------------------------------------------- derived colors
def mix(a: QColor, b: QColor, t: float) -> QColor:
    """``a`` blended toward ``b`` by ``t`` (0 … 1)."""
    return QColor(round(a.red() + (b.red() - a.red()) * t), round(a.green() + (b.green() - a.green()) * t),
                  round(a.blue() + (b.blue() - a.blue()) * t))


def surround_color(palette: QPalette) -> QColor:
    """The neutral gray around the image: a shade darker than the window, never tinted."""
    v = palette.color(R.Window).lightness()
    return QColor.fromHsl(0, 0, round(v * 0.72))


def checker_colors(palette: QPalette) -> tuple[QColor, QColor]:
    """Two neutral grays for the checkerboard under transparent pixels."""
    v = palette.color(R.Base).lightness()
    if v >= 128:
        return QColor.fromHsl(0, 0, v), QColor.fromHsl(0, 0, max(0, v - 51))
    return QColor.fromHsl(0, 0, v + 40), QColor.fromHsl(0, 0, v + 80)


def checker_brush(palette: QPalette, dpr: float = 1.0, cell: int = 8) -> QBrush:
    """A checkerboard brush of ``cell`` logical pixels, sharp at device pixel ratio ``dpr``."""
    dpr = max(1.0, float(dpr))
    n = max(1, round(cell * dpr))
    tile = QPixmap(2 * n, 2 * n)
    a, b = checker_colors(palette)
    tile.fill(b)
    p = QPainter(tile)
    p.fillRect(0, 0, n, n, a)
    p.fillRect(n, n, n, n, a)
    p.end()
    tile.setDevicePixelRatio(dpr)
    return QBrush(tile)


def overlay_colors(palette: QPalette) -> tuple[QColor, QColor]:
    """(background, text) of a label drawn over the image: the window's colors, translucent."""
    bg = QColor(palette.color(R.Window))
    bg.setAlpha(215)
    return bg, QColor(palette.color(R.WindowText))


def message_colors(palette: QPalette) -> tuple[QColor, QColor, QColor]:
    """(background, border, text) of an error message: the window tinted red."""
    window = palette.color(R.Window)
    red = QColor(220, 50, 47)
    dark = is_dark(palette)
    return (mix(window, red, 0.28 if dark else 0.14), mix(window, red, 0.6 if dark else 0.45),
            QColor(palette.color(R.WindowText)))


# --------------------------------------------------------------------------- manager
class ThemeManager(QObject):
    """Applies the theme choice to the application (one per ``QApplication``)."""

    #: The effective appearance changed: ``"light"`` or ``"dark"``.
    appearanceChanged = Signal(str)

    def __init__(self, app: QApplication):
        super().__init__(app)
        self._app = app
        self._choice = "system"
        self._original_style = app.style().name()
        self._overridden = False
        hints = QGuiApplication.styleHints()
        self._system_scheme = hints.colorScheme()
        hints.colorSchemeChanged.connect(self._system_changed)

    @property
    def choice(self) -> str:
        return self._choice

    @property
    def system_scheme(self) -> Qt.ColorScheme:
        return self._system_scheme

    def appearance(self) -> str:
        """``"dark"`` or ``"light"``: what the application shows now."""
        return "dark" if is_dark(self._app.palette()) else "light"

    def set_choice(self, choice: str) -> None:
        if choice not in THEMES:
            raise ValueError(f"theme must be one of {THEMES}, got {choice!r}")
        self._choice = choice
        self._apply()

    def _system_changed(self, scheme) -> None:
        self._system_scheme = scheme
        if self._choice == "system":
            self._apply()

    def _set_platform_scheme(self, scheme: Qt.ColorScheme | None) -> None:
        hints = QGuiApplication.styleHints()
        try:
            if scheme is None:
                hints.unsetColorScheme()
            else:
                hints.setColorScheme(scheme)
        except AttributeError:   # Qt before 6.8: the explicit palette does it all
            pass

    def _apply(self) -> None:
        before = self.appearance()
        if self._choice == "system":
            self._set_platform_scheme(None)
            self._reset()
            want = {Qt.ColorScheme.Dark: "dark", Qt.ColorScheme.Light: "light"}.get(self._system_scheme)
            if want is not None and want != self.appearance():
                # The desktop is dark (light) but the platform left the palette as it was.
                self._override(want)
        else:
            self._set_platform_scheme(Qt.ColorScheme.Dark if self._choice == "dark" else Qt.ColorScheme.Light)
            self._override(self._choice)
        after = self.appearance()
        if after != before:
            self.appearanceChanged.emit(after)

    def _override(self, kind: str) -> None:
        if self._app.style().name().lower() != "fusion":
            self._app.setStyle("Fusion")
        self._app.setPalette(dark_palette() if kind == "dark" else light_palette())
        self._overridden = True

    def _reset(self) -> None:
        if not self._overridden:
            return
        if self._app.style().name().lower() != self._original_style.lower():
            self._app.setStyle(self._original_style)
        # A palette that sets no role: every role comes from the platform and style again.
        self._app.setPalette(QPalette())
        self._overridden = False


_manager: ThemeManager | None = None


def theme_manager() -> ThemeManager:
    """The application's theme manager (made on first use; needs a QApplication)."""
    global _manager
    app = QApplication.instance()
    if app is None:
        raise RuntimeError("the theme needs a QApplication")
    try:
        same = _manager is not None and _manager.parent() is app
    except RuntimeError:          # the previous application is gone
        same = False
    if not same:
        _manager = ThemeManager(app)
    return _manager
