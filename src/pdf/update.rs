//! Writing the signature revision as an incremental update (ISO 32000-2
//! §7.5.6): new and changed objects, a cross-reference section of the same
//! kind as the input's last one, and a trailer whose `/Prev` chains back.

use super::form::{FieldPlan, text_string};
use super::input::InputDocument;
use super::{PdfError, SignatureSpec};
use crate::datetime::pdf_date;
use lopdf::{Dictionary, Object, Writer};
use std::collections::BTreeMap;
use std::io::Write as _;

/// Room for the three `/ByteRange` numbers after the leading 0, each up to
/// ten digits (files up to 9,999,999,999 bytes).
const BYTE_RANGE_PLACEHOLDER: &[u8] = b"0 0000000000 0000000000 0000000000";

/// Writes the revision that follows `input`; offsets in it count from the
/// start of `input` (the revision is appended to it unchanged).
pub(super) fn write_signature_revision(
    input: &[u8],
    document: &InputDocument,
    plan: FieldPlan,
    spec: &SignatureSpec,
) -> Result<SignatureRevision, PdfError> {
    let mut out = Vec::with_capacity(2 * spec.contents_capacity + 8192);
    if !matches!(input.last(), Some(b'\n' | b'\r')) {
        out.push(b'\n');
    }
    // Where `out` starts in the signed file.
    let base = input.len();
    let mut offsets = BTreeMap::new();

    // The signature dictionary is written by hand: its /ByteRange and
    // /Contents must sit at known offsets to be filled in later.
    let (number, generation) = plan.signature_id;
    offsets.insert(number, (base + out.len(), generation));
    write!(out, "{number} {generation} obj\n<</Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /ByteRange [")
        .map_err(write_failed)?;
    let byte_range_at = out.len();
    out.extend_from_slice(BYTE_RANGE_PLACEHOLDER);
    out.extend_from_slice(b"] /Contents ");
    let contents_start = out.len();
    out.push(b'<');
    out.resize(out.len() + 2 * spec.contents_capacity, b'0');
    out.push(b'>');
    let contents_end = out.len();
    let mut entries = Dictionary::new();
    entries.set("M", Object::string_literal(pdf_date(spec.signing_time)));
    for (key, value) in [
        ("Reason", &spec.reason),
        ("Location", &spec.location),
        ("Name", &spec.signer_name),
    ] {
        if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
            entries.set(key, text_string(value));
        }
    }
    for (key, value) in entries.iter() {
        out.push(b' ');
        Writer::write_object(&mut out, &Object::Name(key.clone())).map_err(write_failed)?;
        out.push(b' ');
        Writer::write_object(&mut out, value).map_err(write_failed)?;
    }
    out.extend_from_slice(b">>\nendobj\n");

    for (&(number, generation), object) in &plan.objects {
        offsets.insert(number, (base + out.len(), generation));
        writeln!(out, "{number} {generation} obj").map_err(write_failed)?;
        Writer::write_object(&mut out, object).map_err(write_failed)?;
        out.extend_from_slice(b"\nendobj\n");
    }

    let trailer = trailer_entries(document);
    if document.last_xref_is_stream {
        write_xref_stream(
            &mut out,
            base,
            offsets,
            plan.next_object_number,
            document,
            trailer,
        )?;
    } else {
        write_xref_table(
            &mut out,
            base,
            &offsets,
            plan.next_object_number,
            document,
            trailer,
        )?;
    }

    let length = out.len();
    let byte_range = format!(
        "0 {} {} {}",
        base + contents_start,
        base + contents_end,
        length - contents_end
    );
    let slot = &mut out[byte_range_at..byte_range_at + BYTE_RANGE_PLACEHOLDER.len()];
    slot.fill(b' ');
    slot[..byte_range.len()].copy_from_slice(byte_range.as_bytes());

    Ok(SignatureRevision {
        bytes: out,
        contents_start,
        contents_end,
        field_name: plan.field_name,
        page: plan.page,
    })
}

/// The bytes appended to the input, with the place of `/Contents` in them.
pub(super) struct SignatureRevision {
    /// The revision (starting with a line break when the input lacks one).
    pub(super) bytes: Vec<u8>,
    /// Offset in `bytes` of the `<` that opens `/Contents`.
    pub(super) contents_start: usize,
    /// Offset in `bytes` just past the closing `>`.
    pub(super) contents_end: usize,
    pub(super) field_name: String,
    pub(super) page: u32,
}

