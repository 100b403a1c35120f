#!/usr/bin/env bash
# CI for the Linux installers: build, then check what a user would get.
#
#   packaging/ci_check.sh            # PYTHON=... to choose the interpreter; SKIP_BUILD=1 to
#                                    # check the outputs of an earlier build_linux.sh
#
# 1. builds the bundle, the .deb and the .tar.gz (packaging/build_linux.sh);
# 2. runs `palette-app --self-test` from the bundle, headless, twice with a fresh Numba cache:
#    the second launch must compile no kernel;
# 3. runs the command line from the bundle (palette, and quantize with 2 worker processes:
#    'spawn' children of a frozen app);
# 4. runs the self-test with no writable cache folder (caching off: slower, still correct);
# 5. checks the .deb's contents, and that it declares every system library it links against;
# 6. unpacks the .deb into a scratch root and runs the self-test through /usr/bin/palette-app
#    there, as an unprivileged user when run as root (the install is then read-only), twice;
# 7. runs it once more on X11 (Xvfb, installed when missing and root): Qt's xcb platform
#    plugin with the distribution's xcb libraries, as on a desktop.
# Writes packaging/out/measurements.txt (sizes and launch times).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
PYTHON=${PYTHON:-python3}
OUT=${OUT:-$ROOT/packaging/out}
BUNDLE=$ROOT/dist/palette-app
export QT_QPA_PLATFORM=offscreen
unset NUMBA_CACHE_DIR

log() { printf 'ci_check: %s\n' "$*"; }
fail() { printf 'ci_check: FAIL: %s\n' "$*" >&2; exit 1; }

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  PYTHON="$PYTHON" OUT="$OUT" bash packaging/build_linux.sh
fi
VERSION=$("$PYTHON" -c 'from importlib.metadata import version; print(version("palette_app"))')
DEB=$(ls "$OUT"/palette-app_"$VERSION"_*.deb 2>/dev/null | head -1)
TARBALL=$(ls "$OUT"/palette-app-"$VERSION"-linux-*.tar.gz 2>/dev/null | head -1)
[ -x "$BUNDLE/palette-app" ] || fail "no bundle at $BUNDLE"
[ -n "$DEB" ] || fail "no .deb for $VERSION in $OUT"
[ -n "$TARBALL" ] || fail "no .tar.gz for $VERSION in $OUT"

SCRATCH=$(mktemp -d /tmp/palette-app-ci.XXXXXX)
chmod 755 "$SCRATCH"
trap 'rm -rf "$SCRATCH"' EXIT

# run_timed LOGNAME CMD...: run, keep the output in $SCRATCH/LOGNAME.log, set $SECONDS_TAKEN.
run_timed() {
  local name=$1; shift
  local t0 t1
  t0=$(date +%s%N)
  if ! "$@" >"$SCRATCH/$name.log" 2>&1; then
    cat "$SCRATCH/$name.log" >&2
    fail "$name: '$*' exited non-zero"
  fi
  t1=$(date +%s%N)
  SECONDS_TAKEN=$(awk "BEGIN { printf \"%.1f\", ($t1 - $t0) / 1e9 }")
}

# expect_compiled LOGNAME: the self-test's count of kernels compiled; expect_cached: 0 compiled.
compiled_in() { sed -n 's/.*kernels: \([0-9]*\) loaded from cache, \([0-9]*\) compiled.*/\2/p' "$SCRATCH/$1.log"; }
expect_no_compile() {
  local n; n=$(compiled_in "$1")
  [ "$n" = 0 ] || { cat "$SCRATCH/$1.log" >&2; fail "$1: the second launch compiled ${n:-?} kernels (expected 0: the cache was not used)"; }
}

# -- 2. self-test from the bundle, fresh cache, twice ---------------------------------
cache=$SCRATCH/cache-bundle
run_timed bundle-1 env XDG_CACHE_HOME="$cache" "$BUNDLE/palette-app" --self-test
t_bundle_1=$SECONDS_TAKEN
run_timed bundle-2 env XDG_CACHE_HOME="$cache" "$BUNDLE/palette-app" --self-test
t_bundle_2=$SECONDS_TAKEN
expect_no_compile bundle-2
grep -q "numba cache: $cache/palette-app/numba" "$SCRATCH/bundle-1.log" \
  || { cat "$SCRATCH/bundle-1.log" >&2; fail "the bundle did not use the per-user cache folder under \$XDG_CACHE_HOME"; }
log "bundle self-test: first launch ${t_bundle_1} s ($(compiled_in bundle-1) kernels compiled), second ${t_bundle_2} s (0 compiled)"

# -- 3. the command line from the bundle ------------------------------------------------
run_timed version env XDG_CACHE_HOME="$cache" "$BUNDLE/palette-app" --version
grep -q "$VERSION" "$SCRATCH/version.log" || fail "--version printed '$(cat "$SCRATCH/version.log")'"
run_timed palette env XDG_CACHE_HOME="$cache" NO_COLOR=1 "$BUNDLE/palette-app" palette assets/astronaut.png -n 6
[ "$(grep -c '#[0-9a-f]\{6\}' "$SCRATCH/palette.log")" -ge 6 ] || { cat "$SCRATCH/palette.log" >&2; fail "palette printed no 6 colors"; }
mkdir -p "$SCRATCH/in"
cp assets/astronaut.png "$SCRATCH/in/a.png"
cp assets/astronaut.png "$SCRATCH/in/b.png"
run_timed quantize env XDG_CACHE_HOME="$cache" "$BUNDLE/palette-app" quantize "$SCRATCH/in" -n 8 \
  -o "$SCRATCH/q" -j 2 -q
