//! `truce keys ...` and `truce log ...`: thin wiring over `truce-log` (see
//! `crates/log/CLI.md`). Verification and fsck failures end with exit code 1;
//! every other error with 2.

use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::{ArgGroup, Args, Subcommand};
use truce_log::{
    keys, note, verify, ConsistencyProof, Entry, EntryKind, InclusionProof, IngestedBatch, Log,
    VerifierKey, MAX_BATCH_BYTES, MAX_BATCH_ENTRIES, MAX_ENTRY_BYTES,
};

use crate::commands::Outcome;

// ---------------------------------------------------------------- keys

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Create a new signing key for a log. The secret goes to --out (mode 0600, never
    /// overwritten); the public verifier key goes to <out>.pub and is printed. Give the
    /// verifier key to anyone who should check the log; keep the secret file private.
    New(KeysNewArgs),
}

#[derive(Args)]
pub struct KeysNewArgs {
    /// The log's name, also the origin line of its checkpoints, for example
    /// `truce.example/ceasefire-2025`. No spaces and no `+`.
    #[arg(long)]
    pub name: String,
    /// The secret key file to create. It must not exist yet.
    #[arg(long, short)]
    pub out: PathBuf,
    /// Also print the secret key on stdout. Only for moving it into a secret store;
    /// anyone who sees it can sign checkpoints in the log's name.
    #[arg(long)]
    pub print_secret: bool,
}

pub fn keys(c: KeysCommand) -> anyhow::Result<Outcome> {
    match c {
        KeysCommand::New(a) => keys_new(a),
    }
}

fn keys_new(a: KeysNewArgs) -> anyhow::Result<Outcome> {
    let pub_path = pub_path(&a.out);
    if pub_path.exists() {
        bail!(
            "{} already exists; refusing to create a key whose public file would clash with it",
            pub_path.display()
        );
    }
    let vkey = keys::generate_to_file(&a.out, &a.name)
        .lib_context(|| format!("creating secret key file {}", a.out.display()))?;
    let f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&pub_path)
        .and_then(|mut f| {
            f.write_all(format!("{vkey}\n").as_bytes())?;
            Ok(f)
        })
        .with_context(|| format!("writing public key file {}", pub_path.display()))?;
    f.sync_all()
        .with_context(|| format!("syncing public key file {}", pub_path.display()))?;
    drop(f);
    println!("{vkey}");
    if a.print_secret {
        let s = keys::load_signer(&a.out)
            .lib_context(|| format!("reading back secret key file {}", a.out.display()))?;
        println!("{}", &*s.to_secret_string());
    }
    eprintln!(
        "wrote secret key {} (mode 0600, keep it private) and verifier key {}",
        a.out.display(),
        pub_path.display()
    );
    Ok(Outcome::Done)
}

/// `<key>.pub`, beside the key file.
fn pub_path(key: &Path) -> PathBuf {
    let mut s: OsString = key.as_os_str().to_owned();
    s.push(".pub");
    s.into()
}

// ---------------------------------------------------------------- log

#[derive(Subcommand)]
pub enum LogCommand {
    /// Create an empty log directory signed with a key from `truce keys new`, and print
    /// its verifier key.
    Init(InitArgs),
    /// Append entries (JSON bodies of one kind). Prints the index range appended,
    /// as `start..end` (end excluded). Entries are durable when this returns.
    Append(AppendArgs),
    /// Sign a checkpoint for the log's current size and print it. It is also written to
    /// <dir>/checkpoint and <dir>/checkpoints/<size>.
    Checkpoint(CheckpointArgs),
    /// Print an inclusion proof (--index) or a consistency proof (--old/--new) as JSON,
    /// computed from the signed tiles up to the latest checkpoint. Takes no lock.
    Prove(ProveArgs),
    /// Check that an entry file is in the log, given a signed checkpoint and an
    /// inclusion proof. Exit 1 if it is not.
    VerifyInclusion(VerifyInclusionArgs),
    /// Check that an older signed checkpoint is a prefix of a newer one, given a
    /// consistency proof. Exit 1 if it is not.
    VerifyConsistency(VerifyConsistencyArgs),
    /// Check a log directory completely: every hash, every entry against the
    /// write-ahead log, every checkpoint signature. Exit 1 on any damage.
    Fsck(DirArgs),
    /// Copy the latest signed checkpoint and exactly its public tiles into a new
    /// directory that can be served as static files (no private files are copied).
    Export(ExportArgs),
    /// Check a served or exported log directory with nothing but the verifier key:
    /// checkpoint signature and a full re-derivation of the tree. Exit 1 on failure.
    Verify(VerifyDirArgs),
}

