//! C2SP signed notes (<https://c2sp.org/signed-note>) with Ed25519 keys and
//! C2SP tlog checkpoints (<https://c2sp.org/tlog-checkpoint>).
//!
//! Key strings follow the Go `golang.org/x/mod/sumdb/note` encoding that the
//! ecosystem uses: a verifier key is `name+hex(keyid)+base64(0x01 || pubkey)`
//! and a signer key is `PRIVATE+KEY+name+hex(keyid)+base64(0x01 || seed)`.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::proof::{Hash, HASH_SIZE};
use crate::Error;

/// Signature type byte for Ed25519 in the signed-note registry.
pub const ALG_ED25519: u8 = 0x01;
/// The largest signed note this crate will parse. Checkpoints are a few
/// hundred bytes; the limit bounds the work an attacker can cause.
pub const MAX_NOTE_BYTES: usize = 64 * 1024;
/// The most signature lines accepted on one note (the spec asks verifiers to
/// accept at least 16).
pub const MAX_SIGNATURES: usize = 100;
/// The longest key name accepted, so that names stay printable on one line.
pub const MAX_KEY_NAME_BYTES: usize = 256;
/// The most extension lines a checkpoint may carry.
pub const MAX_EXTENSION_LINES: usize = 16;

const EM_DASH: char = '\u{2014}';

/// Key ID = first four bytes of SHA-256(name || 0x0A || 0x01 || pubkey), as
/// a big-endian u32.
pub fn key_id(name: &str, public_key: &[u8; 32]) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', ALG_ED25519]);
    h.update(public_key);
    let d = h.finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

/// Checks a key name: non-empty, at most [`MAX_KEY_NAME_BYTES`], no Unicode
/// white space, no `+`, no control characters.
pub fn check_key_name(name: &str) -> Result<(), Error> {
    if name.is_empty() || name.len() > MAX_KEY_NAME_BYTES {
        return Err(Error::BadKey(format!(
            "key name must be 1 to {MAX_KEY_NAME_BYTES} bytes"
        )));
    }
    if name
        .chars()
        .any(|c| c.is_whitespace() || c == '+' || c.is_control())
    {
        return Err(Error::BadKey(format!(
            "key name {name:?} contains a space, '+' or a control character"
        )));
    }
    Ok(())
}

/// A public Ed25519 note-verification key with its name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifierKey {
    name: String,
    id: u32,
    key: VerifyingKey,
}

impl VerifierKey {
    /// Builds a verifier from a name and a raw 32-byte public key.
    pub fn from_public_key(name: &str, public_key: &[u8; 32]) -> Result<Self, Error> {
        check_key_name(name)?;
        let key = VerifyingKey::from_bytes(public_key)
            .map_err(|e| Error::BadKey(format!("not an Ed25519 public key: {e}")))?;
        Ok(VerifierKey {
            name: name.to_string(),
            id: key_id(name, public_key),
            key,
        })
    }

    /// Parses `name+hex8(keyid)+base64(0x01 || pubkey)`, checking that the
    /// key ID matches the key.
    pub fn parse(s: &str) -> Result<Self, Error> {
        let s = s.trim_end_matches(['\n', '\r']);
        if s.len() > MAX_KEY_NAME_BYTES + 64 {
            return Err(Error::BadKey("verifier key string is too long".into()));
        }
        let mut parts = s.splitn(3, '+');
        let (name, id_hex, key_b64) = match (parts.next(), parts.next(), parts.next()) {
            (Some(a), Some(b), Some(c)) => (a, b, c),
            _ => return Err(Error::BadKey("verifier key must be name+keyid+key".into())),
        };
        check_key_name(name)?;
        let id = parse_key_id(id_hex)?;
        let raw = B64
            .decode(key_b64)
            .map_err(|e| Error::BadKey(format!("verifier key is not base64: {e}")))?;
        if raw.len() != 33 || raw[0] != ALG_ED25519 {
            return Err(Error::BadKey(
                "verifier key is not 0x01 followed by a 32-byte Ed25519 key".into(),
            ));
        }
        let mut pk = [0u8; 32];
        pk.copy_from_slice(&raw[1..]);
        let v = VerifierKey::from_public_key(name, &pk)?;
        if v.id != id {
            return Err(Error::BadKey(format!(
                "key ID {id:08x} in the string does not match the key (expected {:08x})",
                v.id
            )));
        }
        Ok(v)
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The 32-bit key ID.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// The raw public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        let Ok(sig) = Signature::from_slice(sig) else {
            return false;
        };
        self.key.verify_strict(msg, &sig).is_ok()
    }
}

