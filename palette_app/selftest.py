"""``palette-app --self-test``: check that an installed or frozen app works.

Run by the installers' CI from the PyInstaller bundle and from the installed
``.deb``, and by a user who wants to know whether their install is sound. It
needs no display (Qt runs on the ``offscreen`` platform unless
``QT_QPA_PLATFORM`` says otherwise) and writes only to a temporary folder.

Steps, each reported on one line:

1. import every module of ``palette_app``, the GUI included;
2. load the sample photo shipped inside the package (``palette_app/data``,
   found with :mod:`importlib.resources`, so it works from a wheel or a bundle)
   with :func:`palette_app.io.load_image`;
3. quantize it to 16 colors, counting the Numba kernels loaded from the disk
   cache and those compiled (a second run should compile none);
4. write the result through the atomic writer (:func:`palette_app.io.save_image`)
   into a temporary folder, read it back with ``load_image`` and check that the
   pixels equal ``result.to_rgb()`` and that no temporary file was left behind;
5. build the main window on a ``QApplication`` (settings in the temporary
   folder, no warm-up) and close it.

Qt is imported here, outside ``palette_app/gui``, only inside that last step:
it checks that the install's Qt libraries and platform plugin load.
"""
from __future__ import annotations

import importlib
import importlib.resources
import os
import pkgutil
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import TextIO

__all__ = ["run_self_test", "SAMPLE_IMAGE"]

#: The sample photo, relative to the ``palette_app`` package.
SAMPLE_IMAGE = ("data", "astronaut.png")
N_COLORS = 16


class SelfTestError(Exception):
    """A check failed; the message says what was expected and what was found."""


def run_self_test(stream: TextIO | None = None) -> int:
    """Run every check; return 0 when all pass, 1 (with a message) when one fails."""
    out = stream if stream is not None else sys.stdout
    report = _Report(out)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    t_start = time.perf_counter()
    try:
        import palette_app
        from palette_app import _runtime

        report.info(f"palette-app {palette_app.__version__}, Python {sys.version.split()[0]}, "
                    f"{'frozen' if getattr(sys, 'frozen', False) else 'not frozen'}, "
                    f"{sys.platform}")
        report.info("numba cache: " + (("off (no writable folder)" if not _runtime.CACHE_OK else
                                        _runtime.CACHE_DIR or "next to the sources")))
        with tempfile.TemporaryDirectory(prefix="palette-app-selftest-") as tmp:
            tmp_dir = Path(tmp)
            with report.step("import every module"):
                names = _import_all()
                report.detail(f"{len(names)} modules")
            with report.step("load the sample image"):
                loaded = _load_sample()
                report.detail(f"{loaded.size[0]}×{loaded.size[1]} {loaded.format}")
            with report.step(f"quantize to {N_COLORS} colors"):
                result, hits, misses, cache_path = _quantize(loaded.pixels)
                report.detail(f"{result.n_colors} colors, PSNR {result.psnr:.1f} dB; kernels: "
                              f"{hits} loaded from cache, {misses} compiled")
                if cache_path:
                    report.info(f"kernel cache folder: {cache_path}")
            with report.step("save, read back and compare"):
                saved = _round_trip(result, tmp_dir)
                report.detail(f"{saved.n_bytes:,} bytes, {saved.bit_depth}-bit indexed PNG")
            with report.step("build the main window (Qt " + _qt_platform() + ")"):
                _build_window(tmp_dir)
    except _StepFailed:
        out.write("self-test FAILED\n")
        out.flush()
        return 1
    except Exception as e:  # noqa: BLE001  (set-up before the first step: report, not crash)
        out.write(f"self-test FAILED before the checks could start: {type(e).__name__}: {e}\n")
        traceback.print_exc(file=out)
        out.flush()
        return 1
    out.write(f"self-test passed in {time.perf_counter() - t_start:.2f} s\n")
    out.flush()
    return 0


# -- the steps -------------------------------------------------------------------

def _import_all() -> list[str]:
    """Import every module of the package (``__main__`` modules excepted)."""
    import palette_app

    names = []
    failures = []

    def onerror(name: str) -> None:  # a subpackage whose __init__ failed to import
        failures.append(f"{name}: {sys.exc_info()[1]!r}")

    for info in pkgutil.walk_packages(palette_app.__path__, "palette_app.", onerror=onerror):
        if info.name.rsplit(".", 1)[-1] == "__main__":
            continue
        try:
            importlib.import_module(info.name)
        except Exception as e:  # noqa: BLE001  (collect them all, then fail once)
            failures.append(f"{info.name}: {type(e).__name__}: {e}")
        names.append(info.name)
    if failures:
        raise SelfTestError("could not import " + "; ".join(failures))
    for required in ("palette_app.core", "palette_app.io", "palette_app.gui.mainwindow",
                     "palette_app.cli.main", "palette_app.batch"):
        if required not in names and required not in sys.modules:
            raise SelfTestError(f"module {required} was not found in the install")
    return names


