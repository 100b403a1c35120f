"""The work done for one image, wherever it runs (this process, a worker process, a Dask worker).

:func:`process_job` never raises for a problem with one file: it returns a
failed :class:`~palette_app.batch.result.JobResult`, so one bad file never
stops a batch. Outputs are written atomically by :mod:`palette_app.io`, so a
stopped or killed worker leaves no partial file.

Worker processes of the local executor start with :func:`init_worker`, which
sets one Numba/OpenMP thread per process (the processes are the parallelism),
ignores SIGINT (the parent decides when to stop) and warms the kernels once.
This module imports no Numba at import time, so that the thread counts can be
set before Numba loads (when nothing else loaded it first).
"""
from __future__ import annotations

import os
import signal
import sys
import tempfile
import time
from pathlib import Path

from palette_app.batch.plan import Job
from palette_app.batch.result import CANCELLED, FAILED, OK, SKIPPED, JobResult
from palette_app.batch.settings import BatchSettings

# Set by init_worker in worker processes: the pool-wide "stop" flag.
_process_cancel = None
_numba_loaded_before_env = None


def init_worker(cancel_event=None) -> None:
    """Initializer of the local executor's worker processes."""
    global _process_cancel, _numba_loaded_before_env
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
    :func:`palette_app.quantize`. ``callback(fraction)`` returning False cancels.
    """
    import palette_app

    kw = _options(settings)
    if palette is None and settings.palette is not None:
        palette = list(settings.palette)
    if palette is not None:
        return palette_app.remap(pixels, palette, callback=callback, **kw)
    locked = list(settings.locked) or None
    if settings.quality_target:
        result = palette_app.colors_for_quality(
            pixels, min_psnr=settings.min_psnr, max_delta_e=settings.max_delta_e,
            k_max=settings.n_colors, random_state=settings.random_state, effort=settings.effort,
            locked=locked, callback=callback, **({"space": settings.space} if settings.space else {}))
        if settings.dither != "none":
            result = palette_app.remap(pixels, result.palette, callback=callback, **kw)
        return result
    return palette_app.quantize(pixels, settings.n_colors, random_state=settings.random_state,
                                effort=settings.effort, locked=locked, callback=callback, **kw)


def measure(result) -> tuple[float | None, float | None]:
    """(PSNR dB, mean CIEDE2000) of ``result`` against its image, over the opaque pixels."""
    psnr, de = float(result.psnr), float(result.delta_e)
    return (None if psnr != psnr else psnr), (None if de != de else de)


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


def process_job(job: Job, settings: BatchSettings, palette_hex=None, *, cancel=None) -> JobResult:
    """Load, reduce, save and measure one image. Never raises for a problem with the file.

    cancel : anything with ``is_set()`` (a threading or multiprocessing Event);
        when set, the job stops at the next check and writes nothing. Inside a
        local worker process the pool's flag is used.
    palette_hex : a shared palette computed for the batch ('#rrggbb[aa]' strings):
        the image is remapped to it.
    """
    t0 = time.perf_counter()
    flag = cancel if cancel is not None else _process_cancel

    def stopped() -> bool:
        return flag is not None and flag.is_set()

    def done(status: str, **kw) -> JobResult:
        return JobResult(job.input, job.output, status, seconds=time.perf_counter() - t0, **kw)

    if stopped():
        return done(CANCELLED, reason="the batch was stopped before this file")
    from palette_app.core import Cancelled
    from palette_app.io import ImageLoadError, ImageSaveError, OutputExistsError, load_image

    before = _file_size(job.input)
    result = None
    notes: tuple[str, ...] = ()
    try:
        img = load_image(job.input)
        notes = tuple(img.notes)
        result = reduce_pixels(img.pixels, settings, palette=palette_hex,
                               callback=lambda p: not stopped())
        if stopped():
            return done(CANCELLED, reason="the batch was stopped while this file was processed",
                        bytes_before=before)
        n_bytes, save_notes = _write(result, job, settings, before)
        psnr, de = measure(result)
        return done(OK, colors=result.n_colors, psnr=psnr, delta_e=de, bytes_before=before,
                    bytes_after=n_bytes, notes=notes + tuple(save_notes))
    except ImageLoadError as e:
        return done(FAILED, reason=str(e), bytes_before=before)
    except Cancelled:
        return done(CANCELLED, reason="the batch was stopped while this file was processed",
                    bytes_before=before)
    except _Skip as e:
        psnr, de = measure(result)
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
    except Exception as e:  # a bug must not stop the batch either; say what it was
        return done(FAILED, reason=f"{job.input}: unexpected error ({type(e).__name__}: {e})",
                    bytes_before=before, notes=notes)


def histogram_job(job: Job, settings: BatchSettings, *, cancel=None):
    """First pass of a shared palette: the image's color histogram, or a failed JobResult."""
    t0 = time.perf_counter()
    flag = cancel if cancel is not None else _process_cancel
    if flag is not None and flag.is_set():
        return JobResult(job.input, job.output, CANCELLED,
                         reason="the batch was stopped before this file")
    from palette_app.core import color_histogram
    from palette_app.io import ImageLoadError, load_image

    try:
        img = load_image(job.input)
        return color_histogram(img.pixels)
    except ImageLoadError as e:
        return JobResult(job.input, job.output, FAILED, reason=str(e),
                         bytes_before=_file_size(job.input), seconds=time.perf_counter() - t0)
    except MemoryError:
        return JobResult(job.input, job.output, FAILED,
                         reason=f"{job.input}: not enough memory to process this image.",
                         seconds=time.perf_counter() - t0)
    except Exception as e:
        return JobResult(job.input, job.output, FAILED,
                         reason=f"{job.input}: unexpected error ({type(e).__name__}: {e})",
                         seconds=time.perf_counter() - t0)
