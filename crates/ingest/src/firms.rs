//! NASA FIRMS active-fire CSV: the full VIIRS/MODIS format and the
//! `LATITUDE,LONGITUDE,ACQ_DATE` variant. Every row is a [`ObservationKind::Fire`].
//!
//! Required columns: `latitude`, `longitude`, `acq_date` (any case).
//!
//! **Time.** With an `acq_time` column (the full format) a row is the minute
//! `acq_date` + `acq_time`, UTC. `acq_time` is `HHMM` and often loses its leading zeros
//! on the way through a spreadsheet, so `35` is 00:35 and `5` is 00:05; `HH:MM` is
//! accepted too. A row whose `acq_time` is empty, or a file without the column (the
//! lat/lon/date variant), gives the whole UTC day of `acq_date` at day precision.
//! `acq_date` may be in any notation of [`crate::time`].
//!
//! **Uncertainty.** A detection says that a fire lies somewhere in a pixel centred on
//! the reported point, so the radius is the pixel's half-diagonal:
//!
//! `uncertainty_m = 1000 × ½ × √(scan² + track²)`, with `scan` and `track` in km.
//!
//! `scan` and `track` are the pixel's actual size (it grows toward the edge of the
//! swath) and are used when the row gives both. Otherwise the instrument's nominal pixel
//! at nadir is used: VIIRS 0.375 km (radius 265 m), MODIS 1 km (radius 707 m). The
//! instrument is the row's `instrument` column, else what the header implies
//! (`bright_ti4`/`bright_ti5` are VIIRS, `brightness`/`bright_t31` MODIS); when it is
//! still unknown, as in the lat/lon/date variant, which mixes both instruments, the
//! worst case, MODIS, is assumed (707 m). Scan and track outside (0, 10] km are refused.
//!
//! **Attributes.** Every column other than the location and `acq_date`/`acq_time`, with
//! numbers as JSON numbers (so MODIS `confidence` is a number and VIIRS's `n` a string)
//! and empty fields as `null`. The lat/lon/date variant's attributes are `{}`.

use chrono::{NaiveTime, TimeZone, Utc};
use csv::StringRecord;
use truce_model::{Observation, ObservationKind, TimeSpan};

use crate::error::RowError;
use crate::fields::{clip, lat_lon, time_field, AttrColumns, Col};
use crate::table::{HeaderInfo, Mapper};
use crate::{Format, IngestError};

/// VIIRS I-band pixel at nadir, km.
pub const VIIRS_PIXEL_KM: f64 = 0.375;
/// MODIS pixel at nadir, km.
pub const MODIS_PIXEL_KM: f64 = 1.0;
/// Largest plausible `scan` or `track`, km (MODIS reaches 4.8 at the swath edge).
pub const PIXEL_KM_MAX: f64 = 10.0;

