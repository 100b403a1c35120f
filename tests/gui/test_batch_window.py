"""The batch window end to end: a real batch through run_batch, each file's own progress,
cancel, planning errors, remembered settings, keyboard and tooltips."""
from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, QSettings, Qt, QThreadPool, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLabel,
    QLineEdit,
    QWidget,
)

from palette_app.batch import BatchSettings
from palette_app.gui import batch_window as bw_module
from palette_app.gui.batch_window import (
    BatchResultsModel,
    BatchWindow,
    PhaseRole,
    ProgressRole,
)

ASTRONAUT = Path(__file__).resolve().parents[2] / "assets" / "astronaut.png"
CORRUPT = 7   # index of the damaged file in `photos`


@pytest.fixture(scope="module")
def astronaut_rgb() -> np.ndarray:
    from PIL import Image

    with Image.open(ASTRONAUT) as im:
        return np.asarray(im.convert("RGB")).copy()


def _save(pixels: np.ndarray, path: Path) -> Path:
    from PIL import Image

    Image.fromarray(np.ascontiguousarray(pixels)).save(path)
    return path


@pytest.fixture
def photos(tmp_path, astronaut_rgb) -> Path:
    """``in/`` with 20 different 64 × 64 PNG photos, one of them (photo07.png) damaged."""
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(20):
        y, x = 20 * i % 440, 37 * i % 440
        _save(astronaut_rgb[y:y + 64, x:x + 64], folder / f"photo{i:02d}.png")
    good = (folder / f"photo{CORRUPT:02d}.png").read_bytes()
    (folder / f"photo{CORRUPT:02d}.png").write_bytes(good[:60])   # the header and a bit: truncated
    return folder


@pytest.fixture
def make_batch(qtbot, tmp_path):
    windows = []

    def make(name: str = "batch.ini", **kwargs) -> BatchWindow:
        settings = QSettings(str(tmp_path / name), QSettings.Format.IniFormat)
        kwargs.setdefault("jobs_n", 1)   # in this process: real, and no process pool to start
        w = BatchWindow(settings, **kwargs)
        qtbot.addWidget(w)
        w.show()
        qtbot.waitExposed(w)
        windows.append(w)
        return w

    yield make
    for w in windows:
        w.close()
        assert not w.is_running()
        assert w._pool.waitForDone(30000)
    assert QThreadPool.globalInstance().waitForDone(20000)


def _indexed(path: Path) -> tuple[str, int, tuple[int, int]]:
    """(mode, distinct colors used, size) of a written image, fully decoded."""
    from PIL import Image

    with Image.open(path) as im:
        im.load()
        used = np.unique(np.asarray(im)).size if im.mode == "P" else -1
        return im.mode, used, im.size


def _statuses(w: BatchWindow) -> list[str]:
    return [w.model.status(r) for r in range(w.model.rowCount())]


def _cell(w: BatchWindow, row: int, col: int):
    return w.model.data(w.model.index(row, col))


class _RowSpy:
    """Records what each row's progress cell shows whenever the model says it changed (a
    signal spy: no timing involved)."""

    def __init__(self, w: BatchWindow):
        self.model = w.model
        self.rows: dict[int, list[tuple[float, str, str]]] = {}
        self.overall: list[int] = []
        w.model.dataChanged.connect(self._changed)
        w.progress_bar.valueChanged.connect(self.overall.append)

    def _changed(self, top, bottom, roles=()) -> None:
        col = BatchResultsModel.PROGRESS
        if not top.column() <= col <= bottom.column():
            return
        for row in range(top.row(), bottom.row() + 1):
            cell = self.model.index(row, col)
            self.rows.setdefault(row, []).append(
                (cell.data(ProgressRole), cell.data(PhaseRole),
                 cell.data(Qt.ItemDataRole.ToolTipRole)))

    def fractions(self, row: int) -> list[float]:
        return [v for v, _, _ in self.rows.get(row, [])]

    def phases(self, row: int) -> list[str]:
        return [p for _, p, _ in self.rows.get(row, []) if p]


