"""The PySide6 desktop app (every Qt import of Palette App lives in this package).

Start it with ``palette-app gui [IMAGE]``, ``python -m palette_app.gui [IMAGE]``
or :func:`palette_app.gui.app.main`.
"""
from palette_app.gui import _refcount_guard

# Before any widget exists: see the module for the PySide6 bug it works around.
_refcount_guard.install()
