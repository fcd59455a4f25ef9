//! `dpop_requests.json`: whole requests to a protected resource, through the request verifier:
//! DPoP proofs (the negative list of the OpenID FAPI 2 DPoP conformance tests: two headers,
//! missing or wrong typ/alg/jwk/jti/htm/htu/iat/ath, a private jwk, alg none, a bad signature,
//! another key, a replayed jti; a URL with and without its query, unknown claims), the binding
//! rules (a bound token as Bearer, the required and disabled modes), server nonces, the target
//! URI behind proxies, and certificate-bound tokens (RFC 8705) from the TLS connection and from a
//! proxy header.

use super::case::{claims, seg, with, AUD, ISS, NOW};
use super::json::pretty;
use super::signing::Gen;
use authsec_core::dpop::{access_token_hash, NonceIssuer};
use authsec_core::jose::keys::KeySet;
use authsec_core::resource::client_cert::cert_thumbprint;
use authsec_core::util::{b64_std_encode, b64url_encode};
use authsec_core::Alg;
use serde_json::{json, Map, Value};
use std::time::Duration;

pub(crate) const FILE: &str = "dpop_requests.json";
const URL: &str = "https://api.example/mcp";
/// The nonce key of the nonce cases (base64url of 32 bytes: "authsec-test-dpop-nonce-key-0001").
const NONCE_KEY: &[u8; 32] = b"authsec-test-dpop-nonce-key-0001";
/// A client certificate's DER as far as the thumbprint goes (bytes; nothing parses it).
const CERT_DER: &[u8] = b"0\x82\x01\x0a test client certificate DER";
const OTHER_CERT_DER: &[u8] = b"0\x82\x01\x0a another certificate DER";

/// The JWK a proof carries: the key's public members only.
fn proof_jwk(g: &Gen, key: &str) -> Value {
    let full = &g.key(key).public_jwk;
    let mut m = Map::new();
    for f in ["kty", "crv", "x", "y", "n", "e"] {
        if let Some(v) = full.get(f) {
            m.insert(f.into(), v.clone());
        }
    }
    Value::Object(m)
}

fn thumbprint(g: &Gen, key: &str) -> String {
    KeySet::from_jwk_value(&proof_jwk(g, key)).expect("test key").keys()[0]
        .public_key()
        .thumbprint()
}

fn alg_of(key: &str) -> Alg {
    match key {
        "dpop-ed25519" => Alg::EdDSA,
        "dpop-rsa" => Alg::PS256,
        _ => Alg::ES256,
    }
}

/// A request's expectation.
fn accepted(scheme: &str, jkt: Option<&str>, certificate: Option<&str>, nonce: bool) -> Value {
    json!({"accepted": true, "scheme": scheme, "jkt": jkt, "certificate": certificate, "dpop_nonce": nonce})
}

fn refused(status: u16, error: Option<&str>, challenges: &[&str], error_scheme: Option<&str>, nonce: bool) -> Value {
    json!({"accepted": false, "status": status, "error": error, "challenges": challenges,
        "error_scheme": error_scheme, "dpop_nonce": nonce})
}

const BOTH: &[&str] = &["Bearer", "DPoP"];

/// A DPoP proof refusal under the default policy.
fn bad_proof() -> Value {
    refused(401, Some("invalid_dpop_proof"), BOTH, Some("DPoP"), false)
}

struct Req {
    now: i64,
    target: String,
    headers: Vec<(String, String)>,
    peer: Option<String>,
    cert: Option<Vec<u8>>,
    expect: Value,
}

