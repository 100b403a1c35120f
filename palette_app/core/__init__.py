"""The numerical core: numpy + numba only (no Pillow, no Qt)."""
from palette_app.core.errors import Cancelled, FewerColorsWarning, PaletteAppWarning
from palette_app.core.histogram import ColorHistogram, color_histogram
from palette_app.core.palette import Palette

__all__ = [
    "Cancelled",
    "ColorHistogram",
    "FewerColorsWarning",
    "Palette",
    "PaletteAppWarning",
    "color_histogram",
]
