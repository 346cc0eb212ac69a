//! Cross-reference streams (ISO 32000-2 §7.5.8): binary rows of `/W`
//! big-endian fields for the object numbers `/Index` lists.

use super::{Chain, Entry, Rows, Section, Subsection, SubsectionRows, subsection_numbers};
use crate::pdf::PdfError;
use crate::pdf::reader::filters;
use crate::pdf::reader::objects::indirect_object;
use lopdf::{Dictionary, Object};

impl Chain<'_> {
    /// A cross-reference stream (§7.5.8): rows of `/W` big-endian fields
    /// for the object numbers `/Index` lists; its dictionary is the trailer.
    /// The data must hold a row for every listed number, and every row must
    /// convert to an entry; lookups later only locate them.
    pub(super) fn stream(&mut self, offset: usize) -> Result<Dictionary, PdfError> {
        let direct_only = |_| Err(PdfError::DamagedCrossReference);
        let stream = match indirect_object(self.bytes, offset, None, &direct_only, self.budget) {
            Ok((_, Object::Stream(stream))) if stream.dict.has_type(b"XRef") => stream,
            Ok(_) | Err(PdfError::DamagedCrossReference | PdfError::Unreadable { .. }) => {
                return Err(PdfError::DamagedCrossReference);
            }
            Err(other) => return Err(other),
        };
        let data = filters::decode(&stream, self.budget)?;
        let integers = |key: &[u8]| -> Option<Vec<u64>> {
            let items = stream.dict.get(key).ok()?.as_array().ok()?;
            items
                .iter()
                .map(|item| u64::try_from(item.as_i64().ok()?).ok())
                .collect()
        };
        let widths = integers(b"W").ok_or(PdfError::DamagedCrossReference)?;
        let [type_width, field2_width, field3_width] = widths[..] else {
            return Err(PdfError::DamagedCrossReference);
        };
        if [type_width, field2_width, field3_width]
            .iter()
            .any(|w| *w > 8)
        {
            return Err(PdfError::DamagedCrossReference);
        }
        let size = stream
            .dict
            .get(b"Size")
            .and_then(Object::as_i64)
            .ok()
            .and_then(|s| u64::try_from(s).ok());
        let size = size.ok_or(PdfError::DamagedCrossReference)?;
        let index = match stream.dict.get(b"Index") {
            Err(_) => vec![0, size],
            Ok(_) => integers(b"Index").ok_or(PdfError::DamagedCrossReference)?,
        };
        // Widths are at most 8, so these conversions and sums cannot fail.
        let widths =
            [type_width, field2_width, field3_width].map(|w| usize::try_from(w).unwrap_or(8));
        let row = widths.iter().sum::<usize>();
        if row == 0 {
            return Err(PdfError::DamagedCrossReference);
        }
        // Rows are consumed in /Index order; a trailing partial row is no row.
        let rows = data.len() / row;
        let mut used = 0usize;
        let mut subsections = Vec::new();
        for pair in index.chunks(2) {
            let [start, count] = pair[..] else {
                return Err(PdfError::DamagedCrossReference);
            };
            let Some((start, count)) = subsection_numbers(start, count)? else {
                continue;
            };
            self.count(count)?;
            let first = used;
            used = usize::try_from(count)
                .ok()
                .and_then(|count| used.checked_add(count))
                .filter(|used| *used <= rows)
                .ok_or(PdfError::DamagedCrossReference)?;
            subsections.push(Subsection {
                start,
                count,
                rows: SubsectionRows::Even {
                    first: first * row,
                    stride: row,
                },
            });
        }
        // Fields this narrow always fit an entry (a generation in 16 bits,
        // an object number or index in 32); wider ones are checked row by row.
        let [_, field2_width, field3_width] = widths;
        if field2_width > 4 || field3_width > 2 {
            for fields in data.chunks_exact(row).take(used) {
                row_entry(fields, widths).ok_or(PdfError::DamagedCrossReference)?;
            }
        }
        self.sections.push(Section::new(
            offset,
            Rows::Stream { data, widths },
            subsections,
        ));
        Ok(stream.dict)
    }
}

/// The entry one row gives (§7.5.8.3 Table 18), or `None` when a field
/// does not fit what it names.
pub(super) fn row_entry(fields: &[u8], [type_width, field2_width, _]: [usize; 3]) -> Option<Entry> {
    let (kind, rest) = fields.split_at_checked(type_width)?;
    let (field2, field3) = rest.split_at_checked(field2_width)?;
    // A zero-width type field means type 1 (§7.5.8.2 Table 17).
    let kind = if type_width == 0 { 1 } else { big_endian(kind) };
    Some(match kind {
        1 => Entry::InUse {
            offset: usize::try_from(big_endian(field2)).ok()?,
            generation: u16::try_from(big_endian(field3)).ok()?,
        },
        2 => Entry::Compressed {
            stream: u32::try_from(big_endian(field2)).ok()?,
            index: u32::try_from(big_endian(field3)).ok()?,
        },
        _ => Entry::Free,
    })
}

/// A big-endian field of at most eight bytes (§7.5.8.2).
fn big_endian(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(0, |value, byte| (value << 8) | u64::from(*byte))
}

#[cfg(test)]
mod tests {
    use super::super::{CrossReference, read};
    use crate::pdf::PdfError;
    use crate::pdf::reader::Budget;
    use crate::pdf::reader::testing::two_page_objects;

    fn read_bytes(bytes: &[u8]) -> Result<CrossReference<'_>, PdfError> {
        read(bytes, &Budget::default())
    }

    #[test]
    fn xref_stream_with_bad_widths_is_damaged() {
        let mut pdf = two_page_objects();
        let at = pdf.stream(5, "/Type /XRef /Size 6 /W [1 9 2]", &[0; 12]);
        assert!(matches!(
            read_bytes(&pdf.finish(at)),
            Err(PdfError::DamagedCrossReference)
        ));
        let mut pdf = two_page_objects();
        let at = pdf.stream(5, "/Type /XRef /Size 6 /W [1 2]", &[0; 18]);
        assert!(matches!(
            read_bytes(&pdf.finish(at)),
            Err(PdfError::DamagedCrossReference)
        ));
    }

    #[test]
    fn xref_stream_shorter_than_its_index_is_damaged() {
        let mut pdf = two_page_objects();
        let at = pdf.stream(5, "/Type /XRef /Size 6 /W [1 2 1]", &[1, 0, 9, 0]);
        assert!(matches!(
            read_bytes(&pdf.finish(at)),
            Err(PdfError::DamagedCrossReference)
        ));
    }
}
