//! Monitors' patrol reports (`truce-patrol/1` JSON), in the manner of the OSCE Special
//! Monitoring Mission to Ukraine: what a team heard, saw or recorded on camera from
//! known positions, the weapons it saw, and where it was not let through.
//! The format, with a complete example and every field, is in `docs/patrol-reports.md`.
//!
//! A file is one JSON object `{"format": "truce-patrol/1", "reports": [...]}`; each
//! report has an `id`, a `monitor` (the team) and `posts`: the observation posts,
//! patrol legs and fixed cameras it reported from, each with the observer's position
//! (`lon`, `lat`) and time window (`start`, `end`, RFC 3339), and lists of `events`,
//! `weapons`, `restrictions` and `gaps`. [`crate::read`] detects the format when the
//! document's first [`PATROL_DETECT_BYTES`] bytes hold `"format": "truce-patrol/`.
//!
//! - **Rows.** Each event and each weapon sighting is one row and becomes one
//!   observation (an event of "12 explosions" is one observation with `total` 12, not
//!   twelve). The provenance line of a row is its 1-based row index in the file
//!   (events, then weapon sightings, post by post, in file order; rejected rows keep
//!   their index), so ids stay unique even in a file written on one line; messages
//!   name the text line.
//! - **Kind.** Weapon sightings are `weapon_sighting`. An event's kind is that of its
//!   dominant count ([`event_kind`]): explosions (not outgoing) make `explosion`;
//!   projectiles in flight, muzzle flashes and outgoing explosions make `shelling`;
//!   bursts and single shots make `small_arms`; flares alone make `flare`. Ties go to
//!   the heavier kind, in that order.
//! - **Weapon class.** From the weapon text and calibre ([`classify_weapon`]), in
//!   Minsk II's classes ([`WeaponClass`]); an event whose weapon is unknown but whose
//!   counts are only bursts and shots is `small_arms`.
//! - **Place.** An event with a bearing is placed at the middle of its distance band
//!   along the bearing (geodesic on WGS 84), and its uncertainty radius covers the whole
//!   annular sector: bearing ± its uncertainty, band min..max ([`place_in_sector`]). A
//!   compass point of the 8-point rose (N, NE, ...) is taken to ±22.5°, one of the
//!   16-point rose (NNE, ...) to ±11.25°, degrees to ±[`BEARING_UNCERTAINTY_DEG_DEFAULT`]
//!   unless `bearing_uncertainty_deg` says otherwise. Without a distance band the band
//!   is 0 to the default range of the kind ([`default_range_km`]). Without a bearing the
//!   event is placed at the observer, with the band's maximum (or that default range)
//!   as radius. Weapons seen are placed at their own `lon`/`lat`, or by bearing and
//!   distance from the observer in the same way, or at the observer within
//!   [`SIGHT_RANGE_KM`]. No radius is below [`POSITION_UNCERTAINTY_M`].
//! - **Time.** An event's `time` is the minute it names (the second, when it has
//!   seconds); `start`/`end` is that window at the precision of its length
//!   ([`TimePrecision::for_length`]); with neither, the post's window. An event's time
//!   must lie within its post's window.
//! - **Attributes.** A JSON object with the same keys for every event (null when not
//!   known) and for every sighting; see [`EventAttributes`] and [`SightingAttributes`].
//! - **Coverage gaps.** Each restriction of movement becomes a [`CoverageGap`] with
//!   reason `denied_access`, each entry of `gaps` one with its own reason; returned by
//!   [`crate::read_patrol`] (and [`crate::read_with_gaps`]), not as observations.
//!
//! Bad events and sightings follow [`crate::ReadOptions::strict`] like rows of other
//! formats: skipped and counted, or the file refused. Everything else refuses the file
//! whatever `strict` says: JSON that does not parse, a bad document, report or post
//! header (its rows depend on it), and a bad restriction or gap (dropping a gap would
//! read a place nobody could see as calm). Messages are
//! `file:line: reports[0].posts[1].events[2].bearing: 400 is outside [0, 360)`.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use chrono::{DateTime, Duration, Timelike, Utc};
use geo::{Destination, Distance, Geodesic, Point};
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use truce_model::{
    CoverageGap, GapArea, GapReason, Observation, ObservationKind, Provenance, SourceKind, TimePrecision, TimeSpan,
    WeaponClass,
};

use crate::error::RowError;
use crate::fields::clip_to;
use crate::{IngestError, Ingested, RowHasher, Sink};

/// The value of `format` this reader reads.
pub const PATROL_FORMAT: &str = "truce-patrol/1";
/// Largest patrol-report file, in bytes (64 MiB; a day of a whole mission's reports
/// is well under 1 MiB).
pub const PATROL_BYTES_MAX: u64 = 64 << 20;
/// Most reports in one file.
pub const PATROL_REPORTS_MAX: usize = 10_000;
/// Most posts (observation posts, patrol legs, cameras) in one report.
pub const PATROL_POSTS_MAX: usize = 1_000;
/// Most events in one post; a report holds at most this many per post.
pub const PATROL_EVENTS_MAX: usize = 10_000;
/// Most weapon sightings in one post.
pub const PATROL_WEAPONS_MAX: usize = 10_000;
/// Most restrictions, and most gaps, in one post.
pub const PATROL_GAPS_MAX: usize = 1_000;
/// Longest id, name, place or weapon text, in characters.
pub const PATROL_NAME_CHARS_MAX: usize = 200;
/// Longest note or reason, in characters.
pub const PATROL_NOTE_CHARS_MAX: usize = 4_096;
/// Largest count of one type in one event, and of weapons in one sighting.
pub const PATROL_COUNT_MAX: u64 = 100_000;
/// Largest distance from the observer, in km (the heaviest artillery is heard a few
/// tens of km away).
pub const PATROL_DISTANCE_KM_MAX: f64 = 100.0;
/// Smallest and largest calibre, in mm (a 4.5 mm air gun to a 650 mm missile).
pub const CALIBRE_MM_RANGE: (f64, f64) = (1.0, 1_000.0);
/// Longest time window (of a post, an event, a restriction or a gap), in days.
pub const PATROL_WINDOW_DAYS_MAX: i64 = 31;
/// Largest radius of a coverage gap's circle, in km.
pub const GAP_RADIUS_KM_MAX: f64 = 500.0;
/// How far into a JSON document detection looks for `"format": "truce-patrol/`.
pub const PATROL_DETECT_BYTES: usize = 4096;

/// Uncertainty of a bearing given in degrees, ± degrees, unless the event says
/// otherwise: a hand-held compass read in the field (an assumption of this project).
pub const BEARING_UNCERTAINTY_DEG_DEFAULT: f64 = 5.0;
/// How far explosions, shelling and flares are taken to be perceived when the report
/// gives no distance, in km. An assumption of this project, not an SMM figure:
/// artillery and mortar explosions are commonly heard 10 km and more away.
pub const AUDIBLE_RANGE_KM_EXPLOSION: f64 = 10.0;
/// How far small-arms fire is taken to be heard when the report gives no distance, in
/// km. An assumption of this project, not an SMM figure.
pub const AUDIBLE_RANGE_KM_SMALL_ARMS: f64 = 3.0;
/// How far from the observer a weapon seen without a stated position may be, in km
/// (an assumption: weapons are identified by type within a few km).
pub const SIGHT_RANGE_KM: f64 = 2.0;
/// The smallest uncertainty radius, in metres: the observer's own position (GPS, a
/// map reading) is not better known than this. Also the radius of a weapon seen at
/// stated coordinates without its own `uncertainty_m`.
pub const POSITION_UNCERTAINTY_M: f64 = 100.0;
/// Radius of the gap of a restriction or gap that gives no `radius_km` (nor `area`),
/// in km: about what a post perceives ([`AUDIBLE_RANGE_KM_EXPLOSION`]).
pub const GAP_RADIUS_KM_DEFAULT: f64 = 10.0;

/// A patrol file's observations and the coverage gaps it reports.
#[derive(Debug, Clone)]
pub struct PatrolIngested {
    pub ingested: Ingested,
    /// Restrictions of movement and explicit gaps, in file order.
    pub gaps: Vec<CoverageGap>,
}