def _check_rows_progressed(spy: _RowSpy, rows: list[int]) -> None:
    """Each of ``rows`` rose through real intermediate values to 100 %, its phases in order,
    and so did the overall bar."""
    order = ("loading", "quantizing", "remapping", "saving", "done")
    for row in rows:
        values = spy.fractions(row)
        assert values == sorted(values) and values[-1] == 1.0, values
        assert any(0.0 < v < 1.0 for v in values), values
        phases = spy.phases(row)
        assert phases[0] == "loading" and "quantizing" in phases, phases
        assert [order.index(p) for p in phases] == sorted(order.index(p) for p in phases)
        # While working, the cell's tooltip names the phase and the percentage.
        tips = [t for _, p, t in spy.rows[row] if p == "quantizing"]
        assert tips and re.fullmatch(r"Quantizing: \d+ %", tips[0]), tips
    assert spy.overall == sorted(spy.overall) and spy.overall[-1] == 1000
    assert any(0 < v < 1000 for v in spy.overall)


def _run(qtbot, w: BatchWindow, start=None, timeout: int = 60000) -> list:
    with qtbot.waitSignal(w.batchFinished, timeout=timeout) as blocker:
        (start or w.start)()
    qtbot.waitUntil(lambda: not w.is_running() and w.start_button.isEnabled(), timeout=10000)
    return blocker.args[0]


# --------------------------------------------------------------------------- batches
def test_batch_of_20_with_a_corrupt_file(make_batch, qtbot, photos, tmp_path):
    out = tmp_path / "out"
    w = make_batch()
    w.add_inputs([photos])
    w.set_output_folder(out)
    w.colors_spin.setValue(8)
    w.start_button.setFocus()
    finished = []
    w.fileFinished.connect(finished.append)
    spy = _RowSpy(w)

    # Enter starts the batch.
    results = _run(qtbot, w, lambda: qtbot.keyClick(w.colors_spin, Qt.Key.Key_Return))

    assert len(results) == 20 and len(finished) == 20
    statuses = _statuses(w)
    assert statuses.count("ok") == 19 and statuses.count("failed") == 1
    bad = statuses.index("failed")
    assert _cell(w, bad, BatchResultsModel.FILE) == f"photo{CORRUPT:02d}.png"
    assert _cell(w, bad, BatchResultsModel.STATUS) == "failed"
    reason = _cell(w, bad, BatchResultsModel.REASON)
    assert f"photo{CORRUPT:02d}.png" in reason and "Cannot open" in reason
    # The reason names the file as the File column does (not by its full path), and a failed
    # file shows no output: none was written.
    assert reason.startswith(f"Cannot open photo{CORRUPT:02d}.png") and str(photos) not in reason
    assert _cell(w, bad, BatchResultsModel.OUTPUT) == ""
    assert _cell(w, 0, BatchResultsModel.OUTPUT) == "photo00.png"
    for row in range(20):
        assert w.model.data(w.model.index(row, BatchResultsModel.PROGRESS), ProgressRole) == 1.0
        if row != bad:
            assert _cell(w, row, BatchResultsModel.STATUS) == "done"
            assert int(_cell(w, row, BatchResultsModel.COLORS)) <= 8
            assert float(_cell(w, row, BatchResultsModel.PSNR)) > 15
    assert w.progress_bar.value() == w.progress_bar.maximum()
    assert "19 written" in w.status_label.text() and "1 failed" in w.status_label.text()
    # Each file's bar showed its real progress on the way, and ends full.
    _check_rows_progressed(spy, [row for row in range(20) if row != bad])
    # The damaged file stopped while loading (no intermediate value), and shows failed.
    assert spy.phases(bad) == ["loading"] and spy.fractions(bad)[-1] == 1.0

    written = sorted(os.listdir(out))
    assert written == sorted(f"photo{i:02d}.png" for i in range(20) if i != CORRUPT)
    for name in written:
        mode, used, size = _indexed(out / name)
        assert mode == "P" and 2 <= used <= 8 and size == (64, 64)

    # A second run skips what exists (the default rule) and fails the damaged file again.
    _run(qtbot, w)
    statuses = _statuses(w)
    assert statuses.count("skipped") == 19 and statuses.count("failed") == 1
    assert sorted(os.listdir(out)) == written


