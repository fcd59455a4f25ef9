//! The management API's client side (`authsec_core::management`): every operation of the server's
//! `/admin` API (clients, their secrets, scopes, roles, the audit log, signing keys) behind one
//! generic entry point, [`ManagementClient::call`], which every binding wraps in idiomatic methods.
//!
//! One thing per file: the settings ([`config`]), the operation table ([`operations`]), building
//! requests ([`request`]), reading answers and mapping errors ([`response`]), and the client that
//! drives them through the injected transport ([`client`]). Sans-IO like the rest of the core:
//! transport, clock and sleeper are given.

pub mod client;
pub mod config;
pub mod operations;
pub mod request;
pub mod response;

#[cfg(test)]
mod tests;

pub use client::ManagementClient;
pub use config::{Credentials, ManagementConfig, MANAGEMENT_SCOPES};
