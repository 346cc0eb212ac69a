//! A dictionary object read as its entries' bytes (ISO 32000-2 §7.3.7):
//! signing looks up a few keys of the catalog and the page-tree nodes and
//! rewrites the page with one more entry, so building every value — the
//! page's resources, fonts and boxes — as lopdf objects, each key hashed
//! into a map, cost more than anything else it does with them. A value is
//! parsed only when asked for.

use super::syntax::{Lexer, RawEntry};
use super::xref::Entry;
use super::{Budget, LazyDocument};
use crate::pdf::PdfError;
use lopdf::{Dictionary, Object, ObjectId};
use std::borrow::Cow;

/// A dictionary's source bytes with the spans of its entries, in order.
#[derive(Debug, Clone)]
pub(crate) struct RawDictionary<'a> {
    /// From `<<` through `>>`: borrowed from the file when the dictionary
    /// is read in place (no copy), owned when it comes from a decoded
    /// object stream or was written here.
    source: Cow<'a, [u8]>,
    entries: Vec<RawEntry>,
    /// The object it was read from, for error messages.
    id: ObjectId,
}

impl RawDictionary<'_> {
    /// The value under `key`, parsed; with duplicate keys the last one
    /// counts, as when the dictionary is read whole.
    pub(crate) fn get(&self, key: &[u8]) -> Result<Option<Object>, PdfError> {
        let Some(entry) = self
            .entries
            .iter()
            .rev()
            .find(|entry| self.key_is(entry, key))
        else {
            return Ok(None);
        };
        let value = self.source.get(entry.value.clone()).unwrap_or_default();
        Lexer::new(value, 0)
            .object()
            .map(Some)
            .map_err(|error| PdfError::Unreadable {
                reason: format!(
                    "object {} {}: {} in the value of a dictionary entry",
                    self.id.0, self.id.1, error.what
                ),
            })
    }

    /// The same dictionary owning its source bytes.
    fn into_owned(self) -> RawDictionary<'static> {
        RawDictionary {
            source: Cow::Owned(self.source.into_owned()),
            entries: self.entries,
            id: self.id,
        }
    }

    /// Whether an entry has `key`.
    pub(crate) fn has(&self, key: &[u8]) -> bool {
        self.entries.iter().any(|entry| self.key_is(entry, key))
    }

    /// The entries, in order, as the bytes of their names (escapes as
    /// written, without the `/`; see [`name_is`](Self::name_is)) and of
    /// their values.
    pub(crate) fn entries(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.entries.iter().map(|entry| {
            let name = self.source.get(entry.key.clone()).unwrap_or_default();
            let value = self.source.get(entry.value.clone()).unwrap_or_default();
            (name, value)
        })
    }

    /// Whether `entry`'s name decodes to `key`.
    fn key_is(&self, entry: &RawEntry, key: &[u8]) -> bool {
        Self::name_is(self.source.get(entry.key.clone()).unwrap_or_default(), key)
    }

    /// Whether a name as written (without its `/`) decodes to `key`
    /// (§7.3.5: `#xx` escapes).
    pub(crate) fn name_is(name: &[u8], key: &[u8]) -> bool {
        // An escape makes a name shorter than it is written, never longer.
        if name.len() < key.len() {
            return false;
        }
        if !name.contains(&b'#') {
            return name == key;
        }
        let mut spelled = Vec::with_capacity(name.len() + 1);
        spelled.push(b'/');
        spelled.extend_from_slice(name);
        matches!(Lexer::new(&spelled, 0).object(), Ok(Object::Name(decoded)) if decoded == key)
    }
}

/// Reads the dictionary that starts at `offset` in `bytes`, borrowing its
/// source; `Ok(None)` when no dictionary starts there.
pub(super) fn read<'b>(
    bytes: &'b [u8],
    lexer: &mut Lexer<'_>,
    id: ObjectId,
    budget: &Budget,
) -> Result<Option<RawDictionary<'b>>, PdfError> {
    lexer.skip_whitespace();
    let start = lexer.position();
    if bytes.get(start..start + 2) != Some(b"<<") {
        return Ok(None);
    }
    let mut entries = lexer
        .dictionary_entries()
        .map_err(|error| PdfError::Unreadable {
            reason: format!(
                "object {} {}: {} at byte {}",
                id.0, id.1, error.what, error.at
            ),
        })?;
    let end = lexer.position();
    budget.charge(end - start)?;
    for entry in &mut entries {
        entry.key = entry.key.start - start..entry.key.end - start;
        entry.value = entry.value.start - start..entry.value.end - start;
    }
    Ok(Some(RawDictionary {
        source: Cow::Borrowed(bytes.get(start..end).unwrap_or_default()),
        entries,
        id,
    }))
}

