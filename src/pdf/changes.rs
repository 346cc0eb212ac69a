//! What later revisions changed after a signed revision (ISO 32000-2
//! §12.8.2): every object the newer cross-reference data redefines is
//! compared with the signed revision's and classed. Only signatures,
//! document timestamps and validation data (`/DSS`) are harmless for
//! official documents; form filling and annotations are reported as such;
//! anything else — page content, re-pointed objects, deleted objects, bytes
//! that do not parse — is "other".

use super::PdfError;
use super::reader::LazyDocument;
use super::signatures::SignedPdf;
use lopdf::{Dictionary, Object};
use std::collections::{BTreeMap, HashMap};

/// Most redefined objects examined; a revision changing more is "other".
const MAX_CHANGED_OBJECTS: usize = 100_000;

/// How far-reaching a change is; the order matters (`max` sums them up).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChangeLevel {
    /// No change.
    None,
    /// Signatures, document timestamps, validation data.
    Ltv,
    /// Form fields filled in.
    FormFilling,
    /// Annotations added or changed.
    Annotations,
    /// Anything else.
    Other,
}

/// The end-of-file marker that closes a revision (ISO 32000-2 §7.5.5).
const MARKER: &[u8] = b"%%EOF";

/// The ends (just past `%%EOF` and its end-of-line) of every revision in
/// the file, in order.
pub fn revision_ends(bytes: &[u8]) -> Vec<usize> {
    let mut ends = Vec::new();
    let mut from = 0;
    while let Some(found) = find_marker(bytes, from) {
        let end = past_end_of_line(bytes, found + MARKER.len());
        ends.push(end);
        from = end;
    }
    ends
}

/// The end of the last revision, as [`revision_ends`] would give it, found
/// by searching back from the end of the file: markers cannot overlap, so
/// the last one found forwards is the last one in the file.
fn last_revision_end(bytes: &[u8]) -> Option<usize> {
    let found = (0..=bytes.len().checked_sub(MARKER.len())?)
        .rev()
        .find(|at| bytes[*at] == b'%' && bytes[*at..].starts_with(MARKER))?;
    Some(past_end_of_line(bytes, found + MARKER.len()))
}

/// `at`, moved past a CR, an LF or a CRLF.
fn past_end_of_line(bytes: &[u8], mut at: usize) -> usize {
    if bytes.get(at) == Some(&b'\r') {
        at += 1;
    }
    if bytes.get(at) == Some(&b'\n') {
        at += 1;
    }
    at
}

/// The first `%%EOF` at or after `from`. The scan skips a block at a time
/// that holds no `%` at all (the compiler turns the fixed-size reduction
/// into vector compares); a block that does is searched for `%%` exactly,
/// since `%` alone is common in binary data and `%%` is not.
fn find_marker(bytes: &[u8], from: usize) -> Option<usize> {
    const BLOCK: usize = 64;
    let mut at = from;
    loop {
        let rest = bytes.get(at..)?;
        let window = match rest.get(..BLOCK) {
            Some(block) => {
                if block.iter().fold(0_u8, |any, b| any | u8::from(*b == b'%')) == 0 {
                    at += BLOCK;
                    continue;
                }
                // The block and the byte after it: a pair may straddle.
                &rest[..rest.len().min(BLOCK + 1)]
            }
            None => rest,
        };
        match window.windows(2).position(|w| w == b"%%") {
            Some(pair) => {
                let found = at + pair;
                if bytes[found..].starts_with(MARKER) {
                    return Some(found);
                }
                at = found + 1;
            }
            None if window.len() > BLOCK => at += BLOCK,
            None => return None,
        }
    }
}

/// The most far-reaching change in `bytes` after the revision that ends at
/// `signed_end`.
pub fn changes_after(bytes: &[u8], signed_end: usize) -> Result<ChangeLevel, PdfError> {
    if let Some(early) = judged_from_bytes(bytes, signed_end) {
        return Ok(early);
    }
    match SignedPdf::parse(bytes) {
        Ok(latest) => latest.changes_after(signed_end),
        Err(_) => Ok(ChangeLevel::Other),
    }
}

