//! Identifiers parsed at the edge: a unit's code and a leader's slug.
//!
//! Both end up in file names under the data directory (`units/<code>/leaders/<id>.pem`), so
//! their alphabets exclude `/`, `..` and anything a shell or a file system would treat
//! specially; holding one of these types is the proof.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::UnitsError;

/// The electronic-document exchange code of a unit, `AAA.BB.CC.DDD`.
///
/// The shape follows the national code list for document exchange (QCVN 102:2016/BTTTT):
/// three groups of digits (3, 2 and 2 digits) then the province-level group, an upper-case
/// letter and two digits — e.g. `000.00.01.H23`. The code is kept exactly as written: no case
/// folding, no trimming.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UnitCode(String);

/// What a position of a unit code must hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeCharacter {
    /// An ASCII digit `0`–`9`.
    Digit,
    /// The separator `.`.
    Dot,
    /// An upper-case ASCII letter `A`–`Z`.
    UppercaseLetter,
}

impl fmt::Display for CodeCharacter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Digit => "a digit",
            Self::Dot => "'.'",
            Self::UppercaseLetter => "an upper-case letter",
        })
    }
}

/// The shape of a unit code, position by position: `000.00.00.H23`.
const UNIT_CODE_SHAPE: [CodeCharacter; 13] = {
    use CodeCharacter::{Digit as D, Dot, UppercaseLetter as L};
    [D, D, D, Dot, D, D, Dot, D, D, Dot, L, D, D]
};

impl UnitCode {
    /// Parses a unit code of the form `000.00.00.H23`.
    pub fn parse(input: &str) -> Result<Self, UnitsError> {
        let length = input.chars().count();
        if length != UNIT_CODE_SHAPE.len() {
            return Err(UnitsError::UnitCodeLength {
                code: input.to_owned(),
                length,
            });
        }
        for (index, (found, expected)) in input.chars().zip(UNIT_CODE_SHAPE).enumerate() {
            let fits = match expected {
                CodeCharacter::Digit => found.is_ascii_digit(),
                CodeCharacter::Dot => found == '.',
                CodeCharacter::UppercaseLetter => found.is_ascii_uppercase(),
            };
            if !fits {
                return Err(UnitsError::UnitCodeCharacter {
                    code: input.to_owned(),
                    position: index + 1,
                    found,
                    expected,
                });
            }
        }
        Ok(Self(input.to_owned()))
    }

    /// A code from a table this module vouches for; its tests parse every such code.
    pub(super) fn trusted(code: &'static str) -> Self {
        Self(code.to_owned())
    }

    /// The code as written, e.g. `000.00.01.H23`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UnitCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for UnitCode {
    type Err = UnitsError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        Self::parse(input)
    }
}

impl TryFrom<String> for UnitCode {
    type Error = UnitsError;

    fn try_from(input: String) -> Result<Self, Self::Error> {
        Self::parse(&input)
    }
}

impl From<UnitCode> for String {
    fn from(code: UnitCode) -> Self {
        code.0
    }
}

impl AsRef<str> for UnitCode {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A leader's identifier within a unit: a lower-case ASCII slug `[a-z0-9-]{1,64}`,
/// conventionally the full name without diacritics (`nguyen-van-an`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LeaderId(String);

impl LeaderId {
    /// The longest identifier accepted, in characters.
    pub const MAX_LENGTH: usize = 64;

    /// Parses a leader identifier.
    pub fn parse(input: &str) -> Result<Self, UnitsError> {
        let length = input.chars().count();
        if length == 0 || length > Self::MAX_LENGTH {
            return Err(UnitsError::LeaderIdLength {
                id: input.to_owned(),
                length,
            });
        }
        let stray = input
            .chars()
            .enumerate()
            .find(|(_, c)| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'));
        if let Some((index, found)) = stray {
            return Err(UnitsError::LeaderIdCharacter {
                id: input.to_owned(),
                position: index + 1,
                found,
            });
        }
        Ok(Self(input.to_owned()))
    }

    /// An id from a table this module vouches for; its tests parse every such id.
    pub(super) fn trusted(id: &'static str) -> Self {
        Self(id.to_owned())
    }

    /// The identifier as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LeaderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for LeaderId {
    type Err = UnitsError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        Self::parse(input)
    }
}

impl TryFrom<String> for LeaderId {
    type Error = UnitsError;

