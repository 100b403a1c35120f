"""Where jobs run: this process, a pool of local processes, or a Dask cluster.

Every runner has one method, ``run(fn, calls, on_done, cancel_event)``: it calls
``fn(*calls[i])`` for every i, in any order and in parallel where it can, and
reports each outcome to ``on_done(i, value)`` *in the calling thread*, where
``value`` is what ``fn`` returned or the exception that stopped it
(:class:`WorkerDied` when the process running it died). When ``cancel_event``
is set it stops handing out work, tells running work to stop, and returns;
calls it never reported were not run.
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Callable, Sequence

from palette_app.batch.worker import init_worker, single_threaded, warm_up

OnDone = Callable[[int, Any], None]
#: How often the runners look at the cancel event, in seconds.
POLL = 0.1


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

    def run(self, fn, calls: Sequence[tuple], on_done: OnDone, cancel_event=None) -> None:
        for i, args in enumerate(calls):
            if _set(cancel_event):
                return
            try:
                value = fn(*args, cancel=cancel_event)
            except Exception as e:  # fn reports file problems itself; this is a bug
                value = e
            on_done(i, value)

    def close(self) -> None:
        pass


class LocalProcessRunner:
    """A pool of ``n`` worker processes (started with 'spawn', safe with Numba/OpenMP threads).

    Each worker runs :func:`~palette_app.batch.worker.init_worker` once: one
    Numba thread, SIGINT ignored, kernels warmed. At most ``2 n`` calls are
    handed to the pool at a time, so a stop takes effect at once and a worker
    that dies takes few calls down with it. Those calls are then run again one
    at a time in a new pool: the one that kills its worker on its own is
    reported as :class:`WorkerDied`, the others complete normally.
    """

    def __init__(self, n: int):
        self.n = int(n)
        self._ctx = multiprocessing.get_context("spawn")
        self._stop = self._ctx.Event()
        self._pool: ProcessPoolExecutor | None = None

    def _get_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=self.n, mp_context=self._ctx,
                                             initializer=init_worker, initargs=(self._stop,))
        return self._pool

    def run(self, fn, calls: Sequence[tuple], on_done: OnDone, cancel_event=None) -> None:
        queue = deque(range(len(calls)))
        suspects: deque[int] = deque()   # in flight when a worker died: run alone next
        inflight: dict = {}              # future -> (index, ran alone)
        limit = 2 * self.n

        def submit(i: int, alone: bool) -> None:
            try:
                inflight[self._get_pool().submit(fn, *calls[i])] = (i, alone)
            except BrokenProcessPool:
                self._shutdown(wait=False)
                inflight[self._get_pool().submit(fn, *calls[i])] = (i, alone)

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
                done, _ = wait(list(inflight), timeout=POLL, return_when=FIRST_COMPLETED)
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

    def run(self, fn, calls: Sequence[tuple], on_done: OnDone, cancel_event=None) -> None:
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
