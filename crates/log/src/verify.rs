//! Standalone verification that needs only the log's verifier key string and
//! a served tiles directory (the `checkpoint` file plus `tile/...`), never the
//! writer's private files or secret key.
//!
//! * [`verify_log_dir`] checks the signed checkpoint and re-derives every
//!   hash of the tree it commits to from the entry bundles.
//! * [`TileDir`] reads tiles like a tlog-tiles client and computes any
//!   inclusion or consistency proof for trees up to the checkpoint size.
//! * [`verify_inclusion`] and [`verify_consistency`] check proofs against
//!   signed checkpoints.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use crate::entry::Entry;
use crate::fsio::{read_limited, read_optional};
use crate::note::{decode_hash, encode_hash, Checkpoint, VerifierKey, MAX_NOTE_BYTES};
use crate::proof::{self, leaf_hash, Hash, NodeSource, HASH_SIZE, MAX_PROOF_HASHES};
use crate::tile::{
    entry_bundle, hashes_at_level, node_location, parse_bundle, parse_tile, perfect_root, tile_at_size,
    ExpandedTile, TileId, TileKind, TILE_WIDTH,
};
use crate::{Error, Result};

/// Largest proof JSON accepted by [`InclusionProof::from_json`] and
/// [`ConsistencyProof::from_json`].
pub const MAX_PROOF_JSON_BYTES: usize = 16 * 1024;
/// Largest entry bundle file read (256 entries of at most 65,535 bytes plus
/// their prefixes).
pub const MAX_BUNDLE_FILE_BYTES: u64 = 256 * (2 + 65_535);
/// Largest hash tile file read.
pub const MAX_TILE_FILE_BYTES: u64 = 256 * HASH_SIZE as u64;
/// Tiles kept expanded in memory by default (about 16 KiB each).
pub const DEFAULT_TILE_CACHE: usize = 1024;

/// An inclusion proof as exchanged between the log and its clients.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InclusionProof {
    /// Leaf index.
    pub index: u64,
    /// Tree size the proof is for.
    pub size: u64,
    /// Audit path, leaf's sibling first, base64 in JSON.
    #[serde(with = "b64_hashes")]
    pub hashes: Vec<Hash>,
}

/// A consistency proof between two tree sizes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyProof {
    /// The smaller tree size.
    pub old_size: u64,
    /// The larger tree size.
    pub new_size: u64,
    /// Proof hashes, base64 in JSON.
    #[serde(with = "b64_hashes")]
    pub hashes: Vec<Hash>,
}

impl InclusionProof {
    /// The proof for leaf `index` in the tree of `size` leaves, from any source of
    /// tree nodes (the writer's log or a served tile directory); the caller has
    /// checked that `size` is within what the source holds.
    pub fn from_source(src: &dyn NodeSource, index: u64, size: u64) -> Result<Self> {
        Ok(InclusionProof { index, size, hashes: proof::inclusion_proof(src, index, size)? })
    }
}

impl ConsistencyProof {
    /// The proof from `old` to `new` leaves, from any source of tree nodes; the caller
    /// has checked that `new` is within what the source holds.
    pub fn from_source(src: &dyn NodeSource, old: u64, new: u64) -> Result<Self> {
        Ok(ConsistencyProof { old_size: old, new_size: new, hashes: proof::consistency_proof(src, old, new)? })
    }
}

macro_rules! json_io {
    ($t:ty) => {
        impl $t {
            /// Pretty JSON with base64 hashes.
            pub fn to_json(&self) -> String {
                serde_json::to_string_pretty(self).expect("proof structs always serialise")
            }

            /// Parses JSON, refusing inputs over [`MAX_PROOF_JSON_BYTES`] or
            /// with more than 64 hashes.
            pub fn from_json(s: &str) -> Result<Self> {
                if s.len() > MAX_PROOF_JSON_BYTES {
                    return Err(Error::BadProof(format!(
                        "proof JSON is over {MAX_PROOF_JSON_BYTES} bytes"
                    )));
                }
                let p: Self =
                    serde_json::from_str(s).map_err(|e| Error::BadProof(e.to_string()))?;
                if p.hashes.len() > MAX_PROOF_HASHES {
                    return Err(Error::BadProof(format!(
                        "proof has over {MAX_PROOF_HASHES} hashes"
                    )));
                }
                Ok(p)
            }
        }
    };
}
json_io!(InclusionProof);
json_io!(ConsistencyProof);

