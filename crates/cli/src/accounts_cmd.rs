//! `truce pledges` and `truce forces project`: the agreement's commitments and the
//! force-generation projection. The agreement file is read as TOML and only its
//! `[pledges]` and `[forces]` tables are used; the registry and GDP files it names are
//! relative to it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chrono::NaiveDate;
use clap::{Args, Subcommand, ValueEnum};
use truce_accounts::{
    AccountsConfig, FigureOptions, Figures, GdpTable, GroupBy, Lever, Projection, Reach, Registry,
    RegistryDiff, RunOptions,
};

use crate::commands::Outcome;
use crate::files::{read, write_atomic};

#[derive(Clone, Copy, ValueEnum)]
pub enum By {
    Country,
    Category,
    CountryCategory,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Table {
    /// Committed, allocated, delivered per group (see --by).
    Groups,
    /// Heavy weapons in units, per class and per class and donor.
    Heavy,
    /// Value per month, and cumulated.
    Months,
    /// The largest pledges.
    Top,
    /// Breaks of delivered <= allocated <= committed, and records dated before their
    /// pledge.
    Anomalies,
    /// What changed since --diff's registry.
    Diff,
}

#[derive(Args)]
pub struct PledgesArgs {
    /// The agreement file (TOML); its [pledges] table names the registry, the GDP table
    /// and the exchange rates.
    #[arg(long)]
    pub agreement: PathBuf,
    /// Rows of the main table.
    #[arg(long, value_enum, default_value = "country")]
    pub by: By,
    /// Count only records dated on or after this day (YYYY-MM-DD).
    #[arg(long)]
    pub since: Option<NaiveDate>,
    /// An earlier version of the registry: show what changed since, and which changes
    /// are silent revisions.
    #[arg(long, value_name = "OLD_REGISTRY")]
    pub diff: Option<PathBuf>,
    /// Only this table (with --csv, the one printed; default: groups, or diff with
    /// --diff).
    #[arg(long, value_enum)]
    pub table: Option<Table>,
    /// How many of the largest pledges to list.
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    /// Print one table as CSV.
    #[arg(long, conflicts_with = "json")]
    pub csv: bool,
    /// Print everything as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand)]
pub enum ForcesCommand {
    /// Project well-trained strength month by month (seeded Monte Carlo): when the
    /// target is reached (10th, 50th, 90th percentile) and which constraint binds.
    Project(ProjectArgs),
}

#[derive(Args)]
pub struct ProjectArgs {
    /// The agreement file (TOML); its [forces] table holds the model's parameters.
    #[arg(long)]
    pub agreement: PathBuf,
    /// Monte Carlo runs [default: the agreement's `runs`, else 10000].
    #[arg(long)]
    pub runs: Option<u32>,
    /// Seed [default: the agreement's `seed`].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Horizon in months [default: the agreement's `months`, else 60].
    #[arg(long)]
    pub months: Option<u32>,
    /// Also draw the projection (bands, median, target) into this SVG file.
    #[arg(long, value_name = "OUT.svg")]
    pub svg: Option<PathBuf>,
    /// Print the monthly table as CSV.
    #[arg(long, conflicts_with = "json")]
    pub csv: bool,
    /// Print the projection and the levers as JSON.
    #[arg(long)]
    pub json: bool,
}

fn config(path: &Path) -> Result<AccountsConfig> {
    let bytes = read(path)?;
    let text =
        String::from_utf8(bytes).with_context(|| format!("{}: not UTF-8", path.display()))?;
    Ok(truce_accounts::read_config(
        &path.display().to_string(),
        &text,
    )?)
}

fn beside(agreement: &Path, rel: &str) -> PathBuf {
    agreement.parent().unwrap_or(Path::new(".")).join(rel)
}

fn registry(path: &Path) -> Result<Registry> {
    Ok(Registry::from_csv(
        &path.display().to_string(),
        &read(path)?,
    )?)
}

pub fn pledges(a: PledgesArgs) -> Result<Outcome> {
    let cfg = config(&a.agreement)?;
    let p = cfg
        .pledges
        .with_context(|| format!("{}: no [pledges] table", a.agreement.display()))?;
    let reg = registry(&beside(&a.agreement, &p.registry))?;
    if reg.records.is_empty() {
        return Ok(Outcome::NothingFound(format!("{}: no record", reg.file)));
    }
    let gdp = match &p.gdp {
        Some(g) => {
            let path = beside(&a.agreement, g);
            GdpTable::from_csv(&path.display().to_string(), &read(&path)?)?
        }
        None => GdpTable::default(),
    };
    let rates = p.rates();
    let by = match a.by {
        By::Country => GroupBy::Country,
        By::Category => GroupBy::Category,
        By::CountryCategory => GroupBy::CountryCategory,
    };
    let f = truce_accounts::figures(
        &reg,
        &rates,
        &gdp,
        &FigureOptions {
            by,
            since: a.since,
            top: a.top,
        },
    )?;
    let d = match &a.diff {
        Some(old) => Some(truce_accounts::diff(&registry(old)?, &reg, &rates)?),
        None => None,
    };
    if a.json {
        let v = serde_json::json!({ "figures": f, "diff": d });
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(Outcome::Done);
    }
    let table = a.table.unwrap_or(if d.is_some() && a.csv {
        Table::Diff
    } else {
        Table::Groups
    });
    if a.csv {
        if table == Table::Diff && d.is_none() {
            anyhow::bail!("--table diff needs --diff OLD_REGISTRY");
        }
        print!("{}", csv_table(&f, d.as_ref(), table));
        return Ok(Outcome::Done);
    }
    let counts = |k: truce_accounts::RecordKind| reg.records.iter().filter(|r| r.kind == k).count();
    println!(
        "{}: {} pledges, {} allocations, {} deliveries; millions of {}{}",
        reg.file,
        counts(truce_accounts::RecordKind::Pledge),
        counts(truce_accounts::RecordKind::Allocation),
        counts(truce_accounts::RecordKind::Delivery),
        f.currency,
        a.since
            .map_or(String::new(), |s| format!("; records dated {s} or later"))
    );
    if let Some(e) = f.estimated_share {
        println!(
            "{:.0} % of the committed value rests on figures marked as estimates.",
            100.0 * e
        );
    }
    let all = a.table.is_none();
    if all || table == Table::Groups {
        print!("\n{}", groups_text(&f));
    }
    if all || table == Table::Heavy {
        print!("\n{}", heavy_text(&f));
    }
    if all || table == Table::Top {
        print!("\n{}", top_text(&f));
    }
    if all || table == Table::Months {
        print!("\n{}", months_text(&f, all));
    }
    if all || table == Table::Anomalies {
        if f.anomalies.is_empty() {
            println!("\nAnomalies: none (delivered <= allocated <= committed for every pledge).");
        } else {
            println!("\nAnomalies ({}):", f.anomalies.len());
            for x in &f.anomalies {
                println!("  {}:{}: {}: {}", reg.file, x.line, x.pledge, x.detail);
            }
        }
    }
    if let Some(d) = &d {
        if all || table == Table::Diff {
            print!("\n{}", diff_text(d));
        }
    }
    if !f.no_gdp.is_empty() {
        eprintln!(
            "no GDP row for: {} (no share of GDP for them)",
            f.no_gdp.join(", ")
        );
    }
    Ok(Outcome::Done)
}

fn m(x: f64) -> String {
    // Millions with thousands separators.
    let s = format!("{:.0}", x.abs());
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if x < -0.5 {
        format!("-{out}")
    } else {
        out
    }
}

fn pct(x: Option<f64>, digits: usize) -> String {
    x.map_or("-".into(), |v| format!("{:.*}", digits, 100.0 * v))
}

fn label(g: &truce_accounts::GroupRow) -> String {
    match (&g.name, g.category) {
        (Some(n), Some(c)) => format!("{n} / {c}"),
        (Some(n), None) => n.clone(),
        (None, Some(c)) => c.to_string(),
        (None, None) => "-".into(),
    }
}

fn groups_text(f: &Figures) -> String {
    let mut s = String::new();
    let by = match f.by {
        GroupBy::Country => "donor",
        GroupBy::Category => "category",
        GroupBy::CountryCategory => "donor / category",
    };
    let _ = writeln!(
        s,
        "{:<40} {:>10} {:>10} {:>10} {:>8} {:>9} {:>9} {:>7}",
        format!("By {by}"),
        "committed",
        "allocated",
        "delivered",
        "deliv %",
        "comm %GDP",
        "deliv %GDP",
        "pledges"
    );
    for g in &f.groups {
        let _ = writeln!(
            s,
            "{:<40} {:>10} {:>10} {:>10} {:>8} {:>9} {:>9} {:>7}",
            label(g),
            m(g.totals.committed_m),
            m(g.totals.allocated_m),
            m(g.totals.delivered_m),
            pct(g.delivery_ratio, 1),
            g.committed_gdp_pct
                .map_or("-".into(), |v| format!("{v:.3}")),
            g.delivered_gdp_pct
                .map_or("-".into(), |v| format!("{v:.3}")),
            if g.estimated > 0 {
                format!("{} ({}e)", g.pledges, g.estimated)
            } else {
                g.pledges.to_string()
            }
        );
    }
    let t = &f.total;
    let _ = writeln!(
        s,
        "{:<40} {:>10} {:>10} {:>10} {:>8}",
        "Total",
        m(t.committed_m),
        m(t.allocated_m),
        m(t.delivered_m),
        pct(t.delivery_ratio(), 1)
    );
    let _ = writeln!(s, "(Ne: N pledges, e of them resting on estimates; %GDP: share of the donor's latest GDP in the table)");
    s
}

fn heavy_text(f: &Figures) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<22} {:>10} {:>10} {:>10} {:>8}  donors",
        "Heavy weapons (units)", "committed", "allocated", "delivered", "deliv %"
    );
    for h in f.heavy.iter().filter(|h| h.donor.is_none()) {
        let donors: Vec<String> = f
            .heavy
            .iter()
            .filter(|x| x.class == h.class && x.donor.is_some())
            .map(|x| {
                format!(
                    "{} {:.0}/{:.0}",
                    x.donor.as_deref().unwrap_or(""),
                    x.delivered_units,
                    x.committed_units
                )
            })
            .collect();
        let _ = writeln!(
            s,
            "{:<22} {:>10.0} {:>10.0} {:>10.0} {:>8}  {}",
            h.class.as_str(),
            h.committed_units,
            h.allocated_units,
            h.delivered_units,
            pct(h.delivery_ratio, 0),
            donors.join(", ")
        );
    }
    if f.heavy.is_empty() {
        let _ = writeln!(s, "(none in the registry)");
    }
    s
}

