//! Whole-file tests of the reader: hand-made PDFs of each cross-reference
//! kind, updates, and the damaged files it must refuse.

use super::testing::{PdfBuilder, TWO_PAGES, classic_two_pages};
use super::*;

fn media_box_width(document: &LazyDocument<'_>, id: ObjectId) -> i64 {
    let Object::Dictionary(page) = document.object(id).unwrap() else {
        panic!("not a dictionary")
    };
    page.get(b"MediaBox").unwrap().as_array().unwrap()[2]
        .as_i64()
        .unwrap()
}

#[test]
fn classic_file_yields_its_trailer_pages_and_objects() {
    let bytes = classic_two_pages();
    let document = LazyDocument::parse(&bytes).unwrap();
    assert!(!document.last_xref_is_stream());
    assert!(bytes[document.last_xref_offset()..].starts_with(b"xref"));
    assert_eq!(
        document.trailer().get(b"Root").unwrap(),
        &Object::Reference((1, 0))
    );
    assert_eq!(document.declared_size(), Some(5));
    assert_eq!(document.max_object_number(), 4);
    assert_eq!(document.page_count().unwrap(), 2);
    assert_eq!(document.page(2).unwrap(), (4, 0));
    assert_eq!(media_box_width(&document, (4, 0)), 595);
}

#[test]
fn incremental_update_shadows_older_objects_frees_deleted_ones_and_keeps_the_id() {
    let mut pdf = PdfBuilder::new();
    for (number, body) in TWO_PAGES {
        pdf.object(number, body);
    }
    let first = pdf.table(&[(0, 5)], "<< /Size 5 /Root 1 0 R /ID [<0102> <0304>] >>");
    pdf.bytes
        .extend_from_slice(format!("startxref\n{first}\n%%EOF\n").as_bytes());
    pdf.object(3, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 100 100] >>");
    pdf.free(4);
    pdf.object(5, "(new)");
    let second = pdf.table(
        &[(3, 3)],
        &format!("<< /Size 6 /Root 1 0 R /Prev {first} >>"),
    );
    let bytes = pdf.finish(second);
    let document = LazyDocument::parse(&bytes).unwrap();
    assert_eq!(document.last_xref_offset(), second);
    assert_eq!(media_box_width(&document, (3, 0)), 100);
    assert_eq!(document.object((4, 0)).unwrap(), Object::Null);
    assert_eq!(document.object((5, 0)).unwrap().as_str().unwrap(), b"new");
    // The update's trailer omits /ID; the older trailer supplies it.
    assert!(document.trailer().has(b"ID"));
}

#[test]
fn xref_stream_with_an_object_stream_yields_compressed_objects() {
    let mut pdf = PdfBuilder::new();
    let stream_at = pdf.object_stream(5, &TWO_PAGES);
    let rows: Vec<_> = (1..=4)
        .map(|n| (n, 2, 5, (n - 1) as u16))
        .chain([(5, 1, stream_at as u32, 0)])
        .collect();
    let xref = pdf.xref_stream(6, &rows, "/Root 1 0 R");
    let bytes = pdf.finish(xref);
    let document = LazyDocument::parse(&bytes).unwrap();
    assert!(document.last_xref_is_stream());
    assert_eq!(document.max_object_number(), 6);
    assert_eq!(document.page(1).unwrap(), (3, 0));
    assert_eq!(media_box_width(&document, (4, 0)), 595);
    // A compressed object has generation 0; another generation names nothing.
    assert_eq!(document.object((4, 1)).unwrap(), Object::Null);
}

#[test]
fn hybrid_file_finds_compressed_objects_through_its_xref_stream() {
    let mut pdf = PdfBuilder::new();
    pdf.object(1, TWO_PAGES[0].1);
    let stream_at = pdf.object_stream(5, &TWO_PAGES[1..]);
    let xref_stream = pdf.xref_stream(
        6,
        &[
            (2, 2, 5, 0),
            (3, 2, 5, 1),
            (4, 2, 5, 2),
            (5, 1, stream_at as u32, 0),
        ],
        "",
    );
    let table = pdf.table(
        &[(0, 2), (5, 2)],
        &format!("<< /Size 7 /Root 1 0 R /XRefStm {xref_stream} >>"),
    );
    let bytes = pdf.finish(table);
    let document = LazyDocument::parse(&bytes).unwrap();
    assert!(!document.last_xref_is_stream());
    assert_eq!(document.page(2).unwrap(), (4, 0));
    assert_eq!(media_box_width(&document, (3, 0)), 612);
}

