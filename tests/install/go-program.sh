#!/usr/bin/env bash
# go-program.sh <unpacked bindings-go> <program source folder> <destination>: copies a Go program
# and gives it a go.mod that requires the authsec module at the release version, replaced with the
# unpacked copy (the module as a release tag holds it) and each of its per-platform modules, as a
# user does to try a module before it is published. go mod tidy fills go.sum from the module proxy.
set -euo pipefail
module="$(cd "$1" && pwd)" src="$2" dest="$3"
version="$(python3 "$(dirname "$0")/../../scripts/versions.py")"
mkdir -p "$dest"
cp "$src"/*.go "$dest/"
{
  echo "module example.com/authsec-install-test"
  echo
  echo "go 1.25.0"
  echo
  echo "require github.com/authsec/authsec/bindings-go v$version"
  echo
  echo "replace ("
  echo "	github.com/authsec/authsec/bindings-go => $module"
  for platform in "$module"/lib/*/go.mod; do
    dir="$(dirname "$platform")"
    echo "	github.com/authsec/authsec/bindings-go/lib/$(basename "$dir") => $dir"
  done
  echo ")"
} >"$dest/go.mod"
(cd "$dest" && go mod tidy)
