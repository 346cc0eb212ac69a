//! The report itself: every unit in scope with its counts, rates, rank and
//! flags, then the roll-ups by group, by level and for the whole scope.

use std::collections::HashMap;

use serde::Serialize;
use serde::ser::{SerializeStruct, Serializer};

use super::request::{GROUPS, LEVELS};
use super::{Rate, ReportError, ReportRequest, Scope};
use crate::records::UnitCounts;
use crate::units::{Unit, UnitCode, UnitGroup, UnitLevel, UnitRegistry};

/// The four rates auditors read from a set of counts; each is `None` when
/// its denominator is 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Rates {
    /// Incoming documents received electronically with a valid signature,
    /// over incoming documents.
    pub incoming_electronic: Option<Rate>,
    /// Outgoing documents sent electronically, over outgoing documents.
    pub outgoing_electronic: Option<Rate>,
    /// Outgoing documents with the organisation signature, over outgoing
    /// documents: the signing rate.
    pub organisation_signed: Option<Rate>,
    /// Outgoing documents with a leader's signature, over outgoing documents.
    pub leader_signed: Option<Rate>,
}

impl Rates {
    /// The rates of `counts`.
    pub fn of(counts: &UnitCounts) -> Self {
        Self {
            incoming_electronic: Rate::new(counts.incoming_electronic, counts.incoming_total),
            outgoing_electronic: Rate::new(counts.outgoing_electronic, counts.outgoing_total),
            organisation_signed: Rate::new(counts.organisation_signed, counts.outgoing_total),
            leader_signed: Rate::new(counts.leader_signed, counts.outgoing_total),
        }
    }
}

/// One unit's line of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnitRow {
    /// 1-based place by the ranking metric, highest rate first; equal rates
    /// share a place and the next place is skipped (1, 1, 3). `None` when
    /// the unit has no document the metric counts.
    pub rank: Option<u32>,
    /// The unit's code.
    pub code: UnitCode,
    /// The unit's name (UTF-8, NFC).
    pub name: String,
    /// The unit's level.
    pub level: UnitLevel,
    /// The unit's group.
    pub group: UnitGroup,
    /// Exact counts over the period.
    #[serde(serialize_with = "serialize_counts")]
    pub counts: UnitCounts,
    /// Rates of those counts.
    pub rates: Rates,
    /// The ranking rate exists and is below the threshold.
    pub below_threshold: bool,
    /// The ranking rate's denominator is 0: nothing to rate the unit on.
    pub no_documents: bool,
}

/// Counts and rates summed over several units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rollup {
    /// The units' counts added up.
    #[serde(serialize_with = "serialize_counts")]
    pub counts: UnitCounts,
    /// Rates of the summed counts (not an average of the units' rates).
    pub rates: Rates,
    /// Units rolled up, including those with no documents.
    pub units: u32,
    /// Of those, the units that applied a leader's signature at least once
    /// in the period: the "x" of "x of y".
    pub units_using_leader_signatures: u32,
}

impl Rollup {
    /// The roll-up of `rows`.
    pub fn of<'a>(rows: impl IntoIterator<Item = &'a UnitRow>) -> Self {
        let mut counts = UnitCounts::default();
        let (mut units, mut units_using_leader_signatures) = (0_u32, 0_u32);
        for row in rows {
            counts.add(&row.counts);
            units = units.saturating_add(1);
            if row.counts.leader_signed > 0 {
                units_using_leader_signatures = units_using_leader_signatures.saturating_add(1);
            }
        }
        Self {
            counts,
            rates: Rates::of(&counts),
            units,
            units_using_leader_signatures,
        }
    }
}

/// The roll-up of one group of units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupRow {
    /// The group.
    pub group: UnitGroup,
    /// Its units in scope, summed.
    #[serde(flatten)]
    pub rollup: Rollup,
}

/// The roll-up of one administrative level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LevelRow {
    /// The level.
    pub level: UnitLevel,
    /// Its units in scope, summed.
    #[serde(flatten)]
    pub rollup: Rollup,
}

/// A signing report over a period: what auditors measure (DOMAIN.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SigningReport {
    /// The question answered.
    pub request: ReportRequest,
    /// Every unit in scope, in rank order; unranked units last; ties by code.
    pub units: Vec<UnitRow>,
    /// One roll-up per group with units in scope, in group order (province
    /// office, departments, districts, communes).
    pub groups: Vec<GroupRow>,
    /// One roll-up per level with units in scope, from the top.
    pub levels: Vec<LevelRow>,
    /// All units in scope.
    pub total: Rollup,
}

