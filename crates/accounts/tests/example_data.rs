//! The bundled example (`examples/ukraine-2025.toml` and `examples/pledges/`)
//! read end to end, and the accounting identities on it and on generated registries.

use std::path::{Path, PathBuf};

use truce_accounts::*;

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

fn load() -> (AccountsConfig, Registry, GdpTable) {
    let path = examples().join("ukraine-2025.toml");
    let cfg = read_config(
        "ukraine-2025.toml",
        &std::fs::read_to_string(&path).unwrap(),
    )
    .unwrap();
    let p = cfg.pledges.clone().expect("[pledges]");
    let reg_path = examples().join(&p.registry);
    let reg = Registry::from_csv("registry.csv", &std::fs::read(reg_path).unwrap()).unwrap();
    let gdp_path = examples().join(p.gdp.as_deref().expect("gdp"));
    let gdp = GdpTable::from_csv("gdp.csv", &std::fs::read(gdp_path).unwrap()).unwrap();
    (cfg, reg, gdp)
}

/// delivered <= allocated <= committed, within the rounding tolerance.
fn ordered(t: &Totals) -> bool {
    let tol = 5e-4 * t.committed_m.max(1.0);
    t.delivered_m <= t.allocated_m + tol && t.allocated_m <= t.committed_m + tol
}

#[test]
fn example_registry_reads_and_adds_up() {
    let (cfg, reg, gdp) = load();
    let rates = cfg.pledges.unwrap().rates();
    assert!(reg.pledges().count() >= 25, "a registry worth the name");
    assert!(reg.records.iter().all(|r| !r.source.is_empty()));
    let f = figures(&reg, &rates, &gdp, &FigureOptions::default()).unwrap();
    assert_eq!(f.anomalies, vec![], "the example has no anomaly");
    assert!(
        f.no_gdp.is_empty(),
        "every donor has a GDP row: {:?}",
        f.no_gdp
    );
    // The identity holds for every donor, every category and the whole.
    for by in [
        GroupBy::Country,
        GroupBy::Category,
        GroupBy::CountryCategory,
    ] {
        let f = figures(
            &reg,
            &rates,
            &gdp,
            &FigureOptions {
                by,
                ..Default::default()
            },
        )
        .unwrap();
        for g in &f.groups {
            assert!(
                ordered(&g.totals),
                "{by:?} {:?} {:?}: {:?}",
                g.donor,
                g.category,
                g.totals
            );
        }
        let sum: f64 = f.groups.iter().map(|g| g.totals.committed_m).sum();
        assert!(
            (sum - f.total.committed_m).abs() < 1e-6,
            "groups add up to the total"
        );
    }
    assert!(ordered(&f.total));
    // Worked by hand from the file: EU institutions commit 18,000 + 50,000 + 18,100 +
    // 1,100 = 87,200 million EUR.
    let eu = f
        .groups
        .iter()
        .find(|g| g.donor.as_deref() == Some("EU"))
        .unwrap();
    assert!(
        (eu.totals.committed_m - 87_200.0).abs() < 1e-6,
        "{:?}",
        eu.totals
    );
    // Tanks: 31 Abrams + 18 Leopard 2A6 + 14 Challenger 2 + 250 T-72/PT-91.
    let tanks = f
        .heavy
        .iter()
        .find(|h| h.class == WeaponClass::Tank && h.donor.is_none())
        .unwrap();
    assert_eq!(
        (tanks.committed_units, tanks.delivered_units),
        (313.0, 313.0)
    );
    // Belgium's 30 F-16 are pledged for 2028: nothing allocated or delivered yet.
    let be = f
        .heavy
        .iter()
        .find(|h| h.class == WeaponClass::Aircraft && h.donor.as_deref() == Some("BE"))
        .unwrap();
    assert_eq!(
        (be.committed_units, be.allocated_units, be.delivered_units),
        (30.0, 0.0, 0.0)
    );
    // Share of GDP: Germany's 31,000 million against a GDP of 4,305 billion.
    let de = f
        .groups
        .iter()
        .find(|g| g.donor.as_deref() == Some("DE"))
        .unwrap();
    assert!((de.committed_gdp_pct.unwrap() - 100.0 * 31_000.0 / 4_305_000.0).abs() < 1e-9);
    // The monthly series ends with the cumulative totals.
    let last = f.months.last().unwrap();
    assert!((last.cumulative_committed_m - f.total.committed_m).abs() < 1e-6);
    assert!((last.cumulative_delivered_m - f.total.delivered_m).abs() < 1e-6);
    assert!(f
        .top
        .windows(2)
        .all(|w| w[0].totals.committed_m >= w[1].totals.committed_m));
    let est = f.estimated_share.unwrap();
    assert!(
        est > 0.0 && est < 1.0,
        "some figures are estimates, not all: {est}"
    );
}

