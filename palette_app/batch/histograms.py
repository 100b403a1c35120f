"""Merging the color histograms of many images, for one shared palette.

Histograms arrive one by one from the workers; keeping them all would cost
megabytes per image, so they are merged as they come, in batches, into one
exact histogram of at most 2**24 colors.
"""
from __future__ import annotations

import numpy as np

#: Merge once this many (color, count) rows are waiting.
_MERGE_ROWS = 4_000_000


def _keys(colors: np.ndarray) -> np.ndarray:
    c = colors.astype(np.int64)
    return (c[:, 0] << 16) | (c[:, 1] << 8) | c[:, 2]


class HistogramAccumulator:
    """Sum of :class:`~palette_app.core.ColorHistogram` objects, exact.

    >>> acc = HistogramAccumulator()          # doctest: +SKIP
    >>> acc.add(color_histogram(img1)); acc.add(color_histogram(img2))
    >>> acc.result()                           # one ColorHistogram
    """

    def __init__(self) -> None:
        self._keys = np.zeros(0, np.int64)
        self._counts = np.zeros(0, np.int64)
        self._waiting: list[tuple[np.ndarray, np.ndarray]] = []
        self._rows = 0
        self.n_images = 0
        self.n_pixels = 0
        self.n_transparent = 0

    def add(self, hist) -> None:
        """Add one image's histogram (``colors`` (m, 3) uint8, ``counts`` (m,) int)."""
        self._waiting.append((_keys(hist.colors), np.asarray(hist.counts, np.int64)))
        self._rows += len(hist.colors)
        self.n_images += 1
        self.n_pixels += int(np.asarray(hist.counts).sum()) + int(hist.n_transparent)
        self.n_transparent += int(hist.n_transparent)
        if self._rows >= _MERGE_ROWS:
            self._merge()

    def _merge(self) -> None:
        if not self._waiting:
            return
        keys = np.concatenate([self._keys] + [k for k, _ in self._waiting])
        counts = np.concatenate([self._counts] + [c for _, c in self._waiting])
        uniq, inverse = np.unique(keys, return_inverse=True)
        summed = np.zeros(len(uniq), np.int64)
        np.add.at(summed, inverse, counts)
        self._keys, self._counts = uniq, summed
        self._waiting, self._rows = [], 0

    def result(self):
        """The merged histogram (colors sorted by their 24-bit value)."""
        from palette_app.core import ColorHistogram

        self._merge()
        k = self._keys
        colors = np.stack([(k >> 16) & 255, (k >> 8) & 255, k & 255], axis=1).astype(np.uint8)
        return ColorHistogram(colors, self._counts.copy(), (1, self.n_pixels), self.n_transparent)
