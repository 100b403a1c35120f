"""From what the user named (files and folders) to :class:`Job`\\ s with output paths.

Everything here is checked before a single file is written: two inputs that
would map to one output, or an output that would replace an input, raise
:class:`OutputCollisionError`.
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

#: File name endings taken from folders when no ``glob`` is given (the formats
#: :func:`palette_app.io.load_image` reads).
IMAGE_SUFFIXES = frozenset({
    ".png", ".apng", ".jpg", ".jpeg", ".jpe", ".jfif", ".gif", ".webp", ".tif", ".tiff", ".bmp",
    ".dib", ".ico", ".avif", ".qoi", ".ppm", ".pgm", ".pbm", ".pnm", ".tga",
})


class PlanError(ValueError):
    """The inputs cannot be turned into a batch (nothing found, a bad pattern...)."""


def read_palette_colors(path) -> tuple[str, ...]:
    """The colors of a palette file to remap a batch to, as ``#rrggbb[aa]``
    strings; :class:`PlanError` naming the file if it cannot be used."""
    from palette_app.io import PaletteFormatError, read_palette

    try:
        pal = read_palette(path)
    except PaletteFormatError as e:
        raise PlanError(str(e)) from None
    except OSError as e:
        raise PlanError(f"{path}: cannot read the palette ({e.strerror or e})") from None
    if not 1 <= len(pal) <= 256:
        raise PlanError(f"{path}: a palette to remap to needs 1 to 256 colors, it has {len(pal)}")
    return tuple(pal.hex)


class OutputCollisionError(PlanError):
    """Two inputs would write one output file, or an output would replace an input.

    ``collisions`` holds ``(output, [inputs...])`` pairs.
    """

    def __init__(self, message: str, collisions: list[tuple[str, list[str]]]):
        super().__init__(message)
        self.collisions = collisions


@dataclass(frozen=True)
class Job:
    """One image to reduce: ``input`` path, ``output`` path (strings, as the user will see them)."""

    input: str
    output: str


def _key(path: str | os.PathLike) -> str:
    """One spelling per file: absolute, symlinks in existing folders resolved, case as the OS."""
    return os.path.normcase(os.path.realpath(os.fspath(path)))


def _matches(rel: PurePosixPath, pattern: str | None) -> bool:
    if pattern is None:
        return rel.suffix.lower() in IMAGE_SUFFIXES
    # Case-insensitive, matched from the right: "*.jpg" is any .jpg (or .JPG) at any
    # depth, "raw/*.png" a .png directly in any folder named raw.
    return PurePosixPath(rel.as_posix().lower()).match(pattern.lower())


def find_images(folder: str | os.PathLike, pattern: str | None = None,
                exclude: Iterable[str] = ()) -> list[Path]:
    """Image files under ``folder``, recursively, sorted; hidden files and folders are left out.

    ``pattern`` (``"*.jpg"``, ``"raw/*.png"``) is matched, ignoring case, against the end
    of the path relative to ``folder``; without it every file with an image extension
    is taken. Folders
    whose :func:`_key` is in ``exclude`` (an output folder inside the input) are skipped.
    """
    root = Path(folder)
    skip = set(exclude)
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames
                             if not d.startswith(".") and _key(Path(dirpath, d)) not in skip)
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            path = Path(dirpath, name)
            rel = PurePosixPath(path.relative_to(root).as_posix())
            if _matches(rel, pattern) and path.is_file():
                found.append(path)
    return found


def plan_jobs(inputs: Sequence[str | os.PathLike], *, extension: str = ".png",
              outdir: str | os.PathLike | None = None, suffix: str = "",
              pattern: str | None = None) -> list[Job]:
    """Jobs for files and folders (searched recursively), in the order given.

    An output is named after its input: ``<stem><suffix><extension>``, beside the
    input, or under ``outdir`` (keeping the layout below a folder that was named).
    Files found in folders whose name already ends in ``suffix + extension`` are
    taken to be earlier outputs and left out. An input named twice is taken once.
    A path that does not exist is kept: its job fails with a clear reason.
    Raises :class:`PlanError` when nothing is left.
    """
    out_root = None if outdir is None else Path(outdir)
    exclude = set() if out_root is None else {_key(out_root)}
    ours = (suffix + extension).lower() if suffix else None
    jobs: list[Job] = []
    seen: set[str] = set()

    def add(src: Path, target_dir: Path):
        k = _key(src)
        if k in seen:
            return
        seen.add(k)
        jobs.append(Job(os.fspath(src), os.fspath(target_dir / f"{src.stem}{suffix}{extension}")))

    for item in inputs:
        p = Path(item)
        if p.is_dir():
            files = find_images(p, pattern, exclude)
            for f in files:
                if ours is not None and f.name.lower().endswith(ours):
                    continue
                rel_dir = f.parent.relative_to(p)
                add(f, f.parent if out_root is None else out_root / rel_dir)
        else:
            add(p, p.parent if out_root is None else out_root)
    if not jobs:
        what = ", ".join(os.fspath(i) for i in inputs) or "(no inputs)"
        kind = f"matching {pattern!r} " if pattern else ""
        raise PlanError(f"no images {kind}found in {what}")
    return jobs


def check_outputs(jobs: Sequence[Job]) -> None:
    """Raise :class:`OutputCollisionError` when outputs collide with each other or with inputs."""
    by_output: dict[str, list[Job]] = {}
    for job in jobs:
        by_output.setdefault(_key(job.output), []).append(job)
    inputs = {_key(j.input): j for j in jobs}
    problems: list[tuple[str, list[str]]] = []
    lines = []
    for key, group in by_output.items():
        if len(group) > 1:
            srcs = [j.input for j in group]
            problems.append((group[0].output, srcs))
            lines.append(f"{' and '.join(srcs)} would all be written to {group[0].output}")
        if key in inputs:
            problems.append((group[0].output, [inputs[key].input]))
            lines.append(f"{group[0].output} is an input and would be replaced by the result of "
                         f"{group[0].input}")
    if problems:
        more = f" (and {len(lines) - 5} more)" if len(lines) > 5 else ""
        raise OutputCollisionError(
            "output names collide; use --suffix, -o OUTDIR or rename the inputs: "
            + "; ".join(lines[:5]) + more, problems)


def free_name(output: str, taken: set[str]) -> str:
    """``name-1.ext``, ``name-2.ext``, ... : the first that exists neither on disk nor in ``taken``."""
    p = Path(output)
    i = 1
    while True:
        candidate = os.fspath(p.with_name(f"{p.stem}-{i}{p.suffix}"))
        if not os.path.lexists(candidate) and _key(candidate) not in taken:
            return candidate
        i += 1


def resolve_existing(jobs: Sequence[Job], on_exist: str) -> tuple[list[Job], list[bool]]:
    """Apply ``on_exist`` to outputs that exist now.

    Returns the jobs (renamed where ``on_exist == 'rename'``) and, per job, whether
    it is to be skipped (``'skip'`` and the output exists).
    """
    taken = {_key(j.output) for j in jobs}
    out, skip = [], []
    for job in jobs:
        exists = os.path.lexists(job.output)
        if exists and on_exist == "rename":
            new = free_name(job.output, taken)
            taken.add(_key(new))
            job = replace(job, output=new)
        out.append(job)
        skip.append(exists and on_exist == "skip")
    return out, skip
