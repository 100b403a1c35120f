"""Process set-up that must happen before Numba is imported.

Numba caches compiled kernels next to their source (``__pycache__``). That
folder is read-only in a frozen app (PyInstaller), in a system-wide install,
or on a read-only mount; then every launch would compile again for ~20 s.
:func:`configure` picks a writable per-user cache folder instead, and when
no folder at all is writable, turns caching off (Numba refuses to decorate a
``cache=True`` function it cannot cache) so the app still runs, only slower
to start. Stdlib only; called from ``palette_app/__init__.py``.
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

#: Whether Numba kernels may be cached on disk (read by ``core/_config.py``).
CACHE_OK = True
#: Where the cache lives ("" when next to the sources).
CACHE_DIR = ""


def user_cache_dir(app: str = "palette-app") -> Path:
    """The platform's per-user cache folder for ``app``."""
    home = Path.home()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or home / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = home / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or home / ".cache")
    return base / app


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".probe-"):
            pass
        return True
    except OSError:
        return False


def configure() -> None:
    """Choose Numba's cache folder; idempotent."""
    global CACHE_OK, CACHE_DIR
    if os.environ.get("NUMBA_CACHE_DIR"):
        CACHE_DIR = os.environ["NUMBA_CACHE_DIR"]
        CACHE_OK = _writable(Path(CACHE_DIR))
        return
    here = Path(__file__).resolve().parent / "core"
    if not getattr(sys, "frozen", False) and _writable(here / "__pycache__"):
        return  # the default, next to the sources
    version = f"py{sys.version_info[0]}{sys.version_info[1]}"
    candidates = [user_cache_dir() / "numba" / version,
                  Path(tempfile.gettempdir()) / f"palette-app-numba-{os.getuid() if hasattr(os, 'getuid') else 'user'}" / version]
    for folder in candidates:
        if _writable(folder):
            os.environ["NUMBA_CACHE_DIR"] = str(folder)
            CACHE_DIR = str(folder)
            return
    CACHE_OK = False
