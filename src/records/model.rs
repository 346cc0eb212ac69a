//! What the ledger holds: one entry per (unit, direction, document id), and the
//! facts that create or complete it.

use crate::datetime::VietnamDate;
use crate::units::{LeaderId, UnitCode};
use std::time::SystemTime;

use super::RecordsError;

/// A document-management system's id for a document, unique per unit and
/// direction: the key that makes recording idempotent.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DocumentId(String);

impl DocumentId {
    /// Longest id accepted, in characters.
    pub const MAX_LENGTH: usize = 200;

    /// Parses an id: 1 to 200 characters, none of them control characters,
    /// no surrounding white space.
    pub fn parse(input: &str) -> Result<Self, RecordsError> {
        let length = input.chars().count();
        if length == 0 || length > Self::MAX_LENGTH {
            return Err(RecordsError::DocumentIdLength {
                id: input.chars().take(Self::MAX_LENGTH).collect(),
                length,
            });
        }
        if input.trim() != input || input.chars().any(char::is_control) {
            return Err(RecordsError::DocumentIdCharacters {
                id: input.to_owned(),
            });
        }
        Ok(Self(input.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for DocumentId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether a document leaves the unit or arrives at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Direction {
    /// *Văn bản đi*: issued by the unit.
    Outgoing,
    /// *Văn bản đến*: received by the unit.
    Incoming,
}

impl Direction {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Outgoing => "outgoing",
            Self::Incoming => "incoming",
        }
    }
}

/// How a document travelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    /// Between document-management systems over the network.
    Electronic,
    /// On paper.
    Paper,
}

impl Channel {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Electronic => "electronic",
            Self::Paper => "paper",
        }
    }
}

/// kyso's verdict on an incoming document (ETSI EN 319 102-1 main indication
/// of the whole document).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// Every signature passed: the document counts as received electronically.
    Passed,
    /// A signature failed.
    Failed,
    /// Validity could not be established.
    Indeterminate,
}

impl Verdict {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Passed => "total_passed",
            Self::Failed => "total_failed",
            Self::Indeterminate => "indeterminate",
        }
    }
}

/// One fact about a document, as kyso learns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fact {
    /// kyso applied the unit's organisation signature (outgoing).
    OrganisationSigned {
        /// Serial of the certificate used, upper-case hex.
        certificate_serial: String,
        /// The evidence of the signature: SHA-256 of the CMS SignerInfo
        /// signature value, lower-case hex (see [`Fact::LeaderSigned`]).
        signature_sha256: Option<String>,
    },
    /// kyso applied a leader's personal signature (outgoing).
    LeaderSigned {
        /// The leader.
        leader: LeaderId,
        /// Serial of the certificate used, upper-case hex.
        certificate_serial: String,
        /// The evidence of the signature: SHA-256 of the CMS SignerInfo
        /// signature value, lower-case hex. When present, recording the fact
        /// also stores the signing instant under this digest (see
        /// [`RecordStore::signature_evidence`](super::RecordStore::signature_evidence)),
        /// even when the ledger entry keeps an earlier signature.
        signature_sha256: Option<String>,
    },
    /// kyso verified the document (incoming).
    Verified {
        /// The document verdict.
        verdict: Verdict,
    },
    /// A document-management system reports a document kyso may never see
    /// (paper, unsigned, signed elsewhere).
    Reported {
        /// Outgoing or incoming.
        direction: Direction,
        /// How it travelled.
        channel: Channel,
        /// Outgoing only: the system says the organisation signature was applied
        /// outside kyso. `false` never erases a signature kyso recorded.
        organisation_signed: bool,
        /// Outgoing only: the system says a leader's signature was applied
        /// outside kyso. `false` never erases a signature kyso recorded.
        leader_signed: bool,
    },
}

impl Fact {
    /// The direction of the entry this fact belongs to.
    pub fn direction(&self) -> Direction {
        match self {
            Self::OrganisationSigned { .. } | Self::LeaderSigned { .. } => Direction::Outgoing,
            Self::Verified { .. } => Direction::Incoming,
            Self::Reported { direction, .. } => *direction,
        }
    }
}

/// A fact about one document of one unit, at one instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentRecord {
    /// The unit the document belongs to.
    pub unit: UnitCode,
    /// The document system's id.
    pub document_id: DocumentId,
    /// When the fact happened. The first fact recorded for a document fixes
    /// the date (in Vietnam time) under which reports count it.
    pub at: SystemTime,
    /// What happened.
    pub fact: Fact,
}

