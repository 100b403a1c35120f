"""The batch engine: :func:`run_batch`, for the command line and the GUI alike."""
from __future__ import annotations

from collections.abc import Callable, Iterable

from palette_app.batch.executors import WorkerDied, default_jobs, make_runner
from palette_app.batch.plan import Job, check_outputs, resolve_existing
from palette_app.batch.result import (
    CANCELLED,
    FAILED,
    SKIPPED,
    BatchProgress,
    FileProgress,
    JobResult,
)
from palette_app.batch.settings import BatchSettings
from palette_app.batch.worker import histogram_job, process_job


def _failed(job: Job, value: BaseException) -> JobResult:
    if isinstance(value, WorkerDied):
        reason = f"{job.input}: {value}"
    else:
        reason = f"{job.input}: unexpected error ({type(value).__name__}: {value})"
    return JobResult(job.input, job.output, FAILED, reason=reason)


def run_batch(jobs: Iterable[Job], settings: BatchSettings, *, executor: str = "local",
              jobs_n: int | None = None, scheduler: str | None = None,
              on_progress: Callable[[BatchProgress], None] | None = None,
              cancel_event=None,
              on_file_progress: Callable[[FileProgress], None] | None = None) -> list[JobResult]:
    """Reduce every job's input to its output; one :class:`JobResult` per job, in order.

    Parameters
    ----------
    jobs : iterable of Job
        From :func:`~palette_app.batch.plan.plan_jobs`, or built by hand.
    settings : BatchSettings
    executor : 'local' or 'dask'
        'local': ``jobs_n`` worker processes on this machine (in this process when
        ``jobs_n`` is 1). 'dask': the cluster at ``scheduler``, or a local Dask
        cluster of ``jobs_n`` workers. Outputs are byte-identical either way.
    jobs_n : int, optional
        Parallel workers; default: the cores this process may use.
    on_progress : callable, optional
        Called in the calling thread with a :class:`BatchProgress` after each job.
    cancel_event : threading.Event or similar, optional
        Set it to stop: queued files are not started, running ones stop at their
        next check (the core checks between mini-batches); nothing partial is
        written. Their results say 'cancelled'.
    on_file_progress : callable, optional
        Called in the calling thread with a :class:`FileProgress` while files are
        worked on: the first event of a file says it started, then its phase and
        fraction (throttled: within a phase at most one event per
        :data:`~palette_app.batch.worker.MIN_INTERVAL` seconds per file). A file's
        events all come before its :class:`BatchProgress`. Sent by the local
        executor (in this process or from its worker processes); the Dask
        executor sends none, only ``on_progress``.

    Raises
    ------
    OutputCollisionError
        Two jobs would write one file, or an output is an input; nothing was written.
    """
    jobs = list(jobs)
    check_outputs(jobs)
    jobs, skip = resolve_existing(jobs, settings.on_exist)
    results: list[JobResult | None] = [None] * len(jobs)
    todo = [i for i in range(len(jobs)) if not skip[i]]
    done_count = 0

    def file_events(indices: list[int]):
        """``on_event(k, phase, fraction)`` of a runner whose k-th call is jobs[indices[k]]."""
        if on_file_progress is None:
            return None

        def on_event(k: int, phase: str, fraction: float) -> None:
            i = indices[k]
            on_file_progress(FileProgress(i, jobs[i].input, jobs[i].output, phase, fraction))
        return on_event

    def report(phase: str, total: int, result: JobResult | None) -> None:
        if on_progress is not None:
            on_progress(BatchProgress(phase, done_count, total, result))

    for i in range(len(jobs)):
        if skip[i]:
            results[i] = JobResult(jobs[i].input, jobs[i].output, SKIPPED,
                                   reason="the output exists")
            done_count += 1
            report("images", len(jobs), results[i])
    if todo:
        n = max(1, min(jobs_n or default_jobs(), len(todo)))
        runner = make_runner(executor, n, scheduler)
        try:
            palette_hex = None
            if settings.shared_palette:
                palette_hex, todo = _shared_palette(runner, jobs, todo, settings, results,
                                                    on_progress, cancel_event, file_events(todo))
            if todo and not (cancel_event is not None and cancel_event.is_set()):
                calls = [(jobs[i], settings, palette_hex) for i in todo]

                def on_done(k: int, value) -> None:
                    nonlocal done_count
                    i = todo[k]
                    results[i] = value if isinstance(value, JobResult) else _failed(jobs[i], value)
                    done_count += 1
                    report("images", len(jobs), results[i])

                runner.run(process_job, calls, on_done, cancel_event, file_events(todo))
        finally:
            runner.close()
    return [r if r is not None else
            JobResult(j.input, j.output, CANCELLED, reason="the batch was stopped before this file")
            for j, r in zip(jobs, results)]


def _shared_palette(runner, jobs, todo, settings, results, on_progress, cancel_event, on_event):
    """First pass: every image's histogram, merged; then one palette for all.

    Returns the palette as hex strings and the jobs still to do (those whose
    image could be read).
    """
    import palette_app
    from palette_app.batch.histograms import HistogramAccumulator

    acc = HistogramAccumulator()
    readable: list[int] = []
    count = 0

    def on_done(k: int, value) -> None:
        nonlocal count
        i = todo[k]
        count += 1
        if isinstance(value, JobResult):
            results[i] = value
        elif isinstance(value, BaseException):
            results[i] = _failed(jobs[i], value)
        else:
            acc.add(value)
            readable.append(i)
        if on_progress is not None:
            on_progress(BatchProgress("histograms", count, len(todo), results[i]))

    runner.run(histogram_job, [(jobs[i], settings) for i in todo], on_done, cancel_event, on_event)
    if not readable or (cancel_event is not None and cancel_event.is_set()):
        return None, []
    hist = acc.result()
    n = settings.n_colors - (1 if acc.n_transparent else 0)  # room for the transparent entry
    kw = {} if settings.space is None else {"space": settings.space}
    if settings.locked:
        kw["locked"] = list(settings.locked)
    if settings.effort != "default":
        kw["effort"] = settings.effort
    palette = palette_app.shared_palette([hist], max(n, 2), random_state=settings.random_state, **kw)
    return tuple(palette.hex), sorted(readable)


