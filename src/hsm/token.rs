//! A token: its slot, its login, a small pool of logged-in sessions, and the keys made on it.

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use cryptoki::context::Pkcs11;
use cryptoki::error::{Error as Pkcs11Error, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use zeroize::Zeroize;

use super::der::{self, PrivateParts};
use super::key::{self, Pkcs11SigningKey};
use super::{HsmError, Pin, Pkcs11Config};
use crate::crypto::{RingSigningKey, RsaPadding, SignatureAlgorithm, SigningKey};

/// Logged-in sessions kept open between signatures; more are opened when more threads sign at
/// once, and closed again when they come back to a full pool.
const IDLE_SESSIONS: usize = 4;

/// The public exponent of generated RSA keys: F4 = 65537 (the only value ring and most
/// validators expect).
const RSA_PUBLIC_EXPONENT: [u8; 3] = [0x01, 0x00, 0x01];

/// A key type and size to generate on a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeySpec {
    /// RSA with a 2048-bit modulus (CKM_RSA_PKCS_KEY_PAIR_GEN).
    Rsa2048,
    /// RSA with a 3072-bit modulus.
    Rsa3072,
    /// ECDSA on P-256 (CKM_EC_KEY_PAIR_GEN).
    EcdsaP256,
    /// ECDSA on P-384.
    EcdsaP384,
}

/// An open token, logged in as its user. Cheap to clone; the keys taken from it share its
/// sessions.
#[derive(Clone)]
pub struct Token {
    inner: Arc<TokenInner>,
}

/// What a token and its keys share.
pub(super) struct TokenInner {
    context: Pkcs11,
    slot: Slot,
    label: String,
    module: PathBuf,
    pin: Pin,
    idle: Mutex<Vec<Session>>,
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("label", &self.inner.label)
            .field("module", &self.inner.module)
            .field("slot", &self.inner.slot.id())
            .finish_non_exhaustive()
    }
}

impl Token {
    /// Finds the initialised token labelled `config.token_label` in `config.module` and logs in
    /// with `config.pin`, so that a wrong PIN shows when kyso starts, not at the first
    /// signature. The login session stays open for the keys (see the [module](super) notes).
    pub fn open(config: &Pkcs11Config) -> Result<Token, HsmError> {
        let context = super::context(&config.module)?;
        let label = &config.token_label;
        let failed = |operation, source| HsmError::Token {
            operation,
            token_label: label.clone(),
            source,
        };
        let mut matching = Vec::new();
        for slot in context
            .get_slots_with_initialized_token()
            .map_err(|source| failed("listing the slots", source))?
        {
            let info = context
                .get_token_info(slot)
                .map_err(|source| failed("reading the token information", source))?;
            if info.label() == label.as_str() {
                matching.push((slot, info));
            }
        }
        let (slot, info) = match matching.len() {
            0 => {
                return Err(HsmError::TokenNotFound {
                    token_label: label.clone(),
                    module: config.module.clone(),
                });
            }
            1 => matching.remove(0),
            count => {
                return Err(HsmError::TokenLabelAmbiguous {
                    token_label: label.clone(),
                    count,
                });
            }
        };
        if info.user_pin_locked() {
            return Err(HsmError::PinLocked {
                token_label: label.clone(),
            });
        }
        // An unattended service must not spend the last attempt: a wrong PIN would lock the
        // token until its security officer resets it.
        if info.user_pin_final_try() {
            return Err(HsmError::PinFinalTry {
                token_label: label.clone(),
            });
        }
        let inner = TokenInner {
            context,
            slot,
            label: label.clone(),
            module: config.module.clone(),
            pin: config.pin.clone(),
            idle: Mutex::new(Vec::new()),
        };
        let session = inner.open_session()?;
        inner.release(session);
        Ok(Token {
            inner: Arc::new(inner),
        })
    }

    /// The token's label.
    pub fn label(&self) -> &str {
        &self.inner.label
    }

