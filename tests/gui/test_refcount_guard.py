"""The guard against PySide6 dropping references to None (see palette_app/gui/_refcount_guard.py)."""
import sys

from PySide6.QtCore import QSize

import palette_app.gui  # noqa: F401  (installs the guard)
from palette_app.gui import _refcount_guard


def test_none_survives_many_void_calls():
    size = QSize()
    for _ in range(200_000):
        size.setWidth(1)
    if _refcount_guard.affected():
        assert sys.version_info < (3, 12)
        assert _refcount_guard.install()
        assert sys.getrefcount(None) > _refcount_guard.BOOST // 2
    assert sys.getrefcount(None) > 1000
    assert _refcount_guard.install() == _refcount_guard._installed
