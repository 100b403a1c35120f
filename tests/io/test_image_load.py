"""load_image on a corpus of real files in every mode and format, checked pixel for pixel.

Every file is generated here (Pillow, or by hand where Pillow cannot write the
variant), and every expected result is computed independently of the loader:
numpy lookups and scalings, ``ImageOps.exif_transpose``, ``ImageCms`` applied
directly, or plain colorimetric math.
"""
from __future__ import annotations

import io
import struct
import threading
import zlib

import numpy as np
import pytest
from PIL import Image, ImageCms, ImageFile, ImageOps, features

from palette_app.io import IMAGE_READ_FORMATS, ImageLoadError, LoadedImage, load_image

RNG_SEED = 20240611


@pytest.fixture
def rng():
    return np.random.default_rng(RNG_SEED)


# ---------------------------------------------------------------------------
# File builders
# ---------------------------------------------------------------------------

def encode(im: Image.Image, fmt: str, **params) -> bytes:
    b = io.BytesIO()
    im.save(b, fmt, **params)
    return b.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def raw_png(width: int, height: int, bit_depth: int, color_type: int, raw_rows: bytes,
            extra: list[tuple[bytes, bytes]] = ()) -> bytes:
    """A PNG built by hand (Pillow cannot write 16-bit RGB); rows unfiltered."""
    stride = len(raw_rows) // height
    filtered = b"".join(b"\0" + raw_rows[y * stride:(y + 1) * stride] for y in range(height))
    out = b"\x89PNG\r\n\x1a\n"
    out += png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0))
    for kind, data in extra:
        out += png_chunk(kind, data)
    out += png_chunk(b"IDAT", zlib.compress(filtered))
    out += png_chunk(b"IEND", b"")
    return out


# -- ICC profiles built by hand (ImageCms can only create sRGB, LAB and XYZ) --

def _s15(x: float) -> bytes:
    return struct.pack(">i", int(round(x * 65536)))


def _xyz(x, y, z) -> bytes:
    return b"XYZ \0\0\0\0" + _s15(x) + _s15(y) + _s15(z)


def _desc(text: str) -> bytes:
    a = text.encode("ascii") + b"\0"
    return b"desc\0\0\0\0" + struct.pack(">I", len(a)) + a + b"\0" * 8 + b"\0\0\0" + b"\0" * 67


def _icc(device_class: bytes, space: bytes, pcs: bytes, tags: list[tuple[bytes, bytes]]) -> bytes:
    offset = 128 + 4 + 12 * len(tags)
    table = data = b""
    for sig, payload in tags:
        data += b"\0" * (-(offset + len(data)) % 4)
        table += sig + struct.pack(">II", offset + len(data), len(payload))
        data += payload
    data += b"\0" * (-len(data) % 4)
    header = (struct.pack(">I", offset + len(data)) + b"\0" * 4 + bytes([2, 0x10, 0, 0])
              + device_class + space + pcs + b"\0" * 12 + b"acsp" + b"\0" * 28
              + _s15(0.9642) + _s15(1.0) + _s15(0.8249) + b"\0" * 48)
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + data


# Adobe RGB (1998) primaries adapted to D50 (Lindbloom), gamma 563/256.
ADOBE_D50 = np.array([[0.6097559, 0.2052401, 0.1492240],
                      [0.3111242, 0.6256560, 0.0632197],
                      [0.0194811, 0.0608902, 0.7448387]])
ADOBE_GAMMA = 563 / 256
SRGB_D50 = np.array([[0.4360747, 0.3850649, 0.1430804],
                     [0.2225045, 0.7168786, 0.0606169],
                     [0.0139322, 0.0971045, 0.7141733]])


