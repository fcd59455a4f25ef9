//! What the token-client and JWKS-cache tests share: a fake transport that counts requests and
//! answers from a handler, canned token-endpoint answers, and a client on a manual clock.
#![allow(dead_code, unused_imports)]

pub use authsec_core::client::token_client::schedule;
pub use authsec_core::http::{HttpRequest, HttpResponse, Transport};
pub use authsec_core::runtime::BoxFut;
pub use authsec_core::*;
pub use parking_lot::Mutex;
pub use serde_json::{json, Map, Value};
pub use std::sync::Arc;
pub use std::time::Duration;
pub use tokio::sync::watch;

/// 2023-11-14T22:13:20Z, in ms.
pub const T0: i64 = 1_700_000_000_000;
pub const TOKEN_URL: &str = "https://auth.test/oauth/token";
pub const JWKS_URL: &str = "https://auth.test/jwks.json";
pub const SECRET: &str = "s3cr3t-Value:%+ ü";
pub const ISS: &str = "https://auth.test";
pub const AUD: &str = "https://api.test";

// ---------------------------------------------------------------------------------------------
// The fake transport
// ---------------------------------------------------------------------------------------------

pub type Handler = Box<dyn Fn(&HttpRequest, usize) -> Result<HttpResponse> + Send + Sync>;

/// Logs every request with the (manual) time it was sent, answers through `handler` (which gets
/// the 0-based index of the request), and optionally holds every answer behind a gate.
pub struct Fake {
    clock: ManualClock,
    handler: Mutex<Handler>,
    log: Mutex<Vec<(i64, HttpRequest)>>,
    gate: Mutex<Option<watch::Receiver<bool>>>,
}

impl Fake {
    pub fn new(
        clock: &ManualClock,
        handler: impl Fn(&HttpRequest, usize) -> Result<HttpResponse> + Send + Sync + 'static,
    ) -> Arc<Fake> {
        Arc::new(Fake {
            clock: clock.clone(),
            handler: Mutex::new(Box::new(handler)),
            log: Mutex::new(Vec::new()),
            gate: Mutex::new(None),
        })
    }
    pub fn set_handler(&self, handler: impl Fn(&HttpRequest, usize) -> Result<HttpResponse> + Send + Sync + 'static) {
        *self.handler.lock() = Box::new(handler);
    }
    /// Hold answers until the returned sender sends `true`.
    pub fn close_gate(&self) -> watch::Sender<bool> {
        let (tx, rx) = watch::channel(false);
        *self.gate.lock() = Some(rx);
        tx
    }
    pub fn count(&self) -> usize {
        self.log.lock().len()
    }
    pub fn times(&self) -> Vec<i64> {
        self.log.lock().iter().map(|(t, _)| *t).collect()
    }
    pub fn request(&self, i: usize) -> HttpRequest {
        self.log.lock()[i].1.clone()
    }
}

impl Transport for Fake {
    fn send(&self, request: HttpRequest) -> BoxFut<'static, Result<HttpResponse>> {
        let n = {
            let mut log = self.log.lock();
            log.push((self.clock.now_ms(), request.clone()));
            log.len() - 1
        };
        let answer = (self.handler.lock())(&request, n);
        let gate = self.gate.lock().clone();
        Box::pin(async move {
            if let Some(mut g) = gate {
                let _ = g.wait_for(|open| *open).await;
            }
            answer
        })
    }
}

pub fn token_json(tok: &str, expires_in: i64) -> HttpResponse {
    HttpResponse::json(
        200,
        &json!({"access_token": tok, "token_type": "Bearer", "expires_in": expires_in}),
    )
}

/// Answers `tok-<n>` valid for `expires_in` seconds.
pub fn numbered_tokens(
    expires_in: i64,
) -> impl Fn(&HttpRequest, usize) -> Result<HttpResponse> + Send + Sync + 'static {
    move |_, n| Ok(token_json(&format!("tok-{n}"), expires_in))
}

pub fn status(code: u16) -> HttpResponse {
    HttpResponse::new(code, vec![("content-type".into(), "text/plain".into())], "unavailable")
}

pub fn oauth_error(code: u16, error: &str, desc: &str) -> HttpResponse {
    HttpResponse::json(code, &json!({"error": error, "error_description": desc}))
}

pub fn cfg() -> ClientConfig {
    ClientConfig {
        client_id: "agent-1".into(),
        client_secret: Some(Secret::new(SECRET)),
        token_url: Some(TOKEN_URL.into()),
        scopes: vec!["read:data".into()],
        ..Default::default()
    }
}

pub fn client_with(cfg: ClientConfig, fake: &Arc<Fake>, retry: RetryPolicy) -> TokenClient {
    let clock = Arc::new(fake.clock.clone());
    TokenClient::new(cfg, fake.clone(), clock.clone(), clock)
        .unwrap()
        .with_retry(retry)
        .unwrap()
}

pub fn client(fake: &Arc<Fake>) -> TokenClient {
    client_with(cfg(), fake, RetryPolicy::default())
}

pub fn fast_retry(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(100),
        max_elapsed: Duration::from_secs(60),
    }
}

pub fn tok(t: &Arc<Token>) -> &str {
    t.access_token.expose()
}

pub fn secs(s: i64) -> Duration {
    Duration::from_secs(s as u64)
}
