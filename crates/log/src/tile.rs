//! Pure C2SP tlog-tiles arithmetic (<https://c2sp.org/tlog-tiles>): tile
//! names and paths, which tiles a tree size needs, entry-bundle encoding and
//! the mapping from a Merkle node to the tile that holds it.
//!
//! Tiles have height 8: a full tile holds 256 hashes (8,192 bytes). A hash at
//! tile level `L` is the node at Merkle level `8 * L`.

use crate::proof::{node_hash, Hash, HASH_SIZE};
use crate::Error;

/// Tile height: the number of Merkle levels one tile spans.
pub const TILE_HEIGHT: u32 = 8;
/// Hashes (or entries) in a full tile.
pub const TILE_WIDTH: u64 = 1 << TILE_HEIGHT;
/// The highest tile level: 256^8 = 2^64 leaves need levels 0 to 7.
pub const MAX_TILE_LEVEL: u8 = 7;
/// The longest entry an entry bundle can hold: its length prefix is a
/// big-endian uint16.
pub const MAX_BUNDLE_ENTRY_BYTES: usize = u16::MAX as usize;

/// What a tile holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TileKind {
    /// Merkle hashes at the given tile level (0 = leaf hashes).
    Hashes(u8),
    /// The log entries themselves, as an entry bundle.
    Entries,
}

/// One tile resource: its kind, its index within the level and its width.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TileId {
    /// Hash level or entry bundle.
    pub kind: TileKind,
    /// Index of the tile within its level.
    pub index: u64,
    /// Number of hashes or entries, 1 to 256; 256 means a full tile.
    pub width: u16,
}

impl TileId {
    /// Whether this is a full tile (256 wide).
    pub fn is_full(&self) -> bool {
        self.width as u64 == TILE_WIDTH
    }

    /// The resource path relative to the log prefix, for example
    /// `tile/0/x001/x234/067.p/8` or `tile/entries/000`.
    pub fn path(&self) -> String {
        let level = match self.kind {
            TileKind::Hashes(l) => l.to_string(),
            TileKind::Entries => "entries".to_string(),
        };
        let mut p = format!("tile/{level}/{}", encode_index(self.index));
        if !self.is_full() {
            p.push_str(&format!(".p/{}", self.width));
        }
        p
    }

    /// The directory holding every partial version of this tile
    /// (`tile/<L>/<N>.p`).
    pub fn partial_dir(&self) -> String {
        let full = TileId {
            width: TILE_WIDTH as u16,
            ..*self
        };
        format!("{}.p", full.path())
    }

    /// Parses a resource path produced by [`TileId::path`], strictly: no
    /// leading zeroes in levels or widths, three-digit groups, `x` on all but
    /// the last group.
    pub fn parse(path: &str) -> Result<TileId, Error> {
        let bad = |why: &str| Error::BadTilePath {
            path: path.to_string(),
            reason: why.to_string(),
        };
        let rest = path
            .strip_prefix("tile/")
            .ok_or_else(|| bad("does not start with tile/"))?;
        let (level, rest) = rest.split_once('/').ok_or_else(|| bad("no level"))?;
        let kind = if level == "entries" {
            TileKind::Entries
        } else {
            let l = parse_decimal(level, 63)
                .ok_or_else(|| bad("level is not 0-63 without leading zeroes"))?;
            if l > MAX_TILE_LEVEL as u64 {
                return Err(bad(
                    "level is above 7, which no tree of 2^64 leaves reaches",
                ));
            }
            TileKind::Hashes(l as u8)
        };
        let (index_part, width) = match rest.split_once(".p/") {
            Some((i, w)) => {
                let w = parse_decimal(w, 255).ok_or_else(|| bad("width is not 1-255"))?;
                if w == 0 {
                    return Err(bad("width 0 is never served"));
                }
                (i, w as u16)
            }
            None => (rest, TILE_WIDTH as u16),
        };
        let groups: Vec<&str> = index_part.split('/').collect();
        let mut index: u64 = 0;
        for (i, g) in groups.iter().enumerate() {
            let last = i + 1 == groups.len();
            let digits = if last {
                *g
            } else {
                g.strip_prefix('x')
                    .ok_or_else(|| bad("non-final index group lacks its x"))?
            };
            if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad("index group is not three digits"));
            }
            let v: u64 = digits
                .parse()
                .map_err(|_| bad("index group is not a number"))?;
            index = index
                .checked_mul(1000)
                .and_then(|x| x.checked_add(v))
                .ok_or_else(|| bad("index overflows 64 bits"))?;
        }
        if groups.len() > 1 && groups[0] == "x000" {
            return Err(bad("index has a leading zero group"));
        }
        Ok(TileId { kind, index, width })
    }
}

