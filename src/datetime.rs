//! Calendar formatting of instants: RFC 3339 and PDF dates (ISO 32000-2
//! §7.9.4), both in UTC. Core code takes instants as arguments; only this
//! module turns them into text.

use std::time::{SystemTime, UNIX_EPOCH};

/// Formats `time` as a PDF date in UTC, e.g. `D:20261127083000Z`.
pub fn pdf_date(time: SystemTime) -> String {
    let mut out = Vec::with_capacity(17);
    write_pdf_date(&mut out, time);
    out.into_iter().map(char::from).collect()
}

/// Appends [`pdf_date`]'s text to `out`, digit by digit: every signature
/// writes one, and formatting it through `format!` cost more than the rest
/// of the signature dictionary.
pub fn write_pdf_date(out: &mut Vec<u8>, time: SystemTime) {
    let [year, month, day, hour, minute, second] = fields(time);
    out.extend_from_slice(b"D:");
    zero_padded(out, year, 4);
    for field in [month, day, hour, minute, second] {
        zero_padded(out, field, 2);
    }
    out.push(b'Z');
}

/// Appends `value` in decimal, left-padded with zeros to at least `width`
/// digits (also the PDF writer's integers, with `width` 1).
pub(crate) fn zero_padded(out: &mut Vec<u8>, value: u64, width: usize) {
    let mut digits = [b'0'; 20];
    let mut at = digits.len();
    let mut rest = value;
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at.min(digits.len() - width)..]);
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

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`); `None` before 1970.
fn days_from_civil(year: u64, month: u64, day: u64) -> Option<u64> {
    let year = if month <= 2 {
        year.checked_sub(1)?
    } else {
        year
    };
    let era = year / 400;
    let yoe = year - era * 400;
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe).checked_sub(719_468)
}

/// The instant of a UTC calendar time with an offset of `offset_seconds`
/// east of UTC; `None` for impossible fields.
fn instant(fields: [u64; 6], offset_seconds: i64) -> Option<SystemTime> {
    let [year, month, day, hour, minute, second] = fields;
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let days = days_from_civil(year, month, day)?;
    let local = days * 86_400 + hour * 3600 + minute * 60 + second;
    let utc = i64::try_from(local).ok()?.checked_sub(offset_seconds)?;
    Some(UNIX_EPOCH + std::time::Duration::from_secs(u64::try_from(utc).ok()?))
}

fn digits(text: &str, range: std::ops::Range<usize>) -> Option<u64> {
    let part = text.get(range)?;
    part.bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| part.parse().ok())?
}

/// Parses RFC 3339 (`2026-11-27T08:30:00Z`, `…+07:00`, fractions ignored)
/// or a bare date (`2026-11-27`, midnight UTC).
pub fn parse_rfc3339(text: &str) -> Option<SystemTime> {
    let text = text.trim();
    let date = [
        digits(text, 0..4)?,
        digits(text, 5..7)?,
        digits(text, 8..10)?,
    ];
    if text.get(4..5) != Some("-") || text.get(7..8) != Some("-") {
        return None;
    }
    if text.len() == 10 {
        return instant([date[0], date[1], date[2], 0, 0, 0], 0);
    }
    if !matches!(text.get(10..11), Some("T" | "t" | " "))
        || text.get(13..14) != Some(":")
        || text.get(16..17) != Some(":")
    {
        return None;
    }
    let time = [
        digits(text, 11..13)?,
        digits(text, 14..16)?,
        digits(text, 17..19)?,
    ];
    let mut rest = text.get(19..)?;
    if let Some(fraction) = rest.strip_prefix('.') {
        let end = fraction
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(fraction.len());
        rest = fraction.get(end..)?;
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.get(0..1)? {
                "+" => 1,
                "-" => -1,
                _ => return None,
            };
            let hours = i64::try_from(digits(rest, 1..3)?).ok()?;
            let minutes = i64::try_from(digits(rest, 4..6)?).ok()?;
            if rest.get(3..4) != Some(":") || rest.len() != 6 {
                return None;
            }
            sign * (hours * 3600 + minutes * 60)
        }
    };
    instant(
        [date[0], date[1], date[2], time[0], time[1], time[2]],
        offset,
    )
}

/// Parses a PDF date (ISO 32000-2 §7.9.4): `D:YYYYMMDDHHmmSSOHH'mm`, where
/// every part after the year is optional and a missing offset means UTC.
pub fn parse_pdf_date(text: &str) -> Option<SystemTime> {
    let text = text.strip_prefix("D:").unwrap_or(text);
    let field = |range: std::ops::Range<usize>, default: u64| -> Option<u64> {
        if text.len() < range.end
            || text
                .get(range.clone())
                .is_some_and(|p| !p.bytes().all(|b| b.is_ascii_digit()))
        {
            return (text.len() <= range.start).then_some(default);
        }
        digits(text, range)
    };
    let fields = [
        field(0..4, 0)?,
        field(4..6, 1)?,
        field(6..8, 1)?,
        field(8..10, 0)?,
        field(10..12, 0)?,
        field(12..14, 0)?,
    ];
    let offset = match text.get(14..15) {
        None | Some("Z") => 0,
        Some(sign @ ("+" | "-")) => {
            let rest = text.get(15..)?.replace('\'', "");
            let hours = i64::try_from(digits(&rest, 0..2)?).ok()?;
            let minutes = if rest.len() >= 4 {
                i64::try_from(digits(&rest, 2..4)?).ok()?
            } else {
                0
            };
            let magnitude = hours * 3600 + minutes * 60;
            if sign == "-" { -magnitude } else { magnitude }
        }
        Some(_) => return None,
    };
    instant(fields, offset)
}

