//! The DER skeleton of a CMS SignedData, read as raw TLVs before any typed
//! decoding: the work budget that bounds what a hostile CMS can cost, and the
//! slices whose original bytes matter (each embedded certificate, for the ESS
//! hash; the signed attributes, for the signature).

use super::{CmsReadError, MAX_CERTIFICATES, MAX_CMS_LEN, MAX_CRLS};
use cms::content_info::CmsVersion;
use cms::signed_data::EncapsulatedContentInfo;
use const_oid::ObjectIdentifier;
use const_oid::db::rfc5911::ID_SIGNED_DATA;
use der::{Decode, Encode, Header, Reader, SliceReader, Tag, TagNumber};

/// Deepest nesting of constructed values read. A certificate inside a
/// time-stamp token inside an unsigned attribute sits near depth 20.
const MAX_DEPTH: usize = 40;

/// Most elements in one SET OF (or IMPLICIT-tagged SET OF). The der crate
/// sorts a decoded SET OF by insertion sort, quadratic in its length, so a
/// long set is refused before anything decodes it.
const MAX_SET_ELEMENTS: usize = 128;

/// `[0]` constructed: `certificates` in SignedData, `signedAttrs` in
/// SignerInfo (RFC 5652 §5.1, §5.3).
const CONTEXT_0: Tag = Tag::ContextSpecific {
    constructed: true,
    number: TagNumber::N0,
};

/// `[1]` constructed: `crls` in SignedData (RFC 5652 §5.1).
const CONTEXT_1: Tag = Tag::ContextSpecific {
    constructed: true,
    number: TagNumber::N1,
};

/// The parts of a SignedData that verification reads, as raw DER where the
/// original bytes matter.
pub(super) struct SignedDataParts<'a> {
    /// `encapContentInfo` (RFC 5652 §5.2).
    pub(super) encapsulated: EncapsulatedContentInfo,
    /// Each `CertificateChoices` element whose tag is SEQUENCE (a plain
    /// certificate), in the order given.
    pub(super) certificates: Vec<&'a [u8]>,
    /// Each `RevocationInfoChoice` element whose tag is SEQUENCE (a
    /// `CertificateList`), in the order given.
    pub(super) crls: Vec<&'a [u8]>,
    /// Each `SignerInfo`, whole TLV.
    pub(super) signer_infos: Vec<&'a [u8]>,
}

/// The DER `ContentInfo` at the start of `bytes`, without the zero padding a
/// PDF `/Contents` string carries after it (ISO 32000-1 §12.8.1).
pub(super) fn without_padding(bytes: &[u8]) -> Result<&[u8], CmsReadError> {
    let malformed = |source| CmsReadError::Malformed {
        what: "ContentInfo",
        source,
    };
    let mut reader = SliceReader::new(bytes).map_err(malformed)?;
    let header = Header::decode(&mut reader).map_err(malformed)?;
    let total = header
        .encoded_len()
        .and_then(|header_len| header_len + header.length)
        .map_err(malformed)?;
    let total = usize::try_from(total).map_err(malformed)?;
    if total > MAX_CMS_LEN {
        return Err(CmsReadError::TooLarge {
            len: total,
            limit: MAX_CMS_LEN,
        });
    }
    let (Some(content_info), Some(padding)) = (bytes.get(..total), bytes.get(total..)) else {
        return Err(malformed(Tag::Sequence.length_error()));
    };
    match padding.iter().filter(|&&byte| byte != 0).count() {
        0 => Ok(content_info),
        count => Err(CmsReadError::TrailingData { count }),
    }
}

/// Walks every TLV once, refusing nesting deeper than [`MAX_DEPTH`] and sets
/// longer than [`MAX_SET_ELEMENTS`], and any length or tag DER forbids
/// (indefinite lengths included: ISO 32000-1 §12.8.3.3 wants DER). After this
/// the typed decoders run in time linear in the input.
pub(super) fn check_budget(der_bytes: &[u8]) -> Result<(), CmsReadError> {
    walk(der_bytes, 0).map(|_| ())
}

