//! The writer end to end: appends, proofs, checkpoints, reopen, repair,
//! fsck, export and the standalone verifier, with proofs and roots
//! cross-checked against the independent `ct-merkle` crate and a naive
//! recursive MTH.

use std::fs;
use std::io::Write;
use std::path::Path;

use ct_merkle::mem_backed_tree::MemoryBackedTree;
use serde_json::json;
use sha2::Sha256;
use truce_log::proof::{leaf_hash, root_from_leaf_hashes};
use truce_log::verify::{self, TileDir};
use truce_log::{
    ConsistencyProof, Entry, EntryKind, Error, InclusionProof, Log, Signer, VerifierKey,
    MAX_BATCH_ENTRIES, MAX_ENTRY_BYTES,
};

fn signer() -> Signer {
    Signer::from_seed("test.example/log", &[42; 32]).unwrap()
}

fn entry(i: u64) -> Entry {
    Entry::new(
        EntryKind::Report,
        json!({"i": i, "text": format!("report number {i}")}),
    )
    .unwrap()
}

fn entries(range: std::ops::Range<u64>) -> Vec<Entry> {
    range.map(entry).collect()
}

fn new_log(dir: &Path) -> Log {
    Log::create(dir.join("log"), &signer()).unwrap()
}

#[test]
fn append_prove_checkpoint_and_verify_independently() {
    let d = tempfile::tempdir().unwrap();
    let mut log = new_log(d.path());
    let key = VerifierKey::parse(&signer().verifier().to_string()).unwrap();
    let mut notes = vec![(0u64, log.latest_checkpoint().unwrap())];
    for (a, b) in [
        (0u64, 1u64),
        (1, 5),
        (5, 255),
        (255, 256),
        (256, 300),
        (300, 513),
        (513, 700),
    ] {
        assert_eq!(log.append_batch(&entries(a..b)).unwrap(), a..b);
        notes.push((b, log.checkpoint().unwrap()));
    }
    for i in [0u64, 1, 254, 255, 256, 511, 512, 699] {
        assert_eq!(log.entry(i).unwrap(), entry(i));
    }
    // Every inclusion proof at every checkpoint verifies through the
    // standalone verifier with only the key and the note.
    for (size, note) in &notes {
        for i in (0..*size).step_by(37).chain(size.checked_sub(1)) {
            let p = log.inclusion_proof(i, *size).unwrap();
            verify::verify_inclusion(&key, note, &log.entry_bytes(i).unwrap(), &p).unwrap();
            // The proof must not verify for a different entry.
            let other = log.entry_bytes((i + 1) % size).unwrap();
            if *size > 1 {
                assert!(verify::verify_inclusion(&key, note, &other, &p).is_err());
            }
        }
    }
    for (i, (s1, n1)) in notes.iter().enumerate().skip(1) {
        for (s2, n2) in &notes[i..] {
            let p = log.consistency_proof(*s1, *s2).unwrap();
            verify::verify_consistency(&key, n1, n2, &p).unwrap();
        }
    }
    let report = log.fsck().unwrap();
    assert_eq!(report.size, 700);
    assert_eq!(
        report.checkpoints_checked, 9,
        "8 history files plus the latest"
    );
    let checked = verify::verify_log_dir(log.dir(), &key).unwrap();
    assert_eq!(checked.checkpoint.size, 700);
    assert_eq!(checked.tree.root, log.root().unwrap());
}

