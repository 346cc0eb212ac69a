//! Reading the digest and signature AlgorithmIdentifiers of a SignerInfo into
//! kyso's types, failing closed on anything outside the supported set
//! (RFC 5754, RFC 4055, RFC 4056, RFC 5758, RFC 8419).

use super::CmsProblem;
use crate::crypto::{DigestAlgorithm, VerificationAlgorithm};
use const_oid::ObjectIdentifier;
use der::asn1::AnyRef;
use der::{Any, Sequence};
use spki::{AlgorithmIdentifier, AlgorithmIdentifierOwned};

const fn oid(dotted: &str) -> ObjectIdentifier {
    ObjectIdentifier::new_unwrap(dotted)
}

/// Digests (RFC 5754 §2; RFC 3370 §2 for the weak ones).
const ID_MD5: ObjectIdentifier = oid("1.2.840.113549.2.5");
pub(super) const ID_SHA1: ObjectIdentifier = oid("1.3.14.3.2.26");
const ID_SHA256: ObjectIdentifier = oid("2.16.840.1.101.3.4.2.1");
const ID_SHA384: ObjectIdentifier = oid("2.16.840.1.101.3.4.2.2");
const ID_SHA512: ObjectIdentifier = oid("2.16.840.1.101.3.4.2.3");

/// RSA (RFC 8017 Appendix C, RFC 4055 §5, RFC 3370 §3.2).
pub(super) const RSA_ENCRYPTION: ObjectIdentifier = oid("1.2.840.113549.1.1.1");
const MD5_WITH_RSA: ObjectIdentifier = oid("1.2.840.113549.1.1.4");
const SHA1_WITH_RSA: ObjectIdentifier = oid("1.2.840.113549.1.1.5");
const ID_MGF1: ObjectIdentifier = oid("1.2.840.113549.1.1.8");
pub(super) const ID_RSASSA_PSS: ObjectIdentifier = oid("1.2.840.113549.1.1.10");
const SHA256_WITH_RSA: ObjectIdentifier = oid("1.2.840.113549.1.1.11");
const SHA384_WITH_RSA: ObjectIdentifier = oid("1.2.840.113549.1.1.12");
const SHA512_WITH_RSA: ObjectIdentifier = oid("1.2.840.113549.1.1.13");

/// ECDSA (RFC 5758 §3.2, RFC 3279 §2.2.3).
const ECDSA_WITH_SHA1: ObjectIdentifier = oid("1.2.840.10045.4.1");
const ECDSA_WITH_SHA256: ObjectIdentifier = oid("1.2.840.10045.4.3.2");
const ECDSA_WITH_SHA384: ObjectIdentifier = oid("1.2.840.10045.4.3.3");
const ECDSA_WITH_SHA512: ObjectIdentifier = oid("1.2.840.10045.4.3.4");

/// Ed25519, as a signature and a key algorithm (RFC 8410 §3).
pub(super) const ID_ED25519: ObjectIdentifier = oid("1.3.101.112");

/// The SignerInfo's `digestAlgorithm` (RFC 5652 §5.3), or why it is refused.
/// Parameters may be absent or NULL (RFC 5754 §2: both must be accepted).
pub(super) fn digest_algorithm(
    identifier: &AlgorithmIdentifierOwned,
) -> Result<DigestAlgorithm, CmsProblem> {
    let digest = match identifier.oid {
        ID_SHA256 => DigestAlgorithm::Sha256,
        ID_SHA384 => DigestAlgorithm::Sha384,
        ID_SHA512 => DigestAlgorithm::Sha512,
        ID_SHA1 => return Err(CmsProblem::WeakAlgorithm { name: "SHA-1" }),
        ID_MD5 => return Err(CmsProblem::WeakAlgorithm { name: "MD5" }),
        oid => return Err(CmsProblem::UnsupportedAlgorithm { oid }),
    };
    absent_or_null(identifier)?;
    Ok(digest)
}

