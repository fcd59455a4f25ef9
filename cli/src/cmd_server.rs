//! `authsec server`: the local authorization server on the command line.

use crate::common::print_stdout;
use authsec_native::{Error, Result};
use authsec_server::{ServerConfig, StartOptions};
use clap::{Args, Subcommand};

const SERVER_HELP: &str = "\
The server prints its issuer URL on the first line of stdout once it listens, then writes one
JSON audit line per event to stderr (or where `audit_log` says). Stop it with Ctrl-C or SIGTERM.

Config file (YAML, ${VAR} interpolated):
  signing_alg: ES256            # or RS256, EdDSA
  database: ./authsec.db        # SQLite; omit for in-memory
  admin_token: ${AUTHSEC_ADMIN_TOKEN}
  roles:                        # scopes and audiences that clients get by listing the role
    reader: {scopes: [read:data], audiences: [https://api.example.com]}
  token_exchange:
    max_delegation_depth: 3     # nested act claims an exchanged token may carry
  clients:
    - client_id: ml-training-agent
      name: ML training agent
      type: ai_agent            # m2m, ai_agent, mcp_server
      client_secret: ${ML_AGENT_SECRET}
      allowed_scopes: [read:data, write:logs]
      audiences: [https://api.example.com]
      roles: [reader]
      grant_types: [client_credentials, urn:ietf:params:oauth:grant-type:token-exchange]
      may_act: [tool-agent]     # who may exchange this client's tokens (RFC 8693 may_act)
      token_lifetime: 3600
      rate_limit: 60            # token requests per minute

Examples:
  authsec server --port 0 --config server.yaml
  AUTHSEC_ADMIN_TOKEN=... authsec server rotate-key --url http://127.0.0.1:8080";

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true, after_help = SERVER_HELP)]
pub struct ServerArgs {
    #[command(subcommand)]
    action: Option<ServerAction>,
    /// Port to listen on; 0 picks a free one.
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Address to bind (loopback by default).
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// YAML config file with clients and settings.
    #[arg(long)]
    config: Option<String>,
    /// SQLite file (overrides `database` in the config).
    #[arg(long)]
    db: Option<String>,
    /// Issuer URL to put in tokens (default http://HOST:PORT).
    #[arg(long)]
    issuer: Option<String>,
    /// Audit log: stderr, stdout, off, or a file path.
    #[arg(long)]
    audit_log: Option<String>,
}

#[derive(Subcommand, Debug)]
enum ServerAction {
    /// Rotate the signing key of a running server through its management API (`keys:write`;
    /// credentials as for `authsec clients`: AUTHSEC_CLIENT_ID with AUTHSEC_CLIENT_SECRET[_FILE],
    /// or AUTHSEC_ADMIN_TOKEN[_FILE] to bootstrap).
    RotateKey {
        /// The server's issuer URL.
        #[arg(long)]
        url: String,
        /// ES256, RS256 or EdDSA (default: the server's).
        #[arg(long)]
        alg: Option<String>,
        /// Seconds until the new key starts signing; it is published at once. Default: the
        /// server's JWKS max-age, so verifiers that honour Cache-Control have it before it signs.
        #[arg(long)]
        activate_in: Option<i64>,
    },
}

pub fn run(a: ServerArgs) -> Result<()> {
    if let Some(ServerAction::RotateKey { url, alg, activate_in }) = a.action {
        return rotate_key(&url, alg, activate_in);
    }
    let mut cfg = match &a.config {
        Some(path) => ServerConfig::from_yaml_file(path)?,
        None => ServerConfig::default(),
    };
    if a.db.is_some() {
        cfg.database = a.db;
    }
    if a.issuer.is_some() {
        cfg.issuer = a.issuer;
    }
    if a.audit_log.is_some() {
        cfg.audit_log = a.audit_log;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::internal(e.to_string()))?;
    rt.block_on(async {
        let opts = StartOptions {
            host: a.host,
            port: a.port,
            ..Default::default()
        };
        let server = authsec_server::start(cfg, opts).await?;
        print_stdout(server.issuer())?;
        eprintln!(
            "authsec server listening on {} (token endpoint {}, JWKS {}); Ctrl-C to stop",
            server.addr(),
            server.token_endpoint(),
            server.jwks_uri()
        );
        wait_for_stop().await;
        server.shutdown().await;
        Ok(())
    })
}

async fn wait_for_stop() {
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

/// `keys.rotate` through the management client, with the credentials every management command
/// takes (a management client's, or the bootstrap admin token while no management client exists).
fn rotate_key(url: &str, alg: Option<String>, activate_in: Option<i64>) -> Result<()> {
    let where_ = crate::common::ManagementArgs {
        url: Some(url.to_string()),
    };
    let client = crate::common::management_client(&where_)?;
    let mut args = serde_json::json!({});
    if let Some(s) = activate_in {
        args["activate_in"] = serde_json::json!(s);
    }
    if let Some(a) = alg {
        args["alg"] = serde_json::json!(a);
    }
    let v = crate::common::call(&client, "keys.rotate", args)?;
    print_stdout(&serde_json::to_string_pretty(&v).unwrap_or_default())
}