def adobe_rgb_icc() -> bytes:
    curve = b"curv\0\0\0\0" + struct.pack(">IH", 1, 563) + b"\0\0"
    return _icc(b"mntr", b"RGB ", b"XYZ ", [
        (b"desc", _desc("Test Adobe RGB")), (b"cprt", b"text\0\0\0\0none\0"),
        (b"wtpt", _xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", _xyz(*ADOBE_D50[:, 0])), (b"gXYZ", _xyz(*ADOBE_D50[:, 1])),
        (b"bXYZ", _xyz(*ADOBE_D50[:, 2])),
        (b"rTRC", curve), (b"gTRC", curve), (b"bTRC", curve),
    ])


def adobe_to_srgb_reference(rgb: np.ndarray) -> np.ndarray:
    """Adobe RGB → sRGB by plain colorimetry (no lcms): linearize, matrices, encode."""
    lin = (rgb.astype(np.float64) / 255.0) ** ADOBE_GAMMA
    srgb_lin = lin @ (np.linalg.inv(SRGB_D50) @ ADOBE_D50).T
    c = np.clip(srgb_lin, 0.0, 1.0)
    enc = np.where(c <= 0.0031308, 12.92 * c, 1.055 * c ** (1 / 2.4) - 0.055)
    return np.rint(enc * 255.0)


def _srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    c = np.asarray(rgb, float) / 255
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    xyz = lin @ SRGB_D50.T / np.array([0.9642, 1.0, 0.8249])
    f = np.where(xyz > 216 / 24389, np.cbrt(xyz), (24389 / 27 * xyz + 16) / 116)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]),
                     200 * (f[..., 1] - f[..., 2])], -1)


def cmyk_icc() -> bytes:
    """A tiny CMYK output profile: a 2-point lut8 A2B0 table to Lab."""
    corners = []
    for c in (0, 1):
        for m in (0, 1):
            for y in (0, 1):
                for k in (0, 1):
                    rgb = 255 * np.array([(1 - c) * (1 - k), (1 - m) * (1 - k), (1 - y) * (1 - k)])
                    L, a, b = _srgb_to_lab(rgb)
                    corners.append([L * 255 / 100, a + 128, b + 128])
    clut = np.clip(np.rint(corners), 0, 255).astype(np.uint8).tobytes()
    ident = bytes(range(256))
    lut = (b"mft1\0\0\0\0" + bytes([4, 3, 2, 0]) + b"".join(_s15(v) for v in (1, 0, 0, 0, 1, 0, 0, 0, 1))
           + ident * 4 + clut + ident * 3)
    return _icc(b"prtr", b"CMYK", b"Lab ", [
        (b"desc", _desc("Test CMYK")), (b"cprt", b"text\0\0\0\0none\0"),
        (b"wtpt", _xyz(0.9642, 1.0, 0.8249)), (b"A2B0", lut),
    ])


def srgb() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def rgb_image(rng, w=23, h=17) -> np.ndarray:
    return rng.integers(0, 256, (h, w, 3), dtype=np.uint8)


