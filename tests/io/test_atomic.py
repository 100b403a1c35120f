"""atomic_write: old file or new file, never a partial one, and no temporary litter."""
from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap

import pytest

import palette_app.io.atomic as atomic
from palette_app.io.atomic import OutputExistsError, atomic_write


@pytest.fixture(params=["anonymous", "named"])
def strategy(request, monkeypatch):
    """Run each test with the Linux O_TMPFILE route and with the portable named-temp route."""
    if request.param == "anonymous":
        if not atomic._USE_TMPFILE:
            pytest.skip("no O_TMPFILE here")
    else:
        monkeypatch.setattr(atomic, "_USE_TMPFILE", False)
    return request.param


def listing(folder):
    return sorted(p.name for p in folder.iterdir())


def test_writes_new_file(tmp_path, strategy):
    target = tmp_path / "a.bin"
    with atomic_write(target) as f:
        f.write(b"hello")
        assert not target.exists()  # nothing visible until the end
    assert target.read_bytes() == b"hello"
    assert listing(tmp_path) == ["a.bin"]


def test_refuses_existing_file(tmp_path, strategy):
    target = tmp_path / "a.bin"
    target.write_bytes(b"old")
    with pytest.raises(OutputExistsError) as e:
        with atomic_write(target) as f:
            f.write(b"new")  # pragma: no cover - refused before the body runs
    assert "already exists" in str(e.value) and isinstance(e.value, FileExistsError)
    assert target.read_bytes() == b"old"
    assert listing(tmp_path) == ["a.bin"]


def test_refuses_dangling_symlink(tmp_path, strategy):
    target = tmp_path / "a.bin"
    target.symlink_to(tmp_path / "nowhere")
    with pytest.raises(OutputExistsError):
        with atomic_write(target) as f:
            f.write(b"new")  # pragma: no cover


def test_file_appearing_meanwhile_is_not_clobbered(tmp_path, strategy):
    target = tmp_path / "a.bin"
    with pytest.raises(OutputExistsError):
        with atomic_write(target) as f:
            f.write(b"mine")
            target.write_bytes(b"someone else's")
    assert target.read_bytes() == b"someone else's"
    assert listing(tmp_path) == ["a.bin"]


def test_overwrite_replaces_and_keeps_permissions(tmp_path, strategy):
    target = tmp_path / "a.bin"
    target.write_bytes(b"old")
    target.chmod(0o640)
    with atomic_write(target, overwrite=True) as f:
        f.write(b"new")
        assert target.read_bytes() == b"old"
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert listing(tmp_path) == ["a.bin"]


def test_new_file_gets_umask_permissions(tmp_path, strategy):
    old = os.umask(0o027)
    try:
        with atomic_write(tmp_path / "a.bin") as f:
            f.write(b"x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.bin").stat().st_mode) == 0o640


def test_umask_is_never_touched(tmp_path, strategy, monkeypatch):
    """Flipping the process umask to read it (as the first version did) races with other threads."""
    calls = []
    monkeypatch.setattr(os, "umask", lambda *a: calls.append(a) or 0o022)
    with atomic_write(tmp_path / "a.bin") as f:
        f.write(b"x")
    with atomic_write(tmp_path / "a.bin", overwrite=True) as f:
        f.write(b"y")
    assert calls == []


def test_error_in_body_leaves_old_file_and_no_litter(tmp_path, strategy):
    target = tmp_path / "a.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with atomic_write(target, overwrite=True) as f:
            f.write(b"partial")
            raise RuntimeError("encoder failed")
    assert target.read_bytes() == b"old"
    with pytest.raises(KeyboardInterrupt):
        with atomic_write(tmp_path / "b.bin") as f:
            f.write(b"partial")
            raise KeyboardInterrupt
    assert listing(tmp_path) == ["a.bin"]


def test_missing_folder(tmp_path, strategy):
    with pytest.raises(FileNotFoundError):
        with atomic_write(tmp_path / "nope" / "a.bin") as f:
            f.write(b"x")  # pragma: no cover


def test_relative_path(tmp_path, strategy, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with atomic_write("rel.bin") as f:
        f.write(b"x")
    assert (tmp_path / "rel.bin").read_bytes() == b"x"
    assert listing(tmp_path) == ["rel.bin"]


def test_link_failure_falls_back_to_a_named_copy(tmp_path, monkeypatch):
    if not atomic._USE_TMPFILE:
        pytest.skip("no O_TMPFILE here")

    def no_link(*args, **kwargs):
        raise atomic._LinkUnavailable

    monkeypatch.setattr(atomic, "_publish_anonymous", no_link)
    data = os.urandom(3 << 20)  # several copy chunks
    with atomic_write(tmp_path / "a.bin") as f:
        f.write(data)
    assert (tmp_path / "a.bin").read_bytes() == data
    assert listing(tmp_path) == ["a.bin"]


KILLED_CHILD = textwrap.dedent("""
    import sys, time
    from palette_app.io.atomic import atomic_write
    with atomic_write(sys.argv[1], overwrite=sys.argv[2] == "1") as f:
        f.write(b"x" * 1_000_000)
        f.flush()
        print("WRITING", flush=True)
        time.sleep(60)
""")


@pytest.mark.skipif(not atomic._USE_TMPFILE, reason="litter-free kills need O_TMPFILE (Linux)")
@pytest.mark.parametrize("existing", [False, True])
def test_sigkill_mid_write_leaves_no_trace(tmp_path, existing):
    target = tmp_path / "out.bin"
    if existing:
        target.write_bytes(b"old")
    proc = subprocess.Popen([sys.executable, "-c", KILLED_CHILD, str(target), str(int(existing))],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "WRITING"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:  # pragma: no cover
            proc.kill()
            proc.wait()
        proc.stdout.close()
    assert listing(tmp_path) == (["out.bin"] if existing else [])
    if existing:
        assert target.read_bytes() == b"old"
