#!/usr/bin/env bash
# Build Palette App for Linux: the PyInstaller bundle, a .deb and a .tar.gz.
#
#   packaging/build_linux.sh            # from anywhere; PYTHON=... to choose the interpreter
#
# Needs: a Python with palette_app installed (pip install .), PyInstaller (installed
# here from PyPI when missing; a build tool, not a runtime dependency), dpkg-deb.
# Outputs (git-ignored):
#   dist/palette-app/                                  the one-folder bundle
#   packaging/out/palette-app_VERSION_ARCH.deb         app in /opt/palette-app, launcher
#                                                      /usr/bin/palette-app, desktop entry, icons
#   packaging/out/palette-app-VERSION-linux-ARCH.tar.gz
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
PYTHON=${PYTHON:-python3}
OUT=${OUT:-$ROOT/packaging/out}
APP=palette-app
DIST=$ROOT/dist/$APP

# What the .deb needs from the system: the libraries the spec leaves out of the bundle
# (SYSTEM_LIBS in palette_app.spec), and Qt's xcb helper libraries, which the .tar.gz
# bundles (many desktops lack libxcb-cursor0) but the .deb takes from the distribution.
# libc6's minimum version is read from the bundle once it is built (the newest glibc
# symbol it uses). ci_check.sh checks that every library the installed .deb links
# against is either shipped in it or declared here.
DEPENDS=(
  libstdc++6 libgcc-s1 libffi8 liblzma5 libuuid1 libzstd1
  libglib2.0-0 libdbus-1-3 libfontconfig1 libfreetype6
  libx11-6 libx11-xcb1 libxcb1 libxkbcommon0 libxkbcommon-x11-0
  libxcb-cursor0 libxcb-glx0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0
  libxcb-render0 libxcb-render-util0 libxcb-shape0 libxcb-shm0 libxcb-sync1 libxcb-util1
  libxcb-xfixes0 libxcb-xkb1
  libegl1 libgl1 libwayland-client0 libwayland-cursor0 libwayland-egl1
)
# The bundled copies of those xcb helpers, removed from the .deb's tree.
DEB_FROM_SYSTEM=(
  libxcb-cursor.so.0 libxcb-glx.so.0 libxcb-icccm.so.4 libxcb-image.so.0 libxcb-keysyms.so.1
  libxcb-randr.so.0 libxcb-render.so.0 libxcb-render-util.so.0 libxcb-shape.so.0
  libxcb-shm.so.0 libxcb-sync.so.1 libxcb-util.so.1 libxcb-xfixes.so.0 libxcb-xkb.so.1
)

log() { printf 'build_linux: %s\n' "$*"; }

# -- 0. tools and system libraries ----------------------------------------------------
"$PYTHON" -c 'import palette_app' 2>/dev/null || {
  echo "build_linux: palette_app is not importable with $PYTHON (pip install . first)" >&2; exit 1; }
if ! "$PYTHON" -m PyInstaller --version >/dev/null 2>&1; then
  log "installing PyInstaller (build tool only)"
  "$PYTHON" -m pip install -q "pyinstaller>=6.10"
fi
command -v dpkg-deb >/dev/null || { echo "build_linux: dpkg-deb not found (apt-get install dpkg)" >&2; exit 1; }

# PyInstaller copies the xcb helper libraries Qt needs into the bundle, so they must be
# installed on the build machine. Install what is missing when we can.
pkgs=()
for name in "${DEPENDS[@]}"; do
  dpkg -s "$name" >/dev/null 2>&1 || dpkg -s "${name}t64" >/dev/null 2>&1 || pkgs+=("$name")
