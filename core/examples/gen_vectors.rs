//! Generates the shared JWT-verification test vectors in `tests/vectors/` (format: that
//! directory's README.md).
//!
//! ```text
//! cargo run -p authsec-core --example gen_vectors              # (re)write the vector files
//! cargo run -p authsec-core --example gen_vectors -- --check   # exit 1 if the files on disk are stale
//! ```
//!
//! Idempotent: the keys come from `tests/vectors/keys.json` (generated on the first run only), and
//! a token whose header and payload segments are unchanged keeps its existing signature as long as
//! that signature still verifies with the same key, so randomized ECDSA/PSS signatures do not churn.
//! Attack tokens (`none`, HMAC, malformed) are built deterministically.
//!
//! `core/tests/vectors.rs` compiles this file as a module and runs [`check`] so that `cargo test`
//! fails on drift.

use authsec_core::jose::signing::pem_armor;
use authsec_core::util::{b64_std_decode, b64url_encode};
use authsec_core::{Alg, SigningKey};
use serde_json::{json, Map, Value};
use sha2::Digest;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// The fixed "current time" of every case (2023-11-14T22:13:20Z).
pub const NOW: i64 = 1_700_000_000;
pub const ISS: &str = "https://issuer.example";
pub const AUD: &str = "https://api.example";
const SUB: &str = "svc-reporting";
const ATTACKER_JKU: &str = "https://attacker.example/.well-known/jwks.json";

/// `tests/vectors/` of this workspace.
pub fn vectors_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/vectors"))
}

// ---------------------------------------------------------------------------------------------
// Entry points
// ---------------------------------------------------------------------------------------------

/// The generated files: `(file name, content)`, keys.json first.
pub struct Generated {
    pub files: Vec<(String, String)>,
    /// Cases whose token had to be signed anew (no reusable signature on disk).
    pub resigned: Vec<String>,
}

/// Regenerate every file in memory. With `allow_new_keys` false a missing key is an error.
pub fn generate(dir: &Path, allow_new_keys: bool) -> Result<Generated, String> {
    let keys = load_or_create_keys(dir, allow_new_keys)?;
    let mut g = Gen::new(keys);
    g.load_existing(dir);
    let mut files = vec![("keys.json".to_string(), keys_file(&g.keys))];
    for f in [
        algorithms(&mut g),
        attacks(&mut g),
        structure(&mut g),
        claims_file(&mut g),
        scopes(&mut g),
        config(&mut g),
    ] {
        let names: BTreeSet<&str> = f.cases.iter().map(|c| c["name"].as_str().unwrap_or_default()).collect();
        if names.len() != f.cases.len() {
            return Err(format!("{}: duplicate case names", f.file));
        }
        files.push((f.file.to_string(), f.render(&g)?));
    }
    // Case names are unique across files too (bindings may report them without the file).
    let mut all = BTreeSet::new();
    for (name, content) in &files[1..] {
        let v: Value = serde_json::from_str(content).map_err(|e| format!("{name}: {e}"))?;
        for c in v["cases"].as_array().into_iter().flatten() {
            if !all.insert(c["name"].as_str().unwrap_or_default().to_string()) {
                return Err(format!("case name {} is used twice", c["name"]));
            }
        }
    }
    Ok(Generated {
        files,
        resigned: g.resigned,
    })
}

/// Compare the files on disk with a fresh generation; returns one line per difference.
pub fn check(dir: &Path) -> Result<Vec<String>, String> {
    let gen = generate(dir, false)?;
    let mut diffs = Vec::new();
    for (name, content) in &gen.files {
        let path = dir.join(name);
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        if on_disk == *content {
            continue;
        }
        if on_disk.is_empty() {
            diffs.push(format!("{name}: missing"));
            continue;
        }
        let (old, new): (Value, Value) = match (serde_json::from_str(&on_disk), serde_json::from_str(content)) {
            (Ok(o), Ok(n)) => (o, n),
            _ => {
                diffs.push(format!("{name}: differs (not valid JSON on disk)"));
                continue;
            }
        };
        let by_name = |v: &Value| -> BTreeMap<String, String> {
            v["cases"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| (c["name"].as_str().unwrap_or_default().to_string(), canon(c)))
                .collect()
        };
        let (o, n) = (by_name(&old), by_name(&new));
        let mut named = false;
        for (k, v) in &n {
            match o.get(k) {
                None => diffs.push(format!("{name}: case {k} is new")),
                Some(ov) if ov != v => diffs.push(format!("{name}: case {k} differs")),
                _ => continue,
            }
            named = true;
        }
        for k in o.keys().filter(|k| !n.contains_key(*k)) {
            diffs.push(format!("{name}: case {k} is no longer generated"));
            named = true;
        }
        if !named {
            diffs.push(format!(
                "{name}: differs outside the cases (keys, key sets or formatting)"
            ));
        }
    }
    let expected: BTreeSet<&str> = gen.files.iter().map(|(n, _)| n.as_str()).collect();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let n = e.file_name().to_string_lossy().to_string();
            if n.ends_with(".json") && !expected.contains(n.as_str()) {
                diffs.push(format!("{n}: not produced by the generator"));
            }
        }
    }
    Ok(diffs)
}

#[allow(dead_code)]
fn main() {
    let check_only = std::env::args().skip(1).any(|a| a == "--check");
    let dir = vectors_dir();
    if check_only {
        match check(&dir) {
            Ok(d) if d.is_empty() => println!("gen_vectors: {} is up to date", dir.display()),
            Ok(d) => {
                for line in &d {
                    eprintln!("drift: {line}");
                }
                eprintln!("gen_vectors: {} difference(s); run `cargo run -p authsec-core --example gen_vectors` and commit the result", d.len());
                std::process::exit(1);
            }
            Err(e) => {
                eprintln!("gen_vectors: {e}");
                std::process::exit(2);
            }
        }
        return;
    }
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("gen_vectors: cannot create {}: {e}", dir.display());
        std::process::exit(2);
    }
    let gen = match generate(&dir, true) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("gen_vectors: {e}");
            std::process::exit(2);
        }
    };
    let mut total = 0;
    for (name, content) in &gen.files {
        let path = dir.join(name);
        let n = serde_json::from_str::<Value>(content)
            .ok()
            .and_then(|v| v["cases"].as_array().map(Vec::len))
            .unwrap_or(0);
        total += n;
        let same = std::fs::read_to_string(&path).is_ok_and(|s| s == *content);
        if !same {
            if let Err(e) = std::fs::write(&path, content) {
                eprintln!("gen_vectors: cannot write {}: {e}", path.display());
                std::process::exit(2);
            }
        }
        println!(
            "{:<24} {:>4} cases  {}",
            name,
            n,
            if same { "unchanged" } else { "written" }
        );
    }
    println!(
        "gen_vectors: {total} cases; {} token(s) signed anew",
        gen.resigned.len()
    );
}

// ---------------------------------------------------------------------------------------------
// Keys
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Rsa,
    P256,
    P384,
    Ed25519,
    /// 1024-bit RSA: below the minimum, signed by the small RSA implementation below.
    WeakRsa,
}

const KEY_SPECS: &[(&str, Kind, &str)] = &[
    (
        "rsa-a",
        Kind::Rsa,
        "RSA 2048: the issuer's main RSA key (RS256/384/512 and PS256/384/512)",
    ),
    (
        "rsa-b",
        Kind::Rsa,
        "RSA 2048: the issuer's second RSA key (key rotation)",
    ),
    ("p256-a", Kind::P256, "EC P-256: the issuer's ES256 key"),
    ("p384-a", Kind::P384, "EC P-384: the issuer's ES384 key"),
    ("ed25519-a", Kind::Ed25519, "Ed25519: the issuer's EdDSA key"),
    (
        "attacker-rsa",
        Kind::Rsa,
        "RSA 2048: an attacker's key; never in an issuer key set",
    ),
    (
        "attacker-p256",
        Kind::P256,
        "EC P-256: an attacker's key; never in an issuer key set",
    ),
    (
        "rsa-1024-weak",
        Kind::WeakRsa,
        "RSA 1024: below the 2048-bit minimum; verifiers must skip it",
    ),
];

/// TEST ONLY. A 1024-bit RSA key (openssl genrsa -traditional 1024); aws-lc cannot make one.
const WEAK_RSA_PEM: &str = "-----BEGIN RSA PRIVATE KEY-----
MIICXAIBAAKBgQCp6HMlvXXtNOPHrL1wjkOaDYZE+BKLODZeygk4NvQ7+BJdvHH2
mRtrEM3LQODF5bbPTOpmnUbPQxEshbOBXp0ngQfV0wUsB8omP+q8SIHESypFusBs
zDWxnwW/7HzdNn9hhFjybgFylA75I5J193zQVcjAFvM2wqsSSzZYqTvebwIDAQAB
AoGAPf+OFNVfdKD6BOBpd+rRjCMnPX9v9NEcNdZvKs4SrNdGjGG5DAyuTpEhJuuT
mWLLJDWiyrLVJcgJOj/HUouduDYVGbbOPhamou9xhqOzFP8PUDLpGugcAIetfH5i
Vg0Ld0Jn7tjl28ZLCenABl5cWti2r4tOftQnciAzH97af1ECQQDcMh18g+W+siRm
aEQ31AY6fmnDDKKIX2xIPHo71e/zMas1k0MY14C6nZL2PH55cPP8iMaXLoW7g2gN
bw+KvAijAkEAxYkNh45Nv4FI7h9h5INB6B4MB9/VINfeqOo962nsxvAPsjAO2v2T
be8zz+ymQi0TgspYUwVZMmv1x5/Y+ThzxQJAcYGn74KyUI3V87A10i2KlGaLsE74
DaJa2BXM0MFkcpGc9v4VbV3RbuFBW4stiv5t1zTOYipKJ7ICVkJ02Yg6TwJBALMp
UFUfk5LbPvuDCTXKew99mSnXMSZdxLzt4AVSCIiTGZljD0Y+ceZm61Zt7Ine+nBI
+H0sP6+EzeImMBQyyIUCQDRRzrpu/nUQRrVq+K/z4uAVM/2eZi9kTkOyvdYPYLpG
9/vWzLyLTVjRv4TUXiy+u6lktKsrdfc20+PiAqjZILM=
-----END RSA PRIVATE KEY-----
";

struct TestKey {
    kind: Kind,
    description: String,
    private_pem: String,
    /// kty + key parameters + `kid` (= the key's name).
    public_jwk: Value,
    /// SubjectPublicKeyInfo PEM.
    public_pem: String,
    /// For the weak key: (n, e, d).
    weak: Option<(big::Big, big::Big, big::Big)>,
}

fn default_alg(kind: Kind) -> Alg {
    match kind {
        Kind::Rsa | Kind::WeakRsa => Alg::RS256,
        Kind::P256 => Alg::ES256,
        Kind::P384 => Alg::ES384,
        Kind::Ed25519 => Alg::EdDSA,
    }
}

fn load_or_create_keys(dir: &Path, allow_new: bool) -> Result<BTreeMap<String, TestKey>, String> {
    let existing: Value = std::fs::read_to_string(dir.join("keys.json"))
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or(del());
    let mut out = BTreeMap::new();
    for (name, kind, description) in KEY_SPECS {
        let pem = match existing["keys"][*name]["private_pem"].as_str() {
            Some(p) => p.to_string(),
            None if !allow_new => {
                return Err(format!(
                    "keys.json has no key {name:?}; run the generator without --check"
                ))
            }
            None if *kind == Kind::WeakRsa => WEAK_RSA_PEM.to_string(),
            None => generate_key(default_alg(*kind), name)?,
        };
        out.insert(name.to_string(), test_key(name, *kind, description, pem)?);
    }
    Ok(out)
}

#[cfg(feature = "aws_lc_rs")]
fn generate_key(alg: Alg, name: &str) -> Result<String, String> {
    let key = SigningKey::generate(alg, Some(name.to_string())).map_err(|e| format!("cannot generate {name}: {e}"))?;
    Ok(key.to_pem().expose().to_string())
}

#[cfg(not(feature = "aws_lc_rs"))]
fn generate_key(_alg: Alg, name: &str) -> Result<String, String> {
    Err(format!(
        "cannot generate {name}: key generation needs the aws_lc_rs feature"
    ))
}