#[derive(Args)]
pub struct InitArgs {
    /// The log directory to create (absent or empty).
    #[arg(long)]
    pub dir: PathBuf,
    /// The secret key file from `truce keys new`; its name becomes the log's origin.
    #[arg(long)]
    pub key: PathBuf,
}

#[derive(Args)]
#[command(group(ArgGroup::new("input").required(true).args(["body", "jsonl"])))]
pub struct AppendArgs {
    /// The log directory.
    #[arg(long)]
    pub dir: PathBuf,
    /// What the entries record: ingested_batch, incident_decision, report,
    /// obligation_event or key_event.
    #[arg(long, value_parser = parse_kind)]
    pub kind: EntryKind,
    /// One entry body, as JSON, e.g. '{"id":"R-1"}'. No floats; integers within
    /// +-(2^53 - 1). Times go in the body (e.g. "2025-06-01T08:00:00Z").
    #[arg(long)]
    pub body: Option<String>,
    /// A file with one JSON entry body per line (blank lines are skipped). Every line is
    /// checked before anything is appended.
    #[arg(long)]
    pub jsonl: Option<PathBuf>,
    /// Also sign and print a checkpoint after appending, with this secret key file.
    #[arg(long)]
    pub key: Option<PathBuf>,
}

#[derive(Args)]
pub struct CheckpointArgs {
    /// The log directory.
    #[arg(long)]
    pub dir: PathBuf,
    /// The log's secret key file (the one it was created with).
    #[arg(long)]
    pub key: PathBuf,
}

#[derive(Args)]
#[command(group(ArgGroup::new("proof").required(true).args(["index", "old"])))]
pub struct ProveArgs {
    /// The log directory, or a served copy of it (then also give --vkey).
    #[arg(long)]
    pub dir: PathBuf,
    /// The log's verifier key (string or file), to check the checkpoint with. Default:
    /// the key recorded in the log directory, which a served copy does not have.
    #[arg(long)]
    pub vkey: Option<String>,
    /// Prove that entry number INDEX (from 0) is in the log.
    #[arg(long)]
    pub index: Option<u64>,
    /// Tree size to prove inclusion in (default: the latest checkpoint's size). A
    /// verifier needs the signed checkpoint of exactly this size.
    #[arg(long, requires = "index")]
    pub size: Option<u64>,
    /// Also write the entry's exact bytes (what verify-inclusion checks) to this file.
    #[arg(long, requires = "index")]
    pub entry_out: Option<PathBuf>,
    /// Prove that the log at size OLD is a prefix of the log at size NEW.
    #[arg(long)]
    pub old: Option<u64>,
    /// The newer size for --old (default: the latest checkpoint's size).
    #[arg(long, requires = "old")]
    pub new: Option<u64>,
    /// Write the proof JSON to this file instead of stdout.
    #[arg(long, short)]
    pub out: Option<PathBuf>,
}

#[derive(Args)]
pub struct VerifyInclusionArgs {
    /// The log's verifier key: the string printed by `truce keys new`, or a file holding
    /// it (such as <key>.pub).
    #[arg(long)]
    pub vkey: String,
    /// The signed checkpoint file the proof is for (e.g. <dir>/checkpoint).
    #[arg(long)]
    pub checkpoint: PathBuf,
    /// The entry's exact bytes (from `truce log prove --entry-out`).
    #[arg(long)]
    pub entry: PathBuf,
    /// The inclusion proof JSON (from `truce log prove --index`).
    #[arg(long)]
    pub proof: PathBuf,
}

