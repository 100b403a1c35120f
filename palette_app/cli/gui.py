"""``palette-app`` / ``palette-app gui [IMAGE]``: open the desktop app."""
from __future__ import annotations

import os

from palette_app.cli.main import EXIT_FAILED, fail


def run_gui(image: str | None) -> int:
    if image is not None and not os.path.exists(image):
        return fail(f"{image}: no such file")
    try:
        from palette_app.gui.app import main as gui_main
    except ImportError as e:
        # PySide6 missing or broken (e.g. no libGL on a server): say so, no traceback.
        return fail(f"the desktop app cannot start: {e}. The command line works without it "
                    "('palette-app --help').", EXIT_FAILED)
    return int(gui_main(image) or 0)
