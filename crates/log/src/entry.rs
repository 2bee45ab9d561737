//! Log entries: a kind plus a JSON body, serialised canonically so that the
//! same entry always yields the same leaf bytes (and so the same leaf hash).
//!
//! The canonical form is the RFC 8785 (JCS) serialisation restricted to
//! values on which JCS and every mainstream JSON library agree: object keys
//! sorted by UTF-16 code units, no insignificant white space, minimal string
//! escaping, and numbers limited to integers of magnitude below 2^53 (floats
//! are refused, because their textual form differs between libraries). The
//! leaf is `{"body":<body>,"kind":"<kind>","v":1}` in that form.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::Error;

/// The largest leaf (serialised entry) the log accepts: the tlog-tiles entry
/// bundle stores lengths as a uint16.
pub const MAX_ENTRY_BYTES: usize = crate::tile::MAX_BUNDLE_ENTRY_BYTES;
/// The deepest nesting of arrays and objects accepted in a body.
pub const MAX_JSON_DEPTH: usize = 32;
/// The largest integer magnitude allowed in a body (2^53 - 1), the range in
/// which every JSON implementation represents integers exactly.
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;
/// Version number written into every leaf, so that a future format can be
/// told apart.
pub const LEAF_VERSION: u64 = 1;

/// What an entry records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// A batch of observations was read from a file and ingested.
    IngestedBatch,
    /// A decision about an incident (classification, attribution, closure).
    IncidentDecision,
    /// A report was issued.
    Report,
    /// An event concerning a party's obligation (raised, met, breached).
    ObligationEvent,
    /// A signing-key event (creation, rotation, revocation).
    KeyEvent,
}

impl EntryKind {
    /// Every kind, in declaration order.
    pub const ALL: [EntryKind; 5] = [
        EntryKind::IngestedBatch,
        EntryKind::IncidentDecision,
        EntryKind::Report,
        EntryKind::ObligationEvent,
        EntryKind::KeyEvent,
    ];

    /// The name written in the leaf, for example `ingested_batch`.
    pub fn as_str(&self) -> &'static str {
        match self {
            EntryKind::IngestedBatch => "ingested_batch",
            EntryKind::IncidentDecision => "incident_decision",
            EntryKind::Report => "report",
            EntryKind::ObligationEvent => "obligation_event",
            EntryKind::KeyEvent => "key_event",
        }
    }

    /// Parses a kind name.
    pub fn parse(s: &str) -> Option<EntryKind> {
        EntryKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl std::fmt::Display for EntryKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The body of an [`EntryKind::IngestedBatch`] entry. All times are supplied
/// by the caller; the library never reads a clock.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngestedBatch {
    /// SHA-256 of the ingested file, 64 lowercase hex digits.
    pub file_sha256: String,
    /// The file's name as given to the reader.
    pub file_name: String,
    /// Name of the reader (parser) that read it.
    pub reader: String,
    /// Version of that reader.
    pub reader_version: String,
    /// Rows read from the file.
    pub rows_read: u64,
    /// Rows kept after validation.
    pub rows_kept: u64,
    /// Rows rejected by validation.
    pub rows_rejected: u64,
    /// Who ran the ingestion.
    pub who: String,
    /// When, as an RFC 3339 UTC timestamp ending in `Z`.
    pub when: String,
}

impl IngestedBatch {
    /// Checks field formats: hex digest, RFC 3339 UTC time, safe integers.
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |f: &str, r: &str| Error::InvalidEntry {
            pointer: format!("/body/{f}"),
            reason: r.to_string(),
        };
        if self.file_sha256.len() != 64
            || !self
                .file_sha256
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(bad("file_sha256", "must be 64 lowercase hex digits"));
        }
        if !is_rfc3339_utc(&self.when) {
            return Err(bad(
                "when",
                "must be an RFC 3339 UTC timestamp like 2025-01-31T12:00:00Z",
            ));
        }
        for (f, v) in [
            ("rows_read", self.rows_read),
            ("rows_kept", self.rows_kept),
            ("rows_rejected", self.rows_rejected),
        ] {
            if v > MAX_SAFE_INTEGER {
                return Err(bad(f, "is above 2^53 - 1"));
            }
        }
        Ok(())
    }
}

