"""What a batch does to every image: :class:`BatchSettings`, checked on the user's scale.

Nothing here imports Numba: worker processes unpickle these objects before
they have set their thread counts (see :mod:`.worker`).
"""
from __future__ import annotations

import numbers
from dataclasses import asdict, dataclass

#: Output image formats (Pillow names), with the extension given to new files.
OUTPUT_FORMATS: dict[str, str] = {
    "PNG": ".png", "GIF": ".gif", "WEBP": ".webp", "TIFF": ".tiff", "BMP": ".bmp", "JPEG": ".jpg",
}
_FORMAT_ALIASES = {"JPG": "JPEG", "TIF": "TIFF"}
#: What to do when an output file already exists.
ON_EXIST = ("skip", "overwrite", "rename")
DITHERS = ("none", "fs", "ordered")
SPACES = ("srgb", "linear", "lab", "oklab")
EFFORTS = ("fast", "default", "best")


def output_format(name: str) -> str:
    """Normalise ``"jpg"``, ``".png"``, ``"TIF"`` ... to a key of :data:`OUTPUT_FORMATS`."""
    key = str(name).upper().lstrip(".")
    key = _FORMAT_ALIASES.get(key, key)
    if key not in OUTPUT_FORMATS:
        raise ValueError(f"unknown output format {name!r} (choose one of "
                         f"{', '.join(k.lower() for k in OUTPUT_FORMATS)})")
    return key


def _hex6(text: str) -> str:
    """``"#rrggbb"`` (lower case) from ``rrggbb``, ``#rgb`` ...; ValueError otherwise."""
    s = str(text).strip()
    body = s.removeprefix("#")
    if len(body) == 3:
        body = "".join(c * 2 for c in body)
    if len(body) != 6 or any(c not in "0123456789abcdefABCDEF" for c in body):
        raise ValueError(f"{text!r} is not a color (expected rrggbb or #rrggbb)")
    return "#" + body.lower()


def _hex_any(text: str) -> str:
    """``"#rrggbb"`` or ``"#rrggbbaa"`` for a palette entry."""
    s = str(text).strip().lstrip("#").lower()
    if len(s) == 8 and all(c in "0123456789abcdef" for c in s):
        return "#" + (s[:6] if s.endswith("ff") else s)
    return _hex6(s)


