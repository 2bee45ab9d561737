//! The observation record: the one shape every feed becomes once read, and the
//! Arrow schema it travels in.
//!
//! A FIRMS fire pixel, a UCDP event and a monitor's sighting are very different
//! things, but every later stage (geometry, detection, fusion, clauses) needs the
//! same few facts about each: where, when, how sure, what kind, and where it came
//! from. [`Observation`] holds exactly those; whatever else a source says is kept
//! verbatim in `attributes` (a JSON object) so nothing is lost.
//!
//! Observations are columnar in bulk: [`ObservationBatchBuilder`] appends them to
//! Arrow arrays, and [`observations_schema`] names the columns (see [`col`]).
//!
//! ```
//! use truce_model::*;
//! use chrono::{TimeZone, Utc};
//! let t = Utc.with_ymd_and_hms(2022, 3, 1, 0, 0, 0).unwrap();
//! let obs = Observation {
//!     id: "abc:2".into(),
//!     source: SourceKind::Firms,
//!     time: TimeSpan::day(t.date_naive()),
//!     lon: 37.6, lat: 47.1, uncertainty_m: 1000.0,
//!     kind: ObservationKind::Fire,
//!     attributes: "{}".into(),
//!     provenance: Provenance { file_sha256: "00".repeat(32), line: 2 },
//! };
//! let mut b = ObservationBatchBuilder::default();
//! b.push(&obs);
//! let batch = b.finish();
//! assert_eq!(batch.num_rows(), 1);
//! assert_eq!(observations_from_batch(&batch).unwrap()[0], obs);
//! ```

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use arrow_array::builder::{Float64Builder, StringBuilder, TimestampMillisecondBuilder, UInt64Builder};
use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, TimestampMillisecondType, UInt64Type};
use arrow_array::{Array, ArrayRef, BinaryArray, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};

/// Errors of this crate: a record batch that does not have the observation shape.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A required column is absent or has the wrong Arrow type.
    #[error("column `{column}`: {why}")]
    Column { column: &'static str, why: String },
    /// A value in a column is not one this crate knows (an unknown enum name, a null).
    #[error("row {row}, column `{column}`: {why}")]
    Value { row: usize, column: &'static str, why: String },
}

/// Column names of the observation schema, decided once here.
pub mod col {
    pub const ID: &str = "id";
    pub const SOURCE: &str = "source";
    pub const TIME_START: &str = "time_start";
    pub const TIME_END: &str = "time_end";
    pub const TIME_PRECISION: &str = "time_precision";
    pub const LON: &str = "lon";
    pub const LAT: &str = "lat";
    pub const UNCERTAINTY_M: &str = "uncertainty_m";
    pub const KIND: &str = "kind";
    pub const ATTRIBUTES: &str = "attributes";
    pub const FILE_SHA256: &str = "file_sha256";
    pub const LINE: &str = "line";
    /// WKB point, the GeoParquet primary geometry column.
    pub const GEOMETRY: &str = "geometry";
    // Columns added by classification (truce-geometry).
    pub const SIDE: &str = "side";
    pub const DISTANCE_KM: &str = "distance_km";
    pub const ZONES: &str = "zones";
    pub const REGION: &str = "region";
    pub const SNAPSHOT: &str = "snapshot";
}

macro_rules! named_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $var:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vm])* $var),+ }
        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$var),+];
            /// The stable name used in files and columns.
            pub fn as_str(self) -> &'static str { match self { $($name::$var => $s),+ } }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }
        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s { $($s => Ok($name::$var),)+ _ => Err(format!(
                    "unknown {} `{}` (expected one of: {})", stringify!($name), s,
                    [$($s),+].join(", "))) }
            }
        }
        /// Written as its stable name.
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
        /// Read from its stable name.
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

named_enum!(
    /// Which kind of feed an observation came from.
    SourceKind {
        /// NASA FIRMS active-fire detections (VIIRS or MODIS).
        Firms = "firms",
        /// UCDP Georeferenced Event Dataset.
        UcdpGed = "ucdp_ged",
        /// ACLED event data.
        Acled = "acled",
        /// Generic GeoJSON points with a time property.
        GeoJson = "geojson",
        /// A monitor's patrol report.
        Patrol = "patrol",
    }
);

