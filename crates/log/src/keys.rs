//! Secret key files for the log signer.
//!
//! A key file holds one line, the Go-note signer key string
//! `PRIVATE+KEY+name+keyid+base64(0x01 || seed)`. It is created with mode
//! 0600, never overwritten, and refused when readable by group or others.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::fsio::{create_private_file, read_limited};
use crate::note::{Signer, VerifierKey};
use crate::{Error, Result};

/// Largest key file read.
pub const MAX_KEY_FILE_BYTES: u64 = 1024;

/// Generates a new Ed25519 signer named `name`, writes its secret to `path`
/// (created with mode 0600; an existing file is never overwritten) and
/// returns the public verifier key. The secret is not returned, so it cannot
/// be printed by accident.
pub fn generate_to_file(path: &Path, name: &str) -> Result<VerifierKey> {
    let signer = Signer::generate(name)?;
    let mut line = signer.to_secret_string();
    line.push('\n');
    create_private_file(path, line.as_bytes())?;
    Ok(signer.verifier())
}

/// Loads a signer from a key file, refusing files whose permissions let
/// group or others read or write them.
pub fn load_signer(path: &Path) -> Result<Signer> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(Error::KeyFilePermissions {
            path: path.into(),
            mode,
        });
    }
    let bytes = zeroize::Zeroizing::new(read_limited(path, MAX_KEY_FILE_BYTES)?);
    let text = std::str::from_utf8(&bytes).map_err(|e| Error::Corrupt {
        path: path.into(),
        offset: e.valid_up_to() as u64,
        reason: "key file is not UTF-8".into(),
    })?;
    Signer::parse(text.trim_end()).map_err(|e| match e {
        Error::BadKey(m) => Error::BadKey(format!("{}: {m}", path.display())),
        other => other,
    })
}

/// Reads a verifier key string from a file (one line).
pub fn load_verifier(path: &Path) -> Result<VerifierKey> {
    let bytes = read_limited(path, MAX_KEY_FILE_BYTES)?;
    let text = String::from_utf8(bytes).map_err(|e| Error::Corrupt {
        path: path.into(),
        offset: e.utf8_error().valid_up_to() as u64,
        reason: "not UTF-8".into(),
    })?;
    VerifierKey::parse(text.trim()).map_err(|e| match e {
        Error::BadKey(m) => Error::BadKey(format!("{}: {m}", path.display())),
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generate_writes_0600_and_refuses_overwrite() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("log.key");
        let v = generate_to_file(&p, "example.org/log").unwrap();
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(load_signer(&p).unwrap().verifier(), v);
        assert!(matches!(
            generate_to_file(&p, "example.org/log"),
            Err(Error::AlreadyExists { .. })
        ));
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            load_signer(&p),
            Err(Error::KeyFilePermissions { mode: 0o644, .. })
        ));
    }
}