fn test_key(name: &str, kind: Kind, description: &str, pem: String) -> Result<TestKey, String> {
    let pick = |jwk: &Value, fields: &[&str]| -> Value {
        let mut m = Map::new();
        for f in fields {
            m.insert(f.to_string(), jwk[*f].clone());
        }
        m.insert("kid".into(), json!(name));
        Value::Object(m)
    };
    let (public_jwk, spki, weak) = if kind == Kind::WeakRsa {
        let ints = der::pkcs1_private_key(&pem_body(&pem)?).ok_or("the weak RSA PEM is not PKCS#1")?;
        let (n, e, d) = (&ints[1], &ints[2], &ints[3]);
        let jwk =
            json!({"kty": "RSA", "n": b64url_encode(der::strip(n)), "e": b64url_encode(der::strip(e)), "kid": name});
        let weak = (big::Big::from_be(n), big::Big::from_be(e), big::Big::from_be(d));
        (jwk, der::rsa_spki(n, e), Some(weak))
    } else {
        let sk = SigningKey::from_pem(&pem, Some(default_alg(kind)), Some(name.to_string()))
            .map_err(|e| format!("key {name}: {e}"))?;
        let full = sk.public_jwk();
        let b = |f: &str| authsec_core::util::b64url_decode(full[f].as_str().unwrap_or_default()).unwrap_or_default();
        match kind {
            Kind::Rsa => (pick(&full, &["kty", "n", "e"]), der::rsa_spki(&b("n"), &b("e")), None),
            Kind::P256 | Kind::P384 => (
                pick(&full, &["kty", "crv", "x", "y"]),
                der::ec_spki(kind == Kind::P384, &b("x"), &b("y")),
                None,
            ),
            Kind::Ed25519 => (pick(&full, &["kty", "crv", "x"]), der::ed25519_spki(&b("x")), None),
            Kind::WeakRsa => unreachable!(),
        }
    };
    Ok(TestKey {
        kind,
        description: description.to_string(),
        private_pem: pem,
        public_jwk,
        public_pem: pem_armor("PUBLIC KEY", &spki),
        weak,
    })
}

fn pem_body(pem: &str) -> Result<Vec<u8>, String> {
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).map(str::trim).collect();
    b64_std_decode(&b64).ok_or_else(|| "bad PEM".to_string())
}

fn keys_file(keys: &BTreeMap<String, TestKey>) -> String {
    let mut m = Map::new();
    for (name, k) in keys {
        m.insert(
            name.clone(),
            json!({
                "description": k.description,
                "private_pem": k.private_pem,
                "public_pem": k.public_pem,
                "public_jwk": k.public_jwk,
            }),
        );
    }
    let v = json!({
        "version": 1,
        "description": "Keys behind the authsec test vectors. The generator reuses them, so regeneration is stable.",
        "warning": "TEST ONLY. These private keys are published on purpose; never use them for anything but tests.",
        "keys": m,
    });
    pretty(&v)
}

// ---------------------------------------------------------------------------------------------
// Signing, with reuse of existing signatures
// ---------------------------------------------------------------------------------------------

struct Gen {
    keys: BTreeMap<String, TestKey>,
    signers: HashMap<(String, Alg), SigningKey>,
    /// Signing input (`header.payload`) → signatures seen in the existing files (and made this run).
    by_input: HashMap<String, Vec<String>>,
    /// Case name → its existing token.
    by_case: HashMap<String, String>,
    resigned: Vec<String>,
}

impl Gen {
    fn new(keys: BTreeMap<String, TestKey>) -> Gen {
        Gen {
            keys,
            signers: HashMap::new(),
            by_input: HashMap::new(),
            by_case: HashMap::new(),
            resigned: Vec::new(),
        }
    }

    fn load_existing(&mut self, dir: &Path) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        let mut paths: Vec<PathBuf> = rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        paths.sort();
        for p in paths {
            let Some(v) = std::fs::read_to_string(&p)
                .ok()
                .and_then(|s| serde_json::from_str::<Value>(&s).ok())
            else {
                continue;
            };
            for c in v["cases"].as_array().into_iter().flatten() {
                let (Some(name), Some(token)) = (c["name"].as_str(), c["token"].as_str()) else {
                    continue;
                };
                self.by_case.insert(name.to_string(), token.to_string());
                let parts: Vec<&str> = token.split('.').collect();
                if parts.len() == 3 {
                    self.by_input
                        .entry(format!("{}.{}", parts[0], parts[1]))
                        .or_default()
                        .push(parts[2].to_string());
                }
            }
        }
    }

    fn key(&self, name: &str) -> &TestKey {
        &self.keys[name]
    }

    /// Signature (base64url) by `key` with `alg` over `h.p`: an existing one that still verifies,
    /// else a new one.
    fn sig(&mut self, case: &str, key: &str, alg: Alg, h: &str, p: &str) -> String {
        let input = format!("{h}.{p}");
        let mut candidates: Vec<String> = Vec::new();
        if let Some(s) = self.by_case.get(case).and_then(|t| t.split('.').nth(2)) {
            candidates.push(s.to_string());
            // Cases that damage a signature on purpose (padding, newline, standard alphabet).
            candidates.push(s.trim_end_matches(['=', '\n']).replace('+', "-").replace('/', "_"));
        }
        candidates.extend(self.by_input.get(&input).cloned().unwrap_or_default());
        for s in candidates {
            if self.verify_sig(key, alg, &input, &s) {
                return s;
            }
        }
        let s = self.sign_fresh(key, alg, &input);
        assert!(
            self.verify_sig(key, alg, &input, &s),
            "fresh {alg} signature by {key} does not verify"
        );
        self.resigned.push(case.to_string());
        self.by_input.entry(input).or_default().insert(0, s.clone());
        s
    }

    fn sign_fresh(&mut self, key: &str, alg: Alg, input: &str) -> String {
        if let Some((n, _, d)) = &self.key(key).weak {
            return b64url_encode(&weak_rsa::sign(n, d, input.as_bytes()));
        }
        let pem = self.key(key).private_pem.clone();
        let signer = self
            .signers
            .entry((key.to_string(), alg))
            .or_insert_with(|| SigningKey::from_pem(&pem, Some(alg), Some(key.to_string())).expect("test key loads"));
        let (h, p) = input.split_once('.').expect("signing input has a dot");
        let token = signer.sign_segments(h, p).expect("signing works");
        token.rsplit('.').next().unwrap_or_default().to_string()
    }

    fn verify_sig(&self, key: &str, alg: Alg, input: &str, sig: &str) -> bool {
        let k = self.key(key);
        if let Some((n, e, _)) = &k.weak {
            let Some(s) = authsec_core::util::b64url_decode(sig) else {
                return false;
            };
            return weak_rsa::verify(n, e, input.as_bytes(), &s);
        }
        let j = &k.public_jwk;
        let s = |f: &str| j[f].as_str().unwrap_or_default().to_string();
        let dk = match k.kind {
            Kind::Rsa | Kind::WeakRsa => jsonwebtoken::DecodingKey::from_rsa_components(&s("n"), &s("e")),
            Kind::P256 | Kind::P384 => jsonwebtoken::DecodingKey::from_ec_components(&s("x"), &s("y")),
            Kind::Ed25519 => jsonwebtoken::DecodingKey::from_ed_components(&s("x")),
        };
        let (Ok(dk), Ok(a)) = (dk, alg.as_str().parse::<jsonwebtoken::Algorithm>()) else {
            return false;
        };
        jsonwebtoken::crypto::verify(sig, input.as_bytes(), &dk, a).unwrap_or(false)
    }

    /// A compact JWS over exactly these (canonically serialized) header and claims.
    fn jws(&mut self, case: &str, key: &str, alg: Alg, header: &Value, claims: &Value) -> String {
        let (h, p) = (seg(header), seg(claims));
        self.jws_seg(case, key, alg, &h, &p)
    }

    /// A compact JWS over already-encoded segments.
    fn jws_seg(&mut self, case: &str, key: &str, alg: Alg, h: &str, p: &str) -> String {
        let s = self.sig(case, key, alg, h, p);
        format!("{h}.{p}.{s}")
    }

    /// The issuer's usual token: `{alg, kid, typ: at+jwt}` by the issuer's key for `alg`.
    fn std_token(&mut self, case: &str, alg: Alg, claims: &Value) -> String {
        let key = issuer_key(alg);
        self.jws(case, key, alg, &hdr(alg.as_str(), Some(key), Some("at+jwt")), claims)
    }

    /// A key as it appears in a JWKS: the public JWK plus `use: sig`, then `changes` (`del()` removes).
    fn jwk(&self, key: &str, changes: &[(&str, Value)]) -> Value {
        let mut m = self.key(key).public_jwk.as_object().cloned().unwrap_or_default();
        m.insert("use".into(), json!("sig"));
        for (k, v) in changes {
            if is_del(v) {
                m.remove(*k);
            } else {
                m.insert(k.to_string(), v.clone());
            }
        }
        Value::Object(m)
    }

    /// The named key sets the vector files refer to.
    fn key_set(&self, name: &str) -> Result<Value, String> {
        Ok(match name {
            "main" => {
                json!({"keys": [self.jwk("rsa-a", &[]), self.jwk("p256-a", &[]), self.jwk("p384-a", &[]), self.jwk("ed25519-a", &[])]})
            }
            "rotation" => json!({"keys": [self.jwk("rsa-a", &[]), self.jwk("rsa-b", &[])]}),
            "alg-pinned" => {
                json!({"keys": [self.jwk("rsa-a", &[("alg", json!("RS256"))]), self.jwk("p256-a", &[("alg", json!("ES256"))])]})
            }
            "weak-rsa" => json!({"keys": [self.jwk("rsa-1024-weak", &[])]}),
            "with-oct" => json!({"keys": [
                {"kty": "oct", "kid": "hmac-1", "k": b64url_encode(OCT_SECRET.as_bytes()), "alg": "HS256", "use": "sig"},
                self.jwk("p256-a", &[]),
            ]}),
            "junk-and-good" => json!({"keys": [
                {"kty": "FOO", "kid": "junk-1"},
                {"kty": "EC", "kid": "junk-2", "crv": "P-521", "x": "AA", "y": "AA"},
                {"kty": "RSA", "kid": "junk-3", "n": "not base64url!", "e": "AQAB"},
                {"kty": "RSA", "kid": "junk-4", "e": "AQAB"},
                {"kty": "OKP", "kid": "junk-5", "crv": "Ed448", "x": "AA"},
                "not an object",
                self.jwk("p256-a", &[]),
            ]}),
            "empty" => json!({"keys": []}),
            other => return Err(format!("unknown key set {other:?}")),
        })
    }
}

const OCT_SECRET: &str = "shared-secret-that-must-never-verify-an-access-token";

fn issuer_key(alg: Alg) -> &'static str {
    match alg {
        Alg::ES256 => "p256-a",
        Alg::ES384 => "p384-a",
        Alg::EdDSA => "ed25519-a",
        _ => "rsa-a",
    }
}

// ---------------------------------------------------------------------------------------------
// Case building
// ---------------------------------------------------------------------------------------------

struct File {
    file: &'static str,
    description: &'static str,
    cases: Vec<Value>,
}

impl File {
    fn new(file: &'static str, description: &'static str) -> File {
        File {
            file,
            description,
            cases: Vec::new(),
        }
    }
    fn push(&mut self, c: Case) {
        let mut m = Map::new();
        m.insert("name".into(), json!(c.name));
        m.insert("description".into(), json!(c.description));
        m.insert("token".into(), json!(c.token));
        m.insert("jwks".into(), c.jwks);
        m.insert("options".into(), Value::Object(c.options));
        if let Some(s) = c.scopes {
            m.insert("required_scopes".into(), s);
        }
        m.insert("expect".into(), c.expect.expect("every case has an expectation"));
        self.cases.push(Value::Object(m));
    }
    fn render(&self, g: &Gen) -> Result<String, String> {
        let mut sets = Map::new();
        for c in &self.cases {
            if let Some(n) = c["jwks"].as_str() {
                sets.insert(n.to_string(), g.key_set(n)?);
            }
        }
        Ok(pretty(&json!({
            "version": 1,
            "description": self.description,
            "jwks": sets,
            "cases": self.cases,
        })))
    }
}

struct Case {
    name: String,
    description: String,
    token: String,
    jwks: Value,
    options: Map<String, Value>,
    scopes: Option<Value>,
    expect: Option<Value>,
}

