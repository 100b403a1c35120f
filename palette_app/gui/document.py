"""The document: what the window shows, as a model with signals.

:class:`Document` holds the open image, the quantization settings, the locked
colors and the preview on screen. It never touches a widget: the controls and
swatches change it through its methods, and the views (preview, swatches,
status bar) subscribe to its signals, as napari's layer models do. It also
decides which results are stale: every request carries a *generation*, and
only the result of the newest one is accepted.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Signal

from palette_app.core import Palette
from palette_app.gui.controls import Settings
from palette_app.gui.worker import LoadResult, PreviewResult, QuantizeRequest

__all__ = ["Document"]


def _hex6(hexcode: str) -> str:
    return hexcode[:7].lower()


class Document(QObject):
    #: A new image (a LoadResult) replaced the old one; the preview is gone.
    imageChanged = Signal(object)
    #: The settings changed (a Settings).
    settingsChanged = Signal(object)
    #: The locked colors changed (a tuple of "#rrggbb").
    lockedChanged = Signal(tuple)
    #: A new preview (a PreviewResult) is current.
    previewChanged = Signal(object)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._image: LoadResult | None = None
        self._settings = Settings()
        self._locked: tuple[str, ...] = ()
        self._shown: PreviewResult | None = None
        self._generation = 0

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
        return self._locked

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
        """A new image: the preview and the locks of the old one go (one signal:
        ``imageChanged`` says it all)."""
        self._image = image
        self._shown = None
        self._locked = ()
        self._generation += 1            # results for the previous image are stale now
        self.imageChanged.emit(image)

    def set_settings(self, settings: Settings) -> None:
        if settings != self._settings:
            self._settings = settings
            self.settingsChanged.emit(settings)

    def set_locked(self, hexcode: str, locked: bool) -> None:
        h = _hex6(hexcode)
        if locked and h not in self._locked:
            self._set_locked(self._locked + (h,))
        elif not locked and h in self._locked:
            self._set_locked(tuple(x for x in self._locked if x != h))

    def replace_color(self, old: str, new: str) -> None:
        """``old`` becomes ``new``, which is locked (in ``old``'s place if that was locked)."""
        old, new = _hex6(old), _hex6(new)
        locked = [h for h in self._locked if h != new]
        if old in locked:
            locked[locked.index(old)] = new
        else:
            locked.append(new)
        self._set_locked(tuple(locked))

    def unlock_all(self) -> None:
        self._set_locked(())

    def _set_locked(self, locked: tuple[str, ...]) -> None:
        if locked != self._locked:
            self._locked = locked
            self.lockedChanged.emit(locked)

    # -- requests and results ------------------------------------------------------------
    def next_request(self) -> QuantizeRequest | None:
        """A request for the current state (None without an image); it makes
        every earlier request stale."""
        if self._image is None:
            return None
        self._generation += 1
        s = self._settings
        return QuantizeRequest(
            pixels=self._image.preview, n_colors=s.n_colors, random_state=s.random_state,
            space=s.space, dither=s.dither, dither_strength=s.dither_strength,
            dither_smooth_only=s.dither_smooth_only, locked=self._locked,
            generation=self._generation)

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
        locked = set(self._locked)
        mask = np.array([_hex6(h) in locked for h in palette.hex], bool)
        if palette.alpha is not None:
            mask &= palette.alpha == 255
        return mask | np.asarray(palette.locked, bool)
