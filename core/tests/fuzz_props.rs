//! The fuzz targets' properties as stable property tests (issue 8), so that every `cargo test`
//! covers token parsing, JWKS parsing, token-response parsing and config interpolation even
//! without nightly and cargo-fuzz.
//!
//! The checks themselves are the cargo-fuzz crate's library (`fuzz/src/lib.rs`, included below),
//! so a property is written once. Inputs come from three places: the committed fuzz seeds
//! (`fuzz/corpus/<target>/`, replayed as they are and mutated with the targets' dictionaries),
//! and generators aimed at each parser's edges. `PROPTEST_CASES` raises the number of cases.

#[allow(dead_code)]
#[path = "../../fuzz/src/lib.rs"]
mod checks;

use authsec_core::http::HttpResponse;
use proptest::prelude::*;
use serde_json::{json, Map, Value};
use std::path::PathBuf;

const TARGETS: [&str; 7] = [
    "jwt_parse",
    "jwks_parse",
    "token_response",
    "config_interpolate",
    "mcp_request",
    "dpop_request",
    "jwt_svid",
];

fn fuzz_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// The committed seeds of a target, sorted by name.
fn seeds(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = fuzz_dir().join("corpus").join(target);
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .flatten()
        .map(|e| {
            let data = std::fs::read(e.path()).unwrap_or_else(|err| panic!("{}: {err}", e.path().display()));
            (e.file_name().to_string_lossy().into_owned(), data)
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no seeds in {}", dir.display());
    out
}

/// A libFuzzer dictionary: one `"token"` a line, with `\xNN` and `\\` / `\"` escapes.
fn dictionary(target: &str) -> Vec<Vec<u8>> {
    let path = fuzz_dir().join("dict").join(format!("{target}.dict"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .filter_map(|l| l.trim().strip_prefix('"')?.strip_suffix('"'))
        .map(|l| {
            let (mut out, b) = (Vec::new(), l.as_bytes());
            let mut i = 0;
            while i < b.len() {
                if b[i] == b'\\' && b.get(i + 1) == Some(&b'x') && i + 3 < b.len() {
                    let hex = std::str::from_utf8(&b[i + 2..i + 4]).expect("ascii");
                    out.push(u8::from_str_radix(hex, 16).expect("a \\xNN escape"));
                    i += 4;
                } else if b[i] == b'\\' && i + 1 < b.len() {
                    out.push(b[i + 1]);
                    i += 2;
                } else {
                    out.push(b[i]);
                    i += 1;
                }
            }
            out
        })
        .collect()
}

/// A seed changed by a few byte edits and dictionary insertions (a small libFuzzer-style mutator).
fn mutated(target: &'static str) -> impl Strategy<Value = Vec<u8>> {
    let seeds: Vec<Vec<u8>> = seeds(target).into_iter().map(|(_, d)| d).collect();
    let dict = dictionary(target);
    let edit = (0u8..5, any::<usize>(), any::<u8>(), any::<usize>());
    (0..seeds.len(), prop::collection::vec(edit, 1..6)).prop_map(move |(i, edits)| {
        let mut data = seeds[i].clone();
        for (op, pos, byte, d) in edits {
            let at = if data.is_empty() { 0 } else { pos % (data.len() + 1) };
            match op {
                0 if at < data.len() => data[at] = byte,
                1 => data.insert(at, byte),
                2 if at < data.len() => {
                    let end = (at + usize::from(byte % 16) + 1).min(data.len());
                    data.drain(at..end);
                }
                3 if !dict.is_empty() => {
                    let token = &dict[d % dict.len()];
                    data.splice(at..at, token.iter().copied());
                }
                _ if at > 0 && at <= data.len() => data.truncate(at),
                _ => {}
            }
        }
        data
    })
}

// ---------------------------------------------------------------------------------------------
// Generators aimed at each parser
// ---------------------------------------------------------------------------------------------

/// A NumericDate near the vectors' `now`, straddling the leeways (0 and 5 s), or an odd one.
fn numeric_date() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => (-12_000i64..12_000).prop_map(|ms| json!(1_700_000_000.0 + ms as f64 / 1000.0)),
        2 => (-12i64..12).prop_map(|s| json!(1_700_000_000 + s)),
        1 => prop::sample::select(vec![
            json!(1e300), json!(-1e300), json!(i64::MAX), json!(u64::MAX), json!(i64::MIN), json!(0),
            json!(-0.0), json!(4_102_444_800u64), json!(1.7e12), json!("1700000600"), json!(null), json!([1]),
        ]),
        1 => any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| json!(f)),
    ]
}

fn audience() -> impl Strategy<Value = Value> {
    prop::sample::select(vec![
        json!("https://api.example"),
        json!(["https://api.example"]),
        json!(["https://other.example", "https://api.example"]),
        json!("https://other.example"),
        json!([]),
        json!(["https://api.example", 1]),
        json!(null),
        json!({"aud": "https://api.example"}),
        json!("HTTPS://API.EXAMPLE"),
    ])
}

fn issuer() -> impl Strategy<Value = Value> {
    prop::sample::select(vec![
        json!("https://issuer.example"),
        json!("https://issuer.example/"),
        json!(""),
        json!(null),
        json!(["https://issuer.example"]),
        json!(7),
    ])
}

/// A claims object around the claim rules' edges.
fn claims() -> impl Strategy<Value = Value> {
    let strings = prop::sample::select(vec![json!("svc"), json!(""), json!(1), json!(null)]);
    (
        prop::option::weighted(0.9, numeric_date()),
        prop::option::of(numeric_date()),
        prop::option::of(numeric_date()),
        prop::option::weighted(0.9, issuer()),
        prop::option::weighted(0.9, audience()),
        prop::option::of(strings.clone()),
        prop::option::of(strings),
        prop::option::of(prop::sample::select(vec![
            json!("read:data write:logs"),
            json!(["a"]),
            json!(3),
        ])),
        prop::option::of(act()),
    )
        .prop_map(|(exp, nbf, iat, iss, aud, sub, jti, scope, act)| {
            let mut m = Map::new();
            for (k, v) in [
                ("exp", exp),
                ("nbf", nbf),
                ("iat", iat),
                ("iss", iss),
                ("aud", aud),
                ("sub", sub),
                ("jti", jti),
                ("scope", scope),
                ("act", act),
            ] {
                if let Some(v) = v {
                    m.insert(k.into(), v);
                }
            }
            Value::Object(m)
        })
}

/// An RFC 8693 `act` around the chain rules' edges: short chains from four ids (so some repeat),
/// with or without links that break a rule (`iss`, a top-level-only claim, a non-string or empty
/// `sub`, no id at all), chains of distinct actors around the 16-link limit, and values that are
/// not objects at all.
fn act() -> impl Strategy<Value = Value> {
    fn nest(links: Vec<Value>) -> Value {
        links.into_iter().rev().fold(Value::Null, |inner, mut l| {
            if !inner.is_null() {
                l["act"] = inner;
            }
            l
        })
    }
    let id = prop::sample::select(vec!["a", "b", "c", "d"]);
    let good = (id.clone(), 0u8..3).prop_map(|(id, shape)| match shape {
        0 => json!({"sub": id, "iss": "https://other.example"}),
        1 => json!({"client_id": id}),
        _ => json!({"sub": id, "client_id": format!("{id}-app")}),
    });
    let any = (id, 0u8..6).prop_map(|(id, shape)| match shape {
        0 => json!({"sub": id, "exp": 1}),
        1 => json!({"sub": 5}),
        2 => json!({"iss": id}),
        3 => json!({"sub": ""}),
        4 => json!({"client_id": id, "aud": "x"}),
        _ => json!({"sub": id}),
    });
    prop_oneof![
        6 => prop::collection::vec(good, 1..=5).prop_map(nest),
        2 => prop::collection::vec(any, 1..=4).prop_map(nest),
        3 => (15usize..=18).prop_map(|n| nest((0..n).map(|i| json!({"sub": format!("actor-{i}")})).collect())),
        1 => prop::sample::select(vec![json!("a"), json!(["a"]), json!(null), json!(1), json!({})]),
    ]
}

/// A JOSE header around the header rules' edges.
fn header() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(vec![
            json!("EdDSA"),
            json!("Ed25519"),
            json!("ES256"),
            json!("RS256"),
            json!("none"),
            json!("HS256"),
            json!(null),
            json!(["EdDSA"]),
        ]),
        prop::option::of(prop::sample::select(vec![
            json!("ed25519-a"),
            json!("p256-a"),
            json!("unknown"),
            json!(""),
            json!(3),
        ])),
        prop::option::of(prop::sample::select(vec![
            json!("at+jwt"),
            json!("AT+JWT"),
            json!("application/at+jwt"),
            json!("JWT"),
            json!("dpop+jwt"),
            json!(""),
            json!(1),
        ])),
        prop::option::weighted(0.1, prop::sample::select(vec![json!(["b64"]), json!([]), json!("b64")])),
    )
        .prop_map(|(alg, kid, typ, crit)| {
            let mut m = Map::new();
            m.insert("alg".into(), alg);
            for (k, v) in [("kid", kid), ("typ", typ), ("crit", crit)] {
                if let Some(v) = v {
                    m.insert(k.into(), v);
                }
            }
            Value::Object(m)
        })
}

