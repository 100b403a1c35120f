"""The main window: open an image, tune the palette live, export both.

Flow: the controls and swatches emit signals; the window applies them to the
:class:`~palette_app.gui.document.Document` (the model), whose signals the
views follow. For a preview the document makes an immutable
:class:`~palette_app.gui.worker.QuantizeRequest`, which the window hands to a
:class:`~palette_app.gui.worker.SerialRunner`; results come back as signals,
and the document accepts only the one for the newest request.
"""
from __future__ import annotations

import os
import sys
import time
import traceback
from dataclasses import asdict, fields, replace
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSettings, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QColor, QGuiApplication, QImage, QKeySequence
from PySide6.QtWidgets import (
    QFrame, QGroupBox, QHBoxLayout, QLabel, QMainWindow, QProgressBar, QPushButton, QSplitter,
    QStyle, QToolButton, QVBoxLayout, QWidget,
)

from palette_app.gui import dialogs
from palette_app.gui.controls import ControlsPanel, Settings
from palette_app.gui.document import Document
from palette_app.gui.preview import PreviewWidget
from palette_app.gui.swatches import SwatchPanel
from palette_app.gui.worker import (
    CORE_FEATURES, ExportRequest, ExportResult, LoadRequest, LoadResult, PreviewResult,
    SerialRunner, Worker, export_job, load_job, preview_job, warmup_job,
)

__all__ = ["MainWindow"]

APP_NAME = "Palette App"
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