def _check_outputs_complete(out: Path, expected: list[str]) -> None:
    from PIL import Image

    # Exactly the finished files: nothing partial, no temporary files (hidden ones included).
    assert sorted(os.listdir(out)) == sorted(expected)
    for name in expected:
        with Image.open(out / name) as im:
            im.verify()
        mode, used, size = _indexed(out / name)
        assert mode == "P" and 2 <= used <= 16 and size == (64, 64)


def _hold_fourth_file_after_loading(monkeypatch) -> tuple[list[tuple], threading.Event]:
    """The in-process engine's fourth file stops after it was loaded (before the core runs)
    until the test releases it, so the test knows where the batch is without any timing."""
    from palette_app.batch import worker

    real = worker.reduce_pixels
    calls: list[tuple] = []
    release = threading.Event()

    def held(pixels, settings, *, palette=None, callback=None):
        calls.append(pixels.shape)
        if len(calls) == 4:
            assert release.wait(60), "the test never released the fourth file"
        return real(pixels, settings, palette=palette, callback=callback)

    monkeypatch.setattr(worker, "reduce_pixels", held)
    return calls, release


def test_cancel_mid_batch(make_batch, qtbot, photos, tmp_path, monkeypatch):
    calls, release = _hold_fourth_file_after_loading(monkeypatch)
    out = tmp_path / "out"
    w = make_batch()
    w.add_inputs([photos])
    w.set_output_folder(out)
    try:
        with qtbot.waitSignal(w.batchFinished, timeout=60000) as blocker:
            assert w.start()
            # The file in progress is shown as such (the engine said it started), the others
            # as queued.
            qtbot.waitUntil(lambda: w.model.rowCount() == 20 and w.model.status(3) == "working",
                            timeout=30000)
            assert w.model.counts().get("ok") == 3
            cell = w.model.index(3, BatchResultsModel.PROGRESS)
            assert cell.data(PhaseRole) == "loading" and cell.data(ProgressRole) == 0.0
            assert _cell(w, 3, BatchResultsModel.STATUS) == "loading…"
            assert {w.model.status(r) for r in range(4, 20)} == {"queued"}
            assert not w.table.viewport().grab().isNull()   # the bars, with a percentage, paint
            assert w.cancel_button.isEnabled()
            qtbot.keyClick(w, Qt.Key.Key_Escape)          # Esc cancels a running batch
            # The held file goes on: the core sees the cancel at its first check.
            release.set()
    finally:
        release.set()
    results = blocker.args[0]
    qtbot.waitUntil(lambda: not w.is_running())
    assert w.isVisible()                              # ... without closing the window
    assert len(calls) == 4                            # nothing started after the cancel
    assert [r.status for r in results] == ["ok"] * 3 + ["cancelled"] * 17
    assert _statuses(w) == ["ok"] * 3 + ["cancelled"] * 17
    assert {_cell(w, r, BatchResultsModel.STATUS) for r in range(3, 20)} == {"cancelled"}
    assert {_cell(w, r, BatchResultsModel.OUTPUT) for r in range(3, 20)} == {""}
    assert "3 written" in w.status_label.text() and "17 cancelled" in w.status_label.text()
    _check_outputs_complete(out, ["photo00.png", "photo01.png", "photo02.png"])


def test_close_while_running_cancels_and_waits(make_batch, qtbot, photos, tmp_path, gate_fourth_file):
    gate_fourth_file()
    out = tmp_path / "out"
    w = make_batch()
    w.add_inputs([photos])
    w.set_output_folder(out)
    assert w.start()
    qtbot.waitUntil(lambda: w.model.counts().get("ok") == 3, timeout=30000)
    w.close()
    # close() returned only after the batch stopped.
    assert not w.is_running() and not w.isVisible()
    _check_outputs_complete(out, ["photo00.png", "photo01.png", "photo02.png"])
    qtbot.waitUntil(lambda: w.model.counts().get("cancelled") == 17)