named_enum!(
    /// What was observed. Later stages (detection, violation rules) key on this.
    ObservationKind {
        /// A thermal anomaly (satellite fire detection).
        Fire = "fire",
        /// An explosion (heard, seen or recorded).
        Explosion = "explosion",
        /// Artillery, mortar, rocket or missile fire at ground targets.
        Shelling = "shelling",
        /// An air or drone strike.
        Strike = "strike",
        /// An armed clash between organised forces.
        ArmedClash = "armed_clash",
        /// Violence against civilians.
        ViolenceAgainstCivilians = "violence_against_civilians",
        /// A protest or riot.
        Protest = "protest",
        /// Anything else a source reports.
        Other = "other",
        /// Small-arms fire: bursts and single shots (patrol reports).
        SmallArms = "small_arms",
        /// Illumination flares (patrol reports).
        Flare = "flare",
        /// Heavy weapons seen by a monitor: type, calibre and count in `attributes`.
        WeaponSighting = "weapon_sighting",
    }
);

impl ObservationKind {
    /// Kinds that are use of force (kinetic activity). Fusion links observations only
    /// within the same family, so a protest never corroborates a strike.
    pub fn is_kinetic(self) -> bool {
        use ObservationKind::*;
        matches!(self, Fire | Explosion | Shelling | Strike | ArmedClash | SmallArms | Flare)
    }
}

named_enum!(
    /// Why a source could not see: the reason of a [`CoverageGap`].
    GapReason {
        /// Cloud or smoke hid the ground from a satellite.
        Cloud = "cloud",
        /// Monitors were refused access (a restriction of movement).
        DeniedAccess = "denied_access",
        /// The sensor or feed was down.
        SensorOutage = "sensor_outage",
        /// No patrol went there.
        NoPatrol = "no_patrol",
        /// Anything else, explained in the gap's note.
        Other = "other",
    }
);

named_enum!(
    /// The weapon classes of the Minsk agreements, by which withdrawal distances and
    /// violation rules are set: Minsk II's Package of Measures (12 February 2015, point 2)
    /// withdraws artillery of 100 mm and above 50 km from the line, multiple rocket
    /// launchers 70 km, and the heaviest systems (Tornado-S, Uragan, Smerch MLRS and
    /// Tochka-U missiles) 140 km; the Addendum of 29 September 2015 withdraws tanks,
    /// artillery under 100 mm and mortars up to 120 mm 15 km.
    WeaponClass {
        /// Tube artillery (howitzers, guns, anti-tank guns) of 100 mm and above, and
        /// mortars above 120 mm, below 203 mm.
        Artillery100mmPlus = "artillery_100mm_plus",
        /// Multiple rocket launchers below 203 mm (BM-21 Grad and the like).
        Mlrs = "mlrs",
        /// The heaviest systems: tactical missiles (Tochka-U), MLRS and artillery of
        /// 203 mm and above (Uragan, Smerch, Tornado-S, 2S7 Pion).
        Heavy = "heavy",
        /// Mortars up to 120 mm.
        Mortar = "mortar",
        /// Tanks.
        Tank = "tank",
        /// Small arms and machine guns (below 20 mm).
        SmallArms = "small_arms",
        /// Anything else, or not known: artillery under 100 mm, automatic cannon,
        /// grenade launchers, anti-tank missiles, air defence, unknown weapons.
        Other = "other",
    }
);

/// Where a coverage gap applies.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum GapArea {
    /// Everywhere the source would otherwise see.
    Everywhere,
    /// A circle of `radius_km` around a WGS 84 point.
    Circle { lon: f64, lat: f64, radius_km: f64 },
    /// A longitude/latitude box.
    #[serde(rename = "bbox")]
    BBox { min_lon: f64, min_lat: f64, max_lon: f64, max_lat: f64 },
}

impl GapArea {
    /// Whether the point is inside the area (the circle by great-circle distance on a
    /// 6371 km sphere: a gap's edge is never known to better than that).
    pub fn contains(&self, lon: f64, lat: f64) -> bool {
        match *self {
            GapArea::Everywhere => true,
            GapArea::BBox { min_lon, min_lat, max_lon, max_lat } => {
                lon >= min_lon && lon <= max_lon && lat >= min_lat && lat <= max_lat
            }
            GapArea::Circle { lon: clon, lat: clat, radius_km } => {
                let (p1, p2) = (clat.to_radians(), lat.to_radians());
                let dp = p2 - p1;
                let dl = (lon - clon).to_radians();
                let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
                2.0 * 6371.0088 * a.sqrt().min(1.0).asin() <= radius_km
            }
        }
    }
}

