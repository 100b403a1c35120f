"""Check that a .deb declares every system library its bundle links against.

    python packaging/deb_depends.py dist/palette-app packaging/out/palette-app_0.1.0_amd64.deb
    python packaging/deb_depends.py --glibc dist/palette-app     # prints e.g. 2.34

Reads the ``NEEDED`` entries of every ELF file in the bundle (``readelf -d``),
drops the libraries the bundle ships itself, finds the Debian package of each
remaining one on this machine (``dpkg -S``) and checks that the package is in the
.deb's ``Depends`` (``libfoo`` also satisfies a ``libfoot64`` found on Ubuntu
24.04 and later). Also checks that no file needs a newer glibc symbol version
than the ``libc6 (>= X)`` the package declares. Exit 0 when all is declared,
1 with the list of what is missing. Linux only (readelf, dpkg).
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

ELF_MAGIC = b"\x7fELF"


def elf_files(bundle: Path) -> list[Path]:
    files = []
    for path in bundle.rglob("*"):
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as f:
                if f.read(4) == ELF_MAGIC:
                    files.append(path)
    return sorted(files)


def needed_and_glibc(path: Path) -> tuple[set[str], tuple[int, ...]]:
    """The sonames ``path`` needs and the newest GLIBC_x.y version it references."""
    dyn = subprocess.run(["readelf", "-d", str(path)], capture_output=True, text=True).stdout
    needed = set(re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", dyn))
    ver = subprocess.run(["readelf", "-V", "-W", str(path)], capture_output=True, text=True).stdout
    versions = [tuple(int(x) for x in v.split(".")) for v in re.findall(r"Name: GLIBC_([0-9.]+)", ver)]
    return needed, max(versions, default=())


def package_of(soname: str) -> set[str]:
    """Debian packages that install a file named ``soname`` (empty when none)."""
    r = subprocess.run(["dpkg", "-S", f"*/{soname}"], capture_output=True, text=True)
    pkgs = set()
    for line in r.stdout.splitlines():
        owners, _, path = line.partition(": ")
        if Path(path).name != soname:
            continue
        for owner in owners.split(", "):
            pkgs.add(owner.split(":")[0])
    return pkgs


def declared_depends(deb: Path) -> tuple[set[str], tuple[int, ...]]:
    field = subprocess.run(["dpkg-deb", "-f", str(deb), "Depends"], capture_output=True,
                           text=True, check=True).stdout
    names, libc_min = set(), ()
    for alternatives in field.split(","):
        for dep in alternatives.split("|"):
            m = re.match(r"\s*([a-z0-9.+-]+)\s*(?:\(>=\s*([0-9.]+)[^)]*\))?", dep)
            if m:
                names.add(m.group(1))
                if m.group(1) == "libc6" and m.group(2):
                    libc_min = tuple(int(x) for x in m.group(2).split("."))
    return names, libc_min


def check(bundle: Path, deb: Path, out=sys.stdout) -> int:
    files = elf_files(bundle)
    shipped = {p.name for p in bundle.rglob("*")}
    needed: dict[str, list[str]] = {}
    newest_glibc: tuple[int, ...] = ()
    newest_file = ""
    for path in files:
        sonames, glibc = needed_and_glibc(path)
        if glibc > newest_glibc:
            newest_glibc, newest_file = glibc, str(path.relative_to(bundle))
        for soname in sonames - shipped:
            needed.setdefault(soname, []).append(str(path.relative_to(bundle)))
    declared, libc_min = declared_depends(deb)
    problems = []
    for soname in sorted(needed):
        pkgs = package_of(soname)
        ok = any(p in declared or p.removesuffix("t64") in declared for p in pkgs)
        status = "ok" if ok else "MISSING"
        out.write(f"{status:8} {soname:32} {', '.join(sorted(pkgs)) or '(not installed here)'}\n")
        if not ok:
            users = needed[soname]
            more = f" and {len(users) - 1} more" if len(users) > 1 else ""
            owner = ", ".join(sorted(pkgs)) or "unknown, not installed on this machine"
            problems.append(f"{soname} (needed by {users[0]}{more}; package: {owner})")
    glibc_text = ".".join(map(str, newest_glibc))
    out.write(f"newest glibc symbol: GLIBC_{glibc_text} ({newest_file}); "
              f"declared libc6 >= {'.'.join(map(str, libc_min)) or '(none)'}\n")
    if newest_glibc > libc_min:
        problems.append(f"{newest_file} needs GLIBC_{glibc_text}, newer than the declared libc6 minimum")
    out.write(f"{len(files)} ELF files, {len(needed)} system libraries\n")
    if problems:
        out.write("not declared in Depends:\n" + "".join(f"  {p}\n" for p in problems))
        return 1
    return 0


def newest_glibc(bundle: Path) -> str:
    """The newest ``GLIBC_x.y`` symbol version any file of the bundle references."""
    newest = max((needed_and_glibc(path)[1] for path in elf_files(bundle)), default=())
    return ".".join(map(str, newest))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("bundle", type=Path, help="the bundle folder (dist/palette-app)")
    p.add_argument("deb", type=Path, nargs="?", help="the .deb whose Depends to check")
    p.add_argument("--glibc", action="store_true",
                   help="only print the newest glibc version the bundle needs (for libc6 (>= X))")
    args = p.parse_args(argv)
    if args.glibc:
        print(newest_glibc(args.bundle))
        return 0
    if args.deb is None:
        p.error("the .deb is required unless --glibc is given")
    return check(args.bundle, args.deb)


if __name__ == "__main__":
    sys.exit(main())
