//! Small shared helpers.
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;

pub fn b64url_encode(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(data)
}

/// Strict base64url without padding (RFC 7515 §2): `=` and non-canonical trailing bits are errors.
pub fn b64url_decode(data: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(data).ok()
}

pub fn b64_std_encode(data: &[u8]) -> String {
    STANDARD.encode(data)
}

pub fn b64_std_decode(data: &str) -> Option<Vec<u8>> {
    STANDARD.decode(data).ok()
}

/// Where and how a JSON text is broken, for an error message: "syntax error at line 1, column 7".
/// (serde_json's own message says the same in more words; formatting it would pull all its
/// messages, and `std::io`'s, into the wasm module.)
pub fn json_error_at(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let what = match e.classify() {
        Category::Eof => "unexpected end",
        Category::Syntax => "syntax error",
        Category::Data | Category::Io => "unreadable value",
    };
    format!("{what} at line {}, column {}", e.line(), e.column())
}

/// Untrusted text for an error message, at most 40 characters and in double quotes. Anything but
/// printable ASCII (control characters included) becomes a `\u{..}` escape and `"` and `\` get a
/// backslash, so a message can neither break a log line nor hide text behind bidi controls or
/// look-alike letters, and shows the text as it was (a tab stays visible, not dropped).
/// (Not `{:?}`: the same job, but its Unicode tables weigh kilobytes in the wasm module.)
pub fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len().min(48) + 2);
    out.push('"');
    let long = s.chars().nth(MAX_QUOTED).is_some();
    for c in s.chars().take(MAX_QUOTED).chain(long.then_some('…')) {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            ' '..='~' | '…' => out.push(c),
            c => {
                use std::fmt::Write as _;
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
        }
    }
    out.push('"');
    out
}

/// A list for an error message, `["a", "b"]`, each item [`quoted`].
pub fn quoted_list(items: &[String]) -> String {
    format!("[{}]", items.iter().map(|s| quoted(s)).collect::<Vec<_>>().join(", "))
}

/// How much of an untrusted text [`quoted`] and [`truncate`] show.
const MAX_QUOTED: usize = 40;

/// Shorten untrusted text for an error message: at most 40 characters, each control character
/// shown as a space (not dropped: dropping would join the text around it into words it never had).
pub fn truncate(s: &str) -> String {
    let t: String = s
        .chars()
        .take(MAX_QUOTED)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if s.chars().nth(MAX_QUOTED).is_some() {
        format!("{t}…")
    } else {
        t
    }
}

/// JSON text of a JSON value or map. Serializing these cannot fail (keys are strings, numbers
/// finite). Not `Value::to_string`: that goes through a `fmt::Write` adapter whose error path
/// drags `std::io` error formatting into the wasm module.
pub fn json_text<T: serde::Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// application/x-www-form-urlencoded encoding of one value (RFC 6749 Appendix B).
pub fn form_encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_escapes_everything_but_printable_ascii() {
        assert_eq!(quoted("https://issuer.example"), "\"https://issuer.example\"");
        assert_eq!(quoted(r#"a"b\c"#), r#""a\"b\\c""#);
        // Control characters, bidi controls and non-ASCII letters are escaped.
        assert_eq!(quoted("evil\n\r\u{7}x"), "\"evil\\u{a}\\u{d}\\u{7}x\"");
        // A fuzzer's find: a dropped tab joined "Sec\tret" into a word the text never had.
        assert_eq!(quoted("Sec\tret"), "\"Sec\\u{9}ret\"");
        assert_eq!(truncate("Sec\tret\n"), "Sec ret ");
        assert_eq!(quoted("a\u{202e}b"), "\"a\\u{202e}b\"");
        assert_eq!(quoted("аdmin"), "\"\\u{430}dmin\""); // Cyrillic а
        let long = quoted(&"k".repeat(100));
        assert_eq!(long, format!("\"{}…\"", "k".repeat(40)));
        assert_eq!(quoted_list(&["a".into(), "b\"".into()]), r#"["a", "b\""]"#);
        assert_eq!(quoted_list(&[]), "[]");
    }

    #[test]
    fn json_errors_say_where_and_json_text_round_trips() {
        let at = |t: &str| json_error_at(&serde_json::from_str::<serde_json::Value>(t).unwrap_err());
        assert_eq!(at("{\"a\": }"), "syntax error at line 1, column 7");
        assert_eq!(at("{\n\"a\": [1,"), "unexpected end at line 2, column 8");
        let v = serde_json::json!({"b": [1, 2.5, "é\"\n"], "a": null, "n": -3});
        assert_eq!(serde_json::from_str::<serde_json::Value>(&json_text(&v)).unwrap(), v);
        assert_eq!(json_text(&v), v.to_string());
    }
}
