//! The write-ahead entries file and the state hint: byte formats and the
//! torn-tail scan. Every append writes one frame and fsyncs it before any
//! tile is touched, so the write-ahead log always holds at least what the
//! tiles hold and the tiles can be rebuilt from it.
//!
//! Frame layout (all integers big-endian):
//!
//! ```text
//! "TLWF" | version u8 = 1 | 3 zero bytes | start index u64 | count u32 |
//! payload length u32 | payload (count entries, each u16 length + bytes) |
//! SHA-256(header || payload)
//! ```

use sha2::{Digest, Sha256};

use crate::proof::Hash;
use crate::tile::push_bundle_entry;
use crate::{Error, Result};

/// Bytes before the payload.
pub const FRAME_HEADER: usize = 24;
/// Bytes after the payload.
pub const FRAME_TRAILER: usize = 32;
const MAGIC: &[u8; 4] = b"TLWF";
const VERSION: u8 = 1;

/// The most entries one append may carry (and one frame may hold).
pub const MAX_BATCH_ENTRIES: usize = 65_536;
/// The most serialised entry bytes one append may carry.
pub const MAX_BATCH_BYTES: usize = 64 * 1024 * 1024;
/// The largest payload a frame may declare: the entries plus their length
/// prefixes. Larger declared lengths are treated as damage, not allocated.
pub const MAX_FRAME_PAYLOAD: usize = MAX_BATCH_BYTES + 2 * MAX_BATCH_ENTRIES;

/// Encodes one frame.
pub fn encode_frame(start: u64, entries: &[Vec<u8>]) -> Result<Vec<u8>> {
    let payload_len: usize = entries.iter().map(|e| 2 + e.len()).sum();
    let mut out = Vec::with_capacity(FRAME_HEADER + payload_len + FRAME_TRAILER);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[VERSION, 0, 0, 0]);
    out.extend_from_slice(&start.to_be_bytes());
    out.extend_from_slice(&(entries.len() as u32).to_be_bytes());
    out.extend_from_slice(&(payload_len as u32).to_be_bytes());
    for e in entries {
        push_bundle_entry(&mut out, e)?;
    }
    let sum: Hash = Sha256::digest(&out).into();
    out.extend_from_slice(&sum);
    Ok(out)
}

/// A frame read back from the file.
#[derive(Debug)]
pub struct Frame<'a> {
    /// Index of the first entry.
    pub start: u64,
    /// The entries.
    pub entries: Vec<&'a [u8]>,
    /// Total bytes the frame occupies.
    pub len: usize,
}

/// Outcome of decoding the bytes at one offset.
#[derive(Debug)]
pub enum Decoded<'a> {
    /// A whole, checksummed frame.
    Frame(Frame<'a>),
    /// Not a valid frame; `reason` says why.
    Bad {
        /// Why the bytes are not a frame.
        reason: String,
    },
}

/// Decodes the frame at the start of `buf`.
pub fn decode_frame(buf: &[u8]) -> Decoded<'_> {
    let bad = |r: String| Decoded::Bad { reason: r };
    if buf.len() < FRAME_HEADER {
        return bad(format!(
            "only {} bytes remain, less than a frame header",
            buf.len()
        ));
    }
    if &buf[0..4] != MAGIC || buf[4] != VERSION || buf[5..8] != [0, 0, 0] {
        return bad("frame header magic or version is wrong".into());
    }
    let start = u64::from_be_bytes(buf[8..16].try_into().expect("8 bytes"));
    let count = u32::from_be_bytes(buf[16..20].try_into().expect("4 bytes")) as usize;
    let payload_len = u32::from_be_bytes(buf[20..24].try_into().expect("4 bytes")) as usize;
    if count == 0
        || count > MAX_BATCH_ENTRIES
        || payload_len > MAX_FRAME_PAYLOAD
        || payload_len < 2 * count
    {
        return bad(format!(
            "frame header declares {count} entries in {payload_len} bytes, outside the limits"
        ));
    }
    let total = FRAME_HEADER + payload_len + FRAME_TRAILER;
    if buf.len() < total {
        return bad(format!(
            "frame needs {total} bytes but only {} remain",
            buf.len()
        ));
    }
    let body_end = FRAME_HEADER + payload_len;
    let sum: Hash = Sha256::digest(&buf[..body_end]).into();
    if sum[..] != buf[body_end..total] {
        return bad("frame checksum does not match".into());
    }
    let mut entries = Vec::with_capacity(count);
    let mut off = FRAME_HEADER;
    while off < body_end {
        if body_end - off < 2 {
            return bad("entry length prefix cut short inside a checksummed frame".into());
        }
        let len = u16::from_be_bytes([buf[off], buf[off + 1]]) as usize;
        if body_end - off - 2 < len {
            return bad("entry runs past the frame payload".into());
        }
        entries.push(&buf[off + 2..off + 2 + len]);
        off += 2 + len;
    }
    if entries.len() != count {
        return bad(format!(
            "frame declares {count} entries but holds {}",
            entries.len()
        ));
    }
    Decoded::Frame(Frame {
        start,
        entries,
        len: total,
    })
}

