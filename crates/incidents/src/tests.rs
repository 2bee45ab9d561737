use super::*;
use proptest::prelude::*;

const H: i64 = 3_600_000;

fn ob(id: &str, src: &str, kind: ObservationKind, t_h: i64, lon: f64, lat: f64, unc_m: f64) -> FusionObs {
    FusionObs {
        id: id.into(),
        source_key: src.into(),
        kind,
        start_ms: t_h * H,
        end_ms: t_h * H + 60_000,
        lon,
        lat,
        uncertainty_m: unc_m,
        received_ms: t_h * H + 2 * H,
        war_fire: false,
        weapon_class: None,
        restricted: false,
    }
}

use ObservationKind::*;

#[test]
fn two_sources_of_one_event_make_one_corroborated_incident() {
    // A satellite fire and a patrol's explosion 1.5 km apart in the same hour; the patrol
    // (5 km radius) is received a day later. A third, unrelated fire 30 km away.
    let mut p = ob("p1", "patrol:t1", Explosion, 100, 37.80, 48.00, 5000.0);
    p.received_ms = 124 * H;
    let obs = vec![
        ob("f1", "firms", Fire, 100, 37.82, 48.00, 375.0),
        p,
        ob("f2", "firms", Fire, 100, 38.20, 48.00, 375.0),
    ];
    let inc = fuse(&obs, &FusionParams::default()).unwrap();
    assert_eq!(inc.len(), 2);
    let a = inc.iter().find(|i| i.member_ids.len() == 2).unwrap();
    assert_eq!(a.id, "I-f1");
    assert_eq!(a.sources, ["firms", "patrol:t1"]);
    assert_eq!(a.kinds, [Fire, Explosion]);
    assert_eq!(a.corroborated_ms, Some(124 * H));
    assert_eq!(a.received_ms, 102 * H);
    // The place is pulled almost onto the precise fire, and the radius is the fire's.
    assert!(sphere_km(a.lon, a.lat, 37.82, 48.0) < 0.1, "{} {}", a.lon, a.lat);
    assert!((a.uncertainty_m - 375.0).abs() < 100.0, "{}", a.uncertainty_m);
    let b = inc.iter().find(|i| i.member_ids.len() == 1).unwrap();
    assert_eq!(b.corroborated_ms, None);
}

#[test]
fn what_must_not_link_does_not() {
    let p = FusionParams::default();
    // Too far apart for their radii.
    let v = vec![ob("a", "x", Shelling, 0, 37.0, 48.0, 500.0), ob("b", "y", Shelling, 0, 37.04, 48.0, 500.0)];
    assert_eq!(fuse(&v, &p).unwrap().len(), 2, "3 km apart, reach 2 km");
    // Same place, three hours apart (slack one hour).
    let v = vec![ob("a", "x", Shelling, 0, 37.0, 48.0, 500.0), ob("b", "y", Shelling, 3, 37.0, 48.0, 500.0)];
    assert_eq!(fuse(&v, &p).unwrap().len(), 2);
    // A protest never corroborates a strike.
    let v = vec![ob("a", "x", Strike, 0, 37.0, 48.0, 500.0), ob("b", "y", Protest, 0, 37.0, 48.0, 500.0)];
    assert_eq!(fuse(&v, &p).unwrap().len(), 2);
    // An event known only to 50 km links with nothing, even on top of another.
    let v = vec![ob("a", "x", Shelling, 0, 37.0, 48.0, 50_000.0), ob("b", "y", Shelling, 0, 37.0, 48.0, 500.0)];
    assert_eq!(fuse(&v, &p).unwrap().len(), 2);
    // ...and one known only to the month, too.
    let mut m = ob("a", "x", Shelling, 0, 37.0, 48.0, 500.0);
    m.end_ms = m.start_ms + 30 * 24 * H;
    assert_eq!(fuse(&[m, ob("b", "y", Shelling, 0, 37.0, 48.0, 500.0)], &p).unwrap().len(), 2);
    // But the same with a one-hour gap and 2.5 h slack links.
    let v = vec![ob("a", "x", Shelling, 0, 37.0, 48.0, 500.0), ob("b", "y", Shelling, 3, 37.0, 48.0, 500.0)];
    let wide = FusionParams { time_slack_min: 181.0, ..p };
    assert_eq!(fuse(&v, &wide).unwrap().len(), 1);
}

