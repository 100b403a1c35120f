"""Guard against a PySide6 bug that drops references to ``None`` on CPython < 3.12.

PySide6 6.12.0 returns ``None`` from every ``void`` method (``setText``,
``update``, ``QPainter.save``, …) and converts a ``None`` returned by a Python
``data()`` override without taking a reference to it. From Python 3.12 on
``None`` is immortal and nothing happens; on 3.11 each call lowers ``None``'s
reference count by one, and after some minutes of painting the interpreter
aborts with "Fatal Python error: none_dealloc: deallocating None".

:func:`install` checks for the bug with one harmless call and, only when it is
there, raises the reference counts of ``None``, ``True`` and ``False`` by
2**40, which is what Python 3.12 does to make them immortal: they are static
objects that are never freed, so a larger count changes nothing else.
"""
from __future__ import annotations

import ctypes
import sys

__all__ = ["affected", "install"]

#: Added to the reference counts (as CPython >= 3.12 makes these objects immortal).
BOOST = 1 << 40
_installed = False


def affected() -> bool:
    """True when a ``void`` PySide6 call drops a reference to ``None``."""
    from PySide6.QtCore import QSize

    size = QSize()
    before = sys.getrefcount(None)
    for _ in range(8):
        size.setWidth(1)
    return sys.getrefcount(None) < before


def install() -> bool:
    """Apply the guard if this Python and PySide6 need it; True if it was applied (now or before)."""
    global _installed
    if _installed:
        return True
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython" or not affected():
        return False
    for obj in (None, True, False):
        # ob_refcnt is the first field of every object in a release build of CPython.
        ctypes.c_ssize_t.from_address(id(obj)).value += BOOST
    _installed = True
    return True