def smooth_rgb(w=48, h=32) -> np.ndarray:
    """A smooth gradient: survives JPEG with small errors."""
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([x * 255 // (w - 1), y * 255 // (h - 1), (x + y) * 255 // (w + h - 2)],
                    -1).astype(np.uint8)


def check(img: LoadedImage, expected: np.ndarray, *, fmt: str | None = None, mode: str | None = None):
    assert isinstance(img, LoadedImage)
    px = img.pixels
    assert px.dtype == np.uint8 and px.flags.c_contiguous
    assert px.ndim == 3 and px.shape[2] in (3, 4)
    assert img.size == (px.shape[1], px.shape[0])
    if fmt is not None:
        assert img.format == fmt
    if mode is not None:
        assert img.mode == mode
    assert px.shape == expected.shape, (px.shape, expected.shape)
    np.testing.assert_array_equal(px, expected)


# ---------------------------------------------------------------------------
# PNG in every mode
# ---------------------------------------------------------------------------

def test_png_rgb_and_rgba_exact(rng):
    rgb = rgb_image(rng)
    check(load_image(encode(Image.fromarray(rgb), "PNG")), rgb, fmt="PNG", mode="RGB")
    rgba = np.concatenate([rgb, rng.integers(0, 256, rgb.shape[:2] + (1,), dtype=np.uint8)], 2)
    img = load_image(encode(Image.fromarray(rgba), "PNG"))
    check(img, rgba, mode="RGBA")
    assert img.had_alpha and img.has_alpha and img.notes == ()


def test_opaque_alpha_channel_is_dropped_but_reported(rng):
    rgb = rgb_image(rng)
    rgba = np.concatenate([rgb, np.full(rgb.shape[:2] + (1,), 255, np.uint8)], 2)
    img = load_image(encode(Image.fromarray(rgba), "PNG"))
    check(img, rgb, mode="RGBA")
    assert img.had_alpha and not img.has_alpha


def test_png_gray_modes(rng):
    gray = rng.integers(0, 256, (9, 14), dtype=np.uint8)
    check(load_image(encode(Image.fromarray(gray), "PNG")), np.repeat(gray[..., None], 3, 2), mode="L")
    a = rng.integers(0, 256, gray.shape, dtype=np.uint8)
    la = Image.merge("LA", [Image.fromarray(gray), Image.fromarray(a)])
    check(load_image(encode(la, "PNG")), np.dstack([gray, gray, gray, a]), mode="LA")
    bits = rng.integers(0, 2, gray.shape).astype(bool)
    one = Image.fromarray(bits)
    assert one.mode == "1"
    want = np.repeat(np.where(bits, 255, 0).astype(np.uint8)[..., None], 3, 2)
    check(load_image(encode(one, "PNG")), want, mode="1")


def test_png_palette_without_and_with_trns(rng):
    k = 7
    pal = rng.integers(0, 256, (k, 3), dtype=np.uint8)
    idx = rng.integers(0, k, (11, 13), dtype=np.uint8)
    im = Image.fromarray(idx, "L").convert("P")
    im.putpalette(pal.tobytes())
    check(load_image(encode(im, "PNG")), pal[idx], mode="P")
    alpha = np.array([255, 0, 128, 255, 7, 255, 255], np.uint8)
    img = load_image(encode(im, "PNG", transparency=alpha.tobytes()))
    check(img, np.dstack([pal[idx], alpha[idx]]), mode="P")
    assert img.had_alpha


def test_png_single_transparent_gray_and_rgb_values(rng):
    gray = rng.integers(0, 4, (6, 8), dtype=np.uint8) * 60
    data = encode(Image.fromarray(gray), "PNG", transparency=60)
    img = load_image(data)
    check(img, np.dstack([gray, gray, gray, np.where(gray == 60, 0, 255).astype(np.uint8)]))
    rgb = np.zeros((5, 4, 3), np.uint8)
    rgb[::2, ::2] = (10, 20, 30)
    rgb[1::2] = (10, 20, 31)
    data = encode(Image.fromarray(rgb), "PNG", transparency=(10, 20, 30))
    hit = (rgb == (10, 20, 30)).all(-1)
    check(load_image(data), np.dstack([rgb, np.where(hit, 0, 255).astype(np.uint8)]))


def test_png_16bit_gray_is_scaled_not_clamped():
    v = np.linspace(0, 65535, 64).astype(np.uint16).reshape(4, 16)
    img = load_image(encode(Image.fromarray(v), "PNG"))
    want = np.rint(v.astype(np.float64) * 255 / 65535).astype(np.uint8)
    check(img, np.repeat(want[..., None], 3, 2), mode="I;16")
    assert img.pixels.max() == 255 and img.pixels.min() == 0


def test_png_16bit_gray_with_trns():
    v = np.array([[0, 1000, 65535], [1000, 2, 3]], np.uint16)
    data = raw_png(3, 2, 16, 0, v.astype(">u2").tobytes(), [(b"tRNS", struct.pack(">H", 1000))])
    img = load_image(data)
    want = np.rint(v.astype(np.float64) * 255 / 65535).astype(np.uint8)
    check(img, np.dstack([want, want, want, np.where(v == 1000, 0, 255).astype(np.uint8)]))


@pytest.mark.parametrize("with_alpha", [False, True])
def test_png_16bit_rgb(rng, with_alpha):
    # Pillow keeps the high byte of each 16-bit sample; that is the reference
    # here, and it is never more than one level from exact rounding.
    ch = 4 if with_alpha else 3
    v = rng.integers(0, 65536, (5, 7, ch), dtype=np.uint16)
    v[0, 0] = 65535
    v[0, 1] = 0
    data = raw_png(7, 5, 16, 6 if with_alpha else 2, v.astype(">u2").tobytes())
    img = load_image(data)
    want = (v >> 8).astype(np.uint8)
    check(img, want)
    exact = np.rint(v / 257.0)
    assert np.abs(img.pixels.astype(int) - exact).max() <= 1


def test_png_low_bit_depth_gray():
    v = np.array([[0, 1, 2, 3, 3, 2, 1, 0]], np.uint8)
    packed = bytes([(0 << 6) | (1 << 4) | (2 << 2) | 3, (3 << 6) | (2 << 4) | (1 << 2) | 0])
    img = load_image(raw_png(8, 1, 2, 0, packed))
    want = (v * 85).astype(np.uint8)
    check(img, np.repeat(want[..., None], 3, 2))


# ---------------------------------------------------------------------------
# JPEG, CMYK, color profiles
# ---------------------------------------------------------------------------

def test_jpeg_rgb_and_gray_match_the_decoder():
    rgb = smooth_rgb()
    data = encode(Image.fromarray(rgb), "JPEG", quality=92)
    ref = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    img = load_image(data)
    check(img, ref, fmt="JPEG", mode="RGB")
    assert np.abs(img.pixels.astype(int) - rgb).mean() < 2
    gray = rgb[..., 0]
    data = encode(Image.fromarray(gray), "JPEG", quality=92)
    ref = np.asarray(Image.open(io.BytesIO(data)))
    check(load_image(data), np.repeat(ref[..., None], 3, 2), mode="L")


def _cmyk_image() -> Image.Image:
    y, x = np.mgrid[0:16, 0:32]
    cmyk = np.stack([x * 8, y * 16, (x + y) * 5, (x * y) % 97], -1).astype(np.uint8)
    return Image.fromarray(cmyk, "CMYK")


def test_inverted_adobe_cmyk_jpeg_without_profile():
    src = _cmyk_image()
    data = encode(src, "JPEG", quality=100)
    assert b"Adobe" in data[:200]  # APP14: the CMYK samples are stored inverted
    img = load_image(data)
    assert img.mode == "CMYK" and img.format == "JPEG"
    want = np.asarray(src.convert("RGB")).astype(int)
    # Lossy, but an un-inverted reading would be off by ~255 - 2v everywhere.
    assert np.abs(img.pixels.astype(int) - want).mean() < 2.5
    assert any("CMYK" in n and "profile" in n for n in img.notes)


def test_cmyk_jpeg_with_profile_goes_through_the_profile():
    src = _cmyk_image()
    icc = cmyk_icc()
    data = encode(src, "JPEG", quality=100, icc_profile=icc)
    img = load_image(data)
    decoded = Image.open(io.BytesIO(data))
    decoded.load()
    prof = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    ref = ImageCms.profileToProfile(decoded, prof, srgb(), outputMode="RGB",
                                    renderingIntent=ImageCms.Intent.PERCEPTUAL)
    check(img, np.asarray(ref))
    from_original = np.asarray(ImageCms.profileToProfile(src, prof, srgb(), outputMode="RGB"))
    assert np.abs(img.pixels.astype(int) - from_original).mean() < 2.5
    assert any("Test CMYK" in n for n in img.notes)
    # Paper white and full black land where the profile puts them.
    corner = Image.fromarray(np.array([[[0, 0, 0, 0], [0, 0, 0, 255]]], np.uint8), "CMYK")
    out = load_image(encode(corner, "TIFF", icc_profile=icc)).pixels
    assert out[0, 0].min() >= 250 and out[0, 1].max() <= 5


def test_adobe_rgb_profile_converted_to_srgb(rng):
    rgb = rng.integers(0, 256, (12, 20, 3), dtype=np.uint8)
    data = encode(Image.fromarray(rgb), "PNG", icc_profile=adobe_rgb_icc())
    img = load_image(data)
    ref = ImageCms.profileToProfile(Image.fromarray(rgb), ImageCms.ImageCmsProfile(
        io.BytesIO(adobe_rgb_icc())), srgb(), outputMode="RGB")
    check(img, np.asarray(ref))
    # And lcms agrees with plain colorimetry (lcms works in 16 bits).
    assert np.abs(img.pixels.astype(int) - adobe_to_srgb_reference(rgb)).max() <= 2
    assert any("Test Adobe RGB" in n and "sRGB" in n for n in img.notes)
    assert not np.array_equal(img.pixels, rgb)


def test_profile_keeps_alpha(rng):
    rgba = rng.integers(0, 256, (6, 9, 4), dtype=np.uint8)
    data = encode(Image.fromarray(rgba), "PNG", icc_profile=adobe_rgb_icc())
    img = load_image(data)
    assert img.pixels.shape == (6, 9, 4)
    np.testing.assert_array_equal(img.pixels[..., 3], rgba[..., 3])
    assert np.abs(img.pixels[..., :3].astype(int) - adobe_to_srgb_reference(rgba[..., :3])).max() <= 2


def test_srgb_profile_leaves_pixels_alone(rng):
    rgb = rgb_image(rng)
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    img = load_image(encode(Image.fromarray(rgb), "PNG", icc_profile=icc))
    check(img, rgb)
    assert img.notes == ()


@pytest.mark.parametrize("icc", [b"garbage" * 20, None], ids=["garbage", "truncated"])
def test_broken_profile_is_dropped_with_a_note(rng, icc):
    rgb = rgb_image(rng)
    if icc is None:
        icc = adobe_rgb_icc()[:150]
    img = load_image(encode(Image.fromarray(rgb), "PNG", icc_profile=icc))
    check(img, rgb)
    assert any("profile" in n and "ignored" in n for n in img.notes)


def test_profile_of_the_wrong_kind_is_ignored(rng):
    gray = rng.integers(0, 256, (5, 5), dtype=np.uint8)
    img = load_image(encode(Image.fromarray(gray), "PNG", icc_profile=adobe_rgb_icc()))
    check(img, np.repeat(gray[..., None], 3, 2))
    assert any("does not match" in n for n in img.notes)


# ---------------------------------------------------------------------------
# Orientation
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied(rng, orientation):
    rgb = rgb_image(rng, w=7, h=4)
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = encode(Image.fromarray(rgb), "PNG", exif=exif.tobytes())
    img = load_image(data)
    ref = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
    check(img, np.asarray(ref.convert("RGB")))
    # Independently: where the stored top-left pixel must end up.
    where = {1: (0, 0), 2: (0, -1), 3: (-1, -1), 4: (-1, 0),
             5: (0, 0), 6: (0, -1), 7: (-1, -1), 8: (-1, 0)}[orientation]
    np.testing.assert_array_equal(img.pixels[where], rgb[0, 0])
    assert img.size == ((4, 7) if orientation >= 5 else (7, 4))
    assert any("orientation" in n for n in img.notes) == (orientation != 1)


@pytest.mark.parametrize("orientation", [3, 6, 7])
def test_tiff_orientation_tag(rng, orientation):
    # Pillow rotates TIFFs itself while loading; it must happen exactly once.
    rgb = rgb_image(rng, w=7, h=4)
    data = encode(Image.fromarray(rgb), "TIFF", tiffinfo={0x0112: orientation})
    img = load_image(data)
    ref = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
    check(img, np.asarray(ref.convert("RGB")))
    independent = {3: rgb[::-1, ::-1], 6: np.rot90(rgb, -1), 7: rgb[::-1, ::-1].transpose(1, 0, 2)}
    np.testing.assert_array_equal(img.pixels, independent[orientation])
    assert any("orientation" in n for n in img.notes)


def test_jpeg_exif_orientation():
    rgb = smooth_rgb()
    exif = Image.Exif()
    exif[0x0112] = 6
    img = load_image(encode(Image.fromarray(rgb), "JPEG", quality=95, exif=exif.tobytes()))
    assert img.size == (32, 48)
    assert np.abs(img.pixels.astype(int) - np.rot90(rgb, -1)).mean() < 2


# ---------------------------------------------------------------------------
# TIFF: high bit depths, float, CMYK, YCbCr, LAB, pages
# ---------------------------------------------------------------------------

def test_tiff_rgb_cmyk_ycbcr_lab(rng):
    rgb = rgb_image(rng)
    check(load_image(encode(Image.fromarray(rgb), "TIFF")), rgb, fmt="TIFF", mode="RGB")
    cmyk = Image.fromarray(rng.integers(0, 256, (5, 6, 4), dtype=np.uint8), "CMYK")
    check(load_image(encode(cmyk, "TIFF")), np.asarray(cmyk.convert("RGB")), mode="CMYK")
    ycc = Image.fromarray(rgb).convert("YCbCr")
    data = encode(ycc, "TIFF")
    decoded = Image.open(io.BytesIO(data))
    assert decoded.mode == "YCbCr"
    check(load_image(data), np.asarray(decoded.convert("RGB")), mode="YCbCr")
    lab = ImageCms.profileToProfile(Image.fromarray(rgb), srgb(), ImageCms.createProfile("LAB"),
                                    outputMode="LAB")
    img = load_image(encode(lab, "TIFF"))
    assert img.mode == "LAB"
    assert np.abs(img.pixels.astype(int) - rgb).mean() < 2


def test_tiff_16bit_and_32bit_integer_are_scaled():
    v16 = np.linspace(0, 65535, 30).astype(np.uint16).reshape(5, 6)
    img = load_image(encode(Image.fromarray(v16), "TIFF"))
    want = np.rint(v16.astype(np.float64) * 255 / 65535).astype(np.uint8)
    check(img, np.repeat(want[..., None], 3, 2), mode="I;16")
    # 32-bit data within the 16-bit range: scaled as 16-bit, not clamped at 255.
    i32 = v16.astype(np.int32)
    check(load_image(encode(Image.fromarray(i32), "TIFF")), np.repeat(want[..., None], 3, 2), mode="I")
    # Beyond 16 bits (or negative): stretched from min..max, with a note.
    wide = (np.arange(30, dtype=np.int32).reshape(5, 6) - 10) * 100_000
    img = load_image(encode(Image.fromarray(wide), "TIFF"))
    want = np.rint((wide - wide.min()) * 255 / (wide.max() - wide.min())).astype(np.uint8)
    check(img, np.repeat(want[..., None], 3, 2))
    assert any("stretched" in n for n in img.notes)


def test_tiff_float():
    f = np.linspace(0, 1, 24, dtype=np.float32).reshape(4, 6)
    img = load_image(encode(Image.fromarray(f), "TIFF"))
    want = np.rint(f.astype(np.float64) * 255).astype(np.uint8)
    check(img, np.repeat(want[..., None], 3, 2), mode="F")
    assert img.notes == ()
    g = f * 1000 - 250
    g[0, 0] = np.nan
    img = load_image(encode(Image.fromarray(g), "TIFF"))
    finite = g[np.isfinite(g)]
    want = np.rint((g - finite.min()) * 255 / (finite.max() - finite.min()))
    want = np.nan_to_num(want, nan=0).astype(np.uint8)
    check(img, np.repeat(want[..., None], 3, 2))
    assert any("NaN" in n for n in img.notes) and any("stretched" in n for n in img.notes)


def test_multipage_tiff_first_page_and_note(rng):
    pages = [Image.fromarray(rgb_image(rng)) for _ in range(3)]
    data = encode(pages[0], "TIFF", save_all=True, append_images=pages[1:])
    img = load_image(data)
    check(img, np.asarray(pages[0]))
    assert img.n_frames == 3 and img.animated
    assert any("3 pages" in n for n in img.notes)


# ---------------------------------------------------------------------------
# GIF, WebP, APNG, BMP, ICO, MPO and the smaller formats
# ---------------------------------------------------------------------------

def _palette_image(rng, k=6, w=10, h=8):
    pal = rng.integers(0, 256, (k, 3), dtype=np.uint8)
    idx = rng.integers(0, k, (h, w), dtype=np.uint8)
    im = Image.fromarray(idx, "L").convert("P")
    im.putpalette(pal.tobytes())
    return im, pal, idx


def test_gif_with_transparency(rng):
    im, pal, idx = _palette_image(rng)
    img = load_image(encode(im, "GIF", transparency=2))
    alpha = np.where(idx == 2, 0, 255).astype(np.uint8)
    check(img, np.dstack([pal[idx], alpha]), fmt="GIF", mode="P")
    assert img.n_frames == 1 and not img.animated


def test_animated_gif_apng_webp_first_frame_and_note(rng):
    frames = [Image.fromarray(np.full((6, 5, 3), v, np.uint8)) for v in (10, 120, 240)]
    for fmt, params in (("GIF", {}), ("PNG", {}), ("WEBP", {"lossless": True})):
        data = encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100,
                      **params)
        img = load_image(data)
        assert img.format == fmt
        assert img.n_frames == 3 and img.animated, fmt
        np.testing.assert_array_equal(img.pixels, np.full((6, 5, 3), 10, np.uint8))
        assert any("3 frames" in n and "first" in n for n in img.notes)