fn case(name: &str, description: &str, token: impl Into<String>) -> Case {
    let mut options = Map::new();
    options.insert("issuer".into(), json!(ISS));
    options.insert("audience".into(), json!([AUD]));
    options.insert("now".into(), json!(NOW));
    Case {
        name: name.into(),
        description: description.into(),
        token: token.into(),
        jwks: json!("main"),
        options,
        scopes: None,
        expect: None,
    }
}

impl Case {
    fn jwks(mut self, set: &str) -> Self {
        self.jwks = json!(set);
        self
    }
    fn inline_jwks(mut self, v: Value) -> Self {
        self.jwks = v;
        self
    }
    /// Set an option (`del()` removes it).
    fn opt(mut self, k: &str, v: Value) -> Self {
        if is_del(&v) {
            self.options.remove(k);
        } else {
            self.options.insert(k.into(), v);
        }
        self
    }
    fn all_of(self, s: &[&str]) -> Self {
        self.scopes_req(s, &[])
    }
    fn any_of(self, s: &[&str]) -> Self {
        self.scopes_req(&[], s)
    }
    fn scopes_req(mut self, all: &[&str], any: &[&str]) -> Self {
        let mut m = Map::new();
        if !all.is_empty() {
            m.insert("all_of".into(), json!(all));
        }
        if !any.is_empty() {
            m.insert("any_of".into(), json!(any));
        }
        self.scopes = Some(Value::Object(m));
        self
    }
    fn ok(mut self, claims: &Value) -> Self {
        self.expect = Some(json!({"claims": claims}));
        self
    }
    fn err(mut self, code: &str) -> Self {
        self.expect = Some(json!({"error": code}));
        self
    }
    fn missing(mut self, scopes: &[&str]) -> Self {
        self.expect = Some(json!({"error": "insufficient_scope", "missing_scopes": scopes}));
        self
    }
}

/// The issuer's usual claims; `jti` is the case name so every token is distinct.
fn claims(jti: &str) -> Value {
    json!({
        "iss": ISS,
        "aud": AUD,
        "sub": SUB,
        "client_id": SUB,
        "iat": NOW - 60,
        "exp": NOW + 600,
        "jti": jti,
        "scope": "read:data write:logs",
    })
}

/// Marks a field to remove (in `with`, `Case::opt`, `Gen::jwk`); JSON null stays a value.
fn del() -> Value {
    json!({"$delete": true})
}

fn is_del(v: &Value) -> bool {
    v.get("$delete").is_some()
}

/// `v` with `changes` applied (`del()` removes the field).
fn with(v: &Value, changes: &[(&str, Value)]) -> Value {
    let mut m = v.as_object().cloned().unwrap_or_default();
    for (k, val) in changes {
        if is_del(val) {
            m.remove(*k);
        } else {
            m.insert(k.to_string(), val.clone());
        }
    }
    Value::Object(m)
}

fn hdr(alg: &str, kid: Option<&str>, typ: Option<&str>) -> Value {
    let mut m = Map::new();
    m.insert("alg".into(), json!(alg));
    if let Some(k) = kid {
        m.insert("kid".into(), json!(k));
    }
    if let Some(t) = typ {
        m.insert("typ".into(), json!(t));
    }
    Value::Object(m)
}

/// base64url(canonical JSON).
fn seg(v: &Value) -> String {
    b64url_encode(canon(v).as_bytes())
}

fn b64(bytes: &[u8]) -> String {
    b64url_encode(bytes)
}

fn lower(alg: Alg) -> String {
    alg.as_str().to_ascii_lowercase()
}

// ---------------------------------------------------------------------------------------------
// The cases
// ---------------------------------------------------------------------------------------------

fn algorithms(g: &mut Gen) -> File {
    let mut f = File::new(
        "verify_algorithms.json",
        "Every supported algorithm: a valid token verifies; a tampered or mis-signed one does not.",
    );
    for alg in Alg::ALL {
        let name = format!("{}_valid", lower(alg));
        let c = claims(&name);
        let t = g.std_token(&name, alg, &c);
        f.push(
            case(
                &name,
                &format!(
                    "An {alg} access token signed by the issuer's {} key verifies and yields its claims.",
                    issuer_key(alg)
                ),
                t,
            )
            .ok(&c),
        );
    }
    for alg in Alg::ALL {
        // The signature of the valid token above, on a payload that grants more.
        let valid = format!("{}_valid", lower(alg));
        let name = format!("{}_tampered_payload", lower(alg));
        let key = issuer_key(alg);
        let h = seg(&hdr(alg.as_str(), Some(key), Some("at+jwt")));
        let s = g.sig(&name, key, alg, &h, &seg(&claims(&valid)));
        let forged = with(
            &claims(&valid),
            &[("sub", json!("admin")), ("scope", json!("read:data write:logs admin"))],
        );
        f.push(
            case(
                &name,
                &format!(
                    "The {alg} signature of a valid token on a modified payload (sub and scope changed) is rejected."
                ),
                format!("{h}.{}.{s}", seg(&forged)),
            )
            .err("invalid_signature"),
        );
    }
    {
        let name = "eddsa_alg_named_ed25519";
        let c = claims(name);
        let t = g.jws(
            name,
            "ed25519-a",
            Alg::EdDSA,
            &hdr("Ed25519", Some("ed25519-a"), Some("at+jwt")),
            &c,
        );
        f.push(
            case(
                name,
                "The fully-specified algorithm name \"Ed25519\" (RFC 9864) is accepted as EdDSA with an Ed25519 key.",
                t,
            )
            .ok(&c),
        );
    }
    {
        // DER-encoded ECDSA signature instead of JWS's fixed-size r||s.
        let name = "es256_der_encoded_signature";
        let h = seg(&hdr("ES256", Some("p256-a"), Some("at+jwt")));
        let p = seg(&claims("es256_valid"));
        let raw = authsec_core::util::b64url_decode(&g.sig(name, "p256-a", Alg::ES256, &h, &p)).unwrap_or_default();
        f.push(case(name, "An ES256 signature in ASN.1 DER form (not the JWS r||s form) is rejected, even though it is the issuer's.", format!("{h}.{p}.{}", b64(&der::ecdsa_sig(&raw)))).err("invalid_signature"));
    }
    {
        let name = "rs256_signature_bit_flipped";
        let t = g.std_token("rs256_valid", Alg::RS256, &claims("rs256_valid"));
        let (hp, s) = t.rsplit_once('.').unwrap_or_default();
        let mut sig = authsec_core::util::b64url_decode(s).unwrap_or_default();
        if let Some(b) = sig.last_mut() {
            *b ^= 1;
        }
        f.push(
            case(
                name,
                "A valid RS256 token with one bit of its signature flipped is rejected.",
                format!("{hp}.{}", b64(&sig)),
            )
            .err("invalid_signature"),
        );
    }
    {
        let name = "ps256_header_rs256_signature";
        let c = claims(name);
        let t = g.jws(
            name,
            "rsa-a",
            Alg::RS256,
            &hdr("PS256", Some("rsa-a"), Some("at+jwt")),
            &c,
        );
        f.push(case(name, "A PS256 header over an RS256 (PKCS#1 v1.5) signature by the right key is rejected: the padding scheme is part of alg.", t).err("invalid_signature"));
    }
    {
        let name = "rs256_header_ps256_signature";
        let c = claims(name);
        let t = g.jws(
            name,
            "rsa-a",
            Alg::PS256,
            &hdr("RS256", Some("rsa-a"), Some("at+jwt")),
            &c,
        );
        f.push(
            case(
                name,
                "An RS256 header over a PS256 (PSS) signature by the right key is rejected.",
                t,
            )
            .err("invalid_signature"),
        );
    }
    {
        let name = "rs512_header_rs256_signature";
        let c = claims(name);
        let t = g.jws(
            name,
            "rsa-a",
            Alg::RS256,
            &hdr("RS512", Some("rsa-a"), Some("at+jwt")),
            &c,
        );
        f.push(
            case(
                name,
                "An RS512 header over an RS256 signature by the right key is rejected: the hash is part of alg.",
                t,
            )
            .err("invalid_signature"),
        );
    }
    f
}

