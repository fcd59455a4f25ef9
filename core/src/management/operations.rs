//! The operation table: every management operation's name, HTTP method, path template, arguments
//! (where each goes and what it must be), and the key of the list it answers, if any.

use crate::http::Method;

/// Where an argument goes in the request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// A `{name}` segment of the path (percent-encoded).
    Path,
    /// The query string.
    Query,
    /// A member of the JSON body.
    Body,
}

/// What an argument must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A non-empty string that names something (a path segment).
    Id,
    /// A string.
    Text,
    /// A whole number in `min..=max`.
    Count { min: u64, max: u64 },
    /// A point in time: Unix seconds (fractions allowed) or an RFC 3339 string.
    Time,
    /// A list of strings (a space-separated string is read as one).
    Strings,
    /// A string or a list of strings (a list repeats the query parameter).
    OneOrMany,
    /// `success` or `failure`.
    Outcome,
    /// Any JSON value (the server checks it): client fields.
    Any,
}

/// One argument of an operation.
#[derive(Clone, Copy, Debug)]
pub struct Arg {
    pub name: &'static str,
    pub kind: Kind,
    pub required: bool,
    pub place: Place,
    /// The path segment when the argument is absent (only for optional path arguments).
    pub default: Option<&'static str>,
}

const fn req(name: &'static str, kind: Kind, place: Place) -> Arg {
    Arg {
        name,
        kind,
        required: true,
        place,
        default: None,
    }
}

const fn opt(name: &'static str, kind: Kind, place: Place) -> Arg {
    Arg {
        name,
        kind,
        required: false,
        place,
        default: None,
    }
}

/// One management operation.
#[derive(Clone, Copy, Debug)]
pub struct Operation {
    /// `clients.create`, ...
    pub name: &'static str,
    pub method: Method,
    /// Under `{base_url}/admin`, with `{arg}` placeholders.
    pub path: &'static str,
    pub args: &'static [Arg],
    /// Whether any client field (the contract's table) is also accepted, in the body.
    pub client_fields: bool,
    /// The key of the list in the answer (normalised to `items`).
    pub list_key: Option<&'static str>,
    /// A PUT that replaces the whole object: body arguments left out are filled in from a GET of
    /// the same path first, so that an update changes only what it names.
    pub merge_from_get: bool,
}

impl Operation {
    /// Whether the operation's result is `null` (a deletion), whatever the server's body.
    pub fn returns_nothing(&self) -> bool {
        self.method == Method::Delete && !self.path.contains("/secrets/")
    }
}

/// The client fields create and update accept (contract §1), besides `tls_client_auth_*`.
pub const CLIENT_FIELDS: [&str; 26] = [
    "client_id",
    "name",
    "description",
    "type",
    "grant_types",
    "token_endpoint_auth_method",
    "client_secret",
    "allowed_scopes",
    "default_scopes",
    "roles",
    "audiences",
    "may_act",
    "token_lifetime",
    "jwks",
    "jwks_uri",
    "callbacks",
    "web_origins",
    "logo",
    "website",
    "rate_limits",
    "rate_limit",
    "resource",
    "dpop_bound_access_tokens",
    "tls_client_certificate_bound_access_tokens",
    "tls_client_certificate_sha256",
    "spiffe_id",
];

/// Whether `name` is a client field.
pub fn is_client_field(name: &str) -> bool {
    CLIENT_FIELDS.contains(&name) || (name.starts_with("tls_client_auth_") && name.len() > "tls_client_auth_".len())
}

const LIMIT: Kind = Kind::Count { min: 1, max: 200 };
const SECONDS: Kind = Kind::Count {
    min: 0,
    max: 30 * 86_400,
};
const ACTIVATE_IN: Kind = Kind::Count { min: 0, max: 86_400 };

use Kind::*;
use Place::*;

