//! Audit log: one JSON line per event. Never a secret or a whole token: tokens are named by
//! their `jti`.

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

    pub fn log(&self, now_ms: i64, event: &str, fields: Value) {
        let Some(sink) = &self.sink else { return };
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
        let mut line = Value::Object(m).to_string();
        line.push('\n');
        let mut w = sink.lock();
        let _ = w.write_all(line.as_bytes());
        let _ = w.flush();
    }
}
