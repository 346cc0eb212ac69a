//! The signing-rate report on the wire: kyso's [`SigningReport`] to its
//! protobuf form for the server, and back for the CLI, which formats it.

use super::proto;
use super::records::{group_to_proto, level_to_proto};
use crate::datetime::VietnamDate;
use crate::records::{DateRange, UnitCounts};
use crate::report::{
    GroupRow, LevelRow, Metric, Rate, Rates, ReportRequest, Rollup, Scope, SigningReport,
    Threshold, UnitRow,
};
use crate::units::{UnitCode, UnitGroup, UnitLevel};

/// Why a protobuf report could not be read back.
#[derive(Debug, thiserror::Error)]
#[error("report field {field}: {reason}")]
pub struct ReportDecodeError {
    field: &'static str,
    reason: String,
}

fn decode_error(field: &'static str, reason: impl ToString) -> ReportDecodeError {
    ReportDecodeError {
        field,
        reason: reason.to_string(),
    }
}

fn metric_to_proto(metric: Metric) -> proto::Metric {
    match metric {
        Metric::OrganisationSigned => proto::Metric::OrganisationSigned,
        Metric::LeaderSigned => proto::Metric::LeaderSigned,
        Metric::OutgoingElectronic => proto::Metric::OutgoingElectronic,
        Metric::IncomingElectronic => proto::Metric::IncomingElectronic,
    }
}

fn counts_to_proto(counts: &UnitCounts) -> proto::Counts {
    proto::Counts {
        incoming_total: counts.incoming_total,
        incoming_electronic: counts.incoming_electronic,
        outgoing_total: counts.outgoing_total,
        outgoing_electronic: counts.outgoing_electronic,
        organisation_signed: counts.organisation_signed,
        leader_signed: counts.leader_signed,
    }
}

fn rate_to_proto(rate: Option<Rate>, numerator: u64, denominator: u64) -> proto::Rate {
    proto::Rate {
        numerator,
        denominator,
        percent: rate.map(Rate::percent_text).unwrap_or_default(),
    }
}

fn rates_to_proto(rates: &Rates, counts: &UnitCounts) -> proto::Rates {
    proto::Rates {
        incoming_electronic: Some(rate_to_proto(
            rates.incoming_electronic,
            counts.incoming_electronic,
            counts.incoming_total,
        )),
        outgoing_electronic: Some(rate_to_proto(
            rates.outgoing_electronic,
            counts.outgoing_electronic,
            counts.outgoing_total,
        )),
        organisation_signed: Some(rate_to_proto(
            rates.organisation_signed,
            counts.organisation_signed,
            counts.outgoing_total,
        )),
        leader_signed: Some(rate_to_proto(
            rates.leader_signed,
            counts.leader_signed,
            counts.outgoing_total,
        )),
    }
}

fn rollup_to_proto(
    rollup: &Rollup,
    group: Option<UnitGroup>,
    level: Option<UnitLevel>,
) -> proto::Rollup {
    proto::Rollup {
        group: group
            .map(group_to_proto)
            .unwrap_or(proto::UnitGroup::Unspecified)
            .into(),
        level: level
            .map(level_to_proto)
            .unwrap_or(proto::UnitLevel::Unspecified)
            .into(),
        counts: Some(counts_to_proto(&rollup.counts)),
        rates: Some(rates_to_proto(&rollup.rates, &rollup.counts)),
        units: rollup.units,
        units_using_leader_signatures: rollup.units_using_leader_signatures,
    }
}

/// The protobuf form of a report.
pub fn report_to_proto(report: &SigningReport) -> proto::SigningReport {
    let request = &report.request;
    proto::SigningReport {
        from: request.range.first.to_string(),
        to: request.range.last.to_string(),
        scope: request.scope.to_string(),
        rank_by: metric_to_proto(request.rank_by).into(),
        threshold_percent: request.threshold.percent_text(),
        units: report
            .units
            .iter()
            .map(|row| proto::UnitReport {
                unit_code: row.code.to_string(),
                name: row.name.clone(),
                level: level_to_proto(row.level).into(),
                group: group_to_proto(row.group).into(),
                counts: Some(counts_to_proto(&row.counts)),
                rates: Some(rates_to_proto(&row.rates, &row.counts)),
                rank: row.rank.unwrap_or(0),
                below_threshold: row.below_threshold,
                no_documents: row.no_documents,
            })
            .collect(),
        groups: report
            .groups
            .iter()
            .map(|g| rollup_to_proto(&g.rollup, Some(g.group), None))
            .collect(),
        levels: report
            .levels
            .iter()
            .map(|l| rollup_to_proto(&l.rollup, None, Some(l.level)))
            .collect(),
        total: Some(rollup_to_proto(&report.total, None, None)),
    }
}

fn counts_from_proto(counts: Option<&proto::Counts>) -> UnitCounts {
    let counts = counts.copied().unwrap_or_default();
    UnitCounts {
        incoming_total: counts.incoming_total,
        incoming_electronic: counts.incoming_electronic,
        outgoing_total: counts.outgoing_total,
        outgoing_electronic: counts.outgoing_electronic,
        organisation_signed: counts.organisation_signed,
        leader_signed: counts.leader_signed,
    }
}