def test_webp_lossless(rng):
    rgba = rng.integers(0, 256, (7, 9, 4), dtype=np.uint8)
    rgba[..., 3] = np.where(rgba[..., 3] > 128, 255, rgba[..., 3])
    img = load_image(encode(Image.fromarray(rgba), "WEBP", lossless=True, exact=True))
    check(img, rgba, fmt="WEBP")


def test_bmp_modes(rng):
    rgb = rgb_image(rng)
    check(load_image(encode(Image.fromarray(rgb), "BMP")), rgb, fmt="BMP")
    im, pal, idx = _palette_image(rng)
    check(load_image(encode(im, "BMP")), pal[idx], mode="P")
    bits = rng.integers(0, 2, (5, 9)).astype(bool)
    want = np.repeat(np.where(bits, 255, 0).astype(np.uint8)[..., None], 3, 2)
    check(load_image(encode(Image.fromarray(bits), "BMP")), want)


def test_ico_largest_size(rng):
    big = rng.integers(0, 256, (64, 64, 4), dtype=np.uint8)
    data = encode(Image.fromarray(big), "ICO", sizes=[(16, 16), (32, 32), (64, 64)])
    img = load_image(data)
    assert img.format == "ICO" and img.size == (64, 64)
    decoded = Image.open(io.BytesIO(data))
    check(img, np.asarray(decoded.convert("RGBA")))
    assert any("3 sizes" in n for n in img.notes)


