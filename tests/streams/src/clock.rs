//! The stream's clock: transaction times as RFC 3339 text and as the
//! decimal `position` of `events2` (seconds with a microsecond fraction),
//! and the times payloads carry.

use crate::rng::Rng;

/// 2026-02-02T08:00:00Z in microseconds since the Unix epoch.
pub(crate) const START: i64 = 1_770_019_200_000_000;

/// 2026-10-01T00:00:00Z: no stream reaches past it, so none lies in the
/// future of a run (see `stream::fit_before`).
pub(crate) const LATEST: i64 = 1_790_812_800_000_000;

const MICROS_PER_SECOND: i64 = 1_000_000;
const SECONDS_PER_DAY: i64 = 86_400;

/// Format microseconds since the epoch as RFC 3339 in UTC with six
/// fractional digits.
pub(crate) fn rfc3339(micros: i64) -> String {
    let seconds = micros.div_euclid(MICROS_PER_SECOND);
    let fraction = micros.rem_euclid(MICROS_PER_SECOND);
    let (date, of_day) = date_and_seconds(seconds);
    format!(
        "{date}T{:02}:{:02}:{:02}.{fraction:06}Z",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60
    )
}

/// Format seconds since the epoch as Go writes a `time.Time` of a payload:
/// RFC 3339, here with nanoseconds (`nanos` > 0) or whole seconds, in UTC
/// or at `offset_minutes` east of it.
pub(crate) fn go_time(seconds: i64, nanos: u32, offset_minutes: i64) -> String {
    let local = seconds + offset_minutes * 60;
    let (date, of_day) = date_and_seconds(local);
    let clock = format!(
        "{date}T{:02}:{:02}:{:02}",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60
    );
    let fraction = if nanos > 0 {
        format!(".{nanos:09}")
    } else {
        String::new()
    };
    let zone = if offset_minutes == 0 {
        "Z".to_owned()
    } else {
        let sign = if offset_minutes < 0 { '-' } else { '+' };
        let m = offset_minutes.abs();
        format!("{sign}{:02}:{:02}", m / 60, m % 60)
    };
    format!("{clock}{fraction}{zone}")
}

/// A time of a payload at `micros` (plus `nanos` below the microsecond) as
/// Go's `time.Time` marshals it: RFC 3339 with the fraction's trailing
/// zeros dropped, in UTC or at `offset_minutes` east of it.
pub(crate) fn go_time_at(micros: i64, nanos: u32, offset_minutes: i64) -> String {
    let seconds = micros.div_euclid(MICROS_PER_SECOND);
    let fraction =
        u32::try_from(micros.rem_euclid(MICROS_PER_SECOND)).unwrap_or(0) * 1_000 + nanos % 1_000;
    let text = go_time(seconds, fraction, offset_minutes);
    match text.find('.') {
        Some(dot) => {
            let zone = text[dot..]
                .find(['Z', '+', '-'])
                .map_or(text.len(), |z| dot + z);
            let digits = text[dot + 1..zone].trim_end_matches('0');
            format!("{}.{digits}{}", &text[..dot], &text[zone..])
        }
        None => text,
    }
}

/// An expiration time as Go writes it: Zitadel's default far future, or a
/// date in 2027 in UTC or with an offset, sometimes with nanoseconds.
pub(crate) fn expiration(rng: &mut Rng) -> String {
    if rng.chance(30) {
        return go_time(253_402_300_799, 0, 0);
    }
    let seconds = 1_798_761_600 + i64::try_from(rng.below(31_536_000)).unwrap_or(0);
    let nanos = if rng.coin() {
        u32::try_from(rng.below(1_000_000_000)).unwrap_or(0)
    } else {
        0
    };
    let offset = rng.one(&[0, 0, 60, 120, -300, 330]);
    go_time(seconds, nanos, offset)
}

/// The `position` of a transaction at `micros`: decimal seconds with six
/// fractional digits.
pub(crate) fn position(micros: i64) -> String {
    format!(
        "{}.{:06}",
        micros.div_euclid(MICROS_PER_SECOND),
        micros.rem_euclid(MICROS_PER_SECOND)
    )
}

/// `YYYY-MM-DD` and the seconds into that day.
fn date_and_seconds(seconds: i64) -> (String, i64) {
    let days = seconds.div_euclid(SECONDS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    (
        format!("{year:04}-{month:02}-{day:02}"),
        seconds.rem_euclid(SECONDS_PER_DAY),
    )
}

/// The proleptic Gregorian date of a day number (days since 1970-01-01).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::{START, go_time, go_time_at, position, rfc3339};

    #[test]
    fn formats_the_start() {
        assert_eq!(rfc3339(START), "2026-02-02T08:00:00.000000Z");
        assert_eq!(rfc3339(START + 1_500_001), "2026-02-02T08:00:01.500001Z");
        assert_eq!(position(START + 42), "1770019200.000042");
    }

    #[test]
    fn formats_go_times() {
        assert_eq!(go_time(0, 0, 0), "1970-01-01T00:00:00Z");
        assert_eq!(
            go_time(253_402_300_799, 0, 0),
            "9999-12-31T23:59:59Z",
            "Zitadel's default expiration"
        );
        assert_eq!(go_time(0, 5, 120), "1970-01-01T02:00:00.000000005+02:00");
        assert_eq!(go_time(0, 0, -330), "1969-12-31T18:30:00-05:30");
        assert_eq!(go_time_at(1_500_000, 0, 0), "1970-01-01T00:00:01.5Z");
        assert_eq!(go_time_at(1_000_000, 0, 60), "1970-01-01T01:00:01+01:00");
        assert_eq!(go_time_at(7, 89, 0), "1970-01-01T00:00:00.000007089Z");
    }
}
