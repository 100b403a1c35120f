"""save_image: exact palette and indices read back, every format, atomically."""
from __future__ import annotations

import io
import os
import shutil
import signal
import struct
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageCms

from palette_app.core.palette import Palette
from palette_app.core.result import QuantizeResult
from palette_app.io import IMAGE_WRITE_FORMATS, ImageSaveError, load_image, save_image

EXT = {"PNG": "png", "GIF": "gif", "WEBP": "webp", "TIFF": "tif", "BMP": "bmp", "JPEG": "jpg"}


def make_result(rng, k=6, w=13, h=9, alpha=None, transparent_index=None) -> QuantizeResult:
    colors = rng.integers(0, 256, (k, 3), dtype=np.uint8)
    indices = rng.integers(0, k, (h, w), dtype=np.uint8)
    return QuantizeResult(palette=Palette(colors, alpha=alpha), indices=indices,
                          transparent_index=transparent_index)


def smooth_result(k=8, w=64, h=48) -> QuantizeResult:
    """Large flat areas of a few colors (what JPEG is tested on)."""
    colors = np.array([[230, 57, 70], [241, 250, 238], [168, 218, 220], [69, 123, 157],
                       [29, 53, 87], [255, 183, 3], [33, 158, 188], [2, 48, 71]], np.uint8)[:k]
    y, x = np.mgrid[0:h, 0:w]
    indices = ((x // 16 + y // 12) % k).astype(np.uint8)
    return QuantizeResult(palette=Palette(colors), indices=indices)


def read_palette_image(path: Path):
    """(palette colors (n, 3), per-entry alpha (n,), indices) of an indexed file, via Pillow."""
    with Image.open(path) as im:
        im.load()
        assert im.mode == "P", im.mode
        colors = np.array(im.getpalette("RGB"), np.uint8).reshape(-1, 3)
        alpha = np.full(len(colors), 255, np.uint8)
        t = im.info.get("transparency")
        if isinstance(t, int):
            alpha[t] = 0
        elif isinstance(t, bytes):
            alpha[:len(t)] = np.frombuffer(t, np.uint8)
        return colors, alpha, np.asarray(im).copy()


def assert_exact(path: Path, result: QuantizeResult, fmt: str):
    """The file holds exactly the result: palette + indices, or (WebP) the RGBA pixels."""
    k = result.n_colors
    alpha = result.palette.rgba[:, 3]
    saved_indexed = fmt in ("PNG", "GIF", "BMP") or (fmt == "TIFF" and not result.has_alpha)
    if saved_indexed:
        colors, file_alpha, indices = read_palette_image(path)
        assert len(colors) >= k
        np.testing.assert_array_equal(colors[:k], result.palette.colors)
        np.testing.assert_array_equal(indices, result.indices)
        if fmt == "PNG":
            assert len(colors) == k  # PLTE holds exactly the palette
            np.testing.assert_array_equal(file_alpha[:k], alpha)
        if fmt == "GIF" and result.has_alpha:
            assert (file_alpha[:k] == 0).sum() == 1
    else:
        with Image.open(path) as im:
            mode = "RGBA" if result.has_alpha else "RGB"
            got = np.asarray(im.convert(mode))
        want = result.to_rgba() if result.has_alpha else result.to_rgb()
        np.testing.assert_array_equal(got, want)


# ---------------------------------------------------------------------------
# Exact round trips
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["PNG", "GIF", "WEBP", "TIFF", "BMP"])
@pytest.mark.parametrize("k", [1, 2, 3, 4, 5, 16, 17, 256])
def test_round_trip_is_exact(tmp_path, fmt, k):
    rng = np.random.default_rng(k)
    result = make_result(rng, k=k)
    path = tmp_path / f"out.{EXT[fmt]}"
    saved = save_image(result, path)
    assert saved.format == fmt and saved.path == path and saved.n_colors == k
    assert saved.n_bytes == path.stat().st_size
    assert saved.indexed == (fmt != "WEBP")
    assert_exact(path, result, fmt)
    # Our own loader gives the same colors.
    np.testing.assert_array_equal(load_image(path).pixels, result.to_rgb())


@pytest.mark.parametrize("fmt", ["PNG", "GIF", "WEBP", "TIFF", "BMP"])
def test_round_trip_with_transparency(tmp_path, fmt):
    rng = np.random.default_rng(7)
    alpha = np.array([255, 0, 255, 255, 255, 255], np.uint8)
    result = make_result(rng, alpha=alpha, transparent_index=1)
    path = tmp_path / f"out.{EXT[fmt]}"
    saved = save_image(result, path)
    if fmt == "BMP":
        assert_exact(path, result, fmt)  # colors and indices; alpha dropped, with a note
        assert any("transparency" in n for n in saved.notes)
        return
    assert_exact(path, result, fmt)
    loaded = load_image(path)
    assert loaded.had_alpha
    want = result.to_rgba()
    opaque = want[..., 3] == 255
    np.testing.assert_array_equal(loaded.pixels[..., 3], want[..., 3])
    np.testing.assert_array_equal(loaded.pixels[opaque], want[opaque])
    assert saved.indexed == (fmt in ("PNG", "GIF"))
    if fmt == "TIFF":
        assert any("RGBA" in n for n in saved.notes)


def test_png_partial_alpha_and_short_trns(tmp_path):
    rng = np.random.default_rng(3)
    alpha = np.array([0, 77, 255, 255, 255, 255, 255, 255], np.uint8)
    result = make_result(rng, k=8, alpha=alpha, transparent_index=0)
    path = tmp_path / "a.png"
    save_image(result, path)
    assert_exact(path, result, "PNG")
    chunks = png_chunks(path.read_bytes())
    assert chunks[b"tRNS"] == bytes([0, 77])  # cut after the last non-opaque entry


def test_gif_keeps_one_transparent_entry_and_says_so(tmp_path):
    rng = np.random.default_rng(4)
    alpha = np.array([255, 0, 100, 255], np.uint8)
    result = make_result(rng, k=4, alpha=alpha, transparent_index=1)
    saved = save_image(result, tmp_path / "a.gif")
    _, file_alpha, indices = read_palette_image(saved.path)
    np.testing.assert_array_equal(file_alpha[:4], [255, 0, 255, 255])
    np.testing.assert_array_equal(indices, result.indices)
    assert any("only one color fully transparent" in n for n in saved.notes)


@given(data=st.data())
@settings(max_examples=40, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_round_trip_property(tmp_path, data):
    """Random palettes (duplicates included), alpha and sizes: every indexed format is exact."""
    k = data.draw(st.integers(1, 256))
    w = data.draw(st.integers(1, 40))
    h = data.draw(st.integers(1, 40))
    seed = data.draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    colors = rng.integers(0, 256, (k, 3), dtype=np.uint8)
    if data.draw(st.booleans()):
        colors[rng.integers(0, k, k // 2)] = colors[0]  # duplicate entries
    alpha = None
    t = None
    if data.draw(st.booleans()):
        alpha = np.full(k, 255, np.uint8)
        t = int(rng.integers(0, k))
        alpha[t] = 0
        if data.draw(st.booleans()):
            alpha[rng.integers(0, k, 3)] = rng.integers(0, 256, 3).astype(np.uint8)
            alpha[t] = 0
    result = QuantizeResult(palette=Palette(colors, alpha=alpha),
                            indices=rng.integers(0, k, (h, w), dtype=np.uint8), transparent_index=t)
    fmt = data.draw(st.sampled_from(["PNG", "GIF", "WEBP", "TIFF", "BMP"]))
    path = tmp_path / f"p{seed}.{EXT[fmt]}"
    save_image(result, path, overwrite=True)
    if fmt == "BMP" or (fmt == "GIF" and result.has_alpha):
        colors_, _, indices = read_palette_image(path)
        np.testing.assert_array_equal(colors_[:k], result.palette.colors)
        np.testing.assert_array_equal(indices, result.indices)
    else:
        assert_exact(path, result, fmt)


def test_jpeg_is_rgb_close_and_says_it_is_not_indexed(tmp_path):
    result = smooth_result()
    saved = save_image(result, tmp_path / "a.jpg")
    assert saved.format == "JPEG" and not saved.indexed and saved.bit_depth == 24
    assert any("JPEG cannot store a palette" in n for n in saved.notes)
    with Image.open(saved.path) as im:
        assert im.mode == "RGB"
        got = np.asarray(im).astype(np.float64)
    mse = ((got - result.to_rgb()) ** 2).mean()
    assert 10 * np.log10(255**2 / mse) > 35  # PSNR


def test_background_flattens_transparency_for_formats_without_it(tmp_path):
    colors = np.array([[10, 20, 30], [200, 0, 0], [0, 0, 255]], np.uint8)
    alpha = np.array([255, 0, 128], np.uint8)
    result = QuantizeResult(palette=Palette(colors, alpha=alpha),
                            indices=np.array([[0, 1, 2]] * 4, np.uint8), transparent_index=1)
    saved = save_image(result, tmp_path / "a.bmp", background=(255, 255, 255))
    got, _, idx = read_palette_image(saved.path)
    np.testing.assert_array_equal(got[:3], [[10, 20, 30], [255, 255, 255], [127, 127, 255]])
    np.testing.assert_array_equal(idx, result.indices)
    assert any("background" in n for n in saved.notes)
    saved = save_image(result, tmp_path / "b.bmp")
    got, _, _ = read_palette_image(saved.path)
    np.testing.assert_array_equal(got[:3], colors)


# ---------------------------------------------------------------------------
# PNG specifics: bit depth, chunks, size
# ---------------------------------------------------------------------------

def png_chunks(data: bytes) -> dict[bytes, bytes]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    out, i, order = {}, 8, []
    while i < len(data):
        n, kind = struct.unpack(">I4s", data[i:i + 8])
        out[kind] = data[i + 8:i + 8 + n]
        order.append(kind)
        i += 12 + n
    out[b"order"] = b",".join(order)
    return out


@pytest.mark.parametrize("k,bits", [(1, 1), (2, 1), (3, 2), (4, 2), (5, 4), (16, 4), (17, 8), (256, 8)])
def test_png_uses_the_smallest_bit_depth(tmp_path, k, bits):
    result = make_result(np.random.default_rng(k), k=k, w=17, h=5)
    saved = save_image(result, tmp_path / "a.png")
    ihdr = png_chunks(saved.path.read_bytes())[b"IHDR"]
    assert ihdr[8] == bits and ihdr[9] == 3  # bit depth, color type 3 (palette)
    assert saved.bit_depth == bits


def test_png_chunks_and_color_profile(tmp_path):
    result = make_result(np.random.default_rng(0))
    chunks = png_chunks(save_image(result, tmp_path / "a.png").path.read_bytes())
    assert chunks[b"order"] == b"IHDR,sRGB,PLTE,IDAT,IEND"
    assert chunks[b"sRGB"] == b"\x00"
    bare = png_chunks(save_image(result, tmp_path / "b.png", color_profile=None).path.read_bytes())
    assert bare[b"order"] == b"IHDR,PLTE,IDAT,IEND"


def test_png_optimize_is_smaller_than_fast(tmp_path):
    result = smooth_result(w=256, h=256)
    small = save_image(result, tmp_path / "a.png").n_bytes
    fast = save_image(result, tmp_path / "b.png", optimize=False).n_bytes
    assert small <= fast
    assert_exact(tmp_path / "b.png", result, "PNG")


def _kmeans_result(rgb: np.ndarray, k: int) -> QuantizeResult:
    from sklearn.cluster import KMeans

    px = rgb.reshape(-1, 3).astype(np.float64)
    km = KMeans(k, n_init=1, random_state=0, max_iter=10).fit(px[::5])
    idx = km.predict(px).reshape(rgb.shape[:2]).astype(np.uint8)
    colors = np.clip(np.rint(km.cluster_centers_), 0, 255).astype(np.uint8)
    return QuantizeResult(palette=Palette(colors), indices=idx)


def test_png_beats_pillows_writer_on_photo_indices(tmp_path, astronaut):
    result = _kmeans_result(astronaut[::2, ::2], 16)
    ours = save_image(result, tmp_path / "ours.png", color_profile=None).n_bytes
    b = io.BytesIO()
    im = Image.frombytes("P", result.indices.shape[::-1], result.indices.tobytes())
    im.putpalette(result.palette.colors.tobytes())
    im.save(b, "PNG", optimize=True)
    assert ours < len(b.getvalue())  # Pillow filters palette rows adaptively, and loses


@pytest.mark.skipif(shutil.which("pngquant") is None, reason="pngquant is not installed")
@pytest.mark.parametrize("k", [4, 16, 64, 256])
def test_png_encoder_matches_pngquant_on_its_own_indices(tmp_path, astronaut, k):
    """Same palette and indices as pngquant wrote: our file is no larger (1% slack for zlib builds)."""
    src = tmp_path / "src.png"
    Image.fromarray(astronaut[::2, ::2]).save(src)
    out = tmp_path / "pq.png"
    subprocess.run(["pngquant", "--nofs", "--force", "-o", str(out), str(k), str(src)],
                   check=True, timeout=60)
    colors, _, idx = read_palette_image(out)
    result = QuantizeResult(palette=Palette(colors), indices=idx)
    ours = save_image(result, tmp_path / "ours.png", color_profile=None).n_bytes
    assert ours <= 1.01 * out.stat().st_size
    assert_exact(tmp_path / "ours.png", result, "PNG")


def test_png_of_a_smoothed_result_reads_back_exactly_and_is_smaller(tmp_path, astronaut):
    """Label smoothing lives in the result: the file holds exactly its palette and indices."""
    import palette_app

    img = astronaut[::2, ::2]
    smooth = palette_app.quantize(img, 4)  # the default smooths at few colors
    exact = palette_app.quantize(img, 4, smoothing=0.0)
    assert smooth.settings["smoothing"] > 0 and not np.array_equal(smooth.indices, exact.indices)
    a = save_image(smooth, tmp_path / "smooth.png")
    b = save_image(exact, tmp_path / "exact.png")
    assert_exact(a.path, smooth, "PNG")
    assert_exact(b.path, exact, "PNG")
    assert a.n_bytes < 0.97 * b.n_bytes


@pytest.mark.skipif(shutil.which("pngquant") is None, reason="pngquant is not installed")
def test_png_at_4_colors_is_within_the_target_of_pngquant(tmp_path, astronaut):
    """Issue 3 on its worst case (astronaut, 4 colors): size <= 1.1x pngquant --nofs, PSNR not lower."""
    import palette_app

    src = tmp_path / "src.png"
    Image.fromarray(astronaut).save(src)
    out = tmp_path / "pq.png"
    subprocess.run(["pngquant", "--nofs", "--force", "-o", str(out), "4", str(src)], check=True, timeout=60)
    result = palette_app.quantize(astronaut, 4)
    ours = save_image(result, tmp_path / "ours.png")
    assert ours.n_bytes <= 1.1 * out.stat().st_size
    assert_exact(ours.path, result, "PNG")
    with Image.open(out) as im:
        pq = np.asarray(im.convert("RGB")).astype(np.float64)
    pq_psnr = 10 * np.log10(255**2 / ((pq - astronaut) ** 2).mean())
    assert result.psnr >= pq_psnr


# ---------------------------------------------------------------------------
# Profiles and metadata
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["TIFF", "WEBP", "JPEG"])
def test_srgb_profile_embedded_or_stripped(tmp_path, fmt):
    result = smooth_result()
    with Image.open(save_image(result, tmp_path / f"a.{EXT[fmt]}").path) as im:
        icc = im.info.get("icc_profile")
    assert icc
    desc = ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc)))
    assert "sRGB" in desc
    with Image.open(save_image(result, tmp_path / f"b.{EXT[fmt]}", color_profile=None).path) as im:
        assert not im.info.get("icc_profile")
    # Loading our own output does not re-convert (sRGB is recognised).
    assert load_image(tmp_path / f"a.{EXT[fmt]}").notes == ()


