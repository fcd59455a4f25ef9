#!/usr/bin/env bash
# The Python package's tests, in a fresh virtual environment:
#   python3 -m venv; pip install ./bindings-python[test] ./bindings-python/testing; pytest -q
# (bindings-python/testing is authsec-testing, the local server for tests, a separate extension
# module and distribution so that the authsec wheel does not carry it.)
# Needs python3 (3.9+) with venv, a Rust toolchain, and the package registries (PyPI, crates.io).
# Prints pytest's summary line last. Extra arguments go to pytest.
# AUTHSEC_DIST=<dir>: test the wheels scripts/package.sh wrote to <dir> instead (no Rust needed).
#
# The extensions are built in cargo's release profile, as users get them, or in the profile
# AUTHSEC_CARGO_PROFILE names (scripts/test.sh: `ci`, the profile its other builds share).
# AUTHSEC_PYTHON_VENV=<dir> creates the (still fresh) venv at <dir> and keeps it afterwards, for
# later use of the installed package; <dir> must not exist or be a venv.
# With AUTHSEC_CONFORMANCE_OUT=<dir>, tests/test_vectors.py also writes <dir>/python.json
# (tests/conformance/README.md).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
python="${PYTHON:-python3}"

if [[ -n "${AUTHSEC_PYTHON_VENV:-}" ]]; then
  venv="$AUTHSEC_PYTHON_VENV"
  [[ "$venv" == /* ]] || venv="$PWD/$venv"
  if [[ -e "$venv" && ! -f "$venv/pyvenv.cfg" ]]; then
    echo "AUTHSEC_PYTHON_VENV=$venv exists and is not a venv; refusing to replace it" >&2
    exit 2
  fi
  rm -rf "$venv"
  echo "==> python: $("$python" --version 2>&1), venv in $venv (kept: AUTHSEC_PYTHON_VENV)"
else
  work="$(mktemp -d "${TMPDIR:-/tmp}/authsec-python-test.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  venv="$work/venv"
  echo "==> python: $("$python" --version 2>&1), venv in $work"
fi
"$python" -m venv "$venv"
venv_python="$venv/bin/python"

pip=("$venv_python" -m pip --disable-pip-version-check -q)
if [[ -n "${AUTHSEC_DIST:-}" ]]; then
  # The wheels scripts/package.sh built (AUTHSEC_DIST=<its dist/>), from there only (--no-index: no
  # other authsec can stand in), then the test extra's requirements as the installed wheel names them.
  version="$("$python" "$here/../scripts/versions.py")"
  echo "==> pip install --no-index --only-binary=:all: --find-links $AUTHSEC_DIST/python authsec authsec-testing; the [test] extra's requirements"
  "${pip[@]}" install --no-index --only-binary=:all: --find-links "$AUTHSEC_DIST/python" "authsec==$version" "authsec-testing==$version"
  mapfile -t extra < <("$venv_python" - <<'PY'
import re
from importlib.metadata import requires
for req in requires("authsec") or []:
    if re.search(r"""extra\s*==\s*["']test["']""", req):
        print(re.sub(r"""\s*(and\s*)?extra\s*==\s*["']test["']""", "", req).rstrip("; "))
PY
  )
  "${pip[@]}" install "${extra[@]}"
else
  if [[ -n "${AUTHSEC_CARGO_PROFILE:-}" ]]; then
    export MATURIN_PEP517_ARGS="--profile ${AUTHSEC_CARGO_PROFILE}"
  fi
  echo "==> pip install ./bindings-python[test] ./bindings-python/testing (builds both extensions with maturin; minutes on a cold cache)"
  "${pip[@]}" install "$here[test]" "$here/testing"
fi

echo "==> pytest"
cd "$here"
# -p no:cacheprovider: leave nothing behind in the source tree.
exec "$venv_python" -m pytest -q -p no:cacheprovider tests "$@"