/// Builds the report of `request` from the period's `counts`.
///
/// Every unit of `registry` in scope gets a line, with zero counts when it
/// has no entry in `counts`; several entries of one unit are added up (daily
/// counts, say); entries of units not in the registry are ignored.
pub fn build_report(
    registry: &UnitRegistry,
    counts: &[(UnitCode, UnitCounts)],
    request: &ReportRequest,
) -> Result<SigningReport, ReportError> {
    if let Scope::Unit(unit) = &request.scope
        && registry.find(unit).is_none()
    {
        return Err(ReportError::UnknownUnit { unit: unit.clone() });
    }
    let in_scope: Vec<&Unit> = registry
        .units()
        .iter()
        .filter(|unit| request.scope.contains(unit))
        .collect();
    let mut summed: HashMap<&UnitCode, UnitCounts> = in_scope
        .iter()
        .map(|unit| (&unit.code, UnitCounts::default()))
        .collect();
    for (unit, unit_counts) in counts {
        if let Some(sum) = summed.get_mut(unit) {
            sum.add(unit_counts);
        }
    }
    let mut units = in_scope
        .iter()
        .map(|unit| {
            let counts = summed.get(&unit.code).copied().unwrap_or_default();
            check_counts(&unit.code, &counts)?;
            Ok(unit_row(unit, counts, request))
        })
        .collect::<Result<Vec<_>, ReportError>>()?;
    rank(&mut units, request);
    let groups = GROUPS
        .into_iter()
        .filter_map(|group| {
            let members = units.iter().filter(|row| row.group == group);
            let rollup = Rollup::of(members);
            (rollup.units > 0).then_some(GroupRow { group, rollup })
        })
        .collect();
    let levels = LEVELS
        .into_iter()
        .filter_map(|level| {
            let members = units.iter().filter(|row| row.level == level);
            let rollup = Rollup::of(members);
            (rollup.units > 0).then_some(LevelRow { level, rollup })
        })
        .collect();
    let total = Rollup::of(&units);
    Ok(SigningReport {
        request: request.clone(),
        units,
        groups,
        levels,
        total,
    })
}

/// A part can never exceed its whole in the ledger; counts that say otherwise
/// would show a rate above 100% to auditors, so they stop the report.
fn check_counts(unit: &UnitCode, counts: &UnitCounts) -> Result<(), ReportError> {
    let parts = [
        (
            "incoming_electronic",
            counts.incoming_electronic,
            "incoming_total",
            counts.incoming_total,
        ),
        (
            "outgoing_electronic",
            counts.outgoing_electronic,
            "outgoing_total",
            counts.outgoing_total,
        ),
        (
            "organisation_signed",
            counts.organisation_signed,
            "outgoing_total",
            counts.outgoing_total,
        ),
        (
            "leader_signed",
            counts.leader_signed,
            "outgoing_total",
            counts.outgoing_total,
        ),
    ];
    for (part, part_count, whole, whole_count) in parts {
        if part_count > whole_count {
            return Err(ReportError::CountAboveTotal {
                unit: unit.clone(),
                part,
                part_count,
                whole,
                whole_count,
            });
        }
    }
    Ok(())
}

/// The unit's line, not yet ranked.
fn unit_row(unit: &Unit, counts: UnitCounts, request: &ReportRequest) -> UnitRow {
    let rates = Rates::of(&counts);
    let rate = request.rank_by.rate(&rates);
    UnitRow {
        rank: None,
        code: unit.code.clone(),
        name: unit.name.clone(),
        level: unit.level,
        group: unit.group,
        counts,
        rates,
        below_threshold: rate.is_some_and(|rate| rate.is_below(request.threshold)),
        no_documents: rate.is_none(),
    }
}

