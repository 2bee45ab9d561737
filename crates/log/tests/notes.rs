//! Signed notes and checkpoints against published examples.
//!
//! * The Go reference implementation's example (golang.org/x/mod/sumdb/note,
//!   BSD-3-Clause): key pair, text and the exact signed note, which Ed25519's
//!   determinism lets us reproduce byte for byte.
//! * The examples printed in the C2SP signed-note and tlog-checkpoint specs.
//!   The specs do not publish the public keys behind them, so only their
//!   structure can be checked, not their signatures.

use truce_log::note::{key_id, open_note, Checkpoint, Note, Signer, VerifierKey};

const GO_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const GO_SKEY: &str =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const GO_TEXT: &str = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const GO_NOTE: &str = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n\n\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

// From https://c2sp.org/signed-note (the spec's opening example).
const C2SP_NOTE: &str = "Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned è subito sera.\n\n\u{2014} quasimodo.example/salvatore NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9oJKONrMouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n";

// From https://c2sp.org/tlog-checkpoint (the spec's opening example).
const C2SP_CHECKPOINT: &str = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n\u{2014} example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n";

#[test]
fn go_reference_key_strings_roundtrip() {
    let s = Signer::parse(GO_SKEY).unwrap();
    assert_eq!(s.verifier().to_string(), GO_VKEY);
    assert_eq!(&*s.to_secret_string(), GO_SKEY);
    let v = VerifierKey::parse(GO_VKEY).unwrap();
    assert_eq!(v.id(), 0xc74f20a3);
    assert_eq!(key_id("PeterNeumann", &v.public_key()), 0xc74f20a3);
}

#[test]
fn go_reference_note_is_reproduced_byte_for_byte() {
    let s = Signer::parse(GO_SKEY).unwrap();
    assert_eq!(s.sign_note(GO_TEXT).unwrap(), GO_NOTE);
    let v = VerifierKey::parse(GO_VKEY).unwrap();
    assert_eq!(open_note(GO_NOTE, &v).unwrap(), GO_TEXT);
}

#[test]
fn go_reference_note_rejects_tampering() {
    let v = VerifierKey::parse(GO_VKEY).unwrap();
    let altered_text = GO_NOTE.replacen("answer", "Answer", 1);
    assert!(open_note(&altered_text, &v).is_err());
    let altered_sig = GO_NOTE.replacen("x08go", "x08gp", 1);
    assert!(open_note(&altered_sig, &v).is_err());
    let no_sig = GO_TEXT.to_string() + "\n";
    assert!(open_note(&no_sig, &v).is_err());
    // A second, unknown signature must be ignored, not rejected.
    let other = Signer::from_seed("witness.example", &[3; 32]).unwrap();
    let extra = other.sign_note(GO_TEXT).unwrap();
    let sig_line = extra.rsplit_once("\n\n").unwrap().1;
    let both = format!("{GO_NOTE}{sig_line}");
    assert_eq!(open_note(&both, &v).unwrap(), GO_TEXT);
}

#[test]
fn mangled_verifier_keys_are_rejected() {
    // Every proper substring and every single-byte increment of the Go key
    // must fail to parse, as in the reference implementation's own tests.
    let b = GO_VKEY.as_bytes();
    for i in 0..b.len() {
        for j in i + 1..=b.len() {
            if i == 0 && j == b.len() {
                continue;
            }
            if let Ok(s) = std::str::from_utf8(&b[i..j]) {
                assert!(VerifierKey::parse(s).is_err(), "{s:?} parsed");
            }
        }
        let mut m = b.to_vec();
        m[i] = m[i].wrapping_add(1);
        if let Ok(s) = std::str::from_utf8(&m) {
            assert!(VerifierKey::parse(s).is_err(), "{s:?} parsed");
        }
    }
}

#[test]
fn c2sp_signed_note_example_parses() {
    let n = Note::parse(C2SP_NOTE).unwrap();
    assert_eq!(n.text, "Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned è subito sera.\n");
    assert_eq!(n.signatures.len(), 1);
    assert_eq!(n.signatures[0].name, "quasimodo.example/salvatore");
    assert_eq!(
        n.signatures[0].signature.len(),
        64,
        "an Ed25519 signature after the 4-byte key ID"
    );
    // Without the spec's (unpublished) public key the note must not verify
    // under some other key of the same name.
    let impostor = Signer::from_seed("quasimodo.example/salvatore", &[9; 32]).unwrap();
    assert!(open_note(C2SP_NOTE, &impostor.verifier()).is_err());
}

#[test]
fn c2sp_checkpoint_example_parses() {
    let n = Note::parse(C2SP_CHECKPOINT).unwrap();
    let cp = Checkpoint::parse(&n.text).unwrap();
    assert_eq!(cp.origin, "example.com/behind-the-sofa");
    assert_eq!(cp.size, 20_852_163);
    assert_eq!(
        truce_log::note::encode_hash(&cp.root),
        "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="
    );
    assert_eq!(
        cp.to_text(),
        n.text,
        "formatting is the exact inverse of parsing"
    );
    assert_eq!(n.signatures[0].name, cp.origin);
    assert_eq!(n.signatures[0].signature.len(), 64);
}

#[test]
fn our_checkpoints_have_the_spec_shape() {
    let s = Signer::from_seed("example.com/behind-the-sofa", &[5; 32]).unwrap();
    let cp = Checkpoint::parse(
        "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
    )
    .unwrap();
    let note = cp.sign(&s).unwrap();
    // Same text and line structure as the spec's example; only the
    // signature differs, because the key differs.
    let (text, sig) = note.rsplit_once("\n\n").unwrap();
    let (spec_text, spec_sig) = C2SP_CHECKPOINT.rsplit_once("\n\n").unwrap();
    assert_eq!(text, spec_text);
    assert_eq!(sig.len(), spec_sig.len());
    assert!(sig.starts_with("\u{2014} example.com/behind-the-sofa "));
    assert_eq!(Checkpoint::open(&note, &s.verifier()).unwrap(), cp);
}
