//! The GDP table the share-of-GDP figures divide by: one row per country and year,
//! `country,name,year,gdp_bn,currency,estimate,source` (GDP in billions of `currency`).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::{AccountsError, Result};

/// Largest GDP file read, in bytes.
pub const GDP_BYTES_MAX: usize = 1024 * 1024;
/// Most rows in a GDP table.
pub const GDP_ROWS_MAX: usize = 10_000;

/// One country's GDP in one year.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GdpRow {
    /// The same code as the registry's `donor`.
    pub country: String,
    /// Name for display.
    pub name: String,
    pub year: i32,
    /// Billions of `currency`.
    pub gdp_bn: f64,
    pub currency: String,
    pub estimate: bool,
    pub source: String,
    pub line: u64,
}

/// GDP per country: the latest year of each.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct GdpTable {
    /// The file it was read from.
    pub file: String,
    pub rows: BTreeMap<String, GdpRow>,
}

impl GdpTable {
    /// Reads the CSV; errors name the file, line and field.
    pub fn from_csv(file: &str, bytes: &[u8]) -> Result<GdpTable> {
        if bytes.len() > GDP_BYTES_MAX {
            return Err(AccountsError::TooLarge {
                file: file.into(),
                bytes: bytes.len(),
                max: GDP_BYTES_MAX,
            });
        }
        let mut rd = csv::ReaderBuilder::new()
            .comment(Some(b'#'))
            .trim(csv::Trim::All)
            .from_reader(bytes);
        let header = rd
            .headers()
            .map_err(|e| AccountsError::Row {
                file: file.into(),
                line: 1,
                why: e.to_string(),
            })?
            .clone();
        let cols = [
            "country", "name", "year", "gdp_bn", "currency", "estimate", "source",
        ];
        let mut idx = Vec::new();
        for c in cols {
            match header.iter().position(|h| h.eq_ignore_ascii_case(c)) {
                Some(i) => idx.push(Some(i)),
                None if c == "name" || c == "estimate" => idx.push(None),
                None => {
                    return Err(AccountsError::MissingColumn {
                        file: file.into(),
                        column: c.into(),
                        have: header.iter().collect::<Vec<_>>().join(","),
                    })
                }
            }
        }
        let mut t = GdpTable {
            file: file.into(),
            ..GdpTable::default()
        };
        for (n, rec) in rd.records().enumerate() {
            if n >= GDP_ROWS_MAX {
                return Err(AccountsError::TooManyRows {
                    file: file.into(),
                    max: GDP_ROWS_MAX,
                });
            }
            let rec = rec.map_err(|e| AccountsError::Row {
                file: file.into(),
                line: e.position().map_or(0, |p| p.line()),
                why: e.to_string(),
            })?;
            let line = rec.position().map_or(0, |p| p.line());
            let get = |k: usize| idx[k].and_then(|i| rec.get(i)).unwrap_or("");
            let bad = |f: &str, why: String| AccountsError::Field {
                file: file.into(),
                line,
                field: f.into(),
                why,
            };
            let country = get(0).to_string();
            if country.is_empty() {
                return Err(bad("country", "empty".into()));
            }
            let year: i32 = get(2)
                .parse()
                .map_err(|_| bad("year", format!("`{}` is not a year", get(2))))?;
            let gdp_bn: f64 = get(3)
                .parse()
                .map_err(|_| bad("gdp_bn", format!("`{}` is not a number", get(3))))?;
            if !(gdp_bn.is_finite() && gdp_bn > 0.0) {
                return Err(bad("gdp_bn", format!("{gdp_bn} is not positive")));
            }
            let currency = get(4).to_ascii_uppercase();
            if currency.is_empty() {
                return Err(bad("currency", "empty".into()));
            }
            let source = get(6).to_string();
            if source.is_empty() {
                return Err(bad("source", "empty; every figure needs its source".into()));
            }
            let estimate = match get(5).to_ascii_lowercase().as_str() {
                "" | "no" | "false" | "0" => false,
                "yes" | "true" | "1" | "estimate" => true,
                other => return Err(bad("estimate", format!("`{other}`: expected yes or no"))),
            };
            let row = GdpRow {
                name: if get(1).is_empty() {
                    country.clone()
                } else {
                    get(1).to_string()
                },
                country: country.clone(),
                year,
                gdp_bn,
                currency,
                estimate,
                source,
                line,
            };
            match t.rows.get(&country) {
                Some(old) if old.year == year => {
                    return Err(bad(
                        "year",
                        format!("{country} {year} is already on line {}", old.line),
                    ))
                }
                Some(old) if old.year > year => {}
                _ => {
                    t.rows.insert(country, row);
                }
            }
        }
        Ok(t)
    }

    /// The display name of a country, or its code.
    pub fn name<'a>(&'a self, country: &'a str) -> &'a str {
        self.rows.get(country).map_or(country, |r| r.name.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latest_year_wins_and_errors_name_the_line() {
        let t = GdpTable::from_csv(
            "gdp.csv",
            b"country,name,year,gdp_bn,currency,estimate,source\nDE,Germany,2023,4121,EUR,,Destatis\nDE,Germany,2024,4305,EUR,,Destatis\n",
        )
        .unwrap();
        assert_eq!(t.rows["DE"].gdp_bn, 4305.0);
        assert_eq!(t.name("DE"), "Germany");
        assert_eq!(t.name("XX"), "XX");
        let e = GdpTable::from_csv(
            "gdp.csv",
            b"country,year,gdp_bn,currency,source\nDE,2024,-1,EUR,x\n",
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "gdp.csv:2: gdp_bn: -1 is not positive");
    }
}
