"""The ``palette-app`` command line."""
from palette_app.cli.main import main

__all__ = ["main"]
