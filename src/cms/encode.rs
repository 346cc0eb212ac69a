//! The signing side's encoder: borrowed `der` types for the parts of the
//! CMS structures of RFC 5652 that a [`super::SignedDataTemplate`] encodes
//! once per signer — the certificate set, the SignerIdentifier, the ESS
//! attribute are written again as they are, without cloning or re-encoding
//! certificates.
//!
//! The field layout is that of the `cms` crate's `ContentInfo`,
//! `SignedData` and `SignerInfo`; the tests in `super` check that the bytes
//! decode as those types and equal what they encode to.

use cms::content_info::CmsVersion;
use const_oid::ObjectIdentifier;
use der::asn1::SetOf;
use der::{Decode, DerOrd, Encode, Length, Reader, Sequence, Writer};
use std::cmp::Ordering;

/// One complete DER value (tag, length and contents) encoded earlier by the
/// `der` crate, written again byte for byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Encoded<'a>(&'a [u8]);

impl<'a> Encoded<'a> {
    /// `bytes` must be exactly one DER value; anything else is refused.
    pub(super) fn new(bytes: &'a [u8]) -> der::Result<Self> {
        Self::from_der(bytes)
    }
}

impl<'a> Decode<'a> for Encoded<'a> {
    fn decode<R: Reader<'a>>(reader: &mut R) -> der::Result<Self> {
        reader.tlv_bytes().map(Self)
    }
}

impl Encode for Encoded<'_> {
    fn encoded_len(&self) -> der::Result<Length> {
        Length::try_from(self.0.len())
    }

    fn encode(&self, writer: &mut impl Writer) -> der::Result<()> {
        writer.write(self.0)
    }
}

impl DerOrd for Encoded<'_> {
    /// X.690 §11.6: the components of a SET OF are ordered as octet strings
    /// of their encodings.
    fn der_cmp(&self, other: &Self) -> der::Result<Ordering> {
        Ok(self.0.cmp(other.0))
    }
}

/// An attribute with one value (RFC 5652 §5.3), borrowed: x509-cert's
/// `Attribute` without its allocations.
#[derive(Sequence)]
pub(super) struct SingleValueAttribute<'a> {
    pub(super) oid: ObjectIdentifier,
    pub(super) values: SetOf<Encoded<'a>, 1>,
}

/// A version whose value is fixed by the structure's content (RFC 5652
/// §5.1, §5.3: v1 for an issuerAndSerialNumber signer and id-data content
/// with no attribute certificates).
pub(super) const VERSION: CmsVersion = CmsVersion::V1;
