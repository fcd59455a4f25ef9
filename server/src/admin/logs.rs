//! `GET /admin/logs`: the audit log, queried (see [`crate::audit_query`]).

use super::Answer;
use crate::app::AppState;
use crate::audit_query::LogQuery;
use crate::oauth::json_no_store;
use axum::extract::{RawQuery, State};
use serde_json::json;
use std::sync::Arc;

pub async fn list(State(st): State<Arc<AppState>>, RawQuery(raw): RawQuery) -> Answer {
    let q = LogQuery::parse(raw.as_deref())?;
    let (logs, next) = q.run(&st.store)?;
    Ok(json_no_store(200, json!({"logs": logs, "next_cursor": next})))
}
