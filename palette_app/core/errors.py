"""The closed set of errors and warnings the core raises."""


class PaletteAppWarning(UserWarning):
    """Base class of every warning Palette App emits (tests turn these into errors)."""


class FewerColorsWarning(PaletteAppWarning):
    """The data has fewer distinct points than the number of clusters asked for."""


class Cancelled(Exception):
    """Raised when a long computation was cancelled through its callback.

    The progress callback of :func:`palette_app.quantize` and
    :class:`~palette_app.core.MiniBatchKMeans` may return ``False`` (or raise this
    exception itself) to stop the work between mini-batches.
    """
