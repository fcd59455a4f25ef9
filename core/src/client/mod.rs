//! Getting tokens (the client side of OAuth 2.0): configuration, [`grant`]s (client credentials,
//! and RFC 8693 token exchange in [`token_exchange`]), [`client_auth`] methods, building requests
//! and reading answers (sans-IO), retries, the [`TokenClient`] cache, DPoP proofs and nonces
//! ([`dpop`]), what to do when a resource answers 401, and secretless requests with the workload's
//! SPIFFE identity ([`workload_identity`]).

pub mod client_auth;
pub mod config;
pub mod dpop;
pub mod grant;
pub mod request;
pub mod response;
pub mod retry;
pub mod secret_files;
pub mod token_client;
pub mod token_exchange;
pub mod unauthorized;
pub mod workload_identity;

pub use client_auth::ClientAuth;
pub use config::{AuthMethod, ClientConfig};
pub use grant::{ClientCredentials, Grant};
pub use request::TokenParams;
pub use response::Token;
pub use retry::RetryPolicy;
pub use token_client::TokenClient;
pub use token_exchange::{Downstream, ExchangeRequest, TokenExchange};
pub use unauthorized::Unauthorized;
