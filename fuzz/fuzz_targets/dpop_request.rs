//! Fuzz target: the resource side of DPoP on untrusted input (a proof, a URI, request headers, a
//! request target). The properties checked are in fuzz/src/dpop_request.rs
//! (`check_dpop_request`); the input format is in fuzz/README.md.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| authsec_fuzz::check_dpop_request(data));
