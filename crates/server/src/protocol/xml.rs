//! The XML side of the Query protocol: a small escaping writer and the
//! trait that renders every generated output shape.
//!
//! Written by hand rather than through a serializer because the format is
//! tiny (elements and text, `member` lists, `entry` maps) and this is on the
//! path of every response.

use base64::Engine as _;
use time::OffsetDateTime;
use time::format_description::well_known::Iso8601;

use crate::protocol::scan::Specials;
use time::format_description::well_known::iso8601::{Config, EncodedConfig, TimePrecision};

/// The bytes text must escape (those [`escape`] maps), found eight at a
/// time: every response's text goes through the scan.
static MARKUP: Specials<6> = Specials::new([b'&', b'<', b'>', b'"', b'\'', b'\r'], 0);

/// The entity that stands for a markup character in text, `None` for any
/// other byte.
fn escape(b: u8) -> Option<&'static str> {
    match b {
        b'&' => Some("&amp;"),
        b'<' => Some("&lt;"),
        b'>' => Some("&gt;"),
        b'"' => Some("&quot;"),
        b'\'' => Some("&apos;"),
        b'\r' => Some("&#xD;"),
        _ => None,
    }
}

/// Accumulates an XML document; text is escaped, markup is not.
#[derive(Debug, Default)]
pub struct XmlWriter {
    out: String,
}

impl XmlWriter {
    pub fn with_capacity(capacity: usize) -> Self {
        XmlWriter {
            out: String::with_capacity(capacity),
        }
    }

    /// Markup the caller vouches for (tag names from the model, constants).
    pub fn raw(&mut self, markup: &str) {
        self.out.push_str(markup);
    }

    /// Character data, escaped.
    pub fn text(&mut self, text: &str) {
        // Runs without markup characters (nearly all text) are copied whole;
        // every escaped character is ASCII, so splitting at one keeps UTF-8 intact.
        let mut rest = text;
        while let Some(at) = MARKUP.first_in(rest.as_bytes()) {
            let (plain, tail) = rest.split_at(at);
            self.out.push_str(plain);
            let mut chars = tail.chars();
            if let Some(entity) = chars
                .next()
                .and_then(|c| u8::try_from(c).ok())
                .and_then(escape)
            {
                self.out.push_str(entity);
            }
            rest = chars.as_str();
        }
        self.out.push_str(rest);
    }

    pub fn start(&mut self, tag: &str) {
        self.out.push('<');
        self.out.push_str(tag);
        self.out.push('>');
    }

    pub fn end(&mut self, tag: &str) {
        self.out.push_str("</");
        self.out.push_str(tag);
        self.out.push('>');
    }

    pub fn element(&mut self, tag: &str, text: &str) {
        self.start(tag);
        self.text(text);
        self.end(tag);
    }

    pub fn finish(self) -> String {
        self.out
    }
}

/// The response document of a successful call:
/// `<OpResponse xmlns=…><OpResult>…</OpResult><ResponseMetadata>…`. Operations
/// without output have no `Result` element.
pub fn response_document(
    xmlns: &str,
    operation: &str,
    request_id: &str,
    result: Option<&dyn Fn(&mut XmlWriter)>,
) -> String {
    let mut w = XmlWriter::with_capacity(512);
    w.raw("<");
    w.raw(operation);
    w.raw("Response xmlns=\"");
    w.text(xmlns);
    w.raw("\">");
    if let Some(write) = result {
        w.raw("<");
        w.raw(operation);
        w.raw("Result>");
        write(&mut w);
        w.raw("</");
        w.raw(operation);
        w.raw("Result>");
    }
    w.raw("<ResponseMetadata><RequestId>");
    w.text(request_id);
    w.raw("</RequestId></ResponseMetadata></");
    w.raw(operation);
    w.raw("Response>");
    w.finish()
}

/// A value that renders itself as the XML element `tag`.
pub trait XmlValue {
    fn write_xml(&self, w: &mut XmlWriter, tag: &str);
}

impl XmlValue for String {
    fn write_xml(&self, w: &mut XmlWriter, tag: &str) {
        w.element(tag, self);
    }
}

impl XmlValue for i32 {
    fn write_xml(&self, w: &mut XmlWriter, tag: &str) {
        w.element(tag, &self.to_string());
    }
}

impl XmlValue for bool {
    fn write_xml(&self, w: &mut XmlWriter, tag: &str) {
        w.element(tag, if *self { "true" } else { "false" });
    }
}

impl<T: XmlValue> XmlValue for Option<T> {
    fn write_xml(&self, w: &mut XmlWriter, tag: &str) {
        if let Some(v) = self {
            v.write_xml(w, tag);
        }
    }
}

