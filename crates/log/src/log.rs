//! The writer: a log directory that is at the same time a servable
//! tlog-tiles tree (`checkpoint`, `tile/...`) and the writer's private
//! recovery files.
//!
//! ```text
//! <dir>/log.json          origin and verifier key (public)
//! <dir>/checkpoint        latest signed checkpoint (served)
//! <dir>/checkpoints/<n>   every checkpoint ever signed, by tree size
//! <dir>/tile/...          hash tiles and entry bundles (served)
//! <dir>/wal               write-ahead entries file (private)
//! <dir>/state             hint: size whose tiles are durable (private)
//! <dir>/lock              writer lock (private)
//! ```
//!
//! An append is acknowledged only after (1) its write-ahead frame is
//! fdatasynced, (2) every tile and bundle it changes is written under a
//! temporary name, fsynced and renamed into place, and (3) every directory
//! that gained an entry is fsynced. Opening the log replays any write-ahead
//! frames beyond the state hint (rewriting their tiles, which is idempotent)
//! and cuts a torn final frame.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use crate::entry::{Entry, MAX_ENTRY_BYTES};
use crate::fsio::{self, read_limited, read_optional, write_durable, write_files_durable};
use crate::note::{Checkpoint, Signer, VerifierKey};
use crate::proof::{self, empty_root, leaf_hash, Hash, NodeSource};
use crate::tile::{
    entry_bundle, hashes_at_level, node_location, parse_bundle, parse_tile, perfect_root, push_bundle_entry,
    tile_at_size, tile_bytes, tiles_for_size, tiles_touched, ExpandedTile, TileId, TileKind,
    MAX_TILE_LEVEL, TILE_WIDTH,
};
use crate::verify::{
    check_tree, node_complete, node_in_tile, read_checkpoint, read_tile_prefix, ConsistencyProof,
    InclusionProof, TileCache, DEFAULT_TILE_CACHE, MAX_BUNDLE_FILE_BYTES, MAX_TILE_FILE_BYTES,
};
use crate::wal::{self, State, MAX_BATCH_BYTES, MAX_BATCH_ENTRIES};
use crate::{Error, Result};

const CONFIG: &str = "log.json";
const WAL: &str = "wal";
const STATE: &str = "state";
const LOCK: &str = "lock";
const CHECKPOINT: &str = "checkpoint";
const CHECKPOINTS: &str = "checkpoints";
const FORMAT: &str = "truce-log/1";
const MAX_CONFIG_BYTES: u64 = 64 * 1024;
const LEVELS: usize = MAX_TILE_LEVEL as usize + 1;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    format: String,
    origin: String,
    verifier_key: String,
}

/// What [`Log::open`] had to repair.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recovery {
    /// Tree size the state hint vouched for (0 if the hint was unusable).
    pub hint_size: u64,
    /// Why the hint was not used and tiles were rebuilt from the start.
    pub hint_rejected: Option<String>,
    /// Write-ahead frames whose tiles were rewritten.
    pub frames_replayed: u64,
    /// Entries in those frames.
    pub entries_replayed: u64,
    /// Bytes of torn tail cut from the write-ahead log.
    pub torn_bytes_truncated: u64,
    /// What the torn tail looked like.
    pub torn_reason: Option<String>,
}

/// What [`Log::fsck`] checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FsckReport {
    /// Tree size.
    pub size: u64,
    /// Root re-derived from the entries.
    pub root: Hash,
    /// Entries hashed, parsed and compared with the write-ahead log.
    pub entries_checked: u64,
    /// Hash tiles and entry bundles checked.
    pub tiles_checked: u64,
    /// Write-ahead frames checksummed.
    pub wal_frames: u64,
    /// Signed checkpoints whose signature and root were checked.
    pub checkpoints_checked: u64,
}

/// What [`Log::export`] wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportReport {
    /// Tree size of the exported checkpoint.
    pub size: u64,
    /// Files written, the checkpoint included.
    pub files: u64,
}

