"""Starting the app: ``main()``, ``python -m palette_app.gui``, and where Qt may be imported."""
from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QSettings, QThreadPool, QTimer
from PySide6.QtWidgets import QApplication

ROOT = Path(__file__).resolve().parents[2]
ASTRONAUT = ROOT / "assets" / "astronaut.png"


def test_main_opens_the_image_and_returns_when_closed(qapp, qtbot, tmp_path, dialogs, monkeypatch):
    from palette_app.gui import app as app_module
    from palette_app.gui.mainwindow import MainWindow

    # Keep the user's settings untouched.
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path))
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    seen = {}

    def poll():
        wins = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        if wins and wins[0].shown is not None:
            w = wins[0]
            seen["title"] = w.windowTitle()
            seen["swatches"] = w.swatches.count()
            # Closing the last window ends the event loop (a direct quit() would
            # leave Qt's own Quit event queued for the next test's loops).
            w.close()
            w.deleteLater()
        else:
            QTimer.singleShot(20, poll)

    QTimer.singleShot(0, poll)
    # Never hang the suite; stopped afterwards (a stray quit() would end later tests' waits).
    guard = QTimer()
    guard.setSingleShot(True)
    guard.timeout.connect(qapp.quit)
    guard.start(30000)
    hook = sys.excepthook
    try:
        code = app_module.main(str(ASTRONAUT))
    finally:
        guard.stop()
        QSettings.setDefaultFormat(QSettings.Format.NativeFormat)
    assert code == 0
    assert seen["title"].startswith("astronaut.png")
    assert seen["swatches"] == 16
    assert sys.excepthook is hook
    assert QThreadPool.globalInstance().waitForDone(10000)


def test_python_m_palette_app_gui_help():
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    r = subprocess.run([sys.executable, "-m", "palette_app.gui", "--help"], capture_output=True,
                       text=True, env=env, timeout=120, check=False)
    assert r.returncode == 0, r.stderr
    assert "image" in r.stdout.lower()


def _qt_imports(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        else:
            continue
        for name in names:
            if name.split(".")[0] in ("PySide6", "shiboken6", "PyQt5", "PyQt6"):
                yield name


def test_layers_below_the_gui_never_import_qt():
    """core, io and batch stay Qt-free (napari keeps Qt in one package likewise)."""
    pkg = ROOT / "palette_app"
    bad = []
    for layer in ("core", "io", "batch"):
        for path in (pkg / layer).rglob("*.py"):
            bad += [(str(path.relative_to(pkg)), name) for name in _qt_imports(path)]
    assert bad == []
