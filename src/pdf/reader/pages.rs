//! The page tree (ISO 32000-2 §7.7.3): page N is found by descending from
//! the root and skipping whole subtrees by their `/Count`, so only the
//! nodes on one path and their siblings are read.

use super::{LazyDocument, RawDictionary};
use crate::pdf::PdfError;
use lopdf::{Object, ObjectId};

/// Deepest page tree followed; balanced trees of millions of pages stay
/// far below it.
const MAX_PAGE_TREE_DEPTH: usize = 64;

const MALFORMED: PdfError = PdfError::Malformed { what: "page tree" };

impl<'a> LazyDocument<'a> {
    /// Pages in the document: the root node's `/Count` (§7.7.3.2 Table 30).
    #[cfg_attr(
        not(test),
        expect(
            dead_code,
            reason = "reader API: signing asks for one page, page_of() reports the count itself"
        )
    )]
    pub(crate) fn page_count(&self) -> Result<usize, PdfError> {
        let (_, root) = self.page_tree_root(&self.catalog()?)?;
        self.count(&root)
    }

    /// The id of the 1-based page `one_based`.
    #[cfg_attr(
        not(test),
        expect(
            dead_code,
            reason = "reader API: signing has read the catalog already and calls page_of()"
        )
    )]
    pub(crate) fn page(&self, one_based: u32) -> Result<ObjectId, PdfError> {
        self.page_of(&self.catalog()?, one_based).map(|(id, _)| id)
    }

    /// The 1-based page `one_based` of the document whose catalog is
    /// `catalog`: its id and its dictionary, each read once.
    pub(crate) fn page_of(
        &self,
        catalog: &RawDictionary,
        one_based: u32,
    ) -> Result<(ObjectId, RawDictionary<'a>), PdfError> {
        let (root_id, mut node) = self.page_tree_root(catalog)?;
        let pages = self.count(&node)?;
        let Some(mut remaining) = usize::try_from(one_based)
            .ok()
            .filter(|n| (1..=pages).contains(n))
        else {
            return Err(PdfError::NoSuchPage {
                requested: one_based,
                pages,
            });
        };
        // Nodes on the path down below the root: a kid naming one of them,
        // or the root, is a cycle. The path is at most MAX_PAGE_TREE_DEPTH
        // long, so a list does (empty, unallocated, for a flat tree).
        let mut path = Vec::new();
        'descend: for _ in 0..MAX_PAGE_TREE_DEPTH {
            let Object::Array(kids) = self.resolved(node.get(b"Kids")?)? else {
                return Err(MALFORMED);
            };
            // Kids shall be indirect references; others are skipped, as lopdf did.
            for kid_id in kids.iter().filter_map(|kid| kid.as_reference().ok()) {
                let Some(kid) = self.dictionary(kid_id)? else {
                    return Err(MALFORMED);
                };
                if is_intermediate(&kid)? {
                    let count = self.count(&kid)?;
                    if remaining <= count {
                        if kid_id == root_id || path.contains(&kid_id) {
                            return Err(MALFORMED);
                        }
                        path.push(kid_id);
                        node = kid;
                        continue 'descend;
                    }
                    remaining -= count;
                } else if remaining == 1 {
                    return Ok((kid_id, kid));
                } else {
                    remaining -= 1;
                }
            }
            // The kids hold fewer pages than the node's /Count claims.
            return Err(MALFORMED);
        }
        Err(MALFORMED)
    }

    /// The catalog (§7.7.2), named by the trailer's `/Root`.
    fn catalog(&self) -> Result<RawDictionary<'a>, PdfError> {
        let root = self
            .trailer()
            .get(b"Root")
            .and_then(Object::as_reference)
            .map_err(|_| PdfError::Malformed {
                what: "trailer /Root",
            })?;
        self.dictionary(root)?
            .ok_or(PdfError::Malformed { what: "catalog" })
    }

    /// The catalog's `/Pages` node (§7.7.2), which shall be indirect.
    fn page_tree_root(
        &self,
        catalog: &RawDictionary,
    ) -> Result<(ObjectId, RawDictionary<'a>), PdfError> {
        let pages = match catalog.get(b"Pages")? {
            Some(Object::Reference(pages)) => pages,
            _ => {
                return Err(PdfError::Malformed {
                    what: "catalog /Pages",
                });
            }
        };
        match self.dictionary(pages)? {
            Some(node) => Ok((pages, node)),
            None => Err(MALFORMED),
        }
    }

    /// A node's `/Count`: the leaves beneath it.
    fn count(&self, node: &RawDictionary) -> Result<usize, PdfError> {
        match self.resolved(node.get(b"Count")?)? {
            Object::Integer(count) => usize::try_from(count).map_err(|_| MALFORMED),
            _ => Err(MALFORMED),
        }
    }

    /// A dictionary's value as [`resolve`](Self::resolve) gives it, null
    /// when absent.
    fn resolved(&self, value: Option<Object>) -> Result<Object, PdfError> {
        match value {
            Some(reference @ Object::Reference(_)) => self.resolve(&reference),
            Some(direct) => Ok(direct),
            None => Ok(Object::Null),
        }
    }
}

