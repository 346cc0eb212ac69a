//! The bench filler's bulk SQL.

use super::*;

/// The `INSERT … SELECT` that writes bench entries `$1..=$2`. Unit codes are
/// written into the SQL as literals: their grammar (digits, dots, one
/// upper-case letter) holds no quote.
pub(super) fn bench_insert_sql(
    engine: Engine,
    units: &[UnitCode],
    range: DateRange,
    seed: u64,
) -> String {
    let unit_rows = (0..)
        .zip(units)
        .map(|(index, unit): (u64, _)| format!("({index}, '{}')", unit.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    let unit_count = units.len();
    let first_day = range.first.day_number();
    let days = range.last.day_number() - first_day + 1;
    // Three multiplicative hashes of the entry number, each keeping its high
    // 16 bits; the constants are odd and fit, multiplied by 10^8 entries, in
    // 63 bits.
    let salt = seed % (1 << 32);
    let day_micros = 86_400_000_000_i64;
    let offset_micros = VIETNAM_OFFSET_SECONDS * 1_000_000;
    format!(
        "WITH RECURSIVE {series}, \
         u(i, code) AS (VALUES {unit_rows}), \
         h(x, a, b, c) AS (SELECT x, \
             ((x * 2654435761 + {salt}) % 4294967296) / 65536, \
             ((x * 2246822519 + {salt}) % 4294967296) / 65536, \
             ((x * 3266489917 + {salt}) % 4294967296) / 65536 FROM g), \
         r AS (SELECT x, a, b, c, \
             {first_day} + a % {days} AS day, \
             CASE WHEN b % 2 = 0 THEN 'outgoing' ELSE 'incoming' END AS direction, \
             ({first_day} + a % {days}) * {day_micros} - {offset_micros} \
                 + (c * 1318699) % {day_micros} AS at \
             FROM h) \
         INSERT INTO documents (unit_code, direction, document_id, day, first_recorded_at, \
             channel, organisation_signed_at, organisation_certificate, leader_signed_at, \
             leader_id, leader_certificate, verdict, verified_at, updated_at) \
         SELECT u.code, r.direction, 'bench-{seed}-' || CAST(10000000000 + r.x AS TEXT), r.day, r.at, \
             CASE WHEN (r.b / 2) % 10 < 8 THEN 'electronic' ELSE 'paper' END, \
             CASE WHEN r.direction = 'outgoing' AND r.c % 10 < 7 THEN r.at + 60000000 END, \
             CASE WHEN r.direction = 'outgoing' AND r.c % 10 < 7 THEN '0A1B2C3D' END, \
             CASE WHEN r.direction = 'outgoing' AND (r.c / 10) % 10 < 6 \
                 THEN r.at + 30000000 END, \
             CASE WHEN r.direction = 'outgoing' AND (r.c / 10) % 10 < 6 \
                     AND (r.c / 100) % 4 > 0 THEN 'bench-leader' END, \
             CASE WHEN r.direction = 'outgoing' AND (r.c / 10) % 10 < 6 \
                 THEN '4E5F6A7B' END, \
             CASE WHEN r.direction = 'incoming' THEN CASE \
                 WHEN (r.b / 20) % 20 < 14 THEN 'total_passed' \
                 WHEN (r.b / 20) % 20 < 16 THEN 'total_failed' \
                 WHEN (r.b / 20) % 20 < 17 THEN 'indeterminate' END END, \
             CASE WHEN r.direction = 'incoming' AND (r.b / 20) % 20 < 17 \
                 THEN r.at + 90000000 END, \
             r.at + 120000000 \
         FROM r JOIN u ON u.i = r.x % {unit_count} \
         WHERE TRUE \
         ON CONFLICT (unit_code, direction, document_id) DO NOTHING",
        series = engine.integer_series(),
    )
}
