"""Batch export: reduce many images with one set of settings, in the background.

:class:`BatchWindow` is a non-modal dialog. The user adds files and folders
(buttons, or by dropping them on the window), chooses the settings, the output
folder, format and what to do with existing files, and starts. The batch runs
on :class:`~palette_app.gui.batch_worker.BatchWorker` with the same engine as
``palette-app quantize`` (:func:`palette_app.batch.run_batch`): a per-file row
in the results table with that file's own progress (the engine's
:class:`~palette_app.batch.FileProgress` events: which files are being worked
on, their phase and how far), an overall progress bar, Cancel. Problems found
before anything is written (no images, colliding output names, a bad hex code)
are shown in the window.

Keys: Enter starts, Esc cancels a running batch (or closes the window when
idle). Closing the window while a batch runs cancels it and waits for it.
The folders and the settings are remembered in ``QSettings`` under ``batch/``.
"""
from __future__ import annotations

import itertools
import os
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import (
    QAbstractTableModel,
    QRectF,
    QSettings,
    Qt,
    QThreadPool,
    Signal,
)
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QStyle,
    QStyledItemDelegate,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from palette_app.batch.settings import (
    DITHERS,
    ON_EXIST,
    OUTPUT_FORMATS,
    SPACES,
    BatchSettings,
)
from palette_app.gui.batch_worker import BatchRequest, BatchWorker
from palette_app.gui.controls import DITHER_LABELS, SPACE_LABELS
from palette_app.gui.message_bar import MessageBar

__all__ = [
    "BatchResultsModel", "BatchWindow", "choose_files", "choose_folder", "choose_palette_file",
    "settings_from_controls",
]

SETTINGS_GROUP = "batch"
#: How to name the palette sources (``BatchWindow.palette_combo``'s data).
PALETTE_MODES = {
    "image": "Computed for each image",
    "shared": "One palette shared by all images",
    "file": "From a palette file",
    "given": "The given colors",          # only offered when set_settings() brought some
}
QUALITY_KINDS = {"none": "None: use the number of colors",
                 "psnr": "Fewest colors reaching a PSNR (dB)",
                 "delta_e": "Fewest colors within a mean ΔE2000"}
FORMAT_LABELS = {"PNG": "PNG (indexed)", "GIF": "GIF", "WEBP": "WebP (lossless)", "TIFF": "TIFF",
                 "BMP": "BMP (indexed)", "JPEG": "JPEG (approximate)"}
ON_EXIST_LABELS = {"skip": "Skip it", "overwrite": "Replace it", "rename": "Keep both (rename the new one)"}
STATUS_LABELS = {"ok": "done", "failed": "failed", "skipped": "skipped", "cancelled": "cancelled",
                 "queued": "queued", "working": "working…", "reading": "reading colors…",
                 "read": "waiting for the palette"}
#: What a file being worked on is doing (the engine's FileProgress.phase).
PHASE_LABELS = {"reading": "reading colors…", "loading": "loading…", "quantizing": "quantizing…",
                "remapping": "remapping…", "saving": "saving…", "done": "written"}
READ_EXTENSIONS = ("png", "apng", "jpg", "jpeg", "jpe", "jfif", "gif", "webp", "tif", "tiff", "bmp",
                   "dib", "ico", "avif", "qoi", "ppm", "pgm", "pbm", "pnm", "tga")


# --------------------------------------------------------------------------- dialogs
# Module functions, so tests can replace them (monkeypatch.setattr).
def choose_files(parent: QWidget | None, title: str, directory: str) -> list[str]:
    """Image files to add; empty when the user cancels."""
    images = "Images (" + " ".join(f"*.{e}" for e in READ_EXTENSIONS) + ")"
    paths, _ = QFileDialog.getOpenFileNames(parent, title, directory, f"{images};;All files (*)")
    return list(paths)


def choose_folder(parent: QWidget | None, title: str, directory: str) -> str | None:
    """A folder, or None when the user cancels."""
    return QFileDialog.getExistingDirectory(parent, title, directory) or None


def choose_palette_file(parent: QWidget | None, title: str, directory: str) -> str | None:
    """A palette file to read, or None when the user cancels."""
    from palette_app.io import PALETTE_FORMATS

    exts = sorted({e for spec in PALETTE_FORMATS.values() if spec.can_read for e in spec.extensions})
    filters = "Palettes (" + " ".join("*" + e for e in exts) + ");;All files (*)"
    path, _ = QFileDialog.getOpenFileName(parent, title, directory, filters)
    return path or None


# --------------------------------------------------------------------------- results model
ProgressRole = Qt.ItemDataRole.UserRole + 1   # float 0..1: how far this file is
StatusRole = Qt.ItemDataRole.UserRole + 2     # 'ok', 'failed', ..., 'queued', 'reading', 'working'
PhaseRole = Qt.ItemDataRole.UserRole + 3      # the engine's phase while reading or working, else ''


@dataclass
class _Row:
    input: str
    output: str | None
    state: str = "queued"        # queued, reading, read, working, or a JobResult status
    phase: str = ""              # the last FileProgress phase
    fraction: float = 0.0        # ... and fraction (of the current pass)
    result: object = None        # JobResult


def _size(n: int | None) -> str:
    if n is None:
        return ""
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return ""


