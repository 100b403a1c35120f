"""Files: images in and out (Pillow), palette files, atomic writes. Never Qt.

Names are imported lazily so that ``import palette_app.io`` stays cheap.
"""
from __future__ import annotations

import importlib

_LAZY = {
    # images (palette_app/io/image_load.py, image_save.py)
    "load_image": "palette_app.io.image_load",
    "LoadedImage": "palette_app.io.image_load",
    "ImageLoadError": "palette_app.io.image_load",
    "IMAGE_READ_FORMATS": "palette_app.io.image_load",
    "save_image": "palette_app.io.image_save",
    "ImageSaveError": "palette_app.io.image_save",
    "IMAGE_WRITE_FORMATS": "palette_app.io.image_save",
    # palette files (palette_app/io/palettes/)
    "read_palette": "palette_app.io.palettes",
    "write_palette": "palette_app.io.palettes",
    "PaletteFormatError": "palette_app.io.palettes",
    "PALETTE_FORMATS": "palette_app.io.palettes",
    # atomic writes
    "atomic_write": "palette_app.io.atomic",
    "OutputExistsError": "palette_app.io.atomic",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'palette_app.io' has no attribute {name!r}")


def __dir__():
    return __all__
