//! Dates and times as real feeds write them.
//!
//! One file often mixes several notations (an export that went through a spreadsheet
//! once, rows appended by hand), so every reader parses its time fields with
//! [`parse_time`], which accepts all of these:
//!
//! | notation | example | precision |
//! |---|---|---|
//! | ISO date | `2022-02-24`, `2022/02/24` | day |
//! | ISO date and time, `T` or space, offset optional | `2022-02-24T03:40Z`, `2022-02-24 03:40:10.250+02:00` | minute, or second when seconds are given |
//! | slashed date, 12-hour clock | `2/24/2022 3:40:00 AM` | as given |
//! | slashed date | `24/02/2022`, `2/24/2022`, `24/02/2022 03:40` | day, or as given |
//! | dotted date | `24.02.2022`, `24.02.2022 03:40` | day, or as given |
//! | dashed day first | `24-02-2022`, `24-Feb-2022` | day |
//! | month name | `24 February 2022`, `24 Feb 2022`, `February 24, 2022` | day |
//!
//! Rules that are choices, not facts:
//! - A time without an offset is UTC (FIRMS, UCDP and ACLED all publish UTC or dates).
//! - `a/b/YYYY` is ambiguous. With AM/PM it is read as month/day, because 12-hour
//!   clocks come from US-locale exports, which write the month first. Without AM/PM it
//!   is read as day/month (the European and ISO-adjacent habit, and this project's
//!   region), unless that is not a valid date, in which case month/day is tried: so
//!   `2/24/2022` is 24 February, but `2/3/2022` is 2 March.
//! - Years have four digits; two-digit years are refused rather than guessed.
//! - Fractions of a second are kept to the millisecond; the precision is still "second".

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use truce_model::{TimePrecision, TimeSpan};

/// A parsed time: the instant it starts at and how precisely it is known
/// ([`TimePrecision::Day`], [`TimePrecision::Minute`] or [`TimePrecision::Second`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParsedTime {
    pub start: DateTime<Utc>,
    pub precision: TimePrecision,
}

impl ParsedTime {
    /// The interval this time stands for: one unit of its precision from `start`.
    pub fn span(&self) -> TimeSpan {
        let len = match self.precision {
            TimePrecision::Second => Duration::seconds(1),
            TimePrecision::Minute => Duration::minutes(1),
            TimePrecision::Hour => Duration::hours(1),
            _ => Duration::days(1),
        };
        TimeSpan {
            start: self.start,
            end: self.start + len,
            precision: self.precision,
        }
    }

    /// The UTC calendar date of `start`.
    pub fn date(&self) -> NaiveDate {
        self.start.date_naive()
    }
}

/// Why a text is not a time: a short, fixed phrase (used as a rejection reason).
pub type TimeError = &'static str;

const UNKNOWN: TimeError = "not a recognised date or time";
const INVALID: TimeError = "not a valid calendar date or time of day";

/// Parses a date or date-time in any of the notations in the [module table](self).
/// Surrounding whitespace is ignored.
pub fn parse_time(text: &str) -> Result<ParsedTime, TimeError> {
    let s = text.trim();
    let b = s.as_bytes();
    // Fast path: a bare ISO date, the bulk of every FIRMS file.
    if b.len() == 10 && b[4] == b'-' && b[7] == b'-' {
        if let (Some(y), Some(m), Some(d)) = (digits(&b[0..4]), digits(&b[5..7]), digits(&b[8..10])) {
            let date = NaiveDate::from_ymd_opt(y as i32, m, d).ok_or(INVALID)?;
            return Ok(day(date));
        }
    }
    let mut c = Cursor { b, i: 0 };
    let first = c.number(1, 4).ok_or(UNKNOWN);
    match first {
        Ok((y, 4)) => {
            // YYYY-MM-DD or YYYY/MM/DD, then an optional time.
            let sep = c.one_of(b"-/").ok_or(UNKNOWN)?;
            let (m, _) = c.number(1, 2).ok_or(UNKNOWN)?;
            c.expect(sep).ok_or(UNKNOWN)?;
            let (d, _) = c.number(1, 2).ok_or(UNKNOWN)?;
            let date = NaiveDate::from_ymd_opt(y as i32, m, d).ok_or(INVALID)?;
            if c.done() {
                return Ok(day(date));
            }
            if !(c.eat(b'T') || c.eat(b't') || c.spaces()) {
                return Err(UNKNOWN);
            }
            c.spaces();
            let t = c.clock()?;
            finish(date, t, &mut c)
        }
        Ok((a, _)) => {
            let sep = c.one_of(b"/.- ").ok_or(UNKNOWN)?;
            match sep {
                b'/' | b'.' | b'-' if c.peek().is_some_and(|x| x.is_ascii_digit()) => {
                    let (bv, _) = c.number(1, 2).ok_or(UNKNOWN)?;
                    c.expect(sep).ok_or(UNKNOWN)?;
                    let y = c.year()?;
                    let time = if c.done() {
                        None
                    } else {
                        if !c.spaces() {
                            return Err(UNKNOWN);
                        }
                        Some(c.clock()?)
                    };
                    let us = sep == b'/' && time.is_some_and(|t| t.meridiem);
                    let date = if us {
                        NaiveDate::from_ymd_opt(y, a, bv)
                    } else {
                        NaiveDate::from_ymd_opt(y, bv, a).or_else(|| {
                            if sep == b'/' {
                                NaiveDate::from_ymd_opt(y, a, bv)
                            } else {
                                None
                            }
                        })
                    }
                    .ok_or(INVALID)?;
                    match time {
                        None => Ok(day(date)),
                        Some(t) => finish(date, t, &mut c),
                    }
                }
                b'-' | b' ' => {
                    // 24-Feb-2022, 24 February 2022
                    c.spaces();
                    let m = c.month()?;
                    if !(c.eat(sep) || c.spaces()) {
                        return Err(UNKNOWN);
                    }
                    c.spaces();
                    let y = c.year()?;
                    if !c.done() {
                        return Err(UNKNOWN);
                    }
                    Ok(day(NaiveDate::from_ymd_opt(y, m, a).ok_or(INVALID)?))
                }
                _ => Err(UNKNOWN),
            }
        }
        Err(_) => {
            // February 24, 2022
            let m = c.month()?;
            if !c.spaces() {
                return Err(UNKNOWN);
            }
            let (d, _) = c.number(1, 2).ok_or(UNKNOWN)?;
            c.eat(b',');
            c.spaces();
            let y = c.year()?;
            if !c.done() {
                return Err(UNKNOWN);
            }
            Ok(day(NaiveDate::from_ymd_opt(y, m, d).ok_or(INVALID)?))
        }
    }
}

