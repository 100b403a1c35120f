"""The quantization controls: number of colors, color space, dithering, seed.

:class:`ControlsPanel` emits :attr:`~ControlsPanel.settingsChanged` with an
immutable :class:`Settings` on every change; there is no "apply" button.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, replace

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QWidget,
)

from palette_app.gui.worker import CORE_FEATURES, DITHERS, SPACES

__all__ = ["DITHER_LABELS", "SPACE_LABELS", "ControlsPanel", "Settings"]

MIN_COLORS, MAX_COLORS = 2, 256
MAX_SEED = 2**31 - 1

SPACE_LABELS = {"srgb": "sRGB", "linear": "Linear RGB", "lab": "CIELAB", "oklab": "OKLab"}
SPACE_TIPS = {
    "srgb": "Cluster the colors as stored in the file (fast, the usual choice)",
    "linear": "Cluster in linear light: mixes like light does",
    "lab": "Cluster in CIELAB: distances follow perceived color differences",
    "oklab": "Cluster in OKLab: a more uniform perceptual space",
}
DITHER_LABELS = {"none": "None", "fs": "Floyd–Steinberg", "ordered": "Ordered (Bayer)"}


@dataclass(frozen=True)
class Settings:
    """What the controls say, on the user's own scale."""

    n_colors: int = 16
    space: str = "srgb"
    dither: str = "none"
    dither_strength: float = 1.0
    dither_smooth_only: bool = False
    random_state: int = 0


