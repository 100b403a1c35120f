"""The worker and the serial runner: signals, supersede, cancel, no leaks, no overlap."""
from __future__ import annotations

import gc
import threading
import time
import weakref

import numpy as np
import pytest
from PySide6.QtCore import QThreadPool
from PySide6.QtGui import QImage

import palette_app
from palette_app.core import Cancelled, Palette
from palette_app.gui.worker import (
    QuantizeRequest,
    SerialRunner,
    Worker,
    downscale,
    indexed_qimage,
    match_palette,
    preview_job,
    rgb_qimage,
)


def _qimage_array(img: QImage) -> np.ndarray:
    img = img.convertToFormat(QImage.Format.Format_RGBA8888)
    w, h = img.width(), img.height()
    buf = np.frombuffer(img.constBits(), np.uint8, count=img.sizeInBytes())
    return buf.reshape(h, img.bytesPerLine())[:, : 4 * w].reshape(h, w, 4).copy()


@pytest.fixture(autouse=True)
def _no_threads_left():
    yield
    pool = QThreadPool.globalInstance()
    assert pool.waitForDone(10000)
    assert pool.activeThreadCount() == 0


def _record(worker: Worker) -> list:
    events = []
    s = worker.signals
    s.started.connect(lambda: events.append("started"))
    s.progress.connect(lambda p: events.append(("progress", round(p, 2))))
    s.result.connect(lambda r: events.append(("result", r)))
    s.error.connect(lambda e: events.append(("error", type(e).__name__, str(e))))
    s.finished.connect(lambda: events.append("finished"))
    return events


def test_worker_signals_in_order(qtbot):
    def job(request, progress):
        for i in range(5):
            assert progress(i / 4)
        return request * 2

    w = Worker(job, 21)
    events = _record(w)
    with qtbot.waitSignal(w.signals.finished, timeout=5000):
        QThreadPool.globalInstance().start(w)
    assert events[0] == "started"
    assert events[-2:] == [("result", 42), "finished"]
    assert [e[1] for e in events if isinstance(e, tuple) and e[0] == "progress"] == [0, 0.25, 0.5, 0.75, 1.0]
    assert w.done


def test_worker_error_is_reported_not_raised(qtbot):
    def job(request, progress):
        raise ValueError("the image is empty")

    w = Worker(job, None)
    events = _record(w)
    with qtbot.waitSignal(w.signals.finished, timeout=5000):
        QThreadPool.globalInstance().start(w)
    assert ("error", "ValueError", "the image is empty") in events
    assert not any(isinstance(e, tuple) and e[0] == "result" for e in events)


def test_cancelled_worker_delivers_nothing(qtbot):
    started = threading.Event()

    def job(request, progress):
        started.set()
        while progress(0.5):
            time.sleep(0.001)
        raise Cancelled("stopped")

    w = Worker(job, None)
    events = _record(w)
    QThreadPool.globalInstance().start(w)
    assert started.wait(5)
    with qtbot.waitSignal(w.signals.finished, timeout=5000):
        w.cancel()
    assert events[-1] == "finished"
    assert not any(isinstance(e, tuple) and e[0] in ("result", "error") for e in events)


def test_runner_supersedes_runs_one_at_a_time_and_keeps_no_references(qtbot):
    runner = SerialRunner()
    running = []
    overlap = []
    lock = threading.Lock()

    def job(request, progress):
        with lock:
            running.append(request)
            if len(running) > 1:
                overlap.append(tuple(running))
        try:
            for _ in range(200):
                if not progress(0.5):
                    raise Cancelled("superseded")
                time.sleep(0.0005)
            return request
        finally:
            with lock:
                running.remove(request)

    results = []
    refs = []
    for i in range(20):
        w = Worker(job, i, key="preview")
        w.signals.result.connect(results.append)
        refs.append(weakref.ref(w))
        runner.submit(w)
        if i % 5 == 0:
            qtbot.wait(2)
    qtbot.waitUntil(lambda: not runner.busy, timeout=10000)
    assert results == [19], "only the newest request delivers a result"
    assert overlap == []
    assert QThreadPool.globalInstance().waitForDone(5000)
    del w
    qtbot.wait(10)
    gc.collect()
    assert [r for r in refs if r() is not None] == [], "finished workers must be released"


