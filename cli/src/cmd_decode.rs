//! `authsec decode`: show a JWT's header and claims without verifying anything.

use crate::common::{ordered_object, print_stdout, read_token};
use authsec_native::jose::compact::decode_unverified;
use authsec_native::Result;
use clap::Args;
use serde_json::Value;

/// The label printed with every decoded token.
pub const WARNING: &str = "UNVERIFIED: signature and claims were not checked";

const AFTER_HELP: &str = "\
Nothing is checked: not the signature, not the expiry, not the issuer. Never use this output to
decide whether to trust a token; use `authsec verify` for that.

Output: {\"warning\": \"UNVERIFIED: ...\", \"header\": {...}, \"claims\": {...}} as JSON.

Examples:
  authsec decode eyJhbGciOi...
  authsec token --raw | authsec decode";

#[derive(Args, Debug)]
#[command(after_help = AFTER_HELP)]
pub struct DecodeArgs {
    /// The token; read from stdin when absent or `-` (a leading `Bearer ` is ignored).
    #[arg(value_name = "TOKEN")]
    pub token: Option<String>,
}

pub fn run(a: DecodeArgs) -> Result<()> {
    let token = read_token(a.token.as_deref())?;
    let (header, claims) = decode_unverified(&token)?;
    print_stdout(&ordered_object(&[
        ("warning", Value::String(WARNING.into())),
        ("header", header),
        ("claims", claims),
    ]))
}