@pytest.mark.parametrize("fmt", IMAGE_WRITE_FORMATS)
def test_no_exif_orientation_is_written(tmp_path, fmt):
    result = smooth_result()
    path = save_image(result, tmp_path / f"a.{EXT[fmt]}").path
    with Image.open(path) as im:
        assert 0x0112 not in im.getexif()
        assert "exif" not in im.info
    assert load_image(path).size == (64, 48)


# ---------------------------------------------------------------------------
# Formats, names, overwrite, errors
# ---------------------------------------------------------------------------

def test_format_from_extension_or_argument(tmp_path):
    result = make_result(np.random.default_rng(1))
    for name, fmt in [("a.PNG", "PNG"), ("b.jpeg", "JPEG"), ("c.tiff", "TIFF"), ("d.webp", "WEBP")]:
        assert save_image(result, tmp_path / name).format == fmt
    saved = save_image(result, tmp_path / "e.img", format="gif")
    assert saved.format == "GIF"
    assert Image.open(saved.path).format == "GIF"
    assert save_image(result, tmp_path / "f.dat", format="jpg").format == "JPEG"
    mismatch = save_image(result, tmp_path / "g.png", format="GIF")
    assert any("name ends in .png" in n for n in mismatch.notes)
    with pytest.raises(ImageSaveError) as e:
        save_image(result, tmp_path / "h.xyz")
    assert e.value.kind == "unsupported_format" and ".xyz" in str(e.value)
    with pytest.raises(ImageSaveError) as e:
        save_image(result, tmp_path / "noext")
    assert e.value.kind == "unsupported_format"
    with pytest.raises(ImageSaveError) as e:
        save_image(result, tmp_path / "i.png", format="PSD")
    assert e.value.kind == "unsupported_format"
    assert not (tmp_path / "h.xyz").exists() and not (tmp_path / "i.png").exists()


