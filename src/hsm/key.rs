//! A private key on a token, signing through PKCS#11 as a [`SigningKey`].
//!
//! kyso hashes; the token signs the digest with the raw mechanisms every token has (PKCS #11
//! Current Mechanisms v2.40): CKM_RSA_PKCS over a DigestInfo ("PKCS #1 v1.5 RSA"),
//! CKM_RSA_PKCS_PSS with MGF1 and a salt as long as the hash ("PKCS #1 RSA PSS", RFC 4056 §3),
//! CKM_ECDSA over the digest ("ECDSA"), whose r‖s output becomes the DER `ECDSA-Sig-Value`
//! that ring gives and CMS carries. Each signature is verified with the public key before it
//! leaves: a token that computes a wrong RSA-CRT signature would otherwise leak its key (Boneh,
//! DeMillo and Lipton, 1997) into a published document.

use std::error::Error as _;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use cryptoki::error::{Error as Pkcs11Error, RvError};
use cryptoki::mechanism::rsa::{PkcsMgfType, PkcsPssParams};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{
    Attribute, AttributeInfo, AttributeType, KeyType, ObjectClass, ObjectHandle,
};
use cryptoki::session::Session;

use super::HsmError;
use super::der;
use super::token::TokenInner;
use crate::crypto::{
    CryptoError, DigestAlgorithm, RsaPadding, SignatureAlgorithm, SigningKey, verify_signature,
};

/// A private key on a PKCS#11 token. Holds no secret: the token keeps the key, and the
/// token's PIN stays with the token's sessions.
pub struct Pkcs11SigningKey {
    token: Arc<TokenInner>,
    label: String,
    id: Vec<u8>,
    /// Object handles may change when the token is reinserted; the key is then found again by
    /// label and identifier.
    handle: Mutex<ObjectHandle>,
    algorithm: SignatureAlgorithm,
    public_key: Vec<u8>,
    /// RSA: the modulus length; ECDSA: the field size. In bytes.
    size: usize,
}

/// How well a key is protected, as the token reports it (PKCS #11 v2.40 §4.9, private key
/// objects). An attribute the token does not report counts as the weaker value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyProtection {
    /// `CKA_SENSITIVE`: the private value cannot be read.
    pub sensitive: bool,
    /// `CKA_EXTRACTABLE`: the key can be wrapped out of the token.
    pub extractable: bool,
    /// `CKA_ALWAYS_SENSITIVE`: the key has been sensitive since it was made, so it was made on
    /// the token (false for an imported key).
    pub always_sensitive: bool,
    /// `CKA_NEVER_EXTRACTABLE`: the key has never been extractable.
    pub never_extractable: bool,
    /// Whether the token returned the private value (`CKA_VALUE` for EC,
    /// `CKA_PRIVATE_EXPONENT` for RSA) when asked with `C_GetAttributeValue`; the value itself
    /// is never kept.
    pub secret_readable: bool,
}

impl fmt::Debug for Pkcs11SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkcs11SigningKey")
            .field("token", &self.token.label())
            .field("label", &self.label)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

/// The key identifier of RFC 7093 §2 method 1: the first 160 bits of SHA-256 over the
/// subjectPublicKey, used as `CKA_ID` so that a key, its public half and its certificate can be
/// matched on the token.
pub(super) fn identifier(public_key: &[u8]) -> Vec<u8> {
    let mut digest = DigestAlgorithm::Sha256.digest(public_key);
    digest.truncate(20);
    digest
}

