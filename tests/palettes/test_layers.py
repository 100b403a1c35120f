"""Palette files stay in their layer: no Qt, and Pillow only when a PNG strip is written."""
from __future__ import annotations

import subprocess
import sys

CHECK = """
import sys
import numpy as np
from palette_app.core import Palette
from palette_app.io.palettes import encode_palette, read_palette
data, _ = encode_palette(Palette.from_hex(["#ff0000"]), "ase")
read_palette(data)
assert "PIL" not in sys.modules, "reading and writing ASE imported Pillow"
encode_palette(Palette.from_hex(["#ff0000"]), "png")
assert "PIL" in sys.modules
assert not any(m.startswith(("PySide6", "PyQt", "shiboken")) for m in sys.modules), "Qt imported"
print("ok")
"""


def test_palette_files_import_neither_qt_nor_pillow_needlessly():
    out = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