/// A period and area in which a source could not see. Reports show gaps; nothing reads
/// a gap as calm.
///
/// With serde, a gap is one JSON object (a line of a `.gaps.jsonl` file):
/// `{"source":"patrol","reason":"denied_access","start":"2019-07-12T08:10:00Z",
/// "end":"2019-07-12T16:00:00Z","precision":"hour","area":{"type":"circle",...},
/// "note":"...","file_sha256":"...","line":57}`. Times are RFC 3339; `precision` may be
/// left out (then [`TimePrecision::for_length`] of the interval); `note`,
/// `file_sha256` and `line` may be left out (empty, empty, 0). Deserializing checks
/// syntax only: ranges (start before end, coordinates) are checked by the reader that
/// uses it (`truce_ingest::read_gaps`).
#[derive(Debug, Clone, PartialEq)]
pub struct CoverageGap {
    pub source: SourceKind,
    pub reason: GapReason,
    /// When the source could not see, half-open `[start, end)`.
    pub time: TimeSpan,
    pub area: GapArea,
    /// Free text: who restricted access, which sensor, ...
    pub note: String,
    pub provenance: Provenance,
}

/// The wire form of a [`CoverageGap`]: flat, times as RFC 3339 text.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct GapWire {
    source: SourceKind,
    reason: GapReason,
    #[serde(with = "rfc3339")]
    start: DateTime<Utc>,
    #[serde(with = "rfc3339")]
    end: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    precision: Option<TimePrecision>,
    area: GapArea,
    #[serde(default)]
    note: String,
    #[serde(default)]
    file_sha256: String,
    #[serde(default)]
    line: u64,
}

impl serde::Serialize for CoverageGap {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        GapWire {
            source: self.source,
            reason: self.reason,
            start: self.time.start,
            end: self.time.end,
            precision: Some(self.time.precision),
            area: self.area.clone(),
            note: self.note.clone(),
            file_sha256: self.provenance.file_sha256.clone(),
            line: self.provenance.line,
        }
        .serialize(s)
    }
}

impl<'de> serde::Deserialize<'de> for CoverageGap {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let w = GapWire::deserialize(d)?;
        let precision = w.precision.unwrap_or_else(|| TimePrecision::for_length(w.end - w.start));
        Ok(CoverageGap {
            source: w.source,
            reason: w.reason,
            time: TimeSpan { start: w.start, end: w.end, precision },
            area: w.area,
            note: w.note,
            provenance: Provenance { file_sha256: w.file_sha256, line: w.line },
        })
    }
}

/// RFC 3339 text for serde: written in UTC with `Z` (seconds, and fractions only when
/// there are any); read with any offset.
pub mod rfc3339 {
    use chrono::{DateTime, SecondsFormat, Utc};

    pub fn serialize<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
        parse(&s).map_err(serde::de::Error::custom)
    }

    /// Parses RFC 3339 text into UTC; the error names the text (clipped to 40 characters).
    pub fn parse(s: &str) -> Result<DateTime<Utc>, String> {
        DateTime::parse_from_rfc3339(s.trim()).map(|t| t.with_timezone(&Utc)).map_err(|_| {
            let shown: String = s.chars().take(40).collect();
            let more = if s.chars().count() > 40 { "..." } else { "" };
            format!("`{shown}{more}` is not an RFC 3339 time (such as 2019-07-12T19:30:00Z)")
        })
    }
}

named_enum!(
    /// How precisely a source knows when something happened.
    TimePrecision {
        Second = "second",
        Minute = "minute",
        Hour = "hour",
        Day = "day",
        /// Known to within a few days (UCDP `date_prec` 2).
        Days = "days",
        Week = "week",
        Month = "month",
        Year = "year",
    }
);

