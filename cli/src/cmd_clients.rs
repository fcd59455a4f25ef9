//! `authsec clients`: the clients of an authsec server, through its management API.

use crate::common::{call, cell, management_client, note, print_stdout, table, ManagementArgs};
use authsec_native::{Error, Result};
use clap::{Args, Subcommand};
use serde_json::{json, Map, Value};

const CLIENTS_HELP: &str = "\
Credentials (never on the command line):
  AUTHSEC_CLIENT_ID with AUTHSEC_CLIENT_SECRET, AUTHSEC_CLIENT_SECRET_FILE or
  AUTHSEC_PRIVATE_KEY_FILE: a management client (one holding clients:read / clients:write);
  or AUTHSEC_ADMIN_TOKEN / AUTHSEC_ADMIN_TOKEN_FILE: the server's admin_token, accepted only
  while no management client exists (to create the first one).
The server: --url or AUTHSEC_MANAGEMENT_URL.

A new or rotated secret is printed once, on stdout, and never again: store it right away.

Examples:
  export AUTHSEC_MANAGEMENT_URL=http://127.0.0.1:8080 AUTHSEC_ADMIN_TOKEN_FILE=./admin-token
  authsec clients create --client-id ops --name Operations --scope clients:read --scope clients:write
  authsec clients list
  authsec clients rotate-secret billing --overlap 1h
  authsec clients revoke-secret billing          # every secret but the newest
  authsec clients delete billing";

#[derive(Args, Debug)]
#[command(after_help = CLIENTS_HELP)]
pub struct ClientsArgs {
    #[command(flatten)]
    conn: ManagementArgs,
    #[command(subcommand)]
    action: ClientsAction,
}

#[derive(Subcommand, Debug)]
enum ClientsAction {
    /// Register a client; prints it, with its generated secret (shown once).
    Create(CreateArgs),
    /// List the clients: a table, or one JSON object per line with --json.
    List {
        /// Only clients of this type (m2m, ai_agent, mcp_server, web, mobile).
        #[arg(long = "type")]
        client_type: Option<String>,
        /// At most this many clients (default: all).
        #[arg(long)]
        limit: Option<usize>,
        /// One JSON object per line instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Print one client as JSON.
    Get { client_id: String },
    /// Give the client a new secret (printed once); the old ones keep working for --overlap.
    RotateSecret {
        client_id: String,
        /// How long the old secrets keep working: seconds or a duration (30m, 1h, 1d); 0 stops
        /// them now. Default: the server's (one day).
        #[arg(long)]
        overlap: Option<String>,
    },
    /// Revoke one secret now, or (without SECRET_ID) every secret but the newest.
    RevokeSecret {
        client_id: String,
        secret_id: Option<String>,
    },
    /// Delete the client.
    Delete { client_id: String },
}

#[derive(Args, Debug, Default)]
struct CreateArgs {
    /// The client's id (default: generated).
    #[arg(long)]
    client_id: Option<String>,
    #[arg(long)]
    name: Option<String>,
    #[arg(long)]
    description: Option<String>,
    /// m2m (default), ai_agent, mcp_server, web, mobile.
    #[arg(long = "type")]
    client_type: Option<String>,
    /// An allowed scope (repeat, or space-separated).
    #[arg(long = "scope")]
    scopes: Vec<String>,
    /// An audience its tokens may name (repeat).
    #[arg(long = "audience")]
    audiences: Vec<String>,
    /// A role it has (repeat).
    #[arg(long = "role")]
    roles: Vec<String>,
    /// A grant type it may use (repeat; default by type).
    #[arg(long = "grant-type")]
    grant_types: Vec<String>,
    /// Token lifetime in seconds.
    #[arg(long)]
    token_lifetime: Option<u64>,
    /// Any other client field, as FIELD=VALUE (VALUE read as JSON when it is JSON, else as a
    /// string); repeat. Not client_secret: the server generates it.
    #[arg(long = "set", value_name = "FIELD=VALUE")]
    set: Vec<String>,
    /// Print the answer as one JSON line.
    #[arg(long)]
    json: bool,
}

/// The client fields `create` sends.
fn create_body(a: &CreateArgs) -> Result<Value> {
    let mut m = Map::new();
    let text = |m: &mut Map<String, Value>, k: &str, v: &Option<String>| {
        if let Some(v) = v {
            m.insert(k.into(), Value::String(v.clone()));
        }
    };
    text(&mut m, "client_id", &a.client_id);
    text(&mut m, "name", &a.name);
    text(&mut m, "description", &a.description);
    text(&mut m, "type", &a.client_type);
    let list = |m: &mut Map<String, Value>, k: &str, v: &[String]| {
        let items: Vec<Value> = v.iter().flat_map(|s| s.split_whitespace()).map(|s| json!(s)).collect();
        if !items.is_empty() {
            m.insert(k.into(), Value::Array(items));
        }
    };
    list(&mut m, "allowed_scopes", &a.scopes);
    list(&mut m, "audiences", &a.audiences);
    list(&mut m, "roles", &a.roles);
    list(&mut m, "grant_types", &a.grant_types);
    if let Some(n) = a.token_lifetime {
        m.insert("token_lifetime".into(), json!(n));
    }
    for kv in &a.set {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| Error::config(format!("--set {kv:?} is not FIELD=VALUE")))?;
        let k = k.trim();
        if k == "client_secret" {
            return Err(Error::config(
                "there is no way to give client_secret on the command line (other users see it in `ps`); let the server generate one",
            ));
        }
        if m.contains_key(k) {
            return Err(Error::config(format!("{k} is given twice")));
        }
        let v = serde_json::from_str(v).unwrap_or_else(|_| Value::String(v.to_string()));
        m.insert(k.to_string(), v);
    }
    Ok(Value::Object(m))
}

