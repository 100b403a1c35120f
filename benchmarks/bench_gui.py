"""Latency of the desktop app, offscreen: start to first preview, slider to new preview.

    python benchmarks/bench_gui.py [--size 1000] [--repeat 15] [--image PATH]

Run it as its own process (the numbers include what a user waits for):

1. *window shown → first preview*: the window is created and shown, a 1-MP
   image is opened at once (as ``palette-app gui IMAGE`` does), and the clock
   stops when the quantized preview has been painted. The kernels come from
   Numba's on-disk cache (run the script twice after changing the core; the
   first run compiles them).
2. *slider change → updated preview*: the colors slider is moved by one step
   to n (16, then 64, then 256), and the clock stops when the new preview has
   been painted. Each change starts from an idle window.

Prints one table; the README's "Desktop app" section quotes it.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[1]


def make_image(size: int, folder: Path, source: Path | None) -> Path:
    from PIL import Image

    src = source or ROOT / "assets" / "astronaut.png"
    path = folder / f"bench-{size}.png"
    with Image.open(src) as im:
        im.convert("RGB").resize((size, size), Image.Resampling.LANCZOS).save(path)
    return path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", type=int, default=1000,
                    help="side of the square test image (default 1000: 1 MP)")
    ap.add_argument("--repeat", type=int, default=15, help="slider changes per color count")
    ap.add_argument("--image", type=Path, help="photo to resize (default assets/astronaut.png)")
    args = ap.parse_args(argv)

    from PySide6.QtCore import QElapsedTimer, QEventLoop, QSettings, QThreadPool, QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    from palette_app.gui.mainwindow import MainWindow

    tmp = Path(tempfile.mkdtemp(prefix="bench_gui_"))
    image = make_image(args.size, tmp, args.image)
    settings = QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat)

    def wait_for(predicate, timeout_s=120.0):
        """Run the event loop until ``predicate()``; checked on every preview and
        every 20 ms. (A busy processEvents() loop would steal a core from the
        worker and double the numbers.)"""
        if predicate():
            return
        loop = QEventLoop()

        def check(*_):
            if predicate():
                loop.quit()

        poll = QTimer()
        poll.setInterval(20)
        poll.timeout.connect(check)
        poll.start()
        window_ref[0].previewUpdated.connect(check)
        QTimer.singleShot(int(timeout_s * 1000), loop.quit)
        loop.exec()
        poll.stop()
        window_ref[0].previewUpdated.disconnect(check)
        if not predicate():
            raise TimeoutError("the window did not finish in time")

    window_ref = [None]
    clock = QElapsedTimer()
    painted = []

    # 1. Window shown -> first preview (kernels from the on-disk cache).
    clock.start()
    window = MainWindow(settings)
    window_ref[0] = window
    window.resize(1400, 900)
    window.show()
    app.processEvents()
    shown_ms = clock.nsecsElapsed() / 1e6

    def on_preview(pr):  # connected first, so it runs before wait_for's check
        window.preview.quantized_pane.repaint()      # count the painting too
        painted.append((clock.nsecsElapsed() / 1e6, pr))

    window.previewUpdated.connect(on_preview)
    window.open_path(image)
    wait_for(lambda: painted and window.is_idle())
    first_ms, first_pr = painted[0]
    loaded = window.loaded
    h, w = loaded.preview.shape[:2]

    # 2. Slider change -> updated preview.
    rows = []
    for n in (16, 64, 256):
        totals, computes = [], []
        for i in range(args.repeat):
            start = n - 1 if i % 2 == 0 else n + 1 if n < 256 else n - 2
            window.controls.colors_slider.setValue(start)
            wait_for(lambda start=start: window.is_idle() and window.shown is not None
                     and window.shown.request.n_colors == start)
            painted.clear()
            clock.restart()
            window.controls.colors_slider.setValue(n)
            wait_for(lambda n=n: bool(painted) and painted[-1][1].request.n_colors == n)
            totals.append(painted[-1][0])
            computes.append(painted[-1][1].seconds * 1000)
        rows.append((n, totals, computes))

    window.close()
    QThreadPool.globalInstance().waitForDone(10000)

    def fmt(xs):
        xs = sorted(xs)
        p90 = xs[min(len(xs) - 1, int(round(0.9 * (len(xs) - 1))))]
        return f"{statistics.median(xs):6.0f} {xs[0]:6.0f} {p90:6.0f}"

    cpus = os.cpu_count()
    print(f"Palette App GUI latency, {w} × {h} preview ({w * h / 1e6:.2f} MP), "
          f"Qt {os.environ['QT_QPA_PLATFORM']}, "
          f"{cpus} CPUs, {args.repeat} changes per row")
    print(f"window created and shown:              {shown_ms:6.0f} ms")
    print(f"window shown -> first preview painted: {first_ms - shown_ms:6.0f} ms "
          f"(of which quantize {first_pr.seconds * 1000:.0f} ms)")
    print("slider change -> preview painted     median    min    p90   (worker: median)")
    for n, totals, computes in rows:
        worker = statistics.median(computes)
        print(f"  {n:3d} colors                          {fmt(totals)}   ({worker:.0f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
