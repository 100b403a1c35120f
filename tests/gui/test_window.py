"""The main window end to end: open, live preview, swatches, locks, errors."""
from __future__ import annotations

import gc
import os
import random
import threading
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, QSize, Qt, QThreadPool, QUrl
from PySide6.QtGui import QColor, QDropEvent, QGuiApplication, QImage, QKeySequence

import palette_app
from palette_app.gui.worker import CORE_FEATURES, Worker

ASTRONAUT = Path(__file__).resolve().parents[2] / "assets" / "astronaut.png"

needs_locked = pytest.mark.skipif(
    "locked" not in CORE_FEATURES,
    reason="palette_app.quantize has no `locked=` yet (core issue); lock tests skipped until it lands")


def _quantized_pixels(window) -> np.ndarray:
    """What the quantized pane shows, as (H, W, 4) RGBA."""
    pix = window.preview.quantized_pane.quantized
    img = pix.toImage().convertToFormat(QImage.Format.Format_RGBA8888)
    w, h = img.width(), img.height()
    buf = np.frombuffer(img.constBits(), np.uint8, count=img.sizeInBytes())
    return buf.reshape(h, img.bytesPerLine())[:, : 4 * w].reshape(h, w, 4).copy()


def test_open_image_swatch_count_equals_n(window, qtbot, wait_preview, dialogs):
    window.open_path(ASTRONAUT)
    shown = wait_preview(window, 16)
    assert window.swatches.count() == 16
    assert len(shown.palette) == 16
    assert window.windowTitle().startswith("astronaut.png — 512 × 512")
    assert "512 × 512" in window.info_label.text()
    assert window.preview.has_image
    assert window.preview.quantized_pane.quantized is not None
    assert window.export_palette_action.isEnabled()
    assert dialogs.errors == []


def test_change_n_preview_and_swatches_follow(window, qtbot, wait_preview):
    window.open_path(ASTRONAUT)
    wait_preview(window, 16)
    for n in (5, 64, 2):
        window.controls.colors_slider.setValue(n)
        shown = wait_preview(window, n)
        assert window.controls.colors_spin.value() == n
        assert window.swatches.count() == n
        # The preview shows exactly the palette's colors, pixel for pixel.
        px = _quantized_pixels(window)
        assert px.shape[:2] == (512, 512)
        expected = shown.result.to_rgb()
        assert np.array_equal(px[..., :3], expected)
        assert sorted(window.swatches.model.hex_codes()) == sorted(shown.palette.hex)


def test_100_rapid_slider_changes(window, qtbot, wait_preview, monkeypatch):
    """The final preview matches the final n; nothing stale is ever shown; no
    two quantizations run at once; no thread is left behind."""
    active = []
    overlap = []
    lock = threading.Lock()
    real = palette_app.quantize

    def counting(*args, **kwargs):
        with lock:
            active.append(1)
            if len(active) > 1:
                overlap.append(len(active))
        try:
            return real(*args, **kwargs)
        finally:
            with lock:
                active.pop()

    monkeypatch.setattr(palette_app, "quantize", counting)
    gc.collect()
    before = {id(o) for o in gc.get_objects() if isinstance(o, Worker)}
    window.open_path(ASTRONAUT)
    wait_preview(window, 16)
    shown_generations = []
    window.previewUpdated.connect(lambda pr: shown_generations.append(pr.request.generation))
    rng = random.Random(1)
    for i in range(100):
        window.controls.colors_slider.setValue(rng.randint(2, 256))
        if i % 7 == 0:
            qtbot.wait(rng.randint(0, 40))   # let some previews start, then supersede them
    window.controls.colors_slider.setValue(37)
    shown = wait_preview(window, 37)
    assert window.swatches.count() == 37
    assert np.array_equal(_quantized_pixels(window)[..., :3], shown.result.to_rgb())
    assert shown_generations == sorted(shown_generations), "an older preview replaced a newer one"
    assert shown_generations[-1] == shown.request.generation
    assert overlap == []
    assert QThreadPool.globalInstance().waitForDone(10000)
    assert QThreadPool.globalInstance().activeThreadCount() == 0
    # Superseded workers (and the images they hold) are released.
    qtbot.wait(10)
    gc.collect()
    left = [(o.key, o.done) for o in gc.get_objects() if isinstance(o, Worker) and id(o) not in before]
    assert left == []