#[test]
fn roots_and_proofs_match_ct_merkle_and_naive_mth() {
    let d = tempfile::tempdir().unwrap();
    let mut log = new_log(d.path());
    let mut ct: MemoryBackedTree<Sha256, Vec<u8>> = MemoryBackedTree::new();
    let mut leaf_hashes = Vec::new();
    let mut sizes: Vec<u64> = (1..=20).collect();
    sizes.extend([31, 32, 33, 255, 256, 257, 300, 511, 512, 513, 777]);
    let mut prev = 0u64;
    let mut history: Vec<(u64, [u8; 32])> = Vec::new();
    for &n in &sizes {
        log.append_batch(&entries(prev..n)).unwrap();
        for i in prev..n {
            let bytes = entry(i).to_leaf_bytes().unwrap();
            leaf_hashes.push(leaf_hash(&bytes));
            ct.push(bytes);
        }
        prev = n;
        let root = log.root().unwrap();
        assert_eq!(
            root[..],
            ct.root().as_bytes()[..],
            "root at size {n} differs from ct-merkle"
        );
        assert_eq!(
            root,
            root_from_leaf_hashes(&leaf_hashes),
            "root at size {n} differs from naive MTH"
        );
        let step = if n > 64 { 17 } else { 1 };
        for i in (0..n).step_by(step) {
            let ours = log.inclusion_proof(i, n).unwrap();
            let theirs = ct.prove_inclusion(i as usize);
            let ours_bytes: Vec<u8> = ours.hashes.concat();
            assert_eq!(
                ours_bytes,
                theirs.as_bytes(),
                "inclusion proof ({i}, {n}) differs from ct-merkle"
            );
        }
        for &(m, old_root) in &history {
            let ours = log.consistency_proof(m, n).unwrap();
            let theirs = ct.prove_consistency((n - m) as usize);
            assert_eq!(
                ours.hashes.concat(),
                theirs.as_bytes(),
                "consistency proof ({m}, {n}) differs from ct-merkle"
            );
            truce_log::proof::verify_consistency(m, n, &ours.hashes, &old_root, &root).unwrap();
            // ct-merkle's verifier accepts our proof too.
            let old = ct_merkle::RootHash::<Sha256>::new(old_root.into(), m);
            ct.root().verify_consistency(&old, &theirs).unwrap();
        }
        history.push((n, root));
    }
}

#[test]
fn reopen_preserves_state_and_appends_continue() {
    let d = tempfile::tempdir().unwrap();
    let root_before;
    {
        let mut log = new_log(d.path());
        log.append_batch(&entries(0..300)).unwrap();
        root_before = log.root().unwrap();
    }
    let mut log = Log::open(d.path().join("log")).unwrap();
    assert_eq!(log.size(), 300);
    assert_eq!(log.root().unwrap(), root_before);
    assert_eq!(log.recovery().hint_size, 300);
    assert_eq!(log.recovery().entries_replayed, 0);
    assert!(matches!(log.checkpoint(), Err(Error::NoSigner)));
    let wrong = Signer::from_seed("test.example/log", &[1; 32]).unwrap();
    assert!(matches!(
        log.set_signer(wrong),
        Err(Error::WrongSigner { .. })
    ));
    log.set_signer(signer()).unwrap();
    log.append_batch(&entries(300..310)).unwrap();
    log.checkpoint().unwrap();
    assert_eq!(log.entry(305).unwrap(), entry(305));
    log.fsck().unwrap();
}

#[test]
fn second_writer_is_locked_out() {
    let d = tempfile::tempdir().unwrap();
    let _log = new_log(d.path());
    assert!(matches!(
        Log::open(d.path().join("log")),
        Err(Error::Locked { .. })
    ));
    assert!(matches!(
        Log::create(d.path().join("log"), &signer()),
        Err(Error::AlreadyExists { .. })
    ));
}

#[test]
fn torn_wal_tail_is_cut_on_open() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("log");
    {
        let mut log = new_log(d.path());
        log.append_batch(&entries(0..10)).unwrap();
        log.append_batch(&entries(10..20)).unwrap();
    }
    // A half-written third frame: the first 40 bytes of a valid frame.
    let leaves: Vec<Vec<u8>> = (20..30)
        .map(|i| entry(i).to_leaf_bytes().unwrap())
        .collect();
    let frame = truce_log::wal::encode_frame(20, &leaves).unwrap();
    let walp = dir.join("wal");
    let before = fs::metadata(&walp).unwrap().len();
    fs::OpenOptions::new()
        .append(true)
        .open(&walp)
        .unwrap()
        .write_all(&frame[..40])
        .unwrap();
    let mut log = Log::open(&dir).unwrap();
    assert_eq!(log.size(), 20);
    assert_eq!(log.recovery().torn_bytes_truncated, 40);
    assert_eq!(fs::metadata(&walp).unwrap().len(), before);
    log.append_batch(&entries(20..30)).unwrap();
    log.fsck().unwrap();
}

