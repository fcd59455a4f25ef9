"""Checks a JWT-SVID against the SPIFFE JWT-SVID rules and a SPIFFE-format bundle file; prints its kid.

Usage: python3 check_svid.py <jwt> <audience> <spiffe id> <bundle.jwks.json>

Header: alg ES256 or RS256 (what SPIRE signs with), a kid, typ JWT, nothing else. Claims: sub = the
SPIFFE ID, aud holds the audience, exp in the future (at most 5 min + 1 min skew away). Bundle: a key
with use jwt-svid and that kid. With the cryptography package, the signature is checked against that
key too (otherwise it says so on stderr).
"""

import base64
import json
import sys
import time


def b64(seg):
    return base64.urlsafe_b64decode(seg + "=" * (-len(seg) % 4))


def fail(msg):
    sys.exit(f"check_svid: {msg}")


def main():
    jwt, audience, spiffe_id, bundle_file = sys.argv[1:5]
    parts = jwt.split(".")
    if len(parts) != 3:
        fail("not a JWS compact serialization")
    header, claims = json.loads(b64(parts[0])), json.loads(b64(parts[1]))
    if header.get("alg") not in ("ES256", "RS256"):
        fail(f"alg {header.get('alg')!r}")
    if not header.get("kid"):
        fail("no kid")
    if header.get("typ") != "JWT":
        fail(f"typ {header.get('typ')!r}")
    if set(header) - {"alg", "kid", "typ"}:
        fail(f"unexpected header parameters {sorted(set(header) - {'alg', 'kid', 'typ'})}")
    if claims.get("sub") != spiffe_id:
        fail(f"sub {claims.get('sub')!r}, expected {spiffe_id!r}")
    aud = claims.get("aud")
    if audience not in (aud if isinstance(aud, list) else [aud]):
        fail(f"aud {aud!r} lacks {audience!r}")
    now = time.time()
    exp = claims.get("exp")
    if not isinstance(exp, int) or not now < exp <= now + 360:
        fail(f"exp {exp!r} (now {int(now)})")

    bundle = json.load(open(bundle_file))
    keys = [k for k in bundle.get("keys", []) if k.get("use") == "jwt-svid" and k.get("kid") == header["kid"]]
    if len(keys) != 1:
        fail(f"{len(keys)} jwt-svid keys with kid {header['kid']} in {bundle_file}")
    try:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
        from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
    except ImportError:
        print("check_svid: no cryptography package; signature not checked", file=sys.stderr)
    else:
        key, signed, sig = keys[0], f"{parts[0]}.{parts[1]}".encode(), b64(parts[2])
        if header["alg"] == "ES256":
            n = lambda v: int.from_bytes(b64(v), "big")
            pub = ec.EllipticCurvePublicNumbers(n(key["x"]), n(key["y"]), ec.SECP256R1()).public_key()
            der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
            pub.verify(der, signed, ec.ECDSA(hashes.SHA256()))
        else:
            n = lambda v: int.from_bytes(b64(v), "big")
            pub = rsa.RSAPublicNumbers(n(key["e"]), n(key["n"])).public_key()
            pub.verify(sig, signed, padding.PKCS1v15(), hashes.SHA256())
    print(header["kid"])


if __name__ == "__main__":
    main()
