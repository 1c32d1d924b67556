//! Time: the evaluation clock (`--now`) and the date forms config uses.
//! Rules never read the wall clock; they read `input.now`.

use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime, UtcOffset};

/// Parse `--now` (RFC 3339).
pub fn parse_now(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).ok()
}

/// A config date: `YYYY-MM-DD` (or a full RFC 3339 time, whose date counts).
pub fn parse_date(text: &str) -> Option<Date> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(text, &fmt)
        .ok()
        .or_else(|| parse_now(text).map(|t| t.to_offset(UtcOffset::UTC).date()))
}

/// RFC 3339 in UTC with a `Z`, seconds precision: the form of `input.now`.
pub fn format_utc(t: OffsetDateTime) -> String {
    let t = t
        .to_offset(UtcOffset::UTC)
        .replace_nanosecond(0)
        .unwrap_or(t);
    t.format(&Rfc3339).unwrap_or_default()
}

/// A git signature time (seconds and offset in minutes) as RFC 3339.
pub fn format_git_time(seconds: i64, offset_minutes: i32) -> String {
    let offset = UtcOffset::from_whole_seconds(offset_minutes * 60).unwrap_or(UtcOffset::UTC);
    OffsetDateTime::from_unix_timestamp(seconds)
        .map(|t| t.to_offset(offset).format(&Rfc3339).unwrap_or_default())
        .unwrap_or_default()
}

/// Whether a waiver expiring on `expires` still applies at `now`: it covers
/// the whole of its last day (UTC) and stops at the next midnight.
pub fn still_valid(expires: Date, now: OffsetDateTime) -> bool {
    now.to_offset(UtcOffset::UTC).date() <= expires
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_covers_the_last_day() {
        let d = parse_date("2026-11-20").unwrap();
        assert!(still_valid(d, parse_now("2026-11-20T23:59:59Z").unwrap()));
        assert!(!still_valid(d, parse_now("2026-11-21T00:00:00Z").unwrap()));
    }

    #[test]
    fn git_time_keeps_its_offset() {
        assert_eq!(format_git_time(0, 120), "1970-01-01T02:00:00+02:00");
    }
}
