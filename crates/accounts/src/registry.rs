//! The pledge registry: one CSV row per record (a pledge, an allocation or a delivery),
//! the latter two linked to their pledge by its id. Format and semantics in
//! `docs/accounts.md`.

use std::collections::HashMap;
use std::fmt;

use chrono::NaiveDate;
use serde::Serialize;

use crate::{AccountsError, Result};

/// Largest registry file read, in bytes.
pub const REGISTRY_BYTES_MAX: usize = 32 * 1024 * 1024;
/// Most records in one registry.
pub const REGISTRY_ROWS_MAX: usize = 200_000;
/// Longest text field (item, source), in characters.
pub const FIELD_CHARS_MAX: usize = 2_000;

/// The registry's columns, in the order the example files use (any order is read; the
/// columns `class`, `part_of`, `unit_value_m` and `estimate` may be left out).
pub const REGISTRY_COLUMNS: [&str; 15] = [
    "id",
    "kind",
    "pledge",
    "donor",
    "category",
    "item",
    "class",
    "part_of",
    "quantity",
    "unit_value_m",
    "value_m",
    "currency",
    "date",
    "estimate",
    "source",
];
const OPTIONAL_COLUMNS: [&str; 4] = ["class", "part_of", "unit_value_m", "estimate"];

/// The Kiel tracker's three kinds of aid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    Military,
    Financial,
    Humanitarian,
}

impl Category {
    pub const ALL: [Category; 3] = [
        Category::Military,
        Category::Financial,
        Category::Humanitarian,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Military => "military",
            Category::Financial => "financial",
            Category::Humanitarian => "humanitarian",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(s))
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a row records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RecordKind {
    /// A commitment: announced, with its item, quantity and value.
    Pledge,
    /// Part of a pledge earmarked for delivery, its terms specified.
    Allocation,
    /// Part of a pledge that arrived (equipment handed over, money disbursed).
    Delivery,
}

impl RecordKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Pledge => "pledge",
            RecordKind::Allocation => "allocation",
            RecordKind::Delivery => "delivery",
        }
    }
}

impl fmt::Display for RecordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The heavy-weapon classes counted in units (the Kiel tracker's tanks, howitzers and
/// multiple rocket launchers, with the other classes a planner asks about).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WeaponClass {
    /// Main battle tanks.
    Tank,
    /// Infantry fighting vehicles.
    Ifv,
    /// Armoured personnel carriers.
    Apc,
    /// Howitzers and guns of 100 mm and above.
    Artillery,
    /// Multiple rocket launchers.
    Mlrs,
    /// Air-defence systems (batteries or launchers, as the row's item says).
    AirDefence,
    /// Combat aircraft.
    Aircraft,
    /// Helicopters.
    Helicopter,
}

impl WeaponClass {
    pub const ALL: [WeaponClass; 8] = [
        WeaponClass::Tank,
        WeaponClass::Ifv,
        WeaponClass::Apc,
        WeaponClass::Artillery,
        WeaponClass::Mlrs,
        WeaponClass::AirDefence,
        WeaponClass::Aircraft,
        WeaponClass::Helicopter,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WeaponClass::Tank => "tank",
            WeaponClass::Ifv => "ifv",
            WeaponClass::Apc => "apc",
            WeaponClass::Artillery => "artillery",
            WeaponClass::Mlrs => "mlrs",
            WeaponClass::AirDefence => "air_defence",
            WeaponClass::Aircraft => "aircraft",
            WeaponClass::Helicopter => "helicopter",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(s))
    }
}

impl fmt::Display for WeaponClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One row of the registry, with the fields an allocation or delivery inherits from its
/// pledge filled in, and its value worked out.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Record {
    /// Unique in the registry; stable across versions (the diff matches on it).
    pub id: String,
    pub kind: RecordKind,
    /// The pledge this record belongs to (its own id for a pledge).
    pub pledge: String,
    /// Who gives: an ISO 3166-1 alpha-2 code, or `EU` for the EU institutions.
    pub donor: String,
    pub category: Category,
    pub item: String,
    pub class: Option<WeaponClass>,
    /// The package this pledge is an item of: its value is counted in the package's, so
    /// it adds units to the heavy-weapons table and nothing to the money totals.
    pub part_of: Option<String>,
    pub quantity: Option<f64>,
    /// Value of one unit, in millions of `currency`, when the row gives it.
    pub unit_value_m: Option<f64>,
    /// Value in millions of `currency`: as given, or quantity x unit value (the pledge's
    /// unit value for an allocation or delivery).
    pub value_m: f64,
    pub currency: String,
    pub date: NaiveDate,
    /// The figure is an estimate (not a published number).
    pub estimate: bool,
    /// Where the figure comes from.
    pub source: String,
    /// Line in the file (1 is the header).
    pub line: u64,
}

