//! The README's error-code table must list exactly the core's codes, in order, with their
//! descriptions, categories and classes.
use authsec_core::ErrorCode;

#[test]
fn readme_error_codes_match_the_core() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let start = readme.find("<!-- error-codes:start -->").expect("start marker");
    let end = readme.find("<!-- error-codes:end -->").expect("end marker");
    let listed: Vec<&str> = readme[start..end]
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .collect();
    let core: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(
        listed, core,
        "update the README's error-code table (authsec error-codes --exit-codes)"
    );
    for c in ErrorCode::ALL {
        let row = readme[start..end]
            .lines()
            .find(|l| l.starts_with(&format!("| `{c}` |")))
            .expect("a row per code");
        assert!(
            row.contains(c.description()),
            "README description of {c} differs from the core's"
        );
        assert!(
            row.contains(&format!("| `{}` | `{}` |", c.category(), c.class().name())),
            "README category or class of {c} differs from the core's: {row}"
        );
    }
}
