"""Fixtures for the packaging tests (none needs PyInstaller)."""
from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

PACKAGING = Path(__file__).resolve().parents[2] / "packaging"


def _load_script(name: str):
    """Import ``packaging/<name>.py`` as a module (packaging/ is not a package)."""
    spec = importlib.util.spec_from_file_location(f"_packaging_{name}", PACKAGING / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def make_icons():
    return _load_script("make_icons")
