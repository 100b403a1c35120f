"""The numerical core: numpy + numba only (no Pillow, no Qt).

Public names: :func:`quantize` → :class:`QuantizeResult`, :class:`Palette`,
:class:`MiniBatchKMeans`, :func:`color_histogram`, :func:`remap`, metrics,
:func:`warmup`, and the errors :class:`Cancelled` and warnings.
"""
from palette_app.core.errors import Cancelled, FewerColorsWarning, PaletteAppWarning
from palette_app.core.estimator import MiniBatchKMeans
from palette_app.core.histogram import ColorHistogram, color_histogram, reduce_histogram
from palette_app.core.kmeans import KMeansState, weighted_kmeans
from palette_app.core.palette import Palette
from palette_app.core.quantize import QuantizeSettings, quantize
from palette_app.core.remap import remap
from palette_app.core.result import QuantizeResult
from palette_app.core.warmup import warmup

__all__ = [
    "Cancelled",
    "ColorHistogram",
    "FewerColorsWarning",
    "KMeansState",
    "MiniBatchKMeans",
    "Palette",
    "PaletteAppWarning",
    "QuantizeResult",
    "QuantizeSettings",
    "color_histogram",
    "quantize",
    "reduce_histogram",
    "remap",
    "warmup",
    "weighted_kmeans",
]
