"""The command line, through its real entry point (a subprocess)."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "assets" / "astronaut.png"


def run(*args, cwd=None):
    exe = shutil.which("palette-app", path=str(Path(sys.executable).parent))
    cmd = [exe] if exe else [sys.executable, "-m", "palette_app.cli"]
    env = dict(os.environ, NO_COLOR="1")
    return subprocess.run(cmd + [str(a) for a in args], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=300)


def test_palette_prints_a_table_of_hex_and_shares():
    r = run("palette", SAMPLE, "-n", 6)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert lines[0].split()[:3] == ["#", "swatch", "hex"]
    rows = lines[1:]
    assert len(rows) == 6
    shares = [float(row.split()[2].rstrip("%")) for row in rows]
    assert sum(shares) == pytest.approx(100, abs=0.5)
    assert shares == sorted(shares, reverse=True)
    assert all(row.split()[1].startswith("#") and len(row.split()[1]) == 7 for row in rows)


def test_palette_matches_the_library():
    import palette_app
    from PIL import Image

    rgb = np.asarray(Image.open(SAMPLE).convert("RGB"))
    expected = palette_app.quantize(rgb, 5).palette.hex
    r = run("palette", SAMPLE, "-n", 5)
    got = [row.split()[1] for row in r.stdout.strip().splitlines()[1:]]
    assert got == expected


def test_palette_writes_a_file_and_refuses_to_overwrite(tmp_path):
    out = tmp_path / "p.gpl"
    r = run("palette", SAMPLE, "-n", 4, "-o", out)
    assert r.returncode == 0, r.stderr
    from palette_app.io import read_palette

    assert len(read_palette(out)) == 4
    before = out.read_bytes()
    r = run("palette", SAMPLE, "-n", 7, "-o", out)
    assert r.returncode == 1 and "exists" in r.stderr and "Traceback" not in r.stderr
    assert out.read_bytes() == before
    r = run("palette", SAMPLE, "-n", 7, "-o", out, "--overwrite")
    assert r.returncode == 0 and len(read_palette(out)) == 7


def test_bad_input_gets_a_clear_error_not_a_traceback(tmp_path):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20)
    r = run("palette", bad)
    assert r.returncode == 1
    assert "broken.png" in r.stderr and "Traceback" not in r.stderr
    r = run("palette", tmp_path / "missing.jpg")
    assert r.returncode == 1 and "missing.jpg" in r.stderr


def test_usage_errors_exit_2():
    r = run("palette", SAMPLE, "-n", 1)
    assert r.returncode == 2 and "between 2 and 256" in r.stderr
    r = run("frobnicate")
    assert r.returncode == 2
    r = run("--version")
    assert r.returncode == 0 and r.stdout.startswith("palette-app ")
