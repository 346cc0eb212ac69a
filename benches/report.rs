//! The monthly signing-rate report over a ledger of 10 million entries, on
//! SQLite and on PostgreSQL (goal: under 1 s on both).
//!
//! The ledger is spread over a synthetic province of 201 units (the People's
//! Committee office, 20 departments, 10 districts, 170 communes) and the 12
//! months of 2026, with a fixed mix of paper and electronic, signed and
//! unsigned, valid and invalid documents. The filled databases are kept
//! (SQLite under `target/kyso-bench/`, PostgreSQL database
//! `kyso_bench_<entries>`) and reused by later runs.
//!
//! Two timings per engine: the report as the server builds it (sums of the
//! per-day counts kept with each entry, then the roll-ups), and the same
//! counts recomputed from the ledger itself, to show what the maintained
//! counts buy.
//!
//! `KYSO_BENCH_ENTRIES` changes the ledger size (default 10,000,000);
//! `KYSO_BENCH_POSTGRES_URL` the PostgreSQL server (default
//! `postgres://postgres@127.0.0.1:5432`).

use criterion::{Criterion, criterion_group, criterion_main};
use kyso::datetime::VietnamDate;
use kyso::records::{DateRange, RecordStore};
use kyso::report::{Metric, ReportRequest, Scope, Threshold, build_report};
use kyso::units::{Unit, UnitCode, UnitGroup, UnitRegistry};
use std::time::{Duration, Instant};

fn code(text: &str) -> UnitCode {
    UnitCode::parse(text).expect("unit code")
}

fn unit(code_text: &str, name: String, group: UnitGroup, parent: Option<&str>) -> Unit {
    Unit {
        code: code(code_text),
        name,
        level: group.level(),
        group,
        parent: parent.map(code),
        leaders: Vec::new(),
    }
}

/// A province of 201 units.
fn province() -> UnitRegistry {
    let mut units = vec![unit(
        "000.00.00.H23",
        "Văn phòng UBND tỉnh Hòa Bình".into(),
        UnitGroup::ProvinceOffice,
        None,
    )];
    for n in 1..=20 {
        units.push(unit(
            &format!("000.00.{n:02}.H23"),
            format!("Sở số {n} tỉnh Hòa Bình"),
            UnitGroup::Department,
            None,
        ));
    }
    for district in 31..=40 {
        units.push(unit(
            &format!("000.{district}.00.H23"),
            format!("UBND huyện số {district}"),
            UnitGroup::District,
            None,
        ));
    }
    for n in 1..=170 {
        let district = 31 + (n - 1) % 10;
        units.push(unit(
            &format!("{n:03}.{district}.00.H23"),
            format!("UBND xã số {n}"),
            UnitGroup::Commune,
            Some(&format!("000.{district}.00.H23")),
        ));
    }
    UnitRegistry::new(units).expect("synthetic province")
}

fn year_2026() -> DateRange {
    DateRange::new(
        VietnamDate::parse("2026-01-01").expect("date"),
        VietnamDate::parse("2026-12-31").expect("date"),
    )
    .expect("range")
}

fn april_2026() -> DateRange {
    let (first, last) = VietnamDate::parse_month("2026-04").expect("month");
    DateRange::new(first, last).expect("range")
}

fn entries_wanted() -> u64 {
    std::env::var("KYSO_BENCH_ENTRIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000_000)
}

/// Opens (filling on first use) the bench database at `url`.
async fn filled_store(url: &str, registry: &UnitRegistry, entries: u64) -> RecordStore {
    let store = RecordStore::open(url)
        .await
        .expect("open the bench database");
    store.seed_units(registry).await.expect("units");
    let held: u64 = store
        .counts(year_2026())
        .await
        .expect("counts")
        .iter()
        .map(|(_, c)| c.incoming_total + c.outgoing_total)
        .sum();
    if held != entries {
        assert_eq!(
            held, 0,
            "the bench database at {url} holds {held} entries, not {entries}: delete it"
        );
        let codes: Vec<UnitCode> = registry.units().iter().map(|u| u.code.clone()).collect();
        let started = Instant::now();
        eprintln!("filling {url} with {entries} ledger entries (once; later runs reuse it)");
        store
            .fill_for_bench(&codes, entries, year_2026(), 2026)
            .await
            .expect("fill");
        eprintln!("filled in {:.1} s", started.elapsed().as_secs_f64());
    }
    store
}

async fn postgres_url(entries: u64) -> String {
    use sqlx::Connection;
    let server = std::env::var("KYSO_BENCH_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    let server = server.trim_end_matches('/').to_string();
    let name = format!("kyso_bench_{entries}");
    let mut admin = sqlx::PgConnection::connect(&format!("{server}/postgres"))
        .await
        .expect("PostgreSQL for the bench");
    let exists: Option<(i32,)> = sqlx::query_as("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(&name)
        .fetch_optional(&mut admin)
        .await
        .expect("query");
    if exists.is_none() {
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .expect("create the bench database");
    }
    format!("{server}/{name}")
}

fn request() -> ReportRequest {
    ReportRequest {
        range: april_2026(),
        scope: Scope::Province,
        threshold: Threshold::parse("90").expect("threshold"),
        rank_by: Metric::OrganisationSigned,
    }
}

fn bench_engine(c: &mut Criterion, engine: &str, url: &str, runtime: &tokio::runtime::Runtime) {
    let registry = province();
    let entries = entries_wanted();
    let store = runtime.block_on(filled_store(url, &registry, entries));
    let request = request();

    // The figures both ways must agree before either is timed.
    let maintained = runtime
        .block_on(store.counts(request.range))
        .expect("counts");
    let recounted = runtime
        .block_on(store.counts_from_entries(request.range))
        .expect("recount");
    let mut maintained_sorted = maintained.clone();
    maintained_sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut recounted_sorted = recounted.clone();
    recounted_sorted.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        maintained_sorted, recounted_sorted,
        "{engine}: counts disagree"
    );
    let april: u64 = maintained
        .iter()
        .map(|(_, c)| c.incoming_total + c.outgoing_total)
        .sum();
    eprintln!("{engine}: {entries} entries, {april} of them in April 2026");

    let mut group = c.benchmark_group(format!("monthly report, {entries} entries"));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    group.bench_function(format!("{engine}: report from daily counts"), |b| {
        b.iter(|| {
            runtime.block_on(async {
                let registry = store.units().await.expect("units");
                let counts = store.counts(request.range).await.expect("counts");
                build_report(&registry, &counts, &request).expect("report")
            })
        })
    });
    group.bench_function(format!("{engine}: recount from the ledger"), |b| {
        b.iter(|| {
            runtime.block_on(async {
                let registry = store.units().await.expect("units");
                let counts = store
                    .counts_from_entries(request.range)
                    .await
                    .expect("counts");
                build_report(&registry, &counts, &request).expect("report")
            })
        })
    });
    group.finish();
    runtime.block_on(store.close());
}

fn report(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let entries = entries_wanted();
    let directory = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/kyso-bench");
    std::fs::create_dir_all(&directory).expect("bench directory");
    let sqlite = RecordStore::sqlite_url(&directory.join(format!("records-{entries}.db")));
    bench_engine(c, "sqlite", &sqlite, &runtime);
    let postgres = runtime.block_on(postgres_url(entries));
    bench_engine(c, "postgres", &postgres, &runtime);
}

criterion_group!(benches, report);
criterion_main!(benches);
