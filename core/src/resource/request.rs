//! A resource request as data: what a binding's middleware hands the core (the method, the target
//! as the server received it, the scheme and peer it saw, the headers, the TLS client certificate).

use std::net::IpAddr;

/// The parts of an HTTP request the resource side reads.
#[derive(Clone, Debug, Default)]
pub struct RequestParts<'a> {
    /// The method, as sent (`GET`).
    pub method: &'a str,
    /// The request target as received: origin-form (`/mcp?x=1`) or absolute-form.
    pub target: &'a str,
    /// `https` when the connection the server accepted was TLS, else `http`.
    pub scheme: &'a str,
    /// Every header, names in any case, repeated headers as separate pairs. `Host` (or HTTP/2's
    /// `:authority`) must be among them unless the target is absolute or a public URL is configured.
    pub headers: Vec<(&'a str, &'a str)>,
    /// The address of the peer that connected (a proxy, when there is one).
    pub peer: Option<IpAddr>,
    /// The DER of the client certificate the TLS connection presented, if any.
    pub client_certificate: Option<&'a [u8]>,
}

impl<'a> RequestParts<'a> {
    /// Every value of header `name` (case-insensitive), in order.
    pub fn header_values(&self, name: &str) -> Vec<&'a str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
            .collect()
    }

    /// The first value of header `name`.
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }
}
