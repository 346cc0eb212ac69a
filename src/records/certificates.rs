//! What the certificate register holds: every certificate kyso issued,
//! imported or made for development, where its private key is, whether it is
//! revoked; the CRLs kyso's CAs published; and the evidence of when kyso made
//! each signature (a revoked certificate's earlier signatures stay good, so
//! the signing instant must be provable later).
//!
//! The store keeps what it is given: it checks references (a unit must be
//! registered) and its keys (fingerprint, CA serial, CRL number), never the
//! certificates themselves.

use std::time::SystemTime;

use crate::ca::{CertificateRole, RevocationReason};
use crate::units::{LeaderId, UnitCode};

use super::model::DocumentId;

/// A certificate in the register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateRecord {
    /// SHA-256 of [`certificate_der`](Self::certificate_der), lower-case hex
    /// (see [`CertificateRecord::fingerprint_of`]); the register's key.
    pub fingerprint: String,
    /// The kyso CA that issued it (`Some("issuing")` for kyso's issuing CA);
    /// `None` for a certificate imported from an outside CA.
    pub issuer_ca: Option<String>,
    /// Serial number, upper-case hex; unique per `issuer_ca` when that is `Some`.
    pub serial: String,
    /// Subject distinguished name, RFC 4514 text.
    pub subject: String,
    /// The unit it belongs to; must be registered when `Some`.
    pub unit: Option<UnitCode>,
    /// Whom or what it identifies.
    pub role: CertificateRole,
    /// Key algorithm and size, e.g. `ECDSA P-256`, `RSA 2048`.
    pub key_algorithm: String,
    /// Where the private key is.
    pub custody: KeyCustody,
    /// How kyso came to hold it.
    pub origin: CertificateOrigin,
    /// Start of the validity period.
    pub not_before: SystemTime,
    /// End of the validity period.
    pub not_after: SystemTime,
    /// When it entered the register.
    pub registered_at: SystemTime,
    /// The certificate, DER.
    pub certificate_der: Vec<u8>,
    /// Its issuers' certificates, DER, nearest first.
    pub chain_der: Vec<Vec<u8>>,
    /// Its revocation, if revoked.
    pub revocation: Option<CertificateRevocation>,
}

impl CertificateRecord {
    /// The fingerprint of a DER certificate: its SHA-256, lower-case hex.
    pub fn fingerprint_of(certificate_der: &[u8]) -> String {
        crate::crypto::DigestAlgorithm::Sha256.hex_digest(certificate_der)
    }

    /// Its status at `at`: revoked once a revocation is recorded (whatever
    /// the declared revocation time), otherwise expired once `at` is past
    /// `not_after`, otherwise good (also before `not_before`: a certificate
    /// not yet valid is not expired).
    pub fn status(&self, at: SystemTime) -> CertificateStatus {
        if self.revocation.is_some() {
            CertificateStatus::Revoked
        } else if self.not_after < at {
            CertificateStatus::Expired
        } else {
            CertificateStatus::Good
        }
    }
}

/// Where a certificate's private key is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyCustody {
    /// Sealed at rest in the register itself.
    Sealed {
        /// The output of `custody::seal`, opaque to the records store.
        armoured: String,
    },
    /// In the data directory: the development PKI's sealed key files.
    DataDirectory,
    /// On a PKCS#11 token named in the configuration.
    Token {
        /// The token's name in the configuration.
        token: String,
        /// The key's label on the token.
        key_label: String,
    },
    /// Kyso never holds it (a PKCS#10 request, a USB token).
    External,
}

impl KeyCustody {
    /// The stored name of the custody kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Sealed { .. } => "sealed",
            Self::DataDirectory => "data_directory",
            Self::Token { .. } => "token",
            Self::External => "external",
        }
    }

    /// Whether kyso can sign with the key.
    pub fn kyso_can_sign(&self) -> bool {
        !matches!(self, Self::External)
    }
}

/// How kyso came to hold a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CertificateOrigin {
    /// Made by `serve`'s development PKI.
    Development,
    /// Issued by kyso's CA through the CA API.
    Issued,
    /// Imported from an outside CA.
    Imported,
}

impl CertificateOrigin {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Development => "development",
            Self::Issued => "issued",
            Self::Imported => "imported",
        }
    }
}

/// A recorded revocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CertificateRevocation {
    /// The revocation time as declared; may be before `recorded_at`.
    pub at: SystemTime,
    /// Why (RFC 5280 §5.3.1).
    pub reason: RevocationReason,
    /// When the register recorded it.
    pub recorded_at: SystemTime,
}

/// A certificate's status, for [`CertificateFilter`]; see [`CertificateRecord::status`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CertificateStatus {
    /// Not revoked, and not expired.
    Good,
    /// A revocation is recorded.
    Revoked,
    /// Not revoked, and past its `not_after`.
    Expired,
}

