//! Indirect objects at a known offset (ISO 32000-2 §7.3.10), their streams
//! (§7.3.8) and objects compressed in object streams (§7.5.7).

use super::Budget;
use super::syntax::{Lexer, SyntaxError};
use crate::pdf::PdfError;
use lopdf::{Object, ObjectId, Stream};

/// How a stream's indirect `/Length` is found: the reader resolves it
/// through the cross-reference data; cross-reference streams, whose entries
/// must all be direct (§7.5.8.2), pass a resolver that refuses.
pub(super) type LengthResolver<'r> = &'r dyn Fn(ObjectId) -> Result<Object, PdfError>;

/// Reads `N G obj … endobj` at `offset`. When `expected` is given, the
/// header must name that object: a mismatch means the cross-reference data
/// points at the wrong bytes. Returns the id found and the object.
pub(super) fn indirect_object(
    bytes: &[u8],
    offset: usize,
    expected: Option<ObjectId>,
    length: LengthResolver<'_>,
    budget: &Budget,
) -> Result<(ObjectId, Object), PdfError> {
    if offset >= bytes.len() {
        return Err(PdfError::DamagedCrossReference);
    }
    let mut lexer = Lexer::new(bytes, offset);
    let number = lexer.unsigned().and_then(|n| u32::try_from(n).ok());
    let generation = lexer.unsigned().and_then(|g| u16::try_from(g).ok());
    let (Some(number), Some(generation), true) = (number, generation, lexer.keyword(b"obj")) else {
        return Err(PdfError::DamagedCrossReference);
    };
    let id = (number, generation);
    if expected.is_some_and(|expected| expected != id) {
        return Err(PdfError::DamagedCrossReference);
    }
    let unreadable = |error: SyntaxError| PdfError::Unreadable {
        reason: format!(
            "object {number} {generation}: {} at byte {}",
            error.what, error.at
        ),
    };
    let mut object = lexer.object().map_err(unreadable)?;
    if let Object::Dictionary(dict) = &object
        && lexer.keyword(b"stream")
    {
        let start = stream_data_start(bytes, lexer.position());
        let declared = match dict.get(b"Length") {
            Ok(Object::Integer(length)) => Some(*length),
            Ok(Object::Reference(length_id)) => length(*length_id)?.as_i64().ok(),
            _ => None,
        };
        let end = declared
            .and_then(|length| usize::try_from(length).ok())
            .and_then(|length| start.checked_add(length))
            .filter(|end| *end <= bytes.len())
            .ok_or_else(|| {
                unreadable(SyntaxError {
                    what: "stream /Length missing or past the end of the file",
                    at: start,
                })
            })?;
        lexer.seek(end);
        if !lexer.keyword(b"endstream") {
            return Err(unreadable(SyntaxError {
                what: "stream /Length does not end at endstream",
                at: end,
            }));
        }
        object = Object::Stream(Stream {
            dict: dict.clone(),
            content: bytes.get(start..end).unwrap_or_default().to_vec(),
            allows_compression: true,
            start_position: Some(start),
        });
    }
    if !lexer.keyword(b"endobj") {
        return Err(unreadable(SyntaxError {
            what: "missing endobj",
            at: lexer.position(),
        }));
    }
    budget.charge(lexer.position() - offset)?;
    Ok((id, object))
}

/// The data follows `stream` and its end-of-line, CRLF or LF (§7.3.8.1);
/// a lone CR is tolerated as qpdf tolerates it.
fn stream_data_start(bytes: &[u8], after_keyword: usize) -> usize {
    match (bytes.get(after_keyword), bytes.get(after_keyword + 1)) {
        (Some(b'\r'), Some(b'\n')) => after_keyword + 2,
        (Some(b'\r' | b'\n'), _) => after_keyword + 1,
        _ => after_keyword,
    }
}

