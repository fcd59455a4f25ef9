//! Fuzz target: `${VAR}` interpolation and ClientConfig::from_yaml_str.
//! The properties checked are in fuzz/src/lib.rs (`check_config`); the input format is in fuzz/README.md.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| authsec_fuzz::check_config(data));
