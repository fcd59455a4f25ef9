//! Fuzz target: SPIFFE workload identity on untrusted input (a SPIFFE ID or pattern, a bundle
//! document, a JWT-SVID, or a header and payload signed with the test key p256-a). The properties
//! checked are in fuzz/src/jwt_svid.rs (`check_jwt_svid`); the input format is in fuzz/README.md.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| authsec_fuzz::check_jwt_svid(data));
