"""Hostile and broken files: each gives ImageLoadError with a readable message, quickly."""
from __future__ import annotations

import io
import os
import struct
import subprocess
import time
import zlib

import numpy as np
import pytest
from PIL import EpsImagePlugin, Image, PsdImagePlugin

import palette_app.io.image_load as image_load
from palette_app.io import ImageLoadError, load_image

QUICK = 2.0  # seconds; every refusal here takes milliseconds


def encode(im: Image.Image, fmt: str, **params) -> bytes:
    b = io.BytesIO()
    im.save(b, fmt, **params)
    return b.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def photo(w=64, h=48) -> Image.Image:
    y, x = np.mgrid[0:h, 0:w]
    return Image.fromarray(np.stack([x * 4, y * 5, (x ^ y) * 3], -1).astype(np.uint8))


def huge_png_header() -> bytes:
    """A PNG whose header claims 100000 × 100000 pixels (10 gigapixels), with a tiny IDAT."""
    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
            + png_chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + png_chunk(b"IEND", b""))


def huge_jpeg_header() -> bytes:
    """A real JPEG whose SOF0 marker is patched to claim 65000 × 65000."""
    data = bytearray(encode(photo(), "JPEG"))
    sof = data.index(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, 65000, 65000)
    return bytes(data)


def gif_frame_beyond_screen() -> bytes:
    """1 × 1 logical screen, but the first frame says 30000 × 30000."""
    data = bytearray(encode(Image.new("P", (1, 1)), "GIF"))
    desc = data.index(b",")
    struct.pack_into("<HH", data, desc + 5, 30000, 30000)
    return bytes(data)


def many_frame_gif(n: int = 5000) -> bytes:
    """A GIF with ``n`` 1 × 1 frames, built by repeating one frame's blocks."""
    a = encode(Image.new("P", (1, 1), 0), "GIF")
    frame = a[a.index(b","):-1]  # image descriptor .. end of its data
    head = a[:a.index(b",")]
    return head + frame * n + b";"


def apng_claiming_frames(n: int) -> bytes:
    data = encode(photo(8, 8), "PNG")
    actl = png_chunk(b"acTL", struct.pack(">II", n, 0))
    at = data.index(b"IDAT") - 4
    return data[:at] + actl + data[at:]


def ico_hiding_a_big_png() -> bytes:
    """An icon whose directory says 16 × 16 but which holds a 12000 × 12000 PNG (1-bit, small)."""
    png = encode(Image.new("1", (12000, 12000)), "PNG")
    return (struct.pack("<HHH", 0, 1, 1) + struct.pack("<BBBBHHII", 16, 16, 0, 0, 1, 32, len(png), 22)
            + png)


def tiff_with_huge_tiles() -> bytes:
    """An 8 × 8 TIFF whose tiles are declared 40000 × 40000 (libtiff would allocate a tile)."""
    entries = [(256, 3, 8), (257, 3, 8), (258, 3, None), (259, 3, 1), (262, 3, 2), (277, 3, 3),
               (322, 4, 40000), (323, 4, 40000), (324, 4, None), (325, 4, 192)]
    extra_off = 8 + 2 + 12 * len(entries) + 4
    data_off = extra_off + 6
    out = b"II*\0" + struct.pack("<IH", 8, len(entries))
    for tag, typ, val in entries:
        if tag == 258:
            out += struct.pack("<HHII", tag, typ, 3, extra_off)
        elif tag == 324:
            out += struct.pack("<HHII", tag, typ, 1, data_off)
        elif typ == 3:
            out += struct.pack("<HHIHH", tag, typ, 1, val, 0)
        else:
            out += struct.pack("<HHII", tag, typ, 1, val)
    return out + struct.pack("<I", 0) + struct.pack("<HHH", 8, 8, 8) + bytes(192)


def psd_bytes(w=4, h=3) -> bytes:
    """A minimal but valid 8-bit RGB Photoshop file (raw image data)."""
    header = b"8BPS" + struct.pack(">H6xHIIHH", 1, 3, h, w, 8, 3)
    planes = bytes(range(3 * w * h))
    return header + struct.pack(">III", 0, 0, 0) + struct.pack(">H", 0) + planes


def eps_bytes() -> bytes:
    return encode(photo(8, 8), "EPS")