impl Record {
    /// True when this record's value is counted in the money totals (not an item of a
    /// package whose value already holds it).
    pub fn counts_value(&self, reg: &Registry) -> bool {
        match self.kind {
            RecordKind::Pledge => self.part_of.is_none(),
            _ => reg.pledge(&self.pledge).is_none_or(|p| p.part_of.is_none()),
        }
    }
}

/// A pledge registry: the records in file order.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Registry {
    /// The name errors and the diff use for it.
    pub file: String,
    pub records: Vec<Record>,
    #[serde(skip)]
    index: HashMap<String, usize>,
}

/// A raw row before linking: the fields as text, by column.
struct Raw {
    line: u64,
    fields: Vec<String>,
}

impl Registry {
    /// Reads a registry CSV (UTF-8, a header row, `#` starts a comment line). Every
    /// record is checked: a bad value is an error naming the file, line and field, such
    /// as `registry.csv:14: quantity: -3 is negative`; nothing is returned then.
    pub fn from_csv(file: &str, bytes: &[u8]) -> Result<Registry> {
        if bytes.len() > REGISTRY_BYTES_MAX {
            return Err(AccountsError::TooLarge {
                file: file.into(),
                bytes: bytes.len(),
                max: REGISTRY_BYTES_MAX,
            });
        }
        let mut rd = csv::ReaderBuilder::new()
            .comment(Some(b'#'))
            .trim(csv::Trim::All)
            .flexible(false)
            .from_reader(bytes);
        let header = rd.headers().map_err(|e| csv_error(file, 1, e))?.clone();
        let col = |name: &str| header.iter().position(|h| h.eq_ignore_ascii_case(name));
        let mut cols = HashMap::new();
        for name in REGISTRY_COLUMNS {
            match col(name) {
                Some(i) => {
                    cols.insert(name, i);
                }
                None if OPTIONAL_COLUMNS.contains(&name) => {}
                None => {
                    return Err(AccountsError::MissingColumn {
                        file: file.into(),
                        column: name.into(),
                        have: header.iter().collect::<Vec<_>>().join(","),
                    })
                }
            }
        }
        let mut raws = Vec::new();
        for rec in rd.records() {
            let line = match &rec {
                Ok(r) => r.position().map_or(0, |p| p.line()),
                Err(e) => e.position().map_or(0, |p| p.line()),
            };
            let rec = rec.map_err(|e| csv_error(file, line, e))?;
            if raws.len() >= REGISTRY_ROWS_MAX {
                return Err(AccountsError::TooManyRows {
                    file: file.into(),
                    max: REGISTRY_ROWS_MAX,
                });
            }
            let fields = REGISTRY_COLUMNS
                .iter()
                .map(|c| {
                    cols.get(c)
                        .map_or(String::new(), |&i| rec.get(i).unwrap_or("").to_string())
                })
                .collect();
            raws.push(Raw { line, fields });
        }
        link(file, raws)
    }

    /// The pledge with this id.
    pub fn pledge(&self, id: &str) -> Option<&Record> {
        self.index
            .get(id)
            .map(|&i| &self.records[i])
            .filter(|r| r.kind == RecordKind::Pledge)
    }

    /// The record with this id.
    pub fn get(&self, id: &str) -> Option<&Record> {
        self.index.get(id).map(|&i| &self.records[i])
    }

    /// The pledges, in file order.
    pub fn pledges(&self) -> impl Iterator<Item = &Record> {
        self.records.iter().filter(|r| r.kind == RecordKind::Pledge)
    }

