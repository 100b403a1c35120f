"""Write a reduced-color image (a :class:`~palette_app.core.result.QuantizeResult`) to a file.

:func:`save_image` writes the result's exact palette and indices: read back,
an indexed file gives the same palette entries and the same index of every
pixel. Writes are atomic (:func:`palette_app.io.atomic.atomic_write`) and never
replace an existing file unless ``overwrite=True``.

=======  =========================================  ===========================
format   stored as                                   transparency
=======  =========================================  ===========================
PNG      indexed, 1/2/4/8 bits (the smallest that   exact (``tRNS``, one alpha
         fits), our own minimal encoder              per palette entry)
GIF      indexed                                     one fully transparent entry
WEBP     lossless RGB(A), exact colors               exact
TIFF     indexed (LZW); RGBA when transparent        exact (as RGBA)
BMP      indexed, 8 bits                             none (dropped, with a note)
JPEG     RGB, quality 95, no chroma subsampling      none (dropped, with a note)
=======  =========================================  ===========================

Color profile (``color_profile="srgb"``, the default): pixels are sRGB, and the
file says so in the lightest standard way: a PNG ``sRGB`` chunk; an embedded
sRGB ICC profile in TIFF, WebP and JPEG; GIF and BMP cannot say it (sRGB is
what every reader assumes). ``color_profile=None`` writes no color information
at all. EXIF (and so an orientation tag) is never written.
"""
from __future__ import annotations

import errno
import io
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
from PIL import Image, ImageCms

from palette_app.io.atomic import OutputExistsError, atomic_write

__all__ = ["IMAGE_WRITE_FORMATS", "ImageSaveError", "SavedImage", "save_image"]

#: Formats :func:`save_image` writes (Pillow names).
IMAGE_WRITE_FORMATS: tuple[str, ...] = ("PNG", "GIF", "WEBP", "TIFF", "BMP", "JPEG")

_EXTENSIONS = {
    ".png": "PNG", ".gif": "GIF", ".webp": "WEBP", ".tif": "TIFF", ".tiff": "TIFF",
    ".bmp": "BMP", ".jpg": "JPEG", ".jpeg": "JPEG", ".jpe": "JPEG", ".jfif": "JPEG",
}
_ALIASES = {"JPG": "JPEG", "TIF": "TIFF"}
_MAX_SIDE = {"WEBP": 16383, "JPEG": 65500, "GIF": 65535, "PNG": 2**31 - 1,
             "TIFF": 2**32 - 1, "BMP": 2**31 - 1}


class ImageSaveError(Exception):
    """An image could not be written; the message says which file and why.

    Attributes
    ----------
    path : str or None
    kind : str
        One of ``"exists"``, ``"unsupported_format"``, ``"too_large"``,
        ``"too_many_colors"``, ``"folder_missing"``, ``"permission"``,
        ``"disk_full"``, ``"write_error"``.
    """

    def __init__(self, message: str, *, path: str | None = None, kind: str = "write_error"):
        super().__init__(message)
        self.path = path
        self.kind = kind


@dataclass(frozen=True)
class SavedImage:
    """What :func:`save_image` wrote.

    Attributes
    ----------
    path : Path
    format : str
        One of :data:`IMAGE_WRITE_FORMATS`.
    indexed : bool
        The file stores the palette and one index per pixel (PNG, GIF, BMP, and
        TIFF without transparency). WebP and JPEG store colors; reading them
        back gives the colors (exactly for WebP), not the indices.
    n_colors : int
        Palette entries of the result.
    bit_depth : int
        Bits per pixel as stored (1, 2, 4 or 8 when indexed; 24 or 32 otherwise).
    n_bytes : int
        Size of the written file.
    notes : tuple of str
        What a user should know about the file (JPEG is not indexed,
        transparency dropped, ...).
    """

    path: Path
    format: str
    indexed: bool
    n_colors: int
    bit_depth: int
    n_bytes: int
    notes: tuple[str, ...] = ()


