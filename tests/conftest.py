"""Shared fixtures: real photos and synthetic images."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ROOT / "assets"


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    """The bundled sample photo as (512, 512, 3) uint8."""
    from PIL import Image

    with Image.open(ASSETS / "astronaut.png") as im:
        return np.asarray(im.convert("RGB")).copy()


@pytest.fixture(scope="session")
def china() -> np.ndarray:
    """scikit-learn's china.jpg, (427, 640, 3) uint8."""
    from sklearn.datasets import load_sample_image

    return load_sample_image("china.jpg")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)
