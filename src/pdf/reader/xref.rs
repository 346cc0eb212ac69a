//! The cross-reference chain (ISO 32000-2 §7.5.4–§7.5.8): from the last
//! `startxref`, every section newest-first — classic tables with their
//! trailers, cross-reference streams, and hybrid files whose table trailer
//! names an `/XRefStm` — merged so that the newest entry for an object wins.

use super::Budget;
use super::syntax::{Lexer, is_whitespace};
use crate::pdf::PdfError;
use lopdf::{Dictionary, Object};
use std::collections::{HashMap, HashSet};

mod stream;

/// Most sections followed through `/Prev` (and `/XRefStm`).
pub(super) const MAX_SECTIONS: usize = 4096;
/// Most entries read over all sections.
pub(super) const MAX_ENTRIES: usize = 8_000_000;
/// How far from the end of the file `startxref` is looked for (§7.5.5).
const STARTXREF_WINDOW: usize = 2048;
/// Trailer entries an older section supplies when a newer trailer omits them.
const CARRIED_KEYS: [&[u8]; 4] = [b"Root", b"Info", b"ID", b"Encrypt"];

/// Where an object lives, per the newest section that mentions it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Entry {
    /// Free (or an unknown stream entry type, read as null by §7.5.8.3).
    Free,
    /// At a byte offset with a generation (type 1).
    InUse {
        /// Offset of `N G obj`.
        offset: usize,
        /// Generation the header must carry.
        generation: u16,
    },
    /// In an object stream (type 2, §7.5.7).
    Compressed {
        /// Object number of the object stream.
        stream: u32,
        /// Index within it.
        index: u32,
    },
}

/// The merged cross-reference data of every revision.
#[derive(Debug)]
pub(super) struct CrossReference {
    /// Newest entry per object number.
    pub entries: HashMap<u32, Entry>,
    /// The newest trailer, with keys older trailers supply if it lacks them.
    pub trailer: Dictionary,
    /// The offset the last `startxref` names.
    pub last_offset: usize,
    /// Whether that section is a cross-reference stream.
    pub last_is_stream: bool,
}

/// Reads the whole chain; any inconsistency is a damaged cross-reference.
pub(super) fn read(bytes: &[u8], budget: &Budget) -> Result<CrossReference, PdfError> {
    let last_offset = startxref(bytes)?;
    let mut chain = Chain {
        bytes,
        budget,
        entries: HashMap::new(),
        read: 0,
        visited: HashSet::new(),
        hybrid_streams: HashSet::new(),
    };
    let mut trailer: Option<Dictionary> = None;
    let mut last_is_stream = false;
    let mut next = Some(last_offset);
    while let Some(offset) = next {
        chain.visit(offset)?;
        let (section_trailer, is_stream) = if chain.is_table(offset) {
            let section_trailer = chain.table(offset)?;
            // §7.5.8.4: a hybrid section's stream entries come after its
            // table's and before the older sections'.
            // Writers such as iText repeat one /XRefStm in every update's
            // trailer; its entries, merged once, cannot change by a re-read.
            if let Ok(stream_offset) = section_trailer.get(b"XRefStm") {
                let stream_offset = offset_value(stream_offset)?;
                if chain.hybrid_streams.insert(stream_offset) {
                    chain.stream(stream_offset)?;
                }
            }
            (section_trailer, false)
        } else {
            (chain.stream(offset)?, true)
        };
        next = match section_trailer.get(b"Prev") {
            Ok(prev) => Some(offset_value(prev)?),
            Err(_) => None,
        };
        match trailer.as_mut() {
            None => {
                last_is_stream = is_stream;
                trailer = Some(section_trailer);
            }
            Some(newest) => {
                for key in CARRIED_KEYS {
                    if let (false, Ok(value)) = (newest.has(key), section_trailer.get(key)) {
                        newest.set(key.to_vec(), value.clone());
                    }
                }
            }
        }
    }
    let trailer = trailer.ok_or(PdfError::DamagedCrossReference)?;
    Ok(CrossReference {
        entries: chain.entries,
        trailer,
        last_offset,
        last_is_stream,
    })
}

/// The offset after the last `startxref` (§7.5.5), tolerating white space
/// and garbage after `%%EOF`.
fn startxref(bytes: &[u8]) -> Result<usize, PdfError> {
    let window_start = bytes.len().saturating_sub(STARTXREF_WINDOW);
    let window = bytes.get(window_start..).unwrap_or_default();
    let keyword = window
        .windows(b"startxref".len())
        .rposition(|w| w == b"startxref")
        .ok_or(PdfError::DamagedCrossReference)?;
    let mut lexer = Lexer::new(bytes, window_start + keyword + b"startxref".len());
    lexer
        .unsigned()
        .and_then(|offset| usize::try_from(offset).ok())
        .filter(|offset| *offset < bytes.len())
        .ok_or(PdfError::DamagedCrossReference)
}

