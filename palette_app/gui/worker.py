"""Work off the UI thread: one worker type on ``QThreadPool``, run one at a time.

:class:`Worker` is a ``QRunnable`` that calls ``fn(request, progress)`` and
reports through a separate ``QObject`` (:class:`WorkerSignals`: ``started``,
``progress``, ``result``, ``error``, ``finished``), as in superqt's
``_qthreading``. ``progress(fraction)`` returns False once the worker has been
cancelled; the core's callbacks pass that on and raise
:class:`palette_app.Cancelled` between mini-batches.

:class:`SerialRunner` runs its workers strictly one after another on the
global pool and keeps a reference to each until it has finished. Submitting a
worker *supersedes* the running and queued workers with the same ``key``: they
are cancelled (cooperatively) and never deliver a result. The main window uses
one runner for everything that enters Numba (warm-up, previews, exports), so
two parallel kernels are never entered from two threads at once, and a second
runner for decoding files (Pillow only).

The request and job functions at the bottom are plain Python (numpy and
``QImage``, which is safe outside the GUI thread); ``QPixmap`` is only made in
GUI slots.
"""
from __future__ import annotations

import importlib
import inspect
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal
from PySide6.QtGui import QImage

import palette_app
from palette_app.core import Cancelled, Palette, QuantizeResult

__all__ = [
    "CORE_FEATURES",
    "DEFAULTS",
    "DITHERS",
    "SPACES",
    "ExportRequest",
    "ExportResult",
    "LoadRequest",
    "LoadResult",
    "PaletteLoadRequest",
    "PreviewResult",
    "QuantizeRequest",
    "SerialRunner",
    "Worker",
    "WorkerSignals",
    "downscale",
    "export_job",
    "load_job",
    "palette_load_job",
    "preview_job",
    "warmup_job",
]

#: Largest preview, in pixels: about a screen's worth. Export uses the full image.
PREVIEW_MAX_PIXELS = 1_000_000

_QUANTIZE_PARAMS = frozenset(inspect.signature(palette_app.quantize).parameters)
_REMAP_PARAMS = frozenset(inspect.signature(palette_app.remap).parameters)
#: Optional quantize settings this core understands (older cores had none of them).
CORE_FEATURES = frozenset(
    name for name in ("space", "dither", "dither_strength", "dither_smooth_only", "locked")
    if name in _QUANTIZE_PARAMS)


def _core_tuple(name: str, fallback: tuple[str, ...]) -> tuple[str, ...]:
    # The module, not the function `palette_app.core.quantize` that shadows it.
    value = getattr(importlib.import_module("palette_app.core.quantize"), name, None)
    if value is None and name == "SPACES":
        value = getattr(importlib.import_module("palette_app.core.colorspace"), "SPACES", None)
    return tuple(value) if value else fallback


#: Clustering spaces and dithering kinds offered in the controls.
SPACES = _core_tuple("SPACES", ("srgb",)) if "space" in CORE_FEATURES else ("srgb",)
DITHERS = _core_tuple("DITHERS", ("none",)) if "dither" in CORE_FEATURES else ("none",)
#: The core's defaults; settings equal to them are not passed (older cores lack them).
DEFAULTS = {"space": "srgb", "dither": "none", "dither_strength": 1.0,
            "dither_smooth_only": False, "locked": ()}


# --------------------------------------------------------------------------- worker
class WorkerSignals(QObject):
    """The signals of a :class:`Worker` (a ``QRunnable`` cannot have its own)."""

    started = Signal()
    progress = Signal(float)
    result = Signal(object)
    error = Signal(object)      # the exception
    finished = Signal()


class _Launch(QRunnable):
    """What the pool runs: it lets go of its worker as soon as the worker ran.

    PySide keeps a Python reference to every runnable given to
    ``QThreadPool.start`` until some later ``start``; handing it this small
    object instead of the worker means a finished worker (and the image and
    result it holds) is freed when the runner lets go of it, not whenever the
    pool next starts something.
    """

    def __init__(self, worker: Worker):
        super().__init__()
        self.setAutoDelete(True)
        self._worker: Worker | None = worker

    def run(self) -> None:
        worker, self._worker = self._worker, None
        if worker is None:
            return
        released = worker._released
        try:
            worker.run()
        finally:
            # This thread's last reference goes before the flag is set: the
            # runner drops its own only after, so the worker (and its Qt
            # signals object) is always destroyed on the GUI thread.
            del worker
            released.set()


