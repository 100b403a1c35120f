"""Palette App: turn images into color palettes and reduced-color images.

The public API lives in :mod:`palette_app.core` (numpy + numba only); the most
used names are re-exported here::

    import palette_app
    result = palette_app.quantize(rgb_uint8_array, n_colors=16)
    result.palette.hex          # ['#1a2b3c', ...]
    result.indices              # (H, W) uint8 index image
"""
from importlib.metadata import PackageNotFoundError, version as _version

from palette_app import _runtime

_runtime.configure()  # before anything imports Numba

try:
    __version__ = _version("palette_app")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+unknown"

_CORE_NAMES = (
    "Cancelled",
    "ElbowCurve",
    "MiniBatchKMeans",
    "Palette",
    "QuantizeResult",
    "colors_for_quality",
    "elbow",
    "quantize",
    "remap",
    "shared_palette",
    "warmup",
)

__all__ = [*_CORE_NAMES, "__version__"]


def __getattr__(name: str):
    # Lazy: ``import palette_app`` stays cheap and does not load Numba, so a
    # worker process can still choose its thread count (NUMBA_NUM_THREADS)
    # after importing the package, and ``palette-app --help`` starts fast.
    if name in _CORE_NAMES:
        import palette_app.core as core

        return getattr(core, name)
    raise AttributeError(f"module 'palette_app' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