/// An open, writable evidence log. One process at a time may hold it; the
/// lock is released when the `Log` is dropped or the process dies.
pub struct Log {
    dir: PathBuf,
    origin: String,
    verifier: VerifierKey,
    signer: Option<Signer>,
    size: u64,
    /// For each tile level, the hashes of its rightmost, incomplete tile.
    edge: Vec<Vec<Hash>>,
    /// The rightmost, incomplete entry bundle.
    bundle: Vec<u8>,
    wal: File,
    wal_len: u64,
    cache: Mutex<TileCache>,
    poisoned: bool,
    recovery: Recovery,
    /// Partial-tile directories superseded by durable full tiles, deleted
    /// during the next write-ahead fsync so that the deletion costs no time
    /// on the acknowledgement path.
    prune: Vec<PathBuf>,
    _lock: File,
}

impl std::fmt::Debug for Log {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Log")
            .field("dir", &self.dir)
            .field("origin", &self.origin)
            .field("size", &self.size)
            .finish()
    }
}

impl Log {
    /// Creates a new, empty log in `dir` (created if absent, otherwise it must
    /// be empty), named after the signer's key name, and signs its first
    /// checkpoint (size 0). The signer stays attached to the returned log.
    pub fn create(dir: impl AsRef<Path>, signer: &Signer) -> Result<Log> {
        let dir = dir.as_ref().to_path_buf();
        if dir.exists() {
            let mut rd = std::fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))?;
            if rd.next().is_some() {
                return Err(Error::AlreadyExists { path: dir });
            }
        } else {
            std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        }
        let lock = fsio::lock_exclusive(&dir.join(LOCK))?;
        for sub in ["tile", CHECKPOINTS] {
            let p = dir.join(sub);
            std::fs::create_dir(&p).map_err(|e| Error::io(&p, e))?;
        }
        let walp = dir.join(WAL);
        let w = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&walp)
            .map_err(|e| Error::io(&walp, e))?;
        w.sync_all().map_err(|e| Error::io(&walp, e))?;
        write_durable(
            &dir.join(STATE),
            &State {
                size: 0,
                wal_offset: 0,
                root: empty_root(),
            }
            .encode(),
        )?;
        let cfg = Config {
            format: FORMAT.into(),
            origin: signer.name().into(),
            verifier_key: signer.verifier().to_string(),
        };
        let cfg_bytes = serde_json::to_vec_pretty(&cfg).expect("config always serialises");
        // The config goes last: its presence marks a completely created log.
        write_durable(&dir.join(CONFIG), &cfg_bytes)?;
        drop(lock);
        let mut log = Log::open(&dir)?;
        log.set_signer(signer.clone())?;
        log.checkpoint()?;
        Ok(log)
    }

    /// Reads the verifier key recorded in a log directory without opening
    /// (or locking) the log, for read-only tools that go through
    /// [`crate::verify::TileDir`] while a writer holds the log.
    pub fn read_verifier_key(dir: impl AsRef<Path>) -> Result<VerifierKey> {
        let p = dir.as_ref().join(CONFIG);
        let cfg: Config =
            serde_json::from_slice(&read_limited(&p, MAX_CONFIG_BYTES)?).map_err(|e| {
                Error::Corrupt {
                    path: p.clone(),
                    offset: 0,
                    reason: format!("not a log config: {e}"),
                }
            })?;
        VerifierKey::parse(&cfg.verifier_key)
    }

    /// Opens an existing log without a signer: appends, proofs and fsck work;
    /// [`Log::checkpoint`] needs [`Log::set_signer`] first. Any torn tail is
    /// repaired and missing or partial tiles are rebuilt from the
    /// write-ahead log; [`Log::recovery`] says what was done.
    pub fn open(dir: impl AsRef<Path>) -> Result<Log> {
        let dir = dir.as_ref().to_path_buf();
        let cfg_path = dir.join(CONFIG);
        let cfg_bytes = read_limited(&cfg_path, MAX_CONFIG_BYTES)?;
        let cfg: Config = serde_json::from_slice(&cfg_bytes).map_err(|e| Error::Corrupt {
            path: cfg_path.clone(),
            offset: 0,
            reason: format!("not a log config: {e}"),
        })?;
        if cfg.format != FORMAT {
            return Err(Error::Corrupt {
                path: cfg_path,
                offset: 0,
                reason: format!("format {:?} is not {FORMAT}", cfg.format),
            });
        }
        let verifier = VerifierKey::parse(&cfg.verifier_key)?;
        if verifier.name() != cfg.origin {
            return Err(Error::Corrupt {
                path: cfg_path,
                offset: 0,
                reason: "origin differs from the key name".into(),
            });
        }
        let lock = fsio::lock_exclusive(&dir.join(LOCK))?;
        let walp = dir.join(WAL);
        let wal = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&walp)
            .map_err(|e| Error::io(&walp, e))?;
        let wal_file_len = wal.metadata().map_err(|e| Error::io(&walp, e))?.len();

        let mut log = Log {
            dir: dir.clone(),
            origin: cfg.origin,
            verifier,
            signer: None,
            size: 0,
            edge: vec![Vec::new(); LEVELS],
            bundle: Vec::new(),
            wal,
            wal_len: 0,
            cache: Mutex::new(TileCache::new(DEFAULT_TILE_CACHE)),
            poisoned: false,
            recovery: Recovery::default(),
            prune: Vec::new(),
            _lock: lock,
        };

        let hint = read_optional(&dir.join(STATE), wal::STATE_LEN as u64 + 1)?
            .and_then(|b| State::decode(&b));
        let mut start = State {
            size: 0,
            wal_offset: 0,
            root: empty_root(),
        };
        match hint {
            None => log.recovery.hint_rejected = Some("state hint missing or damaged".into()),
            Some(h) if h.wal_offset > wal_file_len => {
                // The hint is written only after the frames it covers were
                // fsynced, so a shorter write-ahead log means durable data
                // was lost outside this program's control.
                return Err(Error::Corrupt {
                    path: walp,
                    offset: wal_file_len,
                    reason: format!(
                        "write-ahead log ends before offset {} that the state hint says is durable",
                        h.wal_offset
                    ),
                });
            }
            Some(h) => match log.load_edge(h) {
                Ok(()) => {
                    start = h;
                    log.recovery.hint_size = h.size;
                }
                Err(e) => {
                    log.recovery.hint_rejected =
                        Some(format!("tiles at hinted size {} unusable: {e}", h.size));
                    log.reset_memory();
                }
            },
        }

        log.replay(start)?;
        Ok(log)
    }

    fn reset_memory(&mut self) {
        self.size = 0;
        self.edge = vec![Vec::new(); LEVELS];
        self.bundle.clear();
    }

    /// Loads the rightmost partial tiles at the hinted size and checks that
    /// they give the hinted root.
    fn load_edge(&mut self, h: State) -> Result<()> {
        self.size = h.size;
        for level in 0..LEVELS {
            let count = hashes_at_level(h.size, level as u8);
            if count.is_multiple_of(TILE_WIDTH) {
                continue;
            }
            let t = tile_at_size(TileKind::Hashes(level as u8), count / TILE_WIDTH, h.size)
                .expect("count > 0");
            let bytes = read_tile_prefix(&self.dir, t, h.size)?;
            self.edge[level] =
                parse_tile(&bytes, t.width, &self.dir.join(t.path()).to_string_lossy())?;
        }
        if !h.size.is_multiple_of(TILE_WIDTH) {
            let t = tile_at_size(TileKind::Entries, h.size / TILE_WIDTH, h.size).expect("size > 0");
            let bytes = read_tile_prefix(&self.dir, t, h.size)?;
            parse_bundle(&bytes, t.width, &self.dir.join(t.path()).to_string_lossy())?;
            self.bundle = bytes;
        }
        let root = self.root()?;
        if root != h.root {
            return Err(Error::BadCheckpoint(format!(
                "tiles give root {} at size {}, the hint says {}",
                proof::hex(&root),
                h.size,
                proof::hex(&h.root)
            )));
        }
        Ok(())
    }

    /// Re-applies write-ahead frames after `start`, cuts a torn tail, and
    /// records the new state hint.
    fn replay(&mut self, start: State) -> Result<()> {
        let walp = self.dir.join(WAL);
        let reader = self.wal.try_clone().map_err(|e| Error::io(&walp, e))?;
        let mut pending: Vec<Vec<u8>> = Vec::new();
        let mut pending_bytes = 0usize;
        let mut frames = 0u64;
        // Frames are applied in groups so that a rebuild from the start does
        // one group commit per ~64k entries rather than one per frame.
        let end = wal::read_frames(&reader, &walp, start.wal_offset, start.size, |f| {
            frames += 1;
            for e in f.entries {
                pending_bytes += e.len();
                pending.push(e);
            }
            if pending.len() >= MAX_BATCH_ENTRIES || pending_bytes >= MAX_BATCH_BYTES {
                let batch = std::mem::take(&mut pending);
                pending_bytes = 0;
                self.apply(&batch)?;
            }
            Ok(())
        })?;
        if !pending.is_empty() {
            self.apply(&pending)?;
        }
        self.recovery.frames_replayed = frames;
        self.recovery.entries_replayed = end.next_index - start.size;
        debug_assert_eq!(self.size, end.next_index);
        if let Some(reason) = end.torn {
            // Tiles are written only after their frame is fsynced, so if a
            // tile already holds the first entry of the "torn" frame, that
            // frame was durable and has since been damaged: cutting it would
            // discard acknowledged entries.
            if let Some(witness) = self.entry_tile_witness(end.next_index) {
                return Err(Error::Corrupt {
                    path: walp,
                    offset: end.good_end,
                    reason: format!(
                        "{reason}; but {} already holds entry {}, so this frame was durable: refusing to discard it",
                        witness.display(),
                        end.next_index
                    ),
                });
            }
            let file_len = self.wal.metadata().map_err(|e| Error::io(&walp, e))?.len();
            self.wal
                .set_len(end.good_end)
                .map_err(|e| Error::io(&walp, e))?;
            self.wal.sync_all().map_err(|e| Error::io(&walp, e))?;
            self.recovery.torn_bytes_truncated = file_len - end.good_end;
            self.recovery.torn_reason = Some(reason);
        }
        self.wal_len = end.good_end;
        self.write_state()?;
        // Superseded partial tiles whose deletion a crash interrupted sit
        // just left of the current edge at each level.
        for level in 0..LEVELS {
            let n = hashes_at_level(self.size, level as u8) / TILE_WIDTH;
            if n > 0 {
                self.prune.push(
                    self.dir.join(
                        TileId {
                            kind: TileKind::Hashes(level as u8),
                            index: n - 1,
                            width: 1,
                        }
                        .partial_dir(),
                    ),
                );
            }
        }
        if self.size >= TILE_WIDTH {
            let n = self.size / TILE_WIDTH;
            self.prune.push(
                self.dir.join(
                    TileId {
                        kind: TileKind::Entries,
                        index: n - 1,
                        width: 1,
                    }
                    .partial_dir(),
                ),
            );
        }
        prune_dirs(&std::mem::take(&mut self.prune));
        Ok(())
    }

    /// A tile file that holds entry `index`, if one exists on disk.
    fn entry_tile_witness(&self, index: u64) -> Option<PathBuf> {
        let full = TileId {
            kind: TileKind::Entries,
            index: index / TILE_WIDTH,
            width: TILE_WIDTH as u16,
        };
        let p = self.dir.join(full.path());
        if p.exists() {
            return Some(p);
        }
        let pos = (index % TILE_WIDTH) as u16;
        let pdir = self.dir.join(full.partial_dir());
        std::fs::read_dir(&pdir)
            .ok()?
            .filter_map(|e| e.ok())
            .find_map(|e| {
                let w: u16 = e.file_name().to_str()?.parse().ok()?;
                (w > pos).then(|| e.path())
            })
    }

    /// Attaches the signer used by [`Log::checkpoint`]; it must hold the key
    /// the log was created with.
    pub fn set_signer(&mut self, signer: Signer) -> Result<()> {
        if signer.verifier() != self.verifier {
            return Err(Error::WrongSigner {
                expected: self.verifier.to_string(),
                got: signer.verifier().to_string(),
            });
        }
        self.signer = Some(signer);
        Ok(())
    }

    /// Sets how many expanded tiles (about 16 KiB each) proof generation
    /// keeps in memory.
    pub fn set_tile_cache_capacity(&mut self, tiles: usize) {
        self.cache.lock().expect("cache lock").set_capacity(tiles);
    }

    /// The log directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The checkpoint origin (equal to the key name).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The public key checkpoints are signed with.
    pub fn verifier_key(&self) -> &VerifierKey {
        &self.verifier
    }

    /// Number of entries.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// What opening the log repaired.
    pub fn recovery(&self) -> &Recovery {
        &self.recovery
    }

    /// Appends `entries` as one group commit and returns their indices. It
    /// returns only once the entries are durable: write-ahead frame fsynced,
    /// then tiles and bundles fsynced, then their directories fsynced. An
    /// empty batch returns an empty range without touching the disk. At most
    /// [`MAX_BATCH_ENTRIES`] entries and [`MAX_BATCH_BYTES`] serialised bytes
    /// per call. If an I/O error occurs the log refuses further writes until
    /// it is reopened (which repairs it).
    pub fn append_batch(&mut self, entries: &[Entry]) -> Result<Range<u64>> {
        if self.poisoned {
            return Err(Error::Poisoned);
        }
        let start = self.size;
        if entries.is_empty() {
            return Ok(start..start);
        }
        let mut leaves = Vec::with_capacity(entries.len());
        let mut bytes = 0usize;
        for (i, e) in entries.iter().enumerate() {
            let leaf = e.to_leaf_bytes().map_err(|err| match err {
                Error::EntryTooLarge { len, max, .. } => {
                    Error::EntryTooLarge { index: i, len, max }
                }
                other => other,
            })?;
            bytes += leaf.len();
            leaves.push(leaf);
        }
        if entries.len() > MAX_BATCH_ENTRIES || bytes > MAX_BATCH_BYTES {
            return Err(Error::BatchTooLarge {
                entries: entries.len(),
                bytes,
                max_entries: MAX_BATCH_ENTRIES,
                max_bytes: MAX_BATCH_BYTES,
            });
        }
        debug_assert!(leaves.iter().all(|l| l.len() <= MAX_ENTRY_BYTES));
        let res = self.commit(&leaves);
        if res.is_err() {
            self.poisoned = true;
        }
        res?;
        Ok(start..self.size)
    }

    fn commit(&mut self, leaves: &[Vec<u8>]) -> Result<()> {
        let frame = wal::encode_frame(self.size, leaves)?;
        let walp = self.dir.join(WAL);
        let prune = std::mem::take(&mut self.prune);
        let (wal, wal_len) = (&self.wal, self.wal_len);
        std::thread::scope(|s| {
            if !prune.is_empty() {
                s.spawn(|| prune_dirs(&prune));
            }
            wal.write_all_at(&frame, wal_len)
                .map_err(|e| Error::io(&walp, e))?;
            wal.sync_data().map_err(|e| Error::io(&walp, e))
        })?;
        self.wal_len += frame.len() as u64;
        self.apply(leaves)?;
        self.write_state()
    }

    /// Adds leaves to the in-memory tree edge and durably writes every tile
    /// and bundle that changed.
    fn apply(&mut self, leaves: &[Vec<u8>]) -> Result<()> {
        let old = self.size;
        let mut full: HashMap<(TileKind, u64), Vec<u8>> = HashMap::new();
        for leaf in leaves {
            push_bundle_entry(&mut self.bundle, leaf)?;
            self.size += 1;
            if self.size.is_multiple_of(TILE_WIDTH) {
                full.insert(
                    (TileKind::Entries, (self.size - 1) / TILE_WIDTH),
                    std::mem::take(&mut self.bundle),
                );
            }
            self.add_hash(0, leaf_hash(leaf), &mut full);
        }
        let touched = tiles_touched(old, self.size);
        let mut files = Vec::with_capacity(touched.len());
        for t in &touched {
            let bytes = if t.is_full() {
                full.remove(&(t.kind, t.index)).ok_or_else(|| {
                    Error::InvalidProofRequest(format!(
                        "internal: full tile {} was not produced",
                        t.path()
                    ))
                })?
            } else {
                match t.kind {
                    TileKind::Entries => self.bundle.clone(),
                    TileKind::Hashes(l) => {
                        debug_assert_eq!(self.edge[l as usize].len(), t.width as usize);
                        tile_bytes(&self.edge[l as usize])
                    }
                }
            };
            files.push((self.dir.join(t.path()), bytes));
        }
        write_files_durable(&files)?;
        // Partial versions of a tile may go once the full tile is durable
        // (tlog-tiles allows it); they are deleted later, off the
        // acknowledgement path.
        self.prune.extend(
            touched
                .iter()
                .filter(|t| t.is_full())
                .map(|t| self.dir.join(t.partial_dir())),
        );
        Ok(())
    }

    fn add_hash(&mut self, level: usize, h: Hash, full: &mut HashMap<(TileKind, u64), Vec<u8>>) {
        self.edge[level].push(h);
        if self.edge[level].len() as u64 == TILE_WIDTH {
            let idx = (hashes_at_level(self.size, level as u8) - 1) / TILE_WIDTH;
            let hashes = std::mem::take(&mut self.edge[level]);
            let up = perfect_root(&hashes);
            full.insert((TileKind::Hashes(level as u8), idx), tile_bytes(&hashes));
            self.cache.lock().expect("cache lock").insert(
                (level as u8, idx, TILE_WIDTH as u16),
                Arc::new(ExpandedTile::new(hashes)),
            );
            if level < MAX_TILE_LEVEL as usize {
                self.add_hash(level + 1, up, full);
            }
        }
    }

    /// Records the durable size in the state hint. The hint is not fsynced:
    /// it only saves work on open, and any version of it that survives a
    /// crash describes tiles that were already durable when it was written.
    fn write_state(&mut self) -> Result<()> {
        let st = State {
            size: self.size,
            wal_offset: self.wal_len,
            root: self.root()?,
        };
        let p = self.dir.join(STATE);
        let f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(&p)
            .map_err(|e| Error::io(&p, e))?;
        f.write_all_at(&st.encode(), 0)
            .map_err(|e| Error::io(&p, e))
    }

    /// Root hash of the whole log.
    pub fn root(&self) -> Result<Hash> {
        proof::root(self, self.size)
    }

    /// Root hash of the first `size` entries.
    pub fn root_at(&self, size: u64) -> Result<Hash> {
        self.check_size(size)?;
        proof::root(self, size)
    }

    fn check_size(&self, size: u64) -> Result<()> {
        if size > self.size {
            return Err(Error::SizeOutOfRange {
                requested: size,
                size: self.size,
            });
        }
        Ok(())
    }

    /// Signs a checkpoint for the current size, stores it as `checkpoint`
    /// and under `checkpoints/`, both durably, and returns the note text.
    pub fn checkpoint(&mut self) -> Result<String> {
        if self.poisoned {
            return Err(Error::Poisoned);
        }
        let signer = self.signer.as_ref().ok_or(Error::NoSigner)?;
        let cp = Checkpoint {
            origin: self.origin.clone(),
            size: self.size,
            root: self.root()?,
            extensions: vec![],
        };
        let note = cp.sign(signer)?;
        write_durable(
            &self
                .dir
                .join(CHECKPOINTS)
                .join(format!("{:020}", self.size)),
            note.as_bytes(),
        )?;
        write_durable(&self.dir.join(CHECKPOINT), note.as_bytes())?;
        Ok(note)
    }

    /// The latest signed checkpoint note, as served.
    pub fn latest_checkpoint(&self) -> Result<String> {
        let p = self.dir.join(CHECKPOINT);
        let b = read_limited(&p, crate::note::MAX_NOTE_BYTES as u64)?;
        String::from_utf8(b).map_err(|e| Error::Corrupt {
            path: p,
            offset: e.utf8_error().valid_up_to() as u64,
            reason: "not UTF-8".into(),
        })
    }

    /// Inclusion proof for entry `index` in the tree of the first `size`
    /// entries.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<InclusionProof> {
        self.check_size(size)?;
        InclusionProof::from_source(self, index, size)
    }

    /// Consistency proof between the trees of `old` and `new` entries.
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<ConsistencyProof> {
        self.check_size(new)?;
        ConsistencyProof::from_source(self, old, new)
    }

    /// The raw leaf bytes of entry `index`.
    pub fn entry_bytes(&self, index: u64) -> Result<Vec<u8>> {
        let (t, slot) = entry_bundle(index, self.size)?;
        let path = self.dir.join(t.path());
        let owned;
        let bytes: &[u8] = if t.is_full() {
            owned = read_limited(&path, MAX_BUNDLE_FILE_BYTES)?;
            &owned
        } else {
            &self.bundle
        };
        let entries = parse_bundle(bytes, t.width, &path.to_string_lossy())?;
        Ok(entries[slot].to_vec())
    }

    /// Entry `index`, parsed.
    pub fn entry(&self, index: u64) -> Result<Entry> {
        let b = self.entry_bytes(index)?;
        Entry::from_leaf_bytes(&b).map_err(|e| Error::InvalidLeaf {
            reason: format!("entry {index}: {e}"),
        })
    }

    /// Re-derives every hash from the entry bundles, compares every entry
    /// with the write-ahead log, checks that every entry is canonical, and
    /// checks the signature and root of every stored checkpoint.
    pub fn fsck(&self) -> Result<FsckReport> {
        let walp = self.dir.join(WAL);
        let reader = self.wal.try_clone().map_err(|e| Error::io(&walp, e))?;
        let mut frames = wal::FrameReader::new(&reader, &walp, 0, 0)?;
        let mut queue: std::collections::VecDeque<Vec<u8>> = Default::default();
        let mut wal_frames = 0u64;
        let tree = check_tree(&self.dir, self.size, &mut |i, e| {
            if queue.is_empty() {
                match frames.next_frame()? {
                    Some(f) => {
                        wal_frames += 1;
                        queue.extend(f.entries);
                    }
                    None => {
                        return Err(Error::WalMismatch {
                            path: walp.clone(),
                            index: i,
                        })
                    }
                }
            }
            if queue.pop_front().as_deref() != Some(e) {
                return Err(Error::WalMismatch {
                    path: walp.clone(),
                    index: i,
                });
            }
            Entry::from_leaf_bytes(e).map_err(|err| Error::InvalidLeaf {
                reason: format!("entry {i}: {err}"),
            })?;
            Ok(())
        })?;
        if !queue.is_empty() || frames.next_frame()?.is_some() {
            return Err(Error::WalMismatch {
                path: walp,
                index: self.size,
            });
        }
        if let Some(t) = frames.finish().torn {
            return Err(Error::Corrupt {
                path: walp,
                offset: self.wal_len,
                reason: format!("torn tail present: {t}"),
            });
        }
        let mine = self.root()?;
        if tree.root != mine {
            return Err(Error::BadCheckpoint(format!(
                "root re-derived from tiles {} differs from the in-memory root {}",
                proof::hex(&tree.root),
                proof::hex(&mine)
            )));
        }
        let mut checkpoints = 0u64;
        let mut paths = vec![self.dir.join(CHECKPOINT)];
        let cdir = self.dir.join(CHECKPOINTS);
        let mut hist: Vec<PathBuf> = std::fs::read_dir(&cdir)
            .map_err(|e| Error::io(&cdir, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_none_or(|x| x != "tmp"))
            .collect();
        hist.sort();
        paths.extend(hist);
        for p in paths {
            let cp = read_checkpoint(&p, &self.verifier)?;
            if cp.size > self.size {
                return Err(Error::BadCheckpoint(format!(
                    "{} is at size {}, beyond the log's {}",
                    p.display(),
                    cp.size,
                    self.size
                )));
            }
            if self.root_at(cp.size)? != cp.root {
                return Err(Error::BadCheckpoint(format!(
                    "{} root does not match the tree at size {}",
                    p.display(),
                    cp.size
                )));
            }
            checkpoints += 1;
        }
        Ok(FsckReport {
            size: self.size,
            root: tree.root,
            entries_checked: tree.entries_checked,
            tiles_checked: tree.tiles_checked,
            wal_frames,
            checkpoints_checked: checkpoints,
        })
    }

    /// Copies the latest signed checkpoint and exactly the tiles and bundles
    /// it needs into `dest` (absent or empty), ready to be served or handed
    /// to [`crate::verify::verify_log_dir`]. Private files are not copied.
    pub fn export(&self, dest: &Path) -> Result<ExportReport> {
        if dest.exists()
            && std::fs::read_dir(dest)
                .map_err(|e| Error::io(dest, e))?
                .next()
                .is_some()
        {
            return Err(Error::AlreadyExists { path: dest.into() });
        }
        let note = self.latest_checkpoint()?;
        let cp = Checkpoint::open(&note, &self.verifier)?;
        let mut files = 0u64;
        let tiles: Vec<TileId> = tiles_for_size(cp.size);
        // Chunks bound memory to a few hundred tiles at a time.
        for chunk in tiles.chunks(256) {
            let mut batch = Vec::with_capacity(chunk.len());
            for t in chunk {
                batch.push((
                    dest.join(t.path()),
                    read_tile_prefix(&self.dir, *t, cp.size)?,
                ));
            }
            files += batch.len() as u64;
            write_files_durable(&batch)?;
        }
        std::fs::create_dir_all(dest).map_err(|e| Error::io(dest, e))?;
        write_durable(&dest.join(CHECKPOINT), note.as_bytes())?;
        Ok(ExportReport {
            size: cp.size,
            files: files + 1,
        })
    }

    fn expanded(&self, level: u8, index: u64) -> Result<Arc<ExpandedTile>> {
        let t = tile_at_size(TileKind::Hashes(level), index, self.size).ok_or_else(|| {
            Error::InvalidProofRequest(format!(
                "tile {level}/{index} does not exist at size {}",
                self.size
            ))
        })?;
        let key = (level, index, t.width);
        if let Some(x) = self.cache.lock().expect("cache lock").get(&key) {
            return Ok(x);
        }
        let hashes = if t.is_full() {
            let p = self.dir.join(t.path());
            parse_tile(
                &read_limited(&p, MAX_TILE_FILE_BYTES)?,
                t.width,
                &p.to_string_lossy(),
            )?
        } else {
            self.edge[level as usize].clone()
        };
        let x = Arc::new(ExpandedTile::new(hashes));
        self.cache
            .lock()
            .expect("cache lock")
            .insert(key, x.clone());
        Ok(x)
    }
}

/// Deletes directories, ignoring failures: a leftover superseded partial
/// tile is harmless because its content is still correct for its width.
fn prune_dirs(dirs: &[PathBuf]) {
    for d in dirs {
        let _ = std::fs::remove_dir_all(d);
    }
}

impl Drop for Log {
    fn drop(&mut self) {
        prune_dirs(&self.prune);
    }
}

impl NodeSource for Log {
    fn node(&self, level: u8, index: u64) -> Result<Hash> {
        if !node_complete(level, index, self.size) {
            return Err(Error::InvalidProofRequest(format!(
                "node ({level}, {index}) is not complete at size {}",
                self.size
            )));
        }
        let (tl, ti, _, _) = node_location(level, index);
        let t = self.expanded(tl, ti)?;
        node_in_tile(&t, level, index)
    }
}