def test_mpo_first_picture(rng):
    a, b = Image.fromarray(smooth_rgb()), Image.fromarray(255 - smooth_rgb())
    data = encode(a, "MPO", save_all=True, append_images=[b], quality=95)
    img = load_image(data)
    assert img.format == "MPO" and img.n_frames == 2
    assert np.abs(img.pixels.astype(int) - smooth_rgb()).mean() < 2
    assert any("2 pictures" in n for n in img.notes)


@pytest.mark.parametrize("fmt", ["PPM", "QOI", "TGA"])
def test_small_formats(rng, fmt, tmp_path):
    rgb = rgb_image(rng)
    path = tmp_path / f"x.{fmt.lower()}"
    Image.fromarray(rgb).save(path, fmt)
    check(load_image(path), rgb, fmt=fmt)


def test_tga_only_by_extension(rng, tmp_path):
    # TGA has no signature: trying it on every file would read noise as pixels.
    path = tmp_path / "x.tga"
    Image.fromarray(rgb_image(rng)).save(path)
    with pytest.raises(ImageLoadError) as e:
        load_image(path.read_bytes())
    assert e.value.kind == "unsupported_format"


@pytest.mark.skipif(not features.check("avif"), reason="this Pillow has no AVIF codec")
def test_avif(rng):
    rgb = smooth_rgb()
    img = load_image(encode(Image.fromarray(rgb), "AVIF", quality=100))
    assert img.format == "AVIF" and img.size == (48, 32)
    assert np.abs(img.pixels.astype(int) - rgb).mean() < 3


