"""``palette-app quantize`` through the real entry point (a subprocess)."""
from __future__ import annotations

import csv
import json
import os

import numpy as np
import pytest
from PIL import Image


def test_quantize_writes_indexed_pngs_beside_the_inputs(cli, photos, tools):
    r = cli("quantize", photos, "-n", 8, "-j", 1)
    assert r.returncode == 0, r.stderr
    for src in sorted(photos.glob("photo?.png")):
        out = src.with_name(src.stem + "-q8.png")
        assert out.exists()
        assert len(tools.palette_of(out)) <= 8
    assert "6 written" in r.stderr
    assert "\r" not in r.stderr  # no progress bar when stderr is not a terminal
    assert r.stdout == b""


def test_result_matches_the_library(cli, photos):
    import palette_app
    from palette_app.io import load_image

    src = photos / "photo0.png"
    r = cli("quantize", src, "-n", 12, "--seed", 3, "-j", 1)
    assert r.returncode == 0, r.stderr
    expected = palette_app.quantize(load_image(src).pixels, 12, random_state=3)
    with Image.open(photos / "photo0-q12.png") as im:
        idx = np.asarray(im)
        pal = np.asarray(im.getpalette("RGB"), np.uint8).reshape(-1, 3)[: expected.n_colors]
    assert np.array_equal(idx, expected.indices)
    assert np.array_equal(pal, expected.palette.colors)


@pytest.mark.parametrize("fmt, ext, indexed", [
    ("png", ".png", True), ("gif", ".gif", True), ("bmp", ".bmp", True), ("tiff", ".tiff", True),
    ("webp", ".webp", False), ("jpg", ".jpg", False),
])
def test_every_output_format(cli, tools, tmp_path, fmt, ext, indexed):
    src = tools.make_images(tmp_path / "in", n=1)[0]
    r = cli("quantize", src, "-n", 6, "--format", fmt, "-o", tmp_path / "out")
    assert r.returncode == 0, r.stderr
    out = tmp_path / "out" / f"photo0{ext}"
    assert out.exists(), os.listdir(tmp_path / "out")
    with Image.open(out) as im:
        im.load()
        assert im.size == (96, 96)
    if indexed:
        assert len(tools.palette_of(out)) <= 6
    elif fmt == "webp":
        assert len(tools.colors_of(out)) <= 6  # lossless: exactly the palette colors
    else:
        assert "JPEG" in r.stderr  # the note that JPEG is not indexed


def test_folders_are_searched_recursively_and_keep_their_layout(cli, tools, tmp_path):
    root = tmp_path / "shoot"
    tools.make_images(root, n=2)
    tools.make_images(root / "day2" / "raw", n=2)
    (root / "notes.txt").write_text("not an image")
    (root / ".hidden").mkdir()
    tools.make_images(root / ".hidden", n=1)
    r = cli("quantize", root, "-n", 4, "-o", tmp_path / "out", "-j", 1)
    assert r.returncode == 0, r.stderr
    got = sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*")
                 if p.is_file())
    assert got == ["day2/raw/photo0.png", "day2/raw/photo1.png", "photo0.png", "photo1.png"]


def test_glob_selects_files_in_folders(cli, tools, tmp_path):
    root = tmp_path / "in"
    tools.make_images(root, n=2)
    with Image.open(root / "photo0.png") as im:
        im.convert("RGB").save(root / "extra.jpg", quality=90)
    r = cli("quantize", root, "--glob", "*.jpg", "-o", tmp_path / "out", "-j", 1)
    assert r.returncode == 0, r.stderr
    assert sorted(os.listdir(tmp_path / "out")) == ["extra.png"]
    r = cli("quantize", root, "--glob", "*.nothing", "-o", tmp_path / "out2")
    assert r.returncode == 1 and "no images matching" in r.stderr


