"""The ``palette-app`` command line.

Kept free of heavy imports: :func:`main` loads the parser (and, through it,
Numba) only when called, so that batch worker processes, which import this
package again when they start, can set their thread counts first.
"""
from __future__ import annotations


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``palette-app``; returns the exit code."""
    from palette_app.cli.main import main as _main

    return _main(argv)


__all__ = ["main"]
