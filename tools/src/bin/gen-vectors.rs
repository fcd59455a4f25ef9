//! Writes the shared test vectors (`tests/vectors/`), or checks that they are up to date.
//!
//! ```text
//! cargo run -p authsec-tools --bin gen-vectors              # (re)write the vector files
//! cargo run -p authsec-tools --bin gen-vectors -- --check   # exit 1 if the files on disk are stale
//! ```

use authsec_tools::vectors::{check, vectors_dir, write};
use std::process::exit;

fn main() {
    let check_only = std::env::args().skip(1).any(|a| a == "--check");
    let dir = vectors_dir();
    if check_only {
        match check(&dir) {
            Ok(d) if d.is_empty() => println!("gen-vectors: {} is up to date", dir.display()),
            Ok(d) => {
                for line in &d {
                    eprintln!("drift: {line}");
                }
                eprintln!(
                    "gen-vectors: {} difference(s); run `cargo run -p authsec-tools --bin gen-vectors` and commit the result",
                    d.len()
                );
                exit(1);
            }
            Err(e) => {
                eprintln!("gen-vectors: {e}");
                exit(2);
            }
        }
        return;
    }
    match write(&dir) {
        Ok(report) => {
            for f in &report.files {
                let what = if f.written { "written" } else { "unchanged" };
                println!("{:<24} {:>4} cases  {what}", f.name, f.cases);
            }
            println!(
                "gen-vectors: {} cases; {} token(s) signed anew",
                report.cases(),
                report.resigned.len()
            );
        }
        Err(e) => {
            eprintln!("gen-vectors: {e}");
            exit(2);
        }
    }
}