@dataclass(frozen=True)
class BatchSettings:
    """Settings applied to every image of a batch.

    n_colors : 2..256 palette entries (the upper bound with ``min_psnr`` / ``max_delta_e``).
    random_state : int seed; the same seed gives byte-identical files.
    effort : 'fast', 'default' or 'best'.
    space : clustering space ('srgb', 'linear', 'lab', 'oklab'), or None for the core's default.
    dither : 'none', 'fs' (Floyd–Steinberg) or 'ordered' (Bayer); ``dither_strength`` 0..1;
        ``dither_smooth_only``: dither only where the image is smooth, keep edges crisp.
    locked : '#rrggbb' colors every palette keeps exactly.
    palette : fixed palette ('#rrggbb' or '#rrggbbaa' entries): every image is remapped to it.
    shared_palette : compute one palette from all the images together, then remap each to it.
    min_psnr, max_delta_e : quality target: the fewest colors (up to ``n_colors``) that meet it.
    format : output format, a key of :data:`OUTPUT_FORMATS`.
    on_exist : 'skip', 'overwrite' or 'rename' when an output file exists.
    skip_if_larger : do not write an output that would be larger than its input file.
    smoothing : label smoothing strength 0..1 for quantized images, or None (automatic:
        the core's default, 0.5 up to 8 colors). Smaller PNGs of few colors; 0 puts every
        pixel on its nearest color. Remapping (a fixed or shared palette) and dithering
        never smooth, so a strength above 0 cannot be combined with them.
    """

    n_colors: int = 16
    random_state: int = 0
    effort: str = "default"
    space: str | None = None
    dither: str = "none"
    dither_strength: float = 1.0
    dither_smooth_only: bool = False
    locked: tuple[str, ...] = ()
    palette: tuple[str, ...] | None = None
    shared_palette: bool = False
    min_psnr: float | None = None
    max_delta_e: float | None = None
    format: str = "PNG"
    on_exist: str = "skip"
    skip_if_larger: bool = False
    smoothing: float | None = None

    def __post_init__(self):
        n = self.n_colors
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError(f"n_colors must be an integer, got {n!r}")
        if not 2 <= n <= 256:
            raise ValueError(f"the number of colors must be between 2 and 256, got {n}")
        if isinstance(self.random_state, bool) or not isinstance(self.random_state, int):
            raise TypeError(f"random_state must be an integer seed, got {self.random_state!r}")
        if self.effort not in EFFORTS:
            raise ValueError(f"effort must be one of {', '.join(EFFORTS)}, got {self.effort!r}")
        if self.space is not None and self.space not in SPACES:
            raise ValueError(f"space must be one of {', '.join(SPACES)}, got {self.space!r}")
        if self.dither not in DITHERS:
            raise ValueError(f"dither must be one of {', '.join(DITHERS)}, got {self.dither!r}")
        if not 0.0 <= float(self.dither_strength) <= 1.0:
            raise ValueError(f"the dither strength must be between 0 and 1, got {self.dither_strength}")
        object.__setattr__(self, "dither_strength", float(self.dither_strength))
        locked = tuple(dict.fromkeys(_hex6(c) for c in self.locked))
        object.__setattr__(self, "locked", locked)
        if len(locked) > n:
            raise ValueError(f"{len(locked)} locked colors do not fit in {n} colors")
        if self.palette is not None:
            pal = tuple(_hex_any(c) for c in self.palette)
            if not 1 <= len(pal) <= 256:
                raise ValueError(f"a fixed palette needs 1 to 256 colors, got {len(pal)}")
            object.__setattr__(self, "palette", pal)
        for name in ("min_psnr", "max_delta_e"):
            v = getattr(self, name)
            if v is not None:
                if not float(v) > 0:
                    raise ValueError(f"{name} must be a positive number, got {v}")
                object.__setattr__(self, name, float(v))
        object.__setattr__(self, "format", output_format(self.format))
        if self.on_exist not in ON_EXIST:
            raise ValueError(f"on_exist must be one of {', '.join(ON_EXIST)}, got {self.on_exist!r}")
        # Combinations that have no meaning.
        quality = self.min_psnr is not None or self.max_delta_e is not None
        if self.palette is not None and (self.shared_palette or locked or quality):
            raise ValueError("a fixed palette cannot be combined with a shared palette, locked "
                             "colors or a quality target")
        if self.shared_palette and quality:
            raise ValueError("a shared palette cannot be combined with a quality target")
        if self.smoothing is not None:
            v = self.smoothing
            if isinstance(v, bool) or not isinstance(v, numbers.Real):
                raise TypeError(f"smoothing must be a number between 0 and 1, or None for automatic, "
                                f"got {v!r}")
            if not 0.0 <= float(v) <= 1.0:
                raise ValueError(f"the smoothing must be between 0 and 1, got {v}")
            object.__setattr__(self, "smoothing", float(v))
            if float(v) > 0 and (self.palette is not None or self.shared_palette or self.dither != "none"):
                raise ValueError("label smoothing applies to quantized images without dithering: it "
                                 "cannot be combined with a fixed palette, a shared palette or dithering")

    # -- derived --------------------------------------------------------------
    @property
    def quality_target(self) -> bool:
        return self.min_psnr is not None or self.max_delta_e is not None

    @property
    def extension(self) -> str:
        return OUTPUT_FORMATS[self.format]

    def to_dict(self) -> dict:
        d = asdict(self)
        d["locked"] = list(self.locked)
        d["palette"] = None if self.palette is None else list(self.palette)
        return d