mod b64_hashes {
    use super::*;
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[Hash], s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(encode_hash))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> std::result::Result<Vec<Hash>, D::Error> {
        let v: Vec<String> = Vec::deserialize(d)?;
        v.iter()
            .map(|s| decode_hash(s).map_err(serde::de::Error::custom))
            .collect()
    }
}

/// A bounded cache of expanded tiles keyed by (level, index, width). A tile
/// of a given width never changes, so entries never go stale.
pub(crate) struct TileCache {
    map: HashMap<(u8, u64, u16), Arc<ExpandedTile>>,
    order: VecDeque<(u8, u64, u16)>,
    cap: usize,
}

impl TileCache {
    pub(crate) fn new(cap: usize) -> Self {
        TileCache {
            map: HashMap::new(),
            order: VecDeque::new(),
            cap: cap.max(1),
        }
    }

    pub(crate) fn get(&self, k: &(u8, u64, u16)) -> Option<Arc<ExpandedTile>> {
        self.map.get(k).cloned()
    }

    pub(crate) fn insert(&mut self, k: (u8, u64, u16), t: Arc<ExpandedTile>) {
        if self.map.insert(k, t).is_none() {
            self.order.push_back(k);
            while self.order.len() > self.cap {
                if let Some(old) = self.order.pop_front() {
                    self.map.remove(&old);
                }
            }
        }
    }

    pub(crate) fn set_capacity(&mut self, cap: usize) {
        self.cap = cap.max(1);
        while self.order.len() > self.cap {
            if let Some(old) = self.order.pop_front() {
                self.map.remove(&old);
            }
        }
    }
}

/// Reads the bytes of `tile`, accepting a longer version of it as the spec
/// allows clients to: the full tile, or a wider partial tile (a log may
/// delete partial tiles once a wider one exists). Returns exactly the bytes
/// of the requested width.
pub(crate) fn read_tile_prefix(root: &Path, tile: TileId, size_for_msg: u64) -> Result<Vec<u8>> {
    let limit = match tile.kind {
        TileKind::Entries => MAX_BUNDLE_FILE_BYTES,
        TileKind::Hashes(_) => MAX_TILE_FILE_BYTES,
    };
    let exact = root.join(tile.path());
    if let Some(b) = read_optional(&exact, limit)? {
        return Ok(b);
    }
    let mut candidates = Vec::new();
    if !tile.is_full() {
        candidates.push(TileId {
            width: TILE_WIDTH as u16,
            ..tile
        });
        let pdir = root.join(tile.partial_dir());
        if let Ok(rd) = std::fs::read_dir(&pdir) {
            let mut widths: Vec<u16> = rd
                .filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse::<u16>().ok()))
                .filter(|w| *w > tile.width && (*w as u64) < TILE_WIDTH)
                .collect();
            widths.sort_unstable();
            candidates.extend(widths.into_iter().map(|w| TileId { width: w, ..tile }));
        }
    }
    for c in candidates {
        let p = root.join(c.path());
        if let Some(b) = read_optional(&p, limit)? {
            return Ok(match tile.kind {
                TileKind::Hashes(_) => {
                    let want = tile.width as usize * HASH_SIZE;
                    if b.len() < want {
                        return Err(Error::Corrupt {
                            path: p,
                            offset: b.len() as u64,
                            reason: format!("tile shorter than the {want} bytes needed"),
                        });
                    }
                    b[..want].to_vec()
                }
                TileKind::Entries => {
                    // Cut the bundle after its first `width` entries.
                    let all = parse_bundle(&b, c.width, &p.to_string_lossy())?;
                    let n: usize = all[..tile.width as usize].iter().map(|e| 2 + e.len()).sum();
                    b[..n].to_vec()
                }
            });
        }
    }
    Err(Error::Missing {
        path: exact,
        size: size_for_msg,
    })
}

