//! The force-generation model and its Monte Carlo.
//!
//! Stocks at the start of month t: `W` well-trained serving, `Q` serving or recruited
//! but not yet well-trained (the queue for training), and the trainees in each
//! programme's pipeline. Within month t, in this order:
//!
//! 1. losses at the front: `W -= a_t W`, `Q -= a_t Q` (trainees are off the front);
//! 2. demobilisation: `W -= D_t` (at most `W`), while it is in force;
//! 3. intake: `Q += R_t`;
//! 4. entries: `E_t = min(Q, sum_p C_p,t)`, shared among the programmes in proportion
//!    to their capacity `C_p,t`; `Q -= E_t`; the seats are *full* when `Q >= sum C`;
//! 5. graduation: a cohort entering programme p at the start of month s finishes
//!    `k_p = course_weeks * 12/52` months later, so in month `s + k_p - 1` for a whole
//!    `k_p`; for a fractional one, the share `k_p - floor(k_p)` finishes a month later
//!    than the rest (the mean delay is exactly `k_p`; a course under a month finishes
//!    in the month it starts). `(1 - washout_p)` of the cohort joins `W`.
//!
//! Each run draws its parameters once (`mean + sd * z`, cut at zero; fractions cut at 1)
//! and then each month's value (`x * max(0, 1 + month_cv * z)`). `W` after month t is
//! the strength reported for that month. See `docs/accounts.md`.

use std::fmt;
use std::str::FromStr;

use rayon::prelude::*;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use crate::rng::Stream;
use crate::{AccountsError, Result};

/// Most Monte Carlo runs.
pub const RUNS_MAX: u32 = 1_000_000;
/// Longest horizon, in months.
pub const MONTHS_MAX: u32 = 600;
/// Most runs x months held at once (each run keeps its monthly path).
pub const RUN_MONTHS_MAX: u64 = 20_000_000;
/// Most training programmes.
pub const PROGRAMMES_MAX: usize = 64;
/// Longest course, in weeks.
pub const COURSE_WEEKS_MAX: f64 = 520.0;

/// A calendar month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct YearMonth {
    pub year: i32,
    /// 1..=12.
    pub month: u32,
}

impl YearMonth {
    /// `n` months later.
    pub fn plus(self, n: u32) -> YearMonth {
        let m0 = self.year as i64 * 12 + (self.month as i64 - 1) + n as i64;
        YearMonth {
            year: m0.div_euclid(12) as i32,
            month: m0.rem_euclid(12) as u32 + 1,
        }
    }

    /// Short label for charts: `Jan 27`.
    pub fn short(self) -> String {
        const M: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        format!(
            "{} {:02}",
            M[(self.month - 1) as usize],
            self.year.rem_euclid(100)
        )
    }
}

impl fmt::Display for YearMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl FromStr for YearMonth {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let bad = || format!("`{s}` is not a month YYYY-MM");
        let (y, m) = s.trim().split_once('-').ok_or_else(bad)?;
        let (year, month): (i32, u32) =
            (y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
        if y.len() != 4 || !(1..=12).contains(&month) {
            return Err(bad());
        }
        Ok(YearMonth { year, month })
    }
}

impl Serialize for YearMonth {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for YearMonth {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(de::Error::custom)
    }
}

/// An uncertain quantity: each run draws `mean + sd * z` (cut at zero), and each month
/// varies around the run's value by the coefficient `month_cv`. In TOML, a plain number
/// (no uncertainty) or `{ mean = .., sd = .., month_cv = .. }`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Dist {
    pub mean: f64,
    /// Standard deviation between runs (what is not known about the value).
    pub sd: f64,
    /// Month-to-month coefficient of variation within a run (how much it fluctuates).
    pub month_cv: f64,
}

impl Dist {
    /// A value without uncertainty.
    pub fn fixed(v: f64) -> Dist {
        Dist {
            mean: v,
            sd: 0.0,
            month_cv: 0.0,
        }
    }

    /// The run's value.
    fn draw(&self, s: &mut Stream) -> f64 {
        if self.sd == 0.0 {
            self.mean
        } else {
            (self.mean + self.sd * s.normal()).max(0.0)
        }
    }