fn parse_decimal(s: &str, max: u64) -> Option<u64> {
    if s.is_empty()
        || s.len() > 20
        || !s.bytes().all(|b| b.is_ascii_digit())
        || (s.len() > 1 && s.starts_with('0'))
    {
        return None;
    }
    s.parse::<u64>().ok().filter(|v| *v <= max)
}

/// Encodes a tile index as zero-padded three-digit path elements, all but the
/// last prefixed with `x`: 1234067 becomes `x001/x234/067`.
pub fn encode_index(mut n: u64) -> String {
    let mut groups = Vec::new();
    loop {
        groups.push(n % 1000);
        n /= 1000;
        if n == 0 {
            break;
        }
    }
    let mut s = String::new();
    for (i, g) in groups.iter().rev().enumerate() {
        if i + 1 < groups.len() {
            s.push_str(&format!("x{g:03}/"));
        } else {
            s.push_str(&format!("{g:03}"));
        }
    }
    s
}

/// Number of hashes stored at tile level `level` for a tree of `size` leaves
/// (`floor(size / 256^level)`).
pub fn hashes_at_level(size: u64, level: u8) -> u64 {
    let shift = TILE_HEIGHT * level as u32;
    if shift >= 64 {
        0
    } else {
        size >> shift
    }
}

/// The tile of `kind` with `index` as it exists in a tree of `size` leaves,
/// or `None` if the tree has no such tile.
pub fn tile_at_size(kind: TileKind, index: u64, size: u64) -> Option<TileId> {
    let count = match kind {
        TileKind::Hashes(l) => hashes_at_level(size, l),
        TileKind::Entries => size,
    };
    let start = index.checked_mul(TILE_WIDTH)?;
    if count <= start {
        return None;
    }
    let width = (count - start).min(TILE_WIDTH) as u16;
    Some(TileId { kind, index, width })
}

/// The entry bundle that holds entry `index` of a tree of `size` leaves, and the
/// entry's position in it; an error when `index` is not below `size`.
pub fn entry_bundle(index: u64, size: u64) -> Result<(TileId, usize), Error> {
    if index >= size {
        return Err(Error::IndexOutOfRange { index, size });
    }
    let t = tile_at_size(TileKind::Entries, index / TILE_WIDTH, size).expect("index < size");
    Ok((t, (index % TILE_WIDTH) as usize))
}

/// Every tile (hash tiles of all levels, then entry bundles) that a tree of
/// `size` leaves is represented by, in the order full tiles then partial.
pub fn tiles_for_size(size: u64) -> Vec<TileId> {
    tiles_touched(0, size)
}

/// The tiles that growing the tree from `old` to `new` leaves creates: each
/// tile whose contents at `new` differ from those at `old`, at its width for
/// `new`. Writing exactly these makes a directory for `old` one for `new`.
pub fn tiles_touched(old: u64, new: u64) -> Vec<TileId> {
    let mut out = Vec::new();
    if new <= old {
        return out;
    }
    let mut level = 0u8;
    loop {
        let (o, n) = (hashes_at_level(old, level), hashes_at_level(new, level));
        if n == 0 {
            break;
        }
        if n > o {
            for idx in o / TILE_WIDTH..=(n - 1) / TILE_WIDTH {
                out.extend(tile_at_size(TileKind::Hashes(level), idx, new));
            }
        }
        if level == MAX_TILE_LEVEL {
            break;
        }
        level += 1;
    }
    for idx in old / TILE_WIDTH..=(new - 1) / TILE_WIDTH {
        out.extend(tile_at_size(TileKind::Entries, idx, new));
    }
    out
}

/// Where the Merkle node at `level` and `index` lives: the tile level, the
/// tile index, the position of its first hash inside that tile and the number
/// of tile hashes (a power of two, at most 256) whose subtree it is.
pub fn node_location(level: u8, index: u64) -> (u8, u64, usize, usize) {
    let tile_level = level / TILE_HEIGHT as u8;
    let r = (level % TILE_HEIGHT as u8) as u32;
    let per_tile = TILE_WIDTH >> r; // nodes of this height inside one tile
    let tile_index = index / per_tile;
    let pos = ((index % per_tile) << r) as usize;
    (tile_level, tile_index, pos, 1usize << r)
}