fn attacks(g: &mut Gen) -> File {
    let mut f = File::new("verify_attacks.json", "RFC 8725 attacks: alg none, HMAC with a public key, algorithm/key confusion, kid games, embedded keys, crit, JWKS key rules.");
    // ----- alg none -----
    for (suffix, alg) in [
        ("lowercase", "none"),
        ("capitalized", "None"),
        ("uppercase", "NONE"),
        ("mixed_case", "nOnE"),
    ] {
        let name = format!("alg_none_{suffix}");
        let c = claims(&name);
        let t = format!("{}.{}.", seg(&hdr(alg, None, Some("at+jwt"))), seg(&c));
        f.push(
            case(
                &name,
                &format!("An unsigned token with alg {alg:?} and an empty signature is rejected."),
                t,
            )
            .err("unsupported_algorithm"),
        );
    }
    {
        let name = "alg_none_with_kid_and_signature";
        let c = claims(name);
        let t = g.jws(
            name,
            "rsa-a",
            Alg::RS256,
            &hdr("none", Some("rsa-a"), Some("at+jwt")),
            &c,
        );
        f.push(case(name, "alg none with the issuer's kid and a real RS256 signature is still rejected: none is never an accepted alg.", t).err("unsupported_algorithm"));
    }
    // ----- HMAC keyed with public key material -----
    let rsa_jwk_text = canon(&g.jwk("rsa-a", &[]));
    let rsa_pem = g.key("rsa-a").public_pem.clone();
    let ec_pem = g.key("p256-a").public_pem.clone();
    // (name, alg, kid, HMAC key, description)
    type HmacRow<'a> = (&'a str, &'a str, Option<&'a str>, &'a [u8], &'a str);
    let hmac_cases: [HmacRow; 6] = [
        ("hs256_key_is_rsa_public_jwk", "HS256", Some("rsa-a"), rsa_jwk_text.as_bytes(), "HS256 with the issuer's RSA kid, HMAC-keyed with the bytes of that key's public JWK (as in the JWKS, compact), is rejected."),
        ("hs256_key_is_rsa_public_pem", "HS256", Some("rsa-a"), rsa_pem.as_bytes(), "HS256 with the issuer's RSA kid, HMAC-keyed with that key's SubjectPublicKeyInfo PEM text, is rejected."),
        ("hs256_no_kid_key_is_rsa_public_pem", "HS256", None, rsa_pem.as_bytes(), "HS256 without kid, HMAC-keyed with the issuer's RSA public PEM, is rejected."),
        ("hs256_key_is_ec_public_pem", "HS256", Some("p256-a"), ec_pem.as_bytes(), "HS256 with the issuer's EC kid, HMAC-keyed with that key's public PEM, is rejected."),
        ("hs384_key_is_rsa_public_pem", "HS384", Some("rsa-a"), rsa_pem.as_bytes(), "HS384 HMAC-keyed with the issuer's RSA public PEM is rejected."),
        ("hs512_key_is_rsa_public_jwk", "HS512", Some("rsa-a"), rsa_jwk_text.as_bytes(), "HS512 HMAC-keyed with the issuer's RSA public JWK bytes is rejected."),
    ];
    for (name, alg, kid, key, desc) in hmac_cases {
        let t = hmac_token(&hdr(alg, kid, Some("at+jwt")), &claims(name), key);
        f.push(case(name, desc, t).err("unsupported_algorithm"));
    }
    {
        let name = "hs256_with_oct_key_in_jwks";
        let t = hmac_token(
            &hdr("HS256", Some("hmac-1"), Some("at+jwt")),
            &claims(name),
            OCT_SECRET.as_bytes(),
        );
        f.push(case(name, "HS256 correctly keyed with a symmetric (oct) key that the JWKS itself publishes is rejected: HMAC is never accepted.", t).jwks("with-oct").err("unsupported_algorithm"));
    }
    {
        let name = "with_oct_jwks_es256_still_verifies";
        let c = claims(name);
        let t = g.std_token(name, Alg::ES256, &c);
        f.push(
            case(
                name,
                "An oct key in the JWKS is skipped without spoiling the set: the ES256 key next to it still verifies.",
                t,
            )
            .jwks("with-oct")
            .ok(&c),
        );
    }
    // ----- alg names and the allow-list -----
    {
        let name = "alg_lowercase_rs256";
        let c = claims(name);
        let t = g.jws(
            name,
            "rsa-a",
            Alg::RS256,
            &hdr("rs256", Some("rsa-a"), Some("at+jwt")),
            &c,
        );
        f.push(case(name, "alg names are case-sensitive: \"rs256\" is not RS256.", t).err("unsupported_algorithm"));
    }
    {
        let name = "alg_es512_unsupported";
        let c = claims(name);
        let t = g.jws(
            name,
            "p256-a",
            Alg::ES256,
            &hdr("ES512", Some("p256-a"), Some("at+jwt")),
            &c,
        );
        f.push(case(name, "ES512 is not a supported algorithm.", t).err("unsupported_algorithm"));
    }
    {
        let name = "alg_missing";
        let c = claims(name);
        let h = json!({"kid": "rsa-a", "typ": "at+jwt"});
        let t = g.jws(name, "rsa-a", Alg::RS256, &h, &c);
        f.push(case(name, "A header without alg is malformed.", t).err("malformed_token"));
    }
    {
        let name = "alg_not_a_string";
        let c = claims(name);
        let h = json!({"alg": 256, "kid": "rsa-a", "typ": "at+jwt"});
        let t = g.jws(name, "rsa-a", Alg::RS256, &h, &c);
        f.push(case(name, "A non-string alg is malformed.", t).err("malformed_token"));
    }
    {
        let name = "alg_not_in_allow_list";
        let c = claims(name);
        let t = g.std_token(name, Alg::ES256, &c);
        f.push(
            case(
                name,
                "A valid ES256 token is rejected by a verifier that only allows RS256.",
                t,
            )
            .opt("algorithms", json!(["RS256"]))
            .err("unsupported_algorithm"),
        );
    }
    {
        let name = "alg_allow_list_same_key_type";
        let c = claims(name);
        let t = g.std_token(name, Alg::RS256, &c);
        f.push(
            case(
                name,
                "A valid RS256 token is rejected by a verifier that only allows PS256, although the key type fits.",
                t,
            )
            .opt("algorithms", json!(["PS256"]))
            .err("unsupported_algorithm"),
        );
    }
    {
        let name = "alg_in_allow_list";
        let c = claims(name);
        let t = g.std_token(name, Alg::ES256, &c);
        f.push(
            case(
                name,
                "A valid ES256 token passes a verifier that allows RS256 and ES256.",
                t,
            )
            .opt("algorithms", json!(["RS256", "ES256"]))
            .ok(&c),
        );
    }
    // ----- alg / key confusion -----
    let mismatches: [(&str, &str, &str, &str, Alg, &str); 6] = [
        (
            "mismatch_es256_header_rsa_kid",
            "ES256",
            "rsa-a",
            "p256-a",
            Alg::ES256,
            "An ES256 token naming the issuer's RSA key is rejected before any signature check.",
        ),
        (
            "mismatch_rs256_header_ec_kid",
            "RS256",
            "p256-a",
            "attacker-rsa",
            Alg::RS256,
            "An RS256 token naming the issuer's P-256 key is rejected.",
        ),
        (
            "mismatch_es384_header_p256_kid",
            "ES384",
            "p256-a",
            "p384-a",
            Alg::ES384,
            "An ES384 token naming a P-256 key is rejected: the curve is part of alg.",
        ),
        (
            "mismatch_es256_header_p384_kid",
            "ES256",
            "p384-a",
            "p256-a",
            Alg::ES256,
            "An ES256 token naming a P-384 key is rejected.",
        ),
        (
            "mismatch_eddsa_header_rsa_kid",
            "EdDSA",
            "rsa-a",
            "ed25519-a",
            Alg::EdDSA,
            "An EdDSA token naming an RSA key is rejected.",
        ),
        (
            "mismatch_ps256_header_ed25519_kid",
            "PS256",
            "ed25519-a",
            "rsa-a",
            Alg::PS256,
            "A PS256 token naming the Ed25519 key is rejected.",
        ),
    ];
    for (name, alg, kid, signer, salg, desc) in mismatches {
        let t = g.jws(name, signer, salg, &hdr(alg, Some(kid), Some("at+jwt")), &claims(name));
        f.push(case(name, desc, t).err("algorithm_mismatch"));
    }
    // ----- kid -----
    for (name, kid, desc) in [
        (
            "kid_unknown",
            "rsa-unknown",
            "A kid that is not in the key set is key_not_found.",
        ),
        ("kid_empty_string", "", "An empty kid matches no key."),
        (
            "kid_different_case",
            "RSA-A",
            "kid matching is exact: \"RSA-A\" is not \"rsa-a\".",
        ),
    ] {
        let t = g.jws(
            name,
            "rsa-a",
            Alg::RS256,
            &hdr("RS256", Some(kid), Some("at+jwt")),
            &claims(name),
        );
        f.push(case(name, desc, t).err("key_not_found"));
    }
    {
        let name = "kid_not_a_string";
        let h = json!({"alg": "RS256", "kid": 1, "typ": "at+jwt"});
        let t = g.jws(name, "rsa-a", Alg::RS256, &h, &claims(name));
        f.push(case(name, "A non-string kid is malformed.", t).err("malformed_token"));
    }
    {
        let name = "kid_shared_by_two_key_types";
        let c = claims(name);
        let t = g.jws(
            name,
            "p256-a",
            Alg::ES256,
            &hdr("ES256", Some("shared"), Some("at+jwt")),
            &c,
        );
        let set = json!({"keys": [g.jwk("rsa-a", &[("kid", json!("shared"))]), g.jwk("p256-a", &[("kid", json!("shared"))])]});
        f.push(case(name, "When an RSA and a P-256 key share a kid, an ES256 token uses the key that fits its alg (inline key set).", t).inline_jwks(set).ok(&c));
    }
    {
        let name = "kid_victim_rs256_signed_by_attacker";
        let t = g.jws(
            name,
            "attacker-rsa",
            Alg::RS256,
            &hdr("RS256", Some("rsa-a"), Some("at+jwt")),
            &claims(name),
        );
        f.push(
            case(
                name,
                "An RS256 token naming the issuer's kid but signed by an attacker's key is rejected.",
                t,
            )
            .err("invalid_signature"),
        );
    }
    {
        let name = "kid_victim_es256_signed_by_attacker";
        let t = g.jws(
            name,
            "attacker-p256",
            Alg::ES256,
            &hdr("ES256", Some("p256-a"), Some("at+jwt")),
            &claims(name),
        );
        f.push(
            case(
                name,
                "An ES256 token naming the issuer's kid but signed by an attacker's key is rejected.",
                t,
            )
            .err("invalid_signature"),
        );
    }
    {
        let name = "kid_selects_rotated_key";
        let c = claims(name);
        let t = g.jws(
            name,
            "rsa-b",
            Alg::RS256,
            &hdr("RS256", Some("rsa-b"), Some("at+jwt")),
            &c,
        );
        f.push(
            case(
                name,
                "With two RSA keys, kid selects the second one and the token verifies.",
                t,
            )
            .jwks("rotation")
            .ok(&c),
        );
    }
    {
        let name = "kid_names_other_rotation_key";
        let t = g.jws(
            name,
            "rsa-b",
            Alg::RS256,
            &hdr("RS256", Some("rsa-a"), Some("at+jwt")),
            &claims(name),
        );
        f.push(case(name, "A token signed by rsa-b but naming rsa-a is rejected: the key is chosen by kid, other keys are not tried.", t).jwks("rotation").err("invalid_signature"));
    }
    // ----- no kid -----
    {
        let name = "no_kid_one_fitting_ec_key";
        let c = claims(name);
        let t = g.jws(name, "p256-a", Alg::ES256, &hdr("ES256", None, Some("at+jwt")), &c);
        f.push(
            case(
                name,
                "Without kid, the only P-256 key in the set is used and the token verifies.",
                t,
            )
            .ok(&c),
        );
    }
    {
        let name = "no_kid_one_fitting_rsa_key";
        let c = claims(name);
        let t = g.jws(name, "rsa-a", Alg::PS384, &hdr("PS384", None, Some("at+jwt")), &c);
        f.push(
            case(
                name,
                "Without kid, the only RSA key in the set is used for PS384 and the token verifies.",
                t,
            )
            .ok(&c),
        );
    }
    {
        let name = "no_kid_several_fitting_keys";
        let t = g.jws(
            name,
            "rsa-a",
            Alg::RS256,
            &hdr("RS256", None, Some("at+jwt")),
            &claims(name),
        );
        f.push(
            case(
                name,
                "Without kid and with two RSA keys in the set, no key is guessed: key_not_found.",
                t,
            )
            .jwks("rotation")
            .err("key_not_found"),
        );
    }
    {
        let name = "no_kid_no_fitting_key";
        let t = g.jws(
            name,
            "p384-a",
            Alg::ES384,
            &hdr("ES384", None, Some("at+jwt")),
            &claims(name),
        );
        f.push(
            case(name, "Without kid and with no P-384 key in the set: key_not_found.", t)
                .jwks("rotation")
                .err("key_not_found"),
        );
    }
    {
        let name = "no_kid_signed_by_attacker";
        let t = g.jws(
            name,
            "attacker-p256",
            Alg::ES256,
            &hdr("ES256", None, Some("at+jwt")),
            &claims(name),
        );
        f.push(
            case(
                name,
                "Without kid, the single fitting issuer key is used, so an attacker's ES256 signature fails.",
                t,
            )
            .err("invalid_signature"),
        );
    }
    // ----- keys embedded in or referenced by the header -----
    let attacker_jwk = g.key("attacker-p256").public_jwk.clone();
    {
        let name = "header_jwk_attacker_key_victim_kid";
        let h = json!({"alg": "ES256", "kid": "p256-a", "typ": "at+jwt", "jwk": attacker_jwk});
        let t = g.jws(name, "attacker-p256", Alg::ES256, &h, &claims(name));
        f.push(case(name, "A token signed by an attacker's key and carrying that key in the jwk header (with the issuer's kid) is rejected: header keys are ignored.", t).err("invalid_signature"));
    }
    {
        let name = "header_jwk_attacker_key_no_kid";
        let h = json!({"alg": "ES256", "typ": "at+jwt", "jwk": attacker_jwk});
        let t = g.jws(name, "attacker-p256", Alg::ES256, &h, &claims(name));
        f.push(
            case(
                name,
                "A token signed by an attacker's key with the key embedded in jwk and no kid is rejected.",
                t,
            )
            .err("invalid_signature"),
        );
    }
    {
        let name = "header_jwk_attacker_key_attacker_kid";
        let h = json!({"alg": "ES256", "kid": "attacker-p256", "typ": "at+jwt", "jwk": attacker_jwk});
        let t = g.jws(name, "attacker-p256", Alg::ES256, &h, &claims(name));
        f.push(
            case(
                name,
                "A token with an embedded jwk and the attacker's own kid finds no issuer key.",
                t,
            )
            .err("key_not_found"),
        );
    }
    {
        let name = "header_jku_attacker";
        let h = json!({"alg": "RS256", "kid": "rsa-a", "typ": "at+jwt", "jku": ATTACKER_JKU});
        let t = g.jws(name, "attacker-rsa", Alg::RS256, &h, &claims(name));
        f.push(
            case(
                name,
                "A jku header pointing at an attacker's JWKS is ignored; the attacker's signature fails.",
                t,
            )
            .err("invalid_signature"),
        );
    }
    {
        let name = "header_x5u_attacker";
        let h = json!({"alg": "RS256", "kid": "rsa-a", "typ": "at+jwt", "x5u": "https://attacker.example/cert.pem"});
        let t = g.jws(name, "attacker-rsa", Alg::RS256, &h, &claims(name));
        f.push(
            case(
                name,
                "An x5u header pointing at an attacker's certificate is ignored; the attacker's signature fails.",
                t,
            )
            .err("invalid_signature"),
        );
    }
    {
        let name = "header_x5c_attacker";
        let spki = pem_body(&g.key("attacker-rsa").public_pem).unwrap_or_default();
        let h = json!({"alg": "RS256", "kid": "rsa-a", "typ": "at+jwt", "x5c": [authsec_core::util::b64_std_encode(&spki)]});
        let t = g.jws(name, "attacker-rsa", Alg::RS256, &h, &claims(name));
        f.push(
            case(
                name,
                "An x5c header carrying an attacker's key is ignored; the attacker's signature fails.",
                t,
            )
            .err("invalid_signature"),
        );
    }
    {
        let name = "header_jku_ignored_valid_signature";
        let c = claims(name);
        let h = json!({"alg": "RS256", "kid": "rsa-a", "typ": "at+jwt", "jku": ATTACKER_JKU});
        let t = g.jws(name, "rsa-a", Alg::RS256, &h, &c);
        f.push(case(name, "A jku header is neither fetched nor fatal: a token signed by the issuer's key still verifies with the configured keys.", t).ok(&c));
    }
    // ----- crit -----
    for (name, extra, code, desc) in [
        (
            "crit_unknown_extension",
            json!({"crit": ["https://example.com/ext"], "https://example.com/ext": true}),
            "unsupported_critical_header",
            "A crit header naming an extension the verifier does not implement is rejected (RFC 7515 §4.1.11).",
        ),
        (
            "crit_b64",
            json!({"crit": ["b64"], "b64": true}),
            "unsupported_critical_header",
            "crit [\"b64\"] (RFC 7797) is not supported and is rejected.",
        ),
        (
            "crit_empty_array",
            json!({"crit": []}),
            "malformed_token",
            "An empty crit array is malformed.",
        ),
        (
            "crit_not_an_array",
            json!({"crit": "exp"}),
            "malformed_token",
            "A crit that is not an array is malformed.",
        ),
    ] {
        let mut h = hdr("RS256", Some("rsa-a"), Some("at+jwt"));
        for (k, v) in extra.as_object().into_iter().flatten() {
            h[k] = v.clone();
        }
        let t = g.jws(name, "rsa-a", Alg::RS256, &h, &claims(name));
        f.push(case(name, desc, t).err(code));
    }
    // ----- JWKS key rules -----
    {
        let name = "jwks_key_use_enc";
        let t = g.std_token(name, Alg::RS256, &claims(name));
        let set = json!({"keys": [g.jwk("rsa-a", &[("use", json!("enc"))])]});
        f.push(
            case(
                name,
                "A JWKS key marked use \"enc\" is never used to verify (inline key set).",
                t,
            )
            .inline_jwks(set)
            .err("key_not_found"),
        );
    }
    {
        let name = "jwks_key_ops_encrypt";
        let t = g.std_token(name, Alg::RS256, &claims(name));
        let set = json!({"keys": [g.jwk("rsa-a", &[("use", del()), ("key_ops", json!(["encrypt"]))])]});
        f.push(
            case(
                name,
                "A JWKS key whose key_ops lack \"verify\" is never used to verify (inline key set).",
                t,
            )
            .inline_jwks(set)
            .err("key_not_found"),
        );
    }
    {
        let name = "jwks_key_ops_verify";
        let c = claims(name);
        let t = g.std_token(name, Alg::RS256, &c);
        let set = json!({"keys": [g.jwk("rsa-a", &[("use", del()), ("key_ops", json!(["verify"]))])]});
        f.push(
            case(
                name,
                "A JWKS key with key_ops [\"verify\"] and no use verifies (inline key set).",
                t,
            )
            .inline_jwks(set)
            .ok(&c),
        );
    }
    {
        let name = "jwks_key_without_use";
        let c = claims(name);
        let t = g.std_token(name, Alg::RS256, &c);
        let set = json!({"keys": [g.jwk("rsa-a", &[("use", del())])]});
        f.push(
            case(
                name,
                "A JWKS key without use (optional in RFC 7517) verifies (inline key set).",
                t,
            )
            .inline_jwks(set)
            .ok(&c),
        );
    }
    {
        let name = "jwks_key_alg_differs_from_token";
        let t = g.std_token(name, Alg::PS256, &claims(name));
        f.push(
            case(
                name,
                "A PS256 token naming a key whose JWK pins alg RS256 is rejected, although the key type fits.",
                t,
            )
            .jwks("alg-pinned")
            .err("algorithm_mismatch"),
        );
    }
    {
        let name = "jwks_key_alg_matches_token";
        let c = claims(name);
        let t = g.std_token(name, Alg::RS256, &c);
        f.push(
            case(
                name,
                "An RS256 token naming a key whose JWK pins alg RS256 verifies.",
                t,
            )
            .jwks("alg-pinned")
            .ok(&c),
        );
    }
    {
        let name = "jwks_weak_rsa_1024_with_kid";
        let t = g.jws(
            name,
            "rsa-1024-weak",
            Alg::RS256,
            &hdr("RS256", Some("rsa-1024-weak"), Some("at+jwt")),
            &claims(name),
        );
        f.push(
            case(
                name,
                "A 1024-bit RSA key in the JWKS is skipped, so a token it really signed finds no key.",
                t,
            )
            .jwks("weak-rsa")
            .err("key_not_found"),
        );
    }
    {
        let name = "jwks_weak_rsa_1024_no_kid";
        let t = g.jws(
            name,
            "rsa-1024-weak",
            Alg::RS256,
            &hdr("RS256", None, Some("at+jwt")),
            &claims(name),
        );
        f.push(
            case(
                name,
                "Without kid, a skipped 1024-bit RSA key is not a candidate either.",
                t,
            )
            .jwks("weak-rsa")
            .err("key_not_found"),
        );
    }
    {
        let name = "jwks_junk_keys_skipped";
        let c = claims(name);
        let t = g.std_token(name, Alg::ES256, &c);
        f.push(case(name, "Unusable JWKS entries (unknown kty, P-521, Ed448, bad base64, missing fields, non-objects) are skipped; the good key verifies.", t).jwks("junk-and-good").ok(&c));
    }
    {
        let name = "jwks_empty";
        let t = g.std_token(name, Alg::ES256, &claims(name));
        f.push(
            case(name, "An empty key set verifies nothing: key_not_found.", t)
                .jwks("empty")
                .err("key_not_found"),
        );
    }
    f
}