class ControlsPanel(QWidget):
    settingsChanged = Signal(object)   # Settings

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._quiet = False
        newer = "Needs a newer palette_app core."

        self.colors_slider = QSlider(Qt.Orientation.Horizontal)
        self.colors_slider.setRange(MIN_COLORS, MAX_COLORS)
        self.colors_slider.setPageStep(8)
        self.colors_slider.setValue(16)
        self.colors_slider.setToolTip("Number of colors in the palette (2–256)")
        self.colors_spin = QSpinBox()
        self.colors_spin.setRange(MIN_COLORS, MAX_COLORS)
        self.colors_spin.setValue(16)
        self.colors_spin.setAccelerated(True)
        self.colors_spin.setToolTip(self.colors_slider.toolTip())
        self.colors_slider.valueChanged.connect(self.colors_spin.setValue)
        self.colors_spin.valueChanged.connect(self.colors_slider.setValue)
        self.colors_spin.valueChanged.connect(self._changed)

        self.space_combo = QComboBox()
        for key in SPACES:
            self.space_combo.addItem(SPACE_LABELS.get(key, key), key)
            self.space_combo.setItemData(self.space_combo.count() - 1, SPACE_TIPS.get(key, ""),
                                         Qt.ItemDataRole.ToolTipRole)
        self.space_combo.setEnabled("space" in CORE_FEATURES)
        self.space_combo.setToolTip("Color space where colors are clustered and matched"
                                    + ("" if "space" in CORE_FEATURES else f" ({newer})"))
        self.space_combo.currentIndexChanged.connect(self._changed)

        self.dither_combo = QComboBox()
        for key in DITHERS:
            self.dither_combo.addItem(DITHER_LABELS.get(key, key), key)
        self.dither_combo.setEnabled("dither" in CORE_FEATURES)
        self.dither_combo.setToolTip("Dithering spreads the error to mimic missing colors"
                                     + ("" if "dither" in CORE_FEATURES else f" ({newer})"))
        self.dither_combo.currentIndexChanged.connect(self._changed)

        self.strength_slider = QSlider(Qt.Orientation.Horizontal)
        self.strength_slider.setRange(0, 100)
        self.strength_slider.setValue(100)
        self.strength_slider.setPageStep(10)
        self.strength_slider.setToolTip("Dithering strength")
        self.strength_label = QLabel("100 %")
        self.strength_label.setMinimumWidth(self.strength_label.fontMetrics().horizontalAdvance("100 %") + 4)
        self.strength_slider.valueChanged.connect(lambda v: self.strength_label.setText(f"{v} %"))
        self.strength_slider.valueChanged.connect(self._changed)

        self.smooth_check = QCheckBox("Keep edges crisp")
        self.smooth_check.setToolTip("Dither only the smooth areas of the image")
        self.smooth_check.setVisible("dither_smooth_only" in CORE_FEATURES)
        self.smooth_check.toggled.connect(self._changed)

        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, MAX_SEED)
        self.seed_spin.setToolTip("Random seed: the same seed gives the same palette")
        self.seed_spin.valueChanged.connect(self._changed)
        self.reseed_button = QPushButton("New")
        self.reseed_button.setToolTip("Try another random seed")
        self.reseed_button.clicked.connect(lambda: self.seed_spin.setValue(random.randint(0, 99_999)))

        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)

        def label(text: str, buddy: QWidget) -> QLabel:
            lab = QLabel(text)
            lab.setBuddy(buddy)
            return lab

        row = QHBoxLayout()
        row.addWidget(self.colors_slider, 1)
        row.addWidget(self.colors_spin)
        form.addRow(label("&Colors", self.colors_spin), row)
        form.addRow(label("Color &space", self.space_combo), self.space_combo)
        form.addRow(label("&Dithering", self.dither_combo), self.dither_combo)
        srow = QHBoxLayout()
        srow.addWidget(self.strength_slider, 1)
        srow.addWidget(self.strength_label)
        form.addRow(label("S&trength", self.strength_slider), srow)
        form.addRow("", self.smooth_check)
        seed_row = QHBoxLayout()
        seed_row.addWidget(self.seed_spin, 1)
        seed_row.addWidget(self.reseed_button)
        form.addRow(label("&Random seed", self.seed_spin), seed_row)
        self._update_enabled()

    # -- settings ---------------------------------------------------------------
    def settings(self) -> Settings:
        return Settings(
            n_colors=int(self.colors_spin.value()),
            space=self.space_combo.currentData() or "srgb",
            dither=self.dither_combo.currentData() or "none",
            dither_strength=self.strength_slider.value() / 100.0,
            dither_smooth_only=bool(self.smooth_check.isChecked()) and "dither_smooth_only" in CORE_FEATURES,
            random_state=int(self.seed_spin.value()),
        )

    def set_settings(self, s: Settings) -> None:
        """Show ``s`` (values the core does not offer are ignored); emits once."""
        self._quiet = True
        try:
            self.colors_spin.setValue(int(s.n_colors))
            for combo, value in ((self.space_combo, s.space), (self.dither_combo, s.dither)):
                i = combo.findData(value)
                if i >= 0:
                    combo.setCurrentIndex(i)
            self.strength_slider.setValue(round(100 * float(s.dither_strength)))
            self.smooth_check.setChecked(bool(s.dither_smooth_only))
            self.seed_spin.setValue(int(s.random_state))
        finally:
            self._quiet = False
        self._changed()

    def set_n_colors(self, n: int) -> None:
        self.colors_spin.setValue(int(n))

    def set_fixed_palette(self, fixed: bool) -> None:
        """With a fixed palette there is nothing to cluster: the number of colors
        and the seed do not apply (space and dithering still do)."""
        tip = "Not used while a fixed palette is applied (Palette › Cluster Again)"
        for w, normal in ((self.colors_slider, "Number of colors in the palette (2–256)"),
                          (self.colors_spin, "Number of colors in the palette (2–256)"),
                          (self.seed_spin, "Random seed: the same seed gives the same palette"),
                          (self.reseed_button, "Try another random seed")):
            w.setEnabled(not fixed)
            w.setToolTip(tip if fixed else normal)

    def with_changes(self, **changes) -> Settings:
        return replace(self.settings(), **changes)

    def _update_enabled(self) -> None:
        dithering = self.dither_combo.currentData() not in (None, "none")
        self.strength_slider.setEnabled(dithering)
        self.strength_label.setEnabled(dithering)
        self.smooth_check.setEnabled(dithering)

    def _changed(self, *_args) -> None:
        self._update_enabled()
        if not self._quiet:
            self.settingsChanged.emit(self.settings())
