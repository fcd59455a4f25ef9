//! The properties the fuzz targets check, one `check_*` function per target. Each takes the raw
//! fuzz input, drives one of the core's parsers with it and panics (an `assert!`) when a property
//! does not hold, so a property violation is a crash for libFuzzer and a failure for proptest.
//!
//! This file is the library of the cargo-fuzz crate (`fuzz/fuzz_targets/*.rs` call it), and the
//! stable property tests (`core/tests/fuzz_props.rs`) include it with `#[path]`, so both run the
//! very same checks. It therefore uses nothing but `authsec_core`, `serde_json` and
//! `serde_yaml_ng`, and refers to its own items without `crate::`.
//!
//! Input formats (also in fuzz/README.md):
//! - `jwt_parse`: byte 0 selects the verifier options and the mode (bits below); the rest is the
//!   token (modes 0 and 1), or `header JSON \0 payload JSON` signed with the test key `ed25519-a`
//!   (mode 2), or only the payload JSON, signed under a valid header (mode 3).
//! - `jwks_parse`: the JWKS document itself.
//! - `token_response`: byte 0 selects the HTTP status, byte 1 the extras (a `Retry-After` line, a
//!   client-secret line, `Content-Type`, requested scopes); then those lines; then the body.
//! - `config_interpolate`: byte 0 selects the mode; the rest is split at NUL bytes into the text
//!   and the values of the variables `A`, `B`, `C`, `AUTHSEC_CLIENT_ID`, `AUTHSEC_CLIENT_SECRET`.
//! - `mcp_request`: byte 0 selects the scopes the token grants (bit i: `MCP_SCOPES[i]`); the rest
//!   is an MCP request's HTTP body (and, read as JSON, a list result to filter).
//! - `dpop_request`: byte 0 selects the mode: a DPoP proof, a URI, request headers or a request
//!   target (fuzz/src/dpop_request.rs).
//! - `jwt_svid`: byte 0 selects the mode (a SPIFFE ID, a bundle document, a JWT-SVID, or a header
//!   and payload signed with the test key `p256-a`) and the JWT-SVID policy (fuzz/src/jwt_svid.rs).

use authsec_core::access_token::rules::{parse_token, verify_parsed};
use authsec_core::client::response::parse_token_response;
use authsec_core::client::token_client::schedule;
use authsec_core::config::{interpolate, interpolate_value};
use authsec_core::http::HttpResponse;
use authsec_core::jose::compact::decode_unverified;
use authsec_core::jose::keys::{KeySet, MAX_JWKS_BYTES, MAX_JWKS_KEYS};
use authsec_core::util::{b64url_decode, b64url_encode};
use authsec_core::{
    Alg, ClientConfig, ErrorCategory, ErrorCode, ManualClock, Secret, SigningKey, StaticKeys, TypPolicy, Verifier,
    VerifierConfig,
};
use serde_json::{Map, Value};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// The instant every case is checked at: the shared vectors' `now` (2023-11-14T22:13:20Z).
pub const NOW_MS: i64 = 1_700_000_000_000;
pub const ISSUER: &str = "https://issuer.example";
pub const AUDIENCE: &str = "https://api.example";
/// The client secret `token_response` scrubs by default (the dictionary knows it).
pub const CLIENT_SECRET: &str = "fuzz-client-secret-9f3a";

// ---------------------------------------------------------------------------------------------
// Fixtures from the shared test vectors (tests/vectors/).
// ---------------------------------------------------------------------------------------------

struct Fixtures {
    /// The `main` key set of the vectors (RSA `rsa-a`, P-256 `p256-a`, P-384 `p384-a`, Ed25519
    /// `ed25519-a`), as JSON and parsed.
    main_jwks: Value,
    main_keys: Arc<KeySet>,
    /// Tokens that verify with `main_keys` at `NOW_MS` for `ISSUER` / `AUDIENCE`, with the kid
    /// of the key that signed each.
    valid_tokens: Vec<(String, String)>,
    /// `ed25519-a`'s private key (TEST ONLY; published in tests/vectors/keys.json).
    signer: SigningKey,
}

fn fixtures() -> &'static Fixtures {
    static F: OnceLock<Fixtures> = OnceLock::new();
    F.get_or_init(|| {
        let algs: Value = serde_json::from_str(include_str!("../../tests/vectors/verify_algorithms.json"))
            .expect("verify_algorithms.json is JSON");
        let keys: Value =
            serde_json::from_str(include_str!("../../tests/vectors/keys.json")).expect("keys.json is JSON");
        let main_jwks = algs["jwks"]["main"].clone();
        let main_keys = Arc::new(KeySet::from_jwks_value(&main_jwks).expect("the main key set parses"));
        assert_eq!(main_keys.keys().len(), 4, "the main key set has four usable keys");
        let valid_tokens = [
            "rs256_valid",
            "ps256_valid",
            "es256_valid",
            "es384_valid",
            "eddsa_valid",
        ]
        .iter()
        .map(|name| {
            let case = algs["cases"]
                .as_array()
                .and_then(|c| c.iter().find(|c| c["name"] == *name))
                .unwrap_or_else(|| panic!("vector {name} exists"));
            let token = case["token"].as_str().expect("a token").to_string();
            let (header, _) = decode_unverified(&token).expect("a valid vector decodes");
            let kid = header["kid"].as_str().expect("valid vectors carry a kid").to_string();
            (token, kid)
        })
        .collect();
        let pem = keys["keys"]["ed25519-a"]["private_pem"]
            .as_str()
            .expect("ed25519-a's PEM");
        let signer = SigningKey::from_pem(pem, Some(Alg::EdDSA), Some("ed25519-a".into())).expect("ed25519-a loads");
        Fixtures {
            main_jwks,
            main_keys,
            valid_tokens,
            signer,
        }
    })
}

/// Split at the first `sep`; without one, everything is the head.
fn split_once(data: &[u8], sep: u8) -> (&[u8], Option<&[u8]>) {
    match data.iter().position(|b| *b == sep) {
        Some(i) => (&data[..i], Some(&data[i + 1..])),
        None => (data, None),
    }
}

fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

mod config_interpolate;
mod dpop_request;
mod jwks_parse;
mod jwt_parse;
mod jwt_svid;
mod mcp_request;
mod token_response;

pub use config_interpolate::*;
pub use dpop_request::*;
pub use jwks_parse::*;
pub use jwt_parse::*;
pub use jwt_svid::*;
pub use mcp_request::*;
pub use token_response::*;