def test_rerun_in_place_skips_earlier_outputs(cli, photos):
    assert cli("quantize", photos, "-n", 4, "-j", 1).returncode == 0
    r = cli("quantize", photos, "-n", 4, "-j", 1)
    assert r.returncode == 0
    # photoN-q4.png are taken as earlier outputs, not as new inputs (no photoN-q4-q4.png).
    assert not list(photos.glob("*-q4-q4.png"))
    assert "6 skipped" in r.stderr


def test_colliding_outputs_are_refused_before_anything_is_written(cli, tools, tmp_path):
    src = tools.make_images(tmp_path / "in", n=2)
    with Image.open(src[0]) as im:
        im.save(tmp_path / "in" / "photo0.bmp")
    r = cli("quantize", tmp_path / "in" / "photo0.png", tmp_path / "in" / "photo0.bmp",
            tmp_path / "in" / "photo1.png", "-o", tmp_path / "out")
    assert r.returncode == 2
    assert "photo0.png" in r.stderr and "photo0.bmp" in r.stderr and "collide" in r.stderr
    assert not (tmp_path / "out").exists() or not os.listdir(tmp_path / "out")
    # An output that would replace its own input.
    r = cli("quantize", tmp_path / "in" / "photo1.png", "--suffix", "")
    assert r.returncode == 2 and "replaced" in r.stderr
    assert (tmp_path / "in" / "photo1.png").read_bytes() == src[1].read_bytes()


def test_on_exist_skip_overwrite_rename(cli, tools, tmp_path):
    src = tools.make_images(tmp_path / "in", n=1)[0]
    out = tmp_path / "out" / "photo0.png"
    out.parent.mkdir()
    out.write_bytes(b"old")
    r = cli("quantize", src, "-o", out.parent)                      # skip (the default)
    assert r.returncode == 0 and "1 skipped" in r.stderr and out.read_bytes() == b"old"
    r = cli("quantize", src, "-o", out.parent, "--on-exist", "rename")
    assert r.returncode == 0 and out.read_bytes() == b"old"
    renamed = out.with_name("photo0-1.png")
    assert renamed.exists() and renamed.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    r = cli("quantize", src, "-o", out.parent, "--on-exist", "rename")
    assert out.with_name("photo0-2.png").exists()
    r = cli("quantize", src, "-o", out.parent, "--on-exist", "overwrite")
    assert r.returncode == 0 and out.read_bytes() == renamed.read_bytes()


