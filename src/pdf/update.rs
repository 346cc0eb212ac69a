//! Writing the signature revision as an incremental update (ISO 32000-2
//! §7.5.6): new and changed objects, a cross-reference section of the same
//! kind as the input's last one, and a trailer whose `/Prev` chains back.

use super::form::{
    FieldPlan, Rewritten, write_catalog_with_acroform, write_text_string, write_widget,
};
use super::input::InputDocument;
use super::{Lookup, PdfError, SignatureSpec, write};
use crate::datetime::write_pdf_date;
use lopdf::Object;

/// Room for the last `/ByteRange` number, the length of the signed bytes
/// after `/Contents`: up to ten digits, the rest padded with spaces.
const TAIL_LENGTH_PLACEHOLDER: &[u8] = b"0000000000";
/// Room for a revision without its `/Contents`: a few rewritten objects and
/// the cross-reference section (a larger one only reallocates).
const REVISION_CAPACITY: usize = 4096;

/// Writes the revision that follows `input`; offsets in it count from the
/// start of `input` (the revision is appended to it unchanged).
pub(super) fn write_signature_revision(
    input: &[u8],
    document: &InputDocument,
    plan: FieldPlan,
    spec: &SignatureSpec,
) -> Result<SignatureRevision, PdfError> {
    let mut out = Vec::with_capacity(REVISION_CAPACITY);
    if !matches!(input.last(), Some(b'\n' | b'\r')) {
        out.push(b'\n');
    }
    // Where `out` starts in the signed file.
    let base = input.len();
    // Object number, offset and generation of each object written: a few,
    // sorted by number for the cross-reference section once all are written.
    let mut offsets: Vec<(u32, (usize, u16))> = Vec::with_capacity(plan.objects.len() + 3);

    // The signature dictionary is written by hand: its /Contents and
    // /ByteRange must sit at known offsets to be filled in later.
    let (number, generation) = plan.signature_id;
    offsets.push((number, (base + out.len(), generation)));
    write::object_header(&mut out, plan.signature_id);
    out.extend_from_slice(
        b"<</Type/Sig/Filter/Adobe.PPKLite/SubFilter/ETSI.CAdES.detached/Contents",
    );
    // The hex string goes here when the CMS is embedded; offsets past it
    // count its bytes as if they were there.
    let contents_at = out.len();
    let contents_len = 2 * spec.contents_capacity + 2;
    // /ByteRange after /Contents (entries are unordered, ISO 32000-2
    // §7.3.7): the bounds of the gap are known here and written with their
    // own digits, not padded to ten, and every byte written is hashed. Only
    // the length after the gap waits for the end of the revision.
    let contents_start = input.len() + contents_at;
    out.extend_from_slice(b"/ByteRange[0 ");
    write::unsigned(&mut out, contents_start as u64);
    out.push(b' ');
    write::unsigned(&mut out, (contents_start + contents_len) as u64);
    out.push(b' ');
    let tail_length_at = out.len();
    out.extend_from_slice(TAIL_LENGTH_PLACEHOLDER);
    out.push(b']');
    // From here on, where `out` would start were the hex string in it.
    let base = base + contents_len;
    // A PDF date has no byte a literal string must escape.
    out.extend_from_slice(b"/M(");
    write_pdf_date(&mut out, spec.signing_time);
    out.push(b')');
    for (key, value) in [
        (&b"Reason"[..], spec.reason),
        (b"Location", spec.location),
        (b"Name", spec.signer_name),
    ] {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            // Names and strings end at delimiters: the compact layout, like
            // lopdf's, needs no spaces between them, and every byte written
            // is hashed.
            write::name(&mut out, key);
            write_text_string(&mut out, value);
        }
    }
    out.extend_from_slice(b">>\nendobj\n");

    offsets.push((plan.widget_id.0, (base + out.len(), plan.widget_id.1)));
    write::object_header(&mut out, plan.widget_id);
    write_widget(&mut out, &plan);
    out.extend_from_slice(b"\nendobj\n");

    for &(id, ref object) in &plan.objects {
        offsets.push((id.0, (base + out.len(), id.1)));
        write::object_header(&mut out, id);
        match object {
            Rewritten::Object(object) => write::object(&mut out, object),
            Rewritten::Dictionary { source, set } => write::dictionary_with(&mut out, source, set),
            Rewritten::CatalogWithAcroForm(catalog) => {
                write_catalog_with_acroform(&mut out, catalog, plan.widget_id)
            }
        }
        out.extend_from_slice(b"\nendobj\n");
    }

    offsets.sort_unstable_by_key(|&(number, _)| number);
    if document.last_xref_is_stream {
        write_xref_stream(&mut out, base, offsets, plan.next_object_number, document);
    } else {
        write_xref_table(&mut out, base, &offsets, plan.next_object_number, document);
    }

    // The length's digits are written at the end, moved into the slot and
    // padded with spaces there: no buffer of their own.
    let tail_length = (out.len() - contents_at) as u64;
    let end = out.len();
    write::unsigned(&mut out, tail_length);
    let digits = out.len() - end;
    out.copy_within(end.., tail_length_at);
    out[tail_length_at + digits..tail_length_at + TAIL_LENGTH_PLACEHOLDER.len()].fill(b' ');
    out.truncate(end);

    Ok(SignatureRevision {
        bytes: out,
        contents_at,
        contents_len,
        field_name: plan.field_name,
        page: plan.page,
    })
}