impl SignedPdf<'_> {
    /// The most far-reaching change after the revision that ends at
    /// `signed_end`, compared with this reading of the latest revision.
    pub fn changes_after(&self, signed_end: usize) -> Result<ChangeLevel, PdfError> {
        let bytes = self.bytes();
        if let Some(early) = judged_from_bytes(bytes, signed_end) {
            return Ok(early);
        }
        let Some(signed_bytes) = bytes.get(..signed_end) else {
            return Ok(ChangeLevel::Other);
        };
        let Ok(signed) = LazyDocument::parse(signed_bytes) else {
            return Ok(ChangeLevel::Other);
        };
        let latest = self.document();
        let changed = latest.redefined_since(&signed);
        if changed.len() > MAX_CHANGED_OBJECTS {
            return Ok(ChangeLevel::Other);
        }
        Comparison::new(&signed, latest, &changed).level()
    }
}

/// What the bytes alone settle: nothing after the signed revision (none),
/// or bytes after the last revision that belong to none (other).
fn judged_from_bytes(bytes: &[u8], signed_end: usize) -> Option<ChangeLevel> {
    if signed_end >= bytes.len() {
        return Some(ChangeLevel::None);
    }
    // Bytes after the last revision that are not white space belong to no
    // revision: never ignored (ISO 32000-2 §7.5.6 gives them no meaning).
    let last_end = last_revision_end(bytes).unwrap_or(0);
    if last_end < signed_end
        || bytes[last_end..]
            .iter()
            .any(|b| !b.is_ascii_whitespace() && *b != 0)
    {
        return Some(ChangeLevel::Other);
    }
    None
}

/// The signed and the latest state of every redefined object.
struct Comparison<'d, 'a> {
    signed: &'d LazyDocument<'a>,
    latest: &'d LazyDocument<'a>,
    /// Old value (None when the object is new) and new value.
    objects: BTreeMap<u32, (Option<Object>, Option<Object>)>,
}

impl<'d, 'a> Comparison<'d, 'a> {
    fn new(signed: &'d LazyDocument<'a>, latest: &'d LazyDocument<'a>, changed: &[u32]) -> Self {
        let mut objects = BTreeMap::new();
        for &number in changed {
            let old = signed
                .generation(number)
                .and_then(|g| signed.object((number, g)).ok())
                .filter(|o| !matches!(o, Object::Null));
            let new = latest
                .generation(number)
                .and_then(|g| latest.object((number, g)).ok())
                .filter(|o| !matches!(o, Object::Null));
            objects.insert(number, (old, new));
        }
        Self {
            signed,
            latest,
            objects,
        }
    }

    fn level(&self) -> Result<ChangeLevel, PdfError> {
        // Objects referenced by the redefined ones: a new object is only as
        // harmless as whatever uses it.
        let mut referrers: HashMap<u32, Vec<u32>> = HashMap::new();
        for (&number, (_, new)) in &self.objects {
            if let Some(new) = new {
                let mut targets = Vec::new();
                collect_references(new, &mut targets, 0);
                for target in targets {
                    if target != number {
                        referrers.entry(target).or_default().push(number);
                    }
                }
            }
        }
        let mut levels: BTreeMap<u32, ChangeLevel> = BTreeMap::new();
        let info = [self.signed, self.latest].map(|d| {
            d.trailer()
                .get(b"Info")
                .and_then(Object::as_reference)
                .ok()
                .map(|(n, _)| n)
        });
        for (&number, (old, new)) in &self.objects {
            // The document information dictionary and XMP metadata streams
            // describe the file and never change what a page shows; signers
            // (Acrobat adding a DSS, for one) update their dates.
            if old.is_some()
                && (info.contains(&Some(number))
                    || is_metadata(old.as_ref()) && is_metadata(new.as_ref()))
            {
                levels.insert(number, ChangeLevel::Ltv);
                continue;
            }
            if let Some(level) = self.own_level(old.as_ref(), new.as_ref()) {
                levels.insert(number, level);
            }
        }
        // New objects without a level of their own (streams, arrays,
        // unknown dictionaries) take the level of their users, settled
        // outwards from the objects that have one (a DSS's VRI entries
        // through the DSS through the catalog). A new object nothing
        // redefined uses could only matter to an unchanged object that
        // named it while it did not exist — a re-pointing: "other".
        for _ in 0..self.objects.len() {
            let mut settled = false;
            for (&number, (old, new)) in &self.objects {
                if levels.contains_key(&number) || old.is_some() || new.is_none() {
                    continue;
                }
                let users = referrers
                    .get(&number)
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                if let Some(level) = users.iter().filter_map(|u| levels.get(u)).max().copied() {
                    levels.insert(number, level);
                    settled = true;
                }
            }
            if !settled {
                break;
            }
        }
        let mut overall = ChangeLevel::None;
        for &number in self.objects.keys() {
            let level = levels.get(&number).copied().unwrap_or(ChangeLevel::Other);
            overall = overall.max(level);
        }
        Ok(overall)
    }

