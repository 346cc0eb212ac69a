//! The ByteRange check (ISO 32000-2 §12.8.1): the signed bytes are the whole
//! file but this signature's own `/Contents` string — nothing more hidden in
//! the gap (signature wrapping), nothing outside the file.

/// Why a ByteRange is not sound.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ByteRangeDefect {
    /// Not exactly four integers.
    #[error("the ByteRange must hold four integers, it holds {count}")]
    Shape {
        /// How many values it holds.
        count: usize,
    },
    /// A value is negative.
    #[error("the ByteRange has a negative value")]
    Negative,
    /// The first range does not start at 0.
    #[error("the ByteRange starts at {start}, not at 0")]
    NotFromStart {
        /// The first offset.
        start: u64,
    },
    /// The ranges overlap or run backwards.
    #[error("the ByteRange's ranges overlap or run backwards")]
    Overlap,
    /// A range reaches beyond the end of the file.
    #[error("the ByteRange reaches byte {end}, beyond the file's {file_len} bytes")]
    BeyondFile {
        /// Where the second range ends.
        end: u64,
        /// The file's length.
        file_len: u64,
    },
    /// The gap is not exactly this signature's `/Contents` string.
    #[error(
        "the gap between the ranges ({gap_start}..{gap_end}) is not exactly the signature's /Contents string"
    )]
    GapIsNotContents {
        /// Start of the gap.
        gap_start: u64,
        /// End of the gap.
        gap_end: u64,
    },
}

/// The two signed ranges as offsets into the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignedRanges {
    /// `[0, first_end)`.
    pub first_end: usize,
    /// `[second_start, second_end)`.
    pub second_start: usize,
    /// End of the second range.
    pub second_end: usize,
}

/// Checks `values` against a file of `file_len` bytes whose signature
/// `/Contents` string (delimiters included) spans `contents`.
pub fn check(
    values: &[i64],
    file_len: usize,
    contents: Option<(usize, usize)>,
) -> Result<SignedRanges, ByteRangeDefect> {
    let [a, b, c, d] = <[i64; 4]>::try_from(values).map_err(|_| ByteRangeDefect::Shape {
        count: values.len(),
    })?;
    let [a, b, c, d] = [a, b, c, d].map(u64::try_from);
    let (Ok(a), Ok(b), Ok(c), Ok(d)) = (a, b, c, d) else {
        return Err(ByteRangeDefect::Negative);
    };
    if a != 0 {
        return Err(ByteRangeDefect::NotFromStart { start: a });
    }
    if c < b {
        return Err(ByteRangeDefect::Overlap);
    }
    let end = c.checked_add(d).ok_or(ByteRangeDefect::Overlap)?;
    let file_len = file_len as u64;
    if end > file_len {
        return Err(ByteRangeDefect::BeyondFile { end, file_len });
    }
    let gap_is_contents =
        contents.is_some_and(|(start, stop)| start as u64 == b && stop as u64 == c);
    if !gap_is_contents {
        return Err(ByteRangeDefect::GapIsNotContents {
            gap_start: b,
            gap_end: c,
        });
    }
    // All values are now ≤ file_len, which is a usize.
    Ok(SignedRanges {
        first_end: b as usize,
        second_start: c as usize,
        second_end: end as usize,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_byte_range_around_exactly_the_contents_is_sound() {
        let ranges = check(&[0, 100, 200, 50], 250, Some((100, 200))).expect("sound");
        assert_eq!(ranges.second_end, 250);
    }

    #[test]
    fn a_gap_larger_than_the_contents_is_signature_wrapping() {
        let err = check(&[0, 90, 200, 50], 250, Some((100, 200))).expect_err("wrapping");
        assert!(matches!(err, ByteRangeDefect::GapIsNotContents { .. }));
    }

    #[test]
    fn ranges_beyond_the_file_or_not_from_zero_or_negative_are_refused() {
        assert!(matches!(
            check(&[0, 100, 200, 51], 250, Some((100, 200))),
            Err(ByteRangeDefect::BeyondFile { .. })
        ));
        assert!(matches!(
            check(&[1, 100, 200, 50], 250, Some((100, 200))),
            Err(ByteRangeDefect::NotFromStart { .. })
        ));
        assert!(matches!(
            check(&[0, -1, 200, 50], 250, Some((100, 200))),
            Err(ByteRangeDefect::Negative)
        ));
        assert!(matches!(
            check(&[0, 100, 200], 250, Some((100, 200))),
            Err(ByteRangeDefect::Shape { count: 3 })
        ));
        assert!(matches!(
            check(&[0, 200, 100, 50], 250, Some((100, 200))),
            Err(ByteRangeDefect::Overlap)
        ));
    }
}
