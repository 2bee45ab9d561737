//! GeoJSON points: a FeatureCollection (or a single Feature) whose Point features carry
//! a time property. The "line" of a feature is its 1-based index in `features`.
//!
//! - **Place**: the Point's first two coordinates (longitude, latitude); a third
//!   (altitude) is ignored. A feature with any other geometry, or none, is rejected on
//!   its own; the rest of the file is still read.
//! - **Time**: the first of the properties `time`, `datetime`, `timestamp`, `date`,
//!   `acq_date`, `event_date` that is present and not null. A string is parsed as in
//!   [`crate::time`]; a number is Unix time in seconds, or in milliseconds when its
//!   magnitude is at least 10¹¹ (seconds that large are after the year 5138, so the two
//!   cannot be confused for real data), at second precision.
//! - **Kind**: property `kind`, an [`ObservationKind`] name such as `shelling`
//!   (case-insensitive); `other` when absent.
//! - **Uncertainty**: property `uncertainty_m`, a number of metres (≥ 0); when absent,
//!   [`UNCERTAINTY_M_DEFAULT`].
//! - **Attributes**: every other property, as given (the time property used, `kind`
//!   and `uncertainty_m` are left out, since they have their own columns).

use chrono::{TimeZone, Utc};
use serde_json::{Map, Value};
use truce_model::{Observation, ObservationKind, TimePrecision, TimeSpan};

use crate::error::RowError;
use crate::fields::{check_lat_lon, clip, time_field};
use crate::{IngestError, Ingested, RowHasher, Sink, GEOJSON_BYTES_MAX, GEOJSON_FEATURES_MAX};

/// Property names searched for the time, in order.
pub const TIME_PROPERTIES: [&str; 6] = ["time", "datetime", "timestamp", "date", "acq_date", "event_date"];

/// Uncertainty radius, in metres, of a point that states none: 1 km, the scale of a
/// town, so that an unqualified point is not taken as more precise than a FIRMS pixel.
pub const UNCERTAINTY_M_DEFAULT: f64 = 1_000.0;

/// Numeric times at or above this magnitude are milliseconds, not seconds.
const EPOCH_MS_FROM: f64 = 1e11;

pub(crate) fn read(text: &str, mut sink: Sink) -> Result<Ingested, IngestError> {
    let file = sink.file().to_string();
    let doc_err = |why: String| IngestError::Document {
        file: file.clone(),
        why,
    };
    if text.len() as u64 > GEOJSON_BYTES_MAX {
        return Err(IngestError::Limit {
            file: file.clone(),
            line: None,
            what: "GeoJSON document size".into(),
            limit: "GEOJSON_BYTES_MAX",
            max: GEOJSON_BYTES_MAX,
            found: text.len() as u64,
        });
    }
    // serde_json refuses nesting deeper than 128, so hostile input cannot exhaust the stack.
    let doc: Value = serde_json::from_str(text).map_err(|e| doc_err(format!("not JSON: {e}")))?;
    let Value::Object(mut doc) = doc else {
        return Err(doc_err("not a JSON object".into()));
    };
    let features = match doc.get("type").and_then(Value::as_str) {
        Some("FeatureCollection") => match doc.remove("features") {
            Some(Value::Array(v)) => v,
            _ => return Err(doc_err("a FeatureCollection without a `features` array".into())),
        },
        Some("Feature") => vec![Value::Object(doc)],
        Some(t) => return Err(doc_err(format!("a `{}`, not a Feature or FeatureCollection", clip(t)))),
        None => return Err(doc_err("no `type` member: not GeoJSON".into())),
    };
    if features.len() > GEOJSON_FEATURES_MAX {
        return Err(IngestError::Limit {
            file,
            line: None,
            what: "features".into(),
            limit: "GEOJSON_FEATURES_MAX",
            max: GEOJSON_FEATURES_MAX as u64,
            found: features.len() as u64,
        });
    }
    for (i, f) in features.into_iter().enumerate() {
        let line = i as u64 + 1;
        sink.row(line)?;
        let mut h = RowHasher::new();
        // Writing a `Value` into a hasher cannot fail.
        let _ = serde_json::to_writer(&mut h, &f);
        if sink.duplicate(h.finish()) {
            continue;
        }
        match feature(f, &mut sink.obs) {
            Ok(()) => sink.keep(line),
            Err(e) => sink.reject(line, e)?,
        }
    }
    Ok(sink.finish())
}

