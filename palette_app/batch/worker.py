"""The work done for one image, wherever it runs (this process, a worker process, a Dask worker).

:func:`process_job` never raises for a problem with one file: it returns a
failed :class:`~palette_app.batch.result.JobResult`, so one bad file never
stops a batch. Outputs are written atomically by :mod:`palette_app.io`, so a
stopped or killed worker leaves no partial file.

Both jobs report how far they are (:func:`reporting`, :class:`FileReporter`):
a phase of :data:`~palette_app.batch.result.FILE_PHASES` and the file's
fraction 0..1, throttled, and their core callbacks return False once the
batch is cancelled, so a running file stops within one mini-batch.

Worker processes of the local executor start with :func:`init_worker`, which
sets one Numba/OpenMP thread per process (the processes are the parallelism),
ignores SIGINT (the parent decides when to stop) and warms the kernels once.
This module imports no Numba at import time, so that the thread counts can be
set before Numba loads (when nothing else loaded it first).
"""
from __future__ import annotations

import math
import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from palette_app.batch.plan import Job
from palette_app.batch.result import (
    CANCELLED,
    FAILED,
    FILE_PHASES,
    OK,
    SKIPPED,
    JobResult,
)
from palette_app.batch.settings import BatchSettings

# Set by init_worker in worker processes: the pool-wide "stop" flag, and the
# (connection, lock) that carries progress events to the parent.
_process_cancel = None
_process_events = None
_numba_loaded_before_env = None


def init_worker(cancel_event=None, events=None) -> None:
    """Initializer of the local executor's worker processes.

    cancel_event : the pool's "stop" flag (a multiprocessing Event).
    events : (Connection, Lock): where :func:`call_reporting` sends progress.
    """
    global _process_cancel, _process_events, _numba_loaded_before_env
    _numba_loaded_before_env = "numba" in sys.modules
    os.environ["OMP_NUM_THREADS"] = "1"
    if not _numba_loaded_before_env:
        os.environ["NUMBA_NUM_THREADS"] = "1"
    # Else Numba has read its thread count already, and changing the variable now
    # would make its next compilation fail ("Cannot set NUMBA_NUM_THREADS to a
    # different value once the threads have been launched"): limit the threads
    # this (main, task-running) thread uses instead.
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread (cannot happen in a pool worker)
        pass
    _process_cancel = cancel_event
    _process_events = events
    import numba

    numba.set_num_threads(1)
    import palette_app

    palette_app.warmup()


def single_threaded(fn, *args, **kwargs):
    """Call ``fn`` with Numba kernels limited to one thread (the setting is per thread)."""
    import numba

    numba.set_num_threads(1)
    return fn(*args, **kwargs)


def warm_up() -> float:
    """Compile or load every kernel once (Dask workers: through ``Client.run``)."""
    import palette_app

    return palette_app.warmup()


def worker_info() -> dict:
    """Threading facts of the current process (for tests and diagnostics)."""
    import numba

    return {
        "pid": os.getpid(),
        "NUMBA_NUM_THREADS": os.environ.get("NUMBA_NUM_THREADS"),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
        "numba_threads": numba.get_num_threads(),
        "numba_loaded_before_env": _numba_loaded_before_env,
    }


# ---------------------------------------------------------------------------
# Progress within a file
# ---------------------------------------------------------------------------

#: Within one phase a file reports at most once per MIN_INTERVAL seconds, so a
#: batch of many files cannot flood its window; phase changes and the final
#: 1.0 always go (a few per file).
MIN_INTERVAL = 0.05

#: Where each phase lies on a file's 0..1 scale: rough shares of a photo's time.
#: Only 'quantizing' and 'remapping' move inside their span (the core's callback).
SPANS = {"reading": (0.0, 1.0), "loading": (0.0, 0.1), "quantizing": (0.1, 0.8),
         "remapping": (0.8, 0.9), "saving": (0.9, 1.0), "done": (1.0, 1.0)}
#: The same when an image is only mapped to a given palette (nothing to cluster).
REMAP_SPANS = {**SPANS, "remapping": (0.1, 0.9)}
#: palette_app.quantize reports this fraction when its palette is fitted and it
#: starts mapping the pixels (core/quantize.py, ``_quantize``); above it the file
#: is 'remapping'. Display only: if the core moved it, only the phase named for
#: the last few percent would change.
CORE_FIT_DONE = 0.93