#[derive(Args)]
pub struct VerifyConsistencyArgs {
    /// The log's verifier key: the string printed by `truce keys new`, or a file holding
    /// it (such as <key>.pub).
    #[arg(long)]
    pub vkey: String,
    /// The older signed checkpoint file (e.g. <dir>/checkpoints/<size>).
    #[arg(long)]
    pub old_checkpoint: PathBuf,
    /// The newer signed checkpoint file (e.g. <dir>/checkpoint).
    #[arg(long)]
    pub new_checkpoint: PathBuf,
    /// The consistency proof JSON (from `truce log prove --old ... --new ...`).
    #[arg(long)]
    pub proof: PathBuf,
}

#[derive(Args)]
pub struct DirArgs {
    /// The log directory.
    #[arg(long)]
    pub dir: PathBuf,
}

#[derive(Args)]
pub struct ExportArgs {
    /// The log directory.
    #[arg(long)]
    pub dir: PathBuf,
    /// The directory to write (absent or empty).
    #[arg(long, short)]
    pub out: PathBuf,
}

#[derive(Args)]
pub struct VerifyDirArgs {
    /// The served or exported log directory (holding `checkpoint` and `tile/`).
    #[arg(long)]
    pub dir: PathBuf,
    /// The log's verifier key: the string printed by `truce keys new`, or a file holding
    /// it (such as <key>.pub).
    #[arg(long)]
    pub vkey: String,
}

fn parse_kind(s: &str) -> Result<EntryKind, String> {
    EntryKind::parse(s).ok_or_else(|| {
        let names: Vec<&str> = EntryKind::ALL.iter().map(|k| k.as_str()).collect();
        format!("unknown kind {s:?}; expected one of {}", names.join(", "))
    })
}

pub fn log(c: LogCommand) -> anyhow::Result<Outcome> {
    match c {
        LogCommand::Init(a) => init(a),
        LogCommand::Append(a) => append(a),
        LogCommand::Checkpoint(a) => checkpoint(a),
        LogCommand::Prove(a) => prove(a),
        LogCommand::VerifyInclusion(a) => verify_inclusion(a),
        LogCommand::VerifyConsistency(a) => verify_consistency(a),
        LogCommand::Fsck(a) => fsck(a),
        LogCommand::Export(a) => export(a),
        LogCommand::Verify(a) => verify_dir(a),
    }
}

/// `.context(..)` for library results. The library's messages already include
/// their underlying I/O error, so only the message is kept (anyhow would
/// otherwise print the I/O error twice).
trait LibContext<T> {
    fn lib_context<C, F>(self, f: F) -> anyhow::Result<T>
    where
        C: std::fmt::Display + Send + Sync + 'static,
        F: FnOnce() -> C;
}

impl<T> LibContext<T> for truce_log::Result<T> {
    fn lib_context<C, F>(self, f: F) -> anyhow::Result<T>
    where
        C: std::fmt::Display + Send + Sync + 'static,
        F: FnOnce() -> C,
    {
        self.map_err(|e| anyhow::anyhow!("{e}").context(f()))
    }
}

/// Errors that mean "the evidence does not check out" (exit 1) rather than
/// "the command could not run" (exit 2).
fn is_verification_failure(e: &truce_log::Error) -> bool {
    use truce_log::Error::*;
    matches!(
        e,
        ProofFailed(_)
            | BadSignature(_)
            | BadCheckpoint(_)
            | HashMismatch { .. }
            | Corrupt { .. }
            | WalMismatch { .. }
            | InvalidLeaf { .. }
            | Missing { .. }
    )
}

/// Turns a verification failure into `Outcome::NothingFound` (exit 1) and any
/// other error into an error (exit 2).
macro_rules! verdict {
    ($e:expr, $($what:tt)+) => {
        match $e {
            Ok(v) => v,
            Err(err) if is_verification_failure(&err) => {
                return Ok(Outcome::NothingFound(format!("FAILED: {}: {err}", format!($($what)+))));
            }
            Err(err) => return Err(anyhow::anyhow!("{err}").context(format!($($what)+))),
        }
    };
}

fn open_log(dir: &Path) -> anyhow::Result<Log> {
    let log = Log::open(dir).lib_context(|| format!("opening log {}", dir.display()))?;
    report_recovery(&log);
    Ok(log)
}

