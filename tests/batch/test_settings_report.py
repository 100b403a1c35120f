"""BatchSettings checks, the report formats and the histogram merge."""
from __future__ import annotations

import csv
import io
import json
import math

import numpy as np
import pytest

from palette_app.batch.histograms import HistogramAccumulator
from palette_app.batch.report import report_csv, report_format, report_json, summary
from palette_app.batch.result import JobResult
from palette_app.batch.settings import BatchSettings, output_format


def test_settings_normalise_their_values():
    s = BatchSettings(n_colors=8, locked=("E30613", "#fff", "e30613"), format="jpg",
                      palette=None, dither="fs", dither_strength=1)
    assert s.locked == ("#e30613", "#ffffff")
    assert s.format == "JPEG" and s.extension == ".jpg"
    assert s.dither_strength == 1.0 and isinstance(s.dither_strength, float)
    assert BatchSettings(palette=("#FF0000", "00ff00ff", "#0000ff80")).palette == (
        "#ff0000", "#00ff00", "#0000ff80")
    assert output_format(".tif") == "TIFF"
    json.dumps(s.to_dict())


@pytest.mark.parametrize("kw, match", [
    (dict(n_colors=1), "between 2 and 256"),
    (dict(n_colors=300), "between 2 and 256"),
    (dict(n_colors=True), "integer"),
    (dict(dither="floyd"), "dither"),
    (dict(dither_strength=1.5), "between 0 and 1"),
    (dict(space="hsv"), "space"),
    (dict(effort="max"), "effort"),
    (dict(locked=("#12345",)), "not a color"),
    (dict(n_colors=2, locked=("#000000", "#ffffff", "#ff0000")), "do not fit"),
    (dict(palette=()), "1 to 256"),
    (dict(palette=("#000000",), shared_palette=True), "cannot be combined"),
    (dict(shared_palette=True, min_psnr=30), "cannot be combined"),
    (dict(min_psnr=-1), "positive"),
    (dict(format="psd"), "unknown output format"),
    (dict(on_exist="ask"), "on_exist"),
])
def test_settings_refuse_bad_values(kw, match):
    with pytest.raises((ValueError, TypeError), match=match):
        BatchSettings(**kw)


def _results():
    return [
        JobResult("a.png", "a-q.png", "ok", colors=16, psnr=31.5, delta_e=2.25, bytes_before=1000,
                  bytes_after=300, seconds=0.5),
        JobResult("b.png", "b-q.png", "ok", colors=3, psnr=math.inf, delta_e=0.0, bytes_before=100,
                  bytes_after=90, seconds=0.1, notes=("a note",)),
        JobResult("c.png", "c-q.png", "failed", reason="c.png: broken", bytes_before=5),
        JobResult("d.png", "d-q.png", "skipped", reason="the output exists"),
        JobResult("e.png", "e-q.png", "cancelled", reason="stopped"),
    ]


def test_json_report():
    doc = json.loads(report_json(_results(), BatchSettings(), seconds=2.0))
    assert doc["format"] == "palette-app/batch-report" and doc["version"] == 1
    assert doc["summary"] == {"total": 5, "ok": 2, "failed": 1, "skipped": 1, "cancelled": 1,
                              "bytes_before": 1100, "bytes_after": 390, "seconds": 2.0,
                              "images_per_second": 1.0}
    a, b, c = doc["files"][:3]
    assert a["psnr"] == 31.5 and a["exact"] is False and a["notes"] == []
    assert b["psnr"] is None and b["exact"] is True and b["notes"] == ["a note"]
    assert c["status"] == "failed" and c["reason"] == "c.png: broken" and c["colors"] is None
    assert set(a) == {"input", "output", "status", "reason", "colors", "psnr", "delta_e",
                      "bytes_before", "bytes_after", "seconds", "notes", "exact"}


def test_csv_report():
    rows = list(csv.DictReader(io.StringIO(report_csv(_results()))))
    assert [r["status"] for r in rows] == ["ok", "ok", "failed", "skipped", "cancelled"]
    assert rows[0]["psnr"] == "31.5" and rows[1]["psnr"] == "inf" and rows[2]["psnr"] == ""
    assert summary(_results())["failed"] == 1


def test_report_format_from_the_name():
    assert report_format("r.JSON") == ".json" and report_format("x/r.csv") == ".csv"
    with pytest.raises(ValueError, match=".json or .csv"):
        report_format("r.txt")


def test_histogram_accumulator_is_exact(monkeypatch, rng):
    import palette_app.batch.histograms as H
    from palette_app.core import color_histogram

    monkeypatch.setattr(H, "_MERGE_ROWS", 50)  # merge many times on the way
    imgs = [rng.integers(0, 4, (9, 7, 3), dtype=np.uint8) * 60 for _ in range(6)]
    rgba = np.dstack([imgs[0], np.where(rng.random((9, 7)) < 0.3, 0, 255).astype(np.uint8)])
    acc = HistogramAccumulator()
    for im in imgs[1:] + [rgba]:
        acc.add(color_histogram(im))
    merged = acc.result()
    kept = imgs[0].reshape(-1, 3)[rgba[..., 3].reshape(-1) > 0]
    allpix = np.concatenate([im.reshape(-1, 3) for im in imgs[1:]] + [kept])
    colors, counts = np.unique(allpix, axis=0, return_counts=True)
    assert np.array_equal(merged.colors, colors) and np.array_equal(merged.counts, counts)
    assert merged.n_transparent == int((rgba[..., 3] == 0).sum())
    assert acc.n_images == 6 and merged.n_pixels == 6 * 63