/// Result of scanning a write-ahead log region.
#[derive(Debug)]
pub struct Scan<'a> {
    /// The valid frames, in order.
    pub frames: Vec<Frame<'a>>,
    /// Offset (relative to the scanned buffer) just past the last valid frame.
    pub good_len: usize,
    /// Why scanning stopped early, if it did: the torn tail that will be cut.
    pub torn: Option<String>,
}

/// Scans frames from the start of `buf`, expecting the first to start at
/// entry index `first_index` and each to follow the previous. A bad frame at
/// the end is a torn tail (the last append never completed); a bad frame
/// followed by a valid, correctly numbered frame is damage inside the durable
/// region and is reported as corruption rather than silently cut away.
pub fn scan<'a>(buf: &'a [u8], first_index: u64, path: &str, base_offset: u64) -> Result<Scan<'a>> {
    let mut frames = Vec::new();
    let mut off = 0usize;
    let mut next = first_index;
    while off < buf.len() {
        match decode_frame(&buf[off..]) {
            Decoded::Frame(f) => {
                if f.start != next {
                    return Err(Error::Corrupt {
                        path: path.into(),
                        offset: base_offset + off as u64,
                        reason: format!(
                            "frame starts at entry {} but entry {next} was expected",
                            f.start
                        ),
                    });
                }
                next += f.entries.len() as u64;
                off += f.len;
                frames.push(f);
            }
            Decoded::Bad { reason } => {
                if let Some(later) = find_valid_frame_after(buf, off + 1, next) {
                    return Err(Error::Corrupt {
                        path: path.into(),
                        offset: base_offset + off as u64,
                        reason: format!("{reason}, yet a valid frame follows at offset {}; refusing to discard durable entries", base_offset + later as u64),
                    });
                }
                return Ok(Scan {
                    frames,
                    good_len: off,
                    torn: Some(format!("at offset {}: {reason}", base_offset + off as u64)),
                });
            }
        }
    }
    Ok(Scan {
        frames,
        good_len: off,
        torn: None,
    })
}

/// Looks for a valid frame numbered `index` or later anywhere after `from`.
/// Used only on the rare path where a bad frame was found.
fn find_valid_frame_after(buf: &[u8], from: usize, index: u64) -> Option<usize> {
    let mut pos = from;
    while pos + FRAME_HEADER <= buf.len() {
        let hit = buf[pos..].windows(4).position(|w| w == MAGIC)?;
        pos += hit;
        if let Decoded::Frame(f) = decode_frame(&buf[pos..]) {
            if f.start >= index {
                return Some(pos);
            }
        }
        pos += 1;
    }
    None
}

/// A frame read from a file, with owned entries.
#[derive(Debug)]
pub struct OwnedFrame {
    /// Index of the first entry.
    pub start: u64,
    /// The entries.
    pub entries: Vec<Vec<u8>>,
    /// Byte offset of the frame in the file.
    pub offset: u64,
    /// Bytes the frame occupies.
    pub len: u64,
}

/// How a streaming scan ended.
#[derive(Debug)]
pub struct ScanEnd {
    /// Offset just past the last valid frame.
    pub good_end: u64,
    /// Index of the entry after the last valid frame.
    pub next_index: u64,
    /// The torn tail found after `good_end`, if any.
    pub torn: Option<String>,
}

/// Most bytes re-read after a bad frame to tell a torn tail from damage in
/// the middle; a damaged region larger than this is reported as corruption.
pub const MAX_TAIL_PROBE: u64 = 1 << 30;

/// Streams frames from a write-ahead log file, one at a time, from a given
/// offset and expected first entry index. Tail handling is as in [`scan`]:
/// a bad final frame is a torn tail; a bad frame followed by a valid one is
/// corruption.
pub struct FrameReader<'f> {
    file: &'f std::fs::File,
    path: std::path::PathBuf,
    reader: std::io::BufReader<&'f std::fs::File>,
    file_len: u64,
    off: u64,
    next: u64,
    torn: Option<String>,
    buf: Vec<u8>,
}

