"""Cyclic garbage is collected on the GUI thread, never in a worker thread."""
from __future__ import annotations

import gc
import threading


class _Cycle:
    def __init__(self, seen):
        self.me = self
        self.seen = seen

    def __del__(self):
        self.seen.append(threading.current_thread() is threading.main_thread())


def test_cycles_made_in_a_thread_are_collected_on_the_gui_thread(qtbot):
    assert not gc.isenabled()            # the session installed the collector
    seen: list[bool] = []

    def work():
        for _ in range(20000):           # far past the thresholds, in this thread
            _Cycle(seen)

    t = threading.Thread(target=work)
    t.start()
    t.join()
    assert seen == []                    # nothing was collected in the worker thread
    qtbot.waitUntil(lambda: len(seen) == 20000, timeout=10000)
    assert all(seen)                     # all of it on the GUI thread, by the timer
