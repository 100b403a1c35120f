"""The Dask executor gives byte-identical files to the local one (LocalCluster on loopback)."""
from __future__ import annotations

import json
import os

import pytest

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def scheduler():
    """A Dask cluster in this process: two single-threaded workers, TCP on loopback only
    (the command line runs in another process)."""
    with distributed.LocalCluster(processes=False, n_workers=2, threads_per_worker=1,
                                  protocol="tcp://", host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        yield cluster.scheduler_address


def _files(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def _statuses(report):
    doc = json.loads(report.read_text())
    return {os.path.basename(f["input"]): (f["status"], f["colors"], f["psnr"], f["bytes_after"])
            for f in doc["files"]}


def test_dask_cluster_outputs_are_byte_identical(cli, photos, scheduler, tmp_path):
    (photos / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x01" * 30)
    common = ["quantize", photos, "-n", 24, "--seed", 7]
    r_local = cli(*common, "-o", tmp_path / "local", "-j", 2, "--report", tmp_path / "local.json")
    r_dask = cli(*common, "-o", tmp_path / "dask", "--scheduler", scheduler,
                 "--report", tmp_path / "dask.json")
    assert r_local.returncode == r_dask.returncode == 1, (r_local.stderr, r_dask.stderr)
    assert "broken.png" in r_dask.stderr and "Traceback" not in r_dask.stderr
    local, dask = _files(tmp_path / "local"), _files(tmp_path / "dask")
    assert len(local) == 6 and local == dask
    assert _statuses(tmp_path / "local.json") == _statuses(tmp_path / "dask.json")


def test_dask_shared_palette_matches_local(cli, photos, scheduler, tmp_path):
    common = ["quantize", photos, "-n", 10, "--shared-palette", "--dither", "ordered"]
    assert cli(*common, "-o", tmp_path / "local", "-j", 2).returncode == 0
    r = cli(*common, "-o", tmp_path / "dask", "--executor", "dask", "--scheduler", scheduler)
    assert r.returncode == 0, r.stderr
    assert _files(tmp_path / "local") == _files(tmp_path / "dask")


@pytest.mark.slow
def test_dask_executor_starts_its_own_local_cluster(cli, photos, tmp_path):
    assert cli("quantize", photos, "-o", tmp_path / "inproc", "-j", 1).returncode == 0
    r = cli("quantize", photos, "-o", tmp_path / "dask", "--executor", "dask", "-j", 2)
    assert r.returncode == 0, r.stderr
    assert _files(tmp_path / "inproc") == _files(tmp_path / "dask")


def test_unreachable_scheduler_is_a_clear_error(cli, photos):
    r = cli("quantize", photos / "photo0.png", "--scheduler", "tcp://127.0.0.1:9", timeout=120,
            env={"DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "2s"})
    assert r.returncode == 1, r.stderr
    assert "could not run the batch" in r.stderr and "Traceback" not in r.stderr
    assert not list(photos.glob("*-q16.png"))
