"""Fuzz load_image with mutated valid files: only ImageLoadError may ever escape.

Hypothesis mutates small valid files of every allowed format (bit flips, byte
overwrites, truncation, insertion, deletion, chunk duplication). Each mutant
either loads into a well-formed LoadedImage or raises ImageLoadError with a
message; anything else fails the test. A small ``max_pixels`` keeps mutated
headers from asking for huge (legal) allocations.
"""
from __future__ import annotations

import io
import os
import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, features

from palette_app.io import ImageLoadError, LoadedImage, load_image

# Pillow's own UserWarnings about damaged metadata are expected noise on mutated
# files (only these modules; our PaletteAppWarning stays an error).
pytestmark = [pytest.mark.filterwarnings(f"ignore::UserWarning:PIL.{m}") for m in (
    "Image", "ImageFile", "TiffImagePlugin", "IcoImagePlugin", "JpegImagePlugin",
    "PngImagePlugin", "GifImagePlugin", "WebPImagePlugin", "BmpImagePlugin", "MpoImagePlugin",
)]


def _photo(w=12, h=9, alpha=False) -> Image.Image:
    y, x = np.mgrid[0:h, 0:w]
    ch = [x * 20, y * 25, (x * y) % 256] + ([(x + y) * 10] if alpha else [])
    return Image.fromarray(np.stack(ch, -1).astype(np.uint8))


def _encode(im, fmt, **kw) -> bytes:
    b = io.BytesIO()
    im.save(b, fmt, **kw)
    return b.getvalue()


def _seeds() -> dict[str, bytes]:
    rgb, rgba = _photo(), _photo(alpha=True)
    exif = Image.Exif()
    exif[0x0112] = 6
    pal = rgb.convert("P", palette=Image.Palette.ADAPTIVE, colors=8)
    frames = [_photo(6, 5), _photo(6, 5).transpose(Image.Transpose.FLIP_LEFT_RIGHT)]
    from PIL import ImageCms

    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    seeds = {
        "png-rgb": _encode(rgb, "PNG"),
        "png-rgba-icc": _encode(rgba, "PNG", icc_profile=icc),
        "png-p-trns": _encode(pal, "PNG", transparency=3),
        "png-16": _encode(Image.fromarray(np.arange(108, dtype=np.uint16).reshape(9, 12) * 600), "PNG"),
        "apng": _encode(frames[0], "PNG", save_all=True, append_images=frames[1:]),
        "jpeg-exif": _encode(rgb, "JPEG", quality=80, exif=exif.tobytes()),
        "jpeg-cmyk": _encode(rgb.convert("CMYK"), "JPEG", quality=80),
        "jpeg-progressive": _encode(rgb, "JPEG", progressive=True),
        "gif-anim": _encode(frames[0], "GIF", save_all=True, append_images=frames[1:]),
        "webp-lossless": _encode(rgba, "WEBP", lossless=True),
        "webp-lossy": _encode(rgb, "WEBP", quality=50),
        "tiff-lzw": _encode(rgb, "TIFF", compression="tiff_lzw"),
        "tiff-raw-2pages": _encode(frames[0], "TIFF", save_all=True, append_images=frames[1:]),
        "bmp-8": _encode(pal, "BMP"),
        "bmp-24": _encode(rgb, "BMP"),
        "ico": _encode(rgba.resize((16, 16)), "ICO", sizes=[(16, 16)]),
        "qoi": _encode(rgba, "QOI"),
        "ppm": _encode(rgb, "PPM"),
    }
    if features.check("avif"):
        seeds["avif"] = _encode(rgb, "AVIF", quality=50)
    return seeds


SEEDS = _seeds()


@st.composite
def mutants(draw, seed_names=tuple(SEEDS)):
    name = draw(st.sampled_from(seed_names))
    data = bytearray(SEEDS[name])
    for _ in range(draw(st.integers(1, 4))):
        n = len(data)
        if n == 0:
            break
        op = draw(st.sampled_from(["flip", "byte", "truncate", "insert", "delete", "dup", "int"]))
        i = draw(st.integers(0, n - 1))
        if op == "flip":
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif op == "byte":
            data[i] = draw(st.integers(0, 255))
        elif op == "truncate":
            del data[i:]
        elif op == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=16))
        elif op == "delete":
            del data[i:i + draw(st.integers(1, 16))]
        elif op == "dup":
            j = draw(st.integers(i, min(n, i + 64)))
            data[j:j] = data[i:j]
        elif op == "int" and i + 4 <= n:
            # Header fields are mostly 16/32-bit ints: try the interesting values.
            v = draw(st.sampled_from([0, 1, 0x7F, 0xFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF]))
            data[i:i + 4] = struct.pack(draw(st.sampled_from([">I", "<I"])), v)
    return name, bytes(data)


def _check_outcome(data: bytes, **kwargs) -> None:
    try:
        img = load_image(data, max_pixels=1 << 20, max_frames=64, **kwargs)
    except ImageLoadError as e:
        assert str(e).startswith("Cannot open ")
        assert e.kind in ImageLoadError.KINDS
        return
    assert isinstance(img, LoadedImage)
    px = img.pixels
    assert px.dtype == np.uint8 and px.flags.c_contiguous
    assert px.ndim == 3 and px.shape[2] in (3, 4)
    assert img.size == (px.shape[1], px.shape[0]) and px.shape[0] * px.shape[1] <= 1 << 20
    assert all(isinstance(n, str) and n for n in img.notes)


def test_every_seed_loads():
    for name, data in SEEDS.items():
        img = load_image(data)
        assert img.size[0] > 0, name


# PALETTE_FUZZ_EXAMPLES=20000 runs a longer campaign (the default keeps the suite fast).
N_EXAMPLES = int(os.environ.get("PALETTE_FUZZ_EXAMPLES", "400"))
FUZZ = settings(max_examples=N_EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@FUZZ
@given(mutants())
def test_mutated_files_raise_only_image_load_error(case):
    _check_outcome(case[1])


@settings(FUZZ, max_examples=max(1, N_EXAMPLES // 2))
@given(mutants())
def test_mutated_files_lenient_mode(case):
    _check_outcome(case[1], allow_truncated=True)


@settings(FUZZ, max_examples=max(1, N_EXAMPLES // 2))
@given(st.binary(max_size=256))
def test_arbitrary_bytes(data):
    _check_outcome(data)


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_every_truncation_point_of_small_seeds(name):
    """Exhaustive over cut positions (strided for the larger files)."""
    data = SEEDS[name]
    step = max(1, len(data) // 150)
    for cut in range(0, len(data), step):
        _check_outcome(data[:cut])