    /// Builds a registry from records already checked (for tests and generated data);
    /// ids must be unique and every allocation or delivery must name a pledge.
    pub fn from_records(file: &str, records: Vec<Record>) -> Result<Registry> {
        let mut reg = Registry {
            file: file.into(),
            records,
            index: HashMap::new(),
        };
        for (i, r) in reg.records.iter().enumerate() {
            if reg.index.insert(r.id.clone(), i).is_some() {
                return Err(field(
                    file,
                    r.line,
                    "id",
                    format!("`{}` appears twice", r.id),
                ));
            }
        }
        for r in &reg.records {
            if r.kind != RecordKind::Pledge && reg.pledge(&r.pledge).is_none() {
                return Err(field(
                    file,
                    r.line,
                    "pledge",
                    format!("no pledge `{}`", r.pledge),
                ));
            }
        }
        Ok(reg)
    }
}

fn csv_error(file: &str, line: u64, e: csv::Error) -> AccountsError {
    let why = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            format!("{len} fields where the header has {expected_len}")
        }
        csv::ErrorKind::Utf8 { .. } => "not valid UTF-8".to_string(),
        _ => e.to_string(),
    };
    AccountsError::Row {
        file: file.into(),
        line,
        why,
    }
}

fn field(file: &str, line: u64, name: &str, why: impl Into<String>) -> AccountsError {
    AccountsError::Field {
        file: file.into(),
        line,
        field: name.into(),
        why: why.into(),
    }
}

/// Column indices into `Raw::fields` (the order of `REGISTRY_COLUMNS`).
mod c {
    pub const ID: usize = 0;
    pub const KIND: usize = 1;
    pub const PLEDGE: usize = 2;
    pub const DONOR: usize = 3;
    pub const CATEGORY: usize = 4;
    pub const ITEM: usize = 5;
    pub const CLASS: usize = 6;
    pub const PART_OF: usize = 7;
    pub const QUANTITY: usize = 8;
    pub const UNIT_VALUE: usize = 9;
    pub const VALUE: usize = 10;
    pub const CURRENCY: usize = 11;
    pub const DATE: usize = 12;
    pub const ESTIMATE: usize = 13;
    pub const SOURCE: usize = 14;
}

fn number(file: &str, r: &Raw, i: usize) -> Result<Option<f64>> {
    let s = r.fields[i].replace('_', "");
    if s.is_empty() {
        return Ok(None);
    }
    let name = REGISTRY_COLUMNS[i];
    let v: f64 = s.parse().map_err(|_| {
        field(
            file,
            r.line,
            name,
            format!("`{}` is not a number", r.fields[i]),
        )
    })?;
    if !v.is_finite() {
        return Err(field(
            file,
            r.line,
            name,
            format!("`{}` is not a finite number", r.fields[i]),
        ));
    }
    if v < 0.0 {
        return Err(field(
            file,
            r.line,
            name,
            format!("{} is negative", r.fields[i]),
        ));
    }
    Ok(Some(v))
}

fn text<'a>(file: &str, r: &'a Raw, i: usize) -> Result<&'a str> {
    let s = r.fields[i].as_str();
    if s.chars().count() > FIELD_CHARS_MAX {
        return Err(field(
            file,
            r.line,
            REGISTRY_COLUMNS[i],
            format!("longer than {FIELD_CHARS_MAX} characters"),
        ));
    }
    if s.chars().any(|ch| ch.is_control()) {
        return Err(field(
            file,
            r.line,
            REGISTRY_COLUMNS[i],
            "holds a control character",
        ));
    }
    Ok(s)
}

fn required<'a>(file: &str, r: &'a Raw, i: usize, what: &str) -> Result<&'a str> {
    let s = text(file, r, i)?;
    if s.is_empty() {
        return Err(field(
            file,
            r.line,
            REGISTRY_COLUMNS[i],
            format!("empty; {what}"),
        ));
    }
    Ok(s)
}

/// Ids, donors and currencies: letters, digits and `-_./:`.
fn token<'a>(file: &str, r: &'a Raw, i: usize) -> Result<&'a str> {
    let s = text(file, r, i)?;
    if let Some(ch) = s
        .chars()
        .find(|ch| !(ch.is_ascii_alphanumeric() || "-_./:".contains(*ch)))
    {
        return Err(field(
            file,
            r.line,
            REGISTRY_COLUMNS[i],
            format!("`{s}` holds `{ch}`; use letters, digits and - _ . / :"),
        ));
    }
    Ok(s)
}

/// Values equal within half a per mille (rounding in published figures).
fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 5e-4 * a.abs().max(b.abs()).max(1e-9)
}

