""""How many colors?": the elbow chart of an image, and the fewest colors reaching a quality.

:class:`ElbowPanel` computes :func:`palette_app.elbow` for the image given to
:meth:`~ElbowPanel.set_image` in the background and draws it
(:class:`~palette_app.gui.chart.ElbowChart`): inertia and mean ΔE2000 against
the number of colors, the suggested number (the knee) marked. Clicking a point
or pressing Left/Right on the chart emits :attr:`~ElbowPanel.colorsChosen`.
The quality box runs :func:`palette_app.colors_for_quality` for a PSNR or a
ΔE2000 target and emits the answer the same way.

Threading: the jobs run as :class:`~palette_app.gui.worker.Worker`\\ s on a
:class:`~palette_app.gui.worker.SerialRunner`. Give the panel the main
window's ``core_runner`` (``ElbowPanel(runner=window.core_runner)``) and its
jobs queue with the previews and exports, so the core's parallel kernels are
never entered from two threads at once (the core also holds its
``PARALLEL_LOCK`` around every parallel kernel). A new :meth:`set_image`
supersedes the running job, which the core stops at its next progress
callback; a generation counter drops anything stale that still arrives.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

import palette_app
from palette_app.gui.chart import ElbowChart
from palette_app.gui.worker import SerialRunner, Worker, downscale

__all__ = ["ElbowPanel", "ElbowRequest", "QualityAnswer", "QualityRequest", "elbow_job", "quality_job"]

#: The panel works on a copy of the image of at most this many pixels (the
#: curve's shape does not need more, and the jobs share the core with previews).
ELBOW_MAX_PIXELS = 256 * 1024
ELBOW_KEY = "elbow"
QUALITY_KEY = "elbow-quality"
#: Short, for a narrow dock; the combo box's tooltip says it in words.
TARGETS = {"delta_e": "Mean ΔE2000 ≤", "psnr": "PSNR (dB) ≥"}
DEFAULT_TARGET = {"delta_e": 2.0, "psnr": 35.0}


@dataclass(frozen=True, eq=False)
class ElbowRequest:
    """pixels : (H, W, 3|4) uint8, read-only. generation : (image, request) counters of the
    panel when made; a result is shown only when both are still the newest."""

    pixels: np.ndarray
    k_max: int = 32
    space: str = "srgb"
    random_state: int = 0
    generation: tuple[int, int] = (0, 0)


@dataclass(frozen=True, eq=False)
class QualityRequest:
    """The fewest colors (``k_min`` .. ``k_max``) meeting ``min_psnr`` or ``max_delta_e``."""

    pixels: np.ndarray
    min_psnr: float | None = None
    max_delta_e: float | None = None
    k_max: int = 256
    space: str = "srgb"
    random_state: int = 0
    locked: tuple[str, ...] = ()
    generation: tuple[int, int] = (0, 0)


@dataclass(frozen=True)
class QualityAnswer:
    """What :func:`quality_job` found: the number of colors and its quality."""

    request: QualityRequest
    n_colors: int
    psnr: float
    delta_e: float
    met: bool

    def text(self) -> str:
        """"12 colors reach ΔE 2.0" (or, when even the most colors miss, by how much)."""
        r = self.request
        if r.max_delta_e is not None:
            target, got = f"ΔE {r.max_delta_e:.1f}", f"ΔE {self.delta_e:.2f}"
        else:
            target = f"{r.min_psnr:.1f} dB"
            got = "exact" if math.isinf(self.psnr) else f"{self.psnr:.1f} dB"
        if self.met:
            return f"{self.n_colors} colors reach {target} ({got})"
        return f"Even {self.n_colors} colors miss {target} ({got})"


def elbow_job(request: ElbowRequest, progress: Callable[[float], bool]):
    """:func:`palette_app.elbow` of the request's pixels; returns the ElbowCurve."""
    progress(0.0)
    return palette_app.elbow(request.pixels, k_max=int(request.k_max), space=request.space,
                             random_state=int(request.random_state), callback=progress)


