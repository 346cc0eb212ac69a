//! Finding the signatures in a PDF (ISO 32000-2 §12.7.5.5, §12.8.1): every
//! signature dictionary reached as the `/V` of a signature field, from the
//! AcroForm's field tree or from widget annotations on the pages, counted
//! once however many fields point at it.

use super::PdfError;
use super::form::decode_text_string;
use super::reader::{Keys, LazyDocument};
use lopdf::{Dictionary, Object, ObjectId};
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

/// Most fields and annotations visited while looking for signatures.
const MAX_NODES: usize = 100_000;
/// Deepest field or page tree followed.
const MAX_DEPTH: usize = 32;

/// A signature dictionary found in the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbeddedSignature {
    /// Fully qualified name of the (first) field holding it.
    pub field_name: String,
    /// The signature dictionary's object number and generation, when it is
    /// an indirect object.
    pub object: Option<(u32, u16)>,
    /// `/ByteRange` as integers (empty when it is not an array of integers).
    pub byte_range: Vec<i64>,
    /// The decoded `/Contents` string.
    pub contents: Vec<u8>,
    /// Where the `/Contents` string (delimiters included) sits in the file.
    pub contents_span: Option<(usize, usize)>,
    /// `/SubFilter`.
    pub sub_filter: Option<String>,
    /// `/Type /DocTimeStamp` (ISO 32000-2 §12.8.5).
    pub document_timestamp: bool,
    /// For a certification signature, its DocMDP permission `/P` (1: no
    /// changes, 2: form filling and signing, 3: also annotations; ISO
    /// 32000-2 §12.8.2.2.2 Table 257).
    pub docmdp_permission: Option<i64>,
}

/// Text entries of a signature dictionary (ISO 32000-2 §12.8.1 Table 255).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignatureEntries {
    /// `/M`, as written (a PDF date string).
    pub signing_time: Option<String>,
    /// `/Reason`.
    pub reason: Option<String>,
    /// `/Location`.
    pub location: Option<String>,
    /// `/Name`.
    pub name: Option<String>,
}

/// A PDF read once for verification: the cross-reference data is parsed
/// when it is opened, and every question verification asks of the latest
/// revision (its signatures, its DSS, the text of a signature dictionary,
/// what changed after a signed revision) is answered from that one reading.
/// Nothing outlives it: each verification opens its own.
pub struct SignedPdf<'a> {
    bytes: &'a [u8],
    document: LazyDocument<'a>,
    /// Signature dictionaries read while finding the signatures, by object
    /// id, so that their text entries are not parsed (with the `/Contents`
    /// string) a second time.
    signature_dictionaries: RefCell<HashMap<ObjectId, Dictionary>>,
}

