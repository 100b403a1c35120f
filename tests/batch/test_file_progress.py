"""Progress within each file (run_batch's ``on_file_progress``): real phases and fractions from
this process and from worker processes, throttling, cancellation in the middle of a file."""
from __future__ import annotations

import multiprocessing
import os
import threading

import pytest

from palette_app.batch import worker
from palette_app.batch.engine import run_batch
from palette_app.batch.plan import plan_jobs
from palette_app.batch.result import FILE_PHASES, BatchProgress, FileProgress
from palette_app.batch.settings import BatchSettings

IMAGES_PASS = ("loading", "quantizing", "remapping", "saving", "done")


def _run(jobs, settings, jobs_n, **kw):
    """run_batch, recording both kinds of events in one sequence, with the thread they came in."""
    seen: list = []
    results = run_batch(jobs, settings, jobs_n=jobs_n,
                        on_progress=lambda p: seen.append((p, threading.get_ident())),
                        on_file_progress=lambda p: seen.append((p, threading.get_ident())), **kw)
    return results, seen


def _by_file(seen, n: int) -> list[list[FileProgress]]:
    out: list[list[FileProgress]] = [[] for _ in range(n)]
    for p, _ in seen:
        if isinstance(p, FileProgress):
            out[p.index].append(p)
    return out


def _check_pass(events: list[FileProgress], phases: tuple[str, ...]) -> None:
    fractions = [e.fraction for e in events]
    assert fractions == sorted(fractions), fractions             # never back
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    assert all(0.0 <= f <= 1.0 for f in fractions)
    order = [phases.index(e.phase) for e in events]              # known phases, in order
    assert order == sorted(order), [e.phase for e in events]


@pytest.mark.parametrize("jobs_n", [1, 2])
def test_every_file_reports_its_phases_and_fractions(image_dir, tmp_path, jobs_n):
    jobs = plan_jobs([image_dir], outdir=tmp_path / "o")
    results, seen = _run(jobs, BatchSettings(n_colors=8, random_state=1), jobs_n)
    assert [r.status for r in results] == ["ok"] * 4
    # Everything arrives in the calling thread.
    assert {t for _, t in seen} == {threading.get_ident()}
    per_file = _by_file(seen, len(jobs))
    for i, events in enumerate(per_file):
        # The events name their file.
        assert {(e.input, e.output) for e in events} == {(jobs[i].input, jobs[i].output)}
        _check_pass(events, IMAGES_PASS)
        assert (events[0].phase, events[-1].phase) == ("loading", "done")
        assert {"loading", "quantizing", "saving", "done"} <= {e.phase for e in events}
        # All of a file's events come before its BatchProgress.
        last_event = max(k for k, (p, _) in enumerate(seen) if p in events)
        finished = next(k for k, (p, _) in enumerate(seen)
                        if isinstance(p, BatchProgress) and p.result.input == jobs[i].input)
        assert last_event < finished
    if jobs_n > 1:
        # Nothing left behind: no worker process, no thread reading their events.
        assert multiprocessing.active_children() == []
        assert not [t for t in threading.enumerate() if t.name == "palette-app-batch-events"]


@pytest.mark.parametrize("jobs_n", [1, 2])
def test_shared_palette_reports_both_passes(image_dir, tmp_path, jobs_n):
    """The first pass reads colors ('reading'), then each file is remapped to the shared
    palette; events of the first pass never leak into the second (one pool, two runs)."""
    jobs = plan_jobs([image_dir], outdir=tmp_path / "o")
    results, seen = _run(jobs, BatchSettings(n_colors=8, shared_palette=True), jobs_n)
    assert [r.status for r in results] == ["ok"] * 4
    for events in _by_file(seen, len(jobs)):
        reading = [e for e in events if e.phase == "reading"]
        images = [e for e in events if e.phase != "reading"]
        assert events == reading + images
        _check_pass(reading, ("reading",))
        _check_pass(images, IMAGES_PASS)
        assert "quantizing" not in {e.phase for e in images}       # remapped, not clustered


