"""Adobe Swatch Exchange (``.ase``): Illustrator, InDesign, Photoshop, Adobe Color.

Layout (big-endian throughout, from the public descriptions of the format)::

    "ASEF"  u16 major = 1  u16 minor = 0  u32 number of blocks (groups' start
    and end blocks included), then the blocks:

    u16 type  u32 length of what follows  payload
      0xC001 group start: u16 name length, name
      0xC002 group end:   (empty)
      0x0001 color:       u16 name length, name,
                          4 ASCII bytes color model, padded with spaces:
                          "RGB " (3 floats 0..1), "CMYK" (4 floats 0..1),
                          "LAB " (L 0..1 meaning 0..100 %, a and b -128..127),
                          "Gray" (1 float, 0 black .. 1 white),
                          f32 values, u16 type: 0 global, 1 spot, 2 process

Names are UTF-16BE and their length counts UTF-16 units *including* the
terminating NUL. Lab is relative to D50. The reader tolerates extra bytes at
the end of a block (some writers add private data there), NUL-padded color
models, and Lab lightness written on the 0..100 scale (reported in the notes).
"""
from __future__ import annotations

import struct

import numpy as np

from palette_app.core.palette import Palette
from palette_app.io.palettes._binary import BinaryReader, pack_utf16_name
from palette_app.io.palettes._convert import cmyk_to_srgb, lab_d50_to_srgb
from palette_app.io.palettes._text import without_nul
from palette_app.io.palettes.errors import PaletteFormatError
from palette_app.io.palettes.loaded import LoadedPalette, PaletteBuilder, count_noun
from palette_app.io.palettes.spec import PaletteFormat

NAME = "ase"
FORMAT = PaletteFormat(
    name=NAME, extensions=(".ase",), can_read=True, can_write=True,
    description="Adobe Swatch Exchange: Illustrator, InDesign, Photoshop, Affinity, Krita",
    alpha="none", names=True, title=False, counts=False, options=("group",),
)

MAGIC = b"ASEF"
GROUP_START = 0xC001
GROUP_END = 0xC002
COLOR = 0x0001
TYPES = {0: "global", 1: "spot", 2: "process"}
_MODELS = {"RGB": 3, "CMYK": 4, "LAB": 3, "GRAY": 1}
_MAX_NAME_UNITS = 0xFFFF
# Lab a/b reach about ±128 and everything else 0..1; far beyond that the file is garbage.
_MAX_VALUE = 1e4


def loads(data: bytes) -> LoadedPalette:
    """Parse ASE bytes. Raises :class:`PaletteFormatError` for anything malformed."""
    r = BinaryReader(data, NAME)
    if len(r.data) < 4 or r.data[:4] != MAGIC:
        raise r.error(f"wrong magic {r.data[:4]!r}: an ASE file starts with 'ASEF'")
    r.take(4, "the signature")
    major = r.u16("the version")
    minor = r.u16("the version")
    if major != 1:
        raise r.error(f"unsupported version {major}.{minor} (only 1.x is known)")
    n_blocks = r.u32("the block count")
    # Each block takes at least 6 bytes, so a count beyond that is a lie we can spot early.
    if n_blocks * 6 > r.remaining:
        raise r.error(f"the header announces {n_blocks} blocks, but only {r.remaining} bytes "
                      "follow (each block takes at least 6)")
    b = PaletteBuilder(NAME)
    group: str | None = None
    skipped: dict[int, int] = {}
    for i in range(1, n_blocks + 1):
        what = f"block {i} of {n_blocks}"
        kind = r.u16(f"the type of {what}")
        length = r.u32(f"the length of {what}")
        if length > r.remaining:
            raise r.error(f"{what} says it is {length} bytes long, but only {r.remaining} "
                          "bytes remain")
        payload = BinaryReader(r.take(length, what), NAME)
        if kind == GROUP_START:
            group = _read_name(payload, f"the name of the group in {what}") or ""
        elif kind == GROUP_END:
            group = None
        elif kind == COLOR:
            _read_color(payload, what, group, b)
        else:
            skipped[kind] = skipped.get(kind, 0) + 1
    if r.remaining:
        raise r.error(f"{count_noun(r.remaining, 'unexpected byte')} after the "
                      f"{count_noun(n_blocks, 'block')} the header announces (the block count "
                      "is wrong or the file is damaged)")
    for kind, n in skipped.items():
        b.note(f"{count_noun(n, 'block')} of unknown type 0x{kind:04X} skipped")
    return b.build(keep_groups=True, keep_types=True)


def _read_name(r: BinaryReader, what: str) -> str | None:
    units = r.u16(f"the length of {what}")
    return r.utf16(units, what) or None


