//! The report as text: an aligned table for a terminal, CSV for spreadsheets
//! and JSON for programs.

use std::io::Write;

use super::request::{group_name, level_name};
use super::{Rate, Rates, ReportError, Rollup, Scope, SigningReport, UnitRow};
use crate::records::UnitCounts;
use crate::units::{UnitGroup, UnitLevel};

/// Writes `report` as a table for people: the request, one line per unit,
/// then the groups (with "x of y units used leaders' signatures"), the
/// levels and the total.
pub fn write_table(report: &SigningReport, mut out: impl Write) -> Result<(), ReportError> {
    let request = &report.request;
    let scope = match &request.scope {
        Scope::Province => "whole province".to_owned(),
        Scope::Level(level) => level_label(*level).to_lowercase(),
        Scope::Group(group) => group_label(*group).to_lowercase(),
        Scope::Unit(code) => match report.units.first() {
            Some(row) => format!("unit {code} {}", row.name),
            None => format!("unit {code}"),
        },
    };
    writeln!(out, "Signing report")?;
    writeln!(
        out,
        "Period:     {} – {}, Vietnam time (UTC+7)",
        request.range.first, request.range.last
    )?;
    writeln!(out, "Scope:      {scope}")?;
    writeln!(out, "Ranked by:  {}", request.rank_by.description())?;
    writeln!(out, "Threshold:  {}", request.threshold)?;
    writeln!(
        out,
        "Flags:      \"below\": the ranking rate is under the threshold; \
         \"no documents\": nothing the ranking rate counts"
    )?;
    writeln!(out)?;

    let mut units = Table::new(
        &[
            &[
                ("Rank", Align::Right),
                ("Code", Align::Left),
                ("Unit", Align::Left),
            ][..],
            &COUNT_HEADERS,
            &[("Flag", Align::Left)],
        ]
        .concat(),
    );
    for row in &report.units {
        let flag = if row.below_threshold {
            "below"
        } else if row.no_documents {
            "no documents"
        } else {
            ""
        };
        let mut cells = vec![
            row.rank
                .map_or_else(|| "—".to_owned(), |rank| rank.to_string()),
            row.code.to_string(),
            row.name.clone(),
        ];
        cells.extend(count_cells(&row.counts, &row.rates));
        cells.push(flag.to_owned());
        units.push(cells);
    }
    units.write(&mut out)?;
    writeln!(out)?;

    let mut rollups = Table::new(
        &[
            &[("Roll-up", Align::Left)][..],
            &COUNT_HEADERS,
            &[("Leaders' signatures", Align::Left)],
        ]
        .concat(),
    );
    let lines = (report.groups.iter())
        .map(|g| (group_label(g.group), &g.rollup))
        .chain(
            report
                .levels
                .iter()
                .map(|l| (level_label(l.level), &l.rollup)),
        )
        .chain([("Total", &report.total)]);
    for (label, rollup) in lines {
        let mut cells = vec![label.to_owned()];
        cells.extend(count_cells(&rollup.counts, &rollup.rates));
        cells.push(format!(
            "{} of {} units used leaders' signatures",
            rollup.units_using_leader_signatures, rollup.units
        ));
        rollups.push(cells);
    }
    rollups.write(&mut out)?;
    out.flush()?;
    Ok(())
}

/// The CSV columns, in order.
pub const CSV_COLUMNS: [&str; 20] = [
    "row_type",
    "rank",
    "code",
    "name",
    "level",
    "group",
    "units",
    "units_using_leader_signatures",
    "outgoing_total",
    "outgoing_electronic",
    "outgoing_electronic_rate",
    "organisation_signed",
    "organisation_signed_rate",
    "leader_signed",
    "leader_signed_rate",
    "incoming_total",
    "incoming_electronic",
    "incoming_electronic_rate",
    "below_threshold",
    "no_documents",
];