fn rollup_from_proto(rollup: Option<&proto::Rollup>) -> Rollup {
    let rollup = rollup.cloned().unwrap_or_default();
    let counts = counts_from_proto(rollup.counts.as_ref());
    Rollup {
        rates: Rates::of(&counts),
        counts,
        units: rollup.units,
        units_using_leader_signatures: rollup.units_using_leader_signatures,
    }
}

fn level_from_proto(value: i32) -> Result<UnitLevel, ReportDecodeError> {
    match proto::UnitLevel::try_from(value) {
        Ok(proto::UnitLevel::Province) => Ok(UnitLevel::Province),
        Ok(proto::UnitLevel::District) => Ok(UnitLevel::District),
        Ok(proto::UnitLevel::Commune) => Ok(UnitLevel::Commune),
        _ => Err(decode_error("level", format!("{value} is not a level"))),
    }
}

fn group_from_proto(value: i32) -> Result<UnitGroup, ReportDecodeError> {
    match proto::UnitGroup::try_from(value) {
        Ok(proto::UnitGroup::ProvinceOffice) => Ok(UnitGroup::ProvinceOffice),
        Ok(proto::UnitGroup::Department) => Ok(UnitGroup::Department),
        Ok(proto::UnitGroup::District) => Ok(UnitGroup::District),
        Ok(proto::UnitGroup::Commune) => Ok(UnitGroup::Commune),
        _ => Err(decode_error("group", format!("{value} is not a group"))),
    }
}

/// A report read back from its protobuf form. Rates are recomputed from the
/// exact counts, so they cannot disagree with them.
pub fn report_from_proto(
    report: &proto::SigningReport,
) -> Result<SigningReport, ReportDecodeError> {
    let date = |field: &'static str, text: &str| {
        VietnamDate::parse(text).ok_or_else(|| decode_error(field, format!("{text:?}")))
    };
    let range = DateRange::new(date("from", &report.from)?, date("to", &report.to)?)
        .map_err(|e| decode_error("to", e))?;
    let scope = Scope::parse(&report.scope).map_err(|e| decode_error("scope", e))?;
    let threshold =
        Threshold::parse(&report.threshold_percent).map_err(|e| decode_error("threshold", e))?;
    let rank_by = match proto::Metric::try_from(report.rank_by) {
        Ok(proto::Metric::LeaderSigned) => Metric::LeaderSigned,
        Ok(proto::Metric::OutgoingElectronic) => Metric::OutgoingElectronic,
        Ok(proto::Metric::IncomingElectronic) => Metric::IncomingElectronic,
        _ => Metric::OrganisationSigned,
    };
    let units = report
        .units
        .iter()
        .map(|row| {
            let counts = counts_from_proto(row.counts.as_ref());
            Ok(UnitRow {
                rank: Some(row.rank).filter(|r| *r > 0),
                code: UnitCode::parse(&row.unit_code).map_err(|e| decode_error("unit_code", e))?,
                name: row.name.clone(),
                level: level_from_proto(row.level)?,
                group: group_from_proto(row.group)?,
                rates: Rates::of(&counts),
                counts,
                below_threshold: row.below_threshold,
                no_documents: row.no_documents,
            })
        })
        .collect::<Result<Vec<_>, ReportDecodeError>>()?;
    let groups = report
        .groups
        .iter()
        .map(|g| {
            Ok(GroupRow {
                group: group_from_proto(g.group)?,
                rollup: rollup_from_proto(Some(g)),
            })
        })
        .collect::<Result<Vec<_>, ReportDecodeError>>()?;
    let levels = report
        .levels
        .iter()
        .map(|l| {
            Ok(LevelRow {
                level: level_from_proto(l.level)?,
                rollup: rollup_from_proto(Some(l)),
            })
        })
        .collect::<Result<Vec<_>, ReportDecodeError>>()?;
    Ok(SigningReport {
        request: ReportRequest {
            range,
            scope,
            threshold,
            rank_by,
        },
        units,
        groups,
        levels,
        total: rollup_from_proto(report.total.as_ref()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::build_report;
    use crate::units::demo_province;

    #[test]
    fn a_report_survives_the_trip_through_protobuf() {
        let registry = demo_province();
        let units = registry.units();
        let counts = vec![
            (
                units[1].code.clone(),
                UnitCounts {
                    incoming_total: 3,
                    incoming_electronic: 1,
                    outgoing_total: 5,
                    outgoing_electronic: 4,
                    organisation_signed: 3,
                    leader_signed: 1,
                },
            ),
            (
                units[2].code.clone(),
                UnitCounts {
                    outgoing_total: 2,
                    organisation_signed: 1,
                    ..UnitCounts::default()
                },
            ),
        ];
        let (first, last) = VietnamDate::parse_month("2026-04").unwrap();
        let request = ReportRequest {
            range: DateRange::new(first, last).unwrap(),
            scope: Scope::Province,
            threshold: Threshold::parse("55").unwrap(),
            rank_by: Metric::OrganisationSigned,
        };
        let report = build_report(&registry, &counts, &request).unwrap();
        let wire = report_to_proto(&report);
        assert_eq!(wire.threshold_percent, "55.0");
        assert_eq!(report_from_proto(&wire).unwrap(), report);
    }
}