fn top_text(f: &Figures) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<12} {:<6} {:<13} {:>10} {:>10} {:>8}  item",
        "Largest", "donor", "category", "committed", "delivered", "deliv %"
    );
    for p in &f.top {
        let item: String = p.item.chars().take(58).collect();
        let _ = writeln!(
            s,
            "{:<12} {:<6} {:<13} {:>10} {:>10} {:>8}  {}{}",
            p.id,
            p.donor,
            p.category.as_str(),
            m(p.totals.committed_m),
            m(p.totals.delivered_m),
            pct(p.delivery_ratio, 1),
            item,
            if p.estimate { " (estimate)" } else { "" }
        );
    }
    s
}

fn months_text(f: &Figures, short: bool) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<8} {:>10} {:>10} {:>10}   cumulative: {:>10} {:>10} {:>10}{}",
        "Month",
        "committed",
        "allocated",
        "delivered",
        "committed",
        "allocated",
        "delivered",
        if short {
            "  (year ends and the last month; --table months for all)"
        } else {
            ""
        }
    );
    let n = f.months.len();
    for (i, r) in f.months.iter().enumerate() {
        if short && !(r.month.ends_with("-12") || i + 1 == n) {
            continue;
        }
        let _ = writeln!(
            s,
            "{:<8} {:>10} {:>10} {:>10}               {:>10} {:>10} {:>10}",
            r.month,
            m(r.committed_m),
            m(r.allocated_m),
            m(r.delivered_m),
            m(r.cumulative_committed_m),
            m(r.cumulative_allocated_m),
            m(r.cumulative_delivered_m)
        );
    }
    s
}