/// Whether `s` looks like `YYYY-MM-DDTHH:MM:SS[.fraction]Z` with plausible
/// field ranges. Only the UTC `Z` form is accepted so that one instant has
/// one spelling in the log.
pub fn is_rfc3339_utc(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 20 || b.len() > 30 || *b.last().unwrap_or(&0) != b'Z' {
        return false;
    }
    let digits = |r: std::ops::Range<usize>| b[r.clone()].iter().all(|c| c.is_ascii_digit());
    let num = |r: std::ops::Range<usize>| s[r].parse::<u32>().unwrap_or(99);
    if !(digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19))
    {
        return false;
    }
    let frac = &b[19..b.len() - 1];
    if !frac.is_empty()
        && (frac[0] != b'.' || frac.len() < 2 || !frac[1..].iter().all(|c| c.is_ascii_digit()))
    {
        return false;
    }
    (1..=12).contains(&num(5..7))
        && (1..=31).contains(&num(8..10))
        && num(11..13) <= 23
        && num(14..16) <= 59
        && num(17..19) <= 60
}

/// A log entry: a kind and a JSON body. Construct it with [`Entry::new`] or
/// [`Entry::ingested_batch`]; both check that the body has a canonical form
/// and fits in a leaf.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    kind: EntryKind,
    body: Value,
}

impl Entry {
    /// An entry of `kind` with `body`, checked for canonical-JSON compatibility
    /// and size. An [`EntryKind::IngestedBatch`] body must also be a valid
    /// [`IngestedBatch`]: the typed kinds cannot be bypassed with free JSON.
    pub fn new(kind: EntryKind, body: Value) -> Result<Entry, Error> {
        let e = Entry { kind, body };
        if let Some(typed) = e.as_ingested_batch() {
            typed?.validate()?;
        }
        e.to_leaf_bytes()?;
        Ok(e)
    }

    /// An [`EntryKind::IngestedBatch`] entry.
    pub fn ingested_batch(b: &IngestedBatch) -> Result<Entry, Error> {
        let body = serde_json::to_value(b).map_err(|e| Error::InvalidEntry {
            pointer: "/body".into(),
            reason: e.to_string(),
        })?;
        Entry::new(EntryKind::IngestedBatch, body)
    }

    /// The entry's kind.
    pub fn kind(&self) -> EntryKind {
        self.kind
    }

    /// The entry's body.
    pub fn body(&self) -> &Value {
        &self.body
    }

    /// The typed body of an ingested-batch entry; `None` for other kinds.
    pub fn as_ingested_batch(&self) -> Option<Result<IngestedBatch, Error>> {
        if self.kind != EntryKind::IngestedBatch {
            return None;
        }
        Some(
            serde_json::from_value(self.body.clone()).map_err(|e| Error::InvalidEntry {
                pointer: "/body".into(),
                reason: e.to_string(),
            }),
        )
    }

    /// The canonical leaf bytes.
    pub fn to_leaf_bytes(&self) -> Result<Vec<u8>, Error> {
        let mut out = Vec::with_capacity(256);
        out.extend_from_slice(b"{\"body\":");
        write_canonical(&self.body, &mut out, &mut String::from("/body"), 0)?;
        out.extend_from_slice(b",\"kind\":\"");
        out.extend_from_slice(self.kind.as_str().as_bytes());
        out.extend_from_slice(b"\",\"v\":");
        out.extend_from_slice(LEAF_VERSION.to_string().as_bytes());
        out.push(b'}');
        if out.len() > MAX_ENTRY_BYTES {
            return Err(Error::EntryTooLarge {
                index: 0,
                len: out.len(),
                max: MAX_ENTRY_BYTES,
            });
        }
        Ok(out)
    }

    /// Parses leaf bytes, requiring that they are exactly the canonical
    /// serialisation of the entry they describe.
    pub fn from_leaf_bytes(bytes: &[u8]) -> Result<Entry, Error> {
        let bad = |r: String| Error::InvalidLeaf { reason: r };
        if bytes.len() > MAX_ENTRY_BYTES {
            return Err(bad(format!(
                "leaf is {} bytes, over {MAX_ENTRY_BYTES}",
                bytes.len()
            )));
        }
        let v: Value = serde_json::from_slice(bytes).map_err(|e| bad(format!("not JSON: {e}")))?;
        let Value::Object(mut m) = v else {
            return Err(bad("leaf is not a JSON object".into()));
        };
        if m.len() != 3 {
            return Err(bad(
                "leaf must have exactly the fields body, kind and v".into()
            ));
        }
        if m.get("v").and_then(Value::as_u64) != Some(LEAF_VERSION) {
            return Err(bad(format!("leaf version is not {LEAF_VERSION}")));
        }
        let kind = m
            .get("kind")
            .and_then(Value::as_str)
            .and_then(EntryKind::parse)
            .ok_or_else(|| bad("unknown or missing kind".into()))?;
        let body = m.remove("body").ok_or_else(|| bad("missing body".into()))?;
        let e = Entry { kind, body };
        let canon = e.to_leaf_bytes().map_err(|err| bad(err.to_string()))?;
        if canon != bytes {
            return Err(bad("leaf bytes are not in canonical form".into()));
        }
        Ok(e)
    }
}

