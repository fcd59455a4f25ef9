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
    }

    #[test]
    fn token_argument_is_trimmed() {
        assert_eq!(read_token(Some("  a.b.c\n")).unwrap(), "a.b.c");
        assert_eq!(read_token(Some("Bearer a.b.c")).unwrap(), "a.b.c");
        assert_eq!(read_token(Some("   ")).unwrap_err().code(), ErrorCode::ConfigError);
    }
}
