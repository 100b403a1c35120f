"""The self-test (``palette-app --self-test``) run in-process, and its failure report."""
from __future__ import annotations

import io
from pathlib import Path

from palette_app import selftest

ROOT = Path(__file__).resolve().parents[2]
ASSETS = ROOT / "assets"


def test_self_test_passes(qapp):
    out = io.StringIO()
    assert selftest.run_self_test(out) == 0, out.getvalue()
    text = out.getvalue()
    assert "self-test passed" in text
    for step in ("import every module", "load the sample image", "quantize to 16 colors",
                 "save, read back and compare", "build the main window"):
        assert f"ok    {step}" in text, text


def test_missing_sample_is_a_clear_failure(monkeypatch, qapp):
    monkeypatch.setattr(selftest, "SAMPLE_IMAGE", ("data", "no-such-image.png"))
    out = io.StringIO()
    assert selftest.run_self_test(out) == 1
    text = out.getvalue()
    assert "FAIL  load the sample image" in text
    assert "palette_app/data/no-such-image.png is missing from the install" in text
    assert text.rstrip().endswith("self-test FAILED")
    assert "Traceback" not in text  # an expected failure reads as a message, not a crash


def test_bad_round_trip_is_reported(monkeypatch, qapp):
    """A writer that loses pixels fails the comparison step, naming how many differ."""
    from palette_app.io import image_save

    real_save = image_save.save_image

    def lossy_save(result, path, *args, **kwargs):
        indices = result.indices.copy()
        indices[0, :10] = (indices[0, :10] + 1) % result.n_colors
        return real_save(type(result)(palette=result.palette, indices=indices), path, *args, **kwargs)

    monkeypatch.setattr(image_save, "save_image", lossy_save)
    out = io.StringIO()
    assert selftest.run_self_test(out) == 1
    text = out.getvalue()
    assert "FAIL  save, read back and compare" in text
    assert "pixels differ between the saved file and the result" in text


def test_sample_in_package_is_the_repository_asset():
    from importlib.resources import files

    packaged = files("palette_app").joinpath(*selftest.SAMPLE_IMAGE).read_bytes()
    assert packaged == (ASSETS / "astronaut.png").read_bytes()
