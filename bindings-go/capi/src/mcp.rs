//! MCP authorization, the core's `mcp` module: `authsec_mcp_server_*` (an MCP server as a protected
//! resource, the decision the Go adapter drives) and `authsec_mcp_client_*` (the agent side).

use crate::challenge::ChallengeArg;
use crate::clock::AuthsecClock;
use crate::error::AuthsecCode;
use crate::ffi::{free, json_arg, obj, put, set_out, str_arg, to_c, wait};
use crate::panic::ffi_boundary;
use crate::CoreResult;
use authsec_native::core::mcp::client::{Attempt, McpClient, Next};
use authsec_native::core::mcp::operation::{Operation, MAX_BODY_BYTES};
use authsec_native::core::mcp::server::{McpServerAuth, Response, Step};
use authsec_native::core::resource::bearer::bearer_token;
use authsec_native::Error as CoreError;
use serde_json::json;
use std::ffi::c_char;

/// An MCP server's authorization (the core's `McpServerAuth`). Opaque.
pub struct AuthsecMcpServer {
    auth: McpServerAuth,
}

/// The agent side of MCP authorization (the core's `McpClient`). Opaque.
pub struct AuthsecMcpClient(McpClient);

fn response_json(r: &Response) -> String {
    json!({"status": r.status, "headers": r.headers, "body": r.body}).to_string()
}

/// The granted scopes, space-separated (NULL for none).
unsafe fn granted<'a>(p: *const c_char) -> CoreResult<Vec<&'a str>> {
    Ok(str_arg(p, "granted")?.unwrap_or_default().split_whitespace().collect())
}

/// Create an MCP server's authorization from its options as JSON (the core's
/// `McpServerAuth::from_value`: `resource`, `authorization_servers`, `metadata`, `verifier`,
/// `required_scopes`, `operation_scopes`, `filter_lists`, `realm`, `allow_insecure_http`). Free
/// with `authsec_mcp_server_free`.
#[no_mangle]
pub unsafe extern "C" fn authsec_mcp_server_new(
    options_json: *const c_char,
    out: *mut *mut AuthsecMcpServer,
    error_json: *mut *mut c_char,
) -> AuthsecCode {
    ffi_boundary! { errors: error_json;
        let v = json_arg("MCP server auth options", str_arg(options_json, "options_json")?)?;
        put(out, AuthsecMcpServer { auth: McpServerAuth::from_value(&v)? })
    }
}

/// Free an MCP server's authorization. NULL is fine.
#[no_mangle]
pub unsafe extern "C" fn authsec_mcp_server_free(server: *mut AuthsecMcpServer) {
    ffi_boundary! {
        free(server)
    }
}

/// `{"resource", "metadata" (the RFC 9728 document), "metadata_url", "well_known_paths",
/// "verifier_options" (for `authsec_verifier_new`), "max_body_bytes" (the core refuses a longer
/// body), "filter_lists"}` as JSON; NULL for NULL. Free with `authsec_string_free`.
#[no_mangle]
pub unsafe extern "C" fn authsec_mcp_server_info(server: *const AuthsecMcpServer) -> *mut c_char {
    ffi_boundary! {
        let Some(s) = server.as_ref() else { return std::ptr::null_mut() };
        let m = s.auth.metadata();
        to_c(json!({
            "resource": m.resource(),
            "metadata": m.document(),
            "metadata_url": m.metadata_url(),
            "well_known_paths": m.well_known_paths(),
            "verifier_options": s.auth.verifier_options(),
            "max_body_bytes": MAX_BODY_BYTES,
            "filter_lists": s.auth.filter_lists(),
        }).to_string())
    }
}

/// The first step (the core's `begin`) for a request's method, path (no query) and `Authorization`
/// (NULL if absent): `*response_json_out` is the answer to send (`{"status", "headers": [[name,
/// value], ...], "body"}`), or `*token_out` the bearer token to verify, then decide on.
#[no_mangle]
pub unsafe extern "C" fn authsec_mcp_server_begin(
    server: *const AuthsecMcpServer,
    method: *const c_char,
    path: *const c_char,
    authorization: *const c_char,
    token_out: *mut *mut c_char,
    response_json_out: *mut *mut c_char,
    error_json: *mut *mut c_char,
) -> AuthsecCode {
    ffi_boundary! { errors: error_json;
        set_out(token_out, None);
        set_out(response_json_out, None);
        let s = obj(server, "server")?;
        let method = str_arg(method, "method")?.unwrap_or_default();
        let path = str_arg(path, "path")?.unwrap_or_default();
        match s.auth.begin(method, path, str_arg(authorization, "authorization")?) {
            Step::Respond(r) => set_out(response_json_out, Some(response_json(&r))),
            Step::Verify(t) => set_out(token_out, Some(t.to_string())),
        }
        Ok(())
    }
}

