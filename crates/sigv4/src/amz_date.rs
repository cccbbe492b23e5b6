//! Request timestamps: `X-Amz-Date` (ISO-8601 basic, `20150830T123600Z`) or
//! `Date` (HTTP IMF-fixdate), and the ±15 minute window.
//!
//! Parsing is by hand: the formats are fixed-width, the hot path should not
//! allocate, and the civil-date arithmetic is a few lines.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

/// The clock skew AWS tolerates between the request time and the server.
pub const MAX_SKEW_SECONDS: i64 = 15 * 60;

/// The longest validity a presigned URL may claim (`X-Amz-Expires`): 7 days.
pub const MAX_PRESIGNED_EXPIRES_SECONDS: u64 = 604_800;

/// A UTC instant with one-second precision, kept with its
/// `YYYYMMDDTHHMMSSZ` text because that text is what gets signed.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AmzDate {
    unix: i64,
    text: [u8; 16],
}

impl AmzDate {
    /// Parses `YYYYMMDDTHHMMSSZ`.
    #[must_use]
    pub fn parse_iso8601_basic(s: &str) -> Option<Self> {
        Self::parse_iso8601_basic_bytes(s.as_bytes())
    }

    /// [`Self::parse_iso8601_basic`] of header bytes, which need no UTF-8
    /// check first: only ASCII digits and `T`/`Z` are accepted.
    #[inline]
    pub(crate) fn parse_iso8601_basic_bytes(b: &[u8]) -> Option<Self> {
        let text: [u8; 16] = b.try_into().ok()?;
        // `YYYYMMDD` and `THHMMSSZ` as two words, the digits read eight at a
        // time: every request's date comes through here.
        let (date, time) = text.split_at(8);
        let date = u64::from_le_bytes(date.try_into().ok()?);
        let time = u64::from_le_bytes(time.try_into().ok()?);
        if time & 0xff != u64::from(b'T') || time >> 56 != u64::from(b'Z') {
            return None;
        }
        // `HHMMSS00`: the two bytes after the clock filled with digits.
        let clock = (time >> 8) & 0x0000_ffff_ffff_ffff | 0x3030_0000_0000_0000;
        let [hi, lo, month, day] = two_digit_lanes(date)?;
        let [hour, minute, second, _] = two_digit_lanes(clock)?;
        // Valid input is already the canonical text: keep it as received.
        let unix = unix_from_civil(hi * 100 + lo, month, day, hour, minute, second)?;
        Some(Self { unix, text })
    }

    /// Parses an HTTP date in IMF-fixdate form, `Sun, 06 Nov 1994 08:49:37 GMT`.
    #[must_use]
    pub fn parse_http_date(s: &str) -> Option<Self> {
        let b = s.as_bytes();
        if b.len() != 29 || &b[3..5] != b", " || &b[25..] != b" GMT" {
            return None;
        }
        if !matches!(
            &b[0..3],
            b"Mon" | b"Tue" | b"Wed" | b"Thu" | b"Fri" | b"Sat" | b"Sun"
        ) {
            return None;
        }
        let day = digits(&b[5..7])?;
        let month = match &b[8..11] {
            b"Jan" => 1,
            b"Feb" => 2,
            b"Mar" => 3,
            b"Apr" => 4,
            b"May" => 5,
            b"Jun" => 6,
            b"Jul" => 7,
            b"Aug" => 8,
            b"Sep" => 9,
            b"Oct" => 10,
            b"Nov" => 11,
            b"Dec" => 12,
            _ => return None,
        };
        if b[7] != b' ' || b[11] != b' ' || b[16] != b' ' || b[19] != b':' || b[22] != b':' {
            return None;
        }
        let year = digits(&b[12..16])?;
        let hour = digits(&b[17..19])?;
        let minute = digits(&b[20..22])?;
        let second = digits(&b[23..25])?;
        Self::from_civil(year, month, day, hour, minute, second)
    }

    /// The instant `t`, truncated to the second. Times before 1970 clamp to
    /// the epoch; a server clock is never there.
    #[must_use]
    pub fn from_system_time(t: SystemTime) -> Self {
        let secs = t
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 2));
        Self::from_unix_seconds(secs)
    }

    /// The instant `secs` seconds after the Unix epoch.
    #[must_use]
    pub fn from_unix_seconds(secs: i64) -> Self {
        // Keep the year within four digits so the text stays fixed-width.
        let secs = secs.clamp(0, 253_402_300_799);
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        let mut text = [0u8; 16];
        put(&mut text[0..4], year);
        put(&mut text[4..6], month);
        put(&mut text[6..8], day);
        text[8] = b'T';
        put(&mut text[9..11], rem / 3600);
        put(&mut text[11..13], (rem / 60) % 60);
        put(&mut text[13..15], rem % 60);
        text[15] = b'Z';
        Self { unix: secs, text }
    }

    fn from_civil(year: i64, month: i64, day: i64, hour: i64, min: i64, sec: i64) -> Option<Self> {
        unix_from_civil(year, month, day, hour, min, sec).map(Self::from_unix_seconds)
    }

    /// `YYYYMMDDTHHMMSSZ`.
    #[must_use]
    pub fn as_str(&self) -> &str {
        // The text is built from ASCII digits and letters only.
        std::str::from_utf8(&self.text).unwrap_or("")
    }

    /// The text as bytes, without the UTF-8 check of [`Self::as_str`].
    pub(crate) fn text(&self) -> &[u8; 16] {
        &self.text
    }

    /// `YYYYMMDD`, the date of a credential scope.
    #[must_use]
    pub fn date(&self) -> &str {
        self.as_str().get(..8).unwrap_or("")
    }

    /// Seconds since the Unix epoch.
    #[must_use]
    pub fn unix_seconds(&self) -> i64 {
        self.unix
    }
}

