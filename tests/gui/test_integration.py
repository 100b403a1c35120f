"""The main window with its two helpers: the "How Many Colors?" dock and File › Batch Export….

Real images, real curves, real batches (in this process, small images); the only stand-ins
are gates that hold a job at a known point, so nothing depends on timing.
"""
from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette

import palette_app
from palette_app.core import Cancelled, Palette
from palette_app.gui.controls import Settings

ASTRONAUT = Path(__file__).resolve().parents[2] / "assets" / "astronaut.png"
#: Well separated colors (corners and middles of the RGB cube).
SEPARATED = np.array([[0, 0, 0], [255, 255, 255], [220, 20, 20], [20, 200, 40], [30, 40, 230],
                      [250, 220, 0], [0, 210, 220], [200, 0, 200], [128, 128, 128]], np.uint8)


def flat_colors(n: int, size: int = 96, noise: int = 2) -> np.ndarray:
    """A size × size image of ``n`` well separated colors in bands, ± ``noise`` per channel."""
    idx = (np.arange(size * size).reshape(size, size) * n // (size * size)) % n
    img = SEPARATED[idx].astype(np.int16)
    img += np.random.default_rng(n).integers(-noise, noise + 1, img.shape, dtype=np.int16)
    return np.clip(img, 0, 255).astype(np.uint8)


def _save(pixels: np.ndarray, path: Path) -> Path:
    from PIL import Image

    Image.fromarray(np.ascontiguousarray(pixels)).save(path)
    return path


@pytest.fixture
def five_colors(tmp_path) -> Path:
    return _save(flat_colors(5), tmp_path / "five.png")


def _open_with_curve(qtbot, window, path):
    panel = window.elbow_panel
    with qtbot.waitSignal(panel.curveReady, timeout=30000) as blocker:
        window.open_path(path)
    return blocker.args[0]


def _click_k(qtbot, window, k: int) -> None:
    chart = window.elbow_panel.chart
    qtbot.mouseClick(chart, Qt.MouseButton.LeftButton, pos=chart.point_position(k).toPoint())


# --------------------------------------------------------------------------- How Many Colors?
def test_the_dock_suggests_the_number_of_colors_and_a_click_uses_it(window, qtbot, wait_preview,
                                                                    five_colors, preview_pixels,
                                                                    colors_of):
    assert window.elbow_dock.isVisible()                  # shown on first run
    curve = _open_with_curve(qtbot, window, five_colors)
    assert curve.suggested_k == 5 and window.elbow_panel.suggested_k == 5
    wait_preview(window, 16)
    assert window.elbow_panel.chart.current == 16        # the colors control, highlighted

    _click_k(qtbot, window, 5)
    assert window.controls.settings().n_colors == 5
    shown = wait_preview(window, 5)
    assert len(shown.palette) == 5
    assert len(colors_of(preview_pixels(window))) == 5
    assert window.elbow_panel.chart.current == 5

    # The colors control moves the highlight; the curve stays (same image, space and seed).
    curves = []
    window.elbow_panel.curveReady.connect(curves.append)
    window.controls.set_n_colors(9)
    wait_preview(window, 9)
    assert window.elbow_panel.chart.current == 9 and curves == []
    # Another space or seed: a new curve, for that space.
    with qtbot.waitSignal(window.elbow_panel.curveReady, timeout=30000) as blocker:
        window.controls.space_combo.setCurrentIndex(window.controls.space_combo.findData("lab"))
    assert blocker.args[0].space == "lab" and blocker.args[0].suggested_k == 5
    with qtbot.waitSignal(window.elbow_panel.curveReady, timeout=30000):
        window.controls.seed_spin.setValue(3)
    wait_preview(window)


def test_a_click_on_the_chart_leaves_a_fixed_palette(window, qtbot, wait_preview, five_colors):
    _open_with_curve(qtbot, window, five_colors)
    wait_preview(window)
    window.document.apply_palette(Palette.from_hex(["#000000", "#ffffff", "#dc1414"]), "brand.gpl")
    wait_preview(window)
    assert window.document.is_fixed and window.elbow_panel.chart.current == 3

    _click_k(qtbot, window, 6)
    assert not window.document.is_fixed                  # back to clustering ...
    shown = wait_preview(window, 6)                       # ... with that many colors
    assert shown.request.palette is None and len(shown.palette) == 6
    assert window.controls.settings().n_colors == 6 and window.elbow_panel.chart.current == 6
    # One step of the undo history: Undo brings the fixed palette back.
    window.undo_action.trigger()
    assert window.document.is_fixed
    wait_preview(window)


def test_the_quality_answer_sets_the_colors(window, qtbot, wait_preview, five_colors):
    _open_with_curve(qtbot, window, five_colors)
    wait_preview(window)
    window.document.set_locked("#dc1414", True)
    wait_preview(window)
    panel = window.elbow_panel
    assert panel._locked == ("#dc1414",)                  # the search keeps the locks too
    panel.target_combo.setCurrentIndex(panel.target_combo.findData("delta_e"))
    panel.target_spin.setValue(1.0)
    with qtbot.waitSignal(panel.qualityFound, timeout=60000) as blocker:
        qtbot.mouseClick(panel.find_button, Qt.MouseButton.LeftButton)
    answer = blocker.args[0]
    assert answer.met and answer.n_colors == 5
    assert window.controls.settings().n_colors == 5
    wait_preview(window, 5)


def test_a_preview_goes_before_a_curve_in_progress(window, qtbot, wait_preview, five_colors,
                                                   monkeypatch):
    """The first curve never ends on its own: the preview asked for meanwhile is shown only
    because the curve gives way, and the curve is then computed again after it. Kernels of
    the curve and of previews never run at the same time."""
    real_elbow, real_quantize = palette_app.elbow, palette_app.quantize
    curve_started = threading.Event()
    curve_calls: list[int] = []
    active: list[str] = []
    overlaps: list[tuple] = []
    lock = threading.Lock()

    def tracked(name, fn):
        def run(*args, **kwargs):
            with lock:
                active.append(name)
                if len(active) > 1:
                    overlaps.append(tuple(active))
            try:
                return fn(*args, **kwargs)
            finally:
                with lock:
                    active.remove(name)
        return run

    def gated_elbow(pixels, *, callback, **kwargs):
        curve_calls.append(1)
        if len(curve_calls) > 1:
            return real_elbow(pixels, callback=callback, **kwargs)
        curve_started.set()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if callback(0.5) is False:
                raise Cancelled("cancelled")
            time.sleep(0.002)
        raise AssertionError("the curve was never asked to give way")

    monkeypatch.setattr(palette_app, "elbow", tracked("elbow", gated_elbow))
    monkeypatch.setattr(palette_app, "quantize", tracked("quantize", real_quantize))

    window.open_path(five_colors)
    qtbot.waitUntil(curve_started.is_set, timeout=30000)
    assert not window.is_idle() and window.elbow_panel.is_busy()
    window.controls.set_n_colors(4)
    shown = wait_preview(window, 4)                      # waits for the curve too (is_idle)
    assert len(shown.palette) == 4
    assert len(curve_calls) == 2 and window.elbow_panel.suggested_k == 5
    assert overlaps == []


# --------------------------------------------------------------------------- Batch Export…
def test_batch_export_starts_from_the_window(window, qtbot, wait_preview, small_image_path, tmp_path):
    assert window.batch_action in window.file_menu.actions()
    assert window.batch_action.shortcut().toString() == "Ctrl+Shift+B"
    window.open_path(small_image_path)
    wait_preview(window)
    window.controls.set_settings(Settings(n_colors=12, space="oklab", dither="fs", dither_strength=0.5,
                                          random_state=7))
    window.document.set_locked("#123456", True)
    wait_preview(window, 12)

    window.batch_action.trigger()
    bw = window.batch_window
    assert bw is not None and bw.isVisible() and not bw.isModal()
    s = bw.batch_settings()
    assert (s.n_colors, s.space, s.dither, s.dither_strength, s.random_state) == (12, "oklab", "fs", 0.5, 7)
    assert s.locked == ("#123456",) and s.palette is None
    assert bw.inputs() == [str(small_image_path)]

    # Its own choices stay; opening it again re-uses it, with the window's settings of now.
    bw.format_combo.setCurrentIndex(bw.format_combo.findData("GIF"))
    bw.close()
    window.controls.set_n_colors(20)
    window.batch_action.trigger()
    assert window.batch_window is bw and bw.isVisible()
    s = bw.batch_settings()
    assert s.n_colors == 20 and s.format == "GIF" and s.locked == ("#123456",)
    assert bw.inputs() == [str(small_image_path)]          # not twice

    # A fixed palette on screen (a translucent entry too) is offered, and chosen.
    window.document.apply_palette(
        Palette.from_hex(["#000000", "#ffffff", "#c03030", "#3050c080"]), "brand.gpl")
    wait_preview(window)
    window.batch_action.trigger()
    assert bw.palette_combo.currentData() == "given"
    assert bw.palette_combo.currentText() == "The palette on screen (4 colors)"
    s = bw.batch_settings()
    assert s.palette == ("#000000", "#ffffff", "#c03030", "#3050c080") and s.locked == ()

    # The batch maps the image to those colors.
    bw.format_combo.setCurrentIndex(bw.format_combo.findData("PNG"))
    bw.set_output_folder(tmp_path / "out")
    bw.jobs_spin.setValue(1)
    with qtbot.waitSignal(bw.batchFinished, timeout=60000) as blocker:
        assert bw.start()
    assert [r.status for r in blocker.args[0]] == ["ok"]
    from PIL import Image

    with Image.open(tmp_path / "out" / small_image_path.name) as im:
        rgba = np.asarray(im.convert("RGBA")).reshape(-1, 4)
    used = {tuple(c) for c in np.unique(rgba[:, :3], axis=0)}
    assert used <= {(0, 0, 0), (255, 255, 255), (0xC0, 0x30, 0x30), (0x30, 0x50, 0xC0)}
    qtbot.waitUntil(lambda: not bw.is_running())

    # Back to clustering: the palette on screen is no longer offered.
    window.cluster_again()
    window.batch_action.trigger()
    assert bw.palette_combo.findData("given") == -1 and bw.palette_combo.currentData() == "image"
    assert bw.batch_settings().locked == ("#123456",)


def test_batch_window_reports_too_many_locks_instead_of_failing_to_open(window, qtbot):
    for h in ("#100000", "#200000", "#300000"):
        window.document.set_locked(h, True)
    window.controls.set_n_colors(2)
    window.batch_action.trigger()
    bw = window.batch_window
    bw.add_inputs([str(ASTRONAUT)])
    assert not bw.start()
    assert "3 locked colors do not fit in 2 colors" in bw.message()


def test_closing_the_window_cancels_a_running_batch(window, qtbot, tmp_path, gate_fourth_file):
    from PIL import Image

    rgb = np.asarray(Image.open(ASTRONAUT).convert("RGB"))
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(8):
        _save(rgb[40 * i:40 * i + 48, 30 * i:30 * i + 48], folder / f"photo{i:02d}.png")
    calls = gate_fourth_file()
    out = tmp_path / "out"

    window.batch_action.trigger()
    bw = window.batch_window
    bw.clear_inputs()
    bw.add_inputs([folder])
    bw.set_output_folder(out)
    bw.jobs_spin.setValue(1)
    assert bw.start()
    qtbot.waitUntil(lambda: bw.model.counts().get("ok") == 3, timeout=30000)
    assert bw.is_running()

    window.close()
    # close() returned after the batch stopped: nothing started after the cancel, and the
    # output folder holds exactly the finished files, complete (no partial or temporary file).
    assert not bw.is_running() and not bw.isVisible()
    assert len(calls) == 4
    expected = ["photo00.png", "photo01.png", "photo02.png"]
    assert sorted(os.listdir(out)) == expected
    for name in expected:
        with Image.open(out / name) as im:
            im.verify()
        with Image.open(out / name) as im:
            assert im.mode == "P" and im.size == (48, 48)


def test_batch_message_follows_the_theme(window, qtbot):
    window.batch_action.trigger()
    bw = window.batch_window
    bw.clear_inputs()
    assert not bw.start()                                  # nothing to do: a message
    bar = bw.message_label
    assert bar.isVisible() and "Add images or folders" in bw.message()
    for choice in ("dark", "light"):
        window.set_theme(choice)
        dark = choice == "dark"
        qtbot.waitUntil(lambda d=dark: (bw.palette().color(QPalette.ColorRole.Window).lightness() < 80) == d)
        color = bar.grab().toImage().pixelColor(4, bar.height() // 2)
        text = bar.label.palette().color(QPalette.ColorRole.WindowText)
        assert color.red() > color.green() and color.red() > color.blue()      # tinted red
        assert (color.lightness() < 110) if dark else (color.lightness() > 180)
        assert abs(color.lightness() - text.lightness()) > 100                 # readable
