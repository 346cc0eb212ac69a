//! Sealing and unsealing private keys (format in the [module documentation](super)).

use std::path::Path;

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

use super::{CustodyError, KeyEncryptionKey};
use crate::keyfile;

/// The armour label of a sealed private key.
pub const SEALED_LABEL: &str = "KYSO SEALED PRIVATE KEY";

/// Format version 1.
const VERSION: u8 = 1;
/// Algorithm 1: AES-256-GCM.
const AES_256_GCM_ID: u8 = 1;
/// Version and algorithm bytes.
const HEADER_LENGTH: usize = 2;
/// GCM tag length.
const TAG_LENGTH: usize = 16;
/// Prefix of the associated data, so a sealed key cannot pass for any other kyso ciphertext.
const CONTEXT: &[u8] = b"kyso sealed private key\0";

/// A private key file as found on disk.
pub enum StoredKey {
    /// A sealed key, opened: the PKCS#8 DER.
    Sealed(Zeroizing<Vec<u8>>),
    /// A key an operator placed in clear (PEM, PKCS#8 or PKCS#1): the file's bytes. kyso never
    /// writes these; reading one is logged as a warning.
    Clear(Zeroizing<Vec<u8>>),
}

/// True when `bytes` hold a sealed-key armour.
pub fn is_sealed(bytes: &[u8]) -> bool {
    let begin = format!("-----BEGIN {SEALED_LABEL}-----");
    bytes
        .windows(begin.len())
        .any(|window| window == begin.as_bytes())
}

fn associated_data(purpose: &str) -> Vec<u8> {
    let mut data = CONTEXT.to_vec();
    data.extend_from_slice(&[VERSION, AES_256_GCM_ID]);
    data.extend_from_slice(purpose.as_bytes());
    data
}

fn aead_key(kek: &KeyEncryptionKey) -> LessSafeKey {
    // A 32-byte key is always valid for AES-256-GCM.
    let unbound = UnboundKey::new(&AES_256_GCM, kek.bytes());
    LessSafeKey::new(unbound.unwrap_or_else(|_| unreachable!("AES-256 takes 32-byte keys")))
}

/// Seals `plaintext` (a PKCS#8 DER) for `purpose` under `kek`, with a fresh random nonce,
/// as armoured text ready to be written.
pub fn seal(
    kek: &KeyEncryptionKey,
    purpose: &str,
    plaintext: &[u8],
) -> Result<String, CustodyError> {
    let mut nonce = [0u8; NONCE_LEN];
    SystemRandom::new()
        .fill(&mut nonce)
        .map_err(|_| CustodyError::Random)?;
    // Encrypted in place: the only clear copy is wiped if sealing fails.
    let mut buffer = Zeroizing::new(plaintext.to_vec());
    aead_key(kek)
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(associated_data(purpose)),
            &mut *buffer,
        )
        .map_err(|_| CustodyError::Random)?;
    let mut blob = Vec::with_capacity(HEADER_LENGTH + NONCE_LEN + buffer.len());
    blob.extend_from_slice(&[VERSION, AES_256_GCM_ID]);
    blob.extend_from_slice(&nonce);
    blob.extend_from_slice(&buffer);
    Ok(keyfile::encode_pem(SEALED_LABEL, &blob))
}

/// Opens the sealed key in `armoured` for `purpose`; `path` names it in errors.
pub fn unseal(
    kek: &KeyEncryptionKey,
    purpose: &str,
    armoured: &[u8],
    path: &Path,
) -> Result<Zeroizing<Vec<u8>>, CustodyError> {
    let blob = keyfile::parse_pem_block(armoured, path, SEALED_LABEL).map_err(|_| {
        CustodyError::NotSealed {
            path: path.to_path_buf(),
        }
    })?;
    if blob.len() < HEADER_LENGTH + NONCE_LEN + TAG_LENGTH {
        return Err(CustodyError::Truncated {
            path: path.to_path_buf(),
            length: blob.len(),
        });
    }
    if blob[0] != VERSION {
        return Err(CustodyError::UnsupportedVersion {
            path: path.to_path_buf(),
            version: blob[0],
        });
    }
    if blob[1] != AES_256_GCM_ID {
        return Err(CustodyError::UnsupportedAlgorithm {
            path: path.to_path_buf(),
            algorithm: blob[1],
        });
    }
    let (nonce, ciphertext) = blob[HEADER_LENGTH..].split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| CustodyError::Truncated {
        path: path.to_path_buf(),
        length: blob.len(),
    })?;
    let mut buffer = Zeroizing::new(ciphertext.to_vec());
    let length = aead_key(kek)
        .open_in_place(nonce, Aad::from(associated_data(purpose)), &mut buffer)
        .map_err(|_| CustodyError::Decrypt {
            path: path.to_path_buf(),
        })?
        .len();
    buffer.truncate(length);
    Ok(buffer)
}

