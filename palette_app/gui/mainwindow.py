"""The main window: open an image, tune the palette live, edit it, export both.

Flow: the controls, swatches and the locked-colors list emit signals; the
window applies them to the :class:`~palette_app.gui.document.Document` (the
model), whose signals the views follow. For a preview the document makes an
immutable :class:`~palette_app.gui.worker.QuantizeRequest` (k-means, or a remap
to a fixed palette), which the window hands to a
:class:`~palette_app.gui.worker.SerialRunner`; results come back as signals,
and the document accepts only the one for the newest request. Every change of
the palette or the locks is one command on the document's undo stack.

Two more windows of work hang off it. File › Batch Export… opens one
:class:`~palette_app.gui.batch_window.BatchWindow` (kept and raised again on
later opens), filled from :meth:`MainWindow.batch_defaults`: the controls, the
locked colors, a fixed palette, the open image. The "How Many Colors?" dock
(:class:`~palette_app.gui.elbow_panel.ElbowPanel`) follows the document (image,
color space, seed, number of colors, locks) and runs its jobs on the window's
``core_runner``, so they take turns with previews; a preview asked for while a
curve is computed goes first (:meth:`ElbowPanel.let_queued_first`). Choosing a
number on its chart sets the colors control (leaving a fixed palette first).
More docks go through :meth:`MainWindow.add_panel_dock`.
"""
from __future__ import annotations

import itertools
import os
import sys
import time
import traceback
from dataclasses import asdict, fields, replace
from pathlib import Path

import numpy as np
import shiboken6
from PySide6.QtCore import QByteArray, QSettings, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QColor,
    QGuiApplication,
    QImage,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QAbstractButton,
    QDockWidget,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStyle,
    QUndoView,
    QVBoxLayout,
    QWidget,
)

from palette_app.core import Palette
from palette_app.gui import dialogs, palette_edit
from palette_app.gui.controls import ControlsPanel, Settings
from palette_app.gui.document import Document
from palette_app.gui.elbow_panel import ElbowPanel
from palette_app.gui.locked import LockedColorsPanel
from palette_app.gui.message_bar import MessageBar
from palette_app.gui.preview import PreviewWidget
from palette_app.gui.swatches import SwatchPanel
from palette_app.gui.theme import (
    THEME_LABELS,
    THEME_TIPS,
    THEMES,
    theme_manager,
)
from palette_app.gui.worker import (
    CORE_FEATURES,
    ExportRequest,
    ExportResult,
    LoadRequest,
    LoadResult,
    PaletteLoadRequest,
    PreviewResult,
    SerialRunner,
    Worker,
    export_job,
    load_job,
    palette_load_job,
    preview_job,
    warmup_job,
)

__all__ = ["MainWindow"]

APP_NAME = "Palette App"
#: Version of the dock/toolbar layout saved with saveState (bump when docks change).
#: 2: the "How Many Colors?" dock.
LAYOUT_VERSION = 2

#: Changes closer together than this are merged into one preview request.
COALESCE_MS = 30
#: Show "Updating…" only when a preview takes longer than this.
BUSY_DELAY_MS = 250
MAX_RECENT = 10

READ_EXTENSIONS = ("png", "apng", "jpg", "jpeg", "jpe", "jfif", "gif", "webp", "tif", "tiff", "bmp",
                   "ico", "avif", "qoi", "ppm", "pgm", "pbm", "pnm", "tga")
#: Image formats we write: label and extensions (the first is the default).
IMAGE_FILTERS = {
    "PNG": ("PNG image, indexed", (".png",)),
    "GIF": ("GIF image", (".gif",)),
    "WEBP": ("WebP image, lossless", (".webp",)),
    "TIFF": ("TIFF image", (".tif", ".tiff")),
    "BMP": ("BMP image, indexed", (".bmp",)),
    "JPEG": ("JPEG image", (".jpg", ".jpeg")),
}


def _filter(label: str, extensions) -> str:
    return f"{label} ({' '.join('*' + e for e in extensions)})"


def palette_read_filters() -> str:
    """Open-dialog filters for every palette format the app reads."""
    from palette_app.io import PALETTE_FORMATS

    readable = [spec for spec in PALETTE_FORMATS.values() if spec.can_read]
    exts = sorted({e for spec in readable for e in spec.extensions})
    items = [_filter("Palette files", exts)]
    items += [_filter(spec.description.split(":")[0], spec.extensions) for spec in readable]
    return ";;".join(items + ["All files (*)"])


def palette_read_extensions() -> frozenset[str]:
    """Extensions (``.gpl``, …) of the palette formats the app reads."""
    from palette_app.io import PALETTE_FORMATS

    return frozenset(e for spec in PALETTE_FORMATS.values() if spec.can_read for e in spec.extensions)


def palette_filters() -> dict[str, tuple[str, str]]:
    """Save-dialog filter → (palette format name, default extension), writable formats only."""
    from palette_app.io import PALETTE_FORMATS

    out = {}
    for name, spec in PALETTE_FORMATS.items():
        if spec.can_write:
            label = spec.description.split(":")[0]
            out[_filter(label, spec.extensions)] = (name, spec.extensions[0])
    return out


def image_filters() -> dict[str, tuple[str, str]]:
    """Save-dialog filter → (image format, default extension)."""
    from palette_app.io import IMAGE_WRITE_FORMATS

    out = {}
    for fmt in IMAGE_WRITE_FORMATS:
        label, exts = IMAGE_FILTERS.get(fmt, (f"{fmt} image", ("." + fmt.lower(),)))
        out[_filter(label, exts)] = (fmt, exts[0])
    return out


def _resolve_target(path: str, chosen: str, filters: dict[str, tuple[str, str]],
                    known: dict[str, str]) -> tuple[str, str]:
    """The path (with an extension added when it has none) and the format.

    An extension the user typed wins over the chosen filter, unless it is
    ambiguous for that filter (``.pal``: JASC or RIFF).
    """
    fmt, ext = filters.get(chosen, next(iter(filters.values())))
    suffix = Path(path).suffix.lower()
    if not suffix:
        return path + ext, fmt
    exts_of_fmt = [e for f, e in filters.values() if f == fmt]
    if suffix in exts_of_fmt or suffix == ext:
        return path, fmt
    if fmt in IMAGE_FILTERS and suffix in IMAGE_FILTERS[fmt][1]:
        return path, fmt
    return path, known.get(suffix, fmt)


def _message(e: BaseException) -> str:
    """A readable sentence for an exception (our errors carry one already)."""
    text = str(e).strip()
    known = ("ImageLoadError", "ImageSaveError", "PaletteFormatError", "OutputExistsError")
    if type(e).__name__ in known or isinstance(e, (OSError, ValueError)):
        return text or type(e).__name__
    return f"Something went wrong ({type(e).__name__}: {text})." if text else \
        f"Something went wrong ({type(e).__name__})."