/// Vietnam's offset from UTC: UTC+7 all year (no daylight saving time).
pub const VIETNAM_OFFSET_SECONDS: i64 = 7 * 3600;

/// A calendar date in Vietnam time (UTC+7), the calendar auditors count in:
/// a document signed at 23:30 on 30 April in Hanoi belongs to 30 April, and
/// so to April, although it is 16:30 UTC.
///
/// Stored as the number of days since 1970-01-01, which is what the records
/// store indexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VietnamDate(i64);

impl VietnamDate {
    /// The date in Vietnam at `instant`.
    pub fn of(instant: SystemTime) -> Self {
        let seconds = match instant.duration_since(UNIX_EPOCH) {
            Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX / 2),
            Err(before) => -i64::try_from(before.duration().as_secs()).unwrap_or(i64::MAX / 2),
        };
        Self((seconds + VIETNAM_OFFSET_SECONDS).div_euclid(86_400))
    }

    /// The date with this day number (days since 1970-01-01).
    pub fn from_day_number(days: i64) -> Self {
        Self(days)
    }

    /// Days since 1970-01-01.
    pub fn day_number(self) -> i64 {
        self.0
    }

    /// The date of year, month (1–12) and day (1–31); `None` for impossible
    /// dates (30 February) and dates before 1970.
    pub fn from_calendar(year: u64, month: u64, day: u64) -> Option<Self> {
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        let days = days_from_civil(year, month, day)?;
        Some(Self(i64::try_from(days).ok()?))
    }

    /// Parses `YYYY-MM-DD`.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        if text.len() != 10 || text.get(4..5) != Some("-") || text.get(7..8) != Some("-") {
            return None;
        }
        Self::from_calendar(
            digits(text, 0..4)?,
            digits(text, 5..7)?,
            digits(text, 8..10)?,
        )
    }

    /// Year, month, day.
    pub fn calendar(self) -> (u64, u64, u64) {
        civil_from_days(u64::try_from(self.0).unwrap_or(0))
    }

    /// The first and last date of a month, e.g. `2026-04` → 1 and 30 April.
    pub fn month(year: u64, month: u64) -> Option<(Self, Self)> {
        let first = Self::from_calendar(year, month, 1)?;
        let last = Self::from_calendar(year, month, days_in_month(year, month))?;
        Some((first, last))
    }

    /// Parses a month written `YYYY-MM` into its first and last date.
    pub fn parse_month(text: &str) -> Option<(Self, Self)> {
        let text = text.trim();
        if text.len() != 7 || text.get(4..5) != Some("-") {
            return None;
        }
        Self::month(digits(text, 0..4)?, digits(text, 5..7)?)
    }

    /// The instant this date begins in Vietnam (00:00 UTC+7).
    pub fn start(self) -> SystemTime {
        let seconds = self.0 * 86_400 - VIETNAM_OFFSET_SECONDS;
        if seconds >= 0 {
            UNIX_EPOCH + std::time::Duration::from_secs(seconds.unsigned_abs())
        } else {
            UNIX_EPOCH - std::time::Duration::from_secs(seconds.unsigned_abs())
        }
    }

    /// The next date.
    pub fn next(self) -> Self {
        Self(self.0 + 1)
    }
}