/// Whether a JSON document names this format (see [`PATROL_DETECT_BYTES`]). Any
/// version is detected, so that the reader can refuse an unknown one by name.
pub(crate) fn looks_like_patrol(text: &str) -> bool {
    let mut end = text.len().min(PATROL_DETECT_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let mut rest = &text[..end];
    while let Some(i) = rest.find("\"format\"") {
        rest = &rest[i + 8..];
        if let Some(v) = rest.trim_start().strip_prefix(':') {
            if v.trim_start().starts_with("\"truce-patrol/") {
                return true;
            }
        }
    }
    false
}

// ------------------------------------------------------------------ reading

pub(crate) fn read(text: &str, mut sink: Sink) -> Result<PatrolIngested, IngestError> {
    let file = sink.file().to_string();
    if text.len() as u64 > PATROL_BYTES_MAX {
        return Err(IngestError::Limit {
            file,
            line: None,
            what: "patrol file size".into(),
            limit: "PATROL_BYTES_MAX",
            max: PATROL_BYTES_MAX,
            found: text.len() as u64,
        });
    }
    let mut at = Lines::new(text);
    let invalid = |f: Fault| IngestError::Invalid {
        file: file.clone(),
        line: f.line,
        field: f.field,
        why: f.detail,
    };
    let doc: Doc = parse_document(text).map_err(invalid)?;
    let sha = sink.obs.provenance.file_sha256.clone();
    let mut gaps = Vec::new();
    let mut ordinal = 0u64;
    for (i, raw) in doc.reports.0.iter().enumerate() {
        let path = format!("reports[{i}]");
        let report: ReportIn = parse_at(raw, &path, &mut at).map_err(invalid)?;
        for (j, raw) in report.posts.0.iter().enumerate() {
            let path = format!("{path}.posts[{j}]");
            let line = at.line_of(raw);
            let head: PostIn = parse_at(raw, &path, &mut at).map_err(invalid)?;
            let post = Post::new(&report, head, &path, line).map_err(invalid)?;
            for (k, raw) in post.events.iter().enumerate() {
                ordinal += 1;
                let path = format!("{path}.events[{k}]");
                let line = at.line_of(raw);
                sink.row(line)?;
                if sink.duplicate(post.row_hash(raw)) {
                    continue;
                }
                let got = parse_at::<EventIn>(raw, &path, &mut at)
                    .map_err(|f| f.row("events[]"))
                    .and_then(|e| event(&post, e, &path, &mut sink.obs));
                match got {
                    Ok(()) => sink.keep(ordinal),
                    Err(e) => sink.reject(line, e)?,
                }
            }
            for (k, raw) in post.weapons.iter().enumerate() {
                ordinal += 1;
                let path = format!("{path}.weapons[{k}]");
                let line = at.line_of(raw);
                sink.row(line)?;
                if sink.duplicate(post.row_hash(raw)) {
                    continue;
                }
                let got = parse_at::<WeaponIn>(raw, &path, &mut at)
                    .map_err(|f| f.row("weapons[]"))
                    .and_then(|w| sighting(&post, w, &path, &mut sink.obs));
                match got {
                    Ok(()) => sink.keep(ordinal),
                    Err(e) => sink.reject(line, e)?,
                }
            }
            for (k, raw) in post.restrictions.iter().enumerate() {
                let path = format!("{path}.restrictions[{k}]");
                let line = at.line_of(raw);
                let r: RestrictionIn = parse_at(raw, &path, &mut at).map_err(invalid)?;
                let gap = restriction(&post, r, &path, line, &sha).map_err(invalid)?;
                gaps.push(gap);
            }
            for (k, raw) in post.gaps.iter().enumerate() {
                let path = format!("{path}.gaps[{k}]");
                let line = at.line_of(raw);
                let g: GapIn = parse_at(raw, &path, &mut at).map_err(invalid)?;
                gaps.push(explicit_gap(&post, g, &path, line, &sha).map_err(invalid)?);
            }
        }
    }
    Ok(PatrolIngested {
        ingested: sink.finish(),
        gaps,
    })
}

/// A fault found while reading: where, which field, and why.
#[derive(Debug)]
pub(crate) struct Fault {
    pub line: u64,
    pub field: String,
    /// A short fixed reason, the key of the summary's rejection counts.
    pub reason: &'static str,
    pub detail: String,
}

impl Fault {
    fn new(line: u64, field: impl Into<String>, reason: &'static str, detail: impl Into<String>) -> Self {
        Fault {
            line,
            field: field.into(),
            reason,
            detail: detail.into(),
        }
    }

    /// As a bad row; `list` (`events[]`) replaces the indexed path in the count key.
    fn row(self, list: &str) -> RowError {
        let key = row_key(&self.field, list);
        RowError {
            field: self.field,
            reason: self.reason,
            detail: self.detail,
            key: Some(key),
        }
    }
}

/// `reports[0].posts[1].events[2].bearing` counted as `events[].bearing`.
fn row_key(field: &str, list: &str) -> String {
    let name = list.trim_end_matches("[]");
    match field.rfind(&format!(".{name}[")) {
        Some(i) => {
            let rest = &field[i + name.len() + 2..];
            match rest.find(']') {
                Some(j) => format!("{list}{}", &rest[j + 1..]),
                None => list.to_string(),
            }
        }
        None => list.to_string(),
    }
}

fn row_err(path: &str, field: &str, reason: &'static str, detail: impl Into<String>, list: &str) -> RowError {
    Fault::new(0, join(path, field), reason, detail).row(list)
}

/// `prefix` and a serde path (`.` for the value itself) as one path.
fn join(prefix: &str, path: &str) -> String {
    match (prefix.is_empty(), path) {
        (true, "." | "") => "document".to_string(),
        (true, p) => p.to_string(),
        (false, "." | "") => prefix.to_string(),
        (false, p) if p.starts_with('[') => format!("{prefix}{p}"),
        (false, p) => format!("{prefix}.{p}"),
    }
}

/// Line numbers of positions in the text, counted incrementally (rows come in file
/// order, so each newline is counted about once).
struct Lines<'t> {
    text: &'t str,
    pos: usize,
    line: u64,
}

impl<'t> Lines<'t> {
    fn new(text: &'t str) -> Self {
        Lines { text, pos: 0, line: 1 }
    }

    fn line_at(&mut self, offset: usize) -> u64 {
        let offset = offset.min(self.text.len());
        let b = self.text.as_bytes();
        let count = |s: &[u8]| s.iter().filter(|&&c| c == b'\n').count() as u64;
        if offset >= self.pos {
            self.line += count(&b[self.pos..offset]);
        } else {
            self.line -= count(&b[offset..self.pos]);
        }
        self.pos = offset;
        self.line
    }

    /// The line where `raw` (a slice of the text) starts.
    fn line_of(&mut self, raw: &RawValue) -> u64 {
        let offset = (raw.get().as_ptr() as usize).saturating_sub(self.text.as_ptr() as usize);
        self.line_at(offset)
    }
}

/// Parses the whole document: syntax, the format tag and the list of reports.
fn parse_document(text: &str) -> Result<Doc<'_>, Fault> {
    let mut de = serde_json::Deserializer::from_str(text);
    let doc: Doc = serde_path_to_error::deserialize(&mut de).map_err(|e| fault(e, "", 1))?;
    de.end().map_err(|e| {
        Fault::new(
            e.line() as u64,
            "document",
            "not JSON",
            "trailing characters after the document",
        )
    })?;
    Ok(doc)
}

/// Parses one part of the document from its raw text; errors carry the line in the
/// whole file and the full path.
fn parse_at<'a, T: Deserialize<'a>>(raw: &'a RawValue, prefix: &str, at: &mut Lines) -> Result<T, Fault> {
    let mut de = serde_json::Deserializer::from_str(raw.get());
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let line = at.line_of(raw);
        fault(e, prefix, line)
    })
}

/// Turns a serde error into a fault: the path joined to `prefix`, the line offset by
/// `line0` (the line where the parsed text starts), the message without serde's
/// position suffix.
pub(crate) fn fault(e: serde_path_to_error::Error<serde_json::Error>, prefix: &str, line0: u64) -> Fault {
    // serde_path_to_error writes `?` for a key it could not read.
    let path = e.path().to_string();
    let path = match path.trim_end_matches('?').trim_end_matches('.') {
        "" => ".".to_string(),
        p => p.to_string(),
    };
    let inner = e.into_inner();
    let (l, c) = (inner.line(), inner.column());
    let full = inner.to_string();
    let msg = full
        .strip_suffix(&format!(" at line {l} column {c}"))
        .unwrap_or(&full)
        .to_string();
    let line = line0 + (l as u64).saturating_sub(1);
    let field = join(prefix, &path);
    use serde_json::error::Category;
    match inner.classify() {
        Category::Syntax | Category::Eof | Category::Io => {
            return Fault::new(
                line,
                field,
                "not JSON",
                format!("not JSON: {} (column {c})", clip_to(&msg, 200)),
            )
        }
        Category::Data => {}
    }
    let quoted = |rest: &str| rest.split('`').next().unwrap_or("").to_string();
    // The member `name` of the value at fault.
    let member = |name: &str| join(if field == "document" { "" } else { &field }, name);
    if let Some(rest) = msg.strip_prefix("missing field `") {
        let name = quoted(rest);
        return Fault::new(line, member(&name), "missing", "missing");
    }
    if let Some(rest) = msg.strip_prefix("unknown field `") {
        let name = quoted(rest);
        let field = if field.ends_with(&name) {
            field.clone()
        } else {
            member(&name)
        };
        let expected = rest
            .split_once(", ")
            .map(|(_, e)| e)
            .unwrap_or("there are no fields here");
        return Fault::new(
            line,
            field,
            "unknown field",
            format!("unknown field ({})", clip_to(expected, 200)),
        );
    }
    let reason = if msg.starts_with("invalid type") {
        "wrong type"
    } else if msg.starts_with("unknown variant") || msg.starts_with("unknown ") {
        "unknown value"
    } else if msg.contains(" is outside ") || msg.contains(" is negative") || msg.starts_with("exceeds ") {
        "out of range"
    } else if msg.contains(" is more than max ") {
        "min above max"
    } else {
        "invalid"
    };
    Fault::new(line, field, reason, clip_to(&msg, 300))
}

// ------------------------------------------------------------------ the document

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Doc<'a> {
    #[allow(dead_code)]
    format: FormatTag,
    #[serde(borrow)]
    reports: Bounded<&'a RawValue, ReportsLimit>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportIn<'a> {
    id: Name,
    monitor: Name,
    #[serde(default)]
    #[allow(dead_code)]
    note: Option<Note>,
    #[serde(borrow)]
    posts: Bounded<&'a RawValue, PostsLimit>,
}

/// How the observer was placed.
#[derive(Deserialize, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum PostKind {
    /// A team at a fixed point for a while.
    #[default]
    ObservationPost,
    /// A team moving; the position is where it perceived what it reports.
    PatrolLeg,
    /// A fixed camera of the mission; the position is the camera's.
    Camera,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PostIn<'a> {
    #[serde(default)]
    id: Option<Name>,
    #[serde(default)]
    kind: PostKind,
    #[serde(default)]
    place: Option<Name>,
    lon: Lon,
    lat: Lat,
    start: Time,
    end: Time,
    #[serde(default, borrow)]
    events: Bounded<&'a RawValue, EventsLimit>,
    #[serde(default, borrow)]
    weapons: Bounded<&'a RawValue, WeaponsLimit>,
    #[serde(default, borrow)]
    restrictions: Bounded<&'a RawValue, GapsLimit>,
    #[serde(default, borrow)]
    gaps: Bounded<&'a RawValue, GapsLimit>,
    #[serde(default)]
    #[allow(dead_code)]
    note: Option<Note>,
}

/// A checked post, with what its rows need to know.
struct Post<'a> {
    report_id: String,
    monitor: String,
    id: Option<String>,
    kind: PostKind,
    place: Option<String>,
    lon: f64,
    lat: f64,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    events: Vec<&'a RawValue>,
    weapons: Vec<&'a RawValue>,
    restrictions: Vec<&'a RawValue>,
    gaps: Vec<&'a RawValue>,
}

impl<'a> Post<'a> {
    fn new(report: &ReportIn, p: PostIn<'a>, path: &str, line: u64) -> Result<Self, Fault> {
        let (start, end) = (p.start.at, p.end.at);
        check_window(start, end).map_err(|(f, r, d)| Fault::new(line, join(path, f), r, d))?;
        if p.lon.0 == 0.0 && p.lat.0 == 0.0 {
            return Err(Fault::new(
                line,
                join(path, "lon,lat"),
                "null island",
                "(0, 0) is the null-island placeholder, not a location",
            ));
        }
        Ok(Post {
            report_id: report.id.0.clone(),
            monitor: report.monitor.0.clone(),
            id: p.id.map(|n| n.0),
            kind: p.kind,
            place: p.place.map(|n| n.0),
            lon: p.lon.0,
            lat: p.lat.0,
            start,
            end,
            events: p.events.0,
            weapons: p.weapons.0,
            restrictions: p.restrictions.0,
            gaps: p.gaps.0,
        })
    }