/// The SignerInfo's `signatureAlgorithm` (RFC 5652 §5.3), or why it is
/// refused. `digest` is the SignerInfo's digest algorithm, which
/// `rsaEncryption` signs with (RFC 3370 §3.2).
pub(super) fn signature_algorithm(
    identifier: &AlgorithmIdentifierOwned,
    digest: &Result<DigestAlgorithm, CmsProblem>,
) -> Result<VerificationAlgorithm, CmsProblem> {
    use DigestAlgorithm::{Sha256, Sha384, Sha512};
    let algorithm = match identifier.oid {
        // RFC 4055 §5: NULL parameters, absent ones accepted too.
        RSA_ENCRYPTION => VerificationAlgorithm::RsaPkcs1(digest.clone()?),
        SHA256_WITH_RSA => VerificationAlgorithm::RsaPkcs1(Sha256),
        SHA384_WITH_RSA => VerificationAlgorithm::RsaPkcs1(Sha384),
        SHA512_WITH_RSA => VerificationAlgorithm::RsaPkcs1(Sha512),
        // RFC 4056 §2: the parameters are always present.
        ID_RSASSA_PSS => {
            let parameters = identifier
                .parameters
                .as_ref()
                .ok_or(CmsProblem::UnsupportedParameters { oid: ID_RSASSA_PSS })?;
            return PssParameters::read(parameters)?.signature_algorithm();
        }
        // RFC 5758 §3.2 says the parameters are absent; a NULL is tolerated
        // (it changes nothing that is verified).
        ECDSA_WITH_SHA256 => VerificationAlgorithm::Ecdsa(Sha256),
        ECDSA_WITH_SHA384 => VerificationAlgorithm::Ecdsa(Sha384),
        ECDSA_WITH_SHA512 => VerificationAlgorithm::Ecdsa(Sha512),
        // RFC 8410 §3: parameters absent, and nothing else.
        ID_ED25519 => {
            if identifier.parameters.is_some() {
                return Err(CmsProblem::UnsupportedParameters { oid: ID_ED25519 });
            }
            VerificationAlgorithm::Ed25519
        }
        MD5_WITH_RSA => return Err(CmsProblem::WeakAlgorithm { name: "MD5" }),
        SHA1_WITH_RSA | ECDSA_WITH_SHA1 => {
            return Err(CmsProblem::WeakAlgorithm { name: "SHA-1" });
        }
        oid => return Err(CmsProblem::UnsupportedAlgorithm { oid }),
    };
    absent_or_null(identifier)?;
    Ok(algorithm)
}

/// Refuses parameters other than absent or NULL.
fn absent_or_null(identifier: &AlgorithmIdentifierOwned) -> Result<(), CmsProblem> {
    match &identifier.parameters {
        None => Ok(()),
        Some(parameters) if parameters.is_null() => Ok(()),
        Some(_) => Err(CmsProblem::UnsupportedParameters {
            oid: identifier.oid,
        }),
    }
}

/// RSASSA-PSS-params (RFC 4055 §3.1) as encoded, every field optional since
/// each has a DEFAULT.
#[derive(Debug, Clone, Sequence)]
struct EncodedPssParameters {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    hash_algorithm: Option<AlgorithmIdentifierOwned>,
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    mask_generation: Option<AlgorithmIdentifierOwned>,
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT", optional = "true")]
    salt_length: Option<u32>,
    #[asn1(context_specific = "3", tag_mode = "EXPLICIT", optional = "true")]
    trailer_field: Option<u32>,
}

/// RSASSA-PSS parameters with their defaults applied, where every hash is one
/// kyso supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct PssParameters {
    /// The message hash.
    pub(super) digest: DigestAlgorithm,
    /// The hash MGF1 uses.
    pub(super) mask_digest: DigestAlgorithm,
    /// Salt length in bytes.
    pub(super) salt_length: u32,
}