#[test]
fn links_chain_and_sources_count_once() {
    // Four fires a few hundred metres apart in a row: one incident, one source.
    let v: Vec<FusionObs> = (0..4).map(|i| ob(&format!("f{i}"), "firms", Fire, 0, 37.0 + 0.01 * i as f64, 48.0, 375.0)).collect();
    let inc = fuse(&v, &FusionParams::default()).unwrap();
    assert_eq!(inc.len(), 1);
    assert_eq!(inc[0].sources, ["firms"]);
    assert_eq!(inc[0].corroborated_ms, None);
    assert!(inc[0].extent_km > 1.0);
}

#[test]
fn a_burning_front_is_cut_into_tiles() {
    // 60 fire pixels 0.5 km apart in a row (30 km), one day: one chain, cut in 15 km tiles.
    let v: Vec<FusionObs> = (0..60).map(|i| ob(&format!("f{i:02}"), "firms", Fire, 0, 37.0 + 0.0067 * i as f64, 48.0, 375.0)).collect();
    let inc = fuse(&v, &FusionParams::default()).unwrap();
    assert_eq!(inc.len(), 2, "{:?}", inc.iter().map(|i| i.member_ids.len()).collect::<Vec<_>>());
    assert!(inc.iter().all(|i| i.extent_km <= 15.0));
    assert_eq!(inc.iter().map(|i| i.member_ids.len()).sum::<usize>(), 60);
    let one = fuse(&v, &FusionParams { max_extent_km: 100.0, ..FusionParams::default() }).unwrap();
    assert_eq!(one.len(), 1);
    // The cut depends on the set only.
    let mut r = v.clone();
    r.reverse();
    let ids = |x: &[Incident]| x.iter().map(|i| i.member_ids.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&fuse(&r, &FusionParams::default()).unwrap()), ids(&inc));
}

#[test]
fn bad_input_is_refused_by_id() {
    let mut o = ob("z", "x", Fire, 0, 37.0, 48.0, 1.0);
    o.lat = f64::NAN;
    assert_eq!(fuse(&[o], &FusionParams::default()).unwrap_err().to_string(), "observation z: place outside WGS 84 range");
    let bad = FusionParams { link_km: -1.0, ..FusionParams::default() };
    assert!(fuse(&[], &bad).is_err());
}

fn dec(inc: &str, v: Verdict, h: i64) -> Decision {
    Decision {
        incident: inc.into(),
        verdict: v,
        reason: "seen on video".into(),
        analyst: "an-1".into(),
        at: DateTime::from_timestamp_millis(h * H).unwrap(),
    }
}

#[test]
fn decisions_set_and_withdraw_confidence() {
    let inc = fuse(&[ob("f1", "firms", Fire, 10, 37.0, 48.0, 375.0)], &FusionParams::default()).unwrap().remove(0);
    let ds = vec![dec("I-f1", Verdict::Confirm, 20), dec("I-f1", Verdict::Reject, 30), dec("I-f1", Verdict::Confirm, 40)];
    let s = Standing::of(&inc, &ds, 15 * H);
    assert_eq!(s.confidence(), Some(Confidence::SingleSource));
    assert_eq!(s.reached(Confidence::Verified), None);
    let s = Standing::of(&inc, &ds, 25 * H);
    assert_eq!((s.confidence(), s.reached(Confidence::Verified)), (Some(Confidence::Verified), Some(20 * H)));
    let s = Standing::of(&inc, &ds, 35 * H);
    assert_eq!(s.confidence(), None);
    assert_eq!(s.reached(Confidence::SingleSource), None);
    assert_eq!(s.reached_ever(Confidence::Verified), Some(20 * H));
    assert_eq!(s.rejected_ms, Some(30 * H));
    let s = Standing::of(&inc, &ds, 45 * H);
    assert_eq!(s.reached(Confidence::Verified), Some(40 * H));
    assert_eq!(s.decisions.len(), 3);
    assert_eq!(s.intervals(Confidence::Verified), [(20 * H, Some(30 * H)), (40 * H, None)]);
    assert_eq!(s.intervals(Confidence::SingleSource), [(12 * H, Some(30 * H)), (40 * H, None)]);
    assert_eq!(s.grade_at(35 * H), None);
    // A decision naming a member that is no longer the earliest still applies.
    let two = fuse(&[ob("f0", "ucdp_ged", Fire, 10, 37.0, 48.0, 375.0), ob("f1", "firms", Fire, 10, 37.0, 48.0, 375.0)], &FusionParams::default())
        .unwrap()
        .remove(0);
    assert_eq!(two.id, "I-f0");
    assert!(names("I-f1", &two));
    assert_eq!(Standing::of(&two, &ds, 25 * H).confidence(), Some(Confidence::Verified));
    assert_eq!(unmatched_decisions(&[dec("I-nope", Verdict::Reject, 1)], &[two]).len(), 1);
}