# ---------------------------------------------------------------------------
# Inputs, options, the result type
# ---------------------------------------------------------------------------

def test_path_bytes_and_file_object_agree(rng, tmp_path):
    rgb = rgb_image(rng)
    path = tmp_path / "a.png"
    Image.fromarray(rgb).save(path)
    a = load_image(path)
    b = load_image(str(path))
    c = load_image(path.read_bytes())
    with open(path, "rb") as f:
        d = load_image(f)
    for img in (a, b, c, d):
        check(img, rgb)
    assert a.path == path and c.path is None
    with pytest.raises(ImageLoadError) as e:
        load_image(b"", name="clipboard image")
    assert "clipboard image" in str(e.value)


def test_loaded_image_is_frozen(rng):
    img = load_image(encode(Image.fromarray(rgb_image(rng)), "PNG"))
    with pytest.raises(AttributeError):
        img.format = "GIF"  # type: ignore[misc]
    assert "PNG" in repr(img)


def test_invalid_arguments_raise_type_and_value_errors():
    with pytest.raises(TypeError):
        load_image(12345)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        load_image(b"x", max_pixels=0)
    with pytest.raises(ValueError):
        load_image(b"x", max_frames=-1)


def test_allowlist_is_explicit():
    assert {"PNG", "JPEG", "GIF", "WEBP", "TIFF", "BMP", "ICO"} <= set(IMAGE_READ_FORMATS)
    assert not {"PSD", "EPS", "PDF", "FITS", "XBM", "SPIDER"} & set(IMAGE_READ_FORMATS)


