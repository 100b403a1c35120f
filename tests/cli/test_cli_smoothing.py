"""``palette-app quantize --smoothing``: label smoothing from the command line."""
from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image


def _indexed(path):
    with Image.open(path) as im:
        assert im.mode == "P"
        return np.asarray(im), np.asarray(im.getpalette("RGB"), np.uint8).reshape(-1, 3)


@pytest.fixture
def photo(tmp_path, tools):
    """A 192 x 192 crop of the sample photo (smoothing needs rows to work on)."""
    with Image.open(tools.sample) as im:
        rgb = np.asarray(im.convert("RGB"))[120:312, 160:352]
    path = tmp_path / "in" / "photo.png"
    path.parent.mkdir()
    Image.fromarray(np.ascontiguousarray(rgb)).save(path)
    return path


def test_smoothing_0_puts_every_pixel_on_its_nearest_color(cli, photo, tmp_path):
    r = cli("quantize", photo, "-n", 4, "--smoothing", 0, "-o", tmp_path / "exact", "-j", 1,
            "--report", tmp_path / "r.json")
    assert r.returncode == 0, r.stderr
    idx, pal = _indexed(tmp_path / "exact" / "photo.png")
    with Image.open(photo) as im:
        px = np.asarray(im.convert("RGB")).reshape(-1, 3).astype(np.int64)
    pal = pal[: int(idx.max()) + 1].astype(np.int64)
    d = ((px[:, None, :] - pal[None]) ** 2).sum(-1)
    assert np.array_equal(d[np.arange(len(px)), idx.ravel()], d.min(1))
    assert json.loads((tmp_path / "r.json").read_text())["settings"]["smoothing"] == 0.0


def test_default_at_4_colors_is_no_larger_than_exact(cli, photo, tmp_path):
    exact = cli("quantize", photo, "-n", 4, "--smoothing", "0", "-o", tmp_path / "exact", "-j", 1)
    auto = cli("quantize", photo, "-n", 4, "-o", tmp_path / "auto", "-j", 1, "--report", tmp_path / "r.json")
    named = cli("quantize", photo, "-n", 4, "--smoothing", "auto", "-o", tmp_path / "named", "-j", 1)
    assert exact.returncode == auto.returncode == named.returncode == 0, auto.stderr
    size_exact = (tmp_path / "exact" / "photo.png").stat().st_size
    size_auto = (tmp_path / "auto" / "photo.png").stat().st_size
    assert size_auto <= size_exact
    # The default is smoothing (some pixels moved off their nearest color), and 'auto' is the default.
    assert not np.array_equal(_indexed(tmp_path / "auto" / "photo.png")[0],
                              _indexed(tmp_path / "exact" / "photo.png")[0])
    assert (tmp_path / "named" / "photo.png").read_bytes() == (tmp_path / "auto" / "photo.png").read_bytes()
    assert json.loads((tmp_path / "r.json").read_text())["settings"]["smoothing"] is None


def test_smoothing_matches_the_library(cli, photo, tmp_path):
    import palette_app
    from palette_app.io import load_image

    r = cli("quantize", photo, "-n", 6, "--smoothing", "0.8", "-o", tmp_path / "o", "-j", 1)
    assert r.returncode == 0, r.stderr
    expected = palette_app.quantize(load_image(photo).pixels, 6, smoothing=0.8)
    assert expected.settings["smoothing"] == 0.8
    idx, pal = _indexed(tmp_path / "o" / "photo.png")
    assert np.array_equal(idx, expected.indices)
    assert np.array_equal(pal[: expected.n_colors], expected.palette.colors)


@pytest.mark.parametrize("args, message", [
    (["--smoothing", "2"], "between 0 and 1"),
    (["--smoothing", "-0.1"], "between 0 and 1"),
    (["--smoothing", "lots"], "'auto' or a number"),
    (["--smoothing", "nan"], "between 0 and 1"),
    (["--smoothing", "inf"], "between 0 and 1"),
    (["--smoothing"], "expected one argument"),
    (["--smoothing", "0.5", "--dither", "fs"], "cannot be combined"),
    (["--smoothing", "0.5", "--palette", "p.gpl"], "cannot be combined"),
    (["--smoothing", "0.5", "--shared-palette"], "cannot be combined"),
])
def test_bad_smoothing_is_a_usage_error(cli, photo, args, message):
    (photo.parent / "p.gpl").write_text("GIMP Palette\n255 0 0\n")
    r = cli("quantize", photo, *args, cwd=photo.parent)
    assert r.returncode == 2, r.stderr
    assert message in r.stderr and "Traceback" not in r.stderr
    assert "--smoothing" in r.stderr or "smoothing" in r.stderr
    assert not list(photo.parent.glob("*-q*"))


def test_smoothing_0_goes_with_remapping_and_dithering(cli, photo, tmp_path):
    """They never smooth, so 0 (exact) is what they do anyway: accepted."""
    (tmp_path / "p.gpl").write_text("GIMP Palette\n255 0 0\n0 0 255\n")
    for extra in (["--dither", "fs"], ["--palette", tmp_path / "p.gpl"]):
        r = cli("quantize", photo, "-n", 4, "--smoothing", "0", *extra, "-o", tmp_path / "o",
                "--on-exist", "overwrite", "-j", 1)
        assert r.returncode == 0, r.stderr


def test_help_explains_smoothing(cli):
    r = cli("quantize", "--help")
    assert r.returncode == 0
    text = " ".join(r.stdout.decode().split())
    assert "--smoothing auto|0-1" in text and "PNGs of few colors smaller" in text
