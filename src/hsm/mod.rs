//! Signing keys held on PKCS#11 tokens (hardware security modules, smart cards, SoftHSM2),
//! through the cryptoki crate, which is used in this module only.
//!
//! A [`Token`] is opened from a [`Pkcs11Config`]: the module (the vendor's shared library),
//! the token's label and the user PIN. On it, keys are generated ([`Token::generate_key`]) or
//! imported once from PKCS#8 ([`Token::import_pkcs8`]), always sensitive and not extractable,
//! and found again by label ([`Token::signing_key`]). A [`Pkcs11SigningKey`] is a
//! [`SigningKey`](crate::crypto::SigningKey) like the software keys: kyso hashes the signed
//! attributes, the token signs the digest, and kyso checks the signature against the public key
//! before handing it on.
//!
//! Two PKCS#11 facts shape the code (PKCS #11 Base Specification v2.40):
//! - `C_Initialize` is called once per process and module (§5.4); contexts live as long as the
//!   process.
//! - The login belongs to the application, not to a session: `C_Login` puts every session the
//!   process has with the token in the user state, and it lasts until `C_Logout` or until the
//!   last session closes (§5.6). So a token keeps a few logged-in sessions open for its keys and
//!   never calls `C_Logout`, which would log out signers on other threads; and once a process
//!   is logged in to a token, the token no longer checks a PIN it is given
//!   (`CKR_USER_ALREADY_LOGGED_IN`). Open each token once per process.

mod der;
mod key;
mod token;

pub use key::{KeyProtection, Pkcs11SigningKey};
pub use token::{KeySpec, Token};

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock, PoisonError};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as Pkcs11Error, RvError};
use zeroize::Zeroizing;

use crate::crypto::CryptoError;

/// Where a token is and how to log in to it.
#[derive(Debug, Clone)]
pub struct Pkcs11Config {
    /// The PKCS#11 module: the token vendor's shared library
    /// (`/usr/lib/softhsm/libsofthsm2.so` for SoftHSM2).
    pub module: PathBuf,
    /// The token's label (`CK_TOKEN_INFO.label`).
    pub token_label: String,
    /// The user PIN.
    pub pin: Pin,
}

/// A token's user PIN: wiped from memory when dropped, never printed.
#[derive(Clone)]
pub struct Pin(Zeroizing<String>);

impl Pin {
    /// A PIN given as a string (the caller's copy is its own to wipe).
    pub fn new(pin: String) -> Self {
        Self(Zeroizing::new(pin))
    }

    /// Reads a PIN from a file holding it alone, as a secrets mount or `systemd-creds` provides;
    /// one trailing line break is not part of the PIN.
    pub fn from_file(path: &Path) -> Result<Self, HsmError> {
        let content = Zeroizing::new(std::fs::read_to_string(path).map_err(|source| {
            HsmError::PinFileUnreadable {
                path: path.to_path_buf(),
                source,
            }
        })?);
        let pin = content
            .strip_suffix('\n')
            .map(|line| line.strip_suffix('\r').unwrap_or(line))
            .unwrap_or(&content);
        if pin.is_empty() {
            return Err(HsmError::PinFileEmpty {
                path: path.to_path_buf(),
            });
        }
        Ok(Self::new(pin.to_owned()))
    }

    /// Reads a PIN from an environment variable, which must be set and not empty.
    pub fn from_env(variable: &str) -> Result<Self, HsmError> {
        match std::env::var(variable) {
            Ok(pin) if !pin.is_empty() => Ok(Self::new(pin)),
            _ => Err(HsmError::PinVariableUnset {
                variable: variable.to_owned(),
            }),
        }
    }

    /// The PIN as cryptoki takes it (a secret string wiped on drop).
    fn auth_pin(&self) -> cryptoki::types::AuthPin {
        cryptoki::types::AuthPin::from(self.0.as_str())
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin([elided])")
    }
}