class Worker(QRunnable):
    """Runs ``fn(request, progress)`` once on a pool thread.

    ``progress(fraction)`` emits ``signals.progress`` (at most every 1 %) and
    returns False after :meth:`cancel`, so a core callback stops the work. A
    cancelled worker emits neither ``result`` nor ``error``, only ``finished``.
    """

    def __init__(self, fn: Callable[[Any, Callable[[float], bool]], Any], request: Any, *,
                 key: str = "task"):
        super().__init__()
        # The pool deletes the C++ side after run(); the runner keeps the Python
        # side alive until `finished` is handled. (With autoDelete off, PySide
        # would keep every worker, and its request's pixels, forever.)
        self.setAutoDelete(True)
        self.fn = fn
        self.request = request
        self.key = key
        self.signals = WorkerSignals()
        # Slots find the request through `self.sender().request`, so they can be
        # bound methods (disconnected with their receiver), not lambdas.
        self.signals.request = request
        self._cancel = threading.Event()
        self._done = threading.Event()
        # Set by the launcher once its pool thread holds no reference any more.
        self._released = threading.Event()
        self._last_progress = -1.0

    # -- control (any thread) ------------------------------------------------
    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until :meth:`run` has returned (or ``timeout`` seconds); True if it has."""
        return self._done.wait(timeout)

    # -- pool thread -----------------------------------------------------------
    def _progress(self, fraction: float) -> bool:
        if self._cancel.is_set():
            return False
        fraction = float(fraction)
        if fraction - self._last_progress >= 0.01 or fraction >= 1.0:
            self._last_progress = fraction
            self.signals.progress.emit(fraction)
        return True

    def run(self) -> None:
        try:
            self.signals.started.emit()
            if self._cancel.is_set():
                return
            try:
                out = self.fn(self.request, self._progress)
            except Cancelled:
                return
            except Exception as e:  # noqa: BLE001  (reported to the UI, never raised into Qt)
                if not self._cancel.is_set():
                    self.signals.error.emit(e)
                return
            if not self._cancel.is_set():
                self.signals.result.emit(out)
        finally:
            self._done.set()
            self.signals.finished.emit()


class SerialRunner(QObject):
    """Runs workers one at a time on a ``QThreadPool`` (the global one by default).

    :meth:`submit` cancels the running and queued workers with the same key
    (the newest request supersedes the older ones), then queues the new one.
    """

    busyChanged = Signal(bool)

    def __init__(self, parent: QObject | None = None, pool: QThreadPool | None = None):
        super().__init__(parent)
        self._pool = pool or QThreadPool.globalInstance()
        self._queue: list[Worker] = []
        self._running: Worker | None = None
        # Every worker not yet finished, so none is collected while Qt runs it.
        self._alive: set[Worker] = set()
        # Finished workers whose pool thread may still hold them (see _reap).
        self._retiring: list[Worker] = []
        self._closed = False

    @property
    def busy(self) -> bool:
        return self._running is not None or bool(self._queue)

    @property
    def running(self) -> Worker | None:
        return self._running

    def pending(self, key: str | None = None) -> list[Worker]:
        """Queued and running workers that have not been cancelled (optionally of one key)."""
        ws = ([self._running] if self._running is not None else []) + self._queue
        return [w for w in ws if not w.cancelled and (key is None or w.key == key)]

    def submit(self, worker: Worker, *, supersede: bool = True) -> Worker:
        if self._closed:
            worker.cancel()
            return worker
        was_busy = self.busy
        if supersede:
            self.cancel(worker.key)
        self._queue.append(worker)
        self._alive.add(worker)
        # A bound method, not a lambda holding the worker: Qt would keep it alive.
        worker.signals.finished.connect(self._on_finished)
        self._start_next()
        if not was_busy:
            self.busyChanged.emit(True)
        return worker

    def cancel(self, key: str | None = None) -> None:
        """Cancel the running and queued workers (of ``key``, or all)."""
        keep = []
        for w in self._queue:
            if key is None or w.key == key:
                w.cancel()
                self._alive.discard(w)
            else:
                keep.append(w)
        self._queue = keep
        if self._running is not None and (key is None or self._running.key == key):
            self._running.cancel()

    def close(self, timeout: float = 10.0) -> bool:
        """Cancel everything and wait for the running worker; True if it stopped in time."""
        self._closed = True
        self.cancel()
        w = self._running
        return True if w is None else w.wait(timeout)

    def _start_next(self) -> None:
        if self._running is not None or not self._queue:
            return
        self._running = self._queue.pop(0)
        self._pool.start(_Launch(self._running))

    def _on_finished(self) -> None:
        sender = self.sender()
        worker = next((w for w in self._alive if w.signals is sender), None)
        self._alive.discard(worker)
        if worker is not None:
            self._retiring.append(worker)
        if worker is self._running:
            self._running = None
            self._start_next()
        del worker
        self._reap()
        if not self.busy:
            self.busyChanged.emit(False)

    def _reap(self) -> None:
        """Let go of the finished workers whose pool thread has let go of them.

        ``finished`` arrives while the pool thread is still returning from the
        worker's run; were the runner's reference dropped first, the pool
        thread's would be the last, and the worker's Qt signals object would be
        destroyed off the GUI thread. Those not yet released are checked again
        a few milliseconds later.
        """
        self._retiring = [w for w in self._retiring if not w._released.is_set()]
        if self._retiring:
            QTimer.singleShot(5, self, self._reap)


# --------------------------------------------------------------------------- requests
@dataclass(frozen=True, eq=False)
class QuantizeRequest:
    """Everything a preview needs; immutable, so a worker never sees it change.

    pixels : (H, W, 3|4) uint8, read-only (the preview-sized image).
    palette : a fixed palette to map the image to (no clustering; ``n_colors``,
    ``random_state``, ``effort`` and ``locked`` are then unused), or None.
    generation : increases with every request; the window shows a result only
    when its generation is the newest one.
    """

    pixels: np.ndarray
    n_colors: int = 16
    random_state: int = 0
    space: str = "srgb"
    dither: str = "none"
    dither_strength: float = 1.0
    dither_smooth_only: bool = False
    locked: tuple[str, ...] = ()
    effort: str = "default"
    palette: Palette | None = None
    generation: int = 0

    def quantize_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for :func:`palette_app.quantize` (options at their
        defaults are left out, so an older core without them still works)."""
        kw: dict[str, Any] = {"random_state": int(self.random_state), "effort": self.effort}
        for name in ("space", "dither", "dither_strength", "dither_smooth_only", "locked"):
            value = getattr(self, name)
            if value != DEFAULTS[name]:
                kw[name] = list(value) if name == "locked" else value
        return kw

    def remap_kwargs(self) -> dict[str, Any]:
        """The matching keyword arguments for :func:`palette_app.remap`."""
        kw = self.quantize_kwargs()
        return {k: v for k, v in kw.items() if k in _REMAP_PARAMS and k not in ("random_state", "effort")}


