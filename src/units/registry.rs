//! Units, their leaders, and the registry that holds them with its invariants.

use std::collections::HashSet;
use std::fs;
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{LeaderId, UnitCode, UnitsError};

/// The administrative level a unit belongs to.
///
/// Ordered from the top: `Province < District < Commune`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitLevel {
    /// Province level (*cấp tỉnh*).
    Province,
    /// District level (*cấp huyện*): districts, towns and provincial cities.
    District,
    /// Commune level (*cấp xã*): communes, wards and townships.
    Commune,
}

/// The group a unit is counted in when auditors compare units ("x of y departments").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitGroup {
    /// The provincial People's Committee office (*Văn phòng UBND tỉnh*).
    ProvinceOffice,
    /// Departments, boards and sectors (*sở, ban, ngành*).
    Department,
    /// District and city People's Committees (*UBND huyện, thành phố*).
    District,
    /// Commune, ward and township People's Committees (*UBND xã, phường, thị trấn*).
    Commune,
}

impl UnitGroup {
    /// The only level a unit of this group can sit at.
    pub fn level(self) -> UnitLevel {
        match self {
            Self::ProvinceOffice | Self::Department => UnitLevel::Province,
            Self::District => UnitLevel::District,
            Self::Commune => UnitLevel::Commune,
        }
    }
}

/// A person with authority to sign for a unit.
///
/// The job title is deliberately absent: it comes from each document, not from the person's
/// record or certificate (Decree 68/2024/NĐ-CP).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Leader {
    /// Identifier, unique within the unit.
    pub id: LeaderId,
    /// Full name in UTF-8, precomposed (NFC), e.g. "Nguyễn Văn An".
    pub full_name: String,
}

/// A unit that issues and receives documents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unit {
    /// Document-exchange code, unique in the registry.
    pub code: UnitCode,
    /// Official name in UTF-8, precomposed (NFC), e.g. "Sở Tài chính tỉnh Hòa Bình".
    pub name: String,
    /// Administrative level.
    pub level: UnitLevel,
    /// Reporting group; must agree with `level`.
    pub group: UnitGroup,
    /// The unit above this one, when it is in the registry (a commune's district).
    pub parent: Option<UnitCode>,
    /// Leaders who may sign with a personal certificate.
    pub leaders: Vec<Leader>,
}

impl Unit {
    /// The leader with this identifier, if the unit has one.
    pub fn leader(&self, id: &LeaderId) -> Option<&Leader> {
        self.leaders.iter().find(|leader| &leader.id == id)
    }
}

/// The units of a province, checked for consistency when built or loaded.
///
/// Invariants: codes are unique; leader ids are unique within each unit; every parent is in
/// the registry at a higher level; each group agrees with its level; names are non-empty and
/// precomposed. Units keep the order they were given in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RegistryFile")]
pub struct UnitRegistry {
    units: Vec<Unit>,
}

/// The JSON shape of a registry, before its invariants are checked.
#[derive(Deserialize)]
struct RegistryFile {
    units: Vec<Unit>,
}

impl TryFrom<RegistryFile> for UnitRegistry {
    type Error = UnitsError;

    fn try_from(file: RegistryFile) -> Result<Self, Self::Error> {
        Self::new(file.units)
    }
}

impl UnitRegistry {
    /// Builds a registry, refusing units that break its invariants.
    pub fn new(units: Vec<Unit>) -> Result<Self, UnitsError> {
        let mut codes = HashSet::new();
        for unit in &units {
            if !codes.insert(&unit.code) {
                return Err(UnitsError::DuplicateUnitCode {
                    code: unit.code.clone(),
                });
            }
        }
        for unit in &units {
            check_unit(unit, &units)?;
        }
        Ok(Self { units })
    }

    /// The registry without the checks of [`UnitRegistry::new`], for data this module vouches
    /// for (the demo province, whose tests prove it passes them).
    pub(super) fn from_trusted(units: Vec<Unit>) -> Self {
        Self { units }
    }

    /// The unit with this code.
    pub fn find(&self, code: &UnitCode) -> Option<&Unit> {
        self.units.iter().find(|unit| &unit.code == code)
    }

    /// All units, in registry order.
    pub fn units(&self) -> &[Unit] {
        &self.units
    }