#[test]
fn example_diff_names_the_revisions() {
    let (cfg, new, _) = load();
    let old_bytes = std::fs::read(examples().join("pledges/registry-2025-06.csv")).unwrap();
    let old = Registry::from_csv("registry-2025-06.csv", &old_bytes).unwrap();
    let d = diff(&old, &new, &cfg.pledges.unwrap().rates()).unwrap();
    assert!(!d.is_empty());
    // The older version had 18 Dutch F-16 delivered under the same source note: the
    // later 24 is a silent revision.
    let f16 = d
        .changed
        .iter()
        .find(|c| c.id == "NL-F16/d")
        .expect("NL-F16/d revised");
    assert!(f16.silent);
    assert!(f16
        .fields
        .iter()
        .any(|f| f.field == "quantity" && f.old == "18" && f.new == "24"));
    assert!(d.silent_count() >= 1);
}

/// Registries made at random (pledges with allocations and deliveries of random size,
/// some beyond their pledge): every pledge either keeps delivered <= allocated <=
/// committed, in value and in units, or is named as an anomaly of the right kind.
#[test]
fn identity_holds_or_the_anomaly_is_named() {
    let head = "id,kind,pledge,donor,category,item,class,part_of,quantity,unit_value_m,value_m,currency,date,estimate,source\n";
    for seed in 0..40u64 {
        let mut s = Stream::new(seed, 0);
        let mut csv = head.to_string();
        let mut expect_bad = Vec::new();
        for p in 0..20 {
            let units = s.uniform() < 0.5;
            let q = (1.0 + 100.0 * s.uniform()).round();
            let (qty, unit) = if units {
                (format!("{q}"), "2".to_string())
            } else {
                (String::new(), String::new())
            };
            let value = if units { String::new() } else { format!("{q}") };
            csv += &format!(
                "P{p},pledge,,D{},military,item,,,{qty},{unit},{value},EUR,2023-01-01,,s\n",
                p % 3
            );
            // Allocations and deliveries in up to three parts each; a part is sized so
            // the sums land near the pledge, sometimes beyond it.
            let mut alloc = 0.0;
            let mut deliv = 0.0;
            for (kind, total) in [("allocation", &mut alloc), ("delivery", &mut deliv)] {
                let parts = (s.uniform() * 3.0) as usize + 1;
                for k in 0..parts {
                    let x = (q * (0.45 * s.uniform())).round();
                    *total += x;
                    let (qq, vv) = if units {
                        (format!("{x}"), String::new())
                    } else {
                        (String::new(), format!("{x}"))
                    };
                    csv += &format!("P{p}/{kind}{k},{kind},P{p},,,,,,{qq},,{vv},,2023-02-01,,s\n");
                }
            }
            if alloc > q + 1e-9 {
                expect_bad.push((format!("P{p}"), AnomalyKind::AllocatedOverCommitted));
            } else if deliv > alloc + 1e-9 {
                expect_bad.push((format!("P{p}"), AnomalyKind::DeliveredOverAllocated));
            }
            if alloc > q + 1e-9 && deliv > alloc + 1e-9 {
                expect_bad.push((format!("P{p}"), AnomalyKind::DeliveredOverAllocated));
            }
        }
        let reg = Registry::from_csv("gen.csv", csv.as_bytes()).unwrap();
        let mut got: Vec<(String, AnomalyKind)> = anomalies(&reg)
            .into_iter()
            .map(|a| (a.pledge, a.kind))
            .collect();
        got.sort();
        expect_bad.sort();
        assert_eq!(got, expect_bad, "seed {seed}");
        if seed == 0 {
            assert!(!got.is_empty(), "the generator makes some anomalies");
        }
    }
}
