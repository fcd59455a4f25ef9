#!/usr/bin/env python3
"""Inspects the native code in each artifact scripts/package.sh wrote, so that a cross-built package
(built here, never run here) is known to be what its name says:

  inspect-dist.py DIST [--max-glibc 2.17]

- every ELF file is for the package's CPU (a wheel's platform tag, an npm platform package's `cpu`,
  a Go platform module's folder);
- a glibc build needs no glibc symbol version above --max-glibc (a manylinux wheel: also not above
  the version its tag names) and a musl build needs musl's libc (`libc.so` or
  `libc.musl-<arch>.so.1`, which musl's dynamic linker answers with itself) and no glibc at all;
- a wheel holds one abi3 extension module and is tagged cp39-abi3.

Prints a line per artifact and fails on the first artifact that does not fit. Reads ELF files with
pyelftools (package.sh installs it with its other tools).
"""

from __future__ import annotations

import argparse
import io
import json
import re
import sys
import tarfile
import zipfile
from pathlib import Path

from elftools.elf.dynamic import DynamicSection
from elftools.elf.elffile import ELFFile
from elftools.elf.gnuversions import GNUVerNeedSection

MACHINES = {"x86_64": "EM_X86_64", "x64": "EM_X86_64", "amd64": "EM_X86_64", "aarch64": "EM_AARCH64", "arm64": "EM_AARCH64"}


class Misfit(Exception):
    pass


def elf(data: bytes) -> dict:
    f = ELFFile(io.BytesIO(data))
    needed, glibc = [], []
    for section in f.iter_sections():
        if isinstance(section, DynamicSection):
            needed += [t.needed for t in section.iter_tags() if t.entry.d_tag == "DT_NEEDED"]
        elif isinstance(section, GNUVerNeedSection):
            for _, auxes in section.iter_versions():
                glibc += [tuple(int(x) for x in a.name[6:].split(".")) for a in auxes if a.name.startswith("GLIBC_2")]
    return {"machine": f["e_machine"], "needed": needed, "glibc": max(glibc, default=None)}


def ar_members(data: bytes):
    """(name, bytes) of each member of a System V / GNU ar archive."""
    if not data.startswith(b"!<arch>\n"):
        raise Misfit("not an ar archive")
    pos = 8
    while pos + 60 <= len(data):
        header = data[pos : pos + 60]
        size = int(header[48:58].decode().strip())
        yield header[:16].decode().strip(), data[pos + 60 : pos + 60 + size]
        pos += 60 + size + (size & 1)


def version(v: tuple | None) -> str:
    return "none" if v is None else "GLIBC_" + ".".join(map(str, v))


def check_shared(what: str, data: bytes, cpu: str, libc: str, max_glibc: tuple | None) -> str:
    info = elf(data)
    if info["machine"] != MACHINES[cpu]:
        raise Misfit(f"{what} is {info['machine']}, not {MACHINES[cpu]}")
    if libc == "musl":
        # musl's dynamic linker answers a NEEDED libc.so (zig's name) or libc.musl-<arch>.so.1 with itself.
        if info["glibc"] is not None or not any(n == "libc.so" or n.startswith("libc.musl-") for n in info["needed"]):
            raise Misfit(f"{what} needs {info['needed']} and {version(info['glibc'])}: not a musl build")
        return f"{info['machine']}, musl ({' '.join(info['needed'])})"
    if max_glibc is not None and info["glibc"] is not None and info["glibc"] > max_glibc:
        raise Misfit(f"{what} needs {version(info['glibc'])}, above {version(max_glibc)}")
    return f"{info['machine']}, glibc symbols up to {version(info['glibc'])}"


def wheel(path: Path, max_glibc: tuple | None) -> str:
    with zipfile.ZipFile(path) as z:
        text = z.read(next(n for n in z.namelist() if n.endswith(".dist-info/WHEEL"))).decode()
        tags = re.findall(r"^Tag: (\S+)$", text, re.M)
        modules = [n for n in z.namelist() if n.endswith(".abi3.so")]
        if not tags or not all(t.startswith("cp39-abi3-") for t in tags):
            raise Misfit(f"tags {tags}, not cp39-abi3-*")
        if len(modules) != 1:
            raise Misfit(f"extension modules {modules}, not one *.abi3.so")
        m = re.match(r"cp39-abi3-(many|musl)linux_(\d+)_(\d+)_(\w+)$", tags[-1])
        if not m:
            raise Misfit(f"tag {tags[-1]} is not a manylinux or musllinux tag")
        libc = "musl" if m.group(1) == "musl" else "glibc"
        limit = (int(m.group(2)), int(m.group(3))) if libc == "glibc" else None
        if max_glibc is not None and limit is not None:
            limit = min(limit, max_glibc)
        return f"{', '.join(tags)}: " + check_shared(modules[0], z.read(modules[0]), m.group(4), libc, limit)


def npm_platform(path: Path, max_glibc: tuple | None) -> str | None:
    with tarfile.open(path) as t:
        pkg = json.load(t.extractfile("package/package.json"))
        if "cpu" not in pkg:
            return None
        libc = (pkg.get("libc") or ["glibc"])[0]
        data = t.extractfile(f"package/{pkg['main']}").read()
    return f"{pkg['os'][0]}-{pkg['cpu'][0]}-{libc}: " + check_shared(pkg["main"], data, pkg["cpu"][0], libc, max_glibc)


def go_module(path: Path, max_glibc: tuple | None) -> list[str]:
    lines = []
    with tarfile.open(path) as t:
        for member in t.getmembers():
            m = re.match(r"bindings-go/lib/(\w+?)_(amd64|arm64)(_testing)?/(lib\w+\.(a|so))$", member.name)
            if not m:
                continue
            data = t.extractfile(member).read()
            cpu = m.group(2)
            if m.group(5) == "a":
                objects = [(n, d) for n, d in ar_members(data) if d.startswith(b"\x7fELF")]
                machines = {elf(d)["machine"] for _, d in objects}
                if machines != {MACHINES[cpu]}:
                    raise Misfit(f"{member.name}: objects for {sorted(machines)}, not {MACHINES[cpu]}")
                lines.append(f"{member.name}: {len(objects)} objects, all {MACHINES[cpu]}")
            else:
                lines.append(f"{member.name}: " + check_shared(member.name, data, cpu, "glibc", max_glibc))
    if not lines:
        raise Misfit("no libraries in the module")
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dist", type=Path)
    ap.add_argument("--max-glibc", help="the newest glibc symbol version a glibc build may need, e.g. 2.17")
    args = ap.parse_args()
    max_glibc = tuple(int(x) for x in args.max_glibc.split(".")) if args.max_glibc else None
    checked = 0
    try:
        for path in sorted(args.dist.glob("python/*.whl")):
            print(f"inspect: python {path.name}: {wheel(path, max_glibc)}")
            checked += 1
        for path in sorted(args.dist.glob("npm/*.tgz")):
            line = npm_platform(path, max_glibc)
            if line:
                print(f"inspect: npm {path.name}: {line}")
                checked += 1
        for path in sorted(args.dist.glob("go/*.tar.gz")):
            for line in go_module(path, max_glibc):
                print(f"inspect: go {line}")
                checked += 1
    except Misfit as e:
        print(f"inspect-dist.py: {path.name}: {e}", file=sys.stderr)
        return 1
    if not checked:
        print(f"inspect-dist.py: nothing to inspect in {args.dist}", file=sys.stderr)
        return 1
    print(f"inspect: {checked} native artifacts fit their platforms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