/// Checks the TLVs in `bytes` and returns how many there are at this level.
fn walk(bytes: &[u8], depth: usize) -> Result<usize, CmsReadError> {
    let malformed = |source| CmsReadError::Malformed {
        what: "CMS encoding",
        source,
    };
    let mut reader = SliceReader::new(bytes).map_err(malformed)?;
    let mut elements = 0_usize;
    while !reader.is_finished() {
        let header = Header::decode(&mut reader).map_err(malformed)?;
        let body = reader.read_slice(header.length).map_err(malformed)?;
        elements = elements.saturating_add(1);
        if header.tag.is_constructed() {
            if depth >= MAX_DEPTH {
                return Err(CmsReadError::TooDeep { limit: MAX_DEPTH });
            }
            let inner = walk(body, depth.saturating_add(1))?;
            // SEQUENCE OF is never sorted; SET OF and the IMPLICIT-tagged
            // sets of CMS (certificates, crls, signedAttrs) are.
            let sorted_by_decoder =
                header.tag == Tag::Set || matches!(header.tag, Tag::ContextSpecific { .. });
            if sorted_by_decoder && inner > MAX_SET_ELEMENTS {
                return Err(CmsReadError::SetTooLarge {
                    limit: MAX_SET_ELEMENTS,
                });
            }
        }
    }
    Ok(elements)
}

/// Splits `ContentInfo` → `SignedData` (RFC 5652 §3, §5.1) into its parts.
pub(super) fn signed_data_parts(content_info: &[u8]) -> Result<SignedDataParts<'_>, CmsReadError> {
    let malformed = |what| move |source| CmsReadError::Malformed { what, source };

    let mut outer = SliceReader::new(content_info).map_err(malformed("ContentInfo"))?;
    let body = body_of(&mut outer, Tag::Sequence).map_err(malformed("ContentInfo"))?;
    outer.finish(()).map_err(malformed("ContentInfo"))?;
    let mut reader = SliceReader::new(body).map_err(malformed("ContentInfo"))?;
    let content_type = ObjectIdentifier::decode(&mut reader).map_err(malformed("ContentInfo"))?;
    if content_type != ID_SIGNED_DATA {
        return Err(CmsReadError::NotSignedData { content_type });
    }
    let explicit = body_of(&mut reader, CONTEXT_0).map_err(malformed("ContentInfo"))?;
    reader.finish(()).map_err(malformed("ContentInfo"))?;

    let mut wrapper = SliceReader::new(explicit).map_err(malformed("SignedData"))?;
    let body = body_of(&mut wrapper, Tag::Sequence).map_err(malformed("SignedData"))?;
    wrapper.finish(()).map_err(malformed("SignedData"))?;

    let mut reader = SliceReader::new(body).map_err(malformed("SignedData"))?;
    CmsVersion::decode(&mut reader).map_err(malformed("SignedData version"))?;
    // digestAlgorithms is advisory (RFC 5652 §5.1); the SignerInfo names its own.
    body_of(&mut reader, Tag::Set).map_err(malformed("SignedData digestAlgorithms"))?;
    let encapsulated =
        EncapsulatedContentInfo::decode(&mut reader).map_err(malformed("encapContentInfo"))?;
    let mut certificates = Vec::new();
    if reader.peek_tag().ok() == Some(CONTEXT_0) {
        let set = body_of(&mut reader, CONTEXT_0).map_err(malformed("certificates"))?;
        certificates = elements_tagged(set, Tag::Sequence).map_err(malformed("certificates"))?;
        if certificates.len() > MAX_CERTIFICATES {
            return Err(CmsReadError::TooMany {
                what: "certificates",
                limit: MAX_CERTIFICATES,
            });
        }
    }
    let mut crls = Vec::new();
    if reader.peek_tag().ok() == Some(CONTEXT_1) {
        let set = body_of(&mut reader, CONTEXT_1).map_err(malformed("crls"))?;
        crls = elements_tagged(set, Tag::Sequence).map_err(malformed("crls"))?;
        if crls.len() > MAX_CRLS {
            return Err(CmsReadError::TooMany {
                what: "CRLs",
                limit: MAX_CRLS,
            });
        }
    }
    let set = body_of(&mut reader, Tag::Set).map_err(malformed("signerInfos"))?;
    let signer_infos = elements_tagged(set, Tag::Sequence).map_err(malformed("signerInfos"))?;
    reader.finish(()).map_err(malformed("SignedData"))?;
    Ok(SignedDataParts {
        encapsulated,
        certificates,
        crls,
        signer_infos,
    })
}

