//! Fuzz target: parse_token_response on a token-endpoint answer.
//! The properties checked are in fuzz/src/lib.rs (`check_token_response`); the input format is in fuzz/README.md.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| authsec_fuzz::check_token_response(data));
