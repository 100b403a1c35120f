"""The :class:`QuantizeResult` returned by :func:`palette_app.quantize`."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from palette_app.core.palette import Palette


@dataclass(frozen=True, eq=False)
class QuantizeResult:
    """A reduced-color image: a palette and an index image.

    Attributes
    ----------
    palette : Palette
        The colors, with pixel ``counts`` (and shares). When the image had
        transparent pixels, one entry is fully transparent (``alpha == 0``)
        and ``transparent_index`` names it.
    indices : (H, W) uint8
        Palette index of every pixel: its nearest color's, unless dithering
        or label smoothing (``settings["smoothing"] > 0``) chose another.
    transparent_index : int or None
    inertia : float
        Sum over opaque pixels of the squared distance to their palette color,
        in the clustering space (sRGB 0..255 units unless another space was used).
    n_iter : int
        Mini-batch steps plus Lloyd passes that the best run took.
    settings : dict
        The settings that produced this result (``smoothing`` as the
        strength actually used, automatic choice resolved).
    """

    palette: Palette
    indices: np.ndarray
    transparent_index: int | None = None
    inertia: float = 0.0
    n_iter: int = 0
    settings: dict[str, Any] = field(default_factory=dict)
    # Private: the histogram and per-color labels, for metrics computed lazily.
    _hist_colors: np.ndarray | None = field(default=None, repr=False)
    _hist_counts: np.ndarray | None = field(default=None, repr=False)
    _hist_labels: np.ndarray | None = field(default=None, repr=False)
    # Private: the original pixels, when metrics must be measured per pixel
    # (dithered results, where one color maps to several palette entries).
    _original: np.ndarray | None = field(default=None, repr=False)
    # Private: pixels whose entry is not their color's entry in _hist_labels
    # (label smoothing): their colors (c, 3) uint8, that entry and theirs (c,).
    _moved_rgb: np.ndarray | None = field(default=None, repr=False)
    _moved_from: np.ndarray | None = field(default=None, repr=False)
    _moved_to: np.ndarray | None = field(default=None, repr=False)

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(self.indices.shape)  # type: ignore[return-value]

    @property
    def n_colors(self) -> int:
        return len(self.palette)

    @property
    def has_alpha(self) -> bool:
        return self.palette.alpha is not None

    def to_rgb(self) -> np.ndarray:
        """(H, W, 3) uint8 image of the palette colors (transparent pixels keep their stored color)."""
        return np.ascontiguousarray(self.palette.colors[self.indices])

    def to_rgba(self) -> np.ndarray:
        """(H, W, 4) uint8 image with the palette's alpha."""
        return np.ascontiguousarray(self.palette.rgba[self.indices])

    # -- metrics (over the opaque pixels, in sRGB) ---------------------------------
    @cached_property
    def mse(self) -> float:
        """Mean squared error per channel against the original, sRGB 0..255."""
        from palette_app.core.metrics import histogram_mse, mse

        if self._original is not None:
            return mse(*self._opaque_pairs())
        if self._hist_colors is None:
            raise ValueError("this result carries no histogram to measure against")
        value = histogram_mse(self._hist_colors, self._hist_counts, self._hist_labels, self.palette.colors)
        return value + self._moved_correction(mse)

    @cached_property
    def psnr(self) -> float:
        """Peak signal-to-noise ratio in dB (inf for an exact result)."""
        from palette_app.core.metrics import psnr_from_mse

        return psnr_from_mse(self.mse)

    @cached_property
    def delta_e(self) -> float:
        """Mean CIEDE2000 color difference per opaque pixel."""
        from palette_app.core.metrics import histogram_delta_e, mean_delta_e

        if self._original is not None:
            return mean_delta_e(*self._opaque_pairs())
        if self._hist_colors is None:
            raise ValueError("this result carries no histogram to measure against")
        value = histogram_delta_e(self._hist_colors, self._hist_counts, self._hist_labels,
                                  self.palette.colors)
        return value + self._moved_correction(mean_delta_e)

    def _moved_correction(self, mean_metric) -> float:
        """Change of a per-pixel mean metric from the pixels label smoothing moved
        off their color's histogram label (0 when none moved)."""
        if self._moved_rgb is None or len(self._moved_rgb) == 0:
            return 0.0
        x = self._moved_rgb[:, None, :]
        pal = self.palette.colors
        now = mean_metric(x, np.ascontiguousarray(pal[self._moved_to][:, None, :]))
        before = mean_metric(x, np.ascontiguousarray(pal[self._moved_from][:, None, :]))
        return (now - before) * len(self._moved_rgb) / float(self._hist_counts.sum())

    def _opaque_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """(original, quantized) RGB of the pixels mapped to opaque entries, as
        (n, 1, 3) images, so per-pixel metrics cover exactly those pixels."""
        rgb = self.to_rgb()
        if self.palette.alpha is None:
            return self._original, rgb
        keep = self.palette.alpha[self.indices] == 255
        return (np.ascontiguousarray(self._original[keep][:, None, :]),
                np.ascontiguousarray(rgb[keep][:, None, :]))

    def __repr__(self) -> str:
        h, w = self.shape
        return f"QuantizeResult({w}x{h}, {self.n_colors} colors, inertia={self.inertia:.4g})"
