//! Each rule of the method in isolation, on small synthetic cases.

use std::collections::HashSet;

use chrono::NaiveDate;
use truce_warfire::*;

fn d0() -> Day {
    day_of(NaiveDate::from_ymd_opt(2022, 3, 1).unwrap())
}

/// Detections: (lon, lat, day offset from 2022-03-01, how many).
fn dets(spec: &[(f64, f64, i32, usize)]) -> (Vec<f64>, Vec<f64>, Vec<Day>) {
    let (mut lon, mut lat, mut day) = (Vec::new(), Vec::new(), Vec::new());
    for &(x, y, d, n) in spec {
        for _ in 0..n {
            lon.push(x);
            lat.push(y);
            day.push(d0() + d);
        }
    }
    (lon, lat, day)
}

/// Runs the detector with a baseline of zero everywhere.
fn run0(
    spec: &[(f64, f64, i32, usize)],
    boxes: &[ExclusionBox],
    p: &Params,
) -> (Vec<Verdict>, DetectStats) {
    let (lon, lat, day) = dets(spec);
    detect(
        &Detections {
            lon: &lon,
            lat: &lat,
            day: &day,
        },
        &|k| vec![0; k.len()],
        &LandMask::All,
        boxes,
        p,
    )
}

fn war_count(v: &[Verdict]) -> usize {
    v.iter().filter(|x| x.war).count()
}

#[test]
fn excess_table() {
    let check = |fire: u32, expected: u32, offset: f64, want: u32| {
        assert_eq!(
            excess(fire, expected, offset),
            want,
            "excess({fire}, {expected}, {offset})"
        );
    };
    check(0, 0, 2.0, 0);
    check(2, 0, 2.0, 0);
    check(3, 0, 2.0, 1);
    check(5, 0, 2.0, 3);
    check(3, 1, 2.0, 0);
    check(10, 3, 2.0, 5);
    check(10, 3, 2.5, 5); // 4.5 rounded up
    check(1, 9, 2.0, 0); // deficits are not negative excess
}

#[test]
fn assignment_is_deterministic_and_exact() {
    let check = |k: usize, e: u32, want_true: usize| {
        let a = assign(k, e, 112_358);
        assert_eq!(a.len(), k);
        assert_eq!(
            a.iter().filter(|&&x| x).count(),
            want_true,
            "assign({k}, {e})"
        );
        assert_eq!(a, assign(k, e, 112_358), "same seed, same draw");
    };
    check(10, 0, 0);
    check(10, 3, 3);
    check(10, 10, 10);
    check(5, 9, 5); // excess beyond the detections: all of them
    check(1, 1, 1);
    // The draw is a fair shuffle: over many seeds each position is picked about e/k of
    // the time.
    let mut hits = [0u32; 4];
    for s in 0..4000u64 {
        for (i, &x) in assign(4, 1, s).iter().enumerate() {
            hits[i] += x as u32;
        }
    }
    assert!(hits.iter().all(|&h| (850..1150).contains(&h)), "{hits:?}");
}

#[test]
fn verdicts_do_not_depend_on_input_order() {
    let spec = [
        (30.0, 50.0, 0, 9),
        (30.0, 50.0, 12, 7),
        (31.0, 49.0, 0, 6),
        (31.0, 49.0, 20, 8),
        (30.05, 50.0, 3, 1),
    ];
    let (a, _) = run0(&spec, &[], &Params::default());
    let mut rev = spec;
    rev.reverse();
    let (b, _) = run0(&rev, &[], &Params::default());
    // Cell-days keep the order of their own detections, so reversing whole groups gives
    // the same verdicts group by group.
    let counts = |v: &[Verdict], spec: &[(f64, f64, i32, usize)]| -> Vec<usize> {
        let mut at = 0;
        let mut out = Vec::new();
        for s in spec {
            out.push(war_count(&v[at..at + s.3]));
            at += s.3;
        }
        out
    };
    let mut cb = counts(&b, &rev);
    cb.reverse();
    assert_eq!(counts(&a, &spec), cb);
}

#[test]
fn median_of_positive_excess() {
    let check = |v: &[u32], want: Option<f64>| {
        assert_eq!(median_positive(v.iter().copied()), want, "{v:?}")
    };
    check(&[], None);
    check(&[0, 0], None);
    check(&[0, 0, 1, 3, 5], Some(3.0));
    check(&[2, 4], Some(3.0));
    check(&[7], Some(7.0));
}