/// Lists render as `<Tag><member>…</member>…</Tag>`, the Query protocol's
/// non-flattened form.
impl<T: XmlValue> XmlValue for Vec<T> {
    fn write_xml(&self, w: &mut XmlWriter, tag: &str) {
        w.start(tag);
        for item in self {
            item.write_xml(w, "member");
        }
        w.end(tag);
    }
}

/// Maps render as `<Tag><entry><key>…</key><value>…</value></entry>…</Tag>`.
impl<K: XmlValue, V: XmlValue> XmlValue for Vec<(K, V)> {
    fn write_xml(&self, w: &mut XmlWriter, tag: &str) {
        w.start(tag);
        for (k, v) in self {
            w.start("entry");
            k.write_xml(w, "key");
            v.write_xml(w, "value");
            w.end("entry");
        }
        w.end(tag);
    }
}

/// Where text is written: a `String` (XML) or a `Vec<u8>` (audit lines),
/// without a second buffer in between.
pub trait TextSink {
    /// One ASCII byte (the caller's promise: a `String` stays UTF-8).
    fn push_ascii(&mut self, byte: u8);
    fn push_text(&mut self, text: &str);
}

impl TextSink for String {
    fn push_ascii(&mut self, byte: u8) {
        debug_assert!(byte.is_ascii());
        self.push(char::from(byte));
    }

    fn push_text(&mut self, text: &str) {
        self.push_str(text);
    }
}

impl TextSink for Vec<u8> {
    fn push_ascii(&mut self, byte: u8) {
        self.push(byte);
    }

    fn push_text(&mut self, text: &str) {
        self.extend_from_slice(text.as_bytes());
    }
}

/// An instant as AWS IAM writes it: ISO 8601, UTC, whole seconds, `Z`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub OffsetDateTime);

impl Default for Timestamp {
    fn default() -> Self {
        Timestamp(OffsetDateTime::UNIX_EPOCH)
    }
}

const ISO8601_SECONDS: EncodedConfig = Config::DEFAULT
    .set_time_precision(TimePrecision::Second {
        decimal_digits: None,
    })
    .encode();

impl Timestamp {
    pub fn from_unix(seconds: i64) -> Option<Self> {
        OffsetDateTime::from_unix_timestamp(seconds)
            .ok()
            .map(Timestamp)
    }

    /// `2012-05-08T23:34:01Z`.
    pub fn to_iso8601(self) -> String {
        let mut text = String::with_capacity(20);
        self.write_iso8601(&mut text);
        text
    }

    /// Appends `2012-05-08T23:34:01Z`. Years 0 to 9999 (every instant a
    /// request or the store can hold) are written digit by digit: the
    /// `time` crate's formatter cost about 170 instructions a timestamp, and
    /// every call writes at least one (its audit record's). Other years go
    /// through the formatter, which writes them with a sign.
    pub fn write_iso8601<O: TextSink>(self, out: &mut O) {
        let utc = self.0.to_offset(time::UtcOffset::UTC);
        let Ok(year @ 0..=9999) = u16::try_from(utc.year()) else {
            // Formatting a UTC instant with a fixed, valid description
            // cannot fail; nothing is the conservative answer if it ever did.
            out.push_text(&utc.format(&Iso8601::<ISO8601_SECONDS>).unwrap_or_default());
            return;
        };
        let two = |out: &mut O, value: u8| {
            out.push_ascii(b'0' + value / 10 % 10);
            out.push_ascii(b'0' + value % 10);
        };
        let [century, year_of_century] = [year / 100, year % 100].map(|v| v.to_le_bytes()[0]);
        two(out, century);
        two(out, year_of_century);
        out.push_ascii(b'-');
        two(out, u8::from(utc.month()));
        out.push_ascii(b'-');
        two(out, utc.day());
        out.push_ascii(b'T');
        two(out, utc.hour());
        out.push_ascii(b':');
        two(out, utc.minute());
        out.push_ascii(b':');
        two(out, utc.second());
        out.push_ascii(b'Z');
    }
}

/// The same text in JSON (the audit line).
impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_iso8601())
    }
}

impl XmlValue for Timestamp {
    fn write_xml(&self, w: &mut XmlWriter, tag: &str) {
        // Digits, `-`, `:`, `T` and `Z`: nothing to escape.
        w.start(tag);
        self.write_iso8601(&mut w.out);
        w.end(tag);
    }
}

/// Bytes, rendered base64 as the Query protocol does for `blob` shapes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Blob(pub Vec<u8>);

