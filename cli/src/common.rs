//! What the subcommands share: exit codes, error printing, token input, ordered JSON output.

use authsec_native::{Error, ErrorCategory, ErrorCode, Result};
use serde_json::Value;
use std::io::{IsTerminal, Read, Write};
use std::process::ExitCode;

/// The token (or whatever else) was rejected: verification failed, a scope is missing, or the
/// authorization server (its token endpoint or its management API) refused the request.
pub const EXIT_REJECTED: u8 = 1;
/// Usage or configuration error.
pub const EXIT_USAGE: u8 = 2;
/// Network error, or a server / JWKS is unavailable.
pub const EXIT_UNAVAILABLE: u8 = 3;

/// Most bytes read from stdin for a token (the verifier's own limit is lower and gives a clear
/// `token_too_large`; this only bounds memory).
pub const MAX_STDIN_BYTES: u64 = 1024 * 1024;

/// The process exit code for an error: from its category.
pub fn exit_code(code: ErrorCode) -> u8 {
    match code.category() {
        ErrorCategory::InvalidToken
        | ErrorCategory::InsufficientScope
        | ErrorCategory::TokenRequest
        | ErrorCategory::Management => EXIT_REJECTED,
        ErrorCategory::Unavailable => EXIT_UNAVAILABLE,
        ErrorCategory::Config | ErrorCategory::Internal => EXIT_USAGE,
    }
}

/// Print `error: <code>: <message>` to stderr and return the matching exit code.
pub fn report(e: &Error) -> ExitCode {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "error: {}: {}", e.code(), e.message());
    ExitCode::from(exit_code(e.code()))
}

/// Print to stdout; a closed pipe (`authsec ... | head`) is not an error worth reporting.
pub fn print_stdout(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out
        .write_all(text.as_bytes())
        .and_then(|_| out.write_all(b"\n"))
        .and_then(|_| out.flush())
    {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Error::internal(format!("cannot write to stdout: {e}"))),
    }
}

/// The token from the positional argument, or from stdin when it is absent or `-`.
/// Surrounding whitespace and an optional `Bearer ` prefix are removed.
pub fn read_token(arg: Option<&str>) -> Result<String> {
    let raw = match arg {
        Some(t) if t != "-" => t.to_string(),
        _ => {
            let stdin = std::io::stdin();
            if stdin.is_terminal() {
                return Err(Error::config("no token given: pass it as an argument, or pipe it on stdin (e.g. `authsec token --raw | authsec verify ...`)"));
            }
            let mut buf = Vec::new();
            stdin
                .lock()
                .take(MAX_STDIN_BYTES + 1)
                .read_to_end(&mut buf)
                .map_err(|e| Error::config(format!("cannot read the token from stdin: {e}")))?;
            if buf.len() as u64 > MAX_STDIN_BYTES {
                return Err(Error::new(
                    ErrorCode::TokenTooLarge,
                    format!("stdin holds more than {MAX_STDIN_BYTES} bytes; that is not a token"),
                ));
            }
            String::from_utf8(buf).map_err(|_| Error::malformed("the token on stdin is not UTF-8 text"))?
        }
    };
    let t = raw.trim();
    let t = match t.get(..7) {
        Some(p) if p.eq_ignore_ascii_case("bearer ") => t[7..].trim_start(),
        _ => t,
    };
    if t.is_empty() {
        return Err(Error::config(
            "the token is empty: pass it as an argument, or pipe it on stdin",
        ));
    }
    Ok(t.to_string())
}

/// Pretty-print a JSON object whose fields keep the given order (serde_json's map is sorted).
pub fn ordered_object(fields: &[(&str, Value)]) -> String {
    let mut out = String::from("{");
    for (i, (k, v)) in fields.iter().enumerate() {
        let v = serde_json::to_string_pretty(v)
            .unwrap_or_else(|_| "null".into())
            .replace('\n', "\n  ");
        out.push_str(if i == 0 { "\n  " } else { ",\n  " });
        out.push_str(&Value::String((*k).to_string()).to_string());
        out.push_str(": ");
        out.push_str(&v);
    }
    out.push_str(if fields.is_empty() { "}" } else { "\n}" });
    out
}

/// Where the management API is: the flag every management command takes.
#[derive(clap::Args, Debug, Default, Clone)]
pub struct ManagementArgs {
    /// The server's base URL (its issuer), e.g. https://auth.example.com.
    #[arg(long, env = "AUTHSEC_MANAGEMENT_URL", global = true)]
    pub url: Option<String>,
}