impl<'a> LazyDocument<'a> {
    /// The object `id` as a [`RawDictionary`] when it is a dictionary (not
    /// a stream); `Ok(None)` when it is anything else, errors as
    /// [`object`](Self::object) gives them.
    pub(crate) fn dictionary(&self, id: ObjectId) -> Result<Option<RawDictionary<'a>>, PdfError> {
        if let Some(dictionary) = self.raw_dictionary(id)? {
            return Ok(Some(dictionary));
        }
        // Anything unusual is left to the whole-object reader, for the same
        // errors and the same answer.
        match self.object(id)? {
            Object::Dictionary(dictionary) => self.direct_dictionary(&dictionary, id).map(Some),
            _ => Ok(None),
        }
    }

    /// A dictionary already read whole (a direct one, in the object `id`)
    /// as a [`RawDictionary`]: written and read again.
    pub(crate) fn direct_dictionary(
        &self,
        dictionary: &Dictionary,
        id: ObjectId,
    ) -> Result<RawDictionary<'a>, PdfError> {
        let mut bytes = b"<<".to_vec();
        for (key, value) in dictionary {
            crate::pdf::write::entry(&mut bytes, key, value);
        }
        bytes.extend_from_slice(b">>");
        read(&bytes, &mut Lexer::new(&bytes, 0), id, &self.budget)?
            .map(RawDictionary::into_owned)
            .ok_or(PdfError::Malformed { what: "dictionary" })
    }

    /// The dictionary object `id` read in place, or `Ok(None)` when it is
    /// not plainly one.
    fn raw_dictionary(&self, id: ObjectId) -> Result<Option<RawDictionary<'a>>, PdfError> {
        let (number, generation) = id;
        match self.xref.entry(number) {
            Some(Entry::InUse {
                offset,
                generation: current,
            }) if current == generation && offset < self.bytes.len() => {
                let mut lexer = Lexer::new(self.bytes, offset);
                let header = (lexer.unsigned(), lexer.unsigned(), lexer.keyword(b"obj"));
                if header != (Some(u64::from(number)), Some(u64::from(generation)), true) {
                    return Ok(None);
                }
                let dictionary = read(self.bytes, &mut lexer, id, &self.budget)?;
                // A stream's dictionary, or a missing `endobj`, is left to
                // the whole-object reader.
                Ok(dictionary.filter(|_| lexer.keyword(b"endobj")))
            }
            Some(Entry::Compressed { stream, index }) if generation == 0 => {
                let stream = self.object_stream(stream)?;
                let slice = stream.slice(index, number)?;
                // The decoded stream is shared by the cache: the dictionary
                // keeps a copy of its bytes.
                Ok(read(slice, &mut Lexer::new(slice, 0), id, &self.budget)?
                    .map(RawDictionary::into_owned))
            }
            _ => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{PdfBuilder, TWO_PAGES};
    use super::*;

    const PAGE: &str = "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] \
        /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R /Annots null \
        /N#61me (a \\) b) /Annots [9 0 R] >>";

    fn whole(bytes: &[u8]) -> lopdf::Dictionary {
        match Lexer::new(bytes, 0).object() {
            Ok(Object::Dictionary(dictionary)) => dictionary,
            other => panic!("not a dictionary: {other:?}"),
        }
    }

    fn raw(bytes: &[u8]) -> RawDictionary<'_> {
        read(bytes, &mut Lexer::new(bytes, 0), (3, 0), &Budget::default())
            .unwrap()
            .unwrap()
    }

    #[test]
    fn values_are_those_of_the_dictionary_read_whole_the_last_duplicate_winning() {
        let page = raw(PAGE.as_bytes());
        let expected = whole(PAGE.as_bytes());
        for (key, value) in &expected {
            assert_eq!(page.get(key).unwrap().as_ref(), Some(value), "{key:?}");
            assert!(page.has(key));
        }
        assert_eq!(
            page.get(b"Annots").unwrap(),
            Some(Object::Array(vec![Object::Reference((9, 0))]))
        );
        assert_eq!(
            page.get(b"Name").unwrap().unwrap().as_str().unwrap(),
            b"a ) b"
        );
        assert_eq!(page.get(b"Missing").unwrap(), None);
        assert!(!page.has(b"Missing"));
    }

    #[test]
    fn a_rewritten_dictionary_keeps_other_entries_and_reads_back_with_the_new_value() {
        let page = raw(PAGE.as_bytes());
        let annots = Object::Array(vec![Object::Reference((7, 0))]);
        let mut written = Vec::new();
        crate::pdf::write::dictionary_with(&mut written, &page, &[(b"Annots", annots.clone())]);
        let mut expected = whole(PAGE.as_bytes());
        expected.set("Annots", annots);
        let rewritten = whole(&written);
        assert_eq!(rewritten.len(), expected.len());
        for (key, value) in &expected {
            assert_eq!(rewritten.get(key).ok(), Some(value), "{key:?}");
        }
        let text = String::from_utf8_lossy(&written);
        assert_eq!(text.matches("/Annots").count(), 1, "{text}");
        assert!(text.contains("/N#61me (a \\) b)"), "{text}");
    }

    #[test]
    fn malformed_dictionaries_fail_as_when_read_whole() {
        for text in [
            &b"<< 1 2 >>"[..],
            b"<< /A 1",
            b"<< /A >>",
            b"<< /A [1 2 >>",
            b"<< /A <4G> >>",
            b"<< /A (x >>",
            b"<< /A 99999999999999999999 >>",
            b"<< /A truex >>",
        ] {
            let mut entries = Lexer::new(text, 0);
            let mut object = Lexer::new(text, 0);
            assert!(
                entries.dictionary_entries().is_err(),
                "{}",
                String::from_utf8_lossy(text)
            );
            assert!(
                object.object().is_err(),
                "{}",
                String::from_utf8_lossy(text)
            );
        }
        let deep = [&b"<< /A "[..], &[b'['; 100], &[b']'; 100], b" >>"].concat();
        assert!(Lexer::new(&deep, 0).dictionary_entries().is_err());
    }

    #[test]
    fn noise_is_accepted_or_refused_as_when_read_whole_and_ends_at_the_same_byte() {
        let alphabet = b"<<>>[]()/#\\ 0123456789.+-Rnulltrue\r\n%AB";
        let mut state = 0x2545_f491_u32;
        for _ in 0..5_000 {
            let mut noise = b"<< /K ".to_vec();
            noise.extend((0..40).map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                alphabet[state as usize % alphabet.len()]
            }));
            let mut entries = Lexer::new(&noise, 0);
            let mut object = Lexer::new(&noise, 0);
            let raw = entries.dictionary_entries();
            let whole = object.object();
            assert_eq!(
                raw.is_ok(),
                whole.is_ok(),
                "{}",
                String::from_utf8_lossy(&noise)
            );
            if raw.is_ok() {
                assert_eq!(entries.position(), object.position());
            }
        }
    }

    #[test]
    fn objects_are_read_in_place_or_from_object_streams_and_streams_are_not_dictionaries() {
        let mut pdf = PdfBuilder::new();
        let stream_at = pdf.object_stream(5, &TWO_PAGES);
        pdf.stream(7, "/Type /Metadata", b"<x/>");
        pdf.object(8, "<< /Type /Annot >>");
        pdf.object(9, "42");
        let rows: Vec<_> = (1..=4)
            .map(|n| (n, 2, 5, (n - 1) as u16))
            .chain([(5, 1, stream_at as u32, 0)])
            .chain([(7, 1, pdf.offset(7) as u32, 0)])
            .chain([(8, 1, pdf.offset(8) as u32, 0)])
            .chain([(9, 1, pdf.offset(9) as u32, 0)])
            .collect();
        let xref = pdf.xref_stream(10, &rows, "/Root 1 0 R");
        let bytes = pdf.finish(xref);
        let document = LazyDocument::parse(&bytes).unwrap();
        let page = document.dictionary((4, 0)).unwrap().unwrap();
        assert_eq!(
            page.get(b"MediaBox").unwrap(),
            Some(Object::Array(vec![
                0.into(),
                0.into(),
                595.into(),
                842.into()
            ]))
        );
        assert!(document.dictionary((8, 0)).unwrap().unwrap().has(b"Type"));
        assert!(document.dictionary((7, 0)).unwrap().is_none());
        assert!(document.dictionary((9, 0)).unwrap().is_none());
        assert!(document.dictionary((4, 1)).unwrap().is_none());
        assert!(document.dictionary((11, 0)).unwrap().is_none());
    }
}