/// Seconds, or a duration with s, m, h or d.
pub fn parse_seconds(name: &str, v: &str) -> Result<u64> {
    let v = v.trim();
    let (num, mul) = match v.char_indices().last() {
        Some((i, 's')) => (&v[..i], 1),
        Some((i, 'm')) => (&v[..i], 60),
        Some((i, 'h')) => (&v[..i], 3600),
        Some((i, 'd')) => (&v[..i], 86_400),
        _ => (v, 1),
    };
    num.trim()
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mul))
        .ok_or_else(|| {
            Error::config(format!(
                "{name} must be seconds or a duration such as 30m, 1h or 1d, not {v:?}"
            ))
        })
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_else(|_| "null".into())
}

/// Print an answer that holds a new secret: once, on stdout; a reminder on stderr.
fn print_with_secret(v: &Value, one_line: bool) -> Result<()> {
    print_stdout(&if one_line { v.to_string() } else { pretty(v) })?;
    if v.get("client_secret").and_then(Value::as_str).is_some() {
        note("note: client_secret is shown this once; store it now (the server keeps only its hash)");
    }
    Ok(())
}

fn list_rows(items: &[Value]) -> Vec<Vec<String>> {
    items
        .iter()
        .map(|c| {
            let scopes = c.get("effective_scopes").or_else(|| c.get("allowed_scopes"));
            let secrets = c.get("secrets").and_then(Value::as_array).map_or(0, Vec::len);
            vec![
                cell(c.get("client_id")),
                cell(c.get("type")),
                cell(c.get("name")),
                secrets.to_string(),
                cell(scopes),
            ]
        })
        .collect()
}

/// Most pages fetched by `list` (200 clients each).
const MAX_PAGES: usize = 1000;