    /// This month's value around the run's value `x`.
    fn month(&self, x: f64, s: &mut Stream) -> f64 {
        if self.month_cv == 0.0 {
            x
        } else {
            x * (1.0 + self.month_cv * s.normal()).max(0.0)
        }
    }

    fn scaled(&self, k: f64) -> Dist {
        Dist {
            mean: self.mean * k,
            sd: self.sd * k,
            month_cv: self.month_cv,
        }
    }

    fn check(&self, key: &str, fraction: bool) -> std::result::Result<(), (String, String)> {
        let bad = |k: &str, why: String| Err((format!("{key}.{k}"), why));
        if !self.mean.is_finite() || self.mean < 0.0 {
            return bad("mean", format!("{} is not a finite number >= 0", self.mean));
        }
        if fraction && self.mean > 1.0 {
            return bad("mean", format!("{} is not a fraction in [0, 1]", self.mean));
        }
        if !self.sd.is_finite() || self.sd < 0.0 {
            return bad("sd", format!("{} is not a finite number >= 0", self.sd));
        }
        if !(0.0..=1.0).contains(&self.month_cv) {
            return bad("month_cv", format!("{} is not in [0, 1]", self.month_cv));
        }
        Ok(())
    }
}

impl<'de> Deserialize<'de> for Dist {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Dist;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number or a table { mean, sd, month_cv }")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<Dist, E> {
                Ok(Dist::fixed(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<Dist, E> {
                Ok(Dist::fixed(v as f64))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<Dist, E> {
                Ok(Dist::fixed(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> std::result::Result<Dist, A::Error> {
                let mut out = Dist::default();
                let mut mean = None;
                while let Some(k) = m.next_key::<String>()? {
                    let v: f64 = m.next_value()?;
                    match k.as_str() {
                        "mean" => mean = Some(v),
                        "sd" => out.sd = v,
                        "month_cv" => out.month_cv = v,
                        other => {
                            return Err(de::Error::unknown_field(
                                other,
                                &["mean", "sd", "month_cv"],
                            ))
                        }
                    }
                }
                out.mean = mean.ok_or_else(|| de::Error::missing_field("mean"))?;
                Ok(out)
            }
        }
        d.deserialize_any(V)
    }
}

/// Who runs a training programme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProgrammeKind {
    /// The defended country's own training centres.
    #[default]
    National,
    /// A partner's mission (the EU's EUMAM Ukraine, the UK-led Interflex, ...).
    Partner,
}

/// One training programme: how many trainees it takes in a month, how long its course
/// lasts, and what share fails it.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Programme {
    pub name: String,
    #[serde(default)]
    pub kind: ProgrammeKind,
    /// Trainees it can take in per month (its throughput; seats = this x course length).
    pub trainees_per_month: Dist,
    /// Course length in weeks.
    pub course_weeks: f64,
    /// Fraction of entrants who do not graduate (they leave the count).
    #[serde(default)]
    pub washout: Dist,
    /// First month (0 = the start month) it takes trainees.
    #[serde(default)]
    pub from_month: u32,
    /// Month from which it takes no more trainees (its mandate ends); none: never.
    #[serde(default)]
    pub until_month: Option<u32>,
}

impl Programme {
    /// Course length in months (weeks x 12/52), snapped to an integer within 1e-9.
    pub fn course_months(&self) -> f64 {
        let k = self.course_weeks * 12.0 / 52.0;
        if (k - k.round()).abs() < 1e-9 {
            k.round()
        } else {
            k
        }
    }

    fn active(&self, t: u32) -> bool {
        t >= self.from_month && self.until_month.is_none_or(|u| t < u)
    }
}

fn default_months() -> u32 {
    60
}
fn default_runs() -> u32 {
    10_000
}
fn default_seed() -> u64 {
    20_251_215
}

/// The force-generation model's parameters: the agreement's `[forces]` table.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ForceParams {
    /// Well-trained strength to reach.
    pub target: f64,
    /// The first month projected.
    pub start: YearMonth,
    /// Horizon in months.
    #[serde(default = "default_months")]
    pub months: u32,
    /// Monte Carlo runs.
    #[serde(default = "default_runs")]
    pub runs: u32,
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Well-trained strength at the start.
    pub well_trained: Dist,
    /// Serving at the start but not well-trained: the first in line for training.
    #[serde(default)]
    pub untrained: Dist,
    /// Recruits and mobilised per month.
    pub intake_per_month: Dist,
    /// Fraction of serving (not training) lost per month: killed, wounded out of
    /// service, missing, captured, deserted.
    pub attrition_per_month: Dist,
    /// Well-trained released per month while demobilisation is in force.
    #[serde(default)]
    pub demobilisation_per_month: Dist,
    /// First month of demobilisation.
    #[serde(default)]
    pub demobilisation_from_month: u32,
    /// How many months it lasts; none: to the horizon.
    #[serde(default)]
    pub demobilisation_months: Option<u32>,
    pub programmes: Vec<Programme>,
}

impl ForceParams {
    /// Checks ranges; the error is (key under `forces`, why).
    pub fn validate(&self) -> std::result::Result<(), (String, String)> {
        if !(self.target.is_finite() && self.target > 0.0) {
            return Err((
                "target".into(),
                format!("{} is not a positive number", self.target),
            ));
        }
        if !(1..=MONTHS_MAX).contains(&self.months) {
            return Err((
                "months".into(),
                format!("{} is not in 1..={MONTHS_MAX}", self.months),
            ));
        }
        if !(1..=RUNS_MAX).contains(&self.runs) {
            return Err((
                "runs".into(),
                format!("{} is not in 1..={RUNS_MAX}", self.runs),
            ));
        }
        self.well_trained.check("well_trained", false)?;
        self.untrained.check("untrained", false)?;
        self.intake_per_month.check("intake_per_month", false)?;
        self.attrition_per_month
            .check("attrition_per_month", true)?;
        self.demobilisation_per_month
            .check("demobilisation_per_month", false)?;
        if self.programmes.is_empty() {
            return Err((
                "programmes".into(),
                "no training programme: add at least one [[forces.programmes]]".into(),
            ));
        }
        if self.programmes.len() > PROGRAMMES_MAX {
            return Err((
                "programmes".into(),
                format!(
                    "{} programmes, more than {PROGRAMMES_MAX}",
                    self.programmes.len()
                ),
            ));
        }
        for (i, p) in self.programmes.iter().enumerate() {
            let k = format!("programmes[{i}]");
            if p.name.trim().is_empty() {
                return Err((format!("{k}.name"), "empty".into()));
            }
            if self.programmes[..i].iter().any(|q| q.name == p.name) {
                return Err((format!("{k}.name"), format!("`{}` is used twice", p.name)));
            }
            p.trainees_per_month
                .check(&format!("{k}.trainees_per_month"), false)?;
            p.washout.check(&format!("{k}.washout"), true)?;
            if !(p.course_weeks > 0.0 && p.course_weeks <= COURSE_WEEKS_MAX) {
                return Err((
                    format!("{k}.course_weeks"),
                    format!("{} is not in (0, {COURSE_WEEKS_MAX}]", p.course_weeks),
                ));
            }
            if let Some(u) = p.until_month {
                if u <= p.from_month {
                    return Err((
                        format!("{k}.until_month"),
                        format!("{u} is not after from_month {}", p.from_month),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The same parameters without any randomness (every `sd` and `month_cv` zero): the
    /// mean-value path.
    pub fn deterministic(&self) -> ForceParams {
        let z = |d: &Dist| Dist::fixed(d.mean);
        let mut p = self.clone();
        p.well_trained = z(&p.well_trained);
        p.untrained = z(&p.untrained);
        p.intake_per_month = z(&p.intake_per_month);
        p.attrition_per_month = z(&p.attrition_per_month);
        p.demobilisation_per_month = z(&p.demobilisation_per_month);
        for g in &mut p.programmes {
            g.trainees_per_month = z(&g.trainees_per_month);
            g.washout = z(&g.washout);
        }
        p
    }
}

/// How many runs, from which seed, over how many months.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RunOptions {
    pub runs: u32,
    pub seed: u64,
    pub months: u32,
}

impl RunOptions {
    /// The agreement's own choice.
    pub fn from_params(p: &ForceParams) -> RunOptions {
        RunOptions {
            runs: p.runs,
            seed: p.seed,
            months: p.months,
        }
    }
}

/// The constraint that binds in a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Binding {
    /// Seats stood empty: too few recruits (and untrained serving) to fill them.
    Recruitment,
    /// Every seat was taken and recruits queued: more seats would go faster.
    TrainingCapacity,
    /// The target is out of reach at this rate of loss: at the target, losses at the
    /// front plus demobilisation would exceed what training delivers.
    Attrition,
}

impl Binding {
    pub fn as_str(self) -> &'static str {
        match self {
            Binding::Recruitment => "recruitment",
            Binding::TrainingCapacity => "training capacity",
            Binding::Attrition => "attrition",
        }
    }
}

impl fmt::Display for Binding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Share of runs in which each constraint binds.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct BindingShares {
    pub recruitment: f64,
    pub training_capacity: f64,
    pub attrition: f64,
}

/// One month of the projection, over the runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MonthBand {
    pub month: YearMonth,
    /// Well-trained strength after this month: 10th, 50th, 90th percentiles, mean.
    pub p10: f64,
    pub p50: f64,
    pub p90: f64,
    pub mean: f64,
    /// The mean-value path (no randomness).
    pub deterministic: f64,
    /// Median total serving (well-trained, queued, in training).
    pub strength_p50: f64,
    /// Median trainees entering a programme this month.
    pub entries_p50: f64,
    /// Share of runs in which every seat was taken this month.
    pub seats_full_share: f64,
}

/// When the target is reached, over the runs: the month of the 10th, 50th and 90th
/// percentile run (`None`: not within the horizon).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reach {
    pub p10: Option<YearMonth>,
    pub p50: Option<YearMonth>,
    pub p90: Option<YearMonth>,
    /// The same, as months after the start (1: the end of the first month).
    pub p10_months: Option<u32>,
    pub p50_months: Option<u32>,
    pub p90_months: Option<u32>,
    /// Share of runs that reach it within the horizon.
    pub share_reached: f64,
    /// The mean-value path's month.
    pub deterministic: Option<YearMonth>,
}

impl Reach {
    /// `2028-07`, or `not within the horizon`.
    pub fn label(m: Option<YearMonth>) -> String {
        m.map_or("not within the horizon".into(), |m| m.to_string())
    }
}

/// The Monte Carlo's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Projection {
    pub target: f64,
    pub start: YearMonth,
    pub options: RunOptions,
    pub months: Vec<MonthBand>,
    pub reach: Reach,
    /// The constraint that binds in most runs.
    pub binding: Binding,
    pub binding_shares: BindingShares,
    /// Total monthly training capacity at the start (mean values).
    pub capacity_per_month: f64,
}

struct RunOut {
    well: Vec<f64>,
    strength: Vec<f64>,
    entries: Vec<f64>,
    full: Vec<bool>,
    reach: Option<u32>,
    binding: Binding,
}

fn run_one(p: &ForceParams, months: u32, seed: u64, index: u64) -> RunOut {
    let mut s = Stream::new(seed, index);
    let n = months as usize;
    // The run's parameters, drawn in a fixed order.
    let mut w = p.well_trained.draw(&mut s);
    let mut q = p.untrained.draw(&mut s);
    let intake = p.intake_per_month.draw(&mut s);
    let attrition = p.attrition_per_month.draw(&mut s).min(1.0);
    let demob = p.demobilisation_per_month.draw(&mut s);
    struct G {
        cap: f64,
        keep: f64,
        k: usize,
        frac: f64,
    }
    let progs: Vec<G> = p
        .programmes
        .iter()
        .map(|g| {
            let cap = g.trainees_per_month.draw(&mut s);
            let keep = 1.0 - g.washout.draw(&mut s).min(1.0);
            let km = g.course_months();
            G {
                cap,
                keep,
                k: km.floor() as usize,
                frac: km - km.floor(),
            }
        })
        .collect();
    let depth = progs.iter().map(|g| g.k + 2).max().unwrap_or(2);
    let (mut graduate, mut leave) = (vec![0.0; n + depth], vec![0.0; n + depth]);
    let mut training = 0.0;
    let mut out = RunOut {
        well: Vec::with_capacity(n),
        strength: Vec::with_capacity(n),
        entries: Vec::with_capacity(n),
        full: Vec::with_capacity(n),
        reach: None,
        binding: Binding::Recruitment,
    };
    let demob_until = p
        .demobilisation_months
        .map_or(u32::MAX, |m| p.demobilisation_from_month.saturating_add(m));
    // For the attrition test: graduates, demobilised and the loss rate over the last year.
    let tail = 12.min(n);
    let (mut tail_grad, mut tail_demob, mut tail_a) = (0.0, 0.0, 0.0);
    let mut caps = vec![0.0; progs.len()];
    for t in 0..months {
        let a = p.attrition_per_month.month(attrition, &mut s).min(1.0);
        w -= a * w;
        q -= a * q;
        let d = if t >= p.demobilisation_from_month && t < demob_until {
            p.demobilisation_per_month.month(demob, &mut s).min(w)
        } else {
            0.0
        };
        w -= d;
        q += p.intake_per_month.month(intake, &mut s);
        let mut total_cap = 0.0;
        for ((g, spec), c) in progs.iter().zip(&p.programmes).zip(caps.iter_mut()) {
            *c = if spec.active(t) {
                spec.trainees_per_month.month(g.cap, &mut s)
            } else {
                0.0
            };
            total_cap += *c;
        }
        let entering = q.min(total_cap);
        let full = total_cap > 0.0 && q >= total_cap;
        q -= entering;
        let t_us = t as usize;
        if entering > 0.0 {
            for (g, c) in progs.iter().zip(&caps) {
                let e = entering * c / total_cap;
                // Entering at the start of month t, a cohort finishes at time t + k:
                // within month t + k - 1 for a whole k; a fractional k splits the cohort
                // between the months around it so that the mean delay is exactly k.
                let (a, b) = (t_us + g.k.saturating_sub(1), t_us + g.k);
                let (early, late) = if g.k == 0 {
                    (1.0, 0.0)
                } else {
                    (1.0 - g.frac, g.frac)
                };
                graduate[a] += e * g.keep * early;
                graduate[b] += e * g.keep * late;
                leave[a] += e * early;
                leave[b] += e * late;
            }
        }
        training += entering - leave[t_us];
        w += graduate[t_us];
        if t_us + tail >= n {
            tail_grad += graduate[t_us];
            tail_demob += d;
            tail_a += a;
        }
        out.well.push(w);
        out.strength.push(w + q + training.max(0.0));
        out.entries.push(entering);
        out.full.push(full);
        if out.reach.is_none() && w >= p.target {
            out.reach = Some(t + 1);
        }
    }
    let considered = out.reach.map_or(n, |r| r as usize);
    let full_months = out.full[..considered].iter().filter(|f| **f).count();
    let by_entries = if 2 * full_months >= considered.max(1) {
        Binding::TrainingCapacity
    } else {
        Binding::Recruitment
    };
    out.binding = match out.reach {
        Some(_) => by_entries,
        None => {
            let (g, d, a) = (
                tail_grad / tail as f64,
                tail_demob / tail as f64,
                tail_a / tail as f64,
            );
            // At the target, the month's losses would be a * target + d.
            if a * p.target + d >= g {
                Binding::Attrition
            } else {
                by_entries
            }
        }
    };
    out
}

/// Nearest-rank percentile of sorted values.
fn pct<T: Copy>(sorted: &[T], q: f64) -> T {
    let n = sorted.len();
    let k = ((q * n as f64).ceil() as usize).clamp(1, n) - 1;
    sorted[k]
}

/// Runs the Monte Carlo. Run `i` uses ChaCha8 stream `i` of `seed`, so the result is
/// the same for any number of threads.
pub fn project(p: &ForceParams, o: &RunOptions) -> Result<Projection> {
    let bad = |key: &str, why: String| AccountsError::Setting {
        at: "projection".into(),
        key: key.into(),
        why,
    };
    p.validate()
        .map_err(|(k, why)| bad(&format!("forces.{k}"), why))?;
    if !(1..=RUNS_MAX).contains(&o.runs) {
        return Err(bad("runs", format!("{} is not in 1..={RUNS_MAX}", o.runs)));
    }
    if !(1..=MONTHS_MAX).contains(&o.months) {
        return Err(bad(
            "months",
            format!("{} is not in 1..={MONTHS_MAX}", o.months),
        ));
    }
    if o.runs as u64 * o.months as u64 > RUN_MONTHS_MAX {
        return Err(bad(
            "runs",
            format!(
                "{} runs x {} months is more than {RUN_MONTHS_MAX}",
                o.runs, o.months
            ),
        ));
    }
    let runs: Vec<RunOut> = (0..o.runs as u64)
        .into_par_iter()
        .map(|i| run_one(p, o.months, o.seed, i))
        .collect();
    let det = run_one(&p.deterministic(), o.months, o.seed, 0);
    let n = o.months as usize;
    let months: Vec<MonthBand> = (0..n)
        .into_par_iter()
        .map(|t| {
            let mut v: Vec<f64> = runs.iter().map(|r| r.well[t]).collect();
            v.sort_by(f64::total_cmp);
            let mut st: Vec<f64> = runs.iter().map(|r| r.strength[t]).collect();
            st.sort_by(f64::total_cmp);
            let mut en: Vec<f64> = runs.iter().map(|r| r.entries[t]).collect();
            en.sort_by(f64::total_cmp);
            MonthBand {
                month: p.start.plus(t as u32),
                p10: pct(&v, 0.10),
                p50: pct(&v, 0.50),
                p90: pct(&v, 0.90),
                mean: v.iter().sum::<f64>() / v.len() as f64,
                deterministic: det.well[t],
                strength_p50: pct(&st, 0.5),
                entries_p50: pct(&en, 0.5),
                seats_full_share: runs.iter().filter(|r| r.full[t]).count() as f64
                    / runs.len() as f64,
            }
        })
        .collect();
    let mut reach: Vec<u32> = runs.iter().map(|r| r.reach.unwrap_or(u32::MAX)).collect();
    reach.sort_unstable();
    let at = |q: f64| Some(pct(&reach, q)).filter(|m| *m != u32::MAX);
    // Month index m (after m months) is the month labelled start + m - 1.
    let label = |m: Option<u32>| m.map(|m| p.start.plus(m - 1));
    let (p10, p50, p90) = (at(0.10), at(0.50), at(0.90));
    let count =
        |b: Binding| runs.iter().filter(|r| r.binding == b).count() as f64 / runs.len() as f64;
    let shares = BindingShares {
        recruitment: count(Binding::Recruitment),
        training_capacity: count(Binding::TrainingCapacity),
        attrition: count(Binding::Attrition),
    };
    let binding = [
        (shares.recruitment, Binding::Recruitment),
        (shares.training_capacity, Binding::TrainingCapacity),
        (shares.attrition, Binding::Attrition),
    ]
    .into_iter()
    .max_by(|a, b| a.0.total_cmp(&b.0))
    .map(|x| x.1)
    .expect("three constraints");
    Ok(Projection {
        target: p.target,
        start: p.start,
        options: *o,
        months,
        reach: Reach {
            p10: label(p10),
            p50: label(p50),
            p90: label(p90),
            p10_months: p10,
            p50_months: p50,
            p90_months: p90,
            share_reached: runs.iter().filter(|r| r.reach.is_some()).count() as f64
                / runs.len() as f64,
            deterministic: label(det.reach),
        },
        binding,
        binding_shares: shares,
        capacity_per_month: p
            .programmes
            .iter()
            .filter(|g| g.active(0))
            .map(|g| g.trainees_per_month.mean)
            .sum(),
    })
}

/// What one lever does to the projection: the same runs (same seed, so the same random
/// numbers) with one parameter changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lever {
    pub lever: String,
    pub reach_p50: Option<YearMonth>,
    /// Months earlier (positive) than the baseline's median; `None` when either median
    /// is beyond the horizon.
    pub months_earlier: Option<i64>,
    /// Median well-trained strength at the horizon.
    pub final_p50: f64,
}

