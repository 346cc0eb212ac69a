//! What a report is asked for: the period, the units in scope, the metric
//! that ranks them and the threshold that flags them.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;
use serde::ser::{SerializeStruct, Serializer};

use super::{Rate, Rates, ReportError, Threshold};
use crate::records::DateRange;
use crate::units::{Unit, UnitCode, UnitGroup, UnitLevel};

/// A report's question, echoed in the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportRequest {
    /// The dates counted, inclusive, in Vietnam time.
    #[serde(serialize_with = "serialize_range")]
    pub range: DateRange,
    /// The units reported on.
    pub scope: Scope,
    /// Units whose ranking rate is below this are flagged.
    pub threshold: Threshold,
    /// The rate units are ranked and flagged by.
    pub rank_by: Metric,
}

/// The units a report covers. Written (and serialised) as `province`,
/// `level:district`, `group:department` or `unit:000.00.01.H23`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Every unit of the registry.
    Province,
    /// The units of one administrative level.
    Level(UnitLevel),
    /// The units of one group.
    Group(UnitGroup),
    /// One unit alone.
    Unit(UnitCode),
}

impl Scope {
    /// Whether `unit` is in scope.
    pub fn contains(&self, unit: &Unit) -> bool {
        match self {
            Self::Province => true,
            Self::Level(level) => unit.level == *level,
            Self::Group(group) => unit.group == *group,
            Self::Unit(code) => unit.code == *code,
        }
    }

    /// Parses the written form (see [`Scope`]).
    pub fn parse(text: &str) -> Result<Self, ReportError> {
        let refuse = || ReportError::ScopeText {
            text: text.to_owned(),
        };
        let scope = match text.split_once(':') {
            None if text == "province" => Self::Province,
            None => return Err(refuse()),
            Some(("level", name)) => Self::Level(
                LEVELS
                    .into_iter()
                    .find(|level| level_name(*level) == name)
                    .ok_or_else(refuse)?,
            ),
            Some(("group", name)) => Self::Group(
                GROUPS
                    .into_iter()
                    .find(|group| group_name(*group) == name)
                    .ok_or_else(refuse)?,
            ),
            Some(("unit", code)) => Self::Unit(UnitCode::parse(code).map_err(|_| refuse())?),
            Some(_) => return Err(refuse()),
        };
        Ok(scope)
    }
}

impl FromStr for Scope {
    type Err = ReportError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Province => f.write_str("province"),
            Self::Level(level) => write!(f, "level:{}", level_name(*level)),
            Self::Group(group) => write!(f, "group:{}", group_name(*group)),
            Self::Unit(code) => write!(f, "unit:{code}"),
        }
    }
}

impl Serialize for Scope {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// The levels, from the top.
pub(super) const LEVELS: [UnitLevel; 3] =
    [UnitLevel::Province, UnitLevel::District, UnitLevel::Commune];

/// The groups, in the order reports list them.
pub(super) const GROUPS: [UnitGroup; 4] = [
    UnitGroup::ProvinceOffice,
    UnitGroup::Department,
    UnitGroup::District,
    UnitGroup::Commune,
];

/// The level's name in scopes and CSV, as the registry file spells it.
pub(super) fn level_name(level: UnitLevel) -> &'static str {
    match level {
        UnitLevel::Province => "province",
        UnitLevel::District => "district",
        UnitLevel::Commune => "commune",
    }
}

/// The group's name in scopes and CSV, as the registry file spells it.
pub(super) fn group_name(group: UnitGroup) -> &'static str {
    match group {
        UnitGroup::ProvinceOffice => "province_office",
        UnitGroup::Department => "department",
        UnitGroup::District => "district",
        UnitGroup::Commune => "commune",
    }
}

/// The rate units are ranked by and held to the threshold on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// The signing rate: outgoing documents carrying the organisation
    /// signature, over outgoing documents.
    #[default]
    OrganisationSigned,
    /// Outgoing documents carrying a leader's signature, over outgoing
    /// documents.
    LeaderSigned,
    /// Outgoing documents sent electronically, over outgoing documents.
    OutgoingElectronic,
    /// Incoming documents received electronically with a valid signature,
    /// over incoming documents.
    IncomingElectronic,
}