impl fmt::Display for AmzDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for AmzDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AmzDate({})", self.as_str())
    }
}

/// Seconds since the Unix epoch of a UTC civil time, `None` when a field is
/// out of range.
fn unix_from_civil(year: i64, month: i64, day: i64, hour: i64, min: i64, sec: i64) -> Option<i64> {
    // Unix seconds cover years 1970..=9999 here (`from_unix_seconds`
    // clamps), so reject the rest rather than alias them.
    if !(1970..=9999).contains(&year) {
        return None;
    }
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || min > 59
        || sec > 59
    {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(days * 86_400 + hour * 3600 + min * 60 + sec)
}

/// The four two-digit numbers in the eight bytes of `x` (first byte
/// lowest), `None` unless all eight are ASCII digits.
fn two_digit_lanes(x: u64) -> Option<[i64; 4]> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    if x & HIGH != 0 || crate::swar::between_mask(x, b'0' - 1, b'9' + 1) != HIGH {
        return None;
    }
    let v = x - ONES * u64::from(b'0');
    // Each even byte becomes ten times itself plus the next (at most 99).
    let pairs = (v * 10 + (v >> 8)) & 0x00ff_00ff_00ff_00ff;
    let lane = |i: u32| i64::from((pairs >> (16 * i)) as u8);
    Some([lane(0), lane(1), lane(2), lane(3)])
}

fn digits(b: &[u8]) -> Option<i64> {
    let mut n = 0i64;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        n = n * 10 + i64::from(c - b'0');
    }
    Some(n)
}

fn put(out: &mut [u8], mut n: i64) {
    for slot in out.iter_mut().rev() {
        // n is non-negative and below 10^width here, so the digit fits.
        *slot = b'0' + u8::try_from(n % 10).unwrap_or(0);
        n /= 10;
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn basic_format_round_trips_through_unix_seconds() {
        let d = AmzDate::parse_iso8601_basic("20150830T123600Z").unwrap();
        assert_eq!(d.unix_seconds(), 1_440_938_160);
        assert_eq!(d.as_str(), "20150830T123600Z");
        assert_eq!(d.date(), "20150830");
        assert_eq!(AmzDate::from_unix_seconds(1_440_938_160), d);
    }

    #[test]
    fn leap_day_and_year_boundaries() {
        let d = AmzDate::parse_iso8601_basic("20240229T235959Z").unwrap();
        let next = AmzDate::from_unix_seconds(d.unix_seconds() + 1);
        assert_eq!(next.as_str(), "20240301T000000Z");
        assert!(AmzDate::parse_iso8601_basic("20230229T000000Z").is_none());
        let ny = AmzDate::parse_iso8601_basic("19991231T235959Z").unwrap();
        assert_eq!(
            AmzDate::from_unix_seconds(ny.unix_seconds() + 1).as_str(),
            "20000101T000000Z"
        );
    }

    #[test]
    fn rejects_malformed_basic_dates() {
        for bad in [
            "",
            "20150830T123600",
            "2015-08-30T12:36:00Z",
            "20150830X123600Z",
            "20151330T123600Z",
            "20150830T243600Z",
            "20150830T126000Z",
            "2015083aT123600Z",
            "20150830T123600Zz",
            "19691231T235959Z",
        ] {
            assert!(AmzDate::parse_iso8601_basic(bad).is_none(), "{bad}");
        }
    }

    /// The field-by-field parse the word-at-a-time one replaced.
    fn parse_by_fields(text: &[u8]) -> Option<AmzDate> {
        let text: [u8; 16] = text.try_into().ok()?;
        if text[8] != b'T' || text[15] != b'Z' {
            return None;
        }
        let unix = unix_from_civil(
            digits(&text[0..4])?,
            digits(&text[4..6])?,
            digits(&text[6..8])?,
            digits(&text[9..11])?,
            digits(&text[11..13])?,
            digits(&text[13..15])?,
        )?;
        Some(AmzDate { unix, text })
    }

    #[test]
    fn word_parse_agrees_with_the_field_parse() {
        for base in [
            "20150830T123600Z",
            "20240229T235959Z",
            "19700101T000000Z",
            "99991231T235959Z",
            "20231231T000000Z",
        ] {
            for at in 0..16 {
                for v in 0..=255u8 {
                    let mut b = base.as_bytes().to_vec();
                    b[at] = v;
                    assert_eq!(
                        AmzDate::parse_iso8601_basic_bytes(&b),
                        parse_by_fields(&b),
                        "{base} {at} {v}"
                    );
                }
            }
        }
    }

    #[test]
    fn http_date_parses_to_the_same_instant() {
        let d = AmzDate::parse_http_date("Sun, 30 Aug 2015 12:36:00 GMT").unwrap();
        assert_eq!(d.as_str(), "20150830T123600Z");
        assert!(AmzDate::parse_http_date("Sun, 30 Foo 2015 12:36:00 GMT").is_none());
        assert!(AmzDate::parse_http_date("Sunday, 30-Aug-15 12:36:00 GMT").is_none());
    }

    #[test]
    fn system_time_truncates_to_seconds() {
        let t = UNIX_EPOCH + Duration::from_millis(1_440_938_160_999);
        assert_eq!(AmzDate::from_system_time(t).as_str(), "20150830T123600Z");
    }
}