@dataclass(frozen=True, eq=False)
class PreviewResult:
    """A finished preview: the request, the core's result, and the image to show."""

    request: QuantizeRequest
    result: QuantizeResult
    image: QImage
    psnr: float
    seconds: float

    @property
    def palette(self) -> Palette:
        return self.result.palette


@dataclass(frozen=True, eq=False)
class LoadRequest:
    """Open a file (``path``), encoded bytes (``data``), or raw pixels (``pixels``, e.g. pasted)."""

    path: str | None = None
    data: bytes | None = None
    pixels: np.ndarray | None = None
    name: str = ""
    max_preview_pixels: int = PREVIEW_MAX_PIXELS


@dataclass(frozen=True, eq=False)
class LoadResult:
    """A loaded image, its preview-sized pixels and the preview as a ``QImage``."""

    request: LoadRequest
    image: Any                 # palette_app.io.LoadedImage
    preview: np.ndarray        # (h, w, 3|4) uint8, read-only
    preview_image: QImage
    seconds: float

    @property
    def name(self) -> str:
        if self.image.path is not None:
            return Path(self.image.path).name
        return self.request.name or "image"


@dataclass(frozen=True, eq=False)
class PaletteLoadRequest:
    """Read a palette file to apply it."""

    path: str


@dataclass(frozen=True, eq=False)
class ExportRequest:
    """Write the palette (``kind='palette'``) or the reduced image (``'image'``) of the
    full-resolution ``pixels`` with ``palette``, matched with the preview's settings."""

    kind: str                  # "palette" or "image"
    path: str
    format: str | None
    pixels: np.ndarray         # full resolution
    palette: Palette
    settings: QuantizeRequest  # space and dithering used for the match
    overwrite: bool = True
    title: str | None = None


