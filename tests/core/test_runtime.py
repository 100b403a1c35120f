"""The Numba cache folder: writable per-user folder when the sources are read-only."""
import os
import subprocess
import sys
import textwrap


def _run(code, env):
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True,
                          text=True, timeout=300)


def test_explicit_cache_dir_is_respected(tmp_path):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "nc"))
    r = _run("""
        import palette_app, numpy as np
        from palette_app import _runtime
        print(_runtime.CACHE_OK, _runtime.CACHE_DIR)
        palette_app.quantize(np.zeros((4, 4, 3), np.uint8) + 7, 2)
    """, env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[0] == "True"
    assert any(p.suffix in (".nbi", ".nbc") for p in (tmp_path / "nc").rglob("*"))


def test_unwritable_cache_dir_still_runs(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    env = dict(os.environ, NUMBA_CACHE_DIR=str(ro / "missing" / "deeper"))
    # A path under a regular file can never be created, even by root.
    blocker = tmp_path / "file"
    blocker.write_text("x")
    env["NUMBA_CACHE_DIR"] = str(blocker / "cache")
    r = _run("""
        import palette_app, numpy as np
        from palette_app import _runtime
        assert not _runtime.CACHE_OK
        r = palette_app.quantize(np.arange(48, dtype=np.uint8).reshape(4, 4, 3), 3)
        print(len(r.palette))
    """, env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "3"


def test_frozen_app_uses_the_user_cache(tmp_path):
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "xdg"))
    env.pop("NUMBA_CACHE_DIR", None)
    r = _run("""
        import sys
        sys.frozen = True
        from palette_app import _runtime
        _runtime.configure()
        import os
        print(os.environ.get("NUMBA_CACHE_DIR", ""))
    """, env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().startswith(str(tmp_path / "xdg" / "palette-app" / "numba"))
