"""Start the desktop app: :func:`main` creates the application and the window."""
from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence

__all__ = ["main"]


def _parse(argv: Sequence[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m palette_app.gui",
                                description="Palette App: see an image's palette and a live "
                                            "reduced-color preview; export both.")
    p.add_argument("image", nargs="?", help="image to open")
    return p.parse_args(list(argv))


def _install_excepthook(window) -> None:
    """An unexpected exception in a slot becomes a message in the window, not a crash."""
    from palette_app.gui import dialogs

    previous = sys.excepthook
    showing = []

    def hook(etype, value, tb):
        traceback.print_exception(etype, value, tb, file=sys.stderr)
        if showing or window is None:
            return
        showing.append(True)
        try:
            dialogs.show_error(window, "Unexpected error",
                               f"Something went wrong ({etype.__name__}: {value}). "
                               "The app keeps running; please report this.")
        finally:
            showing.clear()

    hook.previous = previous  # type: ignore[attr-defined]
    sys.excepthook = hook


def main(image_path: str | os.PathLike | None = None, argv: Sequence[str] | None = None) -> int:
    """Run Palette App and return its exit code.

    ``image_path`` is opened at start. ``argv`` (``sys.argv``-like, program name
    first) is given to Qt (``-platform``, ``-style``, …); when it is given, its
    first remaining argument is the image to open (unless ``image_path`` is).
    Called as ``main()`` (from ``palette-app gui IMAGE``), only the program
    name of ``sys.argv`` reaches Qt.
    """
    from PySide6.QtCore import QCoreApplication, Qt, QThreadPool
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    from palette_app import __version__
    from palette_app.gui.mainwindow import MainWindow

    qt_argv = list(argv) if argv is not None else sys.argv[:1]
    if not qt_argv:
        qt_argv = ["palette-app"]
    QCoreApplication.setOrganizationName("Palette App")
    QCoreApplication.setApplicationName("Palette App")
    QCoreApplication.setApplicationVersion(__version__)
    existing = QApplication.instance()
    if existing is None:
        # Before the application exists (Qt reads it once): use the screen's exact
        # scale (1.25, 1.5, …) rather than rounding it, so the preview's "100 %"
        # is one image pixel per device pixel and nothing is resampled twice.
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
            Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    app = existing or QApplication(qt_argv)
    QGuiApplication.setDesktopFileName("palette-app")
    if argv is not None:
        # A new QApplication has removed its own options from app.arguments().
        args = _parse(list(argv)[1:] if existing is not None else app.arguments()[1:])
        if image_path is None and args.image:
            image_path = args.image
    # Keep pool threads alive between previews: a new thread pays again for the
    # core's per-thread scratch tables (about 15 ms on a 1-MP preview).
    QThreadPool.globalInstance().setExpiryTimeout(-1)
    from palette_app.gui.main_thread_gc import install as install_gc

    install_gc(app)
    window = MainWindow()
    _install_excepthook(window)
    window.show()
    if image_path is not None:
        window.open_path(os.fspath(image_path))
    try:
        return int(app.exec())
    finally:
        hook = sys.excepthook
        sys.excepthook = getattr(hook, "previous", sys.__excepthook__)
