"""Where jobs run: this process, a pool of local processes, or a Dask cluster.

Every runner has one method, ``run(fn, calls, on_done, cancel_event, on_event)``:
it calls ``fn(*calls[i])`` for every i, in any order and in parallel where it
can, and reports each outcome to ``on_done(i, value)`` *in the calling thread*,
where ``value`` is what ``fn`` returned or the exception that stopped it
(:class:`WorkerDied` when the process running it died). When ``cancel_event``
is set it stops handing out work, tells running work to stop, and returns;
calls it never reported were not run.

With ``on_event``, what a call reports through
:func:`~palette_app.batch.worker.reporting` reaches ``on_event(i, phase,
fraction)``, also in the calling thread, and every event of call i comes before
its ``on_done``. In this process the call reports directly; from worker
processes the events travel through a pipe (see :class:`LocalProcessRunner`);
the Dask runner sends none.
"""
from __future__ import annotations

import functools
import logging
import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from palette_app.batch.worker import (
    call_reporting,
    init_worker,
    reporting,
    single_threaded,
    warm_up,
)

OnDone = Callable[[int, Any], None]
OnEvent = Callable[[int, str, float], None]
#: How often the runners look at the cancel event, in seconds.
POLL = 0.1
#: ... and for progress events from worker processes, when someone listens.
EVENT_POLL = 0.05


class WorkerDied(RuntimeError):
    """The worker process running a job died (killed, out of memory, crashed)."""


