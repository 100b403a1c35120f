"""BatchSettings.smoothing: checked, reported, and passed to the core where it applies."""
from __future__ import annotations

import json

import numpy as np
import pytest

from palette_app.batch.report import report_json
from palette_app.batch.settings import BatchSettings
from palette_app.batch.worker import reduce_pixels


@pytest.fixture(scope="module")
def pixels(sample_rgb):
    return np.ascontiguousarray(sample_rgb[100:260, 150:310])


def test_smoothing_is_checked_and_normalised():
    assert BatchSettings().smoothing is None
    assert BatchSettings(smoothing=1).smoothing == 1.0 and isinstance(BatchSettings(smoothing=1).smoothing, float)
    assert BatchSettings(smoothing=np.float32(0.25)).smoothing == 0.25
    # 0 (exact) is what remapping and dithering do anyway.
    BatchSettings(smoothing=0, dither="fs")
    BatchSettings(smoothing=0.0, palette=("#000000",))
    BatchSettings(smoothing=0, shared_palette=True)


@pytest.mark.parametrize("kw, err, match", [
    ({"smoothing": 1.5}, ValueError, "between 0 and 1"),
    ({"smoothing": -0.5}, ValueError, "between 0 and 1"),
    ({"smoothing": float("nan")}, ValueError, "between 0 and 1"),
    ({"smoothing": True}, TypeError, "number"),
    ({"smoothing": "0.5"}, TypeError, "number"),
    ({"smoothing": 0.5, "dither": "ordered"}, ValueError, "cannot be combined"),
    ({"smoothing": 0.5, "palette": ("#000000",)}, ValueError, "cannot be combined"),
    ({"smoothing": 0.5, "shared_palette": True}, ValueError, "cannot be combined"),
])
def test_bad_smoothing_is_refused(kw, err, match):
    with pytest.raises(err, match=match):
        BatchSettings(**kw)


def test_smoothing_is_in_the_report_settings():
    doc = json.loads(report_json([], BatchSettings(n_colors=4, smoothing=0.3)))
    assert doc["settings"]["smoothing"] == 0.3
    assert json.loads(report_json([], BatchSettings()))["settings"]["smoothing"] is None


@pytest.mark.parametrize("smoothing", [None, 0.0, 0.8])
def test_reduce_pixels_passes_smoothing_to_quantize(pixels, smoothing):
    import palette_app

    r = reduce_pixels(pixels, BatchSettings(n_colors=4, smoothing=smoothing))
    expected = palette_app.quantize(pixels, 4, smoothing=smoothing)
    assert np.array_equal(r.indices, expected.indices)
    assert r.settings["smoothing"] == expected.settings["smoothing"]
    if smoothing is not None:
        assert r.settings["smoothing"] == smoothing
    else:
        assert r.settings["smoothing"] > 0          # automatic: smoothing at 4 colors


def test_quality_target_keeps_the_smoothing(pixels):
    s = BatchSettings(n_colors=16, min_psnr=28, smoothing=0.0)
    r = reduce_pixels(pixels, s)
    assert r.settings["smoothing"] == 0.0 and r.psnr >= 28
    px = pixels.reshape(-1, 3).astype(np.int64)
    c = r.palette.colors.astype(np.int64)
    d = ((px[:, None] - c[None]) ** 2).sum(-1)
    assert np.array_equal(d[np.arange(len(px)), r.indices.ravel()], d.min(1))


def test_remapping_never_smooths(pixels):
    pal = ("#000000", "#ffffff", "#ff0000", "#0000ff")
    r = reduce_pixels(pixels, BatchSettings(palette=pal, smoothing=0))
    assert r.settings["smoothing"] == 0.0
    px = pixels.reshape(-1, 3).astype(np.int64)
    c = r.palette.colors.astype(np.int64)
    d = ((px[:, None] - c[None]) ** 2).sum(-1)
    assert np.array_equal(d[np.arange(len(px)), r.indices.ravel()], d.min(1))