def _load_sample():
    from palette_app.io import load_image

    ref = importlib.resources.files("palette_app").joinpath(*SAMPLE_IMAGE)
    if not ref.is_file():
        raise SelfTestError(f"the sample image palette_app/{'/'.join(SAMPLE_IMAGE)} is missing "
                            "from the install (package data not included?)")
    with importlib.resources.as_file(ref) as path:
        loaded = load_image(path)
    if loaded.pixels.ndim != 3 or loaded.pixels.shape[2] not in (3, 4):
        raise SelfTestError(f"the sample image loaded with shape {loaded.pixels.shape}")
    return loaded


def _quantize(pixels):
    import palette_app

    result = palette_app.quantize(pixels, N_COLORS, random_state=0)
    if not 2 <= result.n_colors <= N_COLORS:
        raise SelfTestError(f"expected at most {N_COLORS} colors, got {result.n_colors}")
    if result.indices.shape != pixels.shape[:2]:
        raise SelfTestError(f"index image has shape {result.indices.shape}, "
                            f"expected {pixels.shape[:2]}")
    hits, misses, cache_path = _kernel_stats()
    return result, hits, misses, cache_path


def _kernel_stats() -> tuple[int, int, str | None]:
    """Signatures loaded from Numba's disk cache and compiled, over palette_app's kernels."""
    from numba.core.dispatcher import Dispatcher

    seen: set[int] = set()
    hits = misses = 0
    cache_path = None
    for name, module in list(sys.modules.items()):
        if not name.startswith("palette_app.") or module is None:
            continue
        for value in list(vars(module).values()):
            if isinstance(value, Dispatcher) and id(value) not in seen:
                seen.add(id(value))
                stats = value.stats
                hits += sum(stats.cache_hits.values())
                misses += sum(stats.cache_misses.values())
                if cache_path is None and stats.cache_path and (stats.cache_hits or stats.cache_misses):
                    cache_path = str(stats.cache_path)
    return hits, misses, cache_path


def _round_trip(result, tmp_dir: Path):
    import numpy as np

    from palette_app.io import load_image, save_image

    folder = tmp_dir / "out"
    folder.mkdir()
    target = folder / "astronaut-q16.png"
    saved = save_image(result, target)
    left = sorted(p.name for p in folder.iterdir())
    if left != [target.name]:
        raise SelfTestError(f"the atomic writer left {left} in the folder, expected only {target.name}")
    back = load_image(target).pixels
    expected = result.to_rgb()
    if back.shape != expected.shape:
        raise SelfTestError(f"read back an image of shape {back.shape}, expected {expected.shape}")
    if not np.array_equal(back, expected):
        wrong = int(np.count_nonzero(np.any(back != expected, axis=-1)))
        raise SelfTestError(f"{wrong} pixels differ between the saved file and the result")
    return saved


def _qt_platform() -> str:
    return os.environ.get("QT_QPA_PLATFORM", "default platform")


def _build_window(tmp_dir: Path) -> None:
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from palette_app.gui.mainwindow import MainWindow

    app = QApplication.instance() or QApplication(["palette-app"])
    settings = QSettings(str(tmp_dir / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings, warmup=False)
    try:
        window.show()
        app.processEvents()
        if not window.isVisible():
            raise SelfTestError("the main window did not become visible")
    finally:
        window.close()
        window.deleteLater()
        app.processEvents()
        settings.sync()
        del settings


# -- reporting ------------------------------------------------------------------

class _StepFailed(Exception):
    pass


class _Report:
    def __init__(self, out: TextIO):
        self.out = out
        self._details: list[str] = []

    def info(self, text: str) -> None:
        self.out.write(f"  {text}\n")
        self.out.flush()

    def detail(self, text: str) -> None:
        self._details.append(text)

    def step(self, title: str):
        return _Step(self, title)


class _Step:
    def __init__(self, report: _Report, title: str):
        self.report = report
        self.title = title

    def __enter__(self):
        self.report._details = []
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, etype, value, tb):
        dt = time.perf_counter() - self.t0
        out = self.report.out
        if etype is None:
            extra = f": {'; '.join(self.report._details)}" if self.report._details else ""
            out.write(f"ok    {self.title} ({dt:.2f} s){extra}\n")
            out.flush()
            return False
        if issubclass(etype, (KeyboardInterrupt, SystemExit)):
            return False
        what = str(value) if issubclass(etype, SelfTestError) else f"{etype.__name__}: {value}"
        out.write(f"FAIL  {self.title} ({dt:.2f} s): {what}\n")
        if not issubclass(etype, SelfTestError):
            traceback.print_exception(etype, value, tb, file=out)
        out.flush()
        raise _StepFailed from value
