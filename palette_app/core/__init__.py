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
from palette_app.core.quantize import DITHERS, QuantizeSettings, quantize, remap, shared_palette
from palette_app.core.colorspace import SPACES
from palette_app.core.elbow import ElbowCurve, colors_for_quality, elbow
from palette_app.core.result import QuantizeResult
from palette_app.core.warmup import warmup

__all__ = [
    "Cancelled",
    "DITHERS",
    "ElbowCurve",
    "SPACES",
    "ColorHistogram",
    "FewerColorsWarning",
    "KMeansState",
    "MiniBatchKMeans",
    "Palette",
    "PaletteAppWarning",
    "QuantizeResult",
    "QuantizeSettings",
    "color_histogram",
    "colors_for_quality",
    "elbow",
    "quantize",
    "reduce_histogram",
    "remap",
    "shared_palette",
    "warmup",
    "weighted_kmeans",
]