#[test]
fn decisions_file_errors_name_the_line() {
    let good = serde_json::to_string(&dec("I-f1", Verdict::Confirm, 20)).unwrap();
    let text = format!("{good}\n\n{}\n", good.replace("confirm", "maybe"));
    let e = read_decisions("d.jsonl", text.as_bytes()).unwrap_err().to_string();
    assert!(e.starts_with("d.jsonl:3: unknown variant `maybe`"), "{e}");
    let text = format!("{}\n", good.replace("seen on video", " "));
    let e = read_decisions("d.jsonl", text.as_bytes()).unwrap_err().to_string();
    assert_eq!(e, "d.jsonl:1: reason: empty");
    assert_eq!(read_decisions("d.jsonl", format!("{good}\n{good}").as_bytes()).unwrap().len(), 2);
}

#[test]
fn silent_days_become_gaps() {
    let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let mut days = BTreeMap::new();
    days.insert(SourceKind::Firms, [d("2022-03-01"), d("2022-03-02"), d("2022-03-05"), d("2022-03-06")].into_iter().collect());
    let g = inferred_gaps(&days, d("2022-02-01"), d("2022-04-01"));
    assert_eq!(g.len(), 1);
    assert_eq!(g[0].time.start.date_naive(), d("2022-03-03"));
    assert_eq!(g[0].time.end.date_naive(), d("2022-03-05"));
    assert!(g[0].note.contains("2 day(s)"));
    assert_eq!(gaps_at(&g, 37.0, 48.0, g[0].time.start.timestamp_millis() + 1).count(), 1);
    assert_eq!(gaps_at(&g, 37.0, 48.0, g[0].time.end.timestamp_millis()).count(), 0);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// Fusion depends on the set, not the order, and linked members really are near.
    #[test]
    fn order_does_not_matter(pts in proptest::collection::vec((0.0f64..0.3, 0.0f64..0.3, 0i64..6, 0u8..3, 100.0f64..3000.0), 1..60),
                             rot in 0usize..60) {
        let kinds = [Fire, Shelling, Protest];
        let obs: Vec<FusionObs> = pts.iter().enumerate()
            .map(|(i, &(x, y, t, k, u))| ob(&format!("o{i:03}"), if i % 2 == 0 { "a" } else { "b" }, kinds[k as usize], t, 37.0 + x, 48.0 + y, u))
            .collect();
        // Linkage alone (no cut of wide groups), checked against brute force.
        let p = FusionParams { max_extent_km: 20_000.0, ..FusionParams::default() };
        let a = fuse(&obs, &p).unwrap();
        let mut shuffled = obs.clone();
        shuffled.rotate_left(rot % obs.len());
        shuffled.reverse();
        let b = fuse(&shuffled, &p).unwrap();
        let ids = |v: &[Incident]| v.iter().map(|i| (i.id.clone(), i.member_ids.clone())).collect::<Vec<_>>();
        prop_assert_eq!(ids(&a), ids(&b));
        prop_assert_eq!(a.iter().map(|i| i.member_ids.len()).sum::<usize>(), obs.len());
        // Brute force: every linked pair within one incident; no pair across incidents links.
        let of: HashMap<&str, usize> = a.iter().enumerate().flat_map(|(k, i)| i.member_ids.iter().map(move |m| (m.as_str(), k))).collect();
        for x in &obs {
            for y in &obs {
                let near = family(x.kind) == family(y.kind)
                    && (x.start_ms - y.start_ms).abs() <= H
                    && sphere_km(x.lon, x.lat, y.lon, y.lat) <= (x.uncertainty_m + y.uncertainty_m) / 1000.0 + p.link_km;
                if near {
                    prop_assert_eq!(of[x.id.as_str()], of[y.id.as_str()]);
                }
            }
        }
    }
}