    /// A row's identity for duplicate detection: the post's position and window, and
    /// the row's content (whitespace and key order do not matter).
    fn row_hash(&self, raw: &RawValue) -> u128 {
        let mut h = RowHasher::new();
        h.write(&self.lon.to_le_bytes());
        h.write(&self.lat.to_le_bytes());
        h.write(&self.start.timestamp_millis().to_le_bytes());
        h.write(&self.end.timestamp_millis().to_le_bytes());
        match serde_json::from_str::<serde_json::Value>(raw.get()) {
            Ok(v) => {
                let _ = serde_json::to_writer(&mut h, &v);
            }
            Err(_) => h.write(raw.get().as_bytes()),
        }
        h.finish()
    }
}

/// Checks a window: start before end, not longer than [`PATROL_WINDOW_DAYS_MAX`].
/// On error: the field at fault, the reason and the detail.
fn check_window(start: DateTime<Utc>, end: DateTime<Utc>) -> Result<(), (&'static str, &'static str, String)> {
    if end <= start {
        return Err((
            "end",
            "not after start",
            format!("{} is not after start {}", rfc(end), rfc(start)),
        ));
    }
    if end - start > Duration::days(PATROL_WINDOW_DAYS_MAX) {
        return Err((
            "end",
            "window too long",
            format!(
                "the window from {} to {} is longer than PATROL_WINDOW_DAYS_MAX ({PATROL_WINDOW_DAYS_MAX} days)",
                rfc(start),
                rfc(end)
            ),
        ));
    }
    Ok(())
}

fn rfc(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

// ------------------------------------------------------------------ events

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EventIn {
    #[serde(default)]
    id: Option<Name>,
    #[serde(default)]
    time: Option<Time>,
    #[serde(default)]
    start: Option<Time>,
    #[serde(default)]
    end: Option<Time>,
    counts: Counts,
    #[serde(default)]
    weapon: Option<Name>,
    #[serde(default)]
    calibre_mm: Option<Calibre>,
    #[serde(default)]
    bearing: Option<Bearing>,
    #[serde(default)]
    bearing_uncertainty_deg: Option<HalfWidth>,
    #[serde(default)]
    distance_km: Option<Band>,
    #[serde(default)]
    direction: Direction,
    #[serde(default)]
    perception: Option<Perceptions>,
    #[serde(default)]
    note: Option<Note>,
}

/// Counts by type in one event.
#[derive(Deserialize, Serialize, Default, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Counts {
    #[serde(default)]
    pub explosions: Count,
    /// Projectiles seen in flight (tracer, rockets).
    #[serde(default)]
    pub projectiles: Count,
    #[serde(default)]
    pub muzzle_flashes: Count,
    /// Illumination flares.
    #[serde(default)]
    pub flares: Count,
    #[serde(default)]
    pub bursts: Count,
    /// Single shots.
    #[serde(default)]
    pub shots: Count,
}

impl Counts {
    /// The sum of all counts.
    pub fn total(&self) -> u64 {
        [
            self.explosions,
            self.projectiles,
            self.muzzle_flashes,
            self.flares,
            self.bursts,
            self.shots,
        ]
        .iter()
        .map(|c| c.0)
        .sum()
    }
}

/// Whether the fire was coming toward the observer's side, going away from it, hit
/// near it, or could not be told.
#[derive(Deserialize, Serialize, Clone, Copy, Default, PartialEq, Eq, Debug)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Incoming,
    Outgoing,
    Impact,
    #[default]
    Undetermined,
}

/// How something was perceived.
#[derive(Deserialize, Serialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "snake_case")]
pub enum Perception {
    Heard,
    Seen,
    /// Recorded by a fixed camera of the mission.
    Camera,
}

/// The kind of an event from its counts and direction: the largest of explosions (not
/// outgoing), shelling (projectiles, muzzle flashes, outgoing explosions) and small
/// arms (bursts, shots), ties to the heavier kind in that order; `flare` when only
/// flares were counted.
pub fn event_kind(c: &Counts, direction: Direction) -> ObservationKind {
    let (mut explosion, mut shelling) = (c.explosions.0, c.projectiles.0 + c.muzzle_flashes.0);
    if direction == Direction::Outgoing {
        shelling += explosion;
        explosion = 0;
    }
    let small_arms = c.bursts.0 + c.shots.0;
    if explosion + shelling + small_arms == 0 {
        return ObservationKind::Flare;
    }
    if explosion >= shelling && explosion >= small_arms {
        ObservationKind::Explosion
    } else if shelling >= small_arms {
        ObservationKind::Shelling
    } else {
        ObservationKind::SmallArms
    }
}

/// How far an event of this kind is taken to be perceived when no distance is given,
/// in km: [`AUDIBLE_RANGE_KM_SMALL_ARMS`] for small arms, [`AUDIBLE_RANGE_KM_EXPLOSION`]
/// for everything else.
pub fn default_range_km(kind: ObservationKind) -> f64 {
    match kind {
        ObservationKind::SmallArms => AUDIBLE_RANGE_KM_SMALL_ARMS,
        _ => AUDIBLE_RANGE_KM_EXPLOSION,
    }
}

/// The attributes of an event observation. Every key is always present (null when not
/// known), in this order.
#[derive(Serialize, Debug)]
pub struct EventAttributes<'a> {
    /// The report's `id` and `monitor` (team).
    pub report_id: &'a str,
    pub monitor: &'a str,
    /// The post's `id`, kind (`observation_post`, `patrol_leg`, `camera`) and `place`.
    pub post_id: Option<&'a str>,
    pub post_kind: &'static str,
    pub place: Option<&'a str>,
    /// Where the observer was.
    pub observer_lon: f64,
    pub observer_lat: f64,
    /// The event's own `id`.
    pub event_id: Option<&'a str>,
    /// The counts by type, all six always present.
    pub counts: Counts,
    /// The sum of the counts.
    pub total: u64,
    /// The weapon as written (`"unknown"` when not given).
    pub weapon: &'a str,
    /// The calibre in mm: given, or read from the weapon text or a known model.
    pub calibre_mm: Option<f64>,
    /// A [`WeaponClass`] name.
    pub weapon_class: &'static str,
    /// `incoming`, `outgoing`, `impact` or `undetermined`.
    pub direction: Direction,
    /// Some of `heard`, `seen`, `camera`.
    pub perception: Vec<Perception>,
    /// The bearing as written (`"SSE"`, `"135"`), in degrees, and its ± uncertainty.
    pub bearing: Option<String>,
    pub bearing_deg: Option<f64>,
    pub bearing_uncertainty_deg: Option<f64>,
    /// The distance band as given, in km.
    pub distance_km_min: Option<f64>,
    pub distance_km_max: Option<f64>,
    /// How the place was found: `bearing_and_distance`, `bearing_default_range`,
    /// `observer_distance` (a band but no bearing) or `observer_default_range`.
    pub located: &'static str,
    pub note: Option<&'a str>,
}

fn event(post: &Post, e: EventIn, path: &str, obs: &mut Observation) -> Result<(), RowError> {
    let err = |field: &str, reason: &'static str, detail: String| row_err(path, field, reason, detail, "events[]");
    let total = e.counts.total();
    if total == 0 {
        return Err(err(
            "counts",
            "all zero",
            "every count is zero: nothing was perceived".into(),
        ));
    }
    obs.time = row_time(post, e.time, e.start, e.end).map_err(|(f, r, d)| err(f, r, d))?;
    let perception = perceptions(post, e.perception, false).map_err(|(r, d)| err("perception", r, d))?;
    if e.bearing_uncertainty_deg.is_some() && e.bearing.is_none() {
        return Err(err(
            "bearing_uncertainty_deg",
            "without bearing",
            "an uncertainty is given but no bearing".into(),
        ));
    }
    let kind = event_kind(&e.counts, e.direction);
    let weapon = e.weapon.as_ref().map(|n| n.0.as_str()).unwrap_or("unknown");
    let (mut class, calibre) = classify_weapon(weapon, e.calibre_mm.map(|c| c.0));
    let c = &e.counts;
    if class == WeaponClass::Other && e.weapon.is_none() && c.bursts.0 + c.shots.0 == total {
        class = WeaponClass::SmallArms;
    }
    let half = e
        .bearing
        .as_ref()
        .map(|b| e.bearing_uncertainty_deg.map(|h| h.0).unwrap_or(b.half_width));
    let (place, located) = locate(
        post,
        e.bearing.as_ref().map(|b| b.deg),
        half,
        e.distance_km,
        default_range_km(kind),
    );
    obs.lon = place.lon;
    obs.lat = place.lat;
    obs.uncertainty_m = place.uncertainty_m;
    obs.kind = kind;
    let attrs = EventAttributes {
        report_id: &post.report_id,
        monitor: &post.monitor,
        post_id: post.id.as_deref(),
        post_kind: post_kind_name(post.kind),
        place: post.place.as_deref(),
        observer_lon: post.lon,
        observer_lat: post.lat,
        event_id: e.id.as_ref().map(|n| n.0.as_str()),
        counts: e.counts,
        total,
        weapon,
        calibre_mm: calibre,
        weapon_class: class.as_str(),
        direction: e.direction,
        perception,
        bearing: e.bearing.as_ref().map(|b| b.written.clone()),
        bearing_deg: e.bearing.as_ref().map(|b| b.deg),
        bearing_uncertainty_deg: half,
        distance_km_min: e.distance_km.map(|b| b.min),
        distance_km_max: e.distance_km.map(|b| b.max),
        located,
        note: e.note.as_ref().map(|n| n.0.as_str()),
    };
    set_attributes(obs, &attrs);
    Ok(())
}

fn post_kind_name(k: PostKind) -> &'static str {
    match k {
        PostKind::ObservationPost => "observation_post",
        PostKind::PatrolLeg => "patrol_leg",
        PostKind::Camera => "camera",
    }
}

fn set_attributes<T: Serialize>(obs: &mut Observation, attrs: &T) {
    obs.attributes.clear();
    // Writing plain structs of strings and numbers into a String cannot fail.
    if let Ok(s) = serde_json::to_string(attrs) {
        obs.attributes.push_str(&s);
    }
}

