//! The planner's tables from a registry: committed, allocated and delivered per
//! country, category or both; share of GDP; heavy weapons in units; a monthly series;
//! the largest pledges; and the anomalies that break the accounting identity
//! `delivered <= allocated <= committed`.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use crate::config::Rates;
use crate::gdp::GdpTable;
use crate::registry::{Category, Record, RecordKind, Registry, WeaponClass};
use crate::{AccountsError, Result};

/// How the main table is grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    /// One row per donor.
    #[default]
    Country,
    /// One row per category (military, financial, humanitarian).
    Category,
    /// One row per donor and category.
    CountryCategory,
}

/// What to compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FigureOptions {
    pub by: GroupBy,
    /// Count only records dated on or after this day (the anomalies still look at the
    /// whole registry).
    pub since: Option<NaiveDate>,
    /// How many of the largest pledges to list.
    pub top: usize,
}

impl Default for FigureOptions {
    fn default() -> Self {
        FigureOptions {
            by: GroupBy::Country,
            since: None,
            top: 10,
        }
    }
}

/// Committed, allocated and delivered value, in millions of the reporting currency.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Totals {
    pub committed_m: f64,
    pub allocated_m: f64,
    pub delivered_m: f64,
}

impl Totals {
    fn add(&mut self, kind: RecordKind, v: f64) {
        match kind {
            RecordKind::Pledge => self.committed_m += v,
            RecordKind::Allocation => self.allocated_m += v,
            RecordKind::Delivery => self.delivered_m += v,
        }
    }

    /// Delivered / committed; `None` when nothing was committed.
    pub fn delivery_ratio(&self) -> Option<f64> {
        (self.committed_m > 0.0).then(|| self.delivered_m / self.committed_m)
    }

    /// Allocated / committed.
    pub fn allocation_ratio(&self) -> Option<f64> {
        (self.committed_m > 0.0).then(|| self.allocated_m / self.committed_m)
    }
}

/// One row of the main table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupRow {
    /// The donor (by country), else `None`.
    pub donor: Option<String>,
    /// The donor's name from the GDP table (its code without one).
    pub name: Option<String>,
    pub category: Option<Category>,
    #[serde(flatten)]
    pub totals: Totals,
    pub delivery_ratio: Option<f64>,
    pub allocation_ratio: Option<f64>,
    /// The donor's GDP in millions of the reporting currency, when the table has it.
    pub gdp_m: Option<f64>,
    /// Committed and delivered as a percentage of GDP.
    pub committed_gdp_pct: Option<f64>,
    pub delivered_gdp_pct: Option<f64>,
    /// Pledges counted, and how many of them rest on an estimate.
    pub pledges: usize,
    pub estimated: usize,
}

/// Heavy weapons in units: one row per class (all donors, `donor` empty), then one per
/// class and donor.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HeavyRow {
    pub class: WeaponClass,
    pub donor: Option<String>,
    pub committed_units: f64,
    pub allocated_units: f64,
    pub delivered_units: f64,
    pub delivery_ratio: Option<f64>,
}

/// One month: value committed, allocated and delivered in it, and cumulated.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MonthRow {
    /// `YYYY-MM`.
    pub month: String,
    pub committed_m: f64,
    pub allocated_m: f64,
    pub delivered_m: f64,
    pub cumulative_committed_m: f64,
    pub cumulative_allocated_m: f64,
    pub cumulative_delivered_m: f64,
}

/// One pledge with what became of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PledgeRow {
    pub id: String,
    pub donor: String,
    pub category: Category,
    pub item: String,
    pub date: NaiveDate,
    #[serde(flatten)]
    pub totals: Totals,
    pub delivery_ratio: Option<f64>,
    pub estimate: bool,
    pub source: String,
}

/// A break of the accounting identity, or a record dated before its pledge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AnomalyKind {
    /// More allocated than committed (value or units).
    AllocatedOverCommitted,
    /// More delivered than allocated (value or units).
    DeliveredOverAllocated,
    /// An allocation or delivery dated before its pledge.
    DatedBeforePledge,
}

