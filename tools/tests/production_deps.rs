//! The production artifacts (the Python extension, the Node addon, the Go static library, the wasm
//! module) do not link the local authorization server or what it is built on: axum, rusqlite and
//! SQLite stay in the testing crates. A user's program that loads its own SQLite driver next to
//! ours would otherwise get two copies of `sqlite3_*` (bindings-go/test.sh checks the Go library's
//! symbols with `nm` as well).

use std::collections::BTreeSet;
use std::process::Command;

const SERVER_ONLY: [&str; 4] = ["authsec-server", "axum", "rusqlite", "libsqlite3-sys"];

/// The packages `package` depends on to build and run (not its dev-dependencies), on any target.
fn dependencies(manifest: &str, package: &str) -> BTreeSet<String> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let out = Command::new(env!("CARGO"))
        .args(["tree", "--locked", "--manifest-path", manifest])
        .args(["-p", package, "-e", "normal,build", "--target", "all"])
        .args(["--prefix", "none", "--format", "{p}"])
        .current_dir(root)
        .output()
        .expect("cargo tree runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

fn server_parts(deps: &BTreeSet<String>) -> Vec<&'static str> {
    SERVER_ONLY.iter().copied().filter(|p| deps.contains(*p)).collect()
}

#[test]
fn production_artifacts_do_not_link_the_server() {
    for (manifest, package) in [
        ("Cargo.toml", "authsec-core"),
        ("Cargo.toml", "authsec-native"),
        ("Cargo.toml", "authsec-python"),
        ("Cargo.toml", "authsec-node"),
        ("Cargo.toml", "authsec-capi"),
        ("wasm/Cargo.toml", "authsec-wasm"),
    ] {
        let deps = dependencies(manifest, package);
        assert!(
            deps.contains("authsec-core") || package == "authsec-core",
            "{package}: {deps:?}"
        );
        let found = server_parts(&deps);
        assert!(
            found.is_empty(),
            "{package} links {found:?}: the server belongs in a testing crate"
        );
    }
}

/// The check above can see the server where it is: each testing crate links all of it.
#[test]
fn testing_crates_link_the_server() {
    for package in ["authsec-testing-python", "authsec-node-testing", "authsec-capi-testing"] {
        let deps = dependencies("Cargo.toml", package);
        assert_eq!(server_parts(&deps), SERVER_ONLY, "{package}");
    }
}
