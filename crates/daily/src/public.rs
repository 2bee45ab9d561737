//! The public edition: what may leave the mission.

use std::collections::{BTreeMap, HashSet};

use crate::model::{DailyReport, Edition, IncidentRow, RegionRow, RuleRow};
use crate::text::plural;

/// The public edition of a report: only incidents graded `verified` and with no
/// restricted source; `by_region` and `by_rule` recounted from those (so the public
/// counts are of verified incidents only, and their `previous` figures, which were made
/// from every incident, are set to 0 and not shown); the summary replaced by one made
/// from what remains; the log record dropped (the public edition is another document,
/// with its own hash). Obligations stay, since they are about parties, not sources, but
/// a `because` that cites an incident left out (or any incident not in this edition,
/// such as one from an earlier day, whose grade the report does not carry) names it no
/// more: the ids go and "N incident(s) not public" is said instead.
///
/// Applying it to a public edition changes nothing.
pub fn public_edition(report: &DailyReport) -> DailyReport {
    let mut r = report.clone();
    r.edition = Edition::Public;
    r.incidents.retain(|i| i.confidence == "verified" && !i.restricted);
    r.late.retain(|i| i.confidence == "verified" && !i.restricted);
    let dropped = report.incidents.len() - r.incidents.len();
    let kept: HashSet<&str> = r.incidents.iter().map(|i| i.id.as_str()).collect();

    // Regions: keep the report's names and codes, recount from what remains.
    let mut regions: BTreeMap<String, RegionRow> = BTreeMap::new();
    let order: Vec<String> = report.by_region.iter().map(|row| row.region.clone()).collect();
    for inc in &r.incidents {
        let name = region_name(report, inc);
        let row = regions.entry(name.clone()).or_insert_with(|| RegionRow {
            code: report.by_region.iter().find(|x| x.region == name).and_then(|x| x.code.clone()).or_else(|| inc.region.clone()),
            region: name,
            by_kind: Vec::new(),
            total: 0,
            previous_total: 0,
        });
        row.total += 1;
        for k in &inc.kinds {
            match row.by_kind.iter_mut().find(|(kk, _)| kk == k) {
                Some((_, v)) => *v += 1,
                None => row.by_kind.push((k.clone(), 1)),
            }
        }
    }
    let mut by_region: Vec<RegionRow> = Vec::new();
    for name in &order {
        if let Some(row) = regions.remove(name) {
            by_region.push(row);
        }
    }
    by_region.extend(regions.into_values());
    for row in &mut by_region {
        row.by_kind.sort();
    }
    r.by_region = by_region;

    r.by_rule = report
        .by_rule
        .iter()
        .map(|row| RuleRow {
            count: r.incidents.iter().filter(|i| i.rules.contains(&row.rule)).count() as u32,
            previous: 0,
            ..row.clone()
        })
        .filter(|row| row.count > 0)
        .collect();

    for o in &mut r.obligations {
        o.because = redact_because(&o.because, &kept);
    }

    r.summary = vec![format!(
        "{} verified by the mission broke a rule in the period{}.",
        plural(r.incidents.len(), "incident", "incidents"),
        if r.by_region.is_empty() {
            String::new()
        } else {
            format!(", in {}", r.by_region.iter().map(|x| x.region.as_str()).collect::<Vec<_>>().join(", "))
        }
    )];
    if report.edition == Edition::Internal {
        r.notes.push(format!(
            "Public edition: incidents not verified by the mission, and any with a restricted source, are left out ({} of this period's {}); counts are of verified incidents only.",
            dropped,
            report.incidents.len()
        ));
    }
    r.log = None;
    r
}

/// The region an incident is counted in: the report's row whose code matches, else its
/// code, else "unknown".
fn region_name(report: &DailyReport, inc: &IncidentRow) -> String {
    match &inc.region {
        Some(code) => report
            .by_region
            .iter()
            .find(|row| row.code.as_deref() == Some(code) || row.region == *code)
            .map(|row| row.region.clone())
            .unwrap_or_else(|| code.clone()),
        None => "unknown".into(),
    }
}

/// Removes the incident ids (`I-...`) not in `kept` from an obligation's explanation,
/// each with the parenthesised rules after it and its list separator, and says how many
/// went.
pub(crate) fn redact_because(because: &str, kept: &HashSet<&str>) -> String {
    let chars: Vec<char> = because.chars().collect();
    let mut out = String::new();
    let mut hidden = 0usize;
    let mut i = 0;
    while i < chars.len() {
        let boundary = i == 0 || matches!(chars[i - 1], ' ' | '(' | ',' | ';' | ':' | '[');
        if boundary && chars[i] == 'I' && chars.get(i + 1) == Some(&'-') {
            let mut j = i + 2;
            while j < chars.len() && !chars[j].is_whitespace() && !matches!(chars[j], ',' | ';' | '(' | ')' | '[' | ']') {
                j += 1;
            }
            let mut id: String = chars[i..j].iter().collect();
            let mut end = j;
            while id.ends_with('.') {
                id.pop();
                end -= 1;
            }
            if id.len() > 2 && !kept.contains(id.as_str()) {
                hidden += 1;
                // The rules it broke, "(R1, R2)", go with it.
                let mut k = end;
                while k < chars.len() && chars[k] == ' ' {
                    k += 1;
                }
                if chars.get(k) == Some(&'(') {
                    if let Some(close) = chars[k..].iter().position(|&c| c == ')') {
                        end = k + close + 1;
                    }
                }
                // And one list separator: the one after it, else the one before.
                let mut k = end;
                while k < chars.len() && chars[k] == ' ' {
                    k += 1;
                }
                if matches!(chars.get(k), Some(',') | Some(';')) {
                    end = k + 1;
                    while end < chars.len() && chars[end] == ' ' {
                        end += 1;
                    }
                } else {
                    let t = out.trim_end_matches(' ').len();
                    if out[..t].ends_with(',') || out[..t].ends_with(';') {
                        out.truncate(t - 1);
                    }
                }
                i = end;
                continue;
            }
            out.extend(&chars[i..end]);
            i = end;
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    if hidden == 0 {
        return because.to_string();
    }
    let mut out = out.trim_end_matches([' ', ',', ';', ':', '.']).to_string();
    let phrase = format!("{} not public", plural(hidden, "incident", "incidents"));
    if out.is_empty() {
        phrase
    } else {
        out.push_str("; ");
        out.push_str(&phrase);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_ids_with_their_rules_and_separators() {
        let kept: HashSet<&str> = ["I-b"].into_iter().collect();
        assert_eq!(
            redact_because("3 violations of R1 in 24 h: I-a (R1), I-b (R1, R2), I-c (R1)", &kept),
            "3 violations of R1 in 24 h: I-b (R1, R2); 2 incidents not public"
        );
        assert_eq!(redact_because("shelling: I-a, I-c.", &kept), "shelling; 2 incidents not public");
        assert_eq!(redact_because("no incident cited", &kept), "no incident cited");
        assert_eq!(redact_because("I-b (R1)", &kept), "I-b (R1)");
        assert_eq!(redact_because("I-x", &kept), "1 incident not public");
    }
}