/// Hash of a perfect subtree whose leaves are `hashes` (length a power of
/// two), computed pairwise level by level.
pub fn perfect_root(hashes: &[Hash]) -> Hash {
    debug_assert!(hashes.len().is_power_of_two());
    let mut level: Vec<Hash> = hashes.to_vec();
    while level.len() > 1 {
        level = level
            .chunks_exact(2)
            .map(|p| node_hash(&p[0], &p[1]))
            .collect();
    }
    level[0]
}

/// A tile with every interior level precomputed, so that any node inside it
/// is a lookup: `levels[r][i]` is the node `r` levels above the tile's own
/// hashes. Only complete nodes are present.
#[derive(Clone, Debug)]
pub struct ExpandedTile {
    levels: Vec<Vec<Hash>>,
}

impl ExpandedTile {
    /// Expands a tile's hashes (its width is `hashes.len()`).
    pub fn new(hashes: Vec<Hash>) -> Self {
        let mut levels = vec![hashes];
        for _ in 0..TILE_HEIGHT {
            let prev = levels.last().expect("levels starts non-empty");
            if prev.len() < 2 {
                break;
            }
            let next: Vec<Hash> = prev
                .chunks_exact(2)
                .map(|p| node_hash(&p[0], &p[1]))
                .collect();
            levels.push(next);
        }
        ExpandedTile { levels }
    }

    /// Number of hashes at the tile's base.
    pub fn width(&self) -> usize {
        self.levels[0].len()
    }

    /// The node `r` levels above the tile base at in-tile position `i`
    /// (counted in nodes of that height).
    pub fn get(&self, r: usize, i: usize) -> Option<Hash> {
        self.levels.get(r).and_then(|l| l.get(i)).copied()
    }
}

/// Serialises hashes as tile bytes: their plain concatenation.
pub fn tile_bytes(hashes: &[Hash]) -> Vec<u8> {
    let mut out = Vec::with_capacity(hashes.len() * HASH_SIZE);
    for h in hashes {
        out.extend_from_slice(h);
    }
    out
}

/// Parses tile bytes that must hold exactly `width` hashes. `path` names the
/// file in the error.
pub fn parse_tile(bytes: &[u8], width: u16, path: &str) -> Result<Vec<Hash>, Error> {
    let want = width as usize * HASH_SIZE;
    if bytes.len() != want {
        return Err(Error::Corrupt {
            path: path.into(),
            offset: bytes.len().min(want) as u64,
            reason: format!(
                "tile is {} bytes, expected {want} for width {width}",
                bytes.len()
            ),
        });
    }
    Ok(bytes
        .chunks_exact(HASH_SIZE)
        .map(|c| {
            let mut h = [0u8; HASH_SIZE];
            h.copy_from_slice(c);
            h
        })
        .collect())
}

/// Appends one entry to an entry bundle (big-endian uint16 length, then the
/// bytes). Fails if the entry is longer than the prefix can express.
pub fn push_bundle_entry(bundle: &mut Vec<u8>, entry: &[u8]) -> Result<(), Error> {
    if entry.len() > MAX_BUNDLE_ENTRY_BYTES {
        return Err(Error::EntryTooLarge {
            index: 0,
            len: entry.len(),
            max: MAX_BUNDLE_ENTRY_BYTES,
        });
    }
    bundle.extend_from_slice(&(entry.len() as u16).to_be_bytes());
    bundle.extend_from_slice(entry);
    Ok(())
}