done
if [ ${#pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo"; else SUDO="none"; fi
  if [ "$SUDO" != none ]; then
    log "installing ${pkgs[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${pkgs[@]}" >/dev/null
  else
    log "warning: missing ${pkgs[*]}; the bundle may lack Qt's xcb helpers"
  fi
fi

VERSION=$("$PYTHON" -c 'from importlib.metadata import version; print(version("palette_app"))')
ARCH=$(dpkg --print-architecture)
MACHINE=$(uname -m)
# Reproducible timestamps inside the archives: the last commit's time when available.
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
export SOURCE_DATE_EPOCH
mkdir -p "$OUT"

# -- 1. the bundle ----------------------------------------------------------------------
[ -f palette_app/data/astronaut.png ] || { echo "build_linux: palette_app/data/astronaut.png missing" >&2; exit 1; }
log "PyInstaller $("$PYTHON" -m PyInstaller --version), palette_app $VERSION"
t0=$(date +%s)
"$PYTHON" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath "$ROOT/dist" --workpath "$ROOT/build" packaging/palette_app.spec
# Symbols and debug information nobody needs: 19 MB in llvmlite's library, 24 MB in a
# locally built Python's libpython and extension modules. PyInstaller's strip option
# would also strip the libraries that auditwheel patched (numpy's OpenBLAS), which breaks
# them ("ELF load command address/offset not page-aligned"), so strip these alone.
if command -v strip >/dev/null; then
  strip --strip-unneeded "$DIST/_internal/llvmlite/binding/libllvmlite.so" \
    "$DIST"/_internal/libpython3*.so.* "$DIST"/_internal/python3*/lib-dynload/*.so
fi
# palette_app is shipped as .py files (Numba's cache needs them); compile them now so a
# launch from a read-only /opt does not compile the bytecode every time. Unchecked hash
# pycs stay valid whatever the files' timestamps become in the archives.
"$PYTHON" -m compileall -q --invalidation-mode unchecked-hash "$DIST/_internal/palette_app"
log "bundle built in $(( $(date +%s) - t0 )) s: $(du -sh "$DIST" | cut -f1)"

# -- 2. the .tar.gz ----------------------------------------------------------------------
TARBALL=$OUT/$APP-$VERSION-linux-$MACHINE.tar.gz
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$SOURCE_DATE_EPOCH" \
  -C "$ROOT/dist" -czf "$TARBALL" "$APP"
log "$(basename "$TARBALL"): $(du -h "$TARBALL" | cut -f1)"

# -- 3. the .deb -------------------------------------------------------------------------
STAGE=$OUT/deb/${APP}_${VERSION}_${ARCH}
rm -rf "$STAGE"
mkdir -p "$STAGE/DEBIAN" "$STAGE/opt" "$STAGE/usr/bin" "$STAGE/usr/share/applications" \
         "$STAGE/usr/share/doc/$APP"
cp -a "$DIST" "$STAGE/opt/$APP"
for lib in "${DEB_FROM_SYSTEM[@]}"; do
  rm -f "$STAGE/opt/$APP/_internal/$lib"
done
# A relative link: works in the real root and when unpacked into any other folder
# (the bootloader finds _internal/ through the link's target).
ln -s "../../opt/$APP/$APP" "$STAGE/usr/bin/$APP"
install -m 644 assets/palette-app.desktop "$STAGE/usr/share/applications/$APP.desktop"
for n in 16 32 48 64 128 256 512; do
  install -D -m 644 "assets/icons/$APP-$n.png" "$STAGE/usr/share/icons/hicolor/${n}x${n}/apps/$APP.png"
done
cat > "$STAGE/usr/share/doc/$APP/copyright" <<EOF
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: Palette App

Files: *
License: BSD-3-Clause

Files: opt/$APP/_internal/*
Comment: Bundled third-party components keep their own licenses: Python (PSF), Qt and
 PySide6 (LGPL-3.0), NumPy and Numba (BSD-3-Clause), llvmlite (BSD-2-Clause, LLVM:
 Apache-2.0 with LLVM exception), Pillow (MIT-CMU). Their license files are inside
 the bundle's *.dist-info folders where the wheels ship them.

Files: opt/$APP/_internal/palette_app/data/astronaut.png
License: public-domain
 NASA photograph of astronaut Eileen Collins.
EOF
# Normalise permissions (the build tree's umask must not leak into the package).
find "$STAGE" -type d -exec chmod 755 {} +
find "$STAGE" -type f -exec chmod 644 {} +
find "$STAGE/opt/$APP" -type f \( -name "*.so" -o -name "*.so.*" \) -exec chmod 755 {} +
chmod 755 "$STAGE/opt/$APP/$APP"

libc_min=$("$PYTHON" packaging/deb_depends.py --glibc "$STAGE/opt/$APP")
depends="libc6 (>= $libc_min), $(IFS=,; echo "${DEPENDS[*]}" | sed 's/,/, /g')"
installed_kb=$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)
cat > "$STAGE/DEBIAN/control" <<EOF
Package: $APP
Version: $VERSION
Architecture: $ARCH
Maintainer: ${DEB_MAINTAINER:-Palette App developers <maintainers@palette-app.invalid>}
Installed-Size: $installed_kb
Depends: $depends
Section: graphics
Priority: optional
Description: turn images into color palettes and reduced-color images
 Palette App finds the palette of an image with a Numba k-means, shows a live
 reduced-color preview and exports images and palette files (GIMP, Adobe ASE and
 ACO, CSS, ...). This package holds the desktop app and the palette-app command
 line, self-contained in /opt/palette-app (Python, Qt and Numba included).
EOF
DEB=$OUT/${APP}_${VERSION}_${ARCH}.deb
t0=$(date +%s)
# xz: the smallest download (85 MiB against gzip's 120); DEB_XZ_LEVEL=3 packs 2.5x faster, 10 % larger.
dpkg-deb --root-owner-group -Zxz -z"${DEB_XZ_LEVEL:-6}" --threads-max="$(nproc)" --build "$STAGE" "$DEB" >/dev/null
rm -rf "$OUT/deb"
log "$(basename "$DEB"): $(du -h "$DEB" | cut -f1) (installed $(( installed_kb / 1024 )) MiB), packed in $(( $(date +%s) - t0 )) s"