class BatchResultsModel(QAbstractTableModel):
    """One row per planned file: its progress, status, output and measurements."""

    COLUMNS = ("File", "Progress", "Status", "Output", "Colors", "PSNR", "ΔE2000", "Size", "Reason")
    TIPS = ("The input file", "This file's progress", "done, failed, skipped or cancelled",
            "The file written", "Colors in the written image",
            "Peak signal-to-noise ratio against the input, in dB (higher is closer)",
            "Mean CIEDE2000 color difference against the input (lower is closer)",
            "Input size → output size", "Why the file failed or was skipped")
    FILE, PROGRESS, STATUS, OUTPUT, COLORS, PSNR, DELTA_E, SIZE, REASON = range(9)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._rows: list[_Row] = []
        self._index: dict[str, int] = {}
        self._base = ""
        self._two_pass = False

    # -- content ---------------------------------------------------------------
    def set_jobs(self, jobs: Sequence, *, two_pass: bool = False) -> None:
        """One queued row per job. ``two_pass``: a shared palette, whose first pass
        (reading colors) fills the first half of each row's bar."""
        self.beginResetModel()
        self._two_pass = bool(two_pass)
        self._rows = [_Row(j.input, j.output) for j in jobs]
        self._index = {j.input: i for i, j in enumerate(jobs)}
        try:
            parents = [os.path.dirname(os.path.abspath(j.input)) for j in jobs]
            self._base = os.path.commonpath(parents) if parents else ""
        except ValueError:   # different drives
            self._base = ""
        self.endResetModel()

    def clear(self) -> None:
        self.set_jobs([])

    def set_result(self, result) -> int | None:
        """Show a finished file's JobResult; returns its row (None if unknown)."""
        row = self._index.get(result.input)
        if row is None:
            return None
        r = self._rows[row]
        r.result, r.state = result, result.status
        if result.output:
            r.output = result.output
        self._row_changed(row)
        return row

    def set_results(self, results: Iterable) -> None:
        for res in results:
            self.set_result(res)

    def set_file_progress(self, p) -> int | None:
        """Show how far a file is (a :class:`~palette_app.batch.FileProgress`); returns its
        row (None if unknown or already finished)."""
        row = p.index
        if not (0 <= row < len(self._rows) and self._rows[row].input == p.input):
            row = self._index.get(p.input)
        if row is None or self._rows[row].result is not None:
            return None
        r = self._rows[row]
        if p.phase == "reading":
            r.state = "read" if p.fraction >= 1.0 else "reading"
        else:
            r.state = "working"
        r.phase, r.fraction = p.phase, float(p.fraction)
        self._row_changed(row)
        return row

    def progress(self, row: int) -> float:
        """How far the file of ``row`` is, 0..1 (what its bar shows)."""
        r = self._rows[row]
        if r.result is not None:
            return 1.0
        first = 0.5 if self._two_pass else 0.0     # the share of the first pass
        if r.state == "reading":
            return first * r.fraction
        if r.state == "read":
            return first
        if r.state == "working":
            return first + (1.0 - first) * r.fraction
        return 0.0

    def _doing(self, r: _Row) -> str:
        """What an unfinished row's file is doing, in words."""
        if r.state in ("reading", "working"):
            return PHASE_LABELS.get(r.phase, STATUS_LABELS[r.state])
        return STATUS_LABELS.get(r.state, r.state)

    def overall(self) -> float:
        """How far the whole batch is, 0..1: the mean of the rows' progress, a cancelled
        file counting as not done."""
        if not self._rows:
            return 0.0
        total = sum(0.0 if r.state == "cancelled" else self.progress(i)
                    for i, r in enumerate(self._rows))
        return total / len(self._rows)

    def _row_changed(self, row: int) -> None:
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(self.COLUMNS) - 1))

    def unfinished_rows(self) -> list[int]:
        return [i for i, r in enumerate(self._rows) if r.result is None]

    def rows_in(self, state: str) -> list[int]:
        return [i for i, r in enumerate(self._rows) if r.state == state]

    def status(self, row: int) -> str:
        return self._rows[row].state

    def result(self, row: int):
        return self._rows[row].result

    def results(self) -> list:
        return [r.result for r in self._rows]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self._rows:
            out[r.state] = out.get(r.state, 0) + 1
        return out

    # -- Qt model --------------------------------------------------------------
    def rowCount(self, parent=None) -> int:
        return 0 if parent is not None and parent.isValid() else len(self._rows)

    def columnCount(self, parent=None) -> int:
        return 0 if parent is not None and parent.isValid() else len(self.COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.COLUMNS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.TIPS[section]
        return None

    def _rel(self, path: str | None) -> str:
        if not path:
            return ""
        if self._base:
            try:
                rel = os.path.relpath(os.path.abspath(path), self._base)
                if not rel.startswith(".."):
                    return rel
            except ValueError:
                pass
        return os.path.basename(path)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        r = self._rows[index.row()]
        res = r.result
        col = index.column()
        if role == StatusRole:
            return r.state
        if role == ProgressRole:
            return self.progress(index.row())
        if role == PhaseRole:
            return r.phase if res is None and r.state in ("reading", "working") else ""
        if role == Qt.ItemDataRole.DisplayRole:
            if col == self.FILE:
                return self._rel(r.input)
            if col == self.STATUS:
                return self._doing(r) if res is None else STATUS_LABELS.get(r.state, r.state)
            if col == self.OUTPUT:
                if res is not None and res.status in ("failed", "cancelled"):
                    return ""     # nothing was written
                return os.path.basename(r.output) if r.output else ""
            if res is None:
                return None
            if col == self.COLORS:
                return "" if res.colors is None else str(res.colors)
            if col == self.PSNR:
                if res.psnr is None:
                    return ""
                return "exact" if res.psnr == float("inf") else f"{res.psnr:.1f}"
            if col == self.DELTA_E:
                return "" if res.delta_e is None else f"{res.delta_e:.2f}"
            if col == self.SIZE:
                if res.bytes_after is None:
                    return _size(res.bytes_before)
                return f"{_size(res.bytes_before)} → {_size(res.bytes_after)}"
            if col == self.REASON:
                if res.status == "ok" or not res.reason:
                    return ""
                # The File column names the file: its full path would crowd out the reason.
                return res.reason.replace(r.input, self._rel(r.input))
            return None
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == self.FILE:
                return r.input
            if col == self.OUTPUT:
                if res is not None and res.status in ("failed", "cancelled"):
                    return f"Nothing was written ({STATUS_LABELS.get(res.status, res.status)})"
                return r.output or ""
            if res is not None and (res.reason or res.notes):
                return "\n".join(([res.reason] if res.reason else []) + list(res.notes))
            if res is None and col in (self.PROGRESS, self.STATUS) and r.state != "queued":
                what = self._doing(r).rstrip("…")
                return f"{what[:1].upper()}{what[1:]}: {100 * self.progress(index.row()):.0f} %"
            return self.TIPS[col]
        if role == Qt.ItemDataRole.DecorationRole and col == self.STATUS and res is not None:
            sp = QStyle.StandardPixmap
            icon = {"ok": sp.SP_DialogApplyButton, "failed": sp.SP_MessageBoxCritical,
                    "skipped": sp.SP_MessageBoxInformation,
                    "cancelled": sp.SP_DialogCancelButton}.get(res.status)
            return QApplication.style().standardIcon(icon) if icon is not None else None
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (self.COLORS, self.PSNR, self.DELTA_E):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class ProgressDelegate(QStyledItemDelegate):
    """Draws a row's progress bar: filled to the file's fraction (full when finished, red when
    it failed), with the percentage while the file is being worked on."""

    def paint(self, painter: QPainter, option, index) -> None:
        value = float(index.data(ProgressRole) or 0.0)
        status = index.data(StatusRole)
        pal: QPalette = option.palette
        rect = QRectF(option.rect).adjusted(4, 5, -4, -5)
        if rect.width() < 4 or rect.height() < 2:
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        frame = pal.color(QPalette.ColorRole.Mid)
        painter.setPen(frame)
        painter.setBrush(pal.color(QPalette.ColorRole.Base))
        painter.drawRoundedRect(rect, 3, 3)
        fill = QColor(pal.color(QPalette.ColorRole.Highlight))
        if status == "failed":
            fill = QColor(200, 60, 50)
        elif status in ("skipped", "cancelled"):
            fill = pal.color(QPalette.ColorRole.Mid)
        inner = rect.adjusted(1.5, 1.5, -1.5, -1.5)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(fill)
        filled = QRectF(inner.left(), inner.top(), inner.width() * min(max(value, 0.0), 1.0),
                        inner.height())
        if value > 0:
            painter.drawRoundedRect(filled, 2, 2)
        if status in ("reading", "read", "working") and rect.height() >= 10:
            # The percentage, in the text color over the empty part and the highlighted
            # text color over the filled part.
            text = f"{100 * value:.0f} %"
            align = Qt.AlignmentFlag.AlignCenter
            painter.setPen(pal.color(QPalette.ColorRole.Text))
            painter.drawText(rect, align, text)
            painter.setClipRect(filled)
            painter.setPen(pal.color(QPalette.ColorRole.HighlightedText))
            painter.drawText(rect, align, text)
        painter.restore()


class _InputList(QListWidget):
    """The list of inputs; takes dropped files and folders."""

    pathsDropped = Signal(list)
    #: Delete or Backspace: remove the selected entries.
    removeRequested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setTabKeyNavigation(False)

    def keyPressEvent(self, event) -> None:
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self.selectedItems():
            self.removeRequested.emit()
            event.accept()
            return
        super().keyPressEvent(event)

    def dragEnterEvent(self, event) -> None:
        if _local_paths(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:
        if _local_paths(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event) -> None:
        paths = _local_paths(event.mimeData())
        if paths:
            event.acceptProposedAction()
            self.pathsDropped.emit(paths)
        else:
            event.ignore()


def _local_paths(mime) -> list[str]:
    if mime is None or not mime.hasUrls():
        return []
    return [u.toLocalFile() for u in mime.urls() if u.isLocalFile() and u.toLocalFile()]


def settings_from_controls(controls, locked: Iterable[str] = (), **overrides) -> BatchSettings:
    """:class:`BatchSettings` from the main window's controls (``controls.Settings`` or anything
    with ``n_colors``, ``space``, ``dither``, ``dither_strength``, ``dither_smooth_only`` and
    ``random_state``) and its locked colors; ``overrides`` set other fields (``format=...``)."""
    kw = {name: getattr(controls, name) for name in
          ("n_colors", "space", "dither", "dither_strength", "dither_smooth_only", "random_state")
          if hasattr(controls, name)}
    kw["locked"] = tuple(str(c)[:7] for c in locked)
    kw.update(overrides)
    return BatchSettings(**kw)


def parse_hex_list(text: str) -> tuple[str, ...]:
    """``"e30613, #fff  00ff00"`` → the codes as typed (checked by :class:`BatchSettings`)."""
    return tuple(p for p in re.split(r"[\s,;]+", text.strip()) if p)


# --------------------------------------------------------------------------- window
class BatchWindow(QDialog):
    """Reduce many images at once (File › Batch Export…).

    Parameters
    ----------
    settings : QSettings, optional
        Where folders and choices are remembered (``batch/`` keys); default: the app's.
    initial : BatchSettings, optional
        Settings to start from (e.g. the main window's current ones); they win
        over the remembered ones.
    inputs : files and folders to put in the list.
    jobs_n : parallel workers; default: the remembered value, else one per core.
    """

    #: A batch started: the BatchRequest.
    batchStarted = Signal(object)
    #: A file finished: its JobResult.
    fileFinished = Signal(object)
    #: The batch ended (done or cancelled): every JobResult, in order.
    batchFinished = Signal(object)
    #: A problem was shown in the window (planning error, bad settings).
    errorShown = Signal(str)

    def __init__(self, settings: QSettings | None = None, *, initial: BatchSettings | None = None,
                 inputs: Iterable[str | os.PathLike] = (), jobs_n: int | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Batch Export")
        self.setModal(False)
        self.setAcceptDrops(True)
        self.setSizeGripEnabled(True)
        self._settings = settings if settings is not None else QSettings()
        # One thread of our own: a long batch must not hold a thread of the
        # global pool, which the main window's previews and loads use.
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._worker: BatchWorker | None = None
        self._request: BatchRequest | None = None
        self._given_palette: tuple[str, ...] | None = None
        self._effort = "default"
        self._shared = False
        self._t0 = 0.0

        self._build()
        self._restore()
        if initial is not None:
            self.set_settings(initial)
        if jobs_n is not None:
            self.jobs_spin.setValue(int(jobs_n))
        if inputs:
            self.add_inputs(inputs)
        self._update_enabled()

        # Quitting the app (even without closing this window first) stops a running batch.
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    # ------------------------------------------------------------------ building
    def _build(self) -> None:
        from palette_app.batch.executors import default_jobs

        def label(text: str, buddy: QWidget) -> QLabel:
            lab = QLabel(text)
            lab.setBuddy(buddy)
            return lab

        # Inputs.
        self.input_list = _InputList()
        self.input_list.setToolTip("Images and folders to reduce (folders are searched, "
                                   "subfolders too). Drop files or folders here; Delete removes "
                                   "the selected ones.")
        self.input_list.pathsDropped.connect(self.add_inputs)
        self.input_list.removeRequested.connect(self.remove_selected)
        self.input_list.itemSelectionChanged.connect(self._update_enabled)
        self.add_files_button = QPushButton("Add &Files…")
        self.add_files_button.setToolTip("Add image files to the batch")
        self.add_files_button.clicked.connect(self.add_files_dialog)
        self.add_folder_button = QPushButton("Add Folde&r…")
        self.add_folder_button.setToolTip("Add a folder: every image in it and its subfolders")
        self.add_folder_button.clicked.connect(self.add_folder_dialog)
        self.remove_button = QPushButton("Remo&ve")
        self.remove_button.setToolTip("Remove the selected entries from the list (Delete)")
        self.remove_button.clicked.connect(self.remove_selected)
        self.clear_button = QPushButton("Clear &All")
        self.clear_button.setToolTip("Empty the list")
        self.clear_button.clicked.connect(self.clear_inputs)
        for b in (self.add_files_button, self.add_folder_button, self.remove_button, self.clear_button):
            b.setAutoDefault(False)

        inputs_box = QGroupBox("Images")
        ib = QGridLayout(inputs_box)
        ib.addWidget(label("Ima&ges and folders:", self.input_list), 0, 0, 1, 2)
        ib.addWidget(self.input_list, 1, 0, 5, 1)
        ib.addWidget(self.add_files_button, 1, 1)
        ib.addWidget(self.add_folder_button, 2, 1)
        ib.addWidget(self.remove_button, 3, 1)
        ib.addWidget(self.clear_button, 4, 1)
        ib.setRowStretch(5, 1)

        # Settings.
        self.colors_spin = QSpinBox()
        self.colors_spin.setRange(2, 256)
        self.colors_spin.setValue(16)
        self.colors_spin.setToolTip("Number of colors in each palette (2–256); with a quality "
                                    "target, the most it may use")
        self.space_combo = QComboBox()
        for key in SPACES:
            self.space_combo.addItem(SPACE_LABELS.get(key, key), key)
        self.space_combo.setToolTip("Color space where colors are clustered and matched")
        self.dither_combo = QComboBox()
        for key in DITHERS:
            self.dither_combo.addItem(DITHER_LABELS.get(key, key), key)
        self.dither_combo.setToolTip("Dithering spreads the error to mimic missing colors")
        self.strength_spin = QSpinBox()
        self.strength_spin.setRange(0, 100)
        self.strength_spin.setValue(100)
        self.strength_spin.setSuffix(" %")
        self.strength_spin.setToolTip("Dithering strength (0–100 %)")
        self.smooth_check = QCheckBox("&Keep edges crisp")
        self.smooth_check.setToolTip("Dither only the smooth areas of each image")
        self.palette_combo = QComboBox()
        for key in ("image", "shared", "file"):
            self.palette_combo.addItem(PALETTE_MODES[key], key)
        self.palette_combo.setToolTip(
            "Where the colors come from: a palette computed for each image, one palette computed "
            "from all images together (every output shares it), or the colors of a palette file "
            "(no clustering)")
        self.palette_file_edit = QLineEdit()
        self.palette_file_edit.setPlaceholderText("Palette file (GPL, ASE, ACO, ACT, PAL, hex, JSON…)")
        self.palette_file_edit.setToolTip("The palette file whose colors every image is mapped to")
        self.palette_browse_button = QPushButton("&Browse…")
        self.palette_browse_button.setToolTip("Choose the palette file")
        self.palette_browse_button.setAutoDefault(False)
        self.palette_browse_button.clicked.connect(self.palette_file_dialog)
        self.locked_edit = QLineEdit()
        self.locked_edit.setPlaceholderText("e.g. e30613, ffffff")
        self.locked_edit.setToolTip("Colors every palette keeps exactly, as hex codes separated by "
                                    "commas or spaces (# optional)")
        self.quality_combo = QComboBox()
        for key, text in QUALITY_KINDS.items():
            self.quality_combo.addItem(text, key)
        self.quality_combo.setToolTip("Use the fewest colors (up to the number above) whose result "
                                      "reaches a quality target")
        self.quality_spin = QDoubleSpinBox()
        self.quality_spin.setDecimals(1)
        self.quality_spin.setRange(0.1, 99.0)
        self.quality_spin.setValue(40.0)
        self.quality_spin.setToolTip("The target: PSNR in dB (higher is closer) or mean ΔE2000 "
                                     "(lower is closer; 1 is barely visible, 2–3 is close)")
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 2**31 - 1)
        self.seed_spin.setToolTip("Random seed: the same seed gives the same files")

        settings_box = QGroupBox("Colors")
        form = QFormLayout(settings_box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow(label("&Colors:", self.colors_spin), self.colors_spin)
        form.addRow(label("Color &space:", self.space_combo), self.space_combo)
        drow = QHBoxLayout()
        drow.addWidget(self.dither_combo, 1)
        drow.addWidget(label("Strengt&h:", self.strength_spin))
        drow.addWidget(self.strength_spin)
        form.addRow(label("&Dithering:", self.dither_combo), drow)
        form.addRow("", self.smooth_check)
        form.addRow(label("&Palette:", self.palette_combo), self.palette_combo)
        prow = QHBoxLayout()
        prow.addWidget(self.palette_file_edit, 1)
        prow.addWidget(self.palette_browse_button)
        form.addRow("", prow)
        form.addRow(label("&Locked colors:", self.locked_edit), self.locked_edit)
        qrow = QHBoxLayout()
        qrow.addWidget(self.quality_combo, 1)
        qrow.addWidget(self.quality_spin)
        form.addRow(label("&Quality target:", self.quality_combo), qrow)
        form.addRow(label("S&eed:", self.seed_spin), self.seed_spin)

        # Output.
        self.outdir_edit = QLineEdit()
        self.outdir_edit.setPlaceholderText("Beside each input (with the suffix)")
        self.outdir_edit.setToolTip("The folder the reduced images are written to; the layout of "
                                    "added folders is kept below it. Empty: beside each input.")
        self.outdir_button = QPushButton("Bro&wse…")
        self.outdir_button.setToolTip("Choose the output folder")
        self.outdir_button.setAutoDefault(False)
        self.outdir_button.clicked.connect(self.output_folder_dialog)
        self.suffix_edit = QLineEdit()
        self.suffix_edit.setPlaceholderText("none (beside the inputs: -q and the number of colors)")
        self.suffix_edit.setToolTip("Added to each output's name: photo-q16.png for the suffix -q16")
        self.format_combo = QComboBox()
        for key in OUTPUT_FORMATS:
            self.format_combo.addItem(FORMAT_LABELS.get(key, key), key)
        self.format_combo.setToolTip("Format of the written images: PNG, GIF, BMP and TIFF are "
                                     "indexed and exact, WebP lossless, JPEG approximate")
        self.exist_combo = QComboBox()
        for key in ON_EXIST:
            self.exist_combo.addItem(ON_EXIST_LABELS.get(key, key), key)
        self.exist_combo.setToolTip("What to do when an output file already exists: skip it (a "
                                    "re-run only does what is missing), replace it, or write the "
                                    "new one as name-1.png")
        self.jobs_spin = QSpinBox()
        self.jobs_spin.setRange(1, max(64, default_jobs()))
        self.jobs_spin.setValue(default_jobs())
        self.jobs_spin.setToolTip("How many images are reduced at the same time (worker processes; "
                                  "1 works inside the app). Default: one per core.")

        output_box = QGroupBox("Output")
        oform = QFormLayout(output_box)
        oform.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        orow = QHBoxLayout()
        orow.addWidget(self.outdir_edit, 1)
        orow.addWidget(self.outdir_button)
        oform.addRow(label("O&utput folder:", self.outdir_edit), orow)
        oform.addRow(label("Suff&ix:", self.suffix_edit), self.suffix_edit)
        oform.addRow(label("For&mat:", self.format_combo), self.format_combo)
        oform.addRow(label("If the file e&xists:", self.exist_combo), self.exist_combo)
        oform.addRow(label("Parallel &jobs:", self.jobs_spin), self.jobs_spin)

        # Message, progress, results, buttons.
        # The main window's message bar (theme-aware colors); it goes when the problem does.
        self.message_label = MessageBar(closable=False)
        self.message_label.setToolTip("Why the batch could not start")

        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setValue(0)
        self.progress_bar.setTextVisible(True)
        self.progress_bar.setFormat("")
        self.progress_bar.setToolTip("Progress of the whole batch")
        self.status_label = QLabel("")
        self.status_label.setMinimumWidth(self.status_label.fontMetrics().horizontalAdvance(
            "888 written, 88 skipped, 88 failed, 888 cancelled in 88.8 s") // 2)
        self.status_label.setToolTip("Files finished, and what became of them")

        self.model = BatchResultsModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setToolTip("One row per file: progress, status, output, colors, quality, size "
                              "and, for a failed file, why")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        self.table.setTabKeyNavigation(False)   # Tab leaves the table (arrows move inside)
        self.progress_delegate = ProgressDelegate(self.table)
        self.table.setItemDelegateForColumn(BatchResultsModel.PROGRESS, self.progress_delegate)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for col, width in ((0, 180), (1, 90), (2, 90), (3, 150), (4, 50), (5, 55), (6, 60), (7, 150)):
            self.table.setColumnWidth(col, width)

        self.start_button = QPushButton("S&tart")
        self.start_button.setToolTip("Reduce every image of the list (Enter)")
        self.start_button.setDefault(True)
        self.start_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Ca&ncel")
        self.cancel_button.setToolTip("Stop the batch: files being reduced stop, finished files are "
                                      "kept, nothing partial is written (Esc)")
        self.cancel_button.setAutoDefault(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button = QPushButton("Cl&ose")
        self.close_button.setToolTip("Close this window (a running batch is cancelled first)")
        self.close_button.setAutoDefault(False)
        self.close_button.clicked.connect(self.close)

        top = QWidget()
        tl = QHBoxLayout(top)
        tl.setContentsMargins(0, 0, 0, 0)
        tl.addWidget(inputs_box, 3)
        right = QVBoxLayout()
        right.addWidget(settings_box)
        right.addWidget(output_box)
        right.addStretch(1)
        tl.addLayout(right, 4)

        bottom = QWidget()
        bl = QVBoxLayout(bottom)
        bl.setContentsMargins(0, 0, 0, 0)
        prog = QHBoxLayout()
        prog.addWidget(self.progress_bar, 1)
        prog.addWidget(self.status_label)
        bl.addLayout(prog)
        bl.addWidget(self.table, 1)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(top)
        splitter.addWidget(bottom)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.close_button)

        layout = QVBoxLayout(self)
        layout.addWidget(self.message_label)
        layout.addWidget(splitter, 1)
        layout.addLayout(buttons)

        for w in (self.dither_combo, self.palette_combo, self.quality_combo):
            w.currentIndexChanged.connect(self._update_enabled)
        self.quality_combo.currentIndexChanged.connect(self._quality_kind_changed)

        order = self.tab_order()
        for a, b in itertools.pairwise(order):
            QWidget.setTabOrder(a, b)
        self.resize(980, 760)

    def tab_order(self) -> list[QWidget]:
        """Every control in keyboard (Tab) order."""
        return [self.input_list, self.add_files_button, self.add_folder_button, self.remove_button,
                self.clear_button, self.colors_spin, self.space_combo, self.dither_combo,
                self.strength_spin, self.smooth_check, self.palette_combo, self.palette_file_edit,
                self.palette_browse_button, self.locked_edit, self.quality_combo, self.quality_spin,
                self.seed_spin, self.outdir_edit, self.outdir_button, self.suffix_edit,
                self.format_combo, self.exist_combo, self.jobs_spin, self.table, self.start_button,
                self.cancel_button, self.close_button]

    # ------------------------------------------------------------------ inputs
    def inputs(self) -> list[str]:
        return [self.input_list.item(i).text() for i in range(self.input_list.count())]

    def add_inputs(self, paths: Iterable[str | os.PathLike]) -> None:
        """Add files and folders to the list (each once)."""
        have = set(self.inputs())
        added = []
        for p in paths:
            p = os.fspath(p)
            if p and p not in have:
                have.add(p)
                added.append(p)
                item_path = p
                self.input_list.addItem(item_path)
                item = self.input_list.item(self.input_list.count() - 1)
                item.setToolTip(f"{p} ({'folder' if os.path.isdir(p) else 'file'})")
        if added:
            first = added[0]
            self._settings.setValue(f"{SETTINGS_GROUP}/inputDir",
                                    first if os.path.isdir(first) else os.path.dirname(first))
            self._clear_message()
        self._update_enabled()

    def clear_inputs(self) -> None:
        self.input_list.clear()
        self._update_enabled()

    def remove_selected(self) -> None:
        for item in self.input_list.selectedItems():
            self.input_list.takeItem(self.input_list.row(item))
        self._update_enabled()

    def add_files_dialog(self) -> None:
        paths = choose_files(self, "Add Images", self._remembered("inputDir"))
        if paths:
            self.add_inputs(paths)

    def add_folder_dialog(self) -> None:
        path = choose_folder(self, "Add Folder", self._remembered("inputDir"))
        if path:
            self.add_inputs([path])

    def palette_file_dialog(self) -> None:
        start = self.palette_file_edit.text().strip() or self._remembered("paletteDir")
        path = choose_palette_file(self, "Palette File", start)
        if path:
            self.palette_file_edit.setText(path)
            self._settings.setValue(f"{SETTINGS_GROUP}/paletteDir", os.path.dirname(path))
            i = self.palette_combo.findData("file")
            self.palette_combo.setCurrentIndex(i)

    def output_folder_dialog(self) -> None:
        start = self.outdir_edit.text().strip() or self._remembered("outputDir")
        path = choose_folder(self, "Output Folder", start)
        if path:
            self.set_output_folder(path)

    def set_output_folder(self, path: str | os.PathLike | None) -> None:
        self.outdir_edit.setText("" if path is None else os.fspath(path))

    def _remembered(self, key: str) -> str:
        return str(self._settings.value(f"{SETTINGS_GROUP}/{key}", "") or "")

    # ------------------------------------------------------------------ settings
    def set_settings(self, s: BatchSettings) -> None:
        """Show ``s`` in the controls (e.g. the main window's current settings).

        A fixed palette (``s.palette``) is offered as "The given colors".
        """
        self.colors_spin.setValue(int(s.n_colors))
        self._set_combo(self.space_combo, s.space or "srgb")
        self._set_combo(self.dither_combo, s.dither)
        self.strength_spin.setValue(round(100 * float(s.dither_strength)))
        self.smooth_check.setChecked(bool(s.dither_smooth_only))
        self.set_locked(s.locked)
        self.seed_spin.setValue(int(s.random_state))
        self._effort = s.effort
        if s.palette is not None:
            self.set_palette_colors(s.palette)
        elif s.shared_palette:
            self._set_combo(self.palette_combo, "shared")
        elif self.palette_combo.currentData() != "file":
            self._set_combo(self.palette_combo, "image")
        if s.min_psnr is not None:
            self._set_combo(self.quality_combo, "psnr")
            self.quality_spin.setValue(float(s.min_psnr))
        elif s.max_delta_e is not None:
            self._set_combo(self.quality_combo, "delta_e")
            self.quality_spin.setValue(float(s.max_delta_e))
        else:
            self._set_combo(self.quality_combo, "none")
        self._set_combo(self.format_combo, s.format)
        self._set_combo(self.exist_combo, s.on_exist)
        self._update_enabled()

    def set_locked(self, colors: Iterable[str]) -> None:
        """Colors every palette keeps exactly (``"#rrggbb"`` strings)."""
        self.locked_edit.setText(", ".join(str(c) for c in colors))

    def set_palette_colors(self, colors: Sequence[str] | None, label: str | None = None) -> None:
        """Offer a fixed palette (e.g. the one on screen) and select it; None removes it."""
        i = self.palette_combo.findData("given")
        if colors is None:
            self._given_palette = None
            if i >= 0:
                if self.palette_combo.currentIndex() == i:
                    self._set_combo(self.palette_combo, "image")
                self.palette_combo.removeItem(i)
            return
        self._given_palette = tuple(colors)
        text = label or f"The {len(self._given_palette)} given colors"
        if i < 0:
            self.palette_combo.addItem(text, "given")
            i = self.palette_combo.count() - 1
        else:
            self.palette_combo.setItemText(i, text)
        self.palette_combo.setCurrentIndex(i)

    @staticmethod
    def _set_combo(combo: QComboBox, value) -> None:
        i = combo.findData(value)
        if i >= 0:
            combo.setCurrentIndex(i)

    def batch_settings(self) -> BatchSettings:
        """The settings the controls say; ``ValueError`` (a sentence) when they are not valid.

        With a palette file the colors are read when the batch starts; they are
        not in the returned settings.
        """
        mode = self.palette_combo.currentData()
        quality = self.quality_combo.currentData() if mode == "image" else "none"
        locked = parse_hex_list(self.locked_edit.text()) if mode in ("image", "shared") else ()
        dither = self.dither_combo.currentData() or "none"
        return BatchSettings(
            n_colors=int(self.colors_spin.value()), random_state=int(self.seed_spin.value()),
            effort=self._effort, space=self.space_combo.currentData() or None, dither=dither,
            dither_strength=self.strength_spin.value() / 100.0,
            dither_smooth_only=bool(self.smooth_check.isChecked()) and dither != "none",
            locked=locked, palette=self._given_palette if mode == "given" else None,
            shared_palette=mode == "shared",
            min_psnr=self.quality_spin.value() if quality == "psnr" else None,
            max_delta_e=self.quality_spin.value() if quality == "delta_e" else None,
            format=self.format_combo.currentData(), on_exist=self.exist_combo.currentData())

    def _quality_kind_changed(self) -> None:
        kind = self.quality_combo.currentData()
        if kind == "psnr":
            self.quality_spin.setSuffix(" dB")
            if self.quality_spin.value() < 10:
                self.quality_spin.setValue(40.0)
        elif kind == "delta_e":
            self.quality_spin.setSuffix(" ΔE")
            if self.quality_spin.value() > 20:
                self.quality_spin.setValue(2.0)
        else:
            self.quality_spin.setSuffix("")

    def _update_enabled(self) -> None:
        running = self.is_running()
        mode = self.palette_combo.currentData()
        dithering = self.dither_combo.currentData() not in (None, "none")
        idle = not running
        for w in (self.input_list, self.add_files_button, self.add_folder_button, self.clear_button,
                  self.colors_spin, self.space_combo, self.dither_combo, self.palette_combo,
                  self.seed_spin, self.outdir_edit, self.outdir_button, self.suffix_edit,
                  self.format_combo, self.exist_combo, self.jobs_spin):
            w.setEnabled(idle)
        self.remove_button.setEnabled(idle and bool(self.input_list.selectedItems()))
        self.strength_spin.setEnabled(idle and dithering)
        self.smooth_check.setEnabled(idle and dithering)
        self.palette_file_edit.setEnabled(idle and mode == "file")
        self.palette_browse_button.setEnabled(idle and mode == "file")
        self.locked_edit.setEnabled(idle and mode in ("image", "shared"))
        self.quality_combo.setEnabled(idle and mode == "image")
        self.quality_spin.setEnabled(idle and mode == "image"
                                     and self.quality_combo.currentData() != "none")
        self.start_button.setEnabled(idle)
        self.cancel_button.setEnabled(running and not self._worker.cancelled)

    # ------------------------------------------------------------------ remembering
    def _save_choices(self) -> None:
        s = self._settings
        g = SETTINGS_GROUP
        mode = self.palette_combo.currentData()
        values = {
            "n_colors": self.colors_spin.value(), "space": self.space_combo.currentData(),
            "dither": self.dither_combo.currentData(), "dither_strength": self.strength_spin.value(),
            "dither_smooth_only": self.smooth_check.isChecked(), "random_state": self.seed_spin.value(),
            "locked": self.locked_edit.text().strip(),
            "palette_mode": "image" if mode == "given" else mode,
            "palette_file": self.palette_file_edit.text().strip(),
            "quality": self.quality_combo.currentData(), "quality_value": self.quality_spin.value(),
            "format": self.format_combo.currentData(), "on_exist": self.exist_combo.currentData(),
            "outdir": self.outdir_edit.text().strip(), "suffix": self.suffix_edit.text(),
            "jobs": self.jobs_spin.value(),
        }
        for key, value in values.items():
            s.setValue(f"{g}/{key}", value)
        outdir = values["outdir"]
        if outdir:
            s.setValue(f"{g}/outputDir", outdir)
        s.sync()

    def _restore(self) -> None:
        s = self._settings
        g = SETTINGS_GROUP

        def get(key, kind):
            raw = s.value(f"{g}/{key}")
            if raw is None:
                return None
            try:
                if kind is bool:
                    return str(raw).lower() in ("true", "1")
                return kind(raw)
            except (TypeError, ValueError):
                return None

        for key, spin in (("n_colors", self.colors_spin), ("dither_strength", self.strength_spin),
                          ("random_state", self.seed_spin), ("jobs", self.jobs_spin)):
            v = get(key, int)
            if v is not None:
                spin.setValue(v)
        for key, combo in (("space", self.space_combo), ("dither", self.dither_combo),
                           ("palette_mode", self.palette_combo), ("quality", self.quality_combo),
                           ("format", self.format_combo), ("on_exist", self.exist_combo)):
            v = get(key, str)
            if v is not None:
                self._set_combo(combo, v)
        v = get("quality_value", float)
        if v is not None:
            self.quality_spin.setValue(v)
        smooth = get("dither_smooth_only", bool)
        if smooth is not None:
            self.smooth_check.setChecked(smooth)
        for key, edit in (("locked", self.locked_edit), ("palette_file", self.palette_file_edit),
                          ("outdir", self.outdir_edit), ("suffix", self.suffix_edit)):
            v = get(key, str)
            if v is not None:
                edit.setText(v)

    # ------------------------------------------------------------------ messages
    def _show_message(self, text: str) -> None:
        self.message_label.show_message(text)
        self.errorShown.emit(text)

    def _clear_message(self) -> None:
        self.message_label.clear()

    def message(self) -> str:
        """The problem shown in the window ('' when none)."""
        return self.message_label.text

    # ------------------------------------------------------------------ running
    def is_running(self) -> bool:
        """A batch is planned or running (until its worker has returned)."""
        return self._worker is not None and not self._worker.done

    def start(self) -> bool:
        """Check the settings and start the batch in the background; False if it cannot start
        (the reason is shown in the window)."""
        if self._worker is not None:
            return False
        self._clear_message()
        inputs = self.inputs()
        if not inputs:
            self._show_message("Add images or folders first (Add Files…, Add Folder…, or drop "
                               "them on the list).")
            return False
        try:
            settings = self.batch_settings()
        except (TypeError, ValueError) as e:
            self._show_message(_sentence(str(e)))
            return False
        palette_file = None
        if self.palette_combo.currentData() == "file":
            palette_file = self.palette_file_edit.text().strip()
            if not palette_file:
                self._show_message("Choose the palette file to map the images to (Browse…).")
                return False
        outdir = self.outdir_edit.text().strip() or None
        suffix = self.suffix_edit.text().strip()
        if outdir is None and not suffix:
            suffix = f"-q{settings.n_colors}"
        request = BatchRequest(inputs=tuple(inputs), settings=settings, outdir=outdir,
                               suffix=suffix, palette_file=palette_file,
                               jobs_n=int(self.jobs_spin.value()))
        self._save_choices()
        self.model.clear()
        self._request = request
        self._shared = settings.shared_palette
        self._set_progress(0.0, "Looking for images…")
        self._t0 = time.perf_counter()

        w = BatchWorker(request)
        w.signals.planned.connect(self._on_planned)
        w.signals.progress.connect(self._on_progress)
        w.signals.file_progress.connect(self._on_file_progress)
        w.signals.result.connect(self._on_result)
        w.signals.error.connect(self._on_error)
        w.signals.finished.connect(self._on_finished)
        self._worker = w
        self._update_enabled()
        self._pool.start(w)
        self.batchStarted.emit(request)
        return True

    def cancel(self) -> None:
        """Stop the running batch (cooperatively; finished files are kept)."""
        if self._worker is not None and not self._worker.done:
            self._worker.cancel()
            self.status_label.setText("Cancelling…")
            self._update_enabled()

    def shutdown(self, timeout: float = 60.0) -> bool:
        """Cancel a running batch and wait for it; True when nothing runs any more."""
        w = self._worker
        if w is None:
            return True
        w.cancel()
        return w.wait(timeout)

    def _on_planned(self, jobs, settings) -> None:
        self.model.set_jobs(jobs, two_pass=self._shared)
        self._set_progress(0.0, f"0 of {len(jobs)} files")

    def _on_file_progress(self, p) -> None:
        # Which file is being worked on, its phase and how far: its row and the overall bar.
        if self.model.set_file_progress(p) is not None:
            self._set_progress(self._fraction())

    def _on_progress(self, p) -> None:
        if p.result is not None:
            self.model.set_result(p.result)
            self.fileFinished.emit(p.result)
        c = self.model.counts()
        failed = c.get("failed", 0)
        if p.phase == "histograms":
            text = f"Reading colors: {p.done} of {p.total} files"
        else:
            text = f"{p.done} of {p.total} files"
        if failed:
            text += f" · {failed} failed"
        self._set_progress(self._fraction(), text)

    def _fraction(self) -> float:
        return self.model.overall()

    def _on_result(self, results) -> None:
        from palette_app.batch.report import summary

        self.model.set_results(results)
        seconds = time.perf_counter() - self._t0
        c = summary(results, seconds)
        parts = [f"{c['ok']} written"]
        for key, word in (("skipped", "skipped"), ("failed", "failed"), ("cancelled", "cancelled")):
            if c[key]:
                parts.append(f"{c[key]} {word}")
        self._set_progress(1.0 if not c["cancelled"] else self._fraction(),
                           f"{', '.join(parts)} in {seconds:.1f} s")
        self.batchFinished.emit(results)

    def _on_error(self, e: BaseException) -> None:
        self._set_progress(0.0, "")
        self._show_message(_plan_message(e))

    def _on_finished(self) -> None:
        self._worker = None
        self._update_enabled()

    def _set_progress(self, fraction: float, text: str | None = None) -> None:
        """The overall bar at ``fraction``; the status line says ``text`` (None: unchanged)."""
        self.progress_bar.setValue(round(1000 * min(max(fraction, 0.0), 1.0)))
        self.progress_bar.setFormat(f"{100 * fraction:.0f} %")
        if text is not None:
            self.status_label.setText(text)

    # ------------------------------------------------------------------ events
    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Escape and self.is_running():
            self.cancel()
            event.accept()
            return
        super().keyPressEvent(event)

    def reject(self) -> None:
        # Esc (and the title bar's close, through closeEvent) land here.
        if self.is_running():
            self.cancel()
            return
        self._save_choices()
        super().reject()

    def closeEvent(self, event) -> None:
        if self.is_running():
            self.shutdown()
        self._pool.waitForDone(60_000)
        super().closeEvent(event)

    def dragEnterEvent(self, event) -> None:
        if not self.is_running() and _local_paths(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        paths = _local_paths(event.mimeData())
        if paths and not self.is_running():
            event.acceptProposedAction()
            self.add_inputs(paths)


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def _plan_message(e: BaseException) -> str:
    """Words for a problem found before the batch started."""
    from palette_app.batch.plan import OutputCollisionError

    if isinstance(e, OutputCollisionError):
        lines = []
        for output, inputs in e.collisions[:5]:
            if len(inputs) > 1:
                lines.append(f"{' and '.join(inputs)} would all be written to {output}")
            else:
                lines.append(f"{output} is an input and would be replaced")
        more = f" (and {len(e.collisions) - 5} more)" if len(e.collisions) > 5 else ""
        return ("Output names collide, nothing was written: " + "; ".join(lines) + more
                + ". Choose another output folder, a suffix, or rename the inputs.")
    if isinstance(e, (ValueError, OSError)):
        return _sentence(str(e))
    return f"The batch could not run ({type(e).__name__}: {e})."

