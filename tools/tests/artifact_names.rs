//! Every library the workspace builds has a name of its own. The bindings' test builds share one
//! target directory and profile (scripts/test.sh), where cargo copies each library to
//! `<profile>/lib<name>.so`: two crates with one library name overwrite each other there, and a
//! package tool copies the wrong one (the Python testing module once shipped the Go testing
//! library, which has no `PyInit_authsec_testing`).

use std::collections::BTreeMap;
use std::process::Command;

#[test]
fn no_two_workspace_libraries_share_a_file_name() {
    let out = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--no-deps", "--locked"])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .expect("cargo metadata runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    let mut libraries = 0;
    for pkg in meta["packages"].as_array().unwrap() {
        for target in pkg["targets"].as_array().unwrap() {
            let kinds: Vec<&str> = target["kind"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|k| k.as_str())
                .collect();
            if !kinds
                .iter()
                .any(|k| ["lib", "rlib", "cdylib", "staticlib", "dylib"].contains(k))
            {
                continue;
            }
            libraries += 1;
            let name = target["name"].as_str().unwrap().replace('-', "_");
            let package = pkg["name"].as_str().unwrap().to_string();
            if let Some(other) = seen.insert(name.clone(), package.clone()) {
                panic!("{package} and {other} both build a library named {name}");
            }
        }
    }
    assert!(libraries >= 10, "found the workspace's libraries ({libraries})");
}
