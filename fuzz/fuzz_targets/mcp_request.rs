//! Fuzz target: an MCP server's decision on a request body (McpServerAuth::decide), list
//! filtering and its challenges. The properties checked are in fuzz/src/lib.rs
//! (`check_mcp_request`); the input format is in fuzz/README.md.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| authsec_fuzz::check_mcp_request(data));