/// Reads the private key file `path`: a sealed key is opened for `purpose` with `kek`; a key
/// in clear is returned as found, with a warning in the log.
pub fn read_key_file(
    path: &Path,
    purpose: &str,
    kek: &KeyEncryptionKey,
) -> Result<StoredKey, CustodyError> {
    let bytes = Zeroizing::new(std::fs::read(path).map_err(|source| CustodyError::Io {
        path: path.to_path_buf(),
        source,
    })?);
    if is_sealed(&bytes) {
        return unseal(kek, purpose, &bytes, path).map(StoredKey::Sealed);
    }
    tracing::warn!(
        path = %path.display(),
        "private key stored in clear; kyso accepts it but only writes sealed keys"
    );
    Ok(StoredKey::Clear(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PURPOSE: &str = "units/000.01.34.H23/organisation.key.pem";
    const SECRET: &[u8] = b"0\x81\x87 not really a PKCS#8 key, but bytes all the same";

    fn kek(byte: u8) -> KeyEncryptionKey {
        KeyEncryptionKey::from_bytes([byte; 32])
    }

    fn path() -> &'static Path {
        Path::new("organisation.key.pem")
    }

    #[test]
    fn a_sealed_key_opens_with_its_kek_and_purpose() {
        let sealed = seal(&kek(7), PURPOSE, SECRET).expect("seal");
        assert!(sealed.starts_with("-----BEGIN KYSO SEALED PRIVATE KEY-----\n"));
        assert!(sealed.ends_with("-----END KYSO SEALED PRIVATE KEY-----\n"));
        assert!(is_sealed(sealed.as_bytes()));
        let opened = unseal(&kek(7), PURPOSE, sealed.as_bytes(), path()).expect("unseal");
        assert_eq!(opened.as_slice(), SECRET);
    }

    #[test]
    fn sealing_twice_uses_fresh_nonces() {
        let first = seal(&kek(7), PURPOSE, SECRET).expect("seal");
        let second = seal(&kek(7), PURPOSE, SECRET).expect("seal");
        assert_ne!(first, second);
    }

    #[test]
    fn another_kek_cannot_open_a_sealed_key() {
        let sealed = seal(&kek(7), PURPOSE, SECRET).expect("seal");
        match unseal(&kek(8), PURPOSE, sealed.as_bytes(), path()) {
            Err(error @ CustodyError::Decrypt { .. }) => {
                let message = error.to_string();
                assert!(message.contains("organisation.key.pem"), "{message}");
                assert!(message.contains("wrong key-encryption key"), "{message}");
            }
            other => panic!("unexpected {:?}", other.map(|_| ())),
        }
    }

    #[test]
    fn a_sealed_key_moved_to_another_purpose_is_refused() {
        let sealed = seal(&kek(7), PURPOSE, SECRET).expect("seal");
        let other = "units/000.00.01.H23/organisation.key.pem";
        assert!(matches!(
            unseal(&kek(7), other, sealed.as_bytes(), path()),
            Err(CustodyError::Decrypt { .. })
        ));
    }

    #[test]
    fn every_flipped_byte_of_a_sealed_key_is_detected() {
        let sealed = seal(&kek(7), PURPOSE, SECRET).expect("seal");
        let blob =
            keyfile::parse_pem_block(sealed.as_bytes(), path(), SEALED_LABEL).expect("armour");
        for index in 0..blob.len() {
            let mut altered = blob.clone();
            altered[index] ^= 0x01;
            let armoured = keyfile::encode_pem(SEALED_LABEL, &altered);
            let result = unseal(&kek(7), PURPOSE, armoured.as_bytes(), path());
            match (index, result) {
                (0, Err(CustodyError::UnsupportedVersion { version: 0, .. })) => {}
                (1, Err(CustodyError::UnsupportedAlgorithm { algorithm: 0, .. })) => {}
                (2.., Err(CustodyError::Decrypt { .. })) => {}
                (index, other) => panic!("byte {index}: unexpected {:?}", other.map(|_| ())),
            }
        }
    }

    #[test]
    fn truncated_and_unarmoured_files_are_refused() {
        let short = keyfile::encode_pem(SEALED_LABEL, &[VERSION, AES_256_GCM_ID, 0, 0]);
        assert!(matches!(
            unseal(&kek(7), PURPOSE, short.as_bytes(), path()),
            Err(CustodyError::Truncated { length: 4, .. })
        ));
        let clear = keyfile::encode_pem("PRIVATE KEY", SECRET);
        assert!(!is_sealed(clear.as_bytes()));
        assert!(matches!(
            unseal(&kek(7), PURPOSE, clear.as_bytes(), path()),
            Err(CustodyError::NotSealed { .. })
        ));
    }

    #[test]
    fn a_key_file_in_clear_is_returned_as_found_and_a_sealed_one_opened() {
        let dir = tempfile::tempdir().expect("tempdir");
        let clear_path = dir.path().join("clear.key.pem");
        let clear = keyfile::encode_pem("PRIVATE KEY", SECRET);
        std::fs::write(&clear_path, &clear).expect("write");
        match read_key_file(&clear_path, PURPOSE, &kek(7)).expect("read") {
            StoredKey::Clear(bytes) => assert_eq!(bytes.as_slice(), clear.as_bytes()),
            StoredKey::Sealed(_) => panic!("clear file read as sealed"),
        }
        let sealed_path = dir.path().join("sealed.key.pem");
        std::fs::write(&sealed_path, seal(&kek(7), PURPOSE, SECRET).expect("seal")).expect("write");
        match read_key_file(&sealed_path, PURPOSE, &kek(7)).expect("read") {
            StoredKey::Sealed(der) => assert_eq!(der.as_slice(), SECRET),
            StoredKey::Clear(_) => panic!("sealed file read as clear"),
        }
    }
}
