#!/usr/bin/env bash
# Runs a command next to a real SPIRE server and agent (tests/spire/spire.sh): installs SPIRE when
# missing (tests/spire/install.sh), starts both in a temporary directory, runs the command with
# SPIFFE_ENDPOINT_SOCKET and AUTHSEC_SPIRE_* exported, then stops them and removes the directory.
# Usage: tests/spire/run.sh [command...]     (default: tests/spire/smoke.sh)
# Exit status: the command's (or 1 when SPIRE could not start).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

AUTHSEC_SPIRE_BIN="$("$here/install.sh" | tail -n 1)"
export AUTHSEC_SPIRE_BIN
# shellcheck source=tests/spire/spire.sh
source "$here/spire.sh"

wd="$(mktemp -d "${TMPDIR:-/tmp}/authsec-spire.XXXXXX")"
cleanup() {
  local status=$?
  set +e
  spire_stop
  if ((status != 0)) && [[ -z "${AUTHSEC_SPIRE_STARTED:-}" ]]; then
    # SPIRE did not come up: its logs are the only clue.
    for log in "$wd/server.log" "$wd/agent.log"; do
      [[ -f "$log" ]] && { echo "---- last lines of $log" >&2; tail -n 20 "$log" >&2; }
    done
  fi
  rm -rf "$wd"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start=$EPOCHREALTIME
spire_start "$wd"
export AUTHSEC_SPIRE_STARTED=1
AUTHSEC_SPIRE_STARTUP_SECONDS="$(spire_since "$start")"
export AUTHSEC_SPIRE_STARTUP_SECONDS
echo "spire: server and agent up in $AUTHSEC_SPIRE_STARTUP_SECONDS s ($SPIFFE_ENDPOINT_SOCKET)" >&2

if (($# == 0)); then set -- "$here/smoke.sh"; fi
# In the background and waited for, so that SIGINT/SIGTERM reach the traps at once (bash runs them
# only after a foreground command ends); the command keeps this script's stdin.
"$@" <&0 &
command_pid=$!
stop_command() { kill -TERM "$command_pid" 2>/dev/null; wait "$command_pid" 2>/dev/null; }
trap 'stop_command; exit 130' INT
trap 'stop_command; exit 143' TERM
set +e
wait "$command_pid"
status=$?
set -e
exit "$status"
