//! The generator of the shared JWT-verification test vectors in `tests/vectors/` (format: that
//! directory's README.md).
//!
//! ```text
//! cargo run -p authsec-tools --bin gen-vectors              # (re)write the vector files
//! cargo run -p authsec-tools --bin gen-vectors -- --check   # exit 1 if the files on disk are stale
//! ```
//!
//! Idempotent: the keys come from `tests/vectors/keys.json` (generated on the first run only), and
//! a token whose header and payload segments are unchanged keeps its existing signature as long as
//! that signature still verifies with the same key, so randomized ECDSA/PSS signatures do not churn.
//! Attack tokens (`none`, HMAC, malformed) are built deterministically.
//!
//! This crate's test `tests/vectors_drift.rs` runs [`check`], so that `cargo test` fails on drift.
//!
//! Modules: `keys` (the test keys; `der` for their DER forms, `weak_rsa` for the 1024-bit key
//! aws-lc will not use), `json` (canonical and pretty JSON writing), `signing` (signatures reused
//! from disk, key sets, HMAC), `case` (the case builders), and one module per vector file:
//! `algorithms`, `attacks`, `structure`, `claims`, `scopes`, `config`, `delegation`, `dpop` (whole
//! requests: `dpop_requests.json`) and `jwt_svid` (SPIFFE JWT-SVIDs: `jwt_svid.json`).

mod algorithms;
mod attacks;
mod case;
mod claims;
mod config;
mod delegation;
mod der;
mod dpop;
mod json;
mod jwt_svid;
mod keys;
mod scopes;
mod signing;
mod structure;
mod weak_rsa;

use json::canon;
use keys::{keys_file, load_or_create_keys};
use serde_json::Value;
use signing::Gen;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// `tests/vectors/` of this workspace.
pub fn vectors_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/vectors"))
}

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
        algorithms::file(&mut g),
        attacks::file(&mut g),
        structure::file(&mut g),
        claims::file(&mut g),
        scopes::file(&mut g),
        config::file(&mut g),
        delegation::file(&mut g),
    ] {
        let names: BTreeSet<&str> = f.cases.iter().map(|c| c["name"].as_str().unwrap_or_default()).collect();
        if names.len() != f.cases.len() {
            return Err(format!("{}: duplicate case names", f.file));
        }
        files.push((f.file.to_string(), f.render(&g)?));
    }
    files.push((dpop::FILE.to_string(), dpop::file(&mut g)?));
    files.push((jwt_svid::FILE.to_string(), jwt_svid::file(&mut g)?));
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

/// What [`write`] did to one file.
pub struct Written {
    pub name: String,
    pub cases: usize,
    /// False when the file on disk already had this content (it is left untouched).
    pub written: bool,
}

/// What [`write`] did.
pub struct Report {
    pub files: Vec<Written>,
    /// Cases whose token had to be signed anew.
    pub resigned: Vec<String>,
}

impl Report {
    /// The number of cases in all files.
    pub fn cases(&self) -> usize {
        self.files.iter().map(|f| f.cases).sum()
    }
}

/// Regenerate every file and write the ones whose content changed (keys may be created).
pub fn write(dir: &Path) -> Result<Report, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let gen = generate(dir, true)?;
    let mut files = Vec::new();
    for (name, content) in &gen.files {
        let path = dir.join(name);
        let cases = serde_json::from_str::<Value>(content)
            .ok()
            .and_then(|v| v["cases"].as_array().map(Vec::len))
            .unwrap_or(0);
        let same = std::fs::read_to_string(&path).is_ok_and(|s| s == *content);
        if !same {
            std::fs::write(&path, content).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        }
        files.push(Written {
            name: name.clone(),
            cases,
            written: !same,
        });
    }
    Ok(Report {
        files,
        resigned: gen.resigned,
    })
}
