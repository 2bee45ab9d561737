//! The agreement file's `[pledges]` and `[forces]` tables. Every other key of the file
//! is ignored here (other crates read them), so the same reader serves a file that holds
//! only these two tables and the full agreement.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::force::ForceParams;
use crate::{AccountsError, Result};

/// Largest agreement file read, in bytes.
pub const CONFIG_BYTES_MAX: usize = 4 * 1024 * 1024;

/// The `[pledges]` table: where the registry and the GDP table are (paths relative to
/// the agreement file), the reporting currency and the exchange rates into it.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PledgesConfig {
    /// The pledge registry (CSV).
    pub registry: String,
    /// The GDP table (CSV); without it there is no share of GDP.
    #[serde(default)]
    pub gdp: Option<String>,
    /// The currency figures are reported in (ISO 4217).
    #[serde(default = "default_currency")]
    pub currency: String,
    /// Units of the reporting currency per unit of each other currency.
    #[serde(default)]
    pub rates: BTreeMap<String, f64>,
}

fn default_currency() -> String {
    "EUR".into()
}

impl PledgesConfig {
    /// The exchange rates as a [`Rates`].
    pub fn rates(&self) -> Rates {
        let mut r = Rates::new(&self.currency);
        for (c, v) in &self.rates {
            r = r.with(c, *v);
        }
        r
    }
}

/// Exchange rates into one reporting currency (one fixed rate per currency, as the
/// agreement states it).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rates {
    /// The reporting currency.
    pub currency: String,
    /// Units of the reporting currency per unit of each other currency.
    pub per_unit: BTreeMap<String, f64>,
}

impl Rates {
    /// Only the reporting currency itself (rate 1).
    pub fn new(currency: &str) -> Rates {
        Rates {
            currency: currency.to_ascii_uppercase(),
            per_unit: BTreeMap::new(),
        }
    }

    /// With one more rate.
    pub fn with(mut self, currency: &str, per_unit: f64) -> Rates {
        self.per_unit
            .insert(currency.to_ascii_uppercase(), per_unit);
        self
    }

    /// `value` in `currency`, in the reporting currency; `None` without a rate.
    pub fn convert(&self, value: f64, currency: &str) -> Option<f64> {
        if currency.eq_ignore_ascii_case(&self.currency) {
            return Some(value);
        }
        self.per_unit
            .get(&currency.to_ascii_uppercase())
            .map(|r| value * r)
    }
}

/// The two tables this crate reads from an agreement file; either may be absent.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
pub struct AccountsConfig {
    #[serde(default)]
    pub pledges: Option<PledgesConfig>,
    #[serde(default)]
    pub forces: Option<ForceParams>,
}

/// Reads the `[pledges]` and `[forces]` tables of an agreement file (TOML), checks
/// them, and says the file, line and key of anything wrong: `agreement.toml:31:
/// forces.attrition_per_month.mean: 1.5 is not a fraction in [0, 1]`.
pub fn read_config(file: &str, text: &str) -> Result<AccountsConfig> {
    if text.len() > CONFIG_BYTES_MAX {
        return Err(AccountsError::TooLarge {
            file: file.into(),
            bytes: text.len(),
            max: CONFIG_BYTES_MAX,
        });
    }
    let cfg: AccountsConfig = toml::from_str(text).map_err(|e| {
        let (line, table, key_on_line) = match e.span() {
            Some(s) => place(text, s.start),
            None => (None, String::new(), None),
        };
        let msg = e.message().trim().to_string();
        let key = match (missing_field(&msg), key_on_line) {
            (Some(f), _) => join(&table, &f),
            (None, Some(k)) => join(&table, &k),
            (None, None) if !table.is_empty() => table,
            _ => "(file)".into(),
        };
        AccountsError::Setting {
            at: at(file, line),
            key,
            why: msg,
        }
    })?;
    if let Some(p) = &cfg.pledges {
        for (c, v) in &p.rates {
            if !(v.is_finite() && *v > 0.0) {
                let key = format!("pledges.rates.{c}");
                return Err(AccountsError::Setting {
                    at: at(file, locate(text, &key)),
                    key,
                    why: format!("{v} is not a positive rate"),
                });
            }
        }
        if p.registry.trim().is_empty() {
            let key = "pledges.registry".to_string();
            return Err(AccountsError::Setting {
                at: at(file, locate(text, &key)),
                key,
                why: "empty path".into(),
            });
        }
    }
    if let Some(f) = &cfg.forces {
        if let Err((k, why)) = f.validate() {
            let key = format!("forces.{k}");
            return Err(AccountsError::Setting {
                at: at(file, locate(text, &key)),
                key,
                why,
            });
        }
    }
    Ok(cfg)
}

fn at(file: &str, line: Option<usize>) -> String {
    match line {
        Some(l) => format!("{file}:{l}"),
        None => file.to_string(),
    }
}

fn join(table: &str, key: &str) -> String {
    if table.is_empty() {
        key.to_string()
    } else {
        format!("{table}.{key}")
    }
}

fn missing_field(msg: &str) -> Option<String> {
    let rest = msg.split("missing field `").nth(1)?;
    Some(rest.split('`').next()?.to_string())
}