/// The `main` key set's JWKs (tests/vectors), to build variations of.
fn main_jwks() -> Vec<Value> {
    let text = std::fs::read_to_string(fuzz_dir().join("../tests/vectors/verify_algorithms.json")).expect("vectors");
    let v: Value = serde_json::from_str(&text).expect("JSON");
    v["jwks"]["main"]["keys"].as_array().expect("keys").clone()
}

/// A JWK: one of the real keys with some members changed, dropped or added.
fn jwk() -> impl Strategy<Value = Value> {
    let keys = main_jwks();
    let member = prop::sample::select(vec!["kty", "crv", "x", "y", "n", "e", "use", "key_ops", "alg", "kid"]);
    let value = prop::sample::select(vec![
        json!("RSA"),
        json!("EC"),
        json!("OKP"),
        json!("oct"),
        json!("P-256"),
        json!("P-384"),
        json!("P-521"),
        json!("Ed25519"),
        json!("X25519"),
        json!("sig"),
        json!("enc"),
        json!(["verify"]),
        json!(["sign"]),
        json!("verify"),
        json!("EdDSA"),
        json!("ES256"),
        json!("RS256"),
        json!("HS256"),
        json!("none"),
        json!("AA"),
        json!(""),
        json!("AQAB"),
        json!("AAEAAQ"),
        json!("AAAAAAAAAAAAAA"),
        json!("ed25519-a"),
        json!(null),
        json!(7),
    ]);
    let change = (member, prop::option::weighted(0.8, value));
    (0..keys.len(), prop::collection::vec(change, 0..4)).prop_map(move |(i, changes)| {
        let mut k = keys[i].clone();
        for (name, v) in changes {
            let obj = k.as_object_mut().expect("a JWK is an object");
            match v {
                Some(v) => obj.insert(name.into(), v),
                None => obj.remove(name),
            };
        }
        k
    })
}

