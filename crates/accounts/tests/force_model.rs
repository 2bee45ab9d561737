//! The force-generation Monte Carlo against what can be worked out by hand: a closed
//! form for the steady single-pipeline case, the binding constraint in scenarios built
//! to make each one bind, and determinism under a seed.

use truce_accounts::*;

/// One national programme, no untrained backlog, no demobilisation: the case with a
/// closed form. `extra` is appended to the `[forces]` table's top-level keys.
fn single_pipeline(intake: &str, capacity: f64, attrition: f64, extra: &str) -> ForceParams {
    let text = format!(
        r#"target = 200000
        start = "2026-01"
        months = 60
        well_trained = 100000
        intake_per_month = {intake}
        attrition_per_month = {attrition}
        {extra}
        [[programmes]]
        name = "national"
        trainees_per_month = {capacity}
        course_weeks = 13
        washout = 0.05"#
    );
    let p: ForceParams = toml::from_str(&text).unwrap();
    p.validate().unwrap();
    p
}

/// Closed form of the steady single pipeline (entries = intake I every month since the
/// seats are never full; a 3-month course; losses a per month):
/// `W_t = W0 (1-a)^(t+1) + g (1 - (1-a)^(t-k+2)) / a` for `t >= k-1`, with
/// `g = I (1 - washout)`, `k = 3`; before that only the losses act.
fn closed_form(w0: f64, intake: f64, washout: f64, a: f64, k: i32, t: i32) -> f64 {
    let keep = 1.0 - a;
    let g = intake * (1.0 - washout);
    let decayed = w0 * keep.powi(t + 1);
    if t < k - 1 {
        decayed
    } else {
        decayed + g * (1.0 - keep.powi(t - k + 2)) / a
    }
}

fn closed_form_reach(target: f64, months: i32) -> Option<u32> {
    (0..months)
        .find(|&t| closed_form(100_000.0, 6_000.0, 0.05, 0.01, 3, t) >= target)
        .map(|t| t as u32 + 1)
}

#[test]
fn zero_variance_equals_the_closed_form() {
    let p = single_pipeline("6000", 20_000.0, 0.01, "");
    let proj = project(
        &p,
        &RunOptions {
            runs: 50,
            seed: 1,
            months: 60,
        },
    )
    .unwrap();
    for (t, m) in proj.months.iter().enumerate() {
        let want = closed_form(100_000.0, 6_000.0, 0.05, 0.01, 3, t as i32);
        for got in [m.p10, m.p50, m.p90, m.deterministic] {
            assert!(
                (got - want).abs() <= 1e-6 * want,
                "month {t}: {got} vs {want}"
            );
        }
    }
    let want = closed_form_reach(200_000.0, 60);
    assert!(
        want.is_some_and(|m| m > 6 && m < 60),
        "the case must reach the target mid-horizon: {want:?}"
    );
    assert_eq!(proj.reach.p50_months, want);
    assert_eq!(proj.reach.p10_months, want);
    assert_eq!(proj.binding, Binding::Recruitment);
}

#[test]
fn monte_carlo_median_matches_the_closed_form_within_one_percent() {
    // Intake uncertain between runs (sd 10 %) and noisy month to month (cv 20 %): the
    // model is linear in the intake, so the runs scatter symmetrically around the
    // closed form and their median must sit on it.
    let p = single_pipeline(
        "{ mean = 6000, sd = 600, month_cv = 0.2 }",
        20_000.0,
        0.01,
        "",
    );
    let proj = project(
        &p,
        &RunOptions {
            runs: 10_000,
            seed: 42,
            months: 60,
        },
    )
    .unwrap();
    let mut worst: f64 = 0.0;
    for (t, m) in proj.months.iter().enumerate() {
        let want = closed_form(100_000.0, 6_000.0, 0.05, 0.01, 3, t as i32);
        let rel = (m.p50 - want).abs() / want;
        worst = worst.max(rel);
        assert!(
            rel < 0.01,
            "month {t}: median {} vs closed form {want} ({:.3} %)",
            m.p50,
            100.0 * rel
        );
        // Before the first cohort graduates (month k - 1 = 2) only the fixed losses act.
        if t >= 2 {
            assert!(
                m.p10 < m.p50 && m.p50 < m.p90,
                "month {t}: bands must be ordered and open"
            );
        }
    }
    // The noise is real: the band is wide where the median is tight.
    let last = proj.months.last().unwrap();
    assert!(
        (last.p90 - last.p10) / last.p50 > 0.05,
        "band {} .. {}",
        last.p10,
        last.p90
    );
    assert!(worst > 0.0);
    let want = closed_form_reach(200_000.0, 60).unwrap() as f64;
    let got = proj.reach.p50_months.unwrap() as f64;
    assert!(
        (got - want).abs() <= 1.0,
        "median month {got} vs closed form {want}"
    );
    assert!(proj.reach.p10_months.unwrap() < proj.reach.p90_months.unwrap());
}

