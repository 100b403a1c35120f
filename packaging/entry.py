"""The frozen app's entry point (PyInstaller runs this script, not a console script).

``palette-app --self-test`` runs :func:`palette_app.selftest.run_self_test`;
everything else goes to the command line (:func:`palette_app.cli.main`), which
opens the desktop app when no command is given. Handling ``--self-test`` here
keeps the bundle testable whether or not the CLI knows the option.
"""
import multiprocessing
import sys


def main() -> int:
    # The batch engine starts worker processes with 'spawn': in a frozen app a child
    # is this same executable, and freeze_support() turns it into the worker.
    multiprocessing.freeze_support()
    argv = sys.argv[1:]
    if argv == ["--self-test"]:
        from palette_app.selftest import run_self_test

        return run_self_test()
    from palette_app.cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