    /// Generates a key pair on the token, labelled `key_label`: the private key sensitive, not
    /// extractable, for signing only; the public key beside it. Both get the same `CKA_ID`,
    /// the key identifier of RFC 7093 §2 method 1 (the first 160 bits of SHA-256 over the
    /// public key). RSA keys sign with `rsa_padding`.
    pub fn generate_key(
        &self,
        key_label: &str,
        spec: KeySpec,
        rsa_padding: RsaPadding,
    ) -> Result<Pkcs11SigningKey, HsmError> {
        let common = [
            Attribute::Token(true),
            Attribute::Label(key_label.as_bytes().to_vec()),
        ];
        let rsa = |bits: u64| {
            (
                Mechanism::RsaPkcsKeyPairGen,
                vec![
                    Attribute::ModulusBits(bits.into()),
                    Attribute::PublicExponent(RSA_PUBLIC_EXPONENT.to_vec()),
                ],
            )
        };
        let ec = |parameters: &[u8]| {
            (
                Mechanism::EccKeyPairGen,
                vec![Attribute::EcParams(parameters.to_vec())],
            )
        };
        let (mechanism, specific) = match spec {
            KeySpec::Rsa2048 => rsa(2048),
            KeySpec::Rsa3072 => rsa(3072),
            KeySpec::EcdsaP256 => ec(der::P256_PARAMETERS),
            KeySpec::EcdsaP384 => ec(der::P384_PARAMETERS),
        };
        let public_template = [&common[..], &public_attributes(), &specific].concat();
        let private_template = [&common[..], &private_attributes()].concat();
        self.inner.with_session(|session| {
            self.inner.ensure_label_free(session, key_label)?;
            let (public, private) = session
                .generate_key_pair(&mechanism, &public_template, &private_template)
                .map_err(|source| self.inner.failed("generating a key pair", source))?;
            let identified = || {
                let mut key = key::load(
                    &self.inner,
                    session,
                    private,
                    Some(public),
                    key_label,
                    rsa_padding,
                )?;
                let id = key::identifier(key.public_key_bytes());
                for object in [public, private] {
                    session
                        .update_attributes(object, &[Attribute::Id(id.clone())])
                        .map_err(|source| self.inner.failed("setting the key's CKA_ID", source))?;
                }
                key.set_id(id);
                Ok(key)
            };
            identified().inspect_err(|_| {
                // A key kyso cannot use must not stay behind under the label.
                let _ = session.destroy_object(private);
                let _ = session.destroy_object(public);
            })
        })
    }

    /// Imports a PKCS#8 private key (RSA 2048–8192 bits, ECDSA P-256 or P-384) as a token
    /// object labelled `key_label`, sensitive and not extractable from then on, with its public
    /// key beside it. The token records that the key was not generated on it
    /// (`CKA_ALWAYS_SENSITIVE` and `CKA_NEVER_EXTRACTABLE` false, see
    /// [`Pkcs11SigningKey::protection`]). The caller should destroy its own copy.
    pub fn import_pkcs8(
        &self,
        key_label: &str,
        pkcs8_der: &[u8],
        rsa_padding: RsaPadding,
    ) -> Result<Pkcs11SigningKey, HsmError> {
        // ring decides what kyso accepts, and gives the public key.
        let software = RingSigningKey::from_pkcs8(pkcs8_der, rsa_padding)
            .map_err(|source| HsmError::Pkcs8Unsupported { source })?;
        let algorithm = software.algorithm();
        let public_key = software.public_key_bytes().to_vec();
        drop(software);
        let parts = der::pkcs8_private_parts(pkcs8_der, algorithm.is_rsa())
            .ok_or(HsmError::Pkcs8Malformed)?;
        let id = key::identifier(&public_key);
        let common = [
            Attribute::Token(true),
            Attribute::Label(key_label.as_bytes().to_vec()),
            Attribute::Id(id.clone()),
        ];
        let (key_type, public_specific, mut private_specific) =
            import_attributes(&parts, algorithm, &public_key);
        let public_template = [
            &common[..],
            &[
                Attribute::Class(ObjectClass::PUBLIC_KEY),
                Attribute::KeyType(key_type),
            ],
            &public_attributes(),
            &public_specific,
        ]
        .concat();
        let mut private_template = [
            &common[..],
            &[
                Attribute::Class(ObjectClass::PRIVATE_KEY),
                Attribute::KeyType(key_type),
            ],
            &private_attributes(),
        ]
        .concat();
        private_template.append(&mut private_specific);
        let result = self.inner.with_session(|session| {
            self.inner.ensure_label_free(session, key_label)?;
            let public = session
                .create_object(&public_template)
                .map_err(|source| self.inner.failed("creating the public key", source))?;
            let private = match session.create_object(&private_template) {
                Ok(private) => private,
                Err(source) => {
                    // Leave no orphan public key under the label.
                    let _ = session.destroy_object(public);
                    return Err(self.inner.failed("creating the private key", source));
                }
            };
            key::load(
                &self.inner,
                session,
                private,
                Some(public),
                key_label,
                rsa_padding,
            )
        });
        wipe(&mut private_template);
        result
    }

