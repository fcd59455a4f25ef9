//! # authsec-core
//!
//! The one implementation behind every authsec binding: OAuth 2.0 client credentials with a
//! token cache, JWT access-token verification against a (cached) JWKS, and scope checks.
//!
//! The core is sans-IO: it builds [`http::HttpRequest`]s and parses [`http::HttpResponse`]s as
//! plain data; sockets, timers and clocks are injected through [`http::Transport`],
//! [`runtime::Sleeper`] and [`runtime::Clock`].
#![forbid(unsafe_code)]

pub mod config;
pub mod error;
pub mod http;
pub mod jwt;
pub mod runtime;
pub mod secret;
pub mod token;
pub mod util;

pub use config::{AuthMethod, ClientConfig};
pub use error::{Error, ErrorCode, Result};
pub use jwt::alg::Alg;
pub use jwt::claims::Claims;
pub use jwt::jwks::{JwksCache, JwksPolicy, JwksStore, StoredJwks};
pub use jwt::keys::{KeySet, PublicKey, VerifyKey};
pub use jwt::options::{KeySpec, VerifierOptions};
pub use jwt::scopes::{http_status, www_authenticate, ScopeRequirement};
pub use jwt::signing::SigningKey;
pub use jwt::verify::{KeySource, Prepared, SignatureCheck, TypPolicy, Verifier, VerifierConfig};
pub use runtime::{Clock, ManualClock, Sleeper, SystemClock};
pub use secret::Secret;
pub use token::client::{RetryPolicy, TokenClient};
pub use token::request::TokenParams;
pub use token::response::Token;