impl TimePrecision {
    /// The precision of an interval of this length: up to a second is `second`, a
    /// minute `minute`, an hour `hour`, a day `day`, six days `days`, seven days
    /// `week`, 31 days `month`, anything longer `year`.
    pub fn for_length(d: Duration) -> TimePrecision {
        let s = d.num_seconds();
        match s {
            _ if s <= 1 => TimePrecision::Second,
            _ if s <= 60 => TimePrecision::Minute,
            _ if s <= 3_600 => TimePrecision::Hour,
            _ if s <= 86_400 => TimePrecision::Day,
            _ if s <= 6 * 86_400 => TimePrecision::Days,
            _ if s <= 7 * 86_400 => TimePrecision::Week,
            _ if s <= 31 * 86_400 => TimePrecision::Month,
            _ => TimePrecision::Year,
        }
    }
}

named_enum!(
    /// Which side controls the place of an observation on its date.
    Side {
        /// Controlled by the defended party.
        Held = "held",
        /// Occupied by the adversary.
        Occupied = "occupied",
        /// Status unknown or contested (DeepState's grey areas).
        Contested = "contested",
        /// Outside the country.
        Outside = "outside",
        /// No control map covers the observation's date.
        Unknown = "unknown",
    }
);

named_enum!(
    /// How sure truce is that an incident happened, in increasing order: one source
    /// said so; independent sources agree; an analyst confirmed it.
    Confidence {
        SingleSource = "single_source",
        Corroborated = "corroborated",
        Verified = "verified",
    }
);

/// When an observation happened: a half-open interval `[start, end)` and how precisely
/// it is known. An instant is an interval of one unit of its precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeSpan {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub precision: TimePrecision,
}

impl TimeSpan {
    /// The whole UTC day `date`.
    pub fn day(date: NaiveDate) -> Self {
        let start = Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0).expect("midnight exists"));
        TimeSpan { start, end: start + Duration::days(1), precision: TimePrecision::Day }
    }
    /// The minute starting at `start`.
    pub fn minute(start: DateTime<Utc>) -> Self {
        TimeSpan { start, end: start + Duration::minutes(1), precision: TimePrecision::Minute }
    }
    /// The middle of the interval: the best single instant for "which control map applies".
    pub fn midpoint(&self) -> DateTime<Utc> {
        self.start + (self.end - self.start) / 2
    }
}

/// Where an observation came from: the SHA-256 of the original file and the line in it
/// (1-based, counting the header; for GeoJSON the 1-based feature index; for patrol
/// reports the 1-based row index: events and weapon sightings in file order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    pub file_sha256: String,
    pub line: u64,
}

/// One observation, whatever its source.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    /// Stable identifier: the first 16 hex digits of the file hash and the line.
    pub id: String,
    pub source: SourceKind,
    pub time: TimeSpan,
    /// WGS 84 longitude and latitude in degrees.
    pub lon: f64,
    pub lat: f64,
    /// Radius within which the true location lies, in metres.
    pub uncertainty_m: f64,
    pub kind: ObservationKind,
    /// Everything else the source said about this row, as a JSON object.
    pub attributes: String,
    pub provenance: Provenance,
}

/// The stable id of the observation at `line` of the file whose hash is `file_sha256`.
pub fn observation_id(file_sha256: &str, line: u64) -> String {
    format!("{}:{}", &file_sha256[..16.min(file_sha256.len())], line)
}

fn ts_type() -> DataType {
    DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()))
}

/// The Arrow schema of observation batches, in column order.
pub fn observations_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new(col::ID, DataType::Utf8, false),
        Field::new(col::SOURCE, DataType::Utf8, false),
        Field::new(col::TIME_START, ts_type(), false),
        Field::new(col::TIME_END, ts_type(), false),
        Field::new(col::TIME_PRECISION, DataType::Utf8, false),
        Field::new(col::LON, DataType::Float64, false),
        Field::new(col::LAT, DataType::Float64, false),
        Field::new(col::UNCERTAINTY_M, DataType::Float64, false),
        Field::new(col::KIND, DataType::Utf8, false),
        Field::new(col::ATTRIBUTES, DataType::Utf8, false),
        Field::new(col::FILE_SHA256, DataType::Utf8, false),
        Field::new(col::LINE, DataType::UInt64, false),
        Field::new(col::GEOMETRY, DataType::Binary, false),
    ]))
}

