//! Which side holds the ground of each detection on its date.

use rayon::prelude::*;
use truce_geometry::{ControlMap, Country, GeometryError};
use truce_model::Side;

use crate::grid::Day;

/// The side of each detection (`lon[i]`, `lat[i]` on `day[i]`) by the control snapshot
/// in force at noon UTC of its day: `Occupied` inside the occupied area, `Contested` in
/// DeepState's grey zone, `Held` elsewhere in the country, `Outside` beyond its outline.
///
/// Dates before the first snapshot take the first snapshot (DeepState's archive here
/// starts on 2022-04-03, while the reference uses ISW's polygons from 24 February 2022;
/// the front of early March 2022, north of Kyiv, is therefore missing, see
/// `docs/warfires.md`). `None` when the map is empty.
pub fn sides(
    map: &ControlMap,
    country: &Country,
    lon: &[f64],
    lat: &[f64],
    day: &[Day],
) -> Result<Option<Vec<Side>>, GeometryError> {
    if map.is_empty() {
        return Ok(None);
    }
    let snap_of = |d: Day| {
        map.in_force_ms(d as i64 * 86_400_000 + 43_200_000)
            .unwrap_or(0)
    };
    let mut needed: Vec<usize> = day.iter().map(|&d| snap_of(d)).collect();
    needed.sort_unstable();
    needed.dedup();
    // Derive every needed snapshot once, in parallel.
    let derived: Vec<(usize, std::sync::Arc<truce_geometry::DerivedSnapshot>)> = needed
        .par_iter()
        .map(|&i| map.derived(i, country).map(|s| (i, s)))
        .collect::<Result<_, _>>()?;
    let by_index = |i: usize| &derived[derived.partition_point(|(k, _)| *k < i)].1;
    Ok(Some(
        (0..lon.len())
            .into_par_iter()
            .map(|i| {
                let s = by_index(snap_of(day[i]));
                let (x, y) = (lon[i], lat[i]);
                if s.occupied_index.contains(x, y) {
                    Side::Occupied
                } else if s.contested_index.contains(x, y) {
                    Side::Contested
                } else if country.outline_index.contains(x, y) {
                    Side::Held
                } else {
                    Side::Outside
                }
            })
            .collect(),
    ))
}

/// The reference's split: Russia-held is inside the occupied area; everything else
/// (held, contested, and the few detections just outside the outline whose cell centre is
/// inside) counts as Ukraine-held, as `in_ukraine_held_area` = not inside ISW's
/// assessed-Russian-control polygon.
pub fn russia_held(side: Side) -> bool {
    side == Side::Occupied
}