fn structure(g: &mut Gen) -> File {
    let mut f = File::new(
        "verify_structure.json",
        "Token structure: segments, base64url, JSON, size limits, the typ header.",
    );
    let h_std = seg(&hdr("RS256", Some("rsa-a"), Some("at+jwt")));
    let valid = |g: &mut Gen, name: &str| {
        let c = claims(name);
        (g.std_token(name, Alg::RS256, &c), c)
    };
    // ----- segments -----
    {
        let name = "segments_1";
        f.push(case(name, "A single segment (no dots) is malformed.", h_std.clone()).err("malformed_token"));
    }
    {
        let name = "segments_2";
        f.push(
            case(
                name,
                "Two segments (header.payload, no signature part) are malformed.",
                format!("{h_std}.{}", seg(&claims(name))),
            )
            .err("malformed_token"),
        );
    }
    {
        let name = "segments_4";
        let (t, _) = valid(g, name);
        let sig = t.rsplit('.').next().unwrap_or_default().to_string();
        f.push(
            case(
                name,
                "Four segments (a valid token plus an extra segment) are malformed.",
                format!("{t}.{sig}"),
            )
            .err("malformed_token"),
        );
    }
    {
        let name = "segments_5_jwe";
        let h = seg(&json!({"alg": "RSA-OAEP-256", "enc": "A256GCM", "kid": "rsa-a", "typ": "at+jwt"}));
        let t = format!(
            "{h}.{}.{}.{}.{}",
            b64(&[7u8; 256]),
            b64(&[1u8; 12]),
            b64(b"ciphertext of the claims"),
            b64(&[2u8; 16])
        );
        f.push(
            case(
                name,
                "A five-segment JWE (encrypted token) is not accepted; only JWS compact form is.",
                t,
            )
            .err("malformed_token"),
        );
    }
    f.push(case("empty_token", "The empty string is malformed.", "").err("malformed_token"));
    {
        let name = "empty_signature";
        f.push(
            case(
                name,
                "An RS256 token with an empty signature segment is malformed.",
                format!("{h_std}.{}.", seg(&claims(name))),
            )
            .err("malformed_token"),
        );
    }
    // ----- base64url -----
    {
        let name = "header_not_base64url";
        let c = claims(name);
        let h = format!("{}*", &h_std[..h_std.len() - 1]);
        let t = g.jws_seg(name, "rsa-a", Alg::RS256, &h, &seg(&c));
        f.push(
            case(
                name,
                "A header segment with a character outside the base64url alphabet is malformed.",
                t,
            )
            .err("malformed_token"),
        );
    }
    {
        let name = "payload_not_base64url";
        let p = seg(&claims(name));
        let p = format!("{}$$", &p[..p.len() - 2]);
        let t = g.jws_seg(name, "rsa-a", Alg::RS256, &h_std, &p);
        f.push(
            case(
                name,
                "A correctly signed token whose payload segment is not base64url is malformed.",
                t,
            )
            .err("malformed_token"),
        );
    }
    {
        let name = "signature_not_base64url";
        f.push(
            case(
                name,
                "A signature segment that is not base64url is malformed.",
                format!("{h_std}.{}.not!base64", seg(&claims(name))),
            )
            .err("malformed_token"),
        );
    }
    {
        let name = "signature_standard_base64";
        // Take a valid signature containing '-' or '_' and write it in the standard alphabet.
        let (t, _) = valid(g, name);
        let (hp, s) = t.rsplit_once('.').unwrap_or_default();
        let std_sig = s.replace('-', "+").replace('_', "/");
        let desc = "A signature in the standard base64 alphabet (+ and /) instead of base64url is malformed.";
        if std_sig != s {
            f.push(case(name, desc, format!("{hp}.{std_sig}")).err("malformed_token"));
        }
    }
    {
        let name = "header_base64_padding";
        // Pad the header JSON with spaces until its base64 needs '=' padding.
        let mut json_text = canon(&hdr("RS256", Some("rsa-a"), Some("at+jwt")));
        while json_text.len() % 3 == 0 {
            json_text.push(' ');
        }
        let padded = authsec_core::util::b64_std_encode(json_text.as_bytes())
            .replace('+', "-")
            .replace('/', "_");
        let t = g.jws_seg(name, "rsa-a", Alg::RS256, &padded, &seg(&claims(name)));
        f.push(
            case(
                name,
                "A header segment with '=' padding is malformed (base64url without padding, RFC 7515 §2).",
                t,
            )
            .err("malformed_token"),
        );
    }
    {
        let name = "payload_base64_padding";
        let mut c = claims(name);
        while canon(&c).len() % 3 == 0 {
            c["pad"] = json!(format!("{}x", c["pad"].as_str().unwrap_or_default()));
        }
        let padded = authsec_core::util::b64_std_encode(canon(&c).as_bytes())
            .replace('+', "-")
            .replace('/', "_");
        let t = g.jws_seg(name, "rsa-a", Alg::RS256, &h_std, &padded);
        f.push(
            case(
                name,
                "A correctly signed token whose payload segment has '=' padding is malformed.",
                t,
            )
            .err("malformed_token"),
        );
    }
    {
        let name = "signature_base64_padding";
        let (t, _) = valid(g, name);
        // A 2048-bit RSA signature is 256 bytes: its base64 ends in "==".
        f.push(
            case(
                name,
                "A valid RS256 token whose signature segment carries '=' padding is malformed.",
                format!("{t}=="),
            )
            .err("malformed_token"),
        );
    }
    // ----- JSON -----
    for (name, bytes, desc) in [
        (
            "header_not_json",
            b"this is not JSON".to_vec(),
            "A header that is not JSON is malformed.",
        ),
        (
            "header_json_array",
            br#"["RS256"]"#.to_vec(),
            "A header that is a JSON array, not an object, is malformed.",
        ),
        (
            "header_invalid_utf8",
            vec![b'{', b'"', b'a', b'l', b'g', b'"', b':', b'"', 0xff, 0xfe, b'"', b'}'],
            "A header that is not valid UTF-8 is malformed.",
        ),
    ] {
        let t = g.jws_seg(name, "rsa-a", Alg::RS256, &b64(&bytes), &seg(&claims(name)));
        f.push(case(name, desc, t).err("malformed_token"));
    }
    {
        let name = "header_duplicate_alg";
        let h = br#"{"alg":"none","kid":"rsa-a","typ":"at+jwt","alg":"RS256"}"#;
        let t = g.jws_seg(name, "rsa-a", Alg::RS256, &b64(h), &seg(&claims(name)));
        f.push(
            case(
                name,
                "A header with alg twice (none, then RS256) is rejected as malformed rather than resolved either way.",
                t,
            )
            .err("malformed_token"),
        );
    }
    for (name, bytes, desc) in [
        (
            "payload_not_json",
            b"this is not JSON".to_vec(),
            "A correctly signed token whose payload is not JSON is malformed.",
        ),
        (
            "payload_json_array",
            br#"[{"iss":"https://issuer.example"}]"#.to_vec(),
            "A correctly signed token whose payload is a JSON array, not an object, is malformed.",
        ),
        (
            "payload_json_string",
            br#""https://issuer.example""#.to_vec(),
            "A correctly signed token whose payload is a JSON string is malformed.",
        ),
        (
            "payload_empty",
            Vec::new(),
            "A correctly signed token with an empty payload segment is malformed.",
        ),
    ] {
        let t = g.jws_seg(name, "rsa-a", Alg::RS256, &h_std, &b64(&bytes));
        f.push(case(name, desc, t).err("malformed_token"));
    }
    // ----- whitespace and prefixes -----
    {
        let name = "trailing_newline";
        let (t, _) = valid(g, name);
        f.push(
            case(
                name,
                "A valid token followed by a newline is malformed: the verifier does not trim.",
                format!("{t}\n"),
            )
            .err("malformed_token"),
        );
    }
    {
        let name = "leading_space";
        let (t, _) = valid(g, name);
        f.push(case(name, "A valid token preceded by a space is malformed.", format!(" {t}")).err("malformed_token"));
    }
    {
        let name = "bearer_prefix_included";
        let (t, _) = valid(g, name);
        f.push(
            case(
                name,
                "\"Bearer <token>\" passed as the token is malformed: strip the scheme before verifying.",
                format!("Bearer {t}"),
            )
            .err("malformed_token"),
        );
    }
    // ----- size -----
    {
        let name = "size_over_limit";
        let (t, _) = valid(g, name);
        f.push(
            case(
                name,
                "A valid token larger than max_token_bytes (256) is rejected before decoding.",
                t,
            )
            .opt("max_token_bytes", json!(256))
            .err("token_too_large"),
        );
    }
    {
        let name = "size_exactly_limit";
        let (t, c) = valid(g, name);
        let n = t.len();
        f.push(
            case(name, "A valid token exactly max_token_bytes long verifies.", t)
                .opt("max_token_bytes", json!(n))
                .ok(&c),
        );
    }
    {
        let name = "size_one_byte_over_limit";
        let (t, _) = valid(g, name);
        let n = t.len() - 1;
        f.push(
            case(
                name,
                "A valid token one byte longer than max_token_bytes is rejected.",
                t,
            )
            .opt("max_token_bytes", json!(n))
            .err("token_too_large"),
        );
    }
    {
        let name = "size_over_default_limit";
        let c = with(&claims(name), &[("pad", json!("x".repeat(12_300)))]);
        let t = g.std_token(name, Alg::RS256, &c);
        assert!(t.len() > 16 * 1024);
        f.push(
            case(
                name,
                "A valid token over the default limit of 16384 bytes is rejected with default options.",
                t,
            )
            .err("token_too_large"),
        );
    }
    // ----- typ -----
    for (name, typ, strict, ok, desc) in [
        (
            "typ_at_jwt",
            Some("at+jwt"),
            false,
            true,
            "typ at+jwt (RFC 9068) is accepted.",
        ),
        (
            "typ_application_at_jwt",
            Some("application/at+jwt"),
            false,
            true,
            "typ application/at+jwt is accepted (media type prefix is optional).",
        ),
        (
            "typ_at_jwt_uppercase",
            Some("AT+JWT"),
            false,
            true,
            "typ is compared case-insensitively: AT+JWT is accepted.",
        ),
        (
            "typ_jwt",
            Some("JWT"),
            false,
            true,
            "typ JWT is accepted by the default policy.",
        ),
        (
            "typ_missing",
            None,
            false,
            true,
            "A token without typ is accepted by the default policy.",
        ),
        (
            "typ_dpop_jwt",
            Some("dpop+jwt"),
            false,
            false,
            "typ dpop+jwt (a DPoP proof, RFC 9449) is never accepted as an access token.",
        ),
        (
            "typ_secevent_jwt",
            Some("secevent+jwt"),
            false,
            false,
            "typ secevent+jwt (a security event token) is not accepted as an access token.",
        ),
        (
            "typ_strict_at_jwt",
            Some("at+jwt"),
            true,
            true,
            "The strict policy accepts typ at+jwt.",
        ),
        (
            "typ_strict_application_at_jwt",
            Some("application/at+jwt"),
            true,
            true,
            "The strict policy accepts typ application/at+jwt.",
        ),
        (
            "typ_strict_jwt",
            Some("JWT"),
            true,
            false,
            "The strict policy rejects typ JWT.",
        ),
        (
            "typ_strict_missing",
            None,
            true,
            false,
            "The strict policy rejects a token without typ.",
        ),
        (
            "typ_strict_dpop_jwt",
            Some("dpop+jwt"),
            true,
            false,
            "The strict policy rejects typ dpop+jwt.",
        ),
    ] {
        let c = claims(name);
        let t = g.jws(name, "rsa-a", Alg::RS256, &hdr("RS256", Some("rsa-a"), typ), &c);
        let mut k = case(name, desc, t);
        if strict {
            k = k.opt("typ", json!("strict"));
        }
        f.push(if ok { k.ok(&c) } else { k.err("invalid_token_type") });
    }
    {
        let name = "typ_not_a_string";
        let h = json!({"alg": "RS256", "kid": "rsa-a", "typ": 1});
        let t = g.jws(name, "rsa-a", Alg::RS256, &h, &claims(name));
        f.push(case(name, "A non-string typ is malformed.", t).err("malformed_token"));
    }
    f
}