impl PssParameters {
    /// Reads RSASSA-PSS-params, from a signature algorithm or from an
    /// `id-RSASSA-PSS` public key (RFC 4055 §3.1). Defaults that mean SHA-1
    /// (the hash, MGF1's hash) are weak; a trailer other than 1 or a mask
    /// generation other than MGF1 is unsupported.
    pub(super) fn read(parameters: &Any) -> Result<Self, CmsProblem> {
        let unsupported = CmsProblem::UnsupportedParameters { oid: ID_RSASSA_PSS };
        let encoded: EncodedPssParameters =
            parameters.decode_as().map_err(|_| unsupported.clone())?;
        let digest = match &encoded.hash_algorithm {
            Some(hash) => digest_algorithm(hash)?,
            None => return Err(CmsProblem::WeakAlgorithm { name: "SHA-1" }),
        };
        let mask_digest = match &encoded.mask_generation {
            Some(mask) if mask.oid == ID_MGF1 => {
                let hash: AlgorithmIdentifier<AnyRef<'_>> = mask
                    .parameters
                    .as_ref()
                    .ok_or(unsupported.clone())?
                    .decode_as()
                    .map_err(|_| unsupported.clone())?;
                digest_algorithm(&AlgorithmIdentifierOwned {
                    oid: hash.oid,
                    parameters: hash.parameters.map(Any::from),
                })?
            }
            Some(_) => return Err(unsupported),
            None => return Err(CmsProblem::WeakAlgorithm { name: "SHA-1" }),
        };
        if encoded.trailer_field.unwrap_or(1) != 1 {
            return Err(unsupported);
        }
        Ok(Self {
            digest,
            mask_digest,
            salt_length: encoded.salt_length.unwrap_or(20),
        })
    }