impl Req {
    fn new(headers: &[(&str, String)], expect: Value) -> Req {
        let mut h = vec![("Host".to_string(), "api.example".to_string())];
        h.extend(headers.iter().map(|(k, v)| (k.to_string(), v.clone())));
        Req {
            now: NOW,
            target: "/mcp".into(),
            headers: h,
            peer: None,
            cert: None,
            expect,
        }
    }
    fn at(mut self, now: i64) -> Req {
        self.now = now;
        self
    }
    fn target(mut self, t: &str) -> Req {
        self.target = t.into();
        self
    }
    fn peer(mut self, p: &str) -> Req {
        self.peer = Some(p.into());
        self
    }
    fn cert(mut self, der: &[u8]) -> Req {
        self.cert = Some(der.to_vec());
        self
    }
    fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("now".into(), json!(self.now));
        m.insert("method".into(), json!("POST"));
        m.insert("scheme".into(), json!("https"));
        m.insert("target".into(), json!(self.target));
        m.insert(
            "headers".into(),
            Value::Array(self.headers.iter().map(|(k, v)| json!([k, v])).collect()),
        );
        if let Some(p) = &self.peer {
            m.insert("peer".into(), json!(p));
        }
        if let Some(c) = &self.cert {
            m.insert("client_certificate".into(), json!(b64_std_encode(c)));
        }
        m.insert("expect".into(), self.expect.clone());
        Value::Object(m)
    }
}

struct Builder<'a> {
    g: &'a mut Gen,
    cases: Vec<Value>,
}

impl Builder<'_> {
    /// The issuer's ES256 token for this case, bound by `cnf` (none: a plain Bearer token).
    fn token(&mut self, case: &str, cnf: Option<Value>, scope: Option<&str>) -> String {
        let mut c = claims(case);
        if let Some(cnf) = cnf {
            c["cnf"] = cnf;
        }
        if let Some(s) = scope {
            c["scope"] = json!(s);
        }
        self.g.std_token(case, Alg::ES256, &c)
    }

    fn bound_token(&mut self, case: &str, key: &str) -> String {
        let jkt = thumbprint(self.g, key);
        self.token(case, Some(json!({"jkt": jkt})), None)
    }

    /// A proof by `key` (the header `{typ, alg, jwk}` and claims `{jti, htm, htu, iat, ath}` with
    /// `header` and `claims` applied), signed as `sign_as` (usually `key`).
    #[allow(clippy::too_many_arguments)]
    fn proof_by(
        &mut self,
        id: &str,
        key: &str,
        sign_as: &str,
        token: Option<&str>,
        header: &[(&str, Value)],
        claim: &[(&str, Value)],
    ) -> String {
        let alg = alg_of(sign_as);
        let h = with(
            &json!({"typ": "dpop+jwt", "alg": alg.as_str(), "jwk": proof_jwk(self.g, key)}),
            header,
        );
        let mut base = json!({"jti": id, "htm": "POST", "htu": URL, "iat": NOW});
        if let Some(t) = token {
            base["ath"] = json!(access_token_hash(t));
        }
        let c = with(&base, claim);
        self.g.jws(id, sign_as, alg, &h, &c)
    }

    fn proof(&mut self, id: &str, key: &str, token: &str, claim: &[(&str, Value)]) -> String {
        self.proof_by(id, key, key, Some(token), &[], claim)
    }

    fn push(&mut self, name: &str, description: &str, policy: Value, scopes: Option<Value>, requests: Vec<Req>) {
        let mut m = Map::new();
        m.insert("name".into(), json!(name));
        m.insert("description".into(), json!(description));
        m.insert("jwks".into(), json!("main"));
        m.insert("verifier".into(), json!({"issuer": ISS, "audience": [AUD]}));
        m.insert("policy".into(), policy);
        if let Some(s) = scopes {
            m.insert("required_scopes".into(), s);
        }
        m.insert(
            "requests".into(),
            Value::Array(requests.iter().map(Req::to_json).collect()),
        );
        self.cases.push(Value::Object(m));
    }

    /// One request with a token bound to `dpop-p256` and a proof by it with `claim` changes.
    fn one(&mut self, name: &str, description: &str, claim: &[(&str, Value)], expect: Value) {
        let t = self.bound_token(name, "dpop-p256");
        let p = self.proof(name, "dpop-p256", &t, claim);
        let req = Req::new(&[("Authorization", format!("DPoP {t}")), ("DPoP", p)], expect);
        self.push(name, description, json!({}), None, vec![req]);
    }

    /// One request whose proof has `header` changes (signed by `sign_as`).
    fn with_header(&mut self, name: &str, description: &str, sign_as: &str, header: &[(&str, Value)], expect: Value) {
        let t = self.bound_token(name, "dpop-p256");
        let p = self.proof_by(name, "dpop-p256", sign_as, Some(&t), header, &[]);
        let req = Req::new(&[("Authorization", format!("DPoP {t}")), ("DPoP", p)], expect);
        self.push(name, description, json!({}), None, vec![req]);
    }
}

