//! Load generator for the token endpoint: `N` client-credentials requests over keep-alive
//! connections with `C` in flight, every one sent to the server (no client-side token cache),
//! then tokens/s and latency percentiles. Exits non-zero unless every answer was a 200 with an
//! `access_token`.
//!
//! ```text
//! cargo run --release -p authsec-server --example loadgen -- \
//!     --issuer http://127.0.0.1:8080 --client-id bench-agent --client-secret-env BENCH_SECRET \
//!     --requests 20000 --concurrency 8
//! ```
//!
//! The last stdout line is machine-readable:
//! `RESULT concurrency=8 requests=20000 ok=20000 errors=0 seconds=... tokens_per_s=... p50_ms=... p90_ms=... p99_ms=... max_ms=...`

use authsec_native::http::{HttpRequest, Method, Transport};
use authsec_native::{HttpTransport, TransportOptions};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Args {
    issuer: String,
    client_id: String,
    secret_env: String,
    requests: usize,
    concurrency: usize,
    scope: Option<String>,
    warmup: Option<usize>,
}

const USAGE: &str = "usage: loadgen --issuer URL --client-id ID --client-secret-env VAR [--requests N] [--concurrency C] [--scope S] [--warmup W]";

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        issuer: String::new(),
        client_id: String::new(),
        secret_env: String::new(),
        requests: 10_000,
        concurrency: 8,
        scope: None,
        warmup: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "-h" || flag == "--help" {
            println!("{USAGE}");
            std::process::exit(0);
        }
        let val = it.next().ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        let num = |v: &str| {
            v.parse::<usize>()
                .map_err(|_| format!("{flag} must be a number, not {v:?}"))
        };
        match flag.as_str() {
            "--issuer" => a.issuer = val.trim_end_matches('/').to_string(),
            "--client-id" => a.client_id = val,
            "--client-secret-env" => a.secret_env = val,
            "--requests" => a.requests = num(&val)?,
            "--concurrency" => a.concurrency = num(&val)?.max(1),
            "--scope" => a.scope = Some(val),
            "--warmup" => a.warmup = Some(num(&val)?),
            _ => return Err(format!("unknown flag {flag}\n{USAGE}")),
        }
    }
    if a.issuer.is_empty() || a.client_id.is_empty() || a.secret_env.is_empty() {
        return Err(USAGE.to_string());
    }
    Ok(a)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    // Nearest rank.
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// One request; `Ok(latency)` for a 200 with an access token, else a short reason.
async fn one(transport: &HttpTransport, req: &HttpRequest) -> Result<Duration, String> {
    let start = Instant::now();
    let resp = transport
        .send(req.clone())
        .await
        .map_err(|e| format!("{}: {}", e.code(), e.message()))?;
    let took = start.elapsed();
    if resp.status != 200 {
        return Err(format!(
            "HTTP {} {}",
            resp.status,
            String::from_utf8_lossy(&resp.body[..resp.body.len().min(200)])
        ));
    }
    if !resp.body.windows(15).any(|w| w == b"\"access_token\":") {
        return Err("a 200 without an access_token".into());
    }
    Ok(took)
}

/// Send `n` requests with `c` workers; returns the latencies and the errors.
async fn run(
    transport: Arc<HttpTransport>,
    req: Arc<HttpRequest>,
    n: usize,
    c: usize,
) -> (Vec<Duration>, Vec<String>, Duration) {
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..c.min(n.max(1)) {
        let (transport, req, next) = (transport.clone(), req.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(n / c + 1);
            let mut errs = Vec::new();
            while next.fetch_add(1, Ordering::Relaxed) < n {
                match one(&transport, &req).await {
                    Ok(d) => lat.push(d),
                    Err(e) => errs.push(e),
                }
            }
            (lat, errs)
        }));
    }
    let mut lat = Vec::with_capacity(n);
    let mut errs = Vec::new();
    for w in workers {
        let (l, e) = w.await.expect("worker");
        lat.extend(l);
        errs.extend(e);
    }
    (lat, errs, start.elapsed())
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let Some(secret) = std::env::var(&args.secret_env).ok().filter(|s| !s.is_empty()) else {
        eprintln!(
            "the environment variable {} (--client-secret-env) is not set",
            args.secret_env
        );
        std::process::exit(2);
    };
    let rt = authsec_native::runtime();
    let code = rt.block_on(async move {
        // Discover the token endpoint (RFC 8414), as a client would.
        let token_url = match authsec_native::discover(&args.issuer, false).await {
            Ok(m) => m.token_endpoint.unwrap_or_else(|| format!("{}/oauth/token", args.issuer)),
            Err(e) => {
                eprintln!("cannot discover {}: {e}", args.issuer);
                return 3;
            }
        };
        let mut body = String::from("grant_type=client_credentials");
        if let Some(s) = &args.scope {
            body.push_str("&scope=");
            body.push_str(&authsec_core::util::form_encode(s));
        }
        let req = Arc::new(HttpRequest {
            method: Method::Post,
            url: token_url.clone(),
            headers: vec![
                ("content-type".into(), "application/x-www-form-urlencoded".into()),
                ("accept".into(), "application/json".into()),
                ("authorization".into(), authsec_core::client::client_auth::basic_auth_header(&args.client_id, &secret)),
            ],
            body: body.into_bytes(),
        });
        let transport = Arc::new(HttpTransport::new(&TransportOptions::default()).expect("HTTP client"));
        // Warm up: open the keep-alive connections, fault in the server's code paths.
        let warmup = args.warmup.unwrap_or((args.concurrency * 20).max(100));
        let (_, errs, _) = run(transport.clone(), req.clone(), warmup, args.concurrency).await;
        if let Some(e) = errs.first() {
            eprintln!("warm-up failed ({} errors), first: {e}", errs.len());
            return 1;
        }
        let (mut lat, errs, wall) = run(transport, req, args.requests, args.concurrency).await;
        lat.sort_unstable();
        let ok = lat.len();
        let rate = ok as f64 / wall.as_secs_f64();
        let (p50, p90, p99, max) = (percentile(&lat, 50.0), percentile(&lat, 90.0), percentile(&lat, 99.0), lat.last().copied().unwrap_or_default());
        println!("token endpoint: {token_url}");
        println!("requests: {}  concurrency: {}  ok: {ok}  errors: {}", args.requests, args.concurrency, errs.len());
        println!("wall time: {:.3} s  tokens/s: {rate:.0}", wall.as_secs_f64());
        println!("latency ms: p50 {:.3}  p90 {:.3}  p99 {:.3}  max {:.3}", ms(p50), ms(p90), ms(p99), ms(max));
        if let Some(e) = errs.first() {
            eprintln!("first error: {e}");
        }
        println!(
            "RESULT concurrency={} requests={} ok={ok} errors={} seconds={:.3} tokens_per_s={rate:.0} p50_ms={:.3} p90_ms={:.3} p99_ms={:.3} max_ms={:.3}",
            args.concurrency,
            args.requests,
            errs.len(),
            wall.as_secs_f64(),
            ms(p50),
            ms(p90),
            ms(p99),
            ms(max)
        );
        if errs.is_empty() && ok == args.requests {
            0
        } else {
            1
        }
    });
    std::process::exit(code);
}