def save_image(
    result: Any,
    path: str | os.PathLike,
    format: str | None = None,
    *,
    overwrite: bool = False,
    color_profile: str | None = "srgb",
    background: tuple[int, int, int] | None = None,
    optimize: bool = True,
    jpeg_quality: int = 95,
) -> SavedImage:
    """Write ``result`` (palette + index image) to ``path``, atomically.

    Parameters
    ----------
    result : QuantizeResult
        Anything with ``.palette`` (``colors`` (k, 3) uint8, ``alpha`` (k,)
        uint8 or None) and ``.indices`` (H, W) integer array of palette indices.
    path : path
    format : str, optional
        One of :data:`IMAGE_WRITE_FORMATS` (``"jpg"`` and ``"tif"`` accepted, any
        case). By default taken from the file extension.
    overwrite : bool
        Replace an existing file. Without it an existing file is an error.
    color_profile : "srgb" or None
        Mark the file as sRGB (see the module docs), or write no color
        information.
    background : (r, g, b), optional
        For formats that cannot store transparency (BMP, JPEG): composite
        transparent palette entries over this color. By default they keep
        their stored color.
    optimize : bool
        Spend more time for smaller PNG files (zlib level 9, trying two or
        three settings); otherwise zlib level 6.
    jpeg_quality : int
        1..100, JPEG only.

    Returns
    -------
    SavedImage

    Raises
    ------
    ImageSaveError
        For every problem with the target or the format.
    TypeError, ValueError
        For an invalid ``result`` or invalid arguments.
    """
    path = Path(path)
    label = os.fspath(path)
    fmt = _resolve_format(path, format, label)
    if color_profile not in ("srgb", None):
        raise ValueError(f"color_profile must be 'srgb' or None, got {color_profile!r}")
    if not 1 <= int(jpeg_quality) <= 100:
        raise ValueError(f"jpeg_quality must be in 1..100, got {jpeg_quality!r}")
    colors, alpha, indices = _validate(result)
    k = len(colors)
    h, w = indices.shape
    if k > 256:
        raise ImageSaveError(
            f"Cannot save {label}: the palette has {k} colors; image files hold at most 256.",
            path=label, kind="too_many_colors",
        )
    if max(w, h) > _MAX_SIDE[fmt]:
        raise ImageSaveError(
            f"Cannot save {label}: {fmt} images can be at most {_MAX_SIDE[fmt]:,} pixels wide "
            f"and high, and this one is {w:,} × {h:,}. Choose PNG or TIFF.",
            path=label, kind="too_large",
        )

    notes: list[str] = []
    ext_fmt = _EXTENSIONS.get(path.suffix.lower())
    if format is not None and ext_fmt is not None and ext_fmt != fmt:
        notes.append(f"The file is {fmt} although its name ends in {path.suffix}.")
    srgb = color_profile == "srgb"
    writer = _WRITERS[fmt]
    try:
        with atomic_write(path, overwrite=overwrite) as f:
            indexed, bit_depth = writer(f, colors, alpha, indices, result, srgb=srgb,
                                        background=background, optimize=optimize,
                                        quality=int(jpeg_quality), notes=notes)
            f.flush()
            n_bytes = os.fstat(f.fileno()).st_size
    except OutputExistsError:
        raise ImageSaveError(
            f"Cannot save {label}: the file already exists (choose to overwrite it to replace it).",
            path=label, kind="exists",
        ) from None
    except ImageSaveError:
        raise
    except FileNotFoundError:
        raise ImageSaveError(f"Cannot save {label}: the folder {path.parent} does not exist.",
                             path=label, kind="folder_missing") from None
    except PermissionError:
        raise ImageSaveError(f"Cannot save {label}: you do not have permission to write there.",
                             path=label, kind="permission") from None
    except IsADirectoryError:
        raise ImageSaveError(f"Cannot save {label}: a folder with that name exists.",
                             path=label, kind="exists") from None
    except OSError as e:
        if e.errno in (errno.ENOSPC, errno.EDQUOT):
            raise ImageSaveError(f"Cannot save {label}: the disk is full.",
                                 path=label, kind="disk_full") from None
        raise ImageSaveError(f"Cannot save {label}: {e.strerror or e}.", path=label) from e
    except (ValueError, TypeError, KeyError, struct.error, MemoryError) as e:
        # An encoder refused the data (should not happen for valid results).
        raise ImageSaveError(f"Cannot save {label}: the {fmt} encoder failed ({e}).",
                             path=label) from e
    return SavedImage(path=path, format=fmt, indexed=indexed, n_colors=k, bit_depth=bit_depth,
                      n_bytes=n_bytes, notes=tuple(notes))


