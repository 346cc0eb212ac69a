//! The unit registry: the province's units (People's Committee office, departments,
//! districts, communes), their document-exchange codes and the leaders who sign for them.
//!
//! Codes and leader ids are parsed into [`UnitCode`] and [`LeaderId`] at the edge; a
//! [`UnitRegistry`] is checked for consistency whenever it is built or loaded.
//! [`demo_province`] gives a stable sample province for development and tests.

mod demo;
mod identifiers;
mod registry;

use std::path::PathBuf;

pub use demo::demo_province;
pub use identifiers::{CodeCharacter, LeaderId, UnitCode};
pub use registry::{Leader, Unit, UnitGroup, UnitLevel, UnitRegistry};

/// Why a unit code, leader id or registry was refused.
#[derive(Debug, thiserror::Error)]
pub enum UnitsError {
    /// A unit code does not have the 13 characters of `000.00.00.H23`.
    #[error("unit code {code:?} has {length} characters; a unit code looks like 000.00.00.H23")]
    UnitCodeLength {
        /// The input as given.
        code: String,
        /// Its length in characters.
        length: usize,
    },
    /// A unit code has the wrong character at some position.
    #[error(
        "unit code {code:?}: character {position} is {found:?}, expected {expected}; \
         a unit code looks like 000.00.00.H23"
    )]
    UnitCodeCharacter {
        /// The input as given.
        code: String,
        /// Position of the offending character, counting from 1.
        position: usize,
        /// The character found there.
        found: char,
        /// What the position must hold.
        expected: CodeCharacter,
    },
    /// A leader id is empty or longer than [`LeaderId::MAX_LENGTH`].
    #[error("leader id {id:?} has {length} characters; it needs 1 to 64")]
    LeaderIdLength {
        /// The input as given.
        id: String,
        /// Its length in characters.
        length: usize,
    },
    /// A leader id holds a character outside `[a-z0-9-]`.
    #[error(
        "leader id {id:?}: character {position} is {found:?}; only a-z, 0-9 and '-' are allowed"
    )]
    LeaderIdCharacter {
        /// The input as given.
        id: String,
        /// Position of the offending character, counting from 1.
        position: usize,
        /// The character found there.
        found: char,
    },
    /// Two units share a code.
    #[error("unit code {code} appears more than once in the registry")]
    DuplicateUnitCode {
        /// The repeated code.
        code: UnitCode,
    },
    /// Two leaders of one unit share an id.
    #[error("unit {unit} lists leader {leader} more than once")]
    DuplicateLeader {
        /// The unit.
        unit: UnitCode,
        /// The repeated leader id.
        leader: LeaderId,
    },
    /// A unit names a parent the registry does not hold.
    #[error("unit {unit} names parent {parent}, which is not in the registry")]
    UnknownParent {
        /// The child unit.
        unit: UnitCode,
        /// The missing parent.
        parent: UnitCode,
    },
    /// A unit's parent is not at a higher administrative level.
    #[error(
        "unit {unit} ({level:?} level) has parent {parent} at {parent_level:?} level, which is not above it"
    )]
    ParentNotAbove {
        /// The child unit.
        unit: UnitCode,
        /// The child's level.
        level: UnitLevel,
        /// The parent unit.
        parent: UnitCode,
        /// The parent's level.
        parent_level: UnitLevel,
    },
    /// A unit's group belongs to another level.
    #[error("unit {unit} is in group {group:?}, which does not sit at the {level:?} level")]
    GroupLevelMismatch {
        /// The unit.
        unit: UnitCode,
        /// Its group.
        group: UnitGroup,
        /// Its declared level.
        level: UnitLevel,
    },
    /// A unit or leader name is empty or blank.
    #[error("unit {unit} has an empty unit or leader name")]
    EmptyName {
        /// The unit (for a leader's name, the leader's unit).
        unit: UnitCode,
    },
    /// A name holds a control character or a combining diacritical mark (text stored
    /// decomposed rather than in NFC).
    #[error(
        "unit {unit}: name {name:?} contains {character:?} (U+{code_point:04X}); names must be \
         printable, precomposed (NFC) text",
        code_point = u32::from(*.character)
    )]
    UnsuitableNameCharacter {
        /// The unit (for a leader's name, the leader's unit).
        unit: UnitCode,
        /// The refused name.
        name: String,
        /// The offending character.
        character: char,
    },
    /// Reading or writing a registry file failed.
    #[error("cannot read or write unit registry {path}")]
    Io {
        /// The registry file.
        path: PathBuf,
        /// The underlying failure.
        source: std::io::Error,
    },
    /// A registry file is not the expected JSON.
    #[error("unit registry {path} is not valid registry JSON")]
    Json {
        /// The registry file.
        path: PathBuf,
        /// Where and why parsing failed.
        source: serde_json::Error,
    },
}
