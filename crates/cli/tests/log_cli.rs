//! End-to-end run of `truce keys` and `truce log` through the built binary.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

fn truce(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_truce"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run truce")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

/// Runs truce, asserts its exit code, returns stdout.
#[track_caller]
fn run(dir: &Path, args: &[&str], code: i32) -> Output {
    let o = truce(dir, args);
    assert_eq!(
        o.status.code(),
        Some(code),
        "truce {args:?}\nstdout:\n{}\nstderr:\n{}",
        stdout(&o),
        stderr(&o)
    );
    o
}

#[test]
fn full_flow() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();

    // keys new: 0600 secret, .pub beside it, only the public key printed.
    let o = run(
        d,
        &[
            "keys",
            "new",
            "--name",
            "truce.example/test-log",
            "--out",
            "log.key",
        ],
        0,
    );
    let vkey = stdout(&o).trim().to_string();
    assert!(vkey.starts_with("truce.example/test-log+"), "{vkey}");
    assert!(!stdout(&o).contains("PRIVATE"));
    assert!(!stderr(&o).contains("PRIVATE"));
    let secret = std::fs::read_to_string(d.join("log.key")).unwrap();
    assert!(secret.starts_with("PRIVATE+KEY+"));
    let mode = std::fs::metadata(d.join("log.key"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    assert_eq!(
        std::fs::read_to_string(d.join("log.key.pub"))
            .unwrap()
            .trim(),
        vkey
    );
    // Never overwritten.
    let o = run(
        d,
        &[
            "keys",
            "new",
            "--name",
            "truce.example/other",
            "--out",
            "log.key",
        ],
        2,
    );
    assert!(stderr(&o).contains("log.key"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(d.join("log.key")).unwrap(), secret);
    // --print-secret shows it, on request only.
    let o = run(
        d,
        &[
            "keys",
            "new",
            "--name",
            "truce.example/other",
            "--out",
            "other.key",
            "--print-secret",
        ],
        0,
    );
    assert!(stdout(&o).contains("PRIVATE+KEY+truce.example/other+"));
    let other_vkey = stdout(&o).lines().next().unwrap().to_string();

    // init
    let o = run(d, &["log", "init", "--dir", "log", "--key", "log.key"], 0);
    assert_eq!(stdout(&o).trim(), vkey);

    // append one body and sign a checkpoint at size 1 right away.
    let o = run(
        d,
        &[
            "log",
            "append",
            "--dir",
            "log",
            "--kind",
            "report",
            "--body",
            r#"{"id":"R-1","summary":"quiet"}"#,
            "--key",
            "log.key",
        ],
        0,
    );
    let out = stdout(&o);
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("0..1"));
    assert_eq!(lines.next(), Some("truce.example/test-log"));
    assert_eq!(lines.next(), Some("1"));
    assert!(d.join("log/checkpoints/00000000000000000001").is_file());

    // append jsonl (blank lines skipped)
    std::fs::write(
        d.join("decisions.jsonl"),
        "{\"incident\":\"I-1\",\"decision\":\"violation\"}\n\n{\"incident\":\"I-2\",\"decision\":\"none\"}\n{\"incident\":\"I-3\",\"n\":3}\n",
    )
    .unwrap();
    let o = run(
        d,
        &[
            "log",
            "append",
            "--dir",
            "log",
            "--kind",
            "incident_decision",
            "--jsonl",
            "decisions.jsonl",
        ],
        0,
    );
    assert_eq!(stdout(&o).trim(), "1..4");

    // A bad line fails naming file:line and appends nothing.
    std::fs::write(d.join("bad.jsonl"), "{\"ok\":1}\n{\"ok\":2}\n{\"x\":1.5}\n").unwrap();
    let o = run(
        d,
        &[
            "log",
            "append",
            "--dir",
            "log",
            "--kind",
            "report",
            "--jsonl",
            "bad.jsonl",
        ],
        2,
    );
    assert!(stderr(&o).contains("bad.jsonl:3"), "{}", stderr(&o));
    std::fs::write(d.join("bad2.jsonl"), "{\"ok\":1}\nnot json\n").unwrap();
    let o = run(
        d,
        &[
            "log",
            "append",
            "--dir",
            "log",
            "--kind",
            "report",
            "--jsonl",
            "bad2.jsonl",
        ],
        2,
    );
    assert!(stderr(&o).contains("bad2.jsonl:2"), "{}", stderr(&o));
    // Unknown kinds and malformed typed records are refused.
    run(
        d,
        &[
            "log", "append", "--dir", "log", "--kind", "gossip", "--body", "{}",
        ],
        2,
    );
    run(
        d,
        &[
            "log",
            "append",
            "--dir",
            "log",
            "--kind",
            "ingested_batch",
            "--body",
            "{}",
        ],
        2,
    );

    // checkpoint: size 4, nothing from the failed appends.
    let o = run(
        d,
        &["log", "checkpoint", "--dir", "log", "--key", "log.key"],
        0,
    );
    assert_eq!(stdout(&o).lines().nth(1), Some("4"));
    // The wrong key cannot sign for this log.
    run(
        d,
        &["log", "checkpoint", "--dir", "log", "--key", "other.key"],
        2,
    );

    // prove inclusion of entry 2, then verify it.
    run(
        d,
        &[
            "log",
            "prove",
            "--dir",
            "log",
            "--index",
            "2",
            "--out",
            "proof.json",
            "--entry-out",
            "entry.bin",
        ],
        0,
    );
    let entry = std::fs::read(d.join("entry.bin")).unwrap();
    assert!(String::from_utf8_lossy(&entry).contains("I-2"));
    let o = run(
        d,
        &[
            "log",
            "verify-inclusion",
            "--vkey",
            "log.key.pub",
            "--checkpoint",
            "log/checkpoint",
            "--entry",
            "entry.bin",
            "--proof",
            "proof.json",
        ],
        0,
    );
    assert!(
        stdout(&o).starts_with("OK: entry 2 is in truce.example/test-log at size 4"),
        "{}",
        stdout(&o)
    );

    // A tampered entry fails with exit 1.
    let tampered = String::from_utf8(entry).unwrap().replace("I-2", "I-9");
    std::fs::write(d.join("tampered.bin"), tampered).unwrap();
    let o = run(
        d,
        &[
            "log",
            "verify-inclusion",
            "--vkey",
            &vkey,
            "--checkpoint",
            "log/checkpoint",
            "--entry",
            "tampered.bin",
            "--proof",
            "proof.json",
        ],
        1,
    );
    assert!(stderr(&o).contains("tampered.bin"), "{}", stderr(&o));
    // So does the right entry checked against another log's key.
    run(
        d,
        &[
            "log",
            "verify-inclusion",
            "--vkey",
            &other_vkey,
            "--checkpoint",
            "log/checkpoint",
            "--entry",
            "entry.bin",
            "--proof",
            "proof.json",
        ],
        1,
    );

    // Consistency 1 -> 4.
    let o = run(d, &["log", "prove", "--dir", "log", "--old", "1"], 0);
    std::fs::write(d.join("cons.json"), stdout(&o)).unwrap();
    let o = run(
        d,
        &[
            "log",
            "verify-consistency",
            "--vkey",
            &vkey,
            "--old-checkpoint",
            "log/checkpoints/00000000000000000001",
            "--new-checkpoint",
            "log/checkpoint",
            "--proof",
            "cons.json",
        ],
        0,
    );
    assert!(stdout(&o).starts_with("OK:"), "{}", stdout(&o));
    // Checkpoints swapped: refused, exit 1.
    run(
        d,
        &[
            "log",
            "verify-consistency",
            "--vkey",
            &vkey,
            "--old-checkpoint",
            "log/checkpoint",
            "--new-checkpoint",
            "log/checkpoints/00000000000000000001",
            "--proof",
            "cons.json",
        ],
        1,
    );
    // Proofs beyond the latest checkpoint are refused.
    run(
        d,
        &[
            "log", "prove", "--dir", "log", "--index", "0", "--size", "5",
        ],
        2,
    );

    // fsck
    let o = run(d, &["log", "fsck", "--dir", "log"], 0);
    assert!(stdout(&o).starts_with("ok: 4 entries"), "{}", stdout(&o));

    // export, then verify the served copy with only the public key.
    let o = run(d, &["log", "export", "--dir", "log", "--out", "served"], 0);
    assert!(stdout(&o).contains("size 4"), "{}", stdout(&o));
    assert!(!d.join("served/wal").exists());
    let o = run(
        d,
        &["log", "verify", "--dir", "served", "--vkey", "log.key.pub"],
        0,
    );
    assert!(
        stdout(&o).starts_with("OK: truce.example/test-log at size 4"),
        "{}",
        stdout(&o)
    );
    run(
        d,
        &["log", "verify", "--dir", "served", "--vkey", &other_vkey],
        1,
    );
    // Proofs can be made from the served copy too, given the key.
    let o = run(
        d,
        &[
            "log",
            "prove",
            "--dir",
            "served",
            "--vkey",
            "log.key.pub",
            "--index",
            "2",
        ],
        0,
    );
    assert_eq!(
        stdout(&o).trim(),
        std::fs::read_to_string(d.join("proof.json"))
            .unwrap()
            .trim()
    );

    // Damage a served entry bundle: verify fails with exit 1.
    let bundle = find_file(&d.join("served/tile/entries")).expect("an entry bundle");
    let mut bytes = std::fs::read(&bundle).unwrap();
    let at = bytes.windows(3).position(|w| w == b"I-2").unwrap();
    bytes[at + 2] = b'9';
    std::fs::write(&bundle, bytes).unwrap();
    run(
        d,
        &["log", "verify", "--dir", "served", "--vkey", "log.key.pub"],
        1,
    );
}

fn find_file(dir: &Path) -> Option<std::path::PathBuf> {
    for e in std::fs::read_dir(dir).ok()? {
        let p = e.ok()?.path();
        if p.is_file() {
            return Some(p);
        }
        if let Some(f) = find_file(&p) {
            return Some(f);
        }
    }
    None
}
