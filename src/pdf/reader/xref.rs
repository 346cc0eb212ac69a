//! The cross-reference chain (ISO 32000-2 §7.5.4–§7.5.8): from the last
//! `startxref`, every section newest-first — classic tables with their
//! trailers, cross-reference streams, and hybrid files whose table trailer
//! names an `/XRefStm` — where the newest section that lists an object wins.
//!
//! Every section is checked in full when it is read, but it is kept as an
//! index into its own rows rather than merged into a map of every object:
//! rows have a fixed width within a subsection (20 bytes in a table,
//! §7.5.4; `/W` in a stream, §7.5.8.2), so an object's row is found by a
//! binary search over the subsections. Signing reads a handful of objects,
//! whatever the size of the table.

use super::Budget;
use super::syntax::{Lexer, is_whitespace};
use crate::pdf::{Lookup, PdfError};
use lopdf::{Dictionary, Object};
use std::collections::HashMap;

mod stream;

/// Most sections followed through `/Prev` (and `/XRefStm`).
pub(super) const MAX_SECTIONS: usize = 4096;
/// Most entries read over all sections.
pub(super) const MAX_ENTRIES: usize = 8_000_000;
/// How far from the end of the file `startxref` is looked for (§7.5.5).
const STARTXREF_WINDOW: usize = 2048;
/// Trailer entries an older section supplies when a newer trailer omits them.
const CARRIED_KEYS: [&[u8]; 4] = [b"Root", b"Info", b"ID", b"Encrypt"];
/// Beyond this many sections, or with a section whose subsections are out of
/// order or overlap, the entries are merged into one map once: a lookup
/// then costs one probe however the file is cut up.
const MAX_INDEXED_SECTIONS: usize = 16;
/// Free entries looked up from the top before the highest object in use is
/// found from the merged entries instead.
const MAX_FREE_PROBES: usize = 1024;

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

/// The cross-reference data of every revision.
#[derive(Debug)]
pub(super) struct CrossReference<'a> {
    bytes: &'a [u8],
    /// Newest first, a hybrid section's stream right after its table.
    sections: Vec<Section>,
    /// Every entry, newest winning, when the sections are too many or too
    /// disordered to search one by one.
    merged: Option<HashMap<u32, Entry>>,
    /// The newest trailer, with keys older trailers supply if it lacks them.
    pub trailer: Dictionary,
    /// The offset the last `startxref` names.
    pub last_offset: usize,
    /// Whether that section is a cross-reference stream.
    pub last_is_stream: bool,
}

/// One section: where it starts, its subsections and their rows.
#[derive(Debug, PartialEq, Eq)]
struct Section {
    offset: usize,
    rows: Rows,
    subsections: Vec<Subsection>,
    /// Subsections ascending and disjoint: a binary search finds a number.
    ordered: bool,
}

/// Where a section's rows are kept.
#[derive(Debug, PartialEq, Eq)]
enum Rows {
    /// A classic table: its rows are read from the file.
    Table,
    /// A cross-reference stream: its decoded data and `/W` field widths.
    Stream { data: Vec<u8>, widths: [usize; 3] },
}

/// Object numbers `start..start + count` and where their rows are.
#[derive(Debug, PartialEq, Eq)]
struct Subsection {
    start: u32,
    count: u32,
    rows: SubsectionRows,
}

#[derive(Debug, PartialEq, Eq)]
enum SubsectionRows {
    /// Row `i` at `first + i * stride` (bytes of the file or of the data).
    Even { first: usize, stride: usize },
    /// A table whose rows differ in length (19-, 20- and 21-byte rows
    /// mixed): its entries, read once.
    Listed(Vec<Entry>),
}

impl Section {
    fn new(offset: usize, rows: Rows, subsections: Vec<Subsection>) -> Self {
        let ordered = subsections.windows(2).all(|pair| {
            u64::from(pair[0].start) + u64::from(pair[0].count) <= u64::from(pair[1].start)
        });
        Self {
            offset,
            rows,
            subsections,
            ordered,
        }
    }

