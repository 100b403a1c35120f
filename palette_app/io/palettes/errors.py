"""The one error palette files raise: :class:`PaletteFormatError`."""
from __future__ import annotations

import os


class PaletteFormatError(ValueError):
    """A palette file is malformed, or a palette cannot be written in a format.

    The message names the file, the format and the problem, for example
    ``swatches.ase: Adobe Swatch Exchange (.ase): block 3 of 5 is 120 bytes long
    but only 40 bytes remain``.

    Attributes
    ----------
    problem : str
        What is wrong, in words a user can act on.
    path : str or None
        The file (``None`` when reading bytes held in memory).
    format : str or None
        The format name, a key of :data:`PALETTE_FORMATS` (``None`` when the
        format could not be recognised).
    """

    def __init__(self, problem: str, *, path: str | os.PathLike | None = None,
                 format: str | None = None):
        super().__init__(problem)
        self.problem = problem
        self.path = None if path is None else os.fspath(path)
        self.format = format

    def __str__(self) -> str:
        where = self.path if self.path is not None else "<palette data>"
        if self.format is None:
            return f"{where}: {self.problem}"
        from palette_app.io.palettes import PALETTE_FORMATS  # lazy: avoids an import cycle

        spec = PALETTE_FORMATS.get(self.format)
        label = spec.label if spec is not None else self.format
        return f"{where}: {label}: {self.problem}"

    def __reduce__(self):
        return (_rebuild, (self.problem, self.path, self.format))


def _rebuild(problem, path, format):
    return PaletteFormatError(problem, path=path, format=format)