fn report_recovery(log: &Log) {
    let r = log.recovery();
    if r.frames_replayed > 0 || r.torn_bytes_truncated > 0 {
        eprintln!(
            "note: repaired {} after a crash: replayed {} write-ahead frames ({} entries), cut {} torn bytes{}",
            log.dir().display(),
            r.frames_replayed,
            r.entries_replayed,
            r.torn_bytes_truncated,
            r.torn_reason.as_deref().map(|s| format!(" ({s})")).unwrap_or_default()
        );
    }
    if let Some(why) = &r.hint_rejected {
        eprintln!(
            "note: rebuilt tiles of {} from the start: {why}",
            log.dir().display()
        );
    }
}

fn load_signer(key: &Path) -> anyhow::Result<truce_log::Signer> {
    keys::load_signer(key).lib_context(|| format!("loading secret key {}", key.display()))
}

/// `--vkey`: a path to a file holding the key string, or the string itself.
fn load_vkey(arg: &str) -> anyhow::Result<VerifierKey> {
    let p = Path::new(arg);
    if p.is_file() {
        keys::load_verifier(p).lib_context(|| {
            format!(
                "reading verifier key file {arg} (it must hold the public key string, e.g. <key>.pub)"
            )
        })
    } else {
        VerifierKey::parse(arg).lib_context(|| {
            format!("--vkey {arg:?} is neither an existing file nor a verifier key string (name+keyid+key)")
        })
    }
}

/// Reads at most `limit` bytes of `path`, refusing bigger files.
fn read_bounded(path: &Path, limit: usize, what: &str) -> anyhow::Result<Vec<u8>> {
    let f = File::open(path).with_context(|| format!("opening {what} {}", path.display()))?;
    let mut buf = Vec::new();
    f.take(limit as u64 + 1)
        .read_to_end(&mut buf)
        .with_context(|| format!("reading {what} {}", path.display()))?;
    if buf.len() > limit {
        bail!("{what} {} is over {limit} bytes", path.display());
    }
    Ok(buf)
}

fn read_text(path: &Path, limit: usize, what: &str) -> anyhow::Result<String> {
    String::from_utf8(read_bounded(path, limit, what)?)
        .with_context(|| format!("{what} {} is not UTF-8", path.display()))
}

fn init(a: InitArgs) -> anyhow::Result<Outcome> {
    let signer = load_signer(&a.key)?;
    let log =
        Log::create(&a.dir, &signer).lib_context(|| format!("creating log {}", a.dir.display()))?;
    println!("{}", log.verifier_key());
    eprintln!(
        "created log {} with origin {} and signed its empty checkpoint",
        a.dir.display(),
        log.origin()
    );
    Ok(Outcome::Done)
}

fn make_entry(kind: EntryKind, body: serde_json::Value) -> truce_log::Result<Entry> {
    if kind == EntryKind::IngestedBatch {
        // Check the typed record's fields, not just its JSON form.
        let b: IngestedBatch =
            serde_json::from_value(body).map_err(|e| truce_log::Error::InvalidEntry {
                pointer: "/body".into(),
                reason: format!("not an ingested_batch record: {e}"),
            })?;
        Entry::ingested_batch(&b)
    } else {
        Entry::new(kind, body)
    }
}