/// Reads the key `private` (labelled `key_label`) from the token: its type, identifier and
/// public key, from the private object or its public half (`public`, or found by identifier).
pub(super) fn load(
    token: &Arc<TokenInner>,
    session: &Session,
    private: ObjectHandle,
    public: Option<ObjectHandle>,
    key_label: &str,
    rsa_padding: RsaPadding,
) -> Result<Pkcs11SigningKey, HsmError> {
    let malformed = |attribute| HsmError::MalformedAttribute {
        key_label: key_label.to_owned(),
        attribute,
    };
    let attributes = session
        .get_attributes(
            private,
            &[
                AttributeType::KeyType,
                AttributeType::Id,
                AttributeType::Modulus,
                AttributeType::PublicExponent,
                AttributeType::EcParams,
            ],
        )
        .map_err(|source| token.failed("reading the key's attributes", source))?;
    let (mut key_type, mut id, mut modulus, mut exponent, mut parameters) =
        (None, Vec::new(), None, None, None);
    for attribute in attributes {
        match attribute {
            Attribute::KeyType(value) => key_type = Some(value),
            Attribute::Id(value) => id = value,
            Attribute::Modulus(value) => modulus = Some(value),
            Attribute::PublicExponent(value) => exponent = Some(value),
            Attribute::EcParams(value) => parameters = Some(value),
            _ => {}
        }
    }
    let key_type = key_type.ok_or_else(|| malformed("CKA_KEY_TYPE"))?;
    let public_half = |attributes: &[AttributeType]| -> Result<Vec<Attribute>, HsmError> {
        let public = match public {
            Some(public) => public,
            None => find_public_key(token, session, key_type, &id, key_label)?,
        };
        session
            .get_attributes(public, attributes)
            .map_err(|source| token.failed("reading the public key", source))
    };

    let (algorithm, public_key, size) = if key_type == KeyType::RSA {
        // CKA_PUBLIC_EXPONENT is optional on RSA private keys; the public key has it.
        let (modulus, exponent) = match (modulus, exponent) {
            (Some(modulus), Some(exponent)) => (modulus, exponent),
            _ => {
                let (mut modulus, mut exponent) = (None, None);
                for attribute in
                    public_half(&[AttributeType::Modulus, AttributeType::PublicExponent])?
                {
                    match attribute {
                        Attribute::Modulus(value) => modulus = Some(value),
                        Attribute::PublicExponent(value) => exponent = Some(value),
                        _ => {}
                    }
                }
                (
                    modulus.ok_or_else(|| malformed("CKA_MODULUS"))?,
                    exponent.ok_or_else(|| malformed("CKA_PUBLIC_EXPONENT"))?,
                )
            }
        };
        let modulus = der::unsigned(&modulus);
        let bits = modulus
            .first()
            .map_or(0, |b| modulus.len() * 8 - b.leading_zeros() as usize);
        if bits < 2048 {
            return Err(HsmError::RsaKeyTooShort {
                key_label: key_label.to_owned(),
                bits,
            });
        }
        let algorithm = match rsa_padding {
            RsaPadding::Pkcs1 => SignatureAlgorithm::RsaPkcs1Sha256,
            RsaPadding::Pss => SignatureAlgorithm::RsaPssSha256,
        };
        (
            algorithm,
            der::rsa_public_key(modulus, der::unsigned(&exponent)),
            modulus.len(),
        )
    } else if key_type == KeyType::EC {
        let (algorithm, size) = match parameters.as_deref() {
            Some(der::P256_PARAMETERS) => (SignatureAlgorithm::EcdsaP256Sha256, 32),
            Some(der::P384_PARAMETERS) => (SignatureAlgorithm::EcdsaP384Sha384, 48),
            Some(_) => {
                return Err(HsmError::UnsupportedCurve {
                    key_label: key_label.to_owned(),
                });
            }
            None => return Err(malformed("CKA_EC_PARAMS")),
        };
        let point = public_half(&[AttributeType::EcPoint])?
            .into_iter()
            .find_map(|attribute| match attribute {
                Attribute::EcPoint(value) => {
                    der::ec_point(&value, 1 + 2 * size).map(<[u8]>::to_vec)
                }
                _ => None,
            })
            .ok_or_else(|| malformed("CKA_EC_POINT"))?;
        (algorithm, point, size)
    } else {
        return Err(HsmError::UnsupportedKeyType {
            key_label: key_label.to_owned(),
            key_type: key_type.to_string(),
        });
    };
    Ok(Pkcs11SigningKey {
        token: Arc::clone(token),
        label: key_label.to_owned(),
        id,
        handle: Mutex::new(private),
        algorithm,
        public_key,
        size,
    })
}

/// The public key beside a private key: same type and identifier (or label, when the private
/// key has no identifier).
fn find_public_key(
    token: &TokenInner,
    session: &Session,
    key_type: KeyType,
    id: &[u8],
    key_label: &str,
) -> Result<ObjectHandle, HsmError> {
    let mut template = vec![
        Attribute::Class(ObjectClass::PUBLIC_KEY),
        Attribute::KeyType(key_type),
    ];
    template.push(if id.is_empty() {
        Attribute::Label(key_label.as_bytes().to_vec())
    } else {
        Attribute::Id(id.to_vec())
    });
    let found = session
        .find_objects(&template)
        .map_err(|source| token.failed("finding the public key", source))?;
    found
        .first()
        .copied()
        .ok_or_else(|| HsmError::PublicKeyNotFound {
            key_label: key_label.to_owned(),
            token_label: token.label().to_owned(),
        })
}

impl Pkcs11SigningKey {
    /// The key's label on the token.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The key's `CKA_ID` (empty if the token has none for it).
    pub fn id(&self) -> &[u8] {
        &self.id
    }

    pub(super) fn set_id(&mut self, id: Vec<u8>) {
        self.id = id;
    }