impl<'a> SignedPdf<'a> {
    /// Reads the cross-reference chain and the trailer of `bytes`.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, PdfError> {
        Ok(Self {
            bytes,
            document: LazyDocument::parse(bytes)?,
            signature_dictionaries: RefCell::new(HashMap::new()),
        })
    }

    /// The bytes the document was read from.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The latest revision.
    pub(super) fn document(&self) -> &LazyDocument<'a> {
        &self.document
    }

    /// Every signature, ordered by where its signed bytes end.
    pub fn embedded_signatures(&self) -> Result<Vec<EmbeddedSignature>, PdfError> {
        let document = &self.document;
        let mut finder = Finder {
            document,
            visited: Visited::default(),
            seen_signatures: HashSet::new(),
            found: Vec::new(),
            dictionaries: HashMap::new(),
            budget: MAX_NODES,
            page_keys: Keys::new(&[b"Kids", b"Annots"]),
        };
        let root = document.resolve(document.trailer().get(b"Root").unwrap_or(&Object::Null))?;
        let root = root
            .as_dict()
            .map_err(|_| PdfError::Malformed { what: "catalog" })?;
        if let Ok(acroform) = root.get(b"AcroForm")
            && let Ok(Object::Dictionary(acroform)) = document.resolve(acroform)
            && let Ok(fields) = acroform.get(b"Fields")
            && let Ok(Object::Array(fields)) = document.resolve(fields)
        {
            for field in &fields {
                finder.field(field, "", None, 0)?;
            }
        }
        if let Ok(pages) = root.get(b"Pages") {
            finder.pages(pages, 0)?;
        }
        self.signature_dictionaries
            .borrow_mut()
            .extend(finder.dictionaries);
        let mut found = finder.found;
        found.sort_by_key(|s| {
            s.byte_range
                .get(2)
                .copied()
                .unwrap_or(0)
                .saturating_add(s.byte_range.get(3).copied().unwrap_or(0))
        });
        Ok(found)
    }

    /// The CRLs (DER) of the document security store, `/DSS /CRLs` (ISO
    /// 32000-2 §12.8.4.3), as the latest revision has them.
    pub fn document_security_store_crls(&self) -> Result<Vec<Vec<u8>>, PdfError> {
        let document = &self.document;
        let root = document.resolve(document.trailer().get(b"Root").unwrap_or(&Object::Null))?;
        let Some(dss) = root.as_dict().ok().and_then(|r| r.get(b"DSS").ok()) else {
            return Ok(Vec::new());
        };
        let Ok(Object::Dictionary(dss)) = document.resolve(dss) else {
            return Ok(Vec::new());
        };
        let Some(crls) = dss.get(b"CRLs").ok() else {
            return Ok(Vec::new());
        };
        let Ok(Object::Array(crls)) = document.resolve(crls) else {
            return Ok(Vec::new());
        };
        let mut found = Vec::new();
        for crl in crls.iter().take(MAX_DSS_CRLS) {
            if let Some(data) = document.stream_data(crl)? {
                found.push(data);
            }
        }
        Ok(found)
    }

    /// The text entries of signature dictionary `object` as they stood in
    /// the revision that ends at `revision_end`, whatever later revisions
    /// rewrote. The latest revision is answered from this reading; an
    /// earlier one is read on its own.
    pub fn signature_entries_in_revision(
        &self,
        revision_end: usize,
        object: (u32, u16),
    ) -> Result<SignatureEntries, PdfError> {
        if revision_end != self.bytes.len() {
            return signature_entries_in_revision(self.bytes, revision_end, object);
        }
        let known = self.signature_dictionaries.borrow().get(&object).cloned();
        let dictionary = match known {
            Some(dictionary) => dictionary,
            None => match self.document.object(object)? {
                Object::Dictionary(dictionary) => dictionary,
                _ => return Ok(SignatureEntries::default()),
            },
        };
        Ok(entries(&self.document, &dictionary))
    }
}

/// Every signature in `bytes`, ordered by where its signed bytes end.
pub fn embedded_signatures(bytes: &[u8]) -> Result<Vec<EmbeddedSignature>, PdfError> {
    SignedPdf::parse(bytes)?.embedded_signatures()
}

/// Most CRLs read from a document security store.
const MAX_DSS_CRLS: usize = 256;

/// The CRLs (DER) of the document security store, `/DSS /CRLs` (ISO
/// 32000-2 §12.8.4.3), as the latest revision has them.
pub fn document_security_store_crls(bytes: &[u8]) -> Result<Vec<Vec<u8>>, PdfError> {
    SignedPdf::parse(bytes)?.document_security_store_crls()
}

/// The text entries of signature dictionary `object` as they stood in the
/// revision that ends at `revision_end`, whatever later revisions rewrote.
pub fn signature_entries_in_revision(
    bytes: &[u8],
    revision_end: usize,
    object: (u32, u16),
) -> Result<SignatureEntries, PdfError> {
    let prefix = bytes
        .get(..revision_end)
        .ok_or(PdfError::Malformed { what: "revision" })?;
    let document = LazyDocument::parse(prefix)?;
    let Object::Dictionary(dictionary) = document.object(object)? else {
        return Ok(SignatureEntries::default());
    };
    Ok(entries(&document, &dictionary))
}