# ---------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------

def _resolve_format(path: Path, format: str | None, label: str) -> str:
    if format is not None:
        if not isinstance(format, str):
            raise TypeError(f"format must be a string, got {type(format).__name__}")
        fmt = _ALIASES.get(format.upper().lstrip("."), format.upper().lstrip("."))
        if fmt not in IMAGE_WRITE_FORMATS:
            raise ImageSaveError(
                f"Cannot save {label}: {format!r} is not a format Palette App writes "
                f"(choose one of {', '.join(IMAGE_WRITE_FORMATS)}).",
                path=label, kind="unsupported_format",
            )
        return fmt
    fmt = _EXTENSIONS.get(path.suffix.lower())
    if fmt is None:
        what = f"the extension {path.suffix!r}" if path.suffix else "a file name without an extension"
        raise ImageSaveError(
            f"Cannot save {label}: cannot tell the format from {what} "
            f"(use .png, .gif, .webp, .tif, .bmp or .jpg, or give the format).",
            path=label, kind="unsupported_format",
        )
    return fmt


def _validate(result: Any) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    try:
        palette = result.palette
        colors = np.asarray(palette.colors)
        alpha = None if palette.alpha is None else np.asarray(palette.alpha)
        indices = np.asarray(result.indices)
    except AttributeError:
        raise TypeError("save_image expects a QuantizeResult (with .palette and .indices)") from None
    if colors.ndim != 2 or colors.shape[1] != 3 or colors.dtype != np.uint8 or len(colors) == 0:
        raise ValueError(f"palette colors must be a non-empty (k, 3) uint8 array, got "
                         f"{colors.shape} {colors.dtype}")
    if alpha is not None and (alpha.shape != (len(colors),) or alpha.dtype != np.uint8):
        raise ValueError("palette alpha must be a (k,) uint8 array")
    if alpha is not None and bool((alpha == 255).all()):
        alpha = None
    if indices.ndim != 2 or indices.size == 0 or not np.issubdtype(indices.dtype, np.integer):
        raise ValueError(f"indices must be a non-empty (H, W) integer array, got {indices.shape} "
                         f"{indices.dtype}")
    if int(indices.min()) < 0 or int(indices.max()) >= len(colors):
        raise ValueError(f"indices must lie in 0..{len(colors) - 1}")
    return colors, alpha, np.ascontiguousarray(indices, dtype=np.uint8)


# ---------------------------------------------------------------------------
# Writers: (f, colors, alpha, indices, result, **options) -> (indexed, bit_depth)
# ---------------------------------------------------------------------------

def _srgb_icc() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _p_image(colors: np.ndarray, indices: np.ndarray) -> Image.Image:
    h, w = indices.shape
    im = Image.frombuffer("P", (w, h), indices, "raw", "P", 0, 1)
    im.putpalette(colors.tobytes(), rawmode="RGB")
    return im


def _flatten(colors: np.ndarray, alpha: np.ndarray | None,
             background: tuple[int, int, int] | None) -> np.ndarray:
    """Palette colors composited over ``background`` (unchanged without one)."""
    if alpha is None or background is None:
        return colors
    bg = np.asarray(background, dtype=np.float64).reshape(1, 3)
    a = alpha.astype(np.float64)[:, None] / 255.0
    return np.clip(np.rint(colors * a + bg * (1.0 - a)), 0, 255).astype(np.uint8)


def _write_png(f: BinaryIO, colors, alpha, indices, result, *, srgb, optimize, notes,
               **_) -> tuple[bool, int]:
    bit_depth = _png_bit_depth(len(colors))
    f.write(_encode_indexed_png(indices, colors, alpha, srgb=srgb, optimize=optimize))
    return True, bit_depth