    /// The entry this section gives `number`, if it lists it; within a
    /// section, the first subsection that lists a number wins.
    fn entry(&self, bytes: &[u8], number: u32) -> Option<Entry> {
        let within = |subsection: &Subsection| {
            let index = number.checked_sub(subsection.start)?;
            (index < subsection.count).then_some(index)
        };
        let (subsection, index) = if self.ordered {
            let after = self.subsections.partition_point(|s| s.start <= number);
            let subsection = self.subsections.get(after.checked_sub(1)?)?;
            (subsection, within(subsection)?)
        } else {
            self.subsections
                .iter()
                .find_map(|s| within(s).map(|index| (s, index)))?
        };
        Some(self.row(bytes, subsection, index))
    }

    /// Row `index` of `subsection`, which lists it. Every row was checked
    /// when the section was read, so reading it again cannot fail.
    fn row(&self, bytes: &[u8], subsection: &Subsection, index: u32) -> Entry {
        let index = usize::try_from(index).unwrap_or(usize::MAX);
        match &subsection.rows {
            SubsectionRows::Listed(entries) => entries.get(index).copied(),
            SubsectionRows::Even { first, stride } => {
                let at = index
                    .checked_mul(*stride)
                    .and_then(|offset| first.checked_add(offset));
                match &self.rows {
                    Rows::Table => at
                        .and_then(|at| table_entry(bytes, at))
                        .map(|(entry, _)| entry),
                    Rows::Stream { data, widths } => at
                        .and_then(|at| data.get(at..at.checked_add(*stride)?))
                        .and_then(|row| stream::row_entry(row, *widths)),
                }
            }
        }
        .unwrap_or(Entry::Free)
    }

    /// Every object number the section lists, in its order.
    fn numbers(&self) -> impl Iterator<Item = u32> + '_ {
        self.subsections
            .iter()
            .flat_map(|s| (0..s.count).map(move |i| s.start + i))
    }
}

impl<'a> CrossReference<'a> {
    fn new(
        bytes: &'a [u8],
        sections: Vec<Section>,
        trailer: Dictionary,
        last_offset: usize,
        last_is_stream: bool,
    ) -> Self {
        let mut xref = Self {
            bytes,
            sections,
            merged: None,
            trailer,
            last_offset,
            last_is_stream,
        };
        let disordered = xref
            .sections
            .iter()
            .any(|s| !s.ordered && s.subsections.len() > MAX_INDEXED_SECTIONS);
        if disordered || xref.sections.len() > MAX_INDEXED_SECTIONS {
            xref.merged = Some(xref.merge());
        }
        xref
    }

    /// Every entry, the newest section's winning (and within a section, the
    /// first subsection's).
    fn merge(&self) -> HashMap<u32, Entry> {
        let mut merged = HashMap::new();
        for section in &self.sections {
            for subsection in &section.subsections {
                for index in 0..subsection.count {
                    merged
                        .entry(subsection.start + index)
                        .or_insert_with(|| section.row(self.bytes, subsection, index));
                }
            }
        }
        merged
    }

    /// The newest entry for object `number`, if any section lists it.
    pub(super) fn entry(&self, number: u32) -> Option<Entry> {
        match &self.merged {
            Some(merged) => merged.get(&number).copied(),
            None => self
                .sections
                .iter()
                .find_map(|section| section.entry(self.bytes, number)),
        }
    }

    /// The highest object number whose newest entry is in use (0 if none):
    /// looked up from the top of the listed numbers down, since files
    /// rarely free their last objects.
    pub(super) fn max_in_use(&self) -> u32 {
        let mut ranges: Vec<(u32, u32)> = self
            .sections
            .iter()
            .flat_map(|section| &section.subsections)
            .filter(|s| s.count > 0)
            .map(|s| (s.start, s.start + (s.count - 1)))
            .collect();
        ranges.sort_unstable_by_key(|range| std::cmp::Reverse(range.1));
        let mut probes = 0;
        // Numbers above `below` have been looked at.
        let mut below = u64::from(u32::MAX) + 1;
        for (start, last) in ranges {
            let top = u64::from(last).min(below.saturating_sub(1));
            if top < u64::from(start) || below == 0 {
                continue;
            }
            for number in (u64::from(start)..=top).rev() {
                let Ok(number) = u32::try_from(number) else {
                    continue;
                };
                if !matches!(self.entry(number), None | Some(Entry::Free)) {
                    return number;
                }
                probes += 1;
                if probes > MAX_FREE_PROBES {
                    return self.max_in_use_merged();
                }
            }
            below = below.min(u64::from(start));
        }
        0
    }