fn link(file: &str, raws: Vec<Raw>) -> Result<Registry> {
    // Pass 1: ids, kinds, and the pledges' own fields.
    let mut first_line: HashMap<String, u64> = HashMap::new();
    let mut kinds = Vec::with_capacity(raws.len());
    for r in &raws {
        let id = token(file, r, c::ID)?;
        if id.is_empty() {
            return Err(field(
                file,
                r.line,
                "id",
                "empty; every record needs a unique id",
            ));
        }
        if let Some(l) = first_line.insert(id.to_string(), r.line) {
            return Err(field(
                file,
                r.line,
                "id",
                format!("`{id}` is already used on line {l}"),
            ));
        }
        let kind = match text(file, r, c::KIND)?.to_ascii_lowercase().as_str() {
            "pledge" | "commitment" => RecordKind::Pledge,
            "allocation" => RecordKind::Allocation,
            "delivery" => RecordKind::Delivery,
            other => {
                return Err(field(
                    file,
                    r.line,
                    "kind",
                    format!("`{other}`: expected pledge, allocation or delivery"),
                ))
            }
        };
        kinds.push(kind);
    }
    let mut records: Vec<Record> = Vec::with_capacity(raws.len());
    let mut pledge_at: HashMap<String, usize> = HashMap::new();
    for (r, &kind) in raws.iter().zip(&kinds) {
        if kind != RecordKind::Pledge {
            continue;
        }
        let id = r.fields[c::ID].clone();
        let own = token(file, r, c::PLEDGE)?;
        if !own.is_empty() && own != id {
            return Err(field(
                file,
                r.line,
                "pledge",
                format!("`{own}` on a pledge: leave it empty or repeat the id `{id}`"),
            ));
        }
        let donor = token(file, r, c::DONOR)?;
        if donor.is_empty() {
            return Err(field(
                file,
                r.line,
                "donor",
                "empty; a pledge needs its donor",
            ));
        }
        let cat_s = required(
            file,
            r,
            c::CATEGORY,
            "a pledge needs military, financial or humanitarian",
        )?;
        let category = Category::parse(cat_s).ok_or_else(|| {
            field(
                file,
                r.line,
                "category",
                format!("`{cat_s}`: expected military, financial or humanitarian"),
            )
        })?;
        let item = required(file, r, c::ITEM, "a pledge needs an item")?;
        let class = weapon_class(file, r)?;
        if class.is_some() && category != Category::Military {
            return Err(field(
                file,
                r.line,
                "class",
                format!("a weapon class on a {category} pledge"),
            ));
        }
        let currency = token(file, r, c::CURRENCY)?;
        if currency.is_empty() {
            return Err(field(
                file,
                r.line,
                "currency",
                "empty; a pledge needs its currency (ISO 4217, e.g. EUR)",
            ));
        }
        let quantity = number(file, r, c::QUANTITY)?;
        let unit = number(file, r, c::UNIT_VALUE)?;
        let given = number(file, r, c::VALUE)?;
        let value_m = match (given, quantity, unit) {
            (Some(v), Some(q), Some(u)) if !close(v, q * u) => {
                return Err(field(file, r.line, "value_m", format!("{v} is not quantity x unit_value_m = {q} x {u} = {}", q * u)))
            }
            (Some(v), _, _) => v,
            (None, Some(q), Some(u)) => q * u,
            (None, Some(_), None) if class.is_some() || !r.fields[c::PART_OF].is_empty() => 0.0,
            _ => {
                return Err(field(
                    file,
                    r.line,
                    "value_m",
                    "empty; give value_m, or quantity and unit_value_m (a heavy weapon or a package item may give a quantity alone)",
                ))
            }
        };
        pledge_at.insert(id.clone(), records.len());
        records.push(Record {
            id,
            kind,
            pledge: r.fields[c::ID].clone(),
            donor: donor.to_string(),
            category,
            item: item.to_string(),
            class,
            part_of: opt(token(file, r, c::PART_OF)?),
            quantity,
            unit_value_m: unit,
            value_m,
            currency: currency.to_ascii_uppercase(),
            date: date(file, r)?,
            estimate: estimate(file, r)?,
            source: required(file, r, c::SOURCE, "every figure needs its source")?.to_string(),
            line: r.line,
        });
    }
    // Packages: one level, same donor and category.
    for p in records.iter() {
        let Some(parent) = &p.part_of else { continue };
        let line = p.line;
        let Some(&k) = pledge_at.get(parent) else {
            return Err(field(
                file,
                line,
                "part_of",
                format!("no pledge `{parent}`"),
            ));
        };
        let q = &records[k];
        if q.part_of.is_some() {
            return Err(field(
                file,
                line,
                "part_of",
                format!(
                    "`{parent}` is itself part of `{}`; one level only",
                    q.part_of.as_deref().unwrap_or("")
                ),
            ));
        }
        if q.donor != p.donor || q.category != p.category {
            return Err(field(
                file,
                line,
                "part_of",
                format!(
                    "`{parent}` is {} {}, this pledge {} {}",
                    q.donor, q.category, p.donor, p.category
                ),
            ));
        }
    }
    // Pass 2: allocations and deliveries inherit from their pledge.
    let mut out: Vec<Record> = Vec::with_capacity(raws.len());
    let mut pledges = records.into_iter();
    for (r, &kind) in raws.iter().zip(&kinds) {
        if kind == RecordKind::Pledge {
            out.push(pledges.next().expect("one pledge record per pledge row"));
            continue;
        }
        let pid = token(file, r, c::PLEDGE)?;
        if pid.is_empty() {
            return Err(field(
                file,
                r.line,
                "pledge",
                format!("empty; an {kind} names the id of its pledge"),
            ));
        }
        if !pledge_at.contains_key(pid) {
            return Err(match first_line.get(pid) {
                Some(l) => field(
                    file,
                    r.line,
                    "pledge",
                    format!("`{pid}` is not a pledge (line {l})"),
                ),
                None => field(
                    file,
                    r.line,
                    "pledge",
                    format!("no pledge `{pid}` in this registry"),
                ),
            });
        }
        out.push(Record {
            id: r.fields[c::ID].clone(),
            kind,
            pledge: pid.to_string(),
            donor: String::new(),
            category: Category::Military,
            item: String::new(),
            class: None,
            part_of: None,
            quantity: number(file, r, c::QUANTITY)?,
            unit_value_m: number(file, r, c::UNIT_VALUE)?,
            value_m: number(file, r, c::VALUE)?.unwrap_or(f64::NAN),
            currency: token(file, r, c::CURRENCY)?.to_ascii_uppercase(),
            date: date(file, r)?,
            estimate: estimate(file, r)?,
            source: required(file, r, c::SOURCE, "every figure needs its source")?.to_string(),
            line: r.line,
        });
    }
    let pledges: HashMap<String, Record> = out
        .iter()
        .filter(|x| x.kind == RecordKind::Pledge)
        .map(|x| (x.id.clone(), x.clone()))
        .collect();
    for (rec, r) in out.iter_mut().zip(&raws) {
        if rec.kind == RecordKind::Pledge {
            continue;
        }
        let p = &pledges[&rec.pledge];
        for (i, mine, theirs) in [
            (c::DONOR, r.fields[c::DONOR].as_str(), p.donor.as_str()),
            (c::CURRENCY, rec.currency.as_str(), p.currency.as_str()),
        ] {
            if !mine.is_empty() && !mine.eq_ignore_ascii_case(theirs) {
                return Err(field(
                    file,
                    r.line,
                    REGISTRY_COLUMNS[i],
                    format!("`{mine}`, but pledge `{}` has `{theirs}`", p.id),
                ));
            }
        }
        let cat = r.fields[c::CATEGORY].as_str();
        if !cat.is_empty() && Category::parse(cat) != Some(p.category) {
            return Err(field(
                file,
                r.line,
                "category",
                format!("`{cat}`, but pledge `{}` is {}", p.id, p.category),
            ));
        }
        let class = weapon_class(file, r)?;
        if class.is_some() && class != p.class {
            return Err(field(
                file,
                r.line,
                "class",
                format!(
                    "`{}`, but pledge `{}` has {}",
                    r.fields[c::CLASS],
                    p.id,
                    p.class.map_or("none", |c| c.as_str())
                ),
            ));
        }
        if !r.fields[c::PART_OF].is_empty() {
            return Err(field(
                file,
                r.line,
                "part_of",
                "only a pledge can be part of a package",
            ));
        }
        rec.donor = p.donor.clone();
        rec.category = p.category;
        rec.item = if r.fields[c::ITEM].is_empty() {
            p.item.clone()
        } else {
            text(file, r, c::ITEM)?.to_string()
        };
        rec.class = p.class;
        rec.currency = p.currency.clone();
        // The unit value: the row's own, else the pledge's (given or implied).
        let unit = rec.unit_value_m.or(p.unit_value_m).or(match p.quantity {
            Some(q) if q > 0.0 && p.value_m > 0.0 => Some(p.value_m / q),
            _ => None,
        });
        rec.value_m = match (rec.value_m.is_nan(), rec.quantity, unit) {
            (false, _, _) => rec.value_m,
            (true, Some(q), Some(u)) => q * u,
            (true, Some(_), None) if p.value_m == 0.0 => 0.0,
            _ => {
                return Err(field(
                    file,
                    r.line,
                    "value_m",
                    format!("empty, and no unit value to work it out from (give value_m, or a quantity against pledge `{}` with a unit value)", p.id),
                ))
            }
        };
    }
    Registry::from_records(file, out)
}