/// Sorts `rows` by the ranking rate, highest first, then by code, and gives
/// them competition ranks (1, 1, 3); rows without the rate come last, unranked.
fn rank(rows: &mut [UnitRow], request: &ReportRequest) {
    let metric = request.rank_by;
    // `None < Some(_)`, so comparing b with a puts rated rows first.
    rows.sort_by(|a, b| {
        metric
            .rate(&b.rates)
            .cmp(&metric.rate(&a.rates))
            .then_with(|| a.code.cmp(&b.code))
    });
    let mut previous: Option<(Rate, u32)> = None;
    for (index, row) in rows.iter_mut().enumerate() {
        let Some(rate) = metric.rate(&row.rates) else {
            break;
        };
        let place = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let rank = match previous {
            Some((previous_rate, previous_rank)) if previous_rate == rate => previous_rank,
            _ => place,
        };
        row.rank = Some(rank);
        previous = Some((rate, rank));
    }
}

/// The six counts as a JSON object, in [`UnitCounts`] field order.
fn serialize_counts<S: Serializer>(counts: &UnitCounts, serializer: S) -> Result<S::Ok, S::Error> {
    let mut object = serializer.serialize_struct("UnitCounts", 6)?;
    object.serialize_field("incoming_total", &counts.incoming_total)?;
    object.serialize_field("incoming_electronic", &counts.incoming_electronic)?;
    object.serialize_field("outgoing_total", &counts.outgoing_total)?;
    object.serialize_field("outgoing_electronic", &counts.outgoing_electronic)?;
    object.serialize_field("organisation_signed", &counts.organisation_signed)?;
    object.serialize_field("leader_signed", &counts.leader_signed)?;
    object.end()
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::datetime::VietnamDate;
    use crate::records::DateRange;
    use crate::report::{Metric, Threshold};
    use crate::units::demo_province;

    /// Counts in the order incoming (total, electronic), outgoing (total,
    /// electronic, organisation-signed, leader-signed).
    fn counts(incoming: [u64; 2], outgoing: [u64; 4]) -> UnitCounts {
        UnitCounts {
            incoming_total: incoming[0],
            incoming_electronic: incoming[1],
            outgoing_total: outgoing[0],
            outgoing_electronic: outgoing[1],
            organisation_signed: outgoing[2],
            leader_signed: outgoing[3],
        }
    }

    fn code(text: &str) -> UnitCode {
        UnitCode::parse(text).expect("valid code")
    }

    /// April 2026 in the demo province, as worked out by hand:
    ///
    /// | unit                       | in (el.) | out | el. | org. | leader |
    /// |----------------------------|----------|-----|-----|------|--------|
    /// | 000.00.00 province office  | 5 (5)    | 0   | 0   | 0    | 0      |
    /// | 000.00.01 Sở Tài chính     | 50 (45)  | 40  | 36  | 36   | 10     |
    /// | 000.00.02 Sở Ngoại vụ      | 3 (2)    | 20  | 18  | 18   | 0      |
    /// | 000.00.31 huyện Cao Phong  | 0 (0)    | 8   | 7   | 7    | 1      |
    /// | 000.01.31 xã Thu Phong     | 6 (2)    | 3   | 2   | 2    | 0      |
    ///
    /// Sở Tài chính comes in two entries (paper and electronic halves of the
    /// month) and a unit outside the registry sends counts that are ignored.
    pub(in crate::report) fn april_counts() -> Vec<(UnitCode, UnitCounts)> {
        vec![
            (code("000.00.00.H23"), counts([5, 5], [0, 0, 0, 0])),
            (code("000.00.01.H23"), counts([30, 27], [25, 22, 21, 6])),
            (code("000.00.02.H23"), counts([3, 2], [20, 18, 18, 0])),
            (code("000.00.31.H23"), counts([0, 0], [8, 7, 7, 1])),
            (code("000.01.31.H23"), counts([6, 2], [3, 2, 2, 0])),
            (
                code("000.09.99.H23"),
                counts([100, 100], [100, 100, 100, 100]),
            ),
            (code("000.00.01.H23"), counts([20, 18], [15, 14, 15, 4])),
        ]
    }

    pub(in crate::report) fn april(scope: Scope, rank_by: Metric) -> ReportRequest {
        let (first, last) = VietnamDate::parse_month("2026-04").expect("valid month");
        ReportRequest {
            range: DateRange::new(first, last).expect("ordered"),
            scope,
            threshold: Threshold::parse("90").expect("valid"),
            rank_by,
        }
    }

    pub(in crate::report) fn april_report() -> SigningReport {
        build_report(
            &demo_province(),
            &april_counts(),
            &april(Scope::Province, Metric::OrganisationSigned),
        )
        .expect("report builds")
    }

    /// Outgoing electronic, organisation-signed, leader-signed and incoming
    /// electronic rates as shown, "—" for no rate.
    fn shown(rates: &Rates) -> [String; 4] {
        [
            rates.outgoing_electronic,
            rates.organisation_signed,
            rates.leader_signed,
            rates.incoming_electronic,
        ]
        .map(|rate| rate.map_or_else(|| "—".to_owned(), |rate| rate.to_string()))
    }

    fn row<'a>(report: &'a SigningReport, unit: &str) -> &'a UnitRow {
        report
            .units
            .iter()
            .find(|row| row.code.as_str() == unit)
            .expect("unit has a row")
    }

    #[test]
    fn every_unit_in_the_province_gets_a_row_in_rank_order_with_ties_sharing_a_rank() {
        let report = april_report();
        let order: Vec<(Option<u32>, &str)> = report
            .units
            .iter()
            .map(|row| (row.rank, row.code.as_str()))
            .collect();
        assert_eq!(
            order,
            [
                (Some(1), "000.00.01.H23"),
                (Some(1), "000.00.02.H23"),
                (Some(3), "000.00.31.H23"),
                (Some(4), "000.01.31.H23"),
                (None, "000.00.00.H23"),
                (None, "000.00.03.H23"),
                (None, "000.00.04.H23"),
                (None, "000.00.05.H23"),
                (None, "000.00.06.H23"),
                (None, "000.00.32.H23"),
                (None, "000.00.33.H23"),
                (None, "000.00.34.H23"),
                (None, "000.00.35.H23"),
                (None, "000.01.32.H23"),
                (None, "000.01.33.H23"),
                (None, "000.01.34.H23"),
            ]
        );
    }

    #[test]
    fn unit_rows_hold_the_hand_computed_counts_rates_and_flags() {
        let report = april_report();
        let finance = row(&report, "000.00.01.H23");
        assert_eq!(finance.name, "Sở Tài chính tỉnh Hòa Bình");
        assert_eq!(finance.counts, counts([50, 45], [40, 36, 36, 10]));
        assert_eq!(shown(&finance.rates), ["90.0%", "90.0%", "25.0%", "90.0%"]);
        assert!(!finance.below_threshold, "exactly 90% is not below 90%");
        assert!(!finance.no_documents);

        let foreign_affairs = row(&report, "000.00.02.H23");
        assert_eq!(foreign_affairs.counts, counts([3, 2], [20, 18, 18, 0]));
        assert_eq!(
            shown(&foreign_affairs.rates),
            ["90.0%", "90.0%", "0.0%", "66.7%"]
        );
        assert!(!foreign_affairs.below_threshold);

        let cao_phong = row(&report, "000.00.31.H23");
        assert_eq!(shown(&cao_phong.rates), ["87.5%", "87.5%", "12.5%", "—"]);
        assert!(cao_phong.below_threshold);
        assert!(
            !cao_phong.no_documents,
            "the metric counts outgoing documents"
        );

        let thu_phong = row(&report, "000.01.31.H23");
        assert_eq!(thu_phong.name, "Ủy ban nhân dân xã Thu Phong");
        assert_eq!(shown(&thu_phong.rates), ["66.7%", "66.7%", "0.0%", "33.3%"]);
        assert!(thu_phong.below_threshold);

        let office = row(&report, "000.00.00.H23");
        assert_eq!(shown(&office.rates), ["—", "—", "—", "100.0%"]);
        assert!(office.no_documents);
        assert!(
            !office.below_threshold,
            "no rate is never below a threshold"
        );

        let silent = row(&report, "000.01.34.H23");
        assert_eq!(silent.counts, UnitCounts::default());
        assert!(silent.no_documents);
        assert_eq!(silent.rank, None);
    }

    #[test]
    fn groups_levels_and_total_add_the_counts_and_count_units_using_leader_signatures() {
        let report = april_report();
        let groups: Vec<_> = report
            .groups
            .iter()
            .map(|g| {
                (
                    g.group,
                    g.rollup.counts,
                    shown(&g.rollup.rates),
                    g.rollup.units_using_leader_signatures,
                    g.rollup.units,
                )
            })
            .collect();
        assert_eq!(
            groups,
            [
                (
                    UnitGroup::ProvinceOffice,
                    counts([5, 5], [0, 0, 0, 0]),
                    ["—", "—", "—", "100.0%"].map(String::from),
                    0,
                    1
                ),
                (
                    UnitGroup::Department,
                    counts([53, 47], [60, 54, 54, 10]),
                    ["90.0%", "90.0%", "16.7%", "88.7%"].map(String::from),
                    1,
                    6
                ),
                (
                    UnitGroup::District,
                    counts([0, 0], [8, 7, 7, 1]),
                    ["87.5%", "87.5%", "12.5%", "—"].map(String::from),
                    1,
                    5
                ),
                (
                    UnitGroup::Commune,
                    counts([6, 2], [3, 2, 2, 0]),
                    ["66.7%", "66.7%", "0.0%", "33.3%"].map(String::from),
                    0,
                    4
                ),
            ]
        );
        let levels: Vec<_> = report
            .levels
            .iter()
            .map(|l| {
                (
                    l.level,
                    l.rollup.counts,
                    shown(&l.rollup.rates),
                    l.rollup.units_using_leader_signatures,
                    l.rollup.units,
                )
            })
            .collect();
        assert_eq!(
            levels,
            [
                (
                    UnitLevel::Province,
                    counts([58, 52], [60, 54, 54, 10]),
                    ["90.0%", "90.0%", "16.7%", "89.7%"].map(String::from),
                    1,
                    7
                ),
                (
                    UnitLevel::District,
                    counts([0, 0], [8, 7, 7, 1]),
                    ["87.5%", "87.5%", "12.5%", "—"].map(String::from),
                    1,
                    5
                ),
                (
                    UnitLevel::Commune,
                    counts([6, 2], [3, 2, 2, 0]),
                    ["66.7%", "66.7%", "0.0%", "33.3%"].map(String::from),
                    0,
                    4
                ),
            ]
        );
        let total = &report.total;
        assert_eq!(total.counts, counts([64, 54], [71, 63, 63, 11]));
        // 63/71 = 88.73…, 11/71 = 15.49…, 54/64 = 84.375 (half up).
        assert_eq!(shown(&total.rates), ["88.7%", "88.7%", "15.5%", "84.4%"]);
        assert_eq!((total.units_using_leader_signatures, total.units), (2, 16));
    }

    #[test]
    fn ranking_by_another_metric_ranks_and_flags_by_that_metric() {
        let report = build_report(
            &demo_province(),
            &april_counts(),
            &april(Scope::Province, Metric::IncomingElectronic),
        )
        .expect("report builds");
        let ranked: Vec<(u32, &str)> = report
            .units
            .iter()
            .filter_map(|row| Some((row.rank?, row.code.as_str())))
            .collect();
        assert_eq!(
            ranked,
            [
                (1, "000.00.00.H23"),
                (2, "000.00.01.H23"),
                (3, "000.00.02.H23"),
                (4, "000.01.31.H23"),
            ]
        );
        let cao_phong = row(&report, "000.00.31.H23");
        assert!(cao_phong.no_documents, "Cao Phong received nothing");
        assert!(!cao_phong.below_threshold);
        assert!(row(&report, "000.00.02.H23").below_threshold);
        assert!(!row(&report, "000.00.01.H23").below_threshold);
    }

    #[test]
    fn a_group_scope_reports_only_that_group() {
        let report = build_report(
            &demo_province(),
            &april_counts(),
            &april(Scope::Group(UnitGroup::Department), Metric::LeaderSigned),
        )
        .expect("report builds");
        assert_eq!(report.units.len(), 6);
        assert!(
            report
                .units
                .iter()
                .all(|row| row.group == UnitGroup::Department)
        );
        // Leader-signed: 10/40 = 25% first; Ngoại vụ has 0/20, a rate of 0.
        assert_eq!(report.units[0].code.as_str(), "000.00.01.H23");
        assert_eq!(report.units[0].rank, Some(1));
        assert_eq!(report.units[1].code.as_str(), "000.00.02.H23");
        assert_eq!(report.units[1].rank, Some(2));
        assert!(report.units[1].below_threshold);
        assert_eq!(report.groups.len(), 1);
        assert_eq!(report.levels.len(), 1);
        assert_eq!(report.levels[0].level, UnitLevel::Province);
        assert_eq!(report.levels[0].rollup.units, 6);
        assert_eq!(report.total, report.groups[0].rollup);
        assert_eq!(
            (
                report.total.units_using_leader_signatures,
                report.total.units
            ),
            (1, 6)
        );
    }

    #[test]
    fn a_level_scope_reports_every_group_of_that_level() {
        let report = build_report(
            &demo_province(),
            &april_counts(),
            &april(
                Scope::Level(UnitLevel::Province),
                Metric::OrganisationSigned,
            ),
        )
        .expect("report builds");
        assert_eq!(report.units.len(), 7);
        let groups: Vec<_> = report.groups.iter().map(|g| g.group).collect();
        assert_eq!(groups, [UnitGroup::ProvinceOffice, UnitGroup::Department]);
        assert_eq!(report.total.counts, counts([58, 52], [60, 54, 54, 10]));
    }

    #[test]
    fn a_unit_scope_reports_that_unit_alone() {
        let report = build_report(
            &demo_province(),
            &april_counts(),
            &april(
                Scope::Unit(code("000.00.31.H23")),
                Metric::OrganisationSigned,
            ),
        )
        .expect("report builds");
        assert_eq!(report.units.len(), 1);
        assert_eq!(report.units[0].rank, Some(1));
        assert_eq!(report.units[0].name, "Ủy ban nhân dân huyện Cao Phong");
        assert_eq!(report.groups[0].group, UnitGroup::District);
        assert_eq!(report.total.units, 1);
        assert_eq!(report.total.counts, counts([0, 0], [8, 7, 7, 1]));
    }

    #[test]
    fn a_unit_scope_naming_a_unit_outside_the_registry_is_refused() {
        let outside = code("000.09.99.H23");
        let error = build_report(
            &demo_province(),
            &april_counts(),
            &april(Scope::Unit(outside.clone()), Metric::OrganisationSigned),
        )
        .expect_err("unknown unit");
        assert!(matches!(error, ReportError::UnknownUnit { unit } if unit == outside));
    }

    #[test]
    fn a_report_of_a_period_without_documents_has_rows_but_no_ranks_or_rates() {
        let report = build_report(
            &demo_province(),
            &[],
            &april(Scope::Province, Metric::OrganisationSigned),
        )
        .expect("report builds");
        assert_eq!(report.units.len(), 16);
        assert!(
            report
                .units
                .iter()
                .all(|row| row.rank.is_none() && row.no_documents)
        );
        assert!(report.units.iter().all(|row| !row.below_threshold));
        assert!(
            report
                .units
                .windows(2)
                .all(|pair| pair[0].code < pair[1].code)
        );
        assert_eq!(report.total.rates.organisation_signed, None);
        assert_eq!(report.total.units_using_leader_signatures, 0);
    }

    #[test]
    fn counts_with_a_part_above_its_whole_stop_the_report() {
        let broken = [(code("000.00.02.H23"), counts([1, 1], [4, 4, 4, 5]))];
        let error = build_report(
            &demo_province(),
            &broken,
            &april(Scope::Province, Metric::OrganisationSigned),
        )
        .expect_err("leader-signed above outgoing");
        assert!(matches!(
            error,
            ReportError::CountAboveTotal {
                part: "leader_signed",
                part_count: 5,
                whole: "outgoing_total",
                whole_count: 4,
                ..
            }
        ));
    }

    #[test]
    fn units_with_equal_fractions_of_different_sizes_share_a_rank_and_the_next_is_skipped() {
        let tied = [
            (code("000.00.03.H23"), counts([0, 0], [4, 0, 2, 0])),
            (code("000.00.04.H23"), counts([0, 0], [1000, 0, 500, 0])),
            (code("000.00.05.H23"), counts([0, 0], [3, 0, 1, 0])),
            (code("000.00.06.H23"), counts([0, 0], [1, 0, 1, 0])),
        ];
        let report = build_report(
            &demo_province(),
            &tied,
            &april(
                Scope::Group(UnitGroup::Department),
                Metric::OrganisationSigned,
            ),
        )
        .expect("report builds");
        let ranks: Vec<_> = report
            .units
            .iter()
            .map(|row| (row.rank, row.code.as_str()))
            .collect();
        assert_eq!(
            ranks,
            [
                (Some(1), "000.00.06.H23"),
                (Some(2), "000.00.03.H23"),
                (Some(2), "000.00.04.H23"),
                (Some(4), "000.00.05.H23"),
                (None, "000.00.01.H23"),
                (None, "000.00.02.H23"),
            ]
        );
    }
}