/// Writes `v` in canonical form. `pointer` is the JSON pointer of `v`, kept
/// up to date so that errors say where the offending value is.
fn write_canonical(
    v: &Value,
    out: &mut Vec<u8>,
    pointer: &mut String,
    depth: usize,
) -> Result<(), Error> {
    let bad = |p: &str, r: &str| Error::InvalidEntry {
        pointer: p.to_string(),
        reason: r.to_string(),
    };
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                if u > MAX_SAFE_INTEGER {
                    return Err(bad(pointer, "integer above 2^53 - 1; store it as a string"));
                }
                out.extend_from_slice(u.to_string().as_bytes());
            } else if let Some(i) = n.as_i64() {
                if i.unsigned_abs() > MAX_SAFE_INTEGER {
                    return Err(bad(
                        pointer,
                        "integer below -(2^53 - 1); store it as a string",
                    ));
                }
                out.extend_from_slice(i.to_string().as_bytes());
            } else {
                return Err(bad(pointer, "non-integer number; floats have no canonical form here, store it as a string or scaled integer"));
            }
        }
        Value::String(s) => {
            // serde_json escapes exactly what RFC 8785 escapes: quote,
            // backslash and the C0 controls, with \b \t \n \f \r short forms
            // and lowercase \u00XX for the rest.
            serde_json::to_writer(&mut *out, s).map_err(|e| bad(pointer, &e.to_string()))?;
        }
        Value::Array(a) => {
            if depth >= MAX_JSON_DEPTH {
                return Err(bad(pointer, "nested deeper than the limit"));
            }
            out.push(b'[');
            for (i, item) in a.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                let len = pointer.len();
                pointer.push_str(&format!("/{i}"));
                write_canonical(item, out, pointer, depth + 1)?;
                pointer.truncate(len);
            }
            out.push(b']');
        }
        Value::Object(m) => {
            if depth >= MAX_JSON_DEPTH {
                return Err(bad(pointer, "nested deeper than the limit"));
            }
            write_object(m, out, pointer, depth)?;
        }
    }
    Ok(())
}

