//! `kyso units`, `kyso record` and `kyso report` as an administrator and an
//! auditor run them against a real server: CSV import with Vietnamese names,
//! reports as a table, CSV with a BOM and JSON, the ledger streamed as CSV,
//! and exit codes (0 done, 1 failure, 2 bad input).

mod support;

use kyso::datetime::VietnamDate;
use std::path::Path;
use std::process::{Command, Output};
use std::time::SystemTime;
use support::make_base_pdf;
use support::server::{KysoServer, UNIT};

fn kyso(server: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kyso"))
        .args(args)
        .env("KYSO_SERVER", server)
        .output()
        .expect("run kyso")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn this_month() -> String {
    VietnamDate::of(SystemTime::now()).to_string()[..7].to_string()
}

const NEW_DEPARTMENT: &str = "000.00.07.H23";

#[test]
fn an_administrator_imports_units_from_csv_and_sees_them_listed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = KysoServer::start(&dir.path().join("data"), &[]);
    let csv = dir.path().join("units.csv");
    std::fs::write(
        &csv,
        "\u{feff}code,name,group,parent,leaders\n\
         000.00.07.H23,Sở Tư pháp tỉnh Hòa Bình,department,,nguyen-thi-hoa=Nguyễn Thị Hoa\n\
         000.07.31.H23,UBND xã Đông Phong,commune,000.00.31.H23,\n",
    )
    .expect("write csv");
    let imported = kyso(&server.url, &["units", "import", path(&csv)]);
    assert!(imported.status.success(), "{}", text(&imported));
    assert!(text(&imported).contains("2 added"), "{}", text(&imported));

    let listed = kyso(&server.url, &["units", "list", "--json"]);
    assert!(listed.status.success(), "{}", text(&listed));
    let units: serde_json::Value = serde_json::from_slice(&listed.stdout).expect("json");
    let units = units.as_array().expect("array");
    assert_eq!(units.len(), 18);
    let justice = units
        .iter()
        .find(|u| u["code"] == NEW_DEPARTMENT)
        .expect("imported unit listed");
    assert_eq!(justice["name"], "Sở Tư pháp tỉnh Hòa Bình");
    assert_eq!(justice["level"], "province");
    assert_eq!(justice["leaders"][0]["full_name"], "Nguyễn Thị Hoa");

    // Importing the same file again is refused as a whole (exit 2) …
    let again = kyso(&server.url, &["units", "import", path(&csv)]);
    assert_eq!(again.status.code(), Some(2), "{}", text(&again));
    assert!(text(&again).contains("000.00.07.H23"), "{}", text(&again));
    // … unless the administrator asks to update.
    let updated = kyso(&server.url, &["units", "import", "--update", path(&csv)]);
    assert!(updated.status.success(), "{}", text(&updated));
    assert!(text(&updated).contains("2 updated"), "{}", text(&updated));

    // A commune whose district does not exist, and a bad group, are bad input.
    let orphan = dir.path().join("orphan.csv");
    std::fs::write(
        &orphan,
        "code,name,group,parent\n001.99.00.H23,Xã Mồ Côi,commune,000.99.00.H23\n",
    )
    .expect("write");
    let refused = kyso(&server.url, &["units", "import", path(&orphan)]);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
    let bad_group = kyso(
        &server.url,
        &[
            "units",
            "add",
            "--code",
            "000.00.08.H23",
            "--name",
            "Bộ",
            "--group",
            "ministry",
        ],
    );
    assert_eq!(bad_group.status.code(), Some(2), "{}", text(&bad_group));
    assert!(
        text(&bad_group).contains("ministry"),
        "{}",
        text(&bad_group)
    );
}

