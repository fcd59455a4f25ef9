//! `authsec`: get OAuth 2.0 client-credentials tokens, verify and decode JWT access tokens.
//!
//! One module per subcommand (`cmd_*.rs`); `common.rs` holds what they share: exit codes, error
//! printing, reading a token from an argument or stdin, and ordered JSON output.

mod cmd_clients;
mod cmd_decode;
mod cmd_demo;
mod cmd_error_codes;
mod cmd_logs;
mod cmd_server;
mod cmd_token;
mod cmd_verify;
mod common;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

const AFTER_HELP: &str = "\
Exit codes:
  0  success
  1  rejected: the token is invalid or lacks a scope, the server refused the credentials, or the
     management API refused the operation (not found, conflict, invalid client metadata)
  2  usage or configuration error (a missing flag, an unreadable file, an unset ${VAR}, ...)
  3  network error, or the server or its JWKS is unavailable

Errors are printed to stderr as `error: <code>: <message>`; `authsec error-codes` lists the codes.
Secrets and whole tokens are never printed in errors.

Examples:
  authsec demo
  authsec server --port 0 --config server.yaml
  export AUTHSEC_CLIENT_ID=my-agent AUTHSEC_CLIENT_SECRET=... AUTHSEC_TOKEN_URL=https://auth.example.com/oauth/token
  authsec token --scope read:data --raw
  authsec token --raw | authsec verify --issuer https://auth.example.com --audience https://api.example.com
  authsec decode eyJhbGciOi...
  AUTHSEC_MANAGEMENT_URL=http://127.0.0.1:8080 AUTHSEC_ADMIN_TOKEN_FILE=./admin-token authsec clients list
  authsec logs --since 1h --outcome failure";

/// Machine-to-machine OAuth 2.0: get client-credentials tokens, verify and decode JWT access tokens.
#[derive(Parser, Debug)]
#[command(name = "authsec", version, propagate_version = true, after_help = AFTER_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Get an access token with the client-credentials grant and print it as JSON.
    Token(cmd_token::TokenArgs),
    /// Verify a JWT access token (signature, expiry, issuer, audience, scopes) and print its claims.
    Verify(cmd_verify::VerifyArgs),
    /// Print a JWT's header and claims WITHOUT verifying anything (for inspection only).
    Decode(cmd_decode::DecodeArgs),
    /// List the stable error codes, one per line with a short description.
    ErrorCodes(cmd_error_codes::ErrorCodesArgs),
    /// Run a local OAuth 2.0 authorization server (for development and tests).
    Server(cmd_server::ServerArgs),
    /// Show the whole flow offline: local server, an agent gets a token, a service verifies it.
    Demo(cmd_demo::DemoArgs),
    /// Manage a server's clients (create, list, get, rotate-secret, revoke-secret, delete).
    Clients(cmd_clients::ClientsArgs),
    /// Read a server's audit log (newest first).
    Logs(cmd_logs::LogsArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Token(a) => cmd_token::run(a),
        Command::Verify(a) => cmd_verify::run(a),
        Command::Decode(a) => cmd_decode::run(a),
        Command::ErrorCodes(a) => cmd_error_codes::run(a),
        Command::Server(a) => cmd_server::run(a),
        Command::Demo(a) => cmd_demo::run(a),
        Command::Clients(a) => cmd_clients::run(a),
        Command::Logs(a) => cmd_logs::run(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => common::report(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