@pytest.mark.slow
def test_default_executor_with_worker_processes(make_batch, qtbot, tmp_path, astronaut_rgb):
    """Two worker processes (the window's default on two cores): each file's progress travels
    from its process to its row."""
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(3):
        _save(astronaut_rgb[100 * i:100 * i + 64, 50:114], folder / f"p{i}.png")
    w = make_batch(jobs_n=2)
    w.add_inputs([folder])
    w.set_output_folder(tmp_path / "out")
    w.colors_spin.setValue(6)
    spy = _RowSpy(w)
    results = _run(qtbot, w, timeout=120000)
    assert [r.status for r in results] == ["ok"] * 3
    assert _statuses(w) == ["ok"] * 3
    _check_rows_progressed(spy, [0, 1, 2])
    for i in range(3):
        mode, used, _ = _indexed(tmp_path / "out" / f"p{i}.png")
        assert mode == "P" and used <= 6


def test_shared_palette_rows_show_both_passes(make_batch, qtbot, tmp_path, astronaut_rgb):
    """Reading colors fills the first half of a row's bar, the image itself the second."""
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(3):
        _save(astronaut_rgb[120 * i:120 * i + 64, 60:124], folder / f"p{i}.png")
    w = make_batch()
    w.add_inputs([folder])
    w.set_output_folder(tmp_path / "out")
    w.palette_combo.setCurrentIndex(w.palette_combo.findData("shared"))
    spy = _RowSpy(w)
    results = _run(qtbot, w)
    assert [r.status for r in results] == ["ok"] * 3
    for row in range(3):
        values = spy.fractions(row)
        assert values == sorted(values) and values[-1] == 1.0
        assert 0.5 in values                                     # read, waiting for the palette
        assert any(0.5 < v < 1.0 for v in values)
        phases = spy.phases(row)
        first = phases.index("loading")                          # the second pass
        assert set(phases[:first]) == {"reading"} and "reading" not in phases[first:]
        assert "remapping" in phases[first:]
    assert spy.overall == sorted(spy.overall) and spy.overall[-1] == 1000


def test_fixed_palette_from_the_main_window(make_batch, qtbot, tmp_path, astronaut_rgb):
    folder = tmp_path / "in"
    folder.mkdir()
    _save(astronaut_rgb[:64, :64], folder / "a.png")
    _save(astronaut_rgb[200:264, 200:264], folder / "b.png")
    colors = ("#000000", "#ffffff", "#c03030", "#3050c0")
    w = make_batch(initial=BatchSettings(n_colors=12, palette=colors, format="gif"))
    assert w.palette_combo.currentData() == "given"
    assert not w.locked_edit.isEnabled() and not w.quality_combo.isEnabled()
    w.add_inputs([folder])
    w.set_output_folder(tmp_path / "out")
    results = _run(qtbot, w)
    assert [r.status for r in results] == ["ok", "ok"]
    from PIL import Image

    allowed = {tuple(int(c[i:i + 2], 16) for i in (1, 3, 5)) for c in colors}
    for name in ("a.gif", "b.gif"):
        with Image.open(tmp_path / "out" / name) as im:
            rgb = np.asarray(im.convert("RGB")).reshape(-1, 3)
        assert {tuple(int(v) for v in c) for c in np.unique(rgb, axis=0)} <= allowed