    /// The private key labelled `key_label` on the token, signing with `rsa_padding` if it is
    /// an RSA key.
    pub fn signing_key(
        &self,
        key_label: &str,
        rsa_padding: RsaPadding,
    ) -> Result<Pkcs11SigningKey, HsmError> {
        self.inner.with_session(|session| {
            let private = self.inner.find_private_key(session, key_label, None)?;
            key::load(&self.inner, session, private, None, key_label, rsa_padding)
        })
    }
}

/// The type and the key-specific attributes of the public and private objects made from
/// `parts` (PKCS #11 Current Mechanisms v2.40: RSA and EC public and private key objects).
fn import_attributes(
    parts: &PrivateParts,
    algorithm: SignatureAlgorithm,
    public_key: &[u8],
) -> (KeyType, Vec<Attribute>, Vec<Attribute>) {
    match parts {
        PrivateParts::Rsa {
            modulus,
            public_exponent,
            private_exponent,
            prime_1,
            prime_2,
            exponent_1,
            exponent_2,
            coefficient,
        } => (
            KeyType::RSA,
            vec![
                Attribute::Modulus(modulus.to_vec()),
                Attribute::PublicExponent(public_exponent.to_vec()),
            ],
            vec![
                Attribute::Modulus(modulus.to_vec()),
                Attribute::PublicExponent(public_exponent.to_vec()),
                Attribute::PrivateExponent(private_exponent.to_vec()),
                Attribute::Prime1(prime_1.to_vec()),
                Attribute::Prime2(prime_2.to_vec()),
                Attribute::Exponent1(exponent_1.to_vec()),
                Attribute::Exponent2(exponent_2.to_vec()),
                Attribute::Coefficient(coefficient.to_vec()),
            ],
        ),
        PrivateParts::Ec { scalar } => {
            let parameters = match algorithm {
                SignatureAlgorithm::EcdsaP384Sha384 => der::P384_PARAMETERS,
                _ => der::P256_PARAMETERS,
            };
            (
                KeyType::EC,
                vec![
                    Attribute::EcParams(parameters.to_vec()),
                    Attribute::EcPoint(der::octet_string(public_key)),
                ],
                vec![
                    Attribute::EcParams(parameters.to_vec()),
                    Attribute::Value(scalar.to_vec()),
                ],
            )
        }
    }
}

/// Attributes of every public key kyso puts on a token: readable without login, for
/// verifying only.
fn public_attributes() -> [Attribute; 4] {
    [
        Attribute::Private(false),
        Attribute::Verify(true),
        Attribute::Encrypt(false),
        Attribute::Wrap(false),
    ]
}

/// Attributes of every private key kyso puts on a token: usable only after login, never
/// revealed or wrapped (`CKA_SENSITIVE`, `CKA_EXTRACTABLE`; PKCS #11 v2.40 §4.9), and for
/// signing only, so a document-signing key is never a decryption oracle.
fn private_attributes() -> [Attribute; 7] {
    [
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::Sign(true),
        Attribute::Decrypt(false),
        Attribute::Unwrap(false),
        Attribute::Derive(false),
    ]
}

/// Zeroes the private components copied into a template.
fn wipe(template: &mut [Attribute]) {
    for attribute in template {
        match attribute {
            Attribute::PrivateExponent(value)
            | Attribute::Prime1(value)
            | Attribute::Prime2(value)
            | Attribute::Exponent1(value)
            | Attribute::Exponent2(value)
            | Attribute::Coefficient(value)
            | Attribute::Value(value) => value.zeroize(),
            _ => {}
        }
    }
}

