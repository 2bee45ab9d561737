//! `truce-log`: the evidence log of truce. Every ingested batch, incident
//! decision, report, obligation event and key event is appended to a signed,
//! append-only Merkle log that anyone holding the log's public key can verify
//! independently.
//!
//! * Hashing is RFC 6962: leaf = SHA-256(0x00 || data), node =
//!   SHA-256(0x01 || left || right) ([`proof`]).
//! * Storage is C2SP tlog-tiles: tiles of height 8 under `tile/<L>/<N>[.p/<W>]`
//!   and entry bundles under `tile/entries/...` ([`tile`]), so the log
//!   directory can be served as static files.
//! * Checkpoints are C2SP tlog-checkpoints signed as C2SP signed notes with
//!   Ed25519 ([`note`]).
//! * Appends are group commits that return only once durable, with a
//!   write-ahead file that lets [`Log::open`] repair a crash ([`Log`]).
//! * [`verify`] needs only the verifier key string and the served directory.
//!
//! The library never reads a clock or the environment: callers pass times in
//! entry bodies, and every input has a named limit ([`MAX_ENTRY_BYTES`],
//! [`MAX_BATCH_ENTRIES`], [`MAX_BATCH_BYTES`], [`note::MAX_NOTE_BYTES`], ...).
//!
//! # Example
//!
//! ```
//! use serde_json::json;
//! use truce_log::{verify, Entry, EntryKind, IngestedBatch, Log, Signer, VerifierKey};
//!
//! # fn main() -> Result<(), truce_log::Error> {
//! let dir = tempfile::tempdir().unwrap();
//! let signer = Signer::generate("truce.example/ceasefire-log")?;
//! let mut log = Log::create(dir.path().join("log"), &signer)?;
//!
//! let batch = IngestedBatch {
//!     file_sha256: "00".repeat(32),
//!     file_name: "observations.csv".into(),
//!     reader: "csv".into(),
//!     reader_version: "1".into(),
//!     rows_read: 3,
//!     rows_kept: 2,
//!     rows_rejected: 1,
//!     who: "monitor-7".into(),
//!     when: "2025-06-01T08:00:00Z".into(),
//! };
//! let range = log.append_batch(&[
//!     Entry::ingested_batch(&batch)?,
//!     Entry::new(EntryKind::Report, json!({"id": "R-1", "summary": "no violations"}))?,
//! ])?;
//! assert_eq!(range, 0..2);
//! let note = log.checkpoint()?;
//!
//! // A third party holds only the verifier key string and the files.
//! let key = VerifierKey::parse(&signer.verifier().to_string())?;
//! let leaf = log.entry_bytes(1)?;
//! let proof = log.inclusion_proof(1, log.size())?;
//! verify::verify_inclusion(&key, &note, &leaf, &proof)?;
//! let checked = verify::verify_log_dir(log.dir(), &key)?;
//! assert_eq!(checked.checkpoint.size, 2);
//! # Ok(())
//! # }
//! ```

#![forbid(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

pub mod entry;
mod error;
mod fsio;
pub mod keys;
mod log;
pub mod note;
pub mod proof;
pub mod tile;
pub mod verify;
pub mod wal;

pub use entry::{Entry, EntryKind, IngestedBatch, MAX_ENTRY_BYTES};
pub use error::{Error, Result};
pub use fsio::create_private_file;
pub use log::{ExportReport, FsckReport, Log, Recovery};
pub use note::{Checkpoint, Signer, VerifierKey};
pub use proof::Hash;
pub use verify::{ConsistencyProof, InclusionProof};
pub use wal::{MAX_BATCH_BYTES, MAX_BATCH_ENTRIES};
