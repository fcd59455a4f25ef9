//! Fuzz target: parse_token and Verifier::try_verify_now on a token (or a header and payload signed with the test key ed25519-a).
//! The properties checked are in fuzz/src/lib.rs (`check_jwt`); the input format is in fuzz/README.md.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| authsec_fuzz::check_jwt(data));