/// One anomaly, named by pledge and line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Anomaly {
    pub pledge: String,
    /// The line of the record at fault (the pledge's for a sum).
    pub line: u64,
    pub kind: AnomalyKind,
    pub detail: String,
}

/// Everything `truce pledges` shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    /// The reporting currency; every `_m` figure is in millions of it.
    pub currency: String,
    pub by: GroupBy,
    pub since: Option<NaiveDate>,
    /// The main table, largest commitment first.
    pub groups: Vec<GroupRow>,
    pub total: Totals,
    pub heavy: Vec<HeavyRow>,
    pub months: Vec<MonthRow>,
    /// The largest pledges by committed value.
    pub top: Vec<PledgeRow>,
    pub anomalies: Vec<Anomaly>,
    /// Donors without a GDP row.
    pub no_gdp: Vec<String>,
    /// Share of the committed value that rests on estimates.
    pub estimated_share: Option<f64>,
}

/// Values equal within half a per mille (rounding in published figures).
fn over(a: f64, b: f64) -> bool {
    a > b + 5e-4 * a.abs().max(b.abs()).max(1e-9)
}

fn value(reg: &Registry, rates: &Rates, r: &Record) -> Result<f64> {
    if !r.counts_value(reg) {
        return Ok(0.0);
    }
    rates
        .convert(r.value_m, &r.currency)
        .ok_or_else(|| AccountsError::Field {
            file: reg.file.clone(),
            line: r.line,
            field: "currency".into(),
            why: format!(
                "no exchange rate from {} to {} (add it to [pledges.rates])",
                r.currency, rates.currency
            ),
        })
}

/// Per-pledge sums of value (in the pledge's currency) and units, by kind.
#[derive(Default, Clone, Copy)]
struct Sums {
    value: [f64; 3],
    units: [f64; 3],
    has_units: [bool; 3],
}

fn k(kind: RecordKind) -> usize {
    kind as usize
}

/// The anomalies of a whole registry: per pledge, allocated over committed or
/// delivered over allocated (in value, and in units where both sides give units), and
/// records dated before their pledge.
pub fn anomalies(reg: &Registry) -> Vec<Anomaly> {
    let mut sums: BTreeMap<&str, Sums> = BTreeMap::new();
    let mut out = Vec::new();
    for r in &reg.records {
        let s = sums.entry(r.pledge.as_str()).or_default();
        s.value[k(r.kind)] += r.value_m;
        if let Some(q) = r.quantity {
            s.units[k(r.kind)] += q;
            s.has_units[k(r.kind)] = true;
        }
        if r.kind != RecordKind::Pledge {
            if let Some(p) = reg.pledge(&r.pledge) {
                if r.date < p.date {
                    out.push(Anomaly {
                        pledge: p.id.clone(),
                        line: r.line,
                        kind: AnomalyKind::DatedBeforePledge,
                        detail: format!(
                            "{} `{}` of {} is dated before its pledge of {}",
                            r.kind, r.id, r.date, p.date
                        ),
                    });
                }
            }
        }
    }
    for p in reg.pledges() {
        let s = sums.get(p.id.as_str()).copied().unwrap_or_default();
        let (c, a, d) = (
            k(RecordKind::Pledge),
            k(RecordKind::Allocation),
            k(RecordKind::Delivery),
        );
        let mut check = |hi: usize, lo: usize, kind: AnomalyKind, what: &str, of: &str| {
            if over(s.value[lo], s.value[hi]) {
                out.push(Anomaly {
                    pledge: p.id.clone(),
                    line: p.line,
                    kind,
                    detail: format!(
                        "{what} {} > {of} {} (millions {})",
                        fmt_num(s.value[lo]),
                        fmt_num(s.value[hi]),
                        p.currency
                    ),
                });
            } else if s.has_units[lo] && s.has_units[hi] && over(s.units[lo], s.units[hi]) {
                out.push(Anomaly {
                    pledge: p.id.clone(),
                    line: p.line,
                    kind,
                    detail: format!(
                        "{what} {} > {of} {} units",
                        fmt_num(s.units[lo]),
                        fmt_num(s.units[hi])
                    ),
                });
            }
        };
        check(
            c,
            a,
            AnomalyKind::AllocatedOverCommitted,
            "allocated",
            "committed",
        );
        check(
            a,
            d,
            AnomalyKind::DeliveredOverAllocated,
            "delivered",
            "allocated",
        );
    }
    out.sort_by_key(|x| (x.line, x.kind));
    out
}

