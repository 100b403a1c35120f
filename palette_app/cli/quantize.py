"""``palette-app quantize INPUT...``: reduce images in a batch (or stdin to stdout)."""
from __future__ import annotations

import os
import signal
import sys
import threading
import time
from contextlib import contextmanager

from palette_app.cli.main import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    UsageError,
    fail,
)
from palette_app.cli.progress import ProgressBar


def _settings(args):
    from palette_app.batch.settings import BatchSettings

    palette = None
    if args.palette is not None:
        palette = _read_palette(args.palette)
    locked = tuple(c for group in args.lock for c in group)
    try:
        return BatchSettings(
            n_colors=args.colors, random_state=args.seed, effort=args.effort, space=args.space,
            dither=args.dither, dither_strength=args.strength, dither_smooth_only=args.smooth_only,
            locked=locked, palette=palette, shared_palette=args.shared_palette,
            min_psnr=args.quality, max_delta_e=args.max_delta_e, format=args.format,
            on_exist=args.on_exist, skip_if_larger=args.skip_if_larger, smoothing=args.smoothing)
    except ValueError as e:
        raise UsageError(str(e)) from None


class _FileProblem(Exception):
    """A file named on the command line (not an input image) cannot be used: exit 1."""


def _read_palette(path: str) -> tuple[str, ...]:
    from palette_app.batch import PlanError, read_palette_colors

    try:
        return read_palette_colors(path)
    except PlanError as e:
        raise _FileProblem(str(e)) from None


def _check_args(args) -> None:
    if args.scheduler and args.executor == "local":
        raise UsageError("--scheduler needs the Dask executor (--executor dask)")
    if args.report is not None:
        from palette_app.batch.report import report_format

        try:
            report_format(args.report)
        except ValueError as e:
            raise UsageError(str(e)) from None
        folder = os.path.dirname(os.path.abspath(args.report))
        if not os.path.isdir(folder):
            raise UsageError(f"{args.report}: the folder {folder} does not exist")
    if "-" in args.inputs:
        if len(args.inputs) > 1:
            raise UsageError("'-' (stdin) must be the only input")
        if args.outdir or args.suffix is not None or args.shared_palette:
            raise UsageError("with '-' the result goes to stdout: -o, --suffix and "
                             "--shared-palette do not apply")
    if args.outdir is not None and os.path.exists(args.outdir) and not os.path.isdir(args.outdir):
        raise UsageError(f"{args.outdir}: -o needs a folder, and this is a file")


@contextmanager
def _stop_on_signals(stop: threading.Event):
    """First Ctrl-C (or SIGTERM): set ``stop`` so the batch ends cleanly; second: interrupt now."""
    def handler(signum, frame):
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def run_quantize(args) -> int:
    _check_args(args)
    try:
        settings = _settings(args)
    except _FileProblem as e:
        return fail(str(e))
    if args.inputs == ["-"]:
        return _run_stdio(args, settings)
    return _run_files(args, settings)


