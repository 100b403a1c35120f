"""Read any image a designer has into uint8 sRGB pixels, safely.

:func:`load_image` accepts a path or the file's bytes and returns a
:class:`LoadedImage`. Every failure is an :class:`ImageLoadError` whose message
names the file and says what is wrong; no other exception escapes, whatever
the bytes are (invalid *arguments* still raise ``TypeError``/``ValueError``).

Safety, in the order the checks run:

1. Well-known formats we refuse (Photoshop, EPS/PostScript, PDF, HEIC, SVG, ...)
   are recognised from their first bytes and refused with a message that
   names them; EPS in particular would start Ghostscript.
2. Only the decoders in :data:`IMAGE_READ_FORMATS` are ever tried. Pillow
   picks a decoder from the bytes, not the extension, so a ``.png`` holding a
   PSD must be stopped here, not by the file name.
3. The size (and the number of frames) is read from the header and checked
   against ``max_pixels`` and ``max_frames`` before any pixel is decoded.
4. Truncated or corrupt data is refused unless ``allow_truncated=True``.

Then every pixel format ends as uint8 RGB or RGBA: the EXIF orientation is
applied, an embedded ICC profile is converted to sRGB (a broken one is dropped
with a note), CMYK goes through its profile when it has one, 16-bit and
32-bit data are scaled (not clamped) to 8 bits.
"""
from __future__ import annotations

import contextlib
import io
import os
import re
import struct
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterator

import numpy as np
from PIL import Image, ImageCms, ImageFile

# Importing a plugin registers its decoder; import exactly the allowed ones.
from PIL import (  # noqa: F401  (imported for their registration side effect)
    BmpImagePlugin,
    GifImagePlugin,
    IcoImagePlugin,
    JpegImagePlugin,
    PngImagePlugin,
    PpmImagePlugin,
    QoiImagePlugin,
    TgaImagePlugin,
    TiffImagePlugin,
    WebPImagePlugin,
)

try:  # AVIF support is optional in Pillow builds.
    from PIL import AvifImagePlugin  # noqa: F401
except ImportError:  # pragma: no cover - depends on the Pillow build
    pass

__all__ = [
    "DEFAULT_MAX_FRAMES",
    "DEFAULT_MAX_PIXELS",
    "IMAGE_READ_FORMATS",
    "ImageLoadError",
    "LoadedImage",
    "load_image",
]

#: Pillow decoders that :func:`load_image` may use, in the order they are tried.
#: Everything else Pillow can read (PSD, EPS, PDF, FITS, the font and game
#: formats, ...) is refused. TGA has no signature, so it is only tried for
#: files whose name ends in a TGA extension.
IMAGE_READ_FORMATS: tuple[str, ...] = (
    "PNG", "JPEG", "GIF", "WEBP", "TIFF", "BMP", "ICO", "AVIF", "QOI", "PPM", "TGA",
)

#: Largest image accepted by default, in pixels (width × height).
DEFAULT_MAX_PIXELS = 100_000_000
#: Most frames (animation frames, TIFF pages) accepted by default.
DEFAULT_MAX_FRAMES = 1000

_TGA_SUFFIXES = (".tga", ".icb", ".vda", ".vst")
# Names of the formats we read, to point out a file whose name does not match its content.
_RASTER_SUFFIXES = (".png", ".apng", ".jpg", ".jpeg", ".jpe", ".jfif", ".gif", ".webp", ".tif",
                    ".tiff", ".bmp", ".dib", ".ico", ".avif", ".qoi", ".ppm", ".pgm", ".pbm",
                    ".pnm", *_TGA_SUFFIXES)

# Names a designer recognises, for messages.
_FORMAT_NAMES = {
    "PNG": "PNG", "JPEG": "JPEG", "MPO": "JPEG (multi-picture)", "GIF": "GIF",
    "WEBP": "WebP", "TIFF": "TIFF", "BMP": "BMP", "ICO": "icon (ICO)", "AVIF": "AVIF",
    "QOI": "QOI", "PPM": "PNM/PPM", "TGA": "TGA",
}


