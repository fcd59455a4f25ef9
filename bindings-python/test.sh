#!/usr/bin/env bash
# The Python package's tests, in a fresh virtual environment:
#   python3 -m venv; pip install ./bindings-python[test]; pytest -q
# Needs python3 (3.9+) with venv, a Rust toolchain, and the package registries (PyPI, crates.io).
# Prints pytest's summary line last. Extra arguments go to pytest.
#
# The extension is built in release mode, as users get it. AUTHSEC_PYTHON_PROFILE=dev builds it
# in debug mode instead (much faster on a cold cache, and it reuses `cargo test`'s artifacts).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
python="${PYTHON:-python3}"

work="$(mktemp -d "${TMPDIR:-/tmp}/authsec-python-test.XXXXXX")"
trap 'rm -rf "$work"' EXIT

echo "==> python: $("$python" --version 2>&1), venv in $work"
"$python" -m venv "$work/venv"
venv_python="$work/venv/bin/python"

if [[ -n "${AUTHSEC_PYTHON_PROFILE:-}" ]]; then
  export MATURIN_PEP517_ARGS="--profile ${AUTHSEC_PYTHON_PROFILE}"
fi
echo "==> pip install ./bindings-python[test] (builds the extension with maturin; minutes on a cold cache)"
"$venv_python" -m pip install --disable-pip-version-check -q "$here[test]"

echo "==> pytest"
cd "$here"
# -p no:cacheprovider: leave nothing behind in the source tree.
exec "$venv_python" -m pytest -q -p no:cacheprovider tests "$@"
