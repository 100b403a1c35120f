"""Make the README screenshots again: the main window, the batch window, the dark theme.

Run it with a display; on a machine without one, under Xvfb::

    xvfb-run -a -s "-screen 0 1600x1000x24" python assets/make_screenshots.py

It writes ``screenshot.png``, ``screenshot-batch.png`` and ``screenshot-dark.png``
beside itself (or in ``--out DIR``). The scenes are fixed: a fresh settings
file, fixed window sizes, an explicit theme, the bundled sample photo at seed 0,
and a small batch of files made here from it (one of them damaged, so the table
shows a failure). Only the timings printed in the windows change from run to
run. Each picture is reduced to 256 colors with Palette App itself, which keeps
the PNGs small enough for the repository.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SAMPLE = HERE / "astronaut.png"
MAIN_SIZE = (1440, 900)
BATCH_SIZE = (1100, 760)
#: Where the demo batch lives: a fixed path, since the batch window shows it.
DEMO = Path(tempfile.gettempdir()) / "palette-app-demo"


def wait_until(app, predicate, timeout: float = 120.0, what: str = "the window") -> None:
    """Run the event loop until ``predicate()`` holds."""
    from PySide6.QtCore import QEventLoop

    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout:.0f} s for {what}")
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.01)
    # Let the last repaints through.
    for _ in range(5):
        app.processEvents()


def settle(app, window, n: int | None = None) -> None:
    """Until the preview on screen is the newest (with ``n`` colors) and the curve is drawn."""
    def done() -> bool:
        shown = window.shown
        return (shown is not None and window.is_idle()
                and shown.request.generation == window.generation
                and (n is None or shown.request.n_colors == n)
                and (window.elbow_dock.isHidden() or window.elbow_panel.curve is not None))
    wait_until(app, done, what="the preview and the colors curve")


def unselect(window) -> None:
    """No selected row in the locked colors list (a selected row tints its color chip)."""
    from PySide6.QtCore import QModelIndex

    window.locked_panel.list.clearSelection()
    window.locked_panel.list.setCurrentIndex(QModelIndex())
    window.statusBar().clearMessage()


def save_reduced(widget, path: Path) -> int:
    """Grab ``widget``, reduce it to 256 colors, write an indexed PNG; returns its size in bytes."""
    from PySide6.QtGui import QImage

    import palette_app
    from palette_app.io.image_save import save_image

    img = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    w, h = img.width(), img.height()
    buf = np.frombuffer(img.constBits(), np.uint8, count=img.sizeInBytes())
    pixels = buf.reshape(h, img.bytesPerLine())[:, : 3 * w].reshape(h, w, 3).copy()
    result = palette_app.quantize(pixels, 256, random_state=0)
    save_image(result, path, overwrite=True)
    return path.stat().st_size


def make_demo_photos() -> Path:
    """``DEMO/photos``: four crops of the sample photo and one damaged file."""
    from PIL import Image

    shutil.rmtree(DEMO, ignore_errors=True)
    folder = DEMO / "photos"
    folder.mkdir(parents=True)
    with Image.open(SAMPLE) as im:
        photo = im.convert("RGB")
    crops = {"portrait.png": (140, 20, 396, 276), "flag.png": (0, 0, 200, 256),
             "badge.png": (100, 330, 300, 480), "helmet.png": (300, 330, 512, 512)}
    for name, box in crops.items():
        photo.crop(box).save(folder / name)
    good = (folder / "portrait.png").read_bytes()
    (folder / "scan-damaged.png").write_bytes(good[:200])     # cut off: cannot be read
    return folder


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=HERE, help="folder for the PNGs (default: assets/)")
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    from PySide6.QtCore import QCoreApplication, QSettings, QThreadPool
    from PySide6.QtWidgets import QApplication

    import palette_app
    from palette_app.gui.mainwindow import MainWindow

    QCoreApplication.setOrganizationName("Palette App")
    QCoreApplication.setApplicationName("Palette App")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    QThreadPool.globalInstance().setExpiryTimeout(-1)
    palette_app.warmup()

    sizes = {}
    with tempfile.TemporaryDirectory(prefix="palette-app-shots-") as tmp:
        settings = QSettings(os.path.join(tmp, "settings.ini"), QSettings.Format.IniFormat)
        window = MainWindow(settings, warmup=False)
        window.set_theme("light")
        window.resize(*MAIN_SIZE)
        window.show()
        wait_until(app, window.isVisible)

        # 1. The sample photo at 16 colors, the suit's orange locked, the curve beside.
        window.open_path(SAMPLE)
        settle(app, window, 16)
        pal = window.shown.palette
        rgb = pal.colors.astype(int)
        orange = int(np.argmax(rgb[:, 0] - rgb[:, 2] + 0.5 * rgb[:, 1]))
        window.set_locked(orange, True)
        settle(app, window, 16)
        unselect(window)
        sizes["screenshot.png"] = save_reduced(window, args.out / "screenshot.png")

        # 2. A small batch with the settings on screen: done rows and one failure.
        folder = make_demo_photos()
        window.batch_action.trigger()
        batch = window.batch_window
        batch.resize(*BATCH_SIZE)
        batch.clear_inputs()
        batch.add_inputs([folder])
        batch.set_output_folder(DEMO / "photos-16-colors")
        batch.jobs_spin.setValue(1)
        finished = []
        batch.batchFinished.connect(finished.append)
        if not batch.start():
            raise RuntimeError(f"the batch did not start: {batch.message()}")
        wait_until(app, lambda: finished and not batch.is_running(), what="the batch")
        batch.table.clearSelection()
        sizes["screenshot-batch.png"] = save_reduced(batch, args.out / "screenshot-batch.png")
        batch.close()

        # 3. The dark theme, at the number of colors the curve suggests (a click on it).
        window.set_theme("dark")
        k = window.elbow_panel.suggested_k
        window.choose_n_colors(k)
        settle(app, window, k)
        unselect(window)
        sizes["screenshot-dark.png"] = save_reduced(window, args.out / "screenshot-dark.png")

        window.close()
        QThreadPool.globalInstance().waitForDone(30000)
    shutil.rmtree(DEMO, ignore_errors=True)
    for name, n in sizes.items():
        print(f"{args.out / name}: {n / 1024:.0f} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
