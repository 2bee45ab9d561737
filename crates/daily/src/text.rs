//! Text helpers shared by the editions: times in words, Helvetica's widths, and the
//! WinAnsi encoding the PDF's standard fonts use.

use chrono::{DateTime, Utc};

/// `2022-06-12T04:10:00Z` as `2022-06-12 04:10 UTC`; text that is not RFC 3339 is
/// shown as given.
pub fn time(t: &str) -> String {
    match DateTime::parse_from_rfc3339(t) {
        Ok(d) => d.with_timezone(&Utc).format("%Y-%m-%d %H:%M UTC").to_string(),
        Err(_) => t.to_string(),
    }
}

/// A span of time: `2022-06-12 04:10-04:25 UTC` within a day, both ends otherwise.
pub fn span(start: &str, end: &str) -> String {
    match (DateTime::parse_from_rfc3339(start), DateTime::parse_from_rfc3339(end)) {
        (Ok(a), Ok(b)) => {
            let (a, b) = (a.with_timezone(&Utc), b.with_timezone(&Utc));
            if a == b {
                a.format("%Y-%m-%d %H:%M UTC").to_string()
            } else if a.date_naive() == b.date_naive() {
                format!("{}-{} UTC", a.format("%Y-%m-%d %H:%M"), b.format("%H:%M"))
            } else {
                format!("{} to {}", a.format("%Y-%m-%d %H:%M UTC"), b.format("%Y-%m-%d %H:%M UTC"))
            }
        }
        _ => format!("{start} to {end}"),
    }
}

/// A figure with one decimal and thousands separated: `40,312.5`.
pub fn money(v: f64) -> String {
    let s = format!("{:.1}", v.abs());
    let (int, frac) = s.split_once('.').unwrap_or((&s, "0"));
    format!("{}{}.{frac}", if v < 0.0 { "-" } else { "" }, thousands(int))
}

/// Digits with a comma every three: `180,000`.
pub fn thousands(digits: &str) -> String {
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// "1 incident", "3 incidents".
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A change against the previous period: `+3`, `-1`, `0`.
pub fn change(now: u32, before: u32) -> String {
    let d = now as i64 - before as i64;
    if d > 0 { format!("+{d}") } else { d.to_string() }
}

/// Helvetica's advance widths (per 1000 em) for ASCII 32..=126, from Adobe's AFM.
const HELVETICA: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556,
    556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667, 611, 778,
    722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278,
    278, 278, 469, 556, 333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556,
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
];
/// Helvetica-Bold's, likewise.
const HELVETICA_BOLD: [u16; 95] = [
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556,
    556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611, 975, 722, 722, 722, 722, 667, 611, 778,
    722, 278, 556, 722, 611, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333,
    278, 333, 584, 556, 333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611,
    611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584,
];

/// Width of WinAnsi bytes in Helvetica (or bold) at `size` points.
pub fn width_bytes(bytes: &[u8], size: f64, bold: bool) -> f64 {
    let table = if bold { &HELVETICA_BOLD } else { &HELVETICA };
    let units: u32 = bytes
        .iter()
        .map(|&b| match b {
            32..=126 => table[(b - 32) as usize] as u32,
            0x96 => 556,        // en dash
            0x97 | 0x85 => 1000, // em dash, ellipsis
            0xb0 => 400,
            0x91 | 0x92 => 222,
            0x93 | 0x94 => 333,
            _ => 556,
        })
        .sum();
    units as f64 * size / 1000.0
}

/// Approximate width of text in Helvetica at `size` (for laying out SVG legends).
pub fn approx_width(s: &str, size: f64) -> f64 {
    width_bytes(&winansi(s), size, false)
}

/// Text in the WinAnsi encoding of the PDF standard fonts: Latin-1 as is, the usual
/// punctuation mapped, Ukrainian and Russian Cyrillic transliterated (national
/// system of Ukraine, 2010), anything else `?`.
pub fn winansi(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    for c in s.chars() {
        let code = c as u32;
        match c {
            '\u{2013}' => out.push(0x96),
            '\u{2014}' => out.push(0x97),
            '\u{2018}' => out.push(0x91),
            '\u{2019}' => out.push(0x92),
            '\u{201c}' => out.push(0x93),
            '\u{201d}' => out.push(0x94),
            '\u{2026}' => out.push(0x85),
            '\u{2022}' => out.push(0x95),
            '\u{20ac}' => out.push(0x80),
            '\u{2212}' => out.push(b'-'),
            '\u{2192}' => out.extend_from_slice(b"->"),
            '\u{2264}' => out.extend_from_slice(b"<="),
            '\u{2265}' => out.extend_from_slice(b">="),
            '\t' | '\n' | '\r' => out.push(b' '),
            _ if (0x20..0x7f).contains(&code) || (0xa0..=0xff).contains(&code) => out.push(code as u8),
            _ => match translit(c) {
                Some(t) => out.extend_from_slice(t.as_bytes()),
                None if code < 0x20 => {}
                None => out.push(b'?'),
            },
        }
    }
    out
}

fn translit(c: char) -> Option<String> {
    let lower = c.to_lowercase().next()?;
    let t = match lower {
        'а' => "a", 'б' => "b", 'в' => "v", 'г' => "h", 'ґ' => "g", 'д' => "d", 'е' => "e",
        'є' => "ie", 'ж' => "zh", 'з' => "z", 'и' => "y", 'і' => "i", 'ї' => "i", 'й' => "i",
        'к' => "k", 'л' => "l", 'м' => "m", 'н' => "n", 'о' => "o", 'п' => "p", 'р' => "r",
        'с' => "s", 'т' => "t", 'у' => "u", 'ф' => "f", 'х' => "kh", 'ц' => "ts", 'ч' => "ch",
        'ш' => "sh", 'щ' => "shch", 'ь' => "", 'ю' => "iu", 'я' => "ia", 'ы' => "y", 'э' => "e",
        'ё' => "io", 'ъ' => "", '\u{2bc}' => "",
        _ => return None,
    };
    if lower != c {
        let mut cs = t.chars();
        Some(cs.next().map(|f| f.to_uppercase().chain(cs).collect()).unwrap_or_default())
    } else {
        Some(t.to_string())
    }
}
