//! The dated control map: which side held which ground on each date, read from control
//! polygons (DeepState's raw layers, its occupied-only files, or any GeoJSON polygons
//! with a status and a date), and the country that frames it.
//!
//! Reading a snapshot only classifies its polygons; the expensive part (repair, union,
//! clipping to the country, closing slivers, deriving the contact line, indexing) is
//! done once per snapshot, on first use, and cached in the [`ControlMap`].

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, TimeZone, Utc};
use geo::{
    unary_union, BooleanOps, BoundingRect, ChamberlainDuquetteArea, Coord, LineString, MakeValid, MultiLineString,
    MultiPolygon, Polygon, Validation,
};

use crate::contact_line::derive_contact_line;
use crate::grid::GridPolygon;
use crate::segments::SegmentIndex;
use crate::GeometryError;

/// Control-polygon files larger than this are refused.
pub const SNAPSHOT_BYTES_MAX: usize = 256 << 20;
/// Files in one control-map directory.
pub const SNAPSHOTS_MAX: usize = 10_000;
/// Vertices in one control snapshot (after reading).
pub const SNAPSHOT_VERTICES_MAX: usize = 5_000_000;
/// Holes in the occupied area smaller than this are slivers between adjacent
/// polygons (the 2014 and 2022 layers leave dozens, each under about 0.01 km2) and are
/// closed; real enclaves are far larger.
pub const SLIVER_AREA_KM2_MAX: f64 = 0.5;
/// Boundary of the occupied area within this distance of the country's outline is
/// border or coast, not front (DeepState's and OSM's borders differ by 1-2 km).
pub const BORDER_TOLERANCE_KM: f64 = 2.0;

/// What one polygon of a snapshot says about the ground it covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    Occupied,
    Contested,
    /// Retaken ground (DeepState's greens and blues); its name often carries the date it
    /// was retaken, which [`backcast`] uses.
    Liberated,
    /// Layers that say nothing about control in the country (ignored).
    Other,
}

/// DeepState's fill colours: occupied since 2022 (A52714), occupied before 2022 (880E4F,
/// and black 000000 in 2022's early files: Crimea, ORDLO, Tuzla), and the greys of
/// unknown or contested status. Everything else (liberated greens and blues, the red
/// FF5252 of far-away "occupied" territories) says nothing about control in Ukraine.
pub fn deepstate_status(fill: &str) -> Status {
    match fill.trim_start_matches('#').to_ascii_lowercase().as_str() {
        "a52714" | "880e4f" | "000000" => Status::Occupied,
        "bcaaa4" | "bdbdbd" | "757575" => Status::Contested,
        "0288d1" | "0f9d58" | "01579b" => Status::Liberated,
        _ => Status::Other,
    }
}

/// The date a liberated layer's name gives, e.g. `Звільнено 25.03`, `Liberated 31.03 -
/// 02.04` (the last date: retaking ended then), `звільнено 26.03.2022`, `Звільнено
/// 27-31.03.2022`; a day and month without a year take `year`.
pub fn liberation_date(name: &str, year: i32) -> Option<NaiveDate> {
    let b = name.as_bytes();
    let mut found = None;
    let mut i = 0;
    while i + 5 <= b.len() {
        let two = |k: usize| b[k].is_ascii_digit() && b[k + 1].is_ascii_digit();
        if two(i) && b[i + 2] == b'.' && two(i + 3) && (i == 0 || !b[i - 1].is_ascii_digit()) {
            let (d, m) = (name[i..i + 2].parse().ok(), name[i + 3..i + 5].parse().ok());
            let mut y = year;
            let mut end = i + 5;
            if i + 10 <= b.len() && b[i + 5] == b'.' && two(i + 6) && two(i + 8) {
                y = name[i + 6..i + 10].parse().unwrap_or(year);
                end = i + 10;
            }
            if let (Some(d), Some(m)) = (d, m) {
                if let Some(date) = NaiveDate::from_ymd_opt(y, m, d) {
                    found = Some(date);
                }
            }
            i = end;
        } else {
            i += 1;
        }
    }
    found
}