def default_jobs() -> int:
    """The number of cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _set(event) -> bool:
    return event is not None and event.is_set()


class InProcessRunner:
    """Runs the calls one after the other in this process (``--jobs 1``)."""

    def run(self, fn, calls: Sequence[tuple], on_done: OnDone, cancel_event=None,
            on_event: OnEvent | None = None) -> None:
        for i, args in enumerate(calls):
            if _set(cancel_event):
                return
            try:
                with reporting(None if on_event is None else functools.partial(on_event, i)):
                    value = fn(*args, cancel=cancel_event)
            except Exception as e:  # noqa: BLE001  fn reports file problems itself; this is a bug
                value = e
            on_done(i, value)

    def close(self) -> None:
        pass


class _EventPipe:
    """Progress events from a pool's worker processes to the parent.

    One pipe per pool: workers send ``(token, phase, fraction)`` under a shared
    lock (:func:`~palette_app.batch.worker.call_reporting`); a thread here moves
    whatever arrives into a list as it comes, so a worker never blocks on a full
    pipe, and :meth:`take` hands the list to the runner's thread. :meth:`take`
    first reads the pipe itself, under the same lock as that thread: once a
    call's result is in, every event it sent before returning is in the list.
    """

    def __init__(self, ctx):
        self.reader, self.writer = ctx.Pipe(duplex=False)
        self.lock = ctx.Lock()                 # between the writers (worker processes)
        self._moving = threading.Lock()        # between the reader thread and take()
        self._events: list = []
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._drain, name="palette-app-batch-events",
                                        daemon=True)
        self._thread.start()

    def _move(self) -> None:
        # Each message is far below PIPE_BUF, so it is written whole or not at all (even by a
        # worker that dies): recv() never waits for the rest of one.
        while self.reader.poll():
            self._events.append(self.reader.recv())

    def _drain(self) -> None:
        while not self._closed.is_set():
            try:
                if self.reader.poll(POLL):
                    with self._moving:
                        self._move()
            except (OSError, EOFError):  # closed
                return

    def take(self) -> list:
        """Every event received so far, oldest first."""
        with self._moving:
            try:
                self._move()
            except (OSError, EOFError):
                pass
            events, self._events = self._events, []
        return events

    def close(self) -> None:
        """Stop the reader thread and close the pipe (after the pool's shutdown: a worker
        still running then gets a broken pipe, which it ignores)."""
        self._closed.set()
        self._thread.join()
        self.reader.close()
        self.writer.close()


class LocalProcessRunner:
    """A pool of ``n`` worker processes (started with 'spawn', safe with Numba/OpenMP threads).

    Each worker runs :func:`~palette_app.batch.worker.init_worker` once: one
    Numba thread, SIGINT ignored, kernels warmed. At most ``2 n`` calls are
    handed to the pool at a time, so a stop takes effect at once and a worker
    that dies takes few calls down with it. Those calls are then run again one
    at a time in a new pool: the one that kills its worker on its own is
    reported as :class:`WorkerDied`, the others complete normally.

    Progress: each pool has an :class:`_EventPipe`, given to the workers by their
    initializer. With ``on_event`` the calls run through
    :func:`~palette_app.batch.worker.call_reporting`, which tags their events
    with (run, call); this thread delivers them between its waits (every
    :data:`EVENT_POLL` seconds) and before each result. The pipe and its thread
    end with the pool: no extra process, nothing left running.
    """

    def __init__(self, n: int):
        self.n = int(n)
        self._ctx = multiprocessing.get_context("spawn")
        self._stop = self._ctx.Event()
        self._pool: ProcessPoolExecutor | None = None
        self._events: _EventPipe | None = None
        self._runs = 0

    def _get_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._events = _EventPipe(self._ctx)
            try:
                self._pool = ProcessPoolExecutor(
                    max_workers=self.n, mp_context=self._ctx, initializer=init_worker,
                    initargs=(self._stop, (self._events.writer, self._events.lock)))
            except BaseException:
                self._events.close()
                self._events = None
                raise
        return self._pool

    def run(self, fn, calls: Sequence[tuple], on_done: OnDone, cancel_event=None,
            on_event: OnEvent | None = None) -> None:
        queue = deque(range(len(calls)))
        suspects: deque[int] = deque()   # in flight when a worker died: run alone next
        inflight: dict = {}              # future -> (index, ran alone)
        limit = 2 * self.n
        self._runs += 1
        run_id = self._runs              # events of an earlier run (a late, cancelled call) are dropped
        poll = POLL if on_event is None else EVENT_POLL

        def start(i: int):
            if on_event is None:
                return self._get_pool().submit(fn, *calls[i])
            return self._get_pool().submit(call_reporting, fn, (run_id, i), *calls[i])

        def submit(i: int, alone: bool) -> None:
            try:
                inflight[start(i)] = (i, alone)
            except BrokenProcessPool:
                self._shutdown(wait=False)
                inflight[start(i)] = (i, alone)

        def deliver() -> None:
            if on_event is None or self._events is None:
                return
            for (run, i), phase, fraction in self._events.take():
                if run == run_id:
                    on_event(i, phase, fraction)

        try:
            while queue or suspects or inflight:
                if _set(cancel_event) and not self._stop.is_set():
                    # Nothing new starts; running calls see the flag and stop.
                    self._stop.set()
                    queue.clear()
                    suspects.clear()
                if suspects:
                    if not inflight:
                        submit(suspects.popleft(), True)
                else:
                    while queue and len(inflight) < limit:
                        submit(queue.popleft(), False)
                if not inflight:
                    continue
                done, _ = wait(list(inflight), timeout=poll, return_when=FIRST_COMPLETED)
                deliver()
                broken = False
                for f in done:
                    i, alone = inflight.pop(f)
                    if f.cancelled():
                        continue
                    exc = f.exception()
                    if isinstance(exc, BrokenProcessPool):
                        broken = True
                        if alone:
                            on_done(i, WorkerDied("the worker process died while processing "
                                                  "this file (out of memory?)"))
                        else:
                            suspects.append(i)
                    else:
                        on_done(i, f.result() if exc is None else exc)
                if broken:
                    # Every other call in that pool is lost with it (or finished just before).
                    for f, (i, _alone) in list(inflight.items()):
                        if f.done() and not f.cancelled() and f.exception() is None:
                            on_done(i, f.result())
                        else:
                            suspects.append(i)
                    inflight.clear()
                    self._shutdown(wait=False)
                    if self._stop.is_set():
                        suspects.clear()
        except BaseException:
            # Interrupted for good (a second Ctrl-C): stop the workers, do not wait.
            self._stop.set()
            self._shutdown(wait=False)
            raise

    def _shutdown(self, wait: bool) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=wait, cancel_futures=True)
            self._pool = None
        if self._events is not None:
            self._events.close()
            self._events = None

    def worker_info(self) -> list[dict]:
        """:func:`~palette_app.batch.worker.worker_info` from the pool's workers."""
        from palette_app.batch.worker import worker_info

        pool = self._get_pool()
        return [f.result() for f in [pool.submit(worker_info) for _ in range(self.n)]]

    def close(self) -> None:
        self._shutdown(wait=True)