    /// The PSS shapes kyso verifies: MGF1 with the message hash (RFC 4056
    /// §3) and any salt up to 1,024 bytes; a salt as long as the hash goes to
    /// ring, any other to the `rsa` verifier.
    fn signature_algorithm(self) -> Result<VerificationAlgorithm, CmsProblem> {
        if self.mask_digest != self.digest {
            return Err(CmsProblem::UnsupportedParameters { oid: ID_RSASSA_PSS });
        }
        if usize::try_from(self.salt_length).ok() == Some(self.digest.output_len()) {
            return Ok(VerificationAlgorithm::RsaPss(self.digest));
        }
        match u16::try_from(self.salt_length) {
            Ok(salt) if salt <= 1024 => Ok(VerificationAlgorithm::RsaPssSalt(self.digest, salt)),
            _ => Err(CmsProblem::UnsupportedParameters { oid: ID_RSASSA_PSS }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use der::Decode;
    use der::asn1::Null;

    fn identifier(dotted: &str, parameters: Option<Any>) -> AlgorithmIdentifierOwned {
        AlgorithmIdentifierOwned {
            oid: ObjectIdentifier::new_unwrap(dotted),
            parameters,
        }
    }

    fn hex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
            .collect()
    }

    fn pss(parameters_hex: &str) -> AlgorithmIdentifierOwned {
        identifier(
            "1.2.840.113549.1.1.10",
            Some(Any::from_der(&hex(parameters_hex)).expect("parameters")),
        )
    }

    #[test]
    fn sha2_digests_are_read_with_absent_or_null_parameters() {
        let sha256 = identifier("2.16.840.1.101.3.4.2.1", None);
        assert_eq!(digest_algorithm(&sha256), Ok(DigestAlgorithm::Sha256));
        let sha512 = identifier("2.16.840.1.101.3.4.2.3", Some(Any::from(Null)));
        assert_eq!(digest_algorithm(&sha512), Ok(DigestAlgorithm::Sha512));
        let odd = identifier(
            "2.16.840.1.101.3.4.2.1",
            Some(Any::encode_from(&1_u8).expect("any")),
        );
        assert!(matches!(
            digest_algorithm(&odd),
            Err(CmsProblem::UnsupportedParameters { .. })
        ));
    }

    #[test]
    fn sha1_and_md5_are_weak_and_sha224_unsupported() {
        assert_eq!(
            digest_algorithm(&identifier("1.3.14.3.2.26", None)),
            Err(CmsProblem::WeakAlgorithm { name: "SHA-1" })
        );
        assert_eq!(
            digest_algorithm(&identifier("1.2.840.113549.2.5", None)),
            Err(CmsProblem::WeakAlgorithm { name: "MD5" })
        );
        assert!(matches!(
            digest_algorithm(&identifier("2.16.840.1.101.3.4.2.4", None)),
            Err(CmsProblem::UnsupportedAlgorithm { .. })
        ));
        let sha1_rsa = identifier("1.2.840.113549.1.1.5", Some(Any::from(Null)));
        assert_eq!(
            signature_algorithm(&sha1_rsa, &Ok(DigestAlgorithm::Sha256)),
            Err(CmsProblem::WeakAlgorithm { name: "SHA-1" })
        );
    }

    #[test]
    fn rsa_encryption_signs_with_the_signer_info_digest() {
        let rsa = identifier("1.2.840.113549.1.1.1", Some(Any::from(Null)));
        assert_eq!(
            signature_algorithm(&rsa, &Ok(DigestAlgorithm::Sha384)),
            Ok(VerificationAlgorithm::RsaPkcs1(DigestAlgorithm::Sha384))
        );
        let weak = CmsProblem::WeakAlgorithm { name: "SHA-1" };
        assert_eq!(signature_algorithm(&rsa, &Err(weak.clone())), Err(weak));
    }

    #[test]
    fn pss_with_sha256_mgf1_sha256_and_a_32_byte_salt_is_read() {
        // kyso's own encoding (cms/algorithms.rs): the hashes' parameters absent.
        let absent = "3030a00d300b0609608648016503040201a11a301806092a864886f70d010108300b0609608648016503040201a203020120";
        // OpenSSL's: the hashes' parameters NULL.
        let null = "3034a00f300d06096086480165030402010500a11c301a06092a864886f70d010108300d06096086480165030402010500a203020120";
        for parameters in [absent, null] {
            assert_eq!(
                signature_algorithm(&pss(parameters), &Ok(DigestAlgorithm::Sha256)),
                Ok(VerificationAlgorithm::RsaPss(DigestAlgorithm::Sha256))
            );
        }
    }

    #[test]
    fn pss_with_another_mask_hash_or_default_hash_is_refused_and_another_salt_is_read() {
        // saltLength 20 with SHA-256: verified by the rsa crate, not ring.
        let salt_20 = "3030a00d300b0609608648016503040201a11a301806092a864886f70d010108300b0609608648016503040201a203020114";
        assert!(matches!(
            signature_algorithm(&pss(salt_20), &Ok(DigestAlgorithm::Sha256)),
            Ok(VerificationAlgorithm::RsaPssSalt(
                DigestAlgorithm::Sha256,
                20
            ))
        ));
        // MGF1 with SHA-384 under a SHA-256 hash.
        let mask_384 = "3030a00d300b0609608648016503040201a11a301806092a864886f70d010108300b0609608648016503040202a203020120";
        assert!(matches!(
            signature_algorithm(&pss(mask_384), &Ok(DigestAlgorithm::Sha256)),
            Err(CmsProblem::UnsupportedParameters { .. })
        ));
        // Empty parameters: SHA-1 everywhere by default.
        assert_eq!(
            signature_algorithm(&pss("3000"), &Ok(DigestAlgorithm::Sha256)),
            Err(CmsProblem::WeakAlgorithm { name: "SHA-1" })
        );
        // Absent parameters.
        assert!(matches!(
            signature_algorithm(
                &identifier("1.2.840.113549.1.1.10", None),
                &Ok(DigestAlgorithm::Sha256)
            ),
            Err(CmsProblem::UnsupportedParameters { .. })
        ));
        // trailerField 2.
        let trailer_2 = "3035a00d300b0609608648016503040201a11a301806092a864886f70d010108300b0609608648016503040201a203020120a303020102";
        assert!(matches!(
            signature_algorithm(&pss(trailer_2), &Ok(DigestAlgorithm::Sha256)),
            Err(CmsProblem::UnsupportedParameters { .. })
        ));
    }

    #[test]
    fn ecdsa_and_ed25519_identifiers_are_read() {
        let ecdsa = identifier("1.2.840.10045.4.3.3", None);
        assert_eq!(
            signature_algorithm(&ecdsa, &Ok(DigestAlgorithm::Sha256)),
            Ok(VerificationAlgorithm::Ecdsa(DigestAlgorithm::Sha384))
        );
        let ed25519 = identifier("1.3.101.112", None);
        assert_eq!(
            signature_algorithm(&ed25519, &Ok(DigestAlgorithm::Sha512)),
            Ok(VerificationAlgorithm::Ed25519)
        );
        let ed25519_null = identifier("1.3.101.112", Some(Any::from(Null)));
        assert!(signature_algorithm(&ed25519_null, &Ok(DigestAlgorithm::Sha512)).is_err());
    }
}
