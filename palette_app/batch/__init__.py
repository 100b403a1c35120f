"""The batch engine: reduce many images, on this machine or a Dask cluster.

Plain Python, used by the command line and the GUI alike::

    from palette_app.batch import BatchSettings, plan_jobs, run_batch

    settings = BatchSettings(n_colors=16, format="png")
    jobs = plan_jobs(["photos/"], extension=settings.extension, outdir="out")
    results = run_batch(jobs, settings, jobs_n=4, on_progress=print)
    [r.status for r in results]          # 'ok', 'failed', 'skipped', 'cancelled'

    # Within each file too: FileProgress(index, input, output, phase, fraction).
    run_batch(jobs, settings, on_file_progress=lambda p: print(p.index, p.phase, p.fraction))

Names are imported lazily, so that worker processes can set their Numba thread
count before anything loads Numba.
"""
from __future__ import annotations

import importlib

_LAZY = {
    "BatchSettings": "palette_app.batch.settings",
    "OUTPUT_FORMATS": "palette_app.batch.settings",
    "Job": "palette_app.batch.plan",
    "plan_jobs": "palette_app.batch.plan",
    "find_images": "palette_app.batch.plan",
    "check_outputs": "palette_app.batch.plan",
    "PlanError": "palette_app.batch.plan",
    "read_palette_colors": "palette_app.batch.plan",
    "OutputCollisionError": "palette_app.batch.plan",
    "JobResult": "palette_app.batch.result",
    "BatchProgress": "palette_app.batch.result",
    "FileProgress": "palette_app.batch.result",
    "FILE_PHASES": "palette_app.batch.result",
    "run_batch": "palette_app.batch.engine",
    "default_jobs": "palette_app.batch.executors",
    "process_job": "palette_app.batch.worker",
    "write_report": "palette_app.batch.report",
    "summary": "palette_app.batch.report",
}

__all__ = sorted(_LAZY)  # noqa: PLE0605  (from _LAZY, so the two cannot drift)


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'palette_app.batch' has no attribute {name!r}")


def __dir__():
    return __all__
