//! The panic boundary every export runs in, as rustls-ffi's `ffi_panic_boundary!`: a panic never
//! unwinds into C. Shared by `authsec-capi` and `authsec-capi-testing` (which includes this file);
//! a test of each crate checks that every `extern "C" fn` body starts with `ffi_boundary!`.

/// What an export returns when its body panicked (fallible exports return an error code instead).
pub(crate) trait Fallback {
    fn fallback() -> Self;
}

macro_rules! fallback {
    ($([$($g:ident)?] $t:ty => $v:expr),+) => { $( impl<$($g)?> Fallback for $t { fn fallback() -> Self { $v } } )+ };
}
fallback!([] () => (), [] bool => false, [] u64 => 0, [] i64 => 0, [T] *mut T => std::ptr::null_mut(), [T] *const T => std::ptr::null());

/// Run an export's body in the panic boundary.
/// - `ffi_boundary! { body }`: the body's value, or after a panic the return type's [`Fallback`].
/// - `ffi_boundary! { errors: error_json; body }`: a fallible body (a `CoreResult<()>`); the crate's
///   `result_code` turns its error, or a panic (as `internal_error`), into the returned code and a
///   JSON error in `*error_json`, and clears `*error_json` on success.
macro_rules! ffi_boundary {
    (errors: $err:ident; $($body:tt)*) => {
        $crate::result_code(
            $err,
            ::std::panic::catch_unwind(::std::panic::AssertUnwindSafe(|| -> $crate::CoreResult<()> { $($body)* })),
        )
    };
    ($($body:tt)*) => {
        match ::std::panic::catch_unwind(::std::panic::AssertUnwindSafe(|| { $($body)* })) {
            Ok(v) => v,
            Err(_) => $crate::panic::Fallback::fallback(),
        }
    };
}
pub(crate) use ffi_boundary;

#[cfg(test)]
mod tests {
    /// No export may skip the boundary: every `extern "C" fn` of this crate starts with it.
    #[test]
    fn every_export_runs_in_the_panic_boundary() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
        let mut exports = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            for chunk in text.split("extern \"C\" fn ").skip(1) {
                let name = chunk.split('(').next().unwrap();
                if name.is_empty() || name.contains(char::is_whitespace) {
                    continue; // a function pointer type, not a definition
                }
                exports += 1;
                let body = &chunk[chunk.find('{').unwrap() + 1..];
                assert!(
                    body.trim_start().starts_with("ffi_boundary!"),
                    "{name} in {path:?} skips ffi_boundary!"
                );
            }
        }
        assert!(exports > 0);
    }
}