def test_finished_workers_are_destroyed_on_the_gui_thread(qtbot, monkeypatch):
    # The pool thread lingers in the worker's run after `finished` (as a
    # preempted thread may): the runner must not drop its reference first, or
    # the worker and its Qt signals object would die on the pool thread.
    plain_run = Worker.run

    def lingering_run(self):
        plain_run(self)
        time.sleep(0.05)

    monkeypatch.setattr(Worker, "run", lingering_run)
    runner = SerialRunner()
    died_on = []
    for i in range(3):
        w = Worker(lambda request, progress: request, i)
        weakref.finalize(w, lambda: died_on.append(threading.current_thread() is threading.main_thread()))
        with qtbot.waitSignal(w.signals.finished, timeout=5000):
            runner.submit(w, supersede=False)
        del w
    assert QThreadPool.globalInstance().waitForDone(5000)
    qtbot.waitUntil(lambda: len(died_on) == 3, timeout=5000)
    assert died_on == [True, True, True]


def test_runner_keys_do_not_supersede_each_other(qtbot):
    runner = SerialRunner()
    order = []

    def job(request, progress):
        order.append(request)
        return request

    got = []
    for key, req in (("export", "e1"), ("preview", "p1"), ("preview", "p2"), ("export", "e2")):
        w = Worker(job, req, key=key)
        w.signals.result.connect(got.append)
        runner.submit(w, supersede=(key == "preview"))
    qtbot.waitUntil(lambda: not runner.busy, timeout=5000)
    assert "e1" in got and "e2" in got and "p2" in got
    assert "p1" not in got
    assert order == [r for r in order if r in got] and order.index("e1") < order.index("e2")


def test_preview_job_is_cancelled_by_the_core_callback(astronaut):
    req = QuantizeRequest(pixels=astronaut, n_colors=32)
    calls = []

    def progress(p):
        calls.append(p)
        return len(calls) < 3

    with pytest.raises(Cancelled):
        preview_job(req, progress)
    assert len(calls) == 3


def test_preview_job_image_matches_result(astronaut):
    pr = preview_job(QuantizeRequest(pixels=astronaut, n_colors=12), lambda p: True)
    assert len(pr.palette) == 12
    assert np.array_equal(_qimage_array(pr.image)[..., :3], pr.result.to_rgb())
    assert pr.seconds > 0


def test_indexed_qimage_keeps_alpha():
    pal = Palette(np.array([[255, 0, 0], [0, 0, 255], [0, 0, 0]], np.uint8), alpha=np.array([255, 128, 0]))
    idx = np.array([[0, 1, 2], [2, 1, 0]], np.uint8)
    arr = _qimage_array(indexed_qimage(idx, pal))
    assert arr.shape == (2, 3, 4)
    assert list(arr[0, 0]) == [255, 0, 0, 255]
    assert arr[0, 2, 3] == 0
    assert arr[0, 1, 3] == 128 and abs(int(arr[0, 1, 2]) - 255) <= 1


def test_rgb_qimage_copies_the_pixels():
    px = np.zeros((3, 5, 3), np.uint8)
    px[1, 2] = (10, 20, 30)
    img = rgb_qimage(px)
    px[:] = 255
    assert list(_qimage_array(img)[1, 2]) == [10, 20, 30, 255]


@pytest.mark.parametrize("shape", [(2000, 1500, 3), (1200, 1000, 4), (30, 40, 3)])
def test_downscale(shape):
    px = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    out = downscale(px, 1_000_000)
    h, w = out.shape[:2]
    assert h * w <= 1_000_000
    assert out.shape[2] == shape[2]
    if shape[0] * shape[1] <= 1_000_000:
        assert out is px
    else:
        assert abs(w / h - shape[1] / shape[0]) < 0.01
        assert h * w > 0.98e6


def test_match_palette_full_resolution_counts(astronaut):
    res = palette_app.quantize(astronaut, 8)
    pal = res.palette.with_locked([True] + [False] * 7)
    out = match_palette(astronaut, pal, QuantizeRequest(pixels=astronaut), lambda p: True)
    assert out.indices.shape == astronaut.shape[:2]
    assert np.array_equal(out.palette.colors, pal.colors)
    assert int(out.palette.counts.sum()) == astronaut.shape[0] * astronaut.shape[1]
    assert np.array_equal(out.palette.counts, np.bincount(out.indices.ravel(), minlength=8))
    assert out.palette.locked[0] and not out.palette.locked[1:].any()