fn day(date: NaiveDate) -> ParsedTime {
    let start = Utc.from_utc_datetime(&NaiveDateTime::new(date, NaiveTime::MIN));
    ParsedTime {
        start,
        precision: TimePrecision::Day,
    }
}

/// A time of day as written, before the date and offset are applied.
#[derive(Clone, Copy)]
struct Clock {
    time: NaiveTime,
    precision: TimePrecision,
    meridiem: bool,
}

/// Applies the optional UTC offset after the clock and checks nothing is left over.
fn finish(date: NaiveDate, t: Clock, c: &mut Cursor) -> Result<ParsedTime, TimeError> {
    c.spaces();
    let offset_s = c.offset()?;
    c.spaces();
    if !c.done() {
        return Err(UNKNOWN);
    }
    let local = NaiveDateTime::new(date, t.time);
    let offset = FixedOffset::east_opt(offset_s).ok_or(INVALID)?;
    let start = offset
        .from_local_datetime(&local)
        .single()
        .ok_or(INVALID)?
        .with_timezone(&Utc);
    Ok(ParsedTime {
        start,
        precision: t.precision,
    })
}

fn digits(b: &[u8]) -> Option<u32> {
    let mut v = 0u32;
    for &x in b {
        if !x.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(x - b'0');
    }
    Some(v)
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    fn done(&self) -> bool {
        self.i >= self.b.len()
    }
    fn eat(&mut self, x: u8) -> bool {
        if self.peek() == Some(x) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn expect(&mut self, x: u8) -> Option<()> {
        self.eat(x).then_some(())
    }
    fn one_of(&mut self, set: &[u8]) -> Option<u8> {
        let x = self.peek().filter(|x| set.contains(x))?;
        self.i += 1;
        Some(x)
    }
    /// Skips spaces; true if there was at least one.
    fn spaces(&mut self) -> bool {
        let from = self.i;
        while self.peek().is_some_and(|x| x == b' ' || x == b'\t') {
            self.i += 1;
        }
        self.i > from
    }
    /// Reads `min..=max` digits; returns the value and how many digits there were.
    fn number(&mut self, min: usize, max: usize) -> Option<(u32, usize)> {
        let from = self.i;
        let mut v = 0u32;
        while self.i - from < max {
            match self.peek() {
                Some(x) if x.is_ascii_digit() => {
                    v = v * 10 + u32::from(x - b'0');
                    self.i += 1;
                }
                _ => break,
            }
        }
        let n = self.i - from;
        if n < min || self.peek().is_some_and(|x| x.is_ascii_digit()) {
            return None;
        }
        Some((v, n))
    }
    /// Exactly two digits, whatever follows (`+0130` is two fields of two).
    fn two_digits(&mut self) -> Option<u32> {
        let d = digits(self.b.get(self.i..self.i + 2)?)?;
        self.i += 2;
        Some(d)
    }
    fn year(&mut self) -> Result<i32, TimeError> {
        match self.number(1, 4) {
            Some((y, 4)) => Ok(y as i32),
            _ => Err(UNKNOWN),
        }
    }
    /// A month name, full or abbreviated to at least three letters (`Sept` too).
    fn month(&mut self) -> Result<u32, TimeError> {
        let from = self.i;
        while self.peek().is_some_and(|x| x.is_ascii_alphabetic()) {
            self.i += 1;
        }
        let word = &self.b[from..self.i];
        self.eat(b'.');
        if word.len() < 3 {
            return Err(UNKNOWN);
        }
        MONTHS
            .iter()
            .position(|m| {
                let m = m.as_bytes();
                let w = if word.eq_ignore_ascii_case(b"sept") {
                    &b"sep"[..]
                } else {
                    word
                };
                w.len() <= m.len() && m[..w.len()].eq_ignore_ascii_case(w)
            })
            .map(|p| p as u32 + 1)
            .ok_or(UNKNOWN)
    }
    /// `H:MM[:SS[.fff]]` with an optional ` AM`/` PM`.
    fn clock(&mut self) -> Result<Clock, TimeError> {
        let (mut h, _) = self.number(1, 2).ok_or(UNKNOWN)?;
        self.expect(b':').ok_or(UNKNOWN)?;
        let (m, _) = self.number(2, 2).ok_or(UNKNOWN)?;
        let mut precision = TimePrecision::Minute;
        let mut s = 0;
        let mut ms = 0;
        if self.eat(b':') {
            s = self.number(2, 2).ok_or(UNKNOWN)?.0;
            precision = TimePrecision::Second;
            if self.eat(b'.') || self.eat(b',') {
                let from = self.i;
                while self.peek().is_some_and(|x| x.is_ascii_digit()) {
                    if self.i - from < 3 {
                        ms = ms * 10 + u32::from(self.b[self.i] - b'0');
                    }
                    self.i += 1;
                }
                let n = self.i - from;
                if n == 0 {
                    return Err(UNKNOWN);
                }
                for _ in n..3 {
                    ms *= 10;
                }
            }
        }
        let save = self.i;
        self.spaces();
        let meridiem = match self.b.get(self.i..self.i + 2) {
            Some(w) if w.eq_ignore_ascii_case(b"am") || w.eq_ignore_ascii_case(b"pm") => {
                let pm = w.eq_ignore_ascii_case(b"pm");
                self.i += 2;
                if !(1..=12).contains(&h) {
                    return Err(INVALID);
                }
                h = h % 12 + if pm { 12 } else { 0 };
                true
            }
            _ => {
                self.i = save;
                false
            }
        };
        // Seconds above 59 are refused here: chrono only represents a leap second as
        // 1,000+ milliseconds, which this parser never produces.
        let time = NaiveTime::from_hms_milli_opt(h, m, s, ms).ok_or(INVALID)?;
        Ok(Clock {
            time,
            precision,
            meridiem,
        })
    }
    /// An optional UTC offset in seconds: `Z`, `UTC`, `GMT`, `+HH`, `+HHMM`, `+HH:MM`.
    fn offset(&mut self) -> Result<i32, TimeError> {
        let rest = &self.b[self.i..];
        if rest.is_empty() {
            return Ok(0);
        }
        if rest[0] == b'Z' || rest[0] == b'z' {
            self.i += 1;
            return Ok(0);
        }
        if rest.len() >= 3 && (rest[..3].eq_ignore_ascii_case(b"utc") || rest[..3].eq_ignore_ascii_case(b"gmt")) {
            self.i += 3;
            if self.done() {
                return Ok(0);
            }
        }
        let sign = match self.one_of(b"+-") {
            Some(b'-') => -1,
            Some(_) => 1,
            None => return Err(UNKNOWN),
        };
        let h = self.two_digits().ok_or(UNKNOWN)?;
        self.eat(b':');
        let m = if self.done() {
            0
        } else {
            self.two_digits().ok_or(UNKNOWN)?
        };
        if h > 23 || m > 59 {
            return Err(INVALID);
        }
        Ok(sign * (h as i32 * 3600 + m as i32 * 60))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `expected` is `start precision` with start as RFC 3339 in UTC, or `!` + the error.
    fn check(input: &str, expected: &str) {
        let got = match parse_time(input) {
            Ok(t) => format!("{} {}", t.start.format("%Y-%m-%dT%H:%M:%S%.3fZ"), t.precision),
            Err(e) => format!("!{e}"),
        };
        assert_eq!(got, expected, "input {input:?}");
    }

    #[test]
    fn notations() {
        for (input, expected) in [
            ("2022-02-24", "2022-02-24T00:00:00.000Z day"),
            ("  2022-02-24 ", "2022-02-24T00:00:00.000Z day"),
            ("2022/02/24", "2022-02-24T00:00:00.000Z day"),
            ("2022-2-4", "2022-02-04T00:00:00.000Z day"),
            ("2022-02-24T03:40", "2022-02-24T03:40:00.000Z minute"),
            ("2022-02-24T03:40Z", "2022-02-24T03:40:00.000Z minute"),
            ("2022-02-24T03:40:10Z", "2022-02-24T03:40:10.000Z second"),
            ("2022-02-24T03:40:10.25Z", "2022-02-24T03:40:10.250Z second"),
            ("2022-02-24T03:40:10.123456789Z", "2022-02-24T03:40:10.123Z second"),
            ("2022-02-24T03:40:10+02:00", "2022-02-24T01:40:10.000Z second"),
            ("2022-02-24T01:40:10-0130", "2022-02-24T03:10:10.000Z second"),
            ("2022-02-24T23:00+03", "2022-02-24T20:00:00.000Z minute"),
            ("2022-02-24 03:40", "2022-02-24T03:40:00.000Z minute"),
            ("2022-02-24 03:40:59", "2022-02-24T03:40:59.000Z second"),
            ("2022-02-24 03:40:59 UTC", "2022-02-24T03:40:59.000Z second"),
            ("2014-01-22 00:00:00.000", "2014-01-22T00:00:00.000Z second"),
            ("2/24/2022 3:40:00 AM", "2022-02-24T03:40:00.000Z second"),
            ("2/24/2022 12:05:00 AM", "2022-02-24T00:05:00.000Z second"),
            ("2/24/2022 12:05 PM", "2022-02-24T12:05:00.000Z minute"),
            ("2/3/2022 1:00:00 pm", "2022-02-03T13:00:00.000Z second"),
            ("24/02/2022", "2022-02-24T00:00:00.000Z day"),
            ("2/24/2022", "2022-02-24T00:00:00.000Z day"),
            ("2/3/2022", "2022-03-02T00:00:00.000Z day"),
            ("24/02/2022 03:40", "2022-02-24T03:40:00.000Z minute"),
            ("24.02.2022", "2022-02-24T00:00:00.000Z day"),
            ("24.02.2022 03:40:05", "2022-02-24T03:40:05.000Z second"),
            ("24-02-2022", "2022-02-24T00:00:00.000Z day"),
            ("24-Feb-2022", "2022-02-24T00:00:00.000Z day"),
            ("24 February 2022", "2022-02-24T00:00:00.000Z day"),
            ("4 feb 2022", "2022-02-04T00:00:00.000Z day"),
            ("4 Sept 2022", "2022-09-04T00:00:00.000Z day"),
            ("4 Sept. 2022", "2022-09-04T00:00:00.000Z day"),
            ("February 24, 2022", "2022-02-24T00:00:00.000Z day"),
            ("Feb 24 2022", "2022-02-24T00:00:00.000Z day"),
        ] {
            check(input, expected);
        }
    }

    #[test]
    fn refusals() {
        for (input, expected) in [
            ("", "!not a recognised date or time"),
            ("   ", "!not a recognised date or time"),
            ("yesterday", "!not a recognised date or time"),
            ("2022-02-30", "!not a valid calendar date or time of day"),
            ("2022-13-01", "!not a valid calendar date or time of day"),
            ("31/04/2022", "!not a valid calendar date or time of day"),
            ("13/13/2022", "!not a valid calendar date or time of day"),
            ("24.13.2022", "!not a valid calendar date or time of day"),
            ("24/02/22", "!not a recognised date or time"),
            ("2022-02-24T24:00", "!not a valid calendar date or time of day"),
            ("2022-02-24T23:59:60", "!not a valid calendar date or time of day"),
            ("2022-02-24T10:00+25:00", "!not a valid calendar date or time of day"),
            ("2022-02-24T10:00 junk", "!not a recognised date or time"),
            ("2022-02-24T1", "!not a recognised date or time"),
            ("13/24/2022 3:00 PM", "!not a valid calendar date or time of day"),
            ("2/24/2022 13:00 PM", "!not a valid calendar date or time of day"),
            ("2/24/2022 0:00 AM", "!not a valid calendar date or time of day"),
            ("24 Fe 2022", "!not a recognised date or time"),
            ("24 Smarch 2022", "!not a recognised date or time"),
            ("20220224", "!not a recognised date or time"),
            ("2022-02-24x", "!not a recognised date or time"),
            ("+2022-02-24", "!not a recognised date or time"),
        ] {
            check(input, expected);
        }
    }

    #[test]
    fn span_covers_one_unit() {
        let t = parse_time("2022-02-24 03:40").unwrap().span();
        assert_eq!((t.end - t.start).num_seconds(), 60);
        let t = parse_time("2022-02-24").unwrap().span();
        assert_eq!((t.end - t.start).num_hours(), 24);
    }
}