class DaskRunner:
    """Runs the calls on a Dask distributed cluster.

    With ``scheduler`` (an address such as ``tcp://10.0.0.5:8786``), on that
    cluster: its workers must have palette_app installed and see the same
    paths. Without it, on a local cluster of ``n`` single-threaded worker
    processes started here (and closed at the end).
    """

    def __init__(self, n: int, scheduler: str | None = None):
        try:
            from distributed import Client, LocalCluster
        except ImportError as e:
            raise RuntimeError("the Dask executor needs dask[distributed] "
                               "(pip install 'palette_app[dask]')") from e
        self._cluster = None
        if scheduler:
            # Connect timeout: Dask's distributed.comm.timeouts.connect (30 s by default).
            self.client = Client(scheduler, set_as_default=False)
        else:
            self._cluster = LocalCluster(n_workers=int(n), threads_per_worker=1, processes=True,
                                         host="127.0.0.1", dashboard_address=None,
                                         silence_logs=logging.ERROR)
            self.client = Client(self._cluster, set_as_default=False)
        self.client.run(warm_up)  # every worker compiles or loads its kernels once, up front

    def run(self, fn, calls: Sequence[tuple], on_done: OnDone, cancel_event=None,
            on_event: OnEvent | None = None) -> None:
        """As the other runners; ``on_event`` is not called (no events cross the cluster)."""
        from distributed import as_completed

        if self._cluster is not None:
            # Our own single-threaded workers, one per core: one Numba thread each.
            futures = [self.client.submit(single_threaded, fn, *args, pure=False) for args in calls]
        else:
            futures = [self.client.submit(fn, *args, pure=False) for args in calls]
        index = {f.key: i for i, f in enumerate(futures)}
        pending = set(futures)
        finished = as_completed(futures, loop=self.client.loop)
        try:
            while pending:
                if _set(cancel_event):
                    # Queued tasks are dropped; running ones finish their (atomic) write.
                    self.client.cancel(list(pending))
                    return
                batch = finished.next_batch(block=False)
                if not batch:
                    time.sleep(POLL / 4)
                    continue
                for f in batch:
                    pending.discard(f)
                    i = index[f.key]
                    if f.status == "finished":
                        on_done(i, f.result())
                    elif f.status == "error":
                        exc = f.exception()
                        if type(exc).__name__ == "KilledWorker":
                            exc = WorkerDied(f"the Dask worker running this file died ({exc})")
                        on_done(i, exc)
        except BaseException:
            self.client.cancel(list(pending))
            raise

    def close(self) -> None:
        try:
            self.client.close()
        finally:
            if self._cluster is not None:
                self._cluster.close()


def make_runner(executor: str, n: int, scheduler: str | None = None):
    """The runner for ``executor`` ('local' or 'dask') with ``n`` workers."""
    if executor == "local":
        if scheduler:
            raise ValueError("a scheduler address needs the Dask executor")
        return InProcessRunner() if n <= 1 else LocalProcessRunner(n)
    if executor == "dask":
        return DaskRunner(n, scheduler)
    raise ValueError(f"executor must be 'local' or 'dask', got {executor!r}")
