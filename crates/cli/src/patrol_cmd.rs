//! `truce patrol sign`: a monitor signs a patrol report for submission to
//! `POST /api/v1/patrol-reports`. The report is checked by the same reader the server
//! uses before it is signed, so a signed report is one the server can read.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};

use crate::commands::Outcome;
use crate::files::{read, write_atomic};

#[derive(Subcommand)]
pub enum PatrolCommand {
    /// Check a `truce-patrol/1` report and sign it with a monitor's key (from `truce keys
    /// new`): prints (or writes) a signed note, the report's JSON followed by the
    /// signature line, the body of `POST /api/v1/patrol-reports`.
    Sign(SignArgs),
    /// Sign an observation file for upload (`POST /api/v1/observations?name=NAME`):
    /// prints the value of the `X-Truce-Signature` header, the base64 of a signed note
    /// vouching for the file's name and SHA-256. A monitor whose token has registered
    /// keys must sign every upload.
    SignUpload(SignUploadArgs),
}

#[derive(Args)]
pub struct SignUploadArgs {
    /// The observation file.
    pub file: PathBuf,
    /// The monitor's secret key file.
    #[arg(long)]
    pub key: PathBuf,
    /// The name it is uploaded under (`?name=`); default: the file's name.
    #[arg(long)]
    pub name: Option<String>,
}

#[derive(Args)]
pub struct SignArgs {
    /// The patrol report (JSON).
    pub report: PathBuf,
    /// The monitor's secret key file; its verifier key must be registered to the
    /// monitor's token on the server (`keys = [...]`).
    #[arg(long)]
    pub key: PathBuf,
    /// Write the signed note here instead of printing it.
    #[arg(long, short)]
    pub out: Option<PathBuf>,
}

pub fn patrol(c: PatrolCommand) -> Result<Outcome> {
    let a = match c {
        PatrolCommand::Sign(a) => a,
        PatrolCommand::SignUpload(a) => return sign_upload(a),
    };
    let bytes = read(&a.report)?;
    let name = a.report.display().to_string();
    let opts = truce_ingest::ReadOptions { strict: true, drop_duplicates: false, format: Some(truce_ingest::Format::Patrol) };
    let r = truce_ingest::read_with_gaps(&name, &bytes, &opts)?;
    let mut text = String::from_utf8(bytes).with_context(|| format!("{name}: not UTF-8"))?;
    if !text.ends_with('\n') {
        text.push('\n');
    }
    let signer = truce_log::keys::load_signer(&a.key).with_context(|| format!("--key {}", a.key.display()))?;
    let note = signer.sign_note(&text).with_context(|| format!("{name}: cannot be signed as a note (tabs or other control characters?)"))?;
    eprintln!(
        "{name}: {} events and sightings, {} coverage gaps; signed by {}",
        r.ingested.summary.rows_kept,
        r.gaps.len(),
        signer.verifier()
    );
    match &a.out {
        Some(p) => write_atomic(p, note.as_bytes())?,
        None => print!("{note}"),
    }
    Ok(Outcome::Done)
}

fn sign_upload(a: SignUploadArgs) -> Result<Outcome> {
    use base64::Engine as _;
    use sha2::Digest as _;
    let bytes = read(&a.file)?;
    let name = match a.name {
        Some(n) => n,
        None => a.file.file_name().map(|n| n.to_string_lossy().into_owned()).with_context(|| format!("{}: no file name; pass --name", a.file.display()))?,
    };
    let sha = hex::encode(sha2::Sha256::digest(&bytes));
    let signer = truce_log::keys::load_signer(&a.key).with_context(|| format!("--key {}", a.key.display()))?;
    let note = signer.sign_note(&crate::serve::submit::upload_statement(&name, &sha))?;
    eprintln!("{name}: SHA-256 {sha}; signed by {}; send as the {} header", signer.verifier(), crate::serve::submit::SIGNATURE_HEADER);
    println!("{}", base64::engine::general_purpose::STANDARD.encode(note.as_bytes()));
    Ok(Outcome::Done)
}