    /// Reads a registry from a JSON file and checks it.
    pub fn load(path: &Path) -> Result<Self, UnitsError> {
        let bytes = fs::read(path).map_err(|source| UnitsError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let file: RegistryFile =
            serde_json::from_slice(&bytes).map_err(|source| UnitsError::Json {
                path: path.to_path_buf(),
                source,
            })?;
        Self::new(file.units)
    }

    /// Writes the registry as JSON (UTF-8, not `\u` escaped), atomically: the content goes to a
    /// temporary file in the same directory, is flushed to disk, then renamed over `path`, so
    /// a reader sees either the old file or the new one, never a mix.
    pub fn save(&self, path: &Path) -> Result<(), UnitsError> {
        let mut json = serde_json::to_vec_pretty(self).map_err(|source| UnitsError::Json {
            path: path.to_path_buf(),
            source,
        })?;
        json.push(b'\n');
        write_atomically(path, &json).map_err(|source| UnitsError::Io {
            path: path.to_path_buf(),
            source,
        })
    }
}

fn check_unit(unit: &Unit, units: &[Unit]) -> Result<(), UnitsError> {
    if unit.group.level() != unit.level {
        return Err(UnitsError::GroupLevelMismatch {
            unit: unit.code.clone(),
            group: unit.group,
            level: unit.level,
        });
    }
    check_name(&unit.code, &unit.name)?;
    if let Some(parent_code) = &unit.parent {
        let parent = units
            .iter()
            .find(|candidate| &candidate.code == parent_code)
            .ok_or_else(|| UnitsError::UnknownParent {
                unit: unit.code.clone(),
                parent: parent_code.clone(),
            })?;
        if parent.level >= unit.level {
            return Err(UnitsError::ParentNotAbove {
                unit: unit.code.clone(),
                level: unit.level,
                parent: parent.code.clone(),
                parent_level: parent.level,
            });
        }
    }
    let mut ids = HashSet::new();
    for leader in &unit.leaders {
        if !ids.insert(&leader.id) {
            return Err(UnitsError::DuplicateLeader {
                unit: unit.code.clone(),
                leader: leader.id.clone(),
            });
        }
        check_name(&unit.code, &leader.full_name)?;
    }
    Ok(())
}

/// Names go into certificate subjects and onto rendered pages, so they must be printable and
/// precomposed. Every Vietnamese letter has a precomposed form, so in NFC Vietnamese text no
/// combining diacritical mark (U+0300–U+036F) remains; finding one means the text was stored
/// decomposed (NFD), which many PDF fonts render as detached accents.
fn check_name(unit: &UnitCode, name: &str) -> Result<(), UnitsError> {
    if name.trim().is_empty() {
        return Err(UnitsError::EmptyName { unit: unit.clone() });
    }
    let unsuitable = name
        .chars()
        .find(|c| c.is_control() || ('\u{0300}'..='\u{036F}').contains(c));
    match unsuitable {
        Some(character) => Err(UnitsError::UnsuitableNameCharacter {
            unit: unit.clone(),
            name: name.to_owned(),
            character,
        }),
        None => Ok(()),
    }
}

/// Writes `contents` to a sibling temporary file, syncs it, renames it over `path`, then syncs
/// the directory so the rename itself survives a crash.
fn write_atomically(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut temporary_name = std::ffi::OsString::from(".");
    temporary_name.push(path.file_name().unwrap_or(path.as_os_str()));
    temporary_name.push(".tmp");
    let temporary = directory.join(temporary_name);
    match fs::remove_file(&temporary) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => return Err(error),
        _ => {}
    }
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&temporary)?;
    file.write_all(contents)?;
    file.sync_all()?;
    drop(file);
    fs::rename(&temporary, path)?;
    fs::File::open(directory)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(text: &str) -> UnitCode {
        UnitCode::parse(text).expect("parse")
    }

    fn leader(id: &str, full_name: &str) -> Leader {
        Leader {
            id: LeaderId::parse(id).expect("parse"),
            full_name: full_name.to_owned(),
        }
    }

    fn district() -> Unit {
        Unit {
            code: code("000.00.34.H23"),
            name: "Ủy ban nhân dân huyện Lương Sơn".to_owned(),
            level: UnitLevel::District,
            group: UnitGroup::District,
            parent: None,
            leaders: vec![leader("ha-van-son", "Hà Văn Sơn")],
        }
    }

    fn commune() -> Unit {
        Unit {
            code: code("000.01.34.H23"),
            name: "Ủy ban nhân dân xã Tân Vinh".to_owned(),
            level: UnitLevel::Commune,
            group: UnitGroup::Commune,
            parent: Some(code("000.00.34.H23")),
            leaders: vec![leader("bui-van-tinh", "Bùi Văn Tỉnh")],
        }
    }

    #[test]
    fn consistent_units_make_a_registry_that_finds_units_and_leaders() {
        let registry =
            UnitRegistry::new(vec![district(), commune()]).expect("registry is consistent");
        let found = registry.find(&code("000.01.34.H23")).expect("unit present");
        assert_eq!(found.name, "Ủy ban nhân dân xã Tân Vinh");
        let tinh = found
            .leader(&LeaderId::parse("bui-van-tinh").expect("parse"))
            .expect("leader");
        assert_eq!(tinh.full_name, "Bùi Văn Tỉnh");
        assert!(
            found
                .leader(&LeaderId::parse("ha-van-son").expect("parse"))
                .is_none()
        );
        assert!(registry.find(&code("000.00.99.H23")).is_none());
        assert_eq!(registry.units().len(), 2);
    }

    #[test]
    fn duplicate_unit_codes_are_refused() {
        let error = UnitRegistry::new(vec![district(), district()]).expect_err("new fails");
        assert!(matches!(error, UnitsError::DuplicateUnitCode { .. }));
    }

    #[test]
    fn duplicate_leaders_within_a_unit_are_refused() {
        let mut unit = district();
        unit.leaders.push(leader("ha-van-son", "Hà Văn Sơn"));
        let error = UnitRegistry::new(vec![unit]).expect_err("new fails");
        assert!(matches!(error, UnitsError::DuplicateLeader { .. }));
    }

    #[test]
    fn a_parent_must_exist_and_sit_above_its_child() {
        let error = UnitRegistry::new(vec![commune()]).expect_err("new fails");
        assert!(matches!(error, UnitsError::UnknownParent { .. }));

        let mut sibling = commune();
        sibling.code = code("000.02.34.H23");
        sibling.parent = Some(code("000.01.34.H23"));
        let error = UnitRegistry::new(vec![district(), commune(), sibling]).expect_err("new fails");
        assert!(matches!(
            error,
            UnitsError::ParentNotAbove {
                level: UnitLevel::Commune,
                parent_level: UnitLevel::Commune,
                ..
            }
        ));
    }

    #[test]
    fn a_group_at_the_wrong_level_is_refused() {
        let mut unit = district();
        unit.group = UnitGroup::Department;
        let error = UnitRegistry::new(vec![unit]).expect_err("new fails");
        assert!(matches!(error, UnitsError::GroupLevelMismatch { .. }));
    }

    #[test]
    fn decomposed_or_empty_names_are_refused() {
        let mut unit = district();
        // "Hòa" with the grave accent as a separate combining mark (NFD).
        unit.name = "Ủy ban nhân dân thành phố Ho\u{0300}a Bình".to_owned();
        let error = UnitRegistry::new(vec![unit]).expect_err("new fails");
        assert!(matches!(
            error,
            UnitsError::UnsuitableNameCharacter {
                character: '\u{0300}',
                ..
            }
        ));

        let mut unit = district();
        unit.leaders[0].full_name = "  ".to_owned();
        let error = UnitRegistry::new(vec![unit]).expect_err("new fails");
        assert!(matches!(error, UnitsError::EmptyName { .. }));
    }

    #[test]
    fn levels_and_groups_serialise_in_snake_case() {
        assert_eq!(
            serde_json::to_string(&UnitGroup::ProvinceOffice).expect("to string"),
            "\"province_office\""
        );
        assert_eq!(
            serde_json::to_string(&UnitLevel::Commune).expect("to string"),
            "\"commune\""
        );
    }

    #[test]
    fn a_saved_registry_loads_back_identical_with_vietnamese_text_unescaped() {
        let directory = tempfile::tempdir().expect("tempdir");
        let path = directory.path().join("units.json");
        let registry =
            UnitRegistry::new(vec![district(), commune()]).expect("registry is consistent");
        registry.save(&path).expect("save");

        let text = fs::read_to_string(&path).expect("read to string");
        assert!(text.contains("Ủy ban nhân dân xã Tân Vinh"), "{text}");
        assert!(text.contains("\"group\": \"commune\""), "{text}");
        assert_eq!(UnitRegistry::load(&path).expect("load"), registry);

        // Saving again replaces the file and leaves no temporary behind.
        registry.save(&path).expect("save");
        let names: Vec<_> = fs::read_dir(directory.path())
            .expect("read dir")
            .map(|entry| entry.expect("entry").file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("units.json")]);
    }

    #[test]
    fn loading_checks_the_invariants_and_names_the_file_on_bad_json() {
        let directory = tempfile::tempdir().expect("tempdir");
        let path = directory.path().join("units.json");
        fs::write(&path, r#"{"units": [{"code": "000.01.34.H23", "name": "Ủy ban nhân dân xã Tân Vinh", "level": "commune", "group": "commune", "parent": "000.00.34.H23", "leaders": []}]}"#).expect("write");
        assert!(matches!(
            UnitRegistry::load(&path).expect_err("load fails"),
            UnitsError::UnknownParent { .. }
        ));

        fs::write(&path, r#"{"units": [{"code": "0.0.34.H23"}]}"#).expect("write");
        match UnitRegistry::load(&path).expect_err("load fails") {
            UnitsError::Json { path: reported, .. } => assert_eq!(reported, path),
            other => panic!("unexpected {other:?}"),
        }

        let missing = directory.path().join("absent.json");
        assert!(matches!(
            UnitRegistry::load(&missing).expect_err("load fails"),
            UnitsError::Io { .. }
        ));
    }

    #[test]
    fn deserialising_a_registry_directly_also_checks_the_invariants() {
        let json = r#"{"units": [{"code": "000.01.34.H23", "name": "x", "level": "district", "group": "commune", "parent": null, "leaders": []}]}"#;
        assert!(serde_json::from_str::<UnitRegistry>(json).is_err());
    }
}