/// The line (1-based) holding byte `offset`, the table in force there (with array
/// indices: `forces.programmes[1]`), and the key assigned on that line, if any.
fn place(text: &str, offset: usize) -> (Option<usize>, String, Option<String>) {
    let mut table = String::new();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut start = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let end = start + line.len();
        let t = line.trim();
        if let Some(h) = header(t) {
            table = indexed(h, t, &mut counts);
        }
        if offset < end || end == text.len() {
            let key = (header(t).is_none())
                .then(|| t.split('=').next().unwrap_or("").trim().to_string())
                .filter(|k| !k.is_empty() && !k.starts_with('#'));
            return (Some(i + 1), table, key);
        }
        start = end;
    }
    (None, table, None)
}

fn header(t: &str) -> Option<&str> {
    let t = t.split('#').next()?.trim();
    if t.starts_with("[[") && t.ends_with("]]") {
        Some(t[2..t.len() - 2].trim())
    } else if t.starts_with('[') && t.ends_with(']') {
        Some(t[1..t.len() - 1].trim())
    } else {
        None
    }
}

fn indexed(h: &str, t: &str, counts: &mut BTreeMap<String, usize>) -> String {
    if t.starts_with("[[") {
        let n = counts.entry(h.to_string()).or_insert(0);
        *n += 1;
        format!("{h}[{}]", *n - 1)
    } else {
        h.to_string()
    }
}

/// The line where `key` (`forces.programmes[1].course_weeks`, or a key inside an inline
/// table such as `forces.intake_per_month.sd`) is assigned; else the line of the
/// nearest table that holds it.
fn locate(text: &str, key: &str) -> Option<usize> {
    let mut table = String::new();
    let mut counts = BTreeMap::new();
    let mut best: Option<usize> = None;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if let Some(h) = header(t) {
            table = indexed(h, t, &mut counts);
            if key == table || key.starts_with(&format!("{table}.")) {
                best = Some(i + 1);
            }
            continue;
        }
        let Some(k) = t
            .split('=')
            .next()
            .map(str::trim)
            .filter(|k| !k.is_empty() && !k.starts_with('#'))
        else {
            continue;
        };
        if !t.contains('=') {
            continue;
        }
        let full = join(&table, k);
        if key == full || key.starts_with(&format!("{full}.")) {
            return Some(i + 1);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
name = "some agreement"          # other keys are someone else's
[parties]
defended = "UA"

[pledges]
registry = "pledges/registry.csv"
gdp = "pledges/gdp.csv"
rates = { USD = 0.92, GBP = 1.18 }

[forces]
target = 800000
start = "2026-01"
well_trained = { mean = 500000, sd = 50000 }
intake_per_month = 20000
attrition_per_month = { mean = 0.01, sd = 0.002 }

[[forces.programmes]]
name = "national"
trainees_per_month = 15000
course_weeks = 6

[[forces.programmes]]
name = "partner"
trainees_per_month = 2000
course_weeks = 5
"#;

    #[test]
    fn reads_both_tables_and_ignores_the_rest() {
        let c = read_config("a.toml", GOOD).unwrap();
        let p = c.pledges.unwrap();
        assert_eq!(p.currency, "EUR");
        assert_eq!(p.rates().convert(100.0, "usd"), Some(92.0));
        assert_eq!(p.rates().convert(100.0, "CHF"), None);
        let f = c.forces.unwrap();
        assert_eq!(f.target, 800000.0);
        assert_eq!(f.programmes.len(), 2);
        assert_eq!(f.well_trained.sd, 50000.0);
        assert_eq!(f.intake_per_month.mean, 20000.0);
        let none = read_config("b.toml", "x = 1").unwrap();
        assert!(none.pledges.is_none() && none.forces.is_none());
    }

    #[track_caller]
    fn check_err(from: &str, to: &str, expected: &str) {
        assert!(GOOD.contains(from), "{from}");
        let text = GOOD.replacen(from, to, 1);
        match read_config("a.toml", &text) {
            Ok(_) => panic!("accepted {to}"),
            Err(e) => assert_eq!(e.to_string(), expected),
        }
    }

    #[test]
    fn errors_name_file_line_key() {
        check_err(
            "attrition_per_month = { mean = 0.01",
            "attrition_per_month = { mean = 1.5",
            "a.toml:16: forces.attrition_per_month.mean: 1.5 is not a fraction in [0, 1]",
        );
        check_err(
            "course_weeks = 5",
            "course_weeks = 0",
            "a.toml:26: forces.programmes[1].course_weeks: 0 is not in (0, 520]",
        );
        check_err("intake_per_month = 20000", "intake_per_month = \"many\"", "a.toml:15: forces.intake_per_month: invalid type: string \"many\", expected a number or a table { mean, sd, month_cv }");
        check_err(
            "target = 800000\n",
            "",
            "a.toml:11: forces.target: missing field `target`",
        );
        check_err("course_weeks = 6", "course_weeks = 6\ncourse_wekes = 6", "a.toml:22: forces.programmes[0].course_wekes: unknown field `course_wekes`, expected one of `name`, `kind`, `trainees_per_month`, `course_weeks`, `washout`, `from_month`, `until_month`");
        check_err(
            "USD = 0.92",
            "USD = -1",
            "a.toml:9: pledges.rates.USD: -1 is not a positive rate",
        );
        check_err(
            "start = \"2026-01\"",
            "start = \"2026-13\"",
            "a.toml:13: forces.start: `2026-13` is not a month YYYY-MM",
        );
    }
}