pub(crate) fn file(g: &mut Gen) -> Result<String, String> {
    let mut b = Builder { g, cases: Vec::new() };
    let del = super::case::del;
    let jkt = |g: &Gen, k: &str| thumbprint(g, k);

    // --- accepted proofs ---
    for (name, key, what) in [
        ("dpop_valid_es256", "dpop-p256", "ES256"),
        ("dpop_valid_eddsa", "dpop-ed25519", "EdDSA"),
        ("dpop_valid_ps256", "dpop-rsa", "PS256"),
    ] {
        let t = b.bound_token(name, key);
        let p = b.proof(name, key, &t, &[]);
        let expect = accepted("DPoP", Some(&jkt(b.g, key)), None, false);
        let req = Req::new(&[("Authorization", format!("DPoP {t}")), ("DPoP", p)], expect);
        b.push(name, &format!("A DPoP-bound token with a proof by its key ({what}) is accepted; the runner reports the key's thumbprint."), json!({}), None, vec![req]);
    }
    let p256 = jkt(b.g, "dpop-p256");
    let ok = || accepted("DPoP", Some(&p256), None, false);
    {
        let name = "dpop_htu_without_query";
        let t = b.bound_token(name, "dpop-p256");
        let p = b.proof(name, "dpop-p256", &t, &[]);
        let req = Req::new(&[("Authorization", format!("DPoP {t}")), ("DPoP", p)], ok()).target("/mcp?session=1");
        b.push(
            name,
            "The request has a query, the proof's htu has none (RFC 9449: htu is without query): accepted.",
            json!({}),
            None,
            vec![req],
        );
        let name = "dpop_htu_with_query";
        let t = b.bound_token(name, "dpop-p256");
        let p = b.proof(name, "dpop-p256", &t, &[("htu", json!(format!("{URL}?session=1")))]);
        let req = Req::new(&[("Authorization", format!("DPoP {t}")), ("DPoP", p)], ok()).target("/mcp?session=1");
        b.push(
            name,
            "A client that puts the query into htu is accepted too: queries are ignored both ways.",
            json!({}),
            None,
            vec![req],
        );
    }
    b.one("dpop_htu_normalised", "htu is compared after RFC 3986 normalisation: scheme and host case, the default port, a percent-encoded unreserved character.", &[("htu", json!("HTTPS://API.Example:443/m%63p"))], ok());
    b.one(
        "dpop_unknown_claims_ignored",
        "Claims a proof may carry that the resource does not know are ignored.",
        &[("extra", json!({"x": 1}))],
        ok(),
    );
    b.one(
        "dpop_iat_oldest_accepted",
        "iat 305 s old: the 300 s window plus the 5 s leeway.",
        &[("iat", json!(NOW - 305))],
        ok(),
    );
    b.one(
        "dpop_iat_future_leeway",
        "iat 5 s ahead: within the leeway.",
        &[("iat", json!(NOW + 5))],
        ok(),
    );

    // --- refused proofs (FAPI 2 DPoP negative tests) ---
    for (name, description, claim) in [
        ("dpop_jti_missing", "A proof without jti.", vec![("jti", del())]),
        (
            "dpop_jti_too_long",
            "A jti over 256 characters (RFC 9449 section 11.1: reject huge jti).",
            vec![("jti", json!("j".repeat(300)))],
        ),
        ("dpop_htm_missing", "A proof without htm.", vec![("htm", del())]),
        (
            "dpop_htm_wrong",
            "A proof for GET on a POST request.",
            vec![("htm", json!("GET"))],
        ),
        (
            "dpop_htm_lowercase",
            "htm is the method as sent: post is not POST.",
            vec![("htm", json!("post"))],
        ),
        ("dpop_htu_missing", "A proof without htu.", vec![("htu", del())]),
        (
            "dpop_htu_other_path",
            "A proof for another path.",
            vec![("htu", json!("https://api.example/other"))],
        ),
        (
            "dpop_htu_other_host",
            "A proof for another host.",
            vec![("htu", json!("https://evil.example/mcp"))],
        ),
        (
            "dpop_htu_other_scheme",
            "A proof for http on an https request.",
            vec![("htu", json!("http://api.example/mcp"))],
        ),
        (
            "dpop_htu_trailing_slash",
            "A trailing slash is another path.",
            vec![("htu", json!(format!("{URL}/")))],
        ),
        ("dpop_iat_missing", "A proof without iat.", vec![("iat", del())]),
        (
            "dpop_iat_string",
            "iat must be a number.",
            vec![("iat", json!(NOW.to_string()))],
        ),
        (
            "dpop_iat_hour_ahead",
            "iat an hour in the future.",
            vec![("iat", json!(NOW + 3600))],
        ),
        (
            "dpop_iat_hour_old",
            "iat an hour old.",
            vec![("iat", json!(NOW - 3600))],
        ),
        (
            "dpop_iat_too_old",
            "iat 306 s old: one second past the window and leeway.",
            vec![("iat", json!(NOW - 306))],
        ),
        (
            "dpop_ath_missing",
            "A resource request's proof without ath.",
            vec![("ath", del())],
        ),
        (
            "dpop_ath_wrong",
            "ath of another access token.",
            vec![("ath", json!(access_token_hash("another token")))],
        ),
    ] {
        b.one(name, description, &claim, bad_proof());
    }
    let attacker_jwk = proof_jwk(b.g, "attacker-p256");
    let mut private = b.g.key("dpop-p256").public_jwk.clone();
    private["d"] = json!("AAAA");
    for (name, description, sign_as, header) in [
        (
            "dpop_typ_missing",
            "A proof without typ.",
            "dpop-p256",
            vec![("typ", del())],
        ),
        (
            "dpop_typ_jwt",
            "typ JWT, not dpop+jwt.",
            "dpop-p256",
            vec![("typ", json!("JWT"))],
        ),
        (
            "dpop_jwk_missing",
            "A proof without jwk.",
            "dpop-p256",
            vec![("jwk", del())],
        ),
        (
            "dpop_jwk_private",
            "A proof carrying the private key (d) in jwk.",
            "dpop-p256",
            vec![("jwk", private)],
        ),
        (
            "dpop_jwk_not_signer",
            "jwk names another key than the one that signed.",
            "dpop-p256",
            vec![("jwk", attacker_jwk)],
        ),
        (
            "dpop_alg_mismatch",
            "alg RS256 with an EC jwk.",
            "dpop-p256",
            vec![("alg", json!("RS256"))],
        ),
        (
            "dpop_alg_missing",
            "A proof without alg.",
            "dpop-p256",
            vec![("alg", del())],
        ),
    ] {
        b.with_header(name, description, sign_as, &header, bad_proof());
    }
    // alg none and HS256: not signed by a key at all.
    for (name, description, alg, sig) in [
        ("dpop_alg_none", "alg none, no signature.", "none", String::new()),
        (
            "dpop_alg_hs256",
            "alg HS256 (a MAC), never a proof.",
            "HS256",
            b64url_encode(b"not a signature"),
        ),
    ] {
        let t = b.bound_token(name, "dpop-p256");
        let h = json!({"typ": "dpop+jwt", "alg": alg, "jwk": proof_jwk(b.g, "dpop-p256")});
        let c = json!({"jti": name, "htm": "POST", "htu": URL, "iat": NOW, "ath": access_token_hash(&t)});
        let p = format!("{}.{}.{sig}", seg(&h), seg(&c));
        let req = Req::new(&[("Authorization", format!("DPoP {t}")), ("DPoP", p)], bad_proof());
        b.push(name, description, json!({}), None, vec![req]);
    }
    {
        let name = "dpop_bad_signature";
        let t = b.bound_token(name, "dpop-p256");
        let good = b.proof(name, "dpop-p256", &t, &[]);
        let (signed, _) = good.rsplit_once('.').unwrap_or_default();
        // 64 bytes, the size of an ES256 signature, that are not one.
        let forged = format!("{signed}.{}", b64url_encode(&[7u8; 64]));
        let req = Req::new(&[("Authorization", format!("DPoP {t}")), ("DPoP", forged)], bad_proof());
        b.push(
            name,
            "A proof with a signature of the right size that does not verify.",
            json!({}),
            None,
            vec![req],
        );

        let name = "dpop_other_key";
        let t = b.bound_token(name, "dpop-p256");
        let p = b.proof(name, "attacker-p256", &t, &[]);
        let req = Req::new(&[("Authorization", format!("DPoP {t}")), ("DPoP", p)], bad_proof());
        b.push(
            name,
            "A stolen token with a valid proof by the thief's own key: cnf.jkt names another key.",
            json!({}),
            None,
            vec![req],
        );

        let name = "dpop_two_proof_headers";
        let t = b.bound_token(name, "dpop-p256");
        let p = b.proof(name, "dpop-p256", &t, &[]);
        let req = Req::new(
            &[("Authorization", format!("DPoP {t}")), ("DPoP", p.clone()), ("DPoP", p)],
            bad_proof(),
        );
        b.push(
            name,
            "Two DPoP headers (RFC 9449 section 4.3: exactly one).",
            json!({}),
            None,
            vec![req],
        );

        let name = "dpop_no_proof_header";
        let t = b.bound_token(name, "dpop-p256");
        let req = Req::new(&[("Authorization", format!("DPoP {t}"))], bad_proof());
        b.push(name, "The DPoP scheme without a proof.", json!({}), None, vec![req]);

        let name = "dpop_malformed_proof";
        let t = b.bound_token(name, "dpop-p256");
        let req = Req::new(
            &[("Authorization", format!("DPoP {t}")), ("DPoP", "not-a-jws".into())],
            bad_proof(),
        );
        b.push(
            name,
            "A DPoP header that is not a compact JWS.",
            json!({}),
            None,
            vec![req],
        );

        let name = "dpop_header_name_case";
        let t = b.bound_token(name, "dpop-p256");
        let p = b.proof(name, "dpop-p256", &t, &[]);
        let req = Req::new(&[("authorization", format!("dpop {t}")), ("dpop", p)], ok());
        b.push(
            name,
            "Header names and the scheme are case-insensitive.",
            json!({}),
            None,
            vec![req],
        );
    }

    // --- replay ---
    {
        let name = "dpop_replayed_proof";
        let t = b.bound_token(name, "dpop-p256");
        let p = b.proof(name, "dpop-p256", &t, &[]);
        let h = [("Authorization", format!("DPoP {t}")), ("DPoP", p)];
        b.push(
            name,
            "The same proof twice: the second is a replay.",
            json!({}),
            None,
            vec![Req::new(&h, ok()), Req::new(&h, bad_proof()).at(NOW + 1)],
        );

        let name = "dpop_same_jti_other_uri";
        let t = b.bound_token(name, "dpop-p256");
        let p1 = b.proof(name, "dpop-p256", &t, &[]);
        let p2 = b.proof_by(
            &format!("{name}-2"),
            "dpop-p256",
            "dpop-p256",
            Some(&t),
            &[],
            &[("jti", json!(name)), ("htu", json!("https://api.example/other"))],
        );
        b.push(
            name,
            "The replay cache is keyed by (key, method, URI, jti): one jti on two URIs is two proofs.",
            json!({}),
            None,
            vec![
                Req::new(&[("Authorization", format!("DPoP {t}")), ("DPoP", p1)], ok()),
                Req::new(&[("Authorization", format!("DPoP {t}")), ("DPoP", p2)], ok()).target("/other"),
            ],
        );
    }

    // --- binding rules and modes ---
    {
        let name = "dpop_bound_token_as_bearer";
        let t = b.bound_token(name, "dpop-p256");
        let req = Req::new(
            &[("Authorization", format!("Bearer {t}"))],
            refused(401, Some("invalid_claim"), BOTH, Some("Bearer"), false),
        );
        b.push(
            name,
            "A DPoP-bound token sent as Bearer (RFC 9449 section 7.2): what a thief with the token alone does.",
            json!({}),
            None,
            vec![req],
        );

        let name = "dpop_unbound_token_as_dpop";
        let t = b.token(name, None, None);
        let p = b.proof(name, "dpop-p256", &t, &[]);
        let req = Req::new(
            &[("Authorization", format!("DPoP {t}")), ("DPoP", p)],
            refused(401, Some("invalid_claim"), BOTH, Some("DPoP"), false),
        );
        b.push(
            name,
            "The DPoP scheme with a token bound to no key.",
            json!({}),
            None,
            vec![req],
        );

        let name = "bearer_plain_accepted";
        let t = b.token(name, None, None);
        let req = Req::new(
            &[("Authorization", format!("Bearer {t}"))],
            accepted("Bearer", None, None, false),
        );
        b.push(
            name,
            "A plain Bearer token is accepted when DPoP is allowed (the default).",
            json!({}),
            None,
            vec![req],
        );

        let name = "no_credentials";
        let req = Req::new(&[], refused(401, None, BOTH, None, false));
        b.push(
            name,
            "No credential: 401 with a challenge per scheme and no error.",
            json!({}),
            None,
            vec![req],
        );

        let name = "dpop_required_bearer_refused";
        let t = b.token(name, None, None);
        let req = Req::new(
            &[("Authorization", format!("Bearer {t}"))],
            refused(401, Some("invalid_claim"), &["DPoP"], Some("DPoP"), false),
        );
        b.push(
            name,
            "dpop: required refuses plain Bearer tokens and offers only the DPoP scheme.",
            json!({"dpop": "required"}),
            None,
            vec![req],
        );

        let name = "dpop_disabled_dpop_refused";
        let t = b.bound_token(name, "dpop-p256");
        let p = b.proof(name, "dpop-p256", &t, &[]);
        let req = Req::new(
            &[("Authorization", format!("DPoP {t}")), ("DPoP", p)],
            refused(401, Some("invalid_claim"), &["Bearer"], Some("Bearer"), false),
        );
        b.push(
            name,
            "dpop: disabled refuses the DPoP scheme and offers only Bearer.",
            json!({"dpop": "disabled"}),
            None,
            vec![req],
        );

        let name = "dpop_algorithm_policy";
        let t = b.bound_token(name, "dpop-ed25519");
        let p = b.proof(name, "dpop-ed25519", &t, &[]);
        let req = Req::new(&[("Authorization", format!("DPoP {t}")), ("DPoP", p)], bad_proof());
        b.push(
            name,
            "dpop_algorithms: an EdDSA proof where only ES256 is accepted.",
            json!({"dpop_algorithms": ["ES256"]}),
            None,
            vec![req],
        );

        let name = "dpop_insufficient_scope";
        let t = b.bound_token(name, "dpop-p256");
        let p = b.proof(name, "dpop-p256", &t, &[]);
        let req = Req::new(
            &[("Authorization", format!("DPoP {t}")), ("DPoP", p)],
            refused(403, Some("insufficient_scope"), BOTH, Some("DPoP"), false),
        );
        b.push(
            name,
            "A bound token with a good proof but too few scopes: 403 on the DPoP challenge.",
            json!({}),
            Some(json!({"all_of": ["admin"]})),
            vec![req],
        );
    }

    // --- nonces ---
    {
        let nonces = NonceIssuer::new(NONCE_KEY, Duration::from_secs(60)).map_err(|e| e.to_string())?;
        let policy = json!({"dpop_nonce": true, "dpop_nonce_key": b64url_encode(NONCE_KEY), "dpop_nonce_lifetime": 60});
        let name = "dpop_nonce_dance";
        let t = b.bound_token(name, "dpop-p256");
        let n0 = nonces.issue(NOW * 1000);
        let auth = ("Authorization", format!("DPoP {t}"));
        let p1 = b.proof(name, "dpop-p256", &t, &[]);
        let p2 = b.proof(&format!("{name}-2"), "dpop-p256", &t, &[("nonce", json!(n0))]);
        let p3 = b.proof(
            &format!("{name}-3"),
            "dpop-p256",
            &t,
            &[("nonce", json!(n0)), ("iat", json!(NOW + 40))],
        );
        let p4 = b.proof(
            &format!("{name}-4"),
            "dpop-p256",
            &t,
            &[("nonce", json!(n0)), ("iat", json!(NOW + 61))],
        );
        let wants = || refused(401, Some("use_dpop_nonce"), BOTH, Some("DPoP"), true);
        b.push(
            name,
            "Server nonces: no nonce (401 use_dpop_nonce with DPoP-Nonce), the nonce (accepted), past half its life (accepted with a new DPoP-Nonce), past its life (refused).",
            policy.clone(),
            None,
            vec![
                Req::new(&[auth.clone(), ("DPoP", p1)], wants()),
                Req::new(&[auth.clone(), ("DPoP", p2)], ok()),
                Req::new(&[auth.clone(), ("DPoP", p3)], accepted("DPoP", Some(&p256), None, true)).at(NOW + 40),
                Req::new(&[auth, ("DPoP", p4)], wants()).at(NOW + 61),
            ],
        );
        let name = "dpop_nonce_forged";
        let t = b.bound_token(name, "dpop-p256");
        let p = b.proof(name, "dpop-p256", &t, &[("nonce", json!("made-up-nonce"))]);
        b.push(
            name,
            "A nonce the server did not issue.",
            policy,
            None,
            vec![Req::new(
                &[("Authorization", format!("DPoP {t}")), ("DPoP", p)],
                wants(),
            )],
        );
    }

    // --- the target URI behind proxies ---
    {
        let name = "dpop_public_url";
        let t = b.bound_token(name, "dpop-p256");
        let p = b.proof(name, "dpop-p256", &t, &[("htu", json!("https://api.example/v1/mcp"))]);
        let mut req = Req::new(&[("Authorization", format!("DPoP {t}")), ("DPoP", p)], ok());
        req.headers[0].1 = "10.0.0.5:8080".into();
        b.push(
            name,
            "public_url: the proxy strips /v1; proofs sign the public URL, not the internal one.",
            json!({"public_url": "https://api.example/v1"}),
            None,
            vec![req],
        );

        let name = "dpop_forwarded_trusted";
        let t = b.bound_token(name, "dpop-p256");
        let p = b.proof(name, "dpop-p256", &t, &[("htu", json!("https://public.example/mcp"))]);
        let h = [
            ("Authorization", format!("DPoP {t}")),
            ("DPoP", p),
            ("X-Forwarded-Proto", "https".into()),
            ("X-Forwarded-Host", "public.example".into()),
        ];
        b.push(
            name,
            "trust_forwarded with trusted_proxies: the proxy's X-Forwarded-Host counts; from another peer it does not.",
            json!({"trust_forwarded": true, "trusted_proxies": ["10.0.0.0/8"]}),
            None,
            vec![
                Req::new(&h, ok()).peer("10.1.2.3"),
                Req::new(&h, bad_proof()).peer("192.168.1.1").at(NOW + 1),
            ],
        );
    }

    // --- certificate-bound tokens ---
    {
        let x5t = cert_thumbprint(CERT_DER);
        let cnf = json!({"x5t#S256": x5t});
        let name = "mtls_bound_tls";
        let t = b.token(name, Some(cnf.clone()), None);
        let auth = ("Authorization", format!("Bearer {t}"));
        b.push(
            name,
            "A certificate-bound token (RFC 8705) with the client certificate of the TLS connection; then another certificate; then none.",
            json!({}),
            None,
            vec![
                Req::new(std::slice::from_ref(&auth), accepted("Bearer", None, Some(&x5t), false)).cert(CERT_DER),
                Req::new(std::slice::from_ref(&auth), refused(401, Some("invalid_claim"), BOTH, Some("Bearer"), false)).cert(OTHER_CERT_DER),
                Req::new(&[auth], refused(401, Some("invalid_claim"), BOTH, Some("Bearer"), false)),
            ],
        );
        use sha2::Digest;
        let hex: String = sha2::Sha256::digest(CERT_DER)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let xfcc = format!("By=spiffe://mesh.example/api;Hash={hex};Subject=\"CN=agent\"");
        let name = "mtls_xfcc_header";
        let t = b.token(name, Some(cnf.clone()), None);
        let h = [
            ("Authorization", format!("Bearer {t}")),
            ("x-forwarded-client-cert", xfcc),
        ];
        b.push(
            name,
            "Behind Envoy: the certificate's hash in x-forwarded-client-cert, believed from the trusted proxy only (and the TLS certificate is not consulted).",
            json!({"client_cert_header": "x-forwarded-client-cert", "trusted_proxies": ["10.0.0.0/8"]}),
            None,
            vec![
                Req::new(&h, accepted("Bearer", None, Some(&x5t), false)).peer("10.0.0.9"),
                Req::new(&h, refused(401, Some("invalid_claim"), BOTH, Some("Bearer"), false)).peer("192.168.1.1"),
                Req::new(&h[..1], refused(401, Some("invalid_claim"), BOTH, Some("Bearer"), false)).peer("10.0.0.9").cert(CERT_DER),
            ],
        );
        let name = "mtls_rfc9440_header";
        let t = b.token(name, Some(cnf), None);
        let h = [
            ("Authorization", format!("Bearer {t}")),
            ("Client-Cert", format!(":{}:", b64_std_encode(CERT_DER))),
        ];
        b.push(
            name,
            "RFC 9440 Client-Cert (base64 DER between colons), from a proxy at any address (trusted_proxies 0.0.0.0/0 and ::/0, said explicitly).",
            json!({"client_cert_header": "client-cert", "trusted_proxies": ["0.0.0.0/0", "::/0"]}),
            None,
            vec![Req::new(&h, accepted("Bearer", None, Some(&x5t), false)).peer("203.0.113.7")],
        );
    }

    let Builder { g, cases } = b;
    let mut names = std::collections::BTreeSet::new();
    for c in &cases {
        if !names.insert(c["name"].as_str().unwrap_or_default().to_string()) {
            return Err(format!("{FILE}: duplicate case {}", c["name"]));
        }
    }
    Ok(pretty(&json!({
        "version": 1,
        "description": "Whole requests to a protected resource through the request verifier: DPoP proofs (RFC 9449), the binding of DPoP-bound and certificate-bound (RFC 8705) tokens, server nonces, replays, and the target URI behind proxies.",
        "jwks": {"main": g.key_set("main")?},
        "cases": cases,
    })))
}
