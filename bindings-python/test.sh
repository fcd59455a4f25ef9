#!/usr/bin/env bash
# The Python package's tests, in a fresh virtual environment:
#   python3 -m venv; pip install ./bindings-python[test] ./bindings-python/testing; pytest -q
# (bindings-python/testing is authsec-testing, the local server for tests, a separate extension
# module and distribution so that the authsec wheel does not carry it.)
# Needs python3 (3.9+) with venv, a Rust toolchain, and the package registries (PyPI, crates.io).
# Prints pytest's summary line last. Extra arguments go to pytest.
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

if [[ -n "${AUTHSEC_CARGO_PROFILE:-}" ]]; then
  export MATURIN_PEP517_ARGS="--profile ${AUTHSEC_CARGO_PROFILE}"
fi
echo "==> pip install ./bindings-python[test] ./bindings-python/testing (builds both extensions with maturin; minutes on a cold cache)"
"$venv_python" -m pip install --disable-pip-version-check -q "$here[test]" "$here/testing"

echo "==> pytest"
cd "$here"
# -p no:cacheprovider: leave nothing behind in the source tree.
exec "$venv_python" -m pytest -q -p no:cacheprovider tests "$@"