def test_cancel_in_the_middle_of_a_file(image_dir, tmp_path):
    """Cancelled while the core is clustering the first file: that file stops at the core's
    next check, is reported cancelled, and nothing is written."""
    stop = threading.Event()
    phases_after_stop = []

    def on_file_progress(p):
        if stop.is_set():
            phases_after_stop.append((p.index, p.phase))
        elif p.phase == "quantizing":
            stop.set()

    out = tmp_path / "o"
    results = run_batch(plan_jobs([image_dir], outdir=out), BatchSettings(n_colors=64), jobs_n=1,
                        on_file_progress=on_file_progress, cancel_event=stop)
    assert [r.status for r in results] == ["cancelled"] * 4
    assert "while this file was processed" in results[0].reason
    assert all("before this file" in r.reason for r in results[1:])
    assert phases_after_stop == []            # the core stopped: no remapping, no saving
    assert not out.exists() or list(out.iterdir()) == []


def test_cancel_from_a_file_event_with_worker_processes(image_dir, tmp_path):
    """Cancelled from the parent while files run in worker processes: the batch returns, only
    whole files are written, and neither the processes nor the thread reading their events
    is left behind."""
    stop = threading.Event()
    seen: list[FileProgress] = []

    def on_file_progress(p):
        seen.append(p)
        if p.phase == "quantizing":
            stop.set()

    out = tmp_path / "o"
    jobs = plan_jobs([image_dir], outdir=out)
    results = run_batch(jobs, BatchSettings(n_colors=64), jobs_n=2, cancel_event=stop,
                        on_file_progress=on_file_progress)
    assert {r.status for r in results} <= {"ok", "cancelled"} and stop.is_set()
    written = sorted(p.name for p in out.iterdir()) if out.exists() else []
    assert written == sorted(os.path.basename(r.output) for r in results if r.ok)
    # A file's events end with 'done' exactly when it was written.
    for r, events in zip(results, _by_file([(p, None) for p in seen], len(jobs))):
        assert bool(events and events[-1].phase == "done") == r.ok
    assert multiprocessing.active_children() == []
    assert not [t for t in threading.enumerate() if t.name == "palette-app-batch-events"]


def test_dask_sends_no_file_events_but_works(image_dir, tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(processes=False, n_workers=1, threads_per_worker=1,
                                  dashboard_address=None) as cluster:
        jobs = plan_jobs([image_dir], outdir=tmp_path / "o")
        results, seen = _run(jobs, BatchSettings(n_colors=8), None, executor="dask",
                             scheduler=cluster.scheduler_address)
    assert [r.status for r in results] == ["ok"] * 4
    assert [type(p) for p, _ in seen] == [BatchProgress] * 4


# --------------------------------------------------------------------------- FileReporter
class _Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_reporter_throttles_within_a_phase():
    clock = _Clock()
    sent = []
    report = worker.FileReporter(lambda phase, f: sent.append((phase, round(f, 3))), clock=clock)
    report("loading", 0.0)
    for k in range(1000):                      # a core calling back between mini-batches
        report("quantizing", k / 1000)
    assert sent == [("loading", 0.0), ("quantizing", 0.1)]
    clock.now += 2 * worker.MIN_INTERVAL
    report("quantizing", 0.5)                  # once the interval has passed
    report("remapping", 0.0)                   # a new phase always goes
    report("remapping", 1.0)
    report("done", 1.0)                        # ... and so does the end
    assert sent[2:] == [("quantizing", 0.45), ("remapping", 0.8), ("done", 1.0)]


def test_reporter_never_goes_back():
    sent = []
    report = worker.FileReporter(lambda phase, f: sent.append((phase, f)))
    report("remapping", 0.5)
    report("quantizing", 0.9)                  # an earlier phase: stays in 'remapping'
    report("saving", 0.0)
    assert [p for p, _ in sent] == ["remapping", "saving"]
    assert [f for _, f in sent] == sorted(f for _, f in sent)
    assert set(worker.SPANS) == set(FILE_PHASES)
    worker.FileReporter(None)("loading")       # no listener: nothing to do