def test_max_pixels_is_configurable(rng):
    data = encode(Image.fromarray(rgb_image(rng, w=100, h=50)), "PNG")
    assert load_image(data, max_pixels=5000).size == (100, 50)
    with pytest.raises(ImageLoadError) as e:
        load_image(data, max_pixels=4999)
    assert e.value.kind == "too_large"
    assert "100 × 50" in str(e.value) and "4,999 pixels" in str(e.value)
    assert load_image(data, max_pixels=None).size == (100, 50)


def test_max_frames_is_configurable():
    frames = [Image.new("RGB", (4, 4), (40 * i, 0, 0)) for i in range(5)]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:])
    assert load_image(data, max_frames=5).n_frames == 5
    with pytest.raises(ImageLoadError) as e:
        load_image(data, max_frames=4)
    assert e.value.kind == "too_many_frames" and "more than 4 frames" in str(e.value)


def test_lenient_loads_do_not_leak_into_strict_ones(rng):
    """Pillow's truncation switch is global; concurrent strict loads must never see it on."""
    data = encode(Image.fromarray(rgb_image(rng, 200, 200)), "PNG", compress_level=0)
    cut = data[: len(data) * 2 // 3]
    errors: list[BaseException] = []
    stop = threading.Event()

    def lenient():
        try:
            while not stop.is_set():
                img = load_image(cut, allow_truncated=True)
                assert any("incomplete" in n for n in img.notes)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=lenient) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        for _ in range(60):
            with pytest.raises(ImageLoadError) as e:
                load_image(cut)
            assert e.value.kind in ("truncated", "corrupt")
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not errors
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_image_io_never_imports_qt():
    """palette_app.io is below the GUI layer (STYLE §1): loading and saving pull in no Qt."""
    import subprocess
    import sys

    code = ("import sys, palette_app.io as pio; pio.load_image; pio.save_image\n"
            "qt = ('PySide6', 'shiboken6', 'PyQt5', 'PyQt6')\n"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in qt)\n"
            "print(bad); sys.exit(1 if bad else 0)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
