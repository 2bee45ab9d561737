//! The CSV driver shared by the FIRMS, UCDP and ACLED readers: it finds the header,
//! enforces the limits, counts rows and duplicates, and hands each row to the format's
//! [`Mapper`].

use csv::{Reader, ReaderBuilder, StringRecord};
use truce_model::Observation;

use crate::error::RowError;
use crate::fields::Header;
use crate::{acled, firms, ucdp};
use crate::{Format, IngestError, Ingested, RowHasher, Sink, FIELDS_MAX, FIELD_BYTES_MAX};

/// One format's view of a data row.
pub(crate) trait Mapper {
    /// Fills the time, place, uncertainty, kind and attributes of `obs` from `rec`.
    fn map(&self, rec: &StringRecord, obs: &mut Observation) -> Result<(), RowError>;
}

/// What a format's reader needs to know about the header.
pub(crate) struct HeaderInfo<'h> {
    pub header: &'h Header,
    pub file: &'h str,
    pub line: u64,
}

impl HeaderInfo<'_> {
    /// The index of a column the format cannot do without.
    pub fn require(&self, name: &'static str, format: Format) -> Result<usize, IngestError> {
        self.header.find(name).ok_or_else(|| IngestError::MissingColumn {
            file: self.file.to_string(),
            line: self.line,
            column: name,
            format: format.as_str(),
        })
    }
}

pub(crate) fn read(text: &str, forced: Option<Format>, mut sink: Sink) -> Result<Ingested, IngestError> {
    let file = sink.file().to_string();
    let mut rdr = reader(text);
    let mut lines = Lines::new(text);
    let mut rec = StringRecord::new();
    let line = loop {
        match rdr.read_record(&mut rec) {
            Ok(false) => return Err(IngestError::Empty { file }),
            Ok(true) => {
                let line = lines.of(&rec);
                check_limits(&rec, &file, line)?;
                if !blank(&rec) {
                    break line;
                }
            }
            // A CSV error is not possible on text that is already valid UTF-8 with
            // flexible row lengths; should one occur, the row is skipped like a blank.
            Err(_) => continue,
        }
    };
    let header = Header::new(&rec);
    let format = match forced.or_else(|| Format::from_header(header.names.iter().map(String::as_str))) {
        Some(f) if f != Format::GeoJson => f,
        _ => {
            let shown: Vec<&str> = header.names.iter().take(8).map(|n| n.as_str()).collect();
            let more = if header.len() > 8 { ", ..." } else { "" };
            return Err(IngestError::UnknownFormat {
                file,
                line,
                why: format!("columns: {}{more}", crate::fields::clip_to(&shown.join(", "), 200)),
            });
        }
    };
    sink.set_format(format);
    let info = HeaderInfo {
        header: &header,
        file: &file,
        line,
    };
    match format {
        Format::Firms => run(firms::Firms::new(&info)?, &mut rdr, &mut lines, header.len(), sink),
        Format::UcdpGed => run(ucdp::Ucdp::new(&info)?, &mut rdr, &mut lines, header.len(), sink),
        _ => run(acled::Acled::new(&info)?, &mut rdr, &mut lines, header.len(), sink),
    }
}

/// The format the first non-blank row of `text` names, if any.
pub(crate) fn header_format(text: &str) -> Option<Format> {
    let mut rdr = reader(text);
    let mut rec = StringRecord::new();
    loop {
        match rdr.read_record(&mut rec) {
            Ok(false) => return None,
            Ok(true) if blank(&rec) => continue,
            Ok(true) => return Format::from_header(rec.iter()),
            Err(_) => continue,
        }
    }
}

fn run<M: Mapper>(
    mapper: M,
    rdr: &mut Reader<&[u8]>,
    lines: &mut Lines,
    columns: usize,
    mut sink: Sink,
) -> Result<Ingested, IngestError> {
    let file = sink.file().to_string();
    let mut rec = StringRecord::new();
    loop {
        match rdr.read_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(_) => continue,
        }
        let line = lines.of(&rec);
        check_limits(&rec, &file, line)?;
        if blank(&rec) {
            continue;
        }
        sink.row(line)?;
        if sink.duplicate(row_hash(&rec)) {
            continue;
        }
        let mapped = shape(&rec, columns).and_then(|()| mapper.map(&rec, &mut sink.obs));
        match mapped {
            Ok(()) => sink.keep(line),
            Err(e) => sink.reject(line, e)?,
        }
    }
    Ok(sink.finish())
}

/// A reader over `text` that keeps quoting rules standard and row lengths free (rows
/// of the wrong length are rejected one by one, not the whole file). The delimiter is
/// the most frequent of `,`, `;` and tab on the first non-blank line, because
/// spreadsheets in much of Europe save "CSV" with semicolons.
fn reader(text: &str) -> Reader<&[u8]> {
    ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter(text))
        .buffer_capacity(1 << 16)
        .from_reader(text.as_bytes())
}

fn delimiter(text: &str) -> u8 {
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let count = |c: u8| first.bytes().filter(|b| *b == c).count();
    let (comma, semi, tab) = (count(b','), count(b';'), count(b'\t'));
    if semi > comma && semi >= tab {
        b';'
    } else if tab > comma && tab > semi {
        b'\t'
    } else {
        b','
    }
}

