"""Argument parsing and dispatch for ``palette-app``.

Exit codes: 0 done, 1 a file could not be processed (in a batch: some failed),
2 usage error, 130 interrupted (Ctrl-C).
"""
from __future__ import annotations

import argparse
import sys

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # usage errors: exit 2 with a one-line message
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


class UsageError(Exception):
    """A problem with the command line found after parsing (exit 2)."""


def fail(message: str, code: int = EXIT_FAILED) -> int:
    sys.stderr.write(f"palette-app: error: {message}\n")
    return code


def load_or_fail(path, *, quiet: bool = False):
    """Load an image for a command: (LoadedImage, None), or (None, exit code) after a
    one-line error naming the file. Load notes go to stderr unless ``quiet``."""
    from palette_app.io import ImageLoadError, load_image

    try:
        img = load_image(path)
    except ImageLoadError as e:
        return None, fail(str(e))
    if not quiet:
        for note in img.notes:
            sys.stderr.write(f"note: {note}\n")
    return img, None


# -- argument types -----------------------------------------------------------

def _n_colors(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 2 <= n <= 256:
        raise argparse.ArgumentTypeError(f"the number of colors must be between 2 and 256, got {n}")
    return n


def _fraction(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 <= v <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return v


def _smoothing(text: str) -> float | None:
    """``auto`` (None: the library's choice) or a strength 0..1."""
    if text.strip().lower() == "auto":
        return None
    try:
        return _fraction(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"must be 'auto' or a number between 0 and 1, got {text!r}") from None


def _positive(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not v > 0 or v == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return v


def _jobs(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {n}")
    return n


def _hex_list(text: str) -> list[str]:
    from palette_app.batch.settings import _hex6

    out = []
    for part in text.replace(" ", ",").split(","):
        if part:
            try:
                out.append(_hex6(part))
            except ValueError as e:
                raise argparse.ArgumentTypeError(str(e)) from None
    return out


# -- the parser -----------------------------------------------------------------

SPACE_CHOICES = ("srgb", "oklab", "lab", "linear")
IMAGE_FORMAT_CHOICES = ("png", "gif", "webp", "tiff", "bmp", "jpg")


def build_parser() -> argparse.ArgumentParser:
    from palette_app import __version__

    p = _Parser(prog="palette-app",
                description="Turn images into color palettes and reduced-color images. "
                            "Without a command, opens the desktop app.",
                epilog="Exit codes: 0 done, 1 some file could not be read or written, "
                       "2 usage error, 130 interrupted. 'palette-app COMMAND --help' for more.")
    p.add_argument("--version", action="version", version=f"palette-app {__version__}")
    p.add_argument("--self-test", action="store_true",
                   help="check the installation: load the sample image, quantize it, write and read "
                        "back the result (headless); exit 0 when all is well")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    g = sub.add_parser("gui", help="open the desktop app",
                       description="Open the Palette App window, optionally with an image.")
    g.add_argument("image", nargs="?", help="image to open")
    g.set_defaults(func=_run_gui)

    _add_palette(sub)
    _add_quantize(sub)
    _add_elbow(sub)
    return p


def _add_palette(sub) -> None:
    from palette_app.io import PALETTE_FORMATS

    pal = sub.add_parser("palette", help="print or save the palette of an image",
                         description="Find an image's palette with k-means and print it as a "
                                     "table (swatch, hex, share), or write it as a palette file.")
    pal.add_argument("image", help="image file (PNG, JPEG, WebP, TIFF, BMP, GIF, ...)")
    pal.add_argument("-n", "--colors", type=_n_colors, default=8, metavar="N",
                     help="number of colors, 2-256 (default 8)")
    writable = [k for k, v in PALETTE_FORMATS.items() if v.can_write]
    pal.add_argument("--format", choices=writable, metavar="FORMAT",
                     help="palette file format: " + ", ".join(writable) + " (default: from -o's extension)")
    pal.add_argument("-o", "--output", metavar="FILE", help="write the palette to FILE instead of printing it")
    pal.add_argument("--overwrite", action="store_true", help="replace FILE if it exists")
    pal.add_argument("--sort", choices=["share", "hue", "lum"], default="share",
                     help="order of the colors (default: share, most used first)")
    pal.add_argument("--space", choices=SPACE_CHOICES, default=None,
                     help="color space to cluster in (default: the library's, srgb)")
    pal.add_argument("--seed", type=int, default=0, help="random seed (default 0): same seed, same palette")
    pal.add_argument("--effort", choices=["fast", "default", "best"], default="default",
                     help="speed against quality (default: default)")
    pal.set_defaults(func=_run_palette)


def _add_quantize(sub) -> None:
    q = sub.add_parser(
        "quantize", help="reduce images to N colors (files, folders, or - for stdin)",
        description="Reduce images to at most N colors and save them as indexed images. Inputs "
                    "are files, folders (searched recursively) or '-' (read stdin, write stdout). "
                    "Outputs go next to the inputs with a suffix (default -qN), or under -o "
                    "OUTDIR. Work runs in parallel over processes, or on a Dask cluster.",
        epilog="Exit codes: 0 every file done (or skipped), 1 some files failed (the others are "
               "written), 2 usage error (including outputs that would collide; nothing is "
               "written), 130 interrupted (finished files are kept, nothing partial is left).")
    q.add_argument("inputs", nargs="+", metavar="INPUT", help="image files, folders, or - for stdin")
    q.add_argument("-n", "--colors", type=_n_colors, default=16, metavar="N",
                   help="number of colors, 2-256 (default 16; the most with --quality)")
    out = q.add_argument_group("output")
    out.add_argument("-o", "--outdir", metavar="OUTDIR",
                     help="write outputs under OUTDIR (keeping the layout of named folders)")
    out.add_argument("--suffix", metavar="TEXT",
                     help="added to each output's name (default -qN beside the inputs, "
                          "none with -o)")
    out.add_argument("--format", choices=IMAGE_FORMAT_CHOICES, default="png",
                     help="output format (default png)")
    out.add_argument("--on-exist", choices=("skip", "overwrite", "rename"), default="skip",
                     help="when an output exists: skip it (default), overwrite it, or rename "
                          "the new file (name-1.png)")
    out.add_argument("--skip-if-larger", action="store_true",
                     help="do not write an output larger than its input file")
    out.add_argument("--glob", metavar="PATTERN",
                     help="in folders, take files matching PATTERN (e.g. '*.jpg'; default: "
                          "every image)")
    out.add_argument("--report", metavar="FILE",
                     help="write a report of every file (.json or .csv)")
    qual = q.add_argument_group("quantization")
    qual.add_argument("--dither", choices=("none", "fs", "ordered"), default="none",
                      help="dithering: none (default), fs (Floyd-Steinberg), ordered (Bayer 8x8)")
    qual.add_argument("--strength", type=_fraction, default=1.0, metavar="0-1",
                      help="dithering strength (default 1)")
    qual.add_argument("--smooth-only", action="store_true",
                      help="dither only smooth areas, keep edges crisp")
    qual.add_argument("--space", choices=SPACE_CHOICES, default=None,
                      help="color space to cluster and match in (default: the library's, srgb)")
    qual.add_argument("--smoothing", type=_smoothing, default=None, metavar="auto|0-1",
                      help="label smoothing makes PNGs of few colors smaller: a pixel almost "
                           "halfway between two palette colors may take the one that continues "
                           "its row. auto (default): 0.5 up to 8 colors, adding at most 1%% to "
                           "the error, off above; 0: every pixel gets its nearest color. Not "
                           "with --dither, --palette or --shared-palette")
    qual.add_argument("--palette", metavar="FILE",
                      help="remap every image to the colors of this palette file (no clustering)")
    qual.add_argument("--lock", type=_hex_list, action="append", default=[], metavar="HEX[,HEX]",
                      help="keep these colors exactly in every palette (e.g. e30613,ffffff; "
                           "repeatable)")
    qual.add_argument("--shared-palette", action="store_true",
                      help="one palette for all the images together, then each remapped to it")
    qual.add_argument("--quality", type=_positive, metavar="MIN",
                      help="use the fewest colors (up to N) that reach a PSNR of MIN dB")
    qual.add_argument("--max-delta-e", type=_positive, metavar="DE",
                      help="use the fewest colors (up to N) whose mean CIEDE2000 is at most DE")
    qual.add_argument("--seed", type=int, default=0, help="random seed (default 0): same seed, same files")
    qual.add_argument("--effort", choices=("fast", "default", "best"), default="default",
                      help="speed against quality (default: default)")
    run = q.add_argument_group("running")
    run.add_argument("-j", "--jobs", type=_jobs, metavar="N",
                     help="parallel worker processes (default: the number of cores; with "
                          "--scheduler the cluster decides)")
    run.add_argument("--executor", choices=("local", "dask"), default=None,
                     help="local processes (default) or a Dask cluster")
    run.add_argument("--scheduler", metavar="ADDRESS",
                     help="Dask scheduler address (implies --executor dask); without it "
                          "--executor dask starts a local cluster")
    run.add_argument("-q", "--quiet", action="store_true",
                     help="no progress bar, notes or summary (failures are still reported)")
    q.set_defaults(func=_run_quantize)


def _add_elbow(sub) -> None:
    e = sub.add_parser("elbow", help="how many colors? the error for k = 2..K and a suggested k",
                       description="Print the inertia and mean CIEDE2000 of an image reduced to "
                                   "k = MIN..MAX colors, and the suggested k (the curve's knee).")
    e.add_argument("image", help="image file")
    e.add_argument("--max", type=_n_colors, default=32, metavar="K", help="largest k (default 32)")
    e.add_argument("--min", type=_n_colors, default=2, metavar="K", help="smallest k (default 2)")
    e.add_argument("--space", choices=SPACE_CHOICES, default=None,
                   help="color space (default: the library's, srgb)")
    e.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    e.add_argument("--plot", metavar="FILE.png", help="also draw the curve as a PNG chart")
    e.add_argument("--overwrite", action="store_true", help="replace the plot file if it exists")
    e.set_defaults(func=_run_elbow)


# -- dispatch (each command imports what it needs) ------------------------------------

def _run_gui(args) -> int:
    from palette_app.cli.gui import run_gui

    return run_gui(args.image)


def _run_palette(args) -> int:
    from palette_app.cli.palette import run_palette

    return run_palette(args)


def _run_quantize(args) -> int:
    from palette_app.cli.quantize import run_quantize

    return run_quantize(args)


def _run_elbow(args) -> int:
    from palette_app.cli.elbow import run_elbow

    return run_elbow(args)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.self_test:
        from palette_app.selftest import run_self_test

        return run_self_test()
    if args.command is None:
        return _run_gui(argparse.Namespace(image=None))
    try:
        return args.func(args)
    except UsageError as e:
        return fail(str(e), EXIT_USAGE)
    except KeyboardInterrupt:
        sys.stderr.write("palette-app: interrupted\n")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (palette-app palette x.png | head): not an error. Point
        # stdout at /dev/null so the flush at exit does not fail again.
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