fn jwks_document() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        8 => prop::collection::vec(jwk(), 0..6).prop_map(|keys| json!({ "keys": keys }).to_string().into_bytes()),
        1 => prop::collection::vec(jwk(), 101..103).prop_map(|keys| json!({ "keys": keys }).to_string().into_bytes()),
        1 => prop::sample::select(vec![
            b"{\"keys\":{}}".to_vec(),
            b"{\"keys\":null}".to_vec(),
            b"[]".to_vec(),
            b"{\"keys\":[1,\"x\",[],{}]}".to_vec(),
            b"{\"keys\":[]} trailing".to_vec(),
        ]),
    ]
}

/// The client secrets token responses are scrubbed of.
fn secret() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        checks::CLIENT_SECRET.to_string(),
        "ab cd".to_string(),
        "x***".to_string(),
        "abc".to_string(),
        "pässwörd".to_string(),
        "s3cr3t\t1".to_string(),
        String::new(),
    ])
}

/// Server text around the scrubbing rules: the secret, controls, long text, the secret cut.
fn server_text(secret: String) -> impl Strategy<Value = Value> {
    let pieces = prop::sample::select(vec![
        "bad secret ".to_string(),
        secret.clone(),
        secret.replace(' ', "\n"),
        secret.replace(' ', "\t"),
        format!("x{secret}"),
        "\r\nX-Injected: 1".to_string(),
        "*".to_string(),
        "é".repeat(70),
        "a".repeat(290),
        "); ".to_string(),
    ]);
    prop_oneof![
        6 => prop::collection::vec(pieces, 0..5).prop_map(|p| json!(p.concat())),
        1 => prop::sample::select(vec![json!(null), json!(3), json!(["invalid_client"])]),
    ]
}