fn write_object(
    m: &Map<String, Value>,
    out: &mut Vec<u8>,
    pointer: &mut String,
    depth: usize,
) -> Result<(), Error> {
    // RFC 8785 orders keys by their UTF-16 code units, which differs from
    // byte order only for characters outside the Basic Multilingual Plane;
    // sorting explicitly also keeps the output independent of whether some
    // other crate turned on serde_json's `preserve_order` feature.
    let mut keys: Vec<&String> = m.keys().collect();
    keys.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
    out.push(b'{');
    for (i, k) in keys.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        serde_json::to_writer(&mut *out, k).map_err(|e| Error::InvalidEntry {
            pointer: pointer.clone(),
            reason: e.to_string(),
        })?;
        out.push(b':');
        let len = pointer.len();
        pointer.push('/');
        pointer.push_str(&k.replace('~', "~0").replace('/', "~1"));
        write_canonical(&m[*k], out, pointer, depth + 1)?;
        pointer.truncate(len);
    }
    out.push(b'}');
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn batch() -> IngestedBatch {
        IngestedBatch {
            file_sha256: "ab".repeat(32),
            file_name: "obs.csv".into(),
            reader: "csv".into(),
            reader_version: "1.0.0".into(),
            rows_read: 10,
            rows_kept: 9,
            rows_rejected: 1,
            who: "analyst@example".into(),
            when: "2025-03-01T10:00:00Z".into(),
        }
    }

    #[test]
    fn canonical_bytes_are_sorted_and_compact() {
        let e = Entry::new(
            EntryKind::Report,
            json!({"z": 1, "a": [true, null, "x\n\u{1}/é"], "m": {"b": -5, "a": 0}}),
        )
        .unwrap();
        let got = String::from_utf8(e.to_leaf_bytes().unwrap()).unwrap();
        assert_eq!(
            got,
            r#"{"body":{"a":[true,null,"x\n\u0001/é"],"m":{"a":0,"b":-5},"z":1},"kind":"report","v":1}"#
        );
        assert_eq!(Entry::from_leaf_bytes(got.as_bytes()).unwrap(), e);
    }

    /// Regression: `Entry::new` used to accept any JSON as an ingested-batch body.
    #[test]
    fn ingested_batch_bodies_are_checked_by_new_too() {
        let good = serde_json::to_value(batch()).unwrap();
        assert!(Entry::new(EntryKind::IngestedBatch, good.clone()).is_ok());
        assert!(Entry::new(EntryKind::IngestedBatch, json!({"anything": 1})).is_err());
        let mut bad_hash = good;
        bad_hash["file_sha256"] = json!("not-a-hash");
        assert!(Entry::new(EntryKind::IngestedBatch, bad_hash).is_err());
        // Other kinds keep free bodies.
        assert!(Entry::new(EntryKind::Report, json!({"anything": 1})).is_ok());
    }

    #[test]
    fn utf16_key_order() {
        // U+FF61 sorts after U+1F600 by bytes but before it by UTF-16 units.
        let e = Entry::new(EntryKind::Report, json!({"\u{1F600}": 1, "\u{FF61}": 2})).unwrap();
        let got = String::from_utf8(e.to_leaf_bytes().unwrap()).unwrap();
        assert!(
            got.find('\u{1F600}').unwrap() < got.find('\u{FF61}').unwrap(),
            "{got}"
        );
    }

    #[test]
    fn refuses_floats_big_ints_and_deep_nesting() {
        let err = Entry::new(EntryKind::Report, json!({"a": {"b": 1.5}}))
            .unwrap_err()
            .to_string();
        assert!(err.contains("/body/a/b"), "{err}");
        assert!(Entry::new(EntryKind::Report, json!(9_007_199_254_740_992u64)).is_err());
        assert!(Entry::new(EntryKind::Report, json!(-9_007_199_254_740_992i64)).is_err());
        assert!(Entry::new(EntryKind::Report, json!(9_007_199_254_740_991u64)).is_ok());
        let mut deep = json!(1);
        for _ in 0..40 {
            deep = json!([deep]);
        }
        assert!(Entry::new(EntryKind::Report, deep).is_err());
        assert!(Entry::new(EntryKind::Report, json!("x".repeat(70_000))).is_err());
    }

    #[test]
    fn non_canonical_leaves_are_refused() {
        for bad in [
            &br#"{"kind":"report","body":1,"v":1}"#[..],
            br#"{"body":1, "kind":"report","v":1}"#,
            br#"{"body":1,"kind":"nope","v":1}"#,
            br#"{"body":1,"kind":"report","v":2}"#,
            br#"{"body":1,"kind":"report","v":1,"x":0}"#,
            br#"{"body":1.0,"kind":"report","v":1}"#,
            br#"{"body":"\u0041","kind":"report","v":1}"#,
            b"not json",
        ] {
            assert!(
                Entry::from_leaf_bytes(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn ingested_batch_roundtrip_and_validation() {
        let e = Entry::ingested_batch(&batch()).unwrap();
        assert_eq!(e.kind(), EntryKind::IngestedBatch);
        assert_eq!(e.as_ingested_batch().unwrap().unwrap(), batch());
        let mut b = batch();
        b.when = "2025-03-01 10:00:00".into();
        assert!(Entry::ingested_batch(&b).is_err());
        let mut b = batch();
        b.file_sha256 = "AB".repeat(32);
        assert!(Entry::ingested_batch(&b).is_err());
    }

    #[test]
    fn rfc3339_table() {
        for (s, ok) in [
            ("2025-03-01T10:00:00Z", true),
            ("2025-03-01T10:00:00.123Z", true),
            ("2025-03-01T10:00:00+00:00", false),
            ("2025-13-01T10:00:00Z", false),
            ("2025-03-01T24:00:00Z", false),
            ("2025-03-01T10:00:00.Z", false),
            ("2025-03-01", false),
        ] {
            assert_eq!(is_rfc3339_utc(s), ok, "{s}");
        }
    }

    #[test]
    fn kinds_roundtrip() {
        for k in EntryKind::ALL {
            assert_eq!(EntryKind::parse(k.as_str()), Some(k));
        }
    }
}