[ -f "$SCRATCH/q/a.png" ] && [ -f "$SCRATCH/q/b.png" ] || { ls -R "$SCRATCH/q" >&2 || true; fail "quantize -j 2 wrote no outputs"; }
log "command line: --version, palette, quantize -j 2 (worker processes) ok (${SECONDS_TAKEN} s)"

# -- 4. no writable cache folder: caching off --------------------------------------------
run_timed no-cache env NUMBA_CACHE_DIR=/proc/palette-app-not-writable "$BUNDLE/palette-app" --self-test
grep -q "numba cache: off" "$SCRATCH/no-cache.log" || { cat "$SCRATCH/no-cache.log" >&2; fail "caching was not turned off"; }
t_nocache=$SECONDS_TAKEN
log "no writable cache folder: self-test passes with caching off (${t_nocache} s)"

# -- 5. the .deb: contents and dependencies -------------------------------------------------
root=$SCRATCH/root
dpkg-deb -x "$DEB" "$root"
"$PYTHON" packaging/deb_depends.py "$root/opt/palette-app" "$DEB" >"$SCRATCH/depends.log" 2>&1 \
  || { cat "$SCRATCH/depends.log" >&2; fail "the .deb does not declare every library it needs"; }
log "$(tail -1 "$SCRATCH/depends.log"), all declared in Depends"
contents=$(dpkg-deb -c "$DEB")
for f in ./usr/bin/palette-app ./opt/palette-app/palette-app ./usr/share/applications/palette-app.desktop \
         ./usr/share/icons/hicolor/256x256/apps/palette-app.png ./opt/palette-app/_internal/palette_app/data/astronaut.png; do
  grep -q " $f\( \|$\)" <<<"$contents" || fail "$DEB has no $f"
done
if command -v desktop-file-validate >/dev/null; then
  desktop-file-validate assets/palette-app.desktop || fail "desktop-file-validate"
fi

# -- 6. the .deb unpacked into a scratch root: self-test through /usr/bin/palette-app ---------
as_user=()
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && id nobody >/dev/null 2>&1; then
  # nobody cannot write to the unpacked /opt, nor to its home: the cache falls back to TMPDIR.
  as_user=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
  user_tmp=$SCRATCH/tmp-nobody
  mkdir -p "$user_tmp" && chown nobody "$user_tmp"
else
  user_tmp=$SCRATCH/tmp-user
  mkdir -p "$user_tmp"
fi
deb_env=(env -i PATH=/usr/bin:/bin HOME=/nonexistent TMPDIR="$user_tmp" QT_QPA_PLATFORM=offscreen)
run_timed deb-1 "${as_user[@]}" "${deb_env[@]}" "$root/usr/bin/palette-app" --self-test
t_deb_1=$SECONDS_TAKEN
run_timed deb-2 "${as_user[@]}" "${deb_env[@]}" "$root/usr/bin/palette-app" --self-test
t_deb_2=$SECONDS_TAKEN
expect_no_compile deb-2
if [ ${#as_user[@]} -gt 0 ]; then
  grep -q "numba cache: $user_tmp/palette-app-numba-" "$SCRATCH/deb-1.log" \
    || { cat "$SCRATCH/deb-1.log" >&2; fail "with no writable home, the cache did not fall back to TMPDIR"; }
fi
log "installed .deb (${as_user:+as nobody, }read-only /opt): first launch ${t_deb_1} s, second ${t_deb_2} s (0 compiled)"

# -- 7. the real X11 platform plugin (xcb) under Xvfb, from the installed .deb -----------------
if ! command -v xvfb-run >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq xvfb xauth >/dev/null 2>&1 || true
fi
if command -v xvfb-run >/dev/null; then
  xcb_env=("${deb_env[@]/QT_QPA_PLATFORM=offscreen/QT_QPA_PLATFORM=xcb}")
  run_timed deb-xcb "${as_user[@]}" "${xcb_env[@]}" xvfb-run -a "$root/usr/bin/palette-app" --self-test
  grep -q "ok    build the main window (Qt xcb)" "$SCRATCH/deb-xcb.log" || { cat "$SCRATCH/deb-xcb.log" >&2; fail "xcb"; }
  log "installed .deb on X11 (Xvfb, xcb platform plugin and the system's xcb libraries): ok"
else
  log "skipped the X11 check (no xvfb-run)"
fi

# -- measurements ------------------------------------------------------------------------------
kib() { du -sk "$1" | cut -f1; }
mib() { awk "BEGIN { printf \"%.1f\", $1 / 1024 }"; }
{
  echo "palette-app $VERSION, $(uname -m), $(nproc) cores, $(date -u +%Y-%m-%d)"
  echo "bundle (dist/palette-app): $(mib "$(kib "$BUNDLE")") MiB"
  echo "$(basename "$DEB"): $(mib "$(kib "$DEB")") MiB (installed $(mib "$(dpkg-deb -f "$DEB" Installed-Size)") MiB)"
  echo "$(basename "$TARBALL"): $(mib "$(kib "$TARBALL")") MiB"
  echo "self-test from the bundle: first launch $t_bundle_1 s, second $t_bundle_2 s"
  echo "self-test from the installed .deb: first launch $t_deb_1 s, second $t_deb_2 s"
  echo "self-test with caching off: $t_nocache s"
} | tee "$OUT/measurements.txt"
log "all checks passed"