/// Splits an entry bundle into its entries, requiring exactly `width` of them
/// and no trailing bytes. Errors give the byte offset of the fault in `path`.
pub fn parse_bundle<'a>(bytes: &'a [u8], width: u16, path: &str) -> Result<Vec<&'a [u8]>, Error> {
    let mut out = Vec::with_capacity(width as usize);
    let mut off = 0usize;
    while off < bytes.len() {
        if out.len() == width as usize {
            return Err(Error::Corrupt {
                path: path.into(),
                offset: off as u64,
                reason: format!("bundle has bytes after its {width} entries"),
            });
        }
        if bytes.len() - off < 2 {
            return Err(Error::Corrupt {
                path: path.into(),
                offset: off as u64,
                reason: "length prefix cut short".into(),
            });
        }
        let len = u16::from_be_bytes([bytes[off], bytes[off + 1]]) as usize;
        if bytes.len() - off - 2 < len {
            return Err(Error::Corrupt {
                path: path.into(),
                offset: off as u64,
                reason: format!(
                    "entry {} claims {len} bytes but only {} remain",
                    out.len(),
                    bytes.len() - off - 2
                ),
            });
        }
        out.push(&bytes[off + 2..off + 2 + len]);
        off += 2 + len;
    }
    if out.len() != width as usize {
        return Err(Error::Corrupt {
            path: path.into(),
            offset: off as u64,
            reason: format!("bundle holds {} entries, expected {width}", out.len()),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proof::{leaf_hash, MemoryTree, NodeSource};

    #[test]
    fn index_encoding_table() {
        let cases = [
            (0, "000"),
            (7, "007"),
            (999, "999"),
            (1000, "x001/000"),
            (1234067, "x001/x234/067"),
            (1_000_000, "x001/x000/000"),
            (u64::MAX, "x018/x446/x744/x073/x709/x551/615"),
        ];
        for (n, want) in cases {
            assert_eq!(encode_index(n), want);
        }
    }

    #[test]
    fn path_table_and_roundtrip() {
        let cases = [
            (
                TileId {
                    kind: TileKind::Hashes(0),
                    index: 0,
                    width: 256,
                },
                "tile/0/000",
            ),
            (
                TileId {
                    kind: TileKind::Hashes(0),
                    index: 1234067,
                    width: 8,
                },
                "tile/0/x001/x234/067.p/8",
            ),
            (
                TileId {
                    kind: TileKind::Hashes(2),
                    index: 5,
                    width: 1,
                },
                "tile/2/005.p/1",
            ),
            (
                TileId {
                    kind: TileKind::Entries,
                    index: 1000,
                    width: 256,
                },
                "tile/entries/x001/000",
            ),
            (
                TileId {
                    kind: TileKind::Entries,
                    index: 3,
                    width: 255,
                },
                "tile/entries/003.p/255",
            ),
        ];
        for (t, p) in cases {
            assert_eq!(t.path(), p);
            assert_eq!(TileId::parse(p).unwrap(), t);
        }
        assert_eq!(cases[1].0.partial_dir(), "tile/0/x001/x234/067.p");
    }

    #[test]
    fn bad_paths_are_rejected() {
        for p in [
            "tile/00/000",
            "tile/8/000",
            "tile/0/00",
            "tile/0/0000",
            "tile/0/001/000",
            "tile/0/x000/001",
            "tile/0/000.p/0",
            "tile/0/000.p/256",
            "tile/0/000.p/01",
            "tile/entries/abc",
            "tiles/0/000",
            "tile/0",
            "tile/0/x1a/000",
        ] {
            assert!(TileId::parse(p).is_err(), "{p} should not parse");
        }
    }

    #[test]
    fn spec_example_size_70000() {
        // From the tlog-tiles spec: 273 full level-0 tiles, one partial of
        // width 112, one full level-1 tile, a level-1 partial of width 17 and
        // a level-2 partial of width 1 (plus the matching entry bundles).
        let tiles = tiles_for_size(70_000);
        let of = |k: TileKind| {
            tiles
                .iter()
                .filter(|t| t.kind == k)
                .copied()
                .collect::<Vec<_>>()
        };
        let l0 = of(TileKind::Hashes(0));
        assert_eq!(l0.len(), 274);
        assert_eq!(l0.iter().filter(|t| t.is_full()).count(), 273);
        assert_eq!(l0.last().unwrap().width, 112);
        let l1 = of(TileKind::Hashes(1));
        assert_eq!(
            l1.iter().map(|t| t.width).collect::<Vec<_>>(),
            vec![256, 17]
        );
        assert_eq!(
            of(TileKind::Hashes(2))
                .iter()
                .map(|t| t.width)
                .collect::<Vec<_>>(),
            vec![1]
        );
        assert!(of(TileKind::Hashes(3)).is_empty());
        assert_eq!(of(TileKind::Entries).len(), 274);
    }

    #[test]
    fn spec_example_size_256() {
        let tiles = tiles_for_size(256);
        assert_eq!(
            tiles,
            vec![
                TileId {
                    kind: TileKind::Hashes(0),
                    index: 0,
                    width: 256
                },
                TileId {
                    kind: TileKind::Hashes(1),
                    index: 0,
                    width: 1
                },
                TileId {
                    kind: TileKind::Entries,
                    index: 0,
                    width: 256
                },
            ]
        );
    }

    #[test]
    fn touched_tiles_table() {
        let ids = |v: Vec<TileId>| v.iter().map(|t| t.path()).collect::<Vec<_>>();
        assert_eq!(ids(tiles_touched(5, 5)), Vec::<String>::new());
        assert_eq!(
            ids(tiles_touched(5, 6)),
            vec!["tile/0/000.p/6", "tile/entries/000.p/6"]
        );
        assert_eq!(
            ids(tiles_touched(250, 300)),
            vec![
                "tile/0/000",
                "tile/0/001.p/44",
                "tile/1/000.p/1",
                "tile/entries/000",
                "tile/entries/001.p/44"
            ]
        );
        assert_eq!(
            ids(tiles_touched(256, 257)),
            vec!["tile/0/001.p/1", "tile/entries/001.p/1"]
        );
        assert_eq!(
            ids(tiles_touched(0, 1)),
            vec!["tile/0/000.p/1", "tile/entries/000.p/1"]
        );
    }

    #[test]
    fn touched_tiles_compose() {
        // Writing the touched tiles of each step yields, for every tile of
        // the final size, the same id as listing the final size directly.
        let steps = [0u64, 1, 255, 256, 257, 65535, 65536, 70_000];
        let mut latest = std::collections::BTreeMap::new();
        for w in steps.windows(2) {
            for t in tiles_touched(w[0], w[1]) {
                latest.insert((t.kind, t.index), t);
            }
        }
        let want: Vec<TileId> = tiles_for_size(70_000);
        let got: Vec<TileId> = want.iter().map(|t| latest[&(t.kind, t.index)]).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn node_location_table() {
        // (level, index) -> (tile level, tile index, position, count)
        let cases = [
            ((0, 0), (0, 0, 0, 1)),
            ((0, 300), (0, 1, 44, 1)),
            ((3, 5), (0, 0, 40, 8)),
            ((7, 3), (0, 1, 128, 128)),
            ((8, 0), (1, 0, 0, 1)),
            ((8, 257), (1, 1, 1, 1)),
            ((9, 200), (1, 1, 144, 2)),
            ((16, 2), (2, 0, 2, 1)),
        ];
        for ((l, i), want) in cases {
            assert_eq!(node_location(l, i), want, "node ({l},{i})");
        }
    }

    #[test]
    fn expanded_tile_matches_memory_tree() {
        let mut t = MemoryTree::new();
        let mut leaves = Vec::new();
        for i in 0..256u32 {
            let h = leaf_hash(&i.to_be_bytes());
            t.push(h);
            leaves.push(h);
        }
        let e = ExpandedTile::new(leaves.clone());
        for r in 0..=8u8 {
            for i in 0..(256usize >> r) {
                assert_eq!(e.get(r as usize, i).unwrap(), t.node(r, i as u64).unwrap());
            }
        }
        assert_eq!(perfect_root(&leaves), t.node(8, 0).unwrap());
        let partial = ExpandedTile::new(leaves[..5].to_vec());
        assert_eq!(partial.get(2, 0).unwrap(), t.node(2, 0).unwrap());
        assert!(
            partial.get(2, 1).is_none(),
            "incomplete nodes must not appear"
        );
    }

    #[test]
    fn bundle_roundtrip_and_corruption() {
        let mut b = Vec::new();
        for e in [&b""[..], b"a", b"hello"] {
            push_bundle_entry(&mut b, e).unwrap();
        }
        assert_eq!(b, b"\x00\x00\x00\x01a\x00\x05hello");
        assert_eq!(
            parse_bundle(&b, 3, "x").unwrap(),
            vec![&b""[..], b"a", b"hello"]
        );
        assert!(parse_bundle(&b, 2, "x").is_err());
        assert!(parse_bundle(&b, 4, "x").is_err());
        let err = parse_bundle(&b[..b.len() - 1], 3, "tile/entries/000")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("tile/entries/000") && err.contains("offset 5"),
            "{err}"
        );
        assert!(push_bundle_entry(&mut b, &vec![0u8; 65_536]).is_err());
    }

    #[test]
    fn tile_parse_checks_length() {
        assert!(parse_tile(&[0u8; 64], 2, "t").is_ok());
        assert!(parse_tile(&[0u8; 63], 2, "t").is_err());
        assert!(parse_tile(&[0u8; 96], 2, "t").is_err());
    }
}