class ImageLoadError(Exception):
    """An image file could not be loaded; the message says which file and why.

    Attributes
    ----------
    path : str or None
        The file (or the ``name`` given for bytes).
    kind : str
        What went wrong, one of :data:`ImageLoadError.KINDS`, for programs
        that want to react differently (e.g. offer ``allow_truncated``).
    """

    KINDS = (
        "not_found", "not_a_file", "permission", "read_error", "empty",
        "unsupported_format", "too_large", "too_many_frames", "truncated",
        "corrupt", "unsupported_mode", "out_of_memory",
    )

    def __init__(self, message: str, *, path: str | None = None, kind: str = "corrupt"):
        super().__init__(message)
        self.path = path
        self.kind = kind


@dataclass(frozen=True, eq=False)
class LoadedImage:
    """An image read by :func:`load_image`.

    Attributes
    ----------
    pixels : (H, W, 3) or (H, W, 4) uint8, C-contiguous
        sRGB pixels, orientation applied. Four channels only when some pixel is
        not fully opaque. Treat it as read-only.
    format : str
        The decoder that read it (``"PNG"``, ``"JPEG"``, ``"MPO"``, ``"GIF"``, ...).
    size : (int, int)
        ``(width, height)`` of ``pixels``.
    mode : str
        The Pillow mode of the file's data before conversion (``"P"``, ``"I;16"``,
        ``"CMYK"``, ...).
    had_alpha : bool
        The file had an alpha channel or transparent palette entries (even if
        every pixel turned out opaque).
    n_frames : int
        Frames or pages in the file; only the first one is in ``pixels``.
    notes : tuple of str
        What was done that a user may want to know (profile converted, frames
        dropped, damaged profile ignored, ...), one sentence each.
    path : Path or None
        The file it came from, ``None`` for bytes.
    """

    pixels: np.ndarray
    format: str
    size: tuple[int, int]
    mode: str
    had_alpha: bool = False
    n_frames: int = 1
    notes: tuple[str, ...] = ()
    path: Path | None = None

    @property
    def width(self) -> int:
        return self.size[0]

    @property
    def height(self) -> int:
        return self.size[1]

    @property
    def has_alpha(self) -> bool:
        """``pixels`` has an alpha channel (some pixel is not fully opaque)."""
        return self.pixels.shape[2] == 4

    @property
    def animated(self) -> bool:
        """The file has more than one frame (animation, pages, or pictures)."""
        return self.n_frames > 1

    def __repr__(self) -> str:
        w, h = self.size
        where = f" from {self.path.name!r}" if self.path is not None else ""
        return f"LoadedImage({w}x{h} {self.format} {self.mode}{where}, {len(self.notes)} notes)"


# ---------------------------------------------------------------------------
# Public function
# ---------------------------------------------------------------------------

def load_image(
    path_or_bytes: str | os.PathLike | bytes | bytearray | memoryview | IO[bytes],
    *,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    max_frames: int | None = DEFAULT_MAX_FRAMES,
    allow_truncated: bool = False,
    name: str | None = None,
) -> LoadedImage:
    """Read an image file into uint8 sRGB pixels.

    Parameters
    ----------
    path_or_bytes : path, bytes or binary file object
        The image. Bytes and file objects are read whole.
    max_pixels : int or None
        Refuse images with more than this many pixels (width × height), before
        decoding them. ``None`` removes the cap (only for trusted files).
    max_frames : int or None
        Refuse files with more frames or pages than this, before decoding.
    allow_truncated : bool
        Load what can be read from a truncated or damaged file (the rest is
        filled in) instead of refusing it; a note says so.
    name : str, optional
        What to call the image in messages when it is given as bytes.

    Returns
    -------
    LoadedImage

    Raises
    ------
    ImageLoadError
        For every problem with the file, its bytes or its size.
    TypeError, ValueError
        Only for invalid arguments.
    """
    for arg, value in (("max_pixels", max_pixels), ("max_frames", max_frames)):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1
        ):
            raise ValueError(f"{arg} must be a positive integer or None, got {value!r}")

    if isinstance(path_or_bytes, (str, os.PathLike)):
        path: Path | None = Path(path_or_bytes)
        label = name or os.fspath(path_or_bytes)
    elif isinstance(path_or_bytes, (bytes, bytearray, memoryview)) or hasattr(path_or_bytes, "read"):
        path = None
        label = name or "the image data"
    else:
        raise TypeError(
            f"load_image expects a path, bytes or a binary file, got {type(path_or_bytes).__name__}"
        )

    try:
        with _open_source(path_or_bytes, path, label) as fp:
            try:
                with _GATE.strict():
                    return _attempt(fp, path, label, max_pixels, max_frames, lenient=False)
            except ImageLoadError as e:
                if not allow_truncated or e.kind not in ("truncated", "corrupt"):
                    raise
            # Second attempt, with Pillow told to keep what it can read.
            with _GATE.lenient():
                return _attempt(fp, path, label, max_pixels, max_frames, lenient=True)
    except ImageLoadError:
        raise
    except Exception as e:  # the promise: nothing but ImageLoadError escapes
        raise _unexpected(label, e) from e


