//! Signing-rate reports: what auditors measure (DOMAIN.md), per unit and
//! rolled up by group, level and scope, over any range of Vietnam dates.
//!
//! [`build_report`] is pure and synchronous: it takes the registry and the
//! period's exact counts (read from the records store by the caller) and
//! ranks and flags units on exact fractions ([`Rate`]). [`write_table`],
//! [`write_csv`] and [`write_json`] turn the result into text.

mod compute;
mod format;
mod rate;
mod request;

pub use compute::{GroupRow, LevelRow, Rates, Rollup, SigningReport, UnitRow, build_report};
pub use format::{CSV_COLUMNS, write_csv, write_json, write_table};
pub use rate::{Rate, Threshold};
pub use request::{Metric, ReportRequest, Scope};

use crate::units::UnitCode;

/// Why a report could not be asked for, built or written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The scope names a unit the registry does not hold.
    #[error("unit {unit} is not in the registry")]
    UnknownUnit {
        /// The unit.
        unit: UnitCode,
    },
    /// A threshold is not a percentage from 0 to 100 with at most one decimal.
    #[error(
        "threshold {text:?} is not a percentage from 0 to 100 with at most one decimal, like 90 or 87.5"
    )]
    ThresholdText {
        /// The text as given.
        text: String,
    },
    /// A threshold in tenths of a percent is above 100%.
    #[error("threshold of {tenths} tenths of a percent is above 100%")]
    ThresholdAboveHundred {
        /// The tenths of a percent given.
        tenths: u32,
    },
    /// A scope is not `province`, `level:<level>`, `group:<group>` or
    /// `unit:<code>`.
    #[error(
        "scope {text:?} is not province, level:province|district|commune, \
         group:province_office|department|district|commune or unit:<unit code>"
    )]
    ScopeText {
        /// The text as given.
        text: String,
    },
    /// A metric name is not one of [`Metric::as_str`].
    #[error(
        "metric {text:?} is not organisation_signed, leader_signed, outgoing_electronic or \
         incoming_electronic"
    )]
    MetricName {
        /// The text as given.
        text: String,
    },
    /// A unit's counts say more documents have a property than exist, which
    /// the ledger never records: the counts are corrupt.
    #[error("unit {unit} has {part} {part_count}, above its {whole} {whole_count}")]
    CountAboveTotal {
        /// The unit.
        unit: UnitCode,
        /// The count that is too high, e.g. `leader_signed`.
        part: &'static str,
        /// Its value.
        part_count: u64,
        /// The count it is a part of, e.g. `outgoing_total`.
        whole: &'static str,
        /// Its value.
        whole_count: u64,
    },
    /// Writing the report failed.
    #[error("cannot write the report")]
    Write {
        /// The output's failure.
        #[from]
        source: std::io::Error,
    },
    /// Writing the CSV report failed.
    #[error("cannot write the CSV report")]
    Csv {
        /// The CSV writer's failure (usually the output's).
        #[from]
        source: csv::Error,
    },
    /// Writing the JSON report failed.
    #[error("cannot write the JSON report")]
    Json {
        /// The JSON writer's failure (usually the output's).
        #[from]
        source: serde_json::Error,
    },
}