fn diff_text(d: &RegistryDiff) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Changes from {} to {}: {} added ({} back-dated), {} removed, {} revised; {} silent",
        d.old_file,
        d.new_file,
        d.added.len(),
        d.backdated.len(),
        d.removed.len(),
        d.changed.len(),
        d.silent_count()
    );
    for c in &d.changed {
        let fields: Vec<String> = c
            .fields
            .iter()
            .map(|f| format!("{}: {} -> {}", f.field, f.old, f.new))
            .collect();
        let _ = writeln!(
            s,
            "  revised {:<12} (line {} -> {}){} {}",
            c.id,
            c.old_line,
            c.new_line,
            if c.silent {
                " SILENT (source unchanged):"
            } else {
                ":"
            },
            fields.join("; ")
        );
    }
    for r in &d.added {
        let back = d.backdated.contains(&r.id);
        let _ = writeln!(
            s,
            "  added   {:<12} {} {} {} {}{}",
            r.id,
            r.kind,
            r.date,
            m(r.value_m),
            r.currency,
            if back {
                "  BACK-DATED (on or before the old version's latest record)"
            } else {
                ""
            }
        );
    }
    for r in &d.removed {
        let _ = writeln!(
            s,
            "  removed {:<12} {} {} (was line {})",
            r.id, r.kind, r.date, r.line
        );
    }
    if !d.totals.is_empty() {
        let _ = writeln!(
            s,
            "  totals moved (millions): donor  committed  allocated  delivered  (old -> new)"
        );
        for t in &d.totals {
            let _ = writeln!(
                s,
                "    {:<6} {} -> {}   {} -> {}   {} -> {}",
                t.donor,
                m(t.old.committed_m),
                m(t.new.committed_m),
                m(t.old.allocated_m),
                m(t.new.allocated_m),
                m(t.old.delivered_m),
                m(t.new.delivered_m)
            );
        }
    }
    s
}

