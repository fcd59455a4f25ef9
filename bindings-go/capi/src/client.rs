//! The token client: `authsec_client_*`.

use crate::clock::AuthsecClock;
use crate::error::AuthsecCode;
use crate::ffi::{bytes_arg, free, json_arg, obj, put, set_out, set_u64, str_arg, to_c, wait};
use crate::panic::ffi_boundary;
use authsec_native::{
    ClientConfig, ClientConfigFromProcess, ExchangeRequest, Secret, Token, TokenClient, Unauthorized,
};
use serde_json::json;
use std::ffi::c_char;
use std::sync::{Arc, Mutex};

/// An OAuth client-credentials client with the core's token cache. Opaque.
pub struct AuthsecClient {
    client: TokenClient,
    /// The default token last handed out as JSON and its sequence number, so a caller that still
    /// holds that token's decoded form gets just the number back (no JSON across the boundary for
    /// the common case of a cached token). Holding the `Arc` keeps its address unique.
    last: Mutex<(Option<Arc<Token>>, u64)>,
}

impl AuthsecClient {
    /// Hand out `t`: `*seq_out` is its sequence number; `*token_json_out` is its JSON unless the
    /// caller's `known_seq` already names this very token.
    unsafe fn hand_out(&self, t: Arc<Token>, known_seq: u64, token_json_out: *mut *mut c_char, seq_out: *mut u64) {
        let (seq, send) = {
            let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
            match &last.0 {
                Some(prev) if Arc::ptr_eq(prev, &t) => (last.1, last.1 != known_seq),
                _ => {
                    last.1 += 1;
                    last.0 = Some(t.clone());
                    (last.1, true)
                }
            }
        };
        if send {
            set_out(token_json_out, Some(token_json(&t)));
        }
        set_u64(seq_out, seq);
    }
}

fn token_json(t: &Token) -> String {
    json!({
        "access_token": t.access_token.expose(),
        "token_type": t.token_type,
        "issued_at_ms": t.issued_at_ms,
        "expires_at_ms": t.expires_at_ms,
        "scopes": t.scopes,
        "authorization": t.authorization(),
        "issued_token_type": t.issued_token_type,
    })
    .to_string()
}

/// Create a client, configured by the core's readers from one source: `config_file` (a YAML file
/// with `${VAR}` interpolation, as the Python and Node packages load it) when not NULL, else
/// `config_json` (settings as JSON, `ClientConfig::from_value`: `token_url`/`domain`/`issuer`,
/// `client_id`, `client_secret`, `scopes`, `max_attempts`, ...) when not NULL, else the `AUTHSEC_*`
/// environment variables. `clock`: NULL for the system clock, or a test clock. Free with
/// `authsec_client_free`.
#[no_mangle]
pub unsafe extern "C" fn authsec_client_new(
    config_json: *const c_char,
    config_file: *const c_char,
    clock: *const AuthsecClock,
    out: *mut *mut AuthsecClient,
    error_json: *mut *mut c_char,
) -> AuthsecCode {
    ffi_boundary! { errors: error_json;
        let cfg = match (str_arg(config_file, "config_file")?, str_arg(config_json, "config_json")?) {
            (Some(path), _) => ClientConfig::from_yaml_file(path)?,
            (None, Some(text)) => ClientConfig::from_value(&json_arg("client config", Some(text))?, authsec_native::ProcessEnv)?,
            (None, None) => ClientConfig::from_env()?,
        };
        let client = authsec_native::token_client_with_clock(cfg, clock.as_ref().map(AuthsecClock::shared))?;
        put(out, AuthsecClient { client, last: Mutex::new((None, 0)) })
    }
}

/// Free a client. NULL is fine.
#[no_mangle]
pub unsafe extern "C" fn authsec_client_free(client: *mut AuthsecClient) {
    ffi_boundary! {
        free(client)
    }
}