/// A row's time: an instant (`time`), a window (`start`, `end`) or the post's window;
/// within the post's window.
fn row_time(
    post: &Post,
    time: Option<Time>,
    start: Option<Time>,
    end: Option<Time>,
) -> Result<TimeSpan, (&'static str, &'static str, String)> {
    let window = |start: DateTime<Utc>, end: DateTime<Utc>| TimeSpan {
        start,
        end,
        precision: TimePrecision::for_length(end - start),
    };
    let outside = |field: &'static str, t: DateTime<Utc>| {
        (
            field,
            "outside the post's window",
            format!(
                "{} is outside the post's window {} to {}",
                rfc(t),
                rfc(post.start),
                rfc(post.end)
            ),
        )
    };
    match (time, start, end) {
        (None, None, None) => Ok(window(post.start, post.end)),
        (Some(t), None, None) => {
            if t.at < post.start || t.at > post.end {
                return Err(outside("time", t.at));
            }
            Ok(if t.whole_minute {
                TimeSpan::minute(t.at)
            } else {
                TimeSpan {
                    start: t.at,
                    end: t.at + Duration::seconds(1),
                    precision: TimePrecision::Second,
                }
            })
        }
        (None, Some(s), Some(e)) => {
            check_window(s.at, e.at)?;
            if s.at < post.start {
                return Err(outside("start", s.at));
            }
            if e.at > post.end {
                return Err(outside("end", e.at));
            }
            Ok(window(s.at, e.at))
        }
        (Some(_), _, _) => Err((
            "time",
            "time and window",
            "give `time` or `start` and `end`, not both".into(),
        )),
        (None, Some(_), None) => Err(("end", "missing", "missing (a window needs `start` and `end`)".into())),
        (None, None, Some(_)) => Err(("start", "missing", "missing (a window needs `start` and `end`)".into())),
    }
}

/// The perception of a row: required at a monitors' post (heard or seen; a sighting
/// only seen), `camera` (the default) at a camera post.
fn perceptions(
    post: &Post,
    given: Option<Perceptions>,
    sighting: bool,
) -> Result<Vec<Perception>, (&'static str, String)> {
    let camera = post.kind == PostKind::Camera;
    let list = match given {
        Some(p) => p.0,
        None if camera => vec![Perception::Camera],
        None if sighting => vec![Perception::Seen],
        None => return Err(("missing", "missing (heard, seen, or both)".into())),
    };
    for p in &list {
        match (p, camera) {
            (Perception::Camera, false) => {
                return Err((
                    "camera without a camera post",
                    "`camera` is for posts of kind `camera` (a fixed camera of the mission)".into(),
                ))
            }
            (Perception::Heard | Perception::Seen, true) => {
                return Err((
                    "monitors at a camera post",
                    "a camera post records on `camera`; heard and seen are for monitors' posts".into(),
                ))
            }
            (Perception::Heard, false) if sighting => {
                return Err(("heard weapon", "a weapon sighting is seen, not heard".into()))
            }
            _ => {}
        }
    }
    Ok(list)
}

// ------------------------------------------------------------------ weapons seen

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WeaponIn {
    #[serde(default)]
    id: Option<Name>,
    #[serde(rename = "type")]
    kind: Name,
    #[serde(default)]
    model: Option<Name>,
    #[serde(default)]
    calibre_mm: Option<Calibre>,
    count: Count,
    #[serde(default)]
    time: Option<Time>,
    #[serde(default)]
    start: Option<Time>,
    #[serde(default)]
    end: Option<Time>,
    #[serde(default)]
    position: Option<PositionIn>,
    #[serde(default)]
    place: Option<Name>,
    #[serde(default)]
    storage: Storage,
    #[serde(default)]
    perception: Option<Perceptions>,
    #[serde(default)]
    note: Option<Note>,
}

/// Where a weapon was seen: absolute (`lon`, `lat`) or from the observer (`bearing`,
/// optionally `distance_km`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PositionIn {
    #[serde(default)]
    lon: Option<Lon>,
    #[serde(default)]
    lat: Option<Lat>,
    #[serde(default)]
    uncertainty_m: Option<Metres>,
    #[serde(default)]
    bearing: Option<Bearing>,
    #[serde(default)]
    bearing_uncertainty_deg: Option<HalfWidth>,
    #[serde(default)]
    distance_km: Option<Band>,
}

/// Where weapons seen stood with respect to storage and the withdrawal lines.
#[derive(Deserialize, Serialize, Clone, Copy, Default, PartialEq, Eq, Debug)]
#[serde(rename_all = "snake_case")]
pub enum Storage {
    /// At a permanent storage site.
    PermanentStorageSite,
    /// At a heavy-weapons holding area.
    HoldingArea,
    /// At a training area.
    TrainingArea,
    /// Outside storage, but beyond the withdrawal lines.
    BeyondWithdrawalLines,
    /// Outside storage, in violation of the withdrawal lines.
    InViolationOfWithdrawalLines,
    /// Not stated.
    #[default]
    Unknown,
}

impl Storage {
    /// True at a permanent storage site or a holding area.
    pub fn in_storage(self) -> Option<bool> {
        match self {
            Storage::PermanentStorageSite | Storage::HoldingArea => Some(true),
            Storage::TrainingArea | Storage::BeyondWithdrawalLines | Storage::InViolationOfWithdrawalLines => {
                Some(false)
            }
            Storage::Unknown => None,
        }
    }
}

/// The attributes of a weapon-sighting observation. Every key is always present
/// (null when not known), in this order.
#[derive(Serialize, Debug)]
pub struct SightingAttributes<'a> {
    pub report_id: &'a str,
    pub monitor: &'a str,
    pub post_id: Option<&'a str>,
    pub post_kind: &'static str,
    /// The post's place.
    pub place: Option<&'a str>,
    pub observer_lon: f64,
    pub observer_lat: f64,
    /// The sighting's own `id`.
    pub sighting_id: Option<&'a str>,
    /// The weapon's type (`howitzer`, `tank`, `MLRS`, ...) and model, as written.
    #[serde(rename = "type")]
    pub kind: &'a str,
    pub model: Option<&'a str>,
    /// The calibre in mm: given, or read from the type and model.
    pub calibre_mm: Option<f64>,
    /// A [`WeaponClass`] name.
    pub weapon_class: &'static str,
    /// How many were seen; `total` is the same number, for rules that sum any kind.
    pub count: u64,
    pub total: u64,
    /// A [`Storage`] name, and whether that is in storage (null when unknown).
    pub storage: Storage,
    pub in_storage: Option<bool>,
    /// `seen` or `camera`.
    pub perception: Vec<Perception>,
    /// As for events; `absolute` when the sighting gives its own lon/lat.
    pub bearing: Option<String>,
    pub bearing_deg: Option<f64>,
    pub bearing_uncertainty_deg: Option<f64>,
    pub distance_km_min: Option<f64>,
    pub distance_km_max: Option<f64>,
    pub located: &'static str,
    /// The sighting's own place, as written.
    pub sighting_place: Option<&'a str>,
    pub note: Option<&'a str>,
}

fn sighting(post: &Post, w: WeaponIn, path: &str, obs: &mut Observation) -> Result<(), RowError> {
    let err = |field: &str, reason: &'static str, detail: String| row_err(path, field, reason, detail, "weapons[]");
    if w.count.0 == 0 {
        return Err(err("count", "zero", "0: a sighting is of at least one weapon".into()));
    }
    obs.time = row_time(post, w.time, w.start, w.end).map_err(|(f, r, d)| err(f, r, d))?;
    let perception = perceptions(post, w.perception, true).map_err(|(r, d)| err("perception", r, d))?;
    let text = match &w.model {
        Some(m) => format!("{} {}", w.kind.0, m.0),
        None => w.kind.0.clone(),
    };
    let (class, calibre) = classify_weapon(&text, w.calibre_mm.map(|c| c.0));
    let mut bearing = None;
    let mut band = None;
    let mut half = None;
    let (place, located) = match w.position {
        None => locate(post, None, None, None, SIGHT_RANGE_KM),
        Some(p) => match (p.lon, p.lat, &p.bearing) {
            (Some(lon), Some(lat), None) => {
                if p.distance_km.is_some() || p.bearing_uncertainty_deg.is_some() {
                    return Err(err(
                        "position",
                        "absolute and relative",
                        "give `lon` and `lat`, or `bearing` (and `distance_km`), not both".into(),
                    ));
                }
                if lon.0 == 0.0 && lat.0 == 0.0 {
                    return Err(err(
                        "position.lon,lat",
                        "null island",
                        "(0, 0) is the null-island placeholder, not a location".into(),
                    ));
                }
                let r = p.uncertainty_m.map(|m| m.0).unwrap_or(POSITION_UNCERTAINTY_M);
                (
                    Placed {
                        lon: lon.0,
                        lat: lat.0,
                        uncertainty_m: r,
                    },
                    "absolute",
                )
            }
            (None, None, Some(b)) => {
                if p.uncertainty_m.is_some() {
                    return Err(err(
                        "position.uncertainty_m",
                        "with bearing",
                        "`uncertainty_m` is for `lon`/`lat`; a bearing's comes from its band and rose".into(),
                    ));
                }
                let h = p.bearing_uncertainty_deg.map(|h| h.0).unwrap_or(b.half_width);
                bearing = Some(b.clone());
                band = p.distance_km;
                half = Some(h);
                locate(post, Some(b.deg), Some(h), p.distance_km, SIGHT_RANGE_KM)
            }
            (Some(_), None, _) => return Err(err("position.lat", "missing", "missing (`lon` is given)".into())),
            (None, Some(_), _) => return Err(err("position.lon", "missing", "missing (`lat` is given)".into())),
            (Some(_), Some(_), Some(_)) => {
                return Err(err(
                    "position",
                    "absolute and relative",
                    "give `lon` and `lat`, or `bearing` (and `distance_km`), not both".into(),
                ))
            }
            (None, None, None) => {
                return Err(err(
                    "position",
                    "empty",
                    "give `lon` and `lat`, or `bearing` (and `distance_km`)".into(),
                ))
            }
        },
    };
    obs.lon = place.lon;
    obs.lat = place.lat;
    obs.uncertainty_m = place.uncertainty_m;
    obs.kind = ObservationKind::WeaponSighting;
    let attrs = SightingAttributes {
        report_id: &post.report_id,
        monitor: &post.monitor,
        post_id: post.id.as_deref(),
        post_kind: post_kind_name(post.kind),
        place: post.place.as_deref(),
        observer_lon: post.lon,
        observer_lat: post.lat,
        sighting_id: w.id.as_ref().map(|n| n.0.as_str()),
        kind: &w.kind.0,
        model: w.model.as_ref().map(|n| n.0.as_str()),
        calibre_mm: calibre,
        weapon_class: class.as_str(),
        count: w.count.0,
        total: w.count.0,
        storage: w.storage,
        in_storage: w.storage.in_storage(),
        perception,
        bearing: bearing.as_ref().map(|b| b.written.clone()),
        bearing_deg: bearing.as_ref().map(|b| b.deg),
        bearing_uncertainty_deg: half,
        distance_km_min: band.map(|b| b.min),
        distance_km_max: band.map(|b| b.max),
        located,
        sighting_place: w.place.as_ref().map(|n| n.0.as_str()),
        note: w.note.as_ref().map(|n| n.0.as_str()),
    };
    set_attributes(obs, &attrs);
    Ok(())
}

