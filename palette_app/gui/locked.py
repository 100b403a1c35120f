"""The locked colors, listed and editable: :class:`LockedColorsPanel`.

The panel shows the document's locked colors (a swatch and the hex code per
row) and turns what the user does into requests: add a typed hex code, pick a
color, edit a code in place (F2 or double-click), pick a new color for one,
remove one. It never changes its list by itself: the window applies each
request to the document, whose ``lockedChanged`` signal comes back here
through :meth:`LockedColorsPanel.set_locked`, as for every other view.
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, QRegularExpression, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QIcon,
    QKeySequence,
    QRegularExpressionValidator,
    QStandardItem,
    QStandardItemModel,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from palette_app.gui.palette_edit import normalize_hex
from palette_app.gui.swatches import swatch_pixmap

__all__ = ["LockedColorsPanel"]

HEX_PATTERN = QRegularExpression(r"#?([0-9A-Fa-f]{3}|[0-9A-Fa-f]{6})")
HexRole = Qt.ItemDataRole.UserRole + 1
ICON = QSize(16, 16)


class LockedColorsPanel(QWidget):
    #: "#rrggbb" — lock this color.
    addRequested = Signal(str)
    #: "#rrggbb" — unlock this color.
    removeRequested = Signal(str)
    #: (old, new) "#rrggbb" — the locked color ``old`` becomes ``new``.
    replaceRequested = Signal(str, str)
    #: "" to lock a color chosen with the color picker, or a locked "#rrggbb" to re-pick.
    pickRequested = Signal(str)
    #: Text the user typed that is no color (the window says so).
    invalidInput = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._locked: tuple[str, ...] = ()
        self._quiet = False
        self.model = QStandardItemModel(self)
        self.model.itemChanged.connect(self._item_changed)
        self.list = QListView()
        self.list.setModel(self.model)
        self.list.setIconSize(ICON)
        self.list.setUniformItemSizes(True)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                  | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.list.setToolTip("Locked colors stay in the palette exactly while k-means places the others. "
                             "Double-click or F2 to type a new hex code, Delete to unlock.")
        self.list.setAccessibleName("Locked colors")
        self.list.installEventFilter(self)
        self.list.selectionModel().currentChanged.connect(self._update_buttons)

        self.hex_edit = QLineEdit()
        self.hex_edit.setPlaceholderText("#rrggbb")
        self.hex_edit.setValidator(QRegularExpressionValidator(HEX_PATTERN, self.hex_edit))
        self.hex_edit.setToolTip("Type a hex code (#rrggbb or #rgb) and press Enter to lock that color")
        self.hex_edit.setAccessibleName("Hex code to lock")
        self.hex_edit.textChanged.connect(self._update_buttons)
        self.hex_edit.returnPressed.connect(self.add_typed)
        label = QLabel("Loc&k:")
        label.setBuddy(self.hex_edit)

        self.add_button = QPushButton("Add")
        self.add_button.setToolTip("Lock the color typed on the left")
        self.add_button.clicked.connect(self.add_typed)
        self.pick_button = QPushButton("Pick…")
        self.pick_button.setToolTip("Choose a color to lock with the color picker")
        self.pick_button.clicked.connect(lambda: self.pickRequested.emit(""))
        self.edit_button = QPushButton("Change…")
        self.edit_button.setToolTip("Pick another color for the selected locked color")
        self.edit_button.clicked.connect(self._pick_current)
        self.remove_button = QPushButton("Unlock")
        self.remove_button.setToolTip("Unlock the selected color (Delete)")
        self.remove_button.clicked.connect(self.remove_current)

        add_row = QHBoxLayout()
        add_row.addWidget(label)
        add_row.addWidget(self.hex_edit, 1)
        add_row.addWidget(self.add_button)
        edit_row = QHBoxLayout()
        edit_row.addWidget(self.pick_button)
        edit_row.addStretch(1)
        edit_row.addWidget(self.edit_button)
        edit_row.addWidget(self.remove_button)
        self.empty_label = QLabel("No locked colors. Right-click a swatch, press Space on it, "
                                  "or add one here.")
        self.empty_label.setWordWrap(True)
        self.empty_label.setEnabled(False)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addWidget(self.list, 1)
        lay.addWidget(self.empty_label)
        lay.addLayout(add_row)
        lay.addLayout(edit_row)
        self._rebuild()

    def sizeHint(self) -> QSize:
        return QSize(240, 220)

    # -- content -------------------------------------------------------------------
    @property
    def locked(self) -> tuple[str, ...]:
        return self._locked

    def hex_codes(self) -> list[str]:
        """The codes listed, in order."""
        return [self.model.item(r).data(HexRole) for r in range(self.model.rowCount())]

    def set_locked(self, locked) -> None:
        """Show these locked colors (``"#rrggbb"``)."""
        locked = tuple(locked)
        if locked != self._locked:
            self._locked = locked
            self._rebuild()

    def _rebuild(self) -> None:
        current = self.list.currentIndex()
        keep = current.data(HexRole) if current.isValid() else None
        self._quiet = True
        try:
            self.model.clear()
            dpr = self.devicePixelRatioF()
            for h in self._locked:
                item = QStandardItem(h)
                item.setData(h, HexRole)
                item.setIcon(QIcon(swatch_pixmap(QColor(h), ICON, dpr, self.palette())))
                item.setToolTip(f"{h} is locked. Double-click to type another code.")
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                              | Qt.ItemFlag.ItemIsEditable)
                self.model.appendRow(item)
        finally:
            self._quiet = False
        if self._locked:
            row = self._locked.index(keep) if keep in self._locked else min(max(current.row(), 0),
                                                                            len(self._locked) - 1)
            self.list.setCurrentIndex(self.model.index(row, 0))
        self.empty_label.setVisible(not self._locked)
        self._update_buttons()

    # -- requests --------------------------------------------------------------------
    def typed_hex(self) -> str | None:
        try:
            return normalize_hex(self.hex_edit.text())
        except ValueError:
            return None

    def add_typed(self) -> None:
        text = self.hex_edit.text().strip()
        h = self.typed_hex()
        if h is None:
            if text:
                self.invalidInput.emit(text)
            return
        self.hex_edit.clear()
        self.addRequested.emit(h)

    def current_hex(self) -> str | None:
        index = self.list.currentIndex()
        return index.data(HexRole) if index.isValid() else None

    def remove_current(self) -> None:
        h = self.current_hex()
        if h is not None:
            self.removeRequested.emit(h)

    def _pick_current(self) -> None:
        h = self.current_hex()
        if h is not None:
            self.pickRequested.emit(h)

    def _item_changed(self, item: QStandardItem) -> None:
        if self._quiet:
            return
        old = item.data(HexRole)
        text = item.text()
        try:
            new = normalize_hex(text)
        except ValueError:
            new = None
        # Show the locked code again until the document says otherwise.
        self._quiet = True
        try:
            item.setText(old)
        finally:
            self._quiet = False
        if new is None:
            self.invalidInput.emit(text)
        elif new != old:
            self.replaceRequested.emit(old, new)

    def _update_buttons(self, *_args) -> None:
        has = self.list.currentIndex().isValid()
        self.edit_button.setEnabled(has)
        self.remove_button.setEnabled(has)
        self.add_button.setEnabled(self.typed_hex() is not None)

    # -- events ------------------------------------------------------------------------
    def eventFilter(self, obj, event) -> bool:
        if (obj is self.list and event.type() == QEvent.Type.KeyPress
                and self.list.state() != QAbstractItemView.State.EditingState
                and (event.matches(QKeySequence.StandardKey.Delete) or event.key() == Qt.Key.Key_Backspace)):
            self.remove_current()
            return True
        return super().eventFilter(obj, event)

    def changeEvent(self, event) -> None:
        if (event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange)
                and hasattr(self, "empty_label")):
            self._rebuild()            # swatch borders follow the theme
        super().changeEvent(event)