#[test]
fn training_capacity_binds_when_recruits_queue() {
    let p = single_pipeline("30000", 10_000.0, 0.005, "");
    let proj = project(
        &p,
        &RunOptions {
            runs: 500,
            seed: 3,
            months: 60,
        },
    )
    .unwrap();
    assert_eq!(proj.binding, Binding::TrainingCapacity);
    assert_eq!(proj.binding_shares.training_capacity, 1.0);
    assert!(proj.months.iter().all(|m| m.seats_full_share == 1.0));
    assert!(proj
        .months
        .iter()
        .all(|m| (m.entries_p50 - 10_000.0).abs() < 1e-6));
    // More seats help; more recruits do not.
    let o = RunOptions {
        runs: 500,
        seed: 3,
        months: 60,
    };
    let levers = sensitivity(&p, &o, &proj, 0.2).unwrap();
    assert!(levers[0].months_earlier.unwrap() > 0, "{levers:?}");
    assert_eq!(levers[1].months_earlier, Some(0), "{levers:?}");
}

#[test]
fn recruitment_binds_when_seats_stand_empty() {
    let p = single_pipeline("5000", 20_000.0, 0.005, "");
    let proj = project(
        &p,
        &RunOptions {
            runs: 500,
            seed: 3,
            months: 60,
        },
    )
    .unwrap();
    assert_eq!(proj.binding, Binding::Recruitment);
    assert!(proj.months.iter().all(|m| m.seats_full_share == 0.0));
    let o = RunOptions {
        runs: 500,
        seed: 3,
        months: 60,
    };
    let levers = sensitivity(&p, &o, &proj, 0.2).unwrap();
    assert_eq!(
        levers[0].months_earlier,
        Some(0),
        "more seats cannot help: {levers:?}"
    );
    assert!(levers[1].months_earlier.unwrap() > 0, "{levers:?}");
}

#[test]
fn attrition_binds_when_losses_outrun_training() {
    // 6,000 x 0.95 graduates a month against 4 % losses: the strength levels off near
    // 142,500, below the 200,000 target, whatever the horizon.
    let p = single_pipeline("6000", 20_000.0, 0.04, "");
    let proj = project(
        &p,
        &RunOptions {
            runs: 500,
            seed: 3,
            months: 120,
        },
    )
    .unwrap();
    assert_eq!(proj.binding, Binding::Attrition);
    assert_eq!(proj.reach.p50, None);
    assert_eq!(proj.reach.share_reached, 0.0);
    assert_eq!(Reach::label(proj.reach.p50), "not within the horizon");
    let last = proj.months.last().unwrap().p50;
    assert!((last - 142_500.0).abs() / 142_500.0 < 0.01, "{last}");
    // Demobilisation counts as a loss too.
    let p = single_pipeline("6000", 20_000.0, 0.0, "demobilisation_per_month = 7000");
    let proj = project(
        &p,
        &RunOptions {
            runs: 100,
            seed: 3,
            months: 60,
        },
    )
    .unwrap();
    assert_eq!(proj.binding, Binding::Attrition);
}

#[test]
fn deterministic_under_a_seed_on_any_number_of_threads() {
    let p: ForceParams = toml::from_str(
        r#"target = 200000
        start = "2026-01"
        well_trained = { mean = 100000, sd = 10000 }
        untrained = { mean = 20000, sd = 5000 }
        intake_per_month = { mean = 6000, sd = 900, month_cv = 0.3 }
        attrition_per_month = { mean = 0.01, sd = 0.003, month_cv = 0.2 }
        [[programmes]]
        name = "a"
        trainees_per_month = { mean = 5000, sd = 500 }
        course_weeks = 6
        [[programmes]]
        name = "b"
        trainees_per_month = { mean = 2000, sd = 500, month_cv = 0.1 }
        course_weeks = 9.5
        washout = { mean = 0.1, sd = 0.05 }"#,
    )
    .unwrap();
    let o = RunOptions {
        runs: 2_000,
        seed: 7,
        months: 60,
    };
    let a = project(&p, &o).unwrap();
    let b = project(&p, &o).unwrap();
    assert_eq!(a, b);
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let c = one.install(|| project(&p, &o).unwrap());
    assert_eq!(a, c, "one thread or many, the same numbers");
    let d = project(&p, &RunOptions { seed: 8, ..o }).unwrap();
    assert_ne!(a.months, d.months, "another seed, other numbers");
    // The first runs of a longer projection are the same runs: stream i is run i.
    let e = project(
        &p,
        &RunOptions {
            runs: 2_000,
            seed: 7,
            months: 30,
        },
    )
    .unwrap();
    assert_eq!(a.months[..30], e.months[..]);
}

#[test]
fn bad_options_are_refused() {
    let p = single_pipeline("6000", 20_000.0, 0.01, "");
    assert!(project(
        &p,
        &RunOptions {
            runs: 0,
            seed: 1,
            months: 10
        }
    )
    .is_err());
    assert!(project(
        &p,
        &RunOptions {
            runs: 10,
            seed: 1,
            months: MONTHS_MAX + 1
        }
    )
    .is_err());
    assert!(project(
        &p,
        &RunOptions {
            runs: RUNS_MAX,
            seed: 1,
            months: MONTHS_MAX
        }
    )
    .is_err());
}
