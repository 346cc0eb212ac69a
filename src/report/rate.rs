//! Exact rates and the threshold they are held to.
//!
//! Auditors compare units on rates computed from exact counts (DOMAIN.md,
//! "What auditors measure"), so a rate stays a fraction of two counts: it is
//! compared by cross-multiplication and rounded to one decimal only when shown,
//! with integer arithmetic, so no unit moves across a threshold or a rank
//! because of floating point.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use serde::ser::{Serialize, SerializeStruct, Serializer};

use super::ReportError;

/// A share of documents, `numerator / denominator`, with a denominator above 0.
///
/// A period with no documents has no rate at all (`Option<Rate>` is `None`),
/// rather than 0% or 100%. Equality and order are those of the fractions'
/// values: 1/2 equals 2/4.
#[derive(Debug, Clone, Copy)]
pub struct Rate {
    numerator: u64,
    denominator: u64,
}

impl Rate {
    /// The rate `numerator / denominator`; `None` when `denominator` is 0.
    pub fn new(numerator: u64, denominator: u64) -> Option<Self> {
        (denominator > 0).then_some(Self {
            numerator,
            denominator,
        })
    }

    /// The counted documents.
    pub fn numerator(self) -> u64 {
        self.numerator
    }

    /// The documents counted against (never 0).
    pub fn denominator(self) -> u64 {
        self.denominator
    }

    /// The rate in tenths of a percent, rounded half up: 2/3 → 667,
    /// 1/8 → 125, 9995/10000 → 1000.
    pub fn tenths_of_percent(self) -> u128 {
        // floor(n·1000/d + 1/2) = floor((2·n·1000 + d) / 2d); u128 holds it
        // for any u64 counts.
        let numerator = u128::from(self.numerator);
        let denominator = u128::from(self.denominator);
        (2 * numerator * 1000 + denominator) / (2 * denominator)
    }

    /// The percentage to one decimal, without the sign: "97.3".
    pub fn percent_text(self) -> String {
        tenths_text(self.tenths_of_percent())
    }

    /// Whether the exact rate is below `threshold`. A rate of 89.96% is
    /// below 90.0% although it is shown rounded as "90.0%".
    pub fn is_below(self, threshold: Threshold) -> bool {
        u128::from(self.numerator) * 1000
            < u128::from(threshold.tenths()) * u128::from(self.denominator)
    }
}

impl PartialEq for Rate {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Rate {}

impl PartialOrd for Rate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Rate {
    fn cmp(&self, other: &Self) -> Ordering {
        // a/b ⋚ c/d ⇔ a·d ⋚ c·b, as both denominators are positive.
        let left = u128::from(self.numerator) * u128::from(other.denominator);
        let right = u128::from(other.numerator) * u128::from(self.denominator);
        left.cmp(&right)
    }
}

/// "97.3%".
impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}%", self.percent_text())
    }
}

/// `{ "numerator": 973, "denominator": 1000, "percent": "97.3" }`.
impl Serialize for Rate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut rate = serializer.serialize_struct("Rate", 3)?;
        rate.serialize_field("numerator", &self.numerator)?;
        rate.serialize_field("denominator", &self.denominator)?;
        rate.serialize_field("percent", &self.percent_text())?;
        rate.end()
    }
}

/// The rate below which a unit is flagged, in tenths of a percent (900 is
/// 90.0%), from 0 to 100%.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Threshold(u32);

impl Threshold {
    /// 100.0%, the highest threshold.
    pub const MAX_TENTHS: u32 = 1000;

    /// The threshold of `tenths` tenths of a percent (0 to 1000).
    pub fn from_tenths(tenths: u32) -> Result<Self, ReportError> {
        if tenths > Self::MAX_TENTHS {
            return Err(ReportError::ThresholdAboveHundred { tenths });
        }
        Ok(Self(tenths))
    }

    /// Parses a percentage from 0 to 100 with at most one decimal, as "90",
    /// "87.5" or "100.0"; no sign, no `%`, no white space.
    pub fn parse(text: &str) -> Result<Self, ReportError> {
        let refuse = || ReportError::ThresholdText {
            text: text.to_owned(),
        };
        let (whole, tenth) = match text.split_once('.') {
            Some((whole, tenth)) => (whole, tenth),
            None => (text, "0"),
        };
        let digits = |part: &str, most: usize| {
            (1..=most).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_digit())
        };
        if !digits(whole, 3) || !digits(tenth, 1) {
            return Err(refuse());
        }
        let tenths = format!("{whole}{tenth}")
            .bytes()
            .fold(0_u32, |value, digit| value * 10 + u32::from(digit - b'0'));
        Self::from_tenths(tenths).map_err(|_| refuse())
    }

    /// The threshold in tenths of a percent.
    pub fn tenths(self) -> u32 {
        self.0
    }

    /// The percentage to one decimal, without the sign: "90.0".
    pub fn percent_text(self) -> String {
        tenths_text(u128::from(self.0))
    }
}

impl FromStr for Threshold {
    type Err = ReportError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

/// "90.0%".
impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}%", self.percent_text())
    }
}