fn claims_file(g: &mut Gen) -> File {
    let mut f = File::new("verify_claims.json", "Claim rules: exp, nbf, iat with leeway edges, iss, aud, required claims, and which error wins when several apply.");
    // (name, changes to the usual claims, extra options, expected error or None for success, description)
    type Row = (
        &'static str,
        Vec<(&'static str, Value)>,
        Vec<(&'static str, Value)>,
        Option<&'static str>,
        &'static str,
    );
    let rows: Vec<Row> = vec![
        (
            "claims_valid",
            vec![],
            vec![],
            None,
            "The issuer's usual EdDSA token verifies and yields all its claims.",
        ),
        // exp
        (
            "exp_past",
            vec![("iat", json!(NOW - 7200)), ("exp", json!(NOW - 3600))],
            vec![],
            Some("token_expired"),
            "A token that expired an hour ago is rejected.",
        ),
        (
            "exp_missing",
            vec![("exp", del())],
            vec![],
            Some("invalid_claim"),
            "A token without exp is rejected: access tokens must expire.",
        ),
        (
            "exp_string",
            vec![("exp", json!((NOW + 600).to_string()))],
            vec![],
            Some("invalid_claim"),
            "An exp given as a string of digits is not a NumericDate.",
        ),
        (
            "exp_null",
            vec![("exp", json!(null))],
            vec![],
            Some("invalid_claim"),
            "A null exp is not a NumericDate.",
        ),
        (
            "exp_boolean",
            vec![("exp", json!(true))],
            vec![],
            Some("invalid_claim"),
            "A boolean exp is not a NumericDate.",
        ),
        (
            "exp_fractional",
            vec![("exp", json!(NOW as f64 + 600.5))],
            vec![],
            None,
            "A fractional exp (NumericDate may be non-integer) is accepted.",
        ),
        // leeway edges around exp
        (
            "exp_exactly_now_leeway_0",
            vec![("exp", json!(NOW))],
            vec![("leeway", json!(0))],
            Some("token_expired"),
            "With leeway 0, a token is expired at exactly exp (now must be before exp).",
        ),
        (
            "exp_one_second_ahead_leeway_0",
            vec![("exp", json!(NOW + 1))],
            vec![("leeway", json!(0))],
            None,
            "With leeway 0, a token is valid one second before exp.",
        ),
        (
            "exp_within_default_leeway",
            vec![("exp", json!(NOW - 4))],
            vec![],
            None,
            "A token that expired 4 s ago is accepted with the default 5 s leeway.",
        ),
        (
            "exp_at_default_leeway_edge",
            vec![("exp", json!(NOW - 5))],
            vec![],
            Some("token_expired"),
            "A token that expired exactly 5 s ago is rejected with the default 5 s leeway (exp + leeway is exclusive).",
        ),
        (
            "exp_beyond_default_leeway",
            vec![("exp", json!(NOW - 6))],
            vec![],
            Some("token_expired"),
            "A token that expired 6 s ago is rejected with the default 5 s leeway.",
        ),
        (
            "exp_within_leeway_60",
            vec![("exp", json!(NOW - 59))],
            vec![("leeway", json!(60))],
            None,
            "A token that expired 59 s ago is accepted with a 60 s leeway.",
        ),
        (
            "exp_beyond_leeway_60",
            vec![("exp", json!(NOW - 61))],
            vec![("leeway", json!(60))],
            Some("token_expired"),
            "A token that expired 61 s ago is rejected with a 60 s leeway.",
        ),
        // nbf
        (
            "nbf_future",
            vec![("nbf", json!(NOW + 3600))],
            vec![],
            Some("token_not_yet_valid"),
            "A token valid only from an hour from now is rejected.",
        ),
        (
            "nbf_past",
            vec![("nbf", json!(NOW - 60))],
            vec![],
            None,
            "A token with nbf in the past verifies.",
        ),
        (
            "nbf_exactly_now_leeway_0",
            vec![("nbf", json!(NOW))],
            vec![("leeway", json!(0))],
            None,
            "With leeway 0, a token is valid at exactly nbf.",
        ),
        (
            "nbf_one_second_ahead_leeway_0",
            vec![("nbf", json!(NOW + 1))],
            vec![("leeway", json!(0))],
            Some("token_not_yet_valid"),
            "With leeway 0, a token is not valid one second before nbf.",
        ),
        (
            "nbf_within_default_leeway",
            vec![("nbf", json!(NOW + 5))],
            vec![],
            None,
            "nbf 5 s ahead is accepted with the default 5 s leeway.",
        ),
        (
            "nbf_beyond_default_leeway",
            vec![("nbf", json!(NOW + 6))],
            vec![],
            Some("token_not_yet_valid"),
            "nbf 6 s ahead is rejected with the default 5 s leeway.",
        ),
        (
            "nbf_string",
            vec![("nbf", json!(NOW.to_string()))],
            vec![],
            Some("invalid_claim"),
            "A string nbf is not a NumericDate.",
        ),
        // iat
        (
            "iat_future",
            vec![("iat", json!(NOW + 3600))],
            vec![],
            Some("token_not_yet_valid"),
            "A token issued an hour in the future is rejected.",
        ),
        (
            "iat_within_default_leeway",
            vec![("iat", json!(NOW + 5))],
            vec![],
            None,
            "iat 5 s ahead is accepted with the default 5 s leeway.",
        ),
        (
            "iat_beyond_default_leeway",
            vec![("iat", json!(NOW + 6))],
            vec![],
            Some("token_not_yet_valid"),
            "iat 6 s ahead is rejected with the default 5 s leeway.",
        ),
        (
            "iat_missing",
            vec![("iat", del())],
            vec![],
            None,
            "iat is optional unless listed in required_claims.",
        ),
        (
            "iat_string",
            vec![("iat", json!((NOW - 60).to_string()))],
            vec![],
            Some("invalid_claim"),
            "A string iat is not a NumericDate.",
        ),
        // iss
        (
            "iss_wrong",
            vec![("iss", json!("https://evil.example"))],
            vec![],
            Some("invalid_issuer"),
            "A token from another issuer is rejected.",
        ),
        (
            "iss_missing",
            vec![("iss", del())],
            vec![],
            Some("invalid_issuer"),
            "A token without iss is rejected when an issuer is configured.",
        ),
        (
            "iss_trailing_slash",
            vec![("iss", json!(format!("{ISS}/")))],
            vec![],
            Some("invalid_issuer"),
            "iss is compared exactly: a trailing slash makes it another issuer.",
        ),
        (
            "iss_different_case",
            vec![("iss", json!("https://ISSUER.example"))],
            vec![],
            Some("invalid_issuer"),
            "iss is compared exactly: a different case makes it another issuer.",
        ),
        (
            "iss_not_a_string",
            vec![("iss", json!([ISS]))],
            vec![],
            Some("invalid_issuer"),
            "An iss that is an array (even holding the right issuer) is rejected.",
        ),
        (
            "iss_check_skipped_wrong_iss",
            vec![("iss", json!("https://evil.example"))],
            vec![("issuer", del()), ("skip_issuer_check", json!(true))],
            None,
            "With skip_issuer_check and no issuer, any iss is accepted.",
        ),
        (
            "iss_check_skipped_missing_iss",
            vec![("iss", del())],
            vec![("issuer", del()), ("skip_issuer_check", json!(true))],
            None,
            "With skip_issuer_check and no issuer, a token without iss is accepted.",
        ),
        // aud
        (
            "aud_wrong",
            vec![("aud", json!("https://other-api.example"))],
            vec![],
            Some("invalid_audience"),
            "A token for another audience is rejected.",
        ),
        (
            "aud_array_contains_expected",
            vec![("aud", json!(["https://other-api.example", AUD]))],
            vec![],
            None,
            "An aud array that contains the expected audience is accepted.",
        ),
        (
            "aud_array_without_expected",
            vec![("aud", json!(["https://other-api.example", "https://third-api.example"]))],
            vec![],
            Some("invalid_audience"),
            "An aud array without the expected audience is rejected.",
        ),
        (
            "aud_missing",
            vec![("aud", del())],
            vec![],
            Some("invalid_audience"),
            "A token without aud is rejected when an audience is configured.",
        ),
        (
            "aud_empty_array",
            vec![("aud", json!([]))],
            vec![],
            Some("invalid_audience"),
            "An empty aud array is rejected.",
        ),
        (
            "aud_array_with_non_string",
            vec![("aud", json!([AUD, 5]))],
            vec![],
            Some("invalid_audience"),
            "An aud array holding a non-string is rejected, even next to the expected audience.",
        ),
        (
            "aud_number",
            vec![("aud", json!(5))],
            vec![],
            Some("invalid_audience"),
            "A numeric aud is rejected.",
        ),
        (
            "aud_prefix_of_expected",
            vec![("aud", json!(format!("{AUD}/v1")))],
            vec![],
            Some("invalid_audience"),
            "aud is compared exactly: a longer URL is another audience.",
        ),
        (
            "aud_second_configured_audience",
            vec![("aud", json!("https://api2.example"))],
            vec![("audience", json!([AUD, "https://api2.example"]))],
            None,
            "With two configured audiences, a token for the second one is accepted.",
        ),
        (
            "aud_check_skipped_missing_aud",
            vec![("aud", del())],
            vec![("audience", json!([])), ("skip_audience_check", json!(true))],
            None,
            "With skip_audience_check, a token without aud is accepted.",
        ),
        (
            "aud_check_skipped_wrong_aud",
            vec![("aud", json!("https://other-api.example"))],
            vec![("audience", json!([])), ("skip_audience_check", json!(true))],
            None,
            "With skip_audience_check, a token for another audience is accepted.",
        ),
        // required claims
        (
            "required_claims_present",
            vec![],
            vec![("required_claims", json!(["sub", "client_id", "iat", "jti"]))],
            None,
            "The RFC 9068 claims sub, client_id, iat and jti are required and present.",
        ),
        (
            "required_claim_missing",
            vec![("jti", del())],
            vec![("required_claims", json!(["sub", "client_id", "iat", "jti"]))],
            Some("invalid_claim"),
            "A required claim (jti) that is missing is rejected.",
        ),
        (
            "required_iat_missing",
            vec![("iat", del())],
            vec![("required_claims", json!(["iat"]))],
            Some("invalid_claim"),
            "iat listed in required_claims and missing is rejected.",
        ),
        // which check wins
        (
            "order_expired_and_wrong_issuer",
            vec![
                ("exp", json!(NOW - 3600)),
                ("iat", json!(NOW - 7200)),
                ("iss", json!("https://evil.example")),
            ],
            vec![],
            Some("token_expired"),
            "Expired and from the wrong issuer: exp is checked first.",
        ),
        (
            "order_not_yet_valid_and_wrong_audience",
            vec![("nbf", json!(NOW + 3600)), ("aud", json!("https://other-api.example"))],
            vec![],
            Some("token_not_yet_valid"),
            "Not yet valid and for the wrong audience: nbf is checked first.",
        ),
        (
            "order_wrong_issuer_and_wrong_audience",
            vec![
                ("iss", json!("https://evil.example")),
                ("aud", json!("https://other-api.example")),
            ],
            vec![],
            Some("invalid_issuer"),
            "Wrong issuer and wrong audience: iss is checked before aud.",
        ),
        (
            "order_wrong_audience_and_missing_required",
            vec![("aud", json!("https://other-api.example")), ("jti", del())],
            vec![("required_claims", json!(["jti"]))],
            Some("invalid_audience"),
            "Wrong audience and a missing required claim: aud is checked first.",
        ),
    ];
    for (name, changes, opts, expect, desc) in rows {
        let c = with(&claims(name), &changes);
        let t = g.std_token(name, Alg::EdDSA, &c);
        let mut k = case(name, desc, t);
        for (o, v) in opts {
            k = k.opt(o, v);
        }
        f.push(match expect {
            None => k.ok(&c),
            Some(e) => k.err(e),
        });
    }
    {
        let name = "order_bad_signature_and_expired";
        let key = "ed25519-a";
        let h = seg(&hdr("EdDSA", Some(key), Some("at+jwt")));
        let s = g.sig(name, key, Alg::EdDSA, &h, &seg(&claims("claims_valid")));
        let expired = with(&claims(name), &[("exp", json!(NOW - 3600)), ("iat", json!(NOW - 7200))]);
        f.push(case(name, "A tampered, expired token is reported as a bad signature: nothing in an unverified payload is trusted.", format!("{h}.{}.{s}", seg(&expired))).err("invalid_signature"));
    }
    f
}

fn scopes(g: &mut Gen) -> File {
    let mut f = File::new(
        "verify_scopes.json",
        "Scope rules after a successful verification: scope (string), scp (array or string), all_of and any_of.",
    );
    // (name, scope claims, all_of, any_of, missing (None = success), description)
    type Row = (
        &'static str,
        Vec<(&'static str, Value)>,
        Vec<&'static str>,
        Vec<&'static str>,
        Option<Vec<&'static str>>,
        &'static str,
    );
    let rows: Vec<Row> = vec![
        (
            "scope_all_of_granted",
            vec![],
            vec!["read:data"],
            vec![],
            None,
            "all_of [read:data] is met by scope \"read:data write:logs\".",
        ),
        (
            "scope_all_of_both_granted",
            vec![],
            vec!["read:data", "write:logs"],
            vec![],
            None,
            "all_of with both granted scopes is met.",
        ),
        (
            "scope_all_of_missing",
            vec![],
            vec!["read:data", "admin", "delete:all"],
            vec![],
            Some(vec!["admin", "delete:all"]),
            "all_of fails with insufficient_scope listing exactly the missing scopes, in requirement order.",
        ),
        (
            "scope_any_of_one_granted",
            vec![],
            vec![],
            vec!["admin", "write:logs"],
            None,
            "any_of is met when one of its scopes is granted.",
        ),
        (
            "scope_any_of_none_granted",
            vec![],
            vec![],
            vec!["admin", "root"],
            Some(vec!["admin", "root"]),
            "any_of fails when none is granted; missing_scopes lists the whole any_of set.",
        ),
        (
            "scope_all_and_any_met",
            vec![],
            vec!["read:data"],
            vec!["admin", "write:logs"],
            None,
            "all_of and any_of together are met.",
        ),
        (
            "scope_all_met_any_not",
            vec![],
            vec!["read:data"],
            vec!["admin", "root"],
            Some(vec!["admin", "root"]),
            "all_of met but any_of not: missing_scopes lists the any_of set.",
        ),
        (
            "scope_all_not_any_met",
            vec![],
            vec!["read:data", "admin"],
            vec!["write:logs"],
            Some(vec!["admin"]),
            "all_of not met (any_of met): missing_scopes lists the missing all_of scopes.",
        ),
        (
            "scope_no_requirement_no_claim",
            vec![("scope", del())],
            vec![],
            vec![],
            None,
            "Without a scope requirement, a token without any scope claim verifies.",
        ),
        (
            "scope_claim_missing",
            vec![("scope", del())],
            vec!["read:data"],
            vec![],
            Some(vec!["read:data"]),
            "A token without scope or scp lacks every required scope.",
        ),
        (
            "scope_case_sensitive",
            vec![("scope", json!("Read:Data"))],
            vec!["read:data"],
            vec![],
            Some(vec!["read:data"]),
            "Scopes are case-sensitive: Read:Data does not grant read:data.",
        ),
        (
            "scope_extra_spaces",
            vec![("scope", json!("  read:data   write:logs "))],
            vec!["read:data", "write:logs"],
            vec![],
            None,
            "Repeated, leading and trailing spaces in scope are ignored.",
        ),
        (
            "scope_tab_is_not_a_separator",
            vec![("scope", json!("read:data\twrite:logs"))],
            vec!["read:data"],
            vec![],
            Some(vec!["read:data"]),
            "Only the space separates scopes (RFC 6749 §3.3): a tab does not split \"read:data\\twrite:logs\".",
        ),
        (
            "scope_not_a_string",
            vec![("scope", json!(["read:data"]))],
            vec!["read:data"],
            vec![],
            Some(vec!["read:data"]),
            "A scope claim that is an array is ignored (scope must be a string; use scp for arrays).",
        ),
        (
            "scope_prefix_does_not_match",
            vec![],
            vec!["read"],
            vec![],
            Some(vec!["read"]),
            "Scopes match exactly: read:data does not grant read.",
        ),
        (
            "scp_array_granted",
            vec![("scope", del()), ("scp", json!(["read:data", "write:logs"]))],
            vec!["read:data", "write:logs"],
            vec![],
            None,
            "scp as an array of strings grants its scopes.",
        ),
        (
            "scp_array_missing",
            vec![("scope", del()), ("scp", json!(["read:data"]))],
            vec!["read:data", "write:logs"],
            vec![],
            Some(vec!["write:logs"]),
            "scp as an array: a scope it lacks is reported missing.",
        ),
        (
            "scp_string_granted",
            vec![("scope", del()), ("scp", json!("read:data write:logs"))],
            vec!["write:logs"],
            vec![],
            None,
            "scp as a space-delimited string grants its scopes.",
        ),
        (
            "scope_and_scp_combined",
            vec![("scope", json!("read:data")), ("scp", json!(["write:logs"]))],
            vec!["read:data", "write:logs"],
            vec![],
            None,
            "Scopes from scope and scp are combined.",
        ),
    ];
    for (name, changes, all, any, missing, desc) in rows {
        let c = with(&claims(name), &changes);
        let t = g.std_token(name, Alg::EdDSA, &c);
        let k = case(name, desc, t);
        let k = if all.is_empty() && any.is_empty() {
            k
        } else {
            k.scopes_req(&all, &any)
        };
        f.push(match missing {
            None => k.ok(&c),
            Some(m) => k.missing(&m),
        });
    }
    {
        let name = "scope_checked_after_expiry";
        let c = with(
            &claims(name),
            &[
                ("exp", json!(NOW - 3600)),
                ("iat", json!(NOW - 7200)),
                ("scope", json!("read:data")),
            ],
        );
        let t = g.std_token(name, Alg::EdDSA, &c);
        f.push(case(name, "An expired token lacking a required scope is reported as expired: scopes are checked only on a verified token.", t).all_of(&["admin"]).err("token_expired"));
    }
    {
        let name = "scope_checked_after_signature";
        let key = "ed25519-a";
        let h = seg(&hdr("EdDSA", Some(key), Some("at+jwt")));
        let s = g.sig(name, key, Alg::EdDSA, &h, &seg(&claims("scope_all_of_granted")));
        let forged = with(
            &claims("scope_all_of_granted"),
            &[("scope", json!("read:data write:logs admin"))],
        );
        f.push(
            case(
                name,
                "A token whose scope was tampered with to add admin fails on its signature, not on scopes.",
                format!("{h}.{}.{s}", seg(&forged)),
            )
            .any_of(&["admin"])
            .err("invalid_signature"),
        );
    }
    f
}

fn config(g: &mut Gen) -> File {
    let mut f = File::new(
        "verify_config.json",
        "Verifier options that are refused when the verifier is built (config_error), and the limits that are allowed.",
    );
    // (name, option changes, builds and verifies, description)
    type Row = (&'static str, Vec<(&'static str, Value)>, bool, &'static str);
    let rows: [Row; 6] = [
        (
            "config_no_issuer",
            vec![("issuer", del())],
            false,
            "A verifier without an issuer and without skip_issuer_check is refused.",
        ),
        (
            "config_empty_issuer",
            vec![("issuer", json!(""))],
            false,
            "An empty issuer counts as none.",
        ),
        (
            "config_no_audience",
            vec![("audience", json!([]))],
            false,
            "A verifier without an audience and without skip_audience_check is refused.",
        ),
        (
            "config_leeway_over_300",
            vec![("leeway", json!(301))],
            false,
            "A leeway above 300 s is refused.",
        ),
        (
            "config_leeway_300",
            vec![("leeway", json!(300))],
            true,
            "A leeway of exactly 300 s is allowed.",
        ),
        (
            "config_max_token_bytes_zero",
            vec![("max_token_bytes", json!(0))],
            false,
            "max_token_bytes 0 is refused.",
        ),
    ];
    for (name, opts, ok, desc) in rows {
        let c = claims(name);
        let t = g.std_token(name, Alg::EdDSA, &c);
        let mut k = case(name, desc, t);
        for (o, v) in opts {
            k = k.opt(o, v);
        }
        f.push(if ok { k.ok(&c) } else { k.err("config_error") });
    }
    f
}

fn hmac_token(header: &Value, claims: &Value, key: &[u8]) -> String {
    let (h, p) = (seg(header), seg(claims));
    let input = format!("{h}.{p}");
    let mac = match header["alg"].as_str() {
        Some("HS384") => hmac::<sha2::Sha384>(128, key, input.as_bytes()),
        Some("HS512") => hmac::<sha2::Sha512>(128, key, input.as_bytes()),
        _ => hmac::<sha2::Sha256>(64, key, input.as_bytes()),
    };
    format!("{input}.{}", b64(&mac))
}

/// HMAC (RFC 2104).
fn hmac<D: Digest>(block: usize, key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut k = if key.len() > block {
        D::digest(key).to_vec()
    } else {
        key.to_vec()
    };
    k.resize(block, 0);
    let ipad: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
    let opad: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
    let inner = D::new().chain_update(&ipad).chain_update(msg).finalize();
    D::new().chain_update(&opad).chain_update(inner).finalize().to_vec()
}

// ---------------------------------------------------------------------------------------------
// JSON output: canonical compact form for token segments, stable pretty form for files
// ---------------------------------------------------------------------------------------------

/// Compact JSON with object keys sorted (independent of serde_json's `preserve_order`).
fn canon(v: &Value) -> String {
    let mut out = String::new();
    write_compact(v, &mut out);
    out
}

fn write_compact(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            out.push('{');
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String((*k).clone()).to_string());
                out.push(':');
                write_compact(&m[k.as_str()], out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_compact(x, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// Keys listed here come first, in this order; the rest follow alphabetically.
const KEY_ORDER: &[&str] = &[
    "version",
    "name",
    "description",
    "warning",
    "kty",
    "kid",
    "token",
    "keys",
    "jwks",
    "options",
    "required_scopes",
    "expect",
    "cases",
];

fn pretty(v: &Value) -> String {
    let mut out = String::new();
    write_pretty(v, 0, &mut out);
    out.push('\n');
    out
}

fn write_pretty(v: &Value, indent: usize, out: &mut String) {
    let pad = |n: usize| " ".repeat(n);
    match v {
        Value::Object(m) if !m.is_empty() => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort_by_key(|k| {
                (
                    KEY_ORDER.iter().position(|o| o == k).unwrap_or(usize::MAX),
                    k.to_string(),
                )
            });
            out.push_str("{\n");
            for (i, k) in keys.iter().enumerate() {
                out.push_str(&pad(indent + 2));
                out.push_str(&Value::String((*k).clone()).to_string());
                out.push_str(": ");
                write_pretty(&m[k.as_str()], indent + 2, out);
                out.push_str(if i + 1 < keys.len() { ",\n" } else { "\n" });
            }
            out.push_str(&pad(indent));
            out.push('}');
        }
        Value::Array(a) if a.iter().any(|x| x.is_object() || x.is_array()) => {
            out.push_str("[\n");
            for (i, x) in a.iter().enumerate() {
                out.push_str(&pad(indent + 2));
                write_pretty(x, indent + 2, out);
                out.push_str(if i + 1 < a.len() { ",\n" } else { "\n" });
            }
            out.push_str(&pad(indent));
            out.push(']');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_compact(x, out);
            }
            out.push(']');
        }
        other => write_compact(other, out),
    }
}

// ---------------------------------------------------------------------------------------------
// DER helpers
// ---------------------------------------------------------------------------------------------

mod der {
    fn len(n: usize) -> Vec<u8> {
        if n < 0x80 {
            vec![n as u8]
        } else {
            let b: Vec<u8> = n.to_be_bytes().into_iter().skip_while(|x| *x == 0).collect();
            let mut v = vec![0x80 | b.len() as u8];
            v.extend(b);
            v
        }
    }
    pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut v = vec![tag];
        v.extend(len(content.len()));
        v.extend_from_slice(content);
        v
    }
    pub fn strip(b: &[u8]) -> &[u8] {
        let i = b.iter().position(|x| *x != 0).unwrap_or(b.len().saturating_sub(1));
        &b[i..]
    }
    pub fn int(b: &[u8]) -> Vec<u8> {
        let mut v = strip(b).to_vec();
        if v.is_empty() || v[0] & 0x80 != 0 {
            v.insert(0, 0);
        }
        tlv(0x02, &v)
    }
    pub fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
        tlv(0x30, &parts.concat())
    }
    fn bit_string(b: &[u8]) -> Vec<u8> {
        let mut v = vec![0];
        v.extend_from_slice(b);
        tlv(0x03, &v)
    }
    pub fn rsa_spki(n: &[u8], e: &[u8]) -> Vec<u8> {
        let alg = seq(&[
            tlv(0x06, &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01]),
            vec![0x05, 0x00],
        ]);
        seq(&[alg, bit_string(&seq(&[int(n), int(e)]))])
    }
    pub fn ec_spki(p384: bool, x: &[u8], y: &[u8]) -> Vec<u8> {
        let curve: &[u8] = if p384 {
            &[0x2b, 0x81, 0x04, 0x00, 0x22]
        } else {
            &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]
        };
        let alg = seq(&[tlv(0x06, &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01]), tlv(0x06, curve)]);
        let mut point = vec![4];
        point.extend_from_slice(x);
        point.extend_from_slice(y);
        seq(&[alg, bit_string(&point)])
    }
    pub fn ed25519_spki(x: &[u8]) -> Vec<u8> {
        seq(&[seq(&[tlv(0x06, &[0x2b, 0x65, 0x70])]), bit_string(x)])
    }
    /// ECDSA r||s → DER SEQUENCE { INTEGER r, INTEGER s }.
    pub fn ecdsa_sig(raw: &[u8]) -> Vec<u8> {
        let (r, s) = raw.split_at(raw.len() / 2);
        seq(&[int(r), int(s)])
    }
    /// Read one TLV: (tag, content, rest).
    fn read(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
        let tag = *b.first()?;
        let first = *b.get(1)? as usize;
        let (n, hdr) = if first < 0x80 {
            (first, 2)
        } else {
            let k = first & 0x7f;
            let mut n = 0usize;
            for i in 0..k {
                n = n << 8 | *b.get(2 + i)? as usize;
            }
            (n, 2 + k)
        };
        let content = b.get(hdr..hdr + n)?;
        Some((tag, content, &b[hdr + n..]))
    }
    /// PKCS#1 RSAPrivateKey → its INTEGERs (version, n, e, d, p, q, dp, dq, qi).
    pub fn pkcs1_private_key(der: &[u8]) -> Option<Vec<Vec<u8>>> {
        let (tag, mut body, _) = read(der)?;
        if tag != 0x30 {
            return None;
        }
        let mut ints = Vec::new();
        while !body.is_empty() {
            let (t, c, rest) = read(body)?;
            if t != 0x02 {
                return None;
            }
            ints.push(c.to_vec());
            body = rest;
        }
        (ints.len() >= 4).then_some(ints)
    }
}