fn opt(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

fn weapon_class(file: &str, r: &Raw) -> Result<Option<WeaponClass>> {
    let s = r.fields[c::CLASS].as_str();
    if s.is_empty() {
        return Ok(None);
    }
    WeaponClass::parse(s).map(Some).ok_or_else(|| {
        let all: Vec<&str> = WeaponClass::ALL.iter().map(|c| c.as_str()).collect();
        field(
            file,
            r.line,
            "class",
            format!("`{s}`: expected one of {}", all.join(", ")),
        )
    })
}

fn date(file: &str, r: &Raw) -> Result<NaiveDate> {
    let s = r.fields[c::DATE].as_str();
    if s.is_empty() {
        return Err(field(file, r.line, "date", "empty; expected YYYY-MM-DD"));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
        field(
            file,
            r.line,
            "date",
            format!("`{s}` is not a date YYYY-MM-DD"),
        )
    })
}

fn estimate(file: &str, r: &Raw) -> Result<bool> {
    match r.fields[c::ESTIMATE].to_ascii_lowercase().as_str() {
        "" | "no" | "false" | "0" => Ok(false),
        "yes" | "true" | "1" | "estimate" => Ok(true),
        other => Err(field(
            file,
            r.line,
            "estimate",
            format!("`{other}`: expected yes or no"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "id,kind,pledge,donor,category,item,class,part_of,quantity,unit_value_m,value_m,currency,date,estimate,source\n";

    fn read(rows: &str) -> Result<Registry> {
        Registry::from_csv("registry.csv", format!("{HEAD}{rows}").as_bytes())
    }

    /// One bad row and the exact message it must give.
    #[track_caller]
    fn check_err(rows: &str, expected: &str) {
        match read(rows) {
            Ok(_) => panic!("accepted: {rows}"),
            Err(e) => assert_eq!(e.to_string(), expected),
        }
    }

    #[test]
    fn reads_and_links() {
        let reg = read(
            "P1,pledge,,DE,military,Leopard 2A6,tank,,18,8.5,,EUR,2023-01-25,yes,Bundesregierung\n\
             # a comment line\n\
             P1/a,allocation,P1,,,,,,18,,,,2023-01-25,,Bundesregierung\n\
             P1/d,delivery,P1,de,,,,,10,,,eur,2023-03-27,no,Bundesregierung\n",
        )
        .unwrap();
        assert_eq!(reg.records.len(), 3);
        let d = reg.get("P1/d").unwrap();
        assert_eq!(d.line, 5);
        assert_eq!(
            (d.donor.as_str(), d.category, d.class),
            ("DE", Category::Military, Some(WeaponClass::Tank))
        );
        assert_eq!(d.value_m, 85.0);
        assert_eq!(reg.pledge("P1").unwrap().value_m, 18.0 * 8.5);
        assert!(reg.pledge("P1/a").is_none());
    }

    #[test]
    fn unit_value_implied_by_the_pledge() {
        let reg = read(
            "P,pledge,,US,military,HIMARS,mlrs,,40,,400,USD,2022-06-01,,DoD\n\
             D,delivery,P,,,,,,10,,,,2022-07-01,,DoD\n",
        )
        .unwrap();
        assert_eq!(reg.get("D").unwrap().value_m, 100.0);
    }

    #[test]
    fn errors_name_file_line_field() {
        check_err(
            "P,pledge,,DE,military,x,,,-3,1,,EUR,2023-01-01,,s\n",
            "registry.csv:2: quantity: -3 is negative",
        );
        check_err(
            "P,pledge,,DE,military,x,,,3,1,,EUR,2023-01-01,,s\nP,pledge,,DE,military,x,,,3,1,,EUR,2023-01-01,,s\n",
            "registry.csv:3: id: `P` is already used on line 2",
        );
        check_err(
            "P,promise,,DE,military,x,,,3,1,,EUR,2023-01-01,,s\n",
            "registry.csv:2: kind: `promise`: expected pledge, allocation or delivery",
        );
        check_err(
            "P,pledge,,DE,army,x,,,3,1,,EUR,2023-01-01,,s\n",
            "registry.csv:2: category: `army`: expected military, financial or humanitarian",
        );
        check_err(
            "P,pledge,,DE,military,x,,,3,1,,EUR,2023-13-01,,s\n",
            "registry.csv:2: date: `2023-13-01` is not a date YYYY-MM-DD",
        );
        check_err(
            "P,pledge,,DE,military,x,,,3,1,,EUR,2023-01-01,,\n",
            "registry.csv:2: source: empty; every figure needs its source",
        );
        check_err(
            "P,pledge,,DE,military,x,,,3,1,4,EUR,2023-01-01,,s\n",
            "registry.csv:2: value_m: 4 is not quantity x unit_value_m = 3 x 1 = 3",
        );
        check_err("P,pledge,,DE,military,x,,,,,,EUR,2023-01-01,,s\n", "registry.csv:2: value_m: empty; give value_m, or quantity and unit_value_m (a heavy weapon or a package item may give a quantity alone)");
        check_err(
            "A,allocation,Q,,,,,,1,,1,,2023-01-01,,s\n",
            "registry.csv:2: pledge: no pledge `Q` in this registry",
        );
        check_err(
            "P,pledge,,DE,military,x,,,3,1,,EUR,2023-01-01,,s\nA,allocation,P,FR,,,,,1,,,,2023-01-01,,s\n",
            "registry.csv:3: donor: `FR`, but pledge `P` has `DE`",
        );
        check_err(
            "P,pledge,,DE,financial,x,tank,,3,1,,EUR,2023-01-01,,s\n",
            "registry.csv:2: class: a weapon class on a financial pledge",
        );
        check_err(
            "P,pledge,,DE,military,x,,,3,1,,EUR,2023-01-01,,s,extra\n",
            "registry.csv:2: 16 fields where the header has 15",
        );
        check_err(
            "P,pledge,,DE,military,x,,,three,1,,EUR,2023-01-01,,s\n",
            "registry.csv:2: quantity: `three` is not a number",
        );
        check_err(
            "K,pledge,,DE,military,package,,,,,100,EUR,2023-01-01,,s\nI,pledge,,PL,military,tanks,tank,K,3,,,EUR,2023-01-01,,s\n",
            "registry.csv:3: part_of: `K` is DE military, this pledge PL military",
        );
        let e = Registry::from_csv("r.csv", b"id,kind\nP,pledge\n").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("r.csv:1: header: no column `pledge`"),
            "{e}"
        );
    }

    #[test]
    fn limits() {
        let big = vec![b' '; REGISTRY_BYTES_MAX + 1];
        assert!(matches!(
            Registry::from_csv("r.csv", &big),
            Err(AccountsError::TooLarge { .. })
        ));
    }

    #[test]
    fn package_items_add_units_not_value() {
        let reg = read(
            "K,pledge,,DE,military,Package,,,,,1000,EUR,2023-01-01,,s\n\
             I,pledge,,DE,military,Gepard,air_defence,K,30,,,EUR,2023-01-01,,s\n\
             ID,delivery,I,,,,,,30,,,,2023-06-01,,s\n",
        )
        .unwrap();
        assert!(reg.pledge("K").unwrap().counts_value(&reg));
        assert!(!reg.pledge("I").unwrap().counts_value(&reg));
        assert!(!reg.get("ID").unwrap().counts_value(&reg));
        assert_eq!(reg.get("ID").unwrap().value_m, 0.0);
    }
}
