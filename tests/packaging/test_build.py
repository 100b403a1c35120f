"""The real build, only with PALETTE_APP_BUILD_TESTS=1 (needs PyInstaller, dpkg-deb, minutes)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.environ.get("PALETTE_APP_BUILD_TESTS") != "1",
                       reason="set PALETTE_APP_BUILD_TESTS=1 to build the installers"),
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux installers"),
]


def test_ci_check():
    """Build the bundle, .deb and .tar.gz and run every check of packaging/ci_check.sh."""
    env = dict(os.environ, PYTHON=sys.executable)
    subprocess.run(["bash", str(PACKAGING / "ci_check.sh")], cwd=ROOT, env=env, check=True)