def test_palette_file_and_locked_colors(make_batch, qtbot, tmp_path, astronaut_rgb, monkeypatch):
    from PIL import Image

    from palette_app.core import Palette
    from palette_app.io import write_palette

    folder = tmp_path / "in"
    folder.mkdir()
    _save(astronaut_rgb[300:364, 300:364], folder / "a.png")
    pal_path = tmp_path / "brand.gpl"
    write_palette(Palette(np.array([[10, 10, 10], [250, 250, 250], [200, 30, 30]], np.uint8)), pal_path)

    w = make_batch()
    w.add_inputs([folder])
    w.set_output_folder(tmp_path / "out")
    monkeypatch.setattr(bw_module, "choose_palette_file", lambda *a: str(pal_path))
    w.palette_combo.setCurrentIndex(w.palette_combo.findData("file"))
    assert w.palette_browse_button.isEnabled()
    w.palette_browse_button.click()
    assert w.palette_file_edit.text() == str(pal_path)
    _run(qtbot, w)
    with Image.open(tmp_path / "out" / "a.png") as im:
        used = {tuple(c) for c in np.unique(np.asarray(im.convert("RGB")).reshape(-1, 3), axis=0)}
    assert used <= {(10, 10, 10), (250, 250, 250), (200, 30, 30)}

    # Locked colors: each output keeps them exactly.
    w.palette_combo.setCurrentIndex(w.palette_combo.findData("image"))
    w.set_locked(["#12ab34"])
    w.exist_combo.setCurrentIndex(w.exist_combo.findData("overwrite"))
    w.colors_spin.setValue(5)
    _run(qtbot, w)
    with Image.open(tmp_path / "out" / "a.png") as im:
        pal = np.asarray(im.getpalette("RGB"), np.uint8).reshape(-1, 3)[:5]
    assert [0x12, 0xAB, 0x34] in pal.tolist()


# --------------------------------------------------------------------------- planning errors
def test_planning_errors_are_shown_in_the_window(make_batch, qtbot, tmp_path, astronaut_rgb):
    w = make_batch()
    messages = []
    w.errorShown.connect(messages.append)

    assert not w.start()
    assert "Add images or folders" in w.message() and w.message_label.isVisible()

    empty = tmp_path / "empty"
    empty.mkdir()
    w.add_inputs([empty])
    assert w.message() == ""                           # adding inputs clears the old problem
    with qtbot.waitSignal(w.errorShown, timeout=20000):
        assert w.start()
    assert w.message().startswith("No images found in") and str(empty) in w.message()
    qtbot.waitUntil(lambda: not w.is_running() and w.start_button.isEnabled())

    # Two inputs that map to one output: nothing is written.
    clash = tmp_path / "clash"
    clash.mkdir()
    _save(astronaut_rgb[:32, :32], clash / "a.png")
    _save(astronaut_rgb[:32, :32], clash / "a.bmp")
    w.clear_inputs()
    w.add_inputs([clash])
    w.set_output_folder(tmp_path / "out")
    with qtbot.waitSignal(w.errorShown, timeout=20000):
        w.start()
    assert "would all be written to" in w.message() and "Output names collide" in w.message()
    assert not (tmp_path / "out").exists()
    qtbot.waitUntil(lambda: not w.is_running())

    # An output that would replace its input.
    only = tmp_path / "only"
    only.mkdir()
    _save(astronaut_rgb[:32, :32], only / "b.png")
    w.clear_inputs()
    w.add_inputs([only / "b.png"])
    w.set_output_folder(only)
    with qtbot.waitSignal(w.errorShown, timeout=20000):
        w.start()
    assert "is an input and would be replaced" in w.message()
    qtbot.waitUntil(lambda: not w.is_running())

    # Bad settings are caught before anything runs.
    w.set_output_folder(tmp_path / "out")
    w.locked_edit.setText("e30613, zz1234")
    assert not w.start()
    assert "'zz1234' is not a color" in w.message()
    w.locked_edit.setText("ff0000 00ff00 0000ff")
    w.colors_spin.setValue(2)
    assert not w.start()
    assert "3 locked colors do not fit in 2 colors" in w.message()
    w.locked_edit.clear()
    w.palette_combo.setCurrentIndex(w.palette_combo.findData("file"))
    w.palette_file_edit.setText(str(tmp_path / "missing.gpl"))
    with qtbot.waitSignal(w.errorShown, timeout=20000):
        w.start()
    assert "missing.gpl" in w.message() and "cannot read the palette" in w.message()
    qtbot.waitUntil(lambda: not w.is_running())

    assert len(messages) == 7
    assert not any("Traceback" in m for m in messages)
    assert not (tmp_path / "out").exists() and os.listdir(only) == ["b.png"]


