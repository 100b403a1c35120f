"""The batch engine and the command line never load Qt (they run on servers and Dask workers)."""
from __future__ import annotations

import subprocess
import sys


def test_batch_and_cli_do_not_import_qt():
    code = ("import sys\n"
            "import palette_app.batch.engine, palette_app.batch.report, palette_app.cli.main\n"
            "import palette_app.cli.quantize, palette_app.cli.elbow, palette_app.cli.palette\n"
            "from palette_app.cli.main import build_parser\n"
            "build_parser()\n"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6')"
            " or m.startswith('palette_app.gui'))\n"
            "assert not bad, bad\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
