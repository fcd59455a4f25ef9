//! Fuzz target: KeySet::from_jwks_json on a JWKS document.
//! The properties checked are in fuzz/src/lib.rs (`check_jwks`); the input format is in fuzz/README.md.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| authsec_fuzz::check_jwks(data));
