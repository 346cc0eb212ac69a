//! Algorithm identifiers for CMS SignerInfo (RFC 5754, RFC 4056, RFC 5758).

use super::{CmsError, encoding};
use crate::crypto::{DigestAlgorithm, SignatureAlgorithm};
use const_oid::db::rfc5912::{
    ECDSA_WITH_SHA_256, ECDSA_WITH_SHA_384, ID_MGF_1, ID_RSASSA_PSS, ID_SHA_256, ID_SHA_384,
    ID_SHA_512, SHA_256_WITH_RSA_ENCRYPTION,
};
use der::asn1::Null;
use der::{Any, Sequence};
use spki::AlgorithmIdentifierOwned;

/// The digest AlgorithmIdentifier, parameters absent (RFC 5754 §2).
pub(super) fn digest_identifier(algorithm: DigestAlgorithm) -> AlgorithmIdentifierOwned {
    let oid = match algorithm {
        DigestAlgorithm::Sha256 => ID_SHA_256,
        DigestAlgorithm::Sha384 => ID_SHA_384,
        DigestAlgorithm::Sha512 => ID_SHA_512,
    };
    AlgorithmIdentifierOwned {
        oid,
        parameters: None,
    }
}

/// RSASSA-PSS-params (RFC 4055 §3.1), all fields explicit.
#[derive(Debug, Clone, Sequence)]
struct RsaPssParameters {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    hash_algorithm: AlgorithmIdentifierOwned,
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT")]
    mask_generation: AlgorithmIdentifierOwned,
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT")]
    salt_length: u32,
}

/// The SignerInfo signatureAlgorithm for `algorithm`.
pub(super) fn signature_identifier(
    algorithm: SignatureAlgorithm,
) -> Result<AlgorithmIdentifierOwned, CmsError> {
    Ok(match algorithm {
        // RFC 4055 §5: sha256WithRSAEncryption carries NULL parameters.
        SignatureAlgorithm::RsaPkcs1Sha256 => AlgorithmIdentifierOwned {
            oid: SHA_256_WITH_RSA_ENCRYPTION,
            parameters: Some(Any::from(Null)),
        },
        // RFC 4056 §2: SHA-256, MGF1 with SHA-256, salt as long as the hash.
        SignatureAlgorithm::RsaPssSha256 => {
            let sha256 = digest_identifier(DigestAlgorithm::Sha256);
            let parameters = RsaPssParameters {
                hash_algorithm: sha256.clone(),
                mask_generation: AlgorithmIdentifierOwned {
                    oid: ID_MGF_1,
                    parameters: Some(
                        Any::encode_from(&sha256).map_err(encoding("MGF1 parameters"))?,
                    ),
                },
                salt_length: 32,
            };
            AlgorithmIdentifierOwned {
                oid: ID_RSASSA_PSS,
                parameters: Some(
                    Any::encode_from(&parameters).map_err(encoding("PSS parameters"))?,
                ),
            }
        }
        // RFC 5758 §3.2: ECDSA identifiers have absent parameters.
        SignatureAlgorithm::EcdsaP256Sha256 => AlgorithmIdentifierOwned {
            oid: ECDSA_WITH_SHA_256,
            parameters: None,
        },
        SignatureAlgorithm::EcdsaP384Sha384 => AlgorithmIdentifierOwned {
            oid: ECDSA_WITH_SHA_384,
            parameters: None,
        },
    })
}
