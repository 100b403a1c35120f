"""Batches of images with no opaque pixel (regression: quantize and remap raised
UFuncTypeError on them, so every such file failed)."""
from __future__ import annotations

import numpy as np
import pytest

from palette_app.batch.engine import run_batch
from palette_app.batch.plan import plan_jobs
from palette_app.batch.settings import BatchSettings


@pytest.fixture
def translucent_dir(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(3)
    folder = tmp_path / "in"
    folder.mkdir()
    half = rng.integers(0, 256, (20, 30, 4), dtype=np.uint8)
    half[..., 3] = 128
    Image.fromarray(half).save(folder / "half.png")
    soft = rng.integers(0, 256, (20, 30, 4), dtype=np.uint8)
    soft[..., 3] = rng.integers(1, 255, (20, 30))
    Image.fromarray(soft).save(folder / "soft.png")
    return folder


@pytest.mark.parametrize("settings", [
    BatchSettings(n_colors=8),
    BatchSettings(n_colors=8, dither="fs"),
    BatchSettings(n_colors=8, shared_palette=True),
    BatchSettings(palette=("#000000", "#ffffff", "#ff0000")),
], ids=["quantize", "dither", "shared", "fixed-palette"])
def test_images_without_opaque_pixels_are_reduced(translucent_dir, tmp_path, settings):
    from PIL import Image

    results = run_batch(plan_jobs([translucent_dir], outdir=tmp_path / "o"), settings, jobs_n=1)
    assert [r.status for r in results] == ["ok", "ok"], [r.reason for r in results]
    for r in results:
        assert 1 <= r.colors <= 8
        with Image.open(r.output) as im:
            assert im.size == (30, 20)
            alpha = np.asarray(im.convert("RGBA"))[..., 3]
        with Image.open(r.input) as im:
            original = np.asarray(im)[..., 3]
        if settings.palette is None and not settings.shared_palette:
            # Quantized: the translucent pixels stay translucent.
            assert np.all((alpha > 0) & (alpha < 255))
            if r.input.endswith("half.png"):
                assert np.all(alpha == original)