    /// The level a redefined object has by its own content, or `None` when
    /// it is a new object that only its users can class.
    fn own_level(&self, old: Option<&Object>, new: Option<&Object>) -> Option<ChangeLevel> {
        match (old, new) {
            (_, None) => Some(ChangeLevel::Other), // deleted or freed
            (None, Some(Object::Dictionary(new))) => self.new_dictionary(new),
            // A later revision's cross-reference stream and object streams
            // are containers, not content (§7.5.7, §7.5.8): what they hold
            // is compared object by object.
            (None, Some(Object::Stream(stream)))
                if stream.dict.has_type(b"XRef") || stream.dict.has_type(b"ObjStm") =>
            {
                Some(ChangeLevel::None)
            }
            (None, Some(_)) => None,
            (Some(old), Some(new)) if old == new => Some(ChangeLevel::None),
            (Some(Object::Dictionary(old)), Some(Object::Dictionary(new))) => {
                Some(self.changed_dictionary(old, new))
            }
            (Some(Object::Array(old)), Some(Object::Array(new))) => Some(self.appended(old, new)),
            _ => Some(ChangeLevel::Other),
        }
    }

    fn new_dictionary(&self, new: &Dictionary) -> Option<ChangeLevel> {
        if new.has_type(b"Sig")
            || new.has_type(b"DocTimeStamp")
            || new.has_type(b"DSS")
            || new.has_type(b"VRI")
        {
            return Some(ChangeLevel::Ltv);
        }
        if is_annotation(new) {
            return Some(self.annotation_level(new));
        }
        None
    }

    /// A changed dictionary: catalog gaining /DSS or an AcroForm, AcroForm
    /// gaining fields, a page gaining annotations, a field getting a value.
    fn changed_dictionary(&self, old: &Dictionary, new: &Dictionary) -> ChangeLevel {
        let differing = differing_keys(old, new);
        // The catalog may gain validation data, an AcroForm for a new
        // signature field, and the version or developer-extension marks
        // that come with them (ISO 32000-2 §12.8.4.3, §7.12). A new or
        // re-pointed AcroForm is judged by what it changes, not waved through.
        if new.has_type(b"Catalog")
            && differing.iter().all(|k| {
                matches!(
                    k.as_slice(),
                    b"DSS" | b"AcroForm" | b"Extensions" | b"Version"
                )
            })
        {
            if !differing.iter().any(|k| k == b"AcroForm") {
                return ChangeLevel::Ltv;
            }
            let before = self.resolve_dictionary(self.signed, old.get(b"AcroForm").ok());
            let after = self.resolve_dictionary(self.latest, new.get(b"AcroForm").ok());
            return match after {
                Some(after) => {
                    ChangeLevel::Ltv.max(self.acroform_level(&before.unwrap_or_default(), &after))
                }
                None => ChangeLevel::Other,
            };
        }
        if new.has_type(b"Page") && differing.iter().all(|k| k == b"Annots") {
            return match (old.get(b"Annots").ok(), new.get(b"Annots").ok()) {
                (None, Some(added)) => self.array_items_level(added, &[]),
                (Some(before), Some(after)) => {
                    let before = self.resolve_array(self.signed, before);
                    self.array_items_level(after, &before)
                }
                _ => ChangeLevel::Other,
            };
        }
        // An AcroForm (no /Type): fields appended, flags and defaults set.
        if !new.has(b"Type") && new.has(b"Fields") {
            return self.acroform_level(old, new);
        }
        // A field or widget whose value or appearance changed (§12.7.4).
        if new.has(b"FT") || new.has(b"Parent") || is_annotation(new) {
            let value_only = differing
                .iter()
                .all(|k| matches!(k.as_slice(), b"V" | b"AP" | b"AS" | b"MK"));
            if value_only {
                let is_signature =
                    new.get(b"FT").ok().and_then(|t| t.as_name().ok()) == Some(b"Sig");
                let was_empty = !old.has(b"V") && self.is_new_signature(new.get(b"V").ok());
                return if is_signature && was_empty {
                    ChangeLevel::Ltv
                } else {
                    ChangeLevel::FormFilling
                };
            }
            if is_annotation(new)
                && !new.has(b"FT")
                && !differing.iter().any(|k| k == b"Subtype" || k == b"P")
            {
                return ChangeLevel::Annotations;
            }
        }
        ChangeLevel::Other
    }

