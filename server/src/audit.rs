//! Audit log: one JSON line per event, written to the configured sink (and, by the server,
//! stored in its database for `GET /admin/logs`: see [`crate::audit_query`]). Never a secret or
//! a whole token: tokens are named by their `jti`, secrets by their id.
//!
//! Every event has `ts` (Unix seconds, fractional), `event` and `outcome` (`success` or
//! `failure`; a more specific word given as the outcome, such as `issued` or `revoked`, moves to
//! `result`).

use parking_lot::Mutex;
use serde_json::{Map, Value};
use std::io::Write;

pub struct Audit {
    sink: Option<Mutex<Box<dyn Write + Send>>>,
}

impl Audit {
    /// `stderr` (default), `stdout`, `off`, or a file path (appended).
    pub fn open(target: Option<&str>) -> authsec_core::Result<Audit> {
        let sink: Option<Box<dyn Write + Send>> = match target.unwrap_or("stderr") {
            "off" | "none" => None,
            "stderr" => Some(Box::new(std::io::stderr())),
            "stdout" => Some(Box::new(std::io::stdout())),
            path => Some(Box::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|e| authsec_core::Error::config(format!("cannot open audit log {path:?}: {e}")))?,
            )),
        };
        Ok(Audit {
            sink: sink.map(Mutex::new),
        })
    }

    /// A sink that collects lines in memory (tests).
    pub fn memory() -> (Audit, std::sync::Arc<Mutex<Vec<u8>>>) {
        #[derive(Clone)]
        struct Shared(std::sync::Arc<Mutex<Vec<u8>>>);
        impl Write for Shared {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buf = std::sync::Arc::new(Mutex::new(Vec::new()));
        (
            Audit {
                sink: Some(Mutex::new(Box::new(Shared(buf.clone())))),
            },
            buf,
        )
    }

    /// An event as logged and stored: `ts`, `event`, the fields (nulls dropped) and `outcome`.
    pub fn event(now_ms: i64, event: &str, fields: Value) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("ts".into(), Value::from(now_ms as f64 / 1000.0));
        m.insert("event".into(), Value::from(event));
        if let Value::Object(f) = fields {
            for (k, v) in f {
                if !v.is_null() {
                    m.insert(k, v);
                }
            }
        }
        match m.get("outcome").and_then(Value::as_str) {
            Some("success" | "failure") => {}
            Some(other) => {
                let other = other.to_string();
                m.insert("result".into(), Value::from(other));
                m.insert("outcome".into(), Value::from("success"));
            }
            None => {
                m.insert("outcome".into(), Value::from("success"));
            }
        }
        m
    }

    pub fn log(&self, now_ms: i64, event: &str, fields: Value) {
        self.write(&Self::event(now_ms, event, fields));
    }

    /// Write an event built by [`Audit::event`] to the sink.
    pub fn write(&self, event: &Map<String, Value>) {
        let Some(sink) = &self.sink else { return };
        let mut line = serde_json::to_string(event).unwrap_or_default();
        line.push('\n');
        let mut w = sink.lock();
        let _ = w.write_all(line.as_bytes());
        let _ = w.flush();
    }
}