def _read_color(r: BinaryReader, what: str, group: str | None, b: PaletteBuilder) -> None:
    name = _read_name(r, f"the color name in {what}")
    raw_model = r.take(4, f"the color model in {what}")
    # Spaces are the rule; NUL padding is a known writer bug that costs nothing to accept.
    model = raw_model.decode("latin-1").rstrip(" \0").upper()
    if model not in _MODELS:
        raise r.error(f"{what} has unknown color model {raw_model!r} "
                      "(expected 'RGB ', 'CMYK', 'LAB ' or 'Gray')")
    values = [r.f32(f"the {model} values in {what}") for _ in range(_MODELS[model])]
    kind = r.u16(f"the color type in {what}")
    if kind not in TYPES:
        raise r.error(f"{what} has color type {kind}; expected 0 (global), 1 (spot) or 2 (process)")
    if not np.all(np.isfinite(values)):
        raise r.error(f"{what} has a {model} value that is not a finite number")
    if max(abs(v) for v in values) > _MAX_VALUE:
        raise r.error(f"{what} has {model} values far outside their range: "
                      f"{', '.join(f'{v:g}' for v in values)}")
    if model == "RGB":
        rgb, space = values, "RGB"
    elif model == "CMYK":
        cmyk = np.array(values)
        if np.any((cmyk < 0) | (cmyk > 1)):
            b.note(f"{what}: CMYK values outside 0..1 were clamped")
        rgb, space = cmyk_to_srgb(np.clip(cmyk, 0.0, 1.0))[0], "CMYK"
    elif model == "LAB":
        lightness = values[0] * 100.0
        if 1.0 < values[0] <= 100.0:
            # The format stores L as 0..1; a few writers store 0..100. Anything above 1 can
            # only mean that, so read it as such rather than clip it to white.
            lightness = values[0]
            b.note(f"{what}: Lab lightness {values[0]:g} read on the 0..100 scale "
                   "(ASE stores 0..1)")
        rgb, space = lab_d50_to_srgb([[lightness, values[1], values[2]]])[0], "Lab"
    else:
        rgb, space = [values[0]] * 3, "Gray"
    b.add(rgb, name=name, space=space, group=group, swatch_type=TYPES[kind])


def encode(palette: Palette, *, name: str | None = None,
           group: str | None = None) -> tuple[bytes, list[str]]:
    """ASE bytes for ``palette`` and notes on what the file could not keep.

    Every color is written as an RGB process color named by the user's name or,
    failing that, by its hex code. ``group`` puts all colors in one named
    group; without it, a :class:`LoadedPalette`'s ASE groups are kept.
    ``name`` (the palette title) has no place in ASE and is ignored.
    """
    notes: list[str] = []
    k = len(palette)
    names = palette.names or (None,) * k
    hexes = [h[:7] for h in palette.hex]
    if group is not None:
        groups = [str(group)] * k
    else:
        groups = list(getattr(palette, "groups", None) or (None,) * k)
    types = getattr(palette, "swatch_types", None)
    if types is not None and any(t != "process" for t in types):
        n = sum(t != "process" for t in types)
        notes.append(f"{n} global or spot color(s) were written as process colors")
    blocks: list[bytes] = []
    current: str | None = None
    for i in range(k):
        if groups[i] != current:
            if current is not None:
                blocks.append(struct.pack(">HI", GROUP_END, 0))
            if groups[i] is not None:
                blocks.append(_block(GROUP_START, _name_field(groups[i], "group name", notes)))
            current = groups[i]
        label = names[i] if names[i] else hexes[i]
        rgb = (palette.colors[i].astype(np.float64) / 255.0).astype(">f4").tobytes()
        payload = _name_field(label, "color name", notes) + b"RGB " + rgb + struct.pack(">H", 2)
        blocks.append(_block(COLOR, payload))
    if current is not None:
        blocks.append(struct.pack(">HI", GROUP_END, 0))
    head = MAGIC + struct.pack(">HHI", 1, 0, len(blocks))
    return head + b"".join(blocks), notes


def dumps(palette: Palette, **options) -> bytes:
    """ASE bytes for ``palette`` (see :func:`encode` for the options)."""
    return encode(palette, **options)[0]


def _block(kind: int, payload: bytes) -> bytes:
    return struct.pack(">HI", kind, len(payload)) + payload


def _name_field(name: str, what: str, notes: list[str]) -> bytes:
    clean = without_nul(name)
    if clean != name:
        notes.append(f"NUL characters removed from {what} {clean!r}")
    units, raw = pack_utf16_name(clean)
    if units > _MAX_NAME_UNITS:
        raise PaletteFormatError(f"{what} {clean[:20]!r}… is too long for ASE "
                                 f"({units} UTF-16 units; at most {_MAX_NAME_UNITS})", format=NAME)
    return struct.pack(">H", units) + raw