def _attempt(fp: IO[bytes], path: Path | None, label: str, max_pixels: int | None,
             max_frames: int | None, *, lenient: bool) -> LoadedImage:
    try:
        return _load(fp, path, label, max_pixels, max_frames, lenient=lenient)
    except ImageLoadError:
        raise
    except Exception as e:
        raise _unexpected(label, e) from e


def _unexpected(label: str, e: Exception) -> ImageLoadError:
    if isinstance(e, MemoryError):
        return ImageLoadError(f"Cannot open {label}: there is not enough memory to load this image.",
                              path=label, kind="out_of_memory")
    if isinstance(e, RecursionError):
        return ImageLoadError(f"Cannot open {label}: the file is damaged (its structure is nested "
                              "too deeply).", path=label, kind="corrupt")
    return ImageLoadError(
        f"Cannot open {label}: the file is damaged or not a valid image ({_reason(e)}).",
        path=label, kind="corrupt",
    )


# ---------------------------------------------------------------------------
# Opening
# ---------------------------------------------------------------------------

class _TruncationGate:
    """Readers-writer lock around Pillow's process-wide ``LOAD_TRUNCATED_IMAGES``.

    Pillow only offers a global switch for keeping truncated data. Strict loads
    share the gate; a lenient load waits until it is alone, flips the switch,
    and restores it, so no strict load ever sees the switch on.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writer = False

    @contextlib.contextmanager
    def strict(self) -> Iterator[None]:
        with self._cond:
            while self._writer:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                if not self._readers:
                    self._cond.notify_all()

    @contextlib.contextmanager
    def lenient(self) -> Iterator[None]:
        with self._cond:
            while self._writer or self._readers:
                self._cond.wait()
            self._writer = True
        old = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = True
        try:
            yield
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = old
            with self._cond:
                self._writer = False
                self._cond.notify_all()


_GATE = _TruncationGate()


@contextlib.contextmanager
def _open_source(source, path: Path | None, label: str) -> Iterator[IO[bytes]]:
    """A seekable binary file for ``source``, closed afterwards if we opened it."""
    if path is None:
        if isinstance(source, (bytes, bytearray, memoryview)):
            yield io.BytesIO(bytes(source))
            return
        try:
            data = source.read()
        except Exception as e:
            raise ImageLoadError(f"Cannot open {label}: it could not be read ({_reason(e)}).",
                                 path=label, kind="read_error") from e
        if not isinstance(data, (bytes, bytearray)):
            raise TypeError("load_image needs a file opened in binary mode ('rb')")
        yield io.BytesIO(bytes(data))
        return
    try:
        # Refuse FIFOs and devices before open(), which would block on a FIFO.
        if path.exists() and not path.is_dir() and not path.is_file():
            raise ImageLoadError(f"Cannot open {label}: it is not a regular file.",
                                 path=label, kind="not_a_file")
        fp = open(path, "rb")
    except FileNotFoundError:
        raise ImageLoadError(f"Cannot open {label}: the file does not exist.",
                             path=label, kind="not_found") from None
    except IsADirectoryError:
        raise ImageLoadError(f"Cannot open {label}: it is a folder, not an image file.",
                             path=label, kind="not_a_file") from None
    except PermissionError:
        raise ImageLoadError(f"Cannot open {label}: you do not have permission to read it.",
                             path=label, kind="permission") from None
    except (OSError, ValueError) as e:  # ValueError: embedded NUL in the path
        raise ImageLoadError(f"Cannot open {label}: it could not be read ({_reason(e)}).",
                             path=label, kind="read_error") from None
    with fp:
        yield fp


# Formats refused by name, recognised from their first bytes. None of these
# signatures can start a file in an allowed format.
def _sniff_refused(head: bytes) -> str | None:
    if head.startswith(b"8BPS"):
        return "a Photoshop document (PSD)"
    if head.startswith(b"%!PS") or head.startswith(b"\xc5\xd0\xd3\xc6"):
        return "an EPS/PostScript file"
    if head.startswith(b"%PDF"):
        return "a PDF document"
    if head[4:8] == b"ftyp" and head[8:12] in (
        b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs",
    ):
        return "a HEIC photo"
    if head.startswith(b"\xff\x0a") or head.startswith(b"\x00\x00\x00\x0cJXL \r\n\x87\n"):
        return "a JPEG XL image"
    if head.startswith(b"gimp xcf"):
        return "a GIMP document (XCF)"
    if head.startswith(b"\x00\x00\x00\x0cjP  \r\n\x87\n") or head.startswith(b"\xff\x4f\xff\x51"):
        return "a JPEG 2000 image"
    if head.startswith(b"PK\x03\x04"):
        return "a ZIP archive (for example a Krita, Sketch or OpenRaster document)"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith(b"<svg") or (text.startswith(b"<?xml") and b"<svg" in head.lower()):
        return "an SVG drawing"
    return None


def _open_pillow(fp: IO[bytes], path: Path | None, label: str,
                 max_pixels: int | None) -> ImageFile.ImageFile:
    """Identify the file with the allowed decoders only (cf. ``PIL.Image.open``).

    ``Image.open(formats=...)`` would do the same, but it also applies Pillow's
    decompression-bomb limit, a process-wide global; ``max_pixels`` replaces it
    (checked here for the decoders that allocate while opening, and by
    :func:`_check_size` for the others, before decoding).
    """
    fp.seek(0)
    head = fp.read(512)
    if not head:
        raise ImageLoadError(f"Cannot open {label}: the file is empty.", path=label, kind="empty")
    refused = _sniff_refused(head)
    if refused is not None:
        ext = path.suffix.lower() if path is not None else ""
        despite = f" despite its {ext} name" if ext in _RASTER_SUFFIXES else ""
        raise ImageLoadError(
            f"Cannot open {label}: it is {refused}{despite}, which Palette App does not open. "
            "Export it as PNG, JPEG or TIFF first.",
            path=label, kind="unsupported_format",
        )
    prefix = head[:16]
    filename = os.fspath(path) if path is not None else ""
    suffix = path.suffix.lower() if path is not None else ""
    matched: list[str] = []
    failure: BaseException | None = None
    for fmt in IMAGE_READ_FORMATS:
        if fmt == "TGA" and suffix not in _TGA_SUFFIXES:
            continue
        entry = Image.OPEN.get(fmt)
        if entry is None:  # decoder not built into this Pillow
            continue
        factory, accept = entry
        ok = accept(prefix) if accept else True
        if not ok or isinstance(ok, str):
            continue
        matched.append(fmt)
        # Two decoders allocate while opening: GIF grows the canvas to the
        # first frame, ICO decodes its largest image, whose real size may
        # exceed what its directory says. Check those sizes first.
        if fmt == "GIF":
            _check_pixels(label, _gif_first_frame_extent(fp), max_pixels)
        elif fmt == "ICO":
            _check_pixels(label, _ico_largest_embedded(fp), max_pixels, what="an image inside it")
        fp.seek(0)
        try:
            return factory(fp, filename)
        except Image.DecompressionBombError as e:
            raise _bomb_error(label, e, max_pixels) from None
        except MemoryError:
            raise
        except (SyntaxError, IndexError, TypeError, struct.error, EOFError, KeyError,
                OSError, ValueError) as e:
            failure = e  # the signature matched but the header did not parse
            continue
    if matched:
        text = str(failure).lower()
        truncated = (isinstance(failure, EOFError) or "truncated" in text
                     or _file_size(fp) < 64)
        raise ImageLoadError(
            f"Cannot open {label}: it looks like a {_FORMAT_NAMES[matched[0]]} file, "
            f"but its header is {'incomplete' if truncated else 'damaged'}.",
            path=label, kind="truncated" if truncated else "corrupt",
        )
    raise ImageLoadError(
        f"Cannot open {label}: it is not an image format Palette App can read "
        f"(supported: {_supported_list()}).",
        path=label, kind="unsupported_format",
    )


def _file_size(fp: IO[bytes]) -> int:
    fp.seek(0, os.SEEK_END)
    return fp.tell()


def _supported_list() -> str:
    names = [_FORMAT_NAMES[f] for f in IMAGE_READ_FORMATS if f in Image.OPEN]
    return ", ".join(names)


# ---------------------------------------------------------------------------
# Size and frame caps
# ---------------------------------------------------------------------------

def _megapixels(n: int) -> str:
    mp = n / 1e6
    if mp < 0.1:
        return f"{n:,} pixels"
    return f"{mp:,.0f} megapixels" if mp >= 10 else f"{mp:,.1f} megapixels"


def _limit(max_pixels: int) -> str:
    text = _megapixels(max_pixels)
    return f"{text} ({max_pixels:,} pixels)" if "mega" in text else text


def _check_size(im: Image.Image, fp: IO[bytes], label: str, max_pixels: int | None) -> None:
    w, h = im.size
    if w <= 0 or h <= 0:
        raise ImageLoadError(f"Cannot open {label}: the file says the image is {w} × {h} pixels.",
                             path=label, kind="corrupt")
    _check_pixels(label, (w, h), max_pixels)
    # libtiff allocates whole tiles, which can be declared larger than the image.
    if im.format == "TIFF":
        tags = getattr(im, "tag_v2", {})
        tile = (tags.get(322), tags.get(323))  # TileWidth, TileLength
        if all(isinstance(v, int) for v in tile):
            _check_pixels(label, tile, max_pixels, what="a tile of it")


def _check_pixels(label: str, size: tuple[int, int] | None, max_pixels: int | None,
                  what: str = "it") -> None:
    if size is None or max_pixels is None:
        return
    w, h = size
    if w * h > max_pixels:
        raise ImageLoadError(
            f"Cannot open {label}: {what} is {w:,} × {h:,} pixels ({_megapixels(w * h)}), "
            f"more than the limit of {_limit(max_pixels)}. "
            "Scale it down first, or raise the limit if you trust the file.",
            path=label, kind="too_large",
        )


def _bomb_error(label: str, e: Exception, max_pixels: int | None) -> ImageLoadError:
    """Pillow's own safety net fired (a frame or tile larger than the header said)."""
    m = re.search(r"\((\d+) pixels\)", str(e))
    claimed = f" ({_megapixels(int(m.group(1)))})" if m else ""
    limit = 2 * (Image.MAX_IMAGE_PIXELS or 0)
    if max_pixels is not None and (not limit or max_pixels < limit):
        limit = max_pixels
    return ImageLoadError(
        f"Cannot open {label}: part of it claims to be larger{claimed} than the limit of "
        f"{_megapixels(limit)}, too large to open safely.",
        path=label, kind="too_large",
    )


