"""The PySide6 desktop app (every Qt import of Palette App lives in this package).

Start it with ``palette-app gui [IMAGE]``, ``python -m palette_app.gui [IMAGE]``
or :func:`palette_app.gui.app.main`.
"""