#[test]
fn durable_frame_without_tiles_is_replayed() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("log");
    let expected_root;
    {
        let mut log = new_log(d.path());
        log.append_batch(&entries(0..250)).unwrap();
        let mut shadow = Log::create(d.path().join("shadow"), &signer()).unwrap();
        shadow.append_batch(&entries(0..270)).unwrap();
        expected_root = shadow.root().unwrap();
    }
    // Simulates a crash after the write-ahead fsync but before any tile was
    // written: the frame is complete, the tiles for entries 250..270 are not.
    let leaves: Vec<Vec<u8>> = (250..270)
        .map(|i| entry(i).to_leaf_bytes().unwrap())
        .collect();
    let frame = truce_log::wal::encode_frame(250, &leaves).unwrap();
    fs::OpenOptions::new()
        .append(true)
        .open(dir.join("wal"))
        .unwrap()
        .write_all(&frame)
        .unwrap();
    let log = Log::open(&dir).unwrap();
    assert_eq!(log.size(), 270);
    assert_eq!(log.recovery().entries_replayed, 20);
    assert_eq!(log.root().unwrap(), expected_root);
    assert!(dir.join("tile/0/000").exists() && dir.join("tile/0/001.p/14").exists());
    log.fsck().unwrap();
}

#[test]
fn missing_partial_tiles_and_damaged_state_are_rebuilt() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("log");
    let root;
    {
        let mut log = new_log(d.path());
        log.append_batch(&entries(0..300)).unwrap();
        root = log.root().unwrap();
    }
    fs::remove_dir_all(dir.join("tile/0/001.p")).unwrap();
    fs::remove_dir_all(dir.join("tile/entries/001.p")).unwrap();
    let log = Log::open(&dir).unwrap();
    assert!(
        log.recovery().hint_rejected.is_some(),
        "the edge tiles were gone, so the hint cannot be used"
    );
    assert_eq!(log.root().unwrap(), root);
    log.fsck().unwrap();
    drop(log);
    fs::write(dir.join("state"), b"garbage").unwrap();
    let log = Log::open(&dir).unwrap();
    assert_eq!(
        log.recovery().hint_rejected.as_deref(),
        Some("state hint missing or damaged")
    );
    assert_eq!(log.recovery().entries_replayed, 300);
    assert_eq!(log.root().unwrap(), root);
    log.fsck().unwrap();
}

#[test]
fn corruption_is_reported_with_file_and_offset() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("log");
    {
        let mut log = new_log(d.path());
        log.append_batch(&entries(0..300)).unwrap();
        log.checkpoint().unwrap();
    }
    // A flipped bit in a full hash tile.
    let tile = dir.join("tile/0/000");
    let mut b = fs::read(&tile).unwrap();
    b[32 * 7 + 3] ^= 1;
    fs::write(&tile, &b).unwrap();
    let log = Log::open(&dir).unwrap();
    let err = log.fsck().unwrap_err().to_string();
    assert!(
        err.contains("tile/0/000") && err.contains("offset 224") && err.contains("entry 7"),
        "{err}"
    );
    drop(log);
    b[32 * 7 + 3] ^= 1;
    fs::write(&tile, &b).unwrap();

    // A changed entry in a full bundle.
    let bundle = dir.join("tile/entries/000");
    let orig = fs::read(&bundle).unwrap();
    let mut bad = orig.clone();
    let pos = bad.windows(9).position(|w| w == b"report nu").unwrap();
    bad[pos] = b'R';
    fs::write(&bundle, &bad).unwrap();
    let log = Log::open(&dir).unwrap();
    let err = log.fsck().unwrap_err().to_string();
    assert!(
        err.contains("tile/entries/000")
            && err.contains("offset 0")
            && err.contains("entry 0")
            && err.contains("tile/0/000"),
        "{err}"
    );
    drop(log);
    // A truncated bundle names the byte offset where it breaks.
    fs::write(&bundle, &orig[..orig.len() - 3]).unwrap();
    let log = Log::open(&dir).unwrap();
    let err = log.fsck().unwrap_err().to_string();
    assert!(
        err.contains("tile/entries/000") && err.contains("offset"),
        "{err}"
    );
    drop(log);
    fs::write(&bundle, &orig).unwrap();

    // A forged checkpoint signature.
    let cp = dir.join("checkpoint");
    let note = fs::read_to_string(&cp).unwrap();
    fs::write(&cp, note.replacen("\n300\n", "\n299\n", 1)).unwrap();
    let log = Log::open(&dir).unwrap();
    let err = log.fsck().unwrap_err().to_string();
    assert!(
        err.contains("checkpoint") && err.contains("signature"),
        "{err}"
    );
    drop(log);
    fs::write(&cp, note).unwrap();

    // Damage inside the durable part of the write-ahead log is not cut away
    // silently: opening fails and names the offset.
    let walp = dir.join("wal");
    let mut w = fs::read(&walp).unwrap();
    w[30] ^= 0xff;
    fs::write(&walp, &w).unwrap();
    fs::write(dir.join("state"), b"x").unwrap(); // force a scan from offset 0
    let err = Log::open(&dir).unwrap_err().to_string();
    assert!(
        err.contains("wal") && err.contains("offset 0") && err.contains("refusing"),
        "{err}"
    );
}