@dataclass(frozen=True)
class ExportResult:
    request: ExportRequest = field(repr=False)
    path: str
    n_colors: int
    size: tuple[int, int]
    notes: tuple[str, ...]
    seconds: float


# --------------------------------------------------------------------------- jobs
def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.setflags(write=False)
    return a


def downscale(pixels: np.ndarray, max_pixels: int = PREVIEW_MAX_PIXELS) -> np.ndarray:
    """The image shrunk (box filter, aspect kept) to at most ``max_pixels``; the
    same array when it is already small enough.

    pixels : (H, W, 3|4) uint8. Returns (h, w, 3|4) uint8.
    """
    h, w = pixels.shape[:2]
    if h * w <= max_pixels:
        return pixels
    from PIL import Image

    scale = (max_pixels / float(h * w)) ** 0.5
    nw, nh = max(1, int(w * scale)), max(1, int(h * scale))
    mode = "RGBA" if pixels.shape[2] == 4 else "RGB"
    # Pillow premultiplies alpha while resampling RGBA, so edges do not darken.
    im = Image.fromarray(np.ascontiguousarray(pixels), mode)
    return np.asarray(im.resize((nw, nh), Image.Resampling.BOX, reducing_gap=2.0))


def rgb_qimage(pixels: np.ndarray) -> QImage:
    """A ``QImage`` that owns a copy of (H, W, 3|4) uint8 pixels."""
    a = np.ascontiguousarray(pixels)
    h, w, c = a.shape
    fmt = QImage.Format.Format_RGBA8888 if c == 4 else QImage.Format.Format_RGB888
    return QImage(a.data, w, h, w * c, fmt).copy()


