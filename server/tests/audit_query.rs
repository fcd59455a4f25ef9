//! `GET /admin/logs`: audit events stored in the database and read back filtered by client,
//! event, outcome and time (Unix seconds and RFC 3339), newest first, page by page without gaps
//! or repeats (also while new events arrive), and purged after `audit_retention`.
mod common;

use authsec_server::ServerConfig;
use common::*;
use serde_json::Value;
use std::collections::HashSet;

fn cfg() -> ServerConfig {
    config(vec![
        secret_client("auditor", "auditor-secret-123", &["logs:read"]),
        secret_client("svc", "svc-secret-123", &["read"]),
        secret_client("other", "other-secret-123", &["read"]),
    ])
}

async fn logs_token(ts: &TestServer) -> String {
    let resource = format!("{}/admin", ts.issuer());
    ts.token("auditor", "auditor-secret-123", &[("resource", &resource)])
        .await
}

/// One page of `GET /admin/logs?{query}`.
async fn logs(ts: &TestServer, token: &str, query: &str) -> (Vec<Value>, Option<String>) {
    let r = ts
        .admin("GET", &format!("/admin/logs?{query}"), Some(token), None)
        .await;
    assert_eq!(r.status, 200, "{query}: {r:?}");
    assert!(r.json.get("next_cursor").is_some(), "{r:?}");
    (
        r.json["logs"].as_array().unwrap().clone(),
        r.json["next_cursor"].as_str().map(str::to_string),
    )
}

fn ids(events: &[Value]) -> Vec<i64> {
    events.iter().map(|e| e["id"].as_i64().expect("an id")).collect()
}