def test_a_corrupt_file_does_not_stop_the_batch(cli, photos):
    (photos / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    (photos / "empty.jpg").write_bytes(b"")
    r = cli("quantize", photos, "-o", photos.parent / "out", "-j", 2, "--report",
            photos.parent / "r.json")
    assert r.returncode == 1
    assert "broken.png" in r.stderr and "empty.jpg" in r.stderr and "Traceback" not in r.stderr
    assert "6 written, 2 failed" in r.stderr
    assert sorted(os.listdir(photos.parent / "out")) == [f"photo{i}.png" for i in range(6)]
    report = json.loads((photos.parent / "r.json").read_text())
    failed = {os.path.basename(f["input"]): f["reason"] for f in report["files"] if f["status"] == "failed"}
    assert set(failed) == {"broken.png", "empty.jpg"}
    assert all(os.path.basename(k) in v for k, v in failed.items())


def test_json_report_lists_every_input(cli, photos):
    import palette_app
    from palette_app.io import load_image

    (photos / "broken.gif").write_bytes(b"GIF89a")
    out = photos.parent / "out"
    out.mkdir()
    (out / "photo5.png").write_bytes(b"existing")
    rep = photos.parent / "report.json"
    r = cli("quantize", photos, "-n", 10, "-o", out, "--report", rep, "-j", 1)
    assert r.returncode == 1, r.stderr
    doc = json.loads(rep.read_text())
    assert doc["format"] == "palette-app/batch-report" and doc["version"] == 1
    assert doc["settings"]["n_colors"] == 10 and doc["settings"]["format"] == "PNG"
    files = {os.path.basename(f["input"]): f for f in doc["files"]}
    assert set(files) == {f"photo{i}.png" for i in range(6)} | {"broken.gif"}
    assert doc["summary"] | {} == doc["summary"]
    s = doc["summary"]
    assert (s["total"], s["ok"], s["failed"], s["skipped"], s["cancelled"]) == (7, 5, 1, 1, 0)
    assert files["photo5.png"]["status"] == "skipped" and files["photo5.png"]["reason"]
    assert files["broken.gif"]["status"] == "failed" and "broken.gif" in files["broken.gif"]["reason"]
    for i in range(5):
        f = files[f"photo{i}.png"]
        src = photos / f"photo{i}.png"
        assert f["status"] == "ok" and f["reason"] is None
        assert f["output"] == str(out / f"photo{i}.png")
        assert f["bytes_before"] == src.stat().st_size
        assert f["bytes_after"] == (out / f"photo{i}.png").stat().st_size
        expected = palette_app.quantize(load_image(src).pixels, 10)
        assert f["colors"] == expected.n_colors
        assert f["psnr"] == pytest.approx(expected.psnr)
        assert f["delta_e"] == pytest.approx(expected.delta_e)
        assert f["seconds"] > 0 and f["exact"] is False


def test_csv_report(cli, photos):
    rep = photos.parent / "report.csv"
    r = cli("quantize", photos / "photo0.png", photos / "photo1.png", "--report", rep, "-q")
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""  # --quiet
    rows = list(csv.DictReader(rep.open()))
    assert [row["status"] for row in rows] == ["ok", "ok"]
    assert list(rows[0]) == ["input", "output", "status", "reason", "colors", "psnr", "delta_e",
                             "bytes_before", "bytes_after", "seconds"]
    assert 0 < float(rows[0]["psnr"]) < 100 and int(rows[0]["colors"]) <= 16


def test_stdin_to_stdout(cli, tools, tmp_path):
    src = tools.make_images(tmp_path, n=1)[0]
    r = cli("quantize", "-", "-n", 5, "--format", "gif", stdin=src.read_bytes())
    assert r.returncode == 0, r.stderr
    assert r.stdout[:4] == b"GIF8"
    (tmp_path / "o.gif").write_bytes(r.stdout)
    assert len(tools.palette_of(tmp_path / "o.gif")) <= 5
    r = cli("quantize", "-", stdin=b"not an image")
    assert r.returncode == 1 and "<stdin>" in r.stderr and r.stdout == b""
    r = cli("quantize", "-", src)
    assert r.returncode == 2


def test_fixed_palette(cli, photos, tools):
    pal = photos.parent / "brand.gpl"
    pal.write_text("GIMP Palette\nName: brand\n#\n255 0 0 red\n0 0 255 blue\n240 240 240 paper\n"
                   "20 20 20 ink\n")
    r = cli("quantize", photos / "photo0.png", photos / "photo1.png", "--palette", pal, "-j", 1)
    assert r.returncode == 0, r.stderr
    allowed = {(255, 0, 0), (0, 0, 255), (240, 240, 240), (20, 20, 20)}
    for i in (0, 1):
        assert tools.colors_of(photos / f"photo{i}-q16.png") <= allowed
    r = cli("quantize", photos / "photo0.png", "--palette", photos.parent / "missing.gpl")
    assert r.returncode == 1 and "missing.gpl" in r.stderr


def test_locked_colors_are_in_every_palette(cli, photos, tools):
    r = cli("quantize", photos / "photo0.png", photos / "photo3.png", "-n", 6,
            "--lock", "e30613,00ff00", "--lock", "#0000ff", "-j", 1)
    assert r.returncode == 0, r.stderr
    for name in ("photo0-q6.png", "photo3-q6.png"):
        with Image.open(photos / name) as im:
            pal = {tuple(c) for c in np.asarray(im.getpalette("RGB"), np.uint8).reshape(-1, 3)[:6]}
        assert {(0xE3, 0x06, 0x13), (0, 255, 0), (0, 0, 255)} <= pal
    r = cli("quantize", photos / "photo0.png", "--lock", "nothex")
    assert r.returncode == 2 and "nothex" in r.stderr


def test_shared_palette_gives_every_output_the_same_colors(cli, photos, tools):
    r = cli("quantize", photos, "-n", 12, "--shared-palette", "-o", photos.parent / "out", "-j", 2)
    assert r.returncode == 0, r.stderr
    pals = []
    for p in sorted((photos.parent / "out").iterdir()):
        with Image.open(p) as im:
            pals.append(np.asarray(im.getpalette("RGB"), np.uint8).reshape(-1, 3)[:12])
    assert len(pals) == 6 and all(np.array_equal(p, pals[0]) for p in pals)


def test_quality_target_uses_the_fewest_colors(cli, photos):
    rep = photos.parent / "r.json"
    r = cli("quantize", photos / "photo0.png", "-n", 64, "--quality", 30, "--report", rep)
    assert r.returncode == 0, r.stderr
    f = json.loads(rep.read_text())["files"][0]
    assert f["psnr"] >= 30 and f["colors"] < 64


def test_dithering_and_space_options(cli, photos, tools):
    r = cli("quantize", photos / "photo0.png", "-n", 8, "--dither", "fs", "--strength", 0.5,
            "--space", "oklab", "--smooth-only")
    assert r.returncode == 0, r.stderr
    assert len(tools.palette_of(photos / "photo0-q8.png")) <= 8
    r = cli("quantize", photos / "photo0.png", "--strength", 2)
    assert r.returncode == 2 and "between 0 and 1" in r.stderr


def test_skip_if_larger(cli, tmp_path):
    # A 2-color image stored as a tiny PNG: a JPEG of it can only be larger.
    src = tmp_path / "flat.png"
    Image.fromarray(np.repeat(np.array([[0, 255]], np.uint8), 32, 0).repeat(3).reshape(32, 2, 3)
                    .repeat(16, 1).copy()).convert("P").save(src, optimize=True)
    r = cli("quantize", src, "--format", "jpg", "--skip-if-larger", "--report", tmp_path / "r.json")
    assert r.returncode == 0, r.stderr
    f = json.loads((tmp_path / "r.json").read_text())["files"][0]
    assert f["status"] == "skipped" and "larger" in f["reason"]
    assert not (tmp_path / "flat-q16.jpg").exists()


@pytest.mark.parametrize("args, message", [
    (["--report", "r.txt"], ".json or .csv"),
    (["--executor", "local", "--scheduler", "tcp://127.0.0.1:1"], "Dask"),
    (["-n", "300"], "between 2 and 256"),
    (["-j", "0"], "at least 1"),
    (["--palette", "p.gpl", "--shared-palette"], "cannot be combined"),
])
def test_usage_errors_exit_2(cli, photos, args, message):
    (photos / "p.gpl").write_text("GIMP Palette\n255 0 0\n")
    r = cli("quantize", photos / "photo0.png", *args, cwd=photos)
    assert r.returncode == 2, r.stderr
    assert message in r.stderr and "Traceback" not in r.stderr
    assert not list(photos.glob("*-q*"))


def test_a_missing_input_fails_but_the_others_are_done(cli, photos):
    r = cli("quantize", photos / "photo0.png", photos / "nope.png", "-j", 1)
    assert r.returncode == 1 and "nope.png" in r.stderr
    assert (photos / "photo0-q16.png").exists()


def test_an_output_that_cannot_be_written_is_reported(cli, photos, tmp_path):
    blocker = tmp_path / "out" / "photo0.png"
    blocker.mkdir(parents=True)  # a folder where the file should go
    r = cli("quantize", photos / "photo0.png", photos / "photo1.png", "-o", tmp_path / "out",
            "--on-exist", "overwrite", "-j", 1)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "photo0.png" in r.stderr and "1 written, 1 failed" in r.stderr
    assert blocker.is_dir() and (tmp_path / "out" / "photo1.png").is_file()