def quality_job(request: QualityRequest, progress: Callable[[float], bool]) -> QualityAnswer:
    """:func:`palette_app.colors_for_quality` of the request's pixels."""
    progress(0.0)
    locked = list(request.locked) or None
    result = palette_app.colors_for_quality(
        request.pixels, min_psnr=request.min_psnr, max_delta_e=request.max_delta_e,
        k_min=max(2, len(request.locked)), k_max=int(request.k_max), space=request.space,
        random_state=int(request.random_state), locked=locked, callback=progress)
    psnr, de = float(result.psnr), float(result.delta_e)
    met = True
    if request.min_psnr is not None:
        met &= psnr >= request.min_psnr
    if request.max_delta_e is not None:
        met &= de <= request.max_delta_e
    return QualityAnswer(request, int(result.n_colors), psnr, de, bool(met))


class ElbowPanel(QWidget):
    """The "How many colors?" panel.

    Parameters
    ----------
    runner : SerialRunner, optional
        Where the jobs run; pass the main window's ``core_runner`` so they take
        turns with previews. Default: a runner of the panel's own.
    k_max : int
        The largest number of colors on the chart (3–256; the user can change it).
    """

    #: The user chose a number of colors: a point of the chart, or a quality answer.
    colorsChosen = Signal(int)
    #: A curve was computed for the current image (the ElbowCurve).
    curveReady = Signal(object)
    #: The quality search answered (a QualityAnswer).
    qualityFound = Signal(object)
    #: A job failed; the message is shown in the panel.
    errorShown = Signal(str)

    def __init__(self, parent: QWidget | None = None, *, runner: SerialRunner | None = None,
                 k_max: int = 32):
        super().__init__(parent)
        self._own_runner = runner is None
        self.runner = runner if runner is not None else SerialRunner(self)
        self._pixels: np.ndarray | None = None
        self._source: np.ndarray | None = None   # the array given to set_image
        self._space = "srgb"
        self._random_state = 0
        self._locked: tuple[str, ...] = ()
        self._generation = 0          # one per image (set_image)
        self._latest = {ELBOW_KEY: 0, QUALITY_KEY: 0}   # one per request of each kind
        self._curve = None
        self._answer: QualityAnswer | None = None
        self._workers: set[Worker] = set()

        self.chart = ElbowChart()
        self.chart.kChosen.connect(self.colorsChosen)
        self.chart.set_message("Open an image to see how many colors it needs")

        self.status_label = QLabel("")
        self.status_label.setWordWrap(True)
        self.status_label.setToolTip("The suggested number of colors: where more colors stop "
                                     "paying off (the knee of the inertia curve)")

        self.kmax_spin = QSpinBox()
        self.kmax_spin.setRange(3, 256)
        self.kmax_spin.setValue(int(k_max))
        self.kmax_spin.setKeyboardTracking(False)
        self.kmax_spin.setToolTip("The largest number of colors on the chart")
        self.kmax_spin.valueChanged.connect(lambda _v: self._submit_elbow())
        kmax_label = QLabel("Up t&o:")
        kmax_label.setBuddy(self.kmax_spin)

        self.target_combo = QComboBox()
        for key, text in TARGETS.items():
            self.target_combo.addItem(text, key)
        self.target_combo.setToolTip("The quality to reach: a mean CIEDE2000 color difference at "
                                     "most (1 is barely visible, 2–3 is close), or a PSNR in dB at "
                                     "least (higher is closer)")
        self.target_combo.currentIndexChanged.connect(self._target_kind_changed)
        # Shrinks with a narrow dock instead of widening the window.
        self.target_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.target_combo.setMinimumContentsLength(8)
        target_label = QLabel("T&arget:")
        target_label.setBuddy(self.target_combo)
        self.target_spin = QDoubleSpinBox()
        self.target_spin.setDecimals(1)
        self.target_spin.setRange(0.1, 99.0)
        self.target_spin.setSingleStep(0.5)
        self.target_spin.setValue(DEFAULT_TARGET["delta_e"])
        self.target_spin.setToolTip("The target value: ΔE2000 at most, or PSNR at least "
                                    "(Enter finds)")
        self.find_button = QPushButton("F&ind")
        self.find_button.setToolTip("Find the fewest colors that reach the target, and use them")
        self.find_button.clicked.connect(self.find)
        self.target_spin.lineEdit().returnPressed.connect(self.find)   # Enter in the box finds too
        self.answer_label = QLabel("")
        self.answer_label.setWordWrap(True)
        self.answer_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.answer_label.setToolTip("The answer of the last search")

        top = QHBoxLayout()
        top.addWidget(self.status_label, 1)
        top.addWidget(kmax_label)
        top.addWidget(self.kmax_spin)
        target = QHBoxLayout()
        target.addWidget(target_label)
        target.addWidget(self.target_combo, 1)
        target.addWidget(self.target_spin)
        target.addWidget(self.find_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.chart, 1)
        layout.addLayout(target)
        layout.addWidget(self.answer_label)
        for a, b in ((self.kmax_spin, self.chart), (self.chart, self.target_combo),
                     (self.target_combo, self.target_spin), (self.target_spin, self.find_button)):
            QWidget.setTabOrder(a, b)
        self._update_enabled()

    # ------------------------------------------------------------------ state
    @property
    def curve(self):
        """The ElbowCurve of the current image (None until computed)."""
        return self._curve

    @property
    def suggested_k(self) -> int | None:
        return None if self._curve is None else int(self._curve.suggested_k)

    @property
    def answer(self) -> QualityAnswer | None:
        return self._answer

    @property
    def generation(self) -> int:
        return self._generation

    @property
    def pixels(self) -> np.ndarray | None:
        """The (possibly downscaled) image the panel works on."""
        return self._pixels

    def is_busy(self) -> bool:
        """A job of this panel is queued or running."""
        running = self.runner.running
        return any(not w.done and (w is running or not w.cancelled) for w in self._workers)

    # ------------------------------------------------------------------ inputs
    def set_image(self, pixels: np.ndarray | None, *, space: str = "srgb", random_state: int = 0) -> None:
        """Compute the curve of ``pixels`` ((H, W, 3|4) uint8) in ``space``; None clears.

        Supersedes a computation in flight. Images over :data:`ELBOW_MAX_PIXELS`
        are shrunk first. The same array with the same settings again is a no-op
        (so the main window may call this after every change).
        """
        if (pixels is not None and pixels is self._source and (space or "srgb") == self._space
                and int(random_state) == self._random_state):
            return
        self._source = pixels
        self._generation += 1
        self.runner.cancel(ELBOW_KEY)
        self.runner.cancel(QUALITY_KEY)
        self._curve = None
        self._answer = None
        self.answer_label.clear()
        self.chart.set_curve(None)
        self._space = space or "srgb"
        self._random_state = int(random_state)
        if pixels is None:
            self._pixels = None
            self.chart.set_message("Open an image to see how many colors it needs")
            self.status_label.clear()
            self._update_enabled()
            return
        px = np.asarray(pixels)
        if px.dtype != np.uint8 or px.ndim != 3 or px.shape[2] not in (3, 4):
            raise ValueError(f"expected (H, W, 3|4) uint8 pixels, got {px.dtype} {px.shape}")
        px = np.ascontiguousarray(downscale(px, ELBOW_MAX_PIXELS))
        px.setflags(write=False)
        self._pixels = px
        self._submit_elbow()

    def set_current(self, k: int | None) -> None:
        """Highlight ``k`` on the chart (the main window's number of colors); emits nothing."""
        self.chart.set_current(k)

    def set_locked(self, colors) -> None:
        """Colors the quality search keeps exactly (``"#rrggbb"`` strings)."""
        self._locked = tuple(str(c) for c in colors)

    def clear(self) -> None:
        self.set_image(None)

    # ------------------------------------------------------------------ jobs
    def _submit(self, fn, request, key: str, on_result, on_error) -> Worker:
        w = Worker(fn, request, key=key)
        w.signals.progress.connect(self._on_progress)
        w.signals.result.connect(on_result)
        w.signals.error.connect(on_error)
        w.signals.finished.connect(self._on_finished)
        running = self.runner.running
        # Superseded workers that never started will not finish: forget them.
        self._workers = {x for x in self._workers if x is running or not x.cancelled}
        self._workers.add(w)
        self.runner.submit(w)
        return w

    def _submit_elbow(self) -> None:
        if self._pixels is None:
            return
        self._curve = None
        self.chart.set_curve(None)
        self.chart.set_message("Computing…")
        self.status_label.setText("Computing…")
        req = ElbowRequest(self._pixels, k_max=int(self.kmax_spin.value()), space=self._space,
                           random_state=self._random_state, generation=self._next(ELBOW_KEY))
        self._submit(elbow_job, req, ELBOW_KEY, self._on_curve, self._on_error)
        self._update_enabled()

    def let_queued_first(self) -> bool:
        """Stop a running curve job and queue it again, behind the work queued on the runner.

        On a shared runner a preview submitted while the curve is computed
        would wait for the whole curve (about a second for a large image); the
        main window calls this after submitting one, so the preview goes first
        and the curve starts over after it. True if the job was re-queued.
        """
        running = self.runner.running
        if (running is None or running.key != ELBOW_KEY or running.cancelled
                or running not in self._workers or self._pixels is None
                or not any(w is not running and not w.cancelled for w in self.runner.pending())):
            return False
        self._submit_elbow()    # supersedes the running job (cancelled at its next k)
        return True

    def find(self) -> Worker | None:
        """Search the fewest colors reaching the target (in the background); None without an image."""
        if self._pixels is None:
            return None
        kind = self.target_combo.currentData()
        value = float(self.target_spin.value())
        req = QualityRequest(self._pixels, min_psnr=value if kind == "psnr" else None,
                             max_delta_e=value if kind == "delta_e" else None, space=self._space,
                             random_state=self._random_state, locked=self._locked,
                             generation=self._next(QUALITY_KEY))
        self.answer_label.setText("Searching…")
        w = self._submit(quality_job, req, QUALITY_KEY, self._on_answer, self._on_error)
        self._update_enabled()
        return w

    def _next(self, key: str) -> tuple[int, int]:
        self._latest[key] += 1
        return (self._generation, self._latest[key])

    def _current(self, worker_signals) -> bool:
        """The sender's request is the newest of its kind, for the current image."""
        req = getattr(worker_signals, "request", None)
        if req is None:
            return False
        key = ELBOW_KEY if isinstance(req, ElbowRequest) else QUALITY_KEY
        return req.generation == (self._generation, self._latest[key])

    def _on_progress(self, fraction: float) -> None:
        if not self._current(self.sender()):
            return
        if isinstance(self.sender().request, ElbowRequest):
            self.status_label.setText(f"Computing… {100 * fraction:.0f} %")
            self.chart.set_message(f"Computing… {100 * fraction:.0f} %")

    def _on_curve(self, curve) -> None:
        if not self._current(self.sender()):
            return   # a newer image or setting is on its way
        self._curve = curve
        self.chart.set_curve(curve)
        k = int(curve.suggested_k)
        self.status_label.setText(f"Suggested: <b>{k}</b> colors")
        self.curveReady.emit(curve)

    def _on_answer(self, answer: QualityAnswer) -> None:
        if not self._current(self.sender()):
            return
        self._answer = answer
        self.answer_label.setText(answer.text())
        self.qualityFound.emit(answer)
        self.chart.set_current(answer.n_colors)
        self.colorsChosen.emit(answer.n_colors)

    def _on_error(self, e: BaseException) -> None:
        if not self._current(self.sender()):
            return
        text = str(e).strip() or type(e).__name__
        message = f"Cannot compute this: {text}"
        if isinstance(self.sender().request, ElbowRequest):
            self.chart.set_message(message)
            self.status_label.setText("")
        else:
            self.answer_label.setText(message)
        self.errorShown.emit(message)

    def _on_finished(self) -> None:
        sender = self.sender()
        self._workers = {w for w in self._workers if w.signals is not sender}
        self._update_enabled()

    def _target_kind_changed(self) -> None:
        kind = self.target_combo.currentData()
        self.target_spin.setValue(DEFAULT_TARGET.get(kind, 2.0))
        self.target_spin.setSuffix(" dB" if kind == "psnr" else "")

    def _update_enabled(self) -> None:
        has = self._pixels is not None
        self.find_button.setEnabled(has)

    # ------------------------------------------------------------------ closing
    def shutdown(self, timeout: float = 10.0) -> bool:
        """Cancel this panel's jobs and wait for the running one; True if it stopped in time."""
        self._generation += 1
        if self._own_runner:
            return self.runner.close(timeout)
        self.runner.cancel(ELBOW_KEY)
        self.runner.cancel(QUALITY_KEY)
        running = self.runner.running
        if running is not None and running in self._workers:
            return running.wait(timeout)
        return True

    def closeEvent(self, event) -> None:
        self.shutdown()
        super().closeEvent(event)