    /// What a changed AcroForm does (ISO 32000-2 §12.7.3): new fields are
    /// judged one by one; default appearances and resources, or asking the
    /// viewer to regenerate appearances, change what fields show (form
    /// filling at least); anything else (XFA, calculation order…) is other.
    fn acroform_level(&self, old: &Dictionary, new: &Dictionary) -> ChangeLevel {
        let mut level = ChangeLevel::None;
        for key in differing_keys(old, new) {
            level = level.max(match key.as_slice() {
                b"Fields" => {
                    let before = old
                        .get(b"Fields")
                        .map(|f| self.resolve_array(self.signed, f))
                        .unwrap_or_default();
                    match new.get(b"Fields") {
                        Ok(after) => self.array_items_level(after, &before),
                        Err(_) => ChangeLevel::Other,
                    }
                }
                b"SigFlags" => ChangeLevel::Ltv,
                b"DR" | b"DA" | b"NeedAppearances" => ChangeLevel::FormFilling,
                _ => ChangeLevel::Other,
            });
        }
        level
    }

    fn resolve_dictionary(
        &self,
        document: &LazyDocument<'_>,
        object: Option<&Object>,
    ) -> Option<Dictionary> {
        match document.resolve(object?) {
            Ok(Object::Dictionary(dictionary)) => Some(dictionary),
            _ => None,
        }
    }

    /// Whether `value` names a signature dictionary that a later revision
    /// added: only such a signature makes a signature field's change LTV.
    fn is_new_signature(&self, value: Option<&Object>) -> bool {
        let Some(Object::Reference((number, _))) = value else {
            return false;
        };
        matches!(
            self.objects.get(number),
            Some((None, Some(Object::Dictionary(d)))) if d.has_type(b"Sig") || d.has_type(b"DocTimeStamp")
        )
    }

    /// An indirect array that only grew at its end (fields, annotations).
    fn appended(&self, old: &[Object], new: &[Object]) -> ChangeLevel {
        if new.len() < old.len() || new[..old.len()] != *old {
            return ChangeLevel::Other;
        }
        new[old.len()..]
            .iter()
            .map(|item| self.item_level(item))
            .max()
            .unwrap_or(ChangeLevel::None)
    }

    /// The level of the items of `array` (direct or indirect) not in `before`.
    fn array_items_level(&self, array: &Object, before: &[Object]) -> ChangeLevel {
        let after = self.resolve_array(self.latest, array);
        if after.len() < before.len() || after[..before.len()] != *before {
            return ChangeLevel::Other;
        }
        after[before.len()..]
            .iter()
            .map(|item| self.item_level(item))
            .max()
            .unwrap_or(ChangeLevel::None)
    }

    /// A field or annotation added to a list.
    fn item_level(&self, item: &Object) -> ChangeLevel {
        match self.latest.resolve(item) {
            Ok(Object::Dictionary(item))
                if is_annotation(&item) || item.has(b"FT") || item.has(b"Kids") =>
            {
                self.annotation_level(&item)
            }
            _ => ChangeLevel::Other,
        }
    }

    /// A signature widget whose field carries a signature added later is
    /// LTV-level; any other widget — an empty signature field among them,
    /// whose appearance can cover the page ("sneaky signature", Mainka et
    /// al. 2021) — is form filling; other annotations are annotations.
    fn annotation_level(&self, annotation: &Dictionary) -> ChangeLevel {
        let parent = annotation
            .get(b"Parent")
            .ok()
            .and_then(|p| self.latest.resolve(p).ok())
            .and_then(|p| p.as_dict().ok().cloned());
        let value = annotation
            .get(b"V")
            .ok()
            .or_else(|| parent.as_ref().and_then(|p| p.get(b"V").ok()));
        let signed = self.is_new_signature(value);
        let field_type = annotation
            .get(b"FT")
            .ok()
            .and_then(|t| t.as_name().ok())
            .map(<[u8]>::to_vec)
            .or_else(|| {
                let parent = self.latest.resolve(annotation.get(b"Parent").ok()?).ok()?;
                parent
                    .as_dict()
                    .ok()?
                    .get(b"FT")
                    .ok()?
                    .as_name()
                    .ok()
                    .map(<[u8]>::to_vec)
            });
        match field_type.as_deref() {
            Some(b"Sig") if signed => ChangeLevel::Ltv,
            Some(_) => ChangeLevel::FormFilling,
            None if annotation
                .get(b"Subtype")
                .ok()
                .and_then(|s| s.as_name().ok())
                == Some(b"Widget") =>
            {
                ChangeLevel::FormFilling
            }
            None => ChangeLevel::Annotations,
        }
    }

