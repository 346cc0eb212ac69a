//! A key kyso holds, paired with its certificate chain.

use super::{SignError, SignerProfile};
use crate::cms::CertificateInfo;
use crate::crypto::{SignatureAlgorithm, SigningKey};
use std::sync::Arc;

/// A key with its certificate chain, checked and sized once, then reused for
/// every document.
#[derive(Debug)]
pub struct Signer {
    key: Arc<dyn SigningKey>,
    profile: Arc<SignerProfile>,
}

impl Signer {
    /// Pairs `key` with its certificate (first in `chain`) and intermediates,
    /// refusing a key that is not the certificate's.
    pub fn new<B: AsRef<[u8]>>(key: Arc<dyn SigningKey>, chain: &[B]) -> Result<Self, SignError> {
        let profile = SignerProfile::new(chain, key.algorithm(), key.max_signature_len())?;
        if profile.certificate().public_key != key.public_key_bytes() {
            return Err(SignError::KeyDoesNotMatchCertificate {
                subject: profile.certificate().subject.clone(),
            });
        }
        Ok(Self {
            key,
            profile: Arc::new(profile),
        })
    }

    /// The signer certificate's facts.
    pub fn certificate(&self) -> &CertificateInfo {
        self.profile.certificate()
    }

    /// The key's signature algorithm.
    pub fn algorithm(&self) -> SignatureAlgorithm {
        self.key.algorithm()
    }

    /// The certificates, algorithm and placeholder size signatures are
    /// prepared with.
    pub fn profile(&self) -> &Arc<SignerProfile> {
        &self.profile
    }

    /// The key.
    pub fn key(&self) -> &dyn SigningKey {
        self.key.as_ref()
    }
}