// ------------------------------------------------------------------ gaps

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RestrictionIn {
    #[serde(default)]
    time: Option<Time>,
    #[serde(default)]
    start: Option<Time>,
    #[serde(default)]
    end: Option<Time>,
    #[serde(default)]
    lon: Option<Lon>,
    #[serde(default)]
    lat: Option<Lat>,
    #[serde(default)]
    radius_km: Option<Radius>,
    #[serde(default)]
    place: Option<Name>,
    #[serde(default)]
    by: Option<Name>,
    #[serde(default)]
    reason: Option<Note>,
    #[serde(default)]
    note: Option<Note>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GapIn {
    reason: GapReason,
    #[serde(default)]
    time: Option<Time>,
    #[serde(default)]
    start: Option<Time>,
    #[serde(default)]
    end: Option<Time>,
    #[serde(default)]
    lon: Option<Lon>,
    #[serde(default)]
    lat: Option<Lat>,
    #[serde(default)]
    radius_km: Option<Radius>,
    #[serde(default)]
    area: Option<GapArea>,
    #[serde(default)]
    note: Option<Note>,
}

/// A gap's time: `time` alone runs to the end of the post's window; `start`/`end` as
/// given; neither, the post's window.
fn gap_time(
    post: &Post,
    time: Option<Time>,
    start: Option<Time>,
    end: Option<Time>,
    path: &str,
    line: u64,
) -> Result<TimeSpan, Fault> {
    let (s, e) = match (time, start, end) {
        (None, None, None) => (post.start, post.end),
        (Some(t), None, None) => {
            if t.at >= post.end {
                return Err(Fault::new(
                    line,
                    join(path, "time"),
                    "outside the post's window",
                    format!(
                        "{} is not before the end of the post's window {}",
                        rfc(t.at),
                        rfc(post.end)
                    ),
                ));
            }
            (t.at, post.end)
        }
        (None, Some(s), Some(e)) => (s.at, e.at),
        (Some(_), _, _) => {
            return Err(Fault::new(
                line,
                join(path, "time"),
                "time and window",
                "give `time` or `start` and `end`, not both",
            ))
        }
        (None, Some(_), None) => return Err(Fault::new(line, join(path, "end"), "missing", "missing")),
        (None, None, Some(_)) => return Err(Fault::new(line, join(path, "start"), "missing", "missing")),
    };
    check_window(s, e).map_err(|(f, r, d)| Fault::new(line, join(path, f), r, d))?;
    Ok(TimeSpan {
        start: s,
        end: e,
        precision: TimePrecision::for_length(e - s),
    })
}

/// A circle at the given or the post's position.
fn gap_circle(
    post: &Post,
    lon: Option<Lon>,
    lat: Option<Lat>,
    radius: Option<Radius>,
    path: &str,
    line: u64,
) -> Result<GapArea, Fault> {
    let (lon, lat) = match (lon, lat) {
        (Some(x), Some(y)) => (x.0, y.0),
        (None, None) => (post.lon, post.lat),
        (Some(_), None) => {
            return Err(Fault::new(
                line,
                join(path, "lat"),
                "missing",
                "missing (`lon` is given)",
            ))
        }
        (None, Some(_)) => {
            return Err(Fault::new(
                line,
                join(path, "lon"),
                "missing",
                "missing (`lat` is given)",
            ))
        }
    };
    Ok(GapArea::Circle {
        lon,
        lat,
        radius_km: radius.map(|r| r.0).unwrap_or(GAP_RADIUS_KM_DEFAULT),
    })
}

fn restriction(post: &Post, r: RestrictionIn, path: &str, line: u64, sha: &str) -> Result<CoverageGap, Fault> {
    let time = gap_time(post, r.time, r.start, r.end, path, line)?;
    let area = gap_circle(post, r.lon, r.lat, r.radius_km, path, line)?;
    let mut note = String::from("restriction of movement");
    if let Some(p) = &r.place {
        note.push_str(&format!(" at {}", p.0));
    } else if let Some(p) = &post.place {
        note.push_str(&format!(" near {p}"));
    }
    if let Some(b) = &r.by {
        note.push_str(&format!(" by {}", b.0));
    }
    if let Some(why) = &r.reason {
        note.push_str(&format!(": {}", why.0));
    }
    if let Some(n) = &r.note {
        note.push_str(&format!(" ({})", n.0));
    }
    note.push_str(&format!(" [report {}, {}]", post.report_id, post.monitor));
    Ok(CoverageGap {
        source: SourceKind::Patrol,
        reason: GapReason::DeniedAccess,
        time,
        area,
        note,
        provenance: Provenance {
            file_sha256: sha.to_string(),
            line,
        },
    })
}

fn explicit_gap(post: &Post, g: GapIn, path: &str, line: u64, sha: &str) -> Result<CoverageGap, Fault> {
    let time = gap_time(post, g.time, g.start, g.end, path, line)?;
    let area = match g.area {
        Some(a) => {
            if g.lon.is_some() || g.lat.is_some() || g.radius_km.is_some() {
                return Err(Fault::new(
                    line,
                    join(path, "area"),
                    "area and circle",
                    "give `area`, or `lon`/`lat`/`radius_km`, not both",
                ));
            }
            check_area(&a).map_err(|(f, r, d)| Fault::new(line, join(&join(path, "area"), f), r, d))?;
            a
        }
        None => gap_circle(post, g.lon, g.lat, g.radius_km, path, line)?,
    };
    let mut note = g.note.map(|n| n.0).unwrap_or_default();
    if !note.is_empty() {
        note.push(' ');
    }
    note.push_str(&format!("[report {}, {}]", post.report_id, post.monitor));
    Ok(CoverageGap {
        source: SourceKind::Patrol,
        reason: g.reason,
        time,
        area,
        note,
        provenance: Provenance {
            file_sha256: sha.to_string(),
            line,
        },
    })
}

/// Checks a gap's area: coordinates in range, a circle's radius in
/// (0, [`GAP_RADIUS_KM_MAX`]], a box's minima not above its maxima. On error: the field
/// at fault (within the area), the reason and the detail.
pub(crate) fn check_area(a: &GapArea) -> Result<(), (&'static str, &'static str, String)> {
    let range = |v: f64, field: &'static str, limit: f64| {
        if v.is_finite() && (-limit..=limit).contains(&v) {
            Ok(())
        } else {
            Err((field, "out of range", format!("{v} is outside [-{limit}, {limit}]")))
        }
    };
    match *a {
        GapArea::Everywhere => Ok(()),
        GapArea::Circle { lon, lat, radius_km } => {
            range(lon, "lon", 180.0)?;
            range(lat, "lat", 90.0)?;
            if !(radius_km.is_finite() && radius_km > 0.0 && radius_km <= GAP_RADIUS_KM_MAX) {
                return Err((
                    "radius_km",
                    "out of range",
                    format!("{radius_km} is outside (0, {GAP_RADIUS_KM_MAX}]"),
                ));
            }
            Ok(())
        }
        GapArea::BBox {
            min_lon,
            min_lat,
            max_lon,
            max_lat,
        } => {
            range(min_lon, "min_lon", 180.0)?;
            range(min_lat, "min_lat", 90.0)?;
            range(max_lon, "max_lon", 180.0)?;
            range(max_lat, "max_lat", 90.0)?;
            if min_lon > max_lon {
                return Err((
                    "max_lon",
                    "min above max",
                    format!("{max_lon} is below min_lon {min_lon}"),
                ));
            }
            if min_lat > max_lat {
                return Err((
                    "max_lat",
                    "min above max",
                    format!("{max_lat} is below min_lat {min_lat}"),
                ));
            }
            Ok(())
        }
    }
}

// ------------------------------------------------------------------ geometry

/// A place and the radius, in metres, within which the true place lies.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placed {
    pub lon: f64,
    pub lat: f64,
    pub uncertainty_m: f64,
}

/// Places what an observer at (`lon`, `lat`) perceived at `bearing_deg` (clockwise from
/// true north) ± `half_width_deg`, between `min_km` and `max_km` away: at the middle of
/// the band along the bearing, by the geodesic on WGS 84 (Karney's method, through
/// geo's [`Geodesic`]), with a radius that covers the whole annular sector.
///
/// On a sphere the point of a sector farthest from any point on its bisector is one of
/// its four corners (the distance grows with the angle off the bisector, and along a
/// ray it has one minimum, so its maxima are at the band's ends); the radius is the
/// farthest of the corners and of the outer arc's quarter points, plus 0.5 % for the
/// ellipsoid, and never below [`POSITION_UNCERTAINTY_M`]. Inputs must be finite, the
/// band ordered and at most a few hundred km.
pub fn place_in_sector(lon: f64, lat: f64, bearing_deg: f64, half_width_deg: f64, min_km: f64, max_km: f64) -> Placed {
    let o = Point::new(lon, lat);
    let half = half_width_deg.clamp(0.0, 180.0);
    let centre = Geodesic.destination(o, bearing_deg, (min_km + max_km) / 2.0 * 1000.0);
    let mut r: f64 = 0.0;
    for (b, d) in [
        (bearing_deg - half, min_km),
        (bearing_deg - half, max_km),
        (bearing_deg + half, min_km),
        (bearing_deg + half, max_km),
        (bearing_deg - half / 2.0, max_km),
        (bearing_deg + half / 2.0, max_km),
    ] {
        let p = Geodesic.destination(o, b, d * 1000.0);
        r = r.max(Geodesic.distance(centre, p));
    }
    Placed {
        lon: centre.x(),
        lat: centre.y(),
        uncertainty_m: (r * 1.005).max(POSITION_UNCERTAINTY_M),
    }
}