/// Finds the 1-based line each record starts on. The CSV reader's own line numbers
/// are not usable: a record's position is where the previous record's terminator
/// ended, so blank lines before it and the `\n` of a CRLF are counted as part of it.
/// This counter takes that byte offset, skips the line breaks after it, and counts
/// lines up to there (`\n`, `\r\n` and a lone `\r` each end a line).
struct Lines<'t> {
    text: &'t [u8],
    pos: usize,
    line: u64,
}

impl<'t> Lines<'t> {
    fn new(text: &'t str) -> Self {
        Lines {
            text: text.as_bytes(),
            pos: 0,
            line: 1,
        }
    }

    fn of(&mut self, rec: &StringRecord) -> u64 {
        let Some(p) = rec.position() else { return self.line };
        let mut start = (p.byte() as usize).clamp(self.pos, self.text.len());
        while start < self.text.len() && matches!(self.text[start], b'\r' | b'\n') {
            start += 1;
        }
        let seen = &self.text[self.pos..start];
        let mut n = 0;
        for (i, b) in seen.iter().enumerate() {
            match b {
                b'\n' => n += 1,
                // A lone CR ends a line; a CR before LF is counted with the LF. A CR at
                // the end of `seen` is followed by this record, so it is lone too.
                b'\r' if seen.get(i + 1) != Some(&b'\n') => n += 1,
                _ => {}
            }
        }
        self.line += n;
        self.pos = start;
        self.line
    }
}

/// True for a row whose fields are all blank: a blank line with spaces, or the `,,,,`
/// rows spreadsheets leave at the end. These are not rows, as blank lines are not.
fn blank(rec: &StringRecord) -> bool {
    rec.iter().all(|f| f.trim().is_empty())
}

fn check_limits(rec: &StringRecord, file: &str, line: u64) -> Result<(), IngestError> {
    let limit = |what: String, limit: &'static str, max: usize, found: usize| IngestError::Limit {
        file: file.to_string(),
        line: Some(line),
        what,
        limit,
        max: max as u64,
        found: found as u64,
    };
    if rec.len() > FIELDS_MAX {
        return Err(limit("fields in the row".into(), "FIELDS_MAX", FIELDS_MAX, rec.len()));
    }
    if rec.as_slice().len() > FIELD_BYTES_MAX {
        if let Some((i, f)) = rec.iter().enumerate().find(|(_, f)| f.len() > FIELD_BYTES_MAX) {
            return Err(limit(
                format!("field {}", i + 1),
                "FIELD_BYTES_MAX",
                FIELD_BYTES_MAX,
                f.len(),
            ));
        }
    }
    Ok(())
}

/// A row must have the header's number of fields; extra fields are allowed only when
/// empty (a trailing delimiter). A short or long row usually means a broken line, whose
/// values would land in the wrong columns.
fn shape(rec: &StringRecord, columns: usize) -> Result<(), RowError> {
    if rec.len() < columns {
        return Err(RowError::new(
            "record",
            "too few fields",
            format!("{} fields where the header has {columns}", rec.len()),
        ));
    }
    if rec.iter().skip(columns).any(|f| !f.trim().is_empty()) {
        return Err(RowError::new(
            "record",
            "too many fields",
            format!("{} fields where the header has {columns}", rec.len()),
        ));
    }
    Ok(())
}

/// The identity of a row's raw content: its fields byte for byte, with their boundaries.
fn row_hash(rec: &StringRecord) -> u128 {
    let mut h = RowHasher::new();
    for f in rec.iter() {
        h.write(f.as_bytes());
        // 0xff never occurs in UTF-8, so it cannot be confused with field content.
        h.write(&[0xff]);
    }
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiters() {
        fn check(input: &str, expected: u8) {
            assert_eq!(delimiter(input) as char, expected as char, "input {input:?}");
        }
        for (input, expected) in [
            ("a,b,c\n", b','),
            ("\n\na;b;c\n1,5;2,5;3\n", b';'),
            ("a\tb\tc", b'\t'),
            ("a;b,c", b','),
            ("", b','),
        ] {
            check(input, expected);
        }
    }

    #[test]
    fn lines_count_blank_lines_and_crlf() {
        fn check(input: &str, expected: &[(u64, &str)]) {
            let mut rdr = reader(input);
            let mut lines = Lines::new(input);
            let mut rec = StringRecord::new();
            let mut got = Vec::new();
            while rdr.read_record(&mut rec).unwrap() {
                got.push((lines.of(&rec), rec.get(0).unwrap().to_string()));
            }
            let expected: Vec<(u64, String)> = expected.iter().map(|(l, s)| (*l, s.to_string())).collect();
            assert_eq!(got, expected, "input {input:?}");
        }
        let lf = [(1, "h"), (3, "a"), (4, "b\nc"), (6, "d")];
        check("h\r\n\r\na\r\n\"b\nc\"\r\nd", &lf);
        check("h\n\na\n\"b\nc\"\nd\n", &lf);
        check("h\r\ra\r\"b\nc\"\rd\r", &lf);
        check("\n\nh\na", &[(3, "h"), (4, "a")]);
        check("h\n  \na", &[(1, "h"), (2, "  "), (3, "a")]);
    }
}
