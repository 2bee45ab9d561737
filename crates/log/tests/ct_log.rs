//! Proofs served by a live Certificate Transparency log (captured in cloudflare/azul's
//! tests, `tests/fixtures/azul/`): real trees of a billion entries, far beyond anything
//! the unit tests build.

use base64::Engine;
use truce_log::proof::{node_hash, verify_consistency, verify_inclusion};

type Hash = [u8; 32];

fn fixture(name: &str) -> serde_json::Value {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/azul").join(name);
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn h(b64: &str) -> Hash {
    base64::engine::general_purpose::STANDARD.decode(b64).unwrap().try_into().unwrap()
}

fn hashes(v: &serde_json::Value) -> Vec<Hash> {
    v.as_array().unwrap().iter().map(|x| h(x.as_str().unwrap())).collect()
}

fn sth() -> (u64, Hash) {
    let s = fixture("get-sth");
    (s["tree_size"].as_u64().unwrap(), h(s["sha256_root_hash"].as_str().unwrap()))
}

#[test]
fn inclusion_proof_from_a_live_log_verifies_and_a_flipped_bit_does_not() {
    let (size, root) = sth();
    let p = fixture("get-proof-by-hash-tree-size-961984011");
    let leaf = h("nCs3mfIydh9x4CKyQ+u2xtmpxmFggA5MLymHwNQSlLg=");
    let index = p["leaf_index"].as_u64().unwrap();
    let path = hashes(&p["audit_path"]);
    assert_eq!(path.len(), 30);
    verify_inclusion(&leaf, index, size, &path, &root).unwrap();
    let mut bad = path.clone();
    bad[7][0] ^= 1;
    assert!(verify_inclusion(&leaf, index, size, &bad, &root).is_err());
    assert!(verify_inclusion(&leaf, index + 1, size, &path, &root).is_err());
}

/// RFC 9162 section 2.1.4.2, written out again here as an independent reference: the
/// (old root, new root) a consistency proof commits to.
fn roots_from_consistency(old: u64, new: u64, proof: &[Hash]) -> (Hash, Hash) {
    // For a power-of-two old size the proof omits the old root, which must then be
    // given; the captured proof's old size (3,654,490) is not one.
    assert!(!old.is_power_of_two());
    let (mut fn_, mut sn) = (old - 1, new - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (proof[0], proof[0]);
    for c in &proof[1..] {
        if sn == 0 {
            panic!("proof too long");
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    assert_eq!(sn, 0, "proof too short");
    (fr, sr)
}

#[test]
fn consistency_proof_from_a_live_log_reaches_its_signed_root() {
    let (size, root) = sth();
    let proof = hashes(&fixture("get-sth-consistency-first-3654490-second-961984011")["consistency"]);
    let old = 3_654_490;
    // The log published no root for size 3,654,490 here, so take the one the proof
    // commits to; the proof must lead to the log's signed root for the new size.
    let (old_root, new_root) = roots_from_consistency(old, size, &proof);
    assert_eq!(new_root, root, "the proof does not reach the signed tree head");
    verify_consistency(old, size, &proof, &old_root, &root).unwrap();
    let mut wrong = old_root;
    wrong[31] ^= 0x80;
    assert!(verify_consistency(old, size, &proof, &wrong, &root).is_err());
    assert!(verify_consistency(old + 1, size, &proof, &old_root, &root).is_err());
}