/// A fact to record with, for a signature kyso made, the certificate that
/// must not be revoked when the fact is committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardedRecord {
    /// The fact.
    pub record: DocumentRecord,
    /// The SHA-256 fingerprint (lower-case hex) of the certificate whose
    /// revocation refuses the record.
    pub unrevoked_certificate: Option<String>,
}

/// What recording a fact changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordOutcome {
    /// A new ledger entry: the document now counts.
    Created,
    /// The entry existed and this fact changed it (e.g. the organisation
    /// signature after the leader's).
    Updated,
    /// The entry already said this (a retry or duplicate): nothing changed.
    Unchanged,
}

/// A ledger entry as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentEntry {
    /// The unit.
    pub unit: UnitCode,
    /// Outgoing or incoming.
    pub direction: Direction,
    /// The document system's id.
    pub document_id: DocumentId,
    /// The Vietnam date it is counted under.
    pub date: VietnamDate,
    /// When it was first recorded (the first fact's instant).
    pub first_recorded_at: SystemTime,
    /// How it travelled.
    pub channel: Channel,
    /// Outgoing: when the organisation signature was applied, and with which
    /// certificate (empty serial when reported from outside kyso).
    pub organisation_signature: Option<AppliedSignature>,
    /// Outgoing: when a leader's signature was applied, by whom (absent when
    /// reported from outside kyso) and with which certificate.
    pub leader_signature: Option<AppliedSignature>,
    /// Incoming: kyso's latest verdict, if kyso verified it.
    pub verdict: Option<Verdict>,
}

/// A signature recorded on an outgoing document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedSignature {
    /// When it was applied (first time; later signatures do not move it).
    pub at: SystemTime,
    /// The leader, for a leader's signature applied by kyso.
    pub leader: Option<LeaderId>,
    /// Certificate serial, upper-case hex; empty when reported from outside.
    pub certificate_serial: String,
    /// SHA-256 of the CMS SignerInfo signature value, lower-case hex, when
    /// the fact that recorded it carried one (`Fact::OrganisationSigned` or
    /// `Fact::LeaderSigned`'s `signature_sha256`).
    pub signature_sha256: Option<String>,
}

/// Exact document counts of one unit over a period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UnitCounts {
    /// Incoming documents.
    pub incoming_total: u64,
    /// Incoming documents received electronically with a TOTAL_PASSED verdict.
    pub incoming_electronic: u64,
    /// Outgoing documents.
    pub outgoing_total: u64,
    /// Outgoing documents sent electronically.
    pub outgoing_electronic: u64,
    /// Outgoing documents carrying the organisation signature.
    pub organisation_signed: u64,
    /// Outgoing documents carrying a leader's signature.
    pub leader_signed: u64,
}

impl UnitCounts {
    /// Adds `other` to these counts.
    pub fn add(&mut self, other: &UnitCounts) {
        self.incoming_total += other.incoming_total;
        self.incoming_electronic += other.incoming_electronic;
        self.outgoing_total += other.outgoing_total;
        self.outgoing_electronic += other.outgoing_electronic;
        self.organisation_signed += other.organisation_signed;
        self.leader_signed += other.leader_signed;
    }
}

/// An inclusive range of Vietnam dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateRange {
    /// First date counted.
    pub first: VietnamDate,
    /// Last date counted.
    pub last: VietnamDate,
}

impl DateRange {
    /// The range, refusing one that ends before it starts.
    pub fn new(first: VietnamDate, last: VietnamDate) -> Result<Self, RecordsError> {
        if last < first {
            return Err(RecordsError::EmptyRange { first, last });
        }
        Ok(Self { first, last })
    }

    /// Whether `date` falls in the range.
    pub fn contains(&self, date: VietnamDate) -> bool {
        self.first <= date && date <= self.last
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_ids_with_control_characters_or_padding_are_refused() {
        assert!(DocumentId::parse("123/UBND-VP").is_ok());
        assert!(DocumentId::parse("Công văn 12").is_ok());
        assert!(DocumentId::parse("").is_err());
        assert!(DocumentId::parse(" 12").is_err());
        assert!(DocumentId::parse("a\nb").is_err());
        assert!(DocumentId::parse(&"x".repeat(201)).is_err());
    }

    #[test]
    fn a_range_that_ends_before_it_starts_is_refused() {
        let (first, last) = VietnamDate::parse_month("2026-04").unwrap();
        assert!(DateRange::new(first, last).is_ok());
        assert!(DateRange::new(last, first).is_err());
    }
}