impl XmlValue for Blob {
    fn write_xml(&self, w: &mut XmlWriter, tag: &str) {
        w.element(
            tag,
            &base64::engine::general_purpose::STANDARD.encode(&self.0),
        );
    }
}

/// A string the model marks `sensitive` (passwords, secret keys): rendered
/// on the wire where the API returns it, never in `Debug` output or logs.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Sensitive(pub String);

impl Sensitive {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Sensitive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sensitive(<redacted>)")
    }
}

impl XmlValue for Sensitive {
    fn write_xml(&self, w: &mut XmlWriter, tag: &str) {
        w.element(tag, &self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scan_looks_for_exactly_the_bytes_escape_maps() {
        for b in 0..=255u8 {
            assert_eq!(MARKUP.contains(b), escape(b).is_some(), "{b:#04x}");
        }
    }

    #[test]
    fn timestamps_are_written_as_the_time_crate_formats_them() {
        // The definition: the formatter, on the instant in UTC (which
        // refuses years before 0 without the `large-dates` feature: nothing
        // is written then).
        fn reference(at: OffsetDateTime) -> String {
            at.to_offset(time::UtcOffset::UTC)
                .format(&Iso8601::<ISO8601_SECONDS>)
                .unwrap_or_default()
        }
        let min = OffsetDateTime::new_utc(time::Date::MIN, time::Time::MIDNIGHT).unix_timestamp();
        let max = OffsetDateTime::new_utc(time::Date::MAX, time::Time::MIDNIGHT).unix_timestamp();
        let year = |y: i32| {
            OffsetDateTime::new_utc(
                time::Date::from_calendar_date(y, time::Month::January, 1).unwrap(),
                time::Time::MIDNIGHT,
            )
            .unix_timestamp()
        };
        // Every edge of the fast path, then instants spread over the range
        // (a fixed sequence, so a failure repeats).
        let mut seconds = vec![
            min,
            max,
            max + 86_399,
            0,
            -1,
            1,
            year(0) - 1,
            year(0),
            year(9999),
            1_700_000_000,
        ];
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..200_000 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let span = u64::try_from(max - min).unwrap();
            seconds.push(min + i64::try_from((state >> 11) % span).unwrap());
        }
        let offset = time::UtcOffset::from_hms(-5, -30, 0).unwrap();
        for s in seconds {
            let at = OffsetDateTime::from_unix_timestamp(s).unwrap();
            for at in [Some(at), at.checked_to_offset(offset)]
                .into_iter()
                .flatten()
            {
                assert_eq!(Timestamp(at).to_iso8601(), reference(at), "{s}");
                let mut w = XmlWriter::default();
                Timestamp(at).write_xml(&mut w, "T");
                assert_eq!(w.finish(), format!("<T>{}</T>", reference(at)), "{s}");
            }
        }
    }

    #[test]
    fn text_escapes_markup_characters_and_keeps_everything_else() {
        // The definition, one character at a time.
        fn reference(text: &str) -> String {
            text.chars()
                .map(|c| match c {
                    '&' => "&amp;".to_owned(),
                    '<' => "&lt;".to_owned(),
                    '>' => "&gt;".to_owned(),
                    '"' => "&quot;".to_owned(),
                    '\'' => "&apos;".to_owned(),
                    '\r' => "&#xD;".to_owned(),
                    c => c.to_string(),
                })
                .collect()
        }
        for text in [
            "",
            "plain",
            "&",
            "a&b<c>d\"e'f\rg",
            "<<>>",
            "ends with &",
            "é<ü>漢&字\r\n🙂'",
            "{\"Version\":\"2012-10-17\"}",
        ] {
            let mut w = XmlWriter::default();
            w.text(text);
            assert_eq!(w.out, reference(text), "{text:?}");
        }
    }

    #[test]
    fn timestamps_are_whole_seconds_utc_with_z() {
        let t = Timestamp::from_unix(1_336_520_041).unwrap();
        assert_eq!(t.to_iso8601(), "2012-05-08T23:34:01Z");
    }

    #[test]
    fn lists_and_maps_use_member_and_entry() {
        let mut w = XmlWriter::default();
        vec!["a".to_string(), "b<".to_string()].write_xml(&mut w, "Names");
        vec![("Users".to_string(), 3)].write_xml(&mut w, "SummaryMap");
        assert_eq!(
            w.finish(),
            "<Names><member>a</member><member>b&lt;</member></Names>\
             <SummaryMap><entry><key>Users</key><value>3</value></entry></SummaryMap>"
        );
    }

    #[test]
    fn sensitive_values_are_redacted_in_debug() {
        let s = Sensitive("hunter2".into());
        assert!(!format!("{s:?}").contains("hunter2"));
    }
}
