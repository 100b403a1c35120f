"""Fixtures for the GUI tests: an isolated window, patched dialogs, test images.

Every window gets its own settings file, is registered with ``qtbot.addWidget``
and is closed at the end; the test then checks that no worker thread is left.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtCore import QSettings, QThreadPool

ASSETS = Path(__file__).resolve().parents[2] / "assets"
ASTRONAUT = ASSETS / "astronaut.png"


class Dialogs:
    """Stands in for :mod:`palette_app.gui.dialogs`; records what would have been shown."""

    def __init__(self):
        self.errors: list[tuple[str, str]] = []
        self.infos: list[tuple[str, str]] = []
        self.save_answers: list[tuple[str, str] | None] = []
        self.open_answers: list[str | None] = []
        self.color_answers: list = []
        self.text_answers: list[str | None] = []
        self.abouts = 0
        self.open_calls: list[tuple[str, str]] = []

    def show_error(self, parent, title, message, details=""):
        self.errors.append((title, message))

    def show_info(self, parent, title, message, details=""):
        self.infos.append((title, message))

    def get_save_path(self, parent, title, directory, filters, selected=None):
        self.last_save = (title, directory, list(filters), selected)
        return self.save_answers.pop(0) if self.save_answers else None

    def get_open_path(self, parent, title, directory, filters):
        self.open_calls.append((title, directory))
        return self.open_answers.pop(0) if self.open_answers else None

    def get_color(self, parent, initial, title):
        return self.color_answers.pop(0) if self.color_answers else None

    def get_text(self, parent, title, label, text=""):
        self.last_text = (title, label, text)
        return self.text_answers.pop(0) if self.text_answers else None

    def show_about(self, parent):
        self.abouts += 1


@pytest.fixture(scope="session", autouse=True)
def _gc_on_the_gui_thread(qapp):
    """As the app does: cyclic garbage is collected on the GUI thread only."""
    from palette_app.gui.main_thread_gc import install

    collector = install(qapp)
    yield
    collector.stop()


@pytest.fixture(scope="session", autouse=True)
def _kernels_compiled():
    """Compile the core's kernels once, before any window: on a fresh clone (CI)
    Numba's disk cache is empty and the first compile takes 20 s or more, which
    must not count against the waits below."""
    import palette_app

    palette_app.warmup()


@pytest.fixture
def dialogs(monkeypatch) -> Dialogs:
    from palette_app.gui import dialogs as module

    fake = Dialogs()
    for name in ("show_error", "show_info", "get_save_path", "get_open_path", "get_color", "get_text",
                 "show_about"):
        monkeypatch.setattr(module, name, getattr(fake, name))
    return fake


@pytest.fixture
def make_window(qtbot, tmp_path, dialogs):
    from palette_app.gui.mainwindow import MainWindow

    windows = []

    def make(**kwargs):
        settings = QSettings(str(tmp_path / f"settings{len(windows)}.ini"), QSettings.Format.IniFormat)
        w = MainWindow(settings, **kwargs)
        qtbot.addWidget(w)
        w.resize(1000, 700)
        w.show()
        windows.append(w)
        return w

    yield make
    for w in windows:
        w.close()
    pool = QThreadPool.globalInstance()
    assert pool.waitForDone(20000), "a worker did not finish"
    assert pool.activeThreadCount() == 0


@pytest.fixture
def window(make_window):
    return make_window()


@pytest.fixture(scope="session")
def big_image_path(tmp_path_factory) -> Path:
    """A 1400 × 900 photo (1.26 MP, larger than the 1-MP preview), as PNG."""
    from PIL import Image

    path = tmp_path_factory.mktemp("gui_images") / "big.png"
    with Image.open(ASTRONAUT) as im:
        im.convert("RGB").resize((1400, 900), Image.Resampling.LANCZOS).save(path)
    return path


@pytest.fixture(scope="session")
def small_image_path(tmp_path_factory) -> Path:
    """The sample photo at 96 × 96: fast previews and exports."""
    from PIL import Image

    path = tmp_path_factory.mktemp("gui_images") / "small.png"
    with Image.open(ASTRONAUT) as im:
        im.convert("RGB").resize((96, 96), Image.Resampling.LANCZOS).save(path)
    return path


@pytest.fixture(autouse=True)
def _theme_back_to_system():
    """A test that changes the theme must not change how later tests paint."""
    yield
    from PySide6.QtWidgets import QApplication

    if QApplication.instance() is not None:
        from PySide6.QtGui import QGuiApplication

        from palette_app.gui import theme

        m = theme._manager
        if m is not None and (m.choice != "system" or m._overridden):
            m._system_scheme = QGuiApplication.styleHints().colorScheme()
            theme.theme_manager().set_choice("system")


@pytest.fixture(scope="session")
def rgba_image_path(tmp_path_factory) -> Path:
    """A 300 × 200 RGBA image with a fully transparent border and soft edges."""
    from PIL import Image

    path = tmp_path_factory.mktemp("gui_images") / "rgba.png"
    with Image.open(ASTRONAUT) as im:
        rgb = np.asarray(im.convert("RGB").resize((300, 200)))
    a = np.full((200, 300), 255, np.uint8)
    a[:20] = 0
    a[:, :15] = 0
    a[20:30] = 128
    Image.fromarray(np.dstack([rgb, a]), "RGBA").save(path)
    return path


@pytest.fixture
def wait_preview(qtbot):
    """``wait_preview(window, n=None)``: wait until the newest preview (with ``n``
    colors, if given) is on screen; returns it."""
    def wait(window, n: int | None = None, timeout: int = 30000):
        return _wait_preview(qtbot, window, n, timeout)
    return wait


def _wait_preview(qtbot, window, n, timeout):
    def done():
        shown = window.shown
        assert shown is not None
        if n is not None:
            assert shown.request.n_colors == n
        assert shown.request.generation == window.generation
        assert window.is_idle()
    qtbot.waitUntil(done, timeout=timeout)
    return window.shown


def quantized_pixels(window) -> np.ndarray:
    """What the quantized pane shows, as (H, W, 4) RGBA."""
    from PySide6.QtGui import QImage

    pix = window.preview.quantized_pane.quantized
    img = pix.toImage().convertToFormat(QImage.Format.Format_RGBA8888)
    w, h = img.width(), img.height()
    buf = np.frombuffer(img.constBits(), np.uint8, count=img.sizeInBytes())
    return buf.reshape(h, img.bytesPerLine())[:, : 4 * w].reshape(h, w, 4).copy()


@pytest.fixture
def preview_pixels():
    """``preview_pixels(window)``: the quantized preview on screen, (H, W, 4) RGBA."""
    return quantized_pixels


def color_set(pixels: np.ndarray) -> set[str]:
    """Distinct colors of (…, 3|4) pixels as "#rrggbb"."""
    p = np.asarray(pixels)[..., :3].reshape(-1, 3).astype(np.uint32)
    keys = np.unique((p[:, 0] << 16) | (p[:, 1] << 8) | p[:, 2])
    return {f"#{int(k):06x}" for k in keys}


@pytest.fixture
def colors_of():
    """``colors_of(pixels)``: the distinct colors as a set of "#rrggbb"."""
    return color_set


@pytest.fixture
def gate_fourth_file(monkeypatch):
    """Call it to make the in-process batch engine's fourth file wait until the
    batch is cancelled, so a test knows where the batch is without any timing.
    Returns the list of inputs the engine was asked to process, in order."""
    def install() -> list[str]:
        from palette_app.batch import engine

        real = engine.process_job
        calls: list[str] = []

        def gated(job, settings, palette_hex=None, *, cancel=None):
            calls.append(job.input)
            if len(calls) == 4:
                assert cancel is not None and cancel.wait(60), "the batch was never cancelled"
            return real(job, settings, palette_hex, cancel=cancel)

        monkeypatch.setattr(engine, "process_job", gated)
        return calls
    return install