/// A token from the cache or the token endpoint (one request per cache key at a time).
/// `params_json` (a byte range; NULL/0 for the configured token) is `{"scopes", "audience",
/// "resource"}` for another token, cached separately (the core's `params_from`). `block` = false
/// never blocks: when a request is needed it returns `AUTHSEC_CODE_OK` with `*seq_out` 0 and
/// `*token_json_out` NULL. `timeout_ms` bounds a blocking call (0 = none).
///
/// On success `*token_json_out` is the token as JSON (`access_token`, `token_type`,
/// `issued_at_ms`, `expires_at_ms`, `scopes`, `authorization`, `issued_token_type`: the response's
/// RFC 8693 `issued_token_type`, null when it has none). For the configured token,
/// `*seq_out` is also its sequence number (never 0), and `*token_json_out` is NULL when
/// `known_seq` is that number (the caller kept the decoded token; pass 0 to always get JSON).
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn authsec_client_token(
    client: *const AuthsecClient,
    params_json: *const c_char,
    params_len: usize,
    block: bool,
    timeout_ms: u64,
    known_seq: u64,
    seq_out: *mut u64,
    token_json_out: *mut *mut c_char,
    error_json: *mut *mut c_char,
) -> AuthsecCode {
    ffi_boundary! { errors: error_json;
        set_out(token_json_out, None);
        set_u64(seq_out, 0);
        let ac = obj(client, "client")?;
        let c = &ac.client;
        match bytes_arg(params_json, params_len, "params_json")? {
            "" => {
                let t = match (c.try_get_now(), block) {
                    (Some(t), _) => t,
                    (None, true) => wait(c.get_token(), timeout_ms)?,
                    (None, false) => return Ok(()),
                };
                ac.hand_out(t, known_seq, token_json_out, seq_out);
            }
            p => {
                let params = c.params_from(&json_arg("params_json", Some(p))?)?;
                let t = match (c.try_get_now_for(params.clone()), block) {
                    (Some(t), _) => t,
                    (None, true) => wait(c.get_token_for(params), timeout_ms)?,
                    (None, false) => return Ok(()),
                };
                set_out(token_json_out, Some(token_json(&t)));
            }
        }
        Ok(())
    }
}

/// An RFC 8693 token exchange through the client's token cache (the core's `exchange_token`:
/// one entry per subject, actor, token types, scopes, audience and resource; never handed out
/// past the subject token's expiry; the response's `issued_token_type` checked). `options_json`
/// is one object read by the core's `ExchangeRequest::from_value`: `subject_token` (required),
/// `subject_token_type`, `actor_token`, `actor_token_type`, `requested_token_type`, `scopes`,
/// `audience`, `resource`. Blocks until the token is there; `timeout_ms` bounds the call (0 =
/// none). On success `*token_json_out` is the token as `authsec_client_token` gives it, with
/// `issued_token_type`.
#[no_mangle]
pub unsafe extern "C" fn authsec_client_exchange_token(
    client: *const AuthsecClient,
    options_json: *const c_char,
    timeout_ms: u64,
    token_json_out: *mut *mut c_char,
    error_json: *mut *mut c_char,
) -> AuthsecCode {
    ffi_boundary! { errors: error_json;
        set_out(token_json_out, None);
        let ac = obj(client, "client")?;
        let req = ExchangeRequest::from_value(&json_arg("exchange options", str_arg(options_json, "options_json")?)?)?;
        let t = wait(ac.client.exchange_token(req), timeout_ms)?;
        set_out(token_json_out, Some(token_json(&t)));
        Ok(())
    }
}

/// The downstream-token helper (the core's `downstream_token`): exchange `inbound_token`, an
/// access token this service received, for one for the API the options name. `options_json` is
/// read by `ExchangeRequest::downstream_from_value`: `inbound_token` (required), `audience`,
/// `resource` (at least one of the two, else `AUTHSEC_CODE_CONFIG_ERROR`), `scopes`. Otherwise as
/// `authsec_client_exchange_token`.
#[no_mangle]
pub unsafe extern "C" fn authsec_client_downstream_token(
    client: *const AuthsecClient,
    options_json: *const c_char,
    timeout_ms: u64,
    token_json_out: *mut *mut c_char,
    error_json: *mut *mut c_char,
) -> AuthsecCode {
    ffi_boundary! { errors: error_json;
        set_out(token_json_out, None);
        let ac = obj(client, "client")?;
        let req = ExchangeRequest::downstream_from_value(&json_arg("downstream token options", str_arg(options_json, "options_json")?)?)?;
        let t = wait(ac.client.exchange_token(req), timeout_ms)?;
        set_out(token_json_out, Some(token_json(&t)));
        Ok(())
    }
}