pub fn run(a: ClientsArgs) -> Result<()> {
    if let ClientsAction::Create(c) = &a.action {
        // Checked before any request.
        create_body(c)?;
    }
    let client = management_client(&a.conn)?;
    match a.action {
        ClientsAction::Create(c) => {
            let v = call(&client, "clients.create", create_body(&c)?)?;
            print_with_secret(&v, c.json)
        }
        ClientsAction::Get { client_id } => {
            print_stdout(&pretty(&call(&client, "clients.get", json!({"client_id": client_id}))?))
        }
        ClientsAction::List {
            client_type,
            limit,
            json,
        } => {
            let mut items: Vec<Value> = Vec::new();
            let mut cursor: Option<String> = None;
            for _ in 0..MAX_PAGES {
                let left = limit.map(|l| l.saturating_sub(items.len()));
                if left == Some(0) {
                    break;
                }
                let page = left.unwrap_or(200).min(200);
                let mut args = json!({"limit": page});
                if let Some(t) = &client_type {
                    args["type"] = json!(t);
                }
                if let Some(c) = &cursor {
                    args["cursor"] = json!(c);
                }
                let v = call(&client, "clients.list", args)?;
                items.extend(v["items"].as_array().cloned().unwrap_or_default());
                cursor = v["next_cursor"].as_str().map(str::to_string);
                if cursor.is_none() {
                    break;
                }
            }
            if let Some(l) = limit {
                items.truncate(l);
            }
            if json {
                let lines: Vec<String> = items.iter().map(Value::to_string).collect();
                if lines.is_empty() {
                    return Ok(());
                }
                return print_stdout(&lines.join("\n"));
            }
            print_stdout(&table(
                &["CLIENT_ID", "TYPE", "NAME", "SECRETS", "SCOPES"],
                &list_rows(&items),
            ))
        }
        ClientsAction::RotateSecret { client_id, overlap } => {
            let mut args = json!({"client_id": client_id});
            if let Some(o) = overlap {
                args["overlap"] = json!(parse_seconds("--overlap", &o)?);
            }
            print_with_secret(&call(&client, "clients.rotate_secret", args)?, false)
        }
        ClientsAction::RevokeSecret { client_id, secret_id } => {
            let mut args = json!({"client_id": client_id});
            if let Some(s) = secret_id {
                args["secret_id"] = json!(s);
            }
            print_stdout(&pretty(&call(&client, "clients.revoke_secret", args)?))
        }
        ClientsAction::Delete { client_id } => {
            call(&client, "clients.delete", json!({"client_id": client_id}))?;
            note(&format!("deleted client {client_id}"));
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use authsec_native::ErrorCode;

    #[test]
    fn create_body_from_flags() {
        let a = CreateArgs {
            client_id: Some("ops".into()),
            name: Some("Ops".into()),
            scopes: vec!["clients:read clients:write".into(), "logs:read".into()],
            set: vec![
                "rate_limits={\"requests_per_minute\": 5}".into(),
                "website=https://x.test".into(),
            ],
            token_lifetime: Some(600),
            ..Default::default()
        };
        assert_eq!(
            create_body(&a).unwrap(),
            json!({"client_id": "ops", "name": "Ops", "allowed_scopes": ["clients:read", "clients:write", "logs:read"],
                   "token_lifetime": 600, "rate_limits": {"requests_per_minute": 5}, "website": "https://x.test"})
        );
        for set in ["client_secret=hunter2", "no-equals", "name=again"] {
            let a = CreateArgs {
                name: Some("x".into()),
                set: vec![set.into()],
                ..Default::default()
            };
            let e = create_body(&a).unwrap_err();
            assert_eq!(e.code(), ErrorCode::ConfigError, "{set}");
            assert!(!e.message().contains("hunter2"), "{e}");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_seconds("x", "90").unwrap(), 90);
        assert_eq!(parse_seconds("x", "30m").unwrap(), 1800);
        assert_eq!(parse_seconds("x", "1d").unwrap(), 86_400);
        assert!(parse_seconds("x", "-1").is_err() && parse_seconds("x", "1w").is_err());
    }
}
