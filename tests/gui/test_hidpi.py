"""High DPI: at a device pixel ratio of 2 the preview's 100 % is one image pixel per device
pixel, magnified pixels stay crisp, and the pixmaps the app makes carry the ratio.

Qt fixes the ratio when the application starts, so this runs in a fresh
interpreter with ``QT_SCALE_FACTOR=2``.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(r"""
    import json
    import numpy as np
    from PySide6.QtCore import QSize, Qt
    from PySide6.QtGui import QColor, QGuiApplication, QImage
    from PySide6.QtWidgets import QApplication

    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    app = QApplication([])
    from palette_app.gui.preview import PreviewWidget
    from palette_app.gui.swatches import SwatchPanel, swatch_pixmap
    from palette_app.core import Palette

    def array(img):
        img = img.convertToFormat(QImage.Format.Format_RGBA8888)
        w, h = img.width(), img.height()
        buf = np.frombuffer(img.constBits(), np.uint8, count=img.sizeInBytes())
        return buf.reshape(h, img.bytesPerLine())[:, : 4 * w].reshape(h, w, 4)[..., :3].copy()

    # An 8 x 8 checkerboard of pure red and blue image pixels.
    img = QImage(8, 8, QImage.Format.Format_RGB32)
    for y in range(8):
        for x in range(8):
            img.setPixelColor(x, y, QColor("#ff0000") if (x + y) % 2 else QColor("#0000ff"))
    w = PreviewWidget()
    w.resize(400, 300)
    w.show()
    app.processEvents()
    w.set_original(img, QSize(8, 8))
    w.set_quantized(img)
    pane = w.original_pane
    out = {"dpr": pane.devicePixelRatioF()}
    w.zoom_actual()
    out["zoom_100"] = w.zoom()
    out["logical_zoom_100"] = w.state.zoom(pane.viewport)
    crisp = {}
    for device_zoom in (1.0, 1.5, 3.0, 8.0):
        w.state.set_zoom(device_zoom / out["dpr"], pane.viewport)
        grab = pane.grab()
        px = array(grab.toImage())
        # The image's middle, well inside it (device pixels).
        cx, cy = px.shape[1] // 2, px.shape[0] // 2
        r = int(3 * device_zoom)
        block = px[cy - r:cy + r, cx - r:cx + r].reshape(-1, 3)
        colors = {tuple(int(v) for v in c) for c in np.unique(block, axis=0)}
        crisp[str(device_zoom)] = sorted(colors)
        out["grab_dpr"] = grab.devicePixelRatio()
        out["grab_width"] = grab.width()
    out["crisp"] = crisp
    out["pane_width"] = pane.width()
    out["checker_dpr"] = pane.checker().texture().devicePixelRatio()
    pix = swatch_pixmap(QColor("#336699"), QSize(16, 16), pane.devicePixelRatioF())
    out["swatch_pixmap"] = [pix.devicePixelRatio(), pix.width()]
    panel = SwatchPanel()
    panel.resize(300, 200)
    panel.show()
    panel.set_palette(Palette.from_hex(["#336699", "#ff000080"]), fixed_order=True)
    app.processEvents()
    card = panel.view.viewport().grab()
    out["swatch_grab_dpr"] = card.devicePixelRatio()
    print("RESULT " + json.dumps(out))
""")


def test_preview_at_device_pixel_ratio_2(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QT_SCALE_FACTOR="2")
    env.pop("QT_SCREEN_SCALE_FACTORS", None)
    r = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env,
                       timeout=120, cwd=tmp_path, check=False)
    assert r.returncode == 0, r.stderr
    line = next(x for x in r.stdout.splitlines() if x.startswith("RESULT "))
    out = json.loads(line[len("RESULT "):])
    assert out["dpr"] == 2.0
    # 100 % is one image pixel per device pixel: half a logical pixel.
    assert out["zoom_100"] == 1.0 and out["logical_zoom_100"] == 0.5
    # Whatever the zoom (even 1.5 device pixels per image pixel), only the two image
    # colors appear: no smoothing blends them.
    for zoom, colors in out["crisp"].items():
        assert [tuple(c) for c in colors] == [(0, 0, 255), (255, 0, 0)], zoom
    assert out["grab_dpr"] == 2.0 and out["grab_width"] == 2 * out["pane_width"]
    assert out["checker_dpr"] == 2.0
    assert out["swatch_pixmap"] == [2.0, 32]
    assert out["swatch_grab_dpr"] == 2.0
