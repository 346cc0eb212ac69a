//! A lazy reader for the input PDF. Signing appends an incremental update
//! (ISO 32000-2 §7.5.6), which needs only the trailer, the cross-reference
//! data, the catalog, one page, the AcroForm and its fields — so the reader
//! reads the cross-reference chain up front and any object only when asked,
//! and signing costs the same whatever the page count.
//!
//! Objects come back as `lopdf::Object`: lopdf stays the object model and
//! the writer; this module only replaces its whole-file loader. Damaged
//! files are refused, never repaired by scanning: an update's offsets must
//! agree with the cross-reference data the file already has.

mod dictionary;
mod filters;
mod inspect;
mod objects;
mod pages;
mod syntax;
#[cfg(test)]
mod testing;
#[cfg(test)]
mod tests;
mod xref;

use super::PdfError;
pub(crate) use dictionary::RawDictionary;
pub(crate) use inspect::Keys;
use lopdf::{Dictionary, Object, ObjectId};
use objects::ObjectStream;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use xref::{CrossReference, Entry};

/// Bytes of parsing and decoding one document may cost in all; signing a
/// sound file of any size uses a tiny fraction of it.
const MAX_WORK: usize = 1 << 30;
/// How deeply resolving one object may resolve others (a stream's indirect
/// `/Length`, held in an object stream whose own `/Length` is indirect…).
const MAX_RESOLUTION_DEPTH: u32 = 8;
/// Indirect objects whose value is itself a reference, followed in a row.
const MAX_REFERENCE_CHAIN: usize = 8;

/// The work a hostile file may still cause, in bytes parsed or decoded
/// (after webpki's `Budget`).
#[derive(Debug)]
pub(super) struct Budget {
    remaining: Cell<usize>,
}

impl Default for Budget {
    fn default() -> Self {
        Self {
            remaining: Cell::new(MAX_WORK),
        }
    }
}

impl Budget {
    /// Spends `bytes` of work, or fails once the budget is gone.
    pub(super) fn charge(&self, bytes: usize) -> Result<(), PdfError> {
        let left = self
            .remaining
            .get()
            .checked_sub(bytes)
            .ok_or_else(|| PdfError::Unreadable {
                reason: format!(
                    "reading it would take more than {MAX_WORK} bytes of parsing and decoding"
                ),
            })?;
        self.remaining.set(left);
        Ok(())
    }
}

/// A PDF whose objects are read on demand from its bytes.
pub(crate) struct LazyDocument<'a> {
    bytes: &'a [u8],
    xref: CrossReference<'a>,
    budget: Budget,
    /// Decoded object streams, so that objects sharing one decode it once.
    object_streams: RefCell<HashMap<u32, Rc<ObjectStream>>>,
    depth: Cell<u32>,
}

impl<'a> LazyDocument<'a> {
    /// Reads the cross-reference chain and the trailer, nothing else.
    /// Encrypted files are refused here (ISO 32000-2 §7.6: `/Encrypt` in the trailer).
    pub(crate) fn parse(bytes: &'a [u8]) -> Result<Self, PdfError> {
        let budget = Budget::default();
        let xref = xref::read(bytes, &budget)?;
        if xref.trailer.has(b"Encrypt") {
            return Err(PdfError::Encrypted);
        }
        Ok(Self {
            bytes,
            xref,
            budget,
            object_streams: RefCell::new(HashMap::new()),
            depth: Cell::new(0),
        })
    }

    /// The newest trailer dictionary (§7.5.5), or the newest cross-reference
    /// stream's dictionary (§7.5.8.2).
    pub(crate) fn trailer(&self) -> &Dictionary {
        &self.xref.trailer
    }

    /// The offset the last `startxref` names: an update's `/Prev`.
    pub(crate) fn last_xref_offset(&self) -> usize {
        self.xref.last_offset
    }

    /// Whether the last section is a cross-reference stream.
    pub(crate) fn last_xref_is_stream(&self) -> bool {
        self.xref.last_is_stream
    }

    /// The trailer's `/Size`: one more than the highest object number.
    pub(crate) fn declared_size(&self) -> Option<u32> {
        let size = self.trailer().get(b"Size").and_then(Object::as_i64).ok()?;
        u32::try_from(size).ok()
    }

    /// The highest object number the cross-reference data says is in use.
    pub(crate) fn max_object_number(&self) -> u32 {
        self.xref.max_in_use()
    }

    /// The object `id`. A reference to a free or missing object, or with a
    /// generation other than the current one, is the null object (§7.3.10).
    pub(crate) fn object(&self, id: ObjectId) -> Result<Object, PdfError> {
        let _depth = DepthGuard::enter(&self.depth)?;
        let (number, generation) = id;
        match self.xref.entry(number) {
            None | Some(Entry::Free) => Ok(Object::Null),
            Some(Entry::InUse {
                generation: current,
                ..
            }) if current != generation => Ok(Object::Null),
            Some(Entry::InUse { offset, .. }) => {
                let length = |length_id| self.object(length_id);
                objects::indirect_object(self.bytes, offset, Some(id), &length, &self.budget)
                    .map(|(_, object)| object)
            }
            // Objects in object streams have generation 0 (§7.5.7).
            Some(Entry::Compressed { .. }) if generation != 0 => Ok(Object::Null),
            Some(Entry::Compressed { stream, index }) => {
                self.object_stream(stream)?.object(index, number)
            }
        }
    }

    /// `object` itself if direct, else what its reference (chain) leads to.
    pub(crate) fn resolve(&self, object: &Object) -> Result<Object, PdfError> {
        let mut current = match object {
            Object::Reference(id) => self.object(*id)?,
            direct => return Ok(direct.clone()),
        };
        for _ in 0..MAX_REFERENCE_CHAIN {
            match current {
                Object::Reference(id) => current = self.object(id)?,
                resolved => return Ok(resolved),
            }
        }
        Err(PdfError::Malformed {
            what: "chain of references",
        })
    }

    /// The decoded object stream `number`, from the cache or the file.
    fn object_stream(&self, number: u32) -> Result<Rc<ObjectStream>, PdfError> {
        if let Some(cached) = self.object_streams.borrow().get(&number) {
            return Ok(Rc::clone(cached));
        }
        // An object stream is itself an uncompressed object (§7.5.7).
        let Some(Entry::InUse { generation, .. }) = self.xref.entry(number) else {
            return Err(PdfError::DamagedCrossReference);
        };
        let stream = match self.object((number, generation))? {
            Object::Stream(stream) if stream.dict.has_type(b"ObjStm") => stream,
            _ => return Err(PdfError::DamagedCrossReference),
        };
        let data = filters::decode(&stream, &self.budget)?;
        let parsed = Rc::new(ObjectStream::new(&stream, data)?);
        self.object_streams
            .borrow_mut()
            .insert(number, Rc::clone(&parsed));
        Ok(parsed)
    }
}

/// Counts one level of nested resolution for as long as it lives.
struct DepthGuard<'d>(&'d Cell<u32>);

impl<'d> DepthGuard<'d> {
    fn enter(depth: &'d Cell<u32>) -> Result<Self, PdfError> {
        if depth.get() >= MAX_RESOLUTION_DEPTH {
            return Err(PdfError::Malformed {
                what: "nesting of indirect stream lengths",
            });
        }
        depth.set(depth.get() + 1);
        Ok(Self(depth))
    }
}

impl Drop for DepthGuard<'_> {
    fn drop(&mut self) {
        self.0.set(self.0.get().saturating_sub(1));
    }
}