/// `/Root`, `/Info` and `/ID` carried from the last trailer (ISO 32000-2
/// §7.5.6: an update's trailer repeats the entries of the previous one).
fn trailer_entries(document: &InputDocument) -> Dictionary {
    let mut trailer = Dictionary::new();
    trailer.set("Root", Object::Reference(document.root));
    for key in [&b"Info"[..], b"ID"] {
        if let Ok(value) = document.document.trailer().get(key) {
            trailer.set(key.to_vec(), value.clone());
        }
    }
    trailer
}

/// Consecutive runs of object numbers: the subsections of a cross-reference section.
fn runs(numbers: impl Iterator<Item = u32>) -> Vec<(u32, u32)> {
    let mut runs: Vec<(u32, u32)> = Vec::new();
    for number in numbers {
        match runs.last_mut() {
            Some((start, count)) if *start + *count == number => *count += 1,
            _ => runs.push((number, 1)),
        }
    }
    runs
}

fn write_xref_table(
    out: &mut Vec<u8>,
    base: usize,
    offsets: &BTreeMap<u32, (usize, u16)>,
    size: u32,
    document: &InputDocument,
    mut trailer: Dictionary,
) -> Result<(), PdfError> {
    let xref_offset = base + out.len();
    out.extend_from_slice(b"xref\n");
    let mut entries = offsets.iter();
    for (start, count) in runs(offsets.keys().copied()) {
        writeln!(out, "{start} {count}").map_err(write_failed)?;
        for (_, (offset, generation)) in entries.by_ref().take(count as usize) {
            // Each entry is exactly 20 bytes (ISO 32000-2 §7.5.4).
            write!(out, "{offset:010} {generation:05} n\r\n").map_err(write_failed)?;
        }
    }
    trailer.set("Size", Object::Integer(i64::from(size)));
    trailer.set(
        "Prev",
        Object::Integer(offset_as_integer(document.last_xref_offset)),
    );
    out.extend_from_slice(b"trailer\n");
    Writer::write_object(out, &Object::Dictionary(trailer)).map_err(write_failed)?;
    write!(out, "\nstartxref\n{xref_offset}\n%%EOF\n").map_err(write_failed)
}

fn write_xref_stream(
    out: &mut Vec<u8>,
    base: usize,
    mut offsets: BTreeMap<u32, (usize, u16)>,
    stream_number: u32,
    document: &InputDocument,
    mut dictionary: Dictionary,
) -> Result<(), PdfError> {
    let xref_offset = base + out.len();
    offsets.insert(stream_number, (xref_offset, 0));
    // Field widths (ISO 32000-2 §7.5.8.2 Table 18): type, offset, generation.
    let offset_width = (usize::BITS - xref_offset.leading_zeros())
        .div_ceil(8)
        .max(1) as usize;
    let mut data = Vec::with_capacity(offsets.len() * (offset_width + 3));
    for (offset, generation) in offsets.values() {
        data.push(1);
        data.extend_from_slice(
            &offset.to_be_bytes()[std::mem::size_of::<usize>() - offset_width..],
        );
        data.extend_from_slice(&generation.to_be_bytes());
    }
    let index = runs(offsets.keys().copied())
        .into_iter()
        .flat_map(|(start, count)| {
            [
                Object::from(i64::from(start)),
                Object::from(i64::from(count)),
            ]
        })
        .collect();
    dictionary.set("Type", Object::Name(b"XRef".to_vec()));
    dictionary.set("Size", Object::Integer(i64::from(stream_number) + 1));
    dictionary.set("Index", Object::Array(index));
    dictionary.set(
        "W",
        Object::Array(vec![1.into(), Object::from(offset_width as i64), 2.into()]),
    );
    dictionary.set(
        "Prev",
        Object::Integer(offset_as_integer(document.last_xref_offset)),
    );
    dictionary.set("Length", Object::Integer(data.len() as i64));
    writeln!(out, "{stream_number} 0 obj").map_err(write_failed)?;
    Writer::write_object(out, &Object::Dictionary(dictionary)).map_err(write_failed)?;
    out.extend_from_slice(b"\nstream\n");
    out.extend_from_slice(&data);
    write!(
        out,
        "\nendstream\nendobj\nstartxref\n{xref_offset}\n%%EOF\n"
    )
    .map_err(write_failed)
}

fn offset_as_integer(offset: usize) -> i64 {
    i64::try_from(offset).unwrap_or(i64::MAX)
}

fn write_failed(error: impl std::fmt::Display) -> PdfError {
    PdfError::Unreadable {
        reason: format!("could not serialise an object: {error}"),
    }
}

#[cfg(test)]
mod tests {
    use super::runs;

    #[test]
    fn consecutive_object_numbers_share_a_subsection() {
        assert_eq!(
            runs([3, 4, 5, 9, 11, 12].into_iter()),
            vec![(3, 3), (9, 1), (11, 2)]
        );
    }
}