/// The management client's settings from `--url` and the environment (read through `get`): a
/// management client's credentials (`AUTHSEC_CLIENT_ID` with `AUTHSEC_CLIENT_SECRET`,
/// `AUTHSEC_CLIENT_SECRET_FILE` or `AUTHSEC_PRIVATE_KEY_FILE`), or the bootstrap
/// `AUTHSEC_ADMIN_TOKEN` / `AUTHSEC_ADMIN_TOKEN_FILE`. Never a secret from the command line.
pub fn management_settings(a: &ManagementArgs, get: impl Fn(&str) -> Option<String>) -> Result<Value> {
    let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());
    let url = a.url.clone().filter(|u| !u.trim().is_empty()).ok_or_else(|| {
        Error::config("no server URL: pass --url or set AUTHSEC_MANAGEMENT_URL (e.g. http://127.0.0.1:8080)")
    })?;
    let mut m = serde_json::Map::new();
    m.insert("base_url".into(), Value::String(url));
    let admin = [
        ("AUTHSEC_ADMIN_TOKEN", "admin_token"),
        ("AUTHSEC_ADMIN_TOKEN_FILE", "admin_token_file"),
    ];
    let admin: Vec<(&str, String)> = admin.iter().filter_map(|(var, key)| Some((*key, get(var)?))).collect();
    match (get("AUTHSEC_CLIENT_ID"), admin.is_empty()) {
        (Some(_), false) => {
            return Err(Error::config(
                "both AUTHSEC_CLIENT_ID and AUTHSEC_ADMIN_TOKEN(_FILE) are set: unset the admin token to use the management client, or AUTHSEC_CLIENT_ID to bootstrap with the admin token",
            ))
        }
        (None, true) => {
            return Err(Error::config(
                "no credentials: set AUTHSEC_CLIENT_ID with AUTHSEC_CLIENT_SECRET (or AUTHSEC_CLIENT_SECRET_FILE, AUTHSEC_PRIVATE_KEY_FILE) for a management client, or AUTHSEC_ADMIN_TOKEN (or AUTHSEC_ADMIN_TOKEN_FILE) to bootstrap",
            ))
        }
        (Some(id), true) => {
            m.insert("client_id".into(), Value::String(id));
            for (var, key) in [
                ("AUTHSEC_CLIENT_SECRET", "client_secret"),
                ("AUTHSEC_CLIENT_SECRET_FILE", "client_secret_file"),
                ("AUTHSEC_PRIVATE_KEY", "private_key"),
                ("AUTHSEC_PRIVATE_KEY_FILE", "private_key_file"),
                ("AUTHSEC_PRIVATE_KEY_ALG", "private_key_alg"),
                ("AUTHSEC_PRIVATE_KEY_ID", "key_id"),
                ("AUTHSEC_TOKEN_URL", "token_url"),
                ("AUTHSEC_SCOPES", "scopes"),
                ("AUTHSEC_ALLOW_INSECURE_HTTP", "allow_insecure_http"),
            ] {
                // A secret given inline wins over its file, as for `authsec token`.
                if key.ends_with("_file") && m.contains_key(key.trim_end_matches("_file")) {
                    continue;
                }
                if let Some(v) = get(var) {
                    m.insert(key.into(), Value::String(v));
                }
            }
        }
        (None, false) => {
            for (key, v) in admin.into_iter().take(1) {
                m.insert(key.into(), Value::String(v));
            }
            if let Some(v) = get("AUTHSEC_ALLOW_INSECURE_HTTP") {
                m.insert("allow_insecure_http".into(), Value::String(v));
            }
        }
    }
    Ok(Value::Object(m))
}

/// The management client for `--url` and the process environment.
pub fn management_client(a: &ManagementArgs) -> Result<authsec_native::ManagementClient> {
    let settings = management_settings(a, |k| std::env::var(k).ok())?;
    authsec_native::management_client(&settings)
}

/// Run one management operation to completion.
pub fn call(client: &authsec_native::ManagementClient, operation: &str, args: Value) -> Result<Value> {
    authsec_native::block_on(client.call(operation, &args))
}

/// Print to stderr (notes next to output meant for stdout).
pub fn note(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

/// A table: a header row and rows, columns padded to their widest cell (the last one not).
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(c.chars().count());
            }
        }
    }
    let line = |cells: Vec<&str>| -> String {
        let n = cells.len();
        let mut out = String::new();
        for (i, c) in cells.into_iter().enumerate() {
            out.push_str(c);
            if i + 1 < n {
                out.push_str(&" ".repeat(widths[i] - c.chars().count() + 2));
            }
        }
        out.trim_end().to_string()
    };
    let mut lines = vec![line(header.to_vec())];
    lines.extend(rows.iter().map(|r| line(r.iter().map(String::as_str).collect())));
    lines.join("\n")
}

