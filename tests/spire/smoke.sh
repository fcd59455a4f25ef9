#!/usr/bin/env bash
# The harness's own check, with SPIRE's CLI only (run by tests/spire/run.sh, which exports the env):
# a JWT-SVID's header and claims and its key in bundle.jwks.json; a forced rotation of the JWT key
# (a new kid, both kids in the refreshed bundle); then taint (the agent re-signs cached SVIDs) and
# revoke (the old kid leaves the bundles).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=tests/spire/spire.sh
source "$here/spire.sh"
: "${AUTHSEC_SPIRE_DIR:?run me with tests/spire/run.sh}"

check() { python3 "$here/check_svid.py" "$1" "$2" "$AUTHSEC_SPIRE_SPIFFE_ID" "$AUTHSEC_SPIRE_BUNDLE_FILE"; }
bundle_kids() {
  python3 -c 'import json, sys; print(" ".join(sorted(k["kid"] for k in json.load(open(sys.argv[1]))["keys"] if k.get("use") == "jwt-svid")))' \
    "$AUTHSEC_SPIRE_BUNDLE_FILE"
}
sorted() { printf '%s\n' "$@" | sort | paste -sd' ' -; }
expect() { [[ "$1" == "$2" ]] || { echo "spire smoke: $3: got '$1', expected '$2'" >&2; exit 1; }; }

aud=authsec-smoke
old="$(check "$(spire_fetch_jwt "$aud")" "$aud")"
expect "$(bundle_kids)" "$old" "jwt-svid kids in the bundle before rotation"

start=$EPOCHREALTIME
new="$(spire_rotate_jwt_key)"
rotation="$(spire_since "$start")"
[[ "$new" != "$old" ]] || { echo "spire smoke: the kid did not change" >&2; exit 1; }
spire_refresh_bundle_file
expect "$(check "$(spire_fetch_jwt "$aud-after")" "$aud-after")" "$new" "kid of an SVID for a new audience"
expect "$(bundle_kids)" "$(sorted "$old" "$new")" "jwt-svid kids in the refreshed bundle"
# The audience fetched before the rotation: the agent's cached SVID, still the old key's (it is
# valid, and the old key is still in the bundle), until half its lifetime is gone or the key is tainted.
cached="$(check "$(spire_fetch_jwt "$aud")" "$aud")"
echo "spire smoke: after rotation, the audience fetched before it still gets kid $cached ($([[ $cached == "$old" ]] && echo cached, old || echo new))" >&2

start=$EPOCHREALTIME
spire_taint_old_jwt_key "$aud" >/dev/null
taint="$(spire_since "$start")"
spire_refresh_bundle_file
expect "$(check "$(spire_fetch_jwt "$aud")" "$aud")" "$new" "kid for the old audience after the taint"
expect "$(bundle_kids)" "$(sorted "$old" "$new")" "jwt-svid kids in the bundle after the taint"

start=$EPOCHREALTIME
spire_revoke_old_jwt_key >/dev/null
revoke="$(spire_since "$start")"
spire_refresh_bundle_file
expect "$(bundle_kids)" "$new" "jwt-svid kids in the bundle after the revocation"

echo "spire smoke: taint $taint s, revoke $revoke s (to the agent)" >&2
echo "spire smoke: ok (startup ${AUTHSEC_SPIRE_STARTUP_SECONDS:-?} s, rotation $rotation s)"