/// Places a row seen from `post`: along the bearing when there is one (band: as given,
/// or 0 to `default_km`), else at the observer (radius: the band's maximum or
/// `default_km`). Returns the place and how it was found.
fn locate(
    post: &Post,
    bearing: Option<f64>,
    half: Option<f64>,
    band: Option<Band>,
    default_km: f64,
) -> (Placed, &'static str) {
    match (bearing, band) {
        (Some(b), Some(band)) => (
            place_in_sector(post.lon, post.lat, b, half.unwrap_or(0.0), band.min, band.max),
            "bearing_and_distance",
        ),
        (Some(b), None) => (
            place_in_sector(post.lon, post.lat, b, half.unwrap_or(0.0), 0.0, default_km),
            "bearing_default_range",
        ),
        (None, Some(band)) => (
            Placed {
                lon: post.lon,
                lat: post.lat,
                uncertainty_m: (band.max * 1000.0).max(POSITION_UNCERTAINTY_M),
            },
            "observer_distance",
        ),
        (None, None) => (
            Placed {
                lon: post.lon,
                lat: post.lat,
                uncertainty_m: (default_km * 1000.0).max(POSITION_UNCERTAINTY_M),
            },
            "observer_default_range",
        ),
    }
}

// ------------------------------------------------------------------ weapon classes

/// Known weapon models: names (lower case, as words) and calibre in mm.
const MODELS: &[(&[&str], f64)] = &[
    (&["2s1", "gvozdika"], 122.0),
    (&["d-30"], 122.0),
    (&["2s3", "akatsiya"], 152.0),
    (&["2s19", "msta-s", "2a65", "msta-b", "msta"], 152.0),
    (&["d-20"], 152.0),
    (&["2a36", "2s5", "giatsint", "giatsint-b", "giatsint-s"], 152.0),
    (&["2s7", "pion", "malka"], 203.0),
    (&["mt-12", "rapira"], 100.0),
    (&["bm-21", "grad", "grad-p"], 122.0),
    (&["bm-27", "uragan"], 220.0),
    (&["bm-30", "smerch", "tornado", "tornado-s"], 300.0),
    (&["2b9", "vasilek"], 82.0),
    (&["2b11", "sani"], 120.0),
    (&["2s4", "tyulpan"], 240.0),
    (&["t-64", "t-72", "t-80", "t-90"], 125.0),
    (&["t-62"], 115.0),
];

/// Whether `w` occurs in `t` as a word (or with a plural `s`/`es`): the characters
/// around it are not letters or digits.
fn has_word(t: &str, w: &str) -> bool {
    let b = t.as_bytes();
    let mut from = 0;
    while let Some(i) = t[from..].find(w) {
        let s = from + i;
        let mut e = s + w.len();
        let before_ok = s == 0 || !b[s - 1].is_ascii_alphanumeric();
        if b.get(e) == Some(&b'e') && b.get(e + 1) == Some(&b's') {
            e += 2;
        } else if b.get(e) == Some(&b's') {
            e += 1;
        }
        let after_ok = e >= b.len() || !b[e].is_ascii_alphanumeric();
        if before_ok && after_ok {
            return true;
        }
        from = s + 1;
        while !t.is_char_boundary(from) {
            from += 1;
        }
    }
    false
}

fn any_word(t: &str, words: &[&str]) -> bool {
    words.iter().any(|w| has_word(t, w))
}

/// The first calibre written in `t` as a number followed by `mm` (`122mm`, `82 mm`,
/// `12.7-mm`), within [`CALIBRE_MM_RANGE`].
fn calibre_in(t: &str) -> Option<f64> {
    let b = t.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'.')) {
            let s = i;
            while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
                i += 1;
            }
            let num = &t[s..i];
            let mut j = i;
            while j < b.len() && (b[j] == b' ' || b[j] == b'-') {
                j += 1;
            }
            if t[j..].starts_with("mm") && !b.get(j + 2).is_some_and(|c| c.is_ascii_alphabetic()) {
                if let Ok(v) = num.parse::<f64>() {
                    if v >= CALIBRE_MM_RANGE.0 && v <= CALIBRE_MM_RANGE.1 {
                        return Some(v);
                    }
                }
            }
        } else {
            i += 1;
        }
    }
    None
}

/// The [`WeaponClass`] of a weapon described as `text` (an event's assessed weapon, or
/// a sighting's type and model: "122mm artillery", "mortar 82mm", "small arms",
/// "howitzer 2S1 Gvozdika"), and its calibre in mm: `calibre_mm` when given, else the
/// first `NNmm` in the text, else that of a known model.
///
/// In order: anti-tank missiles, grenade launchers, recoilless guns and air defence are
/// `other`; tactical missiles (Tochka-U, Iskander) are `heavy`; MLRS (Grad, Uragan,
/// Smerch, Tornado, "rocket launcher") are `mlrs`, or `heavy` from 203 mm (Uragan,
/// Smerch, Tornado-S are on Minsk II's 140 km list); mortars are `mortar` up to 120 mm
/// (or of unknown calibre), `artillery_100mm_plus` above, `heavy` from 203 mm; tanks
/// (`tank`, T-64 ... T-90; not "anti-tank") are `tank`; small arms and machine guns
/// are `small_arms`; artillery, howitzers, guns and cannon are `artillery_100mm_plus`
/// from 100 mm, `heavy` from 203 mm, `other` below 100 mm or when the calibre is not
/// known; anything else is `small_arms` below 20 mm and `other` otherwise.
///
/// Artillery of 203 mm and above (2S7 Pion) is `heavy` here, with the missile systems;
/// Minsk II itself counts it among the 100 mm+ artillery (50 km). A rule that needs
/// Minsk II's exact lines can key on `calibre_mm`.
pub fn classify_weapon(text: &str, calibre_mm: Option<f64>) -> (WeaponClass, Option<f64>) {
    let lower = text.to_lowercase();
    // "anti-tank" names no tank; an anti-tank gun is artillery by its calibre.
    let t = lower.replace("anti-tank", "anti-armour");
    let model = MODELS.iter().find(|(names, _)| any_word(&t, names)).map(|(_, c)| *c);
    let cal = calibre_mm.or_else(|| calibre_in(&t)).or(model);
    let heavy_from = 203.0;
    let class = if any_word(
        &t,
        &[
            "atgm",
            "anti-armour guided",
            "anti-armour missile",
            "rpg",
            "rocket-propelled",
            "grenade launcher",
            "grenade",
            "recoilless",
            "spg-9",
            "anti-aircraft",
            "air defence",
            "air-defence",
            "air defense",
            "zu-23",
            "surface-to-air",
            "manpads",
        ],
    ) {
        WeaponClass::Other
    } else if any_word(
        &t,
        &[
            "tochka",
            "tochka-u",
            "iskander",
            "9k79",
            "ss-21",
            "tactical missile",
            "ballistic missile",
            "missile system",
        ],
    ) {
        WeaponClass::Heavy
    } else if any_word(
        &t,
        &[
            "mlrs",
            "multiple rocket",
            "multiple-rocket",
            "multiple launch",
            "multiple-launch",
            "rocket launcher",
            "rocket artillery",
            "bm-21",
            "grad",
            "grad-p",
            "bm-27",
            "uragan",
            "bm-30",
            "smerch",
            "tornado",
            "tornado-s",
        ],
    ) {
        if cal.is_some_and(|c| c >= heavy_from) {
            WeaponClass::Heavy
        } else {
            WeaponClass::Mlrs
        }
    } else if any_word(&t, &["mortar", "2b9", "vasilek", "2b11", "sani", "2s4", "tyulpan"]) {
        match cal {
            Some(c) if c >= heavy_from => WeaponClass::Heavy,
            Some(c) if c > 120.0 => WeaponClass::Artillery100mmPlus,
            _ => WeaponClass::Mortar,
        }
    } else if any_word(&t, &["tank", "mbt", "t-64", "t-72", "t-80", "t-90", "t-62"]) {
        WeaponClass::Tank
    } else if any_word(
        &t,
        &[
            "small arms",
            "small-arms",
            "machine gun",
            "machine-gun",
            "machinegun",
            "hmg",
            "rifle",
            "sniper",
            "pistol",
            "kalashnikov",
            "ak-74",
            "pkm",
            "kpvt",
            "dshk",
            "nsv",
        ],
    ) {
        WeaponClass::SmallArms
    } else if any_word(
        &t,
        &[
            "artillery",
            "howitzer",
            "gun",
            "cannon",
            "self-propelled",
            "2s1",
            "gvozdika",
            "d-30",
            "2s3",
            "akatsiya",
            "2s19",
            "msta",
            "msta-s",
            "msta-b",
            "2a65",
            "d-20",
            "2a36",
            "2s5",
            "giatsint",
            "giatsint-b",
            "giatsint-s",
            "2s7",
            "pion",
            "malka",
            "mt-12",
            "rapira",
        ],
    ) {
        match cal {
            Some(c) if c >= heavy_from => WeaponClass::Heavy,
            Some(c) if c >= 100.0 => WeaponClass::Artillery100mmPlus,
            _ => WeaponClass::Other,
        }
    } else {
        match cal {
            Some(c) if c < 20.0 => WeaponClass::SmallArms,
            _ => WeaponClass::Other,
        }
    };
    (class, cal)
}

// ------------------------------------------------------------------ checked values

/// A named limit on a list.
trait Limit {
    const MAX: usize;
    const NAME: &'static str;
}

macro_rules! limit {
    ($t:ident, $max:expr, $name:literal) => {
        struct $t;
        impl Limit for $t {
            const MAX: usize = $max;
            const NAME: &'static str = $name;
        }
    };
}
limit!(ReportsLimit, PATROL_REPORTS_MAX, "PATROL_REPORTS_MAX");
limit!(PostsLimit, PATROL_POSTS_MAX, "PATROL_POSTS_MAX");
limit!(EventsLimit, PATROL_EVENTS_MAX, "PATROL_EVENTS_MAX");
limit!(WeaponsLimit, PATROL_WEAPONS_MAX, "PATROL_WEAPONS_MAX");
limit!(GapsLimit, PATROL_GAPS_MAX, "PATROL_GAPS_MAX");

/// A list of at most `L::MAX` items; a longer one is an error
/// `exceeds NAME (found > max)`.
struct Bounded<T, L>(Vec<T>, PhantomData<L>);

impl<T, L> Default for Bounded<T, L> {
    fn default() -> Self {
        Bounded(Vec::new(), PhantomData)
    }
}

