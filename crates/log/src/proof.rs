//! Pure Merkle-tree arithmetic: RFC 6962 hashing, proof generation and proof
//! verification (RFC 9162 §2.1.3.2 and §2.1.4.2), plus the subtree proofs of
//! the Merkle Tree Certificates draft that transparency-dev's vectors cover.
//!
//! Nothing in this module touches the file system. Proof generation is written
//! against the [`NodeSource`] trait, which hands out the hash of any *complete*
//! subtree; the log backs it with tiles on disk, the standalone verifier with a
//! served tiles directory, and tests with an in-memory tree.

use sha2::{Digest, Sha256};

use crate::Error;

/// Size in bytes of every hash in the tree (SHA-256).
pub const HASH_SIZE: usize = 32;

/// A SHA-256 hash: a leaf hash, an interior node hash or a tree root.
pub type Hash = [u8; HASH_SIZE];

/// The longest proof that can exist for a tree with at most 2^64 - 1 leaves;
/// proofs longer than this are rejected before any hashing is done.
pub const MAX_PROOF_HASHES: usize = 64;

/// RFC 6962 leaf hash: SHA-256(0x00 || data).
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

/// RFC 6962 interior node hash: SHA-256(0x01 || left || right).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    // One contiguous buffer lets SHA-256 run over 65 bytes in a single update,
    // which is measurably faster than three small updates on the hot path.
    let mut buf = [0u8; 1 + 2 * HASH_SIZE];
    buf[0] = 1;
    buf[1..33].copy_from_slice(left);
    buf[33..].copy_from_slice(right);
    Sha256::digest(buf).into()
}

/// The root of the empty tree: SHA-256 of the empty string (RFC 6962 §2.1).
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// Supplies the hash of a complete, aligned subtree: the node at `level`
/// (0 = leaves) and `index`, covering leaves `[index << level, (index + 1) << level)`.
pub trait NodeSource {
    /// Returns the hash of the complete subtree at `level` and `index`, or an
    /// error if it is not stored (for example because it is not complete).
    fn node(&self, level: u8, index: u64) -> Result<Hash, Error>;
}

/// The largest power of two strictly smaller than `n`; requires `n >= 2`.
/// This is the split point `k` of RFC 6962 §2.1.
pub fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// Hash of the leaf range `[start, end)`, where `start` is a multiple of the
/// smallest power of two that is at least `end - start` (every range that
/// RFC 6962's recursions produce has this shape). The range is cut into the
/// complete subtrees named by the binary digits of its length, which are then
/// folded right to left exactly as MTH's recursive definition does.
pub fn range_hash(src: &dyn NodeSource, start: u64, end: u64) -> Result<Hash, Error> {
    if start >= end {
        return Err(Error::InvalidProofRequest(format!(
            "empty leaf range [{start}, {end}) has no hash"
        )));
    }
    let mut parts: Vec<Hash> = Vec::with_capacity(64);
    let mut pos = start;
    let mut rem = end - start;
    while rem > 0 {
        let level = 63 - rem.leading_zeros();
        let width = 1u64 << level;
        if pos & (width - 1) != 0 {
            return Err(Error::InvalidProofRequest(format!(
                "leaf range [{start}, {end}) is not aligned to a subtree"
            )));
        }
        parts.push(src.node(level as u8, pos >> level)?);
        pos += width;
        rem -= width;
    }
    let mut acc = parts
        .pop()
        .expect("loop ran at least once because start < end");
    while let Some(left) = parts.pop() {
        acc = node_hash(&left, &acc);
    }
    Ok(acc)
}

/// Root hash of the tree with `size` leaves.
pub fn root(src: &dyn NodeSource, size: u64) -> Result<Hash, Error> {
    if size == 0 {
        return Ok(empty_root());
    }
    range_hash(src, 0, size)
}

