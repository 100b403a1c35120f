"""The preview: zoom around the cursor, synchronised pan, split divider, painting."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, QSize, QSizeF, Qt
from PySide6.QtGui import QImage, QWheelEvent
from PySide6.QtWidgets import QApplication

from palette_app.gui.preview import (
    MAX_ZOOM,
    MIN_ZOOM,
    ZOOM_STEP,
    PreviewWidget,
    ViewState,
)


def _solid(color, w=200, h=100) -> QImage:
    img = QImage(w, h, QImage.Format.Format_RGB32)
    img.fill(color)
    return img


@pytest.fixture
def preview(qtbot):
    w = PreviewWidget()
    qtbot.addWidget(w)
    w.resize(820, 400)
    w.show()
    qtbot.waitExposed(w)
    return w


def test_view_state_fit_and_anchored_zoom():
    s = ViewState()
    s.set_image_size(QSize(400, 200))
    vp = QSizeF(200, 200)
    assert s.is_fit and s.zoom(vp) == pytest.approx(0.5)
    # The image point under the anchor stays under it.
    anchor = QPointF(30, 170)
    before = s.to_image(anchor, vp)
    s.zoom_by(3.0, vp, anchor)
    assert not s.is_fit
    assert s.zoom(vp) == pytest.approx(1.5)
    after = s.to_image(anchor, vp)
    assert (after.x(), after.y()) == pytest.approx((before.x(), before.y()))
    # Round trip widget -> image -> widget.
    p = s.to_widget(s.to_image(QPointF(11, 57), vp), vp)
    assert (p.x(), p.y()) == pytest.approx((11, 57))
    s.set_zoom(1e9, vp)
    assert s.zoom(vp) == MAX_ZOOM
    s.set_zoom(0, vp)
    assert s.zoom(vp) == MIN_ZOOM
    s.set_fit()
    assert s.zoom(vp) == pytest.approx(0.5)


def test_pan_moves_by_screen_pixels():
    s = ViewState()
    s.set_image_size(QSize(1000, 1000))
    vp = QSizeF(100, 100)
    s.set_zoom(2.0, vp)
    c0 = s.center(vp)
    s.pan(QPointF(20, -10), vp)
    c1 = s.center(vp)
    assert (c1.x() - c0.x(), c1.y() - c0.y()) == pytest.approx((-10, 5))


def test_wheel_zooms_around_the_cursor_and_panes_stay_in_sync(preview, qtbot):
    preview.set_original(_solid(0xFF0000), QSize(2000, 1000))
    preview.set_quantized(_solid(0x0000FF))
    left, right = preview.original_pane, preview.quantized_pane
    assert left.size() == right.size() or abs(left.width() - right.width()) <= 1
    pos = QPointF(50, 60)
    under = preview.state.to_image(pos, left.viewport)
    ev = QWheelEvent(pos, left.mapToGlobal(pos), QPoint(), QPoint(0, 120),
                     Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                     Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(left, ev)
    assert not preview.state.is_fit
    after = preview.state.to_image(pos, left.viewport)
    assert (after.x(), after.y()) == pytest.approx((under.x(), under.y()), abs=1e-6)
    z = preview.zoom()
    # Drag to pan in the left pane: the right pane shows the same place.
    qtbot.mousePress(left, Qt.MouseButton.LeftButton, pos=QPoint(100, 100))
    qtbot.mouseMove(left, QPoint(140, 90))
    qtbot.mouseRelease(left, Qt.MouseButton.LeftButton, pos=QPoint(140, 90))
    # The same image point sits at the same place in both panes (within the
    # half pixel by which the two halves of an odd width differ).
    p = QPointF(70, 80)
    q = preview.state.to_widget(preview.state.to_image(p, left.viewport), right.viewport)
    assert (q.x(), q.y()) == pytest.approx((p.x(), p.y()), abs=0.5)
    assert preview.state.center(left.viewport) != QPointF(1000, 500)   # it did pan
    assert preview.zoom() == pytest.approx(z)
    assert z == pytest.approx(preview.state.zoom(QSizeF(1, 1)))   # no longer fit: one zoom everywhere


def test_zoom_buttons(preview):
    preview.set_original(_solid(0xFF0000), QSize(2000, 1000))
    zooms = []
    preview.zoomChanged.connect(zooms.append)
    preview.zoom_actual()
    assert preview.zoom() == pytest.approx(1.0)
    preview.zoom_in()
    assert preview.zoom() == pytest.approx(ZOOM_STEP)
    preview.zoom_out()
    preview.zoom_out()
    assert preview.zoom() == pytest.approx(1 / ZOOM_STEP)
    preview.zoom_fit()
    assert preview.state.is_fit
    assert zooms and zooms[-1] == pytest.approx(preview.zoom())


def test_split_view_divider_drag_and_painting(preview, qtbot):
    preview.set_original(_solid(0xFF0000), QSize(200, 100))
    preview.set_quantized(_solid(0x0000FF))
    preview.set_mode("split")
    pane = preview.split_pane
    qtbot.waitExposed(pane)
    assert pane.split == 0.5
    x = int(pane.divider_x())
    y = pane.height() // 4          # away from the handle and the labels
    qtbot.mousePress(pane, Qt.MouseButton.LeftButton, pos=QPoint(x, y))
    qtbot.mouseMove(pane, QPoint(x + 100, y))
    qtbot.mouseRelease(pane, Qt.MouseButton.LeftButton, pos=QPoint(x + 100, y))
    assert pane.split == pytest.approx((x + 100) / pane.width(), abs=0.01)
    assert preview.state.is_fit            # dragging the divider does not pan
    img = pane.grab().toImage()
    mid = pane.height() // 2 - 40
    dx = int(pane.divider_x())
    left_px = img.pixelColor(dx - 30, mid)
    right_px = img.pixelColor(dx + 30, mid)
    assert (left_px.red(), left_px.blue()) == (255, 0)     # original on the left
    assert (right_px.red(), right_px.blue()) == (0, 255)   # quantized on the right


def test_side_by_side_painting_and_double_click(preview, qtbot):
    preview.set_original(_solid(0xFF0000), QSize(200, 100))
    left, right = preview.original_pane, preview.quantized_pane
    # Before the quantized image arrives, its pane says it is computing.
    assert right.quantized is None
    right.grab()
    preview.set_quantized(_solid(0x00FF00))
    c = left.rect().center()
    assert left.grab().toImage().pixelColor(c).red() == 255
    assert right.grab().toImage().pixelColor(right.rect().center()).green() == 255
    qtbot.mouseDClick(left, Qt.MouseButton.LeftButton, pos=c)
    assert preview.zoom() == pytest.approx(1.0)
    qtbot.mouseDClick(left, Qt.MouseButton.LeftButton, pos=c)
    assert preview.state.is_fit


def test_preview_pixmap_is_stretched_over_the_full_size(preview):
    """A preview smaller than the image covers the whole image rectangle."""
    preview.set_original(_solid(0xFF0000, 100, 50), QSize(1000, 500))
    preview.zoom_actual()
    img = preview.original_pane.grab().toImage()
    # At 100 % a 1000-pixel-wide image fills the pane completely.
    y = img.height() // 2
    assert all(img.pixelColor(x, y).red() == 255 for x in (1, img.width() // 2, img.width() - 2))


def test_transparent_images_show_a_checkerboard(preview):
    img = QImage(20, 20, QImage.Format.Format_ARGB32)
    img.fill(0)
    preview.set_original(img, QSize(20, 20))
    preview.zoom_actual()
    preview.state.set_zoom(8.0, preview.original_pane.viewport)
    g = preview.original_pane.grab().toImage()
    c = preview.original_pane.rect().center()
    values = {g.pixelColor(c.x() + dx, c.y()).red() for dx in range(-20, 20)}
    assert {255, 204} <= values


def test_bad_mode_is_refused(preview):
    with pytest.raises(ValueError):
        preview.set_mode("grid")
    assert np.isfinite(preview.zoom())
