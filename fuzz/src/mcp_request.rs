//! The `mcp_request` target's properties: an MCP server's decision on a request body
//! (`McpServerAuth::decide`, over `operations` and the per-operation scopes), list filtering, and
//! the challenges it answers with, read back by the client side's challenge parser.

#[allow(unused_imports)]
use super::*;
use authsec_core::client::unauthorized::parse_challenges;
use authsec_core::mcp::operation::operations;
use authsec_core::mcp::server::McpServerAuth;

/// The scopes byte 0 of an `mcp_request` input grants (bit `i` grants `SCOPES[i]`).
pub const MCP_SCOPES: [&str; 8] = [
    "mcp",
    "tools",
    "files:read",
    "files:write",
    "files:admin",
    "private",
    "review",
    "other",
];

/// The server every input is decided by: a base scope and a map with exact keys, patterns and a
/// whole method, as the documentation's example.
pub fn mcp_server() -> &'static McpServerAuth {
    static S: OnceLock<McpServerAuth> = OnceLock::new();
    S.get_or_init(|| {
        McpServerAuth::from_value(&serde_json::json!({
            "resource": "https://mcp.example.com/mcp",
            "authorization_servers": ["https://as.example.com"],
            "required_scopes": "mcp",
            "operation_scopes": {
                "tools/call": "tools",
                "tools/call:delete_file": ["files:write", "files:admin"],
                "tools/call:read_*": "files:read",
                "resources/read:file:///private/*": "private",
                "prompts/get:review": "review",
            },
        }))
        .expect("the fuzz server's options")
    })
}

/// `mcp_request`: byte 0 selects the granted scopes, the rest is the HTTP body.
pub fn check_mcp_request(data: &[u8]) {
    let Some((&sel, body)) = data.split_first() else {
        return;
    };
    let granted: Vec<&str> = MCP_SCOPES
        .iter()
        .enumerate()
        .filter(|(i, _)| sel & (1 << i) != 0)
        .map(|(_, s)| *s)
        .collect();
    check_decision(body, &granted);
    if let Ok(mut v) = serde_json::from_slice::<Value>(body) {
        check_filter(&mut v, &granted);
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The decision agrees with the operations and scopes, and its challenge reads back.
pub fn check_decision(body: &[u8], granted: &[&str]) {
    let server = mcp_server();
    let scopes = server.operation_scopes();
    let ops = operations(body);
    let decided = server.decide(Ok(granted), Some(body));
    let prm = server.metadata().metadata_url();
    match (&ops, &decided) {
        (Err(e), Err(r)) => {
            assert_eq!(e.code(), ErrorCode::InvalidRequest, "{e:?}");
            assert_eq!(r.status, 400, "an unreadable body is a 400: {r:?}");
        }
        (Err(e), Ok(_)) => panic!("an unreadable body was allowed: {e:?}"),
        (Ok(ops), Ok(allowed)) => {
            assert_eq!(&allowed.operations, ops);
            for s in scopes.required_all(ops) {
                assert!(granted.contains(&s.as_str()), "allowed without {s}: {ops:?}");
            }
        }
        (Ok(ops), Err(r)) => {
            assert_eq!(r.status, 403, "a readable body is refused only for scopes: {r:?}");
            let needed = scopes.required_all(ops);
            assert!(
                needed.iter().any(|s| !granted.contains(&s.as_str())),
                "refused with every scope: {ops:?}"
            );
            let h = header(&r.headers, "www-authenticate").expect("a 403 has a challenge");
            let challenges = parse_challenges(h);
            assert_eq!(challenges.len(), 1, "one challenge: {h}");
            let c = &challenges[0];
            assert!(c.scheme.eq_ignore_ascii_case("bearer"), "{h}");
            assert_eq!(c.param("error"), Some("insufficient_scope"), "{h}");
            assert_eq!(c.param("resource_metadata"), Some(prm.as_str()), "{h}");
            // The scope parameter names every scope the request needs (those made of characters
            // RFC 6750 allows in it, which the map's and the method names' are).
            let challenged: Vec<&str> = c
                .param("scope")
                .unwrap_or("")
                .split(' ')
                .filter(|s| !s.is_empty())
                .collect();
            assert_eq!(challenged, needed.iter().map(String::as_str).collect::<Vec<_>>(), "{h}");
            let body: Value = serde_json::from_str(&r.body).expect("a JSON body");
            assert_eq!(body["error"], "insufficient_scope");
        }
    }
    // The same input decides the same way (nothing is remembered between requests).
    assert_eq!(server.decide(Ok(granted), Some(body)), decided);
}

/// `tools/list`, `prompts/list` and `resources/list` results keep exactly the items allowed.
pub fn check_filter(v: &mut Value, granted: &[&str]) {
    let server = mcp_server();
    for (method, field, id, call) in [
        ("tools/list", "tools", "name", "tools/call"),
        ("prompts/list", "prompts", "name", "prompts/get"),
        ("resources/list", "resources", "uri", "resources/read"),
    ] {
        let before = v.clone();
        let removed = server.filter_list(method, v, granted);
        let (Some(old), Some(new)) = (
            before.get(field).and_then(Value::as_array),
            v.get(field).and_then(Value::as_array),
        ) else {
            assert_eq!(removed, 0);
            assert_eq!(&before, v, "{method} changed a result without {field}");
            continue;
        };
        let allowed = |item: &Value| match item.get(id).and_then(Value::as_str) {
            Some(t) => server.allows(&authsec_core::mcp::operation::Operation::new(call, Some(t)), granted),
            None => true,
        };
        let kept: Vec<&Value> = old.iter().filter(|i| allowed(i)).collect();
        assert_eq!(new.iter().collect::<Vec<_>>(), kept, "{method}");
        assert_eq!(removed, old.len() - new.len());
        // Only the list changes.
        let mut rest = before.clone();
        rest[field] = Value::Null;
        let mut now = v.clone();
        now[field] = Value::Null;
        assert_eq!(rest, now);
    }
}
