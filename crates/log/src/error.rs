//! The one error type of this crate.

use std::path::PathBuf;

/// Everything that can go wrong in the log, its storage, its proofs and its
/// signatures. Messages name the file, byte offset or index at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An operating-system call on a file or directory failed.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// The file or directory the call was about.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// A stored file does not have the format it must have.
    #[error("corrupt file {path} at byte offset {offset}: {reason}")]
    Corrupt {
        /// The damaged file.
        path: PathBuf,
        /// Byte offset of the first bad byte (or the end of what was read).
        offset: u64,
        /// What is wrong.
        reason: String,
    },

    /// A tile or entry bundle that the tree size requires is absent.
    #[error("missing file {path}, needed for tree size {size}")]
    Missing {
        /// The absent file.
        path: PathBuf,
        /// The tree size that needs it.
        size: u64,
    },

    /// A stored hash differs from the hash re-derived from the data below it.
    #[error("hash mismatch in {path} at byte offset {offset} (tree index {index}): stored {stored}, re-derived {derived}")]
    HashMismatch {
        /// The tile holding the wrong hash.
        path: PathBuf,
        /// Byte offset of the hash in that tile.
        offset: u64,
        /// Index of the hash within its tile level.
        index: u64,
        /// The stored hash, hex.
        stored: String,
        /// The hash computed from the level below, hex.
        derived: String,
    },

    /// The write-ahead log and the entry bundles disagree about an entry.
    #[error("entry {index} in the write-ahead log {path} differs from the entry bundle")]
    WalMismatch {
        /// The write-ahead log file.
        path: PathBuf,
        /// Index of the entry that differs.
        index: u64,
    },

    /// A tile path does not follow the tlog-tiles naming rules.
    #[error("bad tile path {path:?}: {reason}")]
    BadTilePath {
        /// The offending path.
        path: String,
        /// Which rule it breaks.
        reason: String,
    },

    /// An entry serialises to more bytes than a leaf may hold.
    #[error("entry {index} of the batch is {len} bytes serialised, over the limit of {max}")]
    EntryTooLarge {
        /// Position of the entry in its batch.
        index: usize,
        /// Its serialised length.
        len: usize,
        /// The limit.
        max: usize,
    },

    /// A batch has more entries or bytes than one append may carry.
    #[error("batch of {entries} entries and {bytes} bytes exceeds the limit of {max_entries} entries and {max_bytes} bytes")]
    BatchTooLarge {
        /// Entries in the batch.
        entries: usize,
        /// Serialised bytes in the batch.
        bytes: usize,
        /// Entry limit.
        max_entries: usize,
        /// Byte limit.
        max_bytes: usize,
    },

    /// An entry body has no canonical serialisation (for example a float).
    #[error("entry value at JSON pointer {pointer} cannot be logged: {reason}")]
    InvalidEntry {
        /// JSON pointer of the offending value.
        pointer: String,
        /// Why it is refused.
        reason: String,
    },

    /// Leaf bytes are not the canonical serialisation of an entry.
    #[error("leaf is not a canonical entry: {reason}")]
    InvalidLeaf {
        /// What is wrong.
        reason: String,
    },

    /// A leaf index is not below the tree size it is asked about.
    #[error("leaf index {index} is out of range for tree size {size}")]
    IndexOutOfRange {
        /// The requested index.
        index: u64,
        /// The tree size.
        size: u64,
    },

    /// A tree size is larger than the log.
    #[error("tree size {requested} is larger than the log's size {size}")]
    SizeOutOfRange {
        /// The requested size.
        requested: u64,
        /// The log's current size.
        size: u64,
    },

    /// A proof was requested for arguments that admit none.
    #[error("invalid proof request: {0}")]
    InvalidProofRequest(String),

    /// A proof failed to verify.
    #[error("proof does not verify: {0}")]
    ProofFailed(String),

    /// A hash is not 32 bytes of canonical base64.
    #[error("bad hash: {0}")]
    BadHash(String),

    /// A key string or key file is malformed.
    #[error("bad key: {0}")]
    BadKey(String),

    /// A signed note is malformed.
    #[error("bad signed note: {0}")]
    BadNote(String),

    /// A note signature is missing or does not verify.
    #[error("signature check failed: {0}")]
    BadSignature(String),

    /// A checkpoint body is malformed or does not match the log.
    #[error("bad checkpoint: {0}")]
    BadCheckpoint(String),

    /// A proof file (JSON) is malformed or over its size limit.
    #[error("bad proof encoding: {0}")]
    BadProof(String),

    /// Creating a log or key where one already exists.
    #[error("{path} already exists; refusing to overwrite it")]
    AlreadyExists {
        /// The existing path.
        path: PathBuf,
    },

    /// Another process holds the log's writer lock.
    #[error("log {path} is locked by another process")]
    Locked {
        /// The lock file.
        path: PathBuf,
    },

    /// `checkpoint` was called on a log opened without a signer.
    #[error(
        "this log was opened without a signer; attach one with Log::set_signer to sign checkpoints"
    )]
    NoSigner,

    /// The signer's key is not the key the log was created with.
    #[error("signer key {got} is not the log's key {expected}")]
    WrongSigner {
        /// The log's verifier key.
        expected: String,
        /// The offered signer's verifier key.
        got: String,
    },

    /// A secret key file can be read by users other than its owner.
    #[error("secret key file {path} has mode {mode:o}; it must not be accessible by group or others (chmod 600)")]
    KeyFilePermissions {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },

    /// The operating system's random source failed.
    #[error("random number generation failed: {0}")]
    Random(String),

    /// An earlier write failed part-way, so memory may be ahead of disk.
    #[error(
        "an earlier write to this log failed; reopen the log to repair it before writing again"
    )]
    Poisoned,
}

impl Error {
    /// Wraps an `std::io::Error` with the path it concerns.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

/// Shorthand for results with this crate's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