def test_every_control_updates_the_preview(window, qtbot, wait_preview):
    window.open_path(ASTRONAUT)
    wait_preview(window, 16)
    c = window.controls
    c.seed_spin.setValue(7)
    assert wait_preview(window).request.random_state == 7
    if "space" in CORE_FEATURES:
        c.space_combo.setCurrentIndex(c.space_combo.findData("oklab"))
        assert wait_preview(window).request.space == "oklab"
    if "dither" in CORE_FEATURES:
        assert not c.strength_slider.isEnabled()
        c.dither_combo.setCurrentIndex(c.dither_combo.findData("fs"))
        assert wait_preview(window).request.dither == "fs"
        assert c.strength_slider.isEnabled()
        c.strength_slider.setValue(40)
        assert wait_preview(window).request.dither_strength == pytest.approx(0.4)
    assert window.swatches.count() == 16


@needs_locked
def test_locked_color_survives_requantization(window, qtbot, wait_preview):
    window.open_path(ASTRONAUT)
    shown = wait_preview(window, 16)
    model = window.swatches.model
    # Lock the third swatch through its context menu.
    index = model.index(2)
    hexcode = index.data()
    menu = window.swatches.menu_for(index)
    lock = next(a for a in menu.actions() if a.objectName() == "lock")
    assert lock.text() == "Lock"
    lock.trigger()
    wait_preview(window)
    assert window.locked == [hexcode]
    for n in (6, 40, 3):
        window.controls.colors_slider.setValue(n)
        shown = wait_preview(window, n)
        assert hexcode in shown.palette.hex
        assert window.swatches.count() == n
        row = model.hex_codes().index(hexcode)
        assert model.index(row).data(Qt.ItemDataRole.UserRole + 2) is True   # LockedRole
    window.controls.seed_spin.setValue(99)
    assert hexcode in wait_preview(window).palette.hex
    # Unlock: the lock is gone from the state.
    row = model.hex_codes().index(hexcode)
    menu = window.swatches.menu_for(model.index(row))
    unlock = next(a for a in menu.actions() if a.objectName() == "lock")
    assert unlock.text() == "Unlock"
    unlock.trigger()
    wait_preview(window)
    assert window.locked == []


@needs_locked
def test_edit_color_locks_it_and_preview_follows(window, qtbot, wait_preview, dialogs):
    window.open_path(ASTRONAUT)
    window.controls.colors_slider.setValue(8)
    before = wait_preview(window, 8)
    # A slightly different shade of the most used color: it keeps that color's pixels.
    r, g, b = (int(v) for v in before.palette.colors[0])
    new = QColor(min(r + 5, 255), max(g - 5, 0), min(b + 5, 255))
    hexcode = new.name()
    dialogs.color_answers.append(new)
    window.edit_color(0)
    shown = wait_preview(window, 8)
    assert hexcode in shown.palette.hex
    assert window.locked == [hexcode]
    assert window.swatches.count() == 8
    px = _quantized_pixels(window)[..., :3].reshape(-1, 3)
    assert np.any(np.all(px == (new.red(), new.green(), new.blue()), axis=1))
    # A color no pixel is near stays in the palette too (locked), with a 0 % share.
    dialogs.color_answers.append(QColor("#12ab34"))
    window.edit_color(next(i for i, h in enumerate(shown.palette.hex) if h != hexcode))
    shown = wait_preview(window, 8)
    assert "#12ab34" in shown.palette.hex and hexcode in shown.palette.hex
    assert set(window.locked) == {hexcode, "#12ab34"}
    # Cancelling the dialog changes nothing.
    gen = window.generation
    window.edit_color(1)
    assert window.generation == gen


@needs_locked
def test_too_many_locks_is_a_message_not_a_crash(window, qtbot, wait_preview, dialogs):
    window.open_path(ASTRONAUT)
    wait_preview(window, 16)
    for i in range(5):
        window.set_locked(i, True)
    wait_preview(window, 16)
    window.controls.colors_slider.setValue(3)
    qtbot.waitUntil(lambda: "locked" in window.message_bar.text)
    assert dialogs.errors == []          # not modal: it would pop up on every slider step
    window.unlock_all()
    wait_preview(window, 3)
    assert not window.message_bar.isVisible()