/// A served tiles directory viewed at one tree size: a [`NodeSource`] that
/// reads tiles on demand (with a cache), so any proof for a tree no larger
/// than `size` can be computed exactly as a remote tlog-tiles client would.
pub struct TileDir {
    root: PathBuf,
    size: u64,
    cache: Mutex<TileCache>,
}

impl TileDir {
    /// Views `root` as a tree of `size` leaves. Nothing is read yet.
    pub fn new(root: impl Into<PathBuf>, size: u64) -> Self {
        TileDir {
            root: root.into(),
            size,
            cache: Mutex::new(TileCache::new(DEFAULT_TILE_CACHE)),
        }
    }

    /// Reads and verifies `root/checkpoint` with `key`, and views the
    /// directory at the checkpoint's size.
    pub fn open_checkpoint(
        root: impl Into<PathBuf>,
        key: &VerifierKey,
    ) -> Result<(TileDir, Checkpoint)> {
        let root = root.into();
        let cp = read_checkpoint(&root.join("checkpoint"), key)?;
        Ok((TileDir::new(root, cp.size), cp))
    }

    /// The tree size this view is at.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Root hash at `size` (at most the view's size).
    pub fn root_at(&self, size: u64) -> Result<Hash> {
        self.check_size(size)?;
        proof::root(self, size)
    }

    /// Inclusion proof for leaf `index` in the tree of `size` leaves.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<InclusionProof> {
        self.check_size(size)?;
        InclusionProof::from_source(self, index, size)
    }

    /// Consistency proof from `old` to `new` leaves.
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<ConsistencyProof> {
        self.check_size(new)?;
        ConsistencyProof::from_source(self, old, new)
    }

    /// The raw leaf bytes of entry `index`, checked against its leaf hash in
    /// the level-0 tile.
    pub fn entry_bytes(&self, index: u64) -> Result<Vec<u8>> {
        let (tile, slot) = entry_bundle(index, self.size)?;
        let bytes = read_tile_prefix(&self.root, tile, self.size)?;
        let path = self.root.join(tile.path());
        let entries = parse_bundle(&bytes, tile.width, &path.to_string_lossy())?;
        let e = entries[slot].to_vec();
        let want = self.node(0, index)?;
        if leaf_hash(&e) != want {
            return Err(Error::HashMismatch {
                path,
                offset: 0,
                index,
                stored: proof::hex(&want),
                derived: proof::hex(&leaf_hash(&e)),
            });
        }
        Ok(e)
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

    fn expanded(&self, level: u8, index: u64) -> Result<Arc<ExpandedTile>> {
        let tile = tile_at_size(TileKind::Hashes(level), index, self.size).ok_or_else(|| {
            Error::InvalidProofRequest(format!(
                "tile {level}/{index} does not exist at size {}",
                self.size
            ))
        })?;
        let key = (level, index, tile.width);
        if let Some(t) = self.cache.lock().expect("cache lock").get(&key) {
            return Ok(t);
        }
        let bytes = read_tile_prefix(&self.root, tile, self.size)?;
        let hashes = parse_tile(
            &bytes,
            tile.width,
            &self.root.join(tile.path()).to_string_lossy(),
        )?;
        let t = Arc::new(ExpandedTile::new(hashes));
        self.cache
            .lock()
            .expect("cache lock")
            .insert(key, t.clone());
        Ok(t)
    }
}

/// Looks a node up in an expanded tile, naming the tile on failure.
pub(crate) fn node_in_tile(t: &ExpandedTile, level: u8, index: u64) -> Result<Hash> {
    let (tl, ti, pos, _) = node_location(level, index);
    let r = (level % 8) as usize;
    t.get(r, pos >> r).ok_or_else(|| {
        Error::InvalidProofRequest(format!(
            "node ({level}, {index}) is not complete in tile {tl}/{ti}"
        ))
    })
}

