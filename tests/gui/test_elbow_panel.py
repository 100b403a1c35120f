"""The "How many colors?" panel: the curve in the background, the chart, clicks and keys,
the quality search, superseded images, no overlap with previews, themes and HiDPI."""
from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QSize, Qt, QThreadPool
from PySide6.QtGui import QColor, QImage, QPalette
from PySide6.QtWidgets import QAbstractButton, QAbstractSpinBox, QComboBox, QWidget

import palette_app
from palette_app.gui.elbow_panel import ElbowPanel
from palette_app.gui.worker import QuantizeRequest, SerialRunner, Worker, preview_job

ASTRONAUT = Path(__file__).resolve().parents[2] / "assets" / "astronaut.png"
#: Well separated colors (corners and middles of the RGB cube).
SEPARATED = np.array([[0, 0, 0], [255, 255, 255], [220, 20, 20], [20, 200, 40], [30, 40, 230],
                      [250, 220, 0], [0, 210, 220], [200, 0, 200], [128, 128, 128]], np.uint8)


def flat_colors(n: int, size: int = 64, noise: int = 0) -> np.ndarray:
    """A size × size image of ``n`` well separated colors in bands (± ``noise`` per channel)."""
    idx = (np.arange(size * size).reshape(size, size) * n // (size * size)) % n
    img = SEPARATED[idx].astype(np.int16)
    if noise:
        img += np.random.default_rng(n).integers(-noise, noise + 1, img.shape, dtype=np.int16)
    return np.clip(img, 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    from PIL import Image

    with Image.open(ASTRONAUT) as im:
        return np.ascontiguousarray(np.asarray(im.convert("RGB"))[180:244, 200:264])


@pytest.fixture
def panel(qtbot):
    p = ElbowPanel()
    qtbot.addWidget(p)
    p.resize(560, 380)
    p.show()
    qtbot.waitExposed(p)
    yield p
    p.close()
    assert not p.is_busy()
    assert QThreadPool.globalInstance().waitForDone(20000)


def _compute(qtbot, panel: ElbowPanel, pixels, **kw):
    with qtbot.waitSignal(panel.curveReady, timeout=30000) as blocker:
        panel.set_image(pixels, **kw)
    return blocker.args[0]


def _render(widget: QWidget, dpr: float = 1.0) -> QImage:
    size = widget.size()
    img = QImage(QSize(round(size.width() * dpr), round(size.height() * dpr)),
                 QImage.Format.Format_ARGB32)
    img.setDevicePixelRatio(dpr)
    img.fill(QColor(1, 2, 3))
    widget.render(img)
    return img


def _near(a: QColor, b: QColor, tol: int = 40) -> bool:
    return (abs(a.red() - b.red()) + abs(a.green() - b.green()) + abs(a.blue() - b.blue())) <= tol


# --------------------------------------------------------------------------- the curve
@pytest.mark.parametrize("n", [4, 7])
def test_suggested_k_is_the_number_of_colors_and_is_marked(panel, qtbot, n):
    curve = _compute(qtbot, panel, flat_colors(n, noise=2))
    assert curve.suggested_k == n and panel.suggested_k == n
    assert f"<b>{n}</b>" in panel.status_label.text()
    # The dashed line stands at k = n: a column of the plot mostly in its color, unlike
    # the column of another k.
    chart = panel.chart
    img = _render(chart)
    color = chart.colors()["muted"]
    r = chart.plot_rect()

    def share(k: int) -> float:
        x = round(chart.point_position(k).x())
        ys = range(int(r.top()) + 20, int(r.bottom()) - 2)
        hits = sum(max(_near(img.pixelColor(x + dx, y), color, 60) for dx in (-1, 0, 1)) for y in ys)
        return hits / len(ys)

    assert share(n) > 0.35
    assert share(n + 5) < 0.1


def test_click_on_a_point_chooses_it(panel, qtbot):
    _compute(qtbot, panel, flat_colors(5))
    chart = panel.chart
    for k in (3, 9, 5):
        pos = chart.point_position(k).toPoint()
        with qtbot.waitSignal(panel.colorsChosen, timeout=2000) as blocker:
            qtbot.mouseClick(chart, Qt.MouseButton.LeftButton, pos=pos)
        assert blocker.args == [k]
        assert chart.current == k
    # Also on the other curve's point.
    with qtbot.waitSignal(panel.colorsChosen, timeout=2000) as blocker:
        qtbot.mouseClick(chart, Qt.MouseButton.LeftButton,
                         pos=chart.point_position(20, "inertia").toPoint())
    assert blocker.args == [20]


def test_keys_step_the_number_of_colors(panel, qtbot):
    _compute(qtbot, panel, flat_colors(6))
    chart = panel.chart
    panel.set_current(10)
    chosen = []
    panel.colorsChosen.connect(chosen.append)
    chart.setFocus()
    for key in (Qt.Key.Key_Right, Qt.Key.Key_Right, Qt.Key.Key_Left, Qt.Key.Key_Home, Qt.Key.Key_Left,
                Qt.Key.Key_End, Qt.Key.Key_Right):
        qtbot.keyClick(chart, key)
    assert chosen == [11, 12, 11, 2, 2, 32, 32]   # clamped to the chart's range
    assert chart.current == 32


def test_set_current_highlights_without_emitting(panel, qtbot):
    _compute(qtbot, panel, flat_colors(5))
    chosen = []
    panel.colorsChosen.connect(chosen.append)
    before = _render(panel.chart)
    panel.set_current(12)
    after = _render(panel.chart)
    assert panel.chart.current == 12 and chosen == []
    # A band tinted with the palette's highlight color stands at k = 12.
    chart = panel.chart
    x = round(chart.point_position(12).x())
    r = chart.plot_rect()
    ys = range(int(r.top()) + 25, int(r.center().y()))
    bg, hi = chart.colors()["background"], chart.colors()["highlight"]
    tint = QColor(*(round(0.82 * a + 0.18 * b) for a, b in
                    ((bg.red(), hi.red()), (bg.green(), hi.green()), (bg.blue(), hi.blue()))))
    assert sum(_near(after.pixelColor(x, y), tint, 12) for y in ys) > 0.7 * len(ys)
    assert sum(_near(before.pixelColor(x, y), tint, 12) for y in ys) < 0.1 * len(ys)


def test_hover_shows_the_values_of_a_point(panel, qtbot):
    curve = _compute(qtbot, panel, flat_colors(5, noise=3))
    chart = panel.chart
    k = 8
    i = int(np.flatnonzero(curve.ks == k)[0])
    qtbot.mouseMove(chart, chart.point_position(k).toPoint())
    qtbot.waitUntil(lambda: chart.hover_k == k)
    text = chart.hover_text()
    assert text.startswith(f"{k} colors") and f"ΔE2000 {curve.delta_e[i]:.2f}" in text
    qtbot.mouseMove(chart, QPoint(2, 2))    # outside the plot
    qtbot.waitUntil(lambda: chart.hover_k is None)
    assert chart.hover_text() == ""


# --------------------------------------------------------------------------- quality target
@pytest.mark.parametrize(("kind", "value"), [("delta_e", 3.0), ("psnr", 32.0)])
def test_quality_box_finds_the_fewest_colors(panel, qtbot, photo, kind, value):
    _compute(qtbot, panel, photo)
    panel.target_combo.setCurrentIndex(panel.target_combo.findData(kind))
    panel.target_spin.setValue(value)
    with qtbot.waitSignal(panel.colorsChosen, timeout=60000) as blocker:
        if kind == "psnr":
            qtbot.keyClick(panel.target_spin, Qt.Key.Key_Return)   # Enter in the box
        else:
            qtbot.mouseClick(panel.find_button, Qt.MouseButton.LeftButton)
    n = blocker.args[0]
    kw = {"max_delta_e": value} if kind == "delta_e" else {"min_psnr": value}
    expected = palette_app.colors_for_quality(photo, **kw)
    assert n == expected.n_colors
    # The fewest: one color fewer misses the target.
    fewer = palette_app.quantize(photo, n - 1)
    assert (fewer.delta_e > value) if kind == "delta_e" else (fewer.psnr < value)
    target = f"ΔE {value:.1f}" if kind == "delta_e" else f"{value:.1f} dB"
    assert panel.answer_label.text().startswith(f"{n} colors reach {target}")
    assert panel.answer.met and panel.chart.current == n


def test_quality_target_out_of_reach_says_so(panel, qtbot):
    _compute(qtbot, panel, flat_colors(3, noise=40))
    panel.target_combo.setCurrentIndex(panel.target_combo.findData("psnr"))
    panel.target_spin.setValue(99.0)
    with qtbot.waitSignal(panel.qualityFound, timeout=60000) as blocker:
        panel.find()
    answer = blocker.args[0]
    assert not answer.met
    assert panel.answer_label.text().startswith(f"Even {answer.n_colors} colors miss 99.0 dB")


# --------------------------------------------------------------------------- background work
def test_a_new_image_supersedes_the_one_in_flight(panel, qtbot):
    curves = []
    panel.curveReady.connect(curves.append)
    eight = flat_colors(8, size=128)
    panel.set_image(flat_colors(3, size=128))
    panel.set_image(eight)
    qtbot.waitUntil(lambda: panel.curve is not None and not panel.is_busy(), timeout=30000)
    assert [c.suggested_k for c in curves] == [8]
    assert panel.suggested_k == 8
    # The same image and settings again: nothing to do (the main window may repeat itself).
    gen = panel.generation
    panel.set_image(eight)
    assert panel.generation == gen and not panel.is_busy() and panel.suggested_k == 8
    # A quality search of the old image is dropped too.
    panel.find()
    answers = []
    panel.qualityFound.connect(answers.append)
    _compute(qtbot, panel, flat_colors(5))
    qtbot.waitUntil(lambda: not panel.is_busy(), timeout=30000)
    assert answers == [] and panel.answer_label.text() == ""


def test_shared_runner_never_runs_two_kernels_at_once(qtbot, monkeypatch, photo):
    """Given the main window's runner, the panel's jobs take turns with previews."""
    active = []
    overlaps = []
    lock = threading.Lock()

    def tracked(fn):
        def wrapper(*args, **kwargs):
            with lock:
                active.append(fn.__name__)
                if len(active) > 1:
                    overlaps.append(tuple(active))
            try:
                time.sleep(0.01)   # widen the window in which an overlap would show
                return fn(*args, **kwargs)
            finally:
                with lock:
                    active.remove(fn.__name__)
        return wrapper

    for name in ("elbow", "colors_for_quality", "quantize"):
        monkeypatch.setattr(palette_app, name, tracked(getattr(palette_app, name)))

    runner = SerialRunner()
    panel = ElbowPanel(runner=runner)
    qtbot.addWidget(panel)
    panel.show()
    previews = []
    for i in range(4):
        panel.set_image(flat_colors(3 + i))
        if i == 2:
            panel.find()
        w = Worker(preview_job, QuantizeRequest(photo, n_colors=4 + i), key="preview")
        w.signals.result.connect(previews.append)
        runner.submit(w, supersede=False)
    qtbot.waitUntil(lambda: not runner.busy, timeout=60000)
    assert overlaps == []
    assert len(previews) == 4 and panel.suggested_k == 6
    panel.close()
    assert QThreadPool.globalInstance().waitForDone(20000)


def test_an_image_without_opaque_pixels_is_a_message(panel, qtbot):
    img = np.zeros((16, 16, 4), np.uint8)
    with qtbot.waitSignal(panel.errorShown, timeout=30000) as blocker:
        panel.set_image(img)
    assert "no opaque pixels" in blocker.args[0]
    assert panel.curve is None
    _compute(qtbot, panel, flat_colors(4))   # and the panel keeps working
    assert panel.suggested_k == 4


# --------------------------------------------------------------------------- look
def test_painting_at_device_pixel_ratio_2(panel, qtbot):
    _compute(qtbot, panel, flat_colors(9, noise=6))
    chart = panel.chart
    one, two = _render(chart, 1.0), _render(chart, 2.0)
    assert two.width() == 2 * one.width()
    colors = chart.colors()
    checked = 0
    for k in range(2, 33):
        for series, other in (("delta_e", "inertia"), ("inertia", "delta_e")):
            p = chart.point_position(k, series)
            q = chart.point_position(k, other)
            if abs(p.y() - q.y()) < 10 or k in (chart.curve.suggested_k, chart.current):
                continue   # the other curve's point (or a mark) is drawn over this one
            checked += 1
            a = one.pixelColor(round(p.x()), round(p.y()))
            b = two.pixelColor(round(2 * p.x()), round(2 * p.y()))
            assert _near(a, colors[series], 60), (k, series, a.name())
            assert _near(b, colors[series], 30), (k, series, b.name())
    assert checked >= 10
    # Same picture, twice the pixels: the background and the axes agree away from edges.
    small = two.scaled(one.width(), one.height(), Qt.AspectRatioMode.IgnoreAspectRatio,
                       Qt.TransformationMode.SmoothTransformation)
    diff = [abs(small.pixelColor(x, y).lightness() - one.pixelColor(x, y).lightness())
            for x in range(5, one.width() - 5, 7) for y in range(5, one.height() - 5, 7)]
    assert np.mean(diff) < 12


def test_colors_follow_the_palette(panel, qtbot):
    _compute(qtbot, panel, flat_colors(5))
    chart = panel.chart
    light = _render(chart)
    light_base = chart.palette().color(QPalette.ColorRole.Base)
    dark_palette = QPalette()
    for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
        dark_palette.setColor(group, QPalette.ColorRole.Base, QColor(30, 30, 34))
        dark_palette.setColor(group, QPalette.ColorRole.Window, QColor(40, 40, 44))
        dark_palette.setColor(group, QPalette.ColorRole.Text, QColor(235, 235, 235))
        dark_palette.setColor(group, QPalette.ColorRole.WindowText, QColor(235, 235, 235))
        dark_palette.setColor(group, QPalette.ColorRole.Highlight, QColor(80, 160, 255))
    panel.setPalette(dark_palette)
    dark = _render(chart)
    corner = (chart.width() - 3, chart.height() - 3)
    assert _near(light.pixelColor(*corner), light_base, 3)
    assert _near(dark.pixelColor(*corner), QColor(30, 30, 34), 3)
    c = chart.colors()
    assert c["text"].lightness() > 200 and c["inertia"].lightness() > 140
    # Text and curves stand out from the dark background.
    for name in ("text", "inertia", "delta_e"):
        assert abs(c[name].lightness() - QColor(30, 30, 34).lightness()) > 100, name


# --------------------------------------------------------------------------- accessibility
def test_every_control_has_a_tooltip_and_is_reachable_by_tab(panel, qtbot):
    _compute(qtbot, panel, flat_colors(4))
    kinds = (QAbstractButton, QAbstractSpinBox, QComboBox)
    controls = [w for w in panel.findChildren(QWidget)
                if isinstance(w, kinds) and not isinstance(w.parentWidget(), (QAbstractSpinBox, QComboBox))]
    controls.append(panel.chart)
    assert len(controls) == 5
    assert [w for w in controls if not w.toolTip().strip()] == []
    panel.activateWindow()
    panel.kmax_spin.setFocus()
    qtbot.waitUntil(lambda: panel.kmax_spin.hasFocus())
    seen = []
    for _ in range(len(controls)):
        seen.append(next(w for w in controls if w.hasFocus() or w.isAncestorOf(panel.focusWidget())))
        qtbot.keyClick(panel.focusWidget(), Qt.Key.Key_Tab)
    assert seen == [panel.kmax_spin, panel.chart, panel.target_combo, panel.target_spin,
                    panel.find_button]