def _count_frames(im: Image.Image, fp: IO[bytes], limit: int | None) -> int:
    """Frames (or pages) in the file, counted without decoding; stops past ``limit``."""
    stop = None if limit is None else limit + 1
    if im.format == "GIF":
        return _count_gif_frames(fp, stop)
    if im.format == "TIFF":
        # Pillow's n_frames walks every IFD; walk at most ``stop`` of them.
        n = 1
        try:
            while stop is None or n < stop:
                im.seek(n)
                n += 1
        except EOFError:
            pass
        im.seek(0)
        return n
    # PNG (APNG), WebP, MPO, AVIF: the count is declared in the header.
    n = getattr(im, "n_frames", 1)
    return int(n) if isinstance(n, (int, np.integer)) and n >= 1 else 1


def _count_gif_frames(fp: IO[bytes], stop: int | None) -> int:
    """Count GIF image descriptors by walking the block structure (no LZW decoding)."""
    def skip_sub_blocks() -> bool:
        while True:
            n = fp.read(1)
            if not n:
                return False
            if n[0] == 0:
                return True
            fp.seek(n[0], os.SEEK_CUR)

    fp.seek(0)
    head = fp.read(13)
    if len(head) < 13:
        return 1
    if head[10] & 0x80:
        fp.seek(3 << ((head[10] & 7) + 1), os.SEEK_CUR)
    frames = 0
    while stop is None or frames < stop:
        b = fp.read(1)
        if not b or b == b";":
            break
        if b == b"!":
            if not fp.read(1) or not skip_sub_blocks():
                break
        elif b == b",":
            desc = fp.read(9)
            if len(desc) < 9:
                break
            if desc[8] & 0x80:
                fp.seek(3 << ((desc[8] & 7) + 1), os.SEEK_CUR)
            frames += 1
            if not fp.read(1) or not skip_sub_blocks():
                break
        # Anything else: Pillow skips stray bytes one at a time, and so do we.
    return max(frames, 1)


