"""Ctrl-C (SIGINT) in the middle of a batch: a clean stop, finished files kept, nothing partial."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import numpy as np
import pytest
from PIL import Image

N = 30


def _photos(folder, sample, n):
    """``n`` different 384 x 384 photos (crops and rotations of the sample)."""
    with Image.open(sample) as im:
        rgb = np.asarray(im.convert("RGB"))
    folder.mkdir()
    for i in range(n):
        y, x = (13 * i) % 128, (29 * i) % 128
        crop = np.rot90(rgb[y:y + 384, x:x + 384], i % 4)
        Image.fromarray(np.ascontiguousarray(crop)).save(folder / f"img{i:02d}.png", compress_level=1)


@pytest.mark.parametrize("jobs", [2, 1])
def test_sigint_mid_batch_stops_cleanly(tmp_path, cli_cmd, tools, jobs):
    _photos(tmp_path / "in", tools.sample, N)
    out = tmp_path / "out"
    report = tmp_path / "report.json"
    proc = subprocess.Popen(cli_cmd + ["quantize", str(tmp_path / "in"), "-n", "256", "-o", str(out),
                                       "-j", str(jobs), "--report", str(report)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=dict(os.environ, NO_COLOR="1"))
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if out.is_dir() and any(out.iterdir()):
                break
            time.sleep(0.02)
        assert proc.poll() is None, "the batch ended before it could be interrupted"
        proc.send_signal(signal.SIGINT)
        t0 = time.monotonic()
        _, err = proc.communicate(timeout=60)
        stop_seconds = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err = err.decode()
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert stop_seconds < 15
    written = sorted(p.name for p in out.iterdir())
    assert 0 < len(written) < N
    # Every file there is complete (no temporary or partial files).
    for name in written:
        assert name.endswith(".png") and not name.startswith(".")
        with Image.open(out / name) as im:
            im.load()
            assert im.mode == "P" and im.size == (384, 384)
    doc = json.loads(report.read_text())
    status = {os.path.basename(f["output"]): f["status"] for f in doc["files"]}
    assert sorted(k for k, v in status.items() if v == "ok") == written
    assert {v for k, v in status.items() if k not in written} == {"cancelled"}
    assert doc["summary"]["cancelled"] == N - len(written)