/// Writes `report` as CSV: a UTF-8 byte order mark (so spreadsheet programs
/// read the Vietnamese names as UTF-8), the header [`CSV_COLUMNS`], one row
/// per unit, then the group, level and total rows, told apart by `row_type`
/// (`unit`, `group`, `level`, `total`). Rates are percentages to one decimal
/// without the sign ("97.3"), empty when there is no rate; columns that do
/// not apply to a row are empty. Rows go to `out` as they are made.
pub fn write_csv(report: &SigningReport, mut out: impl Write) -> Result<(), ReportError> {
    out.write_all("\u{FEFF}".as_bytes())?;
    let mut csv = csv::Writer::from_writer(out);
    csv.write_record(CSV_COLUMNS)?;
    for row in &report.units {
        csv.write_record(unit_record(row))?;
    }
    for group in &report.groups {
        csv.write_record(rollup_record(
            "group",
            group_label(group.group),
            level_name(group.group.level()),
            group_name(group.group),
            &group.rollup,
        ))?;
    }
    for level in &report.levels {
        csv.write_record(rollup_record(
            "level",
            level_label(level.level),
            level_name(level.level),
            "",
            &level.rollup,
        ))?;
    }
    csv.write_record(rollup_record("total", "Total", "", "", &report.total))?;
    csv.flush()?;
    Ok(())
}

/// Writes `report` as pretty-printed JSON (UTF-8, names unescaped), ending
/// with a line break.
pub fn write_json(report: &SigningReport, mut out: impl Write) -> Result<(), ReportError> {
    serde_json::to_writer_pretty(&mut out, report)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

fn unit_record(row: &UnitRow) -> Vec<String> {
    let mut record = vec![
        "unit".to_owned(),
        row.rank.map(|rank| rank.to_string()).unwrap_or_default(),
        row.code.to_string(),
        row.name.clone(),
        level_name(row.level).to_owned(),
        group_name(row.group).to_owned(),
        String::new(),
        String::new(),
    ];
    record.extend(csv_counts(&row.counts, &row.rates));
    record.push(row.below_threshold.to_string());
    record.push(row.no_documents.to_string());
    record
}

fn rollup_record(
    row_type: &str,
    name: &str,
    level: &str,
    group: &str,
    rollup: &Rollup,
) -> Vec<String> {
    let mut record = vec![
        row_type.to_owned(),
        String::new(),
        String::new(),
        name.to_owned(),
        level.to_owned(),
        group.to_owned(),
        rollup.units.to_string(),
        rollup.units_using_leader_signatures.to_string(),
    ];
    record.extend(csv_counts(&rollup.counts, &rollup.rates));
    record.extend([String::new(), String::new()]);
    record
}

/// Counts and rates in [`CSV_COLUMNS`] order, outgoing first.
fn csv_counts(counts: &UnitCounts, rates: &Rates) -> [String; 10] {
    let rate = |rate: Option<Rate>| rate.map(Rate::percent_text).unwrap_or_default();
    [
        counts.outgoing_total.to_string(),
        counts.outgoing_electronic.to_string(),
        rate(rates.outgoing_electronic),
        counts.organisation_signed.to_string(),
        rate(rates.organisation_signed),
        counts.leader_signed.to_string(),
        rate(rates.leader_signed),
        counts.incoming_total.to_string(),
        counts.incoming_electronic.to_string(),
        rate(rates.incoming_electronic),
    ]
}

/// The table's count columns: totals alone, parts with their rate.
fn count_cells(counts: &UnitCounts, rates: &Rates) -> [String; 6] {
    let part = |count: u64, rate: Option<Rate>| match rate {
        Some(rate) => format!("{count} ({rate})"),
        None => format!("{count} (—)"),
    };
    [
        counts.outgoing_total.to_string(),
        part(counts.outgoing_electronic, rates.outgoing_electronic),
        part(counts.organisation_signed, rates.organisation_signed),
        part(counts.leader_signed, rates.leader_signed),
        counts.incoming_total.to_string(),
        part(counts.incoming_electronic, rates.incoming_electronic),
    ]
}

fn group_label(group: UnitGroup) -> &'static str {
    match group {
        UnitGroup::ProvinceOffice => "Province office",
        UnitGroup::Department => "Departments",
        UnitGroup::District => "Districts",
        UnitGroup::Commune => "Communes",
    }
}

