//! The management client, the core's `management` module: `authsec_management_*`. One generic
//! call (operation name + JSON arguments -> JSON result); the Go package wraps each operation.

use crate::error::AuthsecCode;
use crate::ffi::{free, json_arg, obj, put, set_out, str_arg, to_c, wait};
use crate::panic::ffi_boundary;
use authsec_native::{Error as CoreError, ManagementClient};
use serde_json::json;
use std::ffi::c_char;

/// A client of an authsec server's management API (the core's `ManagementClient`). Opaque.
pub struct AuthsecManagement(ManagementClient);

/// Create a management client from settings as JSON (the core's `ManagementConfig::from_value`:
/// `base_url` or `domain`; `client_id` with `client_secret`, `client_secret_file`, `private_key`
/// or `private_key_file`, or `admin_token` / `admin_token_file` for bootstrapping; `scopes`,
/// `token_url`, `allow_insecure_http`, `timeout`). Free with `authsec_management_free`.
#[no_mangle]
pub unsafe extern "C" fn authsec_management_new(
    settings_json: *const c_char,
    out: *mut *mut AuthsecManagement,
    error_json: *mut *mut c_char,
) -> AuthsecCode {
    ffi_boundary! { errors: error_json;
        let v = json_arg("management settings", str_arg(settings_json, "settings_json")?)?;
        put(out, AuthsecManagement(authsec_native::management_client(&v)?))
    }
}

/// Free a management client. NULL is fine.
#[no_mangle]
pub unsafe extern "C" fn authsec_management_free(management: *mut AuthsecManagement) {
    ffi_boundary! {
        free(management)
    }
}

/// Run one management operation (the core's `ManagementClient::call`): `operation` is its name
/// (`clients.create`, ...; `authsec_management_operations` lists them), `args_json` its
/// arguments as a JSON object (NULL for none). Blocks; `timeout_ms` bounds it (0 = none). On
/// success `*result_json_out` is the result as JSON (`null` for a deletion; lists are
/// `{"items": [...], "next_cursor": "..." | null}`).
#[no_mangle]
pub unsafe extern "C" fn authsec_management_call(
    management: *const AuthsecManagement,
    operation: *const c_char,
    args_json: *const c_char,
    timeout_ms: u64,
    result_json_out: *mut *mut c_char,
    error_json: *mut *mut c_char,
) -> AuthsecCode {
    ffi_boundary! { errors: error_json;
        set_out(result_json_out, None);
        let m = obj(management, "management")?;
        let op = str_arg(operation, "operation")?.ok_or_else(|| CoreError::config("operation must not be NULL"))?;
        let args = json_arg("management arguments", str_arg(args_json, "args_json")?)?;
        let v = wait(m.0.call(op, &args), timeout_ms)?;
        set_out(result_json_out, Some(v.to_string()));
        Ok(())
    }
}

/// Every operation's name as a JSON array of strings. Free with `authsec_string_free`.
#[no_mangle]
pub extern "C" fn authsec_management_operations() -> *mut c_char {
    ffi_boundary! {
        to_c(json!(ManagementClient::operations()).to_string())
    }
}