/// Little-endian ISO WKB of a 2D point (21 bytes), as GeoParquet's WKB encoding wants.
pub fn wkb_point(lon: f64, lat: f64) -> [u8; 21] {
    let mut b = [0u8; 21];
    b[0] = 1; // little endian
    b[1..5].copy_from_slice(&1u32.to_le_bytes()); // Point
    b[5..13].copy_from_slice(&lon.to_le_bytes());
    b[13..21].copy_from_slice(&lat.to_le_bytes());
    b
}

/// Appends observations to Arrow arrays; [`ObservationBatchBuilder::finish`] yields a
/// batch in [`observations_schema`].
#[derive(Default)]
pub struct ObservationBatchBuilder {
    id: StringBuilder,
    source: StringBuilder,
    time_start: TimestampMillisecondBuilder,
    time_end: TimestampMillisecondBuilder,
    time_precision: StringBuilder,
    lon: Float64Builder,
    lat: Float64Builder,
    uncertainty_m: Float64Builder,
    kind: StringBuilder,
    attributes: StringBuilder,
    file_sha256: StringBuilder,
    line: UInt64Builder,
    geometry: arrow_array::builder::BinaryBuilder,
    len: usize,
}

impl ObservationBatchBuilder {
    /// Appends one observation.
    pub fn push(&mut self, o: &Observation) {
        self.id.append_value(&o.id);
        self.source.append_value(o.source.as_str());
        self.time_start.append_value(o.time.start.timestamp_millis());
        self.time_end.append_value(o.time.end.timestamp_millis());
        self.time_precision.append_value(o.time.precision.as_str());
        self.lon.append_value(o.lon);
        self.lat.append_value(o.lat);
        self.uncertainty_m.append_value(o.uncertainty_m);
        self.kind.append_value(o.kind.as_str());
        self.attributes.append_value(&o.attributes);
        self.file_sha256.append_value(&o.provenance.file_sha256);
        self.line.append_value(o.provenance.line);
        self.geometry.append_value(wkb_point(o.lon, o.lat));
        self.len += 1;
    }

    /// How many observations were pushed since the last `finish`.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when nothing was pushed since the last `finish`.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The batch of everything pushed so far; the builder starts empty again.
    pub fn finish(&mut self) -> RecordBatch {
        let utc: Arc<str> = "UTC".into();
        let cols: Vec<ArrayRef> = vec![
            Arc::new(self.id.finish()),
            Arc::new(self.source.finish()),
            Arc::new(self.time_start.finish().with_timezone(utc.clone())),
            Arc::new(self.time_end.finish().with_timezone(utc)),
            Arc::new(self.time_precision.finish()),
            Arc::new(self.lon.finish()),
            Arc::new(self.lat.finish()),
            Arc::new(self.uncertainty_m.finish()),
            Arc::new(self.kind.finish()),
            Arc::new(self.attributes.finish()),
            Arc::new(self.file_sha256.finish()),
            Arc::new(self.line.finish()),
            Arc::new(self.geometry.finish()),
        ];
        self.len = 0;
        RecordBatch::try_new(observations_schema(), cols).expect("builder columns match the schema")
    }
}

/// Typed, checked access to the columns of an observation batch (or of a wider batch,
/// such as a classified one, that contains them).
pub struct ObservationColumns<'a> {
    pub lon: &'a arrow_array::PrimitiveArray<Float64Type>,
    pub lat: &'a arrow_array::PrimitiveArray<Float64Type>,
    pub time_start: &'a arrow_array::PrimitiveArray<TimestampMillisecondType>,
    pub time_end: &'a arrow_array::PrimitiveArray<TimestampMillisecondType>,
}

fn column<'a>(batch: &'a RecordBatch, name: &'static str) -> Result<&'a ArrayRef, ModelError> {
    batch
        .column_by_name(name)
        .ok_or_else(|| ModelError::Column { column: name, why: "missing".into() })
}

fn typed<'a, T: 'static>(batch: &'a RecordBatch, name: &'static str, what: &str) -> Result<&'a T, ModelError> {
    column(batch, name)?
        .as_any()
        .downcast_ref::<T>()
        .ok_or_else(|| ModelError::Column { column: name, why: format!("expected {what}") })
}