/// Text for a table cell: control characters (a server's strings) shown as spaces.
pub fn cell(v: Option<&Value>) -> String {
    let s = match v {
        None | Some(Value::Null) => "-".to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| x.as_str().map(str::to_string).unwrap_or_else(|| x.to_string()))
            .collect::<Vec<_>>()
            .join(" "),
        Some(other) => other.to_string(),
    };
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ordered_object_is_valid_json_in_order() {
        let s = ordered_object(&[("z", json!(1)), ("a", json!({"b": [1, 2]})), ("m", json!("x\"y"))]);
        let v: Value = serde_json::from_str(&s).unwrap();
        assert_eq!(v, json!({"z": 1, "a": {"b": [1, 2]}, "m": "x\"y"}));
        assert!(s.find("\"z\"").unwrap() < s.find("\"a\"").unwrap());
        assert_eq!(ordered_object(&[]), "{}");
    }

    #[test]
    fn exit_codes() {
        assert_eq!(exit_code(ErrorCode::TokenExpired), 1);
        assert_eq!(exit_code(ErrorCode::InsufficientScope), 1);
        assert_eq!(exit_code(ErrorCode::InvalidClient), 1);
        assert_eq!(exit_code(ErrorCode::ConfigError), 2);
        assert_eq!(exit_code(ErrorCode::InsecureTransport), 2);
        assert_eq!(exit_code(ErrorCode::JwksUnavailable), 3);
        assert_eq!(exit_code(ErrorCode::NetworkError), 3);
        assert_eq!(exit_code(ErrorCode::NotFound), 1);
        assert_eq!(exit_code(ErrorCode::AccessDenied), 1);
    }

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: std::collections::HashMap<String, String> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| m.get(k).cloned()
    }

    #[test]
    fn management_settings_from_the_environment() {
        let url = ManagementArgs {
            url: Some("http://127.0.0.1:9".into()),
        };
        let v = management_settings(&url, vars(&[("AUTHSEC_ADMIN_TOKEN", "adm")])).unwrap();
        assert_eq!(v, json!({"base_url": "http://127.0.0.1:9", "admin_token": "adm"}));
        let v = management_settings(
            &url,
            vars(&[
                ("AUTHSEC_CLIENT_ID", "ops"),
                ("AUTHSEC_CLIENT_SECRET", "s"),
                ("AUTHSEC_CLIENT_SECRET_FILE", "/f"),
                ("AUTHSEC_SCOPES", "clients:read"),
            ]),
        )
        .unwrap();
        assert_eq!(
            v,
            json!({"base_url": "http://127.0.0.1:9", "client_id": "ops", "client_secret": "s", "scopes": "clients:read"})
        );
        let v = management_settings(
            &url,
            vars(&[("AUTHSEC_CLIENT_ID", "ops"), ("AUTHSEC_CLIENT_SECRET_FILE", "/f")]),
        )
        .unwrap();
        assert_eq!(v["client_secret_file"], "/f");
        for (env, needle) in [
            (vec![], "no credentials"),
            (
                vec![("AUTHSEC_CLIENT_ID", "ops"), ("AUTHSEC_ADMIN_TOKEN_FILE", "/a")],
                "both",
            ),
        ] {
            let e = management_settings(&url, vars(&env)).unwrap_err();
            assert_eq!(e.code(), ErrorCode::ConfigError);
            assert!(e.message().contains(needle), "{e}");
        }
        let e = management_settings(&ManagementArgs::default(), vars(&[("AUTHSEC_ADMIN_TOKEN", "a")])).unwrap_err();
        assert!(e.message().contains("--url"), "{e}");
    }

    #[test]
    fn tables_pad_columns_and_hide_controls() {
        let t = table(
            &["ID", "NAME"],
            &[
                vec!["a".into(), "x".into()],
                vec!["long-id".into(), cell(Some(&json!("b\nc")))],
            ],
        );
        assert_eq!(t, "ID       NAME\na        x\nlong-id  b c");
        assert_eq!(cell(None), "-");
        assert_eq!(cell(Some(&json!(["r", "w"]))), "r w");
    }

    #[test]
    fn token_argument_is_trimmed() {
        assert_eq!(read_token(Some("  a.b.c\n")).unwrap(), "a.b.c");
        assert_eq!(read_token(Some("Bearer a.b.c")).unwrap(), "a.b.c");
        assert_eq!(read_token(Some("   ")).unwrap_err().code(), ErrorCode::ConfigError);
    }
}
