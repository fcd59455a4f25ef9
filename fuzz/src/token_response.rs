//! The `token_response` target's properties: parse_token_response, Token, schedule.

#[allow(unused_imports)]
use super::*;

/// Statuses byte 0 of a `token_response` input selects (index `byte % 16`).
pub const STATUSES: [u16; 16] = [
    200, 200, 200, 200, 400, 401, 403, 429, 500, 502, 503, 302, 404, 200, 0, 599,
];

/// Byte 1 of a `token_response` input.
pub mod resp_sel {
    /// The next line is a `Retry-After` header.
    pub const RETRY_AFTER: u8 = 1;
    /// The next line is the client secret to scrub (else `CLIENT_SECRET`).
    pub const SECRET_LINE: u8 = 2;
    pub const CONTENT_TYPE_JSON: u8 = 4;
    /// Requested scopes `read:data write:logs`.
    pub const REQUESTED_SCOPES: u8 = 8;
}

/// The HTTP response, requested scopes and client secret a `token_response` input stands for.
pub fn response_input(data: &[u8]) -> Option<(HttpResponse, Vec<String>, String)> {
    let (&status_sel, rest) = data.split_first()?;
    let (&extras, mut rest) = rest.split_first()?;
    let line = |rest: &mut &[u8]| -> String {
        let (l, r) = split_once(rest, b'\n');
        *rest = r.unwrap_or_default();
        String::from_utf8_lossy(l).into_owned()
    };
    let mut headers = Vec::new();
    if extras & resp_sel::RETRY_AFTER != 0 {
        headers.push(("Retry-After".to_string(), line(&mut rest)));
    }
    let secret = if extras & resp_sel::SECRET_LINE != 0 {
        line(&mut rest)
    } else {
        CLIENT_SECRET.to_string()
    };
    if extras & resp_sel::CONTENT_TYPE_JSON != 0 {
        headers.push(("Content-Type".to_string(), "application/json".to_string()));
    }
    let scopes = if extras & resp_sel::REQUESTED_SCOPES != 0 {
        vec!["read:data".to_string(), "write:logs".to_string()]
    } else {
        Vec::new()
    };
    let status = STATUSES[usize::from(status_sel % 16)];
    Some((HttpResponse::new(status, headers, rest.to_vec()), scopes, secret))
}

/// `token_response`: parse a token-endpoint answer.
pub fn check_token_response(data: &[u8]) {
    if let Some((resp, scopes, secret)) = response_input(data) {
        check_response(&resp, &scopes, &secret);
    }
}

/// The error codes RFC 6749 §5.2 and RFC 8707 define for a token request, listed here rather
/// than taken from the core so the oracle does not reuse what it checks.
const TOKEN_REQUEST_ERRORS: [ErrorCode; 7] = [
    ErrorCode::InvalidRequest,
    ErrorCode::InvalidClient,
    ErrorCode::InvalidGrant,
    ErrorCode::UnauthorizedClient,
    ErrorCode::UnsupportedGrantType,
    ErrorCode::InvalidScope,
    ErrorCode::InvalidTarget,
];

