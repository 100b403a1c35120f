"""``palette-app palette IMAGE``: print an image's palette as a table, or write a palette file."""
from __future__ import annotations

import sys

from palette_app.cli.main import EXIT_OK, fail, load_or_fail


def run_palette(args) -> int:
    from palette_app.cli.table import print_palette
    from palette_app.core import quantize
    from palette_app.io import OutputExistsError, PaletteFormatError, write_palette

    if args.format and args.output is None:
        return fail("--format needs -o/--output FILE", 2)
    img, code = load_or_fail(args.image)
    if img is None:
        return code
    kw = {} if args.space is None else {"space": args.space}
    result = quantize(img.pixels, args.colors, random_state=args.seed, effort=args.effort, **kw)
    palette = result.palette
    if result.transparent_index is not None:
        # The transparent entry is not a color a designer picks.
        keep = [i for i in range(len(palette)) if i != result.transparent_index]
        palette = palette.take(keep)
    palette = palette.sorted(args.sort)
    if args.output is None:
        print_palette(palette)
        return EXIT_OK
    try:
        notes = write_palette(palette, args.output, args.format, overwrite=args.overwrite)
    except OutputExistsError as e:
        return fail(f"{e}; pass --overwrite to replace it")
    except PaletteFormatError as e:
        return fail(str(e))
    except OSError as e:
        return fail(f"{args.output}: could not write the palette ({e.strerror or e})")
    for note in notes or ():
        sys.stderr.write(f"note: {note}\n")
    sys.stderr.write(f"wrote {len(palette)} colors to {args.output}\n")
    return EXIT_OK