/// One snapshot's polygons, as read (not yet repaired or merged).
#[derive(Debug, Clone)]
pub struct RawSnapshot {
    pub name: String,
    pub taken_at: DateTime<Utc>,
    pub occupied: Vec<Polygon>,
    pub contested: Vec<Polygon>,
    /// Retaken ground whose layer name dates its retaking.
    pub liberated: Vec<(NaiveDate, Polygon)>,
}

/// Snapshots before `raw` inferred from its dated liberated layers: ground retaken on
/// day `d` was occupied before `d`. One snapshot at `from` (everything retaken after it
/// still occupied), then one at midnight UTC of each retaking date after `from`, each
/// holding `raw`'s occupied area plus the ground not yet retaken. Ground retaken at an
/// unknown date, and ground taken between `from` and `raw`, are not inferred: the
/// snapshots are a lower bound of what was occupied.
pub fn backcast(raw: &RawSnapshot, from: DateTime<Utc>) -> Vec<RawSnapshot> {
    let midnight = |d: NaiveDate| Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight exists"));
    let mut dates: Vec<DateTime<Utc>> =
        raw.liberated.iter().map(|(d, _)| midnight(*d)).filter(|t| *t > from && *t < raw.taken_at).collect();
    dates.push(from);
    dates.sort();
    dates.dedup();
    dates
        .into_iter()
        .filter(|t| *t < raw.taken_at)
        .map(|t| {
            let mut occupied = raw.occupied.clone();
            occupied.extend(raw.liberated.iter().filter(|(d, _)| midnight(*d) > t).map(|(_, p)| p.clone()));
            RawSnapshot {
                name: format!("{} (backcast to {})", raw.name, t.format("%Y-%m-%d")),
                taken_at: t,
                occupied,
                contested: raw.contested.clone(),
                liberated: vec![],
            }
        })
        .collect()
}

/// The date in a file name: `20220403T165926Z` (an instant), or `20240708` /
/// `2024-07-08` (midnight UTC that day).
pub fn date_from_name(name: &str) -> Option<DateTime<Utc>> {
    let b = name.as_bytes();
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    for i in 0..b.len() {
        if i > 0 && b[i - 1].is_ascii_digit() {
            continue;
        }
        if i + 16 <= b.len() && digits(&b[i..i + 8]) && b[i + 8] == b'T' && digits(&b[i + 9..i + 15]) && b[i + 15] == b'Z' {
            if let Ok(t) = NaiveDateTime::parse_from_str(&name[i..i + 15], "%Y%m%dT%H%M%S") {
                return Some(Utc.from_utc_datetime(&t));
            }
        }
        if i + 8 <= b.len() && digits(&b[i..i + 8]) && (i + 8 == b.len() || !b[i + 8].is_ascii_digit()) {
            if let Ok(d) = NaiveDate::parse_from_str(&name[i..i + 8], "%Y%m%d") {
                return Some(Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0)?));
            }
        }
        if i + 10 <= b.len() && digits(&b[i..i + 4]) && b[i + 4] == b'-' {
            if let Ok(d) = NaiveDate::parse_from_str(&name[i..i + 10], "%Y-%m-%d") {
                return Some(Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0)?));
            }
        }
    }
    None
}