/// Generates the RFC 6962 audit path `PATH(index, D[0:size])`, ordered from the
/// leaf's sibling up to the child of the root.
pub fn inclusion_proof(src: &dyn NodeSource, index: u64, size: u64) -> Result<Vec<Hash>, Error> {
    if index >= size {
        return Err(Error::IndexOutOfRange { index, size });
    }
    let mut out = Vec::with_capacity(64);
    let (mut a, mut b) = (0u64, size);
    // Each step descends one level towards the leaf and records the hash of
    // the sibling range; the list is built top-down and reversed at the end.
    while b - a > 1 {
        let k = split_point(b - a);
        if index < a + k {
            out.push(range_hash(src, a + k, b)?);
            b = a + k;
        } else {
            out.push(range_hash(src, a, a + k)?);
            a += k;
        }
    }
    out.reverse();
    Ok(out)
}

/// Generates the RFC 6962 consistency proof `PROOF(old, D[0:new])`. Requires
/// `0 < old <= new`; the proof between equal sizes is empty.
pub fn consistency_proof(src: &dyn NodeSource, old: u64, new: u64) -> Result<Vec<Hash>, Error> {
    if old == 0 {
        return Err(Error::InvalidProofRequest(
            "a consistency proof from the empty tree proves nothing (old size 0)".into(),
        ));
    }
    if old > new {
        return Err(Error::InvalidProofRequest(format!(
            "old size {old} is larger than new size {new}"
        )));
    }
    let mut out = Vec::with_capacity(64);
    if old == new {
        return Ok(out);
    }
    // Iterative form of SUBPROOF(m, D[a:b], flag) from RFC 6962 §2.1.2.
    let (mut a, mut b, mut m, mut whole) = (0u64, new, old, true);
    loop {
        if m == b - a {
            if !whole {
                out.push(range_hash(src, a, b)?);
            }
            break;
        }
        let k = split_point(b - a);
        if m <= k {
            out.push(range_hash(src, a + k, b)?);
            b = a + k;
        } else {
            out.push(range_hash(src, a, a + k)?);
            m -= k;
            a += k;
            whole = false;
        }
    }
    out.reverse();
    Ok(out)
}

fn check_len(proof: &[Hash]) -> Result<(), Error> {
    if proof.len() > MAX_PROOF_HASHES {
        return Err(Error::ProofFailed(format!(
            "proof has {} hashes, more than the {MAX_PROOF_HASHES} any tree can need",
            proof.len()
        )));
    }
    Ok(())
}

/// Recomputes the root from an inclusion proof (RFC 9162 §2.1.3.2 steps 1-4).
pub fn root_from_inclusion_proof(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
) -> Result<Hash, Error> {
    check_len(proof)?;
    if index >= size {
        return Err(Error::ProofFailed(format!(
            "leaf index {index} is not below tree size {size}"
        )));
    }
    let (mut fnode, mut snode) = (index, size - 1);
    let mut r = *leaf;
    for (i, p) in proof.iter().enumerate() {
        if snode == 0 {
            return Err(Error::ProofFailed(format!(
                "inclusion proof has {} hashes; hash {i} is past the root",
                proof.len()
            )));
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(Error::ProofFailed(format!(
            "inclusion proof has {} hashes, too few for leaf {index} of tree size {size}",
            proof.len()
        )));
    }
    Ok(r)
}

/// Verifies that `leaf` (a leaf hash) is at `index` in the tree of `size`
/// leaves whose root is `root` (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), Error> {
    let got = root_from_inclusion_proof(leaf, index, size, proof)?;
    if &got != root {
        return Err(Error::ProofFailed(format!(
            "inclusion proof for leaf {index} of tree size {size} yields root {}, not the expected {}",
            hex(&got),
            hex(root)
        )));
    }
    Ok(())
}