/// A decoded object stream (§7.5.7): `/N` pairs of object number and
/// offset, then the objects from `/First` on.
pub(super) struct ObjectStream {
    data: Vec<u8>,
    first: usize,
    entries: Vec<(u32, usize)>,
}

impl ObjectStream {
    /// Reads the header of a decoded object stream.
    pub fn new(stream: &Stream, data: Vec<u8>) -> Result<Self, PdfError> {
        let malformed = || PdfError::Unreadable {
            reason: "an object stream's /N, /First or header is malformed".to_string(),
        };
        let count = stream.dict.get(b"N").and_then(Object::as_i64).ok();
        let first = stream.dict.get(b"First").and_then(Object::as_i64).ok();
        let (Some(count), Some(first)) = (
            count.and_then(|n| usize::try_from(n).ok()),
            first
                .and_then(|f| usize::try_from(f).ok())
                .filter(|f| *f <= data.len()),
        ) else {
            return Err(malformed());
        };
        // Each header pair takes at least four bytes: a bound before allocating.
        if count > first / 4 + 1 {
            return Err(malformed());
        }
        let header = data.get(..first).unwrap_or_default();
        let mut lexer = Lexer::new(header, 0);
        let mut entries = Vec::with_capacity(count);
        for _ in 0..count {
            let number = lexer.unsigned().and_then(|n| u32::try_from(n).ok());
            let offset = lexer.unsigned().and_then(|o| usize::try_from(o).ok());
            let (Some(number), Some(offset)) = (number, offset) else {
                return Err(malformed());
            };
            entries.push((number, offset));
        }
        Ok(Self {
            data,
            first,
            entries,
        })
    }

    /// The object at `index`, which the cross-reference data says is
    /// object `number`; objects here have generation 0 and no `obj` header.
    pub fn object(&self, index: u32, number: u32) -> Result<Object, PdfError> {
        Lexer::new(self.slice(index, number)?, 0)
            .object()
            .map_err(|error| PdfError::Unreadable {
                reason: format!(
                    "object {number} 0 in an object stream: {} at byte {}",
                    error.what, error.at
                ),
            })
    }

