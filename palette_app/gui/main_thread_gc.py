"""Cyclic garbage collection on the GUI thread only.

Python's collector runs in whichever thread happens to allocate when a
threshold is crossed. In a Qt app that may be a worker thread (a preview, a
batch), and a Qt object found in a reference cycle is then destroyed off its
own thread, which can crash (CI saw a segfault in the batch thread,
"Garbage-collecting"). So, as pyqtgraph does, automatic collection is turned
off and a timer on the GUI thread collects instead, by the same thresholds.
Reference counting, which frees almost everything, is unaffected.
"""
from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

INTERVAL_MS = 200


class MainThreadGC(QObject):
    """Collects cyclic garbage from a timer on the thread it lives on."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = INTERVAL_MS):
        super().__init__(parent)
        self._thresholds = gc.get_threshold()
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.check)
        self._was_enabled = gc.isenabled()
        gc.disable()
        self._timer.start()

    def check(self) -> None:
        """Collect the oldest generation whose count passed its threshold."""
        t0, t1, t2 = self._thresholds
        c0, c1, c2 = gc.get_count()
        if c0 > t0:
            gc.collect(2 if c2 > t2 else 1 if c1 > t1 else 0)

    def stop(self) -> None:
        """Stop the timer and give collection back to Python."""
        self._timer.stop()
        if self._was_enabled:
            gc.enable()


_installed: MainThreadGC | None = None


def install(app: QObject) -> MainThreadGC:
    """Move cyclic collection to ``app``'s (the GUI) thread; idempotent."""
    global _installed
    if _installed is None:
        _installed = MainThreadGC(app)
    return _installed
