//! What verification reports: facts about each signature, each of its own,
//! and the ETSI EN 319 102-1 indication that sums them up. This is the JSON
//! contract of `kyso verify --json` (see README).

use serde::Serialize;

/// ETSI EN 319 102-1 §5.1.3 main indication.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Indication {
    /// Every check passed.
    TotalPassed,
    /// A check failed for certain.
    TotalFailed,
    /// Not enough information to decide either way.
    Indeterminate,
}

/// ETSI EN 319 102-1 §5.1.3 sub-indications that kyso reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SubIndication {
    /// The document digest does not match the message-digest attribute.
    HashFailure,
    /// The signature value does not verify.
    SigCryptoFailure,
    /// The signature or its container is not well formed.
    FormatFailure,
    /// The signer certificate was revoked.
    Revoked,
    /// No path to a trust anchor.
    NoCertificateChainFound,
    /// A certificate is outside its validity and no proof of existence helps.
    OutOfBoundsNoPoe,
    /// A constraint of the path (usage, basic or name constraints) failed.
    ChainConstraintsFailure,
    /// The signer certificate is not in the signature.
    NoSigningCertificateFound,
    /// The signed data (byte ranges) cannot be obtained.
    SignedDataNotFound,
    /// An algorithm is unknown or too weak.
    CryptoConstraintsFailure,
    /// Revocation status could not be established (hard-fail policy).
    TryLater,
    /// The path could not be checked for another reason: a malformed
    /// certificate, a signature that does not verify, an exhausted budget.
    CertificateChainGeneralFailure,
}

impl SubIndication {
    /// The ETSI EN 319 102-1 name, e.g. `HASH_FAILURE`.
    pub fn name(self) -> &'static str {
        match self {
            SubIndication::HashFailure => "HASH_FAILURE",
            SubIndication::SigCryptoFailure => "SIG_CRYPTO_FAILURE",
            SubIndication::FormatFailure => "FORMAT_FAILURE",
            SubIndication::Revoked => "REVOKED",
            SubIndication::NoCertificateChainFound => "NO_CERTIFICATE_CHAIN_FOUND",
            SubIndication::OutOfBoundsNoPoe => "OUT_OF_BOUNDS_NO_POE",
            SubIndication::ChainConstraintsFailure => "CHAIN_CONSTRAINTS_FAILURE",
            SubIndication::NoSigningCertificateFound => "NO_SIGNING_CERTIFICATE_FOUND",
            SubIndication::SignedDataNotFound => "SIGNED_DATA_NOT_FOUND",
            SubIndication::CryptoConstraintsFailure => "CRYPTO_CONSTRAINTS_FAILURE",
            SubIndication::TryLater => "TRY_LATER",
            SubIndication::CertificateChainGeneralFailure => "CERTIFICATE_CHAIN_GENERAL_FAILURE",
        }
    }
}

/// The revocation status of the signer certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum RevocationFact {
    /// A CRL covering the certificate does not list it.
    Good,
    /// The certificate is revoked.
    Revoked {
        /// Revocation time, RFC 3339.
        at: String,
        /// CRL reason, when given.
        reason: Option<String>,
    },
    /// The certificate is revoked, but kyso's own records prove it made this
    /// signature before the revocation time: the signature stays good
    /// (the status at the time of signing counts, Decree 23/2025 Art. 16).
    RevokedAfterSigning {
        /// Revocation time, RFC 3339.
        at: String,
        /// CRL reason, when given.
        reason: Option<String>,
        /// When kyso made the signature, RFC 3339, from its records.
        signed_at: String,
    },
    /// No revocation data could be had: reported, not checked.
    NotChecked,
}

/// What changed in the document after a signature (ISO 32000-2 §12.8.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Modification {
    /// Nothing after the signed revision.
    None,
    /// Only further signatures, document timestamps and validation data (DSS).
    Ltv,
    /// Form fields filled in (plus the above).
    FormFilling,
    /// Annotations added or changed (plus the above).
    Annotations,
    /// Anything else: page content, re-pointed objects, unparseable bytes.
    Other,
}

/// The signer as its certificate names it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SignerFacts {
    /// Subject, RFC 4514.
    pub subject: String,
    /// Common name.
    pub common_name: Option<String>,
    /// Organisation.
    pub organisation: Option<String>,
    /// Serial number, upper-case hex.
    pub serial: String,
    /// Issuer, RFC 4514.
    pub issuer: String,
}

/// Facts about one signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignatureReport {
    /// Fully qualified field name.
    pub field: String,
    /// 1-based revision the signature signs.
    pub revision: usize,
    /// The signer, when the certificate was found.
    pub signer: Option<SignerFacts>,
    /// `/M` of the signed revision, RFC 3339, when present and readable.
    pub signing_time: Option<String>,
    /// ByteRange starts at 0, two ranges inside the file, gap exactly this `/Contents`.
    pub byte_range_ok: bool,
    /// The message digest matches the signed bytes.
    pub intact: bool,
    /// The signature value verifies with the signer's key.
    pub valid: bool,
    /// A path to a configured anchor is valid at the validation time.
    pub trusted: bool,
    /// The anchor that validated the path.
    pub trust_anchor: Option<String>,
    /// Revocation status of the signer certificate.
    pub revocation: RevocationFact,
    /// The ranges reach the end of the file.
    pub covers_whole_file: bool,
    /// The most far-reaching change after the signed revision.
    pub modifications: Modification,
    /// The indication.
    pub indication: Indication,
    /// Why it is not TOTAL_PASSED.
    pub sub_indication: Option<SubIndication>,
    /// `/Reason` as signed.
    pub reason: Option<String>,
    /// `/Location` as signed.
    pub location: Option<String>,
    /// Everything that went wrong, in words.
    pub errors: Vec<String>,
}

/// The verdict on a whole document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DocumentReport {
    /// TOTAL_PASSED only if at least one signature passed and everything
    /// after each signed revision is permitted by the policy.
    pub verdict: Indication,
    /// One entry per distinct signature dictionary, oldest first.
    pub signatures: Vec<SignatureReport>,
    /// Problems with the document as a whole.
    pub errors: Vec<String>,
}
