//! `cargo test` fails when `tests/vectors/*.json` differ from what the generator produces today.

use authsec_tools::vectors::{check, vectors_dir};

#[test]
fn vectors_are_up_to_date() {
    let diffs = check(&vectors_dir()).unwrap_or_else(|e| panic!("generator: {e}"));
    for d in &diffs {
        eprintln!("drift: {d}");
    }
    assert!(
        diffs.is_empty(),
        "{} vector file difference(s) from what the generator (tools/src/vectors) writes; run `cargo run -p authsec-tools --bin gen-vectors` and commit the result",
        diffs.len()
    );
}
