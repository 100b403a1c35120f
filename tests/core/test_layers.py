"""Arrows point down: core imports neither Pillow nor Qt, io never imports Qt."""
import ast
import subprocess
import sys
from pathlib import Path

PKG = Path(__file__).resolve().parents[2] / "palette_app"


def _imports(folder):
    for path in sorted((PKG / folder).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    yield path, a.name
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                yield path, node.module


def test_core_imports_only_numpy_numba_and_stdlib():
    banned = ("PIL", "PySide6", "palette_app.io", "palette_app.gui", "palette_app.cli",
              "palette_app.batch", "sklearn", "scipy")
    bad = [(p.name, m) for p, m in _imports("core") if m.split(".")[0] in {"PIL", "PySide6"} or m.startswith(banned)]
    assert bad == []


def test_io_never_imports_qt_or_upper_layers():
    banned = ("PySide6", "palette_app.gui", "palette_app.cli", "palette_app.batch")
    bad = [(p.name, m) for p, m in _imports("io") if m.startswith(banned)]
    assert bad == []


def test_importing_core_loads_neither_pillow_nor_qt():
    code = ("import sys, palette_app, palette_app.core; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('PIL', 'PySide6')]; "
            "print(bad); sys.exit(1 if bad else 0)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