impl std::fmt::Display for VerifierKey {
    /// Formats as `name+hex8(keyid)+base64(0x01 || pubkey)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut raw = vec![ALG_ED25519];
        raw.extend_from_slice(self.key.as_bytes());
        write!(f, "{}+{:08x}+{}", self.name, self.id, B64.encode(raw))
    }
}

fn parse_key_id(s: &str) -> Result<u32, Error> {
    if s.len() != 8
        || !s
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(Error::BadKey(
            "key ID must be eight lowercase hex digits".into(),
        ));
    }
    u32::from_str_radix(s, 16).map_err(|_| Error::BadKey("key ID is not hex".into()))
}

/// An Ed25519 note signer: a key name and a secret key. The secret never
/// appears in `Debug` output.
#[derive(Clone)]
pub struct Signer {
    name: String,
    key: SigningKey,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("name", &self.name)
            .field("key", &"<secret>")
            .finish()
    }
}

impl Signer {
    /// A signer from a name and a 32-byte Ed25519 seed.
    pub fn from_seed(name: &str, seed: &[u8; 32]) -> Result<Self, Error> {
        check_key_name(name)?;
        Ok(Signer {
            name: name.to_string(),
            key: SigningKey::from_bytes(seed),
        })
    }

    /// Generates a fresh key from the operating system's random source.
    pub fn generate(name: &str) -> Result<Self, Error> {
        let mut seed = Zeroizing::new([0u8; 32]);
        getrandom::getrandom(&mut seed[..]).map_err(|e| Error::Random(e.to_string()))?;
        Signer::from_seed(name, &seed)
    }

    /// Parses `PRIVATE+KEY+name+hex8(keyid)+base64(0x01 || seed)`.
    pub fn parse(s: &str) -> Result<Self, Error> {
        let s = s.trim_end_matches(['\n', '\r']);
        let rest = s
            .strip_prefix("PRIVATE+KEY+")
            .ok_or_else(|| Error::BadKey("signer key must start with PRIVATE+KEY+".into()))?;
        let mut parts = rest.splitn(3, '+');
        let (name, id_hex, key_b64) = match (parts.next(), parts.next(), parts.next()) {
            (Some(a), Some(b), Some(c)) => (a, b, c),
            _ => {
                return Err(Error::BadKey(
                    "signer key must be PRIVATE+KEY+name+keyid+key".into(),
                ))
            }
        };
        check_key_name(name)?;
        let id = parse_key_id(id_hex)?;
        let raw = Zeroizing::new(
            B64.decode(key_b64)
                .map_err(|_| Error::BadKey("signer key material is not base64".into()))?,
        );
        if raw.len() != 33 || raw[0] != ALG_ED25519 {
            return Err(Error::BadKey(
                "signer key is not 0x01 followed by a 32-byte Ed25519 seed".into(),
            ));
        }
        let mut seed = Zeroizing::new([0u8; 32]);
        seed.copy_from_slice(&raw[1..]);
        let signer = Signer::from_seed(name, &seed)?;
        if signer.verifier().id != id {
            return Err(Error::BadKey(
                "key ID in the signer key does not match the key".into(),
            ));
        }
        Ok(signer)
    }

