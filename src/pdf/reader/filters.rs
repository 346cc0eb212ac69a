//! The stream filters the reader needs: FlateDecode (ISO 32000-2 §7.4.4)
//! with the PNG predictors of §7.4.4.4. Cross-reference and object streams
//! use nothing else in practice; any other filter is refused by name.

use super::Budget;
use crate::pdf::PdfError;
use lopdf::{Dictionary, Object, Stream};
use std::io::Read as _;

/// Largest decoded size of one stream: a deflate bomb stops here.
pub(super) const MAX_DECODED_STREAM: usize = 64 * 1024 * 1024;

/// The decoded bytes of `stream`, charged to `budget`.
pub(super) fn decode(stream: &Stream, budget: &Budget) -> Result<Vec<u8>, PdfError> {
    let filter = match stream.dict.get(b"Filter") {
        Err(_) | Ok(Object::Null) => None,
        Ok(Object::Name(name)) => Some(name.as_slice()),
        Ok(Object::Array(names)) => match names.as_slice() {
            [] => None,
            [Object::Name(name)] => Some(name.as_slice()),
            _ => return Err(unsupported("a chain of filters")),
        },
        Ok(_) => return Err(unsupported("a /Filter that is not a name")),
    };
    let decoded = match filter {
        None => stream.content.clone(),
        Some(b"FlateDecode") => inflate(&stream.content)?,
        Some(_) => return Err(unsupported("a filter other than FlateDecode")),
    };
    budget.charge(decoded.len())?;
    let parameters = match stream.dict.get(b"DecodeParms") {
        Err(_) | Ok(Object::Null) => None,
        Ok(Object::Dictionary(parameters)) => Some(parameters),
        Ok(Object::Array(list)) => match list.as_slice() {
            [] | [Object::Null] => None,
            [Object::Dictionary(parameters)] => Some(parameters),
            _ => return Err(unsupported("a /DecodeParms array")),
        },
        Ok(_) => return Err(unsupported("an indirect /DecodeParms")),
    };
    match parameters {
        Some(parameters) if filter.is_some() => unpredict(decoded, parameters),
        _ => Ok(decoded),
    }
}

/// zlib inflation (RFC 1950) that stops one byte past the limit.
fn inflate(compressed: &[u8]) -> Result<Vec<u8>, PdfError> {
    let mut out = Vec::new();
    let limit = u64::try_from(MAX_DECODED_STREAM)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    flate2::read::ZlibDecoder::new(compressed)
        .take(limit)
        .read_to_end(&mut out)
        .map_err(|error| PdfError::Unreadable {
            reason: format!("a FlateDecode stream is corrupt: {error}"),
        })?;
    if out.len() > MAX_DECODED_STREAM {
        return Err(PdfError::Unreadable {
            reason: format!("a stream decodes to more than {MAX_DECODED_STREAM} bytes"),
        });
    }
    Ok(out)
}

/// Undoes a predictor (§7.4.4.4 Table 8): 1 is none, 10–15 are PNG
/// predictors with a tag byte per row; TIFF predictor 2 is not supported.
fn unpredict(data: Vec<u8>, parameters: &Dictionary) -> Result<Vec<u8>, PdfError> {
    let integer = |key: &[u8], default: i64| match parameters.get(key) {
        Err(_) => Ok(default),
        Ok(Object::Integer(value)) => Ok(*value),
        Ok(_) => Err(unsupported("a non-integer predictor parameter")),
    };
    let predictor = integer(b"Predictor", 1)?;
    if predictor == 1 {
        return Ok(data);
    }
    if !(10..=15).contains(&predictor) {
        return Err(unsupported("a predictor other than PNG"));
    }
    let colors = integer(b"Colors", 1)?;
    let bits = integer(b"BitsPerComponent", 8)?;
    let columns = integer(b"Columns", 1)?;
    if !(1..=32).contains(&colors) || ![1, 2, 4, 8, 16].contains(&bits) {
        return Err(unsupported("predictor colors or bits out of range"));
    }
    let bits_per_pixel = colors * bits;
    let bytes_per_row = columns
        .checked_mul(bits_per_pixel)
        .map(|bits| (bits + 7) / 8)
        .and_then(|bytes| usize::try_from(bytes).ok())
        .filter(|bytes| (1..=MAX_DECODED_STREAM).contains(bytes))
        .ok_or_else(|| unsupported("predictor /Columns out of range"))?;
    let bytes_per_pixel = usize::try_from((bits_per_pixel + 7) / 8).unwrap_or(1);
    lopdf::filters::png::decode_frame(&data, bytes_per_pixel, bytes_per_row).map_err(|error| {
        PdfError::Unreadable {
            reason: format!("a stream's PNG predictor data is corrupt: {error}"),
        }
    })
}

fn unsupported(what: &str) -> PdfError {
    PdfError::Unreadable {
        reason: format!(
            "a cross-reference or object stream uses {what}, which kyso does not decode"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{Compression, write::ZlibEncoder};
    use std::io::Write as _;

    fn deflate(data: &[u8]) -> Vec<u8> {
        let mut encoder = ZlibEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    fn stream(dict: Dictionary, content: Vec<u8>) -> Stream {
        Stream::new(dict, content)
    }

    #[test]
    fn flate_stream_with_png_up_predictor_decodes_to_its_rows() {
        // Two rows of three bytes, tag 2 (Up): the second row adds the first.
        let encoded = deflate(&[2, 1, 2, 3, 2, 1, 1, 1]);
        let mut parameters = Dictionary::new();
        parameters.set("Predictor", 12);
        parameters.set("Columns", 3);
        let mut dict = Dictionary::new();
        dict.set("Filter", Object::Name(b"FlateDecode".to_vec()));
        dict.set("DecodeParms", parameters);
        let decoded = decode(&stream(dict, encoded), &Budget::default()).unwrap();
        assert_eq!(decoded, vec![1, 2, 3, 2, 3, 4]);
    }

    #[test]
    fn unfiltered_stream_is_returned_as_is() {
        let decoded = decode(
            &stream(Dictionary::new(), b"abc".to_vec()),
            &Budget::default(),
        )
        .unwrap();
        assert_eq!(decoded, b"abc");
    }

    #[test]
    fn corrupt_flate_data_is_unreadable() {
        let mut dict = Dictionary::new();
        dict.set("Filter", Object::Name(b"FlateDecode".to_vec()));
        let err = decode(&stream(dict, b"not zlib".to_vec()), &Budget::default()).unwrap_err();
        assert!(matches!(err, PdfError::Unreadable { .. }), "{err}");
    }

    #[test]
    fn other_filters_are_refused_by_name() {
        let mut dict = Dictionary::new();
        dict.set("Filter", Object::Name(b"LZWDecode".to_vec()));
        let err = decode(&stream(dict, b"x".to_vec()), &Budget::default()).unwrap_err();
        assert!(err.to_string().contains("FlateDecode"), "{err}");
    }

    #[test]
    fn deflate_bomb_stops_at_the_limit() {
        let encoded = deflate(&vec![0; MAX_DECODED_STREAM + 1]);
        let mut dict = Dictionary::new();
        dict.set("Filter", Object::Name(b"FlateDecode".to_vec()));
        let err = decode(&stream(dict, encoded), &Budget::default()).unwrap_err();
        assert!(err.to_string().contains("more than"), "{err}");
    }
}
