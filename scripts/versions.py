#!/usr/bin/env python3
"""The release version of every package, from one place: `[workspace.package] version` in the root
Cargo.toml. The Rust crates and the Python packages (maturin reads the crate's version) take it
from there; the files below write it out again, and this script keeps them equal.

  scripts/versions.py                  print the version
  scripts/versions.py --check          fail, listing each file, when a package's version differs
  scripts/versions.py --set X.Y.Z      write X.Y.Z into the root Cargo.toml and every file below
  scripts/versions.py --check-dist DIR fail when a built artifact in DIR (a wheel, an sdist, an npm
                                       tarball, a Go module) carries another version
  scripts/versions.py --self-test      on a copy of the files: --check fails when any one of them
                                       differs, and --set makes them all agree again (test.sh)

scripts/package.sh runs --check before it builds and --check-dist on what it built.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import tempfile
import sys
import tarfile
import zipfile
from pathlib import Path

ROOT = Path(os.environ.get("AUTHSEC_VERSIONS_ROOT") or Path(__file__).resolve().parent.parent)

# Go: the per-platform modules the Go module requires (bindings-go/go.mod), at the release's tag.
GO_PLATFORM_MODULE = re.compile(r"^(\s*github\.com/authsec/authsec/bindings-go/lib/\S+) (v\S+)$", re.M)
CARGO_VERSION = re.compile(r'^(version = ")([^"]+)(")$', re.M)
PY_TESTING_PIN = re.compile(r'^(dependencies = \["authsec==)([^"]+)("\])$', re.M)


def workspace_version() -> str:
    text = (ROOT / "Cargo.toml").read_text()
    section = text.split("[workspace.package]", 1)[1]
    m = CARGO_VERSION.search(section)
    if not m:
        sys.exit("versions.py: no version in [workspace.package] of Cargo.toml")
    return m.group(2)


def json_versions(path: Path) -> list[tuple[str, str]]:
    """(what, version) pairs of a package.json or package-lock.json."""
    data = json.loads(path.read_text())
    found = [("version", data.get("version", ""))]
    if path.name == "package-lock.json":
        found.append(('packages[""].version', data.get("packages", {}).get("", {}).get("version", "")))
    return found


def go_requirements(go_mod: str) -> list[tuple[str, str]]:
    """(module, version without the v) for each per-platform module a go.mod requires."""
    return [(m.group(1).strip(), m.group(2).removeprefix("v")) for m in GO_PLATFORM_MODULE.finditer(go_mod)]


def text_versions(path: Path, pattern: re.Pattern[str]) -> list[tuple[str, str]]:
    text = path.read_text()
    if pattern is GO_PLATFORM_MODULE:
        return go_requirements(text)
    m = pattern.search(text)
    return [("version", m.group(2) if m else "")]


# Each file that writes the version out, and how to read it.
FILES: list[tuple[str, re.Pattern[str] | None]] = [
    ("bindings-node/package.json", None),
    ("bindings-node/package-lock.json", None),
    ("wasm/package.json", None),
    ("wasm/package-lock.json", None),
    ("wasm/Cargo.toml", CARGO_VERSION),
    ("bindings-python/testing/pyproject.toml", PY_TESTING_PIN),
    ("bindings-go/go.mod", GO_PLATFORM_MODULE),
]


def source_mismatches(version: str) -> list[str]:
    out = []
    for rel, pattern in FILES:
        path = ROOT / rel
        found = json_versions(path) if pattern is None else text_versions(path, pattern)
        if not found:
            out.append(f"{rel}: no version found")
        for what, v in found:
            if v != version:
                out.append(f"{rel}: {what} is {v or '(missing)'}, not {version}")
    return out


def set_version(version: str) -> None:
    if not re.fullmatch(r"\d+\.\d+\.\d+(-[0-9A-Za-z.]+)?", version):
        sys.exit(f"versions.py: {version!r} is not a semantic version (X.Y.Z or X.Y.Z-pre)")
    cargo = ROOT / "Cargo.toml"
    head, section = cargo.read_text().split("[workspace.package]", 1)
    cargo.write_text(head + "[workspace.package]" + CARGO_VERSION.sub(rf"\g<1>{version}\g<3>", section, count=1))
    for rel, pattern in FILES:
        path = ROOT / rel
        if pattern is None:
            data = json.loads(path.read_text())
            data["version"] = version
            if path.name == "package-lock.json":
                data["packages"][""]["version"] = version
            path.write_text(json.dumps(data, indent=2) + "\n")
        elif pattern is GO_PLATFORM_MODULE:
            path.write_text(pattern.sub(rf"\g<1> v{version}", path.read_text()))
        else:
            path.write_text(pattern.sub(rf"\g<1>{version}\g<3>", path.read_text(), count=1))


def dist_versions(dist: Path) -> list[tuple[str, str]]:
    """(artifact, version) for each artifact in dist/, read from inside it."""
    found = []
    for wheel in sorted(dist.glob("python/*.whl")):
        with zipfile.ZipFile(wheel) as z:
            meta = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
            text = z.read(meta).decode()
        found.append((wheel.name, re.search(r"^Version: (\S+)$", text, re.M).group(1)))
        for req in re.findall(r"^Requires-Dist: authsec==(\S+)$", text, re.M):
            found.append((f"{wheel.name} Requires-Dist authsec", req))
    for sdist in sorted(dist.glob("python/*.tar.gz")):
        with tarfile.open(sdist) as t:
            member = next(m for m in t.getmembers() if m.name.count("/") == 1 and m.name.endswith("/PKG-INFO"))
            text = t.extractfile(member).read().decode()
        found.append((sdist.name, re.search(r"^Version: (\S+)$", text, re.M).group(1)))
    for tgz in sorted(dist.glob("npm/*.tgz")):
        with tarfile.open(tgz) as t:
            pkg = json.load(t.extractfile("package/package.json"))
        found.append((tgz.name, pkg["version"]))
        for dep, v in {**pkg.get("optionalDependencies", {}), **pkg.get("dependencies", {})}.items():
            if dep.startswith("@authsec/"):
                found.append((f"{tgz.name} depends on {dep}", v))
    for tgz in sorted(dist.glob("go/*.tar.gz")):
        with tarfile.open(tgz) as t:
            text = t.extractfile("bindings-go/go.mod").read().decode()
        found.append((tgz.name, re.search(r"-(\d+\.\d+\.\d+[^/]*?)\.tar\.gz$", tgz.name).group(1)))
        found += [(f"{tgz.name}: go.mod requires {module}", v) for module, v in go_requirements(text)]
    for z in sorted(dist.glob("go/*.zip")):
        found.append((z.name, z.name.rsplit("@v", 1)[1].removesuffix(".zip")))
    return found


def self_test() -> int:
    """--check on a copy of the version files, each changed in turn, then --set."""
    version = workspace_version()
    other = "9.8.7"
    with tempfile.TemporaryDirectory() as tmp:
        for rel in ["Cargo.toml"] + [rel for rel, _ in FILES]:
            (Path(tmp) / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(ROOT / rel, Path(tmp) / rel)
        env = {**os.environ, "AUTHSEC_VERSIONS_ROOT": tmp}

        def run(*args: str) -> int:
            return subprocess.run([sys.executable, __file__, *args], env=env, capture_output=True).returncode

        if run("--check") != 0:
            print("versions.py --self-test: the copy does not pass --check", file=sys.stderr)
            return 1
        for rel, _ in FILES:
            path = Path(tmp) / rel
            original = path.read_text()
            path.write_text(original.replace(version, other, 1))
            if path.read_text() == original or run("--check") == 0:
                print(f"versions.py --self-test: --check passed with {rel} at {other}", file=sys.stderr)
                return 1
            path.write_text(original)
        if run("--set", other) != 0 or run("--check") != 0:
            print(f"versions.py --self-test: --set {other} left the files disagreeing", file=sys.stderr)
            return 1
    print(f"versions: --check fails for each of the {len(FILES)} files changed alone; --set makes them agree")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--check", action="store_true")
    g.add_argument("--set", metavar="VERSION")
    g.add_argument("--check-dist", metavar="DIR", type=Path)
    g.add_argument("--self-test", action="store_true")
    args = ap.parse_args()
    if args.self_test:
        return self_test()
    if args.set:
        set_version(args.set)
        args.check = True
    version = workspace_version()
    if args.check:
        bad = source_mismatches(version)
        for line in bad:
            print(f"versions.py: {line}", file=sys.stderr)
        if bad:
            print(f"versions.py: run scripts/versions.py --set {version} (Cargo.toml is the source)", file=sys.stderr)
            return 1
        print(f"versions: {len(FILES) + 1} files at {version}")
        return 0
    if args.check_dist:
        found = dist_versions(args.check_dist)
        bad = [(what, v) for what, v in found if v != version]
        for what, v in bad:
            print(f"versions.py: {what} is version {v}, not {version}", file=sys.stderr)
        if not found:
            print(f"versions.py: no artifacts in {args.check_dist}", file=sys.stderr)
            return 1
        if bad:
            return 1
        print(f"versions: {len(found)} artifact versions in {args.check_dist} at {version}")
        return 0
    print(version)
    return 0


if __name__ == "__main__":
    sys.exit(main())
