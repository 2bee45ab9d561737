//! ACLED CSV, with the columns of ACLED's public codebook.
//!
//! Required columns: `event_date`, `latitude`, `longitude`, `event_type` (any case).
//!
//! **Time.** `event_date` in any notation of [`crate::time`] (ACLED files are seen with
//! `2022-02-24`, `24 February 2022` and `2/24/2022`). `time_precision` widens it:
//!
//! | `time_precision` | codebook meaning | interval | precision |
//! |---|---|---|---|
//! | 1 | the actual day | that day | day |
//! | 2 | a specific week or weekend | 7 days centred on `event_date`: 3 days before to 3 days after | week |
//! | 3 | a month | the calendar month of `event_date` | month |
//!
//! ACLED puts a week-precise event on a day inside that week; centring the week on it
//! contains the true week whichever day ACLED chose, if ACLED chose the middle. A missing
//! column or empty value is taken as the coarsest code, 3.
//!
//! **Uncertainty.** From `geo_precision`, with the same radii as UCDP's comparable
//! codes (see [`crate::ucdp`]):
//!
//! | `geo_precision` | codebook meaning | radius |
//! |---|---|---|
//! | 1 | the town or place itself | 5 km |
//! | 2 | near a town, or a small area: the nearest town's coordinates | 25 km |
//! | 3 | only a larger region: its capital's coordinates | 150 km |
//!
//! A missing column or empty value is taken as the coarsest code, 3.
//!
//! **Kind.** From `sub_event_type` first, then `event_type` (case-insensitive):
//!
//! | ACLED | kind |
//! |---|---|
//! | Shelling/artillery/missile attack | shelling |
//! | Air/drone strike | strike |
//! | Remote explosive/landmine/IED, Grenade, Suicide bomb | explosion |
//! | event type Battles | armed_clash |
//! | event type Violence against civilians | violence_against_civilians |
//! | event types Protests, Riots | protest |
//! | anything else (Strategic developments, Chemical weapon, ...) | other |
//!
//! **Attributes.** Every column other than the location and `event_date`; numbers as
//! JSON numbers.

use chrono::{Datelike, Days, NaiveDate};
use csv::StringRecord;
use truce_model::{Observation, ObservationKind, TimePrecision, TimeSpan};

use crate::error::RowError;
use crate::fields::{code, lat_lon, AttrColumns, Col};
use crate::table::{HeaderInfo, Mapper};
use crate::ucdp::{date, midnight};
use crate::{Format, IngestError};

/// Radius in metres for each `geo_precision` code, 1 to 3 (the table above).
pub const GEO_PRECISION_RADIUS_M: [f64; 3] = [5_000.0, 25_000.0, 150_000.0];

/// The observation kind of an ACLED event (the table above).
pub fn kind(event_type: &str, sub_event_type: &str) -> ObservationKind {
    let sub = sub_event_type.trim();
    let is = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    if is(sub, "Shelling/artillery/missile attack") {
        return ObservationKind::Shelling;
    }
    if is(sub, "Air/drone strike") {
        return ObservationKind::Strike;
    }
    if is(sub, "Remote explosive/landmine/IED") || is(sub, "Grenade") || is(sub, "Suicide bomb") {
        return ObservationKind::Explosion;
    }
    let t = event_type.trim();
    if is(t, "Battles") {
        ObservationKind::ArmedClash
    } else if is(t, "Violence against civilians") {
        ObservationKind::ViolenceAgainstCivilians
    } else if is(t, "Protests") || is(t, "Riots") {
        ObservationKind::Protest
    } else {
        ObservationKind::Other
    }
}

pub(crate) struct Acled {
    lat: Col,
    lon: Col,
    date: Col,
    event_type: Col,
    sub_event_type: Option<Col>,
    time_precision: Option<Col>,
    geo_precision: Option<Col>,
    attrs: AttrColumns,
}

