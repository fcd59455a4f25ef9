//! `authsec error-codes`: the stable error-code list, for docs and binding drift checks.

use crate::common::{exit_code, print_stdout};
use authsec_native::{ErrorCode, Result};
use clap::Args;

const AFTER_HELP: &str = "\
One code per line: the code, then a short description. The codes are stable: bindings expose
them as exception classes / error codes, and check their own lists against this one, e.g.
  authsec error-codes --codes-only | diff - my-binding-codes.txt";

#[derive(Args, Debug)]
#[command(after_help = AFTER_HELP)]
pub struct ErrorCodesArgs {
    /// Print only the codes (no descriptions).
    #[arg(long)]
    pub codes_only: bool,
    /// Add the CLI exit code each error leads to.
    #[arg(long, conflicts_with = "codes_only")]
    pub exit_codes: bool,
    /// One JSON array: each code with its description, category, class, retryability and exit code.
    #[arg(long, conflicts_with_all = ["codes_only", "exit_codes"])]
    pub json: bool,
}

/// A short description of a code (from the core, shared by every binding).
pub fn describe(code: ErrorCode) -> &'static str {
    code.description()
}

pub fn run(a: ErrorCodesArgs) -> Result<()> {
    if a.json {
        let rows: Vec<serde_json::Value> = ErrorCode::ALL
            .iter()
            .map(|&c| {
                serde_json::json!({
                    "code": c.as_str(),
                    "description": describe(c),
                    "category": c.category().as_str(),
                    "class": c.class().name(),
                    "retryable": c.is_retryable(),
                    "exit_code": exit_code(c),
                })
            })
            .collect();
        let text = serde_json::to_string_pretty(&rows).map_err(|e| authsec_native::Error::internal(e.to_string()))?;
        return print_stdout(&text);
    }
    let width = ErrorCode::ALL.iter().map(|c| c.as_str().len()).max().unwrap_or(0);
    let lines: Vec<String> = ErrorCode::ALL
        .iter()
        .map(|&c| {
            if a.codes_only {
                c.as_str().to_string()
            } else if a.exit_codes {
                format!("{:<width$}  {}  {}", c.as_str(), exit_code(c), describe(c))
            } else {
                format!("{:<width$}  {}", c.as_str(), describe(c))
            }
        })
        .collect();
    print_stdout(&lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_a_description() {
        for &c in ErrorCode::ALL {
            assert_ne!(
                describe(c),
                "(no description)",
                "{c} needs a description in cmd_error_codes.rs"
            );
        }
    }
}
