//! What changed between two versions of a registry: records added, removed and revised
//! (field by field), and the totals per donor before and after. Existing trackers revise
//! past figures without saying so; the diff names every such revision, and marks as
//! *silent* a revision whose source note did not change and an addition dated on or
//! before the old version's latest record (a back-dated entry).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::config::Rates;
use crate::figures::Totals;
use crate::registry::{Record, RecordKind, Registry};
use crate::{AccountsError, Result};

/// One field that changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    pub field: String,
    pub old: String,
    pub new: String,
}

/// A record present in both versions with different content.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordChange {
    pub id: String,
    pub kind: RecordKind,
    pub donor: String,
    pub old_line: u64,
    pub new_line: u64,
    pub fields: Vec<FieldChange>,
    /// The figures changed but the source note did not.
    pub silent: bool,
}

/// A donor's totals in both versions (millions of the reporting currency).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TotalsChange {
    pub donor: String,
    pub old: Totals,
    pub new: Totals,
}

/// The difference between two versions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegistryDiff {
    pub old_file: String,
    pub new_file: String,
    pub added: Vec<Record>,
    /// Ids of the added records dated on or before the old version's latest date.
    pub backdated: Vec<String>,
    pub removed: Vec<Record>,
    pub changed: Vec<RecordChange>,
    /// Donors whose totals moved, largest move in committed value first.
    pub totals: Vec<TotalsChange>,
}

impl RegistryDiff {
    /// No record was added, removed or changed.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }

    /// How many changes are silent (revisions without a new source, back-dated
    /// additions).
    pub fn silent_count(&self) -> usize {
        self.changed.iter().filter(|c| c.silent).count() + self.backdated.len()
    }
}

