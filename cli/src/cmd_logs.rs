//! `authsec logs`: the audit log of an authsec server, through its management API, newest first.

use crate::cmd_clients::parse_seconds;
use crate::common::{call, cell, management_client, print_stdout, table, ManagementArgs};
use authsec_native::{Error, Result};
use clap::Args;
use serde_json::{json, Value};

const LOGS_HELP: &str = "\
Credentials and server as for `authsec clients` (the management client needs logs:read).

--since takes Unix seconds (1700000000), an RFC 3339 time (2025-01-31T12:00:00Z), or a duration
meaning that long ago (90s, 30m, 1h, 7d).

Examples:
  authsec logs --since 1h
  authsec logs --client billing --outcome failure --json | jq .";

#[derive(Args, Debug)]
#[command(after_help = LOGS_HELP)]
pub struct LogsArgs {
    #[command(flatten)]
    conn: ManagementArgs,
    /// Only events of this client.
    #[arg(long = "client")]
    client_id: Option<String>,
    /// Only events of this kind (repeat, or comma-separated): token, token_exchange, client_created, ...
    #[arg(long = "event")]
    events: Vec<String>,
    /// success or failure.
    #[arg(long)]
    outcome: Option<String>,
    /// Only events since then: Unix seconds, RFC 3339, or a duration (1h: an hour ago).
    #[arg(long)]
    since: Option<String>,
    /// At most this many events, newest first.
    #[arg(long, default_value_t = 100)]
    limit: usize,
    /// One JSON object per line instead of a table.
    #[arg(long)]
    json: bool,
}

/// `--since` as the API takes it: Unix seconds (a duration is counted back from `now`), or the
/// RFC 3339 text as it is.
pub fn since_value(v: &str, now_secs: i64) -> Result<Value> {
    let v = v.trim();
    if v.is_empty() {
        return Err(Error::config("--since is empty"));
    }
    if let Ok(n) = v.parse::<i64>() {
        return Ok(json!(n));
    }
    if let Ok(f) = v.parse::<f64>() {
        if f.is_finite() {
            return Ok(json!(f));
        }
    }
    let is_duration =
        v.len() > 1 && v[..v.len() - 1].bytes().all(|b| b.is_ascii_digit()) && v.ends_with(['s', 'm', 'h', 'd']);
    if is_duration {
        let secs = parse_seconds("--since", v)?;
        return Ok(json!(now_secs.saturating_sub(i64::try_from(secs).unwrap_or(i64::MAX))));
    }
    // RFC 3339: the shape is checked here, the date by the server.
    let b = v.as_bytes();
    if b.len() >= 20 && b[4] == b'-' && b[7] == b'-' && (b[10] == b'T' || b[10] == b't' || b[10] == b' ') {
        return Ok(json!(v));
    }
    Err(Error::config(format!(
        "--since {v:?} is not Unix seconds, an RFC 3339 time or a duration such as 1h"
    )))
}

/// Unix seconds as RFC 3339 UTC (`2025-01-31T12:00:00Z`).
pub fn rfc3339(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// One table row for an event: time, event, outcome, client, actor, and its other fields.
fn row(e: &Value) -> Vec<String> {
    let time = e
        .get("ts")
        .and_then(Value::as_f64)
        .map_or("-".into(), |t| rfc3339(t.floor() as i64));
    let shown = ["id", "ts", "event", "outcome", "client_id", "actor"];
    let rest: Vec<String> = e
        .as_object()
        .map(|o| {
            o.iter()
                .filter(|(k, _)| !shown.contains(&k.as_str()))
                .map(|(k, v)| format!("{k}={}", cell(Some(v))))
                .collect()
        })
        .unwrap_or_default();
    vec![
        time,
        cell(e.get("event")),
        cell(e.get("outcome")),
        cell(e.get("client_id")),
        cell(e.get("actor")),
        rest.join(" "),
    ]
}

/// Most pages fetched (200 events each).
const MAX_PAGES: usize = 1000;

pub fn run(a: LogsArgs) -> Result<()> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let mut filters = json!({});
    if let Some(c) = &a.client_id {
        filters["client_id"] = json!(c);
    }
    let events: Vec<&str> = a
        .events
        .iter()
        .flat_map(|e| e.split(','))
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .collect();
    if !events.is_empty() {
        filters["event"] = json!(events);
    }
    if let Some(o) = &a.outcome {
        filters["outcome"] = json!(o);
    }
    if let Some(s) = &a.since {
        filters["since"] = since_value(s, now)?;
    }
    if a.limit == 0 {
        return Err(Error::config("--limit must be at least 1"));
    }
    let client = management_client(&a.conn)?;
    let mut items: Vec<Value> = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let mut args = filters.clone();
        args["limit"] = json!((a.limit - items.len()).min(200));
        if let Some(c) = &cursor {
            args["cursor"] = json!(c);
        }
        let v = call(&client, "logs.list", args)?;
        items.extend(v["items"].as_array().cloned().unwrap_or_default());
        cursor = v["next_cursor"].as_str().map(str::to_string);
        if cursor.is_none() || items.len() >= a.limit {
            break;
        }
    }
    items.truncate(a.limit);
    if a.json {
        if items.is_empty() {
            return Ok(());
        }
        let lines: Vec<String> = items.iter().map(Value::to_string).collect();
        return print_stdout(&lines.join("\n"));
    }
    let rows: Vec<Vec<String>> = items.iter().map(row).collect();
    print_stdout(&table(
        &["TIME", "EVENT", "OUTCOME", "CLIENT", "ACTOR", "DETAILS"],
        &rows,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use authsec_native::ErrorCode;

    #[test]
    fn since_forms() {
        let now = 1_700_000_000;
        assert_eq!(since_value("1699990000", now).unwrap(), json!(1_699_990_000));
        assert_eq!(since_value("1699990000.5", now).unwrap(), json!(1_699_990_000.5));
        assert_eq!(since_value("1h", now).unwrap(), json!(now - 3600));
        assert_eq!(since_value("7d", now).unwrap(), json!(now - 7 * 86_400));
        assert_eq!(since_value("90s", now).unwrap(), json!(now - 90));
        assert_eq!(
            since_value("2025-01-31T12:00:00Z", now).unwrap(),
            json!("2025-01-31T12:00:00Z")
        );
        for bad in ["", "yesterday", "1w", "h"] {
            assert_eq!(
                since_value(bad, now).unwrap_err().code(),
                ErrorCode::ConfigError,
                "{bad}"
            );
        }
    }

    #[test]
    fn times_and_rows() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        let r = row(
            &json!({"id": 3, "ts": 1700000000.25, "event": "token", "outcome": "success",
                            "client_id": "billing", "auth_method": "client_secret_basic", "secret_id": "sid_x"}),
        );
        assert_eq!(
            r,
            [
                "2023-11-14T22:13:20Z",
                "token",
                "success",
                "billing",
                "-",
                "auth_method=client_secret_basic secret_id=sid_x"
            ]
        );
    }
}