class MessageBar(QFrame):
    """A dismissible line above the preview for errors that must not be modal."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("MessageBar")
        self.setStyleSheet("#MessageBar { background: #fdecea; border: 1px solid #f5c2c0;"
                           " border-radius: 4px; } QLabel { color: #611a15; }")
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Dismiss")
        close.clicked.connect(self.hide)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 4, 4, 4)
        lay.addWidget(self.label, 1)
        lay.addWidget(close)
        self.hide()

    def show_message(self, text: str) -> None:
        self.label.setText(text)
        self.show()

    @property
    def text(self) -> str:
        return self.label.text() if self.isVisible() else ""


class MainWindow(QMainWindow):
    """Palette App's window. ``settings`` stores recent files (default: the app's QSettings)."""

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

    def __init__(self, settings: QSettings | None = None, *, warmup: bool = True,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(APP_NAME)
        self.setAcceptDrops(True)
        self._settings = settings if settings is not None else QSettings()
        self.core_runner = SerialRunner(self)   # everything that enters Numba, one at a time
        self.io_runner = SerialRunner(self)     # decoding files (Pillow only)
        self.document = Document(self)
        self._load_request: LoadRequest | None = None
        self._dirty = False
        self._ready = not warmup
        self._export_worker: Worker | None = None
        self._export_result: ExportResult | None = None
        self._preview_started = 0.0

        self._build_widgets()
        self._build_actions()
        self._build_menus()
        self._update_actions()
        self.document.imageChanged.connect(self._show_image)
        self.document.previewChanged.connect(self._show_preview)
        self.document.settingsChanged.connect(self.request_preview)
        self.document.lockedChanged.connect(self._locked_changed)

        self._coalesce = QTimer(self)
        self._coalesce.setSingleShot(True)
        self._coalesce.setInterval(COALESCE_MS)
        self._coalesce.timeout.connect(self._coalesce_timeout)
        self._busy_timer = QTimer(self)
        self._busy_timer.setSingleShot(True)
        self._busy_timer.setInterval(BUSY_DELAY_MS)
        self._busy_timer.timeout.connect(lambda: self.preview.set_busy("Updating…"))

        geometry = self._settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 800)
        self._restore_choices()
        if warmup:
            self._start_warmup()

    # ------------------------------------------------------------------ building
    def _build_widgets(self) -> None:
        self.preview = PreviewWidget()
        self.message_bar = MessageBar()
        self.controls = ControlsPanel()
        self.swatches = SwatchPanel()
        self.swatches.can_lock = "locked" in CORE_FEATURES

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
        rv.addWidget(self.swatches, 1)
        right.setMinimumWidth(300)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
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
        self.export_palette_action = self._action(
            "Export &Palette…", self.export_palette_dialog, "Ctrl+E",
            "Save the palette (GPL, ASE, ACO, ACT, PAL, JSON, CSS, …)", SP.SP_DialogSaveButton)
        self.export_image_action = self._action(
            "Export &Image…", self.export_image_dialog, "Ctrl+Shift+E",
            "Save the reduced-color image at full resolution (PNG, GIF, WebP, TIFF, BMP, JPEG)",
            SP.SP_DialogSaveButton)
        self.quit_action = self._action("&Quit", self.close, KS.Quit, "Quit Palette App")
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
        self.unlock_all_action = self._action("&Unlock All Colors", self.unlock_all, None,
                                              "Let k-means move every color again")
        for a in (self.zoom_fit_action, self.zoom_100_action, self.zoom_in_action, self.zoom_out_action,
                  self.split_action, self.more_colors_action, self.fewer_colors_action):
            # Keep zoom and view keys working wherever the focus is in the window.
            a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)

    def _build_menus(self) -> None:
        mb = self.menuBar()
        file_menu = mb.addMenu("&File")
        file_menu.addAction(self.open_action)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        self._fill_recent_menu()
        file_menu.addAction(self.paste_action)
        file_menu.addSeparator()
        file_menu.addAction(self.export_palette_action)
        file_menu.addAction(self.export_image_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        palette_menu = mb.addMenu("&Palette")
        palette_menu.addAction(self.more_colors_action)
        palette_menu.addAction(self.fewer_colors_action)
        palette_menu.addAction(self.unlock_all_action)
        view_menu = mb.addMenu("&View")
        for a in (self.zoom_fit_action, self.zoom_100_action, self.zoom_in_action, self.zoom_out_action):
            view_menu.addAction(a)
        view_menu.addSeparator()
        view_menu.addAction(self.split_action)

        tb = self.addToolBar("Main")
        tb.setObjectName("MainToolBar")
        tb.setMovable(False)
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        tb.addAction(self.open_action)
        tb.addAction(self.export_palette_action)
        tb.addAction(self.export_image_action)
        tb.addSeparator()
        for a in (self.zoom_fit_action, self.zoom_100_action):
            tb.addAction(a)
        tb.addSeparator()
        tb.addAction(self.split_action)

    def _update_actions(self) -> None:
        has = self.loaded is not None
        exporting = self._export_worker is not None
        can_export = self.shown is not None and not exporting
        self.export_palette_action.setEnabled(can_export)
        self.export_image_action.setEnabled(can_export)
        for a in (self.zoom_fit_action, self.zoom_100_action, self.zoom_in_action, self.zoom_out_action):
            a.setEnabled(has)
        self.unlock_all_action.setEnabled(bool(self.locked))

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
        w = Worker(warmup_job, None, key="warmup")
        w.signals.result.connect(self._warmup_done)
        w.signals.error.connect(self._warmup_failed)
        self.core_runner.submit(w, supersede=False)

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
        self.swatches.set_palette(None)
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
        """Open what a clipboard or a drop holds: a local file, or image data."""
        if mime is None:
            return False
        for url in mime.urls() if mime.hasUrls() else []:
            if url.isLocalFile():
                self.open_path(url.toLocalFile())
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
                self.open_path(text)
                return True
        self.statusBar().showMessage(f"The {source} holds no image", 4000)
        return False

    def dragEnterEvent(self, event) -> None:  # noqa: N802
        mime = event.mimeData()
        if mime.hasImage() or any(u.isLocalFile() for u in mime.urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
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
            clear = self.recent_menu.addAction("Clear Menu")
            clear.triggered.connect(lambda: (self._settings.setValue("recentFiles", []),
                                             self._fill_recent_menu()))
        self.recent_menu.setEnabled(bool(files))

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
        if len(req.locked) > req.n_colors:
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
        self.swatches.set_palette(pal, self.document.lock_mask(pal), summary=self._summary(pr))
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
        if n < pr.request.n_colors:
            text += f" (the image has only {n} distinct colors)"
        if self.locked:
            text += f" · {len(self.locked)} locked"
        return text

    def _step_colors(self, step: int) -> None:
        self.controls.set_n_colors(self.controls.settings().n_colors + step)

    # ------------------------------------------------------------------ locks and edits
    def set_locked(self, index: int, locked: bool) -> None:
        """Lock or unlock palette entry ``index`` of the shown palette."""
        if self.shown is None:
            return
        hexcode = self.shown.palette.hex[index][:7]
        self.document.set_locked(hexcode, locked)
        self.statusBar().showMessage(f"{'Locked' if locked else 'Unlocked'} {hexcode}", 3000)

    def unlock_all(self) -> None:
        self.document.unlock_all()

    def _locked_changed(self, _locked) -> None:
        self._update_actions()
        self.request_preview()

    def edit_color(self, index: int) -> None:
        """Replace palette entry ``index`` by a color from the color dialog; it becomes locked."""
        if self.shown is None:
            return
        old = self.shown.palette.hex[index][:7]
        r, g, b = (int(v) for v in self.shown.palette.colors[index])
        color = dialogs.get_color(self, QColor(r, g, b), f"Edit {old}")
        if color is None:
            return
        new = f"#{color.red():02x}{color.green():02x}{color.blue():02x}"
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
        n = len(self.shown.palette)
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
        """Write the shown palette (``kind='palette'``) or the reduced image
        (``'image'``) at full resolution, in the background. Replaces ``path``."""
        if self.shown is None or self.loaded is None:
            return None
        req = ExportRequest(kind=kind, path=os.fspath(path), format=format,
                            pixels=self.loaded.image.pixels, palette=self._export_palette(),
                            settings=self.shown.request, overwrite=True,
                            title=Path(self.loaded.name).stem or None)
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

    def _export_palette(self):
        pal = self.shown.palette
        return pal.with_locked(self.document.lock_mask(pal))

    def cancel_export(self) -> None:
        if self._export_worker is not None:
            self._export_worker.cancel()
            self.statusBar().showMessage("Export cancelled", 4000)

    def _export_progress(self, fraction: float) -> None:
        self.progress_bar.setValue(int(round(100 * fraction)))

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

    # ------------------------------------------------------------------ state for callers
    def is_idle(self) -> bool:
        """No load, preview or export queued or running, and no change waiting."""
        waiting = self._coalesce.isActive() and self._dirty
        return not (self.core_runner.busy or self.io_runner.busy or waiting)

    def _save_choices(self) -> None:
        """Remember the controls, the swatch order and the preview layout."""
        for key, value in asdict(self.controls.settings()).items():
            self._settings.setValue(f"controls/{key}", value)
        self._settings.setValue("view/sort", self.swatches.model.sort_key)
        self._settings.setValue("view/split", self.preview.mode == "split")

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

    def closeEvent(self, event) -> None:  # noqa: N802
        self._coalesce.stop()
        self._busy_timer.stop()
        self._settings.setValue("window/geometry", self.saveGeometry())
        self._save_choices()
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
