//! `truce agreement check`, `truce incidents`, `truce decide`, `truce obligations` and
//! `truce act`: the agreement applied to a data directory (see [`crate::assess`]).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};
use serde_json::json;
use truce_agreement::{Agreement, ZoneShape};
use truce_incidents::{Decision, Verdict};
use truce_log::{Entry, EntryKind};
use truce_obligations::{events, Action, Status};

use crate::assess::{append_line, assess, load_agreement, load_geometry, Assessment};
use crate::commands::Outcome;

#[derive(Subcommand)]
pub enum AgreementCommand {
    /// Validate an agreement file and print what it says: parties, zones, rules, clauses.
    Check {
        /// The agreement (TOML).
        file: PathBuf,
    },
}

/// Options shared by every command that applies an agreement to a data directory.
#[derive(Args, Clone)]
pub struct Common {
    /// The agreement file (TOML), e.g. examples/ukraine-2025.toml.
    #[arg(long)]
    pub agreement: PathBuf,
    /// The data directory (observations/, decisions.jsonl, actions.jsonl, log/).
    #[arg(long)]
    pub data: PathBuf,
    /// The instant to evaluate at (RFC 3339, or YYYY-MM-DD for the end of that day UTC);
    /// default: now.
    #[arg(long, value_parser = parse_instant)]
    pub at: Option<DateTime<Utc>>,
    /// Replay: apply the agreement as if its ceasefire had started at this instant (RFC
    /// 3339 or YYYY-MM-DD for midnight UTC), e.g. to see what it would have flagged in
    /// past data. Said in every output.
    #[arg(long, value_parser = parse_start)]
    pub ceasefire_from: Option<DateTime<Utc>>,
}

pub fn parse_start(s: &str) -> Result<DateTime<Utc>, String> {
    match chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        Ok(d) => Ok(d.and_hms_opt(0, 0, 0).expect("midnight").and_utc()),
        Err(_) => parse_instant(s),
    }
}

pub fn parse_instant(s: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d.and_hms_milli_opt(23, 59, 59, 999).expect("valid").and_utc());
    }
    Err(format!("`{s}` is neither RFC 3339 (2026-01-10T08:00:00Z) nor a date (2026-01-10)"))
}

impl Common {
    fn at(&self) -> DateTime<Utc> {
        self.at.unwrap_or_else(Utc::now)
    }
    fn run(&self) -> Result<(Agreement, Assessment)> {
        let mut a = load_agreement(&self.agreement)?;
        if let Some(t) = self.ceasefire_from {
            eprintln!("REPLAY: ceasefire taken to start {} (the agreement says {})", t.format("%Y-%m-%d %H:%M UTC"), a.ceasefire_start.format("%Y-%m-%d %H:%M UTC"));
            a = a.with_ceasefire_start(t);
        }
        let geo = load_geometry(&a)?;
        if !self.data.is_dir() {
            bail!("{}: no such data directory (ingest into {}/observations first)", self.data.display(), self.data.display());
        }
        let s = assess(&a, &geo, &self.data, self.at(), self.ceasefire_from.is_some())?;
        for n in &s.notes {
            eprintln!("{n}");
        }
        Ok((a, s))
    }
}

#[derive(Args)]
pub struct IncidentsArgs {
    #[command(flatten)]
    pub common: Common,
    /// Write every incident with its placement, standing and violations as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Write the violating incidents as GeoJSON points here.
    #[arg(long)]
    pub geojson: Option<PathBuf>,
    /// How many of the latest violating incidents to list.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
}

#[derive(Args)]
pub struct DecideArgs {
    #[command(flatten)]
    pub common: Common,
    /// The incident (`I-...`, as `truce incidents` lists it).
    #[arg(long)]
    pub incident: String,
    /// Confirm that the incident happened.
    #[arg(long, conflicts_with = "reject", required_unless_present = "reject")]
    pub confirm: bool,
    /// Reject it (a false detection, a duplicate, not what it seemed).
    #[arg(long)]
    pub reject: bool,
    /// Why (required; goes into the evidence log).
    #[arg(long)]
    pub reason: String,
    /// The analyst's id.
    #[arg(long)]
    pub analyst: String,
    /// Sign a new log checkpoint with this key after appending.
    #[arg(long)]
    pub key: Option<PathBuf>,
}

