"""Swatches: one card per palette color with its hex code, share and lock.

:class:`SwatchModel` is a list model over a :class:`~palette_app.core.Palette`
in the chosen order; :class:`SwatchPanel` shows it as a wrapping grid.
Clicking a swatch copies its hex code; the context menu locks, unlocks or
edits a color. The panel only emits signals: the window decides what follows.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QAbstractListModel, QModelIndex, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QAction, QColor, QFont, QGuiApplication, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import (
    QComboBox, QHBoxLayout, QLabel, QListView, QMenu, QStyle, QStyledItemDelegate,
    QStyleOptionViewItem, QVBoxLayout, QWidget,
)

from palette_app.core import Palette

__all__ = ["SORT_LABELS", "SwatchDelegate", "SwatchModel", "SwatchPanel"]

#: Sort keys of :meth:`Palette.sort_order` and their labels.
SORT_LABELS = {"share": "Share", "hue": "Hue", "lum": "Lightness"}

ShareRole = Qt.ItemDataRole.UserRole + 1
LockedRole = Qt.ItemDataRole.UserRole + 2
PaletteIndexRole = Qt.ItemDataRole.UserRole + 3
AlphaRole = Qt.ItemDataRole.UserRole + 4

CARD = QSize(78, 70)


class SwatchModel(QAbstractListModel):
    """Rows are palette entries in display order; :data:`PaletteIndexRole` gives
    each row's index in the palette."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._palette: Palette | None = None
        self._order = np.zeros(0, np.intp)
        self._hex: list[str] = []
        self._shares = np.zeros(0)
        self._locked = np.zeros(0, bool)
        self._sort = "share"

    # -- content ---------------------------------------------------------------
    @property
    def palette(self) -> Palette | None:
        return self._palette

    @property
    def sort_key(self) -> str:
        return self._sort

    def set_palette(self, palette: Palette | None, locked: np.ndarray | None = None) -> None:
        """Show ``palette``; ``locked`` (k,) bool marks pinned colors (default: ``palette.locked``)."""
        self.beginResetModel()
        self._palette = palette
        if palette is None:
            self._hex, self._shares = [], np.zeros(0)
            self._locked = np.zeros(0, bool)
        else:
            self._hex = palette.hex
            shares = palette.shares
            self._shares = np.zeros(len(palette)) if shares is None else np.asarray(shares, float)
            self._locked = np.asarray(palette.locked if locked is None else locked, bool)
        self._order = self._sorted_order()
        self.endResetModel()

    def set_sort(self, key: str) -> None:
        if key not in SORT_LABELS:
            raise ValueError(f"sort key must be one of {tuple(SORT_LABELS)}, got {key!r}")
        if key == self._sort:
            return
        self._sort = key
        self.beginResetModel()
        self._order = self._sorted_order()
        self.endResetModel()

    def _sorted_order(self) -> np.ndarray:
        pal = self._palette
        if pal is None or len(pal) == 0:
            return np.zeros(0, np.intp)
        key = self._sort
        if key == "share" and pal.counts is None:
            key = "lum"
        order = pal.sort_order(key)
        if pal.alpha is not None:
            # The fully transparent entry goes last whatever the order.
            clear = pal.alpha[order] == 0
            order = np.concatenate([order[~clear], order[clear]])
        return np.asarray(order, np.intp)

    def palette_index(self, row: int) -> int:
        return int(self._order[row])

    def hex_codes(self) -> list[str]:
        """Hex codes in display order."""
        return [self._hex[i] for i in self._order]

    # -- Qt model --------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | None = None) -> int:  # noqa: N802
        return 0 if parent is not None and parent.isValid() else int(self._order.size)

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < self._order.size:
            return None
        i = int(self._order[index.row()])
        pal = self._palette
        if role == Qt.ItemDataRole.DisplayRole:
            return self._hex[i]
        if role == Qt.ItemDataRole.DecorationRole:
            r, g, b = (int(v) for v in pal.colors[i])
            a = 255 if pal.alpha is None else int(pal.alpha[i])
            return QColor(r, g, b, a)
        if role == ShareRole:
            return float(self._shares[i])
        if role == LockedRole:
            return bool(self._locked[i])
        if role == PaletteIndexRole:
            return i
        if role == AlphaRole:
            return 255 if pal.alpha is None else int(pal.alpha[i])
        if role == Qt.ItemDataRole.ToolTipRole:
            tip = f"{self._hex[i]} · {100 * self._shares[i]:.2f} % of the pixels"
            if self._locked[i]:
                tip += " · locked"
            return tip + "\nClick to copy the hex code; right-click to lock or edit."
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{self._hex[i]}, {100 * self._shares[i]:.1f} percent"
        return None