def _write_gif(f, colors, alpha, indices, result, *, notes, **_) -> tuple[bool, int]:
    params: dict[str, Any] = {"optimize": False, "interlace": False}
    if alpha is not None:
        t = getattr(result, "transparent_index", None)
        clear = np.flatnonzero(alpha == 0)
        if t is None or not 0 <= int(t) < len(colors) or alpha[int(t)] != 0:
            t = int(clear[0]) if len(clear) else int(np.argmin(alpha))
        params["transparency"] = int(t)
        others = np.flatnonzero(alpha < 255)
        if len(others) > 1 or alpha[t] != 0:
            notes.append("GIF can make only one color fully transparent; the other "
                         f"{len(others) - 1 if alpha[t] == 0 else len(others)} partly "
                         "transparent colors were written opaque.")
    _p_image(colors, indices).save(f, "GIF", **params)
    return True, 8


def _write_webp(f, colors, alpha, indices, result, *, srgb, notes, **_) -> tuple[bool, int]:
    rgba = alpha is not None
    table = np.column_stack([colors, alpha]) if rgba else colors
    px = np.ascontiguousarray(table[indices])
    im = Image.fromarray(px, "RGBA" if rgba else "RGB")
    params: dict[str, Any] = {"lossless": True, "quality": 100, "method": 4, "exact": True}
    if srgb:
        params["icc_profile"] = _srgb_icc()
    im.save(f, "WEBP", **params)
    notes.append("WebP has no palette mode: the colors are stored exactly (lossless), "
                 "but as RGB pixels, not as palette indices.")
    return False, 32 if rgba else 24


def _write_tiff(f, colors, alpha, indices, result, *, srgb, notes, **_) -> tuple[bool, int]:
    params: dict[str, Any] = {"compression": "tiff_lzw"}
    if srgb:
        params["icc_profile"] = _srgb_icc()
    if alpha is None:
        _p_image(colors, indices).save(f, "TIFF", **params)
        return True, 8
    rgba = np.ascontiguousarray(np.column_stack([colors, alpha])[indices])
    Image.fromarray(rgba, "RGBA").save(f, "TIFF", **params)
    notes.append("A TIFF palette cannot hold transparency, so the image was written as "
                 "RGBA (not indexed).")
    return False, 32


def _write_bmp(f, colors, alpha, indices, result, *, background, notes, **_) -> tuple[bool, int]:
    if alpha is not None:
        notes.append(_no_alpha_note("BMP", background))
    _p_image(_flatten(colors, alpha, background), indices).save(f, "BMP")
    return True, 8


def _write_jpeg(f, colors, alpha, indices, result, *, srgb, background, quality, notes,
                **_) -> tuple[bool, int]:
    rgb = np.ascontiguousarray(_flatten(colors, alpha, background)[indices])
    params: dict[str, Any] = {"quality": quality, "subsampling": 0, "optimize": True}
    if srgb:
        params["icc_profile"] = _srgb_icc()
    Image.fromarray(rgb, "RGB").save(f, "JPEG", **params)
    notes.append(f"JPEG cannot store a palette: the image was written as RGB (quality "
                 f"{quality}), so its colors are close to, not exactly, the {len(colors)} "
                 "palette colors. Use PNG for an exact reduced-color file.")
    if alpha is not None:
        notes.append(_no_alpha_note("JPEG", background))
    return False, 24


def _no_alpha_note(fmt: str, background) -> str:
    if background is None:
        return (f"{fmt} cannot store transparency; transparent areas were written in their "
                "stored color.")
    return f"{fmt} cannot store transparency; transparent areas were composited over the background color."


_WRITERS = {"PNG": _write_png, "GIF": _write_gif, "WEBP": _write_webp, "TIFF": _write_tiff,
            "BMP": _write_bmp, "JPEG": _write_jpeg}


# ---------------------------------------------------------------------------
# Indexed PNG encoder
# ---------------------------------------------------------------------------
# Pillow's PNG writer filters low-bit-depth palette images adaptively, which
# cost ~20% against pngquant at 16 colors. The PNG book recommends no filtering
# for palette images; this minimal encoder does that, with zlib level 9. On the
# same index data its files are no larger than pngquant's (libpng, zlib 9).

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_ROWS_PER_BLOCK = 256
#: Largest image (pixels) for which ``optimize`` pays for extra zlib passes.
_EXTRA_PASSES_MAX_PIXELS = 16_000_000