impl<'a> ObservationColumns<'a> {
    /// Borrows the location and time columns of `batch`, checking their types.
    pub fn new(batch: &'a RecordBatch) -> Result<Self, ModelError> {
        Ok(ObservationColumns {
            lon: typed(batch, col::LON, "Float64")?,
            lat: typed(batch, col::LAT, "Float64")?,
            time_start: typed(batch, col::TIME_START, "Timestamp(ms)")?,
            time_end: typed(batch, col::TIME_END, "Timestamp(ms)")?,
        })
    }

    /// The midpoint of row `i`'s time interval, in milliseconds since the epoch.
    pub fn midpoint_ms(&self, i: usize) -> i64 {
        let s = self.time_start.value(i);
        s + (self.time_end.value(i) - s) / 2
    }
}

/// Reads a batch in [`observations_schema`] back into records (for tests and small data;
/// bulk code works on the columns).
pub fn observations_from_batch(batch: &RecordBatch) -> Result<Vec<Observation>, ModelError> {
    let s = |name: &'static str| -> Result<&arrow_array::StringArray, ModelError> {
        column(batch, name)?
            .as_string_opt::<i32>()
            .ok_or_else(|| ModelError::Column { column: name, why: "expected Utf8".into() })
    };
    let id = s(col::ID)?;
    let source = s(col::SOURCE)?;
    let prec = s(col::TIME_PRECISION)?;
    let kind = s(col::KIND)?;
    let attrs = s(col::ATTRIBUTES)?;
    let sha = s(col::FILE_SHA256)?;
    let cols = ObservationColumns::new(batch)?;
    let unc = column(batch, col::UNCERTAINTY_M)?
        .as_primitive_opt::<Float64Type>()
        .ok_or_else(|| ModelError::Column { column: col::UNCERTAINTY_M, why: "expected Float64".into() })?;
    let line = column(batch, col::LINE)?
        .as_primitive_opt::<UInt64Type>()
        .ok_or_else(|| ModelError::Column { column: col::LINE, why: "expected UInt64".into() })?;
    let _: &BinaryArray = typed(batch, col::GEOMETRY, "Binary (WKB)")?;
    let ms = |row: usize, column: &'static str, v: i64| {
        Utc.timestamp_millis_opt(v)
            .single()
            .ok_or_else(|| ModelError::Value { row, column, why: format!("timestamp {v} out of range") })
    };
    let parse = |row: usize, column: &'static str, v: &str| ModelError::Value { row, column, why: v.to_string() };
    (0..batch.num_rows())
        .map(|i| {
            Ok(Observation {
                id: id.value(i).to_string(),
                source: source.value(i).parse().map_err(|e: String| parse(i, col::SOURCE, &e))?,
                time: TimeSpan {
                    start: ms(i, col::TIME_START, cols.time_start.value(i))?,
                    end: ms(i, col::TIME_END, cols.time_end.value(i))?,
                    precision: prec.value(i).parse().map_err(|e: String| parse(i, col::TIME_PRECISION, &e))?,
                },
                lon: cols.lon.value(i),
                lat: cols.lat.value(i),
                uncertainty_m: unc.value(i),
                kind: kind.value(i).parse().map_err(|e: String| parse(i, col::KIND, &e))?,
                attributes: attrs.value(i).to_string(),
                provenance: Provenance { file_sha256: sha.value(i).to_string(), line: line.value(i) },
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_names_round_trip() {
        for k in ObservationKind::ALL {
            assert_eq!(k.as_str().parse::<ObservationKind>().unwrap(), *k);
        }
        for s in Side::ALL {
            assert_eq!(s.as_str().parse::<Side>().unwrap(), *s);
        }
        let err = "blast".parse::<ObservationKind>().unwrap_err();
        assert!(err.contains("blast") && err.contains("explosion"), "{err}");
    }

    #[test]
    fn gap_areas_contain_what_they_should() {
        // Kyiv to Kharkiv is about 410 km on the sphere.
        let c = GapArea::Circle { lon: 30.52, lat: 50.45, radius_km: 400.0 };
        assert!(c.contains(30.52, 50.45));
        assert!(!c.contains(36.23, 49.99));
        let c = GapArea::Circle { lon: 30.52, lat: 50.45, radius_km: 420.0 };
        assert!(c.contains(36.23, 49.99));
        let b = GapArea::BBox { min_lon: 36.0, min_lat: 47.0, max_lon: 39.0, max_lat: 49.0 };
        assert!(b.contains(37.5, 48.0) && !b.contains(35.9, 48.0) && !b.contains(37.5, 49.1));
        assert!(GapArea::Everywhere.contains(0.0, 0.0));
        let json = serde_json::to_string(&b).unwrap();
        assert!(json.starts_with(r#"{"type":"bbox""#), "{json}");
        assert_eq!(serde_json::from_str::<GapArea>(&json).unwrap(), b);
    }

    #[test]
    fn coverage_gaps_round_trip_as_json() {
        let start = Utc.with_ymd_and_hms(2019, 7, 12, 8, 10, 0).unwrap();
        let gap = CoverageGap {
            source: SourceKind::Patrol,
            reason: GapReason::DeniedAccess,
            time: TimeSpan { start, end: start + Duration::hours(2), precision: TimePrecision::Day },
            area: GapArea::Circle { lon: 37.9, lat: 47.1, radius_km: 5.0 },
            note: "checkpoint".into(),
            provenance: Provenance { file_sha256: "ab".repeat(32), line: 57 },
        };
        let json = serde_json::to_string(&gap).unwrap();
        assert!(
            json.starts_with(r#"{"source":"patrol","reason":"denied_access","start":"2019-07-12T08:10:00Z","end":"2019-07-12T10:10:00Z","precision":"day","area":{"type":"circle""#),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<CoverageGap>(&json).unwrap(), gap);
        // Precision, note and provenance may be left out; other offsets are read as UTC.
        let short = r#"{"source":"patrol","reason":"sensor_outage","start":"2019-07-12T10:10:00+02:00","end":"2019-07-12T10:40:00+02:00","area":{"type":"everywhere"}}"#;
        let g: CoverageGap = serde_json::from_str(short).unwrap();
        assert_eq!(g.time.start, start);
        assert_eq!(g.time.precision, TimePrecision::Hour);
        assert_eq!((g.note.as_str(), g.provenance.line), ("", 0));
        let bad = short.replace("2019-07-12T10:10:00+02:00", "12.07.2019");
        let err = serde_json::from_str::<CoverageGap>(&bad).unwrap_err().to_string();
        assert!(err.starts_with("`12.07.2019` is not an RFC 3339 time"), "{err}");
    }

    #[test]
    fn precision_for_length() {
        for (secs, p) in [
            (0, TimePrecision::Second),
            (60, TimePrecision::Minute),
            (61, TimePrecision::Hour),
            (86_400, TimePrecision::Day),
            (86_401, TimePrecision::Days),
            (7 * 86_400, TimePrecision::Week),
            (31 * 86_400, TimePrecision::Month),
            (32 * 86_400, TimePrecision::Year),
        ] {
            assert_eq!(TimePrecision::for_length(Duration::seconds(secs)), p, "{secs} s");
        }
        assert_eq!(serde_json::to_string(&WeaponClass::Artillery100mmPlus).unwrap(), r#""artillery_100mm_plus""#);
        assert_eq!(serde_json::from_str::<WeaponClass>(r#""mlrs""#).unwrap(), WeaponClass::Mlrs);
    }

    #[test]
    fn wkb_point_layout() {
        let b = wkb_point(1.5, -2.0);
        assert_eq!(b[0], 1);
        assert_eq!(u32::from_le_bytes(b[1..5].try_into().unwrap()), 1);
        assert_eq!(f64::from_le_bytes(b[5..13].try_into().unwrap()), 1.5);
        assert_eq!(f64::from_le_bytes(b[13..21].try_into().unwrap()), -2.0);
    }

    #[test]
    fn missing_column_is_named() {
        let batch = RecordBatch::new_empty(Arc::new(Schema::new(vec![Field::new("lon", DataType::Float64, false)])));
        let err = ObservationColumns::new(&batch).err().unwrap().to_string();
        assert_eq!(err, "column `lat`: missing");
    }

    #[test]
    fn timespan_midpoint() {
        let d = NaiveDate::from_ymd_opt(2023, 6, 29).unwrap();
        let t = TimeSpan::day(d);
        assert_eq!(t.midpoint().to_rfc3339(), "2023-06-29T12:00:00+00:00");
    }
}