    /// The secret key string `PRIVATE+KEY+...`. Handle it like the secret it is.
    pub fn to_secret_string(&self) -> Zeroizing<String> {
        let mut raw = Zeroizing::new(vec![ALG_ED25519]);
        raw.extend_from_slice(self.key.as_bytes());
        Zeroizing::new(format!(
            "PRIVATE+KEY+{}+{:08x}+{}",
            self.name,
            self.verifier().id,
            B64.encode(&*raw)
        ))
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The matching verifier key.
    pub fn verifier(&self) -> VerifierKey {
        let pk = self.key.verifying_key().to_bytes();
        VerifierKey {
            name: self.name.clone(),
            id: key_id(&self.name, &pk),
            key: self.key.verifying_key(),
        }
    }

    /// Signs `text` (which must be valid note text, ending in a newline) and
    /// returns the complete signed note.
    pub fn sign_note(&self, text: &str) -> Result<String, Error> {
        check_note_text(text)?;
        let sig = self.key.sign(text.as_bytes());
        let mut blob = self.verifier().id.to_be_bytes().to_vec();
        blob.extend_from_slice(&sig.to_bytes());
        Ok(format!(
            "{text}\n{EM_DASH} {} {}\n",
            self.name,
            B64.encode(blob)
        ))
    }
}

fn check_note_chars(s: &str) -> Result<(), Error> {
    if let Some((i, c)) = s
        .char_indices()
        .find(|(_, c)| (*c < ' ' && *c != '\n') || *c == '\u{7f}')
    {
        return Err(Error::BadNote(format!(
            "control character {:?} at byte offset {i}",
            c
        )));
    }
    Ok(())
}

fn check_note_text(text: &str) -> Result<(), Error> {
    if text.is_empty() || !text.ends_with('\n') {
        return Err(Error::BadNote(
            "note text must be non-empty and end with a newline".into(),
        ));
    }
    if text.len() > MAX_NOTE_BYTES {
        return Err(Error::BadNote(format!(
            "note text is over {MAX_NOTE_BYTES} bytes"
        )));
    }
    check_note_chars(text)
}

/// One signature line of a note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteSignature {
    /// The key name on the line.
    pub name: String,
    /// The key ID (first four bytes of the decoded signature).
    pub key_id: u32,
    /// The signature bytes after the key ID.
    pub signature: Vec<u8>,
}

/// A parsed but not yet verified signed note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    /// The signed text, including its final newline.
    pub text: String,
    /// The signature lines in order.
    pub signatures: Vec<NoteSignature>,
}

impl Note {
    /// Parses a signed note without checking any signature. The text is
    /// separated from the signatures by the last blank line.
    pub fn parse(note: &str) -> Result<Note, Error> {
        if note.len() > MAX_NOTE_BYTES {
            return Err(Error::BadNote(format!(
                "note is over {MAX_NOTE_BYTES} bytes"
            )));
        }
        check_note_chars(note)?;
        if !note.ends_with('\n') {
            return Err(Error::BadNote("note does not end with a newline".into()));
        }
        let split = note.rfind("\n\n").ok_or_else(|| {
            Error::BadNote("no blank line separates the text from the signatures".into())
        })?;
        let text = &note[..split + 1];
        let sig_block = &note[split + 2..];
        let mut signatures = Vec::new();
        for (n, line) in sig_block.lines().enumerate() {
            if signatures.len() == MAX_SIGNATURES {
                return Err(Error::BadNote(format!(
                    "more than {MAX_SIGNATURES} signatures"
                )));
            }
            let at = text.len()
                + 1
                + sig_block
                    .lines()
                    .take(n)
                    .map(|l| l.len() + 1)
                    .sum::<usize>();
            let rest = line
                .strip_prefix(EM_DASH)
                .and_then(|r| r.strip_prefix(' '))
                .ok_or_else(|| {
                    Error::BadNote(format!(
                        "signature line at byte offset {at} does not start with '— '"
                    ))
                })?;
            let (name, b64) = rest.split_once(' ').ok_or_else(|| {
                Error::BadNote(format!(
                    "signature line at byte offset {at} lacks a signature"
                ))
            })?;
            check_key_name(name)
                .map_err(|e| Error::BadNote(format!("signature line at byte offset {at}: {e}")))?;
            let blob = B64.decode(b64).map_err(|_| {
                Error::BadNote(format!("signature at byte offset {at} is not base64"))
            })?;
            if blob.len() < 5 {
                return Err(Error::BadNote(format!(
                    "signature at byte offset {at} is too short"
                )));
            }
            signatures.push(NoteSignature {
                name: name.to_string(),
                key_id: u32::from_be_bytes([blob[0], blob[1], blob[2], blob[3]]),
                signature: blob[4..].to_vec(),
            });
        }
        if signatures.is_empty() {
            return Err(Error::BadNote("note has no signature lines".into()));
        }
        Ok(Note {
            text: text.to_string(),
            signatures,
        })
    }
}