impl Metric {
    /// Every metric.
    pub const ALL: [Metric; 4] = [
        Self::OrganisationSigned,
        Self::LeaderSigned,
        Self::OutgoingElectronic,
        Self::IncomingElectronic,
    ];

    /// The name in JSON: `organisation_signed`, `leader_signed`,
    /// `outgoing_electronic`, `incoming_electronic`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OrganisationSigned => "organisation_signed",
            Self::LeaderSigned => "leader_signed",
            Self::OutgoingElectronic => "outgoing_electronic",
            Self::IncomingElectronic => "incoming_electronic",
        }
    }

    /// Parses a name of [`Metric::as_str`], with `_` or `-` between words.
    pub fn parse(text: &str) -> Result<Self, ReportError> {
        Self::ALL
            .into_iter()
            .find(|metric| metric.as_str() == text.replace('-', "_"))
            .ok_or_else(|| ReportError::MetricName {
                text: text.to_owned(),
            })
    }

    /// What the rate counts, for people.
    pub fn description(self) -> &'static str {
        match self {
            Self::OrganisationSigned => {
                "signing rate (outgoing documents with the organisation signature / outgoing documents)"
            }
            Self::LeaderSigned => {
                "leader-signed rate (outgoing documents with a leader's signature / outgoing documents)"
            }
            Self::OutgoingElectronic => {
                "outgoing electronic rate (outgoing documents sent electronically / outgoing documents)"
            }
            Self::IncomingElectronic => {
                "incoming electronic rate (incoming documents received electronically with a valid \
                 signature / incoming documents)"
            }
        }
    }

    /// This metric's rate among `rates`.
    pub fn rate(self, rates: &Rates) -> Option<Rate> {
        match self {
            Self::OrganisationSigned => rates.organisation_signed,
            Self::LeaderSigned => rates.leader_signed,
            Self::OutgoingElectronic => rates.outgoing_electronic,
            Self::IncomingElectronic => rates.incoming_electronic,
        }
    }
}

impl FromStr for Metric {
    type Err = ReportError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `{ "first": "2026-04-01", "last": "2026-04-30", "time_zone": "UTC+07:00" }`.
fn serialize_range<S: Serializer>(range: &DateRange, serializer: S) -> Result<S::Ok, S::Error> {
    let mut period = serializer.serialize_struct("DateRange", 3)?;
    period.serialize_field("first", &range.first.to_string())?;
    period.serialize_field("last", &range.last.to_string())?;
    period.serialize_field("time_zone", "UTC+07:00")?;
    period.end()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_written_and_parsed_alike() {
        let scopes = [
            Scope::Province,
            Scope::Level(UnitLevel::District),
            Scope::Group(UnitGroup::ProvinceOffice),
            Scope::Unit(UnitCode::parse("000.00.01.H23").expect("valid code")),
        ];
        let written: Vec<String> = scopes.iter().map(Scope::to_string).collect();
        assert_eq!(
            written,
            [
                "province",
                "level:district",
                "group:province_office",
                "unit:000.00.01.H23"
            ]
        );
        for (scope, text) in scopes.iter().zip(&written) {
            assert_eq!(&Scope::parse(text).expect("parses"), scope);
        }
        for refused in [
            "",
            "Province",
            "level:",
            "level:town",
            "group:departments",
            "unit:1",
            "x:y",
        ] {
            assert!(
                matches!(Scope::parse(refused), Err(ReportError::ScopeText { .. })),
                "{refused:?} was accepted"
            );
        }
    }

    #[test]
    fn metric_names_take_underscores_or_hyphens() {
        assert_eq!(Metric::default(), Metric::OrganisationSigned);
        for metric in Metric::ALL {
            assert_eq!(Metric::parse(metric.as_str()).expect("parses"), metric);
            assert_eq!(
                serde_json::to_value(metric).expect("serialises"),
                serde_json::json!(metric.as_str())
            );
        }
        assert_eq!(
            Metric::parse("leader-signed").expect("parses"),
            Metric::LeaderSigned
        );
        assert!(matches!(
            Metric::parse("signing_rate"),
            Err(ReportError::MetricName { .. })
        ));
    }
}