    fn try_from(input: String) -> Result<Self, Self::Error> {
        Self::parse(&input)
    }
}

impl From<LeaderId> for String {
    fn from(id: LeaderId) -> Self {
        id.0
    }
}

impl AsRef<str> for LeaderId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_formed_unit_codes_are_accepted_as_written() {
        for code in [
            "000.00.00.H23",
            "000.00.31.H23",
            "000.01.31.H23",
            "123.45.67.Z99",
        ] {
            let parsed = UnitCode::parse(code).expect("parse");
            assert_eq!(parsed.as_str(), code);
            assert_eq!(parsed.to_string(), code);
        }
    }

    #[test]
    fn unit_code_of_the_wrong_length_is_refused_with_its_length() {
        let error = UnitCode::parse("000.00.01.H2").expect_err("parse fails");
        assert!(matches!(
            error,
            UnitsError::UnitCodeLength { length: 12, .. }
        ));
        assert!(matches!(
            UnitCode::parse("").expect_err("parse fails"),
            UnitsError::UnitCodeLength { length: 0, .. }
        ));
        assert!(matches!(
            UnitCode::parse(" 000.00.01.H23").expect_err("parse fails"),
            UnitsError::UnitCodeLength { length: 14, .. }
        ));
    }

    #[test]
    fn unit_code_with_a_misplaced_character_names_the_position_and_what_was_expected() {
        let cases = [
            ("000.0a.01.H23", 6, 'a', CodeCharacter::Digit),
            ("000-00.01.H23", 4, '-', CodeCharacter::Dot),
            ("000.00.01.h23", 11, 'h', CodeCharacter::UppercaseLetter),
            ("000.00.01.223", 11, '2', CodeCharacter::UppercaseLetter),
            ("000.00.01.HH3", 12, 'H', CodeCharacter::Digit),
            ("000.00.01.Ư23", 11, 'Ư', CodeCharacter::UppercaseLetter),
        ];
        for (code, position, found, expected) in cases {
            match UnitCode::parse(code).expect_err("parse fails") {
                UnitsError::UnitCodeCharacter {
                    position: p,
                    found: f,
                    expected: e,
                    ..
                } => assert_eq!((p, f, e), (position, found, expected), "{code}"),
                other => panic!("{code}: unexpected {other:?}"),
            }
        }
        let message = UnitCode::parse("000.0a.01.H23")
            .expect_err("parse fails")
            .to_string();
        assert!(message.contains("000.00.00.H23"), "{message}");
    }

    #[test]
    fn leader_ids_are_lower_case_ascii_slugs() {
        assert_eq!(
            LeaderId::parse("nguyen-van-an").expect("parse").as_str(),
            "nguyen-van-an"
        );
        assert!(LeaderId::parse("a").is_ok());
        assert!(LeaderId::parse(&"x".repeat(64)).is_ok());
        assert!(matches!(
            LeaderId::parse("").expect_err("parse fails"),
            UnitsError::LeaderIdLength { length: 0, .. }
        ));
        assert!(matches!(
            LeaderId::parse(&"x".repeat(65)).expect_err("parse fails"),
            UnitsError::LeaderIdLength { length: 65, .. }
        ));
        for (id, position, found) in [
            ("Nguyen-van-an", 1, 'N'),
            ("nguyễn-van-an", 5, 'ễ'),
            ("../root", 1, '.'),
            ("nguyen van an", 7, ' '),
        ] {
            match LeaderId::parse(id).expect_err("parse fails") {
                UnitsError::LeaderIdCharacter {
                    position: p,
                    found: f,
                    ..
                } => assert_eq!((p, f), (position, found), "{id}"),
                other => panic!("{id}: unexpected {other:?}"),
            }
        }
    }

    #[test]
    fn identifiers_serialise_as_plain_strings_and_are_checked_when_read() {
        let code = UnitCode::parse("000.00.01.H23").expect("parse");
        assert_eq!(
            serde_json::to_string(&code).expect("to string"),
            "\"000.00.01.H23\""
        );
        let back: UnitCode = serde_json::from_str("\"000.00.01.H23\"").expect("from str");
        assert_eq!(back, code);
        assert!(serde_json::from_str::<UnitCode>("\"000.00.01\"").is_err());
        assert!(serde_json::from_str::<LeaderId>("\"Bad Id\"").is_err());
    }
}