#[test]
fn limits_are_named_and_enforced() {
    let d = tempfile::tempdir().unwrap();
    let mut log = new_log(d.path());
    let big = Entry::new(EntryKind::Report, json!("x".repeat(MAX_ENTRY_BYTES)));
    assert!(matches!(big, Err(Error::EntryTooLarge { .. })));
    let many: Vec<Entry> = (0..MAX_BATCH_ENTRIES as u64 + 1)
        .map(|_| entry(0))
        .collect();
    assert!(matches!(
        log.append_batch(&many),
        Err(Error::BatchTooLarge { .. })
    ));
    assert_eq!(log.size(), 0, "a refused batch writes nothing");
    assert_eq!(log.append_batch(&[]).unwrap(), 0..0);
    assert!(matches!(
        log.inclusion_proof(0, 1),
        Err(Error::SizeOutOfRange { .. })
    ));
    log.append_batch(&entries(0..3)).unwrap();
    assert!(matches!(
        log.inclusion_proof(3, 3),
        Err(Error::IndexOutOfRange { .. })
    ));
    assert!(matches!(log.entry(3), Err(Error::IndexOutOfRange { .. })));
    assert!(log.consistency_proof(0, 3).is_err());
    assert!(InclusionProof::from_json(&"x".repeat(20_000)).is_err());
}

#[test]
fn export_is_verifiable_and_tampering_is_caught() {
    let d = tempfile::tempdir().unwrap();
    let mut log = new_log(d.path());
    log.append_batch(&entries(0..600)).unwrap();
    let note = log.checkpoint().unwrap();
    log.append_batch(&entries(600..650)).unwrap(); // past the checkpoint
    let out = d.path().join("served");
    let rep = log.export(&out).unwrap();
    assert_eq!(rep.size, 600);
    assert!(
        !out.join("wal").exists() && !out.join("log.json").exists(),
        "private files stay private"
    );
    let key = signer().verifier();
    let v = verify::verify_log_dir(&out, &key).unwrap();
    assert_eq!(v.checkpoint.size, 600);

    // A client computes its own proofs from the served tiles.
    let (tiles, cp) = TileDir::open_checkpoint(&out, &key).unwrap();
    let p = tiles.inclusion_proof(599, cp.size).unwrap();
    assert_eq!(p, log.inclusion_proof(599, 600).unwrap());
    verify::verify_inclusion(&key, &note, &tiles.entry_bytes(599).unwrap(), &p).unwrap();
    let c = tiles.consistency_proof(17, 600).unwrap();
    assert_eq!(c, log.consistency_proof(17, 600).unwrap());

    // Proofs survive a JSON round trip.
    assert_eq!(InclusionProof::from_json(&p.to_json()).unwrap(), p);
    assert_eq!(ConsistencyProof::from_json(&c.to_json()).unwrap(), c);

    // Changing one entry in the served bundle breaks verification.
    let bundle = out.join("tile/entries/001");
    let mut b = fs::read(&bundle).unwrap();
    let pos = b.windows(6).position(|w| w == b"report").unwrap();
    b[pos] = b'X';
    fs::write(&bundle, &b).unwrap();
    assert!(verify::verify_log_dir(&out, &key).is_err());
    // A verifier holding another key rejects the directory.
    let other = Signer::from_seed("test.example/log", &[7; 32])
        .unwrap()
        .verifier();
    assert!(matches!(
        verify::verify_log_dir(log.dir(), &other),
        Err(Error::BadSignature(_))
    ));
}