fn fmt_num(x: f64) -> String {
    if x == x.round() {
        format!("{x:.0}")
    } else {
        format!("{x:.2}")
    }
}

/// Computes every table. Fails only on a currency without an exchange rate (naming the
/// record's line) or a GDP in a currency without one.
pub fn figures(
    reg: &Registry,
    rates: &Rates,
    gdp: &GdpTable,
    o: &FigureOptions,
) -> Result<Figures> {
    let keep = |r: &Record| o.since.is_none_or(|s| r.date >= s);
    // GDP in millions of the reporting currency.
    let mut gdp_m: BTreeMap<&str, f64> = BTreeMap::new();
    for (c, row) in &gdp.rows {
        let v = rates
            .convert(row.gdp_bn * 1000.0, &row.currency)
            .ok_or_else(|| AccountsError::Field {
                file: gdp.file.clone(),
                line: row.line,
                field: "currency".into(),
                why: format!(
                    "no exchange rate from {} to {} (add it to [pledges.rates])",
                    row.currency, rates.currency
                ),
            })?;
        gdp_m.insert(c.as_str(), v);
    }

    type Key = (Option<String>, Option<Category>);
    let key = |r: &Record| -> Key {
        match o.by {
            GroupBy::Country => (Some(r.donor.clone()), None),
            GroupBy::Category => (None, Some(r.category)),
            GroupBy::CountryCategory => (Some(r.donor.clone()), Some(r.category)),
        }
    };
    let mut groups: BTreeMap<Key, (Totals, usize, usize)> = BTreeMap::new();
    let mut total = Totals::default();
    let mut per_pledge: BTreeMap<&str, Totals> = BTreeMap::new();
    let mut monthly: BTreeMap<(i32, u32), Totals> = BTreeMap::new();
    let mut heavy: BTreeMap<(WeaponClass, Option<String>), [f64; 3]> = BTreeMap::new();
    let mut estimated_value = 0.0;
    for r in reg.records.iter().filter(|r| keep(r)) {
        let v = value(reg, rates, r)?;
        let g = groups.entry(key(r)).or_default();
        g.0.add(r.kind, v);
        if r.kind == RecordKind::Pledge {
            g.1 += 1;
            if r.estimate {
                g.2 += 1;
                estimated_value += v;
            }
        }
        total.add(r.kind, v);
        per_pledge
            .entry(r.pledge.as_str())
            .or_default()
            .add(r.kind, v);
        monthly
            .entry((r.date.year(), r.date.month()))
            .or_default()
            .add(r.kind, v);
        if let (Some(c), Some(q)) = (r.class, r.quantity) {
            for donor in [None, Some(r.donor.clone())] {
                heavy.entry((c, donor)).or_default()[k(r.kind)] += q;
            }
        }
    }

    let mut rows: Vec<GroupRow> = groups
        .into_iter()
        .map(|((donor, category), (t, n, est))| {
            let g = donor.as_deref().and_then(|d| gdp_m.get(d).copied());
            let pct = |x: f64| g.map(|g| 100.0 * x / g);
            GroupRow {
                name: donor.as_deref().map(|d| gdp.name(d).to_string()),
                donor,
                category,
                delivery_ratio: t.delivery_ratio(),
                allocation_ratio: t.allocation_ratio(),
                gdp_m: g,
                committed_gdp_pct: pct(t.committed_m),
                delivered_gdp_pct: pct(t.delivered_m),
                totals: t,
                pledges: n,
                estimated: est,
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        b.totals
            .committed_m
            .total_cmp(&a.totals.committed_m)
            .then_with(|| (&a.donor, a.category).cmp(&(&b.donor, b.category)))
    });

    let mut no_gdp: Vec<String> = reg
        .pledges()
        .filter(|p| !gdp_m.contains_key(p.donor.as_str()))
        .map(|p| p.donor.clone())
        .collect();
    no_gdp.sort();
    no_gdp.dedup();

    let mut top: Vec<PledgeRow> = reg
        .pledges()
        .filter(|p| keep(p) && p.counts_value(reg))
        .map(|p| {
            let t = per_pledge.get(p.id.as_str()).copied().unwrap_or_default();
            PledgeRow {
                id: p.id.clone(),
                donor: p.donor.clone(),
                category: p.category,
                item: p.item.clone(),
                date: p.date,
                delivery_ratio: t.delivery_ratio(),
                totals: t,
                estimate: p.estimate,
                source: p.source.clone(),
            }
        })
        .collect();
    top.sort_by(|a, b| {
        b.totals
            .committed_m
            .total_cmp(&a.totals.committed_m)
            .then_with(|| a.id.cmp(&b.id))
    });
    top.truncate(o.top);

    let mut months = Vec::new();
    if let (Some(first), Some(last)) = (
        monthly.keys().next().copied(),
        monthly.keys().last().copied(),
    ) {
        let mut cum = Totals::default();
        let (mut y, mut m) = first;
        while (y, m) <= last {
            let t = monthly.get(&(y, m)).copied().unwrap_or_default();
            cum.committed_m += t.committed_m;
            cum.allocated_m += t.allocated_m;
            cum.delivered_m += t.delivered_m;
            months.push(MonthRow {
                month: format!("{y:04}-{m:02}"),
                committed_m: t.committed_m,
                allocated_m: t.allocated_m,
                delivered_m: t.delivered_m,
                cumulative_committed_m: cum.committed_m,
                cumulative_allocated_m: cum.allocated_m,
                cumulative_delivered_m: cum.delivered_m,
            });
            (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
        }
    }

    let heavy = heavy
        .into_iter()
        .map(|((class, donor), u)| HeavyRow {
            class,
            donor,
            committed_units: u[0],
            allocated_units: u[1],
            delivered_units: u[2],
            delivery_ratio: (u[0] > 0.0).then(|| u[2] / u[0]),
        })
        .collect();

    Ok(Figures {
        currency: rates.currency.clone(),
        by: o.by,
        since: o.since,
        groups: rows,
        total,
        heavy,
        months,
        top,
        anomalies: anomalies(reg),
        no_gdp,
        estimated_share: (total.committed_m > 0.0).then(|| estimated_value / total.committed_m),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "id,kind,pledge,donor,category,item,class,part_of,quantity,unit_value_m,value_m,currency,date,estimate,source\n";

    fn reg(rows: &str) -> Registry {
        Registry::from_csv("r.csv", format!("{HEAD}{rows}").as_bytes()).unwrap()
    }

    #[test]
    fn groups_currencies_gdp_and_heavy() {
        let r = reg(
            "A,pledge,,US,military,HIMARS,mlrs,,10,5,,USD,2022-06-01,,DoD\n\
             A1,allocation,A,,,,,,10,,,,2022-06-01,,DoD\n\
             A2,delivery,A,,,,,,8,,,,2022-09-15,,DoD\n\
             B,pledge,,DE,financial,Budget,,,,,100,EUR,2022-07-01,yes,BMF\n\
             B1,allocation,B,,,,,,,,60,,2022-08-01,,BMF\n\
             B2,delivery,B,,,,,,,,50,,2022-09-01,,BMF\n",
        );
        let rates = Rates::new("EUR").with("USD", 0.9);
        let gdp = GdpTable::from_csv("g.csv", b"country,name,year,gdp_bn,currency,source\nDE,Germany,2024,4000,EUR,x\nUS,United States,2024,29000,USD,x\n").unwrap();
        let f = figures(&r, &rates, &gdp, &FigureOptions::default()).unwrap();
        assert_eq!(f.groups.len(), 2);
        let de = f
            .groups
            .iter()
            .find(|g| g.donor.as_deref() == Some("DE"))
            .unwrap();
        assert_eq!(
            de.totals,
            Totals {
                committed_m: 100.0,
                allocated_m: 60.0,
                delivered_m: 50.0
            }
        );
        assert_eq!(de.delivery_ratio, Some(0.5));
        assert!((de.committed_gdp_pct.unwrap() - 100.0 * 100.0 / 4_000_000.0).abs() < 1e-12);
        assert_eq!(de.estimated, 1);
        let us = &f.groups[1];
        assert_eq!(us.name.as_deref(), Some("United States"));
        assert!(
            (us.totals.committed_m - 45.0).abs() < 1e-9
                && (us.totals.delivered_m - 36.0).abs() < 1e-9
        );
        assert!((f.total.committed_m - 145.0).abs() < 1e-9);
        assert_eq!(
            f.heavy[0],
            HeavyRow {
                class: WeaponClass::Mlrs,
                donor: None,
                committed_units: 10.0,
                allocated_units: 10.0,
                delivered_units: 8.0,
                delivery_ratio: Some(0.8)
            }
        );
        assert_eq!(f.months.len(), 4);
        assert_eq!(f.months[3].month, "2022-09");
        assert!((f.months[3].cumulative_delivered_m - 86.0).abs() < 1e-9);
        assert_eq!(f.top[0].id, "B");
        assert!(f.anomalies.is_empty());

        let by_cat = figures(
            &r,
            &rates,
            &gdp,
            &FigureOptions {
                by: GroupBy::Category,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(by_cat.groups[0].category, Some(Category::Financial));
        assert_eq!(by_cat.groups[0].committed_gdp_pct, None);
        let since = figures(
            &r,
            &rates,
            &gdp,
            &FigureOptions {
                since: NaiveDate::from_ymd_opt(2022, 8, 1),
                ..Default::default()
            },
        )
        .unwrap();
        assert!(
            (since.total.committed_m).abs() < 1e-9 && (since.total.delivered_m - 86.0).abs() < 1e-9
        );

        let e = figures(
            &r,
            &Rates::new("EUR"),
            &GdpTable::default(),
            &FigureOptions::default(),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "r.csv:2: currency: no exchange rate from USD to EUR (add it to [pledges.rates])"
        );
    }

    #[test]
    fn anomalies_are_named() {
        let r = reg("A,pledge,,PL,military,T-72,tank,,100,,,EUR,2022-06-01,,x\n\
             A1,allocation,A,,,,,,120,,,,2022-05-01,,x\n\
             B,pledge,,PL,financial,Loan,,,,,100,EUR,2022-06-01,,x\n\
             B1,allocation,B,,,,,,,,50,,2022-07-01,,x\n\
             B2,delivery,B,,,,,,,,70,,2022-07-01,,x\n");
        let a = anomalies(&r);
        let kinds: Vec<(u64, AnomalyKind)> = a.iter().map(|x| (x.line, x.kind)).collect();
        assert_eq!(
            kinds,
            vec![
                (2, AnomalyKind::AllocatedOverCommitted),
                (3, AnomalyKind::DatedBeforePledge),
                (4, AnomalyKind::DeliveredOverAllocated)
            ]
        );
        assert_eq!(a[0].detail, "allocated 120 > committed 100 units");
        assert_eq!(a[2].detail, "delivered 70 > allocated 50 (millions EUR)");
    }
}
