//! The interactive-form side of a signature (ISO 32000-2 §12.7, §12.8.1):
//! a new signature field whose widget sits on a page, listed in the AcroForm.

use super::input::InputDocument;
use super::reader::RawDictionary;
use super::{Lookup, PdfError, SignatureSpec};
use lopdf::{Object, ObjectId};

/// Annotation flags Print (bit 3) and Locked (bit 8), ISO 32000-2 §12.5.3.
const WIDGET_FLAGS: i64 = 4 | 128;
/// SigFlags SignaturesExist | AppendOnly, ISO 32000-2 §12.7.3 Table 225.
const SIG_FLAGS: i64 = 1 | 2;

/// What the signature revision writes, apart from the signature dictionary.
pub(super) struct FieldPlan<'a> {
    pub field_name: String,
    pub page: u32,
    /// Id the signature dictionary gets.
    pub signature_id: ObjectId,
    /// Id the widget annotation gets (written by [`write_widget`]).
    pub widget_id: ObjectId,
    /// The page holding the widget.
    pub page_id: ObjectId,
    /// Existing objects written again with changes, and new objects other
    /// than the signature dictionary and the widget (AcroForm, arrays), in
    /// ascending order of id: a handful, so a list.
    pub objects: Vec<(ObjectId, Rewritten<'a>)>,
    /// One past the highest object number used.
    pub next_object_number: u32,
}

/// An object the revision writes.
pub(super) enum Rewritten<'a> {
    /// A new or rebuilt object.
    Object(Object),
    /// A dictionary of the input with some entries set: the others are
    /// copied as their bytes are.
    Dictionary {
        source: RawDictionary<'a>,
        set: Vec<(&'static [u8], Object)>,
    },
    /// The catalog of a document without an AcroForm, its entries copied
    /// as their bytes are, given a direct one that lists only the new field
    /// (written by [`write_catalog_with_acroform`]).
    CatalogWithAcroForm(RawDictionary<'a>),
}

pub(super) fn plan_signature_field<'a>(
    input: &InputDocument<'a>,
    spec: &SignatureSpec,
) -> Result<FieldPlan<'a>, PdfError> {
    let catalog = input.raw_dictionary(input.root, "catalog")?;
    refuse_if_certified_without_changes(input, &catalog)?;

    let page = spec.page.unwrap_or(1);
    let (page_id, page_dict) = input.document.page_of(&catalog, page)?;

    let mut next = input.next_object_number;
    let mut allocate = || {
        let id = (next, 0);
        next += 1;
        id
    };
    let signature_id = allocate();
    let widget_id = allocate();
    let mut objects = Vec::with_capacity(4);

    let field_name = plan_acroform(
        input,
        catalog,
        spec.field_name,
        widget_id,
        &mut next,
        &mut objects,
    )?;
    let annots = appended(
        input,
        page_dict.get(b"Annots")?.as_ref(),
        widget_id,
        &mut objects,
        "page /Annots",
    )?;
    objects.push((
        page_id,
        Rewritten::Dictionary {
            source: page_dict,
            set: annots
                .map(|annots| (&b"Annots"[..], annots))
                .into_iter()
                .collect(),
        },
    ));
    objects.sort_unstable_by_key(|(id, _)| *id);

    Ok(FieldPlan {
        field_name,
        page,
        signature_id,
        widget_id,
        page_id,
        objects,
        next_object_number: next,
    })
}