/// The properties of parsing one token-endpoint answer.
pub fn check_response(resp: &HttpResponse, requested: &[String], secret: &str) {
    let result = parse_token_response(resp, NOW_MS, requested, &[secret]);
    let again = parse_token_response(resp, NOW_MS, requested, &[secret]);
    assert_eq!(result, again, "parsing is deterministic");
    let body: Option<Value> = serde_json::from_slice(&resp.body).ok().filter(Value::is_object);
    let status = resp.status;
    match &result {
        Err(e) => {
            // 1. The code follows the status; the status and Retry-After are kept.
            assert_eq!(e.status(), Some(status));
            let code = e.code();
            match status {
                200 => assert_eq!(code, ErrorCode::InvalidResponse, "{e:?}"),
                429 => assert_eq!(code, ErrorCode::RateLimited),
                500.. => assert_eq!(code, ErrorCode::ServerError),
                _ => assert!(
                    TOKEN_REQUEST_ERRORS.contains(&code)
                        || matches!(code, ErrorCode::OauthError | ErrorCode::InvalidResponse),
                    "{e:?}"
                ),
            }
            if status == 429 || status >= 500 {
                assert_eq!(e.retry_after(), resp.retry_after(NOW_MS));
            }
            if let Some(d) = e.retry_after() {
                assert!(d <= Duration::from_secs(86_400), "Retry-After is capped at a day");
            }
            // 2. An OAuth error code is the server's `error`, and only one of the codes RFC 6749
            //    §5.2 / RFC 8707 define for a token request.
            let server_error = body.as_ref().and_then(|b| b.get("error")).and_then(Value::as_str);
            if status != 200 && status != 429 && status < 500 {
                match server_error {
                    Some(err) => {
                        let oauth = ErrorCode::parse(err).filter(|c| TOKEN_REQUEST_ERRORS.contains(c));
                        assert_eq!(code, oauth.unwrap_or(ErrorCode::OauthError), "{err:?}");
                        assert!(e.oauth_error().is_some());
                    }
                    None => {
                        let expected = if status == 401 {
                            ErrorCode::InvalidClient
                        } else {
                            ErrorCode::InvalidResponse
                        };
                        assert_eq!(code, expected);
                        assert!(e.oauth_error().is_none());
                    }
                }
            }
            // 3. Server text is shortened, cannot inject lines into logs, and is scrubbed of the
            //    client secret: the `error` as kept (`oauth_error`) and the `error_description` as
            //    shown in the message (between "(error: " and the final "); hint").
            assert!(!has_control(e.message()), "control characters in {e:?}");
            // The secret, and the secret as it reads with control characters shown as spaces.
            let spaced: String = secret.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
            let leaks = |t: &str| secret.len() >= 4 && (t.contains(secret) || t.contains(spaced.as_str()));
            if let Some(o) = e.oauth_error() {
                assert!(!has_control(o) && o.chars().count() <= 61, "{o:?}");
                assert!(!leaks(o), "the client secret leaked into oauth_error: {e:?}");
                let prefix = format!("the token endpoint refused the request ({o}: ");
                if let Some(desc) = e.message().strip_prefix(&prefix).and_then(|m| m.rsplit_once("); ")) {
                    assert!(desc.0.chars().count() <= 301, "{e:?}");
                    assert!(!leaks(desc.0), "the client secret leaked into the message: {e:?}");
                }
            }
        }
        Ok(token) => {
            // 4. Only a 200 with a JSON object is a token, and it is what the object says.
            assert_eq!(status, 200);
            let body = body.expect("a token comes from a JSON object");
            let access = body["access_token"].as_str().expect("access_token is a string");
            assert!(!access.is_empty() && access.len() <= 64 * 1024);
            assert_eq!(token.access_token.expose(), access);
            let typ = body["token_type"].as_str().expect("token_type is a string");
            assert!(token.token_type == "Bearer" || token.token_type == "DPoP");
            assert!(token.token_type.eq_ignore_ascii_case(typ));
            assert_eq!(token.authorization(), format!("{} {access}", token.token_type));
            assert_eq!(token.issued_at_ms, NOW_MS);
            let scopes: Vec<String> = match body.get("scope") {
                Some(Value::String(s)) => s.split_whitespace().map(str::to_string).collect(),
                Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).map(str::to_string).collect(),
                _ => requested.to_vec(),
            };
            assert_eq!(token.scopes, scopes);
            match body.get("expires_in") {
                Some(Value::Number(n)) => {
                    let secs = n.as_f64().expect("a number") as i64;
                    assert_eq!(token.expires_at_ms, NOW_MS + secs.min(10 * 365 * 86_400) * 1000);
                }
                Some(Value::String(s)) => {
                    let secs: i64 = s.trim().parse().expect("a numeric string");
                    assert_eq!(token.expires_at_ms, NOW_MS + secs.min(10 * 365 * 86_400) * 1000);
                }
                _ => {}
            }
            // 5. Nothing is scheduled beyond ten years, and the refresh schedule is the documented
            //    one, computed without overflow: refresh at `expires_at - min(buffer, lifetime/2)`,
            //    hand out until `expires_at - min(5 s, lifetime/4)`.
            assert!(token.expires_at_ms <= NOW_MS + 10 * 365 * 86_400 * 1000, "{token:?}");
            let lifetime = token.lifetime_ms();
            let exact = (i128::from(token.expires_at_ms) - i128::from(token.issued_at_ms)).max(0);
            assert_eq!(i128::from(lifetime), exact);
            for buffer in [
                Duration::ZERO,
                Duration::from_secs(300),
                Duration::from_secs(u32::MAX.into()),
                Duration::MAX,
            ] {
                let s = schedule(token, buffer);
                let exp = i128::from(token.expires_at_ms);
                assert_eq!(
                    i128::from(s.refresh_at_ms),
                    exp - (buffer.as_millis() as i128).min(exact / 2)
                );
                assert_eq!(i128::from(s.usable_until_ms), exp - 5000.min(exact / 4));
            }
            // 6. Debug never shows the token.
            let debug = format!("{token:?}");
            assert!(debug.contains("access_token: ***"), "{debug}");
        }
    }
}
