//! Field handling shared by the CSV readers: the header, coordinates, small codes and
//! the attribute JSON.

use csv::StringRecord;

use crate::error::RowError;

/// The header row: names as written (trimmed) and lower-cased for lookup, because
/// feeds disagree on case (`LATITUDE` in one FIRMS export, `latitude` in the next).
pub(crate) struct Header {
    pub names: Vec<String>,
    lower: Vec<String>,
}

impl Header {
    pub fn new(rec: &StringRecord) -> Self {
        let names: Vec<String> = rec.iter().map(|f| f.trim().to_string()).collect();
        let lower = names.iter().map(|n| n.to_ascii_lowercase()).collect();
        Header { names, lower }
    }

    /// The index of the first column called `name` (lower case), if any.
    pub fn find(&self, name: &str) -> Option<usize> {
        self.lower.iter().position(|n| n == name)
    }

    pub fn has(&self, name: &str) -> bool {
        self.find(name).is_some()
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn lower(&self, i: usize) -> &str {
        &self.lower[i]
    }
}

/// Field `i` of `rec`, trimmed; empty when the row is short.
pub(crate) fn field(rec: &StringRecord, i: usize) -> &str {
    rec.get(i).unwrap_or("").trim()
}

/// A column a reader uses: its index and its name as written, for messages.
#[derive(Clone)]
pub(crate) struct Col {
    pub i: usize,
    pub name: String,
}

impl Col {
    pub fn new(h: &Header, i: usize) -> Self {
        Col {
            i,
            name: h.names[i].clone(),
        }
    }
    pub fn get<'r>(&self, rec: &'r StringRecord) -> &'r str {
        field(rec, self.i)
    }
}

/// Parses a latitude and a longitude, refusing non-numbers, non-finite values, values
/// out of range and the (0, 0) "null island" that careless exports use for "unknown".
pub(crate) fn lat_lon(rec: &StringRecord, lat: &Col, lon: &Col) -> Result<(f64, f64), RowError> {
    let y = number(rec, lat)?;
    let x = number(rec, lon)?;
    check_lat_lon(y, x, &lat.name, &lon.name)
}

/// Checks a parsed latitude and longitude (see [`lat_lon`]); the names are for messages.
pub(crate) fn check_lat_lon(y: f64, x: f64, lat: &str, lon: &str) -> Result<(f64, f64), RowError> {
    for (v, name, limit) in [(y, lat, 90.0), (x, lon, 180.0)] {
        if !v.is_finite() {
            return Err(RowError::new(name, "not finite", format!("`{v}` is not finite")));
        }
        if !(-limit..=limit).contains(&v) {
            return Err(RowError::new(
                name,
                "out of range",
                format!("{v} is outside [-{limit}, {limit}]"),
            ));
        }
    }
    if x == 0.0 && y == 0.0 {
        let field = format!("{lat},{lon}");
        return Err(RowError::new(
            &field,
            "null island",
            "(0, 0) is the null-island placeholder, not a location",
        ));
    }
    Ok((y, x))
}

fn number(rec: &StringRecord, col: &Col) -> Result<f64, RowError> {
    let text = col.get(rec);
    if text.is_empty() {
        return Err(RowError::new(&col.name, "missing", "empty"));
    }
    text.parse()
        .map_err(|_| RowError::new(&col.name, "not a number", format!("`{}` is not a number", clip(text))))
}

/// Parses a date or date-time field (see [`crate::time`]).
pub(crate) fn time_field(text: &str, name: &str) -> Result<crate::ParsedTime, RowError> {
    if text.trim().is_empty() {
        return Err(RowError::new(name, "missing", "empty"));
    }
    crate::parse_time(text).map_err(|why| RowError::new(name, why, format!("`{}` is {why}", clip(text))))
}

/// Parses a small code such as UCDP's `where_prec` (`1`..`7`; `2.0` as written by some
/// spreadsheets is accepted).
pub(crate) fn code(rec: &StringRecord, col: &Col, allowed: std::ops::RangeInclusive<u8>) -> Result<u8, RowError> {
    let text = col.get(rec);
    if text.is_empty() {
        return Err(RowError::new(&col.name, "missing", "empty"));
    }
    let t = text.strip_suffix(".0").unwrap_or(text);
    match t.parse::<u8>() {
        Ok(v) if allowed.contains(&v) => Ok(v),
        _ => Err(RowError::new(
            &col.name,
            "unknown code",
            format!(
                "`{}` is not a code in {}..={}",
                clip(text),
                allowed.start(),
                allowed.end()
            ),
        )),
    }
}

/// At most 40 characters of `s`, for messages about bad values (a 64 KiB field would
/// drown the summary).
pub(crate) fn clip(s: &str) -> String {
    clip_to(s, 40)
}

/// At most `n` characters of `s`, with `...` when cut.
pub(crate) fn clip_to(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s.to_string(),
    }
}

/// The columns that go into `attributes`, with their JSON keys written once.
pub(crate) struct AttrColumns {
    cols: Vec<(usize, String)>,
}

impl AttrColumns {
    /// Every column of `h` for which `keep(lower_case_name)` holds. A repeated name gets
    /// a `#2`, `#3` suffix so the object has no duplicate keys.
    pub fn new(h: &Header, keep: impl Fn(&str) -> bool) -> Self {
        let mut cols = Vec::new();
        let mut used: Vec<&str> = Vec::new();
        for i in 0..h.len() {
            if !keep(h.lower(i)) {
                continue;
            }
            let name = h.names[i].as_str();
            let n = used.iter().filter(|u| **u == name).count();
            used.push(name);
            let key = if n == 0 {
                name.to_string()
            } else {
                format!("{name}#{}", n + 1)
            };
            let mut k = String::new();
            push_json_string(&mut k, &key);
            k.push(':');
            cols.push((i, k));
        }
        AttrColumns { cols }
    }

