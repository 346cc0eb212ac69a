//! Conversions between stored values and kyso's types, sqlx errors, and URLs with their passwords removed.

use super::*;

/// Unix microseconds of an instant (negative before 1970); finer precision
/// is dropped.
pub(super) fn micros(at: SystemTime) -> i64 {
    match at.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_micros()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_micros()).map_or(i64::MIN, |m| -m),
    }
}

/// The instant of unix microseconds.
pub(super) fn instant(micros: i64) -> SystemTime {
    let magnitude = Duration::from_micros(micros.unsigned_abs());
    if micros >= 0 {
        UNIX_EPOCH + magnitude
    } else {
        UNIX_EPOCH - magnitude
    }
}

pub(super) fn text(row: &AnyRow, column: &str) -> Result<String, RecordsError> {
    row.try_get(column).map_err(database)
}

pub(super) fn unit_code(code: &str) -> Result<UnitCode, RecordsError> {
    UnitCode::parse(code).map_err(|error| RecordsError::Corrupt {
        what: format!("an unusable unit code ({error})"),
    })
}

pub(super) fn leader_id(id: &str) -> Result<LeaderId, RecordsError> {
    LeaderId::parse(id).map_err(|error| RecordsError::Corrupt {
        what: format!("an unusable leader id ({error})"),
    })
}

pub(super) fn corrupt(what: &str, value: &str) -> RecordsError {
    RecordsError::Corrupt {
        what: format!("{what} {value:?}"),
    }
}

// ----- Errors and URLs ---------------------------------------------------------------------------

/// The one conversion of sqlx's errors into kyso's.
pub(super) fn database(error: sqlx::Error) -> RecordsError {
    match error {
        sqlx::Error::Migrate(error) => RecordsError::Migrate(error.to_string()),
        error => RecordsError::Database(error.to_string()),
    }
}

/// Replaces the URL's password, if any, in an error's message.
pub(super) fn hide_secret(error: RecordsError, secret: Option<&str>) -> RecordsError {
    let Some(secret) = secret.filter(|secret| !secret.is_empty()) else {
        return error;
    };
    match error {
        RecordsError::Database(message) => RecordsError::Database(message.replace(secret, "***")),
        RecordsError::Migrate(message) => RecordsError::Migrate(message.replace(secret, "***")),
        other => other,
    }
}

/// The user-info part of a URL (`user:password` before `@`), with its
/// byte range.
pub(super) fn user_info(url: &str) -> Option<(usize, &str)> {
    let start = url.find("://")? + 3;
    let authority_end = url[start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |end| start + end);
    let at = url[start..authority_end].rfind('@')? + start;
    Some((start, &url[start..at]))
}

/// The password a URL carries, in its user info or as a `password=`
/// query parameter.
pub(super) fn url_password(url: &str) -> Option<String> {
    if let Some((_, info)) = user_info(url)
        && let Some((_, password)) = info.split_once(':')
    {
        return Some(password.to_owned());
    }
    let (_, query) = url.split_once('?')?;
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("password="))
        .map(str::to_owned)
}

/// The URL with its password replaced by `***`, fit for messages and logs.
pub(super) fn redact_url(url: &str) -> String {
    let mut redacted = url.to_owned();
    if let Some((start, info)) = user_info(url)
        && let Some((user, _)) = info.split_once(':')
    {
        redacted.replace_range(start..start + info.len(), &format!("{user}:***"));
    }
    if let Some((base, query)) = redacted.split_once('?') {
        let query: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some(("password", _)) => "password=***".to_owned(),
                _ => pair.to_owned(),
            })
            .collect();
        redacted = format!("{base}?{}", query.join("&"));
    }
    redacted
}