impl<'de, T: Deserialize<'de>, L: Limit> Deserialize<'de> for Bounded<T, L> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T, L>(PhantomData<(T, L)>);
        impl<'de, T: Deserialize<'de>, L: Limit> Visitor<'de> for V<T, L> {
            type Value = Bounded<T, L>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an array")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut v = Vec::new();
                loop {
                    if v.len() == L::MAX {
                        let mut n = v.len();
                        while seq.next_element::<IgnoredAny>()?.is_some() {
                            n += 1;
                        }
                        if n > L::MAX {
                            return Err(de::Error::custom(format!("exceeds {} ({n} > {})", L::NAME, L::MAX)));
                        }
                        break;
                    }
                    match seq.next_element()? {
                        Some(x) => v.push(x),
                        None => break,
                    }
                }
                Ok(Bounded(v, PhantomData))
            }
        }
        d.deserialize_seq(V(PhantomData))
    }
}

/// Reads a string (borrowed or not).
fn string<'de, D: Deserializer<'de>>(d: D) -> Result<Cow<'de, str>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Cow<'de, str>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a string")
        }
        fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
            Ok(Cow::Borrowed(v))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Cow::Owned(v.to_string()))
        }
        fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
            Ok(Cow::Owned(v))
        }
    }
    d.deserialize_str(V)
}

/// The `format` member: [`PATROL_FORMAT`].
struct FormatTag;

impl<'de> Deserialize<'de> for FormatTag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = string(d)?;
        if s == PATROL_FORMAT {
            Ok(FormatTag)
        } else {
            Err(de::Error::custom(format!(
                "`{}` is not a format this reader knows (expected {PATROL_FORMAT})",
                clip_to(&s, 40)
            )))
        }
    }
}

/// A non-empty id, name, place or weapon text of at most [`PATROL_NAME_CHARS_MAX`]
/// characters, trimmed.
struct Name(String);

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = string(d)?;
        let t = s.trim();
        if t.is_empty() {
            return Err(de::Error::custom("empty"));
        }
        let n = t.chars().count();
        if n > PATROL_NAME_CHARS_MAX {
            return Err(de::Error::custom(format!(
                "exceeds PATROL_NAME_CHARS_MAX ({n} > {PATROL_NAME_CHARS_MAX} characters)"
            )));
        }
        Ok(Name(t.to_string()))
    }
}

/// A note of at most [`PATROL_NOTE_CHARS_MAX`] characters, trimmed.
struct Note(String);

impl<'de> Deserialize<'de> for Note {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = string(d)?;
        let t = s.trim();
        let n = t.chars().count();
        if n > PATROL_NOTE_CHARS_MAX {
            return Err(de::Error::custom(format!(
                "exceeds PATROL_NOTE_CHARS_MAX ({n} > {PATROL_NOTE_CHARS_MAX} characters)"
            )));
        }
        Ok(Note(t.to_string()))
    }
}

/// A number checked by `check`, which says what is wrong with a bad one.
fn checked_number<'de, D: Deserializer<'de>>(
    d: D,
    check: impl Fn(f64) -> Result<f64, String>,
) -> Result<f64, D::Error> {
    let v = f64::deserialize(d)?;
    check(v).map_err(de::Error::custom)
}

fn in_range(v: f64, lo: f64, hi: f64, hi_open: bool) -> Result<f64, String> {
    let ok = v.is_finite() && v >= lo && if hi_open { v < hi } else { v <= hi };
    if ok {
        Ok(v)
    } else {
        let close = if hi_open { ')' } else { ']' };
        Err(format!("{v} is outside [{lo}, {hi}{close}"))
    }
}

struct Lon(f64);
impl<'de> Deserialize<'de> for Lon {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        checked_number(d, |v| in_range(v, -180.0, 180.0, false)).map(Lon)
    }
}

struct Lat(f64);
impl<'de> Deserialize<'de> for Lat {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        checked_number(d, |v| in_range(v, -90.0, 90.0, false)).map(Lat)
    }
}

struct Calibre(f64);
impl<'de> Deserialize<'de> for Calibre {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        checked_number(d, |v| in_range(v, CALIBRE_MM_RANGE.0, CALIBRE_MM_RANGE.1, false)).map(Calibre)
    }
}

/// A bearing's ± uncertainty in degrees, [0, 180].
struct HalfWidth(f64);
impl<'de> Deserialize<'de> for HalfWidth {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        checked_number(d, |v| in_range(v, 0.0, 180.0, false)).map(HalfWidth)
    }
}

/// A gap's radius in km, (0, [`GAP_RADIUS_KM_MAX`]].
struct Radius(f64);
impl<'de> Deserialize<'de> for Radius {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        checked_number(d, |v| {
            if v.is_finite() && v > 0.0 && v <= GAP_RADIUS_KM_MAX {
                Ok(v)
            } else {
                Err(format!("{v} is outside (0, {GAP_RADIUS_KM_MAX}]"))
            }
        })
        .map(Radius)
    }
}

/// Metres, [0, 100 km].
struct Metres(f64);
impl<'de> Deserialize<'de> for Metres {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        checked_number(d, |v| in_range(v, 0.0, PATROL_DISTANCE_KM_MAX * 1000.0, false)).map(Metres)
    }
}

/// A whole number in [0, [`PATROL_COUNT_MAX`]].
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Count(pub u64);

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Count;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a whole number")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Count, E> {
                if v > PATROL_COUNT_MAX {
                    return Err(E::custom(format!(
                        "{v} is outside [0, {PATROL_COUNT_MAX}] (PATROL_COUNT_MAX)"
                    )));
                }
                Ok(Count(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Count, E> {
                if v < 0 {
                    return Err(E::custom(format!("{v} is negative")));
                }
                self.visit_u64(v as u64)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Count, E> {
                if v < 0.0 {
                    return Err(E::custom(format!("{v} is negative")));
                }
                if v.fract() != 0.0 || !v.is_finite() {
                    return Err(E::custom(format!("{v} is not a whole number")));
                }
                if v > PATROL_COUNT_MAX as f64 {
                    return Err(E::custom(format!(
                        "{v} is outside [0, {PATROL_COUNT_MAX}] (PATROL_COUNT_MAX)"
                    )));
                }
                Ok(Count(v as u64))
            }
        }
        d.deserialize_any(V)
    }
}

/// An RFC 3339 time; `whole_minute` when it has no seconds.
struct Time {
    at: DateTime<Utc>,
    whole_minute: bool,
}

impl<'de> Deserialize<'de> for Time {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = string(d)?;
        let at = truce_model::rfc3339::parse(&s).map_err(de::Error::custom)?;
        // Before 1716 or after 2223 (±8e9 s from 1970) is no patrol's time.
        if at.timestamp().abs() > 8_000_000_000 {
            return Err(de::Error::custom(format!("`{}` is out of range", clip_to(&s, 40))));
        }
        Ok(Time {
            at,
            whole_minute: at.second() == 0 && at.nanosecond() == 0,
        })
    }
}

/// The 16 points of the compass rose, clockwise from north; the even ones are the
/// 8-point rose.
const COMPASS: [&str; 16] = [
    "N", "NNE", "NE", "ENE", "E", "ESE", "SE", "SSE", "S", "SSW", "SW", "WSW", "W", "WNW", "NW", "NNW",
];

/// A bearing in degrees, [0, 360), or a compass point; with its default ± uncertainty.
#[derive(Clone, Debug)]
struct Bearing {
    deg: f64,
    half_width: f64,
    written: String,
}