Send = Callable[[str, float], None]
#: The reporter of the call running in this thread (or task), set by the runners.
_send: ContextVar[Send | None] = ContextVar("palette_app_batch_send", default=None)


@contextmanager
def reporting(send: Send | None):
    """Within this block :func:`process_job` and :func:`histogram_job` report
    through ``send(phase, fraction)`` (unless given their own ``progress``).

    A context variable rather than an argument, so that the runners can call any
    job function (and a test's stand-in for one) the same way.
    """
    token = _send.set(send)
    try:
        yield
    finally:
        _send.reset(token)


def call_reporting(fn, token, *args):
    """``fn(*args)`` in a local worker process, its progress sent to the parent as
    ``(token, phase, fraction)`` (see :class:`~palette_app.batch.executors.LocalProcessRunner`)."""
    if _process_events is None:
        return fn(*args)
    conn, lock = _process_events

    def send(phase: str, fraction: float) -> None:
        # Progress is advisory: never wait long for the pipe, never fail a file over it
        # (a worker killed while holding the lock, or the parent already gone).
        if not lock.acquire(timeout=1.0):
            return
        try:
            conn.send((token, phase, fraction))
        except (OSError, ValueError):
            pass
        finally:
            lock.release()

    with reporting(send):
        return fn(*args)


class FileReporter:
    """One file's progress: ``report(phase, fraction_of_phase)`` becomes
    ``send(phase, fraction_of_file)`` on the phase's span of ``spans``.

    The file's fraction never decreases and its phase never goes back (in the order
    of :data:`FILE_PHASES`); within a phase at most one event per
    :data:`MIN_INTERVAL` seconds is sent (by ``clock``). Without ``send`` it does nothing.
    """

    def __init__(self, send: Send | None, spans: dict | None = None, *,
                 clock: Callable[[], float] = time.monotonic):
        self._send = send
        self._spans = SPANS if spans is None else spans
        self._clock = clock
        self._rank = -1
        self._fraction = 0.0
        self._last = 0.0

    def __call__(self, phase: str, fraction: float = 0.0) -> None:
        if self._send is None:
            return
        rank = FILE_PHASES.index(phase)
        if rank < self._rank:
            phase, rank = FILE_PHASES[self._rank], self._rank
        a, b = self._spans[phase]
        f = max(self._fraction, a + (b - a) * min(max(float(fraction), 0.0), 1.0))
        now = self._clock()
        if rank == self._rank and f < 1.0 and now - self._last < MIN_INTERVAL:
            return
        self._rank, self._fraction, self._last = rank, f, now
        self._send(phase, f)


# ---------------------------------------------------------------------------
# Reducing one image
# ---------------------------------------------------------------------------

def _options(settings: BatchSettings) -> dict:
    """Keyword arguments the user set (the core's defaults apply to the others)."""
    kw: dict = {}
    if settings.space is not None:
        kw["space"] = settings.space
    if settings.dither != "none":
        kw.update(dither=settings.dither, dither_strength=settings.dither_strength,
                  dither_smooth_only=settings.dither_smooth_only)
    return kw


