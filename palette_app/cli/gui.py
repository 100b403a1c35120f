"""``palette-app`` / ``palette-app gui [IMAGE]``: open the desktop app."""
from __future__ import annotations

import os
import sys

from palette_app.cli.main import EXIT_FAILED, fail


def _no_display() -> bool:
    """On Linux and BSD, no X11 or Wayland display and no Qt platform chosen (a server, SSH)."""
    if sys.platform.startswith(("win", "darwin")):
        return False
    return not any(os.environ.get(v) for v in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))


def run_gui(image: str | None) -> int:
    if image is not None and not os.path.exists(image):
        return fail(f"{image}: no such file")
    if _no_display():
        # Qt would abort with a long message about platform plugins.
        return fail("no display to open the desktop app on (DISPLAY and WAYLAND_DISPLAY are not "
                    "set). The command line works without one: 'palette-app --help'.",
                    EXIT_FAILED)
    try:
        from palette_app.gui.app import main as gui_main
    except ImportError as e:
        # PySide6 missing or broken (e.g. no libGL on a server): say so, no traceback.
        return fail(f"the desktop app cannot start: {e}. The command line works without it "
                    "('palette-app --help').", EXIT_FAILED)
    return int(gui_main(image) or 0)