/// What can go wrong with a token or a key on it.
#[derive(Debug, thiserror::Error)]
pub enum HsmError {
    /// The PKCS#11 module's file cannot be found.
    #[error("the PKCS#11 module {module} cannot be found")]
    ModuleNotFound {
        /// The module's path.
        module: PathBuf,
        /// The underlying failure.
        source: std::io::Error,
    },
    /// The PKCS#11 module cannot be loaded or initialised.
    #[error("cannot load the PKCS#11 module {module}")]
    ModuleUnavailable {
        /// The module's path.
        module: PathBuf,
        /// cryptoki's reason (a missing file, a missing symbol, `C_Initialize` failing).
        source: Pkcs11Error,
    },
    /// No initialised token carries the label.
    #[error("no initialised token labelled {token_label:?} in {module}")]
    TokenNotFound {
        /// The label looked for.
        token_label: String,
        /// The module searched.
        module: PathBuf,
    },
    /// Several tokens carry the label, so which one is meant is unknown.
    #[error("{count} tokens are labelled {token_label:?}")]
    TokenLabelAmbiguous {
        /// The label looked for.
        token_label: String,
        /// How many tokens carry it.
        count: usize,
    },
    /// The token refused the PIN.
    #[error("the PIN for token {token_label:?} is incorrect")]
    PinIncorrect {
        /// The token's label.
        token_label: String,
    },
    /// The token has locked its user PIN after too many wrong attempts.
    #[error("the user PIN of token {token_label:?} is locked")]
    PinLocked {
        /// The token's label.
        token_label: String,
    },
    /// One more wrong PIN would lock the token, so kyso does not try its PIN; a successful login
    /// with the vendor's tool resets the count.
    #[error(
        "one more wrong PIN would lock token {token_label:?}; kyso does not risk it (log in once \
         with the vendor's tool to reset the count)"
    )]
    PinFinalTry {
        /// The token's label.
        token_label: String,
    },
    /// The PIN file cannot be read.
    #[error("cannot read the PIN file {path}")]
    PinFileUnreadable {
        /// The file.
        path: PathBuf,
        /// The underlying failure.
        source: std::io::Error,
    },
    /// The PIN file holds no PIN.
    #[error("the PIN file {path} is empty")]
    PinFileEmpty {
        /// The file.
        path: PathBuf,
    },
    /// The PIN's environment variable is unset or empty (or not Unicode).
    #[error("the PIN variable {variable} is not set")]
    PinVariableUnset {
        /// The variable's name.
        variable: String,
    },
    /// No private key on the token carries the label.
    #[error("no private key labelled {key_label:?} on token {token_label:?}")]
    KeyNotFound {
        /// The label looked for.
        key_label: String,
        /// The token's label.
        token_label: String,
    },
    /// Several private keys on the token carry the label.
    #[error("{count} private keys are labelled {key_label:?} on token {token_label:?}")]
    KeyLabelAmbiguous {
        /// The label looked for.
        key_label: String,
        /// The token's label.
        token_label: String,
        /// How many keys carry it.
        count: usize,
    },
    /// A key to be generated or imported has the label of a key already on the token.
    #[error("token {token_label:?} already holds a key labelled {key_label:?}")]
    KeyLabelTaken {
        /// The label asked for.
        key_label: String,
        /// The token's label.
        token_label: String,
    },
    /// The public half of an ECDSA key (which holds its point) is not on the token.
    #[error("the public key of {key_label:?} is not on token {token_label:?}")]
    PublicKeyNotFound {
        /// The private key's label.
        key_label: String,
        /// The token's label.
        token_label: String,
    },
    /// The key is of a type kyso does not sign with (not RSA or EC).
    #[error("the key {key_label:?} is a {key_type} key; kyso signs with RSA and ECDSA keys")]
    UnsupportedKeyType {
        /// The key's label.
        key_label: String,
        /// The key type as cryptoki names it (`CKK_…`).
        key_type: String,
    },
    /// The EC key is on a curve other than P-256 or P-384.
    #[error("the EC key {key_label:?} is not on P-256 or P-384")]
    UnsupportedCurve {
        /// The key's label.
        key_label: String,
    },
    /// The RSA key is shorter than kyso accepts.
    #[error("the RSA key {key_label:?} has {bits} bits; kyso needs at least 2048")]
    RsaKeyTooShort {
        /// The key's label.
        key_label: String,
        /// Its modulus length.
        bits: usize,
    },
    /// The token returned an attribute kyso cannot read, or none.
    #[error("the key {key_label:?} has no usable {attribute}")]
    MalformedAttribute {
        /// The key's label.
        key_label: String,
        /// The attribute (`CKA_…`).
        attribute: &'static str,
    },
    /// The PKCS#8 key to import is not one kyso signs with.
    #[error("the PKCS#8 key cannot be imported")]
    Pkcs8Unsupported {
        /// ring's verdict on the key.
        source: CryptoError,
    },
    /// The PKCS#8 key's private components cannot be read.
    #[error("the PKCS#8 key's private components cannot be read")]
    Pkcs8Malformed,
    /// The token returned an ECDSA signature of the wrong length.
    #[error("the token returned a {length}-byte ECDSA signature for key {key_label:?}")]
    SignatureMalformed {
        /// The key's label.
        key_label: String,
        /// The length returned.
        length: usize,
    },
    /// The token's signature does not verify with the key's public key (a faulty token, or a
    /// key that changed under its label).
    #[error("the signature made with key {key_label:?} does not verify with its public key")]
    SignatureDoesNotVerify {
        /// The key's label.
        key_label: String,
    },
    /// A PKCS#11 call failed.
    #[error("{operation} on token {token_label:?} failed")]
    Token {
        /// What kyso was doing ("signing", "generating a key pair", …).
        operation: &'static str,
        /// The token's label.
        token_label: String,
        /// cryptoki's error, which names the function and its return value.
        source: Pkcs11Error,
    },
}

