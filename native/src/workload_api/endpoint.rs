//! The Workload API endpoint address (SPIFFE Workload Endpoint §4): `unix:///abs/path` (or
//! `unix:/abs/path`) for a Unix domain socket, `tcp://IP:PORT` for a TCP socket. Either URI names
//! no user info, query or fragment; a `unix` URI names no host and an absolute path; a `tcp` URI
//! names an IP address (not a host name) and a port, and no path.

use authsec_core::{Error, Result};
use std::net::SocketAddr;
use std::path::PathBuf;

/// The environment variable that names the endpoint.
pub const ENV_VAR: &str = "SPIFFE_ENDPOINT_SOCKET";

/// Where the Workload API listens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Unix(PathBuf),
    Tcp(SocketAddr),
}

const HELP: &str = "give unix:///absolute/path/to/agent.sock or tcp://IP:PORT";

fn invalid(addr: &str, why: &str) -> Error {
    // The address is configuration, not a secret; bounded so a garbage variable stays readable.
    let shown: String = addr.chars().filter(|c| !c.is_control()).take(200).collect();
    Error::config(format!(
        "the SPIFFE Workload API endpoint \"{shown}\" is invalid: {why} ({HELP}; it is usually {ENV_VAR})"
    ))
}

/// Parse an endpoint address.
pub fn parse(addr: &str) -> Result<Target> {
    let addr_t = addr.trim();
    if addr_t.is_empty() {
        return Err(invalid(addr, "it is empty"));
    }
    if addr_t.len() > 4096 {
        return Err(invalid(addr, "it is longer than 4096 bytes"));
    }
    if addr_t.starts_with('/') {
        return Err(invalid(addr, "a bare path is not a URI (write unix:///path)"));
    }
    let (scheme, rest) = addr_t
        .split_once(':')
        .ok_or_else(|| invalid(addr, "it has no scheme"))?;
    if rest.contains('?') {
        return Err(invalid(addr, "it has a query"));
    }
    if rest.contains('#') {
        return Err(invalid(addr, "it has a fragment"));
    }
    match scheme {
        "unix" => {
            let path = match rest.strip_prefix("//") {
                Some(after) => {
                    let slash = after.find('/').unwrap_or(after.len());
                    let authority = &after[..slash];
                    if authority.contains('@') {
                        return Err(invalid(addr, "a unix URI names no user info"));
                    }
                    if !authority.is_empty() {
                        return Err(invalid(addr, "a unix URI names no host (three slashes: unix:///path)"));
                    }
                    &after[slash..]
                }
                None => rest,
            };
            if !path.starts_with('/') {
                return Err(invalid(addr, "a unix URI names an absolute path"));
            }
            if path.trim_end_matches('/').is_empty() {
                return Err(invalid(addr, "a unix URI names a socket path"));
            }
            Ok(Target::Unix(PathBuf::from(path)))
        }
        "tcp" => {
            let authority = rest
                .strip_prefix("//")
                .ok_or_else(|| invalid(addr, "a tcp URI is tcp://IP:PORT"))?;
            if authority.contains('@') {
                return Err(invalid(addr, "a tcp URI names no user info"));
            }
            if authority.contains('/') {
                return Err(invalid(addr, "a tcp URI names no path"));
            }
            if authority.is_empty() {
                return Err(invalid(addr, "a tcp URI names an IP address and a port"));
            }
            let sock: SocketAddr = authority.parse().map_err(|_| {
                if authority.rsplit_once(':').is_some_and(|(h, _)| {
                    h.trim_matches(|c| c == '[' || c == ']')
                        .parse::<std::net::IpAddr>()
                        .is_ok()
                }) {
                    invalid(addr, "the port is not a number from 0 to 65535")
                } else if authority.parse::<std::net::IpAddr>().is_ok()
                    || authority
                        .trim_matches(|c| c == '[' || c == ']')
                        .parse::<std::net::IpAddr>()
                        .is_ok()
                {
                    invalid(addr, "a tcp URI names a port")
                } else {
                    invalid(addr, "a tcp URI names an IP address (not a host name) and a port")
                }
            })?;
            if sock.port() == 0 {
                return Err(invalid(addr, "the port is 0"));
            }
            Ok(Target::Tcp(sock))
        }
        "" => Err(invalid(addr, "it has no scheme")),
        _ => Err(invalid(addr, "the scheme is neither unix nor tcp")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_spec_forms() {
        assert_eq!(
            parse("unix:///tmp/agent.sock").unwrap(),
            Target::Unix("/tmp/agent.sock".into())
        );
        assert_eq!(
            parse("unix:/tmp/agent.sock").unwrap(),
            Target::Unix("/tmp/agent.sock".into())
        );
        assert_eq!(
            parse("tcp://127.0.0.1:8081").unwrap(),
            Target::Tcp("127.0.0.1:8081".parse().unwrap())
        );
        assert_eq!(
            parse("tcp://[::1]:8081").unwrap(),
            Target::Tcp("[::1]:8081".parse().unwrap())
        );
    }
}