def test_corrupt_file_shows_message_and_app_stays_usable(window, qtbot, wait_preview, dialogs, tmp_path):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    window.open_path(bad)
    qtbot.waitUntil(lambda: dialogs.errors != [])
    _title, message = dialogs.errors[0]
    assert "broken.png" in message
    assert "Traceback" not in message
    assert window.loaded is None
    missing = tmp_path / "missing.png"
    window.open_path(missing)
    qtbot.waitUntil(lambda: len(dialogs.errors) == 2)
    assert "missing.png" in dialogs.errors[1][1]
    # Still usable.
    window.open_path(ASTRONAUT)
    wait_preview(window, 16)
    assert window.swatches.count() == 16


def test_open_another_image_replaces_everything(window, qtbot, wait_preview, big_image_path):
    window.open_path(ASTRONAUT)
    wait_preview(window, 16)
    window.open_path(big_image_path)
    shown = wait_preview(window, 16)
    h, w = shown.request.pixels.shape[:2]
    assert h * w <= 1_000_000 and (w, h) != (1400, 900)          # a preview-sized copy
    assert window.loaded.image.size == (1400, 900)
    assert window.preview.state.image_size == QSize(1400, 900)    # zoom works in full-size pixels
    assert "1400 × 900" in window.windowTitle()
    assert "preview" in window.info_label.text()


def test_transparent_image(window, qtbot, wait_preview, rgba_image_path):
    window.open_path(rgba_image_path)
    shown = wait_preview(window, 16)
    assert shown.result.transparent_index is not None
    assert window.swatches.count() == 16
    # The transparent entry is last in the grid and cannot be locked or edited.
    model = window.swatches.model
    last = model.index(model.rowCount() - 1)
    assert last.data(Qt.ItemDataRole.UserRole + 4) == 0   # AlphaRole
    menu = window.swatches.menu_for(last)
    assert not next(a for a in menu.actions() if a.objectName() == "lock").isEnabled()
    assert _quantized_pixels(window)[0, 0, 3] == 0


def test_paste_image_from_clipboard(window, qtbot, wait_preview):
    img = QImage(str(ASTRONAUT))
    QGuiApplication.clipboard().setImage(img)
    window.paste()
    shown = wait_preview(window, 16)
    assert window.loaded.name == "Pasted image"
    assert window.loaded.image.pixels.shape == (512, 512, 3)   # opaque: alpha dropped
    assert window.swatches.count() == 16
    # A file path on the clipboard opens the file.
    QGuiApplication.clipboard().setText(str(ASTRONAUT))
    window.paste()
    qtbot.waitUntil(lambda: window.loaded.name == "astronaut.png")
    assert shown is not None


def test_drop_file(window, qtbot, wait_preview):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(ASTRONAUT))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)
    wait_preview(window, 16)
    assert window.loaded.name == "astronaut.png"


def test_recent_files(window, qtbot, wait_preview, big_image_path):
    window.open_path(ASTRONAUT)
    wait_preview(window)
    window.open_path(big_image_path)
    wait_preview(window)
    assert window.recent_files()[:2] == [os.path.abspath(big_image_path), os.path.abspath(ASTRONAUT)]
    window._fill_recent_menu()
    actions = [a for a in window.recent_menu.actions() if a.toolTip() == os.path.abspath(ASTRONAUT)]
    assert len(actions) == 1
    actions[0].trigger()
    qtbot.waitUntil(lambda: window.loaded.name == "astronaut.png")
    assert window.recent_files()[0] == os.path.abspath(ASTRONAUT)


def test_open_dialog_uses_patched_helper(window, qtbot, wait_preview, dialogs):
    dialogs.open_answers.append(str(ASTRONAUT))
    window.open_action.trigger()
    wait_preview(window, 16)
    dialogs.open_answers.append(None)      # cancelled: nothing happens
    window.open_action.trigger()
    assert window.loaded.name == "astronaut.png"