/// The three levers a planner has, each moved by `step` (0.1: 10 %): training capacity
/// up, intake up, attrition down; run against `base` (the projection of `p` with `o`).
pub fn sensitivity(
    p: &ForceParams,
    o: &RunOptions,
    base: &Projection,
    step: f64,
) -> Result<Vec<Lever>> {
    let pctl = (step * 100.0).round();
    let mut cap = p.clone();
    cap.programmes
        .iter_mut()
        .for_each(|g| g.trainees_per_month = g.trainees_per_month.scaled(1.0 + step));
    let mut intake = p.clone();
    intake.intake_per_month = intake.intake_per_month.scaled(1.0 + step);
    let mut attr = p.clone();
    attr.attrition_per_month = attr.attrition_per_month.scaled(1.0 - step);
    let mut out = Vec::new();
    for (name, q) in [
        (format!("training capacity +{pctl} %"), cap),
        (format!("intake +{pctl} %"), intake),
        (format!("attrition -{pctl} %"), attr),
    ] {
        let r = project(&q, o)?;
        out.push(Lever {
            lever: name,
            reach_p50: r.reach.p50,
            months_earlier: match (base.reach.p50_months, r.reach.p50_months) {
                (Some(b), Some(x)) => Some(b as i64 - x as i64),
                _ => None,
            },
            final_p50: r.months.last().map_or(0.0, |m| m.p50),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(toml_text: &str) -> ForceParams {
        let p: ForceParams = toml::from_str(toml_text).unwrap();
        p.validate().unwrap();
        p
    }

    #[test]
    fn year_month() {
        let m: YearMonth = "2026-11".parse().unwrap();
        assert_eq!(m.plus(2).to_string(), "2027-01");
        assert_eq!(m.plus(0), m);
        assert_eq!(m.plus(14).short(), "Jan 28");
        assert!("2026-1x".parse::<YearMonth>().is_err());
        assert!("26-01".parse::<YearMonth>().is_err());
    }

    #[test]
    fn course_months_and_pipeline_timing() {
        // 13 weeks is 3 months exactly: a cohort entering in month 0 graduates in month 2
        // (the third month: January, February, March), washout 10 %.
        let p = params(
            r#"target = 1e9
            start = "2026-01"
            months = 6
            well_trained = 0
            untrained = 1000
            intake_per_month = 0
            attrition_per_month = 0
            [[programmes]]
            name = "a"
            trainees_per_month = 1000
            course_weeks = 13
            washout = 0.1"#,
        );
        assert_eq!(p.programmes[0].course_months(), 3.0);
        let r = run_one(&p, 6, 1, 0);
        assert_eq!(r.well, vec![0.0, 0.0, 900.0, 900.0, 900.0, 900.0]);
        assert_eq!(r.strength, vec![1000.0, 1000.0, 900.0, 900.0, 900.0, 900.0]);
        // 6.5 weeks = 1.5 months: half the cohort after 1 month, half after 2.
        let mut p2 = p.clone();
        p2.programmes[0].course_weeks = 6.5;
        let r = run_one(&p2, 4, 1, 0);
        assert_eq!(r.well, vec![450.0, 900.0, 900.0, 900.0]);
    }

    #[test]
    fn programme_windows() {
        let p = params(
            r#"target = 1e9
            start = "2026-01"
            well_trained = 0
            untrained = 10000
            intake_per_month = 0
            attrition_per_month = 0
            [[programmes]]
            name = "mission"
            trainees_per_month = 100
            course_weeks = 4.333333333333
            from_month = 2
            until_month = 4"#,
        );
        let r = run_one(&p, 6, 1, 0);
        assert_eq!(r.entries, vec![0.0, 0.0, 100.0, 100.0, 0.0, 0.0]);
    }
}