fn level_label(level: UnitLevel) -> &'static str {
    match level {
        UnitLevel::Province => "Province level",
        UnitLevel::District => "District level",
        UnitLevel::Commune => "Commune level",
    }
}

/// The headers of the columns [`count_cells`] fills, in unit and roll-up tables.
const COUNT_HEADERS: [(&str, Align); 6] = [
    ("Outgoing", Align::Right),
    ("Sent electronically", Align::Right),
    ("Organisation-signed", Align::Right),
    ("Leader-signed", Align::Right),
    ("Incoming", Align::Right),
    ("Received electronically", Align::Right),
];

#[derive(Clone, Copy)]
enum Align {
    Left,
    Right,
}

/// Columns padded to their widest cell. Width is counted in `char`s: unit
/// names are precomposed (the registry refuses combining marks), so each
/// Vietnamese letter takes one terminal column.
struct Table {
    columns: Vec<(&'static str, Align)>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn new(columns: &[(&'static str, Align)]) -> Self {
        Self {
            columns: columns.to_vec(),
            rows: Vec::new(),
        }
    }

    fn push(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    fn write(&self, out: &mut impl Write) -> std::io::Result<()> {
        let mut widths: Vec<usize> = self
            .columns
            .iter()
            .map(|(heading, _)| heading.chars().count())
            .collect();
        for row in &self.rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let headings: Vec<&str> = self.columns.iter().map(|(heading, _)| *heading).collect();
        self.write_line(out, &widths, &headings)?;
        let rules: Vec<String> = widths.iter().map(|width| "-".repeat(*width)).collect();
        self.write_line(out, &widths, &rules)?;
        for row in &self.rows {
            self.write_line(out, &widths, row)?;
        }
        Ok(())
    }

    fn write_line(
        &self,
        out: &mut impl Write,
        widths: &[usize],
        cells: &[impl AsRef<str>],
    ) -> std::io::Result<()> {
        let mut line = String::new();
        for ((cell, width), (_, align)) in cells.iter().zip(widths).zip(&self.columns) {
            let cell = cell.as_ref();
            let padding = " ".repeat(width.saturating_sub(cell.chars().count()));
            if !line.is_empty() {
                line.push_str("  ");
            }
            match align {
                Align::Left => {
                    line.push_str(cell);
                    line.push_str(&padding);
                }
                Align::Right => {
                    line.push_str(&padding);
                    line.push_str(cell);
                }
            }
        }
        writeln!(out, "{}", line.trim_end())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::compute::tests::april_report;

    const BOM: &[u8] = b"\xEF\xBB\xBF";

    fn csv_text() -> Vec<u8> {
        let mut out = Vec::new();
        write_csv(&april_report(), &mut out).expect("writes");
        out
    }

    #[test]
    fn csv_starts_with_a_byte_order_mark_and_round_trips_with_vietnamese_names_intact() {
        let bytes = csv_text();
        assert!(bytes.starts_with(BOM));
        let mut reader = csv::Reader::from_reader(&bytes[BOM.len()..]);
        let headers: Vec<String> = reader
            .headers()
            .expect("header row")
            .iter()
            .map(str::to_owned)
            .collect();
        assert_eq!(headers, CSV_COLUMNS);
        let rows: Vec<csv::StringRecord> = reader
            .records()
            .collect::<Result<_, _>>()
            .expect("rows parse");
        // 16 units, 4 groups, 3 levels, 1 total.
        let types: Vec<&str> = rows.iter().map(|row| &row[0]).collect();
        assert_eq!(types.iter().filter(|t| **t == "unit").count(), 16);
        assert_eq!(
            &types[16..],
            ["group"; 4]
                .iter()
                .chain(&["level"; 3])
                .chain(&["total"])
                .copied()
                .collect::<Vec<_>>()
        );
        let column = |name: &str| {
            CSV_COLUMNS
                .iter()
                .position(|c| *c == name)
                .expect("known column")
        };
        let finance = &rows[0];
        assert_eq!(&finance[column("code")], "000.00.01.H23");
        assert_eq!(&finance[column("name")], "Sở Tài chính tỉnh Hòa Bình");
        assert_eq!(&finance[column("rank")], "1");
        assert_eq!(&finance[column("organisation_signed_rate")], "90.0");
        assert_eq!(&finance[column("leader_signed_rate")], "25.0");
        assert_eq!(&finance[column("below_threshold")], "false");
        let thu_phong = &rows[3];
        assert_eq!(&thu_phong[column("name")], "Ủy ban nhân dân xã Thu Phong");
        assert_eq!(&thu_phong[column("incoming_electronic_rate")], "33.3");
        assert_eq!(&thu_phong[column("below_threshold")], "true");
        let office = rows
            .iter()
            .find(|row| &row[column("code")] == "000.00.00.H23")
            .expect("office row");
        assert_eq!(&office[column("rank")], "");
        assert_eq!(&office[column("organisation_signed_rate")], "");
        assert_eq!(&office[column("incoming_electronic_rate")], "100.0");
        assert_eq!(&office[column("no_documents")], "true");
        let departments = &rows[17];
        assert_eq!(&departments[column("group")], "department");
        assert_eq!(&departments[column("units")], "6");
        assert_eq!(&departments[column("units_using_leader_signatures")], "1");
        assert_eq!(&departments[column("incoming_electronic_rate")], "88.7");
        let total = &rows[23];
        assert_eq!(&total[column("outgoing_total")], "71");
        assert_eq!(&total[column("incoming_electronic_rate")], "84.4");
        assert_eq!(&total[column("units_using_leader_signatures")], "2");
    }

    #[test]
    fn csv_quotes_names_holding_commas_and_quotes() {
        let mut report = april_report();
        report.units[0].name = "Sở \"Tài chính\", Hòa Bình".to_owned();
        let mut out = Vec::new();
        write_csv(&report, &mut out).expect("writes");
        let mut reader = csv::Reader::from_reader(&out[BOM.len()..]);
        let first = reader.records().next().expect("a row").expect("parses");
        assert_eq!(&first[3], "Sở \"Tài chính\", Hòa Bình");
    }

    #[test]
    fn json_parses_back_with_the_documented_fields() {
        let mut out = Vec::new();
        write_json(&april_report(), &mut out).expect("writes");
        let text = String::from_utf8(out).expect("UTF-8");
        assert!(
            text.contains("Sở Tài chính tỉnh Hòa Bình"),
            "names are not escaped"
        );
        let json: serde_json::Value = serde_json::from_str(&text).expect("parses");
        assert_eq!(
            json["request"],
            serde_json::json!({
                "range": { "first": "2026-04-01", "last": "2026-04-30", "time_zone": "UTC+07:00" },
                "scope": "province",
                "threshold": { "tenths_of_percent": 900, "percent": "90.0" },
                "rank_by": "organisation_signed",
            })
        );
        assert_eq!(
            json["units"][0],
            serde_json::json!({
                "rank": 1,
                "code": "000.00.01.H23",
                "name": "Sở Tài chính tỉnh Hòa Bình",
                "level": "province",
                "group": "department",
                "counts": {
                    "incoming_total": 50,
                    "incoming_electronic": 45,
                    "outgoing_total": 40,
                    "outgoing_electronic": 36,
                    "organisation_signed": 36,
                    "leader_signed": 10,
                },
                "rates": {
                    "incoming_electronic": { "numerator": 45, "denominator": 50, "percent": "90.0" },
                    "outgoing_electronic": { "numerator": 36, "denominator": 40, "percent": "90.0" },
                    "organisation_signed": { "numerator": 36, "denominator": 40, "percent": "90.0" },
                    "leader_signed": { "numerator": 10, "denominator": 40, "percent": "25.0" },
                },
                "below_threshold": false,
                "no_documents": false,
            })
        );
        let office = json["units"]
            .as_array()
            .expect("array")
            .iter()
            .find(|unit| unit["code"] == "000.00.00.H23")
            .expect("office");
        assert_eq!(office["rank"], serde_json::Value::Null);
        assert_eq!(
            office["rates"]["organisation_signed"],
            serde_json::Value::Null
        );
        assert_eq!(office["no_documents"], true);
        assert_eq!(json["groups"][1]["group"], "department");
        assert_eq!(json["groups"][1]["units"], 6);
        assert_eq!(json["groups"][1]["units_using_leader_signatures"], 1);
        assert_eq!(
            json["groups"][1]["rates"]["leader_signed"]["percent"],
            "16.7"
        );
        assert_eq!(json["levels"][0]["level"], "province");
        assert_eq!(json["levels"][0]["counts"]["incoming_total"], 58);
        assert_eq!(json["total"]["units"], 16);
        assert_eq!(json["total"]["counts"]["outgoing_total"], 71);
        assert_eq!(
            json["total"]["rates"]["incoming_electronic"]["percent"],
            "84.4"
        );
    }

    #[test]
    fn the_table_shows_the_request_every_unit_and_the_x_of_y_lines() {
        let mut out = Vec::new();
        write_table(&april_report(), &mut out).expect("writes");
        let text = String::from_utf8(out).expect("UTF-8");
        assert!(text.contains("Period:     2026-04-01 – 2026-04-30, Vietnam time (UTC+7)"));
        assert!(text.contains("Scope:      whole province"));
        assert!(text.contains("Threshold:  90.0%"));
        for name in [
            "Sở Tài chính tỉnh Hòa Bình",
            "Ủy ban nhân dân xã Thu Phong",
            "Ủy ban nhân dân xã Tân Vinh",
        ] {
            assert!(text.contains(name), "{name} missing");
        }
        let line = |start: &str| {
            text.lines()
                .find(|line| line.trim_start().starts_with(start))
                .unwrap_or_else(|| panic!("no line starting {start:?}"))
                .to_owned()
        };
        assert!(line("Departments").ends_with("1 of 6 units used leaders' signatures"));
        assert!(line("Communes").ends_with("0 of 4 units used leaders' signatures"));
        assert!(line("Total").ends_with("2 of 16 units used leaders' signatures"));
        assert!(line("Province level").contains("52 (89.7%)"));
        let cao_phong = line("3  000.00.31.H23");
        assert!(cao_phong.contains("7 (87.5%)") && cao_phong.ends_with("below"));
        assert!(line("—  000.00.00.H23").ends_with("no documents"));
    }

    #[test]
    fn table_columns_align_by_characters_not_bytes() {
        let mut table = Table::new(&[("Unit", Align::Left), ("Documents", Align::Right)]);
        table.push(vec![
            "Ủy ban nhân dân xã Đồng Tâm".to_owned(),
            "7".to_owned(),
        ]);
        table.push(vec!["Sở Nội vụ".to_owned(), "1234".to_owned()]);
        let mut out = Vec::new();
        table.write(&mut out).expect("writes");
        assert_eq!(
            String::from_utf8(out).expect("UTF-8"),
            "Unit                         Documents\n\
             ---------------------------  ---------\n\
             Ủy ban nhân dân xã Đồng Tâm          7\n\
             Sở Nội vụ                         1234\n"
        );
    }

    #[test]
    fn a_failing_output_is_reported_not_ignored() {
        struct Full;
        impl Write for Full {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::ErrorKind::StorageFull.into())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let report = april_report();
        assert!(matches!(
            write_table(&report, Full),
            Err(ReportError::Write { .. })
        ));
        assert!(matches!(
            write_csv(&report, Full),
            Err(ReportError::Write { .. })
        ));
        assert!(matches!(
            write_json(&report, Full),
            Err(ReportError::Json { .. })
        ));
    }
}