impl<'f> FrameReader<'f> {
    /// Starts reading `file` (named `path` in errors) at byte `from`.
    pub fn new(
        file: &'f std::fs::File,
        path: &std::path::Path,
        from: u64,
        first_index: u64,
    ) -> Result<Self> {
        use std::io::{Seek, SeekFrom};
        let io = |e| Error::io(path, e);
        let file_len = file.metadata().map_err(io)?.len();
        let mut reader = std::io::BufReader::with_capacity(1 << 20, file);
        reader.seek(SeekFrom::Start(from)).map_err(io)?;
        Ok(FrameReader {
            file,
            path: path.into(),
            reader,
            file_len,
            off: from,
            next: first_index,
            torn: None,
            buf: Vec::new(),
        })
    }

    /// The next valid frame, or `None` at the end or at a torn tail.
    pub fn next_frame(&mut self) -> Result<Option<OwnedFrame>> {
        use std::io::Read;
        if self.torn.is_some() || self.off >= self.file_len {
            return Ok(None);
        }
        let path = self.path.clone();
        let io = |e| Error::io(&path, e);
        let off = self.off;
        let remain = self.file_len - off;
        let reason = if remain < FRAME_HEADER as u64 {
            format!("only {remain} bytes remain, less than a frame header")
        } else {
            self.buf.resize(FRAME_HEADER, 0);
            self.reader.read_exact(&mut self.buf).map_err(io)?;
            let payload_len =
                u32::from_be_bytes(self.buf[20..24].try_into().expect("4 bytes")) as u64;
            let total = FRAME_HEADER as u64
                + payload_len.min(MAX_FRAME_PAYLOAD as u64 + 1)
                + FRAME_TRAILER as u64;
            if total > remain {
                format!("frame needs {total} bytes but only {remain} remain")
            } else {
                self.buf.resize(total as usize, 0);
                self.reader
                    .read_exact(&mut self.buf[FRAME_HEADER..])
                    .map_err(io)?;
                match decode_frame(&self.buf) {
                    Decoded::Frame(f) => {
                        if f.start != self.next {
                            return Err(Error::Corrupt {
                                path: self.path.clone(),
                                offset: off,
                                reason: format!(
                                    "frame starts at entry {} but entry {} was expected",
                                    f.start, self.next
                                ),
                            });
                        }
                        let owned = OwnedFrame {
                            start: f.start,
                            entries: f.entries.iter().map(|e| e.to_vec()).collect(),
                            offset: off,
                            len: f.len as u64,
                        };
                        self.next += owned.entries.len() as u64;
                        self.off += owned.len;
                        return Ok(Some(owned));
                    }
                    Decoded::Bad { reason } => reason,
                }
            }
        };
        // Re-read everything after the bad frame and look for a valid later
        // frame: its presence means the damage is not a torn tail.
        if remain > MAX_TAIL_PROBE {
            return Err(Error::Corrupt {
                path: self.path.clone(),
                offset: off,
                reason: format!("{reason}, with {remain} bytes after it"),
            });
        }
        let mut rest = Vec::with_capacity(remain as usize);
        let mut f2 = self.file;
        use std::io::{Seek, SeekFrom};
        f2.seek(SeekFrom::Start(off)).map_err(io)?;
        f2.take(remain).read_to_end(&mut rest).map_err(io)?;
        if let Some(later) = find_valid_frame_after(&rest, 1, self.next) {
            return Err(Error::Corrupt {
                path: self.path.clone(),
                offset: off,
                reason: format!("{reason}, yet a valid frame follows at offset {}; refusing to discard durable entries", off + later as u64),
            });
        }
        self.torn = Some(format!("at offset {off}: {reason}"));
        Ok(None)
    }

    /// How the scan ended (call after `next_frame` returned `None`).
    pub fn finish(self) -> ScanEnd {
        ScanEnd {
            good_end: self.off,
            next_index: self.next,
            torn: self.torn,
        }
    }
}

/// Streams every frame of `file` from byte `from` into `visit`, then reports
/// how the scan ended.
pub fn read_frames(
    file: &std::fs::File,
    path: &std::path::Path,
    from: u64,
    first_index: u64,
    mut visit: impl FnMut(OwnedFrame) -> Result<()>,
) -> Result<ScanEnd> {
    let mut r = FrameReader::new(file, path, from, first_index)?;
    while let Some(f) = r.next_frame()? {
        visit(f)?;
    }
    Ok(r.finish())
}

/// Length of the state hint file.
pub const STATE_LEN: usize = 64;
const STATE_MAGIC: &[u8; 4] = b"TLST";

/// The state hint: the tree size whose tiles are known durable, the
/// write-ahead log offset just past that size's last frame, and the root.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct State {
    /// Tree size whose tiles were durable when the hint was written.
    pub size: u64,
    /// Write-ahead log length covering exactly those entries.
    pub wal_offset: u64,
    /// Root hash at that size.
    pub root: Hash,
}