/// The bytes appended to the input, but for the `/Contents` hex string,
/// with the place of that string in them.
pub(super) struct SignatureRevision {
    /// The revision (starting with a line break when the input lacks one)
    /// without the `/Contents` hex string.
    pub(super) bytes: Vec<u8>,
    /// Offset in `bytes` where the `<` that opens `/Contents` goes.
    pub(super) contents_at: usize,
    /// Bytes of the hex string, `<` and `>` included.
    pub(super) contents_len: usize,
    pub(super) field_name: String,
    pub(super) page: u32,
}

/// Writes `/Root`, `/Info` and `/ID` as carried from the last trailer
/// (ISO 32000-2 §7.5.6: an update's trailer repeats the entries of the
/// previous one): the first entries of the new trailer or cross-reference
/// stream dictionary.
fn write_carried_trailer_entries(out: &mut Vec<u8>, document: &InputDocument) {
    write::entry(out, b"Root", &Object::Reference(document.root));
    for key in [&b"Info"[..], b"ID"] {
        if let Some(value) = document.document.trailer().lookup(key) {
            write::entry(out, key, value);
        }
    }
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
    offsets: &[(u32, (usize, u16))],
    size: u32,
    document: &InputDocument,
) {
    let xref_offset = base + out.len();
    out.extend_from_slice(b"xref\n");
    let mut entries = offsets.iter();
    for (start, count) in runs(offsets.iter().map(|&(number, _)| number)) {
        write::unsigned(out, u64::from(start));
        out.push(b' ');
        write::unsigned(out, u64::from(count));
        out.push(b'\n');
        for (_, (offset, generation)) in entries.by_ref().take(count as usize) {
            // Each entry is exactly 20 bytes (ISO 32000-2 §7.5.4).
            write::zero_padded(out, *offset as u64, 10);
            out.push(b' ');
            write::zero_padded(out, u64::from(*generation), 5);
            out.extend_from_slice(b" n\r\n");
        }
    }
    out.extend_from_slice(b"trailer\n<<");
    write_carried_trailer_entries(out, document);
    write::entry(out, b"Size", &Object::Integer(i64::from(size)));
    write::entry(
        out,
        b"Prev",
        &Object::Integer(offset_as_integer(document.last_xref_offset)),
    );
    out.extend_from_slice(b">>");
    startxref(out, xref_offset);
}

/// The end of an update: where its cross-reference section starts (§7.5.5).
fn startxref(out: &mut Vec<u8>, xref_offset: usize) {
    out.extend_from_slice(b"\nstartxref\n");
    write::unsigned(out, xref_offset as u64);
    out.extend_from_slice(b"\n%%EOF\n");
}

fn write_xref_stream(
    out: &mut Vec<u8>,
    base: usize,
    mut offsets: Vec<(u32, (usize, u16))>,
    stream_number: u32,
    document: &InputDocument,
) {
    let xref_offset = base + out.len();
    // The stream's number is above every other: the list stays sorted.
    offsets.push((stream_number, (xref_offset, 0)));
    // Field widths (ISO 32000-2 §7.5.8.2 Table 18): type, offset, generation.
    let offset_width = (usize::BITS - xref_offset.leading_zeros())
        .div_ceil(8)
        .max(1) as usize;
    let mut data = Vec::with_capacity(offsets.len() * (offset_width + 3));
    for (_, (offset, generation)) in &offsets {
        data.push(1);
        data.extend_from_slice(
            &offset.to_be_bytes()[std::mem::size_of::<usize>() - offset_width..],
        );
        data.extend_from_slice(&generation.to_be_bytes());
    }
    let index = runs(offsets.iter().map(|&(number, _)| number))
        .into_iter()
        .flat_map(|(start, count)| {
            [
                Object::from(i64::from(start)),
                Object::from(i64::from(count)),
            ]
        })
        .collect();
    write::object_header(out, (stream_number, 0));
    out.extend_from_slice(b"<<");
    write_carried_trailer_entries(out, document);
    write::entry(out, b"Type", &Object::Name(b"XRef".to_vec()));
    write::entry(out, b"Size", &Object::Integer(i64::from(stream_number) + 1));
    write::entry(out, b"Index", &Object::Array(index));
    write::entry(
        out,
        b"W",
        &Object::Array(vec![1.into(), Object::from(offset_width as i64), 2.into()]),
    );
    write::entry(
        out,
        b"Prev",
        &Object::Integer(offset_as_integer(document.last_xref_offset)),
    );
    write::entry(out, b"Length", &Object::Integer(data.len() as i64));
    out.extend_from_slice(b">>");
    out.extend_from_slice(b"\nstream\n");
    out.extend_from_slice(&data);
    out.extend_from_slice(b"\nendstream\nendobj");
    startxref(out, xref_offset);
}

fn offset_as_integer(offset: usize) -> i64 {
    i64::try_from(offset).unwrap_or(i64::MAX)
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