def reduce_pixels(pixels, settings: BatchSettings, *, palette=None, callback=None):
    """Reduce an (H, W, 3|4) uint8 image as ``settings`` say; returns a QuantizeResult.

    A fixed palette (``palette``, or the settings' own): remap to it; a quality
    target: the fewest colors meeting it (then dithered if asked); otherwise
    :func:`palette_app.quantize`. ``settings.smoothing`` goes to the last two
    (remapping never smooths labels).

    callback : callable(phase, fraction) -> bool or None, optional
        Called by the core between mini-batches with phase 'quantizing' (finding
        the palette) or 'remapping' (mapping the pixels to it) and the fraction
        0..1 of that phase; returning False cancels (the core raises
        :class:`~palette_app.Cancelled`).
    """
    import palette_app

    def in_phase(phase: str):
        return None if callback is None else (lambda p: callback(phase, p))

    def fit_then_map(p: float):
        if p < CORE_FIT_DONE:
            return callback("quantizing", p / CORE_FIT_DONE)
        return callback("remapping", (p - CORE_FIT_DONE) / (1.0 - CORE_FIT_DONE))

    kw = _options(settings)
    if palette is None and settings.palette is not None:
        palette = list(settings.palette)
    if palette is not None:
        return palette_app.remap(pixels, palette, callback=in_phase("remapping"), **kw)
    locked = list(settings.locked) or None
    if settings.quality_target:
        result = palette_app.colors_for_quality(
            pixels, min_psnr=settings.min_psnr, max_delta_e=settings.max_delta_e,
            k_max=settings.n_colors, random_state=settings.random_state, effort=settings.effort,
            locked=locked, smoothing=settings.smoothing, callback=in_phase("quantizing"),
            **({"space": settings.space} if settings.space else {}))
        if settings.dither != "none":
            result = palette_app.remap(pixels, result.palette, callback=in_phase("remapping"), **kw)
        return result
    return palette_app.quantize(pixels, settings.n_colors, random_state=settings.random_state,
                                effort=settings.effort, locked=locked, smoothing=settings.smoothing,
                                callback=None if callback is None else fit_then_map, **kw)


def measure(result) -> tuple[float | None, float | None]:
    """(PSNR dB, mean CIEDE2000) of ``result`` against its image, over the opaque pixels."""
    psnr, de = float(result.psnr), float(result.delta_e)
    return (None if math.isnan(psnr) else psnr), (None if math.isnan(de) else de)


def encode(result, fmt: str) -> tuple[bytes, tuple[str, ...]]:
    """The bytes of ``result`` saved as ``fmt`` (for stdout and size checks), and save notes."""
    from palette_app.batch.settings import OUTPUT_FORMATS
    from palette_app.io import save_image

    with tempfile.TemporaryDirectory(prefix="palette-app-") as tmp:
        path = Path(tmp, "image" + OUTPUT_FORMATS[fmt])
        saved = save_image(result, path, fmt)
        return path.read_bytes(), saved.notes


def _file_size(path: str) -> int | None:
    try:
        return os.stat(path).st_size
    except OSError:
        return None


class _Skip(Exception):
    """The output is not written, on purpose."""


def _write(result, job: Job, settings: BatchSettings, bytes_before: int | None):
    """Save ``result`` to ``job.output``; returns (bytes written, notes)."""
    from palette_app.io import atomic_write, save_image

    overwrite = settings.on_exist == "overwrite"
    folder = os.path.dirname(job.output)
    if folder:
        os.makedirs(folder, exist_ok=True)
    if not settings.skip_if_larger or bytes_before is None:
        saved = save_image(result, job.output, settings.format, overwrite=overwrite)
        return saved.n_bytes, saved.notes
    data, notes = encode(result, settings.format)
    if len(data) > bytes_before:
        raise _Skip(f"the result ({len(data):,} bytes) would be larger than the input "
                    f"({bytes_before:,} bytes)")
    with atomic_write(job.output, overwrite=overwrite) as f:
        f.write(data)
    return len(data), notes