def test_shortcuts():
    from PySide6.QtWidgets import QApplication  # noqa: F401  (qapp is made by pytest-qt)

    def keys(action):
        return {s.toString() for s in action.shortcuts()}

    from palette_app.gui.mainwindow import MainWindow

    w = MainWindow(warmup=False)
    try:
        assert QKeySequence(QKeySequence.StandardKey.Open).toString() in keys(w.open_action)
        assert "Ctrl+E" in keys(w.export_palette_action)
        assert "Ctrl+Shift+E" in keys(w.export_image_action)
        assert "Ctrl+0" in keys(w.zoom_fit_action)
        assert "Ctrl+1" in keys(w.zoom_100_action)
        assert keys(w.zoom_in_action) & {"Ctrl++", "Ctrl+="}
        assert keys(w.zoom_out_action) & {"Ctrl+-"}
        assert QKeySequence(QKeySequence.StandardKey.Paste).toString() in keys(w.paste_action)
    finally:
        w.close()
        w.deleteLater()


def test_zoom_actions_and_split_view(window, qtbot, wait_preview):
    window.open_path(ASTRONAUT)
    wait_preview(window)
    assert window.preview.state.is_fit
    window.zoom_100_action.trigger()
    assert window.preview.zoom() == pytest.approx(1.0)
    assert window.zoom_label.text() == "100 %"
    window.zoom_in_action.trigger()
    assert window.preview.zoom() == pytest.approx(1.25)
    window.zoom_out_action.trigger()
    window.zoom_out_action.trigger()
    assert window.preview.zoom() == pytest.approx(0.8)
    window.zoom_fit_action.trigger()
    assert window.preview.state.is_fit
    window.split_action.trigger()
    assert window.preview.mode == "split"
    assert window.preview.split_pane.isVisible()
    window.split_action.trigger()
    assert window.preview.mode == "side"


def test_close_while_busy_cancels_and_waits(make_window, qtbot, big_image_path):
    w = make_window()
    w.open_path(big_image_path)
    qtbot.waitUntil(lambda: w.loaded is not None, timeout=15000)
    w.controls.colors_slider.setValue(200)
    qtbot.waitUntil(lambda: w.core_runner.running is not None and w.core_runner.running.key == "preview")
    running = w.core_runner.running
    w.close()
    # close() cancelled the preview and waited for it to return.
    assert running.cancelled and running.done
    assert QThreadPool.globalInstance().waitForDone(10000)
    # A request after close is refused, not run.
    w.controls.colors_slider.setValue(20)
    assert not w.core_runner.pending()


def test_click_copies_hex_and_sort_orders(window, qtbot, wait_preview):
    window.open_path(ASTRONAUT)
    shown = wait_preview(window, 16)
    view = window.swatches.view
    index = window.swatches.model.index(4)
    rect = view.visualRect(index)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert QGuiApplication.clipboard().text() == index.data()
    assert "Copied" in window.statusBar().currentMessage()
    for key in ("hue", "lum", "share"):
        window.swatches.set_sort(key)
        assert window.swatches.model.hex_codes() == shown.palette.sorted(key).hex
    # The order survives the next palette.
    window.swatches.set_sort("lum")
    window.controls.colors_slider.setValue(9)
    shown = wait_preview(window, 9)
    assert window.swatches.model.hex_codes() == shown.palette.sorted("lum").hex


def test_preparing_then_ready(make_window, qtbot):
    w = make_window()
    assert w.activity_label.text() == "Preparing…"
    qtbot.waitUntil(lambda: w.activity_label.text() == "", timeout=60000)
    assert w.isVisible()


@pytest.mark.parametrize("pixels", [
    np.zeros((1, 1, 3), np.uint8),
    np.full((40, 30, 3), 77, np.uint8),
    np.zeros((16, 16, 4), np.uint8),                       # fully transparent
    np.dstack([np.arange(256, dtype=np.uint8).reshape(16, 16)] * 3 + [np.full((16, 16), 9, np.uint8)]),
], ids=["1x1", "one-color", "all-transparent", "translucent"])
def test_edge_images_do_not_crash(window, qtbot, dialogs, pixels):
    window.open_pixels(pixels, name="edge")
    qtbot.waitUntil(lambda: (window.shown is not None and window.is_idle()) or bool(window.message_bar.text),
                    timeout=15000)
    assert dialogs.errors == []
    if window.shown is not None:
        assert window.swatches.count() == len(window.shown.palette) >= 1
    else:
        assert "Traceback" not in window.message_bar.text