# --------------------------------------------------------------------------- settings
def test_settings_and_folders_are_remembered(make_batch, qtbot, tmp_path, photos, monkeypatch):
    w = make_batch("remember.ini")
    w.colors_spin.setValue(24)
    w.space_combo.setCurrentIndex(w.space_combo.findData("oklab"))
    w.dither_combo.setCurrentIndex(w.dither_combo.findData("fs"))
    w.strength_spin.setValue(60)
    w.smooth_check.setChecked(True)
    w.palette_combo.setCurrentIndex(w.palette_combo.findData("shared"))
    w.set_locked(["#e30613", "#ffffff"])
    w.seed_spin.setValue(7)
    w.format_combo.setCurrentIndex(w.format_combo.findData("WEBP"))
    w.exist_combo.setCurrentIndex(w.exist_combo.findData("rename"))
    w.suffix_edit.setText("-small")
    w.jobs_spin.setValue(3)
    monkeypatch.setattr(bw_module, "choose_folder", lambda parent, title, start: str(tmp_path / "web"))
    w.outdir_button.click()
    monkeypatch.setattr(bw_module, "choose_files",
                        lambda parent, title, start: [str(photos / "photo01.png")])
    w.add_files_button.click()
    expected = w.batch_settings()
    w.close()

    seen = []
    monkeypatch.setattr(bw_module, "choose_files", lambda parent, title, start: seen.append(start) or [])
    w2 = make_batch("remember.ini", jobs_n=None)
    assert w2.batch_settings() == expected
    assert (w2.colors_spin.value(), w2.seed_spin.value(), w2.strength_spin.value()) == (24, 7, 60)
    assert w2.palette_combo.currentData() == "shared" and w2.smooth_check.isChecked()
    assert w2.locked_edit.text() == "#e30613, #ffffff"
    assert w2.outdir_edit.text() == str(tmp_path / "web")
    assert w2.suffix_edit.text() == "-small"
    assert w2.jobs_spin.value() == 3
    w2.add_files_button.click()
    assert seen == [str(photos)]                       # the dialog opens in the last input folder
    assert w2.inputs() == []                           # the list itself starts empty


def test_settings_from_the_main_window_controls(make_batch):
    from palette_app.gui.batch_window import settings_from_controls
    from palette_app.gui.controls import Settings

    s = settings_from_controls(Settings(n_colors=20, space="oklab", dither="fs", dither_strength=0.25,
                                        random_state=9), locked=["#AA0000", "#00bb00ff"], format="webp")
    assert (s.n_colors, s.space, s.dither, s.dither_strength, s.random_state) == (20, "oklab", "fs",
                                                                                  0.25, 9)
    assert s.locked == ("#aa0000", "#00bb00") and s.format == "WEBP"
    w = make_batch(initial=s)
    assert w.batch_settings() == s


def test_prefill_from_main_window_settings(make_batch):
    initial = BatchSettings(n_colors=12, space="lab", dither="ordered", dither_strength=0.5,
                            locked=("#ff0000",), random_state=3, max_delta_e=2.5, format="tiff",
                            on_exist="overwrite")
    w = make_batch(initial=initial)
    assert w.batch_settings() == initial
    w.set_locked(["00ff00", "#0000ff"])
    assert w.batch_settings().locked == ("#00ff00", "#0000ff")
    w.set_settings(BatchSettings(n_colors=40, shared_palette=True))
    s = w.batch_settings()
    assert (s.n_colors, s.shared_palette, s.locked, s.dither) == (40, True, (), "none")
    assert not w.quality_combo.isEnabled() and w.locked_edit.isEnabled()


# --------------------------------------------------------------------------- input
def _drop(target: QWidget, paths) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    target.dropEvent(event)


def test_drop_files_and_folders(make_batch, qtbot, photos, tmp_path):
    w = make_batch()
    _drop(w.input_list, [photos / "photo01.png", photos])
    _drop(w, [photos / "photo02.png", photos])         # on the window too; no duplicates
    assert w.inputs() == [str(photos / "photo01.png"), str(photos), str(photos / "photo02.png")]
    w.input_list.setCurrentRow(0)
    w.input_list.setFocus()
    assert w.remove_button.isEnabled()
    qtbot.keyClick(w.input_list, Qt.Key.Key_Delete)
    assert w.inputs() == [str(photos), str(photos / "photo02.png")]
    w.clear_button.click()
    assert w.inputs() == []