/// Every operation, in the contract's order.
pub const OPERATIONS: &[Operation] = &[
    Operation {
        name: "clients.create",
        method: Method::Post,
        path: "/clients",
        args: &[],
        client_fields: true,
        list_key: None,
        merge_from_get: false,
    },
    Operation {
        name: "clients.get",
        method: Method::Get,
        path: "/clients/{client_id}",
        args: &[req("client_id", Id, Path)],
        client_fields: false,
        list_key: None,
        merge_from_get: false,
    },
    Operation {
        name: "clients.list",
        method: Method::Get,
        path: "/clients",
        args: &[
            opt("limit", LIMIT, Query),
            opt("cursor", Text, Query),
            opt("type", Text, Query),
        ],
        client_fields: false,
        list_key: Some("clients"),
        merge_from_get: false,
    },
    Operation {
        name: "clients.update",
        method: Method::Patch,
        path: "/clients/{client_id}",
        args: &[req("client_id", Id, Path)],
        client_fields: true,
        list_key: None,
        merge_from_get: false,
    },
    Operation {
        name: "clients.delete",
        method: Method::Delete,
        path: "/clients/{client_id}",
        args: &[req("client_id", Id, Path)],
        client_fields: false,
        list_key: None,
        merge_from_get: false,
    },
    Operation {
        name: "clients.rotate_secret",
        method: Method::Post,
        path: "/clients/{client_id}/secrets",
        args: &[req("client_id", Id, Path), opt("overlap", SECONDS, Body)],
        client_fields: false,
        list_key: None,
        merge_from_get: false,
    },
    Operation {
        name: "clients.revoke_secret",
        method: Method::Delete,
        path: "/clients/{client_id}/secrets/{secret_id}",
        args: &[
            req("client_id", Id, Path),
            Arg {
                default: Some("old"),
                ..opt("secret_id", Id, Path)
            },
        ],
        client_fields: false,
        list_key: None,
        merge_from_get: false,
    },
    Operation {
        name: "scopes.create",
        method: Method::Post,
        path: "/scopes",
        args: &[req("name", Id, Body), opt("description", Text, Body)],
        client_fields: false,
        list_key: None,
        merge_from_get: false,
    },
    Operation {
        name: "scopes.list",
        method: Method::Get,
        path: "/scopes",
        args: &[opt("limit", LIMIT, Query), opt("cursor", Text, Query)],
        client_fields: false,
        list_key: Some("scopes"),
        merge_from_get: false,
    },
    Operation {
        name: "scopes.delete",
        method: Method::Delete,
        path: "/scopes/{name}",
        args: &[req("name", Id, Path)],
        client_fields: false,
        list_key: None,
        merge_from_get: false,
    },
    Operation {
        name: "roles.create",
        method: Method::Post,
        path: "/roles",
        args: &[
            req("name", Id, Body),
            opt("scopes", Strings, Body),
            opt("audiences", Strings, Body),
        ],
        client_fields: false,
        list_key: None,
        merge_from_get: false,
    },
    Operation {
        name: "roles.get",
        method: Method::Get,
        path: "/roles/{name}",
        args: &[req("name", Id, Path)],
        client_fields: false,
        list_key: None,
        merge_from_get: false,
    },
    Operation {
        name: "roles.list",
        method: Method::Get,
        path: "/roles",
        args: &[],
        client_fields: false,
        list_key: Some("roles"),
        merge_from_get: false,
    },
    Operation {
        name: "roles.update",
        method: Method::Put,
        path: "/roles/{name}",
        args: &[
            req("name", Id, Path),
            opt("scopes", Strings, Body),
            opt("audiences", Strings, Body),
        ],
        client_fields: false,
        list_key: None,
        merge_from_get: true,
    },
    Operation {
        name: "roles.delete",
        method: Method::Delete,
        path: "/roles/{name}",
        args: &[req("name", Id, Path)],
        client_fields: false,
        list_key: None,
        merge_from_get: false,
    },
    Operation {
        name: "logs.list",
        method: Method::Get,
        path: "/logs",
        args: &[
            opt("client_id", Text, Query),
            opt("event", OneOrMany, Query),
            opt("outcome", Outcome, Query),
            opt("since", Time, Query),
            opt("until", Time, Query),
            opt("limit", LIMIT, Query),
            opt("cursor", Text, Query),
        ],
        client_fields: false,
        list_key: Some("logs"),
        merge_from_get: false,
    },
    Operation {
        name: "keys.list",
        method: Method::Get,
        path: "/keys",
        args: &[],
        client_fields: false,
        list_key: Some("keys"),
        merge_from_get: false,
    },
    Operation {
        name: "keys.rotate",
        method: Method::Post,
        path: "/keys/rotate",
        args: &[opt("alg", Text, Body), opt("activate_in", ACTIVATE_IN, Body)],
        client_fields: false,
        list_key: None,
        merge_from_get: false,
    },
];

/// Every operation's name, in the contract's order.
pub const OPERATION_NAMES: [&str; 18] = [
    "clients.create",
    "clients.get",
    "clients.list",
    "clients.update",
    "clients.delete",
    "clients.rotate_secret",
    "clients.revoke_secret",
    "scopes.create",
    "scopes.list",
    "scopes.delete",
    "roles.create",
    "roles.get",
    "roles.list",
    "roles.update",
    "roles.delete",
    "logs.list",
    "keys.list",
    "keys.rotate",
];

/// The operation of this name.
pub fn find(name: &str) -> Option<&'static Operation> {
    OPERATIONS.iter().find(|o| o.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_table_agree() {
        let names: Vec<&str> = OPERATIONS.iter().map(|o| o.name).collect();
        assert_eq!(names, OPERATION_NAMES);
        for op in OPERATIONS {
            // Every path placeholder is a path argument, and the other way round.
            for a in op.args {
                let placeholder = format!("{{{}}}", a.name);
                assert_eq!(op.path.contains(&placeholder), a.place == Place::Path, "{}", op.name);
                assert!(a.default.is_none() || (a.place == Place::Path && !a.required));
            }
            assert_eq!(
                op.path.matches('{').count(),
                op.args.iter().filter(|a| a.place == Place::Path).count()
            );
            // Bodies only where the method has one.
            if matches!(op.method, Method::Get | Method::Delete) {
                assert!(
                    !op.client_fields && op.args.iter().all(|a| a.place != Place::Body),
                    "{}",
                    op.name
                );
            }
            assert_eq!(op.list_key.is_some(), op.name.ends_with(".list"), "{}", op.name);
        }
        assert!(is_client_field("tls_client_auth_san_dns") && is_client_field("allowed_scopes"));
        assert!(!is_client_field("scopes") && !is_client_field("tls_client_auth_") && !is_client_field("secret"));
    }
}
