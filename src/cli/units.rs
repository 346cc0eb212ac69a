//! `kyso units`: list, add and import the units a server records for.

use super::{CliError, client_error, runtime};
use crate::api::client;
use crate::api::proto::{self, AddUnitsRequest, ListUnitsRequest};
use clap::{Args, Subcommand};
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `kyso units`.
#[derive(Debug, Args)]
#[command(
    after_help = "Units CSV (UTF-8, a BOM is allowed), one header row:\n  \
code,name,group,parent,leaders\n  \
000.00.31.H23,Sở Tư pháp tỉnh Hòa Bình,department,,nguyen-van-an=Nguyễn Văn An;le-thi-binh=Lê Thị Bình\n\
group is one of province_office, department, district, commune (the level follows from it);\n\
parent and leaders may be empty. Parents may appear later in the same file.\n\
Exit codes: 0 done, 1 the server could not be reached or failed, 2 bad input."
)]
pub struct UnitsArgs {
    /// The kyso server.
    #[arg(
        long,
        global = true,
        env = "KYSO_SERVER",
        default_value = "http://127.0.0.1:50051"
    )]
    server: String,
    /// What to do.
    #[command(subcommand)]
    command: UnitsCommand,
}

/// The `kyso units` subcommands.
#[derive(Debug, Subcommand)]
enum UnitsCommand {
    /// List the units, in registry order.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Add one unit.
    Add {
        /// Document-exchange code, e.g. 000.00.31.H23.
        #[arg(long)]
        code: String,
        /// Official name in UTF-8.
        #[arg(long)]
        name: String,
        /// province_office, department, district or commune.
        #[arg(long)]
        group: String,
        /// Code of the unit above it.
        #[arg(long)]
        parent: Option<String>,
        /// A leader, as ID=FULL NAME; repeatable.
        #[arg(long = "leader", value_name = "ID=FULL NAME")]
        leaders: Vec<String>,
        /// Replace the unit if its code exists.
        #[arg(long)]
        update: bool,
    },
    /// Add the units of a CSV file, all or none.
    Import {
        /// The CSV file.
        file: PathBuf,
        /// Replace units whose codes exist (otherwise they are an error).
        #[arg(long)]
        update: bool,
    },
}

pub(super) fn run(args: UnitsArgs) -> Result<(), CliError> {
    let server = args.server;
    match args.command {
        UnitsCommand::List { json } => list(&server, json),
        UnitsCommand::Add {
            code,
            name,
            group,
            parent,
            leaders,
            update,
        } => {
            let unit = proto::Unit {
                code,
                name,
                group: parse_group(&group)?.into(),
                parent: parent.unwrap_or_default(),
                leaders: leaders
                    .iter()
                    .map(|l| parse_leader(l))
                    .collect::<Result<_, _>>()?,
                ..proto::Unit::default()
            };
            add(&server, vec![unit], update)
        }
        UnitsCommand::Import { file, update } => {
            let units = read_csv(&file)?;
            add(&server, units, update)
        }
    }
}

