#!/usr/bin/env bash
# Installs SPIRE's server and agent (the real ones, built from the Go module proxy) when missing, and
# prints the directory that holds them. The Go module proxy serves github.com/spiffe/spire v1.13.3
# without a listed version, so `go install ...@v1.13.3` is refused; a small tools module with
# `go get -tool` pins it instead, and `go install` builds from there.
#
# The build is long (about 10 CPU-minutes per core on 2 cores, ~1.1 GB of module cache, cgo for
# SQLite): it runs once per machine and is reused from AUTHSEC_SPIRE_INSTALL_DIR afterwards
# (AUTHSEC_SPIRE_DIR is the running harness's workdir; see spire.sh).
# Usage: tests/spire/install.sh   ->   prints the bin directory on its last line
set -euo pipefail

version=v1.13.3
dir="${AUTHSEC_SPIRE_INSTALL_DIR:-$HOME/.cache/authsec/spire-$version}"
bin="$dir/bin"

if [[ -x "$bin/spire-server" && -x "$bin/spire-agent" ]]; then
  echo "$bin"
  exit 0
fi

command -v go >/dev/null || { echo "tests/spire/install.sh: go is not on PATH; SPIRE is built from source with it" >&2; exit 1; }
command -v gcc >/dev/null || { echo "tests/spire/install.sh: gcc is not on PATH; SPIRE's SQLite datastore needs cgo" >&2; exit 1; }

mkdir -p "$dir/tools"
cd "$dir/tools"
[[ -f go.mod ]] || go mod init authsec.local/spire-tools >/dev/null 2>&1
start=$SECONDS
# -modcacherw: a module cache that can be deleted without chmod.
export GOFLAGS="-modcacherw" CGO_ENABLED=1 GOTOOLCHAIN=local
go get -tool "github.com/spiffe/spire/cmd/spire-server@$version" >&2
go get -tool "github.com/spiffe/spire/cmd/spire-agent@$version" >&2
GOBIN="$bin.partial" go install -trimpath -ldflags="-s -w" \
  github.com/spiffe/spire/cmd/spire-server github.com/spiffe/spire/cmd/spire-agent >&2
rm -rf "$bin"
mv "$bin.partial" "$bin"
echo "SPIRE $version built in $((SECONDS - start)) s into $bin" >&2
echo "$bin"