/// The second step (the core's `decide`): the verifier's answer, either the scopes the token
/// grants (`granted`, space-separated) or, when `refusal_json` is not NULL, why it refused it
/// (`{"code": the error's name, "message", "missing_scopes"}`); and the request body (`body_len`
/// bytes; NULL/0 for a request without one). Refused: `*response_json_out` is the answer, as
/// `authsec_mcp_server_begin` gives it; allowed: it is NULL.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn authsec_mcp_server_decide(
    server: *const AuthsecMcpServer,
    granted_scopes: *const c_char,
    refusal_json: *const c_char,
    body: *const u8,
    body_len: usize,
    response_json_out: *mut *mut c_char,
    error_json: *mut *mut c_char,
) -> AuthsecCode {
    ffi_boundary! { errors: error_json;
        set_out(response_json_out, None);
        let s = obj(server, "server")?;
        let body = (!body.is_null() && body_len > 0).then(|| std::slice::from_raw_parts(body, body_len));
        let decided = match str_arg(refusal_json, "refusal_json")? {
            Some(_) => {
                let a = ChallengeArg::read(refusal_json, "refusal_json")?;
                let e = a.parts().ok_or_else(|| CoreError::config("refusal_json: no code"))?.to_error()?;
                s.auth.decide(Err(&e), body)
            }
            None => s.auth.decide(Ok(&granted(granted_scopes)?), body),
        };
        set_out(response_json_out, decided.err().map(|r| response_json(&r)));
        Ok(())
    }
}

/// Cut a list result (`tools/list`, `prompts/list`, `resources/list`; JSON) to what a token with
/// the scopes `granted_scopes` (space-separated) may use (the core's `filter_list`): `*result_json_out`
/// is the result, `*removed_out` how many items went.
#[no_mangle]
pub unsafe extern "C" fn authsec_mcp_server_filter_list(
    server: *const AuthsecMcpServer,
    method: *const c_char,
    result_json: *const c_char,
    granted_scopes: *const c_char,
    result_json_out: *mut *mut c_char,
    removed_out: *mut u64,
    error_json: *mut *mut c_char,
) -> AuthsecCode {
    ffi_boundary! { errors: error_json;
        set_out(result_json_out, None);
        let s = obj(server, "server")?;
        let method = str_arg(method, "method")?.unwrap_or_default();
        let mut result = json_arg("list result", str_arg(result_json, "result_json")?)?;
        let removed = s.auth.filter_list(method, &mut result, &granted(granted_scopes)?);
        crate::ffi::set_u64(removed_out, removed as u64);
        set_out(result_json_out, Some(result.to_string()));
        Ok(())
    }
}

/// Whether a token with the scopes `granted_scopes` (space-separated) may do `method` on `target` (NULL
/// for none) (the core's `allows`). False for bad arguments.
#[no_mangle]
pub unsafe extern "C" fn authsec_mcp_server_allows(
    server: *const AuthsecMcpServer,
    method: *const c_char,
    target: *const c_char,
    granted_scopes: *const c_char,
) -> bool {
    ffi_boundary! {
        let (Some(s), Ok(Some(m)), Ok(t), Ok(g)) =
            (server.as_ref(), str_arg(method, "method"), str_arg(target, "target"), granted(granted_scopes))
        else {
            return false;
        };
        s.auth.allows(&Operation::new(m, t), &g)
    }
}