// ---------------------------------------------------------------------------------------------
// RSASSA-PKCS1-v1_5 with SHA-256 for the 1024-bit key (aws-lc refuses keys under 2048 bits)
// ---------------------------------------------------------------------------------------------

mod weak_rsa {
    use super::big::Big;
    use sha2::Digest;

    fn encode(msg: &[u8], k: usize) -> Vec<u8> {
        const PREFIX: [u8; 19] = [
            0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04,
            0x20,
        ];
        let h = sha2::Sha256::digest(msg);
        let mut em = vec![0x00, 0x01];
        em.extend(std::iter::repeat_n(0xff, k - 3 - PREFIX.len() - h.len()));
        em.push(0);
        em.extend_from_slice(&PREFIX);
        em.extend_from_slice(&h);
        em
    }
    pub fn sign(n: &Big, d: &Big, msg: &[u8]) -> Vec<u8> {
        let k = n.byte_len();
        Big::from_be(&encode(msg, k)).modpow(d, n).to_be(k)
    }
    pub fn verify(n: &Big, e: &Big, msg: &[u8], sig: &[u8]) -> bool {
        let k = n.byte_len();
        let s = Big::from_be(sig);
        sig.len() == k && s.lt(n) && s.modpow(e, n).to_be(k) == encode(msg, k)
    }
}