    fn max_in_use_merged(&self) -> u32 {
        let merged;
        let entries = match &self.merged {
            Some(entries) => entries,
            None => {
                merged = self.merge();
                &merged
            }
        };
        entries
            .iter()
            .filter(|(_, entry)| **entry != Entry::Free)
            .map(|(number, _)| *number)
            .max()
            .unwrap_or(0)
    }

    /// Object numbers whose newest entry here differs from the one in
    /// `older` (new, redefined, moved or freed), in ascending order.
    ///
    /// When this chain ends with exactly the sections of `older` — an
    /// incremental update of it, ISO 32000-2 §7.5.6 — only the numbers the
    /// newer sections list can differ; otherwise every number either lists
    /// is compared.
    pub(super) fn redefined_since(&self, older: &CrossReference<'_>) -> Vec<u32> {
        let newer = self.sections.len().checked_sub(older.sections.len());
        let mut numbers: Vec<u32> = match newer {
            Some(newer) if self.sections[newer..] == older.sections[..] => self.sections[..newer]
                .iter()
                .flat_map(Section::numbers)
                .collect(),
            _ => self
                .sections
                .iter()
                .chain(&older.sections)
                .flat_map(Section::numbers)
                .collect(),
        };
        numbers.sort_unstable();
        numbers.dedup();
        numbers.retain(|number| self.entry(*number) != older.entry(*number));
        numbers
    }
}

/// Reads the whole chain; any inconsistency is a damaged cross-reference.
pub(super) fn read<'a>(bytes: &'a [u8], budget: &Budget) -> Result<CrossReference<'a>, PdfError> {
    let last_offset = startxref(bytes)?;
    let mut chain = Chain {
        bytes,
        budget,
        sections: Vec::new(),
        read: 0,
        visited: Vec::new(),
        hybrid_streams: Vec::new(),
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
            if let Some(stream_offset) = section_trailer.lookup(b"XRefStm") {
                let stream_offset = offset_value(stream_offset)?;
                if !chain.hybrid_streams.contains(&stream_offset) {
                    chain.hybrid_streams.push(stream_offset);
                    chain.stream(stream_offset)?;
                }
            }
            (section_trailer, false)
        } else {
            (chain.stream(offset)?, true)
        };
        next = match section_trailer.lookup(b"Prev") {
            Some(prev) => Some(offset_value(prev)?),
            None => None,
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
    Ok(CrossReference::new(
        bytes,
        chain.sections,
        trailer,
        last_offset,
        last_is_stream,
    ))
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

/// The numbers `start..start + count` of a subsection as `u32`s; an empty
/// subsection lists nothing, whatever its start.
fn subsection_numbers(start: u64, count: u64) -> Result<Option<(u32, u32)>, PdfError> {
    if count == 0 {
        return Ok(None);
    }
    let last = start
        .checked_add(count - 1)
        .and_then(|last| u32::try_from(last).ok());
    match (last, u32::try_from(start), u32::try_from(count)) {
        (Some(_), Ok(start), Ok(count)) => Ok(Some((start, count))),
        _ => Err(PdfError::DamagedCrossReference),
    }
}

/// State of one walk: sections so far, work done.
struct Chain<'a> {
    bytes: &'a [u8],
    budget: &'a Budget,
    sections: Vec<Section>,
    /// Entries listed so far, over all sections.
    read: usize,
    /// Sections reached through `startxref` and `/Prev`. Lists, searched
    /// whole: a file has a few sections, and MAX_SECTIONS bounds the
    /// searches of a hostile one to some millions of comparisons, less
    /// than hashing into a set costs the few of every signature.
    visited: Vec<usize>,
    /// Streams reached through a hybrid trailer's `/XRefStm`.
    hybrid_streams: Vec<usize>,
}