/// The agent side for the MCP server at `server_url`, with client settings `config_json` as
/// `authsec_client_new` reads them, plus `issuer_policy` (`issuer` is required unless it is
/// `"first_in_metadata"`: tokens come from that issuer only). `clock`: NULL
/// for the system clock, or a test clock. Free with `authsec_mcp_client_free`.
#[no_mangle]
pub unsafe extern "C" fn authsec_mcp_client_new(
    server_url: *const c_char,
    config_json: *const c_char,
    clock: *const AuthsecClock,
    out: *mut *mut AuthsecMcpClient,
    error_json: *mut *mut c_char,
) -> AuthsecCode {
    ffi_boundary! { errors: error_json;
        let url = str_arg(server_url, "server_url")?.unwrap_or_default();
        let settings = json_arg("client config", str_arg(config_json, "config_json")?)?;
        let c = authsec_native::mcp_client_from_value(url, &settings, authsec_native::ProcessEnv, clock.as_ref().map(AuthsecClock::shared))?;
        put(out, AuthsecMcpClient(c))
    }
}

/// Free the agent side. NULL is fine.
#[no_mangle]
pub unsafe extern "C" fn authsec_mcp_client_free(client: *mut AuthsecMcpClient) {
    ffi_boundary! {
        free(client)
    }
}

/// The `Authorization` header for the next request (the core's `authorization`; NULL before
/// discovery: send it without). Blocks while a token is requested; `timeout_ms` bounds it (0 = none).
#[no_mangle]
pub unsafe extern "C" fn authsec_mcp_client_authorization(
    client: *const AuthsecMcpClient,
    timeout_ms: u64,
    authorization_out: *mut *mut c_char,
    error_json: *mut *mut c_char,
) -> AuthsecCode {
    ffi_boundary! { errors: error_json;
        set_out(authorization_out, None);
        let c = obj(client, "client")?;
        set_out(authorization_out, wait(c.0.authorization(), timeout_ms)?);
        Ok(())
    }
}

/// After a response (the core's `on_response`): its `status`, `WWW-Authenticate` and the request's
/// `Authorization` (NULL if absent), and `attempt_bits` (0 for a request's first response).
/// `*retry_out`: send it again with a fresh authorization, then pass `*attempt_out`. Blocks during
/// discovery and token requests; `timeout_ms` bounds it (0 = none).
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn authsec_mcp_client_on_response(
    client: *const AuthsecMcpClient,
    status: u16,
    www_authenticate: *const c_char,
    sent_authorization: *const c_char,
    attempt_bits: u8,
    timeout_ms: u64,
    retry_out: *mut bool,
    attempt_out: *mut u8,
    error_json: *mut *mut c_char,
) -> AuthsecCode {
    ffi_boundary! { errors: error_json;
        let c = obj(client, "client")?;
        let (Some(retry), Some(attempt)) = (retry_out.as_mut(), attempt_out.as_mut()) else {
            return Err(CoreError::config("retry_out and attempt_out must not be NULL"));
        };
        (*retry, *attempt) = (false, attempt_bits);
        let sent = bearer_token(str_arg(sent_authorization, "sent_authorization")?).ok().flatten();
        let mut a = Attempt::from_bits(attempt_bits);
        let next = wait(c.0.on_response(status, str_arg(www_authenticate, "www_authenticate")?, sent, &mut a), timeout_ms)?;
        (*retry, *attempt) = (next == Next::Retry, a.to_bits());
        Ok(())
    }
}

/// Discover the MCP server now, without waiting for a 401 (the core's `discover`). Blocks;
/// `timeout_ms` bounds it (0 = none).
#[no_mangle]
pub unsafe extern "C" fn authsec_mcp_client_discover(
    client: *const AuthsecMcpClient,
    timeout_ms: u64,
    error_json: *mut *mut c_char,
) -> AuthsecCode {
    ffi_boundary! { errors: error_json;
        let c = obj(client, "client")?;
        wait(c.0.discover(), timeout_ms)
    }
}

/// `{"server_url", "resource" (null before discovery), "scopes"}` as JSON; NULL for NULL. Free
/// with `authsec_string_free`.
#[no_mangle]
pub unsafe extern "C" fn authsec_mcp_client_info(client: *const AuthsecMcpClient) -> *mut c_char {
    ffi_boundary! {
        let Some(c) = client.as_ref() else { return std::ptr::null_mut() };
        to_c(json!({"server_url": c.0.server_url(), "resource": c.0.resource(), "scopes": c.0.scopes()}).to_string())
    }
}