/// Verifies a signed note against one trusted key and returns its text.
/// Signatures by other keys are ignored, as the spec requires; a signature
/// that claims to be by the trusted key but does not verify rejects the
/// note; a note with no signature by the trusted key is rejected.
pub fn open_note(note: &str, key: &VerifierKey) -> Result<String, Error> {
    let parsed = Note::parse(note)?;
    let mut verified = false;
    for s in &parsed.signatures {
        if s.name != key.name || s.key_id != key.id {
            continue;
        }
        if !key.verify(parsed.text.as_bytes(), &s.signature) {
            return Err(Error::BadSignature(format!(
                "the signature by {}+{:08x} does not verify",
                key.name, key.id
            )));
        }
        verified = true;
    }
    if !verified {
        return Err(Error::BadSignature(format!(
            "note carries no signature by {}+{:08x}",
            key.name, key.id
        )));
    }
    Ok(parsed.text)
}

/// The body of a C2SP tlog checkpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's origin line.
    pub origin: String,
    /// Number of leaves.
    pub size: u64,
    /// RFC 6962 root hash at that size.
    pub root: Hash,
    /// Opaque extension lines (this crate writes none).
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// Formats the note text: origin, size, base64 root, extension lines,
    /// each followed by a newline.
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            B64.encode(self.root)
        );
        for e in &self.extensions {
            s.push_str(e);
            s.push('\n');
        }
        s
    }

    /// Parses checkpoint note text strictly: a non-empty origin, a decimal
    /// size with no leading zeroes, a canonical base64 32-byte root and
    /// non-empty extension lines.
    pub fn parse(text: &str) -> Result<Checkpoint, Error> {
        check_note_text(text).map_err(|e| Error::BadCheckpoint(e.to_string()))?;
        let lines: Vec<&str> = text[..text.len() - 1].split('\n').collect();
        if lines.len() < 3 {
            return Err(Error::BadCheckpoint("fewer than three lines".into()));
        }
        if lines.len() > 3 + MAX_EXTENSION_LINES {
            return Err(Error::BadCheckpoint(format!(
                "more than {MAX_EXTENSION_LINES} extension lines"
            )));
        }
        let origin = lines[0];
        if origin.is_empty() {
            return Err(Error::BadCheckpoint("origin line is empty".into()));
        }
        let size_s = lines[1];
        if size_s.is_empty()
            || !size_s.bytes().all(|b| b.is_ascii_digit())
            || (size_s.len() > 1 && size_s.starts_with('0'))
        {
            return Err(Error::BadCheckpoint(format!(
                "tree size {size_s:?} is not a decimal without leading zeroes"
            )));
        }
        let size: u64 = size_s.parse().map_err(|_| {
            Error::BadCheckpoint(format!("tree size {size_s:?} does not fit in 64 bits"))
        })?;
        let root =
            decode_hash(lines[2]).map_err(|e| Error::BadCheckpoint(format!("root hash: {e}")))?;
        let extensions: Vec<String> = lines[3..].iter().map(|s| s.to_string()).collect();
        if extensions.iter().any(|e| e.is_empty()) {
            return Err(Error::BadCheckpoint("empty extension line".into()));
        }
        Ok(Checkpoint {
            origin: origin.to_string(),
            size,
            root,
            extensions,
        })
    }

    /// Signs this checkpoint and returns the signed note.
    pub fn sign(&self, signer: &Signer) -> Result<String, Error> {
        signer.sign_note(&self.to_text())
    }

    /// Verifies a signed checkpoint note with `key` and parses it. The origin
    /// must equal the key name, which is how this crate names logs.
    pub fn open(note: &str, key: &VerifierKey) -> Result<Checkpoint, Error> {
        let text = open_note(note, key)?;
        let cp = Checkpoint::parse(&text)?;
        if cp.origin != key.name() {
            return Err(Error::BadCheckpoint(format!(
                "origin {:?} is not the key name {:?}",
                cp.origin,
                key.name()
            )));
        }
        Ok(cp)
    }
}

