//! The records of every signing and verification, per unit: the unit
//! registry, the document ledger and the daily counts reports read; and the
//! certificate register, the CRLs kyso's CAs published and the evidence of
//! each signature kyso made.
//!
//! One implementation over sqlx's `Any` driver serves both engines: SQLite
//! (the embedded default, WAL with `synchronous=FULL`) and PostgreSQL (for
//! replicas). sqlx lives only in this module; callers speak kyso's types.
//!
//! Guarantees: a fact is committed before the call that records it returns
//! (an acknowledged call is a stored record); a document is one entry per
//! (unit, direction, document id) however often it is recorded, signed or
//! retried, from however many replicas; the daily counts are updated in the
//! same transaction as the entry, so a report never sees one without the other.

mod certificates;
mod group_commit;
mod model;
mod store;

pub use certificates::{
    CertificateFilter, CertificateOrigin, CertificateRecord, CertificateRevocation,
    CertificateStatus, KeyCustody, PublishCrlError, RevokeOutcome, RevokedEntry, SignatureEvidence,
    StoredCrl,
};

pub use group_commit::{ComingRecord, GroupCommit, MAX_GROUP};
pub use model::{
    AppliedSignature, Channel, DateRange, Direction, DocumentEntry, DocumentId, DocumentRecord,
    Fact, GuardedRecord, RecordOutcome, UnitCounts, Verdict,
};
pub use store::{Engine, RecordStore, UnitsAdded};

use crate::datetime::VietnamDate;
use crate::units::{UnitCode, UnitsError};

/// Why recording, reading or reporting failed.
#[derive(Debug, thiserror::Error)]
pub enum RecordsError {
    /// A document id is empty or too long.
    #[error("document id {id:?} has {length} characters; it needs 1 to 200")]
    DocumentIdLength {
        /// The id (cut to 200 characters).
        id: String,
        /// Its length in characters.
        length: usize,
    },
    /// A document id holds control characters or surrounding white space.
    #[error("document id {id:?} holds control characters or leading/trailing white space")]
    DocumentIdCharacters {
        /// The id.
        id: String,
    },
    /// A date range ends before it starts.
    #[error("the period ends ({last}) before it starts ({first})")]
    EmptyRange {
        /// First date.
        first: VietnamDate,
        /// Last date.
        last: VietnamDate,
    },
    /// A fact names a unit the registry does not hold.
    #[error("unit {unit} is not in the registry")]
    UnknownUnit {
        /// The unit.
        unit: UnitCode,
    },
    /// Adding a unit that exists already (without asking to update it).
    #[error("unit {unit} is already in the registry")]
    UnitExists {
        /// The unit.
        unit: UnitCode,
    },
    /// A fact does not belong to the direction of its entry's other facts, or
    /// says something the ledger cannot hold (e.g. a signature on an incoming
    /// document).
    #[error("document {document_id} of unit {unit}: {reason}")]
    InconsistentFact {
        /// The unit.
        unit: UnitCode,
        /// The document.
        document_id: DocumentId,
        /// What is wrong.
        reason: &'static str,
    },
    /// A signature's certificate was revoked before its record committed:
    /// the signature is not acknowledged.
    #[error("the certificate {subject} was revoked at {} ({}); kyso no longer signs with it", crate::datetime::rfc3339(.revocation.at), .revocation.reason)]
    CertificateRevoked {
        /// Its subject.
        subject: String,
        /// When and why.
        revocation: CertificateRevocation,
    },
    /// The units would break the registry's invariants.
    #[error(transparent)]
    Units(#[from] UnitsError),
    /// The database URL is not one kyso can use.
    #[error("database URL {url:?}: {reason}")]
    DatabaseUrl {
        /// The URL with any password removed.
        url: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// The stored data is not what this version of kyso wrote.
    #[error("the records database holds {what}, which this version of kyso cannot read")]
    Corrupt {
        /// What was found.
        what: String,
    },
    /// Applying the schema migrations failed.
    #[error("cannot migrate the records database: {0}")]
    Migrate(String),
    /// The database could not be reached or refused a statement.
    #[error("records database: {0}")]
    Database(String),
}