def _lock_path(x: float, y: float, s: float) -> QPainterPath:
    """A small padlock glyph (no icon font needed), ``s`` pixels high."""
    path = QPainterPath()
    body_h = s * 0.55
    path.addRoundedRect(x, y + s - body_h, s * 0.8, body_h, 1.5, 1.5)
    shackle = QPainterPath()
    shackle.moveTo(x + s * 0.18, y + s - body_h)
    shackle.lineTo(x + s * 0.18, y + s * 0.3)
    shackle.arcTo(x + s * 0.18, y, s * 0.44, s * 0.5, 180, -180)
    shackle.lineTo(x + s * 0.62, y + s - body_h)
    path.addPath(shackle)
    return path


class SwatchDelegate(QStyledItemDelegate):
    """A card: the color, its hex code and share, a padlock when locked."""

    def sizeHint(self, option, index) -> QSize:  # noqa: N802
        return QSize(CARD)

    def paint(self, p: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        p.save()
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        r = QRect(option.rect).adjusted(2, 2, -2, -2)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        hover = bool(option.state & QStyle.StateFlag.State_MouseOver)
        pal = option.palette
        border = pal.highlight().color() if (selected or hover) else pal.mid().color()
        p.setPen(QPen(border, 2 if selected else 1))
        p.setBrush(pal.base())
        p.drawRoundedRect(r, 5, 5)
        color: QColor = index.data(Qt.ItemDataRole.DecorationRole)
        chip = QRect(r.left() + 4, r.top() + 4, r.width() - 8, r.height() - 34)
        if color.alpha() < 255:
            # Checkerboard under translucent colors.
            p.setPen(Qt.PenStyle.NoPen)
            p.fillRect(chip, QColor(255, 255, 255))
            step = 6
            for yy in range(chip.top(), chip.bottom(), step):
                for xx in range(chip.left() + ((yy - chip.top()) // step % 2) * step, chip.right(), 2 * step):
                    p.fillRect(QRect(xx, yy, step, step).intersected(chip), QColor(200, 200, 200))
        p.setPen(QPen(QColor(0, 0, 0, 60), 1))
        p.setBrush(color)
        p.drawRoundedRect(chip, 3, 3)
        if index.data(LockedRole):
            lum = 0.299 * color.red() + 0.587 * color.green() + 0.114 * color.blue()
            ink = QColor(0, 0, 0) if lum > 140 else QColor(255, 255, 255)
            p.setPen(QPen(ink, 1.3))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawPath(_lock_path(chip.right() - 13, chip.top() + 3, 11))
        p.setPen(pal.text().color())
        font = p.font()
        hex_font = QFont(font)
        hex_font.setFamilies(["monospace", font.family()])
        p.setFont(hex_font)
        text_rect = QRect(r.left(), chip.bottom() + 2, r.width(), 15)
        p.drawText(text_rect, Qt.AlignmentFlag.AlignCenter, index.data(Qt.ItemDataRole.DisplayRole))
        p.setFont(font)
        share = index.data(ShareRole) or 0.0
        p.setPen(pal.placeholderText().color())
        pct = f"{100 * share:.1f} %" if share >= 0.001 else f"{100 * share:.2f} %"
        p.drawText(QRect(r.left(), text_rect.bottom() + 1, r.width(), 13), Qt.AlignmentFlag.AlignCenter, pct)
        p.restore()


class SwatchPanel(QWidget):
    """The swatch grid with its sort choice and a summary line."""

    #: A hex code was copied to the clipboard.
    hexCopied = Signal(str)
    #: (palette index, locked) — the user locked or unlocked a color.
    lockToggled = Signal(int, bool)
    #: palette index — the user wants to edit this color.
    editRequested = Signal(int)
    sortChanged = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = SwatchModel(self)
        #: False when the core cannot keep locked colors: lock and edit are disabled.
        self.can_lock = True
        self.view = QListView()
        self.view.setModel(self.model)
        self.view.setItemDelegate(SwatchDelegate(self.view))
        self.view.setViewMode(QListView.ViewMode.IconMode)
        self.view.setResizeMode(QListView.ResizeMode.Adjust)
        self.view.setMovement(QListView.Movement.Static)
        self.view.setUniformItemSizes(True)
        self.view.setWrapping(True)
        self.view.setSpacing(2)
        self.view.setGridSize(QSize(CARD.width() + 4, CARD.height() + 4))
        self.view.setMouseTracking(True)
        self.view.setSelectionMode(QListView.SelectionMode.SingleSelection)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.clicked.connect(self._clicked)
        self.view.activated.connect(self._clicked)
        self.view.customContextMenuRequested.connect(self._context_menu)

        self.sort_combo = QComboBox()
        for key, label in SORT_LABELS.items():
            self.sort_combo.addItem(label, key)
        self.sort_combo.setToolTip("Order of the swatches")
        self.sort_combo.currentIndexChanged.connect(self._sort_changed)
        self.summary = QLabel("No palette yet")
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        head = QHBoxLayout()
        head.setContentsMargins(0, 0, 0, 0)
        title = QLabel("<b>Palette</b>")
        head.addWidget(title)
        head.addStretch(1)
        sort_label = QLabel("Sort by")
        sort_label.setBuddy(self.sort_combo)
        head.addWidget(sort_label)
        head.addWidget(self.sort_combo)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(head)
        lay.addWidget(self.view, 1)
        lay.addWidget(self.summary)

    # -- content ---------------------------------------------------------------
    def set_palette(self, palette: Palette | None, locked: np.ndarray | None = None,
                    summary: str = "") -> None:
        self.model.set_palette(palette, locked)
        self.summary.setText(summary if palette is not None else "No palette yet")

    def count(self) -> int:
        return self.model.rowCount()

    def set_sort(self, key: str) -> None:
        i = self.sort_combo.findData(key)
        if i < 0:
            raise ValueError(f"unknown sort key {key!r}")
        self.sort_combo.setCurrentIndex(i)

    # -- interaction ---------------------------------------------------------------
    def _sort_changed(self, _i: int) -> None:
        key = self.sort_combo.currentData()
        self.model.set_sort(key)
        self.sortChanged.emit(key)

    def _clicked(self, index: QModelIndex) -> None:
        if not index.isValid():
            return
        text = index.data(Qt.ItemDataRole.DisplayRole)
        QGuiApplication.clipboard().setText(text)
        self.hexCopied.emit(text)

    def menu_for(self, index: QModelIndex) -> QMenu | None:
        """The context menu of a swatch (built, not shown; tests trigger its actions)."""
        if not index.isValid():
            return None
        i = int(index.data(PaletteIndexRole))
        text = index.data(Qt.ItemDataRole.DisplayRole)
        locked = bool(index.data(LockedRole))
        clear = int(index.data(AlphaRole)) == 0
        menu = QMenu(self)
        copy = QAction(f"Copy {text}", menu)
        copy.triggered.connect(lambda: self._clicked(index))
        menu.addAction(copy)
        menu.addSeparator()
        lock = QAction("Unlock" if locked else "Lock", menu)
        lock.setObjectName("lock")
        lock.setToolTip("A locked color stays in the palette exactly when it is recomputed")
        lock.triggered.connect(lambda: self.lockToggled.emit(i, not locked))
        edit = QAction("Edit Color…", menu)
        edit.setObjectName("edit")
        edit.triggered.connect(lambda: self.editRequested.emit(i))
        for action in (lock, edit):
            action.setEnabled(self.can_lock and not clear)
            menu.addAction(action)
        return menu

    def _context_menu(self, pos: QPoint) -> None:
        menu = self.menu_for(self.view.indexAt(pos))
        if menu is not None:
            menu.exec(self.view.viewport().mapToGlobal(pos))
            menu.deleteLater()
