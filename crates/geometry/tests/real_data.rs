//! The engine on the real shared data (`../shared/data`, beside the repository).
//! Each test prints SKIP and returns when that folder is absent (a user's clone).

use std::path::PathBuf;

use geo::{Distance, Geodesic, Point};
use truce_geometry::*;

fn shared() -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!("SKIP: {} is absent", p.display());
        None
    }
}

fn country(d: &std::path::Path) -> Country {
    let f = d.join("admin/ukraine-oblasts.geojson");
    Country::from_geojson("ukraine-oblasts.geojson", &std::fs::read(f).unwrap()).unwrap()
}

fn line_km(l: &geo::MultiLineString) -> f64 {
    l.0.iter()
        .flat_map(|ls| ls.0.windows(2))
        .map(|w| Geodesic.distance(Point::from(w[0]), Point::from(w[1])) / 1000.0)
        .sum()
}

#[test]
fn contact_line_2023_06_29() {
    let Some(d) = shared() else { return };
    let c = country(&d);
    println!("country repairs: {:?}", c.repairs.iter().map(|r| (&r.what, &r.problem, r.parts)).collect::<Vec<_>>());
    let name = "deepstate_20230629T222605Z_1688077565.geojson";
    let bytes = std::fs::read(d.join("deepstate/raw-layers-monthly-2023-04_to_2025-08").join(name)).unwrap();
    let map = ControlMap::from_files(vec![(name.to_string(), bytes)]).unwrap();
    let s = map.derived(0, &c).unwrap();
    let verts: usize = s.contact_line.0.iter().map(|l| l.0.len()).sum();
    println!(
        "parts {} vertices {} km {:.1} slivers {} repairs {}",
        s.contact_line.0.len(),
        verts,
        line_km(&s.contact_line),
        s.slivers_closed,
        s.repairs.len()
    );
}
