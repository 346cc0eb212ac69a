//! The key-encryption key: where it comes from, and its checks.

use std::ffi::OsStr;
use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

use super::CustodyError;

/// Length of a KEK in bytes (AES-256).
pub(super) const KEK_LENGTH: usize = 32;

/// Permission bits a KEK file must not have: any access by group or others.
const SHARED_BITS: u32 = 0o077;

/// The environment variable that, when set, holds the KEK.
pub const ENVIRONMENT_VARIABLE: &str = "KYSO_KEY_ENCRYPTION_KEY";

/// A 256-bit key-encryption key, wiped from memory when dropped; `Debug` shows no bytes.
pub struct KeyEncryptionKey {
    bytes: Zeroizing<[u8; KEK_LENGTH]>,
}

/// Where a [`KeyEncryptionKey`] came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KekOrigin {
    /// The `KYSO_KEY_ENCRYPTION_KEY` environment variable.
    Environment,
    /// An existing file.
    File(PathBuf),
    /// A file created just now with fresh random bytes.
    Created(PathBuf),
}

impl fmt::Debug for KeyEncryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyEncryptionKey([elided])")
    }
}

impl KeyEncryptionKey {
    /// The name of the environment variable read by [`KeyEncryptionKey::resolve`].
    pub const ENVIRONMENT_VARIABLE: &'static str = ENVIRONMENT_VARIABLE;

    /// A KEK of these bytes.
    pub fn from_bytes(bytes: [u8; KEK_LENGTH]) -> Self {
        Self {
            bytes: Zeroizing::new(bytes),
        }
    }

    /// A fresh random KEK.
    pub fn generate() -> Result<Self, CustodyError> {
        let mut bytes = Zeroizing::new([0u8; KEK_LENGTH]);
        SystemRandom::new()
            .fill(bytes.as_mut())
            .map_err(|_| CustodyError::Random)?;
        Ok(Self { bytes })
    }

    pub(super) fn bytes(&self) -> &[u8; KEK_LENGTH] {
        &self.bytes
    }

    /// Parses the text form used by `KYSO_KEY_ENCRYPTION_KEY`: 64 hex digits, or standard
    /// base64 with padding (44 characters); surrounding whitespace is ignored.
    pub fn parse(text: &str) -> Result<Self, CustodyError> {
        let text = text.trim();
        let refused = || CustodyError::EnvironmentKey { length: text.len() };
        let decoded = if text.len() == 2 * KEK_LENGTH {
            hex_decode(text)
        } else {
            base64_decode(text)
        }
        .ok_or_else(refused)?;
        let bytes: [u8; KEK_LENGTH] = decoded.as_slice().try_into().map_err(|_| refused())?;
        Ok(Self::from_bytes(bytes))
    }

    /// Reads a KEK file: a regular file of exactly 32 bytes that neither group nor others may
    /// read or write.
    pub fn read_file(path: &Path) -> Result<Self, CustodyError> {
        let io = |source| CustodyError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut file = fs::File::open(path).map_err(|source| {
            if source.kind() == ErrorKind::NotFound {
                CustodyError::KeyFileMissing {
                    path: path.to_path_buf(),
                }
            } else {
                io(source)
            }
        })?;
        let metadata = file.metadata().map_err(io)?;
        if !metadata.is_file() {
            return Err(CustodyError::KeyFileNotRegular {
                path: path.to_path_buf(),
            });
        }
        let mode = metadata.mode() & 0o7777;
        if mode & SHARED_BITS != 0 {
            return Err(CustodyError::KeyFilePermissions {
                path: path.to_path_buf(),
                mode,
            });
        }
        if metadata.len() != KEK_LENGTH as u64 {
            return Err(CustodyError::KeyFileLength {
                path: path.to_path_buf(),
                length: metadata.len(),
            });
        }
        let mut bytes = Zeroizing::new([0u8; KEK_LENGTH]);
        file.read_exact(bytes.as_mut()).map_err(io)?;
        Ok(Self { bytes })
    }

    /// Creates `path` (which must not exist) with mode 0600 and a fresh random KEK, synced to
    /// disk with its directory entry.
    pub fn create_file(path: &Path) -> Result<Self, CustodyError> {
        let io = |source| CustodyError::Io {
            path: path.to_path_buf(),
            source,
        };
        let key = Self::generate()?;
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(io)?;
        file.write_all(key.bytes.as_ref())
            .and_then(|()| file.sync_all())
            .map_err(io)?;
        let directory = match path.parent() {
            Some(parent) if parent != Path::new("") => parent,
            _ => Path::new("."),
        };
        fs::File::open(directory)
            .and_then(|handle| handle.sync_all())
            .map_err(|source| CustodyError::Io {
                path: directory.to_path_buf(),
                source,
            })?;
        Ok(key)
    }

    /// The KEK from `KYSO_KEY_ENCRYPTION_KEY` when it is set, else from `file`. A missing file
    /// is created when `may_create` (no key has been sealed yet), and refused otherwise.
    pub fn resolve(file: &Path, may_create: bool) -> Result<(Self, KekOrigin), CustodyError> {
        Self::resolve_from(
            std::env::var_os(ENVIRONMENT_VARIABLE).as_deref(),
            file,
            may_create,
        )
    }

