//! `authsec demo`, the README's first command, runs the whole flow and says so.
use std::process::Command;

#[test]
fn demo_runs_the_whole_flow() {
    let out = Command::new(env!("CARGO_BIN_EXE_authsec"))
        .arg("demo")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "demo failed:\n{stdout}\n{stderr}");
    for needle in [
        "Local authorization server started",
        "The agent got a token",
        "\"typ\":\"at+jwt\"",
        "\"scope\":\"read:data write:logs\"",
        "GET /data with the token -> 200",
        "GET /data again with the cached token -> 200",
        "token requests   1",
        "GET /admin (needs scope admin) -> 403",
        "error=\"insufficient_scope\"",
        "GET /data without a token -> 401",
    ] {
        assert!(stdout.contains(needle), "missing {needle:?} in:\n{stdout}");
    }
    // The demo's client secret is generated and never printed.
    assert!(!stdout.contains("sec_"), "{stdout}");
}
