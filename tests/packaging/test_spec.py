"""The PyInstaller spec: valid Python, one-folder, no UPX, only the Qt modules we use."""
from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"
SPEC = PACKAGING / "palette_app.spec"
USED_QT = {"QtCore", "QtGui", "QtWidgets"}
HEAVY_QT = {"QtQml", "QtQuick", "QtQuick3D", "QtQuickWidgets", "QtWebEngineCore",
            "QtWebEngineWidgets", "QtWebEngineQuick", "Qt3DCore", "Qt3DRender", "QtMultimedia",
            "QtMultimediaWidgets", "QtCharts", "QtDataVisualization", "QtPdf", "QtNetwork",
            "QtOpenGL", "QtSql", "QtDesigner", "QtTest"}


@pytest.fixture(scope="module")
def spec_tree() -> ast.Module:
    return ast.parse(SPEC.read_text(encoding="utf-8"), filename=str(SPEC))


def _literal(tree: ast.Module, name: str):
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError(f"{name} not assigned in the spec")


def _calls(tree: ast.Module, func: str) -> list[ast.Call]:
    return [n for n in ast.walk(tree)
            if isinstance(n, ast.Call) and getattr(n.func, "id", None) == func]


def _kwargs(call: ast.Call) -> dict:
    return {k.arg: k.value for k in call.keywords if k.arg}


def test_heavy_qt_modules_are_excluded(spec_tree):
    excluded = {name.removeprefix("PySide6.") for name in _literal(spec_tree, "QT_EXCLUDES")}
    assert HEAVY_QT <= excluded
    assert not USED_QT & excluded


def test_app_imports_only_the_qt_modules_the_bundle_keeps(spec_tree):
    excluded = {name.removeprefix("PySide6.") for name in _literal(spec_tree, "QT_EXCLUDES")}
    used = set()
    for path in (ROOT / "palette_app").rglob("*.py"):
        used |= set(re.findall(r"\bPySide6\.(Qt\w+)", path.read_text(encoding="utf-8")))
    assert used, "no PySide6 import found: the scan is broken"
    assert used <= USED_QT, f"the app imports {sorted(used - USED_QT)}; update the spec and this test"
    assert not used & excluded


def test_one_folder_without_upx(spec_tree):
    exes = _calls(spec_tree, "EXE")
    assert exes
    for call in exes:
        kw = _kwargs(call)
        assert isinstance(kw.get("exclude_binaries"), ast.Constant) and kw["exclude_binaries"].value is True
    collect = _calls(spec_tree, "COLLECT")
    assert len(collect) == 1 and _kwargs(collect[0])["upx"].value is False
    common = _literal_dict_call(spec_tree, "common")
    assert common["upx"] is False


def _literal_dict_call(tree: ast.Module, name: str) -> dict:
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == name:
            assert isinstance(node.value, ast.Call) and node.value.func.id == "dict"
            return {k.arg: k.value.value for k in node.value.keywords if isinstance(k.value, ast.Constant)}
    raise AssertionError(f"{name} not assigned in the spec")


def test_palette_app_is_collected_as_source_for_numba_cache(spec_tree):
    (analysis,) = _calls(spec_tree, "Analysis")
    mode = ast.literal_eval(_kwargs(analysis)["module_collection_mode"])
    assert mode == {"palette_app": "py"}
    assert "data/*.png" in SPEC.read_text(encoding="utf-8")


def test_entry_script_handles_self_test_and_freeze_support():
    source = (PACKAGING / "entry.py").read_text(encoding="utf-8")
    tree = ast.parse(source)
    assert "freeze_support()" in source
    assert '"--self-test"' in source and "run_self_test" in source
    assert any(isinstance(n, ast.FunctionDef) and n.name == "main" for n in tree.body)


@pytest.mark.parametrize("script", ["build_linux.sh", "ci_check.sh"])
def test_shell_scripts_parse(script):
    subprocess.run(["bash", "-n", str(PACKAGING / script)], check=True)


def test_gitignore_keeps_outputs_out():
    assert "out/" in (PACKAGING / ".gitignore").read_text(encoding="utf-8").split()


def test_release_workflow_builds_and_self_tests_on_three_systems():
    yaml = pytest.importorskip("yaml")
    wf = yaml.safe_load((ROOT / ".github" / "workflows" / "release.yml").read_text(encoding="utf-8"))
    jobs = wf["jobs"]
    runners = " ".join(str(job.get("runs-on", "")) + str(job.get("strategy", "")) for job in jobs.values())
    for system in ("ubuntu", "windows", "macos"):
        assert system in runners
    steps = [step for job in jobs.values() for step in job.get("steps", [])]
    runs = [step.get("run", "") for step in steps]
    assert any("packaging/ci_check.sh" in run for run in runs), "Linux: build + self-tests + .deb"
    assert any("--self-test" in run and "loaded from cache, 0 compiled" in run for run in runs)
    assert any("palette_app.spec" in run for run in runs)