    /// Signs `message` like [`SigningKey::sign`], with the token's reason when it fails.
    pub fn sign_on_token(&self, message: &[u8]) -> Result<Vec<u8>, HsmError> {
        let digest = self.algorithm.digest().digest(message);
        let (mechanism, data) = match self.algorithm {
            SignatureAlgorithm::RsaPkcs1Sha256 => {
                (Mechanism::RsaPkcs, der::sha256_digest_info(&digest))
            }
            SignatureAlgorithm::RsaPssSha256 => (
                Mechanism::RsaPkcsPss(PkcsPssParams {
                    hash_alg: MechanismType::SHA256,
                    mgf: PkcsMgfType::MGF1_SHA256,
                    s_len: (DigestAlgorithm::Sha256.output_len() as u64).into(),
                }),
                digest,
            ),
            SignatureAlgorithm::EcdsaP256Sha256 | SignatureAlgorithm::EcdsaP384Sha384 => {
                (Mechanism::Ecdsa, digest)
            }
        };
        let raw = self
            .token
            .with_session(|session| self.sign_in(session, &mechanism, &data))?;
        let signature = if self.algorithm.is_rsa() {
            raw
        } else if raw.len() == 2 * self.size {
            der::ecdsa_signature_value(&raw)
        } else {
            return Err(HsmError::SignatureMalformed {
                key_label: self.label.clone(),
                length: raw.len(),
            });
        };
        verify_signature(self.algorithm, &self.public_key, message, &signature).map_err(|_| {
            HsmError::SignatureDoesNotVerify {
                key_label: self.label.clone(),
            }
        })?;
        Ok(signature)
    }

    /// What the token says about the key's protection. Asks for the private value without
    /// receiving it (a `C_GetAttributeValue` that only sizes it).
    pub fn protection(&self) -> Result<KeyProtection, HsmError> {
        let secret = if self.algorithm.is_rsa() {
            AttributeType::PrivateExponent
        } else {
            AttributeType::Value
        };
        self.token.with_session(|session| {
            let handle = self.handle(session)?;
            let mut protection = KeyProtection {
                sensitive: false,
                extractable: true,
                always_sensitive: false,
                never_extractable: false,
                secret_readable: false,
            };
            for attribute in session
                .get_attributes(
                    handle,
                    &[
                        AttributeType::Sensitive,
                        AttributeType::Extractable,
                        AttributeType::AlwaysSensitive,
                        AttributeType::NeverExtractable,
                    ],
                )
                .map_err(|source| self.token.failed("reading the key's attributes", source))?
            {
                match attribute {
                    Attribute::Sensitive(value) => protection.sensitive = value,
                    Attribute::Extractable(value) => protection.extractable = value,
                    Attribute::AlwaysSensitive(value) => protection.always_sensitive = value,
                    Attribute::NeverExtractable(value) => protection.never_extractable = value,
                    _ => {}
                }
            }
            let info = session
                .get_attribute_info(handle, &[secret])
                .map_err(|source| self.token.failed("asking for the private value", source))?;
            protection.secret_readable = matches!(info[..], [AttributeInfo::Available(_)]);
            Ok(protection)
        })
    }

    /// Signs `data` in `session`, finding the key again if its handle went stale.
    fn sign_in(
        &self,
        session: &Session,
        mechanism: &Mechanism,
        data: &[u8],
    ) -> Result<Vec<u8>, HsmError> {
        let handle = *self.handle.lock().unwrap_or_else(PoisonError::into_inner);
        match session.sign(mechanism, handle, data) {
            Err(Pkcs11Error::Pkcs11(
                RvError::KeyHandleInvalid | RvError::ObjectHandleInvalid,
                _,
            )) => {
                let handle = self.refind(session)?;
                session.sign(mechanism, handle, data)
            }
            result => result,
        }
        .map_err(|source| self.token.failed("signing", source))
    }

    /// The key's current handle (checked by reading an attribute, found again if stale).
    fn handle(&self, session: &Session) -> Result<ObjectHandle, HsmError> {
        let handle = *self.handle.lock().unwrap_or_else(PoisonError::into_inner);
        match session.get_attributes(handle, &[AttributeType::Class]) {
            Ok(_) => Ok(handle),
            Err(Pkcs11Error::Pkcs11(RvError::ObjectHandleInvalid, _)) => self.refind(session),
            Err(source) => Err(self.token.failed("reading the key's attributes", source)),
        }
    }

    fn refind(&self, session: &Session) -> Result<ObjectHandle, HsmError> {
        let id = (!self.id.is_empty()).then_some(self.id.as_slice());
        let handle = self.token.find_private_key(session, &self.label, id)?;
        *self.handle.lock().unwrap_or_else(PoisonError::into_inner) = handle;
        Ok(handle)
    }
}

impl SigningKey for Pkcs11SigningKey {
    fn algorithm(&self) -> SignatureAlgorithm {
        self.algorithm
    }

    fn public_key_bytes(&self) -> &[u8] {
        &self.public_key
    }

    fn max_signature_len(&self) -> usize {
        if self.algorithm.is_rsa() {
            self.size
        } else {
            // DER ECDSA-Sig-Value: SEQUENCE { INTEGER r, INTEGER s }, each up to the field size
            // plus a leading zero byte.
            2 + 2 * (2 + self.size + 1)
        }
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.sign_on_token(message).map_err(|error| {
            // CryptoError carries no cause; the log keeps the token's.
            let mut reason = error.to_string();
            let mut source = error.source();
            while let Some(cause) = source {
                reason.push_str(": ");
                reason.push_str(&cause.to_string());
                source = cause.source();
            }
            tracing::error!(
                key = %self.label,
                token = %self.token.label(),
                %reason,
                "PKCS#11 signing failed"
            );
            CryptoError::SigningFailed {
                algorithm: self.algorithm,
            }
        })
    }
}