/// The radius, in metres, of the circle around a pixel's centre that contains the whole
/// `scan` × `track` km pixel.
pub fn pixel_radius_m(scan_km: f64, track_km: f64) -> f64 {
    1000.0 * 0.5 * scan_km.hypot(track_km)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Instrument {
    Viirs,
    Modis,
    Unknown,
}

impl Instrument {
    fn nominal_radius_m(self) -> f64 {
        match self {
            Instrument::Viirs => pixel_radius_m(VIIRS_PIXEL_KM, VIIRS_PIXEL_KM),
            // Unknown takes the larger pixel: claiming more precision than the data has
            // would be worse than claiming less.
            Instrument::Modis | Instrument::Unknown => pixel_radius_m(MODIS_PIXEL_KM, MODIS_PIXEL_KM),
        }
    }
}

pub(crate) struct Firms {
    lat: Col,
    lon: Col,
    date: Col,
    time: Option<Col>,
    scan: Option<Col>,
    track: Option<Col>,
    instrument: Option<Col>,
    header_instrument: Instrument,
    attrs: AttrColumns,
}

impl Firms {
    pub fn new(info: &HeaderInfo) -> Result<Self, IngestError> {
        let h = info.header;
        let col = |name| info.require(name, Format::Firms).map(|i| Col::new(h, i));
        let opt = |name| h.find(name).map(|i| Col::new(h, i));
        let header_instrument = if h.has("bright_ti4") || h.has("bright_ti5") {
            Instrument::Viirs
        } else if h.has("brightness") || h.has("bright_t31") {
            Instrument::Modis
        } else {
            Instrument::Unknown
        };
        Ok(Firms {
            lat: col("latitude")?,
            lon: col("longitude")?,
            date: col("acq_date")?,
            time: opt("acq_time"),
            scan: opt("scan"),
            track: opt("track"),
            instrument: opt("instrument"),
            header_instrument,
            attrs: AttrColumns::new(h, |n| !matches!(n, "latitude" | "longitude" | "acq_date" | "acq_time")),
        })
    }

    fn instrument(&self, rec: &StringRecord) -> Instrument {
        match self.instrument.as_ref().map(|c| c.get(rec)) {
            Some(v) if v.eq_ignore_ascii_case("viirs") => Instrument::Viirs,
            Some(v) if v.eq_ignore_ascii_case("modis") => Instrument::Modis,
            _ => self.header_instrument,
        }
    }

    /// A pixel dimension, if the row gives one.
    fn pixel_km(rec: &StringRecord, col: &Option<Col>) -> Result<Option<f64>, RowError> {
        let Some(col) = col else { return Ok(None) };
        let text = col.get(rec);
        if text.is_empty() {
            return Ok(None);
        }
        match text.parse::<f64>() {
            Ok(v) if v > 0.0 && v <= PIXEL_KM_MAX => Ok(Some(v)),
            _ => Err(RowError::new(
                &col.name,
                "not a pixel size",
                format!("`{}` is not a pixel size in (0, {PIXEL_KM_MAX}] km", clip(text)),
            )),
        }
    }
}

/// Parses `acq_time`: `HHMM` with leading zeros possibly lost, or `HH:MM`.
fn hhmm(s: &str) -> Option<NaiveTime> {
    let (h, m) = match s.split_once(':') {
        Some((h, m)) if (1..=2).contains(&h.len()) && m.len() == 2 => (h.parse::<u32>().ok()?, m.parse::<u32>().ok()?),
        Some(_) => return None,
        None if (1..=4).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()) => {
            let n: u32 = s.parse().ok()?;
            (n / 100, n % 100)
        }
        None => return None,
    };
    NaiveTime::from_hms_opt(h, m, 0)
}

impl Mapper for Firms {
    fn map(&self, rec: &StringRecord, obs: &mut Observation) -> Result<(), RowError> {
        let (lat, lon) = lat_lon(rec, &self.lat, &self.lon)?;
        let date = time_field(self.date.get(rec), &self.date.name)?;
        let time_text = self.time.as_ref().map_or("", |c| c.get(rec));
        obs.time = match (&self.time, time_text) {
            (Some(col), t) if !t.is_empty() => {
                let clock = hhmm(t).ok_or_else(|| {
                    RowError::new(
                        &col.name,
                        "not a time",
                        format!("`{}` is not an HHMM time of day", clip(t)),
                    )
                })?;
                TimeSpan::minute(Utc.from_utc_datetime(&date.date().and_time(clock)))
            }
            _ => date.span(),
        };
        let scan = Self::pixel_km(rec, &self.scan)?;
        let track = Self::pixel_km(rec, &self.track)?;
        obs.uncertainty_m = match (scan, track) {
            (Some(s), Some(t)) => pixel_radius_m(s, t),
            _ => self.instrument(rec).nominal_radius_m(),
        };
        obs.lat = lat;
        obs.lon = lon;
        obs.kind = ObservationKind::Fire;
        self.attrs.write(rec, &mut obs.attributes);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acq_time() {
        fn check(input: &str, expected: Option<&str>) {
            assert_eq!(
                hhmm(input).map(|t| t.format("%H:%M").to_string()).as_deref(),
                expected,
                "input {input:?}"
            );
        }
        for (input, expected) in [
            ("0035", Some("00:35")),
            ("35", Some("00:35")),
            ("5", Some("00:05")),
            ("135", Some("01:35")),
            ("2359", Some("23:59")),
            ("12:05", Some("12:05")),
            ("2400", None),
            ("0060", None),
            ("00035", None),
            ("-35", None),
            ("12:5", None),
            ("", None),
        ] {
            check(input, expected);
        }
    }

    #[test]
    fn radii() {
        assert_eq!(Instrument::Viirs.nominal_radius_m().round(), 265.0);
        assert_eq!(Instrument::Modis.nominal_radius_m().round(), 707.0);
        assert_eq!(
            Instrument::Unknown.nominal_radius_m(),
            Instrument::Modis.nominal_radius_m()
        );
        assert_eq!(pixel_radius_m(0.6, 0.8), 500.0);
    }
}