def test_event_loop_keeps_running_during_a_12_megapixel_export(window, qtbot, wait_preview, tmp_path):
    rng = np.random.default_rng(0)
    h, w = 3000, 4000
    y, x = np.mgrid[0:h, 0:w]
    px = np.dstack([(x * 255 // w), (y * 255 // h), ((x + y) * 127 // (w + h))]).astype(np.uint8)
    px = np.clip(px.astype(np.int16) + rng.integers(-8, 9, px.shape), 0, 255).astype(np.uint8)
    window.open_pixels(px, name="big")
    shown = wait_preview(window, 16, timeout=30000)
    assert shown.request.pixels.shape[0] * shown.request.pixels.shape[1] <= 1_000_000
    import time as _time

    ticks = []
    from PySide6.QtCore import QTimer

    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(_time.perf_counter()))
    timer.start()
    progress = []
    with qtbot.waitSignal(window.exportFinished, timeout=60000) as blocker:
        w_ = window.export("image", tmp_path / "big.bmp")
        w_.signals.progress.connect(progress.append)
    timer.stop()
    assert blocker.args[0].size == (4000, 3000)
    gaps = np.diff(ticks)
    assert len(ticks) > 5
    assert gaps.max() < 0.25, f"the event loop stalled for {gaps.max():.2f} s"
    assert progress and progress[-1] == 1.0


def test_preview_failure_is_a_message_then_recovers(window, qtbot, wait_preview, dialogs, monkeypatch):
    window.open_path(ASTRONAUT)
    wait_preview(window, 16)
    real = palette_app.quantize

    def failing(*args, **kwargs):
        raise ValueError("the color engine said no")

    monkeypatch.setattr(palette_app, "quantize", failing)
    window.controls.colors_slider.setValue(10)
    qtbot.waitUntil(lambda: "said no" in window.message_bar.text)
    assert dialogs.errors == []                     # in the window, not a pop-up per slider step
    assert window.shown.request.n_colors == 16      # the last good preview stays
    monkeypatch.setattr(palette_app, "quantize", real)
    window.controls.colors_slider.setValue(11)
    wait_preview(window, 11)
    assert not window.message_bar.isVisible()


def test_choices_are_remembered(qtbot, tmp_path, dialogs):
    from PySide6.QtCore import QSettings

    from palette_app.gui.mainwindow import MainWindow

    path = str(tmp_path / "remember.ini")
    w = MainWindow(QSettings(path, QSettings.Format.IniFormat), warmup=False)
    qtbot.addWidget(w)
    w.controls.colors_slider.setValue(42)
    w.controls.seed_spin.setValue(5)
    w.swatches.set_sort("hue")
    w.set_split_view(True)
    w.close()
    w2 = MainWindow(QSettings(path, QSettings.Format.IniFormat), warmup=False)
    qtbot.addWidget(w2)
    s = w2.controls.settings()
    assert (s.n_colors, s.random_state) == (42, 5)
    assert w2.swatches.model.sort_key == "hue"
    assert w2.preview.mode == "split" and w2.split_action.isChecked()
    w2.close()


def test_warmup_runs_in_steps_and_a_preview_goes_between_them(make_window, qtbot, wait_preview, monkeypatch):
    """On a cold start the first preview waits for one warm-up step, not for all."""
    import importlib

    warm = importlib.import_module("palette_app.core.warmup")   # the module, not the function

    order = []
    gate = threading.Event()
    real_step = warm.warmup_step
    real_quantize = palette_app.quantize

    def step(i):
        if i == 0:
            assert gate.wait(30), "the test never opened the gate"
        order.append(f"step {i}")
        return real_step(i)

    def quantize(*args, **kwargs):
        order.append("preview")
        return real_quantize(*args, **kwargs)

    monkeypatch.setattr(warm, "warmup_step", step)
    monkeypatch.setattr(palette_app, "quantize", quantize)
    w = make_window()                      # warm-up step 0 starts and waits at the gate
    w.open_path(ASTRONAUT)                 # the load runs beside it; the preview queues
    qtbot.waitUntil(lambda: any(x.key == "preview" for x in w.core_runner.pending()), timeout=20000)
    gate.set()
    wait_preview(w, 16)
    qtbot.waitUntil(lambda: w._ready, timeout=60000)
    steps = [x for x in order if x.startswith("step")]
    assert steps == [f"step {i}" for i in range(len(warm.STEPS))]
    assert order.index("preview") == 1, order   # right after step 0, before the other steps
