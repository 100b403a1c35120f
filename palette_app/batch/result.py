"""What happened to one input: :class:`JobResult`, and progress events
(:class:`BatchProgress` per finished file, :class:`FileProgress` within a file)."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

OK, FAILED, SKIPPED, CANCELLED = "ok", "failed", "skipped", "cancelled"
STATUSES = (OK, FAILED, SKIPPED, CANCELLED)

#: The phases of one file, in the order they come (:attr:`FileProgress.phase`).
#: 'reading' is the first pass of a shared palette (load, color histogram); the
#: others are the images pass. 'done' (fraction 1.0) follows a completed file.
FILE_PHASES = ("reading", "loading", "quantizing", "remapping", "saving", "done")


@dataclass(frozen=True)
class JobResult:
    """The outcome of one job.

    input, output : str
        The paths (output None when nothing could be planned for it).
    status : str
        'ok' (written), 'failed' (``reason`` says why), 'skipped' (the output
        exists, or would be larger than the input), 'cancelled' (the batch was
        stopped before or while this file was processed; nothing was written).
    colors : int or None
        Palette entries of the written image.
    psnr, delta_e : float or None
        Quality against the input: PSNR in dB (``inf`` when exact) and mean
        CIEDE2000 over the opaque pixels.
    bytes_before, bytes_after : int or None
        Size of the input file and of the written output.
    seconds : float
        Wall time spent on this file (load, quantize, save, measure).
    notes : tuple of str
        What a user may want to know (color profile converted, JPEG is not indexed...).
    """

    input: str
    output: str | None
    status: str
    reason: str | None = None
    colors: int | None = None
    psnr: float | None = None
    delta_e: float | None = None
    bytes_before: int | None = None
    bytes_after: int | None = None
    seconds: float = 0.0
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status == OK

    def to_dict(self) -> dict:
        """Plain JSON types; an infinite PSNR (exact result) becomes None with ``exact`` True."""
        d = asdict(self)
        d["notes"] = list(self.notes)
        d["exact"] = self.psnr is not None and math.isinf(self.psnr)
        if d["exact"]:
            d["psnr"] = None
        for k in ("psnr", "delta_e"):
            if d[k] is not None and math.isnan(d[k]):
                d[k] = None
        return d


@dataclass(frozen=True)
class BatchProgress:
    """Passed to ``on_progress`` after every finished job.

    phase : 'histograms' (first pass of a shared palette) or 'images'.
    done, total : jobs finished and jobs in this phase.
    result : the JobResult just finished ('images' phase), else None.
    """

    phase: str
    done: int
    total: int
    result: JobResult | None = None


@dataclass(frozen=True)
class FileProgress:
    """Passed to ``on_file_progress`` while a file is worked on: which file, how far.

    index : the job's position in the list given to ``run_batch`` (and in its results).
    input, output : the job's paths.
    phase : one of :data:`FILE_PHASES` ('loading', 'quantizing', 'remapping',
        'saving', then 'done'; 'reading' in the first pass of a shared palette).
    fraction : 0..1 of this file's pass, never decreasing within it. The first
        event of a file (fraction 0.0) says it started; a file that completes
        ends with 'done' at 1.0. A file that fails or is cancelled simply stops
        reporting: its :class:`BatchProgress` tells the outcome. In a shared-palette
        batch the images pass starts again from 0 after 'reading'.
    """

    index: int
    input: str
    output: str | None
    phase: str
    fraction: float