async fn fail_svc(ts: &TestServer) {
    ts.token_request(Some(("svc", "wrong")), &[("grant_type", "client_credentials")])
        .await
        .assert_oauth_error(401, "invalid_client");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_read_back_filtered_by_client_event_outcome_and_time() {
    let ts = TestServer::start_with_clock(cfg(), manual_clock()).await;
    let token = logs_token(&ts).await;
    let t0 = ts.now_s();
    ts.token("svc", "svc-secret-123", &[]).await;
    fail_svc(&ts).await;
    ts.token_request(
        Some(("svc", "svc-secret-123")),
        &[("grant_type", "client_credentials"), ("scope", "nope")],
    )
    .await
    .assert_oauth_error(400, "invalid_scope");
    fail_svc(&ts).await;
    ts.advance(100);
    let t1 = ts.now_s();
    fail_svc(&ts).await;
    let t_other = ts.token("other", "other-secret-123", &[]).await;
    ts.introspect("svc", "svc-secret-123", &t_other).await;

    let (all, _) = logs(&ts, &token, "client_id=svc&outcome=failure").await;
    assert_eq!(all.len(), 4, "{all:?}");
    let got = ids(&all);
    assert!(got.windows(2).all(|w| w[0] > w[1]), "newest first: {got:?}");
    for e in &all {
        assert_eq!(
            (e["event"].as_str(), e["outcome"].as_str(), e["client_id"].as_str()),
            (Some("token"), Some("failure"), Some("svc"))
        );
        assert!(
            e["ts"].is_f64() && e["error"].is_string() && e["reason"].is_string(),
            "{e}"
        );
    }
    assert_eq!(all[2]["error"], "invalid_scope");

    let (ok, _) = logs(&ts, &token, "client_id=svc&event=token&outcome=success").await;
    assert_eq!(ok.len(), 1);
    assert_eq!(
        (ok[0]["result"].as_str(), ok[0]["auth_method"].as_str()),
        (Some("issued"), Some("client_secret_basic"))
    );
    assert!(ok[0]["secret_id"].as_str().is_some_and(|s| s.starts_with("sid_")));

    // Events repeated or comma-separated.
    let (both, _) = logs(&ts, &token, "client_id=svc&event=token,introspect").await;
    assert_eq!(both.len(), 6);
    let (both2, _) = logs(&ts, &token, "client_id=svc&event=token&event=introspect").await;
    assert_eq!(ids(&both), ids(&both2));

    // Time: since/until in Unix seconds (with fractions) or RFC 3339.
    let (late, _) = logs(&ts, &token, &format!("client_id=svc&outcome=failure&since={t1}")).await;
    assert_eq!(late.len(), 1);
    let rfc = time::OffsetDateTime::from_unix_timestamp(t1)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let (late2, _) = logs(
        &ts,
        &token,
        &format!("client_id=svc&outcome=failure&since={}", form_encode(&rfc)),
    )
    .await;
    assert_eq!(ids(&late), ids(&late2));
    let (early, _) = logs(
        &ts,
        &token,
        &format!("client_id=svc&outcome=failure&since={t0}&until={}.5", t1 - 1),
    )
    .await;
    assert_eq!(early.len(), 3);
    let (none, next) = logs(&ts, &token, &format!("client_id=svc&until={}", t0 - 1)).await;
    assert!(none.is_empty() && next.is_none());

    for bad in [
        "limit=0",
        "limit=201",
        "limit=x",
        "outcome=maybe",
        "since=soon",
        "cursor=abc",
        "colour=red",
    ] {
        ts.admin("GET", &format!("/admin/logs?{bad}"), Some(&token), None)
            .await
            .assert_oauth_error(400, "invalid_request");
    }
    // The events are there, but no secret or whole token.
    assert_audit_clean(&ts, &["svc-secret-123", "other-secret-123", &t_other, &token]);
    let (every, _) = logs(&ts, &token, "limit=200").await;
    let text = serde_json::to_string(&every).unwrap();
    assert!(!text.contains("svc-secret-123") && !text.contains(&t_other));
    ts.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_have_no_gaps_or_repeats_even_as_events_arrive() {
    let ts = TestServer::start(cfg()).await;
    let token = logs_token(&ts).await;
    for _ in 0..23 {
        fail_svc(&ts).await;
    }
    let (expected, more) = logs(&ts, &token, "client_id=svc&limit=200").await;
    assert!(more.is_none());
    assert_eq!(expected.len(), 23);
    let mut seen: Vec<i64> = Vec::new();
    let mut cursor: Option<String> = None;
    for page in 0..10 {
        let q = match &cursor {
            None => "client_id=svc&limit=5".to_string(),
            Some(c) => format!("client_id=svc&limit=5&cursor={}", form_encode(c)),
        };
        let (events, next) = logs(&ts, &token, &q).await;
        assert!(events.len() <= 5);
        seen.extend(ids(&events));
        // New events arrive between pages; they are newer than the cursor and never show up.
        fail_svc(&ts).await;
        match next {
            Some(n) => cursor = Some(n),
            None => {
                assert_eq!(page, 4, "23 events in pages of 5");
                break;
            }
        }
    }
    assert_eq!(seen, ids(&expected), "every event once, in order");
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 23);
    ts.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_past_the_retention_are_purged() {
    let cfg = ServerConfig {
        audit_retention: 3600,
        ..cfg()
    };
    let ts = TestServer::start_with_clock(cfg, manual_clock()).await;
    for _ in 0..3 {
        fail_svc(&ts).await;
    }
    ts.advance(1800);
    fail_svc(&ts).await;
    ts.advance(1801);
    // The first three are now past the retention; the fourth is not.
    ts.server.state().purge().unwrap();
    let token = logs_token(&ts).await;
    let (left, _) = logs(&ts, &token, "client_id=svc").await;
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(left[0]["ts"].as_f64().unwrap() >= (ts.now_s() - 1801) as f64);
    // The sink still has every line: retention is about the database.
    assert_eq!(
        ts.audit_events("token")
            .iter()
            .filter(|l| l["client_id"] == "svc")
            .count(),
        4
    );
    ts.shutdown().await;
}