def test_escape_closes_when_idle(make_batch, qtbot):
    w = make_batch("esc.ini")
    w.colors_spin.setValue(99)
    qtbot.keyClick(w, Qt.Key.Key_Escape)
    assert not w.isVisible()
    s = QSettings(w._settings.fileName(), QSettings.Format.IniFormat)
    assert int(s.value("batch/n_colors")) == 99


# --------------------------------------------------------------------------- accessibility
def _interactive(root: QWidget) -> list[QWidget]:
    """The controls a user works with: buttons, boxes, edits, lists (not their inner parts)."""
    kinds = (QAbstractButton, QAbstractSpinBox, QComboBox, QLineEdit, QAbstractItemView)
    out = []
    for child in root.findChildren(QWidget):
        if not isinstance(child, kinds) or child.isHidden():
            continue
        parent = child.parentWidget()
        if isinstance(parent, (QAbstractSpinBox, QComboBox)):
            continue   # the line edit inside a spin box, the popup of a combo box
        if any(isinstance(a, (QAbstractItemView, QComboBox)) for a in _ancestors(child, root)):
            continue   # header sections, the corner button of a table, a combo's list
        out.append(child)
    return out


def _ancestors(w: QWidget, root: QWidget):
    p = w.parentWidget()
    while p is not None and p is not root:
        yield p
        p = p.parentWidget()


def test_every_control_has_a_tooltip(make_batch):
    w = make_batch()
    controls = _interactive(w)
    assert len(controls) >= 25
    assert [c for c in controls if not c.toolTip().strip()] == []
    assert set(controls) == set(w.tab_order())
    header = w.table.horizontalHeader()
    assert all(w.model.headerData(i, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole)
               for i in range(header.count()))


def test_tab_order_reaches_every_control(make_batch, qtbot):
    w = make_batch()
    # Enable every control: dithering on, a quality target; the palette-file row is checked
    # in a second pass (it excludes the locked colors).
    w.dither_combo.setCurrentIndex(w.dither_combo.findData("fs"))
    w.quality_combo.setCurrentIndex(w.quality_combo.findData("psnr"))
    w.add_inputs([str(ASTRONAUT)])
    w.input_list.setCurrentRow(0)
    w.activateWindow()

    def tab_cycle() -> list[QWidget]:
        w.input_list.setFocus()
        qtbot.waitUntil(lambda: QApplication.focusWidget() is w.input_list)
        seen = [w.input_list]
        for _ in range(60):
            qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
            f = QApplication.focusWidget()
            while f is not None and f not in w.tab_order():
                f = f.parentWidget()       # a spin box's line edit stands for the spin box
            if f is w.input_list:
                break
            seen.append(f)
        return seen

    order = w.tab_order()
    seen = tab_cycle()
    expected = [c for c in order if c.isEnabled() and c not in (w.palette_file_edit,
                                                                  w.palette_browse_button,
                                                                  w.cancel_button)]
    assert seen == expected
    w.palette_combo.setCurrentIndex(w.palette_combo.findData("file"))
    seen = tab_cycle()
    assert w.palette_file_edit in seen and w.palette_browse_button in seen
    assert seen.index(w.palette_combo) + 1 == seen.index(w.palette_file_edit)


def test_mnemonics_are_unique_and_labels_have_buddies(make_batch):
    w = make_batch()
    letters = []
    for child in w.findChildren(QAbstractButton) + w.findChildren(QLabel):
        m = re.search(r"&(\w)", child.text().replace("&&", ""))
        if m:
            letters.append(m.group(1).lower())
            if isinstance(child, QLabel):
                assert child.buddy() is not None, child.text()
    assert len(letters) >= 20
    assert len(letters) == len(set(letters)), sorted(letters)
