//! `GET /admin/logs`: the audit events stored in the database, newest first, filtered by
//! `client_id`, `event` (repeated or comma-separated), `outcome` and time (`since`/`until`: Unix
//! seconds, fractions allowed, or RFC 3339), a page at a time (the cursor is the last id shown,
//! so pages stay put while new events arrive).

use crate::oauth::OAuthError;
use crate::store::Store;
use rusqlite::types::Value as SqlValue;
use serde_json::{Map, Value};

/// A parsed query.
#[derive(Debug, Default, PartialEq)]
pub struct LogQuery {
    pub client_id: Option<String>,
    pub events: Vec<String>,
    pub outcome: Option<String>,
    pub since: Option<f64>,
    pub until: Option<f64>,
    pub limit: usize,
    /// Only events with a smaller id.
    pub before_id: Option<i64>,
}

/// A time as Unix seconds (`1700000000`, `1700000000.25`) or RFC 3339.
pub fn parse_time(s: &str) -> Option<f64> {
    if let Ok(n) = s.parse::<f64>() {
        return n.is_finite().then_some(n);
    }
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()?;
    Some(t.unix_timestamp_nanos() as f64 / 1e9)
}

/// `limit` (default 50, 1 to 200) as the list endpoints take it.
pub fn parse_limit(v: Option<&str>) -> Result<usize, OAuthError> {
    match v {
        None => Ok(50),
        Some(s) => match s.parse::<usize>() {
            Ok(n @ 1..=200) => Ok(n),
            _ => Err(OAuthError::invalid_request("limit must be an integer from 1 to 200")),
        },
    }
}

impl LogQuery {
    /// Parse the query string of `GET /admin/logs`.
    pub fn parse(raw: Option<&str>) -> Result<LogQuery, OAuthError> {
        let mut q = LogQuery::default();
        let mut limit = None;
        let mut seen = std::collections::HashSet::new();
        for (k, v) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
            if k != "event" && !seen.insert(k.to_string()) {
                return Err(OAuthError::invalid_request(format!("{k} appears more than once")));
            }
            let time = |what: &str| {
                parse_time(&v).ok_or_else(|| {
                    OAuthError::invalid_request(format!("{what} must be Unix seconds or an RFC 3339 time"))
                })
            };
            match k.as_ref() {
                "client_id" => q.client_id = Some(v.to_string()),
                "event" => q.events.extend(
                    v.split(',')
                        .map(str::trim)
                        .filter(|e| !e.is_empty())
                        .map(str::to_string),
                ),
                "outcome" if v == "success" || v == "failure" => q.outcome = Some(v.to_string()),
                "outcome" => return Err(OAuthError::invalid_request("outcome must be success or failure")),
                "since" => q.since = Some(time("since")?),
                "until" => q.until = Some(time("until")?),
                "limit" => limit = Some(v.to_string()),
                "cursor" => {
                    q.before_id = Some(
                        v.parse::<i64>()
                            .map_err(|_| OAuthError::invalid_request("cursor is not one this server gave"))?,
                    )
                }
                other => {
                    return Err(OAuthError::invalid_request(format!(
                        "unknown query parameter {:?}; use client_id, event, outcome, since, until, limit, cursor",
                        authsec_core::util::truncate(other)
                    )))
                }
            }
        }
        q.limit = parse_limit(limit.as_deref())?;
        Ok(q)
    }

    /// Run the query: a page of events (each with its `id`) and the cursor of the next page.
    pub fn run(&self, store: &Store) -> authsec_core::Result<(Vec<Value>, Option<String>)> {
        let mut sql = String::from("SELECT id, data FROM audit_log WHERE 1=1");
        let mut args: Vec<SqlValue> = Vec::new();
        let mut arg = |sql: &mut String, clause: &str, v: SqlValue| {
            args.push(v);
            sql.push_str(&clause.replace('?', &format!("?{}", args.len())));
        };
        if let Some(c) = &self.client_id {
            arg(&mut sql, " AND client_id = ?", SqlValue::Text(c.clone()));
        }
        if let Some(o) = &self.outcome {
            arg(&mut sql, " AND outcome = ?", SqlValue::Text(o.clone()));
        }
        if let Some(s) = self.since {
            arg(&mut sql, " AND ts >= ?", SqlValue::Real(s));
        }
        if let Some(u) = self.until {
            arg(&mut sql, " AND ts <= ?", SqlValue::Real(u));
        }
        if let Some(b) = self.before_id {
            arg(&mut sql, " AND id < ?", SqlValue::Integer(b));
        }
        if !self.events.is_empty() {
            sql.push_str(" AND event IN (");
            for (i, e) in self.events.iter().enumerate() {
                if i > 0 {
                    sql.push(',');
                }
                arg(&mut sql, "?", SqlValue::Text(e.clone()));
            }
            sql.push(')');
        }
        // One more than a page tells whether there is a next one.
        arg(
            &mut sql,
            " ORDER BY id DESC LIMIT ?",
            SqlValue::Integer(self.limit as i64 + 1),
        );
        let db = |e: rusqlite::Error| authsec_core::Error::internal(format!("database error: {e}"));
        let mut rows: Vec<(i64, String)> = store.with_conn(|conn| {
            let mut stmt = conn.prepare(&sql).map_err(db)?;
            let rows = stmt
                .query_map(rusqlite::params_from_iter(args.iter()), |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(db)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db)
        })?;
        let more = rows.len() > self.limit;
        rows.truncate(self.limit);
        let next = if more {
            rows.last().map(|(id, _)| id.to_string())
        } else {
            None
        };
        let events = rows
            .into_iter()
            .map(|(id, data)| {
                let mut m: Map<String, Value> = serde_json::from_str(&data).unwrap_or_default();
                m.insert("id".into(), Value::from(id));
                Value::Object(m)
            })
            .collect();
        Ok((events, next))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_queries() {
        assert_eq!(parse_time("1700000000"), Some(1_700_000_000.0));
        assert_eq!(parse_time("1700000000.5"), Some(1_700_000_000.5));
        assert_eq!(parse_time("2023-11-14T22:13:20Z"), Some(1_700_000_000.0));
        assert_eq!(parse_time("2023-11-14T23:13:20+01:00"), Some(1_700_000_000.0));
        assert_eq!(parse_time("yesterday"), None);
        let q = LogQuery::parse(Some(
            "event=token,token_exchange&event=revoke&outcome=failure&limit=2&cursor=9",
        ))
        .unwrap();
        assert_eq!(q.events, ["token", "token_exchange", "revoke"]);
        assert_eq!(
            (q.outcome.as_deref(), q.limit, q.before_id),
            (Some("failure"), 2, Some(9))
        );
        for bad in [
            "limit=0",
            "limit=201",
            "outcome=maybe",
            "since=soon",
            "cursor=x",
            "nope=1",
            "limit=1&limit=2",
        ] {
            assert!(LogQuery::parse(Some(bad)).is_err(), "{bad}");
        }
    }
}