#[test]
fn mass_excess_flags_every_detection_at_or_above_the_median() {
    // Cell-day A: 12 detections, excess 10. Cell-day B (same cell, 20 days later): 5
    // detections, excess 3. Median positive excess over detections: 10.
    let spec = [(30.0, 50.0, 0, 12), (30.0, 50.0, 20, 5)];
    let (v, st) = run0(&spec, &[], &Params::default());
    assert_eq!(st.median_excess, Some(10.0));
    assert_eq!(war_count(&v[..12]), 12, "mass excess takes all 12");
    assert_eq!(war_count(&v[12..]), 3, "below the median: only the 3 drawn");
    let (v, _) = run0(
        &spec,
        &[],
        &Params {
            mass_excess: false,
            ..Params::default()
        },
    );
    assert_eq!(war_count(&v[..12]), 10, "without the rule: the 10 drawn");
}

#[test]
fn sustained_test_edges() {
    let p = Params::default(); // min_len 10: gaps 9..=89
    let check = |days: &[i32], years: usize, p: &Params, want: bool| {
        assert_eq!(sustained(days, years, p), want, "{days:?}");
    };
    check(&[], 1, &p, false);
    check(&[0], 1, &p, false);
    check(&[0, 0, 0], 1, &p, false); // one distinct date
    check(&[0, 8], 1, &p, false); // min_len - 2
    check(&[0, 9], 1, &p, true); // min_len - 1
    check(&[100, 189], 1, &p, true); // 89 days
    check(&[100, 190], 1, &p, false); // 90 days
    check(&[0, 5, 95], 1, &p, false); // 5, 90, 95: none in range
    check(&[0, 5, 94], 1, &p, true); // 89 from 5
    check(&[40, 0, 49], 1, &p, true); // order does not matter
    let p7 = Params {
        min_len_days: 7,
        ..Params::default()
    };
    check(&[0, 6], 1, &p7, true);
    check(&[0, 5], 1, &p7, false);
    // The shortcut alone (no gap can qualify when max_gap < min_len - 1): more than
    // (1 + years) * min_len distinct dates.
    let only_shortcut = Params {
        max_gap_days: 5,
        ..Params::default()
    };
    let run: Vec<i32> = (0..21).collect();
    check(&run, 1, &only_shortcut, true); // 21 > 20
    check(&run[..20], 1, &only_shortcut, false); // 20 is not more than 20
    check(&run, 2, &only_shortcut, false); // 21 <= 30
    check(
        &run,
        1,
        &Params {
            sustained_shortcut: false,
            ..only_shortcut.clone()
        },
        false,
    );
}

#[test]
fn spread_edges_at_49_and_51_km() {
    let p = Params::default();
    let seed = Cell::of(30.0, 50.0, p.cell_deg);
    let (sx, sy) = seed.centre(p.cell_deg);
    // Find grid cells whose centres are 48.5..49.5 km and 50.5..51.5 km from the seed's.
    let find = |lo: f64, hi: f64| -> (Cell, f64) {
        for dx in -8..=8 {
            for dy in -5..=5 {
                let c = Cell {
                    ix: seed.ix + dx,
                    iy: seed.iy + dy,
                };
                let (x, y) = c.centre(p.cell_deg);
                let d = haversine_km(sx, sy, x, y);
                if d > lo && d < hi {
                    return (c, d);
                }
            }
        }
        panic!("no cell at {lo}..{hi} km");
    };
    let (near, dn) = find(48.5, 49.5);
    let (far, df) = find(50.5, 51.5);
    let seeds: HashSet<Cell> = [seed].into();
    let got = spread(&[seed, near, far], &seeds, p.spread_km, p.cell_deg);
    assert!(got.contains(&seed));
    assert!(got.contains(&near), "{dn:.2} km should be inside 50 km");
    assert!(!got.contains(&far), "{df:.2} km should be outside 50 km");
    // Haversine itself: one degree of latitude on the 6378.137 km sphere.
    assert!((haversine_km(30.0, 50.0, 30.0, 51.0) - 111.319).abs() < 0.01);
}