def process_job(job: Job, settings: BatchSettings, palette_hex=None, *, cancel=None,
                progress: Send | None = None) -> JobResult:
    """Load, reduce, save and measure one image. Never raises for a problem with the file.

    cancel : anything with ``is_set()`` (a threading or multiprocessing Event);
        when set, the job stops at the next check (between the core's
        mini-batches too) and writes nothing. Inside a local worker process the
        pool's flag is used.
    palette_hex : a shared palette computed for the batch ('#rrggbb[aa]' strings):
        the image is remapped to it.
    progress : callable(phase, fraction), optional
        Told how far the file is, through a :class:`FileReporter`: 'loading',
        'quantizing', 'remapping', 'saving', then 'done' at 1.0 once written.
        Default: the reporter a runner set (:func:`reporting`), if any.
    """
    t0 = time.perf_counter()
    flag = cancel if cancel is not None else _process_cancel
    fixed = palette_hex is not None or settings.palette is not None
    report = FileReporter(progress if progress is not None else _send.get(),
                          REMAP_SPANS if fixed else SPANS)

    def stopped() -> bool:
        return flag is not None and flag.is_set()

    def step(phase: str, p: float) -> bool:
        # The core's callback: report, then answer whether to go on.
        report(phase, p)
        return not stopped()

    def done(status: str, **kw) -> JobResult:
        return JobResult(job.input, job.output, status, seconds=time.perf_counter() - t0, **kw)

    if stopped():
        return done(CANCELLED, reason="the batch was stopped before this file")
    from palette_app.core import Cancelled
    from palette_app.io import (
        ImageLoadError,
        ImageSaveError,
        OutputExistsError,
        load_image,
    )

    before = _file_size(job.input)
    result = None
    notes: tuple[str, ...] = ()
    try:
        report("loading", 0.0)
        img = load_image(job.input)
        notes = tuple(img.notes)
        result = reduce_pixels(img.pixels, settings, palette=palette_hex, callback=step)
        if stopped():
            return done(CANCELLED, reason="the batch was stopped while this file was processed",
                        bytes_before=before)
        report("saving", 0.0)
        n_bytes, save_notes = _write(result, job, settings, before)
        psnr, de = measure(result)
        report("done", 1.0)
        return done(OK, colors=result.n_colors, psnr=psnr, delta_e=de, bytes_before=before,
                    bytes_after=n_bytes, notes=notes + tuple(save_notes))
    except ImageLoadError as e:
        return done(FAILED, reason=str(e), bytes_before=before)
    except Cancelled:
        return done(CANCELLED, reason="the batch was stopped while this file was processed",
                    bytes_before=before)
    except _Skip as e:
        psnr, de = measure(result)
        report("done", 1.0)
        return done(SKIPPED, reason=str(e), colors=result.n_colors, psnr=psnr, delta_e=de,
                    bytes_before=before, notes=notes)
    except (ImageSaveError, OutputExistsError) as e:
        exists = isinstance(e, OutputExistsError) or getattr(e, "kind", "") == "exists"
        if exists and settings.on_exist == "skip":
            return done(SKIPPED, reason="the output exists", bytes_before=before, notes=notes)
        return done(FAILED, reason=str(e), bytes_before=before, notes=notes)
    except OSError as e:
        return done(FAILED, reason=f"Cannot save {job.output}: {e.strerror or e}.",
                    bytes_before=before, notes=notes)
    except MemoryError:
        return done(FAILED, reason=f"{job.input}: not enough memory to process this image.",
                    bytes_before=before, notes=notes)
    except ValueError as e:  # the core refused this image with these settings
        return done(FAILED, reason=f"{job.input}: {e}", bytes_before=before, notes=notes)
    except Exception as e:  # noqa: BLE001  a bug must not stop the batch either; say what it was
        return done(FAILED, reason=f"{job.input}: unexpected error ({type(e).__name__}: {e})",
                    bytes_before=before, notes=notes)


def histogram_job(job: Job, settings: BatchSettings, *, cancel=None, progress: Send | None = None):
    """First pass of a shared palette: the image's color histogram, or a failed JobResult.

    progress : as for :func:`process_job`, with phase 'reading' (0.0, 0.5 once
        loaded, 1.0 with the histogram).
    """
    t0 = time.perf_counter()
    flag = cancel if cancel is not None else _process_cancel
    report = FileReporter(progress if progress is not None else _send.get())
    if flag is not None and flag.is_set():
        return JobResult(job.input, job.output, CANCELLED,
                         reason="the batch was stopped before this file")
    from palette_app.core import color_histogram
    from palette_app.io import ImageLoadError, load_image

    try:
        report("reading", 0.0)
        img = load_image(job.input)
        report("reading", 0.5)
        hist = color_histogram(img.pixels)
        report("reading", 1.0)
        return hist
    except ImageLoadError as e:
        return JobResult(job.input, job.output, FAILED, reason=str(e),
                         bytes_before=_file_size(job.input), seconds=time.perf_counter() - t0)
    except MemoryError:
        return JobResult(job.input, job.output, FAILED,
                         reason=f"{job.input}: not enough memory to process this image.",
                         seconds=time.perf_counter() - t0)
    except Exception as e:  # noqa: BLE001  as in process_job
        return JobResult(job.input, job.output, FAILED,
                         reason=f"{job.input}: unexpected error ({type(e).__name__}: {e})",
                         seconds=time.perf_counter() - t0)
