"""Help › About Palette App: versions, the Numba cache folder and the license.

:func:`about_info` collects the facts (no widget involved; the versions come
from package metadata, so Numba is not imported just to be named), and
:class:`AboutDialog` shows them with a button that copies them as plain text,
ready to paste into a bug report.
"""
from __future__ import annotations

import html
import platform
import sys
from importlib import metadata
from pathlib import Path

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt, qVersion
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

__all__ = ["AboutDialog", "about_info", "about_text", "numba_cache_folder"]

LICENSE_FALLBACK = "BSD-3-Clause"


def _version(*dists: str) -> str:
    for dist in dists:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return "not installed"


def numba_cache_folder() -> str:
    """Where the compiled kernels are cached, in words a user can act on."""
    from palette_app import _runtime

    if not _runtime.CACHE_OK:
        return "none: no writable folder was found, so kernels are compiled at every start"
    if _runtime.CACHE_DIR:
        return _runtime.CACHE_DIR
    import palette_app

    return str(Path(palette_app.__file__).resolve().parent / "core" / "__pycache__")


def _license() -> str:
    try:
        meta = metadata.metadata("palette_app")
    except metadata.PackageNotFoundError:
        return LICENSE_FALLBACK
    return meta.get("License-Expression") or meta.get("License") or LICENSE_FALLBACK


def about_info() -> dict[str, str]:
    """Name → value, in display order."""
    from palette_app import __version__

    return {
        "Palette App": __version__,
        "Python": f"{platform.python_version()} ({platform.python_implementation()}, {sys.platform})",
        "NumPy": _version("numpy"),
        "Numba": _version("numba"),
        "Pillow": _version("pillow", "Pillow"),
        "PySide6": pyside_version,
        "Qt": qVersion(),
        "Numba cache folder": numba_cache_folder(),
        "License": _license(),
    }


def about_text() -> str:
    """The facts as plain text, one per line."""
    return "\n".join(f"{k}: {v}" for k, v in about_info().items())


def about_html() -> str:
    info = about_info()
    rows = "".join(f"<tr><td><b>{html.escape(k)}</b>&nbsp;&nbsp;</td><td>{html.escape(v)}</td></tr>"
                   for k, v in info.items() if k != "Palette App")
    return (f"<h3>Palette App {html.escape(info['Palette App'])}</h3>"
            "<p>Turn images into color palettes and reduced-color images: a Numba k-means core, "
            "a command line and this desktop app.</p>"
            f"<table>{rows}</table>"
            f"<p>Released under the {html.escape(info['License'])} license. "
            "The sample photo is NASA's, in the public domain.</p>")


class AboutDialog(QDialog):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("About Palette App")
        self.label = QLabel(about_html())
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                           | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        self.label.setToolTip("Versions of Palette App and the libraries it runs on")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setToolTip("Close this window")
        self.copy_button = QPushButton("&Copy")
        self.copy_button.setToolTip("Copy these versions as text (for a bug report)")
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(lambda: QGuiApplication.clipboard().setText(about_text()))
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.label)
        lay.addWidget(buttons)