/// The text entries of a signature dictionary of `document`.
fn entries(document: &LazyDocument<'_>, dictionary: &Dictionary) -> SignatureEntries {
    let text = |key: &[u8]| -> Option<String> {
        let value = document.resolve(dictionary.get(key).ok()?).ok()?;
        value.as_str().ok().map(decode_text_string)
    };
    SignatureEntries {
        signing_time: text(b"M"),
        reason: text(b"Reason"),
        location: text(b"Location"),
        name: text(b"Name"),
    }
}

/// Object numbers below this, generation 0 (nearly every object of a
/// file), are remembered in a bit set: 64 KiB at most.
const DENSE_VISITED: u32 = 1 << 19;

/// The objects a walk has visited: a bit set for the common ids, a hash
/// set for the rest. Hashing each of a long document's pages cost more
/// than reading it.
#[derive(Default)]
struct Visited {
    dense: Vec<u64>,
    sparse: HashSet<ObjectId>,
}

impl Visited {
    /// Records `id`; `false` when it was already recorded.
    fn insert(&mut self, id: ObjectId) -> bool {
        let (number, generation) = id;
        if generation != 0 || number >= DENSE_VISITED {
            return self.sparse.insert(id);
        }
        let (word, bit) = ((number / 64) as usize, 1_u64 << (number % 64));
        if word >= self.dense.len() {
            self.dense.resize(word + 1, 0);
        }
        let fresh = self.dense[word] & bit == 0;
        self.dense[word] |= bit;
        fresh
    }
}

struct Finder<'d, 'a> {
    document: &'d LazyDocument<'a>,
    visited: Visited,
    seen_signatures: HashSet<ObjectId>,
    found: Vec<EmbeddedSignature>,
    /// Each signature dictionary found as an indirect object, as the
    /// object itself reads (see [`SignedPdf::signature_entries_in_revision`]).
    dictionaries: HashMap<ObjectId, Dictionary>,
    budget: usize,
    /// What makes a page-tree node worth reading: kids or annotations.
    page_keys: Keys,
}

impl Finder<'_, '_> {
    fn spend(&mut self) -> Result<(), PdfError> {
        self.budget = self.budget.checked_sub(1).ok_or(PdfError::Malformed {
            what: "form: too many fields or annotations",
        })?;
        Ok(())
    }

    /// Visits a field node, depth-first, tracking the inherited /FT.
    fn field(
        &mut self,
        node: &Object,
        parent_name: &str,
        inherited_type: Option<Vec<u8>>,
        depth: usize,
    ) -> Result<(), PdfError> {
        if depth > MAX_DEPTH {
            return Err(PdfError::Malformed {
                what: "form field tree",
            });
        }
        if let Object::Reference(id) = node
            && !self.visited.insert(*id)
        {
            return Ok(());
        }
        self.spend()?;
        let Ok(Object::Dictionary(field)) = self.document.resolve(node) else {
            return Ok(());
        };
        let partial = field
            .get(b"T")
            .ok()
            .and_then(|t| t.as_str().ok())
            .map(decode_text_string);
        let name = match (parent_name, partial) {
            ("", Some(partial)) => partial,
            (parent, Some(partial)) => format!("{parent}.{partial}"),
            (parent, None) => parent.to_string(),
        };
        // /FT is inheritable (ISO 32000-2 §12.7.4.1 Table 226).
        let field_type = field
            .get(b"FT")
            .ok()
            .and_then(|t| t.as_name().ok())
            .map(<[u8]>::to_vec)
            .or(inherited_type);
        if field_type.as_deref() == Some(b"Sig") {
            self.signature_value(&field, &name)?;
        }
        if let Ok(kids) = field.get(b"Kids")
            && let Ok(Object::Array(kids)) = self.document.resolve(kids)
        {
            for kid in &kids {
                self.field(kid, &name, field_type.clone(), depth + 1)?;
            }
        }
        Ok(())
    }