#[test]
fn an_auditor_pulls_the_report_as_a_table_csv_and_json() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(input) = make_base_pdf(dir.path(), 1) else {
        return;
    };
    let server = KysoServer::start(&dir.path().join("data"), &[]);
    let signed = dir.path().join("signed.pdf");
    for id in ["cv-1", "cv-2"] {
        let output = kyso(
            &server.url,
            &[
                "sign",
                path(&input),
                "-o",
                path(&signed),
                "--server",
                &server.url,
                "--unit",
                UNIT,
                "--as",
                "organisation",
                "--document-id",
                id,
            ],
        );
        assert!(output.status.success(), "{}", text(&output));
    }
    for (id, channel) in [("cv-3", "paper"), ("cv-4", "paper")] {
        let output = kyso(
            &server.url,
            &[
                "record",
                "--unit",
                UNIT,
                "--direction",
                "outgoing",
                "--document-id",
                id,
                "--channel",
                channel,
            ],
        );
        assert!(output.status.success(), "{}", text(&output));
        assert!(text(&output).contains("new document"), "{}", text(&output));
    }
    let repeated = kyso(
        &server.url,
        &[
            "record",
            "--unit",
            UNIT,
            "--direction",
            "outgoing",
            "--document-id",
            "cv-4",
            "--channel",
            "paper",
        ],
    );
    assert!(
        text(&repeated).contains("already recorded"),
        "{}",
        text(&repeated)
    );
    let month = this_month();

    // CSV: BOM, then rows a spreadsheet reads, Vietnamese intact.
    let csv_path = dir.path().join("report.csv");
    let output = kyso(
        &server.url,
        &[
            "report",
            "--month",
            &month,
            "--format",
            "csv",
            "-o",
            path(&csv_path),
        ],
    );
    assert!(output.status.success(), "{}", text(&output));
    let bytes = std::fs::read(&csv_path).expect("csv");
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "no BOM");
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    let headers = reader.headers().expect("headers").clone();
    let column = |name: &str| headers.iter().position(|h| h == name).expect(name);
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    let unit = rows
        .iter()
        .find(|r| &r[column("row_type")] == "unit" && &r[column("code")] == UNIT)
        .expect("unit row");
    assert_eq!(&unit[column("outgoing_total")], "4");
    assert_eq!(&unit[column("organisation_signed")], "2");
    assert_eq!(&unit[column("organisation_signed_rate")], "50.0");
    assert_eq!(&unit[column("outgoing_electronic_rate")], "50.0");
    assert_eq!(&unit[column("rank")], "1");
    assert_eq!(&unit[column("below_threshold")], "true");
    assert!(rows.iter().any(|r| r[column("name")].contains("Hòa Bình")));

    // JSON for scripts.
    let output = kyso(
        &server.url,
        &[
            "report", "--month", &month, "--format", "json", "--unit", UNIT,
        ],
    );
    assert!(output.status.success(), "{}", text(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(json["units"].as_array().expect("units").len(), 1);
    assert_eq!(json["total"]["counts"]["outgoing_total"], 4);

    // The table for people.
    let output = kyso(
        &server.url,
        &["report", "--month", &month, "--threshold", "40"],
    );
    assert!(output.status.success(), "{}", text(&output));
    let table = text(&output);
    assert!(table.contains("units used leaders' signatures"), "{table}");
    assert!(table.contains("50.0%"), "{table}");

    // The ledger behind it, streamed as CSV.
    let ledger = dir.path().join("ledger.csv");
    let output = kyso(
        &server.url,
        &[
            "report",
            "--month",
            &month,
            "--documents",
            "-o",
            path(&ledger),
        ],
    );
    assert!(output.status.success(), "{}", text(&output));
    let bytes = std::fs::read(&ledger).expect("ledger");
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    let entries = csv::Reader::from_reader(&bytes[3..]).records().count();
    assert_eq!(entries, 4);

    // Bad input is exit 2; an unreachable server is exit 1.
    let bad = kyso(&server.url, &["report", "--month", "2026-13"]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
    assert!(text(&bad).contains("2026-13"), "{}", text(&bad));
    let unreachable = kyso("http://127.0.0.1:1", &["report", "--month", &month]);
    assert_eq!(unreachable.status.code(), Some(1), "{}", text(&unreachable));
}
