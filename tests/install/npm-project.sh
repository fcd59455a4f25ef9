#!/usr/bin/env bash
# npm-project.sh <dist> <project folder> [module|commonjs]: makes a fresh npm project and installs
# @authsec/sdk and @authsec/sdk-testing into it from dist/npm's tarballs, with this machine's
# platform packages, as a user's project gets them. The platform packages are the main packages'
# optional dependencies: given here as tarballs, npm takes them instead of looking them up in the
# registry. Prints this machine's npm platform name (linux-x64-gnu, ...).
set -euo pipefail
dist="$(cd "$1" && pwd)" project="$2" type="${3:-commonjs}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
version="$(python3 "$root/scripts/versions.py")"
platform="$(node -p "require('$root/bindings-node/lib/load').platformName()")"
mkdir -p "$project"
echo "{\"name\": \"authsec-installed\", \"private\": true, \"type\": \"$type\"}" >"$project/package.json"
(cd "$project" && npm install --no-audit --no-fund --loglevel=error \
  "$dist/npm/authsec-sdk-$version.tgz" "$dist/npm/authsec-sdk-$platform-$version.tgz" \
  "$dist/npm/authsec-sdk-testing-$version.tgz" "$dist/npm/authsec-sdk-testing-$platform-$version.tgz" >&2)
echo "$platform"