/// Whether the node at (`level`, `index`) lies wholly inside `size` leaves.
pub(crate) fn node_complete(level: u8, index: u64, size: u64) -> bool {
    if level >= 64 {
        return false;
    }
    match index
        .checked_add(1)
        .and_then(|i| i.checked_mul(1u64 << level))
    {
        Some(end) => end <= size,
        None => false,
    }
}

impl NodeSource for TileDir {
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

/// Reads and verifies a checkpoint file.
pub fn read_checkpoint(path: &Path, key: &VerifierKey) -> Result<Checkpoint> {
    let bytes = read_limited(path, MAX_NOTE_BYTES as u64)?;
    let text = String::from_utf8(bytes).map_err(|e| Error::Corrupt {
        path: path.into(),
        offset: e.utf8_error().valid_up_to() as u64,
        reason: "checkpoint is not UTF-8".into(),
    })?;
    Checkpoint::open(&text, key).map_err(|e| match e {
        Error::BadSignature(m) => Error::BadSignature(format!("{}: {m}", path.display())),
        Error::BadNote(m) => Error::BadNote(format!("{}: {m}", path.display())),
        Error::BadCheckpoint(m) => Error::BadCheckpoint(format!("{}: {m}", path.display())),
        other => other,
    })
}

/// What a full re-derivation of a tree checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TreeCheck {
    /// The tree size checked.
    pub size: u64,
    /// The root re-derived from the entries.
    pub root: Hash,
    /// Entry bundles and hash tiles read.
    pub tiles_checked: u64,
    /// Entries hashed.
    pub entries_checked: u64,
}

/// Re-derives every hash of the tree of `size` leaves stored under `root`:
/// each entry is hashed and compared with its level-0 tile, each full tile's
/// subtree hash is compared with the tile above, and the root is computed.
/// `visit` sees every entry in order (for extra checks by the caller).
/// Memory use is one tile plus one hash per 256 leaves.
pub fn check_tree(
    root: &Path,
    size: u64,
    visit: &mut dyn FnMut(u64, &[u8]) -> Result<()>,
) -> Result<TreeCheck> {
    let mut tiles_checked = 0u64;
    let mut expected: Vec<Hash> = Vec::new();
    let mut next_level: Vec<Hash> = Vec::new();
    let n0 = size.div_ceil(TILE_WIDTH);
    for t in 0..n0 {
        let bt = tile_at_size(TileKind::Entries, t, size).expect("t < tile count");
        let bpath = root.join(bt.path());
        let bundle = read_tile_prefix(root, bt, size)?;
        let entries = parse_bundle(&bundle, bt.width, &bpath.to_string_lossy())?;
        let ht = tile_at_size(TileKind::Hashes(0), t, size).expect("t < tile count");
        let hpath = root.join(ht.path());
        let hashes = parse_tile(
            &read_tile_prefix(root, ht, size)?,
            ht.width,
            &hpath.to_string_lossy(),
        )?;
        tiles_checked += 2;
        let mut entry_off = 0usize;
        for (i, e) in entries.iter().enumerate() {
            let index = t * TILE_WIDTH + i as u64;
            let h = leaf_hash(e);
            if h != hashes[i] {
                // Either file may be the damaged one, so both are named.
                return Err(Error::Corrupt {
                    path: bpath,
                    offset: entry_off as u64,
                    reason: format!(
                        "entry {index} hashes to {} but {} holds {} at byte offset {}",
                        proof::hex(&h),
                        hpath.display(),
                        proof::hex(&hashes[i]),
                        i * HASH_SIZE
                    ),
                });
            }
            visit(index, e)?;
            entry_off += 2 + e.len();
        }
        if ht.is_full() {
            next_level.push(perfect_root(&hashes));
        }
    }
    let mut level = 1u8;
    while hashes_at_level(size, level) > 0 {
        std::mem::swap(&mut expected, &mut next_level);
        next_level.clear();
        let count = hashes_at_level(size, level);
        debug_assert_eq!(count, expected.len() as u64);
        for t in 0..count.div_ceil(TILE_WIDTH) {
            let ht = tile_at_size(TileKind::Hashes(level), t, size).expect("t < tile count");
            let hpath = root.join(ht.path());
            let hashes = parse_tile(
                &read_tile_prefix(root, ht, size)?,
                ht.width,
                &hpath.to_string_lossy(),
            )?;
            tiles_checked += 1;
            for (i, h) in hashes.iter().enumerate() {
                let idx = t * TILE_WIDTH + i as u64;
                let want = expected[idx as usize];
                if *h != want {
                    return Err(Error::HashMismatch {
                        path: hpath,
                        offset: (i * HASH_SIZE) as u64,
                        index: idx,
                        stored: proof::hex(h),
                        derived: proof::hex(&want),
                    });
                }
            }
            if ht.is_full() {
                next_level.push(perfect_root(&hashes));
            }
        }
        level += 1;
        if level > crate::tile::MAX_TILE_LEVEL {
            break;
        }
    }
    let dir = TileDir::new(root, size);
    let r = proof::root(&dir, size)?;
    Ok(TreeCheck {
        size,
        root: r,
        tiles_checked,
        entries_checked: size,
    })
}