    /// Writes the kept fields of `rec` as a JSON object into `out` (cleared first).
    pub fn write(&self, rec: &StringRecord, out: &mut String) {
        out.clear();
        out.push('{');
        for (n, (i, key)) in self.cols.iter().enumerate() {
            if n > 0 {
                out.push(',');
            }
            out.push_str(key);
            push_json_value(out, field(rec, *i));
        }
        out.push('}');
    }
}

/// Writes a field as a JSON value: empty as `null`, a JSON number as that number (its
/// text kept exactly, so nothing is rounded), anything else as a string. `0035` stays a
/// string: JSON numbers have no leading zeros, and the zeros may matter.
pub(crate) fn push_json_value(out: &mut String, v: &str) {
    if v.is_empty() {
        out.push_str("null");
    } else if is_json_number(v) {
        out.push_str(v);
    } else {
        push_json_string(out, v);
    }
}

/// True if `s` is a number in JSON's grammar that also fits an `f64`.
pub(crate) fn is_json_number(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let n = b.len();
    if i < n && b[i] == b'-' {
        i += 1;
    }
    let int_from = i;
    while i < n && b[i].is_ascii_digit() {
        i += 1;
    }
    let int_len = i - int_from;
    if int_len == 0 || (int_len > 1 && b[int_from] == b'0') {
        return false;
    }
    if i < n && b[i] == b'.' {
        i += 1;
        let f = i;
        while i < n && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == f {
            return false;
        }
    }
    if i < n && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < n && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let e = i;
        while i < n && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == e {
            return false;
        }
    }
    // Huge exponents would make readers of the JSON fail or overflow.
    i == n && (int_len < 16 && !s.contains(['e', 'E']) || s.parse::<f64>().is_ok_and(f64::is_finite))
}

/// Writes `s` as a JSON string literal.
pub(crate) fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    let mut from = 0;
    for (i, c) in s.char_indices() {
        let esc = match c {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            c if (c as u32) < 0x20 => "",
            _ => continue,
        };
        out.push_str(&s[from..i]);
        if esc.is_empty() {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push_str(esc);
        }
        from = i + c.len_utf8();
    }
    out.push_str(&s[from..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(fields: &[&str]) -> StringRecord {
        StringRecord::from(fields.to_vec())
    }

    #[test]
    fn json_values() {
        fn check(input: &str, expected: &str) {
            let mut out = String::new();
            push_json_value(&mut out, input);
            assert_eq!(out, expected, "input {input:?}");
            serde_json::from_str::<serde_json::Value>(&out).expect("valid JSON");
        }
        for (input, expected) in [
            ("", "null"),
            ("12", "12"),
            ("-0.5", "-0.5"),
            ("305.97", "305.97"),
            ("1e5", "1e5"),
            ("1E-7", "1E-7"),
            ("1e999", "\"1e999\""),
            ("0035", "\"0035\""),
            ("0", "0"),
            ("-", "\"-\""),
            ("1.", "\"1.\""),
            (".5", "\".5\""),
            ("NaN", "\"NaN\""),
            ("inf", "\"inf\""),
            ("2.0NRT", "\"2.0NRT\""),
            ("n", "\"n\""),
            ("say \"hi\"\\\n", "\"say \\\"hi\\\"\\\\\\n\""),
            ("a\u{1}b", "\"a\\u0001b\""),
            ("Київ", "\"Київ\""),
        ] {
            check(input, expected);
        }
    }

    #[test]
    fn coordinates() {
        let h = Header::new(&rec(&["lat", "lon"]));
        let (lat, lon) = (Col::new(&h, 0), Col::new(&h, 1));
        fn check(lat: &Col, lon: &Col, input: [&str; 2], expected: &str) {
            let got = match lat_lon(&rec(&input), lat, lon) {
                Ok((y, x)) => format!("{y} {x}"),
                Err(e) => format!("{}: {}: {}", e.field, e.reason, e.detail),
            };
            assert_eq!(got, expected, "input {input:?}");
        }
        for (input, expected) in [
            (["47.1", " 37.6 "], "47.1 37.6"),
            (["-90", "180"], "-90 180"),
            (["", "37"], "lat: missing: empty"),
            (["x", "37"], "lat: not a number: `x` is not a number"),
            (["NaN", "37"], "lat: not finite: `NaN` is not finite"),
            (["47", "-Infinity"], "lon: not finite: `-inf` is not finite"),
            (["47", "inf"], "lon: not finite: `inf` is not finite"),
            (["90.5", "37"], "lat: out of range: 90.5 is outside [-90, 90]"),
            (["47", "-180.01"], "lon: out of range: -180.01 is outside [-180, 180]"),
            (
                ["0", "0.0"],
                "lat,lon: null island: (0, 0) is the null-island placeholder, not a location",
            ),
            (["0", "1"], "0 1"),
        ] {
            check(&lat, &lon, input, expected);
        }
    }

    #[test]
    fn attribute_object() {
        let h = Header::new(&rec(&["a", "B", "a", "skip"]));
        let cols = AttrColumns::new(&h, |n| n != "skip");
        let mut out = String::new();
        cols.write(&rec(&["1", " x ", "", "zz"]), &mut out);
        assert_eq!(out, r#"{"a":1,"B":"x","a#2":null}"#);
        cols.write(&rec(&["1"]), &mut out);
        assert_eq!(out, r#"{"a":1,"B":null,"a#2":null}"#);
    }
}