def _gif_first_frame_extent(fp: IO[bytes]) -> tuple[int, int] | None:
    """Canvas size once the first frame is placed: max(screen, frame extent)."""
    fp.seek(0)
    head = fp.read(13)
    if len(head) < 13:
        return None
    sw, sh = struct.unpack("<HH", head[6:10])
    if head[10] & 0x80:
        fp.seek(3 << ((head[10] & 7) + 1), os.SEEK_CUR)
    while True:
        b = fp.read(1)
        if not b or b == b";":
            return sw, sh
        if b == b"!":
            if not fp.read(1):
                return sw, sh
            while (n := fp.read(1)) and n[0]:
                fp.seek(n[0], os.SEEK_CUR)
            if not n:
                return sw, sh
        elif b == b",":
            desc = fp.read(8)
            if len(desc) < 8:
                return sw, sh
            x0, y0, w, h = struct.unpack("<HHHH", desc)
            return max(sw, x0 + w), max(sh, y0 + h)


def _ico_largest_embedded(fp: IO[bytes]) -> tuple[int, int] | None:
    """Largest image actually stored in an ICO file (its directory may claim less)."""
    fp.seek(0)
    head = fp.read(6)
    if len(head) < 6:
        return None
    count = struct.unpack("<H", head[4:6])[0]
    entries = fp.read(16 * count)
    largest: tuple[int, int] | None = None
    for i in range(len(entries) // 16):
        offset = struct.unpack("<I", entries[16 * i + 12:16 * i + 16])[0]
        fp.seek(offset)
        data = fp.read(24)
        if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
            w, h = struct.unpack(">II", data[16:24])
        elif len(data) >= 12:
            w, h = struct.unpack("<ii", data[4:12])
            w, h = abs(w), abs(h) // 2  # a DIB's height counts its AND mask too
        else:
            continue
        if largest is None or w * h > largest[0] * largest[1]:
            largest = (w, h)
    return largest


def _check_frames(im: Image.Image, fp: IO[bytes], label: str, max_frames: int | None) -> int:
    n = _count_frames(im, fp, max_frames)
    if max_frames is not None and n > max_frames:
        what = "pages" if im.format == "TIFF" else "frames"
        raise ImageLoadError(
            f"Cannot open {label}: it has more than {max_frames:,} {what} "
            f"(the limit is {max_frames:,}). Save a single frame or page as PNG, "
            "or raise the limit if you trust the file.",
            path=label, kind="too_many_frames",
        )
    return n


# ---------------------------------------------------------------------------
# Decoding and conversion
# ---------------------------------------------------------------------------

def _load(fp: IO[bytes], path: Path | None, label: str, max_pixels: int | None,
          max_frames: int | None, *, lenient: bool) -> LoadedImage:
    # The Pillow image is never closed here: that would close ``fp``, which the
    # caller owns (and may reuse for a lenient second attempt).
    im = _open_pillow(fp, path, label, max_pixels)
    _check_size(im, fp, label, max_pixels)
    n_frames = _check_frames(im, fp, label, max_frames)
    source_mode = im.mode
    fmt = im.format or "?"
    # Pillow applies a TIFF's own orientation tag while loading (and drops it).
    tiff_orientation = getattr(im, "tag_v2", {}).get(0x0112) if fmt == "TIFF" else None
    try:
        im.load()
    except Image.DecompressionBombError as e:
        raise _bomb_error(label, e, max_pixels) from None
    except MemoryError:
        raise
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error,
            TypeError, KeyError, ZeroDivisionError) as e:
        raise _damaged(label, e) from e
    notes: list[str] = []
    if lenient:
        notes.append("The file is incomplete or damaged; only the part that could be read was "
                     "loaded, the rest is filled in.")
    orientation = _orientation(im, notes)
    icc = im.info.get("icc_profile") or None
    img, alpha, had_alpha = _normalize_mode(im, label, notes)
    img = _to_srgb(img, icc, notes)

    pixels = np.asarray(img)
    if pixels.ndim == 2:  # gray without a profile
        pixels = np.repeat(pixels[:, :, None], 3, axis=2)
    if alpha is not None and not bool((alpha == 255).all()):
        pixels = np.concatenate([pixels, alpha[:, :, None]], axis=2)
    pixels = np.ascontiguousarray(_apply_orientation(pixels, orientation), dtype=np.uint8)
    if orientation not in (1, None) or tiff_orientation in (2, 3, 4, 5, 6, 7, 8):
        notes.append("Rotated or flipped as the camera's orientation tag says.")
    if fmt == "ICO" and len(im.info.get("sizes", ())) > 1:
        notes.append(f"The icon holds {len(im.info['sizes'])} sizes; the largest was loaded.")
    if n_frames > 1:
        what = {"TIFF": "pages", "MPO": "pictures"}.get(fmt, "frames")
        notes.append(f"The file has {n_frames} {what}; only the first was loaded.")
    h, w = pixels.shape[:2]
    return LoadedImage(
        pixels=pixels, format=fmt, size=(w, h), mode=source_mode, had_alpha=had_alpha,
        n_frames=n_frames, notes=tuple(notes), path=path,
    )