impl HsmError {
    /// True when the failure is the session's, not the operation's: a fresh session may succeed.
    fn is_stale_session(&self) -> bool {
        matches!(
            self,
            HsmError::Token {
                source: Pkcs11Error::Pkcs11(
                    RvError::SessionHandleInvalid
                        | RvError::SessionClosed
                        | RvError::UserNotLoggedIn,
                    _
                ),
                ..
            }
        )
    }
}

/// The process's PKCS#11 context for `module`, loaded and initialised (with OS locking, since
/// kyso signs on several threads) on first use.
fn context(module: &Path) -> Result<Pkcs11, HsmError> {
    static CONTEXTS: OnceLock<Mutex<HashMap<PathBuf, Pkcs11>>> = OnceLock::new();
    let unavailable = |source| HsmError::ModuleUnavailable {
        module: module.to_path_buf(),
        source,
    };
    let key = module
        .canonicalize()
        .map_err(|source| HsmError::ModuleNotFound {
            module: module.to_path_buf(),
            source,
        })?;
    let mut contexts = CONTEXTS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if let Some(context) = contexts.get(&key) {
        return Ok(context.clone());
    }
    let context = Pkcs11::new(&key).map_err(unavailable)?;
    match context.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        // Another library in the process initialised the module already; that is fine.
        Ok(()) | Err(Pkcs11Error::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(source) => return Err(unavailable(source)),
    }
    contexts.insert(key, context.clone());
    Ok(context)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pin_file_loses_one_line_break_and_an_empty_one_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("pin");
        for (content, pin) in [
            ("1234\n", "1234"),
            ("1234\r\n", "1234"),
            (" 12 34\n\n", " 12 34\n"),
        ] {
            std::fs::write(&path, content).expect("write");
            assert_eq!(Pin::from_file(&path).expect("read").0.as_str(), pin);
        }
        std::fs::write(&path, "\n").expect("write");
        assert!(matches!(
            Pin::from_file(&path),
            Err(HsmError::PinFileEmpty { .. })
        ));
        assert!(matches!(
            Pin::from_file(&dir.path().join("absent")),
            Err(HsmError::PinFileUnreadable { .. })
        ));
        assert!(matches!(
            Pin::from_env("KYSO_TEST_PIN_THAT_IS_NEVER_SET"),
            Err(HsmError::PinVariableUnset { .. })
        ));
    }

    #[test]
    fn a_pin_is_never_printed() {
        let config = Pkcs11Config {
            module: PathBuf::from("/usr/lib/softhsm/libsofthsm2.so"),
            token_label: "seal".to_owned(),
            pin: Pin::new("271828".to_owned()),
        };
        let shown = format!("{config:?}");
        assert!(
            !shown.contains("271828") && shown.contains("[elided]"),
            "{shown}"
        );
    }
}
