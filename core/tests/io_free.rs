//! The core does no I/O of its own: no file system, no environment variables, no sockets, no
//! processes, no sleeping threads. Transport, clocks, timers and configuration sources are
//! injected (see the crate docs); this test keeps it so by reading the core's sources.

use std::path::Path;

const FORBIDDEN: [&str; 8] = [
    "std::fs",
    "std::env",
    "std::net::TcpStream",
    "std::net::UdpSocket",
    "std::net::TcpListener",
    "std::process",
    "std::thread::sleep",
    "std::io::stdin",
];

fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn the_core_sources_use_no_io() {
    let mut files = Vec::new();
    sources(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut files);
    assert!(files.len() > 20, "found the core's sources");
    let mut found = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        for (i, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for needle in FORBIDDEN {
                if code.contains(needle) {
                    found.push(format!("{}:{}: {needle}", f.display(), i + 1));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "I/O in the core (inject it instead):\n{}",
        found.join("\n")
    );
}
