import sys

from palette_app.cli.main import main

sys.exit(main())