    fn resolve_array(&self, document: &LazyDocument<'_>, array: &Object) -> Vec<Object> {
        match document.resolve(array) {
            Ok(Object::Array(items)) => items,
            _ => Vec::new(),
        }
    }
}

/// An XMP metadata stream (ISO 32000-2 §14.3.2).
fn is_metadata(object: Option<&Object>) -> bool {
    matches!(object, Some(Object::Stream(stream)) if stream.dict.has_type(b"Metadata"))
}

fn is_annotation(dictionary: &Dictionary) -> bool {
    dictionary.has_type(b"Annot") || (dictionary.has(b"Subtype") && dictionary.has(b"Rect"))
}

/// Keys whose values differ between `old` and `new`, or that only one has.
fn differing_keys(old: &Dictionary, new: &Dictionary) -> Vec<Vec<u8>> {
    let mut keys: Vec<Vec<u8>> = new
        .iter()
        .filter(|(key, value)| old.get(key).ok() != Some(*value))
        .map(|(key, _)| key.clone())
        .collect();
    keys.extend(
        old.iter()
            .filter(|(key, _)| !new.has(key))
            .map(|(key, _)| key.clone()),
    );
    keys
}

/// Object numbers referenced anywhere inside `object`.
fn collect_references(object: &Object, into: &mut Vec<u32>, depth: usize) {
    if depth > 64 {
        return;
    }
    match object {
        Object::Reference((number, _)) => into.push(*number),
        Object::Array(items) => items
            .iter()
            .for_each(|i| collect_references(i, into, depth + 1)),
        Object::Dictionary(d) => d
            .iter()
            .for_each(|(_, v)| collect_references(v, into, depth + 1)),
        Object::Stream(s) => s
            .dict
            .iter()
            .for_each(|(_, v)| collect_references(v, into, depth + 1)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revision_ends_are_found_after_each_eof_marker_and_its_newline() {
        let bytes = b"%PDF-1.7\n...%%EOF\nmore%%EOF\r\n";
        assert_eq!(revision_ends(bytes), vec![18, bytes.len()]);
    }

    /// The byte-at-a-time search the block scan replaces.
    fn revision_ends_one_byte_at_a_time(bytes: &[u8]) -> Vec<usize> {
        let mut ends = Vec::new();
        let mut from = 0;
        while let Some(found) = bytes
            .get(from..)
            .and_then(|rest| rest.windows(MARKER.len()).position(|w| w == MARKER))
        {
            let end = past_end_of_line(bytes, from + found + MARKER.len());
            ends.push(end);
            from = end;
        }
        ends
    }

    #[test]
    fn the_block_scan_finds_the_markers_a_byte_scan_finds_wherever_they_fall() {
        let mut state = 0x9e37_79b9_u32;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state
        };
        let pieces: [&[u8]; 8] = [
            b"%", b"%%", b"%%EOF", b"%%%EOF", b"\r\n", b"EOF", b"x", b"%%EO",
        ];
        for _ in 0..3_000 {
            let mut bytes = Vec::new();
            while bytes.len() < (next() % 160) as usize {
                match next() % 4 {
                    0 => bytes.extend_from_slice(pieces[(next() % 8) as usize]),
                    _ => bytes.extend(std::iter::repeat_n(b'a', (next() % 40) as usize)),
                }
            }
            let expected = revision_ends_one_byte_at_a_time(&bytes);
            assert_eq!(revision_ends(&bytes), expected, "{bytes:?}");
            assert_eq!(
                last_revision_end(&bytes),
                expected.last().copied(),
                "{bytes:?}"
            );
        }
    }
}