#[test]
fn spread_keeps_or_drops_whole_cells_in_the_detector() {
    // A sustained cell at (30, 50); a one-off burst 4 cells north (44.5 km) and another
    // 5 cells north (55.7 km), each with large excess on one day only.
    let spec = [
        (30.0, 50.0, 0, 10),
        (30.0, 50.0, 30, 10),
        (30.0, 50.4, 5, 10),
        (30.0, 50.5, 5, 10),
    ];
    let (v, st) = run0(&spec, &[], &Params::default());
    assert_eq!(st.cells_sustained_own, 1);
    assert_eq!(war_count(&v[20..30]), 10, "44.5 km: within the spread");
    assert_eq!(war_count(&v[30..40]), 0, "55.7 km: beyond it");
    assert!(v[30..40].iter().all(|x| !x.sustained && x.excess == 8));
}

#[test]
fn carry_forward_reaches_day_10_not_day_11() {
    // War days 0 and 15 make the cell sustained; single detections (no excess of their
    // own) 10 and 11 days after day 15.
    let spec = [
        (30.0, 50.0, 0, 10),
        (30.0, 50.0, 15, 10),
        (30.0, 50.0, 25, 1),
        (30.0, 50.0, 26, 1),
    ];
    let (v, st) = run0(&spec, &[], &Params::default());
    assert_eq!(
        (v[20].excess, v[20].war, v[20].carried),
        (0, true, true),
        "day +10 is carried"
    );
    assert_eq!((v[21].war, v[21].carried), (false, false), "day +11 is not");
    assert!(
        !v[20].restrictive,
        "carried fires are not restrictive war fires"
    );
    assert_eq!(st.carried, 1);
    // Carry-forward does not chain: day +10's carried fire does not carry day +20.
    let spec = [
        (30.0, 50.0, 0, 10),
        (30.0, 50.0, 15, 10),
        (30.0, 50.0, 25, 1),
        (30.0, 50.0, 35, 1),
    ];
    let (v, _) = run0(&spec, &[], &Params::default());
    assert!(v[20].war && !v[21].war);
    let (v, _) = run0(
        &spec,
        &[],
        &Params {
            carry_days: 0,
            ..Params::default()
        },
    );
    assert!(!v[20].war);
}

const BOXES: &str = "lng1,lng2,lat1,lat2,start_date,end_date,note\n\
    29.9,30.1,50.1,49.9,01/03/2022,20/03/2022,marsh fire (lat1 > lat2)\n\
    31.0,31.2,48.0,48.2,01/01/2023,01/06/2025,cement plant\n";

#[test]
fn exclusion_boxes_parse_and_normalise() {
    let b = parse_boxes("boxes.csv", BOXES.as_bytes()).unwrap();
    assert_eq!(b.len(), 2);
    assert_eq!((b[0].lat_min, b[0].lat_max), (49.9, 50.1));
    assert_eq!(
        date_of(b[0].start),
        NaiveDate::from_ymd_opt(2022, 3, 1).unwrap()
    );
    assert_eq!(
        date_of(b[0].end),
        NaiveDate::from_ymd_opt(2022, 3, 20).unwrap()
    );
    let check = |lon: f64, lat: f64, off: i32, want: bool| {
        assert_eq!(
            b[0].contains(lon, lat, d0() + off),
            want,
            "{lon} {lat} +{off}"
        );
    };
    check(30.0, 50.0, 0, true);
    check(29.9, 49.9, 19, true); // corners and last day are inclusive
    check(30.0, 50.0, 20, false); // the day after
    check(30.0, 50.0, -1, false); // the day before
    check(30.2, 50.0, 0, false);
    let err = parse_boxes(
        "boxes.csv",
        b"lng1,lng2,lat1,lat2,start_date,end_date\n1,2,3,4,2022-01-01,01/02/2022\n",
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "boxes.csv:2: start_date: `2022-01-01` is not a dd/mm/yyyy date"
    );
    let err = parse_boxes("b.csv", b"lng1,lng2,lat1,start_date,end_date\n").unwrap_err();
    assert_eq!(err.to_string(), "b.csv:1: lat2: missing column");
}

