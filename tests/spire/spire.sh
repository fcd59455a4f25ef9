# shellcheck shell=bash
# A real SPIRE server and agent (1.13.3, built by tests/spire/install.sh) on 127.0.0.1 and Unix sockets in
# one directory, for the tests that need a Workload API. Sourced, not run:
#
#   source tests/spire/spire.sh
#   spire_start "$(mktemp -d)"      # server + agent + one registration entry; exports the env below
#   ...                              # SPIFFE_ENDPOINT_SOCKET, AUTHSEC_SPIRE_* for the tests
#   spire_rotate_jwt_key            # prepare + activate a new JWT key; prints its kid
#   spire_taint_old_jwt_key         # the agent drops JWT-SVIDs the old key signed
#   spire_revoke_old_jwt_key        # the old key leaves the bundle
#   spire_refresh_bundle_file       # bundle.jwks.json again, after any of those
#   spire_stop
#
# One identity per uid: the single registration entry spiffe://example.org/agents/ml-training has the
# selector unix:uid:<the current uid>, so a FetchJWTSVID without spiffe_id is never ambiguous (the agent
# would otherwise sign one SVID per matching entry, and the CLI and the SDKs take the first one).
#
# Every wait is bounded in time; nothing listens beyond 127.0.0.1; processes are stopped by their PIDs.

SPIRE_TRUST_DOMAIN="example.org"
SPIRE_WORKLOAD_ID="spiffe://$SPIRE_TRUST_DOMAIN/agents/ml-training"

# The bin directory: AUTHSEC_SPIRE_BIN, else tests/spire/install.sh's default install directory.
_spire_bin() {
  echo "${AUTHSEC_SPIRE_BIN:-${AUTHSEC_SPIRE_INSTALL_DIR:-$HOME/.cache/authsec/spire-v1.13.3}/bin}"
}
_spire_server() { "$(_spire_bin)/spire-server" "$@"; }
_spire_agent() { "$(_spire_bin)/spire-agent" "$@"; }
_spire_log() { echo "spire: $*" >&2; }