fn append(a: AppendArgs) -> anyhow::Result<Outcome> {
    // Parse and check every entry before touching the log, so that a bad
    // line appends nothing.
    let mut entries: Vec<(Entry, usize)> = Vec::new();
    let mut push = |body: serde_json::Value, at: &dyn Fn() -> String| -> anyhow::Result<()> {
        let e = make_entry(a.kind, body).lib_context(at)?;
        let len = e.to_leaf_bytes().lib_context(at)?.len();
        entries.push((e, len));
        Ok(())
    };
    if let Some(body) = &a.body {
        let v: serde_json::Value =
            serde_json::from_str(body).context("--body is not valid JSON")?;
        push(v, &|| "--body".to_string())?;
    }
    if let Some(path) = &a.jsonl {
        let f = File::open(path).with_context(|| format!("opening {}", path.display()))?;
        // A line longer than this cannot become an entry.
        let max_line = 4 * MAX_ENTRY_BYTES as u64;
        let mut r = BufReader::new(f);
        let mut line = String::new();
        let mut n = 0u64;
        loop {
            line.clear();
            n += 1;
            let at = || format!("{}:{n}", path.display());
            let read = (&mut r)
                .take(max_line + 1)
                .read_line(&mut line)
                .with_context(at)?;
            if read == 0 {
                break;
            }
            if read as u64 > max_line {
                bail!("{}: line is over {max_line} bytes", at());
            }
            if line.trim().is_empty() {
                continue;
            }
            let v: serde_json::Value =
                serde_json::from_str(&line).with_context(|| format!("{}: not valid JSON", at()))?;
            push(v, &at)?;
        }
    }

    let mut log = open_log(&a.dir)?;
    if let Some(k) = &a.key {
        // Before appending, so that a wrong key appends nothing.
        log.set_signer(load_signer(k)?)
            .lib_context(|| format!("using key {} for log {}", k.display(), a.dir.display()))?;
    }
    let mut rest = &entries[..];
    while !rest.is_empty() {
        let mut n = 0;
        let mut bytes = 0;
        while n < rest.len() && n < MAX_BATCH_ENTRIES && bytes + rest[n].1 <= MAX_BATCH_BYTES {
            bytes += rest[n].1;
            n += 1;
        }
        let batch: Vec<Entry> = rest[..n].iter().map(|(e, _)| e.clone()).collect();
        let range = log
            .append_batch(&batch)
            .lib_context(|| format!("appending to log {}", a.dir.display()))?;
        println!("{}..{}", range.start, range.end);
        rest = &rest[n..];
    }
    if a.key.is_some() {
        let note = log
            .checkpoint()
            .lib_context(|| format!("signing a checkpoint of log {}", a.dir.display()))?;
        print!("{note}");
    }
    Ok(Outcome::Done)
}

fn checkpoint(a: CheckpointArgs) -> anyhow::Result<Outcome> {
    let mut log = open_log(&a.dir)?;
    log.set_signer(load_signer(&a.key)?)
        .lib_context(|| format!("using key {} for log {}", a.key.display(), a.dir.display()))?;
    let note = log
        .checkpoint()
        .lib_context(|| format!("signing a checkpoint of log {}", a.dir.display()))?;
    print!("{note}");
    Ok(Outcome::Done)
}

fn prove(a: ProveArgs) -> anyhow::Result<Outcome> {
    let vkey = match &a.vkey {
        Some(v) => load_vkey(v)?,
        None => Log::read_verifier_key(&a.dir)
            .lib_context(|| format!("reading the verifier key of log {}", a.dir.display()))?,
    };
    let (tiles, cp) = verify::TileDir::open_checkpoint(&a.dir, &vkey)
        .lib_context(|| format!("reading the latest checkpoint of {}", a.dir.display()))?;
    let beyond = |n: u64| -> anyhow::Result<()> {
        if n > cp.size {
            bail!(
                "size {n} is beyond the latest signed checkpoint ({}); run `truce log checkpoint` first",
                cp.size
            );
        }
        Ok(())
    };
    let (json, size) = if let Some(index) = a.index {
        let size = a.size.unwrap_or(cp.size);
        beyond(size)?;
        let p: InclusionProof = tiles.inclusion_proof(index, size).lib_context(|| {
            format!(
                "proving entry {index} at size {size} in {}",
                a.dir.display()
            )
        })?;
        if let Some(f) = &a.entry_out {
            let bytes = tiles
                .entry_bytes(index)
                .lib_context(|| format!("reading entry {index} of {}", a.dir.display()))?;
            std::fs::write(f, bytes).with_context(|| format!("writing {}", f.display()))?;
        }
        (p.to_json(), size)
    } else {
        let old = a.old.expect("clap requires --index or --old");
        let new = a.new.unwrap_or(cp.size);
        beyond(new)?;
        let p: ConsistencyProof = tiles
            .consistency_proof(old, new)
            .lib_context(|| format!("proving size {old} -> {new} in {}", a.dir.display()))?;
        (p.to_json(), new)
    };
    match &a.out {
        Some(f) => std::fs::write(f, format!("{json}\n"))
            .with_context(|| format!("writing {}", f.display()))?,
        None => println!("{json}"),
    }
    let cp_file = if size == cp.size {
        a.dir.join("checkpoint")
    } else {
        a.dir.join("checkpoints").join(format!("{size:020}"))
    };
    if cp_file.is_file() {
        eprintln!(
            "the proof is against the signed checkpoint {}",
            cp_file.display()
        );
    } else {
        eprintln!(
            "note: no signed checkpoint at size {size} in {}; verifiers need one",
            a.dir.display()
        );
    }
    Ok(Outcome::Done)
}