#[test]
fn exclusion_boxes_zero_fires_and_block_carry_forward() {
    let boxes = parse_boxes("boxes.csv", BOXES.as_bytes()).unwrap();
    // In the box (until 2022-03-20, day 19): a burst on day 5 is no excess; the cell is
    // made sustained by bursts on days 25 and 40 (outside the window)...
    let spec = [
        (30.0, 50.0, 5, 10),
        (30.0, 50.0, 25, 10),
        (30.0, 50.0, 40, 10),
    ];
    let (v, st) = run0(&spec, &boxes, &Params::default());
    assert!(v[..10]
        .iter()
        .all(|x| x.excluded && x.fire_in_window == 0 && x.excess == 0 && !x.war));
    assert_eq!(war_count(&v[10..]), 20);
    assert_eq!(st.excluded_detections, 10);
    // ... and a carry-forward into the box's first days is undone by the second pass.
    // Bursts on days -40, -20 and -5 (before the box's window) make the cell sustained.
    let spec = [
        (30.0, 50.0, -40, 10),
        (30.0, 50.0, -20, 10),
        (30.0, 50.0, -12, 1),
        (30.0, 50.0, -5, 10),
        (30.0, 50.0, 2, 1),
    ];
    let (v, _) = run0(&spec, &boxes, &Params::default());
    assert!(
        v[20].war && v[20].carried,
        "day -12 is carried from day -20"
    );
    assert!(
        v[31].excluded && !v[31].war && !v[31].carried,
        "day 2 is 7 days after day -5, but in the box"
    );
    let (v, _) = run0(&spec, &[], &Params::default());
    assert!(
        v[31].war && v[31].carried,
        "without the box it would be carried"
    );
}

#[test]
fn land_mask_drops_cells() {
    let sea = Cell::of(30.0, 50.0, 0.1);
    let land = LandMask::from_fn([29.0, 49.0, 31.0, 51.0], 0.1, |x, y| {
        Cell::of(x, y, 0.1) != sea
    });
    assert!(!land.contains(sea) && land.contains(Cell::of(30.1, 50.0, 0.1)));
    let (lon, lat, day) = dets(&[(30.0, 50.0, 0, 10), (30.0, 50.0, 20, 10)]);
    let (v, st) = detect(
        &Detections {
            lon: &lon,
            lat: &lat,
            day: &day,
        },
        &|k| vec![0; k.len()],
        &land,
        &[],
        &Params::default(),
    );
    assert!(v.iter().all(|x| !x.land && !x.war));
    assert_eq!(st.land_detections, 0);
}

#[test]
fn baseline_quantile_pools_the_block_and_skips_missing_years() {
    // Baseline: cell A burns 3 a day on day-of-year 60 of 2019 and 2020, nothing else;
    // 2018 has one detection far away, so three years have data.
    let a = (30.0, 50.0);
    let mut lon = vec![a.0; 6];
    let mut lat = vec![a.1; 6];
    let mut day: Vec<Day> = [2019, 2019, 2019, 2020, 2020, 2020]
        .iter()
        .map(|&y| day_of(NaiveDate::from_yo_opt(y, 60).unwrap()))
        .collect();
    lon.push(35.0);
    lat.push(47.0);
    day.push(day_of(NaiveDate::from_yo_opt(2018, 200).unwrap()));
    let det = Detections {
        lon: &lon,
        lat: &lat,
        day: &day,
    };
    let bp = BaselineParams {
        window_days: 0,
        quantile: 0.5,
        block_pool: false,
        recent_days: 0,
        ..BaselineParams::default()
    };
    let b = Baseline::learn(&det, &LandMask::All, 0.1, &bp);
    assert_eq!(b.years(), &[2018, 2019, 2020]);
    let on = |y: i32, doy: u32| day_of(NaiveDate::from_yo_opt(y, doy).unwrap());
    let cell = Cell::of(a.0, a.1, 0.1);
    // Samples on doy 60: [0, 3, 3]: median 3. On doy 61: zeros.
    assert_eq!(b.expected(cell, on(2022, 60)), 3);
    assert_eq!(b.expected(cell, on(2022, 61)), 0);
    // A neighbour in the same 0.5 degree block sees nothing of its own; pooled over 25
    // cells x 3 years, 2 non-zero samples of 75 lie above the 0.97 quantile but not the
    // 0.98 one.
    let nb = Cell {
        ix: cell.ix + 1,
        iy: cell.iy,
    };
    let pooled = |q: f64| {
        Baseline::learn(
            &det,
            &LandMask::All,
            0.1,
            &BaselineParams {
                block_pool: true,
                quantile: q,
                ..bp.clone()
            },
        )
    };
    assert_eq!(pooled(0.97).expected(nb, on(2022, 60)), 0);
    assert_eq!(pooled(0.98).expected(nb, on(2022, 60)), 3);
}