#[derive(Args)]
pub struct ObligationsArgs {
    #[command(flatten)]
    pub common: Common,
    /// Only this party's obligations.
    #[arg(long)]
    pub party: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Append obligation events (raised, fulfilled, breached, withdrawn) not yet in the
    /// data directory's evidence log.
    #[arg(long)]
    pub record: bool,
    /// With --record: sign a new checkpoint with this key.
    #[arg(long)]
    pub key: Option<PathBuf>,
}

#[derive(Args)]
pub struct ActArgs {
    #[command(flatten)]
    pub common: Common,
    /// The obligation's id, as `truce obligations` prints it.
    #[arg(long)]
    pub obligation: String,
    /// The party that acted (must be the obligation's party).
    #[arg(long)]
    pub party: String,
    /// What was done.
    #[arg(long)]
    pub note: String,
    /// Who records it (a liaison's id).
    #[arg(long)]
    pub by: String,
    /// Sign a new log checkpoint with this key after appending.
    #[arg(long)]
    pub key: Option<PathBuf>,
}

pub fn agreement(c: AgreementCommand) -> Result<Outcome> {
    match c {
        AgreementCommand::Check { file } => check(&file),
    }
}

fn check(file: &Path) -> Result<Outcome> {
    let a = load_agreement(file)?;
    println!("{} ({}), version {}, sha256 {}", a.title, a.id, a.version, &a.sha256[..16]);
    println!("ceasefire from {}", a.ceasefire_start.format("%Y-%m-%d %H:%M UTC"));
    println!("\nparties:");
    for p in &a.parties {
        let roles: Vec<&str> = p.roles.iter().map(|r| r.group()).collect();
        println!("  {:<6} {:<32} {}", p.id, p.name, roles.join(", "));
    }
    for (g, m) in &a.groups {
        println!("  group {g}: {}", m.join(", "));
    }
    println!("\nzones:");
    for z in &a.zones {
        let shape = match &z.shape {
            ZoneShape::Band { side, min_km, max_km } => format!("{side:?} side, {min_km}-{max_km} km from the line").to_lowercase(),
            ZoneShape::File(f) => format!("area from {f}"),
            ZoneShape::BBox(b) => format!("box {b:?}"),
            ZoneShape::Regions(r) => format!("regions {}", r.join(", ")),
        };
        println!("  {:<40} {shape}", z.name);
    }
    println!("\nrules:");
    for r in &a.rules {
        let kinds: Vec<&str> = r.kinds.iter().map(|k| k.as_str()).collect();
        println!("  {:<32} severity {}  kinds {}  zones {}", r.id, r.severity, kinds.join("/"), if r.zones.is_empty() { "any".into() } else { r.zones.join("/") });
    }
    println!("\nclauses:");
    for c in &a.clauses {
        println!("  {}: {}", c.id, c.title);
        println!("    when {}", c.when);
        for d in &c.duties {
            println!("    then {} ({}) must {} within {}", d.party, d.parties.join(", "), d.action, truce_agreement::duration_words(d.within));
        }
        if let Some(l) = &c.lest {
            println!("    lest {l}");
        }
    }
    // Geometry and its files are checked too: an agreement whose line cannot load is not valid.
    let geo = load_geometry(&a)?;
    println!("\ngeometry: {} control snapshot(s), {} regions, {} zones", geo.map.len(), geo.country.regions.len(), geo.zones.len());
    Ok(Outcome::Done)
}

fn ts(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms).unwrap_or_default().format("%Y-%m-%d %H:%M").to_string()
}