#[test]
fn hybrid_updates_may_repeat_one_xref_stream_as_itext_writes_them() {
    let mut pdf = PdfBuilder::new();
    pdf.object(1, TWO_PAGES[0].1);
    let stream_at = pdf.object_stream(5, &TWO_PAGES[1..]);
    let rows = [
        (2, 2, 5, 0),
        (3, 2, 5, 1),
        (4, 2, 5, 2),
        (5, 1, stream_at as u32, 0),
    ];
    let xref_stream = pdf.xref_stream(6, &rows, "");
    let first = pdf.table(
        &[(0, 2), (5, 2)],
        &format!("<< /Size 7 /Root 1 0 R /XRefStm {xref_stream} >>"),
    );
    pdf.bytes
        .extend_from_slice(format!("startxref\n{first}\n%%EOF\n").as_bytes());
    pdf.object(3, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 100 100] >>");
    let second = pdf.table(
        &[(3, 1)],
        &format!("<< /Size 7 /Root 1 0 R /Prev {first} /XRefStm {xref_stream} >>"),
    );
    let bytes = pdf.finish(second);
    let document = LazyDocument::parse(&bytes).unwrap();
    // The update's table entry comes before the stream's compressed one.
    assert_eq!(media_box_width(&document, (3, 0)), 100);
    assert_eq!(media_box_width(&document, (4, 0)), 595);
}

#[test]
fn prev_loop_is_refused_rather_than_followed_forever() {
    let mut pdf = PdfBuilder::new();
    for (number, body) in TWO_PAGES {
        pdf.object(number, body);
    }
    let at = pdf.bytes.len();
    let table = pdf.table(&[(0, 5)], &format!("<< /Size 5 /Root 1 0 R /Prev {at} >>"));
    assert_eq!(table, at);
    let bytes = pdf.finish(table);
    assert!(matches!(
        LazyDocument::parse(&bytes),
        Err(PdfError::DamagedCrossReference)
    ));
}

#[test]
fn truncated_file_is_refused_as_damaged() {
    let bytes = classic_two_pages();
    for cut in [bytes.len() / 2, bytes.len() - 30, 10] {
        let result = LazyDocument::parse(&bytes[..cut]);
        assert!(
            matches!(result, Err(PdfError::DamagedCrossReference)),
            "cut at {cut}"
        );
    }
}

#[test]
fn offset_pointing_at_another_object_is_a_damaged_cross_reference() {
    let mut pdf = PdfBuilder::new();
    for (number, body) in TWO_PAGES {
        pdf.object(number, body);
    }
    let xref = pdf.table(&[(0, 5)], "<< /Size 5 /Root 1 0 R >>");
    let mut bytes = pdf.finish(xref);
    // Point object 3's entry at object 4.
    let (wrong, right) = (
        format!("{:010}", pdf_offset(&bytes, b"4 0 obj")),
        format!("{:010}", pdf_offset(&bytes, b"3 0 obj")),
    );
    let entry = pdf_offset(&bytes, right.as_bytes());
    bytes[entry..entry + 10].copy_from_slice(wrong.as_bytes());
    let document = LazyDocument::parse(&bytes).unwrap();
    assert!(matches!(
        document.page(1),
        Err(PdfError::DamagedCrossReference)
    ));
    assert!(matches!(
        document.object((3, 0)),
        Err(PdfError::DamagedCrossReference)
    ));
}

fn pdf_offset(bytes: &[u8], needle: &[u8]) -> usize {
    bytes
        .windows(needle.len())
        .position(|w| w == needle)
        .unwrap()
}

#[test]
fn encrypted_file_is_refused() {
    let mut pdf = PdfBuilder::new();
    pdf.object(1, TWO_PAGES[0].1);
    pdf.object(7, "<< /Filter /Standard /V 2 >>");
    let xref = pdf.table(
        &[(0, 2), (7, 1)],
        "<< /Size 8 /Root 1 0 R /Encrypt 7 0 R >>",
    );
    assert!(matches!(
        LazyDocument::parse(&pdf.finish(xref)),
        Err(PdfError::Encrypted)
    ));
}

#[test]
fn stream_length_may_be_an_indirect_reference() {
    let mut pdf = PdfBuilder::new();
    pdf.object(1, TWO_PAGES[0].1);
    let at = pdf.bytes.len();
    pdf.bytes
        .extend_from_slice(b"2 0 obj\n<< /Length 3 0 R >>\nstream\nhello\nendstream\nendobj\n");
    pdf.object(3, "5");
    let mut xref_pdf = pdf;
    let table_at = xref_pdf.bytes.len();
    let three = xref_pdf.offset(3);
    let one = xref_pdf.offset(1);
    let table = format!(
        "xref\n0 4\n0000000000 65535 f\r\n{one:010} 00000 n\r\n{at:010} 00000 n\r\n{three:010} 00000 n\r\n\
         trailer\n<< /Size 4 /Root 1 0 R >>\n"
    );
    xref_pdf.bytes.extend_from_slice(table.as_bytes());
    let bytes = xref_pdf.finish(table_at);
    let document = LazyDocument::parse(&bytes).unwrap();
    let Object::Stream(stream) = document.object((2, 0)).unwrap() else {
        panic!("not a stream")
    };
    assert_eq!(stream.content, b"hello");
}

