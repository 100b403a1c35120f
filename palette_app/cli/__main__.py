import sys

if __name__ == "__main__":
    from palette_app.cli.main import main

    sys.exit(main())
