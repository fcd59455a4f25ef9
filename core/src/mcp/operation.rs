//! What an MCP request asks to do, as far as authorization cares: its JSON-RPC method and the
//! tool, prompt or resource it names. Read from the HTTP body before the SDK sees it, so a refused
//! call never reaches a handler.

use crate::util::quoted;
use crate::{Error, ErrorCode, Result};
use serde::Deserialize;
use serde_json::Value;

/// The largest request body [`operations`] reads (4 MiB). A bigger one is refused as
/// `invalid_request` before it is parsed.
pub const MAX_BODY_BYTES: usize = 4 << 20;

/// One JSON-RPC request of an MCP message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operation {
    /// The JSON-RPC method: `tools/call`, `resources/read`, `prompts/get`, `tools/list`, ...
    pub method: String,
    /// What the method acts on: the tool or prompt `name`, or the resource `uri`; `None` for
    /// methods that name nothing.
    pub target: Option<String>,
}

impl Operation {
    pub fn new(method: impl Into<String>, target: Option<&str>) -> Operation {
        Operation {
            method: method.into(),
            target: target.map(str::to_string),
        }
    }

    /// The operation's key in a scope map: `tools/call:search`, `resources/read:file:///a`, or the
    /// method alone.
    pub fn key(&self) -> String {
        match &self.target {
            Some(t) => format!("{}:{t}", self.method),
            None => self.method.clone(),
        }
    }
}

impl std::fmt::Display for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.target {
            Some(t) => write!(f, "{} {}", self.method, quoted(t)),
            None => f.write_str(&self.method),
        }
    }
}

/// The parameter that names a method's target.
fn target_param(method: &str) -> Option<&'static str> {
    match method {
        "tools/call" | "prompts/get" => Some("name"),
        "resources/read" | "resources/subscribe" | "resources/unsubscribe" => Some("uri"),
        _ => None,
    }
}

/// The members authorization reads; the rest (a tool's arguments) is skipped unparsed.
#[derive(Deserialize)]
struct Message {
    method: Option<Value>,
    params: Option<Params>,
}

#[derive(Deserialize)]
struct Params {
    name: Option<Value>,
    uri: Option<Value>,
}

fn bad(why: impl std::fmt::Display) -> Error {
    Error::new(ErrorCode::InvalidRequest, format!("the MCP request body {why}"))
}

fn operation(m: Message) -> Result<Option<Operation>> {
    // Responses and results from the client carry no method: nothing to authorize.
    let Some(method) = m.method else {
        return Ok(None);
    };
    let Value::String(method) = method else {
        return Err(bad("has a method that is not a string"));
    };
    let Some(param) = target_param(&method) else {
        return Ok(Some(Operation { method, target: None }));
    };
    let value = m.params.and_then(|p| if param == "name" { p.name } else { p.uri });
    match value {
        Some(Value::String(target)) => Ok(Some(Operation {
            target: Some(target),
            method,
        })),
        _ => Err(bad(format_args!("has {method} without a string params.{param}"))),
    }
}

/// The operations of an MCP HTTP request body: one JSON-RPC message, or a batch (an array, which
/// revisions before 2025-06-18 allowed). Notifications count (they have a method); responses do
/// not. A body that is not JSON-RPC, or names no target where its method needs one, is
/// `invalid_request` (answered 400), never skipped: what cannot be read cannot be allowed.
pub fn operations(body: &[u8]) -> Result<Vec<Operation>> {
    if body.len() > MAX_BODY_BYTES {
        return Err(bad(format_args!("is larger than {MAX_BODY_BYTES} bytes")));
    }
    let text = std::str::from_utf8(body).map_err(|_| bad("is not UTF-8"))?;
    let first = text.trim_start().chars().next();
    if first == Some('[') {
        let batch: Vec<Message> = serde_json::from_str(text).map_err(|_| bad("is not a JSON-RPC batch"))?;
        let mut out = Vec::new();
        for m in batch {
            out.extend(operation(m)?);
        }
        Ok(out)
    } else {
        let m: Message = serde_json::from_str(text).map_err(|_| bad("is not a JSON-RPC message"))?;
        Ok(operation(m)?.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_method_and_target() {
        let ops = |b: &str| operations(b.as_bytes());
        assert_eq!(
            ops(r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"search","arguments":{"q":"x"}}}"#)
                .unwrap(),
            [Operation::new("tools/call", Some("search"))]
        );
        assert_eq!(
            ops(r#"{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"file:///a.txt"}}"#).unwrap(),
            [Operation::new("resources/read", Some("file:///a.txt"))]
        );
        assert_eq!(
            ops(r#"{"jsonrpc":"2.0","id":1,"method":"prompts/get","params":{"name":"greet"}}"#).unwrap()[0].key(),
            "prompts/get:greet"
        );
        assert_eq!(
            ops(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#).unwrap()[0].key(),
            "tools/list"
        );
        assert_eq!(
            ops(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
                .unwrap()
                .len(),
            1
        );
        assert!(ops(r#"{"jsonrpc":"2.0","id":1,"result":{}}"#).unwrap().is_empty());
        let batch = ops(
            r#"[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a"}},{"jsonrpc":"2.0","id":2,"result":{}},
                {"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"b"}}]"#,
        )
        .unwrap();
        assert_eq!(
            batch.iter().map(Operation::key).collect::<Vec<_>>(),
            ["tools/call:a", "tools/call:b"]
        );
    }

    #[test]
    fn unreadable_bodies_are_invalid_requests() {
        for body in [
            "",
            "null",
            "not json",
            r#"{"method": 5}"#,
            r#"{"method":"tools/call"}"#,
            r#"{"method":"tools/call","params":{"name":7}}"#,
            r#"{"method":"tools/call","params":{}}"#,
            r#"{"method":"resources/read","params":{"name":"x"}}"#,
            r#"[{"method":"tools/call","params":{"name":"a"}}, 3]"#,
        ] {
            let e = operations(body.as_bytes()).unwrap_err();
            assert_eq!(e.code(), ErrorCode::InvalidRequest, "{body}");
        }
        assert!(operations(&vec![b' '; MAX_BODY_BYTES + 1]).is_err());
        assert!(operations(b"\xff").is_err());
    }
}
