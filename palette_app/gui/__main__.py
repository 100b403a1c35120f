"""``python -m palette_app.gui [IMAGE]``: start the desktop app."""
import sys

from palette_app.gui.app import main

if __name__ == "__main__":
    sys.exit(main(argv=sys.argv))