def _damaged(label: str, e: BaseException) -> ImageLoadError:
    text = str(e).lower()
    if "truncated" in text or "premature" in text or "end of file" in text or isinstance(e, EOFError):
        return ImageLoadError(
            f"Cannot open {label}: the file is incomplete (it ends before the image does); "
            "it may not have finished downloading or copying. You can choose to load the part "
            "that can be read.",
            path=label, kind="truncated",
        )
    return ImageLoadError(
        f"Cannot open {label}: the file is damaged (its image data is corrupt: {_reason(e)}). "
        "You can choose to load the part that can be read.",
        path=label, kind="corrupt",
    )


def _reason(e: BaseException) -> str:
    text = str(e).strip() or type(e).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def _orientation(im: Image.Image, notes: list[str]) -> int | None:
    """The EXIF (or XMP) orientation, 1..8, or None."""
    try:
        value = im.getexif().get(0x0112)
    except Exception:
        notes.append("The file's EXIF data is damaged and was ignored.")
        return None
    if isinstance(value, tuple) and value:  # some writers store a 1-tuple
        value = value[0]
    try:
        value = int(value)
    except (TypeError, ValueError):
        return None
    return value if 1 <= value <= 8 else None


def _apply_orientation(px: np.ndarray, orientation: int | None) -> np.ndarray:
    """Transpose (H, W, C) pixels as EXIF orientation 1..8 asks (as ``ImageOps.exif_transpose``)."""
    if orientation == 2:
        return px[:, ::-1]
    if orientation == 3:
        return px[::-1, ::-1]
    if orientation == 4:
        return px[::-1]
    if orientation == 5:
        return px.transpose(1, 0, 2)
    if orientation == 6:
        return np.rot90(px, k=-1)
    if orientation == 7:
        return px[::-1, ::-1].transpose(1, 0, 2)
    if orientation == 8:
        return np.rot90(px, k=1)
    return px


