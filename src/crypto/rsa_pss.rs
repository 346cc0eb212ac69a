//! RSASSA-PSS verification with any salt length (RFC 8017 §8.1.2,
//! EMSA-PSS-VERIFY §9.1.2), through the RustCrypto `rsa` crate: ring
//! verifies PSS only with a salt as long as the hash. Public-key operations
//! only; kyso never signs or decrypts with this crate.

use super::{CryptoError, DigestAlgorithm, VerificationAlgorithm};
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::sha2::{Sha256, Sha384, Sha512};
use rsa::traits::PublicKeyParts;
use rsa::{Pss, RsaPublicKey};

/// The RSA key sizes accepted, as for ring's `RSA_PSS_2048_8192_*`.
const KEY_BITS: std::ops::RangeInclusive<usize> = 2048..=8192;

/// Verifies `signature_value` over `message` with an RSA public key given
/// as DER `RSAPublicKey` (RFC 8017 A.1.1).
pub(super) fn verify(
    rsa_public_key_der: &[u8],
    digest: DigestAlgorithm,
    salt_length: u16,
    message: &[u8],
    signature_value: &[u8],
) -> Result<(), CryptoError> {
    let algorithm = VerificationAlgorithm::RsaPssSalt(digest, salt_length);
    let rejected = || CryptoError::SignatureRejected { algorithm };
    let key = RsaPublicKey::from_pkcs1_der(rsa_public_key_der).map_err(|_| rejected())?;
    if !KEY_BITS.contains(&(key.size() * 8)) {
        return Err(rejected());
    }
    let hashed = digest.digest(message);
    let salt = usize::from(salt_length);
    let scheme = match digest {
        DigestAlgorithm::Sha256 => Pss::new_with_salt::<Sha256>(salt),
        DigestAlgorithm::Sha384 => Pss::new_with_salt::<Sha384>(salt),
        DigestAlgorithm::Sha512 => Pss::new_with_salt::<Sha512>(salt),
    };
    key.verify(scheme, &hashed, signature_value)
        .map_err(|_| rejected())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs1::EncodeRsaPublicKey;

    #[test]
    fn a_pss_signature_with_the_longest_salt_verifies_and_not_with_another_salt_or_message() {
        let mut rng = rsa::rand_core::OsRng;
        let key = rsa::RsaPrivateKey::new(&mut rng, 2048).expect("key");
        let public = key.to_public_key().to_pkcs1_der().expect("der");
        let salt = 256 - 32 - 2; // emLen - hLen - 2
        let hashed = DigestAlgorithm::Sha256.digest(b"signed attributes");
        let signature = key
            .sign_with_rng(&mut rng, Pss::new_with_salt::<Sha256>(salt), &hashed)
            .expect("sign");
        let salt = u16::try_from(salt).expect("salt");
        verify(
            public.as_bytes(),
            DigestAlgorithm::Sha256,
            salt,
            b"signed attributes",
            &signature,
        )
        .expect("verifies");
        assert!(
            verify(
                public.as_bytes(),
                DigestAlgorithm::Sha256,
                32,
                b"signed attributes",
                &signature
            )
            .is_err()
        );
        assert!(
            verify(
                public.as_bytes(),
                DigestAlgorithm::Sha256,
                salt,
                b"other bytes",
                &signature
            )
            .is_err()
        );
    }
}