def _png_bit_depth(k: int) -> int:
    return 1 if k <= 2 else 2 if k <= 4 else 4 if k <= 16 else 8


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _pack_rows(indices: np.ndarray, bits: int) -> np.ndarray:
    """(H, W) indices → (H, ceil(W*bits/8)) bytes, most significant bits first."""
    if bits == 8:
        return indices
    per = 8 // bits
    h, w = indices.shape
    padded = np.zeros((h, -(-w // per) * per), np.uint8)
    padded[:, :w] = indices
    groups = padded.reshape(h, -1, per)
    out = np.zeros(groups.shape[:2], np.uint8)
    for j in range(per):
        out |= groups[:, :, j] << np.uint8(8 - bits * (j + 1))
    return out


def _deflate(rows: np.ndarray, strategy: int, level: int, mem_level: int = 8) -> bytes:
    """zlib stream of the rows, each prefixed with filter type 0 (None)."""
    c = zlib.compressobj(level, zlib.DEFLATED, 15, mem_level, strategy)
    parts = []
    h, n = rows.shape
    buf = np.zeros((min(h, _ROWS_PER_BLOCK), n + 1), np.uint8)
    for y in range(0, h, _ROWS_PER_BLOCK):
        block = rows[y:y + _ROWS_PER_BLOCK]
        b = buf[:len(block)]
        b[:, 1:] = block
        parts.append(c.compress(b.tobytes()))
    parts.append(c.flush())
    return b"".join(parts)


def _encode_indexed_png(indices: np.ndarray, colors: np.ndarray, alpha: np.ndarray | None = None,
                       *, srgb: bool = True, optimize: bool = True) -> bytes:
    """Encode a palette image as PNG bytes (color type 3), palette and indices exact.

    Parameters
    ----------
    indices : (H, W) uint8
        Palette index per pixel, each < ``len(colors)``.
    colors : (k, 3) uint8, 1 <= k <= 256
    alpha : (k,) uint8 or None
        Written as ``tRNS``, cut after the last entry that is not opaque.
    srgb : bool
        Write an ``sRGB`` chunk (perceptual intent).
    optimize : bool
        zlib level 9 with two or three settings, keeping the smallest stream
        (one setting above 16 megapixels); otherwise level 6.
    """
    h, w = indices.shape
    k = len(colors)
    bits = _png_bit_depth(k)
    rows = _pack_rows(np.ascontiguousarray(indices, dtype=np.uint8), bits)
    if optimize:
        # (strategy, memLevel): no setting wins on every image. memLevel 5 is
        # what pngquant uses (smaller hash chains: slightly better matches on
        # index data); Z_FILTERED helps packed 1-4 bit rows.
        trials = [(zlib.Z_DEFAULT_STRATEGY, 8)]
        if h * w <= _EXTRA_PASSES_MAX_PIXELS:
            trials.append((zlib.Z_DEFAULT_STRATEGY, 5))
            if bits < 8:
                trials.append((zlib.Z_FILTERED, 8))
        idat = min((_deflate(rows, s, 9, m) for s, m in trials), key=len)
    else:
        idat = _deflate(rows, zlib.Z_DEFAULT_STRATEGY, 6)
    out = io.BytesIO()
    out.write(_PNG_SIGNATURE)
    out.write(_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, bits, 3, 0, 0, 0)))
    if srgb:
        out.write(_chunk(b"sRGB", b"\x00"))
    out.write(_chunk(b"PLTE", np.ascontiguousarray(colors, dtype=np.uint8).tobytes()))
    if alpha is not None:
        not_opaque = np.flatnonzero(alpha != 255)
        if len(not_opaque):
            out.write(_chunk(b"tRNS", alpha[: not_opaque[-1] + 1].astype(np.uint8).tobytes()))
    out.write(_chunk(b"IDAT", idat))
    out.write(_chunk(b"IEND", b""))
    return out.getvalue()
