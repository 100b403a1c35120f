"""The preview: original and quantized image, side by side or split by a divider.

:class:`ViewState` is the model: zoom (screen pixels per image pixel, in
full-resolution image coordinates) and the image point at the center of a
view, or "fit". Every :class:`ImagePane` paints from the one shared state and
changes it on wheel and drag, so zoom and pan are synchronised between the
panes by construction. :class:`PreviewWidget` holds two panes side by side
and one split pane, and shows one layout at a time.

High DPI: the view state works in logical pixels, but the zoom the user sees
(and "100 %") counts *device* pixels, so at a device pixel ratio of 2 "100 %"
is one image pixel per physical pixel. Magnified images are drawn without
smoothing whenever an image pixel covers at least one device pixel, so pixels
stay crisp. Every color painted here comes from the widget's palette
(:mod:`palette_app.gui.theme`), so light and dark themes both look right.
"""
from __future__ import annotations

import math

from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, QSize, QSizeF, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QImage,
    QPainter,
    QPainterPath,
    QPalette,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import (
    QHBoxLayout,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from palette_app.gui.theme import checker_brush, overlay_colors, surround_color

__all__ = ["ImagePane", "PreviewWidget", "ViewState"]

MIN_ZOOM = 1.0 / 64
MAX_ZOOM = 64.0
#: Zoom factor of one wheel notch (and of zoom in / out).
ZOOM_STEP = 1.25
#: How close (in pixels) the pointer must be to grab the split divider.
DIVIDER_GRAB = 8
#: Arrow keys pan by this fraction of the pane.
KEY_PAN = 0.1
R = QPalette.ColorRole


class ViewState(QObject):
    """Zoom and pan shared by every pane.

    Coordinates are full-resolution image pixels; the preview pixmaps (which
    may be smaller) are stretched over the image's full size. In *fit* mode
    the zoom follows the pane size.
    """

    changed = Signal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._size = QSize()
        self._fit = True
        self._zoom = 1.0
        self._center = QPointF()

    # -- state -------------------------------------------------------------
    @property
    def image_size(self) -> QSize:
        return QSize(self._size)

    def set_image_size(self, size: QSize) -> None:
        """A new image: back to fit."""
        self._size = QSize(size)
        self._fit = True
        self._center = QPointF(size.width() / 2, size.height() / 2)
        self.changed.emit()

    @property
    def is_fit(self) -> bool:
        return self._fit

    def zoom(self, viewport: QSizeF) -> float:
        """Screen pixels per image pixel in a pane of size ``viewport``."""
        if not self._fit:
            return self._zoom
        w, h = self._size.width(), self._size.height()
        if w <= 0 or h <= 0 or viewport.width() <= 0 or viewport.height() <= 0:
            return 1.0
        return max(MIN_ZOOM, min(viewport.width() / w, viewport.height() / h))

    def center(self, viewport: QSizeF) -> QPointF:
        if self._fit:
            return QPointF(self._size.width() / 2, self._size.height() / 2)
        return QPointF(self._center)

    # -- mapping -------------------------------------------------------------
    def to_widget(self, p: QPointF, viewport: QSizeF) -> QPointF:
        z = self.zoom(viewport)
        c = self.center(viewport)
        return QPointF((p.x() - c.x()) * z + viewport.width() / 2,
                       (p.y() - c.y()) * z + viewport.height() / 2)

    def to_image(self, p: QPointF, viewport: QSizeF) -> QPointF:
        z = self.zoom(viewport)
        c = self.center(viewport)
        return QPointF((p.x() - viewport.width() / 2) / z + c.x(),
                       (p.y() - viewport.height() / 2) / z + c.y())

    # -- changes ---------------------------------------------------------------
    def set_fit(self) -> None:
        self._fit = True
        self.changed.emit()

    def set_zoom(self, zoom: float, viewport: QSizeF, anchor: QPointF | None = None) -> None:
        """Zoom so that the image point under ``anchor`` (widget coordinates;
        default the pane's center) stays where it is."""
        if anchor is None:
            anchor = QPointF(viewport.width() / 2, viewport.height() / 2)
        zoom = min(MAX_ZOOM, max(MIN_ZOOM, float(zoom)))
        under = self.to_image(anchor, viewport)
        self._fit = False
        self._zoom = zoom
        self._center = QPointF(under.x() - (anchor.x() - viewport.width() / 2) / zoom,
                               under.y() - (anchor.y() - viewport.height() / 2) / zoom)
        self.changed.emit()

    def zoom_by(self, factor: float, viewport: QSizeF, anchor: QPointF | None = None) -> None:
        self.set_zoom(self.zoom(viewport) * factor, viewport, anchor)

    def pan(self, delta: QPointF, viewport: QSizeF) -> None:
        """Move the image by ``delta`` widget pixels."""
        z = self.zoom(viewport)
        c = self.center(viewport)
        self._zoom = z
        self._fit = False
        self._center = QPointF(c.x() - delta.x() / z, c.y() - delta.y() / z)
        self.changed.emit()


class ImagePane(QWidget):
    """Paints the original, the quantized image, or both split by a divider.

    ``role`` is ``"original"``, ``"quantized"`` or ``"split"``. Drag to pan,
    wheel to zoom around the pointer; in a split pane, drag the divider.
    """

    dividerMoved = Signal(float)

    def __init__(self, state: ViewState, role: str, parent: QWidget | None = None):
        super().__init__(parent)
        if role not in ("original", "quantized", "split"):
            raise ValueError(f"unknown pane role {role!r}")
        self.state = state
        self.role = role
        self.original: QPixmap | None = None
        self.quantized: QPixmap | None = None
        self.placeholder = ""
        self.busy_text = ""
        self.quantized_label = "Quantized"
        self._split = 0.5
        self._drag: str | None = None       # "pan" or "divider"
        self._last = QPointF()
        self._checker: QBrush | None = None
        self._checker_key: tuple | None = None
        self._focus_visible = False
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.WheelFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(120, 120)
        state.changed.connect(self.update)

    # -- properties -------------------------------------------------------------
    @property
    def viewport(self) -> QSizeF:
        return QSizeF(self.width(), self.height())

    @property
    def split(self) -> float:
        """Divider position as a fraction of the width (split panes)."""
        return self._split

    def set_split(self, fraction: float) -> None:
        self._split = min(1.0, max(0.0, float(fraction)))
        self.dividerMoved.emit(self._split)
        self.update()

    def divider_x(self) -> float:
        return self._split * self.width()

    def sizeHint(self) -> QSize:
        return QSize(480, 400)

    def device_scale(self, z: float, pix: QPixmap, target: QRectF) -> float:
        """Device pixels per pixmap pixel when ``pix`` covers ``target`` at zoom ``z``."""
        return z * target.width() / max(1, pix.width()) * self.devicePixelRatioF()

    def checker(self) -> QBrush:
        """The checkerboard under transparent pixels, from the palette, sharp at this DPR."""
        key = (self.palette().cacheKey(), self.devicePixelRatioF())
        if self._checker is None or key != self._checker_key:
            self._checker = checker_brush(self.palette(), self.devicePixelRatioF())
            self._checker_key = key
        return self._checker

    # -- painting --------------------------------------------------------------
    def _draw_image(self, p: QPainter, pix: QPixmap, target: QRectF, z: float) -> None:
        # Crisp pixels whenever one image pixel covers a device pixel or more
        # (nearest neighbour), smooth only when the image is shrunk on the device.
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self.device_scale(z, pix, target) < 1.0)
        if pix.hasAlphaChannel():
            p.fillRect(target, self.checker())
        p.drawPixmap(target, pix, QRectF(pix.rect()))

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        # A neutral gray surround from the theme: it does not tint how the colors look.
        p.fillRect(self.rect(), surround_color(self.palette()))
        vp = self.viewport
        size = self.state.image_size
        if size.isEmpty() or self.original is None:
            if self.role != "quantized":      # said once, not in both halves
                self._draw_text(p, self.placeholder)
            p.end()
            return
        first = self.quantized if self.role == "quantized" else self.original
        z = self.state.zoom(vp)
        c = self.state.center(vp)
        img_rect = QRectF(0, 0, size.width(), size.height())
        p.save()
        p.translate(vp.width() / 2, vp.height() / 2)
        p.scale(z, z)
        p.translate(-c.x(), -c.y())
        if self.role == "split":
            # Clip in image coordinates: everything left of the divider is the original.
            left = self.state.to_image(QPointF(self.divider_x(), 0), vp).x()
            p.save()
            p.setClipRect(QRectF(img_rect.left(), img_rect.top(), max(0.0, left - img_rect.left()),
                                 img_rect.height()))
            self._draw_image(p, self.original, img_rect, z)
            p.restore()
            if self.quantized is not None:
                p.setClipRect(QRectF(left, img_rect.top(), max(0.0, img_rect.right() - left),
                                     img_rect.height()))
                self._draw_image(p, self.quantized, img_rect, z)
        elif first is not None:
            self._draw_image(p, first, img_rect, z)
        p.restore()
        if self.role == "split":
            self._draw_divider(p)
            self._draw_label(p, "Original", left_side=True)
            self._draw_label(p, self.quantized_label, left_side=False)
        elif self.role == "original":
            self._draw_label(p, "Original", left_side=True)
        elif self.quantized is not None:
            self._draw_label(p, self.quantized_label, left_side=True)
        if self.busy_text or (self.role != "original" and self.quantized is None):
            self._draw_label(p, self.busy_text or "Computing…", left_side=False, bottom=True)
        if self._focus_visible and self.hasFocus():
            self._draw_focus(p)
        p.end()

    def _draw_focus(self, p: QPainter) -> None:
        """A frame in the highlight color: keyboard focus is visible on the image too
        (only when it came from the keyboard, like CSS :focus-visible)."""
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.setPen(QPen(self.palette().color(R.Highlight), 2))
        p.drawRect(QRectF(self.rect()).adjusted(1, 1, -1, -1))

    def _draw_text(self, p: QPainter, text: str) -> None:
        if not text:
            return
        p.setPen(self.palette().color(R.WindowText))
        p.drawText(self.rect().adjusted(16, 16, -16, -16),
                   Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, text)

    def _draw_divider(self, p: QPainter) -> None:
        x = self.divider_x()
        pal = self.palette()
        halo = QColor(pal.color(R.WindowText))
        halo.setAlpha(140)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setPen(QPen(halo, 3))
        p.drawLine(QPointF(x, 0), QPointF(x, self.height()))
        p.setPen(QPen(pal.color(R.Window), 1))
        p.drawLine(QPointF(x, 0), QPointF(x, self.height()))
        # A round handle with arrows in the middle.
        cy = self.height() / 2
        p.setBrush(pal.color(R.Button))
        p.setPen(QPen(halo, 1))
        p.drawEllipse(QPointF(x, cy), 11, 11)
        path = QPainterPath()
        path.moveTo(x - 3, cy - 5)
        path.lineTo(x - 8, cy)
        path.lineTo(x - 3, cy + 5)
        path.moveTo(x + 3, cy - 5)
        path.lineTo(x + 8, cy)
        path.lineTo(x + 3, cy + 5)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.setPen(QPen(pal.color(R.ButtonText), 1.5))
        p.drawPath(path)

    def _draw_label(self, p: QPainter, text: str, *, left_side: bool, bottom: bool = False) -> None:
        fm = p.fontMetrics()
        w = fm.horizontalAdvance(text) + 12
        h = fm.height() + 6
        x = 8 if left_side else self.width() - w - 8
        y = self.height() - h - 8 if bottom else 8
        r = QRectF(x, y, w, h)
        background, ink = overlay_colors(self.palette())
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(background)
        p.drawRoundedRect(r, 4, 4)
        p.setPen(ink)
        p.drawText(r, Qt.AlignmentFlag.AlignCenter, text)

    # -- interaction ---------------------------------------------------------------
    def _near_divider(self, pos: QPointF) -> bool:
        return self.role == "split" and abs(pos.x() - self.divider_x()) <= DIVIDER_GRAB

    def mousePressEvent(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return super().mousePressEvent(event)
        pos = event.position()
        if self._focus_visible:
            self._focus_visible = False
            self.update()
        self._drag = "divider" if self._near_divider(pos) else "pan"
        self._last = pos
        if self._drag == "pan":
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
        event.accept()

    def mouseMoveEvent(self, event) -> None:
        pos = event.position()
        if self._drag == "divider":
            self.set_split(pos.x() / max(1, self.width()))
        elif self._drag == "pan":
            delta = pos - self._last
            self._last = pos
            if not self.state.image_size.isEmpty():
                self.state.pan(delta, self.viewport)
        elif self._near_divider(pos):
            self.setCursor(Qt.CursorShape.SplitHCursor)
        else:
            self.setCursor(Qt.CursorShape.OpenHandCursor if self.original is not None
                           else Qt.CursorShape.ArrowCursor)
        event.accept()

    def mouseReleaseEvent(self, event) -> None:
        self._drag = None
        self.setCursor(Qt.CursorShape.OpenHandCursor if self.original is not None
                       else Qt.CursorShape.ArrowCursor)
        event.accept()

    def mouseDoubleClickEvent(self, event) -> None:
        # Double-click: toggle between fit and 100 % (device pixels) at the pointer.
        if self.state.image_size.isEmpty():
            return
        if self.state.is_fit:
            self.state.set_zoom(1.0 / self.devicePixelRatioF(), self.viewport, event.position())
        else:
            self.state.set_fit()

    def keyPressEvent(self, event) -> None:
        """Arrow keys pan (a tenth of the pane); with Shift, they move a split divider."""
        key = event.key()
        arrows = {Qt.Key.Key_Left: (1, 0), Qt.Key.Key_Right: (-1, 0),
                  Qt.Key.Key_Up: (0, 1), Qt.Key.Key_Down: (0, -1)}
        if key not in arrows or self.state.image_size.isEmpty():
            return super().keyPressEvent(event)
        dx, dy = arrows[key]
        if self.role == "split" and event.modifiers() & Qt.KeyboardModifier.ShiftModifier and dy == 0:
            self.set_split(self._split - dx * 0.05)
        else:
            self.state.pan(QPointF(dx * KEY_PAN * self.width(), dy * KEY_PAN * self.height()), self.viewport)
        event.accept()

    def changeEvent(self, event) -> None:
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            self._checker = None
            self.update()
        super().changeEvent(event)

    def focusInEvent(self, event) -> None:
        super().focusInEvent(event)
        self._focus_visible = event.reason() in (Qt.FocusReason.TabFocusReason,
                                                 Qt.FocusReason.BacktabFocusReason,
                                                 Qt.FocusReason.ShortcutFocusReason)
        self.update()

    def focusOutEvent(self, event) -> None:
        super().focusOutEvent(event)
        self._focus_visible = False
        self.update()

    def wheelEvent(self, event) -> None:
        if self.state.image_size.isEmpty():
            return
        steps = event.angleDelta().y() / 120.0
        if steps == 0:
            return
        self.state.zoom_by(ZOOM_STEP ** steps, self.viewport, event.position())
        event.accept()


class PreviewWidget(QWidget):
    """Original and quantized image, side by side (``"side"``) or split (``"split"``)."""

    zoomChanged = Signal(float)
    #: Emitted after a new quantized image was put on screen.
    quantizedShown = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = ViewState(self)
        self.original_pane = ImagePane(self.state, "original")
        self.quantized_pane = ImagePane(self.state, "quantized")
        self.split_pane = ImagePane(self.state, "split")
        side = QWidget()
        row = QHBoxLayout(side)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(3)
        row.addWidget(self.original_pane, 1)
        row.addWidget(self.quantized_pane, 1)
        self._stack = QStackedWidget()
        self._stack.addWidget(side)
        self._stack.addWidget(self.split_pane)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self._stack)
        self._mode = "side"
        self.state.changed.connect(self._emit_zoom)
        self.set_placeholder("Open an image (Ctrl+O), drop one here, or paste one (Ctrl+V).")

    # -- content ---------------------------------------------------------------
    @property
    def panes(self) -> tuple[ImagePane, ...]:
        return (self.original_pane, self.quantized_pane, self.split_pane)

    def set_placeholder(self, text: str) -> None:
        for pane in self.panes:
            pane.placeholder = text
            pane.update()

    def set_original(self, image: QImage | None, full_size: QSize | None = None) -> None:
        """Show a new original (a preview-sized ``QImage``) covering ``full_size`` image pixels.

        Clears the quantized image and zooms to fit.
        """
        pix = None if image is None else QPixmap.fromImage(image)
        for pane in self.panes:
            pane.original = pix
            pane.quantized = None
        size = QSize() if image is None else (full_size or image.size())
        self.state.set_image_size(size)

    def set_quantized(self, image: QImage | None, label: str = "Quantized") -> None:
        pix = None if image is None else QPixmap.fromImage(image)
        for pane in (self.quantized_pane, self.split_pane):
            pane.quantized = pix
            pane.quantized_label = label
        self.quantized_pane.update()
        self.split_pane.update()
        self.quantizedShown.emit()

    def set_busy(self, text: str) -> None:
        """A small label on the quantized side ("Updating…"), or none for ``""``."""
        for pane in (self.quantized_pane, self.split_pane):
            if pane.busy_text != text:
                pane.busy_text = text
                pane.update()

    @property
    def has_image(self) -> bool:
        return self.original_pane.original is not None

    # -- layout ------------------------------------------------------------------
    @property
    def mode(self) -> str:
        return self._mode

    def set_mode(self, mode: str) -> None:
        if mode not in ("side", "split"):
            raise ValueError(f"preview mode must be 'side' or 'split', got {mode!r}")
        self._mode = mode
        self._stack.setCurrentIndex(0 if mode == "side" else 1)
        self._emit_zoom()

    def active_pane(self) -> ImagePane:
        return self.split_pane if self._mode == "split" else self.quantized_pane

    # -- zoom --------------------------------------------------------------------
    def zoom(self) -> float:
        """Device pixels per image pixel (1.0 is "100 %" at any device pixel ratio)."""
        return self.state.zoom(self.active_pane().viewport) * self.devicePixelRatioF()

    def zoom_fit(self) -> None:
        self.state.set_fit()

    def zoom_actual(self) -> None:
        """100 %: one image pixel per device pixel, around the view's center."""
        if not self.state.image_size.isEmpty():
            self.state.set_zoom(1.0 / self.devicePixelRatioF(), self.active_pane().viewport)

    def zoom_in(self) -> None:
        if not self.state.image_size.isEmpty():
            self.state.zoom_by(ZOOM_STEP, self.active_pane().viewport)

    def zoom_out(self) -> None:
        if not self.state.image_size.isEmpty():
            self.state.zoom_by(1 / ZOOM_STEP, self.active_pane().viewport)

    def _emit_zoom(self) -> None:
        z = self.zoom()
        if math.isfinite(z):
            self.zoomChanged.emit(z)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self.state.is_fit:
            self._emit_zoom()
