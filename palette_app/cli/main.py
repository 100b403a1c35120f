"""Argument parsing and the subcommands of ``palette-app``.

Exit codes: 0 done, 1 a file could not be processed, 2 usage error.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from palette_app import __version__

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # usage errors: exit 2 with a one-line message
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _n_colors(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 2 <= n <= 256:
        raise argparse.ArgumentTypeError(f"the number of colors must be between 2 and 256, got {n}")
    return n


def build_parser() -> argparse.ArgumentParser:
    from palette_app.io import PALETTE_FORMATS

    p = _Parser(prog="palette-app",
                description="Turn images into color palettes and reduced-color images.")
    p.add_argument("--version", action="version", version=f"palette-app {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

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
    pal.add_argument("--seed", type=int, default=0, help="random seed (default 0): same seed, same palette")
    pal.add_argument("--effort", choices=["fast", "default", "best"], default="default",
                     help="speed against quality (default: default)")
    pal.set_defaults(func=cmd_palette)
    return p


def _fail(message: str) -> int:
    sys.stderr.write(f"palette-app: error: {message}\n")
    return EXIT_FAILED


def cmd_palette(args) -> int:
    from palette_app.cli.table import print_palette
    from palette_app.core import quantize
    from palette_app.io import ImageLoadError, OutputExistsError, PaletteFormatError, load_image, write_palette

    try:
        img = load_image(args.image)
    except ImageLoadError as e:
        return _fail(str(e))
    for note in img.notes:
        sys.stderr.write(f"note: {note}\n")
    result = quantize(img.pixels, args.colors, random_state=args.seed, effort=args.effort)
    palette = result.palette
    if result.transparent_index is not None:
        # The transparent entry is not a color a designer picks.
        keep = [i for i in range(len(palette)) if i != result.transparent_index]
        palette = palette.take(keep)
    palette = palette.sorted(args.sort)
    if args.output is None:
        if args.format:
            return _fail("--format needs -o/--output FILE")
        print_palette(palette)
        return EXIT_OK
    try:
        notes = write_palette(palette, args.output, args.format, overwrite=args.overwrite)
    except OutputExistsError as e:
        return _fail(f"{e}; pass --overwrite to replace it")
    except PaletteFormatError as e:
        return _fail(str(e))
    except OSError as e:
        return _fail(f"{args.output}: could not write the palette ({e.strerror or e})")
    for note in notes or ():
        sys.stderr.write(f"note: {note}\n")
    sys.stderr.write(f"wrote {len(palette)} colors to {args.output}\n")
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        return args.func(args)
    except KeyboardInterrupt:
        sys.stderr.write("palette-app: interrupted\n")
        return 130
    except BrokenPipeError:
        return EXIT_OK
