//! The accounts of a security guarantee: what the guarantors pledged, allocated and
//! delivered, and when the defended country's forces reach their agreed size.
//!
//! Two halves, both pure (bytes and values in, values out; no disk, no clock):
//!
//! - **Pledges.** [`Registry::from_csv`] reads the pledge registry, one row per record
//!   (a pledge, an allocation or a delivery, linked by the pledge's id), and refuses bad
//!   input with the file, line and field at fault. [`figures`] turns it into the
//!   planner's tables: committed, allocated and delivered per country, category or both,
//!   the delivery ratio, the share of GDP ([`GdpTable`]), heavy weapons pledged against
//!   delivered, a monthly series, the largest pledges, and the anomalies (a delivery
//!   beyond its allocation, an allocation beyond its pledge). [`diff`] says what changed
//!   between two versions of the registry and which changes are silent revisions.
//!   Semantics follow the Kiel Institute's Ukraine Support Tracker: *committed* is what
//!   was announced, *allocated* what was earmarked for delivery with its terms
//!   specified, *delivered* what arrived (or, for money, was disbursed).
//! - **Force generation.** [`ForceParams`] (read from the agreement's `[forces]` table)
//!   describes the current strength, monthly intake, training programmes (capacity,
//!   course length, washout), attrition and demobilisation. [`project`] runs a seeded
//!   Monte Carlo (ChaCha8 streams, one per run, so results are identical on every
//!   platform and for every thread count) and returns the well-trained strength per
//!   month with its 10th, 50th and 90th percentiles, the month the target is reached and
//!   the constraint that binds ([`Binding`]). [`svg_projection`] draws it.
//!
//! The equations, the registry format and the sources of every default are in
//! `docs/accounts.md`.
//!
//! ```
//! use truce_accounts::*;
//! let csv = "id,kind,pledge,donor,category,item,class,quantity,unit_value_m,value_m,currency,date,estimate,source\n\
//!            P1,pledge,,DE,military,Leopard 2A6,tank,18,,,EUR,2023-01-25,yes,Federal Government\n\
//!            P1/a,allocation,P1,,,,,18,,,,2023-01-25,,Federal Government\n\
//!            P1/d,delivery,P1,,,,,18,,,,2023-03-27,,Federal Government\n\
//!            P2,pledge,,DE,financial,Budget support,,,,1000,EUR,2023-06-01,,Ministry of Finance\n\
//!            P2/a,allocation,P2,,,,,,,1000,,2023-06-01,,Ministry of Finance\n\
//!            P2/d,delivery,P2,,,,,,,400,,2023-09-01,,Ministry of Finance\n";
//! let reg = Registry::from_csv("registry.csv", csv.as_bytes()).unwrap();
//! let f = figures(&reg, &Rates::new("EUR"), &GdpTable::default(), &FigureOptions::default()).unwrap();
//! assert_eq!(f.total.committed_m, 1000.0); // the tanks carry no value in this registry
//! assert_eq!(f.total.delivered_m, 400.0);
//! assert_eq!(f.heavy[0].delivered_units, 18.0);
//! assert!(f.anomalies.is_empty());
//!
//! // Force generation: 100,000 well-trained, 6,000 recruits a month through one
//! // 13-week course, 1 % lost a month; reaching 150,000 takes a few years.
//! let p: ForceParams = toml::from_str(r#"
//!     target = 150000
//!     start = "2026-01"
//!     well_trained = 100000
//!     intake_per_month = { mean = 6000, sd = 500, month_cv = 0.1 }
//!     attrition_per_month = 0.01
//!     [[programmes]]
//!     name = "national"
//!     trainees_per_month = 8000
//!     course_weeks = 13
//! "#).unwrap();
//! let proj = project(&p, &RunOptions { runs: 1000, ..RunOptions::from_params(&p) }).unwrap();
//! assert!(proj.reach.p50.is_some());
//! assert_eq!(proj.binding, Binding::Recruitment); // seats are never full
//! ```

mod chart;
mod config;
mod diff;
mod figures;
mod force;
mod gdp;
mod registry;
mod rng;

pub use chart::svg_projection;
pub use config::{read_config, AccountsConfig, PledgesConfig, Rates, CONFIG_BYTES_MAX};
pub use diff::{diff, FieldChange, RecordChange, RegistryDiff, TotalsChange};
pub use figures::{
    anomalies, figures, Anomaly, AnomalyKind, FigureOptions, Figures, GroupBy, GroupRow, HeavyRow,
    MonthRow, PledgeRow, Totals,
};
pub use force::{
    project, sensitivity, Binding, BindingShares, Dist, ForceParams, Lever, MonthBand, Programme,
    ProgrammeKind, Projection, Reach, RunOptions, YearMonth, COURSE_WEEKS_MAX, MONTHS_MAX,
    PROGRAMMES_MAX, RUNS_MAX, RUN_MONTHS_MAX,
};
pub use gdp::{GdpRow, GdpTable, GDP_BYTES_MAX, GDP_ROWS_MAX};
pub use registry::{
    Category, Record, RecordKind, Registry, WeaponClass, FIELD_CHARS_MAX, REGISTRY_BYTES_MAX,
    REGISTRY_COLUMNS, REGISTRY_ROWS_MAX,
};
pub use rng::Stream;

/// Errors of the readers and the model; each names the file, line and field or key.
#[derive(Debug, thiserror::Error)]
pub enum AccountsError {
    /// One field of one row holds a bad value.
    #[error("{file}:{line}: {field}: {why}")]
    Field {
        file: String,
        line: u64,
        field: String,
        why: String,
    },
    /// A row that is not valid CSV (bad quoting, wrong number of fields, not UTF-8).
    #[error("{file}:{line}: {why}")]
    Row {
        file: String,
        line: u64,
        why: String,
    },
    /// The header lacks a required column.
    #[error("{file}:1: header: no column `{column}` (the header has: {have})")]
    MissingColumn {
        file: String,
        column: String,
        have: String,
    },
    /// The input is larger than its named limit.
    #[error("{file}: {bytes} bytes is more than the limit of {max} bytes")]
    TooLarge {
        file: String,
        bytes: usize,
        max: usize,
    },
    /// The input has more rows than its named limit.
    #[error("{file}: more than {max} rows")]
    TooManyRows { file: String, max: usize },
    /// A setting of the agreement file is missing, of the wrong type or out of range.
    /// `at` is `file:line` (or just the file when the line is unknown).
    #[error("{at}: {key}: {why}")]
    Setting {
        at: String,
        key: String,
        why: String,
    },
}

/// Results of this crate.
pub type Result<T> = std::result::Result<T, AccountsError>;