fn fields(r: &Record) -> [(&'static str, String); 12] {
    let num = |x: Option<f64>| x.map_or(String::new(), |v| format!("{v}"));
    [
        ("kind", r.kind.to_string()),
        ("pledge", r.pledge.clone()),
        ("donor", r.donor.clone()),
        ("category", r.category.to_string()),
        ("item", r.item.clone()),
        ("class", r.class.map_or(String::new(), |c| c.to_string())),
        ("part_of", r.part_of.clone().unwrap_or_default()),
        ("quantity", num(r.quantity)),
        ("value_m", format!("{}", r.value_m)),
        ("currency", r.currency.clone()),
        ("date", r.date.to_string()),
        (
            "estimate",
            if r.estimate { "yes" } else { "no" }.to_string(),
        ),
    ]
}

/// Figures that move money or units; a change to one of them without a new source is
/// silent.
const FIGURES: [&str; 4] = ["quantity", "value_m", "date", "currency"];

fn totals(reg: &Registry, rates: &Rates) -> Result<BTreeMap<String, Totals>> {
    let mut m: BTreeMap<String, Totals> = BTreeMap::new();
    for r in &reg.records {
        if !r.counts_value(reg) {
            continue;
        }
        let v = rates
            .convert(r.value_m, &r.currency)
            .ok_or_else(|| AccountsError::Field {
                file: reg.file.clone(),
                line: r.line,
                field: "currency".into(),
                why: format!("no exchange rate from {} to {}", r.currency, rates.currency),
            })?;
        let t = m.entry(r.donor.clone()).or_default();
        match r.kind {
            RecordKind::Pledge => t.committed_m += v,
            RecordKind::Allocation => t.allocated_m += v,
            RecordKind::Delivery => t.delivered_m += v,
        }
    }
    Ok(m)
}

/// Compares `old` with `new`, matching records by id.
pub fn diff(old: &Registry, new: &Registry, rates: &Rates) -> Result<RegistryDiff> {
    let latest_old = old.records.iter().map(|r| r.date).max();
    let mut added = Vec::new();
    let mut backdated = Vec::new();
    let mut changed = Vec::new();
    for r in &new.records {
        match old.get(&r.id) {
            None => {
                if latest_old.is_some_and(|d| r.date <= d) {
                    backdated.push(r.id.clone());
                }
                added.push(r.clone());
            }
            Some(o) => {
                let fc: Vec<FieldChange> = fields(o)
                    .into_iter()
                    .zip(fields(r))
                    .filter(|(a, b)| a.1 != b.1)
                    .map(|(a, b)| FieldChange {
                        field: a.0.into(),
                        old: a.1,
                        new: b.1,
                    })
                    .collect();
                let source_changed = o.source != r.source;
                if fc.is_empty() && !source_changed {
                    continue;
                }
                let silent =
                    !source_changed && fc.iter().any(|f| FIGURES.contains(&f.field.as_str()));
                let mut fc = fc;
                if source_changed {
                    fc.push(FieldChange {
                        field: "source".into(),
                        old: o.source.clone(),
                        new: r.source.clone(),
                    });
                }
                changed.push(RecordChange {
                    id: r.id.clone(),
                    kind: r.kind,
                    donor: r.donor.clone(),
                    old_line: o.line,
                    new_line: r.line,
                    fields: fc,
                    silent,
                });
            }
        }
    }
    let removed: Vec<Record> = old
        .records
        .iter()
        .filter(|r| new.get(&r.id).is_none())
        .cloned()
        .collect();
    let (to, tn) = (totals(old, rates)?, totals(new, rates)?);
    let mut donors: Vec<&String> = to.keys().chain(tn.keys()).collect();
    donors.sort();
    donors.dedup();
    let mut moved: Vec<TotalsChange> = donors
        .into_iter()
        .map(|d| TotalsChange {
            donor: d.clone(),
            old: to.get(d).copied().unwrap_or_default(),
            new: tn.get(d).copied().unwrap_or_default(),
        })
        .filter(|t| t.old != t.new)
        .collect();
    moved.sort_by(|a, b| {
        let da = (a.new.committed_m - a.old.committed_m).abs();
        let db = (b.new.committed_m - b.old.committed_m).abs();
        db.total_cmp(&da).then_with(|| a.donor.cmp(&b.donor))
    });
    Ok(RegistryDiff {
        old_file: old.file.clone(),
        new_file: new.file.clone(),
        added,
        backdated,
        removed,
        changed,
        totals: moved,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "id,kind,pledge,donor,category,item,class,part_of,quantity,unit_value_m,value_m,currency,date,estimate,source\n";

    fn reg(name: &str, rows: &str) -> Registry {
        Registry::from_csv(name, format!("{HEAD}{rows}").as_bytes()).unwrap()
    }

    #[test]
    fn revisions_additions_removals() {
        let old = reg(
            "old.csv",
            "A,pledge,,NL,military,F-16,aircraft,,24,,,EUR,2023-08-20,,Dutch MoD\n\
             A1,delivery,A,,,,,,18,,,,2024-10-01,,Dutch MoD\n\
             B,pledge,,NL,financial,Loan,,,,,500,EUR,2024-01-01,,MinFin\n\
             C,pledge,,DK,humanitarian,Winter aid,,,,,20,EUR,2023-01-01,,MFA\n",
        );
        let new = reg(
            "new.csv",
            "A,pledge,,NL,military,F-16,aircraft,,24,,,EUR,2023-08-20,,Dutch MoD\n\
             A1,delivery,A,,,,,,24,,,,2024-10-01,,Dutch MoD\n\
             B,pledge,,NL,financial,Loan,,,,,400,EUR,2024-01-01,,MinFin (revised 2025)\n\
             D,pledge,,DK,humanitarian,Energy,,,,,30,EUR,2024-02-01,,MFA\n\
             E,pledge,,DK,humanitarian,Later,,,,,5,EUR,2025-02-01,,MFA\n",
        );
        let d = diff(&old, &new, &Rates::new("EUR")).unwrap();
        assert_eq!(d.changed.len(), 2);
        assert_eq!(d.changed[0].id, "A1");
        assert!(d.changed[0].silent);
        assert_eq!(
            d.changed[0].fields,
            vec![FieldChange {
                field: "quantity".into(),
                old: "18".into(),
                new: "24".into()
            }]
        );
        assert!(
            !d.changed[1].silent,
            "the source note changed with the value"
        );
        assert_eq!(
            d.added.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
            vec!["D", "E"]
        );
        assert_eq!(d.backdated, vec!["D"]);
        assert_eq!(d.removed.len(), 1);
        assert_eq!(d.silent_count(), 2);
        assert_eq!(d.totals[0].donor, "NL");
        assert_eq!(d.totals[0].old.committed_m, 500.0);
        assert_eq!(d.totals[0].new.committed_m, 400.0);
        let same = diff(&old, &old, &Rates::new("EUR")).unwrap();
        assert!(same.is_empty() && same.totals.is_empty());
    }
}