    /// [`KeyEncryptionKey::resolve`] with the environment variable's value passed in.
    pub fn resolve_from(
        environment: Option<&OsStr>,
        file: &Path,
        may_create: bool,
    ) -> Result<(Self, KekOrigin), CustodyError> {
        if let Some(value) = environment.filter(|value| !value.is_empty()) {
            let text = value.to_str().ok_or(CustodyError::EnvironmentKey {
                length: value.len(),
            })?;
            return Ok((Self::parse(text)?, KekOrigin::Environment));
        }
        match Self::read_file(file) {
            Ok(key) => Ok((key, KekOrigin::File(file.to_path_buf()))),
            Err(CustodyError::KeyFileMissing { .. }) if may_create => {
                let key = Self::create_file(file)?;
                tracing::warn!(
                    file = %file.display(),
                    "created a new key-encryption key; back it up and keep it apart from the data directory: without it the sealed private keys cannot be opened"
                );
                Ok((key, KekOrigin::Created(file.to_path_buf())))
            }
            Err(error) => Err(error),
        }
    }
}

fn hex_decode(text: &str) -> Option<Zeroizing<Vec<u8>>> {
    let digits = text.as_bytes();
    if !digits.len().is_multiple_of(2) {
        return None;
    }
    let mut out = Zeroizing::new(Vec::with_capacity(digits.len() / 2));
    for pair in digits.chunks(2) {
        let high = char::from(pair[0]).to_digit(16)?;
        let low = char::from(pair[1]).to_digit(16)?;
        out.push((high * 16 + low) as u8);
    }
    Some(out)
}

/// Standard base64 (RFC 4648 §4) with padding.
fn base64_decode(text: &str) -> Option<Zeroizing<Vec<u8>>> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let symbols = text.as_bytes();
    if symbols.is_empty() || !symbols.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Zeroizing::new(Vec::with_capacity(symbols.len() / 4 * 3));
    let last = symbols.len() / 4 - 1;
    for (index, quad) in symbols.chunks(4).enumerate() {
        let padding = quad.iter().rev().take_while(|&&b| b == b'=').count();
        if padding > 2 || (padding > 0 && index != last) {
            return None;
        }
        let mut n: u32 = 0;
        for &symbol in &quad[..4 - padding] {
            let value = ALPHABET.iter().position(|&a| a == symbol)?;
            n = (n << 6) | value as u32;
        }
        n <<= 6 * padding as u32;
        let decoded = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&decoded[..3 - padding]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    const HEX: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    const BASE64: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    fn counting() -> [u8; KEK_LENGTH] {
        std::array::from_fn(|index| index as u8)
    }

    #[test]
    fn hex_and_base64_forms_of_the_same_key_parse_alike() {
        assert_eq!(
            *KeyEncryptionKey::parse(HEX).expect("hex").bytes(),
            counting()
        );
        let upper = HEX.to_uppercase();
        assert_eq!(
            *KeyEncryptionKey::parse(&upper).expect("hex").bytes(),
            counting()
        );
        let padded = format!(" {BASE64}\n");
        assert_eq!(
            *KeyEncryptionKey::parse(&padded).expect("b64").bytes(),
            counting()
        );
    }

    #[test]
    fn keys_of_another_length_or_alphabet_are_refused() {
        for text in [
            "",
            &HEX[..62],
            &format!("{HEX}00"),
            &HEX.replace('0', "g"),
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==",
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
        ] {
            assert!(
                matches!(
                    KeyEncryptionKey::parse(text),
                    Err(CustodyError::EnvironmentKey { .. })
                ),
                "{text:?}"
            );
        }
    }

    #[test]
    fn debug_shows_no_key_bytes() {
        let key = KeyEncryptionKey::from_bytes([0xAB; KEK_LENGTH]);
        let shown = format!("{key:?}");
        assert_eq!(shown, "KeyEncryptionKey([elided])");
    }

    #[test]
    fn a_missing_file_is_created_private_only_when_allowed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("data.kek");
        assert!(matches!(
            KeyEncryptionKey::resolve_from(None, &path, false),
            Err(CustodyError::KeyFileMissing { .. })
        ));
        let (created, origin) = KeyEncryptionKey::resolve_from(None, &path, true).expect("created");
        assert_eq!(origin, KekOrigin::Created(path.clone()));
        let metadata = fs::metadata(&path).expect("metadata");
        assert_eq!(metadata.permissions().mode() & 0o777, 0o600);
        assert_eq!(metadata.len(), 32);
        let (read, origin) = KeyEncryptionKey::resolve_from(None, &path, true).expect("read");
        assert_eq!(origin, KekOrigin::File(path));
        assert_eq!(read.bytes(), created.bytes());
    }

    #[test]
    fn the_environment_wins_over_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("data.kek");
        let (key, origin) =
            KeyEncryptionKey::resolve_from(Some(OsStr::new(HEX)), &path, true).expect("env");
        assert_eq!(origin, KekOrigin::Environment);
        assert_eq!(*key.bytes(), counting());
        assert!(!path.exists());
    }

    #[test]
    fn a_key_file_readable_by_others_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("data.kek");
        KeyEncryptionKey::create_file(&path).expect("create");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).expect("chmod");
        match KeyEncryptionKey::read_file(&path) {
            Err(CustodyError::KeyFilePermissions { mode, .. }) => assert_eq!(mode, 0o644),
            other => panic!("unexpected {other:?}"),
        }
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).expect("chmod");
        assert!(matches!(
            KeyEncryptionKey::read_file(&path),
            Err(CustodyError::KeyFilePermissions { .. })
        ));
        fs::set_permissions(&path, fs::Permissions::from_mode(0o400)).expect("chmod");
        assert!(KeyEncryptionKey::read_file(&path).is_ok());
    }

    #[test]
    fn a_key_file_of_the_wrong_length_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("data.kek");
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .and_then(|mut file| file.write_all(format!("{HEX}\n").as_bytes()))
            .expect("write");
        match KeyEncryptionKey::resolve_from(None, &path, true) {
            Err(CustodyError::KeyFileLength { length, .. }) => assert_eq!(length, 65),
            other => panic!("unexpected {other:?}"),
        }
    }
}
