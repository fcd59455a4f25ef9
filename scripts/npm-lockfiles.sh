#!/usr/bin/env bash
# The npm lock files (every package-lock.json git tracks) must pin every package, for every
# platform, so that `npm ci` installs exactly them anywhere and the test run never writes them.
#   scripts/npm-lockfiles.sh            check: `npm ci --dry-run` accepts each one (it refuses a
#                                       lock file out of sync with package.json, or one missing an
#                                       optional package of another platform); installs nothing
#   scripts/npm-lockfiles.sh --update   after changing a package.json: `npm install
#                                       --package-lock-only --ignore-scripts` in each package (no
#                                       install; npm 11 resolves every platform's optional
#                                       packages into the lock file); then commit the lock files
# Some npm versions and setups write lock files with only the optional packages of the platform
# they ran on (npm/cli#4828, #8320); the check catches that before anything installs from them.
# Prints "npm lock files: N checked, M failed" last.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

mode=check
case "${1:-}" in
  "") ;;
  --update) mode=update ;;
  *) echo "usage: scripts/npm-lockfiles.sh [--update]" >&2; exit 2 ;;
esac

checked=0
failed=0
while IFS= read -r lock; do
  dir="$(dirname "$lock")"
  out="$(mktemp "${TMPDIR:-/tmp}/authsec-npm-lock.XXXXXX")"
  if [[ "$mode" == update ]]; then
    # The committed lock files carry no "resolved" registry URLs (npm finds each package by name
    # and version, and checks its integrity); keep new entries like that whatever ~/.npmrc says.
    cmd=(env npm_config_omit_lockfile_registry_resolved=true
      npm install --package-lock-only --ignore-scripts --no-audit --no-fund)
  else
    cmd=(npm ci --dry-run --ignore-scripts --no-audit --no-fund)
  fi
  checked=$((checked + 1))
  if (cd "$dir" && "${cmd[@]}") >"$out" 2>&1; then
    echo "ok   $lock"
  else
    failed=$((failed + 1))
    grep -v EBADENGINE "$out" | sed '/npm error Clean install a project/,$d' | head -n 60
    echo "FAIL $lock: ${cmd[*]} failed"
  fi
  rm -f "$out"
done < <(git ls-files -- ':(glob)**/package-lock.json')

echo "npm lock files: $checked checked, $failed failed"
[[ "$failed" -eq 0 ]]