impl Chain<'_> {
    /// Refuses a section seen before (a `/Prev` loop) and too long a chain.
    fn visit(&mut self, offset: usize) -> Result<(), PdfError> {
        let sections = self.visited.len() + self.hybrid_streams.len();
        if sections >= MAX_SECTIONS || self.visited.contains(&offset) {
            return Err(PdfError::DamagedCrossReference);
        }
        self.visited.push(offset);
        Ok(())
    }

    /// Counts `count` more entries against [`MAX_ENTRIES`].
    fn count(&mut self, count: u32) -> Result<(), PdfError> {
        self.read = usize::try_from(count)
            .ok()
            .and_then(|count| self.read.checked_add(count))
            .filter(|read| *read <= MAX_ENTRIES)
            .ok_or(PdfError::DamagedCrossReference)?;
        Ok(())
    }

    fn is_table(&self, offset: usize) -> bool {
        Lexer::new(self.bytes, offset).keyword(b"xref")
    }

    /// A classic section (§7.5.4): subsections `start count` of entries,
    /// then `trailer` and its dictionary (§7.5.5), which must give `/Size`.
    /// Every entry is checked here; lookups later only locate them.
    fn table(&mut self, offset: usize) -> Result<Dictionary, PdfError> {
        let mut lexer = Lexer::new(self.bytes, offset);
        lexer.keyword(b"xref");
        let mut subsections = Vec::new();
        while !lexer.keyword(b"trailer") {
            let start = lexer.unsigned().ok_or(PdfError::DamagedCrossReference)?;
            let count = lexer.unsigned().ok_or(PdfError::DamagedCrossReference)?;
            let mut at = lexer.position();
            while self.bytes.get(at).copied().is_some_and(is_whitespace) {
                at += 1;
            }
            if let Some((start, count)) = subsection_numbers(start, count)? {
                self.count(count)?;
                let (rows, next) = table_rows(self.bytes, at, count)?;
                subsections.push(Subsection { start, count, rows });
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
        self.sections
            .push(Section::new(offset, Rows::Table, subsections));
        Ok(trailer)
    }
}

/// Checks the `count` rows of a table subsection starting at `at`, and
/// returns how to find them again and where the next line starts. Rows of
/// one length (20 bytes, or 19 or 21 throughout) are found by arithmetic;
/// a subsection mixing lengths keeps its entries.
fn table_rows(bytes: &[u8], first: usize, count: u32) -> Result<(SubsectionRows, usize), PdfError> {
    let mut at = first;
    let mut stride = None;
    let mut even = true;
    for _ in 0..count {
        let (_, next) = table_entry(bytes, at).ok_or(PdfError::DamagedCrossReference)?;
        let length = next - at;
        even &= *stride.get_or_insert(length) == length;
        at = next;
    }
    let rows = match stride {
        Some(stride) if even => SubsectionRows::Even { first, stride },
        _ => {
            let mut entries = Vec::new();
            let mut at = first;
            for _ in 0..count {
                let (entry, next) =
                    table_entry(bytes, at).ok_or(PdfError::DamagedCrossReference)?;
                entries.push(entry);
                at = next;
            }
            SubsectionRows::Listed(entries)
        }
    };
    Ok((rows, at))
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

    fn read_bytes(bytes: &[u8]) -> Result<CrossReference<'_>, PdfError> {
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
            let bytes = pdf.finish(xref);
            let xref = read_bytes(&bytes).unwrap();
            assert_eq!(
                xref.entry(4).unwrap(),
                Entry::InUse {
                    offset: expected,
                    generation: 0
                },
                "{eol:?}"
            );
            assert_eq!(xref.entry(0), Some(Entry::Free));
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

    #[test]
    fn rows_of_mixed_lengths_in_one_subsection_are_still_found() {
        let mut pdf = two_page_objects();
        let at = pdf.bytes.len();
        let mut table = String::from("xref\n0 5\n0000000000 65535 f\r\n");
        for (number, eol) in [(1, "\n"), (2, " \r\n"), (3, "\r\n"), (4, "\r")] {
            table.push_str(&format!("{:010} 00000 n{eol}", pdf.offset(number)));
        }
        table.push_str("trailer\n<< /Size 5 /Root 1 0 R >>\n");
        pdf.bytes.extend_from_slice(table.as_bytes());
        let offsets = [1, 2, 3, 4].map(|n| pdf.offset(n));
        let bytes = pdf.finish(at);
        let xref = read_bytes(&bytes).unwrap();
        for (number, offset) in (1..).zip(offsets) {
            assert_eq!(
                xref.entry(number),
                Some(Entry::InUse {
                    offset,
                    generation: 0
                })
            );
        }
        assert_eq!(xref.entry(0), Some(Entry::Free));
        assert_eq!(xref.entry(5), None);
    }

    #[test]
    fn within_a_stream_the_first_row_listing_an_object_wins_in_any_order() {
        // Rows listed high to low, object 3 twice: too disordered for a
        // binary search, and with 20 subsections merged into a map.
        for extra in [0, 16] {
            let mut pdf = two_page_objects();
            let mut rows = vec![(3, 1, 1111, 0)];
            rows.extend((1..=4).rev().map(|n| (n, 1, pdf.offset(n) as u32, 0)));
            rows.extend((0..extra).map(|i| (100 - i, 0, 0, 0)));
            let at = pdf.xref_stream(5, &rows, "/Root 1 0 R");
            let bytes = pdf.finish(at);
            let xref = read_bytes(&bytes).unwrap();
            assert_eq!(xref.merged.is_some(), extra > 0);
            assert_eq!(
                xref.entry(3),
                Some(Entry::InUse {
                    offset: 1111,
                    generation: 0
                })
            );
            assert_eq!(
                xref.entry(4),
                Some(Entry::InUse {
                    offset: pdf_offset(&bytes, b"4 0 obj"),
                    generation: 0
                })
            );
            assert_eq!(xref.entry(6), None);
        }
    }

    fn pdf_offset(bytes: &[u8], needle: &[u8]) -> usize {
        bytes
            .windows(needle.len())
            .position(|w| w == needle)
            .unwrap()
    }

    #[test]
    fn the_highest_object_in_use_passes_over_freed_ones() {
        let mut pdf = two_page_objects();
        pdf.free(4);
        let at = pdf.table(&[(0, 5)], "<< /Size 5 /Root 1 0 R >>");
        assert_eq!(read_bytes(&pdf.finish(at)).unwrap().max_in_use(), 3);
        // More free entries on top than are probed one by one.
        let mut pdf = two_page_objects();
        let size = MAX_FREE_PROBES as u32 + 100;
        let at = pdf.table(&[(0, size)], &format!("<< /Size {size} /Root 1 0 R >>"));
        assert_eq!(read_bytes(&pdf.finish(at)).unwrap().max_in_use(), 4);
    }

    #[test]
    fn an_update_is_compared_by_what_its_own_sections_list() {
        let mut pdf = two_page_objects();
        let first = pdf.table(&[(0, 5)], "<< /Size 5 /Root 1 0 R >>");
        pdf.bytes
            .extend_from_slice(format!("startxref\n{first}\n%%EOF\n").as_bytes());
        let signed_end = pdf.bytes.len();
        pdf.object(3, "<< /Type /Page /Parent 2 0 R >>");
        pdf.object(5, "(new)");
        // Object 4 listed again, unchanged: listed is not redefined.
        let second = pdf.table(
            &[(3, 3)],
            &format!("<< /Size 6 /Root 1 0 R /Prev {first} >>"),
        );
        let bytes = pdf.finish(second);
        let signed = read_bytes(&bytes[..signed_end]).unwrap();
        let latest = read_bytes(&bytes).unwrap();
        assert_eq!(latest.sections.len(), 2);
        assert_eq!(latest.redefined_since(&signed), vec![3, 5]);
    }

    #[test]
    fn a_chain_that_leaves_the_signed_sections_is_compared_object_by_object() {
        let mut pdf = two_page_objects();
        let first = pdf.table(&[(0, 5)], "<< /Size 5 /Root 1 0 R >>");
        pdf.bytes
            .extend_from_slice(format!("startxref\n{first}\n%%EOF\n").as_bytes());
        let signed_end = pdf.bytes.len();
        // A new section without /Prev that drops object 4 and moves 3.
        pdf.object(3, "<< /Type /Page /Parent 2 0 R >>");
        let second = pdf.table(&[(0, 4)], "<< /Size 4 /Root 1 0 R >>");
        let bytes = pdf.finish(second);
        let signed = read_bytes(&bytes[..signed_end]).unwrap();
        let latest = read_bytes(&bytes).unwrap();
        assert_eq!(latest.redefined_since(&signed), vec![3, 4]);
    }
}