fn offset_value(object: &Object) -> Result<usize, PdfError> {
    match object {
        Object::Integer(offset) => {
            usize::try_from(*offset).map_err(|_| PdfError::DamagedCrossReference)
        }
        _ => Err(PdfError::DamagedCrossReference),
    }
}

/// State of one walk: entries so far, sections seen, work done.
struct Chain<'a> {
    bytes: &'a [u8],
    budget: &'a Budget,
    entries: HashMap<u32, Entry>,
    read: usize,
    /// Sections reached through `startxref` and `/Prev`.
    visited: HashSet<usize>,
    /// Streams reached through a hybrid trailer's `/XRefStm`.
    hybrid_streams: HashSet<usize>,
}

impl Chain<'_> {
    /// Refuses a section seen before (a `/Prev` loop) and too long a chain.
    fn visit(&mut self, offset: usize) -> Result<(), PdfError> {
        let sections = self.visited.len() + self.hybrid_streams.len();
        if sections >= MAX_SECTIONS || !self.visited.insert(offset) {
            return Err(PdfError::DamagedCrossReference);
        }
        Ok(())
    }

    /// Records an entry unless a newer section already named the object.
    fn add(&mut self, number: u32, entry: Entry) -> Result<(), PdfError> {
        self.read += 1;
        if self.read > MAX_ENTRIES {
            return Err(PdfError::DamagedCrossReference);
        }
        self.entries.entry(number).or_insert(entry);
        Ok(())
    }

    fn is_table(&self, offset: usize) -> bool {
        Lexer::new(self.bytes, offset).keyword(b"xref")
    }

    /// A classic section (§7.5.4): subsections `start count` of entries,
    /// then `trailer` and its dictionary (§7.5.5), which must give `/Size`.
    fn table(&mut self, offset: usize) -> Result<Dictionary, PdfError> {
        let mut lexer = Lexer::new(self.bytes, offset);
        lexer.keyword(b"xref");
        while !lexer.keyword(b"trailer") {
            let start = lexer.unsigned().ok_or(PdfError::DamagedCrossReference)?;
            let count = lexer.unsigned().ok_or(PdfError::DamagedCrossReference)?;
            let mut at = lexer.position();
            while self.bytes.get(at).copied().is_some_and(is_whitespace) {
                at += 1;
            }
            for i in 0..count {
                let number = start.checked_add(i).and_then(|n| u32::try_from(n).ok());
                let (entry, next) =
                    table_entry(self.bytes, at).ok_or(PdfError::DamagedCrossReference)?;
                self.add(number.ok_or(PdfError::DamagedCrossReference)?, entry)?;
                at = next;
            }
            lexer.seek(at);
        }
        let trailer = match lexer.object() {
            Ok(Object::Dictionary(trailer)) => trailer,
            _ => return Err(PdfError::DamagedCrossReference),
        };
        if !matches!(trailer.get(b"Size"), Ok(Object::Integer(size)) if *size >= 0) {
            return Err(PdfError::DamagedCrossReference);
        }
        self.budget
            .charge(lexer.position().saturating_sub(offset))?;
        Ok(trailer)
    }
}