mod big {
    /// Unsigned big integer, little-endian 32-bit limbs, no leading zero limbs.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct Big(Vec<u32>);

    impl Big {
        pub fn from_be(b: &[u8]) -> Big {
            let mut v: Vec<u32> = b
                .rchunks(4)
                .map(|c| c.iter().fold(0u32, |x, &y| x << 8 | y as u32))
                .collect();
            while v.last() == Some(&0) {
                v.pop();
            }
            Big(v)
        }
        pub fn to_be(&self, len: usize) -> Vec<u8> {
            let mut out = vec![0u8; len];
            for (i, limb) in self.0.iter().enumerate() {
                for j in 0..4 {
                    let pos = i * 4 + j;
                    if pos < len {
                        out[len - 1 - pos] = (limb >> (8 * j)) as u8;
                    }
                }
            }
            out
        }
        fn bits(&self) -> usize {
            self.0
                .last()
                .map_or(0, |l| self.0.len() * 32 - l.leading_zeros() as usize)
        }
        pub fn byte_len(&self) -> usize {
            self.bits().div_ceil(8)
        }
        fn bit(&self, i: usize) -> bool {
            self.0.get(i / 32).is_some_and(|l| l >> (i % 32) & 1 == 1)
        }
        pub fn lt(&self, o: &Big) -> bool {
            if self.0.len() != o.0.len() {
                return self.0.len() < o.0.len();
            }
            for i in (0..self.0.len()).rev() {
                if self.0[i] != o.0[i] {
                    return self.0[i] < o.0[i];
                }
            }
            false
        }
        fn mul(&self, o: &Big) -> Big {
            let mut r = vec![0u32; self.0.len() + o.0.len()];
            for (i, &a) in self.0.iter().enumerate() {
                let mut carry = 0u64;
                for (j, &b) in o.0.iter().enumerate() {
                    let t = r[i + j] as u64 + a as u64 * b as u64 + carry;
                    r[i + j] = t as u32;
                    carry = t >> 32;
                }
                r[i + o.0.len()] = carry as u32;
            }
            while r.last() == Some(&0) {
                r.pop();
            }
            Big(r)
        }
        fn sub_assign(&mut self, o: &Big) {
            let mut borrow = 0i64;
            for i in 0..self.0.len() {
                let t = self.0[i] as i64 - o.0.get(i).copied().unwrap_or(0) as i64 - borrow;
                self.0[i] = t.rem_euclid(1 << 32) as u32;
                borrow = (t < 0) as i64;
            }
            while self.0.last() == Some(&0) {
                self.0.pop();
            }
        }
        fn shl1_or(&mut self, bit: bool) {
            let mut carry = bit as u32;
            for l in self.0.iter_mut() {
                let next = *l >> 31;
                *l = *l << 1 | carry;
                carry = next;
            }
            if carry != 0 {
                self.0.push(carry);
            }
        }
        fn rem(&self, m: &Big) -> Big {
            let mut r = Big(Vec::new());
            for i in (0..self.bits()).rev() {
                r.shl1_or(self.bit(i));
                if !r.lt(m) {
                    r.sub_assign(m);
                }
            }
            r
        }
        pub fn modpow(&self, e: &Big, m: &Big) -> Big {
            let base = self.rem(m);
            let mut acc = Big(vec![1]);
            for i in (0..e.bits()).rev() {
                acc = acc.mul(&acc).rem(m);
                if e.bit(i) {
                    acc = acc.mul(&base).rem(m);
                }
            }
            acc
        }
    }
}
