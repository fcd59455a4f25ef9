//! MCP authorization (the Model Context Protocol's 2025-06-18 and later revisions): an MCP server
//! as an OAuth protected resource ([`server`]), the operations a request asks for
//! ([`operation`]) and the scopes each needs ([`scopes`]). The official SDKs' adapters in each
//! binding drive these; none of them decides anything itself.

pub mod client;
pub mod operation;
pub mod scopes;
pub mod server;