/// Verifies that the tree of `old` leaves with root `old_root` is a prefix of
/// the tree of `new` leaves with root `new_root` (RFC 9162 §2.1.4.2). Equal
/// sizes need an empty proof and equal roots; `old == 0` is always rejected,
/// as in transparency-dev/merkle, because such a proof proves nothing.
pub fn verify_consistency(
    old: u64,
    new: u64,
    proof: &[Hash],
    old_root: &Hash,
    new_root: &Hash,
) -> Result<(), Error> {
    check_len(proof)?;
    if old == 0 {
        return Err(Error::ProofFailed(
            "consistency from the empty tree (old size 0) proves nothing".into(),
        ));
    }
    if old > new {
        return Err(Error::ProofFailed(format!(
            "old size {old} is larger than new size {new}"
        )));
    }
    if old == new {
        if !proof.is_empty() {
            return Err(Error::ProofFailed(format!(
                "sizes are equal ({old}) but the proof has {} hashes",
                proof.len()
            )));
        }
        if old_root != new_root {
            return Err(Error::ProofFailed(format!(
                "sizes are equal ({old}) but the roots differ"
            )));
        }
        return Ok(());
    }
    if proof.is_empty() {
        return Err(Error::ProofFailed(format!(
            "empty consistency proof between different sizes {old} and {new}"
        )));
    }
    // Step 2: when the old tree is a complete subtree, its root is the seed.
    let mut path: Vec<&Hash> = Vec::with_capacity(proof.len() + 1);
    if old.is_power_of_two() {
        path.push(old_root);
    }
    path.extend(proof.iter());
    let (mut fnode, mut snode) = (old - 1, new - 1);
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    let (mut fr, mut sr) = (*path[0], *path[0]);
    for (i, c) in path[1..].iter().enumerate() {
        if snode == 0 {
            return Err(Error::ProofFailed(format!(
                "consistency proof {old}->{new} has extra hashes starting at {i}"
            )));
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(Error::ProofFailed(format!(
            "consistency proof {old}->{new} has too few hashes ({})",
            proof.len()
        )));
    }
    if &fr != old_root {
        return Err(Error::ProofFailed(format!(
            "consistency proof {old}->{new} does not reproduce the old root"
        )));
    }
    if &sr != new_root {
        return Err(Error::ProofFailed(format!(
            "consistency proof {old}->{new} does not reproduce the new root"
        )));
    }
    Ok(())
}

/// Whether `[start, end)` is a subtree in the sense of the Merkle Tree
/// Certificates draft: non-empty, and `start` is a multiple of the smallest
/// power of two that is at least `end - start`.
pub fn is_valid_subtree(start: u64, end: u64) -> bool {
    if start >= end {
        return false;
    }
    match (end - start).checked_next_power_of_two() {
        Some(p) => start.is_multiple_of(p),
        // Only a range starting at 0 is aligned to 2^64.
        None => start == 0,
    }
}

/// Verifies a subtree inclusion proof: `leaf` is at `index` inside the
/// subtree `[start, end)` whose hash is `subtree_root`. The proof is the
/// ordinary audit path of leaf `index - start` in a tree of `end - start`
/// leaves, because a valid subtree hashes exactly like such a tree.
pub fn verify_subtree_inclusion(
    leaf: &Hash,
    index: u64,
    start: u64,
    end: u64,
    proof: &[Hash],
    subtree_root: &Hash,
) -> Result<(), Error> {
    check_subtree_leaf(index, start, end)?;
    verify_inclusion(leaf, index - start, end - start, proof, subtree_root)
}

/// The checks every subtree inclusion proof starts with: `[start, end)` is a valid
/// subtree and `index` lies in it.
fn check_subtree_leaf(index: u64, start: u64, end: u64) -> Result<(), Error> {
    if !is_valid_subtree(start, end) {
        return Err(Error::ProofFailed(format!(
            "[{start}, {end}) is not a valid subtree"
        )));
    }
    if index < start || index >= end {
        return Err(Error::ProofFailed(format!(
            "leaf index {index} is outside subtree [{start}, {end})"
        )));
    }
    Ok(())
}

/// Verifies a subtree consistency proof: the subtree `[start, end)` with hash
/// `subtree_root` sits at those positions in the tree of `size` leaves with
/// root `root` (the "Verifying a Subtree Consistency Proof" procedure of the
/// Merkle Tree Certificates draft, which generalises RFC 9162 §2.1.4.2).
pub fn verify_subtree_consistency(
    start: u64,
    end: u64,
    size: u64,
    proof: &[Hash],
    subtree_root: &Hash,
    root: &Hash,
) -> Result<(), Error> {
    check_len(proof)?;
    if start == end && end <= size {
        // The empty subtree is contained in every tree. As in
        // transparency-dev/merkle, it needs an empty proof and the empty
        // root as its hash, and says nothing about `root`.
        if !proof.is_empty() || subtree_root != &empty_root() {
            return Err(Error::ProofFailed(format!(
                "empty subtree [{start}, {end}) needs an empty proof and the empty-tree hash"
            )));
        }
        return Ok(());
    }
    if !is_valid_subtree(start, end) {
        return Err(Error::ProofFailed(format!(
            "[{start}, {end}) is not a valid subtree"
        )));
    }
    if end > size {
        return Err(Error::ProofFailed(format!(
            "subtree end {end} is past tree size {size}"
        )));
    }
    let (mut fnode, mut snode, mut tnode) = (start, end - 1, size - 1);
    if snode == tnode {
        while fnode != snode {
            fnode >>= 1;
            snode >>= 1;
            tnode >>= 1;
        }
    } else {
        while fnode != snode && snode & 1 == 1 {
            fnode >>= 1;
            snode >>= 1;
            tnode >>= 1;
        }
    }
    let (mut fr, mut sr, rest) = if fnode == snode {
        (*subtree_root, *subtree_root, proof)
    } else {
        match proof.split_first() {
            Some((first, rest)) => (*first, *first, rest),
            None => {
                return Err(Error::ProofFailed(format!(
                    "empty proof for subtree [{start}, {end}) of tree size {size}"
                )))
            }
        }
    };
    for c in rest {
        if tnode == 0 {
            return Err(Error::ProofFailed(format!(
                "subtree consistency proof for [{start}, {end}) of size {size} has extra hashes"
            )));
        }
        if snode & 1 == 1 || snode == tnode {
            if fnode < snode {
                fr = node_hash(c, &fr);
            }
            sr = node_hash(c, &sr);
            while snode & 1 == 0 {
                fnode >>= 1;
                snode >>= 1;
                tnode >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
        tnode >>= 1;
    }
    if tnode != 0 || &fr != subtree_root || &sr != root {
        return Err(Error::ProofFailed(format!(
            "subtree consistency proof for [{start}, {end}) of tree size {size} does not verify"
        )));
    }
    Ok(())
}

/// Verifiers over byte slices, for proofs read from untrusted encodings
/// such as JSON. They follow transparency-dev/merkle's semantics exactly:
/// the leaf hash and every proof element must be 32 bytes, and a root is
/// only required to be 32 bytes where it takes part in a computation (for
/// equal sizes the two roots are simply compared).
pub mod raw {
    use super::*;

    fn h(b: &[u8], what: &str) -> Result<Hash, Error> {
        Hash::try_from(b)
            .map_err(|_| Error::BadHash(format!("{what} is {} bytes, not {HASH_SIZE}", b.len())))
    }

    fn hs(p: &[Vec<u8>]) -> Result<Vec<Hash>, Error> {
        if p.len() > MAX_PROOF_HASHES {
            return Err(Error::ProofFailed(format!(
                "proof has more than {MAX_PROOF_HASHES} hashes"
            )));
        }
        p.iter()
            .enumerate()
            .map(|(i, x)| h(x, &format!("proof hash {i}")))
            .collect()
    }

    /// [`verify_inclusion`](super::verify_inclusion) over byte slices.
    pub fn verify_inclusion(
        leaf: &[u8],
        index: u64,
        size: u64,
        proof: &[Vec<u8>],
        root: &[u8],
    ) -> Result<(), Error> {
        let got = root_from_inclusion_proof(&h(leaf, "leaf hash")?, index, size, &hs(proof)?)?;
        if got[..] != *root {
            return Err(Error::ProofFailed(format!(
                "inclusion proof for leaf {index} of size {size} yields a different root"
            )));
        }
        Ok(())
    }

    /// [`verify_consistency`](super::verify_consistency) over byte slices.
    pub fn verify_consistency(
        old: u64,
        new: u64,
        proof: &[Vec<u8>],
        old_root: &[u8],
        new_root: &[u8],
    ) -> Result<(), Error> {
        if old != 0 && old == new && proof.is_empty() {
            return if old_root == new_root {
                Ok(())
            } else {
                Err(Error::ProofFailed(format!(
                    "sizes are equal ({old}) but the roots differ"
                )))
            };
        }
        super::verify_consistency(
            old,
            new,
            &hs(proof)?,
            &h(old_root, "old root")?,
            &h(new_root, "new root")?,
        )
    }

    /// [`verify_subtree_inclusion`](super::verify_subtree_inclusion) over
    /// byte slices.
    pub fn verify_subtree_inclusion(
        leaf: &[u8],
        index: u64,
        start: u64,
        end: u64,
        proof: &[Vec<u8>],
        subtree_root: &[u8],
    ) -> Result<(), Error> {
        super::check_subtree_leaf(index, start, end)?;
        verify_inclusion(leaf, index - start, end - start, proof, subtree_root)
    }

    /// [`verify_subtree_consistency`](super::verify_subtree_consistency)
    /// over byte slices.
    pub fn verify_subtree_consistency(
        start: u64,
        end: u64,
        size: u64,
        proof: &[Vec<u8>],
        subtree_root: &[u8],
        root: &[u8],
    ) -> Result<(), Error> {
        if start == end {
            // The tree root plays no part for an empty subtree.
            let sub = h(subtree_root, "subtree root")?;
            return super::verify_subtree_consistency(
                start,
                end,
                size,
                &hs(proof)?,
                &sub,
                &[0; HASH_SIZE],
            );
        }
        if start == 0 && end == size && proof.is_empty() {
            return if subtree_root == root {
                Ok(())
            } else {
                Err(Error::ProofFailed(
                    "subtree is the whole tree but the roots differ".into(),
                ))
            };
        }
        let sub = h(subtree_root, "subtree root")?;
        super::verify_subtree_consistency(
            start,
            end,
            size,
            &hs(proof)?,
            &sub,
            &h(root, "tree root")?,
        )
    }
}

/// Lowercase hex of a hash, for error messages.
pub(crate) fn hex(h: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(h.len() * 2);
    for b in h {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// MTH of a slice of leaf hashes by the recursive definition of RFC 6962
/// §2.1. It is quadratic-free but allocation-light, and serves as the
/// reference that faster code is tested against.
pub fn root_from_leaf_hashes(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = split_point(n as u64) as usize;
            node_hash(
                &root_from_leaf_hashes(&leaves[..k]),
                &root_from_leaf_hashes(&leaves[k..]),
            )
        }
    }
}

/// A Merkle tree held entirely in memory, level by level: `levels[l][i]` is
/// the node at level `l` and index `i`. It costs about 64 bytes per leaf, so it
/// suits tests, benchmarks and rebuilding a tile's interior, not a large log.
#[derive(Clone, Debug, Default)]
pub struct MemoryTree {
    levels: Vec<Vec<Hash>>,
}

impl MemoryTree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    /// Appends one leaf hash, completing every node it closes.
    pub fn push(&mut self, leaf: Hash) {
        let mut h = leaf;
        let mut level = 0;
        loop {
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            self.levels[level].push(h);
            let n = self.levels[level].len();
            if n % 2 == 1 {
                break;
            }
            h = node_hash(&self.levels[level][n - 2], &self.levels[level][n - 1]);
            level += 1;
        }
    }

    /// Root of the first `size` leaves.
    pub fn root_at(&self, size: u64) -> Result<Hash, Error> {
        if size > self.size() {
            return Err(Error::SizeOutOfRange {
                requested: size,
                size: self.size(),
            });
        }
        root(self, size)
    }
}

impl NodeSource for MemoryTree {
    fn node(&self, level: u8, index: u64) -> Result<Hash, Error> {
        self.levels
            .get(level as usize)
            .and_then(|l| l.get(index as usize))
            .copied()
            .ok_or_else(|| {
                Error::InvalidProofRequest(format!(
                    "node at level {level} index {index} is not complete"
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(n: u64) -> (MemoryTree, Vec<Hash>) {
        let mut t = MemoryTree::new();
        let mut leaves = Vec::new();
        for i in 0..n {
            let l = leaf_hash(format!("leaf {i}").as_bytes());
            leaves.push(l);
            t.push(l);
        }
        (t, leaves)
    }

    #[test]
    fn split_point_table() {
        for (n, k) in [
            (2, 1),
            (3, 2),
            (4, 2),
            (5, 4),
            (8, 4),
            (9, 8),
            (1 << 40, 1 << 39),
            ((1 << 40) + 1, 1 << 40),
        ] {
            assert_eq!(split_point(n), k, "n={n}");
        }
    }

    #[test]
    fn empty_root_is_sha256_of_nothing() {
        assert_eq!(
            hex(&empty_root()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn rfc6962_reference_leaf_and_root() {
        // The eight-leaf tree of RFC 6962's test data as used by
        // transparency-dev: leaf 0 is the empty string.
        assert_eq!(
            hex(&leaf_hash(b"")),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
    }

    #[test]
    fn valid_subtree_table() {
        let cases = [
            (0, 1, true),
            (1, 2, true),
            (0, 3, true),
            (4, 7, true),
            (4, 8, true),
            (2, 5, false),
            (2, 6, false),
            (1, 3, false),
            (1, 15, false),
            (3, 3, false),
            (5, 4, false),
            (8, 14, true),
        ];
        for (s, e, want) in cases {
            assert_eq!(is_valid_subtree(s, e), want, "[{s},{e})");
        }
    }

    #[test]
    fn memory_tree_roots_match_reference_for_every_size() {
        let (t, leaves) = tree(70);
        for n in 0..=70u64 {
            assert_eq!(
                t.root_at(n).unwrap(),
                root_from_leaf_hashes(&leaves[..n as usize]),
                "size {n}"
            );
        }
    }

    #[test]
    fn every_inclusion_and_consistency_proof_verifies_up_to_40() {
        let (t, leaves) = tree(40);
        for n in 1..=40u64 {
            let r = t.root_at(n).unwrap();
            for i in 0..n {
                let p = inclusion_proof(&t, i, n).unwrap();
                verify_inclusion(&leaves[i as usize], i, n, &p, &r).unwrap();
                // A proof for a different index must not verify.
                if n > 1 {
                    let j = (i + 1) % n;
                    assert!(verify_inclusion(&leaves[i as usize], j, n, &p, &r).is_err());
                }
            }
            for m in 1..=n {
                let p = consistency_proof(&t, m, n).unwrap();
                let rm = t.root_at(m).unwrap();
                verify_consistency(m, n, &p, &rm, &r).unwrap();
                if m < n {
                    let mut bad = p.clone();
                    bad[0][0] ^= 1;
                    assert!(verify_consistency(m, n, &bad, &rm, &r).is_err());
                }
            }
        }
    }

    #[test]
    fn proof_requests_out_of_range_are_errors() {
        let (t, _) = tree(5);
        assert!(inclusion_proof(&t, 5, 5).is_err());
        assert!(consistency_proof(&t, 0, 5).is_err());
        assert!(consistency_proof(&t, 6, 5).is_err());
        assert!(
            range_hash(&t, 1, 3).is_err(),
            "unaligned range must be refused"
        );
    }

    #[test]
    fn overlong_proofs_are_rejected_without_hashing() {
        let p = vec![[0u8; 32]; MAX_PROOF_HASHES + 1];
        assert!(verify_inclusion(&[0; 32], 0, 2, &p, &[0; 32]).is_err());
        assert!(verify_consistency(1, 2, &p, &[0; 32], &[0; 32]).is_err());
    }
}