impl Acled {
    pub fn new(info: &HeaderInfo) -> Result<Self, IngestError> {
        let h = info.header;
        let col = |name| info.require(name, Format::Acled).map(|i| Col::new(h, i));
        let opt = |name| h.find(name).map(|i| Col::new(h, i));
        Ok(Acled {
            lat: col("latitude")?,
            lon: col("longitude")?,
            date: col("event_date")?,
            event_type: col("event_type")?,
            sub_event_type: opt("sub_event_type"),
            time_precision: opt("time_precision"),
            geo_precision: opt("geo_precision"),
            attrs: AttrColumns::new(h, |n| !matches!(n, "latitude" | "longitude" | "event_date")),
        })
    }
}

/// A precision code, or `coarsest` when the column is absent or the field empty.
fn code_or(rec: &StringRecord, col: &Option<Col>, coarsest: u8) -> Result<u8, RowError> {
    match col {
        Some(c) if !c.get(rec).is_empty() => code(rec, c, 1..=coarsest),
        _ => Ok(coarsest),
    }
}

fn span(day: NaiveDate, time_precision: u8) -> Option<TimeSpan> {
    Some(match time_precision {
        1 => TimeSpan::day(day),
        2 => TimeSpan {
            start: midnight(day.checked_sub_days(Days::new(3))?),
            end: midnight(day.checked_add_days(Days::new(4))?),
            precision: TimePrecision::Week,
        },
        _ => {
            let first = day.with_day(1)?;
            TimeSpan {
                start: midnight(first),
                end: midnight(first.checked_add_months(chrono::Months::new(1))?),
                precision: TimePrecision::Month,
            }
        }
    })
}

impl Mapper for Acled {
    fn map(&self, rec: &StringRecord, obs: &mut Observation) -> Result<(), RowError> {
        let (lat, lon) = lat_lon(rec, &self.lat, &self.lon)?;
        let day = date(rec, &self.date)?;
        let tp = code_or(rec, &self.time_precision, 3)?;
        obs.time = span(day, tp).ok_or_else(|| RowError::new(&self.date.name, "out of range", day.to_string()))?;
        obs.uncertainty_m = GEO_PRECISION_RADIUS_M[usize::from(code_or(rec, &self.geo_precision, 3)?) - 1];
        let sub = self.sub_event_type.as_ref().map_or("", |c| c.get(rec));
        obs.kind = kind(self.event_type.get(rec), sub);
        obs.lat = lat;
        obs.lon = lon;
        self.attrs.write(rec, &mut obs.attributes);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        fn check(input: (&str, &str), expected: ObservationKind) {
            assert_eq!(kind(input.0, input.1), expected, "input {input:?}");
        }
        use ObservationKind::*;
        for (input, expected) in [
            (
                ("Explosions/Remote violence", "Shelling/artillery/missile attack"),
                Shelling,
            ),
            (("Explosions/Remote violence", "Air/drone strike"), Strike),
            (
                ("Explosions/Remote violence", "Remote explosive/landmine/IED"),
                Explosion,
            ),
            (("Explosions/Remote violence", "Grenade"), Explosion),
            (("Explosions/Remote violence", "Suicide bomb"), Explosion),
            (("Explosions/Remote violence", "Chemical weapon"), Other),
            (("Battles", "Armed clash"), ArmedClash),
            (("battles ", ""), ArmedClash),
            (("Violence against civilians", "Attack"), ViolenceAgainstCivilians),
            (("Protests", "Peaceful protest"), Protest),
            (("Riots", "Mob violence"), Protest),
            (("Strategic developments", "Looting/property destruction"), Other),
            (("", ""), Other),
        ] {
            check(input, expected);
        }
    }

    #[test]
    fn spans() {
        fn check(day: &str, tp: u8, expected: &str) {
            let d: NaiveDate = day.parse().unwrap();
            let s = span(d, tp).unwrap();
            let got = format!("{} {} {}", s.start.date_naive(), s.end.date_naive(), s.precision);
            assert_eq!(got, expected, "input {day} {tp}");
        }
        check("2022-02-24", 1, "2022-02-24 2022-02-25 day");
        check("2022-02-24", 2, "2022-02-21 2022-02-28 week");
        check("2022-02-24", 3, "2022-02-01 2022-03-01 month");
        check("2022-12-31", 3, "2022-12-01 2023-01-01 month");
    }
}
