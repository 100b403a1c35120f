"""A line of text for a failure that must not be modal: the main window's and the batch window's.

Its colors are the window's own, tinted red
(:func:`~palette_app.gui.theme.message_colors`), and it paints them from its
palette on every paint, so it reads well in the light and dark themes and
follows a switch between them.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPainter, QPen
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QWidget

from palette_app.gui.theme import message_colors

__all__ = ["MessageBar"]


class MessageBar(QFrame):
    """A message in a rounded, red-tinted box; hidden until :meth:`show_message`.

    ``closable``: a ✕ button dismisses it (the main window); without it the
    owner hides it (the batch window clears it when the problem is gone).
    """

    def __init__(self, parent: QWidget | None = None, *, closable: bool = True):
        super().__init__(parent)
        self.setObjectName("MessageBar")
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.close_button = QToolButton()
        self.close_button.setText("✕")
        self.close_button.setAutoRaise(True)
        self.close_button.setToolTip("Dismiss this message")
        self.close_button.clicked.connect(self.hide)
        # Hidden explicitly (not just inside a hidden bar), so it is no control of the window.
        self.close_button.setVisible(closable)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 4, 4 if closable else 8, 4)
        lay.addWidget(self.label, 1)
        lay.addWidget(self.close_button)
        self.hide()

    def paintEvent(self, event) -> None:
        background, border, _text = message_colors(self.palette())
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setPen(QPen(border, 1))
        p.setBrush(background)
        p.drawRoundedRect(self.rect().adjusted(0, 0, -1, -1), 4, 4)
        p.end()

    def show_message(self, text: str) -> None:
        self.label.setText(text)
        self.show()

    def clear(self) -> None:
        """Hide the bar and forget its text."""
        self.label.clear()
        self.hide()

    @property
    def text(self) -> str:
        """The message shown ('' when the bar is hidden)."""
        return self.label.text() if not self.isHidden() else ""
