"""The type stubs (`authsec/_native.pyi`) and the native module stay in step: every public name
and method on one side is on the other, with the same parameters."""

from __future__ import annotations

import ast
import inspect
import os
import pathlib
import subprocess
import sys
from typing import Dict, List, Optional, Set

import pytest

import authsec
from authsec import _native

STUB = pathlib.Path(authsec.__file__).with_name("_native.pyi")


def _params(fn: ast.FunctionDef) -> List[str]:
    a = fn.args
    names = [x.arg for x in a.posonlyargs + a.args]
    if a.vararg:
        names.append("*" + a.vararg.arg)
    elif a.kwonlyargs:
        names.append("*")
    names += [x.arg for x in a.kwonlyargs]
    if a.kwarg:
        names.append("**" + a.kwarg.arg)
    return [n for n in names if n not in ("self", "cls")]


def _runtime_params(obj: object) -> Optional[List[str]]:
    try:
        sig = inspect.signature(obj)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    out: List[str] = []
    star = False
    for p in sig.parameters.values():
        if p.name in ("self", "cls", "$self", "$cls", "type", "$type"):
            continue
        if p.kind is p.VAR_POSITIONAL:
            out.append("*" + p.name)
            star = True
        elif p.kind is p.KEYWORD_ONLY and not star:
            out.append("*")
            star = True
            out.append(p.name)
        elif p.kind is p.VAR_KEYWORD:
            out.append("**" + p.name)
        else:
            out.append(p.name)
    return out


def _stub() -> ast.Module:
    return ast.parse(STUB.read_text())


def _public(names: Set[str]) -> Set[str]:
    return {n for n in names if not (n.startswith("__") and n.endswith("__"))}


def test_stub_is_valid_python() -> None:
    compile(STUB.read_text(), str(STUB), "exec")
    assert STUB.with_name("py.typed").exists()


def test_module_level_names() -> None:
    tree = _stub()
    stub_names: Set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            stub_names.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            stub_names.add(node.target.id)
    stub_names = {n for n in stub_names if not n.startswith("_") or n == "_shutdown"}
    runtime = _public(set(dir(_native))) - {"_native"}
    assert runtime == _public(stub_names), "authsec/_native.pyi and the native module differ"


def test_classes_and_signatures() -> None:
    tree = _stub()
    classes: Dict[str, ast.ClassDef] = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
    for name, node in classes.items():
        cls = getattr(_native, name)
        stub_members: Dict[str, ast.FunctionDef] = {
            f.name: f for f in node.body if isinstance(f, ast.FunctionDef)
        }
        runtime_members = {m for m in vars(cls) if not (m.startswith("__") and m.endswith("__"))}
        assert runtime_members == _public(set(stub_members)), f"{name}: stub and runtime members differ"
        for member, fn in stub_members.items():
            if member == "__new__":
                runtime = _runtime_params(cls)
            elif member.startswith("__"):
                continue
            else:
                attr = inspect.getattr_static(cls, member)
                if isinstance(attr, property) or type(attr).__name__ == "getset_descriptor":
                    assert any(
                        isinstance(d, ast.Name) and d.id == "property" for d in fn.decorator_list
                    ), f"{name}.{member} is a property at runtime"
                    continue
                runtime = _runtime_params(getattr(cls, member))
            if runtime is not None:
                assert runtime == _params(fn), f"{name}.{member}: stub {_params(fn)} != runtime {runtime}"
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            runtime = _runtime_params(getattr(_native, node.name))
            if runtime is not None:
                assert runtime == _params(node), f"{node.name}: stub {_params(node)} != runtime {runtime}"


def test_stubtest_and_mypy(tmp_path: pathlib.Path) -> None:
    """mypy's stubtest compares the stub with the runtime module (names, signatures, defaults),
    and mypy type-checks the package against the stub."""
    pytest.importorskip("mypy")
    env = dict(os.environ, MYPY_CACHE_DIR=str(tmp_path / "mypy-cache"))
    # Optional dependencies (requests, httpx, fastapi) may come without type information.
    untyped = ["--ignore-missing-imports", "--disable-error-code=import-untyped"]
    for args in (["-m", "mypy.stubtest", "authsec._native"], ["-m", "mypy", *untyped, "-p", "authsec"]):
        r = subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
        assert r.returncode == 0, r.stdout + r.stderr