/// `{ "tenths_of_percent": 900, "percent": "90.0" }`.
impl Serialize for Threshold {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut threshold = serializer.serialize_struct("Threshold", 2)?;
        threshold.serialize_field("tenths_of_percent", &self.0)?;
        threshold.serialize_field("percent", &self.percent_text())?;
        threshold.end()
    }
}

/// 973 → "97.3".
fn tenths_text(tenths: u128) -> String {
    format!("{}.{}", tenths / 10, tenths % 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn percent(numerator: u64, denominator: u64) -> String {
        Rate::new(numerator, denominator)
            .expect("denominator above 0")
            .to_string()
    }

    #[test]
    fn rates_are_shown_to_one_decimal_rounded_half_up() {
        assert_eq!(percent(973, 1000), "97.3%");
        assert_eq!(percent(2, 3), "66.7%");
        assert_eq!(percent(1, 3), "33.3%");
        assert_eq!(percent(1, 8), "12.5%");
        assert_eq!(percent(999, 1000), "99.9%");
        assert_eq!(percent(9995, 10000), "100.0%");
        assert_eq!(percent(9994, 10000), "99.9%");
        assert_eq!(percent(27, 64), "42.2%"); // 42.1875
        assert_eq!(percent(0, 7), "0.0%");
        assert_eq!(percent(7, 7), "100.0%");
        assert_eq!(percent(1, 2000), "0.1%"); // 0.05 exactly
        assert_eq!(percent(1, 2001), "0.0%");
    }

    #[test]
    fn the_largest_counts_neither_overflow_nor_lose_precision() {
        let rate = Rate::new(u64::MAX - 1, u64::MAX).expect("denominator above 0");
        assert_eq!(rate.percent_text(), "100.0");
        assert!(rate < Rate::new(1, 1).expect("denominator above 0"));
        assert!(rate.is_below(Threshold::from_tenths(1000).expect("in range")));
        assert_eq!(
            percent(u64::MAX, 1),
            format!("{}.0%", u128::from(u64::MAX) * 100)
        );
    }

    #[test]
    fn no_documents_means_no_rate() {
        assert_eq!(Rate::new(0, 0), None);
        assert_eq!(Rate::new(5, 0), None);
    }

    #[test]
    fn rates_compare_by_exact_value() {
        let rate = |n, d| Rate::new(n, d).expect("denominator above 0");
        assert_eq!(rate(1, 2), rate(2, 4));
        assert!(rate(2, 3) > rate(666, 1000));
        assert!(rate(9995, 10000) < rate(1, 1));
        assert_eq!(rate(9995, 10000).percent_text(), rate(1, 1).percent_text());
    }

    #[test]
    fn a_rate_is_below_the_threshold_by_its_exact_value_not_its_rounded_text() {
        let ninety = Threshold::parse("90").expect("valid");
        let rate = |n, d| Rate::new(n, d).expect("denominator above 0");
        assert!(!rate(9, 10).is_below(ninety));
        assert!(!rate(91, 100).is_below(ninety));
        assert!(rate(8996, 10000).is_below(ninety));
        assert_eq!(rate(8996, 10000).percent_text(), "90.0");
        assert!(!rate(0, 5).is_below(Threshold::parse("0").expect("valid")));
    }

    #[test]
    fn thresholds_are_percentages_with_at_most_one_decimal() {
        let tenths = |text| Threshold::parse(text).map(Threshold::tenths).ok();
        assert_eq!(tenths("90"), Some(900));
        assert_eq!(tenths("87.5"), Some(875));
        assert_eq!(tenths("0"), Some(0));
        assert_eq!(tenths("100"), Some(1000));
        assert_eq!(tenths("100.0"), Some(1000));
        assert_eq!(tenths("007.5"), Some(75));
        for refused in [
            "", "100.1", "101", "87.55", ".5", "5.", "-1", "+5", "90%", " 90", "9 0", "1e2", "abc",
            "1000", "٩٠",
        ] {
            assert!(
                matches!(
                    Threshold::parse(refused),
                    Err(ReportError::ThresholdText { .. })
                ),
                "{refused:?} was accepted"
            );
        }
        assert!(Threshold::from_tenths(1001).is_err());
    }

    #[test]
    fn thresholds_print_and_serialise_with_one_decimal() {
        let threshold = Threshold::parse("87.5").expect("valid");
        assert_eq!(threshold.to_string(), "87.5%");
        assert_eq!(
            serde_json::to_value(threshold).expect("serialises"),
            serde_json::json!({ "tenths_of_percent": 875, "percent": "87.5" })
        );
    }

    #[test]
    fn rates_serialise_as_counts_and_percent_text() {
        assert_eq!(
            serde_json::to_value(Rate::new(2, 3)).expect("serialises"),
            serde_json::json!({ "numerator": 2, "denominator": 3, "percent": "66.7" })
        );
        assert_eq!(
            serde_json::to_value(Rate::new(0, 0)).expect("serialises"),
            serde_json::Value::Null
        );
    }
}