fn verify_inclusion(a: VerifyInclusionArgs) -> anyhow::Result<Outcome> {
    let vkey = load_vkey(&a.vkey)?;
    let note = read_text(&a.checkpoint, note::MAX_NOTE_BYTES, "checkpoint")?;
    let leaf = read_bounded(&a.entry, MAX_ENTRY_BYTES, "entry file")?;
    let proof_text = read_text(&a.proof, verify::MAX_PROOF_JSON_BYTES, "proof")?;
    let proof = InclusionProof::from_json(&proof_text)
        .lib_context(|| format!("reading inclusion proof {}", a.proof.display()))?;
    let cp = verdict!(
        verify::verify_inclusion(&vkey, &note, &leaf, &proof),
        "entry {} with proof {} against checkpoint {}",
        a.entry.display(),
        a.proof.display(),
        a.checkpoint.display()
    );
    println!(
        "OK: entry {} is in {} at size {}",
        proof.index, cp.origin, cp.size
    );
    Ok(Outcome::Done)
}

fn verify_consistency(a: VerifyConsistencyArgs) -> anyhow::Result<Outcome> {
    let vkey = load_vkey(&a.vkey)?;
    let old_note = read_text(&a.old_checkpoint, note::MAX_NOTE_BYTES, "checkpoint")?;
    let new_note = read_text(&a.new_checkpoint, note::MAX_NOTE_BYTES, "checkpoint")?;
    let proof_text = read_text(&a.proof, verify::MAX_PROOF_JSON_BYTES, "proof")?;
    let proof = ConsistencyProof::from_json(&proof_text)
        .lib_context(|| format!("reading consistency proof {}", a.proof.display()))?;
    let (old, new) = verdict!(
        verify::verify_consistency(&vkey, &old_note, &new_note, &proof),
        "checkpoints {} -> {} with proof {}",
        a.old_checkpoint.display(),
        a.new_checkpoint.display(),
        a.proof.display()
    );
    println!(
        "OK: {} at size {} is a prefix of size {}",
        new.origin, old.size, new.size
    );
    Ok(Outcome::Done)
}

fn fsck(a: DirArgs) -> anyhow::Result<Outcome> {
    let log = verdict!(Log::open(&a.dir), "opening log {}", a.dir.display());
    report_recovery(&log);
    let r = verdict!(log.fsck(), "checking log {}", a.dir.display());
    println!(
        "ok: {} entries, {} tiles, {} write-ahead frames, {} checkpoints, root {}",
        r.size,
        r.tiles_checked,
        r.wal_frames,
        r.checkpoints_checked,
        note::encode_hash(&r.root)
    );
    Ok(Outcome::Done)
}

fn export(a: ExportArgs) -> anyhow::Result<Outcome> {
    let log = open_log(&a.dir)?;
    // Absolute, because the library fsyncs the destination's parent and a
    // bare relative name like `served` has the empty path as parent.
    let out =
        std::path::absolute(&a.out).with_context(|| format!("resolving {}", a.out.display()))?;
    let r = log
        .export(&out)
        .lib_context(|| format!("exporting log {} to {}", a.dir.display(), a.out.display()))?;
    println!(
        "exported the checkpoint at size {} ({} files) to {}",
        r.size,
        r.files,
        a.out.display()
    );
    Ok(Outcome::Done)
}

fn verify_dir(a: VerifyDirArgs) -> anyhow::Result<Outcome> {
    let vkey = load_vkey(&a.vkey)?;
    let v = verdict!(
        verify::verify_log_dir(&a.dir, &vkey),
        "verifying log directory {}",
        a.dir.display()
    );
    println!(
        "OK: {} at size {}, root {}: {} entries and {} tiles re-derived",
        v.checkpoint.origin,
        v.checkpoint.size,
        note::encode_hash(&v.checkpoint.root),
        v.tree.entries_checked,
        v.tree.tiles_checked
    );
    Ok(Outcome::Done)
}
