//! With a spawner, the caller that enters the refresh window is answered at once with the cached
//! token; the one refresh runs in the background and later callers get the new token.
use authsec_core::http::{HttpRequest, HttpResponse, Transport};
use authsec_core::runtime::{BoxFut, Spawner};
use authsec_core::*;
use parking_lot::Mutex;
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

struct Counting(Arc<AtomicUsize>);
impl Transport for Counting {
    fn send(&self, _r: HttpRequest) -> BoxFut<'static, Result<HttpResponse>> {
        let n = self.0.fetch_add(1, Ordering::SeqCst) + 1;
        Box::pin(async move {
            Ok(HttpResponse::json(
                200,
                &json!({"access_token": format!("tok-{n}"), "token_type": "Bearer", "expires_in": 60}),
            ))
        })
    }
}

/// Collects spawned futures so the test decides when they run.
#[derive(Default, Clone)]
struct Deferred(Arc<Mutex<Vec<BoxFut<'static, ()>>>>);
impl Spawner for Deferred {
    fn spawn(&self, fut: BoxFut<'static, ()>) {
        self.0.lock().push(fut);
    }
}

#[test]
fn refresh_window_answers_at_once_and_refreshes_in_background() {
    let clock = ManualClock::new(1_000_000);
    let count = Arc::new(AtomicUsize::new(0));
    let spawner = Deferred::default();
    let cfg = ClientConfig {
        client_id: "a".into(),
        client_secret: Some(Secret::new("s")),
        token_url: Some("https://auth.test/token".into()),
        ..Default::default()
    };
    let client = TokenClient::new(
        cfg,
        Arc::new(Counting(count.clone())),
        Arc::new(clock.clone()),
        Arc::new(clock.clone()),
    )
    .unwrap()
    .with_spawner(Arc::new(spawner.clone()))
    .unwrap();
    let block = futures::executor::block_on;
    assert_eq!(block(client.get_token()).unwrap().access_token.expose(), "tok-1");
    // 60 s token: the refresh window opens at 30 s.
    clock.advance(Duration::from_secs(31));
    let t = block(client.get_token()).unwrap();
    assert_eq!(
        t.access_token.expose(),
        "tok-1",
        "answered with the cached token, not after the refresh"
    );
    assert_eq!(spawner.0.lock().len(), 1, "one background refresh spawned");
    assert_eq!(count.load(Ordering::SeqCst), 1, "and not yet run");
    // More callers meanwhile: still the cached token, no second refresh.
    for _ in 0..50 {
        assert_eq!(block(client.get_token()).unwrap().access_token.expose(), "tok-1");
    }
    assert_eq!(spawner.0.lock().len(), 1);
    let jobs: Vec<_> = spawner.0.lock().drain(..).collect();
    for j in jobs {
        futures::executor::block_on(j);
    }
    assert_eq!(count.load(Ordering::SeqCst), 2);
    assert_eq!(block(client.get_token()).unwrap().access_token.expose(), "tok-2");
}

#[test]
fn a_token_that_arrives_expired_is_an_error() {
    struct Zero;
    impl Transport for Zero {
        fn send(&self, _r: HttpRequest) -> BoxFut<'static, Result<HttpResponse>> {
            Box::pin(async {
                Ok(HttpResponse::json(
                    200,
                    &json!({"access_token": "t", "token_type": "Bearer", "expires_in": 0}),
                ))
            })
        }
    }
    let clock = ManualClock::new(1_000_000);
    let cfg = ClientConfig {
        client_id: "a".into(),
        client_secret: Some(Secret::new("s")),
        token_url: Some("https://auth.test/token".into()),
        ..Default::default()
    };
    let client = TokenClient::new(cfg, Arc::new(Zero), Arc::new(clock.clone()), Arc::new(clock)).unwrap();
    let e = futures::executor::block_on(client.get_token()).unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidResponse);
}
