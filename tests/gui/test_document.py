"""The document model: stale results, locks, signals (no widgets involved)."""
from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage

from palette_app.core import Palette
from palette_app.gui.controls import Settings
from palette_app.gui.document import Document
from palette_app.gui.worker import LoadRequest, LoadResult, PreviewResult


def _image(name="a") -> LoadResult:
    from palette_app.io import LoadedImage

    px = np.zeros((4, 4, 3), np.uint8)
    img = LoadedImage(pixels=px, format="PNG", size=(4, 4), mode="RGB")
    return LoadResult(LoadRequest(name=name), img, px, QImage(), 0.0)


def _result(request, palette=None) -> PreviewResult:
    pal = palette or Palette(np.array([[0, 0, 0], [255, 255, 255]], np.uint8), counts=[3, 1])
    return PreviewResult(request, type("R", (), {"palette": pal})(), QImage(), float("nan"), 0.0)


def test_only_the_newest_request_is_accepted(qtbot):
    doc = Document()
    assert doc.next_request() is None            # no image yet
    shown = []
    doc.previewChanged.connect(shown.append)
    doc.set_image(_image())
    r1 = doc.next_request()
    r2 = doc.next_request()
    assert not doc.accept(_result(r1))            # superseded by r2
    assert doc.accept(_result(r2))
    assert [p.request for p in shown] == [r2]
    doc.set_image(_image("b"))                   # a new image makes r2-era requests stale
    assert doc.shown is None
    assert not doc.is_current(r2)


def test_settings_and_locks_emit_only_on_change(qtbot):
    doc = Document()
    got = []
    doc.settingsChanged.connect(got.append)
    doc.lockedChanged.connect(got.append)
    doc.set_settings(Settings())                 # same as the default: no signal
    doc.set_settings(Settings(n_colors=9))
    doc.set_locked("#AABBCC", True)
    doc.set_locked("#aabbcc", True)              # already locked
    doc.set_locked("#112233ff", True)            # alpha ignored
    doc.replace_color("#aabbcc", "#000000")      # keeps its place
    doc.replace_color("#445566", "#778899")      # not locked: appended
    assert doc.locked == ("#000000", "#112233", "#778899")
    doc.unlock_all()
    doc.unlock_all()
    assert got[0] == Settings(n_colors=9)
    assert got[1:] == [("#aabbcc",), ("#aabbcc", "#112233"), ("#000000", "#112233"),
                       ("#000000", "#112233", "#778899"), ()]


def test_requests_carry_the_state(qtbot):
    doc = Document()
    doc.set_image(_image())
    doc.set_settings(Settings(n_colors=7, random_state=3))
    doc.set_locked("#010203", True)
    req = doc.next_request()
    assert (req.n_colors, req.random_state, req.locked) == (7, 3, ("#010203",))
    assert req.pixels is doc.image.preview
    pal = Palette(np.array([[1, 2, 3], [9, 9, 9], [0, 0, 0]], np.uint8),
                  alpha=np.array([255, 255, 0]))
    assert doc.lock_mask(pal).tolist() == [True, False, False]
