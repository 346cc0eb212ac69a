//! The PKCS#11 tokens named in the configuration, each opened once per
//! process on first use (a token's login belongs to the process; see
//! [`crate::hsm`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use super::AuthorityError;
use crate::ca::KeyAlgorithm;
use crate::config::TokenSetting;
use crate::hsm::{KeySpec, Pin, Pkcs11Config, Token};

/// The configured tokens, by name. Cheap to clone.
#[derive(Clone, Default)]
pub struct Tokens {
    settings: Arc<HashMap<String, TokenSetting>>,
    opened: Arc<Mutex<HashMap<String, Token>>>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&String> = self.settings.keys().collect();
        names.sort();
        f.debug_struct("Tokens").field("names", &names).finish()
    }
}

impl Tokens {
    /// The tokens of the configuration; two with one name are an error.
    pub fn new(settings: &[TokenSetting]) -> Result<Self, AuthorityError> {
        let mut by_name = HashMap::new();
        for setting in settings {
            if by_name
                .insert(setting.name.clone(), setting.clone())
                .is_some()
            {
                return Err(AuthorityError::DuplicateToken {
                    token: setting.name.clone(),
                });
            }
        }
        Ok(Self {
            settings: Arc::new(by_name),
            opened: Arc::default(),
        })
    }

    /// The token named `name`, opened and logged in (once per process).
    pub fn open(&self, name: &str) -> Result<Token, AuthorityError> {
        let setting = self
            .settings
            .get(name)
            .ok_or_else(|| AuthorityError::UnknownToken {
                token: name.to_string(),
            })?;
        let mut opened = self.opened.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(token) = opened.get(name) {
            return Ok(token.clone());
        }
        let token = Token::open(&Pkcs11Config {
            module: setting.module.clone(),
            token_label: setting.token_label.clone(),
            pin: Pin::from_file(&setting.pin_file)?,
        })?;
        opened.insert(name.to_string(), token.clone());
        Ok(token)
    }
}

/// The token key type for a key algorithm.
pub(super) fn key_spec(algorithm: KeyAlgorithm) -> Result<KeySpec, AuthorityError> {
    match algorithm {
        KeyAlgorithm::EcdsaP256 => Ok(KeySpec::EcdsaP256),
        KeyAlgorithm::EcdsaP384 => Ok(KeySpec::EcdsaP384),
        KeyAlgorithm::Rsa2048 => Ok(KeySpec::Rsa2048),
        KeyAlgorithm::Rsa3072 => Ok(KeySpec::Rsa3072),
        KeyAlgorithm::Rsa4096 => Err(AuthorityError::TokenKeyType { algorithm }),
    }
}
