//! Hand-made PDFs for the reader's tests, their offsets recorded as the
//! objects are written, so every test file is exact by construction.

use flate2::{Compression, write::ZlibEncoder};
use std::collections::BTreeMap;
use std::io::Write as _;

/// Object numbers 1–4 of a two-page document, for files to reuse.
pub(super) const TWO_PAGES: [(u32, &str); 4] = [
    (1, "<< /Type /Catalog /Pages 2 0 R >>"),
    (2, "<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >>"),
    (3, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"),
    (4, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"),
];

/// A cross-reference stream row: type, field 2, field 3 (§7.5.8.3).
pub(super) type Row = (u32, u8, u32, u16);

/// Writes a PDF piece by piece.
pub(super) struct PdfBuilder {
    pub bytes: Vec<u8>,
    offsets: BTreeMap<u32, usize>,
}

impl PdfBuilder {
    pub fn new() -> Self {
        Self {
            bytes: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec(),
            offsets: BTreeMap::new(),
        }
    }

    /// `N 0 obj body endobj`; returns its offset.
    pub fn object(&mut self, number: u32, body: &str) -> usize {
        let at = self.bytes.len();
        self.offsets.insert(number, at);
        write!(self.bytes, "{number} 0 obj\n{body}\nendobj\n").unwrap();
        at
    }

    /// A stream object whose dictionary is `dict` (without `/Length`).
    pub fn stream(&mut self, number: u32, dict: &str, data: &[u8]) -> usize {
        let at = self.bytes.len();
        self.offsets.insert(number, at);
        write!(
            self.bytes,
            "{number} 0 obj\n<< {dict} /Length {} >>\nstream\n",
            data.len()
        )
        .unwrap();
        self.bytes.extend_from_slice(data);
        self.bytes.extend_from_slice(b"\nendstream\nendobj\n");
        at
    }

    /// Marks `number` free in the next table.
    pub fn free(&mut self, number: u32) {
        self.offsets.remove(&number);
    }

    pub fn offset(&self, number: u32) -> usize {
        self.offsets[&number]
    }

    /// A classic section for `subsections` with 20-byte entries.
    pub fn table(&mut self, subsections: &[(u32, u32)], trailer: &str) -> usize {
        self.table_with_eol(subsections, trailer, "\r\n")
    }

    /// A classic section whose entries end with `eol` (19 or 21 bytes long
    /// when it is not two bytes).
    pub fn table_with_eol(
        &mut self,
        subsections: &[(u32, u32)],
        trailer: &str,
        eol: &str,
    ) -> usize {
        let at = self.bytes.len();
        self.bytes.extend_from_slice(b"xref\n");
        for &(start, count) in subsections {
            writeln!(self.bytes, "{start} {count}").unwrap();
            for number in start..start + count {
                match self.offsets.get(&number) {
                    Some(offset) if number != 0 => {
                        write!(self.bytes, "{offset:010} 00000 n{eol}").unwrap()
                    }
                    _ => write!(self.bytes, "0000000000 65535 f{eol}").unwrap(),
                }
            }
        }
        write!(self.bytes, "trailer\n{trailer}\n").unwrap();
        at
    }

    /// An object stream holding `objects`, FlateDecode-compressed.
    pub fn object_stream(&mut self, number: u32, objects: &[(u32, &str)]) -> usize {
        let mut header = String::new();
        let mut body = String::new();
        for (n, text) in objects {
            header.push_str(&format!("{n} {} ", body.len()));
            body.push_str(text);
            body.push('\n');
        }
        let dict = format!(
            "/Type /ObjStm /N {} /First {} /Filter /FlateDecode",
            objects.len(),
            header.len()
        );
        self.stream(
            number,
            &dict,
            &deflate(format!("{header}{body}").as_bytes()),
        )
    }

    /// A cross-reference stream `number` with `rows` and itself, `/W [1 4 2]`,
    /// FlateDecode with the PNG Up predictor; `extra` goes into its dictionary.
    pub fn xref_stream(&mut self, number: u32, rows: &[Row], extra: &str) -> usize {
        let at = self.bytes.len();
        let mut rows = rows.to_vec();
        rows.push((number, 1, u32::try_from(at).unwrap(), 0));
        let mut data = Vec::new();
        let mut previous = [0u8; 7];
        let mut index = String::new();
        for (n, kind, field2, field3) in &rows {
            index.push_str(&format!("{n} 1 "));
            let mut row = [0u8; 7];
            row[0] = *kind;
            row[1..5].copy_from_slice(&field2.to_be_bytes());
            row[5..].copy_from_slice(&field3.to_be_bytes());
            data.push(2);
            data.extend(
                row.iter()
                    .zip(previous)
                    .map(|(now, before)| now.wrapping_sub(before)),
            );
            previous = row;
        }
        let size = rows.iter().map(|r| r.0).max().unwrap_or(0) + 1;
        let dict = format!(
            "/Type /XRef /Size {size} /Index [{index}] /W [1 4 2] /Filter /FlateDecode \
             /DecodeParms << /Predictor 12 /Columns 7 >> {extra}"
        );
        self.stream(number, &dict, &deflate(&data))
    }

    pub fn finish(mut self, startxref: usize) -> Vec<u8> {
        write!(self.bytes, "startxref\n{startxref}\n%%EOF\n").unwrap();
        self.bytes
    }
}

pub(super) fn deflate(data: &[u8]) -> Vec<u8> {
    let mut encoder = ZlibEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

/// The two-page document as one classic section.
pub(super) fn classic_two_pages() -> Vec<u8> {
    let mut pdf = PdfBuilder::new();
    for (number, body) in TWO_PAGES {
        pdf.object(number, body);
    }
    let xref = pdf.table(&[(0, 5)], "<< /Size 5 /Root 1 0 R /ID [<0102> <0304>] >>");
    pdf.finish(xref)
}

/// A builder holding the objects of [`TWO_PAGES`], to which a test adds its
/// own cross-reference data.
pub fn two_page_objects() -> PdfBuilder {
    let mut pdf = PdfBuilder::new();
    for (number, body) in TWO_PAGES {
        pdf.object(number, body);
    }
    pdf
}
