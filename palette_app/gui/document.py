"""The document: what the window shows, as a model with signals.

:class:`Document` holds the open image, the quantization settings, the
palette state (clustering, or a fixed palette the user applied or edited, and
the locked colors) and the preview on screen. It never touches a widget: the
controls and swatches change it through its methods, and the views (preview,
swatches, locked list, status bar) subscribe to its signals, as napari's layer
models do. It also decides which results are stale: every request carries a
*generation*, and only the result of the newest one is accepted.

Every change of the palette state (apply a palette file, cluster again, lock,
unlock, delete, move, rename, add, recolor) is one command on
:attr:`Document.undo_stack`, so Edit › Undo takes it back exactly.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from palette_app.core import Palette
from palette_app.gui import palette_edit as edit
from palette_app.gui.controls import Settings
from palette_app.gui.palette_edit import PaletteState, hex6
from palette_app.gui.undo import StateCommand
from palette_app.gui.worker import LoadResult, PreviewResult, QuantizeRequest

__all__ = ["Document"]

_hex6 = hex6


class Document(QObject):
    #: A new image (a LoadResult) replaced the old one; the preview is gone.
    imageChanged = Signal(object)
    #: The settings changed (a Settings).
    settingsChanged = Signal(object)
    #: The locked colors changed (a tuple of "#rrggbb").
    lockedChanged = Signal(tuple)
    #: The fixed palette changed (a Palette), or clustering is back (None).
    paletteChanged = Signal(object)
    #: Palette or locks changed (once per change, after the two above): time for a new preview.
    stateChanged = Signal()
    #: A new preview (a PreviewResult) is current.
    previewChanged = Signal(object)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._image: LoadResult | None = None
        self._settings = Settings()
        self._state = PaletteState()
        self._shown: PreviewResult | None = None
        self._generation = 0
        self.undo_stack = QUndoStack(self)
        self.undo_stack.setUndoLimit(500)

    # -- state ------------------------------------------------------------------
    @property
    def image(self) -> LoadResult | None:
        return self._image

    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def locked(self) -> tuple[str, ...]:
        """Locked colors, ``"#rrggbb"``, in the order they were locked."""
        return self._state.locked

    @property
    def state(self) -> PaletteState:
        """The palette state (what undo and redo restore)."""
        return self._state

    @property
    def fixed_palette(self) -> Palette | None:
        """The palette the image is mapped to, or None while k-means picks the colors."""
        return self._state.palette

    @property
    def is_fixed(self) -> bool:
        return self._state.palette is not None

    @property
    def palette_source(self) -> str:
        """Where the fixed palette came from ("brand.gpl", "edited", …); "" while clustering."""
        return self._state.source

    @property
    def palette_title(self) -> str | None:
        return self._state.title

    @property
    def shown(self) -> PreviewResult | None:
        """The preview on screen: the newest result accepted."""
        return self._shown

    @property
    def generation(self) -> int:
        """Increases with every request (and every new image)."""
        return self._generation

    # -- changes ---------------------------------------------------------------------
    def set_image(self, image: LoadResult) -> None:
        """A new image: the preview, the locks and the undo history of the old
        one go; a fixed palette stays (it maps the new image too)."""
        self._image = image
        self._shown = None
        self._generation += 1            # results for the previous image are stale now
        self.undo_stack.clear()
        self._state = PaletteState(self._state.palette, self._state.source, self._state.title, ())
        self.imageChanged.emit(image)

    def set_settings(self, settings: Settings) -> None:
        if settings != self._settings:
            self._settings = settings
            self.settingsChanged.emit(settings)

    def restore(self, state: PaletteState) -> None:
        """Make ``state`` current (undo and redo call this); signals only what changed."""
        old, self._state = self._state, state
        palette_changed = not (old.palette == state.palette and old.source == state.source
                               and old.title == state.title)
        locked_changed = old.locked != state.locked
        if palette_changed:
            self.paletteChanged.emit(state.palette)
        if locked_changed:
            self.lockedChanged.emit(state.locked)
        if palette_changed or locked_changed:
            self.stateChanged.emit()

    def _push(self, text: str, state: PaletteState) -> bool:
        """Apply ``state`` as one undoable command; False (no command) when nothing changes."""
        if state == self._state:
            return False
        self.undo_stack.push(StateCommand(self, text, self._state, state))
        return True

    # -- locks --------------------------------------------------------------------------
    def _with_locked(self, locked: tuple[str, ...], palette: Palette | None = None,
                     source: str | None = None) -> PaletteState:
        s = self._state
        return PaletteState(s.palette if palette is None else palette,
                            s.source if source is None else source, s.title, tuple(locked))

    def set_locked(self, hexcode: str, locked: bool) -> None:
        """Lock or unlock a color. With a fixed palette, locking a color it
        lacks adds the color (a locked color is always in the palette)."""
        h = hex6(hexcode)
        if locked and h not in self.locked:
            pal, source = self._palette_with(h)
            self._push(f"Lock {h}", self._with_locked(self.locked + (h,), pal, source))
        elif not locked and h in self.locked:
            self._push(f"Unlock {h}", self._with_locked(tuple(x for x in self.locked if x != h)))

    def replace_color(self, old: str, new: str) -> None:
        """``old`` becomes ``new``, which is locked (in ``old``'s place if that
        was locked). With a fixed palette, the entry ``old`` gets the new color."""
        old, new = hex6(old), hex6(new)
        locked = [h for h in self.locked if h != new]
        if old in locked:
            locked[locked.index(old)] = new
        else:
            locked.append(new)
        pal = source = None
        fixed = self.fixed_palette
        if fixed is not None:
            hexes = [hex6(h) for h in fixed.hex]
            if old in hexes:
                pal = edit.set_entry_color(fixed, hexes.index(old), new)
                source = self._edited_source()
            else:
                pal, source = self._palette_with(new)
        self._push(f"Change {old} to {new}", self._with_locked(tuple(locked), pal, source))

    def unlock_all(self) -> None:
        self._push("Unlock all colors", self._with_locked(()))

    def _palette_with(self, h: str) -> tuple[Palette | None, str | None]:
        """The fixed palette with ``h`` added if it lacks it (None, None: no change)."""
        fixed = self.fixed_palette
        if fixed is None or h in [hex6(x) for x in fixed.hex]:
            return None, None
        return edit.insert_color(fixed, h), self._edited_source()

    # -- the palette ------------------------------------------------------------------
    def _edited_source(self) -> str:
        src = self._state.source
        if not src or src == "edited" or src.endswith(", edited"):
            return src or "edited"
        return f"{src}, edited"

    def apply_palette(self, palette: Palette, source: str, title: str | None = None) -> None:
        """Map the image to ``palette`` (e.g. read from a palette file), as it is.

        Entries the palette marks as locked (a Palette App JSON file) are locked."""
        if not 1 <= len(palette) <= edit.MAX_COLORS:
            raise ValueError(f"a palette to apply needs 1 to {edit.MAX_COLORS} colors, "
                             f"this one has {len(palette)}")
        pal = Palette(palette.colors, alpha=palette.alpha, names=palette.names)
        if not np.any(pal.rgba[:, 3] > 0):
            raise ValueError("the palette has no visible color (every entry is transparent)")
        flagged = np.asarray(palette.locked, bool) & (pal.rgba[:, 3] == 255)
        locked = tuple(dict.fromkeys(self.locked + tuple(hex6(pal.hex[i]) for i in np.flatnonzero(flagged))))
        self._push(f"Apply palette {source}", PaletteState(pal, source, title, locked))

    def cluster_again(self) -> None:
        """Back to k-means (the locks stay)."""
        self._push("Cluster again", PaletteState(None, "", None, self.locked))

    def _edit(self, text: str, palette: Palette) -> None:
        self._push(text, PaletteState(palette, self._edited_source(), self._state.title, self.locked))

    def _base(self, base: Palette | None) -> Palette:
        if base is None:
            base = self.fixed_palette
        if base is None:
            raise ValueError("there is no palette to edit yet")
        return base

    def delete_entry(self, index: int, base: Palette | None = None) -> None:
        """Remove entry ``index`` of ``base`` (default: the fixed palette); the
        palette becomes fixed. A locked color that goes is unlocked."""
        base = self._base(base)
        h = hex6(base.hex[index])
        pal = edit.delete_entry(base, index)
        locked = self.locked
        if h in locked and h not in [hex6(x) for x in pal.hex]:
            locked = tuple(x for x in locked if x != h)
        self._push(f"Delete {h}", PaletteState(pal, self._edited_source(), self._state.title, locked))

    def move_entry(self, index: int, to: int, base: Palette | None = None) -> None:
        base = self._base(base)
        self._edit(f"Move {hex6(base.hex[index])}", edit.move_entry(base, index, to))

    def rename_entry(self, index: int, name: str | None, base: Palette | None = None) -> None:
        base = self._base(base)
        name = (name or "").strip() or None
        text = f"Rename {hex6(base.hex[index])}" + (f" to “{name}”" if name else "")
        self._edit(text, edit.rename_entry(base, index, name))

    def add_color(self, hexcode: str, at: int | None = None, name: str | None = None,
                  base: Palette | None = None) -> None:
        base = self._base(base)
        self._edit(f"Add {hex6(hexcode)}", edit.insert_color(base, hexcode, at, name))

    def set_entry_color(self, index: int, hexcode: str, base: Palette | None = None) -> None:
        base = self._base(base)
        old, new = hex6(base.hex[index]), hex6(hexcode)
        locked = tuple(new if h == old else h for h in self.locked)
        self._push(f"Change {old} to {new}",
                   PaletteState(edit.set_entry_color(base, index, new), self._edited_source(),
                                self._state.title, tuple(dict.fromkeys(locked))))

    # -- requests and results ------------------------------------------------------------
    def _request(self, generation: int) -> QuantizeRequest | None:
        if self._image is None:
            return None
        s = self._settings
        fixed = self.fixed_palette
        return QuantizeRequest(
            pixels=self._image.preview, n_colors=len(fixed) if fixed is not None else s.n_colors,
            random_state=s.random_state, space=s.space, dither=s.dither,
            dither_strength=s.dither_strength, dither_smooth_only=s.dither_smooth_only,
            locked=() if fixed is not None else self.locked, palette=fixed,
            generation=generation)

    def next_request(self) -> QuantizeRequest | None:
        """A request for the current state (None without an image); it makes
        every earlier request stale."""
        if self._image is None:
            return None
        self._generation += 1
        return self._request(self._generation)

    def current_request(self) -> QuantizeRequest | None:
        """The request for the current state, without making earlier ones stale
        (for an export's space and dithering)."""
        return self._request(self._generation)

    def is_current(self, request: QuantizeRequest | None) -> bool:
        return (request is not None and self._image is not None
                and request.generation == self._generation
                and request.pixels is self._image.preview)

    def accept(self, result: PreviewResult) -> bool:
        """Make ``result`` the preview if it answers the newest request; False if stale."""
        if not self.is_current(result.request):
            return False
        self._shown = result
        self.previewChanged.emit(result)
        return True

    def lock_mask(self, palette: Palette) -> np.ndarray:
        """(k,) bool: which entries of ``palette`` are locked (opaque entries only)."""
        locked = set(self.locked)
        mask = np.array([hex6(h) in locked for h in palette.hex], bool)
        if palette.alpha is not None:
            mask &= palette.alpha == 255
        return mask | np.asarray(palette.locked, bool)