fn polygons_of(geom: geojson::Geometry, out: &mut Vec<Polygon>, vertices: &mut usize) -> Result<(), String> {
    use geojson::GeometryValue as Value;
    match geom.value {
        Value::Polygon { .. } | Value::MultiPolygon { .. } => {
            let g: geo::Geometry = geom.try_into().map_err(|e: geojson::Error| e.to_string())?;
            match g {
                geo::Geometry::Polygon(p) => {
                    *vertices += p.exterior().0.len() + p.interiors().iter().map(|r| r.0.len()).sum::<usize>();
                    out.push(p)
                }
                geo::Geometry::MultiPolygon(mp) => {
                    for p in mp {
                        *vertices += p.exterior().0.len() + p.interiors().iter().map(|r| r.0.len()).sum::<usize>();
                        out.push(p)
                    }
                }
                _ => unreachable!("a GeoJSON polygon converts to a polygon"),
            }
        }
        Value::GeometryCollection { geometries: gs } => {
            for g in gs {
                polygons_of(g, out, vertices)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Reads one control-polygon GeoJSON file. The status of a feature comes from its
/// `fill` (DeepState's colours, see [`deepstate_status`]) or a `status` property
/// (`occupied`, `contested`, anything else ignored); a feature with neither counts as
/// occupied (the occupied-only format). The date comes from the file name, else from a
/// top-level or feature `date` property.
pub fn read_snapshot(name: &str, bytes: &[u8]) -> Result<RawSnapshot, GeometryError> {
    read_snapshot_dated(name, bytes, None)
}

/// [`read_snapshot`] with the date given by the caller (it wins over the name and the
/// properties).
pub fn read_snapshot_dated(name: &str, bytes: &[u8], date: Option<DateTime<Utc>>) -> Result<RawSnapshot, GeometryError> {
    let bad = |why: String| GeometryError::ControlFile { file: name.to_string(), why };
    if bytes.len() > SNAPSHOT_BYTES_MAX {
        return Err(bad(format!("{} bytes exceeds SNAPSHOT_BYTES_MAX ({SNAPSHOT_BYTES_MAX})", bytes.len())));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| bad(format!("not UTF-8: {e}")))?;
    let gj: geojson::GeoJson = text.parse().map_err(|e: geojson::Error| bad(format!("not GeoJSON: {e}")))?;
    let fc = match gj {
        geojson::GeoJson::FeatureCollection(fc) => fc,
        geojson::GeoJson::Feature(f) => geojson::FeatureCollection { bbox: None, features: vec![f], foreign_members: None },
        geojson::GeoJson::Geometry(g) => geojson::FeatureCollection {
            bbox: None,
            features: vec![geojson::Feature { geometry: Some(g), ..Default::default() }],
            foreign_members: None,
        },
    };
    let mut taken_at = date.or_else(|| date_from_name(name));
    if taken_at.is_none() {
        let from_value = |v: Option<&serde_json::Value>| {
            v.and_then(|v| v.as_str()).and_then(|s| {
                DateTime::parse_from_rfc3339(s)
                    .map(|t| t.with_timezone(&Utc))
                    .ok()
                    .or_else(|| date_from_name(s))
            })
        };
        taken_at = from_value(fc.foreign_members.as_ref().and_then(|m| m.get("date")))
            .or_else(|| fc.features.iter().find_map(|f| from_value(f.property("date"))));
    }
    let taken_at = taken_at.ok_or_else(|| bad("no date: put YYYYMMDD in the file name or a `date` property".into()))?;
    let (mut occupied, mut contested, mut liberated) = (Vec::new(), Vec::new(), Vec::new());
    let mut vertices = 0usize;
    for (i, f) in fc.features.into_iter().enumerate() {
        let status = if let Some(fill) = f.property("fill").and_then(|v| v.as_str()) {
            deepstate_status(fill)
        } else if let Some(s) = f.property("status").and_then(|v| v.as_str()) {
            match s.to_ascii_lowercase().as_str() {
                "occupied" => Status::Occupied,
                "contested" | "unknown" => Status::Contested,
                _ => Status::Other,
            }
        } else if f.properties.as_ref().is_none_or(|p| !p.contains_key("styleUrl")) {
            Status::Occupied
        } else {
            Status::Other
        };
        let layer_name = f.property("name").and_then(|v| v.as_str()).unwrap_or("").to_string();
        let Some(geom) = f.geometry else { continue };
        if status == Status::Liberated {
            if let Some(d) = liberation_date(&layer_name, taken_at.year()) {
                let mut polys = Vec::new();
                polygons_of(geom, &mut polys, &mut vertices).map_err(|why| bad(format!("feature {}: {why}", i + 1)))?;
                liberated.extend(polys.into_iter().map(|p| (d, p)));
            }
            continue;
        }
        let target = match status {
            Status::Occupied => &mut occupied,
            Status::Contested => &mut contested,
            Status::Liberated | Status::Other => continue,
        };
        polygons_of(geom, target, &mut vertices).map_err(|why| bad(format!("feature {}: {why}", i + 1)))?;
        if vertices > SNAPSHOT_VERTICES_MAX {
            return Err(bad(format!("more than SNAPSHOT_VERTICES_MAX ({SNAPSHOT_VERTICES_MAX}) vertices")));
        }
    }
    Ok(RawSnapshot { name: name.to_string(), taken_at, occupied, contested, liberated })
}

/// What repair did to one input polygon.
#[derive(Debug, Clone, PartialEq)]
pub struct Repair {
    /// Which input (file and feature) was repaired.
    pub what: String,
    /// The first problem `geo`'s validation found.
    pub problem: String,
    /// Parts the repaired polygon has.
    pub parts: usize,
}

fn ring_vertices(p: &Polygon) -> usize {
    p.exterior().0.len() + p.interiors().iter().map(|r| r.0.len()).sum::<usize>()
}

/// Repairs invalid polygons with `geo`'s `MakeValid` (constrained triangulation, even-odd
/// rule: no ring is dropped, self-intersections split into parts) and says what it did.
pub fn repair_all(label: &str, polys: Vec<Polygon>, repairs: &mut Vec<Repair>) -> Result<Vec<Polygon>, GeometryError> {
    let mut out = Vec::with_capacity(polys.len());
    for (i, p) in polys.into_iter().enumerate() {
        if ring_vertices(&p) < 4 {
            repairs.push(Repair { what: format!("{label} polygon {}", i + 1), problem: "fewer than 4 vertices".into(), parts: 0 });
            continue;
        }
        if p.is_valid() {
            out.push(p);
            continue;
        }
        match p.validation_errors().into_iter().next() {
            None => out.push(p),
            Some(problem) => {
                let fixed = p.make_valid().map_err(|e| GeometryError::Repair { what: format!("{label} polygon {}", i + 1), why: e.to_string() })?;
                repairs.push(Repair { what: format!("{label} polygon {}", i + 1), problem: problem.to_string(), parts: fixed.0.len() });
                out.extend(fixed.0);
            }
        }
    }
    Ok(out)
}

/// Geodesic-ish area of a ring in km2 (Chamberlain-Duquette, good to well under 1 %).
fn ring_area_km2(ring: &LineString) -> f64 {
    Polygon::new(ring.clone(), vec![]).chamberlain_duquette_unsigned_area() / 1e6
}

/// Drops holes smaller than `max_km2`; returns how many were closed.
pub fn close_slivers(mp: MultiPolygon, max_km2: f64) -> (MultiPolygon, usize) {
    let mut closed = 0;
    let polys = mp
        .into_iter()
        .map(|p| {
            let (ext, holes) = p.into_inner();
            let kept: Vec<LineString> = holes
                .into_iter()
                .filter(|h| {
                    let small = ring_area_km2(h) < max_km2;
                    closed += small as usize;
                    !small
                })
                .collect();
            Polygon::new(ext, kept)
        })
        .collect();
    (MultiPolygon(polys), closed)
}

/// A region (oblast) of the country.
pub struct Region {
    /// ISO 3166-2 code, e.g. `UA-14`.
    pub code: String,
    /// English name, e.g. `Donetsk Oblast`.
    pub name: String,
    pub area: GridPolygon,
    pub shape: MultiPolygon,
}

/// The country: its outline (union of its regions, repaired), the outline's boundary
/// (border and coast) indexed for distance, and its regions.
pub struct Country {
    pub outline: MultiPolygon,
    pub outline_index: GridPolygon,
    pub border: SegmentIndex,
    pub regions: Vec<Region>,
    /// What repair did to the input polygons.
    pub repairs: Vec<Repair>,
}

impl Country {
    /// Reads the regions' GeoJSON (one feature per region, with `iso3166-2` and `name:en`
    /// or `name` properties) and builds the outline.
    pub fn from_geojson(name: &str, bytes: &[u8]) -> Result<Country, GeometryError> {
        let bad = |why: String| GeometryError::ControlFile { file: name.to_string(), why };
        if bytes.len() > SNAPSHOT_BYTES_MAX {
            return Err(bad(format!("{} bytes exceeds SNAPSHOT_BYTES_MAX", bytes.len())));
        }
        let text = std::str::from_utf8(bytes).map_err(|e| bad(format!("not UTF-8: {e}")))?;
        let gj: geojson::GeoJson = text.parse().map_err(|e: geojson::Error| bad(format!("not GeoJSON: {e}")))?;
        let geojson::GeoJson::FeatureCollection(fc) = gj else {
            return Err(bad("expected a FeatureCollection of regions".into()));
        };
        let mut repairs = Vec::new();
        let mut regions = Vec::new();
        let mut all = Vec::new();
        for (i, f) in fc.features.into_iter().enumerate() {
            let prop = |k: &str| f.property(k).and_then(|v| v.as_str()).map(str::to_string);
            let code = prop("iso3166-2").or_else(|| prop("code")).unwrap_or_else(|| format!("region-{}", i + 1));
            let rname = prop("name:en").or_else(|| prop("name")).unwrap_or_else(|| code.clone());
            let Some(geom) = f.geometry else {
                return Err(bad(format!("feature {} ({code}): no geometry", i + 1)));
            };
            let mut polys = Vec::new();
            let mut v = 0;
            polygons_of(geom, &mut polys, &mut v).map_err(|why| bad(format!("feature {} ({code}): {why}", i + 1)))?;
            let polys = repair_all(&format!("{name} feature {} ({code})", i + 1), polys, &mut repairs)?;
            let shape = unary_union(&polys);
            all.extend(shape.0.iter().cloned());
            regions.push(Region { code, name: rname, area: GridPolygon::new(&shape), shape });
        }
        if regions.is_empty() {
            return Err(bad("no regions".into()));
        }
        let outline = unary_union(&all);
        let (outline, _) = close_slivers(outline, SLIVER_AREA_KM2_MAX);
        let border = SegmentIndex::new(rings_of(&outline));
        Ok(Country { outline_index: GridPolygon::new(&outline), outline, border, regions, repairs })
    }

    /// The region containing (lon, lat), if any.
    pub fn region_of(&self, lon: f64, lat: f64) -> Option<usize> {
        self.regions.iter().position(|r| r.area.contains(lon, lat))
    }
}

fn rings_of(mp: &MultiPolygon) -> Vec<Vec<Coord>> {
    mp.iter().flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors())).map(|r| r.0.clone()).collect()
}

/// A snapshot made ready for classification.
pub struct DerivedSnapshot {
    pub name: String,
    pub taken_at: DateTime<Utc>,
    /// Occupied ground: repaired, merged, clipped to the country, slivers closed.
    pub occupied: MultiPolygon,
    /// Contested ground (clipped to the country, minus occupied).
    pub contested: MultiPolygon,
    pub occupied_index: GridPolygon,
    pub contested_index: GridPolygon,
    /// The contact line: the occupied boundary that is neither border nor coast.
    pub contact_line: MultiLineString,
    pub line_index: SegmentIndex,
    pub repairs: Vec<Repair>,
    pub slivers_closed: usize,
}

impl DerivedSnapshot {
    /// Derives everything from a raw snapshot and the country.
    pub fn derive(raw: RawSnapshot, country: &Country) -> Result<DerivedSnapshot, GeometryError> {
        let mut repairs = Vec::new();
        let occ = repair_all(&format!("{} occupied", raw.name), raw.occupied, &mut repairs)?;
        let con = repair_all(&format!("{} contested", raw.name), raw.contested, &mut repairs)?;
        let occ = unary_union(&occ);
        let (occ, slivers_closed) = close_slivers(occ, SLIVER_AREA_KM2_MAX);
        let occupied = clip(&occ, &country.outline);
        let contested = if con.is_empty() {
            MultiPolygon(vec![])
        } else {
            clip(&unary_union(&con), &country.outline).difference(&occupied)
        };
        let contact_line = derive_contact_line(&occupied, &country.border, BORDER_TOLERANCE_KM);
        let line_index = SegmentIndex::new(contact_line.0.iter().map(|l| l.0.clone()).collect());
        Ok(DerivedSnapshot {
            name: raw.name,
            taken_at: raw.taken_at,
            occupied_index: GridPolygon::new(&occupied),
            contested_index: GridPolygon::new(&contested),
            occupied,
            contested,
            contact_line,
            line_index,
            repairs,
            slivers_closed,
        })
    }
}

/// `a` ∩ `b`, skipping the overlay when the boxes are disjoint.
fn clip(a: &MultiPolygon, b: &MultiPolygon) -> MultiPolygon {
    match (a.bounding_rect(), b.bounding_rect()) {
        (Some(ra), Some(rb)) if ra.min().x <= rb.max().x && rb.min().x <= ra.max().x && ra.min().y <= rb.max().y && rb.min().y <= ra.max().y => {
            a.intersection(b)
        }
        _ => MultiPolygon(vec![]),
    }
}

struct Entry {
    name: String,
    taken_at: DateTime<Utc>,
    source: Source,
    derived: OnceLock<Result<Arc<DerivedSnapshot>, String>>,
}

/// Where a snapshot comes from: a file, read on first use, or an inferred snapshot.
enum Source {
    File(Arc<Vec<u8>>),
    Inferred(Arc<RawSnapshot>),
}

/// Dated snapshots of control; the one in force at an instant is the latest taken at or
/// before it. Snapshots are derived on first use and kept.
pub struct ControlMap {
    entries: Vec<Entry>,
}

impl ControlMap {
    /// Builds a map from (file name, bytes) pairs. Dates come from the names (or, failing
    /// that, from the files' `date` properties).
    pub fn from_files(files: Vec<(String, Vec<u8>)>) -> Result<ControlMap, GeometryError> {
        Self::from_dated_files(files.into_iter().map(|(n, b)| (n, None, b)).collect())
    }

    /// Like [`ControlMap::from_files`], but a file with a date given here is in force from
    /// that instant whatever its name says (an agreement's line "as of" a date, e.g. the
    /// pre-2022 ORDLO area standing for the Minsk-era line from 2015-02-15).
    pub fn from_dated_files(files: Vec<(String, Option<DateTime<Utc>>, Vec<u8>)>) -> Result<ControlMap, GeometryError> {
        if files.len() > SNAPSHOTS_MAX {
            return Err(GeometryError::Limit(format!("{} control files exceeds SNAPSHOTS_MAX ({SNAPSHOTS_MAX})", files.len())));
        }
        let mut by_time: BTreeMap<DateTime<Utc>, Entry> = BTreeMap::new();
        for (name, date, bytes) in files {
            let taken_at = match date.or_else(|| date_from_name(&name)) {
                Some(t) => t,
                None => read_snapshot(&name, &bytes)?.taken_at,
            };
            if let Some(prev) = by_time.get(&taken_at) {
                return Err(GeometryError::ControlFile {
                    file: name,
                    why: format!("same date {taken_at} as {}", prev.name),
                });
            }
            by_time.insert(taken_at, Entry { name, taken_at, source: Source::File(Arc::new(bytes)), derived: OnceLock::new() });
        }
        Ok(ControlMap { entries: by_time.into_values().collect() })
    }

    /// Adds the snapshots [`backcast`] infers from the earliest snapshot, back to `from`;
    /// returns how many. Use it when the earliest map is later than the observations
    /// (DeepState's first raw layers are of 2022-04-03; the invasion began 2022-02-24).
    pub fn backcast_earliest(&mut self, from: DateTime<Utc>) -> Result<usize, GeometryError> {
        let Some(first) = self.entries.first() else { return Ok(0) };
        let raw = match &first.source {
            Source::File(bytes) => read_snapshot_dated(&first.name, bytes, Some(first.taken_at))?,
            Source::Inferred(raw) => raw.as_ref().clone(),
        };
        let inferred = backcast(&raw, from);
        let n = inferred.len();
        let mut entries: Vec<Entry> = inferred
            .into_iter()
            .map(|r| Entry {
                name: r.name.clone(),
                taken_at: r.taken_at,
                source: Source::Inferred(Arc::new(r)),
                derived: OnceLock::new(),
            })
            .collect();
        entries.append(&mut self.entries);
        self.entries = entries;
        Ok(n)
    }

    /// Number of snapshots.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there is no snapshot.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// (name, taken_at) of each snapshot, oldest first.
    pub fn snapshots(&self) -> impl Iterator<Item = (&str, DateTime<Utc>)> {
        self.entries.iter().map(|e| (e.name.as_str(), e.taken_at))
    }

    /// Index of the snapshot in force at `t_ms` (milliseconds since the epoch): the latest
    /// taken at or before it.
    pub fn in_force_ms(&self, t_ms: i64) -> Option<usize> {
        let n = self.entries.partition_point(|e| e.taken_at.timestamp_millis() <= t_ms);
        n.checked_sub(1)
    }

    /// The derived snapshot `i` (derived now if it was not yet).
    pub fn derived(&self, i: usize, country: &Country) -> Result<Arc<DerivedSnapshot>, GeometryError> {
        let e = &self.entries[i];
        e.derived
            .get_or_init(|| {
                match &e.source {
                    Source::File(bytes) => read_snapshot_dated(&e.name, bytes, Some(e.taken_at)),
                    Source::Inferred(raw) => Ok(raw.as_ref().clone()),
                }
                .and_then(|raw| DerivedSnapshot::derive(raw, country))
                    .map(Arc::new)
                    .map_err(|err| err.to_string())
            })
            .clone()
            .map_err(|why| GeometryError::ControlFile { file: e.name.clone(), why })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_from_names() {
        let check = |name: &str, want: Option<&str>| {
            assert_eq!(date_from_name(name).map(|t| t.to_rfc3339()), want.map(str::to_string), "{name}");
        };
        check("deepstate_20220403T165926Z_1649005166.geojson", Some("2022-04-03T16:59:26+00:00"));
        check("deepstatemap_data_20240708.geojson", Some("2024-07-08T00:00:00+00:00"));
        check("control-2023-06-29.geojson", Some("2023-06-29T00:00:00+00:00"));
        check("ordlo.geojson", None);
        check("x_1649005166.geojson", None);
    }

    #[test]
    fn liberation_dates_from_layer_names() {
        let check = |name: &str, want: Option<(i32, u32, u32)>| {
            let want = want.map(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d).unwrap());
            assert_eq!(liberation_date(name, 2022), want, "{name}");
        };
        check("Звільнено 25.03", Some((2022, 3, 25)));
        check("Звільнено 31.03-02.04", Some((2022, 4, 2)));
        check("Звільнено 27-31.03.2022", Some((2022, 3, 31)));
        check("звільнено 26.03.2022", Some((2022, 3, 26)));
        check("Liberated 31.03 - 02.04", Some((2022, 4, 2)));
        check("Звільнено Чугуїв 07.03", Some((2022, 3, 7)));
        check("24.03", Some((2022, 3, 24)));
        check("Звільнено", None);
        check("Звільнено Миколаївський аеропорт", None);
        check("31.02", None);
    }

    #[test]
    fn backcast_keeps_ground_occupied_until_its_retaking() {
        use geo::polygon;
        let sq = |x: f64| polygon![(x: x, y: 0.), (x: x + 1., y: 0.), (x: x + 1., y: 1.), (x: x, y: 1.), (x: x, y: 0.)];
        let day = |m, d| NaiveDate::from_ymd_opt(2022, m, d).unwrap();
        let raw = RawSnapshot {
            name: "s".into(),
            taken_at: Utc.with_ymd_and_hms(2022, 4, 3, 16, 0, 0).unwrap(),
            occupied: vec![sq(0.0)],
            contested: vec![],
            liberated: vec![(day(3, 25), sq(2.0)), (day(4, 2), sq(4.0)), (day(2, 20), sq(6.0))],
        };
        let from = Utc.with_ymd_and_hms(2022, 2, 24, 0, 0, 0).unwrap();
        let b = backcast(&raw, from);
        let got: Vec<(String, usize)> = b.iter().map(|s| (s.taken_at.format("%m-%d").to_string(), s.occupied.len())).collect();
        // From 02-24: both dated areas still occupied (the one retaken 02-20 is not);
        // from 03-25 one is retaken; from 04-02 both.
        assert_eq!(got, vec![("02-24".into(), 3), ("03-25".into(), 2), ("04-02".into(), 1)]);
    }

    #[test]
    fn deepstate_colours() {
        assert_eq!(deepstate_status("#A52714"), Status::Occupied);
        assert_eq!(deepstate_status("#880e4f"), Status::Occupied);
        assert_eq!(deepstate_status("#bcaaa4"), Status::Contested);
        assert_eq!(deepstate_status("#0f9d58"), Status::Liberated);
        assert_eq!(deepstate_status("#ff5252"), Status::Other);
    }

    #[test]
    fn snapshot_statuses_and_errors() {
        let gj = r##"{"type":"FeatureCollection","features":[
          {"type":"Feature","properties":{"fill":"#a52714","styleUrl":"#p"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}},
          {"type":"Feature","properties":{"fill":"#bcaaa4","styleUrl":"#p"},"geometry":{"type":"GeometryCollection","geometries":[{"type":"Polygon","coordinates":[[[2,0],[3,0],[3,1],[2,0]]]}]}},
          {"type":"Feature","properties":{"fill":"#0f9d58","styleUrl":"#p"},"geometry":{"type":"Polygon","coordinates":[[[4,0],[5,0],[5,1],[4,0]]]}},
          {"type":"Feature","properties":{"name":"camp"},"geometry":{"type":"Point","coordinates":[4,0]}}]}"##;
        let s = read_snapshot("x_20230101.geojson", gj.as_bytes()).unwrap();
        assert_eq!((s.occupied.len(), s.contested.len()), (1, 1));
        let err = read_snapshot("nodate.geojson", gj.as_bytes()).unwrap_err().to_string();
        assert!(err.contains("nodate.geojson") && err.contains("no date"), "{err}");
        let err = read_snapshot("x_20230101.geojson", b"{nope").unwrap_err().to_string();
        assert!(err.contains("not GeoJSON"), "{err}");
    }

    #[test]
    fn in_force_is_latest_at_or_before() {
        let fc = |d: &str| (format!("s_{d}.geojson"), br#"{"type":"FeatureCollection","features":[]}"#.to_vec());
        let m = ControlMap::from_files(vec![fc("20230108"), fc("20230101")]).unwrap();
        let ms = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis();
        assert_eq!(m.in_force_ms(ms("2022-12-31T23:59:59Z")), None);
        assert_eq!(m.in_force_ms(ms("2023-01-01T00:00:00Z")), Some(0));
        assert_eq!(m.in_force_ms(ms("2023-01-07T12:00:00Z")), Some(0));
        assert_eq!(m.in_force_ms(ms("2023-01-08T00:00:00Z")), Some(1));
    }
}