/// `/Type /Pages` marks an intermediate node and `/Type /Page` a leaf
/// (§7.7.3.2–3); without a type, a node with `/Kids` is taken as intermediate.
fn is_intermediate(node: &RawDictionary) -> Result<bool, PdfError> {
    Ok(match node.get(b"Type")? {
        Some(Object::Name(name)) if name == b"Pages" => true,
        Some(Object::Name(name)) if name == b"Page" => false,
        _ => node.has(b"Kids"),
    })
}

#[cfg(test)]
mod tests {
    use super::super::testing::{PdfBuilder, TWO_PAGES, classic_two_pages};
    use super::*;

    fn pdf_offset(bytes: &[u8], needle: &[u8]) -> usize {
        bytes
            .windows(needle.len())
            .position(|w| w == needle)
            .unwrap()
    }

    #[test]
    fn pages_are_found_by_count_in_a_nested_tree_and_cycles_are_refused() {
        let mut pdf = PdfBuilder::new();
        pdf.object(1, TWO_PAGES[0].1);
        pdf.object(2, "<< /Type /Pages /Kids [5 0 R 6 0 R] /Count 3 >>");
        pdf.object(5, "<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >>");
        pdf.object(3, "<< /Type /Page >>");
        pdf.object(4, "<< /Type /Page >>");
        pdf.object(6, "<< /Type /Pages /Kids [7 0 R 2 0 R] /Count 2 >>");
        pdf.object(7, "<< /Type /Page >>");
        let xref = pdf.table(&[(0, 8)], "<< /Size 8 /Root 1 0 R >>");
        let bytes = pdf.finish(xref);
        let document = LazyDocument::parse(&bytes).unwrap();
        assert_eq!(document.page(3).unwrap(), (7, 0));
        assert_eq!(document.page(2).unwrap(), (4, 0));
        // Page 4 lies, per node 6's /Count, under node 2: the root again.
        assert!(matches!(
            document.page(4),
            Err(PdfError::NoSuchPage {
                requested: 4,
                pages: 3
            })
        ));
        let mut looping = bytes.clone();
        let at = pdf_offset(&looping, b"/Count 3");
        looping[at..at + 8].copy_from_slice(b"/Count 4");
        let document = LazyDocument::parse(&looping).unwrap();
        assert!(matches!(
            document.page(4),
            Err(PdfError::Malformed { what: "page tree" })
        ));
    }

    #[test]
    fn page_zero_and_pages_past_the_count_do_not_exist() {
        let bytes = classic_two_pages();
        let document = LazyDocument::parse(&bytes).unwrap();
        assert!(matches!(
            document.page(0),
            Err(PdfError::NoSuchPage {
                requested: 0,
                pages: 2
            })
        ));
        assert!(matches!(
            document.page(3),
            Err(PdfError::NoSuchPage {
                requested: 3,
                pages: 2
            })
        ));
    }
}