/// Plans the AcroForm's part of the revision into `objects` and answers
/// the new field's name. An indirect AcroForm is rewritten in place; a
/// direct one becomes a new indirect object (its number taken from `next`)
/// named by a new catalog. Either way its entries are copied as their bytes
/// are, but for the two the signature sets. A document without one gets it
/// direct in the rewritten catalog (ISO 32000-2 §7.7.2 allows either): no
/// object of its own, no cross-reference row, some forty bytes fewer to hash.
fn plan_acroform<'a>(
    input: &InputDocument<'a>,
    catalog: RawDictionary<'a>,
    wanted_name: Option<&str>,
    widget_id: ObjectId,
    next: &mut u32,
    objects: &mut Vec<(ObjectId, Rewritten<'a>)>,
) -> Result<String, PdfError> {
    let (acroform_id, acroform) = match catalog.get(b"AcroForm")? {
        Some(Object::Reference(id)) => (id, input.raw_dictionary(id, "AcroForm")?),
        Some(Object::Dictionary(direct)) => {
            let id = (*next, 0);
            *next += 1;
            let acroform = input.document.direct_dictionary(&direct, input.root)?;
            objects.push((
                input.root,
                Rewritten::Dictionary {
                    source: catalog,
                    set: vec![(b"AcroForm", Object::Reference(id))],
                },
            ));
            (id, acroform)
        }
        Some(_) => return Err(PdfError::Malformed { what: "AcroForm" }),
        None => {
            let field_name = choose_field_name(input, None, wanted_name)?;
            objects.push((input.root, Rewritten::CatalogWithAcroForm(catalog)));
            return Ok(field_name);
        }
    };
    let current_fields = acroform.get(b"Fields")?;
    let field_name = choose_field_name(input, current_fields.as_ref(), wanted_name)?;
    let fields = appended(
        input,
        current_fields.as_ref(),
        widget_id,
        objects,
        "AcroForm /Fields",
    )?;
    let flags = acroform
        .get(b"SigFlags")?
        .and_then(|flags| flags.as_i64().ok())
        .unwrap_or(0);
    let mut set = Vec::with_capacity(2);
    set.extend(fields.map(|fields| (&b"Fields"[..], fields)));
    set.push((&b"SigFlags"[..], Object::Integer(flags | SIG_FLAGS)));
    objects.push((
        acroform_id,
        Rewritten::Dictionary {
            source: acroform,
            set,
        },
    ));
    Ok(field_name)
}

/// The signature field merged with its widget annotation (ISO 32000-2
/// §12.7.5.5): invisible — a zero rectangle, which the clause allows for
/// signature fields — printed and locked, on `plan.page_id`, its value the
/// signature dictionary. Written straight into `out`.
pub(super) fn write_widget(out: &mut Vec<u8>, plan: &FieldPlan) {
    use super::write;
    out.extend_from_slice(b"<</Type/Annot/Subtype/Widget/FT/Sig/T");
    write_text_string(out, &plan.field_name);
    out.extend_from_slice(b"/F ");
    write::integer(out, WIDGET_FLAGS);
    out.extend_from_slice(b"/Rect[0 0 0 0]/P ");
    write::reference(out, plan.page_id);
    out.extend_from_slice(b"/V ");
    write::reference(out, plan.signature_id);
    out.extend_from_slice(b">>");
}

/// `catalog` with a direct AcroForm whose only field is the widget
/// `widget_id` and whose SigFlags are set (ISO 32000-2 §12.7.3): written
/// straight into `out`, as lopdf writes the same dictionary.
pub(super) fn write_catalog_with_acroform(
    out: &mut Vec<u8>,
    catalog: &RawDictionary,
    widget_id: ObjectId,
) {
    use super::write;
    out.extend_from_slice(b"<<");
    write::copied_entries(out, catalog, &[]);
    out.extend_from_slice(b"/AcroForm<</Fields[");
    write::reference(out, widget_id);
    out.extend_from_slice(b"]/SigFlags ");
    write::integer(out, SIG_FLAGS);
    out.extend_from_slice(b">>>>");
}

