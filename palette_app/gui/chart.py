"""The elbow chart: inertia and mean ΔE2000 against the number of colors, painted with QPainter.

PySide6-Essentials has no QtCharts, and the chart needs little: two curves
with their own y-axes (inertia on a log scale at the left, ΔE2000 at the
right), the suggested k marked, the current k highlighted, the values of the
point under the mouse. Colors come from the widget's palette, so the chart
follows light and dark themes; everything is drawn in logical coordinates
with antialiasing, so it is sharp at any device pixel ratio.

Click a point, or use Left/Right (Home/End) when the chart has the focus, to
choose a k: :attr:`ElbowChart.kChosen` is emitted.
"""
from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPainterPath, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

__all__ = ["ElbowChart", "nice_ticks"]


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """Round tick values (1, 2, 2.5, 5 × 10^k steps) covering [lo, hi], about ``n`` of them."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo]
    raw = (hi - lo) / max(n, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    out = []
    v = first
    while v <= hi + 1e-9 * step:
        out.append(round(v, 10))
        v += step
    return out


def _mix(a: QColor, b: QColor, t: float) -> QColor:
    return QColor.fromRgbF(a.redF() + (b.redF() - a.redF()) * t, a.greenF() + (b.greenF() - a.greenF()) * t,
                           a.blueF() + (b.blueF() - a.blueF()) * t, 1.0)


def _is_dark(c: QColor) -> bool:
    return c.lightnessF() < 0.5


def _fmt_inertia(v: float) -> str:
    if v == 0:
        return "0"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.3g}"


class ElbowChart(QWidget):
    """Draws an :class:`~palette_app.core.ElbowCurve` (or nothing, with a message)."""

    #: The user chose a number of colors (click, or Left/Right keys).
    kChosen = Signal(int)
    #: The k under the mouse (0 when none).
    hovered = Signal(int)

    #: Margins around the plot area, in logical pixels: left, top, right, bottom.
    MARGINS = (58, 30, 52, 40)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setToolTip("Error left by each number of colors: click a point (or use ← and → "
                        "here) to use that many colors; the dashed line is the suggested number")
        self.setAccessibleName("How many colors chart")
        self._curve = None
        self._current: int | None = None
        self._hover: int | None = None
        self._message = "No image"

    # ------------------------------------------------------------------ data
    @property
    def curve(self):
        return self._curve

    @property
    def current(self) -> int | None:
        return self._current

    @property
    def hover_k(self) -> int | None:
        return self._hover

    def set_curve(self, curve) -> None:
        """Show ``curve`` (an ElbowCurve), or nothing when None."""
        self._curve = curve
        self._hover = None
        if curve is not None:
            self.setAccessibleDescription(
                f"Suggested {curve.suggested_k} colors; k from {int(curve.ks[0])} to {int(curve.ks[-1])}")
        self.update()

    def set_message(self, text: str) -> None:
        """What the chart says when it has no curve (busy, no image, an error)."""
        self._message = text
        self.update()

    def set_current(self, k: int | None) -> None:
        """Highlight ``k`` (the main window's current number of colors); None for none."""
        k = None if k is None else int(k)
        if k != self._current:
            self._current = k
            self.update()

    def ks(self) -> np.ndarray:
        return np.zeros(0, int) if self._curve is None else np.asarray(self._curve.ks, int)

    # ------------------------------------------------------------------ geometry
    def plot_rect(self) -> QRectF:
        left, top, right, bottom = self.MARGINS
        return QRectF(left, top, max(1.0, self.width() - left - right),
                      max(1.0, self.height() - top - bottom))

    def _x(self, k: float) -> float:
        ks = self.ks()
        r = self.plot_rect()
        span = max(int(ks[-1]) - int(ks[0]), 1)
        return r.left() + r.width() * (k - int(ks[0])) / span

    def _log_range(self) -> tuple[float, float, np.ndarray]:
        """log10 of the inertia (floored at 1e-6 of the first value), and its range."""
        inertia = np.asarray(self._curve.inertia, float)
        top = float(inertia.max()) if inertia.size and inertia.max() > 0 else 1.0
        floor = top * 1e-6
        logs = np.log10(np.maximum(inertia, floor))
        lo, hi = float(logs.min()), float(logs.max())
        if hi - lo < 1e-9:
            lo, hi = lo - 0.5, hi + 0.5
        return lo, hi, logs

    def _de_max(self) -> float:
        de = np.asarray(self._curve.delta_e, float)
        m = float(de.max()) if de.size else 0.0
        ticks = nice_ticks(0.0, m * 1.05 if m > 0 else 1.0, 4)
        return max(ticks[-1], m * 1.05) if m > 0 else 1.0

    def _y_inertia(self, i: int) -> float:
        lo, hi, logs = self._log_range()
        r = self.plot_rect()
        return r.bottom() - r.height() * (logs[i] - lo) / (hi - lo)

    def _y_de(self, i: int) -> float:
        r = self.plot_rect()
        return r.bottom() - r.height() * float(self._curve.delta_e[i]) / self._de_max()

    def point_position(self, k: int, series: str = "delta_e") -> QPointF:
        """Where point ``k`` of ``series`` ('delta_e' or 'inertia') is drawn, in widget coordinates."""
        ks = self.ks()
        idx = np.flatnonzero(ks == int(k))
        if idx.size == 0:
            raise ValueError(f"k={k} is not on the chart ({int(ks[0])}..{int(ks[-1])})"
                             if ks.size else "the chart is empty")
        i = int(idx[0])
        y = self._y_inertia(i) if series == "inertia" else self._y_de(i)
        return QPointF(self._x(int(k)), y)

    def k_at(self, pos: QPointF) -> int | None:
        """The k whose column is nearest to ``pos`` (None outside the plot or without a curve)."""
        ks = self.ks()
        if ks.size == 0:
            return None
        r = self.plot_rect()
        slack = max(8.0, r.width() / max(len(ks) - 1, 1) / 2)
        if not (r.left() - slack <= pos.x() <= r.right() + slack
                and r.top() - 8 <= pos.y() <= r.bottom() + 8):
            return None
        span = max(int(ks[-1]) - int(ks[0]), 1)
        k = int(ks[0]) + round((pos.x() - r.left()) / r.width() * span)
        return int(min(max(k, int(ks[0])), int(ks[-1])))

    def hover_text(self) -> str:
        """The values of the point under the mouse ('' when none)."""
        if self._curve is None or self._hover is None:
            return ""
        i = int(np.flatnonzero(self.ks() == self._hover)[0])
        return (f"{self._hover} colors · ΔE2000 {float(self._curve.delta_e[i]):.2f} · "
                f"inertia {_fmt_inertia(float(self._curve.inertia[i]))}")

    # ------------------------------------------------------------------ colors
    def colors(self) -> dict[str, QColor]:
        """The chart's colors, from the widget palette (light or dark)."""
        pal = self.palette()
        base = pal.color(QPalette.ColorRole.Base)
        text = pal.color(QPalette.ColorRole.Text)
        dark = _is_dark(base)
        return {
            "background": base,
            "text": text,
            "muted": _mix(base, text, 0.6),
            "grid": _mix(base, text, 0.12),
            "axis": _mix(base, text, 0.45),
            "inertia": QColor("#6cb4ee") if dark else QColor("#1f6fb4"),
            "delta_e": QColor("#ffab5c") if dark else QColor("#c8560a"),
            "highlight": pal.color(QPalette.ColorRole.Highlight),
            "highlight_text": pal.color(QPalette.ColorRole.HighlightedText),
        }

    # ------------------------------------------------------------------ painting
    def sizeHint(self) -> QSize:
        return QSize(420, 240)

    def minimumSizeHint(self) -> QSize:
        return QSize(220, 150)

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        c = self.colors()
        p.fillRect(self.rect(), c["background"])
        if self._curve is None or len(self.ks()) < 2:
            p.setPen(c["muted"])
            p.drawText(QRectF(self.rect()).adjusted(8, 8, -8, -8),
                       Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self._message)
            self._paint_focus(p, c)
            p.end()
            return
        self._paint_axes(p, c)
        self._paint_marks(p, c)
        self._paint_series(p, c)
        self._paint_legend(p, c)
        self._paint_hover(p, c)
        self._paint_focus(p, c)
        p.end()

    def _paint_focus(self, p: QPainter, c) -> None:
        if self.hasFocus():
            pen = QPen(c["highlight"], 1.5)
            p.setPen(pen)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRoundedRect(QRectF(self.rect()).adjusted(1, 1, -1, -1), 3, 3)

    def _paint_axes(self, p: QPainter, c) -> None:
        r = self.plot_rect()
        fm = QFontMetricsF(self.font())
        ks = self.ks()
        grid = QPen(c["grid"], 1)
        grid.setCosmetic(True)
        # Horizontal grid and the ΔE axis (right).
        de_max = self._de_max()
        p.setPen(c["delta_e"])
        for v in nice_ticks(0.0, de_max, 4):
            y = r.bottom() - r.height() * v / de_max
            p.setPen(grid)
            p.drawLine(QPointF(r.left(), y), QPointF(r.right(), y))
            p.setPen(c["delta_e"])
            p.drawText(QRectF(r.right() + 5, y - fm.height() / 2, 44, fm.height()),
                       Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, f"{v:g}")
        # Inertia axis (left, log scale): decades, or a few values inside one.
        lo, hi, _ = self._log_range()
        decades = [d for d in range(math.ceil(lo - 1e-9), math.floor(hi + 1e-9) + 1)]
        values = decades if len(decades) >= 2 else list(np.linspace(lo, hi, 4))
        if len(values) > 6:
            step = math.ceil(len(values) / 6)
            values = values[::step]
        p.setPen(c["inertia"])
        for lv in values:
            y = r.bottom() - r.height() * (lv - lo) / (hi - lo)
            p.drawText(QRectF(0, y - fm.height() / 2, r.left() - 6, fm.height()),
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                       _fmt_inertia(10 ** lv))
        # x axis: k.
        axis = QPen(c["axis"], 1)
        axis.setCosmetic(True)
        p.setPen(axis)
        p.drawLine(r.bottomLeft(), r.bottomRight())
        p.drawLine(r.topLeft(), r.bottomLeft())
        p.drawLine(r.topRight(), r.bottomRight())
        span = int(ks[-1]) - int(ks[0])
        label_w = fm.horizontalAdvance("256") + 10
        step = max(1, math.ceil(span / max(1.0, r.width() / label_w)))
        step = next(s for s in (1, 2, 4, 5, 8, 10, 16, 20, 25, 32, 50, 64, 100, 128, 256) if s >= step)
        ticks = [k for k in ks if (k % step == 0) or k == ks[0]]
        if len(ticks) > 1 and 0 < ticks[1] - ticks[0] < step / 2:
            ticks.pop(1)   # the first k crowding the first round one
        for k in ticks:
            x = self._x(int(k))
            p.setPen(axis)
            p.drawLine(QPointF(x, r.bottom()), QPointF(x, r.bottom() + 4))
            p.setPen(c["text"])
            p.drawText(QRectF(x - label_w / 2, r.bottom() + 5, label_w, fm.height()),
                       Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, str(int(k)))
        p.setPen(c["muted"])
        p.drawText(QRectF(r.left(), r.bottom() + 5 + fm.height(), r.width(), fm.height()),
                   Qt.AlignmentFlag.AlignHCenter, "Number of colors")
        # Axis titles, rotated.
        for text, x, color, angle in (("Inertia (log)", 2 + fm.height() / 2, c["inertia"], -90),
                                      ("Mean ΔE2000", self.width() - 2 - fm.height() / 2,
                                       c["delta_e"], 90)):
            p.save()
            p.translate(x, r.center().y())
            p.rotate(angle)
            p.setPen(color)
            p.drawText(QRectF(-r.height() / 2, -fm.height() / 2, r.height(), fm.height()),
                       Qt.AlignmentFlag.AlignCenter, text)
            p.restore()

    def _paint_marks(self, p: QPainter, c) -> None:
        r = self.plot_rect()
        fm = QFontMetricsF(self.font())
        ks = self.ks()
        if self._current is not None and int(ks[0]) <= self._current <= int(ks[-1]):
            x = self._x(self._current)
            band = QColor(c["highlight"])
            band.setAlphaF(0.18)
            w = max(6.0, r.width() / max(len(ks) - 1, 1) * 0.8)
            p.fillRect(QRectF(x - w / 2, r.top(), w, r.height()), band)
        k = int(self._curve.suggested_k)
        x = self._x(k)
        pen = QPen(c["muted"], 1.5, Qt.PenStyle.DashLine)
        p.setPen(pen)
        p.drawLine(QPointF(x, r.top()), QPointF(x, r.bottom()))
        text = f"suggested: {k}"
        tw = fm.horizontalAdvance(text) + 8
        tx = x + 4 if x + 4 + tw <= r.right() else x - 4 - tw
        p.setPen(c["text"])
        p.drawText(QRectF(tx, r.top() + 2, tw, fm.height()),
                   Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)

    def _paint_series(self, p: QPainter, c) -> None:
        ks = self.ks()
        r = self.plot_rect()
        spacing = r.width() / max(len(ks) - 1, 1)
        radius = 3.0 if spacing >= 7 else (2.0 if spacing >= 4 else 0.0)
        for name, y_of in (("inertia", self._y_inertia), ("delta_e", self._y_de)):
            color = c[name]
            pts = [QPointF(self._x(int(k)), y_of(i)) for i, k in enumerate(ks)]
            path = QPainterPath(pts[0])
            for pt in pts[1:]:
                path.lineTo(pt)
            p.setPen(QPen(color, 2.0, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                          Qt.PenJoinStyle.RoundJoin))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawPath(path)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(color)
            for i, pt in enumerate(pts):
                k = int(ks[i])
                rad = radius
                if k == self._current or k == self._curve.suggested_k:
                    rad = 4.5
                if rad:
                    p.drawEllipse(pt, rad, rad)
            if self._current is not None and int(ks[0]) <= self._current <= int(ks[-1]):
                pt = pts[int(np.flatnonzero(ks == self._current)[0])]
                p.setPen(QPen(c["highlight"], 2.0))
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawEllipse(pt, 6.5, 6.5)
                p.setPen(Qt.PenStyle.NoPen)

    def _paint_legend(self, p: QPainter, c) -> None:
        fm = QFontMetricsF(self.font())
        x = self.plot_rect().left()
        y = 6.0
        for name, text in (("inertia", "Inertia"), ("delta_e", "Mean ΔE2000")):
            p.setPen(QPen(c[name], 2.5))
            p.drawLine(QPointF(x, y + fm.height() / 2), QPointF(x + 16, y + fm.height() / 2))
            p.setPen(c["text"])
            w = fm.horizontalAdvance(text) + 4
            p.drawText(QRectF(x + 20, y, w, fm.height()),
                       Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)
            x += 20 + w + 14

    def _paint_hover(self, p: QPainter, c) -> None:
        if self._hover is None:
            return
        r = self.plot_rect()
        x = self._x(self._hover)
        pen = QPen(c["axis"], 1, Qt.PenStyle.DotLine)
        p.setPen(pen)
        p.drawLine(QPointF(x, r.top()), QPointF(x, r.bottom()))
        for series in ("inertia", "delta_e"):
            pt = self.point_position(self._hover, series)
            p.setPen(QPen(c["text"], 1.5))
            p.setBrush(c[series])
            p.drawEllipse(pt, 4.5, 4.5)
        text = self.hover_text()
        fm = QFontMetricsF(self.font())
        w, h = fm.horizontalAdvance(text) + 12, fm.height() + 6
        bx = x + 8 if x + 8 + w <= self.width() - 2 else x - 8 - w
        bx = max(2.0, bx)
        box = QRectF(bx, r.top() + fm.height() + 6, w, h)
        bg = QColor(c["background"])
        bg.setAlphaF(0.92)
        p.setPen(QPen(c["axis"], 1))
        p.setBrush(bg)
        p.drawRoundedRect(box, 3, 3)
        p.setPen(c["text"])
        p.drawText(box, Qt.AlignmentFlag.AlignCenter, text)

    # ------------------------------------------------------------------ input
    def mouseMoveEvent(self, event) -> None:
        k = self.k_at(event.position())
        if k != self._hover:
            self._hover = k
            self.hovered.emit(k or 0)
            self.update()
        super().mouseMoveEvent(event)

    def leaveEvent(self, event) -> None:
        if self._hover is not None:
            self._hover = None
            self.hovered.emit(0)
            self.update()
        super().leaveEvent(event)

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            k = self.k_at(event.position())
            if k is not None:
                self.setFocus(Qt.FocusReason.MouseFocusReason)
                self._choose(k)
                event.accept()
                return
        super().mousePressEvent(event)

    def keyPressEvent(self, event) -> None:
        ks = self.ks()
        if ks.size == 0:
            super().keyPressEvent(event)
            return
        lo, hi = int(ks[0]), int(ks[-1])
        cur = self._current if self._current is not None else int(self._curve.suggested_k)
        key = event.key()
        target = {Qt.Key.Key_Left: cur - 1, Qt.Key.Key_Right: cur + 1, Qt.Key.Key_Down: cur - 1,
                  Qt.Key.Key_Up: cur + 1, Qt.Key.Key_Home: lo, Qt.Key.Key_End: hi,
                  Qt.Key.Key_PageDown: cur - 5, Qt.Key.Key_PageUp: cur + 5}.get(key)
        if target is None:
            super().keyPressEvent(event)
            return
        if self._current is None and key in (Qt.Key.Key_Left, Qt.Key.Key_Right):
            target = cur   # the first key press lands on the suggested k
        self._choose(min(max(target, lo), hi))
        event.accept()

    def _choose(self, k: int) -> None:
        self.set_current(k)
        self.kChosen.emit(int(k))
