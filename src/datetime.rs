//! Calendar formatting of instants: RFC 3339 and PDF dates (ISO 32000-2
//! §7.9.4), both in UTC. Core code takes instants as arguments; only this
//! module turns them into text.

use std::time::{SystemTime, UNIX_EPOCH};

/// Formats `time` as a PDF date in UTC, e.g. `D:20261127083000Z`.
pub fn pdf_date(time: SystemTime) -> String {
    let [year, month, day, hour, minute, second] = fields(time);
    format!("D:{year:04}{month:02}{day:02}{hour:02}{minute:02}{second:02}Z")
}

/// Formats `time` as RFC 3339 in UTC, e.g. `2026-11-27T08:30:00Z`.
pub fn rfc3339(time: SystemTime) -> String {
    let [year, month, day, hour, minute, second] = fields(time);
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z")
}

/// Year, month, day, hour, minute, second in UTC; instants before 1970 are
/// shown as 1970-01-01T00:00:00Z (kyso never handles such times).
fn fields(time: SystemTime) -> [u64; 6] {
    let seconds = time
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (year, month, day) = civil_from_days(seconds / 86_400);
    let rest = seconds % 86_400;
    [year, month, day, rest / 3600, rest % 3600 / 60, rest % 60]
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian
/// calendar (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_known_instant_is_written_as_a_utc_pdf_date() {
        // 2026-11-27T08:30:05Z
        let t = UNIX_EPOCH + Duration::from_secs(1_795_768_205);
        assert_eq!(pdf_date(t), "D:20261127083005Z");
        assert_eq!(rfc3339(t), "2026-11-27T08:30:05Z");
    }

    #[test]
    fn leap_days_are_counted() {
        // 2024-02-29T00:00:00Z
        let t = UNIX_EPOCH + Duration::from_secs(1_709_164_800);
        assert_eq!(pdf_date(t), "D:20240229000000Z");
    }
}