pub fn incidents(a: IncidentsArgs) -> Result<Outcome> {
    let (agr, s) = a.common.run()?;
    let mut by_conf: BTreeMap<String, usize> = BTreeMap::new();
    for st in &s.standings {
        *by_conf.entry(st.confidence().map_or("rejected".into(), |c| c.as_str().to_string())).or_default() += 1;
    }
    println!("{} incidents at {} ({} observations known then; incidents from the start of the rules on)", s.incidents.len(), s.at.format("%Y-%m-%d %H:%M UTC"), s.observations);
    for (c, n) in &by_conf {
        println!("  {c:<14} {n}");
    }
    let mut by_rule: BTreeMap<&str, usize> = BTreeMap::new();
    for v in &s.violations {
        *by_rule.entry(&v.rule).or_default() += 1;
    }
    println!("\nviolations by rule ({} in all):", s.violations.len());
    for r in &agr.rules {
        println!("  {:<28} {:>7}   {}", r.id, by_rule.get(r.id.as_str()).copied().unwrap_or(0), r.title);
    }
    let flagged: Vec<usize> = {
        let mut v: Vec<usize> = s.violations.iter().map(|v| v.incident).collect::<BTreeSet<_>>().into_iter().collect();
        v.sort_by_key(|&i| std::cmp::Reverse((s.incidents[i].start_ms, i)));
        v
    };
    if !flagged.is_empty() {
        println!("\nlatest violating incidents:");
        for &i in flagged.iter().take(a.limit) {
            let inc = &s.incidents[i];
            let rules: Vec<&str> = s.violations.iter().filter(|v| v.incident == i).map(|v| v.rule.as_str()).collect();
            let kinds: Vec<&str> = inc.kinds.iter().map(|k| k.as_str()).collect();
            let conf = s.standings[i].confidence().map_or("rejected", |c| c.as_str());
            println!("  {}  {}  {} [{}]  {}  {}", ts(inc.start_ms), inc.id, kinds.join("+"), conf, rules.join(","), s.wheres[i].text);
        }
    }
    if !s.gaps.is_empty() {
        println!("\ncoverage gaps ({}), not calm:", s.gaps.len());
        for g in s.gaps.iter().take(a.limit) {
            println!("  {} to {}  {}  {}  {}", g.time.start.format("%Y-%m-%d %H:%M"), g.time.end.format("%Y-%m-%d %H:%M"), g.source, g.reason, g.note);
        }
    }
    if let Some(p) = &a.json {
        let items: Vec<serde_json::Value> = s
            .incidents
            .iter()
            .enumerate()
            .map(|(i, inc)| {
                json!({
                    "incident": inc,
                    "placement": s.placements[i],
                    "where": s.wheres[i].text,
                    "confidence": s.standings[i].confidence().map_or("rejected", |c| c.as_str()),
                    "violations": s.violations.iter().filter(|v| v.incident == i).collect::<Vec<_>>(),
                })
            })
            .collect();
        let doc = json!({"agreement": agr.id, "agreement_sha256": agr.sha256, "at": s.at, "incidents": items, "gaps": s.gaps});
        crate::files::write_atomic(p, serde_json::to_string_pretty(&doc)?.as_bytes())?;
        println!("\nwrote {}", p.display());
    }
    if let Some(p) = &a.geojson {
        let feats: Vec<serde_json::Value> = flagged
            .iter()
            .map(|&i| {
                let inc = &s.incidents[i];
                json!({
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [inc.lon, inc.lat]},
                    "properties": {
                        "id": inc.id, "start": ts(inc.start_ms), "kinds": inc.kinds, "sources": inc.sources,
                        "confidence": s.standings[i].confidence().map_or("rejected", |c| c.as_str()),
                        "rules": s.violations.iter().filter(|v| v.incident == i).map(|v| v.rule.clone()).collect::<Vec<_>>(),
                        "where": s.wheres[i].text, "uncertainty_m": inc.uncertainty_m,
                    }
                })
            })
            .collect();
        let doc = json!({"type": "FeatureCollection", "features": feats});
        crate::files::write_atomic(p, serde_json::to_string(&doc)?.as_bytes())?;
        println!("wrote {}", p.display());
    }
    Ok(Outcome::Done)
}

/// The data directory's evidence log, if it has one.
pub fn open_log(data: &Path) -> Result<Option<truce_log::Log>> {
    let dir = data.join("log");
    if !dir.exists() {
        return Ok(None);
    }
    Ok(Some(truce_log::Log::open(&dir).with_context(|| format!("{}: cannot open the evidence log", dir.display()))?))
}

/// Appends entries to the data directory's log (if it has one) and, with a key, signs a
/// checkpoint. Returns the appended range.
pub fn append_log(data: &Path, entries: Vec<Entry>, key: Option<&Path>) -> Result<Option<std::ops::Range<u64>>> {
    let Some(mut log) = open_log(data)? else {
        if key.is_some() {
            bail!("--key given but {} has no log/ (create one with `truce log init {}/log`)", data.display(), data.display());
        }
        return Ok(None);
    };
    if entries.is_empty() {
        return Ok(None);
    }
    let r = log.append_batch(&entries)?;
    println!("evidence log: entries {}..{} appended, durable", r.start, r.end);
    if let Some(k) = key {
        log.set_signer(truce_log::keys::load_signer(k)?)?;
        print!("{}", log.checkpoint()?);
    }
    Ok(Some(r))
}