class ModeBar(QFrame):
    """Says where the palette comes from (k-means, or a fixed palette) and offers the way back."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.button = QPushButton("Cl&uster Again")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(6, 3, 3, 3)
        lay.addWidget(self.label, 1)
        lay.addWidget(self.button)

    def set_mode(self, fixed: bool, text: str) -> None:
        self.label.setText(text)
        self.button.setVisible(fixed)


class MainWindow(QMainWindow):
    """Palette App's window. ``settings`` stores preferences (default: the app's QSettings)."""

    #: A LoadResult was shown (new image).
    imageLoaded = Signal(object)
    #: A PreviewResult was put on screen.
    previewUpdated = Signal(object)
    #: An ExportResult: a file was written.
    exportFinished = Signal(object)
    #: A message about a failure was shown to the user.
    errorShown = Signal(str)
    #: The kernels are ready (warm-up finished).
    ready = Signal()
    #: A palette file was read and applied (its path).
    paletteApplied = Signal(str)

    def __init__(self, settings: QSettings | None = None, *, warmup: bool = True,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(APP_NAME)
        self.setAcceptDrops(True)
        self._settings = settings if settings is not None else QSettings()
        self.core_runner = SerialRunner(self)   # everything that enters Numba, one at a time
        self.io_runner = SerialRunner(self)     # decoding files (Pillow only), reading palette files
        self.document = Document(self)
        self._load_request: LoadRequest | None = None
        self._palette_request: PaletteLoadRequest | None = None
        self._dirty = False
        self._ready = not warmup
        self._export_worker: Worker | None = None
        self._export_result: ExportResult | None = None
        self._preview_started = 0.0
        self.batch_window = None     # a BatchWindow, made on first use (File › Batch Export…)
        self.theme = theme_manager()

        self._build_widgets()
        self._build_actions()
        self._build_docks()
        self._build_menus()
        self._set_tab_order()
        self._update_actions()
        self.document.imageChanged.connect(self._show_image)
        self.document.previewChanged.connect(self._show_preview)
        self.document.settingsChanged.connect(self.request_preview)
        self.document.settingsChanged.connect(self._update_mode_bar)
        self.document.lockedChanged.connect(self._locked_changed)
        self.document.paletteChanged.connect(self._palette_changed)
        self.document.stateChanged.connect(self.request_preview)
        self.document.undo_stack.indexChanged.connect(self._update_actions)
        # The "How Many Colors?" panel follows the document.
        for signal in (self.document.imageChanged, self.document.settingsChanged,
                       self.document.paletteChanged):
            signal.connect(self._sync_elbow)
        self.document.lockedChanged.connect(self.elbow_panel.set_locked)
        self.elbow_dock.visibilityChanged.connect(self._sync_elbow)

        self._coalesce = QTimer(self)
        self._coalesce.setSingleShot(True)
        self._coalesce.setInterval(COALESCE_MS)
        self._coalesce.timeout.connect(self._coalesce_timeout)
        self._busy_timer = QTimer(self)
        self._busy_timer.setSingleShot(True)
        self._busy_timer.setInterval(BUSY_DELAY_MS)
        self._busy_timer.timeout.connect(lambda: self.preview.set_busy("Updating…"))

        self._restore_layout()
        self._restore_choices()
        self._palette_changed(None)
        if warmup:
            self._start_warmup()

    # ------------------------------------------------------------------ building
    def _build_widgets(self) -> None:
        self.preview = PreviewWidget()
        self.message_bar = MessageBar()
        self.controls = ControlsPanel()
        self.swatches = SwatchPanel()
        self.swatches.can_lock = "locked" in CORE_FEATURES
        self.swatches.row_editable = self._row_editable
        self.mode_bar = ModeBar()
        self.mode_bar.button.clicked.connect(self.cluster_again)
        self.mode_bar.button.setToolTip("Let k-means pick the colors again (the locked colors stay)")

        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(6, 6, 0, 6)
        lv.addWidget(self.message_bar)
        lv.addWidget(self.preview, 1)

        right = QWidget()
        rv = QVBoxLayout(right)
        rv.setContentsMargins(6, 6, 6, 6)
        box = QGroupBox("Quantize")
        bl = QVBoxLayout(box)
        bl.addWidget(self.controls)
        self.quality_label = QLabel("")
        self.quality_label.setToolTip("Peak signal-to-noise ratio of the preview against the original "
                                      "(higher is closer), and the time it took")
        bl.addWidget(self.quality_label)
        rv.addWidget(box)
        rv.addWidget(self.mode_bar)
        rv.addWidget(self.swatches, 1)
        right.setMinimumWidth(300)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("MainSplitter")
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 0)
        self.splitter.setSizes([900, 360])
        self.setCentralWidget(self.splitter)

        sb = self.statusBar()
        self.info_label = QLabel("No image")
        self.activity_label = QLabel("")
        self.zoom_label = QLabel("")
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 100)
        self.progress_bar.setMaximumWidth(160)
        self.progress_bar.setToolTip("Export progress")
        self.progress_bar.hide()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the export")
        self.cancel_button.clicked.connect(self.cancel_export)
        self.cancel_button.hide()
        sb.addPermanentWidget(self.activity_label)
        sb.addPermanentWidget(self.progress_bar)
        sb.addPermanentWidget(self.cancel_button)
        sb.addPermanentWidget(self.info_label)
        sb.addPermanentWidget(self.zoom_label)

        self.controls.settingsChanged.connect(lambda s: self.document.set_settings(s))
        self.swatches.hexCopied.connect(lambda h: self.statusBar().showMessage(f"Copied {h}", 3000))
        self.swatches.lockToggled.connect(self.set_locked)
        self.swatches.editRequested.connect(self.edit_color)
        self.swatches.renameRequested.connect(self.rename_color)
        self.swatches.deleteRequested.connect(self.delete_color)
        self.swatches.moveRequested.connect(self.move_color)
        self.swatches.view.selectionModel().currentChanged.connect(self._update_actions)
        self.preview.zoomChanged.connect(
            lambda z: self.zoom_label.setText(f"{100 * z:.0f} %" if self.preview.has_image else ""))

    def _action(self, text: str, slot, shortcut=None, tip: str = "", icon=None) -> QAction:
        a = QAction(text, self)
        if shortcut is not None:
            keys = shortcut if isinstance(shortcut, list) else [shortcut]
            a.setShortcuts([QKeySequence(k) for k in keys])
        if tip:
            a.setStatusTip(tip)
            a.setToolTip(f"{tip} ({a.shortcut().toString(QKeySequence.SequenceFormat.NativeText)})"
                         if shortcut is not None else tip)
        if icon is not None:
            a.setIcon(self.style().standardIcon(icon))
        a.triggered.connect(slot)
        return a

    def _build_actions(self) -> None:
        SP = QStyle.StandardPixmap
        KS = QKeySequence.StandardKey
        self.open_action = self._action("&Open Image…", self.open_dialog, KS.Open,
                                        "Open an image file", SP.SP_DialogOpenButton)
        self.paste_action = self._action("&Paste Image", self.paste, KS.Paste,
                                         "Open the image (or image file) on the clipboard")
        self.apply_palette_action = self._action(
            "&Apply Palette…", self.apply_palette_dialog, "Ctrl+Shift+O",
            "Map the image to the colors of a palette file (GPL, ASE, ACO, ACT, PAL, hex, JSON, …)",
            SP.SP_FileDialogContentsView)
        self.apply_palette_action.setIconText("Apply Palette")
        self.cluster_again_action = self._action(
            "Cl&uster Again", self.cluster_again, "Ctrl+K",
            "Leave the fixed palette: k-means picks the colors again (locked colors stay)",
            SP.SP_BrowserReload)
        self.export_palette_action = self._action(
            "Export Pa&lette…", self.export_palette_dialog, "Ctrl+E",
            "Save the palette (GPL, ASE, ACO, ACT, PAL, JSON, CSS, …)", SP.SP_DialogSaveButton)
        self.export_image_action = self._action(
            "Export &Image…", self.export_image_dialog, "Ctrl+Shift+E",
            "Save the reduced-color image at full resolution (PNG, GIF, WebP, TIFF, BMP, JPEG)",
            SP.SP_DialogSaveButton)
        self.batch_action = self._action(
            "&Batch Export…", self.open_batch, "Ctrl+Shift+B",
            "Reduce many images at once, starting from the settings and the palette on screen")
        self.quit_action = self._action("&Quit", self.close, KS.Quit, "Quit Palette App")

        stack = self.document.undo_stack
        self.undo_action = stack.createUndoAction(self, "&Undo")
        self.undo_action.setShortcuts(KS.Undo)
        self.undo_action.setStatusTip("Take back the last change of the palette or the locks")
        self.redo_action = stack.createRedoAction(self, "&Redo")
        self.redo_action.setShortcuts(KS.Redo)
        self.redo_action.setStatusTip("Do again the change that was undone")
        for a, short in ((self.undo_action, "Undo"), (self.redo_action, "Redo")):
            # The menu says what ("Undo Delete #aabbcc"); the toolbar button stays short.
            # No icon: the style's arrows are black, unreadable in the dark theme.
            a.setIconText(short)
        # The undo stack renames them ("Undo Delete #aabbcc"); the tooltips follow the text.
        stack.undoTextChanged.connect(self._sync_undo_tips)
        stack.redoTextChanged.connect(self._sync_undo_tips)
        self._sync_undo_tips()

        self.add_color_action = self._action("Add &Color…", self.add_color, "Ctrl+Shift+A",
                                             "Add a color to the palette (the palette becomes fixed)")
        self.edit_color_action = self._action("&Edit Color…", self._edit_current, "Ctrl+Shift+C",
                                              "Pick another color for the selected swatch")
        sp = self.swatches
        self.lock_action = sp.lock_action
        self.rename_action = sp.rename_action
        self.delete_color_action = sp.delete_action
        self.move_left_action = sp.move_left_action
        self.move_right_action = sp.move_right_action

        self.zoom_fit_action = self._action("Zoom to &Fit", self.preview.zoom_fit, "Ctrl+0",
                                            "Show the whole image")
        self.zoom_100_action = self._action("&Actual Size (100 %)", self.preview.zoom_actual, "Ctrl+1",
                                            "One image pixel per screen pixel")
        self.zoom_in_action = self._action("Zoom &In", self.preview.zoom_in, [KS.ZoomIn, "Ctrl+="],
                                           "Zoom in")
        self.zoom_out_action = self._action("Zoom &Out", self.preview.zoom_out, KS.ZoomOut, "Zoom out")
        self.split_action = self._action("&Split View", self._toggle_split, "Ctrl+T",
                                         "One image split by a draggable divider, or both side by side")
        self.split_action.setCheckable(True)
        self.more_colors_action = self._action("&More Colors", lambda: self._step_colors(+1), "Ctrl+]",
                                               "One more color")
        self.fewer_colors_action = self._action("&Fewer Colors", lambda: self._step_colors(-1), "Ctrl+[",
                                                "One color fewer")
        self.unlock_all_action = self._action("U&nlock All Colors", self.unlock_all, "Ctrl+Shift+U",
                                              "Let k-means move every color again")
        for a in (self.zoom_fit_action, self.zoom_100_action, self.zoom_in_action, self.zoom_out_action,
                  self.split_action, self.more_colors_action, self.fewer_colors_action):
            # Keep zoom and view keys working wherever the focus is in the window.
            a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)

        self.theme_group = QActionGroup(self)
        self.theme_group.setExclusive(True)
        self.theme_actions: dict[str, QAction] = {}
        for key in THEMES:
            a = QAction(THEME_LABELS[key], self)
            a.setCheckable(True)
            a.setStatusTip(THEME_TIPS[key])
            a.setToolTip(THEME_TIPS[key])
            a.setData(key)
            a.triggered.connect(lambda _=False, k=key: self.set_theme(k))
            self.theme_group.addAction(a)
            self.theme_actions[key] = a

        self.about_action = self._action("&About Palette App", self.show_about, None,
                                         "Versions, the Numba cache folder and the license")

    def _sync_undo_tips(self, *_args) -> None:
        for action in (self.undo_action, self.redo_action):
            if not shiboken6.isValid(action):     # the window is being destroyed
                return
            text = action.text().replace("&", "")
            keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            action.setToolTip(f"{text} ({keys})" if keys else text)

    def add_panel_dock(self, title: str, widget: QWidget, object_name: str,
                       area: Qt.DockWidgetArea = Qt.DockWidgetArea.RightDockWidgetArea,
                       tip: str = "", visible: bool = True) -> QDockWidget:
        """Add ``widget`` as a dock: named (for the saved layout), with a View ›
        Panels entry and tooltips on its buttons. Call it before
        :meth:`_restore_layout` (i.e. in :meth:`_build_docks`) for the saved
        layout to include the dock."""
        dock = QDockWidget(title.replace("&", ""), self)
        dock.setObjectName(object_name)
        dock.setWidget(widget)
        dock.setAllowedAreas(Qt.DockWidgetArea.LeftDockWidgetArea | Qt.DockWidgetArea.RightDockWidgetArea
                             | Qt.DockWidgetArea.BottomDockWidgetArea)
        self.addDockWidget(area, dock)
        toggle = dock.toggleViewAction()
        toggle.setText(title)
        tip = tip or f"Show or hide the {title.replace('&', '')} panel"
        toggle.setStatusTip(tip)
        toggle.setToolTip(tip)
        for button in dock.findChildren(QAbstractButton):
            if button.objectName() == "qt_dockwidget_closebutton":
                button.setToolTip(f"Hide the {title.replace('&', '')} panel")
            elif button.objectName() == "qt_dockwidget_floatbutton":
                button.setToolTip("Float the panel in its own window, or dock it again")
        dock.setVisible(visible)
        self._docks.append(dock)
        if hasattr(self, "panels_menu"):
            self.panels_menu.addAction(toggle)
        return dock

    def _build_docks(self) -> None:
        self._docks: list[QDockWidget] = []
        self.locked_panel = LockedColorsPanel()
        self.locked_panel.addRequested.connect(lambda h: self._lock_hex(h, True))
        self.locked_panel.removeRequested.connect(lambda h: self._lock_hex(h, False))
        self.locked_panel.replaceRequested.connect(self.document.replace_color)
        self.locked_panel.pickRequested.connect(self.pick_locked_color)
        self.locked_panel.invalidInput.connect(
            lambda t: self.statusBar().showMessage(f"“{t}” is not a color: type #rrggbb or #rgb", 5000))
        self.locked_dock = self.add_panel_dock(
            "&Locked Colors", self.locked_panel, "LockedColorsDock",
            tip="Show or hide the list of locked colors")
        self.undo_view = QUndoView(self.document.undo_stack)
        self.undo_view.setEmptyLabel("Start")
        self.undo_view.setToolTip("Every change of the palette and the locks; click one to go back to it")
        self.undo_view.setAccessibleName("Undo history")
        self.history_dock = self.add_panel_dock(
            "Undo &History", self.undo_view, "UndoHistoryDock",
            tip="Show or hide the list of changes (click one to go back to it)", visible=False)
        # On the window's core runner: its jobs take turns with previews and exports, so two
        # parallel kernels never run at once.
        self.elbow_panel = ElbowPanel(runner=self.core_runner)
        self.elbow_panel.colorsChosen.connect(self.choose_n_colors)
        self.elbow_dock = self.add_panel_dock(
            "How &Many Colors?", self.elbow_panel, "ElbowDock",
            tip="Show or hide the chart of the error against the number of colors, with the "
                "suggested number and a quality target search")
        self.splitDockWidget(self.locked_dock, self.elbow_dock, Qt.Orientation.Vertical)
        self.splitDockWidget(self.elbow_dock, self.history_dock, Qt.Orientation.Vertical)
        self.history_dock.setVisible(False)
        # More docks go here, before the saved layout is restored (bump LAYOUT_VERSION).

    def _build_menus(self) -> None:
        mb = self.menuBar()
        file_menu = mb.addMenu("&File")
        file_menu.addAction(self.open_action)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.menuAction().setStatusTip("Open an image you opened before")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        self._fill_recent_menu()
        file_menu.addAction(self.paste_action)
        file_menu.addSeparator()
        file_menu.addAction(self.apply_palette_action)
        file_menu.addSeparator()
        file_menu.addAction(self.export_palette_action)
        file_menu.addAction(self.export_image_action)
        file_menu.addAction(self.batch_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        self.file_menu = file_menu

        edit_menu = mb.addMenu("&Edit")
        edit_menu.addAction(self.undo_action)
        edit_menu.addAction(self.redo_action)
        self.edit_menu = edit_menu

        palette_menu = mb.addMenu("&Palette")
        palette_menu.addAction(self.apply_palette_action)
        palette_menu.addAction(self.cluster_again_action)
        palette_menu.addSeparator()
        for a in (self.add_color_action, self.edit_color_action, self.rename_action, self.delete_color_action,
                  self.move_left_action, self.move_right_action):
            palette_menu.addAction(a)
        palette_menu.addSeparator()
        palette_menu.addAction(self.lock_action)
        palette_menu.addAction(self.unlock_all_action)
        palette_menu.addSeparator()
        palette_menu.addAction(self.more_colors_action)
        palette_menu.addAction(self.fewer_colors_action)
        self.palette_menu = palette_menu

        view_menu = mb.addMenu("&View")
        for a in (self.zoom_fit_action, self.zoom_100_action, self.zoom_in_action, self.zoom_out_action):
            view_menu.addAction(a)
        view_menu.addSeparator()
        view_menu.addAction(self.split_action)
        view_menu.addSeparator()
        self.panels_menu = view_menu.addMenu("&Panels")
        self.panels_menu.menuAction().setStatusTip("Show or hide the side panels")
        for dock in self._docks:
            self.panels_menu.addAction(dock.toggleViewAction())
        self.theme_menu = view_menu.addMenu("T&heme")
        self.theme_menu.menuAction().setStatusTip("Light or dark, or as the desktop")
        for a in self.theme_actions.values():
            self.theme_menu.addAction(a)
        self.view_menu = view_menu

        help_menu = mb.addMenu("&Help")
        help_menu.addAction(self.about_action)
        self.help_menu = help_menu
        for menu, tip in ((file_menu, "Open images, apply palettes, export"),
                          (edit_menu, "Undo and redo"),
                          (palette_menu, "Edit the palette, lock colors, apply a palette file"),
                          (view_menu, "Zoom, layout, panels and theme"),
                          (help_menu, "About Palette App")):
            menu.menuAction().setStatusTip(tip)

        tb = self.addToolBar("Main")
        tb.setObjectName("MainToolBar")
        tb.setMovable(False)
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        tb.toggleViewAction().setText("&Toolbar")
        tb.toggleViewAction().setStatusTip("Show or hide the toolbar")
        tb.toggleViewAction().setToolTip("Show or hide the toolbar")
        tb.addAction(self.open_action)
        tb.addAction(self.apply_palette_action)
        tb.addAction(self.export_palette_action)
        tb.addAction(self.export_image_action)
        tb.addSeparator()
        tb.addAction(self.undo_action)
        tb.addAction(self.redo_action)
        tb.addSeparator()
        for a in (self.zoom_fit_action, self.zoom_100_action):
            tb.addAction(a)
        tb.addSeparator()
        tb.addAction(self.split_action)
        self.toolbar = tb
        self.panels_menu.addAction(tb.toggleViewAction())

    def _set_tab_order(self) -> None:
        """Tab goes through the window as it reads: preview, controls, palette, side panels."""
        c = self.controls
        e = self.elbow_panel
        chain = [self.preview.original_pane, self.preview.quantized_pane, self.preview.split_pane,
                 self.message_bar.close_button,
                 c.colors_slider, c.colors_spin, c.space_combo, c.dither_combo, c.strength_slider,
                 c.smooth_check, c.seed_spin, c.reseed_button, self.mode_bar.button,
                 self.swatches.sort_combo, self.swatches.view,
                 self.locked_panel.list, self.locked_panel.hex_edit, self.locked_panel.add_button,
                 self.locked_panel.pick_button, self.locked_panel.edit_button,
                 self.locked_panel.remove_button,
                 e.kmax_spin, e.chart, e.target_combo, e.target_spin, e.find_button,
                 self.undo_view,
                 self.cancel_button]
        for a, b in itertools.pairwise(chain):
            QWidget.setTabOrder(a, b)

    def _update_actions(self, *_args) -> None:
        has = self.loaded is not None
        exporting = self._export_worker is not None
        can_export = self.shown is not None and not exporting
        fixed = self.document.is_fixed
        self.export_palette_action.setEnabled(can_export)
        self.export_image_action.setEnabled(can_export)
        for a in (self.zoom_fit_action, self.zoom_100_action, self.zoom_in_action, self.zoom_out_action):
            a.setEnabled(has)
        self.unlock_all_action.setEnabled(bool(self.locked))
        self.cluster_again_action.setEnabled(fixed)
        self.more_colors_action.setEnabled(not fixed)
        self.fewer_colors_action.setEnabled(not fixed)
        self.edit_color_action.setEnabled(self.swatches.lock_action.isEnabled() and self.swatches.can_lock)

    # ------------------------------------------------------------------ status and errors
    def show_error(self, title: str, message: str, *, modal: bool = True) -> None:
        """Show a failure in words: a dialog (``modal``) or the message bar above the preview."""
        self.statusBar().showMessage(message, 8000)
        if modal:
            dialogs.show_error(self, title, message)
        else:
            self.message_bar.show_message(message)
        self.errorShown.emit(message)

    def _set_activity(self, text: str) -> None:
        self.activity_label.setText(text)

    def _start_warmup(self) -> None:
        self._set_activity("Preparing…")
        self.statusBar().showMessage("Preparing the color engine (first start can take a while)…")
        self._warmup_seconds = 0.0
        self._submit_warmup_step(0)

    def _submit_warmup_step(self, index: int) -> None:
        # One step at a time, the next one queued only when this one is done:
        # a preview asked for meanwhile waits for one step, not for all.
        w = Worker(warmup_job, index, key="warmup")
        w.signals.result.connect(self._warmup_step_done)
        w.signals.error.connect(self._warmup_failed)
        self.core_runner.submit(w, supersede=False)

    def _warmup_step_done(self, step_seconds) -> None:
        from palette_app.core.warmup import STEPS

        index, seconds = step_seconds
        self._warmup_seconds += float(seconds)
        if index is not None and index + 1 < len(STEPS):
            self._submit_warmup_step(index + 1)
        else:
            self._warmup_done(self._warmup_seconds)

    def _warmup_done(self, seconds) -> None:
        self._ready = True
        if self.activity_label.text() == "Preparing…":
            self._set_activity("")
        self.statusBar().showMessage("Ready", 2000)
        self.ready.emit()

    def _warmup_failed(self, e) -> None:
        # Compilation problems show up again (with the same message) in the preview.
        self._ready = True
        self._set_activity("")
        self.show_error("Cannot prepare the color engine", _message(e), modal=False)
        self.ready.emit()

    # ------------------------------------------------------------------ opening
    def open_dialog(self) -> None:
        start = str(self._settings.value("dirs/open", "") or "")
        filters = ";;".join([_filter("Images", ["." + e for e in READ_EXTENSIONS]), "All files (*)"])
        path = dialogs.get_open_path(self, "Open Image", start, filters)
        if path:
            self.open_path(path)

    def open_path(self, path: str | os.PathLike) -> None:
        """Open an image file (in the background)."""
        path = os.fspath(path)
        self._submit_load(LoadRequest(path=path, name=Path(path).name))

    def open_pixels(self, pixels: np.ndarray, name: str = "Pasted image") -> None:
        """Open raw (H, W, 3|4) uint8 pixels, e.g. from the clipboard."""
        self._submit_load(LoadRequest(pixels=pixels, name=name))

    def open_bytes(self, data: bytes, name: str = "image") -> None:
        self._submit_load(LoadRequest(data=bytes(data), name=name))

    def _submit_load(self, request: LoadRequest) -> None:
        self._load_request = request
        self.statusBar().showMessage(f"Opening {request.name or 'image'}…")
        w = Worker(load_job, request, key="load")
        w.signals.result.connect(self._on_loaded)
        w.signals.error.connect(self._on_load_error)
        self.io_runner.submit(w)

    # -- state, kept by the document ----------------------------------------------
    @property
    def loaded(self) -> LoadResult | None:
        return self.document.image

    @property
    def shown(self) -> PreviewResult | None:
        return self.document.shown

    @property
    def locked(self) -> list[str]:
        return list(self.document.locked)

    @property
    def generation(self) -> int:
        return self.document.generation

    def _on_loaded(self, res: LoadResult) -> None:
        if res.request is not self._load_request:
            return  # a newer open superseded this one
        img = res.image
        if img.path is not None:
            self._add_recent(str(img.path))
            self._settings.setValue("dirs/open", str(Path(img.path).parent))
        self.document.set_image(res)
        self.imageLoaded.emit(res)

    def _show_image(self, res: LoadResult) -> None:
        self.message_bar.hide()
        img = res.image
        w, h = img.size
        self.preview.set_original(res.preview_image, QSize(w, h))
        self._show_fixed_palette()
        self.quality_label.setText("")
        self.setWindowTitle(f"{res.name} — {w} × {h} — {APP_NAME}")
        info = f"{res.name} · {w} × {h} · {img.format}"
        if img.has_alpha:
            info += " · transparency"
        if img.notes:
            info += f" · {len(img.notes)} note{'s' if len(img.notes) > 1 else ''} ⓘ"
        ph, pw = res.preview.shape[:2]
        if (pw, ph) != (w, h):
            info += f" · preview {pw} × {ph}"
        self.info_label.setText(info)
        tip = [f"{img.path or res.name}", f"{w} × {h} pixels, {img.format} ({img.mode})"]
        if img.n_frames > 1:
            tip.append(f"{img.n_frames} frames (the first one is shown)")
        tip += list(img.notes)
        self.info_label.setToolTip("\n".join(tip))
        notes = " ".join(img.notes)
        self.statusBar().showMessage(f"Opened {res.name}" + (f" — {notes}" if notes else ""),
                                     15000 if notes else 4000)
        self.locked_panel.set_locked(self.document.locked)
        self._update_actions()
        self._coalesce.stop()
        self._dirty = False
        self._submit_preview()

    def _on_load_error(self, e: BaseException) -> None:
        request = getattr(self.sender(), "request", None)
        if request is not self._load_request:
            return
        if getattr(e, "kind", None) in ("not_found", "not_a_file") and request.path:
            self._remove_recent(request.path)
        self.show_error("Cannot open image", _message(e))

    def paste(self) -> None:
        self.open_mime(QGuiApplication.clipboard().mimeData(), source="clipboard")

    def open_mime(self, mime, *, source: str = "drop") -> bool:
        """Open what a clipboard or a drop holds: a local file (an image, or a
        palette file, which is applied), or image data."""
        if mime is None:
            return False
        for url in mime.urls() if mime.hasUrls() else []:
            if url.isLocalFile():
                self._open_file(url.toLocalFile())
                return True
        if mime.hasImage():
            qimg = mime.imageData()
            if isinstance(qimg, QImage) and not qimg.isNull():
                self.open_pixels(_qimage_pixels(qimg),
                                 name="Pasted image" if source == "clipboard" else "Dropped image")
                return True
        if mime.hasText():
            text = mime.text().strip().strip('"')
            if text.startswith("file://"):
                from PySide6.QtCore import QUrl

                text = QUrl(text).toLocalFile()
            if text and "\n" not in text and os.path.isfile(text):
                self._open_file(text)
                return True
        self.statusBar().showMessage(f"The {source} holds no image", 4000)
        return False

    def _open_file(self, path: str) -> None:
        if Path(path).suffix.lower() in palette_read_extensions():
            self.apply_palette_path(path)
        else:
            self.open_path(path)

    def dragEnterEvent(self, event) -> None:
        mime = event.mimeData()
        if mime.hasImage() or any(u.isLocalFile() for u in mime.urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        if self.open_mime(event.mimeData(), source="drop"):
            event.acceptProposedAction()

    # ------------------------------------------------------------------ recent files
    def recent_files(self) -> list[str]:
        value = self._settings.value("recentFiles", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])]

    def _add_recent(self, path: str) -> None:
        path = os.path.abspath(path)
        files = [p for p in self.recent_files() if p != path]
        self._settings.setValue("recentFiles", ([path] + files)[:MAX_RECENT])
        self._fill_recent_menu()

    def _remove_recent(self, path: str) -> None:
        path = os.path.abspath(path)
        self._settings.setValue("recentFiles", [p for p in self.recent_files() if p != path])
        self._fill_recent_menu()

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        files = self.recent_files()
        for i, path in enumerate(files):
            label = f"&{i + 1} {Path(path).name}" if i < 9 else Path(path).name
            a = self.recent_menu.addAction(label)
            a.setToolTip(path)
            a.setStatusTip(path)
            a.triggered.connect(lambda _=False, p=path: self.open_path(p))
        if files:
            self.recent_menu.addSeparator()
            clear = self.recent_menu.addAction("&Clear Menu")
            clear.setStatusTip("Forget the recently opened images")
            clear.setToolTip("Forget the recently opened images")
            clear.triggered.connect(lambda: (self._settings.setValue("recentFiles", []),
                                             self._fill_recent_menu()))
        self.recent_menu.setEnabled(bool(files))

    # ------------------------------------------------------------------ palettes in
    def apply_palette_dialog(self) -> None:
        start = str(self._settings.value("dirs/palette", "") or "")
        path = dialogs.get_open_path(self, "Apply Palette", start, palette_read_filters())
        if path:
            self.apply_palette_path(path)

    def apply_palette_path(self, path: str | os.PathLike) -> Worker:
        """Read a palette file (in the background) and map the image to its colors."""
        request = PaletteLoadRequest(os.fspath(path))
        self._palette_request = request
        self.statusBar().showMessage(f"Reading {Path(request.path).name}…")
        w = Worker(palette_load_job, request, key="palette")
        w.signals.result.connect(self._on_palette_loaded)
        w.signals.error.connect(self._on_palette_error)
        self.io_runner.submit(w)
        return w

    def _on_palette_loaded(self, pal) -> None:
        request = getattr(self.sender(), "request", None)
        if request is not self._palette_request:
            return
        name = Path(request.path).name
        try:
            self.document.apply_palette(pal, source=name, title=getattr(pal, "title", None))
        except ValueError as e:
            self._palette_failed(request.path, e)
            return
        self._settings.setValue("dirs/palette", str(Path(request.path).resolve().parent))
        notes = " ".join(getattr(pal, "notes", ()) or ())
        self.statusBar().showMessage(f"Applied {name} ({len(pal)} colors)" + (f" — {notes}" if notes else ""),
                                     15000 if notes else 5000)
        self.message_bar.hide()
        self.paletteApplied.emit(request.path)

    def _on_palette_error(self, e: BaseException) -> None:
        request = getattr(self.sender(), "request", None)
        if request is not self._palette_request:
            return
        self._palette_failed(request.path, e)

    def _palette_failed(self, path: str, e: BaseException) -> None:
        name = Path(path).name
        if isinstance(e, FileNotFoundError):
            reason = "the file does not exist"
        elif isinstance(e, IsADirectoryError):
            reason = "it is a folder, not a file"
        elif isinstance(e, PermissionError):
            reason = "permission denied"
        elif isinstance(e, OSError):
            reason = e.strerror or str(e)
        else:
            reason = getattr(e, "problem", None) or _message(e)
            if not isinstance(e, (ValueError, TypeError)):
                traceback.print_exception(type(e), e, e.__traceback__, file=sys.stderr)
        self.show_error("Cannot apply the palette", f"Cannot use {name} as a palette: {reason}",
                        modal=False)

    def cluster_again(self) -> None:
        """Leave the fixed palette: k-means picks the colors again."""
        self.document.cluster_again()

    # ------------------------------------------------------------------ preview
    def request_preview(self, *_args) -> None:
        """Ask for a new preview: the first change goes out at once, changes that
        follow within :data:`COALESCE_MS` are merged into one request."""
        if self._coalesce.isActive():
            self._dirty = True
            self._coalesce.start()
        else:
            self._submit_preview()
            self._coalesce.start()

    def _coalesce_timeout(self) -> None:
        if self._dirty:
            self._dirty = False
            self._submit_preview()

    def _submit_preview(self) -> None:
        req = self.document.next_request()
        if req is None:
            return
        if req.palette is None and len(req.locked) > req.n_colors:
            self.show_error("Too many locked colors",
                            f"{len(req.locked)} colors are locked, which do not fit in {req.n_colors} "
                            "colors. Unlock some colors or choose more colors.", modal=False)
            self.core_runner.cancel("preview")
            return
        self._preview_started = time.perf_counter()
        w = Worker(preview_job, req, key="preview")
        w.signals.result.connect(self._on_preview)
        w.signals.error.connect(self._on_preview_error)
        self.core_runner.submit(w)
        # A curve being computed on the same runner waits for this preview, not the reverse.
        self.elbow_panel.let_queued_first()
        if not self._busy_timer.isActive():
            self._busy_timer.start()

    def _on_preview(self, pr: PreviewResult) -> None:
        # The document drops a stale result (a newer request is on its way).
        self.document.accept(pr)

    def _show_preview(self, pr: PreviewResult) -> None:
        self._busy_timer.stop()
        self.preview.set_busy("")
        self.message_bar.hide()      # whatever failed before works now
        self.preview.set_quantized(pr.image, f"{len(pr.palette)} colors")
        pal = pr.palette
        self.swatches.set_palette(pal, self.document.lock_mask(pal), summary=self._summary(pr),
                                  fixed_order=pr.request.palette is not None)
        psnr = f"PSNR {pr.psnr:.1f} dB · " if np.isfinite(pr.psnr) else ""
        self.quality_label.setText(f"{psnr}{pr.seconds * 1000:.0f} ms")
        self._update_actions()
        self.previewUpdated.emit(pr)

    def _on_preview_error(self, e: BaseException) -> None:
        if not self.document.is_current(getattr(self.sender(), "request", None)):
            return
        self._busy_timer.stop()
        self.preview.set_busy("")
        if not isinstance(e, (ValueError, TypeError)):
            traceback.print_exception(type(e), e, e.__traceback__, file=sys.stderr)
        self.show_error("Cannot compute the preview", _message(e), modal=False)

    def _summary(self, pr: PreviewResult) -> str:
        n = len(pr.palette)
        text = f"{n} colors"
        if pr.request.palette is not None:
            text += f" · fixed palette ({self.document.palette_source})"
        elif n < pr.request.n_colors:
            text += f" (the image has only {n} distinct colors)"
        n_locked = int(self.document.lock_mask(pr.palette).sum()) if pr.request.palette is not None \
            else len(self.locked)
        if n_locked:
            text += f" · {n_locked} locked"
        return text

    def _step_colors(self, step: int) -> None:
        if not self.document.is_fixed:
            self.controls.set_n_colors(self.controls.settings().n_colors + step)

    def choose_n_colors(self, n: int) -> None:
        """Use ``n`` colors (a point of the "How Many Colors?" chart, or its quality answer):
        a fixed palette is left first, as Cluster Again does."""
        if self.document.is_fixed:
            self.cluster_again()
        self.controls.set_n_colors(n)

    def _sync_elbow(self, *_args) -> None:
        """Give the "How Many Colors?" panel the image, space, seed and number of colors on
        screen. Nothing is computed while the dock is hidden; showing it catches up."""
        doc = self.document
        fixed = doc.fixed_palette
        self.elbow_panel.set_current(len(fixed) if fixed is not None else doc.settings.n_colors)
        if self.elbow_dock.isHidden():
            return
        img = doc.image
        if img is None and self.elbow_panel.pixels is None:
            return
        s = doc.settings
        # The same image with the same space and seed is a no-op for the panel.
        self.elbow_panel.set_image(None if img is None else img.preview, space=s.space,
                                   random_state=s.random_state)

    # ------------------------------------------------------------------ palette state
    def _palette_changed(self, _palette) -> None:
        """The fixed palette changed or clustering is back: mode bar, controls, swatches."""
        self._update_mode_bar()
        self.controls.set_fixed_palette(self.document.is_fixed)
        self._show_fixed_palette()
        self._update_actions()

    def _update_mode_bar(self, *_args) -> None:
        doc = self.document
        fixed = doc.fixed_palette
        if fixed is None:
            n = doc.settings.n_colors
            self.mode_bar.set_mode(False, f"<b>Clustering</b>: k-means picks {n} colors"
                                   + (f", keeping {len(doc.locked)} locked" if doc.locked else ""))
        else:
            title = f" “{doc.palette_title}”" if doc.palette_title else ""
            self.mode_bar.set_mode(True, f"<b>Fixed palette</b>{title}: {len(fixed)} colors from "
                                   f"{doc.palette_source}")
        self.mode_bar.label.setToolTip(
            "The image is mapped to this palette as it is; Cluster Again lets k-means choose"
            if fixed is not None else
            "k-means chooses the colors; apply a palette file or edit the palette to fix them")

    def _show_fixed_palette(self) -> None:
        """Show the fixed palette at once (the shares follow with the preview)."""
        fixed = self.document.fixed_palette
        if fixed is not None:
            summary = f"{len(fixed)} colors · fixed palette ({self.document.palette_source})"
            self.swatches.set_palette(fixed, self.document.lock_mask(fixed),
                                      summary=summary + (" · updating…" if self.loaded is not None else ""),
                                      fixed_order=True)
        elif self.loaded is None or self.shown is None:
            self.swatches.set_palette(None, fixed_order=False)

    def _locked_changed(self, locked) -> None:
        self.locked_panel.set_locked(locked)
        pal = self.swatches.model.palette
        if pal is not None:
            # Lock marks follow at once; the recomputed palette follows with the preview.
            self.swatches.set_palette(pal, self.document.lock_mask(pal), summary=self.swatches.summary.text())
        self._update_mode_bar()
        self._update_actions()

    def _row_editable(self, row: int) -> bool:
        """Whether swatch ``row`` is an entry of the palette the user can edit."""
        model = self.swatches.model
        if not 0 <= row < model.rowCount() or model.palette is None:
            return False
        i = model.palette_index(row)
        fixed = self.document.fixed_palette
        if fixed is not None and model.fixed_order:
            return i < len(fixed)
        alpha = model.palette.alpha
        return alpha is None or int(alpha[i]) != 0

    def _edit_target(self, index: int) -> tuple[Palette, int] | None:
        """(palette an edit starts from, position in it) for swatch palette index ``index``.

        With a fixed palette that is the palette itself; while clustering it is
        the palette on screen in the order on screen, which becomes fixed."""
        model = self.swatches.model
        row = model.row_of(index)
        if row < 0 or not self._row_editable(row):
            return None
        fixed = self.document.fixed_palette
        if fixed is not None and model.fixed_order:
            return fixed, int(index)
        base = palette_edit.editable(model.palette.take(model.display_order()))
        return base, row

    def _edit_base(self) -> Palette:
        """The palette an added color goes into."""
        fixed = self.document.fixed_palette
        if fixed is not None:
            return fixed
        model = self.swatches.model
        if model.palette is None:
            return Palette(np.zeros((0, 3), np.uint8))
        return palette_edit.editable(model.palette.take(model.display_order()))

    def _apply_edit(self, fn, *args) -> bool:
        try:
            fn(*args)
        except (ValueError, IndexError) as e:
            self.show_error("Cannot change the palette", str(e), modal=False)
            return False
        return True

    def delete_color(self, index: int) -> None:
        """Remove swatch ``index`` (its palette index) from the palette."""
        target = self._edit_target(index)
        if target is not None:
            base, pos = target
            self._apply_edit(self.document.delete_entry, pos, base)

    def move_color(self, index: int, to_row: int) -> None:
        """Move swatch ``index`` (its palette index) to display row ``to_row``."""
        target = self._edit_target(index)
        if target is not None:
            base, pos = target
            if self._apply_edit(self.document.move_entry, pos, to_row, base):
                self.swatches.view.setCurrentIndex(self.swatches.model.index(
                    min(max(to_row, 0), self.swatches.count() - 1)))

    def rename_color(self, index: int, name: str | None = None) -> None:
        """Name swatch ``index``; asks for the name when ``name`` is None."""
        target = self._edit_target(index)
        if target is None:
            return
        base, pos = target
        if name is None:
            current = base.names[pos] if base.names is not None else None
            name = dialogs.get_text(self, "Rename Color", f"Name of {base.hex[pos]}:", current or "")
            if name is None:
                return
        self._apply_edit(self.document.rename_entry, pos, name, base)

    def add_color(self, hexcode: str | None = None, name: str | None = None) -> None:
        """Add a color after the selected swatch (or at the end); asks with the
        color picker when ``hexcode`` is None."""
        base = self._edit_base()
        if hexcode is None:
            color = dialogs.get_color(self, QColor(128, 128, 128), "Add Color")
            if color is None:
                return
            hexcode = f"#{color.red():02x}{color.green():02x}{color.blue():02x}"
        row = self.swatches.current_row()
        at = row + 1 if 0 <= row < len(base) and self._row_editable(row) else None
        self._apply_edit(self.document.add_color, hexcode, at, name, base)

    # ------------------------------------------------------------------ locks and edits
    def set_locked(self, index: int, locked: bool) -> None:
        """Lock or unlock palette entry ``index`` of the palette on screen."""
        pal = self.swatches.model.palette
        if pal is None or not 0 <= index < len(pal):
            return
        hexcode = pal.hex[index][:7]
        self._lock_hex(hexcode, locked)

    def _lock_hex(self, hexcode: str, locked: bool) -> None:
        self.document.set_locked(hexcode, locked)
        self.statusBar().showMessage(f"{'Locked' if locked else 'Unlocked'} {hexcode}", 3000)

    def unlock_all(self) -> None:
        self.document.unlock_all()

    def pick_locked_color(self, old: str = "") -> None:
        """Lock a color chosen with the picker (``old``: re-pick that locked color)."""
        initial = QColor(old) if old else QColor(128, 128, 128)
        color = dialogs.get_color(self, initial, f"Change {old}" if old else "Lock a Color")
        if color is None:
            return
        new = f"#{color.red():02x}{color.green():02x}{color.blue():02x}"
        if old:
            self.document.replace_color(old, new)
        else:
            self._lock_hex(new, True)

    def _edit_current(self) -> None:
        i = self.swatches.current_palette_index()
        if i >= 0:
            self.edit_color(i)

    def edit_color(self, index: int) -> None:
        """Replace palette entry ``index`` by a color from the color dialog.

        While clustering the new color is locked (k-means keeps it); in a fixed
        palette the entry changes color (keeping its name and place)."""
        pal = self.swatches.model.palette
        if pal is None or not 0 <= index < len(pal):
            return
        old = pal.hex[index][:7]
        r, g, b = (int(v) for v in pal.colors[index])
        color = dialogs.get_color(self, QColor(r, g, b), f"Edit {old}")
        if color is None:
            return
        new = f"#{color.red():02x}{color.green():02x}{color.blue():02x}"
        if self.document.is_fixed:
            target = self._edit_target(index)
            if target is not None:
                base, pos = target
                self.statusBar().showMessage(f"{old} → {new}", 4000)
                self._apply_edit(self.document.set_entry_color, pos, new, base)
            return
        self.statusBar().showMessage(f"{old} → {new} (locked)", 4000)
        self.document.replace_color(old, new)

    # ------------------------------------------------------------------ export
    def export_palette_dialog(self) -> None:
        self._export_dialog("palette")

    def export_image_dialog(self) -> None:
        self._export_dialog("image")

    def _export_dialog(self, kind: str) -> None:
        if self.shown is None or self.loaded is None:
            return
        if kind == "palette":
            filters = palette_filters()
            known = {ext: fmt for fmt, ext in reversed(list(filters.values()))}
            known[".pal"] = "jasc-pal"
            title = "Export Palette"
        else:
            filters = image_filters()
            known = {e: fmt for fmt, (_, exts) in IMAGE_FILTERS.items() for e in exts}
            title = "Export Image"
        last = str(self._settings.value(f"export/{kind}/filter", "") or "")
        selected = last if last in filters else next(iter(filters))
        stem = Path(self.loaded.name).stem or "palette"
        ext = filters[selected][1]
        start_dir = str(self._settings.value(f"export/{kind}/dir", "") or "")
        if not start_dir and self.loaded.image.path is not None:
            start_dir = str(Path(self.loaded.image.path).parent)
        n = len(self._export_palette())
        suggested = os.path.join(start_dir, f"{stem}-{n}{ext}") if start_dir else f"{stem}-{n}{ext}"
        got = dialogs.get_save_path(self, title, suggested, list(filters), selected)
        if not got:
            return
        path, chosen = got
        path, fmt = _resolve_target(path, chosen, filters, known)
        self._settings.setValue(f"export/{kind}/filter", chosen)
        self._settings.setValue(f"export/{kind}/dir", str(Path(path).parent))
        self.export(kind, path, fmt)

    def export(self, kind: str, path: str | os.PathLike, format: str | None = None) -> Worker | None:
        """Write the palette (``kind='palette'``) or the reduced image
        (``'image'``) at full resolution, in the background. Replaces ``path``.

        A fixed palette is written as it is (its order and names); otherwise the
        palette on screen."""
        if self.shown is None or self.loaded is None:
            return None
        settings = self.shown.request
        if self.document.is_fixed:
            settings = self.document.current_request() or settings
        title = self.document.palette_title or Path(self.loaded.name).stem or None
        req = ExportRequest(kind=kind, path=os.fspath(path), format=format,
                            pixels=self.loaded.image.pixels, palette=self._export_palette(),
                            settings=settings, overwrite=True, title=title)
        w = Worker(export_job, req, key="export")
        w.signals.progress.connect(self._export_progress)
        w.signals.result.connect(self._export_done)
        w.signals.error.connect(self._export_failed)
        w.signals.finished.connect(self._export_finished)
        self._export_worker = w
        self.progress_bar.setValue(0)
        self.progress_bar.show()
        self.cancel_button.show()
        self._set_activity(f"Exporting {Path(path).name}…")
        self._update_actions()
        self.core_runner.submit(w, supersede=False)
        return w

    def _export_palette(self) -> Palette:
        pal = self.document.fixed_palette
        if pal is None:
            pal = self.shown.palette
        return pal.with_locked(self.document.lock_mask(pal))

    def cancel_export(self) -> None:
        if self._export_worker is not None:
            self._export_worker.cancel()
            self.statusBar().showMessage("Export cancelled", 4000)

    def _export_progress(self, fraction: float) -> None:
        self.progress_bar.setValue(round(100 * fraction))

    def _export_done(self, res: ExportResult) -> None:
        w, h = res.size
        what = "palette" if res.request.kind == "palette" else "image"
        msg = f"Saved {what} {Path(res.path).name} ({res.n_colors} colors, {w} × {h}, {res.seconds:.1f} s)"
        if res.notes:
            msg += " — " + " ".join(res.notes)
        self.statusBar().showMessage(msg, 15000 if res.notes else 6000)
        self._export_result = res

    def _export_failed(self, e: BaseException) -> None:
        if not isinstance(e, (ValueError, OSError)) and type(e).__name__ not in (
                "ImageSaveError", "PaletteFormatError", "OutputExistsError"):
            traceback.print_exception(type(e), e, e.__traceback__, file=sys.stderr)
        self.show_error("Cannot export", _message(e))

    def _export_finished(self) -> None:
        self._export_worker = None
        self.progress_bar.hide()
        self.cancel_button.hide()
        if self.activity_label.text().startswith("Exporting"):
            self._set_activity("")
        self._update_actions()
        res, self._export_result = self._export_result, None
        if res is not None:
            # Emitted once the window is ready for the next export.
            self.exportFinished.emit(res)

    # ------------------------------------------------------------------ view
    def _toggle_split(self, checked: bool) -> None:
        self.preview.set_mode("split" if checked else "side")

    def set_split_view(self, on: bool) -> None:
        self.split_action.setChecked(on)
        self.preview.set_mode("split" if on else "side")

    def set_theme(self, choice: str) -> None:
        """"system", "light" or "dark"; remembered at once."""
        self.theme.set_choice(choice)
        self.theme_actions[choice].setChecked(True)
        self._settings.setValue("view/theme", choice)

    def show_about(self) -> None:
        dialogs.show_about(self)

    # ------------------------------------------------------------------ state for callers
    def is_idle(self) -> bool:
        """No load, preview, export or "How Many Colors?" job queued or running, and no change
        waiting. (A batch of the batch window runs on its own.)"""
        waiting = self._coalesce.isActive() and self._dirty
        return not (self.core_runner.busy or self.io_runner.busy or waiting
                    or self.elbow_panel.is_busy())

    def batch_defaults(self) -> dict:
        """What a batch export should start from: the settings, the locked
        colors, the fixed palette (None while clustering, with its source) and
        the open image's path (None for pasted images)."""
        img = self.loaded
        return {
            "settings": self.controls.settings(),
            "locked": tuple(self.document.locked),
            "palette": self.document.fixed_palette,
            "palette_source": self.document.palette_source,
            "image_path": None if img is None or img.image.path is None else str(img.image.path),
            "output_dir": str(self._settings.value("export/image/dir", "") or ""),
        }

    def open_batch(self):
        """Show the batch window (File › Batch Export…), made on first use and kept.

        Unless a batch is running, it is filled from the window: the controls,
        the locked colors, the fixed palette (offered as "The palette on
        screen"), and the open image as an input when it came from a file. Its
        own choices (output folder, format, quality target, …) stay."""
        from palette_app.gui.batch_window import BatchWindow

        if self.batch_window is None:
            self.batch_window = BatchWindow(self._settings, parent=self)
            self._fill_batch()
        elif not self.batch_window.is_running():
            self._fill_batch()
        w = self.batch_window
        w.show()
        w.raise_()
        w.activateWindow()
        return w

    def _fill_batch(self) -> None:
        from palette_app.gui.batch_window import settings_from_controls

        w = self.batch_window
        d = self.batch_defaults()
        try:
            own = w.batch_settings()     # what the batch window says (remembered or chosen)
        except (TypeError, ValueError):
            own = None
        keep = {}
        if own is not None:
            keep = {"format": own.format, "on_exist": own.on_exist, "effort": own.effort,
                    "skip_if_larger": own.skip_if_larger}
            if d["palette"] is None:
                keep.update(min_psnr=own.min_psnr, max_delta_e=own.max_delta_e,
                            shared_palette=own.shared_palette)
        settings = settings_from_controls(d["settings"], **keep)
        w.set_settings(settings)
        # Apart from the settings: more locked colors than colors is for the batch window to
        # point out when the batch starts, not a reason not to open.
        w.set_locked(d["locked"])
        pal = d["palette"]
        if pal is not None:
            w.set_palette_colors(tuple(pal.hex), f"The palette on screen ({len(pal)} colors)")
        else:
            w.set_palette_colors(None)
        if d["image_path"]:
            w.add_inputs([os.path.abspath(d["image_path"])])

    def _save_choices(self) -> None:
        """Remember the controls, the swatch order and the preview layout."""
        for key, value in asdict(self.controls.settings()).items():
            self._settings.setValue(f"controls/{key}", value)
        self._settings.setValue("view/sort", self.swatches.model.sort_key)
        self._settings.setValue("view/split", self.preview.mode == "split")
        self._settings.setValue("view/theme", self.theme.choice)

    def _restore_choices(self) -> None:
        s = self._settings
        base = Settings()
        values = {}
        for f in fields(Settings):
            raw = s.value(f"controls/{f.name}")
            if raw is None:
                continue
            default = getattr(base, f.name)
            try:
                if isinstance(default, bool):
                    values[f.name] = str(raw).lower() in ("true", "1")
                else:
                    values[f.name] = type(default)(raw)
            except (TypeError, ValueError):
                continue
        if values:
            try:
                self.controls.set_settings(replace(base, **values))
            except (TypeError, ValueError):
                pass
        sort = s.value("view/sort")
        if sort in ("share", "hue", "lum"):
            self.swatches.set_sort(sort)
        if str(s.value("view/split", "false")).lower() in ("true", "1"):
            self.set_split_view(True)
        theme = str(s.value("view/theme", "system") or "system")
        self.set_theme(theme if theme in THEMES else "system")

    def _save_layout(self) -> None:
        s = self._settings
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState(LAYOUT_VERSION))
        s.setValue("window/splitter", self.splitter.saveState())

    def _restore_layout(self) -> None:
        s = self._settings
        geometry = s.value("window/geometry")
        if isinstance(geometry, (QByteArray, bytes)) and len(geometry):
            self.restoreGeometry(QByteArray(geometry))
        else:
            self.resize(1280, 800)
        state = s.value("window/state")
        self._default_docks = not (isinstance(state, (QByteArray, bytes)) and len(state)
                                   and self.restoreState(QByteArray(state), LAYOUT_VERSION))
        splitter = s.value("window/splitter")
        if isinstance(splitter, (QByteArray, bytes)) and len(splitter):
            self.splitter.restoreState(QByteArray(splitter))

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._default_docks:
            # The first layout (no saved one): the chart gets the height the short list of
            # locks does not need. Only once the window has its size does this stick.
            self._default_docks = False
            self.resizeDocks([self.locked_dock, self.elbow_dock], [160, 440], Qt.Orientation.Vertical)
            self.resizeDocks([self.elbow_dock], [330], Qt.Orientation.Horizontal)

    def closeEvent(self, event) -> None:
        self._coalesce.stop()
        self._busy_timer.stop()
        self._save_layout()
        self._save_choices()
        if self.batch_window is not None:
            # A running batch is cancelled (finished files stay, nothing partial is written).
            self.batch_window.shutdown()
            self.batch_window.close()
        self.elbow_panel.shutdown()
        # Cancel cooperatively, then wait for the running workers to return.
        self.io_runner.close(timeout=10.0)
        self.core_runner.close(timeout=30.0)
        super().closeEvent(event)


def _qimage_pixels(qimg: QImage) -> np.ndarray:
    """(H, W, 4) uint8 RGBA copy of a QImage (alpha dropped later when all opaque)."""
    img = qimg.convertToFormat(QImage.Format.Format_RGBA8888)
    w, h = img.width(), img.height()
    buf = np.frombuffer(img.constBits(), np.uint8, count=img.sizeInBytes())
    return buf.reshape(h, img.bytesPerLine())[:, : w * 4].reshape(h, w, 4).copy()