/// Which certificates [`RecordStore::certificates`](super::RecordStore::certificates) lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateFilter {
    /// Only this unit's certificates.
    pub unit: Option<UnitCode>,
    /// Only certificates whose role has this kind ([`CertificateRole::kind`]:
    /// `organisation`, `leader` or `time_stamping`).
    pub role_kind: Option<String>,
    /// Only certificates with this status at [`at`](Self::at).
    pub status: Option<CertificateStatus>,
    /// The instant the status is judged at.
    pub at: SystemTime,
}

impl CertificateFilter {
    /// Every certificate (statuses judged at `at`).
    pub fn all(at: SystemTime) -> Self {
        Self {
            unit: None,
            role_kind: None,
            status: None,
            at,
        }
    }
}

/// What [`RecordStore::revoke_certificate`](super::RecordStore::revoke_certificate) did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevokeOutcome {
    /// The certificate is now revoked (as returned).
    Revoked(CertificateRecord),
    /// It was revoked before; the first revocation stays (as returned).
    AlreadyRevoked(CertificateRecord),
    /// No certificate has that fingerprint.
    NotFound,
}

/// One revoked certificate of a CA, as a CRL lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokedEntry {
    /// Serial number, upper-case hex.
    pub serial: String,
    /// The revocation time as declared.
    pub at: SystemTime,
    /// Why.
    pub reason: RevocationReason,
}

impl RevokedEntry {
    /// The serial number's big-endian bytes, as a CRL entry carries them;
    /// `None` when the stored serial is not hex.
    pub fn serial_bytes(&self) -> Option<Vec<u8>> {
        let digits = self.serial.to_ascii_lowercase();
        if digits.len() % 2 == 1 {
            return from_lower_hex(&format!("0{digits}"));
        }
        from_lower_hex(&digits)
    }
}

/// A published CRL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCrl {
    /// Its cRLNumber (RFC 5280 §5.2.3): from 1, growing per CA.
    pub number: u64,
    /// Its thisUpdate.
    pub this_update: SystemTime,
    /// Its nextUpdate.
    pub next_update: SystemTime,
    /// The signed CRL, DER.
    pub der: Vec<u8>,
}

/// Why [`RecordStore::publish_crl`](super::RecordStore::publish_crl) failed;
/// nothing was stored.
#[derive(Debug, thiserror::Error)]
pub enum PublishCrlError<E> {
    /// Reading or writing the register failed.
    #[error(transparent)]
    Records(#[from] super::RecordsError),
    /// The signing callback failed.
    #[error("signing the CRL failed: {0}")]
    Sign(E),
}

/// When and by what kyso made one signature: the row the signature's SHA-256
/// finds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureEvidence {
    /// When it was made (the signing fact's instant).
    pub signed_at: SystemTime,
    /// The unit it signed for.
    pub unit: UnitCode,
    /// The document it signed.
    pub document_id: DocumentId,
    /// The leader, for a leader's signature; `None` for the organisation's.
    pub leader: Option<LeaderId>,
    /// Serial of the certificate used, upper-case hex.
    pub certificate_serial: String,
}

/// Lower-case hex of bytes.
pub(super) fn lower_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    text
}

/// The bytes of lower-case hex; `None` for anything else.
pub(super) fn from_lower_hex(text: &str) -> Option<Vec<u8>> {
    fn digit(byte: u8) -> Option<u8> {
        match byte {
            b'0'..=b'9' => Some(byte - b'0'),
            b'a'..=b'f' => Some(byte - b'a' + 10),
            _ => None,
        }
    }
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    bytes
        .chunks_exact(2)
        .map(|pair| Some((digit(pair[0])? << 4) | digit(pair[1])?))
        .collect()
}

/// Whether `text` is a SHA-256 in lower-case hex.
pub(super) fn is_sha256_hex(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_refuses_upper_case_or_odd_lengths() {
        let bytes = [0x00, 0x0f, 0xa5, 0xff];
        assert_eq!(lower_hex(&bytes), "000fa5ff");
        assert_eq!(from_lower_hex("000fa5ff"), Some(bytes.to_vec()));
        assert_eq!(from_lower_hex("000FA5FF"), None);
        assert_eq!(from_lower_hex("abc"), None);
        assert_eq!(from_lower_hex(""), Some(Vec::new()));
        let entry = |serial: &str| RevokedEntry {
            serial: serial.to_string(),
            at: SystemTime::UNIX_EPOCH,
            reason: RevocationReason::Unspecified,
        };
        assert_eq!(entry("0A1B").serial_bytes(), Some(vec![0x0a, 0x1b]));
        assert_eq!(entry("A1B").serial_bytes(), Some(vec![0x0a, 0x1b]));
        assert_eq!(entry("XY").serial_bytes(), None);
    }

    #[test]
    fn the_fingerprint_is_the_sha256_of_the_der() {
        // SHA-256 of the empty string (FIPS 180-4 test vector).
        assert_eq!(
            CertificateRecord::fingerprint_of(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert!(is_sha256_hex(&CertificateRecord::fingerprint_of(b"x")));
        assert!(!is_sha256_hex("E3B0"));
    }
}