impl State {
    /// Encodes the hint with a checksum.
    pub fn encode(&self) -> [u8; STATE_LEN] {
        let mut b = [0u8; STATE_LEN];
        b[0..4].copy_from_slice(STATE_MAGIC);
        b[4..8].copy_from_slice(&1u32.to_be_bytes());
        b[8..16].copy_from_slice(&self.size.to_be_bytes());
        b[16..24].copy_from_slice(&self.wal_offset.to_be_bytes());
        b[24..56].copy_from_slice(&self.root);
        let sum = Sha256::digest(&b[..56]);
        b[56..64].copy_from_slice(&sum[..8]);
        b
    }

    /// Decodes a hint; `None` if it is damaged (the caller then rebuilds).
    pub fn decode(b: &[u8]) -> Option<State> {
        if b.len() != STATE_LEN || &b[0..4] != STATE_MAGIC || b[4..8] != 1u32.to_be_bytes() {
            return None;
        }
        let sum = Sha256::digest(&b[..56]);
        if sum[..8] != b[56..64] {
            return None;
        }
        let mut root = [0u8; 32];
        root.copy_from_slice(&b[24..56]);
        Some(State {
            size: u64::from_be_bytes(b[8..16].try_into().ok()?),
            wal_offset: u64::from_be_bytes(b[16..24].try_into().ok()?),
            root,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(n: usize) -> Vec<u8> {
        let mut out = Vec::new();
        let mut idx = 0;
        for i in 0..n {
            let entries: Vec<Vec<u8>> = (0..=i).map(|j| format!("e{i}-{j}").into_bytes()).collect();
            out.extend(encode_frame(idx, &entries).unwrap());
            idx += entries.len() as u64;
        }
        out
    }

    #[test]
    fn roundtrip() {
        let buf = frames(4);
        let s = scan(&buf, 0, "wal", 0).unwrap();
        assert_eq!(s.frames.len(), 4);
        assert_eq!(s.good_len, buf.len());
        assert!(s.torn.is_none());
        assert_eq!(s.frames[3].start, 6);
        assert_eq!(s.frames[3].entries[3], b"e3-3");
    }

    #[test]
    fn every_truncation_is_a_torn_tail() {
        let buf = frames(3);
        let first_two = {
            let s = scan(&buf, 0, "wal", 0).unwrap();
            s.frames[0].len + s.frames[1].len
        };
        for cut in first_two..buf.len() {
            let s = scan(&buf[..cut], 0, "wal", 0).unwrap();
            assert_eq!(s.frames.len(), 2, "cut {cut}");
            assert_eq!(s.good_len, first_two);
            assert_eq!(s.torn.is_some(), cut > first_two);
        }
    }

    #[test]
    fn damage_before_a_valid_frame_is_corruption() {
        let mut buf = frames(3);
        buf[FRAME_HEADER + 1] ^= 0xff; // inside frame 0's payload
        let err = scan(&buf, 0, "wal", 0).unwrap_err().to_string();
        assert!(err.contains("wal") && err.contains("offset 0"), "{err}");
    }

    #[test]
    fn damage_in_last_frame_is_torn() {
        let mut buf = frames(3);
        let n = buf.len();
        buf[n - 1] ^= 1;
        let s = scan(&buf, 0, "wal", 0).unwrap();
        assert_eq!(s.frames.len(), 2);
        assert!(s.torn.is_some());
    }

    #[test]
    fn wrong_numbering_is_corruption() {
        let buf = frames(2);
        assert!(scan(&buf, 5, "wal", 0).is_err());
    }

    #[test]
    fn absurd_header_is_not_allocated() {
        let mut h = Vec::new();
        h.extend_from_slice(MAGIC);
        h.extend_from_slice(&[VERSION, 0, 0, 0]);
        h.extend_from_slice(&0u64.to_be_bytes());
        h.extend_from_slice(&u32::MAX.to_be_bytes());
        h.extend_from_slice(&u32::MAX.to_be_bytes());
        assert!(matches!(decode_frame(&h), Decoded::Bad { .. }));
    }

    #[test]
    fn state_roundtrip_and_damage() {
        let s = State {
            size: 77,
            wal_offset: 12345,
            root: [9; 32],
        };
        let b = s.encode();
        assert_eq!(State::decode(&b), Some(s));
        for i in 0..STATE_LEN {
            let mut d = b;
            d[i] ^= 0x10;
            assert_eq!(State::decode(&d), None, "byte {i}");
        }
        assert_eq!(State::decode(&b[..63]), None);
    }
}