impl<'de> Deserialize<'de> for Bearing {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Bearing;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("degrees clockwise from north, or a compass point such as \"SSE\"")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Bearing, E> {
                let deg = in_range(v, 0.0, 360.0, true).map_err(E::custom)?;
                Ok(Bearing {
                    deg,
                    half_width: BEARING_UNCERTAINTY_DEG_DEFAULT,
                    written: format!("{v}"),
                })
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Bearing, E> {
                self.visit_f64(v as f64)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Bearing, E> {
                self.visit_f64(v as f64)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Bearing, E> {
                let t = v.trim().to_ascii_uppercase();
                match COMPASS.iter().position(|p| *p == t) {
                    Some(i) => Ok(Bearing {
                        deg: i as f64 * 22.5,
                        half_width: if i % 2 == 0 { 22.5 } else { 11.25 },
                        written: t,
                    }),
                    None => Err(E::custom(format!(
                        "`{}` is not a compass point (N, NNE, NE, ENE, E, ..., NW, NNW) or a number of degrees",
                        clip_to(v, 40)
                    ))),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// A distance band in km: `"2-3"`, `{"min": 2, "max": 3}`, `[2, 3]` or one number.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Band {
    min: f64,
    max: f64,
}

impl Band {
    fn checked(min: f64, max: f64) -> Result<Band, String> {
        in_range(min, 0.0, PATROL_DISTANCE_KM_MAX, false)?;
        in_range(max, 0.0, PATROL_DISTANCE_KM_MAX, false)?;
        if min > max {
            return Err(format!("min {min} is more than max {max}"));
        }
        Ok(Band { min, max })
    }

    fn parse(s: &str) -> Option<(f64, f64)> {
        let t = s.trim();
        let t = t.strip_suffix("km").unwrap_or(t).trim();
        let (a, b) = t.split_once(['-', '–']).unwrap_or((t, t));
        let (a, b) = (a.trim(), b.trim());
        let num = |x: &str| -> Option<f64> {
            if x.is_empty() || !x.bytes().all(|c| c.is_ascii_digit() || c == b'.') {
                return None;
            }
            x.parse().ok()
        };
        Some((num(a)?, num(b)?))
    }
}

impl<'de> Deserialize<'de> for Band {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Band;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a distance band in km: \"2-3\", {\"min\": 2, \"max\": 3}, [2, 3] or a number")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Band, E> {
                Band::checked(v, v).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Band, E> {
                self.visit_f64(v as f64)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Band, E> {
                self.visit_f64(v as f64)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Band, E> {
                let (a, b) = Band::parse(v).ok_or_else(|| {
                    E::custom(format!(
                        "`{}` is not a distance band such as \"2-3\" (km)",
                        clip_to(v, 40)
                    ))
                })?;
                Band::checked(a, b).map_err(E::custom)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Band, A::Error> {
                let a: f64 = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::custom("an empty array: expected [min, max]"))?;
                let b: f64 = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::custom("one number: expected [min, max]"))?;
                if seq.next_element::<IgnoredAny>()?.is_some() {
                    return Err(de::Error::custom("more than two numbers: expected [min, max]"));
                }
                Band::checked(a, b).map_err(de::Error::custom)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Band, A::Error> {
                #[derive(Deserialize)]
                #[serde(deny_unknown_fields)]
                struct MinMax {
                    min: f64,
                    max: f64,
                }
                let m = MinMax::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Band::checked(m.min, m.max).map_err(de::Error::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// One perception or a list of them, at least one, none twice.
struct Perceptions(Vec<Perception>);

impl<'de> Deserialize<'de> for Perceptions {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Perceptions;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("\"heard\", \"seen\", \"camera\" or a list of them")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Perceptions, E> {
                Perception::deserialize(de::value::StrDeserializer::<E>::new(v)).map(|p| Perceptions(vec![p]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Perceptions, A::Error> {
                let mut v = Vec::new();
                while let Some(p) = seq.next_element::<Perception>()? {
                    if v.contains(&p) {
                        return Err(de::Error::custom("a perception is listed twice"));
                    }
                    if v.len() == 3 {
                        return Err(de::Error::custom("more than three perceptions"));
                    }
                    v.push(p);
                }
                if v.is_empty() {
                    return Err(de::Error::custom("empty: heard, seen or camera"));
                }
                Ok(Perceptions(v))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn destination_5_km_east_at_48_north() {
        // By hand, on WGS 84 (a = 6378137 m, e² = 0.00669437999014): at 48°N the prime
        // vertical radius is N = a / sqrt(1 - e² sin² 48°) = 6,389,946.4 m, and a
        // geodesic leaving due east covers 5 km / (N cos 48°) = 0.00116939 rad =
        // 0.0670013° of longitude; it bends toward the equator by about
        // d² tan φ / (2 N²) = 3.4e-7 rad = 0.0000195° (both to better than 1e-7°).
        let p = place_in_sector(37.0, 48.0, 90.0, 0.0, 5.0, 5.0);
        assert!(close(p.lon, 37.0 + 0.0670013, 2e-7), "{p:?}");
        assert!(close(p.lat, 48.0 - 0.0000195, 2e-7), "{p:?}");
        assert_eq!(p.uncertainty_m, POSITION_UNCERTAINTY_M);
        let d = Geodesic.distance(Point::new(37.0, 48.0), Point::new(p.lon, p.lat));
        assert!(close(d, 5000.0, 1e-6), "{d}");
    }

    #[test]
    fn covering_radius_contains_the_sector() {
        for (bearing, half, min, max) in [
            (90.0, 22.5, 3.0, 5.0),
            (157.5, 11.25, 0.0, 1.0),
            (0.0, 5.0, 5.0, 10.0),
            (350.0, 45.0, 2.0, 30.0),
            (200.0, 180.0, 0.0, 10.0),
            (45.0, 90.0, 10.0, 10.0),
        ] {
            let (lon, lat) = (37.8, 47.9);
            let p = place_in_sector(lon, lat, bearing, half, min, max);
            let c = Point::new(p.lon, p.lat);
            let o = Point::new(lon, lat);
            let mut farthest: f64 = 0.0;
            // The four corners, and the whole boundary sampled densely.
            for i in 0..=64 {
                let b = bearing - half + 2.0 * half * i as f64 / 64.0;
                for j in 0..=16 {
                    let r = min + (max - min) * j as f64 / 16.0;
                    if !(i == 0 || i == 64 || j == 0 || j == 16) {
                        continue;
                    }
                    let q = Geodesic.destination(o, b, r * 1000.0);
                    let d = Geodesic.distance(c, q);
                    farthest = farthest.max(d);
                    assert!(
                        d <= p.uncertainty_m,
                        "{bearing}±{half} {min}-{max}: {d} > {}",
                        p.uncertainty_m
                    );
                }
            }
            // And not much more than needed.
            assert!(
                p.uncertainty_m <= (farthest * 1.01).max(POSITION_UNCERTAINTY_M),
                "{p:?} vs {farthest}"
            );
        }
        // A hand check: 3-5 km due east ± 22.5°: centre 4 km out; the far corners are
        // sqrt(5² + 4² - 2·5·4·cos 22.5°) = 2.011 km away (on the plane), the near ones
        // sqrt(3² + 4² - 2·3·4·cos 22.5°) = 1.681 km.
        let p = place_in_sector(37.0, 48.0, 90.0, 22.5, 3.0, 5.0);
        assert!(close(p.uncertainty_m, 2011.2 * 1.005, 5.0), "{p:?}");
    }

    #[test]
    fn compass_points_and_bands() {
        let b: Bearing = serde_json::from_str("\"sse\"").unwrap();
        assert_eq!((b.deg, b.half_width, b.written.as_str()), (157.5, 11.25, "SSE"));
        let b: Bearing = serde_json::from_str("\"E\"").unwrap();
        assert_eq!((b.deg, b.half_width), (90.0, 22.5));
        let b: Bearing = serde_json::from_str("135").unwrap();
        assert_eq!((b.deg, b.half_width), (135.0, BEARING_UNCERTAINTY_DEG_DEFAULT));
        for bad in ["400", "-1", "360", "\"NEE\"", "true"] {
            assert!(serde_json::from_str::<Bearing>(bad).is_err(), "{bad}");
        }
        for (input, min, max) in [
            ("\"0-1\"", 0.0, 1.0),
            ("\"5 - 10 km\"", 5.0, 10.0),
            ("\"2–3\"", 2.0, 3.0),
            ("{\"min\": 1.5, \"max\": 2}", 1.5, 2.0),
            ("[3, 5]", 3.0, 5.0),
            ("4", 4.0, 4.0),
        ] {
            let b: Band = serde_json::from_str(input).unwrap();
            assert_eq!((b.min, b.max), (min, max), "{input}");
        }
        for bad in [
            "\"5-3\"",
            "\"a-b\"",
            "[1]",
            "[1,2,3]",
            "{\"min\":1}",
            "-1",
            "101",
            "\"-1-2\"",
        ] {
            assert!(serde_json::from_str::<Band>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn weapon_classes() {
        use WeaponClass::*;
        for (text, cal, class, got_cal) in [
            ("122mm artillery", None, Artillery100mmPlus, Some(122.0)),
            ("mortar 82mm", None, Mortar, Some(82.0)),
            ("mortar 120 mm", None, Mortar, Some(120.0)),
            ("mortar", None, Mortar, None),
            ("2S4 Tyulpan self-propelled mortar", None, Heavy, Some(240.0)),
            ("small arms", None, SmallArms, None),
            ("heavy machine-gun 12.7mm", None, SmallArms, Some(12.7)),
            ("unknown", None, Other, None),
            ("artillery", None, Other, None),
            ("152mm artillery", None, Artillery100mmPlus, Some(152.0)),
            ("howitzer 2S1 Gvozdika", None, Artillery100mmPlus, Some(122.0)),
            (
                "self-propelled howitzers (2S3 Akatsiya)",
                None,
                Artillery100mmPlus,
                Some(152.0),
            ),
            ("2S7 Pion", None, Heavy, Some(203.0)),
            ("anti-tank gun MT-12 Rapira", None, Artillery100mmPlus, Some(100.0)),
            ("anti-tank guided missile", None, Other, None),
            ("MLRS (BM-21 Grad)", None, Mlrs, Some(122.0)),
            ("multiple rocket launcher", None, Mlrs, None),
            ("MLRS 9K57 Uragan", None, Heavy, Some(220.0)),
            ("Smerch", None, Heavy, Some(300.0)),
            ("Tochka-U", None, Heavy, None),
            ("tanks (T-72)", None, Tank, Some(125.0)),
            ("tank", None, Tank, None),
            ("infantry fighting vehicle cannon 30mm", None, Other, Some(30.0)),
            ("automatic grenade launcher", None, Other, None),
            ("RPG", None, Other, None),
            ("ZU-23 anti-aircraft gun", None, Other, None),
            ("gun", Some(85.0), Other, Some(85.0)),
            ("howitzer", Some(152.0), Artillery100mmPlus, Some(152.0)),
            ("thing", Some(7.62), SmallArms, Some(7.62)),
        ] {
            assert_eq!(classify_weapon(text, cal), (class, got_cal), "{text}");
        }
    }

    #[test]
    fn kinds_from_counts() {
        let c = |e, p, m, f, b, s| Counts {
            explosions: Count(e),
            projectiles: Count(p),
            muzzle_flashes: Count(m),
            flares: Count(f),
            bursts: Count(b),
            shots: Count(s),
        };
        use Direction::*;
        use ObservationKind as K;
        assert_eq!(event_kind(&c(12, 0, 0, 0, 0, 0), Undetermined), K::Explosion);
        assert_eq!(event_kind(&c(12, 0, 0, 0, 0, 0), Outgoing), K::Shelling);
        assert_eq!(event_kind(&c(2, 3, 0, 0, 0, 0), Incoming), K::Shelling);
        assert_eq!(event_kind(&c(0, 0, 0, 0, 20, 5), Undetermined), K::SmallArms);
        assert_eq!(event_kind(&c(0, 0, 0, 4, 0, 0), Undetermined), K::Flare);
        assert_eq!(event_kind(&c(1, 0, 0, 9, 1, 0), Undetermined), K::Explosion);
        assert_eq!(event_kind(&c(0, 1, 0, 0, 1, 0), Undetermined), K::Shelling);
    }

    #[test]
    fn detection_and_paths() {
        assert!(looks_like_patrol("{\"format\" : \"truce-patrol/1\", \"reports\": []}"));
        assert!(looks_like_patrol("{\"reports\": [], \"format\":\"truce-patrol/9\"}"));
        assert!(!looks_like_patrol("{\"type\": \"FeatureCollection\", \"format\": 1}"));
        assert_eq!(join("", "."), "document");
        assert_eq!(join("reports[0]", "posts[1].lon"), "reports[0].posts[1].lon");
        assert_eq!(join("reports[0]", "."), "reports[0]");
        assert_eq!(
            row_key("reports[0].posts[1].events[12].counts.bursts", "events[]"),
            "events[].counts.bursts"
        );
        assert_eq!(row_key("reports[0].posts[1].weapons[3]", "weapons[]"), "weapons[]");
        assert!(has_word("two howitzers seen", "howitzer"));
        assert!(!has_word("2s19", "2s1"));
        assert!(has_word("anti-armour gun", "gun"));
        assert_eq!(calibre_in("(2s1, 122 mm)"), Some(122.0));
        assert_eq!(calibre_in("12.7-mm hmg"), Some(12.7));
        assert_eq!(calibre_in("2s19 msta"), None);
    }
}
