//! What a certificate is for and why it was revoked: the vocabulary the CA,
//! the certificate register in the records database and the API share.

use std::fmt;

use crate::units::LeaderId;

/// Whom or what a certificate kyso issued or imported identifies.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CertificateRole {
    /// A unit's organisation certificate (its electronic seal).
    Organisation,
    /// A leader's personal certificate.
    Leader(LeaderId),
    /// A time-stamping unit's certificate (extended key usage timeStamping only).
    TimeStamping,
}

impl CertificateRole {
    /// The role's kind as stored and shown: `organisation`, `leader` or `time_stamping`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Organisation => "organisation",
            Self::Leader(_) => "leader",
            Self::TimeStamping => "time_stamping",
        }
    }

    /// The leader, for a personal certificate.
    pub fn leader(&self) -> Option<&LeaderId> {
        match self {
            Self::Leader(leader) => Some(leader),
            Self::Organisation | Self::TimeStamping => None,
        }
    }
}

impl fmt::Display for CertificateRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Leader(leader) => write!(f, "leader {leader}"),
            Self::Organisation | Self::TimeStamping => f.write_str(self.kind()),
        }
    }
}

/// Why a certificate was revoked: the CRLReason codes of RFC 5280 §5.3.1
/// that a CA of kyso's kind uses (no certificateHold, removeFromCRL or aA).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RevocationReason {
    /// unspecified (0).
    Unspecified,
    /// keyCompromise (1).
    KeyCompromise,
    /// cACompromise (2).
    CaCompromise,
    /// affiliationChanged (3): the holder left the unit.
    AffiliationChanged,
    /// superseded (4): replaced by a new certificate.
    Superseded,
    /// cessationOfOperation (5): the unit no longer exists.
    CessationOfOperation,
    /// privilegeWithdrawn (9).
    PrivilegeWithdrawn,
}

impl RevocationReason {
    /// Every reason, in code order.
    pub const ALL: [Self; 7] = [
        Self::Unspecified,
        Self::KeyCompromise,
        Self::CaCompromise,
        Self::AffiliationChanged,
        Self::Superseded,
        Self::CessationOfOperation,
        Self::PrivilegeWithdrawn,
    ];

    /// The CRLReason code (RFC 5280 §5.3.1).
    pub fn code(self) -> u8 {
        match self {
            Self::Unspecified => 0,
            Self::KeyCompromise => 1,
            Self::CaCompromise => 2,
            Self::AffiliationChanged => 3,
            Self::Superseded => 4,
            Self::CessationOfOperation => 5,
            Self::PrivilegeWithdrawn => 9,
        }
    }

    /// The name as stored, typed and shown, e.g. `key_compromise`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unspecified => "unspecified",
            Self::KeyCompromise => "key_compromise",
            Self::CaCompromise => "ca_compromise",
            Self::AffiliationChanged => "affiliation_changed",
            Self::Superseded => "superseded",
            Self::CessationOfOperation => "cessation_of_operation",
            Self::PrivilegeWithdrawn => "privilege_withdrawn",
        }
    }

    /// Reads a name written by [`as_str`](Self::as_str) (also accepting `-` for `_`).
    pub fn parse(name: &str) -> Option<Self> {
        let name = name.trim().replace('-', "_").to_ascii_lowercase();
        Self::ALL.into_iter().find(|reason| reason.as_str() == name)
    }
}

impl fmt::Display for RevocationReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_reads_back_from_its_name_and_codes_follow_rfc_5280() {
        for reason in RevocationReason::ALL {
            assert_eq!(RevocationReason::parse(reason.as_str()), Some(reason));
        }
        assert_eq!(
            RevocationReason::parse("Key-Compromise"),
            Some(RevocationReason::KeyCompromise)
        );
        assert_eq!(RevocationReason::parse("certificate_hold"), None);
        assert_eq!(RevocationReason::PrivilegeWithdrawn.code(), 9);
    }
}
