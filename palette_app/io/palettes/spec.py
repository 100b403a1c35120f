""":class:`PaletteFormat`: what one palette file format can hold."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PaletteFormat:
    """One entry of :data:`PALETTE_FORMATS`.

    Attributes
    ----------
    name : str
        Registry key, also accepted as ``format=`` (``"gpl"``, ``"ase"``, ...).
    extensions : tuple of str
        File extensions with the dot, lower case; the first one is the usual one.
    can_read, can_write : bool
        Whether :func:`read_palette` / :func:`write_palette` support the format.
    description : str
        One line for people (file dialogs, ``--help``).
    alpha : {"full", "transparent-index", "none"}
        How much opacity the format keeps.
    names : bool
        Whether per-color names are kept.
    title : bool
        Whether the palette's own name is kept.
    counts : bool
        Whether pixel counts (and so shares) and locked flags are kept.
    max_colors : int or None
        Hard limit on the number of colors; writing more raises
        :class:`PaletteFormatError`.
    options : tuple of str
        Keyword options the writer accepts besides ``name``.
    """

    name: str
    extensions: tuple[str, ...]
    can_read: bool
    can_write: bool
    description: str
    alpha: str = "none"
    names: bool = False
    title: bool = False
    counts: bool = False
    max_colors: int | None = None
    options: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """``"Adobe Swatch Exchange (.ase)"``: the description's short form for messages."""
        return f"{self.description.split(':')[0]} ({self.extensions[0]})"