fn rfc(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Why a decision or an action was refused, so that the server can answer with the right
/// status; the command line prints the message alone.
#[derive(Debug)]
pub enum Refusal {
    /// No such incident or obligation at the instant.
    NotFound(String),
    /// A field is empty, too long or malformed.
    Invalid(String),
    /// The obligation is another party's.
    NotYours(String),
    /// The obligation is already fulfilled or withdrawn.
    Conflict(String),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::NotFound(m) | Refusal::Invalid(m) | Refusal::NotYours(m) | Refusal::Conflict(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Refusal {}

/// A decision checked against the assessment, with the log entry that records it.
pub struct CheckedDecision {
    pub decision: Decision,
    pub entry: Entry,
    /// Index of the incident in the assessment.
    pub incident: usize,
    /// Its confidence before the decision.
    pub before: &'static str,
}

/// Checks an analyst's decision as `truce decide` does: the incident must exist at the
/// assessment's instant, and the fields must be valid. Nothing is written.
pub fn check_decision(agr: &Agreement, s: &Assessment, incident: &str, confirm: bool, reason: &str, analyst: &str) -> Result<CheckedDecision> {
    let Some(i) = s.incidents.iter().position(|inc| truce_incidents::names(incident, inc)) else {
        return Err(Refusal::NotFound(format!(
            "incident `{incident}`: no such incident at {} (list them with `truce incidents`)",
            s.at.format("%Y-%m-%d %H:%M UTC")
        ))
        .into());
    };
    let inc = &s.incidents[i];
    let d = Decision {
        incident: inc.id.clone(),
        verdict: if confirm { Verdict::Confirm } else { Verdict::Reject },
        reason: reason.to_string(),
        analyst: analyst.to_string(),
        at: s.at,
    };
    d.validate().map_err(|e| Refusal::Invalid(format!("decision: {e}")))?;
    let before = s.standings[i].confidence().map_or("rejected", |c| c.as_str());
    let body = json!({
        "incident": d.incident, "members": inc.member_ids, "verdict": if confirm { "confirm" } else { "reject" },
        "reason": d.reason, "analyst": d.analyst, "at": rfc(d.at), "recorded_at": rfc(Utc::now()), "before": before,
        "agreement": agr.id, "agreement_sha256": agr.sha256,
    });
    let entry = Entry::new(EntryKind::IncidentDecision, body)?;
    Ok(CheckedDecision { decision: d, entry, incident: i, before })
}

/// Records a checked decision: the log first (a decision that is not in the log is not
/// recorded at all), then `decisions.jsonl`. Returns the log range, if there is a log.
pub fn write_decision(data: &Path, c: &CheckedDecision, key: Option<&Path>) -> Result<Option<std::ops::Range<u64>>> {
    let r = append_log(data, vec![c.entry.clone()], key)?;
    append_line(&data.join("decisions.jsonl"), &serde_json::to_string(&c.decision)?)?;
    Ok(r)
}

pub fn decide(a: DecideArgs) -> Result<Outcome> {
    let (agr, s) = a.common.run()?;
    let c = check_decision(&agr, &s, &a.incident, a.confirm, &a.reason, &a.analyst)?;
    write_decision(&a.common.data, &c, a.key.as_deref())?;
    let d = &c.decision;
    println!("{} {} ({}, was {}) by {}: {}", if a.confirm { "confirmed" } else { "rejected" }, d.incident, s.wheres[c.incident].text, c.before, d.analyst, d.reason);
    Ok(Outcome::Done)
}

pub fn obligations(a: ObligationsArgs) -> Result<Outcome> {
    let (agr, s) = a.common.run()?;
    if let Some(p) = &a.party {
        if agr.party(p).is_none() {
            bail!("--party {p}: no such party in {} (parties: {})", agr.file, agr.parties.iter().map(|p| p.id.as_str()).collect::<Vec<_>>().join(", "));
        }
    }
    let obs: Vec<&truce_obligations::Obligation> =
        s.evaluation.obligations.iter().filter(|o| a.party.as_deref().is_none_or(|p| o.party == p)).collect();
    if a.json {
        println!("{}", serde_json::to_string_pretty(&json!({"agreement": agr.id, "agreement_sha256": agr.sha256, "at": s.at, "obligations": obs}))?);
    } else {
        println!("obligations under {} (version {}) at {}", agr.title, agr.version, s.at.format("%Y-%m-%d %H:%M UTC"));
        if obs.is_empty() {
            println!("  none: no clause has triggered");
        }
        let mut count: BTreeMap<&str, usize> = BTreeMap::new();
        for o in &obs {
            *count.entry(o.status.as_str()).or_default() += 1;
            let left = match o.status {
                Status::Pending => format!("due in {}", human_left(o.deadline - s.at)),
                Status::Fulfilled => format!("done {}", o.fulfilled.map(|f| f.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default()),
                Status::Breached => match o.fulfilled {
                    Some(f) => format!("done late {}", f.format("%Y-%m-%d %H:%M")),
                    None => format!("missed by {}", human_left(s.at - o.deadline)),
                },
                Status::Withdrawn => format!("withdrawn {}", o.withdrawn.map(|f| f.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default()),
            };
            println!("\n  {:<9} {:<5} must {} by {} ({left})", o.status.as_str().to_uppercase(), o.party, o.action, o.deadline.format("%Y-%m-%d %H:%M UTC"));
            println!("            id {}", o.id);
            println!("            clause {}: {}; triggered {}", o.clause, o.title, o.triggered.format("%Y-%m-%d %H:%M UTC"));
            println!("            because {}", o.because.condition);
            for (inc, rules) in o.because.incidents.iter().take(5) {
                println!("              {inc} ({})", if rules.is_empty() { "incident".into() } else { rules.join(", ") });
            }
            if o.because.incidents.len() > 5 {
                println!("              ... and {} more", o.because.incidents.len() - 5);
            }
            for b in &o.because.breached {
                println!("              breach of {b}");
            }
            if let (Status::Breached, Some(l)) = (o.status, &o.lest) {
                println!("            lest: {l}");
            }
        }
        let summary: Vec<String> = count.iter().map(|(k, v)| format!("{v} {k}")).collect();
        println!("\n{}", if summary.is_empty() { "0 obligations".into() } else { summary.join(", ") });
        if !s.gaps.is_empty() {
            let days: i64 = s.gaps.iter().map(|g| (g.time.end - g.time.start).num_hours()).sum::<i64>() / 24;
            println!(
                "{} coverage gap(s) (about {days} source-days) in which a source could not see: no obligation was raised there, which does not mean nothing happened (`truce incidents` lists them)",
                s.gaps.len()
            );
        }
    }
    if !s.evaluation.unmatched_actions.is_empty() {
        eprintln!("note: {} recorded action(s) name no obligation raised now", s.evaluation.unmatched_actions.len());
    }
    if a.record {
        let Some(log) = open_log(&a.common.data)? else {
            bail!("--record: {} has no log/ (create one with `truce log init {}/log`)", a.common.data.display(), a.common.data.display());
        };
        let mut logged: BTreeSet<(String, String)> = BTreeSet::new();
        for i in 0..log.size() {
            let e = log.entry(i)?;
            if e.kind() == EntryKind::ObligationEvent {
                let b = e.body();
                if let (Some(o), Some(ev)) = (b.get("obligation").and_then(|v| v.as_str()), b.get("event").and_then(|v| v.as_str())) {
                    logged.insert((o.to_string(), ev.to_string()));
                }
            }
        }
        drop(log);
        let new: Vec<Entry> = events(&s.evaluation)
            .into_iter()
            .filter(|e| !logged.contains(&(e.obligation.clone(), e.event.to_string())))
            .map(|e| {
                Entry::new(
                    EntryKind::ObligationEvent,
                    json!({"obligation": e.obligation, "event": e.event, "party": e.party, "clause": e.clause, "at": rfc(e.at),
                           "deadline": rfc(e.deadline), "agreement": agr.id, "agreement_sha256": agr.sha256}),
                )
            })
            .collect::<Result<_, _>>()?;
        println!("{} new obligation event(s) for the log", new.len());
        append_log(&a.common.data, new, a.key.as_deref())?;
    }
    Ok(Outcome::Done)
}

fn human_left(d: chrono::Duration) -> String {
    let m = d.num_minutes().max(0);
    if m >= 48 * 60 {
        format!("{} days {} h", m / 1440, (m % 1440) / 60)
    } else {
        format!("{} h {} min", m / 60, m % 60)
    }
}

/// An action checked against the obligations, with the log entry that records it.
pub struct CheckedAction {
    pub action: Action,
    pub entry: Entry,
    /// Recorded after the deadline (the obligation stays breached).
    pub late: bool,
    pub deadline: DateTime<Utc>,
    pub what: String,
}

/// Checks a party's action as `truce act` does: the obligation must be raised at the
/// assessment's instant, be the party's, and not be fulfilled or withdrawn already.
pub fn check_action(agr: &Agreement, s: &Assessment, obligation: &str, party: &str, note: &str, by: &str) -> Result<CheckedAction> {
    let Some(o) = s.evaluation.obligations.iter().find(|o| o.id == obligation) else {
        return Err(Refusal::NotFound(format!(
            "obligation `{obligation}`: not raised at {} (list them with `truce obligations`)",
            s.at.format("%Y-%m-%d %H:%M UTC")
        ))
        .into());
    };
    if o.party != party {
        return Err(Refusal::NotYours(format!("obligation `{}` is {}'s, not {party}'s", o.id, o.party)).into());
    }
    match o.status {
        Status::Fulfilled => return Err(Refusal::Conflict(format!("obligation `{}` is already fulfilled ({})", o.id, o.fulfilled.map(rfc).unwrap_or_default())).into()),
        Status::Withdrawn => return Err(Refusal::Conflict(format!("obligation `{}` was withdrawn ({})", o.id, o.withdrawn.map(rfc).unwrap_or_default())).into()),
        Status::Breached if o.fulfilled.is_some() => return Err(Refusal::Conflict(format!("obligation `{}` already has a (late) action recorded", o.id)).into()),
        _ => {}
    }
    for (name, v) in [("note", note), ("by", by)] {
        if v.trim().is_empty() {
            return Err(Refusal::Invalid(format!("action: {name}: empty")).into());
        }
        if v.len() > truce_incidents::DECISION_FIELD_BYTES_MAX {
            return Err(Refusal::Invalid(format!("action: {name}: longer than DECISION_FIELD_BYTES_MAX ({})", truce_incidents::DECISION_FIELD_BYTES_MAX)).into());
        }
    }
    let x = Action { obligation: o.id.clone(), party: party.to_string(), at: s.at, note: note.to_string(), by: by.to_string() };
    let late = x.at > o.deadline;
    let body = json!({"obligation": x.obligation, "event": "action_recorded", "party": x.party, "clause": o.clause, "at": rfc(x.at), "recorded_at": rfc(Utc::now()),
                      "deadline": rfc(o.deadline), "late": late, "note": x.note, "by": x.by, "agreement": agr.id, "agreement_sha256": agr.sha256});
    let entry = Entry::new(EntryKind::ObligationEvent, body)?;
    Ok(CheckedAction { action: x, entry, late, deadline: o.deadline, what: o.action.clone() })
}

/// Records a checked action: the log first, then `actions.jsonl`.
pub fn write_action(data: &Path, c: &CheckedAction, key: Option<&Path>) -> Result<Option<std::ops::Range<u64>>> {
    let r = append_log(data, vec![c.entry.clone()], key)?;
    append_line(&data.join("actions.jsonl"), &serde_json::to_string(&c.action)?)?;
    Ok(r)
}

pub fn act(a: ActArgs) -> Result<Outcome> {
    let (agr, s) = a.common.run()?;
    let c = check_action(&agr, &s, &a.obligation, &a.party, &a.note, &a.by)?;
    write_action(&a.common.data, &c, a.key.as_deref())?;
    let x = &c.action;
    println!(
        "recorded: {} {} ({}){}",
        x.party,
        c.what,
        x.obligation,
        if c.late { format!(", {} after the deadline: the obligation stays breached", human_left(x.at - c.deadline)) } else { String::new() }
    );
    Ok(Outcome::Done)
}