fn list(server: &str, json: bool) -> Result<(), CliError> {
    let units = runtime()?
        .block_on(async {
            client::records(server)
                .await?
                .list_units(ListUnitsRequest {})
                .await
                .map_err(client::ClientError::from)
        })
        .map_err(client_error)?
        .into_inner()
        .units;
    let mut out = std::io::stdout().lock();
    if json {
        let value: Vec<serde_json::Value> = units
            .iter()
            .map(|u| {
                serde_json::json!({
                    "code": u.code,
                    "name": u.name,
                    "level": level_name(u.level),
                    "group": group_name(u.group),
                    "parent": (!u.parent.is_empty()).then_some(&u.parent),
                    "leaders": u.leaders.iter().map(|l| serde_json::json!({
                        "id": l.id, "full_name": l.full_name
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        let text =
            serde_json::to_string_pretty(&value).map_err(|e| CliError::Failure(e.to_string()))?;
        return writeln!(out, "{text}").map_err(|e| CliError::Failure(e.to_string()));
    }
    for unit in &units {
        let leaders: Vec<String> = unit
            .leaders
            .iter()
            .map(|l| format!("{} ({})", l.full_name, l.id))
            .collect();
        let line = format!(
            "{}  {:<15} {}{}{}",
            unit.code,
            group_name(unit.group),
            unit.name,
            if unit.parent.is_empty() {
                String::new()
            } else {
                format!("  [under {}]", unit.parent)
            },
            if leaders.is_empty() {
                String::new()
            } else {
                format!("  leaders: {}", leaders.join(", "))
            },
        );
        writeln!(out, "{line}").map_err(|e| CliError::Failure(e.to_string()))?;
    }
    Ok(())
}

fn add(server: &str, units: Vec<proto::Unit>, update: bool) -> Result<(), CliError> {
    let count = units.len();
    let answer = runtime()?
        .block_on(async {
            client::records(server)
                .await?
                .add_units(AddUnitsRequest {
                    units,
                    update_existing: update,
                })
                .await
                .map_err(client::ClientError::from)
        })
        .map_err(client_error)?
        .into_inner();
    println!(
        "{count} units sent: {} added, {} updated",
        answer.added, answer.updated
    );
    Ok(())
}

fn parse_group(text: &str) -> Result<proto::UnitGroup, CliError> {
    match text.trim() {
        "province_office" => Ok(proto::UnitGroup::ProvinceOffice),
        "department" => Ok(proto::UnitGroup::Department),
        "district" => Ok(proto::UnitGroup::District),
        "commune" => Ok(proto::UnitGroup::Commune),
        other => Err(CliError::BadInput(format!(
            "group {other:?} is not one of province_office, department, district, commune"
        ))),
    }
}

fn parse_leader(text: &str) -> Result<proto::Leader, CliError> {
    let (id, name) = text.split_once('=').ok_or_else(|| {
        CliError::BadInput(format!(
            "leader {text:?} is not ID=FULL NAME (e.g. nguyen-van-an=Nguyễn Văn An)"
        ))
    })?;
    Ok(proto::Leader {
        id: id.trim().to_string(),
        full_name: name.trim().to_string(),
    })
}

/// The name of a proto group, as in CSV files.
pub(super) fn group_name(value: i32) -> &'static str {
    match proto::UnitGroup::try_from(value) {
        Ok(proto::UnitGroup::ProvinceOffice) => "province_office",
        Ok(proto::UnitGroup::Department) => "department",
        Ok(proto::UnitGroup::District) => "district",
        Ok(proto::UnitGroup::Commune) => "commune",
        _ => "unspecified",
    }
}

/// The name of a proto level.
pub(super) fn level_name(value: i32) -> &'static str {
    match proto::UnitLevel::try_from(value) {
        Ok(proto::UnitLevel::Province) => "province",
        Ok(proto::UnitLevel::District) => "district",
        Ok(proto::UnitLevel::Commune) => "commune",
        _ => "unspecified",
    }
}

/// Reads a units CSV file; every problem names its line.
fn read_csv(path: &PathBuf) -> Result<Vec<proto::Unit>, CliError> {
    let bytes = std::fs::read(path)
        .map_err(|e| CliError::BadInput(format!("cannot read {}: {e}", path.display())))?;
    parse_csv(&bytes).map_err(|e| CliError::BadInput(format!("{}: {e}", path.display())))
}

fn parse_csv(bytes: &[u8]) -> Result<Vec<proto::Unit>, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let headers = reader
        .headers()
        .map_err(|e| format!("cannot read the header row: {e}"))?
        .clone();
    let column = |name: &str| headers.iter().position(|h| h == name);
    let (Some(code), Some(name), Some(group)) = (column("code"), column("name"), column("group"))
    else {
        return Err(
            "the header row must name at least the columns code, name and group".to_string(),
        );
    };
    let parent = column("parent");
    let leaders = column("leaders");
    let mut units = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let line = index + 2;
        let record = record.map_err(|e| format!("line {line}: {e}"))?;
        let field = |i: Option<usize>| i.and_then(|i| record.get(i)).unwrap_or("").to_string();
        let group = parse_group(&field(Some(group))).map_err(|e| format!("line {line}: {e}"))?;
        let leader_list = field(leaders);
        let leaders = leader_list
            .split(';')
            .filter(|l| !l.trim().is_empty())
            .map(parse_leader)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("line {line}: {e}"))?;
        units.push(proto::Unit {
            code: field(Some(code)),
            name: field(Some(name)),
            group: group.into(),
            parent: field(parent),
            leaders,
            ..proto::Unit::default()
        });
    }
    if units.is_empty() {
        return Err("holds no units".to_string());
    }
    Ok(units)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_units_csv_with_a_bom_and_vietnamese_names_is_read() {
        let text = "\u{feff}code,name,group,parent,leaders\n\
            000.00.31.H23,Sở Tư pháp tỉnh Hòa Bình,department,,nguyen-van-an=Nguyễn Văn An;le-thi-binh=Lê Thị Bình\n\
            000.31.01.H23,UBND xã Tân Vinh,commune,000.00.31.H23,\n";
        let units = parse_csv(text.as_bytes()).unwrap();
        assert_eq!(units.len(), 2);
        assert_eq!(units[0].name, "Sở Tư pháp tỉnh Hòa Bình");
        assert_eq!(units[0].leaders.len(), 2);
        assert_eq!(units[0].leaders[1].full_name, "Lê Thị Bình");
        assert_eq!(units[1].parent, "000.00.31.H23");
        assert_eq!(units[1].group, i32::from(proto::UnitGroup::Commune));
    }

    #[test]
    fn a_units_csv_with_an_unknown_group_names_the_line() {
        let text = "code,name,group\n000.00.31.H23,Sở Tư pháp,ministry\n";
        let error = parse_csv(text.as_bytes()).unwrap_err();
        assert!(error.contains("line 2"), "{error}");
        assert!(error.contains("ministry"), "{error}");
    }
}
