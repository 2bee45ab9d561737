//! UCDP Georeferenced Event Dataset (GED) CSV.
//!
//! Required columns: `latitude`, `longitude`, `date_start`, `date_end`, `date_prec`,
//! `where_prec`, `type_of_violence`.
//!
//! **Time.** The interval is `[date_start, date_end + 1 day)`, UTC days: an event
//! dated 2014-08-12 to 2014-08-13 may have happened at any moment of both days. Its
//! precision is the codebook's `date_prec`:
//!
//! | `date_prec` | codebook meaning | precision |
//! |---|---|---|
//! | 1 | exact day | day |
//! | 2 | within 2–6 days | days |
//! | 3 | within a week | week |
//! | 4 | within a month | month |
//! | 5 | more than a month, within a year | year |
//!
//! A `date_end` before `date_start` is refused.
//!
//! **Uncertainty.** `where_prec` says what the coordinates stand for; the radius is
//! this crate's choice, made to contain the place meant, sized for Ukraine-like units
//! and rounded up:
//!
//! | `where_prec` | codebook meaning | radius | why |
//! |---|---|---|---|
//! | 1 | exact location (a village, a town) | 5 km | a town's extent around its coordinates |
//! | 2 | within about 25 km of a known point | 25 km | the codebook's own figure |
//! | 3 | a second-order admin unit (district) | 50 km | a raion is up to ~4,500 km², ~40 km in radius |
//! | 4 | a first-order admin unit (province) | 150 km | an oblast spans up to ~300 km |
//! | 5 | a linear feature (road, river, border) or an estimate | 200 km | a feature's stretch, or a region larger than a province |
//! | 6 | the country | 1,000 km | Ukraine spans ~1,300 km from west to east |
//! | 7 | international waters or airspace | 500 km | a sea or air route near the coast |
//!
//! **Kind.** `type_of_violence` 1 (state-based) and 2 (non-state) are
//! [`ObservationKind::ArmedClash`]; 3 (one-sided) is
//! [`ObservationKind::ViolenceAgainstCivilians`].
//!
//! **Attributes.** `id`, `relid`, `type_of_violence`, `conflict_name`, `side_a`,
//! `side_b`, `best`, `low`, `high`, `deaths_civilians`, `where_prec`,
//! `where_coordinates`, `where_description`, `adm_1`, `adm_2`, `date_prec`, where
//! present; numbers as JSON numbers.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use csv::StringRecord;
use truce_model::{Observation, ObservationKind, TimePrecision, TimeSpan};

use crate::error::RowError;
use crate::fields::{code, lat_lon, time_field, AttrColumns, Col};
use crate::table::{HeaderInfo, Mapper};
use crate::{Format, IngestError};

/// Radius in metres for each `where_prec` code, 1 to 7 (the table above).
pub const WHERE_PREC_RADIUS_M: [f64; 7] = [
    5_000.0,
    25_000.0,
    50_000.0,
    150_000.0,
    200_000.0,
    1_000_000.0,
    500_000.0,
];

/// The time precision of each `date_prec` code, 1 to 5.
pub const DATE_PREC: [TimePrecision; 5] = [
    TimePrecision::Day,
    TimePrecision::Days,
    TimePrecision::Week,
    TimePrecision::Month,
    TimePrecision::Year,
];

const KEPT: &[&str] = &[
    "id",
    "relid",
    "type_of_violence",
    "conflict_name",
    "side_a",
    "side_b",
    "best",
    "low",
    "high",
    "deaths_civilians",
    "where_prec",
    "where_coordinates",
    "where_description",
    "adm_1",
    "adm_2",
    "date_prec",
];

pub(crate) struct Ucdp {
    lat: Col,
    lon: Col,
    start: Col,
    end: Col,
    date_prec: Col,
    where_prec: Col,
    violence: Col,
    attrs: AttrColumns,
}

impl Ucdp {
    pub fn new(info: &HeaderInfo) -> Result<Self, IngestError> {
        let h = info.header;
        let col = |name| info.require(name, Format::UcdpGed).map(|i| Col::new(h, i));
        Ok(Ucdp {
            lat: col("latitude")?,
            lon: col("longitude")?,
            start: col("date_start")?,
            end: col("date_end")?,
            date_prec: col("date_prec")?,
            where_prec: col("where_prec")?,
            violence: col("type_of_violence")?,
            attrs: AttrColumns::new(h, |n| KEPT.contains(&n)),
        })
    }
}

pub(crate) fn date(rec: &StringRecord, col: &Col) -> Result<NaiveDate, RowError> {
    time_field(col.get(rec), &col.name).map(|t| t.date())
}

pub(crate) fn midnight(d: NaiveDate) -> chrono::DateTime<Utc> {
    Utc.from_utc_datetime(&NaiveDateTime::new(d, NaiveTime::MIN))
}

impl Mapper for Ucdp {
    fn map(&self, rec: &StringRecord, obs: &mut Observation) -> Result<(), RowError> {
        let (lat, lon) = lat_lon(rec, &self.lat, &self.lon)?;
        obs.kind = match code(rec, &self.violence, 1..=3)? {
            3 => ObservationKind::ViolenceAgainstCivilians,
            _ => ObservationKind::ArmedClash,
        };
        obs.uncertainty_m = WHERE_PREC_RADIUS_M[usize::from(code(rec, &self.where_prec, 1..=7)?) - 1];
        let precision = DATE_PREC[usize::from(code(rec, &self.date_prec, 1..=5)?) - 1];
        let start = date(rec, &self.start)?;
        let end = date(rec, &self.end)?;
        if end < start {
            return Err(RowError::new(
                &self.end.name,
                "before start",
                format!("{end} is before {} {start}", self.start.name),
            ));
        }
        let after = end
            .succ_opt()
            .ok_or_else(|| RowError::new(&self.end.name, "out of range", end.to_string()))?;
        obs.time = TimeSpan {
            start: midnight(start),
            end: midnight(after),
            precision,
        };
        obs.lat = lat;
        obs.lon = lon;
        self.attrs.write(rec, &mut obs.attributes);
        Ok(())
    }
}