def test_existing_file_is_not_overwritten_unless_asked(tmp_path):
    path = tmp_path / "a.png"
    path.write_bytes(b"precious")
    result = make_result(np.random.default_rng(1))
    with pytest.raises(ImageSaveError) as e:
        save_image(result, path)
    assert e.value.kind == "exists" and str(path) in str(e.value)
    assert path.read_bytes() == b"precious"
    save_image(result, path, overwrite=True)
    assert_exact(path, result, "PNG")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png"]


def test_target_problems(tmp_path):
    result = make_result(np.random.default_rng(1))
    with pytest.raises(ImageSaveError) as e:
        save_image(result, tmp_path / "missing" / "a.png")
    assert e.value.kind == "folder_missing"
    (tmp_path / "dir.png").mkdir()
    with pytest.raises(ImageSaveError) as e:
        save_image(result, tmp_path / "dir.png", overwrite=True)
    assert e.value.kind == "exists"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir.png"]


def test_format_limits(tmp_path):
    wide = QuantizeResult(palette=Palette(np.zeros((2, 3), np.uint8)),
                          indices=np.zeros((1, 16384), np.uint8))
    with pytest.raises(ImageSaveError) as e:
        save_image(wide, tmp_path / "a.webp")
    assert e.value.kind == "too_large" and "16,383" in str(e.value)
    assert not (tmp_path / "a.webp").exists()
    save_image(wide, tmp_path / "a.png")  # PNG has no such limit
    big = QuantizeResult(palette=Palette(np.zeros((300, 3), np.uint8)),
                         indices=np.zeros((2, 2), np.uint8))
    with pytest.raises(ImageSaveError) as e:
        save_image(big, tmp_path / "b.png")
    assert e.value.kind == "too_many_colors"