/// A token-endpoint answer: status, `Retry-After`, and a JSON body around the parser's edges.
fn token_response() -> impl Strategy<Value = (HttpResponse, Vec<String>, String)> {
    secret().prop_flat_map(|secret| {
        let access_token = prop::sample::select(vec![
            json!("opaque"),
            json!(""),
            json!(5),
            json!(null),
            json!(checks::sign_test_token(br#"{"alg":"EdDSA"}"#, br#"{"exp":1700000600}"#)),
            json!(format!(
                "e30.{}.x",
                authsec_core::util::b64url_encode(br#"{"exp":-1e300}"#)
            )),
            json!(format!(
                "e30.{}.x",
                authsec_core::util::b64url_encode(br#"{"exp":1e300}"#)
            )),
            json!(format!(
                "e30.{}.x",
                authsec_core::util::b64url_encode(br#"{"exp":1600000000}"#)
            )),
        ]);
        let token_type = prop::sample::select(vec![
            json!("Bearer"),
            json!("bearer"),
            json!("DPoP"),
            json!("mac"),
            json!(null),
        ]);
        let expires_in = prop::sample::select(vec![
            json!(3600),
            json!(0),
            json!(-1),
            json!(0.5),
            json!(1e30),
            json!(i64::MAX),
            json!(" 60 "),
            json!("soon"),
            json!(null),
            json!([1]),
        ]);
        let scope = prop::sample::select(vec![json!("read:data  write:logs"), json!(["a", 1]), json!(7)]);
        let error = prop::sample::select(vec![
            json!("invalid_client"),
            json!("invalid_scope"),
            json!("invalid_target"),
            json!("rate_limited"),
            json!("access_denied"),
            json!(secret.clone()),
            json!(format!("{secret}\n")),
            json!(3),
        ]);
        let retry_after = prop::option::of(prop::sample::select(vec![
            "120",
            "-1",
            "99999999999999999999",
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Fri, 31 Dec 9999 23:59:59 GMT",
            "Sun, 06 Nov 99999999999999 08:49:37 GMT",
            "Sun, 06 Nov 1994 99999999999:49:37 GMT",
        ]));
        (
            prop::sample::select(checks::STATUSES.to_vec()),
            retry_after,
            prop::option::weighted(0.8, access_token),
            prop::option::weighted(0.8, token_type),
            prop::option::of(expires_in),
            prop::option::of(scope),
            prop::option::of(error),
            prop::option::of(server_text(secret.clone())),
            any::<bool>(),
            Just(secret),
        )
            .prop_map(
                |(status, retry, access, typ, expires, scope, error, desc, requested, secret)| {
                    let mut m = Map::new();
                    for (k, v) in [
                        ("access_token", access),
                        ("token_type", typ),
                        ("expires_in", expires),
                        ("scope", scope),
                        ("error", error),
                        ("error_description", desc),
                    ] {
                        if let Some(v) = v {
                            m.insert(k.into(), v);
                        }
                    }
                    let headers = retry
                        .map(|r| vec![("Retry-After".to_string(), r.to_string())])
                        .unwrap_or_default();
                    let resp = HttpResponse::new(status, headers, Value::Object(m).to_string());
                    let scopes = if requested {
                        vec!["read:data".to_string()]
                    } else {
                        Vec::new()
                    };
                    (resp, scopes, secret)
                },
            )
    })
}

const TEXT_PIECES: [&str; 22] = [
    "${",
    "}",
    "$",
    "$$",
    ":-",
    "A",
    "B",
    "C",
    "AUTHSEC_CLIENT_SECRET",
    "UNSET",
    " ",
    "-",
    "x",
    "é",
    "\n",
    "${A}",
    "${B:-d}",
    "${UNSET:-}",
    "${A B}",
    "${}",
    "{",
    "$${A}",
];

/// Text made of interpolation syntax.
fn template() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TEXT_PIECES.to_vec()), 0..12).prop_map(|p| p.concat())
}

/// Variable values, some of which look like syntax themselves.
fn variables() -> impl Strategy<Value = checks::Vars> {
    let value = prop::sample::select(vec![
        "",
        "x",
        "y:z",
        "${A}",
        "$$",
        "}",
        " ",
        "s3: #cr3t\n- x",
        "value-with-some-length",
        "Zq7xSecretAlpha42",
    ]);
    prop::collection::vec(prop::option::of(value), 5).prop_map(|vals| {
        checks::VAR_NAMES
            .iter()
            .zip(vals)
            .filter_map(|(n, v)| v.map(|v| (n.to_string(), v.to_string())))
            .collect()
    })
}

/// A YAML configuration from settings lines, with `${...}` in the values.
fn yaml_config() -> impl Strategy<Value = String> {
    let line = prop::sample::select(vec![
        "client_id: ${AUTHSEC_CLIENT_ID}",
        "client_id: agent",
        "client_secret: ${AUTHSEC_CLIENT_SECRET}",
        "client_secret: \"${AUTHSEC_CLIENT_SECRET}\"",
        "client_secret: [${AUTHSEC_CLIENT_SECRET}]",
        "private_key: ${AUTHSEC_CLIENT_SECRET}",
        "token_url: https://auth.example.com/oauth/token",
        "token_url: ${A}",
        "token_url: https://${AUTHSEC_CLIENT_SECRET}.example/t",
        "issuer: http://auth.example.com",
        "issuer: http://127.0.0.1:8080",
        "scopes: [read:data, ${B}]",
        "scope: ${C:-read}",
        "auth_method: ${A:-client_secret_post}",
        "auth_method: ${AUTHSEC_CLIENT_SECRET}",
        "private_key_alg: ${AUTHSEC_CLIENT_SECRET}",
        "refresh_buffer: 5m",
        "refresh_buffer: 18446744073709551615h",
        "refresh_buffer: ${A}",
        "allow_insecure_http: ${B:-no}",
        "unknown_setting: 1",
        "client_id: ${",
    ]);
    (any::<bool>(), prop::collection::vec(line, 0..7)).prop_map(|(nested, lines)| {
        if nested {
            format!(
                "authsec:\n{}",
                lines.iter().map(|l| format!("  {l}\n")).collect::<String>()
            )
        } else {
            lines.iter().map(|l| format!("{l}\n")).collect()
        }
    })
}

/// Text near SPIFFE IDs and patterns: example.org and other trust domains, odd characters, dot
/// segments, a trailing `/` or `/*`, upper case, ports, queries.
fn spiffe_id_text() -> impl Strategy<Value = String> {
    let td = prop::sample::select(vec![
        "example.org",
        "Example.org",
        "example.org:443",
        "partner.test",
        "",
        "a_b-c.d",
        "ex%41",
    ]);
    let seg = prop::sample::select(vec![
        "agents",
        "billing",
        "ml-training",
        ".",
        "..",
        "",
        "A.b_c-9",
        "a b",
        "a?x",
        "*",
        "é",
    ]);
    (
        prop::sample::select(vec!["spiffe://", "spiffe://", "spiffe://", "SPIFFE://", "spiffe:/", ""]),
        td,
        prop::collection::vec(seg, 0..4),
        prop::sample::select(vec!["", "", "/", "/*", "#f"]),
    )
        .prop_map(|(scheme, td, segs, tail)| {
            let path: String = segs.iter().map(|s| format!("/{s}")).collect();
            format!("{scheme}{td}{path}{tail}")
        })
}

fn json_with_templates() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![template().prop_map(Value::String), Just(json!(1)), Just(json!(null))];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(("[a-c${}]{0,3}", inner), 0..4)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// MCP request bodies: one message or a batch of calls, reads and gets naming the fuzz server's
/// tools, resources and prompts (and others), now and then with a wrong type where a name goes.
fn mcp_body() -> impl Strategy<Value = String> {
    let target = prop_oneof![
        prop::sample::select(vec![
            "delete_file",
            "read_file",
            "read_secret",
            "echo",
            "review",
            "file:///private/k",
            "file:///a",
            "",
        ])
        .prop_map(|s| json!(s)),
        any::<String>().prop_map(|s| json!(s)),
        Just(json!(7)),
        Just(Value::Null),
    ];
    let method = prop::sample::select(vec![
        "tools/call",
        "resources/read",
        "prompts/get",
        "tools/list",
        "initialize",
        "resources/subscribe",
    ]);
    let message = (method, target, any::<bool>()).prop_map(|(m, t, uri)| {
        let key = if uri { "uri" } else { "name" };
        json!({"jsonrpc": "2.0", "id": 1, "method": m, "params": {key: t, "arguments": {"x": 1}}})
    });
    prop_oneof![
        message.clone().prop_map(|m| m.to_string()),
        prop::collection::vec(message, 0..4).prop_map(|b| Value::Array(b).to_string()),
        any::<String>(),
    ]
}

// ---------------------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------------------

/// Every committed seed passes its target's checks (they are also the regression inputs).
#[test]
fn committed_seeds_pass() {
    let check: [fn(&[u8]); 7] = [
        checks::check_jwt,
        checks::check_jwks,
        checks::check_token_response,
        checks::check_config,
        checks::check_mcp_request,
        checks::check_dpop_request,
        checks::check_jwt_svid,
    ];
    for (target, check) in TARGETS.iter().zip(check) {
        for (name, data) in seeds(target) {
            let r = std::panic::catch_unwind(|| check(&data));
            assert!(r.is_ok(), "fuzz/corpus/{target}/{name} fails its checks");
        }
        assert!(!dictionary(target).is_empty(), "the {target} dictionary parses");
    }
}

/// The `jwt_svid` seeds reach what they are for: the fixed bundle verifies the vectors' p256-a
/// SVIDs and mode 3's signatures, so the fuzzer starts past the signature, at the claim rules.
#[test]
fn jwt_svid_seeds_verify() {
    use authsec_core::spiffe::verify_jwt_svid;
    let f = checks::svid_bundles();
    for (name, sel, ok) in [
        ("token_es256_valid", 2, true),
        ("token_kidless_single_key_bundle", 2, true),
        ("token_rs256_valid", 2, false),
        ("signed_valid", 3, true),
        ("signed_payload_only", 3, true),
        ("signed_not_allowed", 3 | 8 | 4, false),
    ] {
        let data = &seeds("jwt_svid").into_iter().find(|(n, _)| n == name).expect(name).1;
        assert_eq!(data[0], sel, "{name}");
        let token = match sel & 3 {
            2 => String::from_utf8(data[1..].to_vec()).unwrap(),
            _ => match data[1..].iter().position(|b| *b == 0) {
                Some(i) => checks::sign_svid(&data[1..i + 1], &data[i + 2..]),
                None => checks::sign_svid(checks::SVID_HEADER.as_bytes(), &data[1..]),
            },
        };
        let r = verify_jwt_svid(&token, f, &checks::svid_policy(sel), checks::NOW_MS);
        assert_eq!(r.is_ok(), ok, "{name}: {r:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        // 500 keeps the whole file within a few seconds; PROPTEST_CASES=20000 for a longer run.
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(500),
        // A failure prints its minimal input; add it to fuzz/corpus/<target>/ as a regression seed.
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn jwt_parse_mutated_seeds(data in mutated("jwt_parse")) {
        checks::check_jwt(&data);
    }

    #[test]
    fn jwt_parse_signed_claims(sel in any::<u8>(), claims in claims()) {
        // Mode 3: the claims signed under a valid header by ed25519-a.
        let data = [&[sel | 3][..], claims.to_string().as_bytes()].concat();
        checks::check_jwt(&data);
    }

    #[test]
    fn jwt_parse_signed_act(sel in any::<u8>(), act in act()) {
        // Mode 3: otherwise valid claims with an `act` chain, so the chain rules decide.
        let claims = json!({"iss": checks::ISSUER, "aud": checks::AUDIENCE, "exp": checks::NOW_MS / 1000 + 600, "act": act});
        let data = [&[sel | 3][..], claims.to_string().as_bytes()].concat();
        checks::check_jwt(&data);
    }

    #[test]
    fn jwt_parse_signed_headers(sel in any::<u8>(), header in header(), claims in claims()) {
        // Mode 2: any header, signed by ed25519-a.
        let data = [&[sel & !3 | 2][..], header.to_string().as_bytes(), b"\0", claims.to_string().as_bytes()].concat();
        checks::check_jwt(&data);
    }

    #[test]
    fn jwt_parse_arbitrary_text(sel in any::<u8>(), token in "[a-zA-Z0-9_=.+/ -]{0,80}") {
        checks::check_jwt(&[&[sel & !3][..], token.as_bytes()].concat());
    }

    #[test]
    fn jwks_parse_mutated_seeds(data in mutated("jwks_parse")) {
        checks::check_jwks(&data);
    }

    #[test]
    fn jwks_parse_key_variations(doc in jwks_document()) {
        checks::check_jwks(&doc);
    }

    #[test]
    fn token_response_mutated_seeds(data in mutated("token_response")) {
        checks::check_token_response(&data);
    }

    #[test]
    fn token_response_bodies((resp, requested, secret) in token_response()) {
        checks::check_response(&resp, &requested, &secret);
    }

    #[test]
    fn dpop_request_mutated_seeds(data in mutated("dpop_request")) {
        checks::check_dpop_request(&data);
    }

    #[test]
    fn dpop_request_any_text(mode in 0u8..4, text in any::<String>()) {
        checks::check_dpop_request(&[&[mode][..], text.as_bytes()].concat());
    }

    #[test]
    fn jwt_svid_mutated_seeds(data in mutated("jwt_svid")) {
        checks::check_jwt_svid(&data);
    }

    #[test]
    fn jwt_svid_any_text(sel in any::<u8>(), text in any::<String>()) {
        checks::check_jwt_svid(&[&[sel][..], text.as_bytes()].concat());
    }

    #[test]
    fn jwt_svid_ids(text in spiffe_id_text(), id in prop::option::of(spiffe_id_text())) {
        // Mode 0: near-IDs (and a pattern matched against a second one).
        let text = match id { Some(id) => format!("{text}\n{id}"), None => text };
        checks::check_jwt_svid(&[&[0u8][..], text.as_bytes()].concat());
    }

    #[test]
    fn jwt_svid_signed_claims(sel in any::<u8>(), sub in spiffe_id_text(), claims in claims()) {
        // Mode 3: SVID claims around the rules' edges with a sub near example.org's IDs, signed by
        // p256-a under a valid header, so the claim rules decide.
        let mut claims = claims;
        claims["sub"] = json!(sub);
        let claims = claims.to_string().replace(checks::AUDIENCE, checks::SVID_AUDIENCE);
        let data = [&[sel | 3][..], claims.as_bytes()].concat();
        checks::check_jwt_svid(&data);
    }

    #[test]
    fn mcp_request_mutated_seeds(data in mutated("mcp_request")) {
        checks::check_mcp_request(&data);
    }

    #[test]
    fn mcp_request_bodies(granted in any::<u8>(), body in mcp_body()) {
        checks::check_mcp_request(&[&[granted][..], body.as_bytes()].concat());
    }

    #[test]
    fn config_mutated_seeds(data in mutated("config_interpolate")) {
        checks::check_config(&data);
    }

    #[test]
    fn config_interpolate_text(text in template(), vars in variables()) {
        checks::check_interpolate(&text, &vars);
    }

    #[test]
    fn config_interpolate_any_text(text in any::<String>(), vars in variables()) {
        checks::check_interpolate(&text, &vars);
    }

    #[test]
    fn config_interpolate_value(v in json_with_templates(), vars in variables()) {
        checks::check_interpolate_value(&v, &vars);
    }

    #[test]
    fn config_yaml(text in yaml_config(), vars in variables()) {
        checks::check_yaml(&text, &vars);
    }

    #[test]
    fn config_any_secret_value(secret in any::<String>()) {
        checks::check_secret_value(&secret);
    }
}

/// Bugs the fuzz targets and property tests found, pinned (each failed before its fix in core/).
mod regressions {
    use super::checks::{self, NOW_MS};
    use authsec_core::access_token::rules::parse_token;
    use authsec_core::client::config::parse_duration;
    use authsec_core::client::response::{parse_token_response, MAX_LIFETIME_SECS};
    use authsec_core::client::token_client::schedule;
    use authsec_core::http::HttpResponse;
    use authsec_core::util::b64url_encode;
    use authsec_core::{ErrorCode, KeySet, VerifierConfig};
    use serde_json::json;
    use std::time::Duration;

    #[test]
    fn jwks_rsa_key_with_an_empty_modulus_is_skipped() {
        // `len * 8 - 8` underflowed: a panic in debug builds, a huge "bit count" (accepted) in release.
        for n in ["", "AA", "AAAA"] {
            let set = KeySet::from_jwks_json(
                json!({"keys": [{"kty": "RSA", "n": n, "e": "AQAB"}]})
                    .to_string()
                    .as_bytes(),
            )
            .expect("a JWKS");
            assert!(set.is_empty(), "n = {n:?}");
            assert!(set.skipped[0].contains("0 bits"), "{:?}", set.skipped);
        }
    }

    #[test]
    fn jwks_skip_reasons_are_bounded_and_escaped() {
        // A "use" that is not a string was written out whole (a megabyte value, a megabyte
        // message); untrusted strings are quoted, escaped and cut to 40 characters.
        let big = json!({"keys": [
            {"kty": "EC", "use": vec!["x".repeat(1000); 1000]},
            {"kty": "EC", "use": format!("enc\u{202e}{}", "y".repeat(100))},
            {"kty": "EC", "crv": "P-999\n"},
            {"kty": "ЕС"},
        ]});
        // (from_jwks_value: a JWKS handed over as an object, which the text size limit never sees)
        let set = KeySet::from_jwks_value(&big).expect("a JWKS");
        assert!(set.is_empty());
        assert_eq!(set.skipped[0], "key #0: \"use\" is not a string, not \"sig\"");
        assert_eq!(
            set.skipped[1],
            format!("key #1: \"use\" is \"enc\\u{{202e}}{}…\", not \"sig\"", "y".repeat(36))
        );
        assert!(set.skipped[2].contains(r#""P-999\u{a}""#), "{:?}", set.skipped);
        assert!(set.skipped[3].contains("\"\\u{415}\\u{421}\""), "{:?}", set.skipped);
    }

    #[test]
    fn jwks_rsa_key_with_an_unusable_exponent_is_skipped() {
        // The range check looked at the exponent before its leading zeros were stripped ("AA",
        // "AAAA": zero). RFC 8017 wants an odd exponent of at least 3: 1 ("AQ") makes signatures
        // forgeable, 2 ("Ag") and 65536 ("AQAA") are even.
        let text = std::fs::read_to_string(super::fuzz_dir().join("../tests/vectors/verify_algorithms.json")).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let n = v["jwks"]["main"]["keys"][0]["n"].as_str().unwrap();
        for e in ["AA", "AAAA", "AQ", "AAE", "Ag", "AQAA"] {
            let set = KeySet::from_jwks_json(json!({"keys": [{"kty": "RSA", "n": n, "e": e}]}).to_string().as_bytes())
                .expect("a JWKS");
            assert!(set.is_empty(), "e = {e:?}");
            assert!(set.skipped[0].contains("exponent"), "{:?}", set.skipped);
        }
        for e in ["Aw", "AQAB", "AAEAAQ"] {
            let set = KeySet::from_jwks_json(json!({"keys": [{"kty": "RSA", "n": n, "e": e}]}).to_string().as_bytes())
                .expect("a JWKS");
            assert_eq!(set.keys().len(), 1, "e = {e:?}: {:?}", set.skipped);
        }
    }

    #[test]
    fn jwt_header_must_be_utf8() {
        // serde skipped the unknown member without checking its UTF-8, so the header was accepted.
        let token = checks::sign_test_token(b"{\"alg\":\"EdDSA\",\"x\":\"\xb0\"}", b"{}");
        let cfg = VerifierConfig::new(checks::ISSUER, checks::AUDIENCE);
        assert_eq!(
            parse_token(&token, &cfg).err().map(|e| e.code()),
            Some(ErrorCode::MalformedToken)
        );
    }

    #[test]
    fn jwt_header_numbers_must_be_in_range() {
        // An unknown header member was skipped unread, so `1e+3000600` (valid JSON syntax, out of
        // any number's range) passed parse_token while decode_unverified refused the header.
        // Found by cargo-fuzz (jwt_parse, mode 2).
        let header = br#"{"alg":"ES256","ki]":"p2560tps://issuer.example","exp":1e+3000600}"#;
        let token = checks::sign_test_token(header, b"{}");
        let cfg = VerifierConfig::new(checks::ISSUER, checks::AUDIENCE);
        assert_eq!(
            parse_token(&token, &cfg).err().map(|e| e.code()),
            Some(ErrorCode::MalformedToken)
        );
        let mut input = vec![2u8];
        input.extend_from_slice(header);
        checks::check_jwt(&input);
    }

    fn ok_response(access_token: &str) -> HttpResponse {
        HttpResponse::json(200, &json!({"access_token": access_token, "token_type": "Bearer"}))
    }

    #[test]
    fn token_response_jwt_exp_is_bounded_and_lifetime_does_not_overflow() {
        // `exp` read from a JWT access token had no bounds: 1e300 → never refreshed; -1e300 →
        // i64::MIN, and lifetime_ms() overflowed (a panic in debug, a huge lifetime in release).
        let jwt = |exp: &str| format!("e30.{}.x", b64url_encode(format!("{{\"exp\":{exp}}}").as_bytes()));
        let ten_years = MAX_LIFETIME_SECS * 1000;
        let t = parse_token_response(&ok_response(&jwt("1e300")), NOW_MS, &[], &[]).unwrap();
        assert_eq!(t.expires_at_ms, NOW_MS + ten_years);
        let t = parse_token_response(&ok_response(&jwt("-1e300")), NOW_MS, &[], &[]).unwrap();
        assert_eq!(t.expires_at_ms, NOW_MS - ten_years);
        assert_eq!(t.lifetime_ms(), 0);
        let s = schedule(&t, Duration::from_secs(300));
        assert!(
            s.usable_until_ms <= NOW_MS,
            "an expired token is never handed out: {s:?}"
        );
    }

    #[test]
    fn schedule_with_a_huge_refresh_buffer() {
        // `buffer.as_millis() as i64` wrapped Duration::MAX to a negative buffer: refresh after expiry.
        let t = parse_token_response(&ok_response("opaque"), NOW_MS, &[], &[]).unwrap();
        let s = schedule(&t, Duration::MAX);
        assert_eq!(s.refresh_at_ms, t.expires_at_ms - t.lifetime_ms() / 2);
    }

    #[test]
    fn refresh_buffer_overflow_is_a_config_error() {
        // `n * 3600` overflowed u64.
        let e = parse_duration("refresh_buffer", "18446744073709551615h").unwrap_err();
        assert_eq!(e.code(), ErrorCode::ConfigError);
        assert_eq!(
            parse_duration("refresh_buffer", "5m").unwrap(),
            Duration::from_secs(300)
        );
    }

    #[test]
    fn retry_after_with_a_huge_year_is_ignored() {
        // The IMF-fixdate arithmetic overflowed for a year of 10^17.
        let resp = HttpResponse::new(
            429,
            vec![(
                "Retry-After".into(),
                "Sun, 06 Nov 99999999999999999 08:49:37 GMT".into(),
            )],
            "{}",
        );
        let e = parse_token_response(&resp, NOW_MS, &[], &[]).unwrap_err();
        assert_eq!(e.code(), ErrorCode::RateLimited);
        assert_eq!(e.retry_after(), None);
    }

    #[test]
    fn the_client_secret_cannot_hide_behind_controls_or_be_rebuilt_by_scrubbing() {
        for (secret, error, description) in [("ab cd", "invalid_client", "bad ab\ncd"), ("x***", "xx***", "xx***")] {
            let resp = HttpResponse::json(400, &json!({"error": error, "error_description": description}));
            let e = parse_token_response(&resp, NOW_MS, &[], &[secret]).unwrap_err();
            assert!(!e.message().contains(secret), "{e:?}");
            assert!(!e.oauth_error().unwrap_or_default().contains(secret), "{e:?}");
        }
    }

    #[test]
    fn a_yaml_key_with_tabs_is_not_rejoined_in_the_error() {
        // A fuzzer's find: the YAML key `client_idZq7xSec<TAB>ret<TAB><TAB>Alpha42` came back in
        // the error with its tabs dropped, spelling the test secret the text never contained.
        let data = authsec_core::util::b64_std_decode(
            "AmNsaWXNbnRfaWRacTd4U2VjCXJldAkJQWxwaGE0MjoALSBvbmseQ1JFVC99dAoke0FVVEhTRXJpdGUK",
        )
        .expect("base64");
        checks::check_config(&data);
    }
}