/// The original `signedAttrs` TLV of a SignerInfo (its `[0] IMPLICIT` tag
/// still on), if it has one.
///
/// RFC 5652 §5.4 has the signature computed over the DER of the attributes
/// with an explicit SET OF tag. The der crate sorts a SET OF as it decodes it,
/// so re-encoding the decoded attributes would silently "repair" a set a
/// signer sent unsorted and verify bytes nobody signed; the signature is
/// checked over the bytes as received instead, with only the tag byte changed.
pub(super) fn signed_attributes(signer_info: &[u8]) -> Result<Option<&[u8]>, der::Error> {
    let mut outer = SliceReader::new(signer_info)?;
    let body = body_of(&mut outer, Tag::Sequence)?;
    outer.finish(())?;
    let mut reader = SliceReader::new(body)?;
    // version, sid, digestAlgorithm (RFC 5652 §5.3).
    for _ in 0..3 {
        reader.tlv_bytes()?;
    }
    if reader.peek_tag().ok() == Some(CONTEXT_0) {
        return reader.tlv_bytes().map(Some);
    }
    Ok(None)
}

/// The bytes a SignerInfo's signature covers: the `signedAttrs` TLV with its
/// `[0]` tag replaced by the SET OF tag (RFC 5652 §5.4).
pub(super) fn signed_attributes_message(raw: &[u8]) -> Vec<u8> {
    let mut message = raw.to_vec();
    if let Some(tag) = message.first_mut() {
        // A single-byte tag: `signed_attributes` only returns a TLV whose tag
        // decoded as [0] constructed (0xA0); SET OF is 0x31.
        *tag = Tag::Set.octet();
    }
    message
}

/// Reads one TLV with tag `tag` and returns its value bytes.
fn body_of<'a>(reader: &mut SliceReader<'a>, tag: Tag) -> der::Result<&'a [u8]> {
    let header = Header::decode(reader)?;
    header.tag.assert_eq(tag)?;
    reader.read_slice(header.length)
}

/// The TLVs inside a SET body whose tag is `tag`; elements of other CHOICE
/// arms (attribute certificates, `other` revocation formats) are skipped.
fn elements_tagged(body: &[u8], tag: Tag) -> der::Result<Vec<&[u8]>> {
    let mut reader = SliceReader::new(body)?;
    let mut elements = Vec::new();
    while !reader.is_finished() {
        let element_tag = reader.peek_tag()?;
        let tlv = reader.tlv_bytes()?;
        if element_tag == tag {
            elements.push(tlv);
        }
    }
    Ok(elements)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` NULLs nested in SEQUENCEs `depth` deep.
    fn nested(depth: usize) -> Vec<u8> {
        let mut value = vec![0x05, 0x00];
        for _ in 0..depth {
            let mut outer = vec![0x30];
            let len = value.len();
            if len < 128 {
                outer.push(len as u8);
            } else {
                outer.extend([0x82, (len >> 8) as u8, len as u8]);
            }
            outer.extend(value);
            value = outer;
        }
        value
    }

    #[test]
    fn nesting_deeper_than_the_budget_is_refused() {
        assert!(check_budget(&nested(MAX_DEPTH)).is_ok());
        assert!(matches!(
            check_budget(&nested(MAX_DEPTH + 1)),
            Err(CmsReadError::TooDeep { .. })
        ));
    }

    #[test]
    fn a_set_longer_than_the_budget_is_refused_but_a_sequence_is_not() {
        let elements = MAX_SET_ELEMENTS + 1;
        let mut body = Vec::new();
        for _ in 0..elements {
            body.extend([0x05, 0x00]);
        }
        let mut set = vec![0x31, 0x82, (body.len() >> 8) as u8, body.len() as u8];
        set.extend(&body);
        assert!(matches!(
            check_budget(&set),
            Err(CmsReadError::SetTooLarge { .. })
        ));
        set[0] = 0x30;
        assert!(check_budget(&set).is_ok());
    }

    #[test]
    fn indefinite_lengths_are_refused() {
        assert!(check_budget(&[0x30, 0x80, 0x05, 0x00, 0x00, 0x00]).is_err());
    }

    #[test]
    fn zero_padding_after_the_content_info_is_dropped_and_anything_else_refused() {
        let der_bytes = [0x30, 0x02, 0x05, 0x00];
        let mut padded = der_bytes.to_vec();
        padded.extend([0; 10]);
        assert_eq!(without_padding(&padded).expect("padded"), &der_bytes);
        padded.push(1);
        assert!(matches!(
            without_padding(&padded),
            Err(CmsReadError::TrailingData { count: 1 })
        ));
        assert!(without_padding(&[0x30, 0x05, 0x05, 0x00]).is_err());
    }

    #[test]
    fn a_content_info_longer_than_the_limit_is_refused_from_its_header() {
        let len = MAX_CMS_LEN + 1;
        let header = [0x30, 0x83, (len >> 16) as u8, (len >> 8) as u8, len as u8];
        assert!(matches!(
            without_padding(&header),
            Err(CmsReadError::TooLarge { .. })
        ));
    }
}
