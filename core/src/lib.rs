//! # authsec-core
//!
//! The one implementation behind every authsec binding: OAuth 2.0 tokens with a cache (the client
//! side), JWT access-token verification against cached keys (the resource side), and scopes.
//!
//! What is sans-IO and what is IO-injected:
//! - Sans-IO (data in, data out, the caller supplies `now`): building token requests and reading
//!   token responses ([`client::request`], [`client::response`]), the JOSE primitives
//!   ([`jose`]), the access-token rules ([`access_token::rules`]), scopes ([`scope`]), the RFC 6750
//!   answers ([`resource`]), configuration readers ([`config`], [`options`]).
//! - IO-injected: the caches that must fetch ([`TokenClient`], [`key_provider::JwksCache`],
//!   [`discovery::MetadataCache`]) drive their own async refreshes, but through a [`Transport`],
//!   a [`Clock`] and a [`Sleeper`] they are given (see [`runtime`]): tokio natively, `fetch` in
//!   wasm, a fake transport and a [`ManualClock`] in tests. The core never opens a socket, reads
//!   a file or an environment variable.
//!
//! [`Transport`]: http::Transport
#![forbid(unsafe_code)]

pub mod access_token;
pub mod client;
pub mod clock;
pub mod config;
pub mod discovery;
pub mod dpop;
pub mod error;
pub mod http;
pub mod jose;
pub mod key_provider;
pub mod management;
pub mod mcp;
pub mod options;
pub mod random;
pub mod refresh;
pub mod resource;
pub mod runtime;
pub mod scope;
pub mod secret;
pub mod spiffe;
pub mod util;

pub use access_token::{
    Actor, Claims, DelegationPolicy, KeySpec, Prepared, SignatureCheck, TypPolicy, Verifier, VerifierConfig,
    VerifierOptions,
};
pub use client::{
    AuthMethod, ClientConfig, Downstream, ExchangeRequest, RetryPolicy, Token, TokenClient, TokenExchange, TokenParams,
    Unauthorized,
};
pub use clock::{ManualClock, SystemClock};
pub use config::ConfigEnv;
pub use error::{Error, ErrorCategory, ErrorClass, ErrorCode, Result};
pub use jose::alg::Alg;
pub use jose::keys::{KeySet, PublicKey, VerifyKey};
pub use jose::signing::SigningKey;
pub use key_provider::{JwksCache, JwksPolicy, JwksStore, KeyProvider, KeySourceInfo, StaticKeys, StoredJwks};
pub use resource::bearer::http_status;
pub use resource::challenge::{www_authenticate, ChallengeParams};
pub use runtime::{Clock, Sleeper, Spawner};
pub use scope::ScopeRequirement;
pub use secret::Secret;