def test_invalid_results_and_arguments(tmp_path):
    with pytest.raises(TypeError):
        save_image(np.zeros((2, 2)), tmp_path / "a.png")
    bad = QuantizeResult(palette=Palette(np.zeros((2, 3), np.uint8)),
                         indices=np.full((2, 2), 5, np.uint8))
    with pytest.raises(ValueError):
        save_image(bad, tmp_path / "a.png")
    ok = make_result(np.random.default_rng(0))
    with pytest.raises(ValueError):
        save_image(ok, tmp_path / "a.png", color_profile="adobe")
    with pytest.raises(ValueError):
        save_image(ok, tmp_path / "a.jpg", jpeg_quality=0)
    assert list(tmp_path.iterdir()) == []


def test_encoder_failure_leaves_nothing(tmp_path, monkeypatch):
    from palette_app.io import image_save

    def broken(f, *a, **k):
        f.write(b"half a file")
        raise ValueError("encoder exploded")

    monkeypatch.setitem(image_save._WRITERS, "PNG", broken)
    (tmp_path / "old.png").write_bytes(b"old")
    result = make_result(np.random.default_rng(0))
    for name in ("new.png", "old.png"):
        with pytest.raises(ImageSaveError):
            save_image(result, tmp_path / name, overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.png"]
    assert (tmp_path / "old.png").read_bytes() == b"old"


# ---------------------------------------------------------------------------
# Kill test: SIGKILL in the middle of an export
# ---------------------------------------------------------------------------

CHILD = textwrap.dedent("""
    import sys, time
    import numpy as np
    import palette_app.io.image_save as image_save
    from palette_app.core.palette import Palette
    from palette_app.core.result import QuantizeResult

    real = image_save._WRITERS["PNG"]

    def slow_png(f, *args, **kwargs):
        # Encode for real, write half of it, tell the parent, then stall.
        import io
        buf = io.BytesIO()
        out = real(buf, *args, **kwargs)
        data = buf.getvalue()
        f.write(data[: len(data) // 2])
        f.flush()
        print("HALF", flush=True)
        time.sleep(60)
        f.write(data[len(data) // 2:])
        return out

    image_save._WRITERS["PNG"] = slow_png
    rng = np.random.default_rng(0)
    result = QuantizeResult(palette=Palette(rng.integers(0, 256, (16, 3), dtype=np.uint8)),
                            indices=rng.integers(0, 16, (400, 400), dtype=np.uint8))
    image_save.save_image(result, sys.argv[1], overwrite=sys.argv[2] == "1")
    print("DONE", flush=True)
""")


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
@pytest.mark.parametrize("existing", [False, True], ids=["new file", "replacing a file"])
def test_killed_writer_leaves_no_partial_file_and_no_litter(tmp_path, existing):
    target = tmp_path / "export.png"
    if existing:
        target.write_bytes(b"the previous export")
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(target), "1" if existing else "0"],
                            stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.strip() == "HALF"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:  # pragma: no cover
            proc.kill()
            proc.wait()
        proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    names = sorted(p.name for p in tmp_path.iterdir())
    if existing:
        assert names == ["export.png"]
        assert target.read_bytes() == b"the previous export"
    else:
        assert names == []


def test_killed_writer_child_works_when_not_killed(tmp_path):
    """The child script above is a real writer: unmolested, it writes a valid file."""
    child = CHILD.replace("time.sleep(60)", "pass")
    target = tmp_path / "export.png"
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", child, str(target), "0"], capture_output=True,
                         text=True, timeout=60, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["HALF", "DONE"]
    assert load_image(target).size == (400, 400)
    assert time.perf_counter() - t < 30