def _normalize_mode(im: Image.Image, label: str,
                    notes: list[str]) -> tuple[Image.Image, np.ndarray | None, bool]:
    """Split into an 8-bit L, RGB or CMYK image (what the ICC step handles) and alpha.

    Returns ``(color, alpha, had_alpha)``: ``alpha`` is an (H, W) uint8 array or
    None; ``had_alpha`` says the file had an alpha channel or transparency.
    """
    mode = im.mode
    if mode in ("P", "PA"):
        if mode == "PA" or im.has_transparency_data:
            rgba = im.convert("RGBA")
            return rgba.convert("RGB"), np.asarray(rgba.getchannel("A")), True
        return im.convert("RGB"), None, False
    if mode in ("RGBA", "RGBa", "LA", "La"):
        straight = im.convert({"RGBa": "RGBA", "La": "LA"}.get(mode, mode))
        color = straight.convert("RGB" if mode.startswith("RGB") else "L")
        return color, np.asarray(straight.getchannel("A")), True
    # Modes without an alpha channel; PNG may still name one transparent value (tRNS).
    trns = im.info.get("transparency")
    alpha = None
    if trns is not None and mode in ("1", "L", "RGB", "I", "I;16", "I;16B", "I;16L", "I;16N"):
        raw = np.asarray(im)
        key = np.asarray(trns, dtype=raw.dtype if raw.dtype != bool else np.int64)
        if mode == "1":
            raw = raw.astype(np.int64) * 255  # Pillow stores the tRNS gray of 1-bit data as 0/255
        hit = (raw == key).all(axis=-1) if raw.ndim == 3 else raw == key
        alpha = np.where(hit, 0, 255).astype(np.uint8)
    had_alpha = alpha is not None
    if mode in ("L", "RGB", "CMYK"):
        return im, alpha, had_alpha
    if mode == "1":
        return im.convert("L"), alpha, had_alpha
    if mode in ("RGBX", "YCbCr"):
        return im.convert("RGB"), alpha, had_alpha
    if mode == "LAB":
        lab_to_srgb = ImageCms.buildTransform(ImageCms.createProfile("LAB"), _srgb_profile(),
                                              "LAB", "RGB")
        return ImageCms.applyTransform(im, lab_to_srgb), alpha, had_alpha
    if mode.startswith("I;16") or mode in ("I", "F"):
        return Image.fromarray(_scale_to_uint8(np.asarray(im), mode, notes)), alpha, had_alpha
    raise ImageLoadError(
        f"Cannot open {label}: its pixel format ({mode}) is not one Palette App can convert.",
        path=label, kind="unsupported_mode",
    )


