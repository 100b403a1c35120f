"""A small progress bar for stderr: files done, rate, time left, the files in progress.
Silent when not a terminal."""
from __future__ import annotations

import os
import shutil
import time
from typing import TextIO


def is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and os.environ.get("TERM") != "dumb"


def _clock(seconds: float) -> str:
    seconds = round(seconds)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class ProgressBar:
    """``[#######.......]  12/40 files  3.1/s  ETA 0:09  1 failed  · a.png 40 %, b.png 5 %``
    on one line, redrawn in place.

    Draws only when ``enabled`` (by default: ``stream`` is a terminal), at most
    ten times a second. :meth:`message` prints a line above the bar;
    :meth:`file_progress` and :meth:`file_done` keep the list of files in
    progress shown at its end (cut at the terminal's width).
    """

    def __init__(self, stream: TextIO, total: int, *, label: str = "files",
                 enabled: bool | None = None, min_interval: float = 0.1):
        self.stream = stream
        self.total = total
        self.label = label
        self.enabled = is_terminal(stream) if enabled is None else enabled
        self.min_interval = min_interval
        self.done = 0
        self.failed = 0
        self._start = time.monotonic()
        self._last = 0.0
        self._shown = False
        self._files: dict[str, tuple[str, float]] = {}   # key -> (name, fraction)

    def file_progress(self, key: str, name: str, fraction: float) -> None:
        """File ``key`` (shown as ``name``) is in progress, ``fraction`` done."""
        self._files[key] = (name, fraction)
        self.update(self.done)

    def file_done(self, key: str) -> None:
        """File ``key`` is no longer in progress."""
        self._files.pop(key, None)

    def restart(self, total: int, label: str) -> None:
        """A new phase: count from zero again."""
        self.clear()
        self.total, self.label = total, label
        self.done = self.failed = 0
        self._files.clear()
        self._start = time.monotonic()

    def update(self, done: int, failed: int | None = None, *, force: bool = False) -> None:
        self.done = done
        if failed is not None:
            self.failed = failed
        now = time.monotonic()
        if not self.enabled or (not force and now - self._last < self.min_interval
                                and done < self.total):
            return
        self._last = now
        self.stream.write("\r" + self.render(now) + "\x1b[K")
        self.stream.flush()
        self._shown = True

    def render(self, now: float | None = None) -> str:
        now = time.monotonic() if now is None else now
        elapsed = max(now - self._start, 1e-9)
        rate = self.done / elapsed
        parts = [f"{self.done}/{self.total} {self.label}"]
        if self.done:
            parts.append(f"{rate:.1f}/s")
            if self.done < self.total:
                parts.append(f"ETA {_clock((self.total - self.done) / rate)}")
            else:
                parts.append(f"in {_clock(elapsed)}")
        if self.failed:
            parts.append(f"{self.failed} failed")
        text = "  ".join(parts)
        width = shutil.get_terminal_size((80, 20)).columns
        bar_w = max(10, min(40, width - len(text) - 6))
        filled = int(bar_w * self.done / self.total) if self.total else bar_w
        line = f"[{'#' * filled}{'.' * (bar_w - filled)}]  {text}"
        if self._files:
            line += "  · " + ", ".join(f"{name} {100 * f:.0f} %" for name, f in self._files.values())
        return line[: max(width - 1, 20)]

    def message(self, line: str) -> None:
        """Print ``line`` (a failure, a note) without breaking the bar."""
        if self._shown:
            self.stream.write("\r\x1b[K")
        self.stream.write(line.rstrip("\n") + "\n")
        if self._shown:
            self.stream.write(self.render())
        self.stream.flush()

    def clear(self) -> None:
        if self._shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._shown = False