fn feature(f: Value, obs: &mut Observation) -> Result<(), RowError> {
    let f: geojson::Feature = serde_json::from_value(f)
        .map_err(|e| RowError::new("feature", "not a GeoJSON feature", clip_long(&e.to_string())))?;
    let geometry = f
        .geometry
        .ok_or_else(|| RowError::new("geometry", "missing", "null or absent"))?;
    let (x, y) = match &geometry.value {
        geojson::GeometryValue::Point { coordinates } => match coordinates.as_slice() {
            [x, y, ..] => (*x, *y),
            _ => {
                return Err(RowError::new(
                    "geometry",
                    "not a point",
                    "a Point with fewer than 2 coordinates",
                ))
            }
        },
        other => {
            return Err(RowError::new(
                "geometry",
                "not a point",
                format!("a {} (only Point features are observations)", other.type_name()),
            ))
        }
    };
    let (lat, lon) = check_lat_lon(y, x, "coordinates[1]", "coordinates[0]")?;
    let mut props = f.properties.unwrap_or_default();
    obs.time = time(&mut props)?;
    obs.kind = match props.remove("kind") {
        None | Some(Value::Null) => ObservationKind::Other,
        Some(Value::String(s)) => s
            .trim()
            .to_ascii_lowercase()
            .parse()
            .map_err(|e: String| RowError::new("properties.kind", "unknown kind", clip_long(&e)))?,
        Some(v) => {
            return Err(RowError::new(
                "properties.kind",
                "unknown kind",
                format!("`{}` is not a string", clip(&v.to_string())),
            ))
        }
    };
    obs.uncertainty_m = match props.remove("uncertainty_m") {
        None | Some(Value::Null) => UNCERTAINTY_M_DEFAULT,
        Some(v) => match number(&v) {
            Some(m) if m.is_finite() && m >= 0.0 => m,
            _ => {
                return Err(RowError::new(
                    "properties.uncertainty_m",
                    "not a distance",
                    format!("`{}` is not a number of metres >= 0", clip(&v.to_string())),
                ))
            }
        },
    };
    obs.lat = lat;
    obs.lon = lon;
    obs.attributes.clear();
    obs.attributes.push_str(&Value::Object(props).to_string());
    Ok(())
}

/// A number, or a string holding one.
fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Takes the time property out of `props` and parses it.
fn time(props: &mut Map<String, Value>) -> Result<TimeSpan, RowError> {
    let Some(key) = TIME_PROPERTIES
        .iter()
        .find(|k| props.get(**k).is_some_and(|v| !v.is_null()))
    else {
        return Err(RowError::new(
            "properties.time",
            "missing",
            format!("none of {} is present", TIME_PROPERTIES.join(", ")),
        ));
    };
    let field = format!("properties.{key}");
    let v = props.remove(*key).unwrap_or(Value::Null);
    match &v {
        Value::String(s) => time_field(s, &field).map(|t| t.span()),
        Value::Number(n) => {
            let bad = || RowError::new(&field, "out of range", format!("{n} is not a Unix time"));
            let secs = n.as_f64().ok_or_else(bad)?;
            let ms = if secs.abs() >= EPOCH_MS_FROM {
                secs
            } else {
                secs * 1000.0
            };
            // Beyond ±8.2e15 ms chrono has no date; the check also keeps `as i64` exact.
            if !ms.is_finite() || ms.abs() > 8.0e15 {
                return Err(bad());
            }
            let start = Utc.timestamp_millis_opt(ms.floor() as i64).single().ok_or_else(bad)?;
            Ok(TimeSpan {
                start,
                end: start + chrono::Duration::seconds(1),
                precision: TimePrecision::Second,
            })
        }
        other => Err(RowError::new(
            &field,
            "not a time",
            format!("`{}` is not a date string or a Unix time", clip(&other.to_string())),
        )),
    }
}

/// At most 200 characters of a library's message.
fn clip_long(s: &str) -> String {
    crate::fields::clip_to(s, 200)
}