impl std::fmt::Display for VietnamDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (year, month, day) = self.calendar();
        write!(f, "{year:04}-{month:02}-{day:02}")
    }
}

fn days_in_month(year: u64, month: u64) -> u64 {
    match month {
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn late_evening_of_30_april_in_hanoi_is_still_30_april() {
        // 2026-04-30T23:30:00+07:00 = 2026-04-30T16:30:00Z
        let t = parse_rfc3339("2026-04-30T23:30:00+07:00").unwrap();
        let date = VietnamDate::of(t);
        assert_eq!(date.to_string(), "2026-04-30");
        let (first, last) = VietnamDate::parse_month("2026-04").unwrap();
        assert!(first <= date && date <= last);
        // Half an hour later it is May in Vietnam, though still 30 April in UTC.
        let t = parse_rfc3339("2026-04-30T17:00:00Z").unwrap();
        assert_eq!(VietnamDate::of(t).to_string(), "2026-05-01");
    }

    #[test]
    fn vietnam_dates_parse_print_and_bound_months() {
        let date = VietnamDate::parse("2028-02-29").unwrap();
        assert_eq!(date.to_string(), "2028-02-29");
        assert_eq!(VietnamDate::parse("2026-02-29"), None);
        assert_eq!(VietnamDate::parse("2026-13-01"), None);
        assert_eq!(VietnamDate::parse("26-1-1"), None);
        let (first, last) = VietnamDate::parse_month("2026-02").unwrap();
        assert_eq!(
            (first.to_string(), last.to_string()),
            ("2026-02-01".into(), "2026-02-28".into())
        );
        assert_eq!(VietnamDate::of(first.start()), first);
        assert_eq!(rfc3339(first.start()), "2026-01-31T17:00:00Z");
        assert_eq!(first.next().to_string(), "2026-02-02");
    }

    use super::*;
    use std::time::Duration;

    #[test]
    fn a_known_instant_is_written_as_a_utc_pdf_date() {
        // 2026-11-27T08:30:05Z
        let t = UNIX_EPOCH + Duration::from_secs(1_795_768_205);
        assert_eq!(pdf_date(t), "D:20261127083005Z");
        assert_eq!(rfc3339(t), "2026-11-27T08:30:05Z");
        assert_eq!(parse_rfc3339("2026-11-27T08:30:05Z"), Some(t));
        assert_eq!(parse_rfc3339("2026-11-27T15:30:05+07:00"), Some(t));
        assert_eq!(parse_pdf_date("D:20261127083005Z"), Some(t));
        assert_eq!(parse_pdf_date("D:20261127153005+07'00'"), Some(t));
        assert_eq!(parse_pdf_date("D:20261127153005+07'00"), Some(t));
    }

    #[test]
    fn impossible_or_malformed_dates_are_not_parsed() {
        assert_eq!(parse_rfc3339("2026-13-01T00:00:00Z"), None);
        assert_eq!(parse_rfc3339("yesterday"), None);
        assert_eq!(parse_pdf_date("D:2026AB"), None);
        assert!(parse_rfc3339("2026-11-27").is_some());
    }

    #[test]
    fn leap_days_are_counted() {
        // 2024-02-29T00:00:00Z
        let t = UNIX_EPOCH + Duration::from_secs(1_709_164_800);
        assert_eq!(pdf_date(t), "D:20240229000000Z");
        assert_eq!(pdf_date(UNIX_EPOCH), "D:19700101000000Z");
    }
}
