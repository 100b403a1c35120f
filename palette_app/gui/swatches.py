"""Swatches: one card per palette color with its hex code, name, share and lock.

:class:`SwatchModel` is a list model over a :class:`~palette_app.core.Palette`
in the chosen order (or, for a fixed palette, in the palette's own order);
:class:`SwatchPanel` shows it as a wrapping grid. The panel only emits
signals: the window decides what follows, and the document holds the truth.

Mouse: click a card to copy its hex code; right-click for lock, edit, rename,
move and delete; drag a card to another place to reorder the palette.
Keyboard (the grid focused): arrow keys move between cards, Space locks or
unlocks, F2 renames, Delete removes, Alt+Left / Alt+Right move the card,
Enter copies the hex code.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import (
    QAbstractListModel,
    QByteArray,
    QMimeData,
    QModelIndex,
    QPoint,
    QRect,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QAction,
    QColor,
    QDrag,
    QFont,
    QGuiApplication,
    QKeySequence,
    QPainter,
    QPainterPath,
    QPalette,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QMenu,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from palette_app.core import Palette
from palette_app.gui.theme import checker_brush

__all__ = ["SORT_LABELS", "SwatchDelegate", "SwatchModel", "SwatchPanel", "SwatchView", "swatch_pixmap"]

#: Sort keys of :meth:`Palette.sort_order` and their labels.
SORT_LABELS = {"share": "Share", "hue": "Hue", "lum": "Lightness"}

ShareRole = Qt.ItemDataRole.UserRole + 1
LockedRole = Qt.ItemDataRole.UserRole + 2
PaletteIndexRole = Qt.ItemDataRole.UserRole + 3
AlphaRole = Qt.ItemDataRole.UserRole + 4
NameRole = Qt.ItemDataRole.UserRole + 5

CARD = QSize(78, 70)
#: A card with a name line (palettes whose entries have names).
CARD_NAMED = QSize(78, 84)
#: What a swatch drag carries: "<view id>:<row>" (only the view it came from takes it).
SWATCH_MIME = "application/x-palette-app-swatch-row"
R = QPalette.ColorRole


def swatch_pixmap(color: QColor, size: QSize, dpr: float = 1.0, palette: QPalette | None = None) -> QPixmap:
    """A small square of ``color`` (checkerboard under translucent colors), sharp at ``dpr``."""
    dpr = max(1.0, float(dpr))
    pix = QPixmap(max(1, round(size.width() * dpr)), max(1, round(size.height() * dpr)))
    pix.setDevicePixelRatio(dpr)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    rect = QRect(0, 0, size.width(), size.height())
    pal = palette or QGuiApplication.palette()
    if color.alpha() < 255:
        p.fillRect(rect, checker_brush(pal, dpr, 4))
    p.fillRect(rect, color)
    border = QColor(pal.color(R.Text))
    border.setAlpha(90)
    p.setPen(QPen(border, 1))
    p.drawRect(rect.adjusted(0, 0, -1, -1))
    p.end()
    return pix


class SwatchModel(QAbstractListModel):
    """Rows are palette entries in display order; :data:`PaletteIndexRole` gives
    each row's index in the palette."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._palette: Palette | None = None
        self._order = np.zeros(0, np.intp)
        self._hex: list[str] = []
        self._names: tuple = ()
        self._shares: np.ndarray | None = None
        self._locked = np.zeros(0, bool)
        self._sort = "share"
        self._fixed = False

    # -- content ---------------------------------------------------------------
    @property
    def palette(self) -> Palette | None:
        return self._palette

    @property
    def sort_key(self) -> str:
        return self._sort

    @property
    def fixed_order(self) -> bool:
        """True when the palette is shown in its own order (a fixed palette)."""
        return self._fixed

    @property
    def has_names(self) -> bool:
        return any(n for n in self._names)

    def set_palette(self, palette: Palette | None, locked: np.ndarray | None = None,
                    fixed_order: bool | None = None) -> None:
        """Show ``palette``; ``locked`` (k,) bool marks pinned colors (default:
        ``palette.locked``); ``fixed_order`` shows it in its own order."""
        self.beginResetModel()
        self._palette = palette
        if fixed_order is not None:
            self._fixed = bool(fixed_order)
        if palette is None:
            self._hex, self._shares, self._names = [], None, ()
            self._locked = np.zeros(0, bool)
        else:
            self._hex = palette.hex
            self._names = palette.names or (None,) * len(palette)
            shares = palette.shares
            self._shares = None if shares is None else np.asarray(shares, float)
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
        if self._fixed:
            return np.arange(len(pal), dtype=np.intp)
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

    def row_of(self, palette_index: int) -> int:
        """The display row of palette entry ``palette_index`` (-1 if none)."""
        hits = np.flatnonzero(self._order == int(palette_index))
        return int(hits[0]) if hits.size else -1

    def display_order(self) -> np.ndarray:
        """Palette indices in display order."""
        return self._order.copy()

    def hex_codes(self) -> list[str]:
        """Hex codes in display order."""
        return [self._hex[i] for i in self._order]

    def names(self) -> list[str | None]:
        """Names in display order."""
        return [self._names[i] for i in self._order]

    # -- Qt model --------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | None = None) -> int:
        return 0 if parent is not None and parent.isValid() else int(self._order.size)

    def flags(self, index: QModelIndex):
        base = super().flags(index)
        if index.isValid():
            base |= Qt.ItemFlag.ItemIsDragEnabled
        return base

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
            return None if self._shares is None else float(self._shares[i])
        if role == LockedRole:
            return bool(self._locked[i])
        if role == PaletteIndexRole:
            return i
        if role == AlphaRole:
            return 255 if pal.alpha is None else int(pal.alpha[i])
        if role == NameRole:
            return self._names[i]
        if role == Qt.ItemDataRole.ToolTipRole:
            name = self._names[i]
            tip = f"“{name}” · {self._hex[i]}" if name else self._hex[i]
            if self._shares is not None:
                tip += f" · {100 * self._shares[i]:.2f} % of the pixels"
            if self._locked[i]:
                tip += " · locked"
            return tip + ("\nClick to copy the hex code; right-click to lock, edit, rename or delete; "
                          "drag to reorder.")
        if role == Qt.ItemDataRole.AccessibleTextRole:
            text = self._hex[i]
            if self._names[i]:
                text = f"{self._names[i]}, {text}"
            if self._shares is not None:
                text += f", {100 * self._shares[i]:.1f} percent"
            return text + (", locked" if self._locked[i] else "")
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
    """A card: the color, its hex code, name and share, a padlock when locked.

    Every color but the swatch's own comes from the view's palette."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.card = QSize(CARD)

    def sizeHint(self, option, index) -> QSize:
        return QSize(self.card)

    def paint(self, p: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        p.save()
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        r = QRect(option.rect).adjusted(2, 2, -2, -2)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        hover = bool(option.state & QStyle.StateFlag.State_MouseOver)
        focus = bool(option.state & QStyle.StateFlag.State_HasFocus)
        pal = option.palette
        border = pal.highlight().color() if (selected or hover or focus) else pal.mid().color()
        p.setPen(QPen(border, 2 if (selected or focus) else 1))
        p.setBrush(pal.base())
        p.drawRoundedRect(r, 5, 5)
        if focus:
            # Keyboard focus: a second, dotted ring just outside the card.
            p.setPen(QPen(pal.highlight().color(), 1, Qt.PenStyle.DotLine))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRoundedRect(QRect(option.rect).adjusted(0, 0, -1, -1), 6, 6)
        color: QColor = index.data(Qt.ItemDataRole.DecorationRole)
        name = index.data(NameRole)
        named = self.card.height() > CARD.height()
        text_h = 34 + (14 if named else 0)
        chip = QRect(r.left() + 4, r.top() + 4, r.width() - 8, r.height() - text_h)
        if color.alpha() < 255:
            # Checkerboard (from the theme) under translucent colors.
            p.setPen(Qt.PenStyle.NoPen)
            dpr = option.widget.devicePixelRatioF() if option.widget is not None else 1.0
            p.fillRect(chip, checker_brush(pal, dpr, 6))
        edge = QColor(pal.text().color())
        edge.setAlpha(70)
        p.setPen(QPen(edge, 1))
        p.setBrush(color)
        p.drawRoundedRect(chip, 3, 3)
        if index.data(LockedRole):
            lum = 0.299 * color.red() + 0.587 * color.green() + 0.114 * color.blue()
            # Ink that contrasts with the swatch itself (not with the theme).
            ink = QColor(0, 0, 0) if lum > 140 or color.alpha() < 128 else QColor(255, 255, 255)
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
        if named:
            name_rect = QRect(r.left() + 2, text_rect.bottom() + 1, r.width() - 4, 14)
            p.drawText(name_rect, Qt.AlignmentFlag.AlignCenter,
                       p.fontMetrics().elidedText(name or "", Qt.TextElideMode.ElideRight, name_rect.width()))
            text_rect = name_rect
        share = index.data(ShareRole)
        p.setPen(pal.placeholderText().color())
        if share is None:
            pct = "—"
        else:
            pct = f"{100 * share:.1f} %" if share >= 0.001 else f"{100 * share:.2f} %"
        p.drawText(QRect(r.left(), text_rect.bottom() + 1, r.width(), 13), Qt.AlignmentFlag.AlignCenter, pct)
        p.restore()


class SwatchView(QListView):
    """The grid, with drag-to-reorder: dropping a card emits :attr:`moveRequested`
    and changes nothing itself (the document decides)."""

    #: (row dragged, row it should end up at), both in display order.
    moveRequested = Signal(int, int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.viewport().setAcceptDrops(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self._drop_row: int | None = None
        #: Rows that may be dragged (the window turns it off for e.g. a transparent entry).
        self.can_drag = lambda row: True

    def drop_row(self, pos: QPoint) -> int:
        """The row a card dropped at ``pos`` (viewport coordinates) is inserted before."""
        index = self.indexAt(pos)
        n = self.model().rowCount()
        if not index.isValid():
            return n
        rect = self.visualRect(index)
        return index.row() + (1 if pos.x() > rect.center().x() else 0)

    def mime_for_row(self, row: int) -> QMimeData:
        """What dragging card ``row`` carries."""
        mime = QMimeData()
        mime.setData(SWATCH_MIME, QByteArray(f"{id(self)}:{int(row)}".encode()))
        return mime

    def dragged_row(self, mime: QMimeData) -> int | None:
        """The row a drag from this view carries (None for anything else)."""
        if not mime.hasFormat(SWATCH_MIME):
            return None
        owner, _, row = bytes(mime.data(SWATCH_MIME)).decode(errors="replace").partition(":")
        if owner != str(id(self)) or not row.isdigit():
            return None
        return int(row)

    def startDrag(self, supported_actions) -> None:
        index = self.currentIndex()
        if not index.isValid() or not self.can_drag(index.row()):
            return
        drag = QDrag(self)
        drag.setMimeData(self.mime_for_row(index.row()))
        color = index.data(Qt.ItemDataRole.DecorationRole)
        drag.setPixmap(swatch_pixmap(color, QSize(32, 32), self.devicePixelRatioF(), self.palette()))
        drag.setHotSpot(QPoint(16, 16))
        drag.exec(Qt.DropAction.MoveAction)
        self._set_drop_row(None)

    def _accepts(self, event) -> bool:
        return self.dragged_row(event.mimeData()) is not None

    def dragEnterEvent(self, event) -> None:
        if self._accepts(event):
            event.setDropAction(Qt.DropAction.MoveAction)
            event.accept()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:
        if self._accepts(event):
            event.setDropAction(Qt.DropAction.MoveAction)
            event.accept()
            self._set_drop_row(self.drop_row(event.position().toPoint()))
        else:
            event.ignore()

    def dragLeaveEvent(self, event) -> None:
        self._set_drop_row(None)
        event.accept()

    def dropEvent(self, event) -> None:
        self._set_drop_row(None)
        src = self.dragged_row(event.mimeData())
        if src is None:
            event.ignore()
            return
        before = self.drop_row(event.position().toPoint())
        to = before - 1 if before > src else before
        event.setDropAction(Qt.DropAction.MoveAction)
        event.accept()
        if 0 <= src < self.model().rowCount() and to != src:
            self.moveRequested.emit(src, to)

    def _set_drop_row(self, row: int | None) -> None:
        if row != self._drop_row:
            self._drop_row = row
            self.viewport().update()

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        row = self._drop_row
        n = self.model().rowCount() if self.model() is not None else 0
        if row is None or n == 0:
            return
        # Where the card will land: a bar in the highlight color.
        if row < n:
            rect = self.visualRect(self.model().index(row, 0))
            x = rect.left()
        else:
            rect = self.visualRect(self.model().index(n - 1, 0))
            x = rect.right()
        p = QPainter(self.viewport())
        p.setPen(QPen(self.palette().color(R.Highlight), 3))
        p.drawLine(x, rect.top() + 2, x, rect.bottom() - 2)
        p.end()


class SwatchPanel(QWidget):
    """The swatch grid with its sort choice, a summary line and the actions on a swatch."""

    #: A hex code was copied to the clipboard.
    hexCopied = Signal(str)
    #: (palette index, locked) — the user locked or unlocked a color.
    lockToggled = Signal(int, bool)
    #: palette index — the user wants to edit this color.
    editRequested = Signal(int)
    #: palette index — the user wants to rename this entry.
    renameRequested = Signal(int)
    #: palette index — the user wants this entry gone.
    deleteRequested = Signal(int)
    #: (palette index, new display row) — the user moved an entry.
    moveRequested = Signal(int, int)
    sortChanged = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = SwatchModel(self)
        #: False when the core cannot keep locked colors: lock and edit are disabled.
        self.can_lock = True
        self.view = SwatchView()
        self.view.setModel(self.model)
        self.delegate = SwatchDelegate(self.view)
        self.view.setItemDelegate(self.delegate)
        self.view.setViewMode(QListView.ViewMode.IconMode)
        self.view.setResizeMode(QListView.ResizeMode.Adjust)
        self.view.setMovement(QListView.Movement.Static)
        # setViewMode/setMovement(Static) turn dragging off; SwatchView handles the
        # drops itself (the cards stay in their grid), so turn it back on.
        self.view.setDragEnabled(True)
        self.view.viewport().setAcceptDrops(True)
        self.view.setUniformItemSizes(True)
        self.view.setWrapping(True)
        self.view.setSpacing(2)
        self._set_card(CARD)
        self.view.setMouseTracking(True)
        self.view.setSelectionMode(QListView.SelectionMode.SingleSelection)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.setToolTip("The palette: arrow keys move between colors, Space locks, F2 renames, "
                             "Delete removes, Alt+Left/Right reorders, Enter copies the hex code")
        self.view.setAccessibleName("Palette swatches")
        self.view.clicked.connect(self._clicked)
        self.view.activated.connect(self._clicked)
        self.view.customContextMenuRequested.connect(self._context_menu)
        self.view.moveRequested.connect(self._move_rows)
        self.view.can_drag = self._row_editable
        self.model.modelReset.connect(self._update_actions)

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
        sort_label = QLabel("Sort b&y")
        sort_label.setBuddy(self.sort_combo)
        head.addWidget(sort_label)
        head.addWidget(self.sort_combo)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(head)
        lay.addWidget(self.view, 1)
        lay.addWidget(self.summary)
        self._build_actions()
        self.view.selectionModel().currentChanged.connect(self._update_actions)
        self._update_actions()

    # -- actions on the current swatch -------------------------------------------------
    def _build_actions(self) -> None:
        def action(text, shortcut, tip, slot, name):
            a = QAction(text, self)
            a.setObjectName(name)
            keys = shortcut if isinstance(shortcut, list) else [shortcut]
            a.setShortcuts([QKeySequence(k) for k in keys])
            # Only while the grid has the focus: Space and Delete mean other things elsewhere.
            a.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
            shown = a.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            a.setStatusTip(tip)
            a.setToolTip(f"{tip} ({shown})")
            a.triggered.connect(slot)
            self.view.addAction(a)
            return a

        self.lock_action = action("&Lock / Unlock Color", "Space",
                                  "Lock the selected color so it stays when the palette is recomputed, "
                                  "or unlock it", self._toggle_current_lock, "lock_current")
        self.rename_action = action("&Rename Color…", "F2", "Give the selected color a name",
                                    lambda: self._emit_current(self.renameRequested), "rename_current")
        self.delete_action = action("&Delete Color", [QKeySequence.StandardKey.Delete, "Backspace"],
                                    "Remove the selected color from the palette",
                                    lambda: self._emit_current(self.deleteRequested), "delete_current")
        self.move_left_action = action("Mo&ve Left", "Alt+Left", "Move the selected color one place left",
                                       lambda: self._move_current(-1), "move_left")
        self.move_right_action = action("Move Ri&ght", "Alt+Right", "Move the selected color one place right",
                                        lambda: self._move_current(+1), "move_right")

    def current_row(self) -> int:
        index = self.view.currentIndex()
        return index.row() if index.isValid() else -1

    def current_palette_index(self) -> int:
        """The palette index of the selected swatch, or -1."""
        row = self.current_row()
        return self.model.palette_index(row) if 0 <= row < self.model.rowCount() else -1

    def select_palette_index(self, i: int) -> None:
        row = self.model.row_of(i)
        if row >= 0:
            self.view.setCurrentIndex(self.model.index(row))

    #: Decides whether a row may be edited (the window sets it); default: opaque entries.
    def _row_editable(self, row: int) -> bool:
        if not 0 <= row < self.model.rowCount():
            return False
        return self.row_editable(row)

    def row_editable(self, row: int) -> bool:
        return int(self.model.index(row).data(AlphaRole)) != 0

    def _update_actions(self, *_args) -> None:
        row = self.current_row()
        editable = self._row_editable(row)
        clear = row >= 0 and int(self.model.index(row).data(AlphaRole)) == 0
        self.lock_action.setEnabled(row >= 0 and self.can_lock and not clear)
        for a in (self.rename_action, self.delete_action):
            a.setEnabled(editable)
        self.move_left_action.setEnabled(editable and row > 0)
        self.move_right_action.setEnabled(editable and self._row_editable(row + 1))

    def _emit_current(self, signal) -> None:
        i = self.current_palette_index()
        if i >= 0 and self._row_editable(self.current_row()):
            signal.emit(i)

    def _toggle_current_lock(self) -> None:
        row = self.current_row()
        if row < 0 or not self.lock_action.isEnabled():
            return
        index = self.model.index(row)
        self.lockToggled.emit(int(index.data(PaletteIndexRole)), not bool(index.data(LockedRole)))

    def _move_current(self, step: int) -> None:
        row = self.current_row()
        if row >= 0:
            self._move_rows(row, row + step)

    def _move_rows(self, row: int, to: int) -> None:
        if not (self._row_editable(row) and self._row_editable(to)) or row == to:
            return
        self.moveRequested.emit(self.model.palette_index(row), to)

    # -- content ---------------------------------------------------------------
    def set_palette(self, palette: Palette | None, locked: np.ndarray | None = None,
                    summary: str = "", *, fixed_order: bool | None = None) -> None:
        """Show ``palette``; the selected entry stays selected when it is still there."""
        keep = self.view.currentIndex()
        keep_hex = keep.data() if keep.isValid() else None
        keep_row = keep.row() if keep.isValid() else -1
        self.model.set_palette(palette, locked, fixed_order)
        self._set_card(CARD_NAMED if self.model.has_names else CARD)
        self.sort_combo.setEnabled(not self.model.fixed_order)
        self.sort_combo.setToolTip("A fixed palette is shown in its own order: drag swatches or use "
                                   "Move Left / Move Right to reorder it" if self.model.fixed_order
                                   else "Order of the swatches")
        self.summary.setText(summary if palette is not None else "No palette yet")
        if keep_hex is not None and self.model.rowCount():
            hexes = self.model.hex_codes()
            row = keep_row if 0 <= keep_row < len(hexes) and hexes[keep_row] == keep_hex else (
                hexes.index(keep_hex) if keep_hex in hexes else min(keep_row, len(hexes) - 1))
            self.view.setCurrentIndex(self.model.index(row))
        self._update_actions()

    def _set_card(self, size: QSize) -> None:
        if getattr(self, "delegate", None) is not None and self.delegate.card != size:
            self.delegate.card = QSize(size)
        self.view.setGridSize(QSize(size.width() + 4, size.height() + 4))

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
        row = index.row()
        text = index.data(Qt.ItemDataRole.DisplayRole)
        locked = bool(index.data(LockedRole))
        clear = int(index.data(AlphaRole)) == 0
        editable = self._row_editable(row)
        menu = QMenu(self)

        def add(label, name, tip, slot, enabled=True, shortcut=None):
            a = QAction(label, menu)
            a.setObjectName(name)
            a.setToolTip(tip)
            a.setStatusTip(tip)
            if shortcut is not None:
                a.setShortcut(shortcut.shortcut())
            a.setEnabled(enabled)
            a.triggered.connect(slot)
            menu.addAction(a)
            return a

        add(f"&Copy {text}", "copy", "Copy the hex code to the clipboard", lambda: self._clicked(index))
        menu.addSeparator()
        add("Unlock" if locked else "Lock", "lock",
            "A locked color stays in the palette exactly when it is recomputed",
            lambda: self.lockToggled.emit(i, not locked), self.can_lock and not clear, self.lock_action)
        add("&Edit Color…", "edit", "Pick another color for this swatch",
            lambda: self.editRequested.emit(i), self.can_lock and not clear)
        add("&Rename…", "rename", "Give this color a name (kept in GPL, ASE, ACO and JSON files)",
            lambda: self.renameRequested.emit(i), editable, self.rename_action)
        menu.addSeparator()
        add("Move Le&ft", "move_left", "Move this color one place left",
            lambda: self._move_rows(row, row - 1), editable and row > 0, self.move_left_action)
        add("Move Ri&ght", "move_right", "Move this color one place right",
            lambda: self._move_rows(row, row + 1), editable and self._row_editable(row + 1),
            self.move_right_action)
        add("&Delete", "delete", "Remove this color from the palette",
            lambda: self.deleteRequested.emit(i), editable, self.delete_action)
        return menu

    def _context_menu(self, pos: QPoint) -> None:
        index = self.view.indexAt(pos)
        if index.isValid():
            self.view.setCurrentIndex(index)
        menu = self.menu_for(index)
        if menu is not None:
            menu.exec(self.view.viewport().mapToGlobal(pos))
            menu.deleteLater()