/// A resource answered 401 to a request carrying `access_token` (with `www_authenticate`, NULL
/// if absent) after `retries` retries of that request: true means the core dropped that token
/// from the cache and the request should be sent again with a fresh one; false means hand the 401
/// to the caller (the core's `on_unauthorized`; with no header and no retry it always drops it).
#[no_mangle]
pub unsafe extern "C" fn authsec_client_on_unauthorized(
    client: *const AuthsecClient,
    access_token: *const c_char,
    www_authenticate: *const c_char,
    retries: u32,
) -> bool {
    ffi_boundary! {
        let (Some(c), Ok(Some(t)), Ok(w)) =
            (client.as_ref(), str_arg(access_token, "access_token"), str_arg(www_authenticate, "www_authenticate"))
        else {
            return false;
        };
        c.client.on_unauthorized(t, w, retries) == Unauthorized::Retry
    }
}

/// The RFC 7638 thumbprint of the client's DPoP key (the `jkt` its tokens are bound to), NULL when
/// the client does not use DPoP. Free with `authsec_string_free`.
#[no_mangle]
pub unsafe extern "C" fn authsec_client_dpop_thumbprint(client: *const AuthsecClient) -> *mut c_char {
    ffi_boundary! {
        client
            .as_ref()
            .and_then(|c| c.client.dpop())
            .map_or(std::ptr::null_mut(), |d| to_c(d.key().thumbprint().to_string()))
    }
}

/// The headers that authorize one request (one attempt: call it again for a retry) to `url` with
/// `method` and a token of this client given by its `token_type` and `access_token` (the core's
/// `authorize`): `Authorization` with the token's scheme and, for a DPoP token, a fresh `DPoP`
/// proof (with `ath` and the origin's last nonce). `*headers_json_out` is `[[name, value], ...]`.
#[no_mangle]
pub unsafe extern "C" fn authsec_client_authorize(
    client: *const AuthsecClient,
    token_type: *const c_char,
    access_token: *const c_char,
    method: *const c_char,
    url: *const c_char,
    headers_json_out: *mut *mut c_char,
    error_json: *mut *mut c_char,
) -> AuthsecCode {
    ffi_boundary! { errors: error_json;
        set_out(headers_json_out, None);
        let ac = obj(client, "client")?;
        // authorize reads the token's type and value only.
        let token = Token {
            access_token: Secret::new(str_arg(access_token, "access_token")?.unwrap_or_default()),
            token_type: str_arg(token_type, "token_type")?.unwrap_or_default().to_string(),
            issued_at_ms: 0,
            expires_at_ms: 0,
            scopes: Vec::new(),
            issued_token_type: None,
        };
        let method = str_arg(method, "method")?.unwrap_or("GET");
        let headers = ac.client.authorize(&token, method, str_arg(url, "url")?.unwrap_or_default())?;
        set_out(headers_json_out, Some(json!(headers).to_string()));
        Ok(())
    }
}

/// A resource at `url` answered a request that carried `access_token` with `status` and the
/// headers `headers_json` (a byte range: `[[name, value], ...]`, repeated headers repeated), after
/// `retries` retries of that request: call it for every answer (the core keeps the origin's
/// `DPoP-Nonce`). True means send the request again, once, with fresh `authorize` headers (and a
/// fresh token, which the core's cache hands out when it dropped this one); false means hand the
/// answer to the caller (the core's `on_resource_response`).
#[no_mangle]
pub unsafe extern "C" fn authsec_client_on_resource_response(
    client: *const AuthsecClient,
    url: *const c_char,
    access_token: *const c_char,
    status: u16,
    headers_json: *const c_char,
    headers_len: usize,
    retries: u32,
) -> bool {
    ffi_boundary! {
        let (Some(c), Ok(Some(url)), Ok(Some(t)), Ok(h)) = (
            client.as_ref(),
            str_arg(url, "url"),
            str_arg(access_token, "access_token"),
            bytes_arg(headers_json, headers_len, "headers_json"),
        ) else {
            return false;
        };
        let headers: Vec<(String, String)> = if h.is_empty() { Vec::new() } else { serde_json::from_str(h).unwrap_or_default() };
        let pairs: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        c.client.on_resource_response(url, t, status, &pairs, retries) == Unauthorized::Retry
    }
}

/// Token requests sent so far, retries included (for tests).
#[no_mangle]
pub unsafe extern "C" fn authsec_client_request_count(client: *const AuthsecClient) -> u64 {
    ffi_boundary! {
        client.as_ref().map_or(0, |c| c.client.request_count())
    }
}