    /// The bytes of the object at `index`, which the cross-reference data
    /// says is object `number`.
    pub fn slice(&self, index: u32, number: u32) -> Result<&[u8], PdfError> {
        let index = usize::try_from(index).map_err(|_| PdfError::DamagedCrossReference)?;
        let Some(&(found, offset)) = self.entries.get(index) else {
            return Err(PdfError::DamagedCrossReference);
        };
        if found != number {
            return Err(PdfError::DamagedCrossReference);
        }
        let start = self
            .first
            .checked_add(offset)
            .filter(|s| *s < self.data.len());
        // The next object's offset bounds this one (offsets increase, §7.5.7),
        // so a bare integer cannot be read together with its neighbours as `N G R`.
        let end = index
            .checked_add(1)
            .and_then(|next| self.entries.get(next))
            .and_then(|(_, next)| self.first.checked_add(*next))
            .filter(|end| start.is_some_and(|start| *end > start) && *end <= self.data.len())
            .unwrap_or(self.data.len());
        start
            .and_then(|start| self.data.get(start..end))
            .ok_or(PdfError::DamagedCrossReference)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdf::reader::testing::deflate;
    use lopdf::Dictionary;

    fn read(bytes: &[u8], expected: Option<ObjectId>) -> Result<(ObjectId, Object), PdfError> {
        let no_indirect_lengths = |_| Err(PdfError::DamagedCrossReference);
        indirect_object(bytes, 0, expected, &no_indirect_lengths, &Budget::default())
    }

    #[test]
    fn indirect_object_reads_its_header_and_value() {
        let (id, object) = read(b"12 3 obj\n<< /A 1 >>\nendobj", Some((12, 3))).unwrap();
        assert_eq!(id, (12, 3));
        assert!(matches!(object, Object::Dictionary(_)));
    }

    #[test]
    fn a_header_naming_another_object_is_a_damaged_cross_reference() {
        assert!(matches!(
            read(b"12 0 obj 1 endobj", Some((13, 0))),
            Err(PdfError::DamagedCrossReference)
        ));
        assert!(matches!(
            read(b"12 0 obj 1 endobj", Some((12, 1))),
            Err(PdfError::DamagedCrossReference)
        ));
        assert!(matches!(
            read(b"<< /A 1 >>", None),
            Err(PdfError::DamagedCrossReference)
        ));
        assert!(matches!(
            read(b"", None),
            Err(PdfError::DamagedCrossReference)
        ));
    }

    #[test]
    fn a_missing_endobj_or_bad_value_is_unreadable() {
        assert!(matches!(
            read(b"1 0 obj 1", None),
            Err(PdfError::Unreadable { .. })
        ));
        assert!(matches!(
            read(b"1 0 obj << /A >> endobj", None),
            Err(PdfError::Unreadable { .. })
        ));
    }

    #[test]
    fn stream_data_follows_its_end_of_line_and_must_end_at_endstream() {
        let (_, object) = read(
            b"1 0 obj << /Length 3 >> stream\r\nabc\r\nendstream endobj",
            None,
        )
        .unwrap();
        let Object::Stream(stream) = object else {
            panic!("not a stream")
        };
        assert_eq!(stream.content, b"abc");
        assert!(
            read(
                b"1 0 obj << /Length 2 >> stream\nabc\nendstream endobj",
                None
            )
            .is_err()
        );
        assert!(
            read(
                b"1 0 obj << /Length 99 >> stream\nabc\nendstream endobj",
                None
            )
            .is_err()
        );
        assert!(
            read(
                b"1 0 obj << /Length -1 >> stream\nabc\nendstream endobj",
                None
            )
            .is_err()
        );
        assert!(
            read(
                b"1 0 obj << /Length 3 0 R >> stream\nabc\nendstream endobj",
                None
            )
            .is_err()
        );
    }

    fn object_stream(objects: &[(u32, &str)]) -> ObjectStream {
        let mut header = String::new();
        let mut body = String::new();
        for (number, text) in objects {
            header.push_str(&format!("{number} {} ", body.len()));
            body.push_str(text);
            body.push(' ');
        }
        let mut dict = Dictionary::new();
        dict.set("N", objects.len() as i64);
        dict.set("First", header.len() as i64);
        dict.set("Filter", Object::Name(b"FlateDecode".to_vec()));
        let stream = Stream::new(dict, deflate(format!("{header}{body}").as_bytes()));
        let data = crate::pdf::reader::filters::decode(&stream, &Budget::default()).unwrap();
        ObjectStream::new(&stream, data).unwrap()
    }

    #[test]
    fn object_stream_objects_are_bounded_by_their_neighbours() {
        // Three bare values that, read together, would look like `1 0 R`.
        let stream = object_stream(&[(10, "1"), (11, "0"), (12, "(R)")]);
        assert_eq!(stream.object(0, 10).unwrap(), Object::Integer(1));
        assert_eq!(stream.object(1, 11).unwrap(), Object::Integer(0));
        assert_eq!(stream.object(2, 12).unwrap().as_str().unwrap(), b"R");
    }

    #[test]
    fn object_stream_index_or_number_mismatch_is_a_damaged_cross_reference() {
        let stream = object_stream(&[(10, "1"), (11, "2")]);
        assert!(matches!(
            stream.object(1, 10),
            Err(PdfError::DamagedCrossReference)
        ));
        assert!(matches!(
            stream.object(2, 12),
            Err(PdfError::DamagedCrossReference)
        ));
    }

    #[test]
    fn object_stream_with_an_impossible_header_is_refused() {
        let mut dict = Dictionary::new();
        dict.set("N", 1_000_000);
        dict.set("First", 4);
        let stream = Stream::new(dict, b"1 0 (x)".to_vec());
        assert!(ObjectStream::new(&stream, stream.content.clone()).is_err());
    }
}