/// One entry of a classic table at `at` (§7.5.4): a ten-digit offset, a
/// five-digit generation and `n` or `f`, single spaces between, then the
/// two-byte end of line — one or three white-space bytes are tolerated, as
/// qpdf does, for the 19- and 21-byte variants writers produce. Returns the
/// entry and where the next one starts.
fn table_entry(bytes: &[u8], at: usize) -> Option<(Entry, usize)> {
    let fields = bytes.get(at..at.checked_add(18)?)?;
    let digits = |range: std::ops::Range<usize>| {
        let digits = fields.get(range)?;
        let all_digits = digits.iter().all(u8::is_ascii_digit);
        all_digits.then(|| {
            digits
                .iter()
                .fold(0u64, |n, d| n * 10 + u64::from(d - b'0'))
        })
    };
    let (offset, generation) = (digits(0..10)?, digits(11..16)?);
    if fields.get(10) != Some(&b' ') || fields.get(16) != Some(&b' ') {
        return None;
    }
    let entry = match fields.get(17)? {
        b'n' => Entry::InUse {
            offset: usize::try_from(offset).ok()?,
            generation: u16::try_from(generation).ok()?,
        },
        b'f' => Entry::Free,
        _ => return None,
    };
    let rest = bytes.get(at + 18..)?;
    let end_of_line = rest
        .iter()
        .take(3)
        .take_while(|b| is_whitespace(**b))
        .count();
    (end_of_line > 0).then_some((entry, at + 18 + end_of_line))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdf::reader::testing::{classic_two_pages, two_page_objects};

    fn read_bytes(bytes: &[u8]) -> Result<CrossReference, PdfError> {
        read(bytes, &Budget::default())
    }

    #[test]
    fn startxref_is_found_before_trailing_junk_and_must_point_inside_the_file() {
        let mut bytes = classic_two_pages();
        bytes.extend_from_slice(&[b' '; 1000]);
        assert!(read_bytes(&bytes).is_ok());
        let bytes = classic_two_pages();
        let mut past_end = bytes.clone();
        let at = past_end
            .windows(9)
            .rposition(|w| w == b"startxref")
            .unwrap();
        past_end.truncate(at);
        past_end.extend_from_slice(b"startxref\n99999\n%%EOF\n");
        assert!(matches!(
            read_bytes(&past_end),
            Err(PdfError::DamagedCrossReference)
        ));
        let no_marker = &bytes[..at];
        assert!(matches!(
            read_bytes(no_marker),
            Err(PdfError::DamagedCrossReference)
        ));
    }

    #[test]
    fn table_entries_of_19_and_21_bytes_are_read() {
        for eol in ["\n", " \r\n", "\r"] {
            let mut pdf = two_page_objects();
            let xref = pdf.table_with_eol(&[(0, 5)], "<< /Size 5 /Root 1 0 R >>", eol);
            let expected = pdf.offset(4);
            let xref = read_bytes(&pdf.finish(xref)).unwrap();
            assert_eq!(
                xref.entries[&4],
                Entry::InUse {
                    offset: expected,
                    generation: 0
                },
                "{eol:?}"
            );
            assert_eq!(xref.entries[&0], Entry::Free);
        }
    }

    #[test]
    fn malformed_table_entries_and_a_trailer_without_size_are_damaged() {
        let good = classic_two_pages();
        let entry = |bytes: &[u8]| bytes.windows(8).position(|w| w == b" 00000 n").unwrap() - 10;
        let at = entry(&good);
        let variants: [&[u8]; 4] = [
            b"000000009  00000 n",
            b"0000000009 0000 n \n",
            b"0000000009 00000 x",
            b"0000000009 00000 n",
        ];
        for (i, variant) in variants.iter().enumerate() {
            let mut bytes = good.clone();
            bytes.splice(at..at + 18, variant.iter().copied());
            if i == 3 {
                // The last variant drops the end of line before the next entry.
                bytes.drain(at + 18..at + 20);
            }
            assert!(
                matches!(read_bytes(&bytes), Err(PdfError::DamagedCrossReference)),
                "{i}"
            );
        }
        let mut pdf = two_page_objects();
        let xref = pdf.table(&[(0, 5)], "<< /Siqe 5 /Root 1 0 R >>");
        assert!(matches!(
            read_bytes(&pdf.finish(xref)),
            Err(PdfError::DamagedCrossReference)
        ));
    }

    #[test]
    fn sections_pointing_at_each_other_are_refused() {
        let mut pdf = two_page_objects();
        // The first section's /Prev names the second, patched in once known.
        let first = pdf.table(&[(0, 5)], "<< /Size 5 /Root 1 0 R /Prev 00000 >>");
        let second = pdf.table(
            &[(0, 5)],
            &format!("<< /Size 5 /Root 1 0 R /Prev {first} >>"),
        );
        let slot = first
            + pdf.bytes[first..]
                .windows(11)
                .position(|w| w == b"/Prev 00000")
                .unwrap()
            + 6;
        pdf.bytes[slot..slot + 5].copy_from_slice(format!("{second:05}").as_bytes());
        assert!(matches!(
            read_bytes(&pdf.finish(second)),
            Err(PdfError::DamagedCrossReference)
        ));
    }

    #[test]
    fn startxref_naming_something_other_than_a_section_is_damaged() {
        let mut pdf = two_page_objects();
        pdf.table(&[(0, 5)], "<< /Size 5 /Root 1 0 R >>");
        let object = pdf.offset(2);
        assert!(matches!(
            read_bytes(&pdf.finish(object)),
            Err(PdfError::DamagedCrossReference)
        ));
    }

    #[test]
    fn an_absurd_subsection_count_stops_at_the_data() {
        let mut pdf = two_page_objects();
        let at = pdf.bytes.len();
        pdf.bytes
            .extend_from_slice(b"xref\n0 4294967295\n0000000000 65535 f\r\ntrailer\n<< >>\n");
        assert!(matches!(
            read_bytes(&pdf.finish(at)),
            Err(PdfError::DamagedCrossReference)
        ));
    }
}
