//! Verification keys parsed once for aws-lc-rs (native builds). jsonwebtoken's aws-lc verifier
//! builds the public key again for every signature (for RSA: the key object, its Montgomery
//! context and a division; for EC and Ed25519: the point decoding), which costs as much as a
//! tenth of an RSA check. A [`ParsedKeys`] keeps one `ParsedPublicKey` per algorithm that has
//! used the key, made on first use with the algorithm parameters jsonwebtoken uses, so every
//! signature verifies exactly as before.

use super::alg::{Alg, KeyFamily};
use super::keys::PublicKey;
use aws_lc_rs::signature::{self as sig, ParsedPublicKey, RsaPublicKeyComponents};
use std::sync::OnceLock;

/// A key's parsed forms, one slot per algorithm (`None`: aws-lc-rs refused the key for it).
#[derive(Default)]
pub(crate) struct ParsedKeys {
    by_alg: [OnceLock<Option<ParsedPublicKey>>; 9],
}

impl ParsedKeys {
    /// The key parsed for `alg` (whose family must be the key's), or `None` when aws-lc-rs
    /// refuses it (the caller's signature check then fails the way it did before).
    pub(crate) fn for_alg(&self, alg: Alg, public: &PublicKey) -> Option<&ParsedPublicKey> {
        self.by_alg[slot(alg)].get_or_init(|| parse(alg, public)).as_ref()
    }
}

fn slot(alg: Alg) -> usize {
    match alg {
        Alg::RS256 => 0,
        Alg::RS384 => 1,
        Alg::RS512 => 2,
        Alg::PS256 => 3,
        Alg::PS384 => 4,
        Alg::PS512 => 5,
        Alg::ES256 => 6,
        Alg::ES384 => 7,
        Alg::EdDSA => 8,
    }
}

/// The verification parameters jsonwebtoken's aws-lc backend uses for `alg`.
fn parse(alg: Alg, public: &PublicKey) -> Option<ParsedPublicKey> {
    let rsa = |params: &'static sig::RsaParameters| match public {
        PublicKey::Rsa { n, e } => RsaPublicKeyComponents { n, e }.to_parsed_public_key(params).ok(),
        _ => None,
    };
    match (alg, alg.family(), public) {
        (Alg::RS256, ..) => rsa(&sig::RSA_PKCS1_2048_8192_SHA256),
        (Alg::RS384, ..) => rsa(&sig::RSA_PKCS1_2048_8192_SHA384),
        (Alg::RS512, ..) => rsa(&sig::RSA_PKCS1_2048_8192_SHA512),
        (Alg::PS256, ..) => rsa(&sig::RSA_PSS_2048_8192_SHA256),
        (Alg::PS384, ..) => rsa(&sig::RSA_PSS_2048_8192_SHA384),
        (Alg::PS512, ..) => rsa(&sig::RSA_PSS_2048_8192_SHA512),
        (Alg::ES256, KeyFamily::EcP256, PublicKey::Ec { x, y, .. }) => {
            ParsedPublicKey::new(&sig::ECDSA_P256_SHA256_FIXED, uncompressed(x, y)).ok()
        }
        (Alg::ES384, KeyFamily::EcP384, PublicKey::Ec { x, y, .. }) => {
            ParsedPublicKey::new(&sig::ECDSA_P384_SHA384_FIXED, uncompressed(x, y)).ok()
        }
        (Alg::EdDSA, KeyFamily::Ed25519, PublicKey::Ed25519 { x }) => ParsedPublicKey::new(&sig::ED25519, x).ok(),
        _ => None,
    }
}

/// The uncompressed SEC1 point `04 || x || y` (what jsonwebtoken hands aws-lc-rs for EC keys).
fn uncompressed(x: &[u8], y: &[u8]) -> Vec<u8> {
    [&[4u8][..], x, y].concat()
}

#[cfg(test)]
mod tests {
    use super::super::compact::check_signature;
    use super::super::keys::KeySet;
    use super::*;
    use crate::jose::signing::SigningKey;
    use crate::util::b64url_decode;
    use crate::ErrorCode;
    use serde_json::{json, Map};

    /// Every algorithm verifies through its parsed key, again (the same parsed key) and with a
    /// clone of the key; a wrong signature and a wrong algorithm fail as before.
    #[test]
    fn parsed_keys_verify_every_algorithm_once_parsed() {
        let algs = [Alg::RS256, Alg::RS384, Alg::RS512, Alg::PS256, Alg::PS384, Alg::PS512];
        let rsa = SigningKey::generate(Alg::RS256, Some("rsa".into())).unwrap();
        let others = [
            SigningKey::generate(Alg::ES256, Some("p256".into())).unwrap(),
            SigningKey::generate(Alg::ES384, Some("p384".into())).unwrap(),
            SigningKey::generate(Alg::EdDSA, Some("ed".into())).unwrap(),
        ];
        let mut cases: Vec<(Alg, SigningKey)> = algs
            .iter()
            .map(|a| {
                let pem = rsa.to_pem().expose().to_string();
                (*a, SigningKey::from_pem(&pem, Some(*a), Some("rsa".into())).unwrap())
            })
            .collect();
        cases.extend(others.iter().map(|k| (k.alg(), k.clone())));
        for (alg, key) in cases {
            let mut public = key.public_jwk();
            public.as_object_mut().unwrap().remove("alg");
            let set = KeySet::from_jwks_json(json!({ "keys": [public] }).to_string().as_bytes()).unwrap();
            let vk = set.keys()[0].clone();
            let token = key.sign(None, &Map::new(), &json!({"sub": "s"})).unwrap();
            let (message, sig_b64) = token.rsplit_once('.').unwrap();
            let signature = b64url_decode(sig_b64).unwrap();
            assert!(vk.parsed.for_alg(alg, vk.public_key()).is_some(), "{alg} parses");
            for k in [&vk, &vk.clone()] {
                check_signature(alg, k, message.as_bytes(), &signature).unwrap_or_else(|e| panic!("{alg}: {e}"));
            }
            let mut bad = signature.clone();
            bad[3] ^= 1;
            let e = check_signature(alg, &vk, message.as_bytes(), &bad).unwrap_err();
            assert_eq!(e.code(), ErrorCode::InvalidSignature, "{alg}");
            let e = check_signature(alg, &vk, b"another message", &signature).unwrap_err();
            assert_eq!(e.code(), ErrorCode::InvalidSignature, "{alg}");
        }
        // A key never parses for another family's algorithm, and such a check is refused.
        let ed = KeySet::from_jwks_json(json!({ "keys": [others[2].public_jwk()] }).to_string().as_bytes()).unwrap();
        let vk = &ed.keys()[0];
        assert!(vk.parsed.for_alg(Alg::ES256, vk.public_key()).is_none());
        let e = check_signature(Alg::RS256, vk, b"m", &vec![0; 64]).unwrap_err();
        assert_eq!(e.code(), ErrorCode::AlgorithmMismatch);
    }
}
