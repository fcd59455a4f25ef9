#!/usr/bin/env bash
# The harness's operations for a test in another language (run under tests/spire/run.sh, which
# exports AUTHSEC_SPIRE_DIR and AUTHSEC_SPIRE_BIN):
#   tests/spire/ctl.sh rotate            new JWT key active, agent signing with it; prints its kid
#   tests/spire/ctl.sh taint             taints the replaced key (agent re-signs cached SVIDs); prints it
#   tests/spire/ctl.sh revoke            the tainted key leaves the bundles; prints it
#   tests/spire/ctl.sh refresh-bundle    rewrites $AUTHSEC_SPIRE_BUNDLE_FILE from the server
#   tests/spire/ctl.sh fetch-jwt AUD     a JWT-SVID for this uid with that audience
# rotate, taint and revoke also refresh the bundle file.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=tests/spire/spire.sh
source "$here/spire.sh"
: "${AUTHSEC_SPIRE_DIR:?run under tests/spire/run.sh}"
case "${1:-}" in
  rotate) spire_rotate_jwt_key; spire_refresh_bundle_file ;;
  taint) spire_taint_old_jwt_key; spire_refresh_bundle_file ;;
  revoke) spire_revoke_old_jwt_key; spire_refresh_bundle_file ;;
  refresh-bundle) spire_refresh_bundle_file ;;
  fetch-jwt) spire_fetch_jwt "${2:?fetch-jwt AUDIENCE}" ;;
  *) sed -n '2,9p' "$0" >&2; exit 2 ;;
esac