/// Decodes a standard-base64 hash, requiring exactly 32 bytes and canonical
/// padding.
pub fn decode_hash(s: &str) -> Result<Hash, Error> {
    let raw = B64
        .decode(s)
        .map_err(|e| Error::BadHash(format!("{s:?} is not base64: {e}")))?;
    if raw.len() != HASH_SIZE {
        return Err(Error::BadHash(format!(
            "{s:?} decodes to {} bytes, not {HASH_SIZE}",
            raw.len()
        )));
    }
    let mut h = [0u8; HASH_SIZE];
    h.copy_from_slice(&raw);
    Ok(h)
}

/// Encodes a hash as standard base64.
pub fn encode_hash(h: &Hash) -> String {
    B64.encode(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_roundtrip() {
        let s = Signer::from_seed("example.com/log", &[7u8; 32]).unwrap();
        let v = s.verifier();
        let vs = v.to_string();
        assert_eq!(VerifierKey::parse(&vs).unwrap(), v);
        let ss = s.to_secret_string();
        let s2 = Signer::parse(&ss).unwrap();
        assert_eq!(s2.verifier(), v);
        assert!(
            !format!("{s:?}").contains(&ss[20..]),
            "Debug must not print the secret"
        );
    }

    #[test]
    fn checkpoint_text_roundtrip_and_strictness() {
        let cp = Checkpoint {
            origin: "o".into(),
            size: 0,
            root: [0; 32],
            extensions: vec![],
        };
        assert_eq!(Checkpoint::parse(&cp.to_text()).unwrap(), cp);
        let root = encode_hash(&[0; 32]);
        for bad in [
            format!("o\n01\n{root}\n"),
            format!("o\n-1\n{root}\n"),
            format!("\n1\n{root}\n"),
            format!("o\n1\n{root}"),
            format!("o\n1\n{root}\n\n"),
            "o\n1\nAAAA\n".to_string(),
            format!("o\n99999999999999999999\n{root}\n"),
            "o\n1\n".to_string(),
        ] {
            assert!(
                Checkpoint::parse(&bad).is_err(),
                "{bad:?} should be rejected"
            );
        }
    }

    #[test]
    fn tampered_notes_are_rejected() {
        let s = Signer::from_seed("log", &[1u8; 32]).unwrap();
        let note = s.sign_note("hello\n").unwrap();
        assert_eq!(open_note(&note, &s.verifier()).unwrap(), "hello\n");
        let tampered = note.replacen("hello", "hellp", 1);
        assert!(open_note(&tampered, &s.verifier()).is_err());
        let other = Signer::from_seed("log", &[2u8; 32]).unwrap();
        assert!(
            open_note(&note, &other.verifier()).is_err(),
            "unknown key id: no trusted signature"
        );
        assert!(Note::parse("hello\n\n").is_err());
        assert!(Note::parse("hel\u{1}lo\n\n— log AAAAAAA=\n").is_err());
    }
}