def indexed_qimage(indices: np.ndarray, palette: Palette) -> QImage:
    """The reduced image as a 32-bit ``QImage`` ready to draw.

    One table lookup per pixel into the palette packed as premultiplied
    0xAARRGGBB words (about 4 ms for 1 MP), so the GUI thread only wraps it
    in a pixmap. (``QImage.setColorTable`` would avoid the lookup, but in
    PySide6 6.12 it drops a reference to ``None`` on every call.)
    """
    rgba = palette.rgba.astype(np.uint32)
    a = rgba[:, 3]
    # Premultiplied, rounded as Qt does (x * a + 127) // 255.
    r, g, b = ((rgba[:, i] * a + 127) // 255 for i in range(3))
    table = (a << 24) | (r << 16) | (g << 8) | b
    words = np.ascontiguousarray(np.take(table, np.asarray(indices, np.uint8)), np.uint32)
    h, w = words.shape
    fmt = (QImage.Format.Format_RGB32 if palette.alpha is None
           else QImage.Format.Format_ARGB32_Premultiplied)
    # Format_(A)RGB32 is one native-endian 0xAARRGGBB word per pixel: no byte order to mind.
    return QImage(words.data, w, h, 4 * w, fmt).copy()


def warmup_job(step: int | None, progress: Callable[[float], bool]) -> tuple[int | None, float]:
    """Compile (or load from Numba's cache) the core's kernels: all of them, or
    one step of :data:`palette_app.core.warmup.STEPS`. Returns (step, seconds)."""
    progress(0.0)
    if step is None:
        return None, palette_app.warmup()
    from palette_app.core.warmup import warmup_step

    return step, warmup_step(step)


def load_job(request: LoadRequest, progress: Callable[[float], bool]) -> LoadResult:
    """Decode the image (:func:`palette_app.io.load_image`) and make its preview."""
    from palette_app.io import LoadedImage, load_image

    t0 = time.perf_counter()
    progress(0.0)
    if request.pixels is not None:
        px = np.ascontiguousarray(request.pixels, np.uint8)
        notes: tuple[str, ...] = ()
        if px.shape[2] == 4 and bool((px[..., 3] == 255).all()):
            px = np.ascontiguousarray(px[..., :3])
        image = LoadedImage(pixels=px, format="clipboard", size=(px.shape[1], px.shape[0]),
                            mode="RGBA" if px.shape[2] == 4 else "RGB",
                            had_alpha=px.shape[2] == 4, notes=notes, path=None)
    elif request.data is not None:
        image = load_image(request.data, name=request.name or None)
    else:
        image = load_image(request.path)
    if not progress(0.6):
        raise Cancelled("loading was superseded")
    preview = _readonly(downscale(image.pixels, request.max_preview_pixels))
    qimg = rgb_qimage(preview)
    progress(1.0)
    return LoadResult(request, image, preview, qimg, time.perf_counter() - t0)


def preview_job(request: QuantizeRequest, progress: Callable[[float], bool]) -> PreviewResult:
    """Quantize the preview image (or map it to the request's fixed palette);
    the result comes with a ``QImage`` to show."""
    t0 = time.perf_counter()
    if request.palette is not None:
        result = palette_app.remap(request.pixels, request.palette, callback=progress,
                                   **request.remap_kwargs())
    else:
        result = palette_app.quantize(request.pixels, int(request.n_colors), callback=progress,
                                      **request.quantize_kwargs())
    if not progress(1.0):
        raise Cancelled("preview was superseded")
    image = indexed_qimage(result.indices, result.palette)
    try:
        psnr = float(result.psnr)
    except ValueError:
        psnr = float("nan")
    return PreviewResult(request, result, image, psnr, time.perf_counter() - t0)


def palette_load_job(request: PaletteLoadRequest, progress: Callable[[float], bool]):
    """Read a palette file (:func:`palette_app.io.read_palette`); a ``LoadedPalette``."""
    from palette_app.io import read_palette

    progress(0.0)
    pal = read_palette(request.path)
    if len(pal) == 0:
        raise ValueError("the file holds no colors")
    if len(pal) > 256:
        raise ValueError(f"it has {len(pal)} colors; an image can use at most 256")
    progress(1.0)
    return pal


def match_palette(pixels: np.ndarray, palette: Palette, settings: QuantizeRequest,
                  progress: Callable[[float], bool]) -> QuantizeResult:
    """Map full-resolution ``pixels`` to ``palette`` with the preview's space and
    dithering; pixel counts are those of the full image. Returns a
    :class:`QuantizeResult` whose palette keeps ``palette``'s order and locks."""
    kw = settings.remap_kwargs()
    if settings.palette is None and "smoothing" in _REMAP_PARAMS:
        # A clustered palette: the full image gets the same automatic label
        # smoothing as the preview's quantize (smaller PNGs at few colors).
        kw["smoothing"] = None
    if "callback" in _REMAP_PARAMS:
        kw["callback"] = lambda p: progress(0.05 + 0.75 * p)
    out = palette_app.remap(pixels, palette, **kw)
    if isinstance(out, QuantizeResult):
        res = out
        pal = res.palette
        if len(pal) == len(palette) and not np.array_equal(pal.locked, palette.locked):
            pal = pal.with_locked(palette.locked)
            res = QuantizeResult(palette=pal, indices=res.indices,
                                 transparent_index=res.transparent_index)
        return res
    # An older core: remap returns the (H, W) uint8 index image.
    indices = np.asarray(out, np.uint8)
    counts = np.bincount(indices.ravel(), minlength=len(palette))[:len(palette)]
    pal = Palette(palette.colors, alpha=palette.alpha, counts=counts, names=palette.names,
                  locked=palette.locked)
    transparent = None
    if pal.alpha is not None and np.any(pal.alpha == 0):
        transparent = int(np.flatnonzero(pal.alpha == 0)[0])
    return QuantizeResult(palette=pal, indices=indices, transparent_index=transparent)


def export_job(request: ExportRequest, progress: Callable[[float], bool]) -> ExportResult:
    """Match the full image to the palette, then write the palette or the image file."""
    from palette_app.io import save_image, write_palette

    t0 = time.perf_counter()
    if not progress(0.0):
        raise Cancelled("export was cancelled")
    result = match_palette(request.pixels, request.palette, request.settings, progress)
    if not progress(0.85):
        raise Cancelled("export was cancelled")
    if request.kind == "palette":
        opts = {"name": request.title} if request.title else {}
        notes = tuple(write_palette(result.palette, request.path, request.format,
                                    overwrite=request.overwrite, **opts))
    elif request.kind == "image":
        saved = save_image(result, request.path, request.format, overwrite=request.overwrite)
        notes = tuple(saved.notes)
    else:
        raise ValueError(f"unknown export kind {request.kind!r}")
    progress(1.0)
    h, w = result.indices.shape
    return ExportResult(request, request.path, len(result.palette), (w, h), notes,
                        time.perf_counter() - t0)