# _spire_wait [--pid <pidfile>] <seconds> <what> <command...>: runs the command every 0.5 s until it
# succeeds or the time is up (then says what it waited for and fails). With --pid, it fails at once
# when that process has exited.
_spire_wait() {
  local pidfile="" seconds what deadline tries=0
  if [[ "$1" == --pid ]]; then pidfile="$2"; shift 2; fi
  seconds="$1" what="$2"
  shift 2
  deadline=$((SECONDS + seconds))
  while ((tries < seconds * 4)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    if [[ -n "$pidfile" ]] && ! _spire_alive "$pidfile"; then
      _spire_log "$(basename "$pidfile" .pid) exited while waiting for $what"
      return 1
    fi
    ((SECONDS < deadline)) || break
    tries=$((tries + 1))
    sleep 0.5
  done
  _spire_log "timed out after ${seconds} s waiting for $what"
  return 1
}

# spire_since <start>: seconds since <start> (an $EPOCHREALTIME), with one decimal.
spire_since() { LC_ALL=C awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f\n", b - a }'; }

# _spire_alive <pidfile>: the process in the PID file is running.
_spire_alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

# _spire_free_port: a TCP port on 127.0.0.1 nobody listens on right now.
_spire_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# _spire_fetch_json <audience>: the agent CLI's JSON answer to FetchJWTSVID (the SVIDs, then the bundles).
_spire_fetch_json() {
  _spire_agent api fetch jwt -audience "$1" -socketPath "$AUTHSEC_SPIRE_DIR/agent.sock" -output json
}

# spire_fetch_jwt <audience>: a JWT-SVID for the workload (this uid) with that audience, on stdout.
spire_fetch_jwt() {
  _spire_fetch_json "$1" | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["svids"][0]["svid"])'
}

# spire_jwt_kid <jwt>: the kid in a JWT's protected header.
spire_jwt_kid() {
  python3 - "$1" <<'EOF'
import base64, json, sys
seg = sys.argv[1].split(".")[0]
print(json.loads(base64.urlsafe_b64decode(seg + "=" * (-len(seg) % 4)))["kid"])
EOF
}

# _spire_agent_bundle_kids <audience>: the kids of the trust domain's JWT bundle the agent serves.
_spire_agent_bundle_kids() {
  _spire_fetch_json "$1" | python3 -c '
import base64, json, sys
bundles = json.load(sys.stdin)[1]["bundles"]
jwks = json.loads(base64.b64decode(bundles["spiffe://" + sys.argv[1]]))
print(" ".join(k["kid"] for k in jwks.get("keys", [])))' "$SPIRE_TRUST_DOMAIN"
}

# _spire_authority <slot>: the authority ID (= the kid) of the server's active|prepared|old JWT key.
_spire_authority() {
  _spire_server localauthority jwt show -output json -socketPath "$AUTHSEC_SPIRE_DIR/server/api.sock" |
    python3 -c 'import json, sys; print((json.load(sys.stdin).get(sys.argv[1]) or {}).get("authority_id", ""))' "$1"
}

# spire_start <workdir>: writes server.conf and agent.conf there, starts both, registers the workload,
# waits until a JWT-SVID can be fetched, writes bundle.jwks.json and exports:
#   SPIFFE_ENDPOINT_SOCKET=unix://<workdir>/agent.sock   AUTHSEC_SPIRE_DIR=<workdir>
#   AUTHSEC_SPIRE_TRUST_DOMAIN=example.org   AUTHSEC_SPIRE_SPIFFE_ID=spiffe://example.org/agents/ml-training
#   AUTHSEC_SPIRE_BUNDLE_FILE=<workdir>/bundle.jwks.json   (the SPIFFE bundle: JWKS with use, kid, x5c)
spire_start() {
  local wd="$1" port token uid agent_id
  [[ -n "$wd" ]] || { _spire_log "spire_start <workdir>"; return 2; }
  mkdir -p "$wd/server" "$wd/agent" || return 1
  wd="$(cd "$wd" && pwd)"
  [[ -x "$(_spire_bin)/spire-server" && -x "$(_spire_bin)/spire-agent" ]] ||
    { _spire_log "no SPIRE in $(_spire_bin) (tests/spire/install.sh builds it)"; return 1; }
  # A Unix socket path holds at most 107 bytes.
  ((${#wd} + 20 < 108)) || { _spire_log "workdir path too long for a Unix socket: $wd"; return 1; }
  export AUTHSEC_SPIRE_DIR="$wd"
  port="$(_spire_free_port)" || return 1
  uid="$(id -u)"

  cat >"$wd/server.conf" <<EOF
server {
  bind_address = "127.0.0.1"
  bind_port = "$port"
  socket_path = "$wd/server/api.sock"
  trust_domain = "$SPIRE_TRUST_DOMAIN"
  data_dir = "$wd/server"
  log_level = "${AUTHSEC_SPIRE_LOG_LEVEL:-INFO}"
  # The CA's and the JWT key's lifetime: no automatic rotation during a test run (it would come at
  # half of it); rotation is forced with spire_rotate_jwt_key.
  ca_ttl = "24h"
  default_x509_svid_ttl = "1h"
  default_jwt_svid_ttl = "5m"
  # The in-memory entry cache (what the agents are sent) reloads from SQLite every second instead
  # of every 5 s: a new registration entry reaches the agent that much sooner.
  experimental {
    cache_reload_interval = "${AUTHSEC_SPIRE_CACHE_RELOAD_INTERVAL:-1s}"
  }
}

plugins {
  DataStore "sql" {
    plugin_data {
      database_type = "sqlite3"
      connection_string = "$wd/server/datastore.sqlite3"
    }
  }
  KeyManager "memory" {
    plugin_data {}
  }
  NodeAttestor "join_token" {
    plugin_data {}
  }
}
EOF

  # No admin_socket_path and no health_checks block: the agent listens on nothing but agent.sock
  # (the Workload API, which also answers `spire-agent healthcheck`).
  cat >"$wd/agent.conf" <<EOF
agent {
  data_dir = "$wd/agent"
  log_level = "${AUTHSEC_SPIRE_LOG_LEVEL:-INFO}"
  server_address = "127.0.0.1"
  server_port = "$port"
  socket_path = "$wd/agent.sock"
  trust_domain = "$SPIRE_TRUST_DOMAIN"
  # Loopback, a throwaway server: the agent takes the server's bundle on first contact.
  insecure_bootstrap = true
  # Syncs with the server (registration entries, bundle changes such as a prepared or revoked key)
  # every second instead of every 5 s: startup and rotation wait on it.
  experimental {
    sync_interval = "${AUTHSEC_SPIRE_SYNC_INTERVAL:-1s}"
  }
}

plugins {
  NodeAttestor "join_token" {
    plugin_data {}
  }
  KeyManager "memory" {
    plugin_data {}
  }
  WorkloadAttestor "unix" {
    plugin_data {}
  }
}
EOF

  # The binaries themselves in the background (not a function: $! must be their PID).
  "$(_spire_bin)/spire-server" run -config "$wd/server.conf" >"$wd/server.log" 2>&1 &
  echo $! >"$wd/server.pid"
  _spire_wait --pid "$wd/server.pid" 60 "spire-server healthcheck (log: $wd/server.log)" \
    _spire_check_server || return 1

  # The join token goes to the agent in a file (not on its command line).
  token="$(_spire_server token generate -ttl 600 -output json -socketPath "$wd/server/api.sock" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["value"])')" || return 1
  [[ -n "$token" ]] || { _spire_log "no join token"; return 1; }
  (umask 077 && echo "$token" >"$wd/join_token")
  agent_id="spiffe://$SPIRE_TRUST_DOMAIN/spire/agent/join_token/$token"
  # The entry before the agent: the agent's ID is known from the token, and the agent then has the
  # entry at its first sync instead of its second (5 s later).
  _spire_server entry create -socketPath "$wd/server/api.sock" -parentID "$agent_id" \
    -spiffeID "$SPIRE_WORKLOAD_ID" -selector "unix:uid:$uid" >"$wd/entry.txt" 2>&1 ||
    { cat "$wd/entry.txt" >&2; return 1; }

  "$(_spire_bin)/spire-agent" run -config "$wd/agent.conf" -joinTokenFile "$wd/join_token" \
    >"$wd/agent.log" 2>&1 &
  echo $! >"$wd/agent.pid"
  _spire_wait --pid "$wd/agent.pid" 60 "spire-agent healthcheck (log: $wd/agent.log)" \
    _spire_check_agent || return 1

  export SPIFFE_ENDPOINT_SOCKET="unix://$wd/agent.sock"
  export AUTHSEC_SPIRE_TRUST_DOMAIN="$SPIRE_TRUST_DOMAIN"
  export AUTHSEC_SPIRE_SPIFFE_ID="$SPIRE_WORKLOAD_ID"
  export AUTHSEC_SPIRE_BUNDLE_FILE="$wd/bundle.jwks.json"
  _spire_wait --pid "$wd/agent.pid" 60 "a JWT-SVID from the agent (log: $wd/agent.log)" \
    spire_fetch_jwt probe || return 1
  spire_refresh_bundle_file
}

_spire_check_server() { _spire_server healthcheck -socketPath "$AUTHSEC_SPIRE_DIR/server/api.sock"; }
_spire_check_agent() { _spire_agent healthcheck -socketPath "$AUTHSEC_SPIRE_DIR/agent.sock"; }

# spire_refresh_bundle_file: (re)writes $AUTHSEC_SPIRE_BUNDLE_FILE, the trust domain's bundle in SPIFFE
# format (a JWKS: use x509-svid with x5c, use jwt-svid with kid; spiffe_sequence), atomically.
spire_refresh_bundle_file() {
  local file="$AUTHSEC_SPIRE_DIR/bundle.jwks.json"
  _spire_server bundle show -format spiffe -socketPath "$AUTHSEC_SPIRE_DIR/server/api.sock" >"$file.tmp" &&
    python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$file.tmp" &&
    mv "$file.tmp" "$file"
}

# _spire_agent_has_kid <kid>: the agent's JWT bundle (Workload API) holds that key.
# _spire_agent_lacks_kid <kid>: it does not (and the agent answered).
_spire_agent_has_kid() { local kids; kids="$(_spire_agent_bundle_kids probe)" && [[ " $kids " == *" $1 "* ]]; }
_spire_agent_lacks_kid() { local kids; kids="$(_spire_agent_bundle_kids probe)" && [[ " $kids " != *" $1 "* ]]; }
# _spire_agent_signs_with <kid>: a JWT-SVID for an audience never asked for before carries that kid.
_spire_agent_signs_with() {
  local jwt
  jwt="$(spire_fetch_jwt "rotation-probe-$RANDOM$RANDOM")" && [[ "$(spire_jwt_kid "$jwt")" == "$1" ]]
}

# spire_rotate_jwt_key: a new JWT signing key, without a restart: `localauthority jwt prepare` (the new
# key enters the bundle), waits until the agent's bundle has it (so verifiers reading the Workload API
# bundle know it before anything is signed with it), `activate` (the server signs with it from now
# on), then waits until the agent hands out SVIDs with the new kid. Prints the new kid; the old one
# stays in the bundle (as the server's "old" authority) and stays valid until tainted/revoked.
#
# The agent caches JWT-SVIDs per (SPIFFE ID, audience set) until half their lifetime is gone: an
# audience fetched before the rotation keeps getting the old key's SVID (for up to 2.5 min with the
# 5 min TTL) unless the old key is tainted. The wait here uses fresh audiences.
spire_rotate_jwt_key() {
  local sock="$AUTHSEC_SPIRE_DIR/server/api.sock" old new
  old="$(_spire_authority active)" || return 1
  new="$(_spire_server localauthority jwt prepare -output json -socketPath "$sock" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["prepared_authority"]["authority_id"])')" || return 1
  [[ -n "$new" && "$new" != "$old" ]] || { _spire_log "prepare gave no new authority"; return 1; }
  _spire_wait 60 "the prepared JWT key $new in the agent's bundle" _spire_agent_has_kid "$new" || return 1
  _spire_server localauthority jwt activate -authorityID "$new" -socketPath "$sock" >/dev/null || return 1
  _spire_wait 60 "JWT-SVIDs signed with $new" _spire_agent_signs_with "$new" || return 1
  echo "$new"
}

# spire_taint_old_jwt_key [AUD]: taints the server's "old" JWT key (the one spire_rotate_jwt_key replaced).
# A tainted key stays in the bundle (verifiers still accept what it signed), but the server tells the
# agents, and an agent drops every cached JWT-SVID that key signed: the next fetch for any audience is
# signed anew with the active key. Waits until a fetch for the audience given (default "probe") carries
# the active kid. Prints the tainted kid.
spire_taint_old_jwt_key() {
  local sock="$AUTHSEC_SPIRE_DIR/server/api.sock" old active
  old="$(_spire_authority old)" && active="$(_spire_authority active)" || return 1
  [[ -n "$old" ]] || { _spire_log "no old JWT authority to taint (rotate first)"; return 1; }
  _spire_server localauthority jwt taint -authorityID "$old" -socketPath "$sock" >/dev/null || return 1
  _spire_wait 60 "the cached JWT-SVID for '${1:-probe}' re-signed with $active" \
    _spire_fetch_signed_with "${1:-probe}" "$active" || return 1
  echo "$old"
}
_spire_fetch_signed_with() {
  local jwt
  jwt="$(spire_fetch_jwt "$1")" && [[ "$(spire_jwt_kid "$jwt")" == "$2" ]]
}

# spire_revoke_old_jwt_key: revokes the tainted "old" JWT key: it leaves the bundle (the server's and,
# after its next sync, the agent's), so what it signed no longer verifies. Waits until the agent's
# bundle no longer has it; prints its kid.
spire_revoke_old_jwt_key() {
  local sock="$AUTHSEC_SPIRE_DIR/server/api.sock" old
  old="$(_spire_authority old)" || return 1
  [[ -n "$old" ]] || { _spire_log "no old JWT authority to revoke"; return 1; }
  _spire_server localauthority jwt revoke -authorityID "$old" -socketPath "$sock" >/dev/null || return 1
  _spire_wait 60 "the revoked JWT key $old gone from the agent's bundle" _spire_agent_lacks_kid "$old" ||
    return 1
  echo "$old"
}

# _spire_stop_pid <pidfile> <name>: SIGTERM, up to 15 s, then SIGKILL (and up to 5 s more).
_spire_stop_pid() {
  local pidfile="$1" name="$2" pid i
  [[ -f "$pidfile" ]] || return 0
  pid="$(cat "$pidfile")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < 30; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    if kill -0 "$pid" 2>/dev/null; then
      _spire_log "$name (pid $pid) ignored SIGTERM for 15 s; SIGKILL"
      kill -KILL "$pid" 2>/dev/null
      for ((i = 0; i < 10; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    fi
  fi
  # Reaps it when this shell started it.
  wait "$pid" 2>/dev/null || true
  rm -f "$pidfile"
}

# spire_stop: the agent, then the server, by their PIDs.
spire_stop() {
  [[ -n "${AUTHSEC_SPIRE_DIR:-}" ]] || return 0
  _spire_stop_pid "$AUTHSEC_SPIRE_DIR/agent.pid" spire-agent
  _spire_stop_pid "$AUTHSEC_SPIRE_DIR/server.pid" spire-server
}