/// The result of [`verify_log_dir`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedLog {
    /// The verified checkpoint.
    pub checkpoint: Checkpoint,
    /// The full re-derivation that matched it.
    pub tree: TreeCheck,
}

/// Verifies a served log directory with nothing but the verifier key: the
/// checkpoint's signature, every entry against its leaf hash, every tile
/// against the level below, every entry's canonical form, and the root
/// against the checkpoint.
pub fn verify_log_dir(root: &Path, key: &VerifierKey) -> Result<VerifiedLog> {
    let cp = read_checkpoint(&root.join("checkpoint"), key)?;
    let tree = check_tree(root, cp.size, &mut |i, e| {
        Entry::from_leaf_bytes(e)
            .map(|_| ())
            .map_err(|err| Error::InvalidLeaf {
                reason: format!("entry {i}: {err}"),
            })
    })?;
    if tree.root != cp.root {
        return Err(Error::BadCheckpoint(format!(
            "checkpoint root {} at size {} differs from the root {} re-derived from the tiles",
            proof::hex(&cp.root),
            cp.size,
            proof::hex(&tree.root)
        )));
    }
    Ok(VerifiedLog {
        checkpoint: cp,
        tree,
    })
}

/// Verifies that `leaf` (raw entry bytes) is included in the tree committed
/// to by the signed `checkpoint_note`, using `proof`. Returns the checkpoint.
pub fn verify_inclusion(
    key: &VerifierKey,
    checkpoint_note: &str,
    leaf: &[u8],
    proof: &InclusionProof,
) -> Result<Checkpoint> {
    let cp = Checkpoint::open(checkpoint_note, key)?;
    if proof.size != cp.size {
        return Err(Error::ProofFailed(format!(
            "proof is for tree size {} but the checkpoint is at {}",
            proof.size, cp.size
        )));
    }
    proof::verify_inclusion(
        &leaf_hash(leaf),
        proof.index,
        proof.size,
        &proof.hashes,
        &cp.root,
    )?;
    Ok(cp)
}

/// Verifies that the tree of the signed `old_note` is a prefix of that of the
/// signed `new_note`, using `proof`. Returns both checkpoints.
pub fn verify_consistency(
    key: &VerifierKey,
    old_note: &str,
    new_note: &str,
    proof: &ConsistencyProof,
) -> Result<(Checkpoint, Checkpoint)> {
    let old = Checkpoint::open(old_note, key)?;
    let new = Checkpoint::open(new_note, key)?;
    if proof.old_size != old.size || proof.new_size != new.size {
        return Err(Error::ProofFailed(format!(
            "proof is for sizes {} -> {} but the checkpoints are at {} -> {}",
            proof.old_size, proof.new_size, old.size, new.size
        )));
    }
    proof::verify_consistency(old.size, new.size, &proof.hashes, &old.root, &new.root)?;
    Ok((old, new))
}
