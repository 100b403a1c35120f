"""The freedesktop.org desktop entry installed by the .deb."""
from __future__ import annotations

import configparser
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ASSETS = ROOT / "assets"
DESKTOP = ASSETS / "palette-app.desktop"


@pytest.fixture(scope="module")
def entry() -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # keys are case-sensitive
    parser.read_string(DESKTOP.read_text(encoding="utf-8"))
    assert parser.sections() == ["Desktop Entry"]
    return dict(parser["Desktop Entry"])


def test_required_keys(entry):
    assert entry["Type"] == "Application"
    assert entry["Name"] == "Palette App"
    assert entry["Exec"].split()[0] == "palette-app"
    assert entry["Exec"].split()[-1] in ("%f", "%F", "%u", "%U")
    assert entry["Terminal"] == "false"
    assert entry["Comment"]


def test_icon_names_an_installed_icon(entry):
    assert entry["Icon"] == "palette-app"
    assert (ASSETS / "icons" / f"{entry['Icon']}-256.png").is_file()


def test_lists_end_with_semicolons(entry):
    for key in ("Categories", "MimeType", "Keywords"):
        assert entry[key].endswith(";"), key
    assert "Graphics" in entry["Categories"].split(";")
    assert "image/png" in entry["MimeType"].split(";")


def test_matches_the_gui_desktop_file_name(entry):
    """Wayland matches windows to entries by app id: the GUI sets it to 'palette-app'."""
    app_py = Path(__file__).resolve().parents[2] / "palette_app" / "gui" / "app.py"
    assert 'setDesktopFileName("palette-app")' in app_py.read_text(encoding="utf-8")
    assert DESKTOP.stem == "palette-app" == entry["StartupWMClass"]


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="desktop-file-utils not installed")
def test_desktop_file_validate():
    subprocess.run(["desktop-file-validate", str(DESKTOP)], check=True)