impl TokenInner {
    /// The token's label.
    pub(super) fn label(&self) -> &str {
        &self.label
    }

    /// A PKCS#11 failure during `operation`.
    pub(super) fn failed(&self, operation: &'static str, source: Pkcs11Error) -> HsmError {
        HsmError::Token {
            operation,
            token_label: self.label.clone(),
            source,
        }
    }

    /// Runs `operation` in a logged-in session from the pool (or a new one). A session the
    /// token no longer knows, or that lost its login, is dropped and the operation runs once
    /// more in a fresh session.
    pub(super) fn with_session<T>(
        &self,
        mut operation: impl FnMut(&Session) -> Result<T, HsmError>,
    ) -> Result<T, HsmError> {
        let pooled = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let (session, result) = match pooled {
            Some(session) => {
                let result = operation(&session);
                if result.as_ref().is_err_and(HsmError::is_stale_session) {
                    drop(session);
                    let fresh = self.open_session()?;
                    let result = operation(&fresh);
                    (fresh, result)
                } else {
                    (session, result)
                }
            }
            None => {
                let session = self.open_session()?;
                let result = operation(&session);
                (session, result)
            }
        };
        if !result.as_ref().is_err_and(HsmError::is_stale_session) {
            self.release(session);
        }
        result
    }

    /// Opens a read-write session and logs in as the user. Read-write because key generation
    /// and import create token objects; signing does not mind.
    fn open_session(&self) -> Result<Session, HsmError> {
        let session = self
            .context
            .open_rw_session(self.slot)
            .map_err(|source| self.failed("opening a session", source))?;
        match session.login(UserType::User, Some(&self.pin.auth_pin())) {
            // The process is logged in already through another session (PKCS #11 v2.40 §5.6).
            Ok(()) | Err(Pkcs11Error::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(session),
            Err(Pkcs11Error::Pkcs11(RvError::PinIncorrect, _)) => Err(HsmError::PinIncorrect {
                token_label: self.label.clone(),
            }),
            Err(Pkcs11Error::Pkcs11(RvError::PinLocked, _)) => Err(HsmError::PinLocked {
                token_label: self.label.clone(),
            }),
            Err(source) => Err(self.failed("logging in", source)),
        }
    }

    /// Puts `session` back in the pool, or closes it when the pool is full.
    fn release(&self, session: Session) {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < IDLE_SESSIONS {
            idle.push(session);
        }
    }

    /// The private key labelled `key_label` (and with `id`, when given).
    pub(super) fn find_private_key(
        &self,
        session: &Session,
        key_label: &str,
        id: Option<&[u8]>,
    ) -> Result<ObjectHandle, HsmError> {
        let mut template = vec![
            Attribute::Class(ObjectClass::PRIVATE_KEY),
            Attribute::Label(key_label.as_bytes().to_vec()),
        ];
        if let Some(id) = id {
            template.push(Attribute::Id(id.to_vec()));
        }
        let found = session
            .find_objects(&template)
            .map_err(|source| self.failed("finding the key", source))?;
        match found[..] {
            [] => Err(HsmError::KeyNotFound {
                key_label: key_label.to_owned(),
                token_label: self.label.clone(),
            }),
            [handle] => Ok(handle),
            _ => Err(HsmError::KeyLabelAmbiguous {
                key_label: key_label.to_owned(),
                token_label: self.label.clone(),
                count: found.len(),
            }),
        }
    }

    /// Refuses a label that a key on the token has already (public or private).
    fn ensure_label_free(&self, session: &Session, key_label: &str) -> Result<(), HsmError> {
        for class in [ObjectClass::PRIVATE_KEY, ObjectClass::PUBLIC_KEY] {
            let found = session
                .find_objects(&[
                    Attribute::Class(class),
                    Attribute::Label(key_label.as_bytes().to_vec()),
                ])
                .map_err(|source| self.failed("finding the key", source))?;
            if !found.is_empty() {
                return Err(HsmError::KeyLabelTaken {
                    key_label: key_label.to_owned(),
                    token_label: self.label.clone(),
                });
            }
        }
        Ok(())
    }
}