    /// Records the signature dictionary a signature field's /V names.
    fn signature_value(&mut self, field: &Dictionary, name: &str) -> Result<(), PdfError> {
        let Ok(value) = field.get(b"V") else {
            return Ok(()); // an empty signature field
        };
        let object = match value {
            Object::Reference(id) => {
                if !self.seen_signatures.insert(*id) {
                    return Ok(());
                }
                Some(*id)
            }
            _ => None,
        };
        // The object itself, when it is the dictionary, is what reading
        // `object` again would give: kept for the text entries.
        let resolved = match object.map(|id| (id, self.document.object(id))) {
            Some((id, Ok(Object::Dictionary(dictionary)))) => {
                self.dictionaries.insert(id, dictionary.clone());
                Ok(Object::Dictionary(dictionary))
            }
            _ => self.document.resolve(value),
        };
        let Ok(Object::Dictionary(dictionary)) = resolved else {
            return Ok(());
        };
        let byte_range = match dictionary
            .get(b"ByteRange")
            .ok()
            .map(|r| self.document.resolve(r))
        {
            Some(Ok(Object::Array(values))) => values
                .iter()
                .map(Object::as_i64)
                .collect::<Result<Vec<_>, _>>()
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        let contents = match dictionary
            .get(b"Contents")
            .ok()
            .map(|c| self.document.resolve(c))
        {
            Some(Ok(Object::String(bytes, _))) => bytes,
            _ => Vec::new(),
        };
        // Only a direct string in an uncompressed dictionary has a place in
        // the file that a ByteRange gap can match.
        let contents_span = match (object, dictionary.get(b"Contents")) {
            (Some(id), Ok(Object::String(..))) => self.document.value_span(id, b"Contents")?,
            _ => None,
        };
        self.found.push(EmbeddedSignature {
            field_name: name.to_string(),
            object,
            byte_range,
            contents,
            contents_span,
            sub_filter: dictionary
                .get(b"SubFilter")
                .ok()
                .and_then(|s| s.as_name().ok())
                .map(|s| String::from_utf8_lossy(s).into_owned()),
            document_timestamp: dictionary.has_type(b"DocTimeStamp"),
            docmdp_permission: self.docmdp_permission(&dictionary),
        });
        Ok(())
    }

    /// The `/P` of a DocMDP transform in the signature's `/Reference`
    /// array (default 2 when the transform has no parameters).
    fn docmdp_permission(&self, signature: &Dictionary) -> Option<i64> {
        let Ok(Object::Array(references)) =
            self.document.resolve(signature.get(b"Reference").ok()?)
        else {
            return None;
        };
        references.iter().find_map(|reference| {
            let Ok(Object::Dictionary(reference)) = self.document.resolve(reference) else {
                return None;
            };
            if reference.get(b"TransformMethod").ok()?.as_name().ok()? != b"DocMDP" {
                return None;
            }
            let parameters = reference
                .get(b"TransformParams")
                .ok()
                .and_then(|p| self.document.resolve(p).ok());
            Some(
                parameters
                    .and_then(|p| p.as_dict().ok()?.get(b"P").ok()?.as_i64().ok())
                    .unwrap_or(2),
            )
        })
    }

    /// Walks the page tree for widget annotations of signature fields that
    /// the AcroForm does not list.
    fn pages(&mut self, node: &Object, depth: usize) -> Result<(), PdfError> {
        if depth > MAX_DEPTH {
            return Err(PdfError::Malformed { what: "page tree" });
        }
        if let Object::Reference(id) = node
            && !self.visited.insert(*id)
        {
            return Ok(());
        }
        self.spend()?;
        // A leaf without annotations holds no widget: most pages, read no further.
        if let Object::Reference(id) = node
            && self.document.dictionary_lacks(*id, &self.page_keys)
        {
            return Ok(());
        }
        let Ok(Object::Dictionary(page)) = self.document.resolve(node) else {
            return Ok(());
        };
        if let Ok(kids) = page.get(b"Kids") {
            // A direct array (nearly always) is walked where it is, not copied.
            let resolved;
            let kids = match kids {
                Object::Reference(_) => match self.document.resolve(kids) {
                    Ok(kids) => {
                        resolved = kids;
                        &resolved
                    }
                    Err(_) => return Ok(()),
                },
                direct => direct,
            };
            if let Object::Array(kids) = kids {
                for kid in kids {
                    self.pages(kid, depth + 1)?;
                }
            }
            return Ok(());
        }
        if let Ok(annotations) = page.get(b"Annots")
            && let Ok(Object::Array(annotations)) = self.document.resolve(annotations)
        {
            for annotation in &annotations {
                self.widget(annotation)?;
            }
        }
        Ok(())
    }

    /// A widget annotation: a signature field itself, or the kid of one.
    fn widget(&mut self, annotation: &Object) -> Result<(), PdfError> {
        self.spend()?;
        let Ok(Object::Dictionary(widget)) = self.document.resolve(annotation) else {
            return Ok(());
        };
        // Climb to the field that carries /FT (widget merged with its field,
        // or a kid whose parent is the field), building the name on the way.
        let mut names = Vec::new();
        let mut node = widget;
        for _ in 0..MAX_DEPTH {
            if let Some(t) = node.get(b"T").ok().and_then(|t| t.as_str().ok()) {
                names.push(decode_text_string(t));
            }
            if node.get(b"FT").ok().and_then(|t| t.as_name().ok()) == Some(b"Sig") {
                names.reverse();
                let full_name = self.qualified_name(&node, names)?;
                let field = node.clone();
                return self.signature_value(&field, &full_name);
            }
            match node.get(b"Parent").ok().map(|p| self.document.resolve(p)) {
                Some(Ok(Object::Dictionary(parent))) => node = parent,
                _ => return Ok(()),
            }
        }
        Ok(())
    }

    /// Completes a field name with the /T of the field's ancestors.
    fn qualified_name(
        &self,
        field: &Dictionary,
        mut names: Vec<String>,
    ) -> Result<String, PdfError> {
        let mut node = field.clone();
        for _ in 0..MAX_DEPTH {
            match node.get(b"Parent").ok().map(|p| self.document.resolve(p)) {
                Some(Ok(Object::Dictionary(parent))) => {
                    if let Some(t) = parent.get(b"T").ok().and_then(|t| t.as_str().ok()) {
                        names.insert(0, decode_text_string(t));
                    }
                    node = parent;
                }
                _ => break,
            }
        }
        Ok(names.join("."))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-revision PDF of `objects`, numbered from 1, with a classic table.
    fn pdf(objects: &[&str]) -> Vec<u8> {
        let mut pdf = b"%PDF-1.7\n".to_vec();
        let mut offsets = Vec::new();
        for (number, body) in (1..).zip(objects) {
            offsets.push(pdf.len());
            pdf.extend_from_slice(format!("{number} 0 obj\n{body}\nendobj\n").as_bytes());
        }
        let xref = pdf.len();
        let size = objects.len() + 1;
        pdf.extend_from_slice(format!("xref\n0 {size}\n0000000000 65535 f\r\n").as_bytes());
        for offset in offsets {
            pdf.extend_from_slice(format!("{offset:010} 00000 n\r\n").as_bytes());
        }
        pdf.extend_from_slice(
            format!("trailer\n<< /Size {size} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n")
                .as_bytes(),
        );
        pdf
    }

    #[test]
    fn signature_widgets_only_pages_list_are_found_however_their_key_is_spelt() {
        let objects = [
            "<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Kids [3 0 R 4 0 R 5 0 R] /Count 3 >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
            "<< /Type /Page /Parent 2 0 R /Annots [6 0 R] >>",
            // `#6E` is `n`: the same /Annots key (ISO 32000-2 §7.3.5).
            "<< /Type /Page /Parent 2 0 R /A#6Enots [7 0 R] >>",
            "<< /Type /Annot /Subtype /Widget /FT /Sig /T (One) /V 8 0 R /Rect [0 0 0 0] >>",
            "<< /Type /Annot /Subtype /Widget /FT /Sig /T (Two) /V 9 0 R /Rect [0 0 0 0] >>",
            "<< /Type /Sig /ByteRange [0 1 2 3] /Contents <00> >>",
            "<< /Type /Sig /ByteRange [0 1 4 5] /Contents <00> >>",
        ];
        let found = embedded_signatures(&pdf(&objects)).unwrap();
        let names: Vec<_> = found.iter().map(|s| s.field_name.as_str()).collect();
        assert_eq!(names, ["One", "Two"]);
    }
}
