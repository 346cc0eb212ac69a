//! The per-day counts: each entry's contribution and the deltas a transaction applies.

use super::*;

/// The count columns of `daily_counts`, in the order of
/// [`StoredEntry::contribution`] and [`UnitCounts`]'s fields.
pub(super) const COUNT_COLUMNS: [&str; 6] = [
    "incoming_total",
    "incoming_electronic",
    "outgoing_total",
    "outgoing_electronic",
    "organisation_signed",
    "leader_signed",
];

/// The sums of the entries' contributions over the rows of `documents d`,
/// named like [`COUNT_COLUMNS`]; the SQL twin of
/// [`StoredEntry::contribution`].
pub(super) const CONTRIBUTION_SUMS: &str = "\
    CAST(SUM(CASE WHEN d.direction = 'incoming' THEN 1 ELSE 0 END) AS BIGINT) \
        AS incoming_total, \
    CAST(SUM(CASE WHEN d.direction = 'incoming' AND d.channel = 'electronic' \
        AND d.verdict = 'total_passed' THEN 1 ELSE 0 END) AS BIGINT) AS incoming_electronic, \
    CAST(SUM(CASE WHEN d.direction = 'outgoing' THEN 1 ELSE 0 END) AS BIGINT) \
        AS outgoing_total, \
    CAST(SUM(CASE WHEN d.direction = 'outgoing' AND d.channel = 'electronic' \
        THEN 1 ELSE 0 END) AS BIGINT) AS outgoing_electronic, \
    CAST(SUM(CASE WHEN d.direction = 'outgoing' AND d.organisation_signed_at IS NOT NULL \
        THEN 1 ELSE 0 END) AS BIGINT) AS organisation_signed, \
    CAST(SUM(CASE WHEN d.direction = 'outgoing' AND d.leader_signed_at IS NOT NULL \
        THEN 1 ELSE 0 END) AS BIGINT) AS leader_signed";

/// Changes to `daily_counts` gathered in a transaction, keyed (and so
/// applied) in (day, unit) order.
pub(super) struct CountDeltas(pub(super) BTreeMap<(i64, String), [i64; 6]>);

impl CountDeltas {
    pub(super) fn new() -> Self {
        Self(BTreeMap::new())
    }

    pub(super) fn add(
        &mut self,
        unit: &UnitCode,
        day: i64,
        direction: Direction,
        before: Option<&StoredEntry>,
        after: &StoredEntry,
    ) {
        let before = before.map_or([0; 6], |entry| entry.contribution(direction));
        let after = after.contribution(direction);
        if before == after {
            return;
        }
        let delta = self
            .0
            .entry((day, unit.as_str().to_owned()))
            .or_insert([0; 6]);
        for ((sum, after), before) in delta.iter_mut().zip(after).zip(before) {
            *sum += after - before;
        }
    }
}

/// Adds the deltas to `daily_counts`, one multi-row upsert per
/// [`ROWS_PER_STATEMENT`] rows, in (day, unit) order.
pub(super) async fn apply_deltas(
    connection: &mut AnyConnection,
    engine: Engine,
    deltas: &CountDeltas,
) -> Result<(), RecordsError> {
    let rows: Vec<(&(i64, String), &[i64; 6])> = deltas
        .0
        .iter()
        .filter(|(_, delta)| delta.iter().any(|&change| change != 0))
        .collect();
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO daily_counts (unit_code, day, incoming_total, incoming_electronic, \
                 outgoing_total, outgoing_electronic, organisation_signed, leader_signed) \
             VALUES {} \
             ON CONFLICT (day, unit_code) DO UPDATE SET \
                 incoming_total = daily_counts.incoming_total + excluded.incoming_total, \
                 incoming_electronic = \
                     daily_counts.incoming_electronic + excluded.incoming_electronic, \
                 outgoing_total = daily_counts.outgoing_total + excluded.outgoing_total, \
                 outgoing_electronic = \
                     daily_counts.outgoing_electronic + excluded.outgoing_electronic, \
                 organisation_signed = \
                     daily_counts.organisation_signed + excluded.organisation_signed, \
                 leader_signed = daily_counts.leader_signed + excluded.leader_signed",
            engine.placeholders(chunk.len(), 8)
        );
        let mut query = sqlx::query(&sql);
        for ((day, unit), delta) in chunk {
            query = query.bind(unit.as_str()).bind(*day);
            for change in *delta {
                query = query.bind(*change);
            }
        }
        query.execute(&mut *connection).await.map_err(database)?;
    }
    Ok(())
}
