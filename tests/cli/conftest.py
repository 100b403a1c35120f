"""Helpers for the command-line tests: run the real entry point, small sample images."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "assets" / "astronaut.png"


def cli_command() -> list[str]:
    exe = shutil.which("palette-app", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "palette_app.cli"]


def run_cli(*args, cwd=None, stdin: bytes | None = None, timeout: float = 180,
            env: dict | None = None) -> subprocess.CompletedProcess:
    """Run ``palette-app ARGS`` in a subprocess; stdout as bytes, stderr as text."""
    full_env = dict(os.environ, NO_COLOR="1", **(env or {}))
    r = subprocess.run(cli_command() + [str(a) for a in args], input=stdin, capture_output=True,
                       cwd=cwd, env=full_env, timeout=timeout)
    r.stderr = r.stderr.decode("utf-8", "replace")
    return r


def make_images(folder: Path, n: int = 6, size: int = 96) -> list[Path]:
    """``n`` different small photos (crops and flips of the sample), as PNG files."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    with Image.open(SAMPLE) as im:
        rgb = np.asarray(im.convert("RGB"))
    out = []
    for i in range(n):
        y, x = 37 * i % (512 - size), 61 * i % (512 - size)
        crop = rgb[y:y + size, x:x + size]
        if i % 2:
            crop = crop[:, ::-1]
        path = folder / f"photo{i}.png"
        Image.fromarray(np.ascontiguousarray(crop)).save(path)
        out.append(path)
    return out


@pytest.fixture(scope="session")
def photo_set(tmp_path_factory) -> list[Path]:
    return make_images(tmp_path_factory.mktemp("photos"))


@pytest.fixture
def photos(tmp_path, photo_set) -> Path:
    """A fresh folder ``in/`` holding copies of the sample photos."""
    folder = tmp_path / "in"
    folder.mkdir()
    for p in photo_set:
        shutil.copy(p, folder / p.name)
    return folder


def palette_of(path: Path) -> np.ndarray:
    """The palette entries an indexed image actually uses, (k, 3) uint8."""
    from PIL import Image

    with Image.open(path) as im:
        assert im.mode == "P", f"{path} is {im.mode}, not indexed"
        idx = np.asarray(im)
        pal = np.asarray(im.getpalette("RGB"), np.uint8).reshape(-1, 3)
    return pal[np.unique(idx)]


def colors_of(path: Path) -> set[tuple[int, int, int]]:
    from PIL import Image

    with Image.open(path) as im:
        rgb = np.asarray(im.convert("RGB")).reshape(-1, 3)
    return {tuple(int(v) for v in c) for c in np.unique(rgb, axis=0)}


@pytest.fixture(scope="session")
def cli():
    """``cli(*args, cwd=None, stdin=None)`` runs the real entry point."""
    return run_cli


class _Tools:
    make_images = staticmethod(make_images)
    palette_of = staticmethod(palette_of)
    colors_of = staticmethod(colors_of)
    sample = SAMPLE


@pytest.fixture(scope="session")
def tools():
    return _Tools


@pytest.fixture(scope="session")
def cli_cmd() -> list[str]:
    """The command that starts the real entry point (for Popen)."""
    return cli_command()
