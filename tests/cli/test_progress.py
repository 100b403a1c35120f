"""The progress bar on its own: drawn only on a terminal, messages above it."""
from __future__ import annotations

import io

from palette_app.cli.progress import ProgressBar


class _Tty(io.StringIO):
    def isatty(self):
        return True


def test_silent_when_not_a_terminal():
    s = io.StringIO()
    bar = ProgressBar(s, 10)
    bar.update(5, force=True)
    bar.clear()
    assert s.getvalue() == ""


def test_draws_count_rate_eta_and_failures(monkeypatch):
    monkeypatch.setenv("TERM", "xterm")
    s = _Tty()
    bar = ProgressBar(s, 4)
    bar._start -= 2.0  # two seconds ago
    bar.update(1, 1, force=True)
    out = s.getvalue()
    assert out.startswith("\r[") and "1/4 files" in out and "/s" in out and "ETA" in out
    assert "1 failed" in out
    bar.message("palette-app: failed: x.png: broken")
    assert "x.png: broken\n" in s.getvalue()
    bar.update(4, force=True)
    assert "4/4 files" in s.getvalue() and "in 0:0" in s.getvalue()
    bar.clear()
    assert s.getvalue().endswith("\r\x1b[K")


def test_dumb_terminal_gets_no_bar(monkeypatch):
    monkeypatch.setenv("TERM", "dumb")
    s = _Tty()
    ProgressBar(s, 3).update(1, force=True)
    assert s.getvalue() == ""


def test_files_in_progress_at_the_end_of_the_line(monkeypatch):
    monkeypatch.setenv("TERM", "xterm")
    s = _Tty()
    bar = ProgressBar(s, 4)
    bar.file_progress("/in/a.png", "a.png", 0.4)
    bar.file_progress("/in/b.png", "b.png", 0.05)
    line = bar.render()
    assert "0/4 files" in line and line.endswith("· a.png 40 %, b.png 5 %")
    bar.file_done("/in/a.png")
    assert bar.render().endswith("· b.png 5 %")
    bar.restart(4, "files")                    # a new phase starts with no file in progress
    assert "·" not in bar.render()


def test_files_in_progress_draw_nothing_when_not_a_terminal():
    s = io.StringIO()
    bar = ProgressBar(s, 2)
    bar.file_progress("/in/a.png", "a.png", 0.5)
    bar.update(1, force=True)
    bar.clear()
    assert s.getvalue() == ""
