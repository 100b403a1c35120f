"""``palette-app elbow``, ``gui``, help and version, and the progress bar on a terminal."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from PIL import Image


def test_elbow_prints_the_curve_and_a_suggested_k(cli, tools, tmp_path):
    import palette_app
    from palette_app.io import load_image

    r = cli("elbow", tools.sample, "--max", 12)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.decode().strip().splitlines()
    assert lines[0].split() == ["k", "inertia", "ΔE2000"]
    rows = lines[1:-1]
    assert [int(row.split()[0]) for row in rows] == list(range(2, 13))
    curve = palette_app.elbow(load_image(tools.sample).pixels, k_max=12)
    assert lines[-1] == f"suggested: {curve.suggested_k} colors"
    marked = [row for row in rows if "suggested" in row]
    assert len(marked) == 1 and int(marked[0].split()[0]) == curve.suggested_k
    des = [float(row.split()[2]) for row in rows]
    assert des[0] > des[-1]


def test_elbow_plot(cli, tools, tmp_path):
    plot = tmp_path / "elbow.png"
    r = cli("elbow", tools.sample, "--max", 8, "--plot", plot)
    assert r.returncode == 0, r.stderr
    with Image.open(plot) as im:
        assert im.format == "PNG" and im.size == (800, 480)
    r = cli("elbow", tools.sample, "--max", 8, "--plot", plot)
    assert r.returncode == 1 and "exists" in r.stderr
    assert cli("elbow", tools.sample, "--max", 8, "--plot", plot, "--overwrite").returncode == 0
    r = cli("elbow", tools.sample, "--plot", tmp_path / "elbow.svg")
    assert r.returncode == 2
    r = cli("elbow", tools.sample, "--min", 9, "--max", 8)
    assert r.returncode == 2
    r = cli("elbow", tmp_path / "missing.png")
    assert r.returncode == 1 and "missing.png" in r.stderr


_GUI_STUB = textwrap.dedent("""
    import sys, types
    calls = []
    stub = types.ModuleType("palette_app.gui.app")
    stub.main = lambda image_path=None: calls.append(image_path) or 0
    sys.modules["palette_app.gui.app"] = stub
    from palette_app.cli import main
    for argv in ([], ["gui"], ["gui", sys.argv[1]]):
        code = main(argv)
        assert code == 0, code
    print(calls)
""")


def test_gui_command_and_no_command_open_the_app(tools):
    r = subprocess.run([sys.executable, "-c", _GUI_STUB, str(tools.sample)], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == repr([None, None, str(tools.sample)])


def test_gui_that_cannot_start_is_a_clear_error(tools):
    code = ("import sys; sys.modules['palette_app.gui.app'] = None\n"
            "from palette_app.cli import main; sys.exit(main(['gui']))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 1
    assert "desktop app cannot start" in r.stderr and "Traceback" not in r.stderr
    code = "import sys; from palette_app.cli import main; sys.exit(main(['gui', 'nope.png']))"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "nope.png" in r.stderr


def test_no_display_is_a_clear_error(cli_cmd):
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    if sys.platform.startswith(("win", "darwin")):
        pytest.skip("there is always a display")
    r = subprocess.run(cli_cmd, capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 1 and "no display" in r.stderr and "palette-app --help" in r.stderr


def test_help_for_every_command(cli):
    for command in ([], ["quantize"], ["palette"], ["elbow"], ["gui"]):
        r = cli(*command, "--help")
        assert r.returncode == 0 and b"usage: palette-app" in r.stdout
    assert b"--on-exist" in cli("quantize", "--help").stdout


def test_progress_bar_on_a_terminal(cli_cmd, photos):
    pty = pytest.importorskip("pty")
    master, slave = pty.openpty()
    try:
        r = subprocess.run(cli_cmd + ["quantize", str(photos), "-n", "4", "-j", "1"],
                           stdout=subprocess.DEVNULL, stderr=slave, timeout=120,
                           env=dict(os.environ, TERM="xterm", COLUMNS="100"))
        os.close(slave)
        slave = None
        chunks = []
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the terminal's other end is closed
                break
            if not data:
                break
            chunks.append(data)
    finally:
        if slave is not None:
            os.close(slave)
        os.close(master)
    text = b"".join(chunks).decode()
    assert r.returncode == 0
    assert "\r[" in text and "6/6 files" in text
    assert "6 written" in text
    r = subprocess.run(cli_cmd + ["quantize", str(photos), "-n", "4", "-q", "-j", "1",
                                  "--on-exist", "overwrite"],
                       capture_output=True, timeout=120)
    assert r.returncode == 0 and r.stderr == b""
