//! Asymmetric JWS algorithms. HMAC and `none` cannot even be named here: a verifier configured
//! with this type can never be tricked into HMAC-with-a-public-key or unsigned tokens.

use crate::util::quoted;
use crate::{Error, ErrorCode, Result};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Alg {
    RS256,
    RS384,
    RS512,
    PS256,
    PS384,
    PS512,
    ES256,
    ES384,
    EdDSA,
}

/// The key family an algorithm needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyFamily {
    Rsa,
    EcP256,
    EcP384,
    Ed25519,
}

impl Alg {
    pub const ALL: [Alg; 9] = [
        Alg::RS256,
        Alg::RS384,
        Alg::RS512,
        Alg::PS256,
        Alg::PS384,
        Alg::PS512,
        Alg::ES256,
        Alg::ES384,
        Alg::EdDSA,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Alg::RS256 => "RS256",
            Alg::RS384 => "RS384",
            Alg::RS512 => "RS512",
            Alg::PS256 => "PS256",
            Alg::PS384 => "PS384",
            Alg::PS512 => "PS512",
            Alg::ES256 => "ES256",
            Alg::ES384 => "ES384",
            Alg::EdDSA => "EdDSA",
        }
    }

    /// Parse a JOSE `alg` name; `none`, `HS*` and unknown names are rejected with a message that
    /// says why.
    pub fn parse(s: &str) -> Result<Alg> {
        Ok(match s {
            "RS256" => Alg::RS256,
            "RS384" => Alg::RS384,
            "RS512" => Alg::RS512,
            "PS256" => Alg::PS256,
            "PS384" => Alg::PS384,
            "PS512" => Alg::PS512,
            "ES256" => Alg::ES256,
            "ES384" => Alg::ES384,
            "EdDSA" | "Ed25519" => Alg::EdDSA,
            n if n.eq_ignore_ascii_case("none") => {
                return Err(Error::new(
                    ErrorCode::UnsupportedAlgorithm,
                    "alg \"none\" (unsigned token) is never accepted",
                ))
            }
            n if n.starts_with("HS") => {
                return Err(Error::new(
                    ErrorCode::UnsupportedAlgorithm,
                    format!(
                        "alg {} (HMAC) is never accepted for access tokens verified with public keys",
                        quoted(n)
                    ),
                ))
            }
            n => {
                return Err(Error::new(
                    ErrorCode::UnsupportedAlgorithm,
                    format!(
                        "alg {} is not supported; use one of RS256/384/512, PS256/384/512, ES256/384, EdDSA",
                        quoted(n)
                    ),
                ))
            }
        })
    }

    pub fn family(self) -> KeyFamily {
        match self {
            Alg::RS256 | Alg::RS384 | Alg::RS512 | Alg::PS256 | Alg::PS384 | Alg::PS512 => KeyFamily::Rsa,
            Alg::ES256 => KeyFamily::EcP256,
            Alg::ES384 => KeyFamily::EcP384,
            Alg::EdDSA => KeyFamily::Ed25519,
        }
    }

    pub(crate) fn to_jwt(self) -> jsonwebtoken::Algorithm {
        use jsonwebtoken::Algorithm as A;
        match self {
            Alg::RS256 => A::RS256,
            Alg::RS384 => A::RS384,
            Alg::RS512 => A::RS512,
            Alg::PS256 => A::PS256,
            Alg::PS384 => A::PS384,
            Alg::PS512 => A::PS512,
            Alg::ES256 => A::ES256,
            Alg::ES384 => A::ES384,
            Alg::EdDSA => A::EdDSA,
        }
    }
}

impl fmt::Display for Alg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Alg {
    type Err = Error;
    fn from_str(s: &str) -> Result<Alg> {
        Alg::parse(s)
    }
}

/// The jsonwebtoken crypto provider this build uses, installed explicitly (jsonwebtoken panics at
/// first use when a workspace build unifies both backend features). A build with neither backend
/// (the wasm package, which checks signatures with WebCrypto through [`crate::Verifier::prepare`]
/// and [`crate::Verifier::complete`]) has none.
#[cfg(any(feature = "aws_lc_rs", feature = "rust_crypto"))]
pub(crate) fn provider() -> Result<&'static jsonwebtoken::crypto::CryptoProvider> {
    #[cfg(feature = "aws_lc_rs")]
    let p = &jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER;
    #[cfg(all(feature = "rust_crypto", not(feature = "aws_lc_rs")))]
    let p = &jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER;
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = p.install_default();
    });
    Ok(p)
}

#[cfg(not(any(feature = "aws_lc_rs", feature = "rust_crypto")))]
pub(crate) fn provider() -> Result<&'static jsonwebtoken::crypto::CryptoProvider> {
    Err(Error::new(
        crate::ErrorCode::ConfigError,
        "this build of authsec-core has no signature backend (features aws_lc_rs or rust_crypto): \
         check signatures externally with Verifier::prepare and Verifier::complete",
    ))
}
