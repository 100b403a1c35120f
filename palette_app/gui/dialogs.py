"""Modal dialogs, in one place so tests can replace them (``monkeypatch.setattr``).

The window always calls them through this module (``dialogs.show_error(...)``),
never through names imported elsewhere.
"""
from __future__ import annotations

from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QColorDialog,
    QFileDialog,
    QInputDialog,
    QLineEdit,
    QMessageBox,
    QWidget,
)


def show_error(parent: QWidget | None, title: str, message: str, details: str = "") -> None:
    """Tell the user something failed, in words (never a traceback)."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, parent)
    if details:
        box.setInformativeText(details)
    box.exec()


def show_info(parent: QWidget | None, title: str, message: str, details: str = "") -> None:
    box = QMessageBox(QMessageBox.Icon.Information, title, message, QMessageBox.StandardButton.Ok, parent)
    if details:
        box.setInformativeText(details)
    box.exec()


def get_open_path(parent: QWidget | None, title: str, directory: str, filters: str) -> str | None:
    """A file to open, or None when the user cancels."""
    path, _ = QFileDialog.getOpenFileName(parent, title, directory, filters)
    return path or None


def get_save_path(parent: QWidget | None, title: str, directory: str, filters: list[str],
                  selected: str | None = None) -> tuple[str, str] | None:
    """(path, chosen filter) to save to, or None when the user cancels.

    The dialog asks before replacing an existing file, so the caller may overwrite.
    """
    path, chosen = QFileDialog.getSaveFileName(parent, title, directory, ";;".join(filters),
                                               selected or (filters[0] if filters else ""))
    return (path, chosen) if path else None


def get_color(parent: QWidget | None, initial: QColor, title: str) -> QColor | None:
    """A color chosen by the user, or None when cancelled."""
    color = QColorDialog.getColor(initial, parent, title)
    return color if color.isValid() else None


def get_text(parent: QWidget | None, title: str, label: str, text: str = "") -> str | None:
    """A line of text from the user (e.g. a color's name), or None when cancelled."""
    value, ok = QInputDialog.getText(parent, title, label, QLineEdit.EchoMode.Normal, text)
    return value if ok else None


def show_about(parent: QWidget | None) -> None:
    """Help › About: versions, the Numba cache folder, the license."""
    from palette_app.gui.about import AboutDialog

    box = AboutDialog(parent)
    box.exec()
    box.deleteLater()
