"""The batch window's background work: plan the jobs, then :func:`~palette_app.batch.run_batch`.

:class:`BatchWorker` is a ``QRunnable`` whose signals live on a separate
``QObject`` (:class:`BatchSignals`), like :class:`palette_app.gui.worker.Worker`.
It is its own type because a batch differs from a preview in two ways: it
reports every finished file (``progress`` carries a
:class:`~palette_app.batch.BatchProgress`) and how far each running file is
(``file_progress`` carries a :class:`~palette_app.batch.FileProgress`), and a
cancelled batch still delivers its ``result``, in which the files that were
not processed say ``cancelled``.

The engine is reused as it is: :func:`plan_batch` makes the jobs with
:func:`~palette_app.batch.plan_jobs` and checks them with
:func:`~palette_app.batch.check_outputs` (so collisions are reported before
anything runs), :func:`~palette_app.batch.run_batch` does the rest. Its
``on_progress`` and ``on_file_progress`` are called in the worker thread (the
engine throttles the latter: within a phase at most about 20 events a second
per running file); emitting a signal from there delivers it to the window's
GUI thread as a queued call, in order. Cancelling sets the ``threading.Event``
given to ``run_batch`` as ``cancel_event``: running files stop within one of
the core's mini-batches.

Numba and threads: with ``jobs_n`` > 1 the files are reduced in worker
processes, which share nothing with the window. With ``jobs_n == 1`` they are
reduced in this worker's thread; every parallel kernel of the core holds
``palette_app.core._config.PARALLEL_LOCK``, so they never run at the same time
as the window's previews (they take turns).
"""
from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, replace

from PySide6.QtCore import QObject, QRunnable, Signal

__all__ = ["BatchRequest", "BatchSignals", "BatchWorker", "plan_batch", "read_palette_colors"]


@dataclass(frozen=True, eq=False)
class BatchRequest:
    """Everything a batch needs; immutable, so the worker never sees it change.

    inputs : files and folders (folders are searched recursively).
    settings : the batch's :class:`~palette_app.batch.BatchSettings`.
    outdir : the output folder, or None for "beside each input".
    suffix : appended to each output's name (``photo-q16.png``).
    palette_file : a palette file whose colors every image is remapped to
        (read in the worker; replaces ``settings.palette``).
    jobs_n : parallel workers (1: in the worker's own thread).
    pattern : only files matching this pattern (``"*.jpg"``) in folders.
    """

    inputs: tuple[str, ...]
    settings: object            # palette_app.batch.BatchSettings
    outdir: str | None = None
    suffix: str = ""
    palette_file: str | None = None
    jobs_n: int = 1
    executor: str = "local"
    pattern: str | None = None


class PlanProblem(ValueError):
    """The batch cannot start (a palette file or an output folder that cannot be used)."""


def read_palette_colors(path: str) -> tuple[str, ...]:
    """The colors of a palette file as ``#rrggbb[aa]`` strings; :class:`PlanProblem` if unusable."""
    from palette_app.batch import PlanError
    from palette_app.batch import read_palette_colors as read

    try:
        return read(path)
    except PlanError as e:
        raise PlanProblem(str(e)) from None


def plan_batch(request: BatchRequest) -> tuple[list, object]:
    """The jobs and the final settings of ``request``, checked before anything is written.

    Raises :class:`~palette_app.batch.PlanError` (nothing found),
    :class:`~palette_app.batch.OutputCollisionError` (two inputs for one output,
    or an output that would replace an input), :class:`PlanProblem` (palette
    file, output folder) or ``ValueError`` (settings).
    """
    from palette_app.batch.plan import check_outputs, plan_jobs

    settings = request.settings
    if request.palette_file:
        settings = replace(settings, palette=read_palette_colors(request.palette_file))
    if request.outdir and os.path.exists(request.outdir) and not os.path.isdir(request.outdir):
        raise PlanProblem(f"{request.outdir}: the output folder is a file")
    jobs = plan_jobs(list(request.inputs), extension=settings.extension,
                     outdir=request.outdir or None, suffix=request.suffix, pattern=request.pattern)
    check_outputs(jobs)
    return jobs, settings


class BatchSignals(QObject):
    """The signals of a :class:`BatchWorker`.

    started : the worker began.
    planned(list[Job], BatchSettings) : the jobs, before any file is processed.
    progress(BatchProgress) : after every finished file (and every histogram of
        a shared palette).
    file_progress(FileProgress) : a file started, or got further (its phase and
        fraction); all of a file's come before its ``progress``.
    result(list[JobResult]) : one per job, in order, also after a cancel.
    error(Exception) : the batch could not be planned or started.
    finished : always last.
    """

    started = Signal()
    planned = Signal(object, object)
    progress = Signal(object)
    file_progress = Signal(object)
    result = Signal(object)
    error = Signal(object)
    finished = Signal()


class BatchWorker(QRunnable):
    """Plans and runs one batch on a pool thread. :meth:`cancel` stops it cooperatively."""

    def __init__(self, request: BatchRequest):
        super().__init__()
        # The pool deletes the C++ side after run(); the window keeps the Python side.
        self.setAutoDelete(True)
        self.request = request
        self.signals = BatchSignals()
        self.cancel_event = threading.Event()
        self._done = threading.Event()
        self.seconds = 0.0

    # -- control (any thread) ------------------------------------------------
    def cancel(self) -> None:
        self.cancel_event.set()

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until :meth:`run` has returned (or ``timeout`` seconds); True if it has."""
        return self._done.wait(timeout)

    # -- pool thread -----------------------------------------------------------
    def run(self) -> None:
        from palette_app.batch.engine import run_batch

        t0 = time.perf_counter()
        try:
            self.signals.started.emit()
            # Planning errors (nothing found, collisions, palette file) and an executor
            # that cannot start are reported, never raised into Qt.
            jobs, settings = plan_batch(self.request)
            self.signals.planned.emit(jobs, settings)
            results = run_batch(jobs, settings, executor=self.request.executor,
                                jobs_n=self.request.jobs_n, on_progress=self.signals.progress.emit,
                                on_file_progress=self.signals.file_progress.emit,
                                cancel_event=self.cancel_event)
            self.seconds = time.perf_counter() - t0
            self.signals.result.emit(results)
        except Exception as e:  # noqa: BLE001
            self.signals.error.emit(e)
        finally:
            self._done.set()
            self.signals.finished.emit()

