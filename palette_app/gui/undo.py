"""Undo and redo: one :class:`StateCommand` per edit of the palette or the locks.

A command holds the document's :class:`~palette_app.gui.palette_edit.PaletteState`
before and after the edit; redo and undo put one or the other back. Storing
whole states (a palette is at most 256 colors) makes every undo restore the
exact earlier state, whatever happened in between.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QUndoCommand

from palette_app.gui.palette_edit import PaletteState

if TYPE_CHECKING:
    from palette_app.gui.document import Document

__all__ = ["StateCommand"]


class StateCommand(QUndoCommand):
    def __init__(self, document: Document, text: str, before: PaletteState, after: PaletteState):
        super().__init__(text)
        self._document = document
        self.before = before
        self.after = after

    def redo(self) -> None:
        self._document.restore(self.after)

    def undo(self) -> None:
        self._document.restore(self.before)