HOSTILE = {
    "empty": (b"", "empty"),
    "random bytes": (np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes(),
                     "unsupported_format"),
    "random bytes 2": (np.random.default_rng(2).integers(0, 256, 17, dtype=np.uint8).tobytes(),
                       "unsupported_format"),
    "text": (b"hello, this is not an image\n" * 10, "unsupported_format"),
    "truncated PNG": (encode(photo(), "PNG")[:len(encode(photo(), "PNG")) // 2], ("truncated", "corrupt")),
    "PNG signature only": (b"\x89PNG\r\n\x1a\n", ("truncated", "corrupt")),
    "truncated JPEG": (encode(photo(), "JPEG")[:len(encode(photo(), "JPEG")) // 2], ("truncated", "corrupt")),
    "JPEG SOI only": (b"\xff\xd8\xff", ("truncated", "corrupt")),
    "PNG 100000x100000": (huge_png_header(), "too_large"),
    "JPEG 65000x65000": (huge_jpeg_header(), "too_large"),
    "GIF frame beyond screen": (gif_frame_beyond_screen(), "too_large"),
    "GIF 5000 frames": (many_frame_gif(), "too_many_frames"),
    "ICO hiding a 144 MP PNG": (ico_hiding_a_big_png(), "too_large"),
    "TIFF with 1600 MP tiles": (tiff_with_huge_tiles(), "too_large"),
    "APNG claiming 2**31 frames": (apng_claiming_frames(2**31 - 1), "too_many_frames"),
    "PSD": (psd_bytes(), "unsupported_format"),
    "EPS": (eps_bytes(), "unsupported_format"),
    "PDF": (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "unsupported_format"),
    "SVG": (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>', "unsupported_format"),
    "HEIC": (b"\0\0\0\x18ftypheic\0\0\0\0mif1heic" + b"\0" * 64, "unsupported_format"),
    "PCX (Pillow reads it; not allowed)": (encode(photo(8, 8), "PCX"), "unsupported_format"),
    "SGI (Pillow reads it; not allowed)": (encode(photo(8, 8), "SGI"), "unsupported_format"),
    "XBM (Pillow reads it; not allowed)": (encode(photo(8, 8).convert("1"), "XBM"), "unsupported_format"),
    "PNG with a broken IHDR CRC": (
        encode(photo(), "PNG")[:29] + b"\0\0\0\0" + encode(photo(), "PNG")[33:], ("corrupt", "truncated")),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_input_gives_image_load_error_quickly(name, tmp_path):
    data, kinds = HOSTILE[name]
    kinds = (kinds,) if isinstance(kinds, str) else kinds
    path = tmp_path / "hostile.png"
    path.write_bytes(data)
    for source in (path, data):
        t = time.perf_counter()
        with pytest.raises(ImageLoadError) as e:
            load_image(source)
        assert time.perf_counter() - t < QUICK
        assert e.value.kind in kinds, (e.value.kind, str(e.value))
        msg = str(e.value)
        assert msg.startswith("Cannot open ")
        if source is path:
            assert str(path) in msg and e.value.path == str(path)
        assert "Traceback" not in msg and len(msg) < 400


def test_size_refusal_names_the_size_and_the_cap():
    with pytest.raises(ImageLoadError) as e:
        load_image(huge_png_header(), name="big.png")
    msg = str(e.value)
    assert "big.png" in msg and "100,000 × 100,000" in msg and "100 megapixels" in msg
    assert "10,000 megapixels" in msg


def test_frame_refusal_names_the_cap():
    with pytest.raises(ImageLoadError) as e:
        load_image(many_frame_gif(), name="anim.gif")
    assert "more than 1,000 frames" in str(e.value) and "limit is 1,000" in str(e.value)


def test_size_is_refused_before_decoding(monkeypatch):
    big, many, ico = huge_png_header(), many_frame_gif(), ico_hiding_a_big_png()
    loads = []
    monkeypatch.setattr(Image.Image, "load", lambda self: loads.append(self) or None)
    from PIL import ImageFile
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: loads.append(self) or None)
    with pytest.raises(ImageLoadError):
        load_image(big)
    with pytest.raises(ImageLoadError):
        load_image(many)
    with pytest.raises(ImageLoadError):
        load_image(ico)
    assert loads == []


def test_no_pillow_bomb_warnings_on_the_way_to_a_refusal(recwarn):
    """Our caps fire before Pillow's own (global) limit is even consulted."""
    for data in (huge_png_header(), gif_frame_beyond_screen(), ico_hiding_a_big_png(),
                 tiff_with_huge_tiles()):
        with pytest.raises(ImageLoadError) as e:
            load_image(data)
        assert e.value.kind == "too_large"
    assert not [w for w in recwarn if issubclass(w.category, Image.DecompressionBombWarning)]


def test_too_many_tiff_pages():
    pages = [photo(4, 4) for _ in range(4)]
    data = encode(pages[0], "TIFF", save_all=True, append_images=pages[1:])
    with pytest.raises(ImageLoadError) as e:
        load_image(data, max_frames=3)
    assert e.value.kind == "too_many_frames" and "pages" in str(e.value)


@pytest.fixture
def forbidden_parsers(monkeypatch):
    """Fail loudly if the PSD or EPS parser, or any external program, is reached."""
    reached = []

    def trap(what):
        def f(*args, **kwargs):
            reached.append(what)
            raise AssertionError(f"{what} must not be reached")
        return f

    monkeypatch.setattr(PsdImagePlugin.PsdImageFile, "_open", trap("PSD parser"))
    monkeypatch.setattr(EpsImagePlugin.EpsImageFile, "_open", trap("EPS parser"))
    monkeypatch.setattr(subprocess, "Popen", trap("subprocess"))
    monkeypatch.setattr(os, "system", trap("os.system"))
    return reached


def test_the_psd_and_eps_samples_are_real():
    assert Image.open(io.BytesIO(psd_bytes())).format == "PSD"
    assert Image.open(io.BytesIO(eps_bytes())).format == "EPS"


@pytest.mark.parametrize("sniffing", [True, False], ids=["named", "allowlist-only"])
def test_psd_renamed_png_never_reaches_the_psd_parser(tmp_path, forbidden_parsers, monkeypatch,
                                                      sniffing):
    data = psd_bytes()
    if not sniffing:  # the allowlist alone must stop it too
        monkeypatch.setattr(image_load, "_sniff_refused", lambda head: None)
    path = tmp_path / "holiday.png"
    path.write_bytes(data)
    with pytest.raises(ImageLoadError) as e:
        load_image(path)
    assert e.value.kind == "unsupported_format"
    if sniffing:
        assert "Photoshop" in str(e.value) and "despite its .png name" in str(e.value)
    assert forbidden_parsers == []


@pytest.mark.parametrize("sniffing", [True, False], ids=["named", "allowlist-only"])
def test_eps_is_refused_without_starting_anything(tmp_path, forbidden_parsers, monkeypatch,
                                                  sniffing):
    if not sniffing:
        monkeypatch.setattr(image_load, "_sniff_refused", lambda head: None)
    path = tmp_path / "logo.jpg"
    path.write_bytes(eps_bytes())
    with pytest.raises(ImageLoadError) as e:
        load_image(path)
    assert e.value.kind == "unsupported_format"
    if sniffing:
        assert "EPS" in str(e.value)
    assert forbidden_parsers == []


def test_file_system_problems(tmp_path):
    with pytest.raises(ImageLoadError) as e:
        load_image(tmp_path / "missing.png")
    assert e.value.kind == "not_found" and "does not exist" in str(e.value)
    with pytest.raises(ImageLoadError) as e:
        load_image(tmp_path)
    assert e.value.kind == "not_a_file"
    with pytest.raises(ImageLoadError) as e:
        load_image(str(tmp_path / "bad\0name.png"))
    assert e.value.kind == "read_error"
    if hasattr(os, "mkfifo"):
        fifo = tmp_path / "pipe.png"
        os.mkfifo(fifo)
        with pytest.raises(ImageLoadError) as e:  # and does not block waiting for a writer
            load_image(fifo)
        assert e.value.kind == "not_a_file"


def test_permission_denied_is_reported(tmp_path, monkeypatch):
    path = tmp_path / "secret.png"
    photo().save(path)

    def denied(file, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(file))

    monkeypatch.setattr(image_load, "open", denied, raising=False)  # shadows the builtin
    with pytest.raises(ImageLoadError) as e:
        load_image(path)
    assert e.value.kind == "permission" and "permission" in str(e.value)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root reads every file")
def test_unreadable_file(tmp_path):
    path = tmp_path / "secret.png"
    photo().save(path)
    path.chmod(0)
    with pytest.raises(ImageLoadError) as e:
        load_image(path)
    assert e.value.kind == "permission"


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated_file_loads_when_asked(fmt):
    im = photo(64, 64)
    data = encode(im, fmt, **({"compress_level": 0} if fmt == "PNG" else {"quality": 95}))
    cut = data[: len(data) * 2 // 3]
    with pytest.raises(ImageLoadError) as e:
        load_image(cut)
    assert e.value.kind in ("truncated", "corrupt")
    assert "load the part that can be read" in str(e.value)
    img = load_image(cut, allow_truncated=True)
    assert img.size == (64, 64)
    assert any("incomplete" in n for n in img.notes)
    # The top of the image, which the file still holds, is right.
    top = np.asarray(im)[:16].astype(int)
    assert np.abs(img.pixels[:16].astype(int) - top).mean() < 3


def test_allow_truncated_does_not_override_the_caps():
    with pytest.raises(ImageLoadError) as e:
        load_image(huge_png_header(), allow_truncated=True)
    assert e.value.kind == "too_large"


def test_unexpected_internal_errors_become_image_load_errors(monkeypatch):
    def boom(*a, **k):
        raise RuntimeError("something deep inside")

    monkeypatch.setattr(image_load, "_to_srgb", boom)
    with pytest.raises(ImageLoadError) as e:
        load_image(encode(photo(), "PNG"), name="x.png")
    assert e.value.kind == "corrupt" and "x.png" in str(e.value)

    def oom(*a, **k):
        raise MemoryError

    monkeypatch.setattr(image_load, "_to_srgb", oom)
    with pytest.raises(ImageLoadError) as e:
        load_image(encode(photo(), "PNG"))
    assert e.value.kind == "out_of_memory" and "memory" in str(e.value)