#[test]
fn live_directory_verifies_after_partial_tiles_are_superseded() {
    // A checkpoint at size 100 needs the partial tile 000.p/100, which is
    // deleted once 256 entries make the full tile; the verifier must fall
    // back to the full tile as the spec allows clients to.
    let d = tempfile::tempdir().unwrap();
    let mut log = new_log(d.path());
    log.append_batch(&entries(0..100)).unwrap();
    let note = log.checkpoint().unwrap();
    log.append_batch(&entries(100..400)).unwrap();
    // Superseded partial tiles are deleted during the next append.
    log.append_batch(&entries(400..401)).unwrap();
    assert!(!log.dir().join("tile/0/000.p").exists());
    assert!(!log.dir().join("tile/entries/000.p").exists());
    let key = signer().verifier();
    let v = verify::verify_log_dir(log.dir(), &key).unwrap();
    assert_eq!(v.checkpoint.size, 100);
    let p = log.inclusion_proof(42, 100).unwrap();
    verify::verify_inclusion(&key, &note, &log.entry_bytes(42).unwrap(), &p).unwrap();
    log.fsck().unwrap();
}

#[test]
fn hostile_inputs_give_errors_not_panics() {
    // Random and mutated inputs to every parser that reads untrusted bytes.
    let mut x: u64 = 0x1234_5678_9abc_def0;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let note = signer()
        .sign_note("o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n")
        .unwrap();
    let leaf = entry(7).to_leaf_bytes().unwrap();
    let frame = truce_log::wal::encode_frame(0, &[leaf.clone(), leaf.clone()]).unwrap();
    let key = signer().verifier();
    for round in 0..3000 {
        let mut n = note.clone().into_bytes();
        let mut l = leaf.clone();
        let mut f = frame.clone();
        for _ in 0..1 + next() % 4 {
            let i = next() as usize;
            let (a, b, c) = (i % n.len(), i % l.len(), i % f.len());
            n[a] = next() as u8;
            l[b] = next() as u8;
            f[c] = next() as u8;
        }
        if round % 3 == 0 {
            n.truncate(next() as usize % n.len());
            f.truncate(next() as usize % f.len());
        }
        let ns = String::from_utf8_lossy(&n);
        let _ = truce_log::note::Note::parse(&ns);
        let _ = truce_log::note::open_note(&ns, &key);
        let _ = truce_log::Checkpoint::parse(&ns);
        let _ = VerifierKey::parse(&ns);
        let _ = Signer::parse(&ns);
        let _ = truce_log::tile::TileId::parse(&ns);
        let _ = Entry::from_leaf_bytes(&l);
        let _ = truce_log::wal::scan(&f, 0, "wal", 0);
        let _ = truce_log::tile::parse_bundle(&f, 2, "b");
        let _ = InclusionProof::from_json(&ns);
    }
}

/// Regression: exporting to a bare relative directory name used to fail trying to
/// fsync the empty path above it.
#[test]
fn export_to_a_bare_relative_directory() {
    let dir = tempfile::tempdir().unwrap();
    let signer = truce_log::note::Signer::generate("truce.test/export-rel").unwrap();
    let log_dir = dir.path().join("log");
    let mut log = truce_log::Log::create(&log_dir, &signer).unwrap();
    log.append_batch(&[truce_log::Entry::new(truce_log::EntryKind::Report, serde_json::json!({"n": 1})).unwrap()]).unwrap();
    log.checkpoint().unwrap();
    let cwd = std::env::current_dir().unwrap();
    std::env::set_current_dir(dir.path()).unwrap();
    let r = log.export(std::path::Path::new("served"));
    std::env::set_current_dir(cwd).unwrap();
    r.unwrap();
    assert!(dir.path().join("served/checkpoint").is_file());
}