#[test]
fn garbage_after_the_end_of_file_marker_is_tolerated() {
    let mut bytes = classic_two_pages();
    bytes.extend_from_slice(b"\r\n\0\0 trailing junk from a mail gateway \n");
    assert_eq!(
        LazyDocument::parse(&bytes).unwrap().page(1).unwrap(),
        (3, 0)
    );
}

#[test]
fn a_page_is_proved_free_of_keys_only_when_its_bytes_cannot_hide_them() {
    let cases = [
        (
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
            true,
        ),
        ("<</Type/Page/Contents 9 0 R>>endobj", true),
        ("<< /Type /Page /Annots [5 0 R] >>", false),
        ("<< /Type /Page /Kids [] >>", false),
        // An escaped name spells the key otherwise.
        ("<< /Type /Page /A#6Enots [5 0 R] >>", false),
        // `endobj` inside a name, a string or a comment ends nothing.
        ("<< /X /endobj /Annots [5 0 R] >>", false),
        ("<< /Xendobj 1 /Annots [5 0 R] >>", false),
        ("<< /T (endobj) /Annots [5 0 R] >>", false),
        ("<< /Type /Page % endobj\n /Annots [5 0 R] >>", false),
        // Not a dictionary: a reference leads elsewhere.
        ("4 0 R", false),
    ];
    for (body, lacks) in cases {
        let mut pdf = PdfBuilder::new();
        for (number, text) in TWO_PAGES {
            pdf.object(number, if number == 3 { body } else { text });
        }
        let xref = pdf.table(&[(0, 5)], "<< /Size 5 /Root 1 0 R >>");
        let bytes = pdf.finish(xref);
        let document = LazyDocument::parse(&bytes).unwrap();
        assert_eq!(
            document.dictionary_lacks((3, 0), &Keys::new(&[b"Kids", b"Annots"])),
            lacks,
            "{body}"
        );
        // Another generation is not the object.
        assert!(!document.dictionary_lacks((3, 1), &Keys::new(&[b"Kids", b"Annots"])));
    }
}

#[test]
fn a_page_dictionary_too_long_to_scan_proves_nothing_and_is_read_whole() {
    let long = format!("<< /Type /Page{} >>", " ".repeat(5_000));
    let mut pdf = PdfBuilder::new();
    for (number, text) in TWO_PAGES {
        pdf.object(number, if number == 3 { &long } else { text });
    }
    let xref = pdf.table(&[(0, 5)], "<< /Size 5 /Root 1 0 R >>");
    let bytes = pdf.finish(xref);
    let document = LazyDocument::parse(&bytes).unwrap();
    assert!(!document.dictionary_lacks((3, 0), &Keys::new(&[b"Kids", b"Annots"])));
    assert_eq!(document.page(1).unwrap(), (3, 0));
}

/// The byte-at-a-time scan that `dictionary_lacks`'s searches replace,
/// over the bytes from the dictionary's `<<` to the end of the file.
fn lacks_one_byte_at_a_time(body: &[u8], keys: &[&[u8]]) -> bool {
    for (at, byte) in body.iter().enumerate() {
        match byte {
            b'#' | b'(' | b'%' => return false,
            b'/' if keys.iter().any(|key| body[at + 1..].starts_with(key)) => return false,
            b'j' if at >= 6
                && body[..=at].ends_with(b"endobj")
                && !super::syntax::is_regular(body[at - 6])
                && body[at - 6] != b'/' =>
            {
                return true;
            }
            _ => {}
        }
    }
    false
}

#[test]
fn the_searches_prove_what_a_byte_scan_proves_wherever_the_stops_fall() {
    let mut state = 0x2545_f491_u32;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state
    };
    let pieces: [&str; 14] = [
        "/Kids",
        "/Annots",
        "/K",
        "/A",
        "/Ki",
        "#",
        "(",
        "%",
        " endobj",
        "xendobj",
        "/endobj",
        " ",
        "/Type/Page",
        "0 0 R",
    ];
    for _ in 0..2_000 {
        let mut body = String::from("<<");
        while body.len() < (next() % 120) as usize {
            match next() % 3 {
                0 => body.push_str(pieces[(next() % 14) as usize]),
                _ => body.extend(std::iter::repeat_n('a', (next() % 24) as usize)),
            }
        }
        body.push_str(">>");
        let mut pdf = PdfBuilder::new();
        for (number, text) in TWO_PAGES {
            pdf.object(number, if number == 3 { &body } else { text });
        }
        let xref = pdf.table(&[(0, 5)], "<< /Size 5 /Root 1 0 R >>");
        let bytes = pdf.finish(xref);
        let start = bytes
            .windows(9)
            .position(|w| w == b"3 0 obj\n<")
            .map(|at| at + 8)
            .expect("object 3");
        let document = LazyDocument::parse(&bytes).unwrap();
        for keys in [&[b"Kids".as_slice(), b"Annots"][..], &[b"Kids"]] {
            assert_eq!(
                document.dictionary_lacks((3, 0), &Keys::new(keys)),
                lacks_one_byte_at_a_time(&bytes[start..], keys),
                "{body}"
            );
        }
    }
}
