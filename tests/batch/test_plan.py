"""Turning files and folders into jobs; collisions caught before anything is written."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from palette_app.batch.plan import (Job, OutputCollisionError, PlanError, check_outputs, find_images,
                                    free_name, plan_jobs, resolve_existing)


def _touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    return path


def test_find_images_recursive_sorted_without_hidden_or_other_files(tmp_path):
    for rel in ("b.png", "a.JPG", "sub/c.webp", "sub/deeper/d.tif", "notes.txt", ".e.png",
                ".cache/f.png", "sub/g.PNG"):
        _touch(tmp_path / rel)
    got = [p.relative_to(tmp_path).as_posix() for p in find_images(tmp_path)]
    assert got == ["a.JPG", "b.png", "sub/c.webp", "sub/g.PNG", "sub/deeper/d.tif"]
    got = [p.relative_to(tmp_path).as_posix() for p in find_images(tmp_path, "*.png")]
    assert got == ["b.png", "sub/g.PNG"]  # any depth, any case
    got = [p.relative_to(tmp_path).as_posix() for p in find_images(tmp_path, "sub/*")]
    assert got == ["sub/c.webp", "sub/g.PNG"]
    got = [p.relative_to(tmp_path).as_posix() for p in find_images(tmp_path, "deeper/*.tif")]
    assert got == ["sub/deeper/d.tif"]


def test_plan_beside_inputs_with_suffix(tmp_path):
    a = _touch(tmp_path / "a.jpg")
    jobs = plan_jobs([a], extension=".png", suffix="-q16")
    assert jobs == [Job(str(a), str(tmp_path / "a-q16.png"))]


def test_plan_under_outdir_keeps_the_layout_of_named_folders(tmp_path):
    src = tmp_path / "shoot"
    _touch(src / "x.png")
    _touch(src / "day1" / "y.jpg")
    lone = _touch(tmp_path / "lone.bmp")
    jobs = plan_jobs([src, lone], extension=".gif", outdir=tmp_path / "out")
    assert [(Path(j.input).relative_to(tmp_path).as_posix(), Path(j.output).relative_to(tmp_path).as_posix())
            for j in jobs] == [("shoot/x.png", "out/x.gif"), ("shoot/day1/y.jpg", "out/day1/y.gif"),
                               ("lone.bmp", "out/lone.gif")]


def test_plan_skips_earlier_outputs_the_outdir_and_duplicates(tmp_path):
    _touch(tmp_path / "a.png")
    _touch(tmp_path / "a-q8.png")  # an earlier output
    _touch(tmp_path / "out" / "old.png")  # the output folder inside the input folder
    jobs = plan_jobs([tmp_path, tmp_path / "a.png"], extension=".png", suffix="-q8")
    assert [Path(j.input).name for j in jobs] == ["a.png", "old.png"]
    jobs = plan_jobs([tmp_path], extension=".png", suffix="-q8", outdir=tmp_path / "out")
    assert [Path(j.input).name for j in jobs] == ["a.png"]


def test_plan_keeps_missing_files_and_refuses_empty_folders(tmp_path):
    jobs = plan_jobs([tmp_path / "missing.png"], extension=".png", suffix="-x")
    assert len(jobs) == 1
    (tmp_path / "empty").mkdir()
    with pytest.raises(PlanError, match="no images"):
        plan_jobs([tmp_path / "empty"])


def test_collisions_between_outputs_and_with_inputs(tmp_path):
    jobs = [Job("a.png", str(tmp_path / "o.png")), Job("a.jpg", str(tmp_path / "o.png")),
            Job("b.png", str(tmp_path / "b.png"))]
    with pytest.raises(OutputCollisionError) as e:
        check_outputs(jobs)
    assert len(e.value.collisions) == 1 and e.value.collisions[0][1] == ["a.png", "a.jpg"]
    with pytest.raises(OutputCollisionError, match="would be replaced"):
        check_outputs([Job(str(tmp_path / "b.png"), str(tmp_path / "b.png"))])
    # The same file spelled two ways is one file.
    (tmp_path / "sub").mkdir()
    with pytest.raises(OutputCollisionError):
        check_outputs([Job("x.png", str(tmp_path / "o.png")),
                       Job("y.png", str(tmp_path / "sub" / ".." / "o.png"))])
    check_outputs([Job("x.png", str(tmp_path / "o1.png")), Job("y.png", str(tmp_path / "o2.png"))])


def test_resolve_existing(tmp_path):
    _touch(tmp_path / "o.png")
    _touch(tmp_path / "o-1.png")
    jobs = [Job("a", str(tmp_path / "o.png")), Job("b", str(tmp_path / "o-2.png")),
            Job("c", str(tmp_path / "new.png"))]
    out, skip = resolve_existing(jobs, "skip")
    assert out == jobs and skip == [True, False, False]
    out, skip = resolve_existing(jobs, "overwrite")
    assert out == jobs and skip == [False, False, False]
    out, skip = resolve_existing(jobs, "rename")
    # o.png exists, o-1.png exists, o-2.png is another job's output: o-3.png.
    assert [os.path.basename(j.output) for j in out] == ["o-3.png", "o-2.png", "new.png"]
    assert skip == [False, False, False]
    assert os.path.basename(free_name(str(tmp_path / "z.png"), set())) == "z-1.png"