/// Adds `item` to the array `current` (a dictionary's value): an indirect
/// array is rewritten as its own object, and `None` returned; a direct one
/// is returned extended, a missing one created.
fn appended(
    input: &InputDocument,
    current: Option<&Object>,
    item: ObjectId,
    objects: &mut Vec<(ObjectId, Rewritten<'_>)>,
    what: &'static str,
) -> Result<Option<Object>, PdfError> {
    match current {
        Some(Object::Array(items)) => {
            let mut items = items.clone();
            items.push(Object::Reference(item));
            Ok(Some(Object::Array(items)))
        }
        Some(Object::Reference(array_id)) => {
            let array_id = *array_id;
            // The array may be rewritten already (the AcroForm's /Fields
            // and the page's /Annots can be one array): extend that version.
            let rewritten = objects.iter().position(|(id, _)| *id == array_id);
            let mut items = match rewritten.map(|at| &objects[at].1) {
                Some(Rewritten::Object(Object::Array(items))) => items.clone(),
                _ => match input.document.object(array_id)? {
                    Object::Array(items) => items,
                    _ => return Err(PdfError::Malformed { what }),
                },
            };
            items.push(Object::Reference(item));
            let array = (array_id, Rewritten::Object(Object::Array(items)));
            match rewritten {
                Some(at) => objects[at] = array,
                None => objects.push(array),
            }
            Ok(None)
        }
        Some(Object::Null) | None => Ok(Some(Object::Array(vec![Object::Reference(item)]))),
        Some(_) => Err(PdfError::Malformed { what }),
    }
}

/// The requested name if free, else the first free `SignatureN`.
fn choose_field_name(
    input: &InputDocument,
    fields: Option<&Object>,
    requested: Option<&str>,
) -> Result<String, PdfError> {
    let taken = top_level_field_names(input, fields)?;
    match requested {
        Some(name) => {
            if name.is_empty() || name.chars().count() > 64 || name.contains('.') {
                return Err(PdfError::InvalidFieldName {
                    name: name.to_string(),
                });
            }
            if taken.iter().any(|t| t == name) {
                return Err(PdfError::FieldNameTaken {
                    name: name.to_string(),
                });
            }
            Ok(name.to_string())
        }
        // Most documents have no such field yet: the first name is spelled
        // out, since `format!` costs more than the rest of the choice.
        None if !taken.iter().any(|t| t == "Signature1") => Ok("Signature1".to_string()),
        None => Ok((2..)
            .map(|n| format!("Signature{n}"))
            .find(|candidate| !taken.contains(candidate))
            .unwrap_or_else(|| "Signature".to_string())),
    }
}

/// The names of the fields in the AcroForm's `/Fields` value `fields`.
fn top_level_field_names(
    input: &InputDocument,
    fields: Option<&Object>,
) -> Result<Vec<String>, PdfError> {
    let Some(fields) = fields else {
        return Ok(Vec::new());
    };
    let Object::Array(fields) = input.resolve(fields)? else {
        return Ok(Vec::new());
    };
    let mut names = Vec::new();
    for field in &fields {
        if let Object::Dictionary(field) = input.resolve(field)?
            && let Some(Ok(name)) = field.lookup(b"T").map(Object::as_str)
        {
            names.push(decode_text_string(name));
        }
    }
    Ok(names)
}

/// ISO 32000-2 §12.8.4: a DocMDP signature with /P 1 permits no change at all.
fn refuse_if_certified_without_changes(
    input: &InputDocument,
    catalog: &RawDictionary,
) -> Result<(), PdfError> {
    let permissions = catalog.get(b"Perms")?.unwrap_or(Object::Null);
    let Object::Dictionary(permissions) = input.resolve(&permissions)? else {
        return Ok(());
    };
    let Object::Dictionary(signature) = input.entry(&permissions, b"DocMDP")? else {
        return Ok(());
    };
    let Object::Array(references) = input.entry(&signature, b"Reference")? else {
        return Ok(());
    };
    for reference in &references {
        let Object::Dictionary(reference) = input.resolve(reference)? else {
            continue;
        };
        let Object::Dictionary(parameters) = input.entry(&reference, b"TransformParams")? else {
            continue;
        };
        if parameters.lookup(b"P").and_then(|p| p.as_i64().ok()) == Some(1) {
            return Err(PdfError::CertifiedNoChanges);
        }
    }
    Ok(())
}

/// A PDF text string (ISO 32000-2 §7.9.2.2): PDFDocEncoding when the text is
/// ASCII, otherwise UTF-16BE with a byte-order mark, so Vietnamese survives.
#[cfg(test)]
pub(super) fn text_string(text: &str) -> Object {
    let mut bytes = Vec::new();
    push_text_string_bytes(&mut bytes, text);
    Object::String(bytes, lopdf::StringFormat::Literal)
}

/// Appends the bytes of `text` as a PDF text string: ASCII as it is,
/// anything else UTF-16BE after a byte-order mark.
fn push_text_string_bytes(out: &mut Vec<u8>, text: &str) {
    if text.is_ascii() {
        out.extend_from_slice(text.as_bytes());
    } else {
        out.extend_from_slice(&[0xfe, 0xff]);
        for unit in text.encode_utf16() {
            out.extend_from_slice(&unit.to_be_bytes());
        }
    }
}

/// Writes `text` as a PDF text string (ISO 32000-2 §7.9.2.2) into `out`:
/// PDFDocEncoding when ASCII, otherwise UTF-16BE with a byte-order mark, so
/// Vietnamese survives. Both are literal strings (§7.3.4.2), which may hold
/// any byte: UTF-16 takes two bytes a character there, where hex digits
/// took four, and every byte of the revision is hashed.
pub(super) fn write_text_string(out: &mut Vec<u8>, text: &str) {
    super::write::literal_string_in_place(out, |out| push_text_string_bytes(out, text));
}

/// Decodes a PDF text string (UTF-16BE with a byte-order mark, else
/// PDFDocEncoding read as Latin-1).
pub(super) fn decode_text_string(bytes: &[u8]) -> String {
    match bytes.strip_prefix(&[0xfe, 0xff]) {
        Some(utf16) => {
            let units: Vec<u16> = utf16
                .chunks_exact(2)
                .map(|pair| u16::from_be_bytes([pair[0], pair[1]]))
                .collect();
            String::from_utf16_lossy(&units)
        }
        None => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lopdf::{Dictionary, StringFormat};

    #[test]
    fn vietnamese_text_becomes_utf16_with_a_byte_order_mark_and_back() {
        let object = text_string("Ủy ban nhân dân tỉnh Hòa Bình");
        let Object::String(bytes, _) = object else {
            panic!("not a string")
        };
        assert_eq!(&bytes[..2], &[0xfe, 0xff]);
        assert_eq!(decode_text_string(&bytes), "Ủy ban nhân dân tỉnh Hòa Bình");
    }

    #[test]
    fn text_strings_are_written_as_their_objects_are() {
        for text in [
            "Signature1",
            "a (b) \\ c",
            "Ủy ban nhân dân tỉnh Hòa Bình",
            // U+0128 and U+0129 have the bytes of `(` and `)`, U+1E5C of `\`.
            "Nghĩa Lộ, Ĩ, Ṝ",
        ] {
            let mut written = Vec::new();
            write_text_string(&mut written, text);
            let mut expected = Vec::new();
            super::super::write::object(&mut expected, &text_string(text));
            assert_eq!(written, expected, "{text}");
        }
    }

    #[test]
    fn the_widget_is_written_as_lopdf_writes_its_dictionary() {
        for name in ["Signature1", "Chữ ký 2"] {
            let plan = FieldPlan {
                field_name: name.to_string(),
                page: 1,
                signature_id: (6, 0),
                widget_id: (7, 0),
                page_id: (3, 0),
                objects: Vec::new(),
                next_object_number: 9,
            };
            let mut widget = Dictionary::new();
            widget.set("Type", Object::Name(b"Annot".to_vec()));
            widget.set("Subtype", Object::Name(b"Widget".to_vec()));
            widget.set("FT", Object::Name(b"Sig".to_vec()));
            widget.set("T", text_string(name));
            widget.set("F", Object::Integer(WIDGET_FLAGS));
            widget.set(
                "Rect",
                Object::Array(vec![0.into(), 0.into(), 0.into(), 0.into()]),
            );
            widget.set("P", Object::Reference((3, 0)));
            widget.set("V", Object::Reference((6, 0)));
            let mut expected = Vec::new();
            lopdf::Writer::write_object(&mut expected, &Object::Dictionary(widget)).expect("write");
            let mut written = Vec::new();
            write_widget(&mut written, &plan);
            assert_eq!(
                String::from_utf8_lossy(&written),
                String::from_utf8_lossy(&expected)
            );
        }
    }

    #[test]
    fn a_new_acroform_is_written_into_the_catalog_as_lopdf_writes_the_dictionary() {
        let pdf = crate::sign::testing::one_page_pdf();
        let input = InputDocument::parse(&pdf).expect("parse");
        let catalog = input
            .raw_dictionary(input.root, "catalog")
            .expect("catalog");
        let mut acroform = Dictionary::new();
        acroform.set("Fields", Object::Array(vec![Object::Reference((7, 0))]));
        acroform.set("SigFlags", Object::Integer(SIG_FLAGS));
        let mut expected = Vec::new();
        super::super::write::dictionary_with(
            &mut expected,
            &catalog,
            &[(b"AcroForm", Object::Dictionary(acroform))],
        );
        let mut written = Vec::new();
        write_catalog_with_acroform(&mut written, &catalog, (7, 0));
        assert_eq!(
            String::from_utf8_lossy(&written),
            String::from_utf8_lossy(&expected)
        );
    }

    #[test]
    fn ascii_text_stays_a_literal_string() {
        assert_eq!(
            text_string("Signature1"),
            Object::String(b"Signature1".to_vec(), StringFormat::Literal)
        );
    }
}
