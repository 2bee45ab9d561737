//! File-system helpers: durable atomic writes, directory fsync, parallel
//! group fsync of many files, and the writer lock.

use std::collections::BTreeSet;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// Most threads used to write and fsync one batch of tile files. On the
/// ext4 volumes this was measured on, concurrent fsyncs share journal commits,
/// so a group of 80 files syncs in about a tenth of the serial time.
pub const MAX_SYNC_THREADS: usize = 16;

/// Reads a whole file, refusing files over `limit` bytes so that a damaged or
/// hostile file cannot make us allocate without bound.
pub fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>> {
    let f = File::open(path).map_err(|e| Error::io(path, e))?;
    let len = f.metadata().map_err(|e| Error::io(path, e))?.len();
    if len > limit {
        return Err(Error::Corrupt {
            path: path.into(),
            offset: limit,
            reason: format!("file is {len} bytes, over the {limit}-byte limit"),
        });
    }
    let mut buf = Vec::with_capacity(len as usize);
    f.take(limit + 1)
        .read_to_end(&mut buf)
        .map_err(|e| Error::io(path, e))?;
    if buf.len() as u64 > limit {
        return Err(Error::Corrupt {
            path: path.into(),
            offset: limit,
            reason: format!("file grew past the {limit}-byte limit while being read"),
        });
    }
    Ok(buf)
}

/// Like [`read_limited`] but `Ok(None)` when the file does not exist.
pub fn read_optional(path: &Path, limit: u64) -> Result<Option<Vec<u8>>> {
    match read_limited(path, limit) {
        Ok(b) => Ok(Some(b)),
        Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// fsyncs a directory so that entries created or renamed in it survive a
/// crash.
pub fn fsync_dir(dir: &Path) -> Result<()> {
    let f = File::open(dir).map_err(|e| Error::io(dir, e))?;
    f.sync_all().map_err(|e| Error::io(dir, e))
}

fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".tmp");
    path.with_file_name(name)
}

/// Writes `bytes` to a temporary sibling, fsyncs it and renames it over
/// `path`. Readers therefore see the old file or the whole new one, never a
/// torn one. The caller fsyncs the parent directory.
fn write_replace(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = tmp_path(path);
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)
        .map_err(|e| Error::io(&tmp, e))?;
    f.write_all(bytes).map_err(|e| Error::io(&tmp, e))?;
    f.sync_data().map_err(|e| Error::io(&tmp, e))?;
    drop(f);
    fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}

/// The directory holding `path`: `.` for a bare file name (whose `parent()` is the
/// empty path, which cannot be opened or fsynced).
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Atomically and durably replaces one file: temporary file, fsync, rename,
/// fsync of the directory.
pub fn write_durable(path: &Path, bytes: &[u8]) -> Result<()> {
    write_replace(path, bytes)?;
    fsync_dir(parent_dir(path))
}

/// Creates every missing directory in `dirs` and returns the set of
/// directories whose entries changed (the parents of newly made ones), which
/// must be fsynced for the new directories to be durable.
fn make_dirs(dirs: &BTreeSet<PathBuf>) -> Result<BTreeSet<PathBuf>> {
    let mut changed = BTreeSet::new();
    for d in dirs {
        let mut missing = Vec::new();
        let mut cur = d.as_path();
        // The empty path (the parent of a bare relative name) is the current directory.
        while !cur.as_os_str().is_empty() && !cur.exists() {
            missing.push(cur.to_path_buf());
            match cur.parent() {
                Some(p) => cur = p,
                None => break,
            }
        }
        for m in missing.iter().rev() {
            match fs::create_dir(m) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(Error::io(m, e)),
            }
            changed.insert(parent_dir(m).to_path_buf());
        }
    }
    Ok(changed)
}

/// Group commit of many files: each is written to a temporary name, fsynced
/// and renamed into place, spread over up to [`MAX_SYNC_THREADS`] threads;
/// then every directory that gained an entry is fsynced. When this returns
/// `Ok`, every file is durable under its final name.
pub fn write_files_durable(files: &[(PathBuf, Vec<u8>)]) -> Result<()> {
    if files.is_empty() {
        return Ok(());
    }
    let parents: BTreeSet<PathBuf> = files
        .iter()
        .map(|(p, _)| parent_dir(p).to_path_buf())
        .collect();
    let mut dirs_to_sync = make_dirs(&parents)?;
    dirs_to_sync.extend(parents);

    run_parallel(files, |(p, b)| write_replace(p, b))?;
    let dirs: Vec<PathBuf> = dirs_to_sync.into_iter().collect();
    run_parallel(&dirs, |d| fsync_dir(d))
}

/// Runs `f` over `items` on up to [`MAX_SYNC_THREADS`] scoped threads and
/// returns the first error.
fn run_parallel<T: Sync>(items: &[T], f: impl Fn(&T) -> Result<()> + Sync) -> Result<()> {
    let threads = items.len().min(MAX_SYNC_THREADS);
    if threads <= 1 {
        return items.iter().try_for_each(&f);
    }
    let chunk = items.len().div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|c| s.spawn(|| c.iter().try_for_each(&f)))
            .collect();
        let mut first = Ok(());
        for h in handles {
            let r = h.join().unwrap_or_else(|_| {
                Err(Error::io(
                    "<sync thread>",
                    std::io::Error::other("a sync thread panicked"),
                ))
            });
            if first.is_ok() {
                first = r;
            }
        }
        first
    })
}

/// Creates `path` with mode 0600, failing if it exists, writes `bytes`,
/// fsyncs the file and its directory.
pub fn create_private_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                Error::AlreadyExists { path: path.into() }
            } else {
                Error::io(path, e)
            }
        })?;
    f.write_all(bytes).map_err(|e| Error::io(path, e))?;
    f.sync_all().map_err(|e| Error::io(path, e))?;
    fsync_dir(parent_dir(path))
}

/// Takes an exclusive, non-blocking `flock` on `path` (created if absent).
/// The lock lives as long as the returned file and dies with the process,
/// so a crashed writer never leaves a stale lock behind.
pub fn lock_exclusive(path: &Path) -> Result<File> {
    let f = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| Error::io(path, e))?;
    // SAFETY: flock is called on a file descriptor we own for the duration
    // of the call; it has no memory-safety preconditions.
    let rc = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc != 0 {
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
            return Err(Error::Locked { path: path.into() });
        }
        return Err(Error::io(path, e));
    }
    Ok(f)
}
