//! Timestamps: microseconds since the Unix epoch, as the contract carries them.

use chrono::{DateTime, SecondsFormat, Utc};

/// Convert microseconds since the epoch to a UTC time.
pub fn from_micros(micros: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_micros(micros)
}

/// Format microseconds as RFC 3339 with six fraction digits (`...T12:00:00.000000Z`),
/// the text form SQLite stores: it sorts like the time it names.
pub fn format_micros(micros: i64) -> String {
    from_micros(micros)
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Micros, true))
        .unwrap_or_else(|| format!("<invalid time {micros}>"))
}

/// Parse an RFC 3339 time into microseconds since the epoch.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc).timestamp_micros())
}

/// Now, in microseconds since the epoch.
pub fn now_micros() -> i64 {
    Utc::now().timestamp_micros()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_with_microseconds() {
        let text = format_micros(1_767_225_600_123_456);
        assert_eq!(text, "2026-01-01T00:00:00.123456Z");
        assert_eq!(parse_rfc3339(&text), Some(1_767_225_600_123_456));
        assert_eq!(
            parse_rfc3339("2026-01-01T01:00:00+01:00"),
            Some(1_767_225_600_000_000)
        );
        assert_eq!(parse_rfc3339("yesterday"), None);
    }
}