/// One CSV field, quoted when it needs to be.
fn q(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn num(x: Option<f64>) -> String {
    x.map_or(String::new(), |v| format!("{v}"))
}

fn csv_table(f: &Figures, d: Option<&RegistryDiff>, t: Table) -> String {
    let mut s = String::new();
    match t {
        Table::Groups => {
            s += "donor,name,category,committed_m,allocated_m,delivered_m,delivery_ratio,allocation_ratio,gdp_m,committed_gdp_pct,delivered_gdp_pct,pledges,estimated\n";
            for g in &f.groups {
                let _ = writeln!(
                    s,
                    "{},{},{},{},{},{},{},{},{},{},{},{},{}",
                    q(g.donor.as_deref().unwrap_or("")),
                    q(g.name.as_deref().unwrap_or("")),
                    g.category.map_or("", |c| c.as_str()),
                    g.totals.committed_m,
                    g.totals.allocated_m,
                    g.totals.delivered_m,
                    num(g.delivery_ratio),
                    num(g.allocation_ratio),
                    num(g.gdp_m),
                    num(g.committed_gdp_pct),
                    num(g.delivered_gdp_pct),
                    g.pledges,
                    g.estimated
                );
            }
        }
        Table::Heavy => {
            s += "class,donor,committed_units,allocated_units,delivered_units,delivery_ratio\n";
            for h in &f.heavy {
                let _ = writeln!(
                    s,
                    "{},{},{},{},{},{}",
                    h.class.as_str(),
                    q(h.donor.as_deref().unwrap_or("")),
                    h.committed_units,
                    h.allocated_units,
                    h.delivered_units,
                    num(h.delivery_ratio)
                );
            }
        }
        Table::Months => {
            s += "month,committed_m,allocated_m,delivered_m,cumulative_committed_m,cumulative_allocated_m,cumulative_delivered_m\n";
            for r in &f.months {
                let _ = writeln!(
                    s,
                    "{},{},{},{},{},{},{}",
                    r.month,
                    r.committed_m,
                    r.allocated_m,
                    r.delivered_m,
                    r.cumulative_committed_m,
                    r.cumulative_allocated_m,
                    r.cumulative_delivered_m
                );
            }
        }
        Table::Top => {
            s += "id,donor,category,item,date,committed_m,allocated_m,delivered_m,delivery_ratio,estimate,source\n";
            for p in &f.top {
                let _ = writeln!(
                    s,
                    "{},{},{},{},{},{},{},{},{},{},{}",
                    q(&p.id),
                    q(&p.donor),
                    p.category.as_str(),
                    q(&p.item),
                    p.date,
                    p.totals.committed_m,
                    p.totals.allocated_m,
                    p.totals.delivered_m,
                    num(p.delivery_ratio),
                    if p.estimate { "yes" } else { "no" },
                    q(&p.source)
                );
            }
        }
        Table::Anomalies => {
            s += "pledge,line,kind,detail\n";
            for a in &f.anomalies {
                let kind = serde_json::to_value(a.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default();
                let _ = writeln!(s, "{},{},{},{}", q(&a.pledge), a.line, kind, q(&a.detail));
            }
        }
        Table::Diff => {
            s += "change,id,kind,donor,field,old,new,silent\n";
            if let Some(d) = d {
                for c in &d.changed {
                    for fc in &c.fields {
                        let _ = writeln!(
                            s,
                            "revised,{},{},{},{},{},{},{}",
                            q(&c.id),
                            c.kind,
                            q(&c.donor),
                            fc.field,
                            q(&fc.old),
                            q(&fc.new),
                            c.silent
                        );
                    }
                }
                for r in &d.added {
                    let back = d.backdated.contains(&r.id);
                    let _ = writeln!(
                        s,
                        "added,{},{},{},value_m,,{},{}",
                        q(&r.id),
                        r.kind,
                        q(&r.donor),
                        r.value_m,
                        back
                    );
                }
                for r in &d.removed {
                    let _ = writeln!(
                        s,
                        "removed,{},{},{},value_m,{},,false",
                        q(&r.id),
                        r.kind,
                        q(&r.donor),
                        r.value_m
                    );
                }
            }
        }
    }
    s
}

pub fn forces(c: ForcesCommand) -> Result<Outcome> {
    match c {
        ForcesCommand::Project(a) => project(a),
    }
}

fn people(x: f64) -> String {
    m(x)
}

fn project(a: ProjectArgs) -> Result<Outcome> {
    let cfg = config(&a.agreement)?;
    let p = cfg
        .forces
        .with_context(|| format!("{}: no [forces] table", a.agreement.display()))?;
    let mut o = RunOptions::from_params(&p);
    if let Some(r) = a.runs {
        o.runs = r;
    }
    if let Some(s) = a.seed {
        o.seed = s;
    }
    if let Some(mo) = a.months {
        o.months = mo;
    }
    let t = std::time::Instant::now();
    let proj = truce_accounts::project(&p, &o)?;
    let levers = truce_accounts::sensitivity(&p, &o, &proj, 0.10)?;
    let elapsed = t.elapsed().as_secs_f64();
    if let Some(path) = &a.svg {
        let title = format!(
            "Well-trained strength toward {}: projection from {}",
            people(p.target),
            p.start
        );
        write_atomic(
            path,
            truce_accounts::svg_projection(&proj, &title).as_bytes(),
        )?;
        eprintln!("chart -> {}", path.display());
    }
    if a.json {
        let v = serde_json::json!({ "projection": proj, "levers": levers });
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(Outcome::Done);
    }
    if a.csv {
        println!("month,well_trained_p10,well_trained_p50,well_trained_p90,well_trained_mean,deterministic,strength_p50,entries_p50,seats_full_share");
        for b in &proj.months {
            println!(
                "{},{:.0},{:.0},{:.0},{:.0},{:.0},{:.0},{:.0},{:.4}",
                b.month,
                b.p10,
                b.p50,
                b.p90,
                b.mean,
                b.deterministic,
                b.strength_p50,
                b.entries_p50,
                b.seats_full_share
            );
        }
        return Ok(Outcome::Done);
    }
    print!("{}", projection_text(&p, &proj, &levers));
    eprintln!(
        "{} runs x {} months (and 3 x that for the levers) in {:.2} s",
        o.runs, o.months, elapsed
    );
    Ok(Outcome::Done)
}

fn projection_text(p: &truce_accounts::ForceParams, proj: &Projection, levers: &[Lever]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Force generation from {}: target {} well-trained; {} runs, seed {}, {} months",
        p.start,
        people(p.target),
        proj.options.runs,
        proj.options.seed,
        proj.options.months
    );
    let _ = writeln!(
        s,
        "  start: {} well-trained (sd {}), {} serving to be trained; intake {} a month; losses {:.2} % a month; demobilisation {} a month",
        people(p.well_trained.mean),
        people(p.well_trained.sd),
        people(p.untrained.mean),
        people(p.intake_per_month.mean),
        100.0 * p.attrition_per_month.mean,
        people(p.demobilisation_per_month.mean)
    );
    for g in &p.programmes {
        let _ = writeln!(
            s,
            "  programme: {} ({}): {} a month, {} weeks, washout {:.0} %",
            g.name,
            match g.kind {
                truce_accounts::ProgrammeKind::National => "national",
                truce_accounts::ProgrammeKind::Partner => "partner",
            },
            people(g.trainees_per_month.mean),
            g.course_weeks,
            100.0 * g.washout.mean
        );
    }
    let r = &proj.reach;
    let _ = writeln!(
        s,
        "\nTarget reached: median {}, 10th percentile {}, 90th percentile {} ({:.1} % of runs within the horizon; without randomness: {})",
        Reach::label(r.p50),
        Reach::label(r.p10),
        Reach::label(r.p90),
        100.0 * r.share_reached,
        Reach::label(r.deterministic)
    );
    let b = &proj.binding_shares;
    let _ = writeln!(
        s,
        "Binding constraint: {} (runs: training capacity {:.1} %, recruitment {:.1} %, attrition {:.1} %)",
        proj.binding,
        100.0 * b.training_capacity,
        100.0 * b.recruitment,
        100.0 * b.attrition
    );
    let _ = writeln!(
        s,
        "\n{:<28} {:>16} {:>14} {:>18}",
        "Lever (same random numbers)", "median month", "months earlier", "median at horizon"
    );
    for l in levers {
        let _ = writeln!(
            s,
            "{:<28} {:>16} {:>14} {:>18}",
            l.lever,
            Reach::label(l.reach_p50),
            l.months_earlier.map_or("-".into(), |x| x.to_string()),
            people(l.final_p50)
        );
    }
    let _ = writeln!(
        s,
        "\n{:<8} {:>10} {:>10} {:>10} {:>13} {:>12} {:>10} {:>11}",
        "Month", "p10", "median", "p90", "no-randomness", "all serving", "entries", "seats full"
    );
    let n = proj.months.len();
    for (i, m) in proj.months.iter().enumerate() {
        if i % 3 != 2 && i + 1 != n {
            continue;
        }
        let _ = writeln!(
            s,
            "{:<8} {:>10} {:>10} {:>10} {:>13} {:>12} {:>10} {:>10.0}%",
            m.month.to_string(),
            people(m.p10),
            people(m.p50),
            people(m.p90),
            people(m.deterministic),
            people(m.strength_p50),
            people(m.entries_p50),
            100.0 * m.seats_full_share
        );
    }
    let _ = writeln!(
        s,
        "(well-trained strength after each month, every third month shown; --csv for all)"
    );
    s
}