def _scale_to_uint8(a: np.ndarray, mode: str, notes: list[str]) -> np.ndarray:
    """Scale 16-bit, 32-bit integer or float gray data to uint8 (never clamp).

    16-bit data (``I;16*``, or ``I`` within 0..65535) maps 0..65535 to 0..255.
    Float data within 0..1 maps to 0..255. Anything else is stretched from its
    own minimum and maximum, with a note.
    """
    a = a.astype(np.float64)
    finite = np.isfinite(a)
    if not finite.all():
        notes.append("Pixels that were not numbers (NaN or infinite) were set to black.")
        a = np.where(finite, a, np.nan)
    lo = float(np.nanmin(a)) if finite.any() else 0.0
    hi = float(np.nanmax(a)) if finite.any() else 0.0
    if mode.startswith("I;16") or (mode == "I" and lo >= 0 and hi <= 65535):
        scaled = a * (255.0 / 65535.0)
    elif mode == "F" and lo >= 0 and hi <= 1:
        scaled = a * 255.0
    else:
        if hi > lo:
            scaled = (a - lo) * (255.0 / (hi - lo))
        else:
            scaled = np.zeros_like(a)
        kind = "floating-point" if mode == "F" else "32-bit"
        notes.append(f"The {kind} values ({lo:g} to {hi:g}) were stretched to the 0–255 range.")
    scaled = np.nan_to_num(scaled, nan=0.0)
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


_SRGB_LOCK = threading.Lock()
_SRGB: ImageCms.ImageCmsProfile | None = None


def _srgb_profile() -> ImageCms.ImageCmsProfile:
    global _SRGB
    with _SRGB_LOCK:
        if _SRGB is None:
            _SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
        return _SRGB


def _to_srgb(img: Image.Image, icc: bytes | None, notes: list[str]) -> Image.Image:
    """Convert L, RGB or CMYK through the embedded ICC profile to sRGB.

    Returns RGB, or L for a gray image without a usable profile.
    """
    mode = img.mode

    def fallback() -> Image.Image:
        return img.convert("RGB") if mode == "CMYK" else img

    if not icc:
        if mode == "CMYK":
            notes.append("The CMYK image has no color profile; its colors were converted with a "
                         "simple formula and may differ from what print software shows.")
        return fallback()
    try:
        src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        space = src.profile.xcolor_space.strip()
        description = (src.profile.profile_description or "").strip()
    except Exception:
        notes.append("The embedded color profile is damaged and was ignored; colors are shown as sRGB.")
        return fallback()
    expected = {"L": "GRAY", "RGB": "RGB", "CMYK": "CMYK"}[mode]
    if space != expected:
        notes.append(f"The embedded color profile ({description or space}) does not match the "
                     "image's colors and was ignored.")
        return fallback()
    if space == "RGB" and "srgb" in description.lower().replace(" ", ""):
        return img  # already sRGB: a transform could only add rounding
    try:
        transform = ImageCms.buildTransform(src, _srgb_profile(), mode, "RGB",
                                            renderingIntent=ImageCms.Intent.PERCEPTUAL)
        out = ImageCms.applyTransform(img, transform)
    except Exception:
        notes.append("The embedded color profile could not be used and was ignored; "
                     "colors are shown as sRGB.")
        return fallback()
    assert out is not None  # applyTransform returns a new image unless inPlace
    notes.append(f"Colors converted from the embedded profile “{description or space}” to sRGB.")
    return out
