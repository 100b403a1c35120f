"""Small images for the batch engine tests."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def sample_rgb() -> np.ndarray:
    from PIL import Image

    with Image.open(ROOT / "assets" / "astronaut.png") as im:
        return np.asarray(im.convert("RGB")).copy()


@pytest.fixture
def image_dir(tmp_path, sample_rgb) -> Path:
    """``in/`` with four different 80 x 80 PNG photos."""
    from PIL import Image

    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(4):
        crop = sample_rgb[40 * i:40 * i + 80, 90 * i:90 * i + 80]
        Image.fromarray(np.ascontiguousarray(crop[:, ::-1] if i % 2 else crop)).save(folder / f"p{i}.png")
    return folder