def _run_files(args, settings) -> int:
    from palette_app.batch.engine import run_batch
    from palette_app.batch.plan import OutputCollisionError, PlanError, plan_jobs
    from palette_app.batch.report import summary, write_report
    from palette_app.batch.result import FAILED

    suffix = args.suffix if args.suffix is not None else ("" if args.outdir else f"-q{args.colors}")
    try:
        jobs = plan_jobs(args.inputs, extension=settings.extension, outdir=args.outdir,
                         suffix=suffix, pattern=args.glob)
    except PlanError as e:
        return fail(str(e))
    if args.report is not None:
        # The report must not be mistaken for an output (or replace one).
        from palette_app.batch.plan import _key

        if _key(args.report) in {_key(j.output) for j in jobs} | {_key(j.input) for j in jobs}:
            raise UsageError(f"{args.report}: the report would replace an input or an output")
    executor = "dask" if (args.executor == "dask" or args.scheduler) else "local"

    err = sys.stderr
    bar = ProgressBar(err, len(jobs), enabled=None if not args.quiet else False)
    seen_notes: set[str] = set()
    n_failed = 0

    def phase(label: str, total: int) -> None:
        if bar.label != label:
            bar.restart(total, label)
            bar.failed = n_failed

    def on_progress(p) -> None:
        nonlocal n_failed
        if p.result is not None:
            bar.file_done(p.result.input)
        if p.phase == "histograms":
            phase("histograms", p.total)
            bar.total = p.total
            if p.result is not None and p.result.status == FAILED:
                n_failed += 1
                bar.message(f"palette-app: failed: {p.result.reason}")
            bar.update(p.done, n_failed)
            return
        phase("files", len(jobs))
        r = p.result
        if r is not None and r.status == FAILED:
            n_failed += 1
            bar.message(f"palette-app: failed: {r.reason}")
        if r is not None and not args.quiet:
            for note in r.notes:
                if note not in seen_notes:
                    seen_notes.add(note)
                    bar.message(f"note: {note}")
        bar.update(p.done, n_failed)

    def on_file_progress(p) -> None:
        # Only drawn on a terminal: the files being worked on, at the end of the bar.
        phase("histograms" if p.phase == "reading" else "files", len(jobs))
        if p.phase == "done" or (p.phase == "reading" and p.fraction >= 1.0):
            bar.file_done(p.input)
        else:
            bar.file_progress(p.input, os.path.basename(p.input), p.fraction)

    stop = threading.Event()
    t0 = time.perf_counter()
    try:
        with _stop_on_signals(stop):
            results = run_batch(jobs, settings, executor=executor, jobs_n=args.jobs,
                                scheduler=args.scheduler, on_progress=on_progress,
                                on_file_progress=on_file_progress if bar.enabled else None,
                                cancel_event=stop)
    except OutputCollisionError as e:
        bar.clear()
        return fail(str(e), EXIT_USAGE)
    except (OSError, RuntimeError) as e:
        # The executor could not start (no Dask, scheduler unreachable, no processes).
        bar.clear()
        return fail(f"could not run the batch: {e}")
    finally:
        bar.clear()
    seconds = time.perf_counter() - t0
    counts = summary(results, seconds)
    if args.report is not None:
        try:
            write_report(args.report, results, settings, seconds)
        except OSError as e:
            fail(f"{args.report}: could not write the report ({e.strerror or e})")
            counts["failed"] += 1
    if not args.quiet:
        err.write(_summary_line(counts, seconds, args.report) + "\n")
    if stop.is_set():
        err.write(f"palette-app: interrupted; {counts['cancelled']} files not processed\n")
        return EXIT_INTERRUPTED
    return EXIT_FAILED if counts["failed"] else EXIT_OK


def _summary_line(c: dict, seconds: float, report: str | None) -> str:
    parts = [f"{c['ok']} written"]
    if c["skipped"]:
        parts.append(f"{c['skipped']} skipped")
    if c["failed"]:
        parts.append(f"{c['failed']} failed")
    if c["cancelled"]:
        parts.append(f"{c['cancelled']} not processed")
    rate = c["ok"] / seconds if seconds > 0 else 0.0
    line = f"quantize: {', '.join(parts)} in {seconds:.1f} s ({rate:.2f} images/s)"
    if c["ok"] and c["bytes_before"]:
        line += f"; {c['bytes_before']:,} -> {c['bytes_after']:,} bytes"
    if report:
        line += f"; report: {report}"
    return line


def _run_stdio(args, settings) -> int:
    """``-``: one image from stdin, the result to stdout."""
    from palette_app.batch.result import FAILED, OK, SKIPPED, JobResult
    from palette_app.batch.worker import encode, measure, reduce_pixels
    from palette_app.io import ImageLoadError, load_image

    out = sys.stdout.buffer
    if out.isatty():
        raise UsageError("refusing to write image data to a terminal; redirect stdout to a file "
                         "or a pipe")
    data = sys.stdin.buffer.read()
    t0 = time.perf_counter()
    try:
        img = load_image(data, name="<stdin>")
    except ImageLoadError as e:
        result = JobResult("-", "-", FAILED, reason=str(e), bytes_before=len(data))
        _stdio_report(args, settings, result)
        return fail(str(e))
    if not args.quiet:
        for note in img.notes:
            sys.stderr.write(f"note: {note}\n")
    try:
        reduced = reduce_pixels(img.pixels, settings)
    except ValueError as e:
        return fail(f"<stdin>: {e}")
    encoded, notes = encode(reduced, settings.format)
    status, reason = OK, None
    if settings.skip_if_larger and len(encoded) > len(data):
        if img.format == settings.format:
            # The input is the smaller file of the asked format: pass it through.
            encoded, status = data, SKIPPED
            reason = "the result would be larger than the input; the input was passed through"
        else:
            notes = notes + ((f"The result is larger than the input, but the input is "
                              f"{img.format}, not {settings.format}, so the result was written."),)
    out.write(encoded)
    out.flush()
    if not args.quiet:
        for note in notes:
            sys.stderr.write(f"note: {note}\n")
    psnr, de = measure(reduced)
    _stdio_report(args, settings, JobResult("-", "-", status, reason, colors=reduced.n_colors, psnr=psnr,
                                            delta_e=de, bytes_before=len(data),
                                            bytes_after=len(encoded),
                                            seconds=time.perf_counter() - t0))
    return EXIT_OK


def _stdio_report(args, settings, result) -> None:
    if args.report is not None:
        from palette_app.batch.report import write_report

        write_report(args.report, [result], settings)
