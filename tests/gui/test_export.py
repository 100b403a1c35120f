"""Export from the window: every palette and image format, full resolution, errors."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from palette_app.gui.mainwindow import IMAGE_FILTERS, image_filters, palette_filters
from palette_app.gui.worker import CORE_FEATURES
from palette_app.io import (
    IMAGE_WRITE_FORMATS,
    PALETTE_FORMATS,
    load_image,
    read_palette,
    save_image,
)

ASTRONAUT = Path(__file__).resolve().parents[2] / "assets" / "astronaut.png"
LOSSLESS = {"PNG", "GIF", "WEBP", "TIFF", "BMP"}


def _colors(pixels: np.ndarray) -> set[int]:
    """Distinct RGB colors as 0xRRGGBB integers (np.unique on rows is slow)."""
    p = pixels[..., :3].reshape(-1, 3).astype(np.uint32)
    return set(np.unique((p[:, 0] << 16) | (p[:, 1] << 8) | p[:, 2]).tolist())


def _palette_colors(palette) -> set[int]:
    return _colors(np.asarray(palette.colors)[None])


@pytest.fixture
def big_window(window, wait_preview, big_image_path):
    window.controls.colors_slider.setValue(12)
    window.open_path(big_image_path)
    wait_preview(window, 12)
    return window


def _export(qtbot, window, kind, path, fmt=None):
    with qtbot.waitSignal(window.exportFinished, timeout=30000) as blocker:
        window.export(kind, path, fmt)
    return blocker.args[0]


def test_export_palette_every_format(big_window, qtbot, tmp_path, dialogs):
    window = big_window
    pal = window.shown.palette
    writable = [name for name, spec in PALETTE_FORMATS.items() if spec.can_write]
    assert len(palette_filters()) == len(writable)
    for name in writable:
        spec = PALETTE_FORMATS[name]
        path = tmp_path / f"out-{name.replace('.', '_')}{spec.extensions[0]}"
        res = _export(qtbot, window, "palette", path, name)
        assert path.is_file() and path.stat().st_size > 0, name
        assert res.size == (1400, 900)
        if spec.can_read:
            back = read_palette(path, format=name)
            assert back.hex[: len(pal)] == pal.hex, name
    assert dialogs.errors == []


def test_exported_palette_has_full_resolution_shares_and_locks(big_window, qtbot, tmp_path, wait_preview):
    window = big_window
    if "locked" in CORE_FEATURES:
        window.set_locked(1, True)
        wait_preview(window, 12)
    path = tmp_path / "pal.json"
    _export(qtbot, window, "palette", path)
    back = read_palette(path)
    assert back.hex == window.shown.palette.hex
    assert int(back.counts.sum()) == 1400 * 900            # counted on the full image
    if "locked" in CORE_FEATURES:
        assert back.locked[1] and back.locked.sum() == 1


def test_export_image_every_format_full_resolution(big_window, qtbot, tmp_path, dialogs):
    window = big_window
    pal = window.shown.palette
    progress = []
    assert len(image_filters()) == len(IMAGE_WRITE_FORMATS)
    for fmt in IMAGE_WRITE_FORMATS:
        ext = IMAGE_FILTERS[fmt][1][0]
        path = tmp_path / f"out{ext}"
        window.exportFinished.connect(lambda r: progress.append(window.progress_bar.value()))
        res = _export(qtbot, window, "image", path, fmt)
        img = load_image(path)
        assert img.size == (1400, 900), fmt            # full resolution, not the preview
        assert res.n_colors == len(pal)
        if fmt in LOSSLESS:
            assert _colors(img.pixels) <= _palette_colors(pal), fmt
    assert all(p == 100 for p in progress)
    assert not window.progress_bar.isVisible()
    assert window.export_image_action.isEnabled()
    assert dialogs.errors == []


@pytest.mark.skipif("dither" not in CORE_FEATURES, reason="the core has no dithering yet")
def test_dithered_export_uses_the_palette(big_window, qtbot, tmp_path, wait_preview):
    window = big_window
    c = window.controls
    c.dither_combo.setCurrentIndex(c.dither_combo.findData("fs"))
    shown = wait_preview(window, 12)
    path = tmp_path / "dithered.png"
    _export(qtbot, window, "image", path)
    img = load_image(path)
    assert img.size == (1400, 900)
    colors = _colors(img.pixels)
    assert colors <= _palette_colors(shown.palette)
    assert len(colors) > 6


def test_export_through_the_dialog_adds_the_extension(big_window, qtbot, tmp_path, dialogs):
    window = big_window
    filters = palette_filters()
    ase_filter = next(f for f, (name, _) in filters.items() if name == "ase")
    dialogs.save_answers.append((str(tmp_path / "swatches"), ase_filter))
    with qtbot.waitSignal(window.exportFinished, timeout=30000):
        window.export_palette_action.trigger()
    assert (tmp_path / "swatches.ase").is_file()
    assert read_palette(tmp_path / "swatches.ase").hex == window.shown.palette.hex
    # The dialog suggested a name after the image, and remembers the format.
    _title, suggested, offered, _selected = dialogs.last_save
    assert Path(suggested).name == "big-12.gpl"
    assert len(offered) == len(filters)
    # A typed extension wins over the filter; .tiff is a TIFF.
    png_filter = next(f for f, (fmt, _) in image_filters().items() if fmt == "PNG")
    dialogs.save_answers.append((str(tmp_path / "picture.tiff"), png_filter))
    with qtbot.waitSignal(window.exportFinished, timeout=30000) as blocker:
        window.export_image_action.trigger()
    assert blocker.args[0].path.endswith("picture.tiff")
    assert load_image(tmp_path / "picture.tiff").format == "TIFF"
    # Cancelled dialog: nothing happens.
    qtbot.waitUntil(lambda: not window.core_runner.busy)
    dialogs.save_answers.append(None)
    window.export_image_action.trigger()
    assert window.core_runner.pending("export") == []


def test_failed_export_is_a_message(big_window, qtbot, tmp_path, dialogs, wait_preview):
    window = big_window
    window.export("image", tmp_path / "no" / "such" / "folder" / "x.png")
    qtbot.waitUntil(lambda: dialogs.errors != [], timeout=30000)
    _title, message = dialogs.errors[0]
    assert "x.png" in message and "Traceback" not in message
    qtbot.waitUntil(lambda: window.export_image_action.isEnabled())
    # Still usable.
    window.controls.colors_slider.setValue(5)
    wait_preview(window, 5)
    _export(qtbot, window, "image", tmp_path / "ok.png")


def test_export_can_be_cancelled(big_window, qtbot, tmp_path, dialogs):
    window = big_window
    done = []
    window.exportFinished.connect(done.append)
    w = window.export("image", tmp_path / "cancelled.png")
    window.cancel_button.click()
    with qtbot.waitSignal(w.signals.finished, timeout=30000, raising=False):
        pass
    qtbot.waitUntil(lambda: not window.progress_bar.isVisible())
    assert done == [] or (tmp_path / "cancelled.png").is_file()   # cancelled, or already written
    assert dialogs.errors == []


def test_export_at_few_colors_is_smoothed_like_quantize(window, qtbot, tmp_path, wait_preview):
    """A clustered palette at 4 colors: the exported PNG holds exactly what
    ``quantize`` gives the image (label smoothing included), and is smaller
    than the exact-nearest mapping of the same palette."""
    from PIL import Image

    import palette_app

    window.controls.colors_slider.setValue(4)
    window.open_path(ASTRONAUT)                  # 512 x 512: the preview is the full image
    shown = wait_preview(window, 4)
    assert shown.result.settings["smoothing"] > 0
    path = tmp_path / "four.png"
    _export(qtbot, window, "image", path)
    pixels = load_image(ASTRONAUT).pixels
    expected = palette_app.quantize(pixels, 4)
    with Image.open(path) as im:
        assert im.mode == "P"
        written = np.asarray(im)
    assert np.array_equal(written, expected.indices)
    exact = palette_app.remap(pixels, expected.palette, smoothing=0)
    assert not np.array_equal(exact.indices, expected.indices)
    exact_path = tmp_path / "exact.png"
    save_image(exact, exact_path)
    assert path.stat().st_size < exact_path.stat().st_size
