"""run_batch and its runners: same bytes everywhere, one Numba thread per worker, cancellation,
crashed workers, progress."""
from __future__ import annotations

import threading

import pytest

from palette_app.batch.engine import run_batch
from palette_app.batch.executors import InProcessRunner, LocalProcessRunner, WorkerDied
from palette_app.batch.plan import OutputCollisionError, plan_jobs
from palette_app.batch.settings import BatchSettings


def _files(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _strip(results):
    return [(r.input, r.output, r.status, r.colors, r.psnr, r.delta_e, r.bytes_after) for r in results]


def test_in_process_and_process_pool_give_identical_files(image_dir, tmp_path):
    (image_dir / "bad.png").write_bytes(b"junk")
    s = BatchSettings(n_colors=12, random_state=4)
    a = run_batch(plan_jobs([image_dir], outdir=tmp_path / "a"), s, jobs_n=1)
    b = run_batch(plan_jobs([image_dir], outdir=tmp_path / "b"), s, jobs_n=2)
    assert [r.status for r in a] == ["failed", "ok", "ok", "ok", "ok"]
    assert _files(tmp_path / "a") == _files(tmp_path / "b")
    strip = lambda rs: [t[2:] for t in _strip(rs)]  # noqa: E731
    assert strip(a) == strip(b)


def test_workers_use_one_numba_thread():
    runner = LocalProcessRunner(2)
    try:
        infos = runner.worker_info()
    finally:
        runner.close()
    assert all(i["numba_threads"] == 1 and i["OMP_NUM_THREADS"] == "1" for i in infos)


def test_a_dying_worker_fails_its_job_only():
    runner = LocalProcessRunner(2)
    got = {}
    try:
        runner.run(eval, [("1 + 1",), ("__import__('os')._exit(3)",), ("2 + 2",), ("3 + 3",)],
                   lambda i, v: got.__setitem__(i, v))
    finally:
        runner.close()
    assert got[0] == 2 and got[2] == 4 and got[3] == 6
    assert isinstance(got[1], WorkerDied)


def test_progress_reports_every_job_in_the_calling_thread(image_dir, tmp_path):
    seen = []
    results = run_batch(plan_jobs([image_dir], outdir=tmp_path / "o"), BatchSettings(n_colors=4),
                        jobs_n=2, on_progress=lambda p: seen.append((p.phase, p.done, p.total,
                                                                     threading.get_ident())))
    assert [s[1] for s in seen] == [1, 2, 3, 4] and {s[2] for s in seen} == {4}
    assert {s[3] for s in seen} == {threading.get_ident()}
    assert all(r.ok for r in results)


@pytest.mark.parametrize("jobs_n", [1, 2])
def test_cancel_stops_the_batch_and_writes_nothing_partial(image_dir, tmp_path, jobs_n):
    stop = threading.Event()

    def on_progress(p):
        stop.set()  # after the first finished file

    out = tmp_path / "o"
    results = run_batch(plan_jobs([image_dir], outdir=out), BatchSettings(n_colors=64),
                        jobs_n=jobs_n, on_progress=on_progress, cancel_event=stop)
    statuses = [r.status for r in results]
    assert statuses.count("ok") >= 1 and "cancelled" in statuses
    assert set(statuses) <= {"ok", "cancelled"}
    written = sorted(p.name for p in out.iterdir())
    assert written == sorted(r.output.rsplit("/", 1)[1] for r in results if r.ok)


def test_collisions_raise_before_anything_is_written(image_dir, tmp_path):
    jobs = plan_jobs([image_dir / "p0.png", image_dir / "p1.png"], outdir=tmp_path / "o")
    jobs = [jobs[0], type(jobs[0])(jobs[1].input, jobs[0].output)]
    with pytest.raises(OutputCollisionError):
        run_batch(jobs, BatchSettings())
    assert not (tmp_path / "o").exists()


def test_shared_palette_with_transparency(tmp_path, sample_rgb):
    import numpy as np
    from PIL import Image

    folder = tmp_path / "in"
    folder.mkdir()
    rgba = np.dstack([sample_rgb[:60, :60], np.full((60, 60), 255, np.uint8)])
    rgba[:10, :10, 3] = 0
    Image.fromarray(rgba).save(folder / "a.png")
    Image.fromarray(np.ascontiguousarray(sample_rgb[100:160, 100:160])).save(folder / "b.png")
    results = run_batch(plan_jobs([folder], outdir=tmp_path / "o"),
                        BatchSettings(n_colors=8, shared_palette=True), jobs_n=1)
    assert all(r.ok for r in results), results
    assert [r.colors for r in results] == [8, 7]  # the transparent entry only where needed
    pals = []
    for name in ("a.png", "b.png"):
        with Image.open(tmp_path / "o" / name) as im:
            pals.append(np.asarray(im.getpalette("RGB"), np.uint8).reshape(-1, 3)[:7])
    assert np.array_equal(pals[0], pals[1])


def test_run_batch_works_from_a_worker_thread(image_dir, tmp_path):
    """The GUI calls it off the main thread."""
    out = {}
    t = threading.Thread(target=lambda: out.setdefault(
        "r", run_batch(plan_jobs([image_dir], outdir=tmp_path / "o"), BatchSettings(), jobs_n=2)))
    t.start()
    t.join(120)
    assert [r.status for r in out["r"]] == ["ok"] * 4


def test_in_process_runner_reports_exceptions():
    got = {}
    InProcessRunner().run(lambda x, cancel=None: 1 / x, [(1,), (0,)], got.__setitem__)
    assert got[0] == 1.0 and isinstance(got[1], ZeroDivisionError)
