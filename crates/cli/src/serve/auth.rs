//! Roles and API tokens.
//!
//! The tokens file (TOML) lists one `[[token]]` table per holder:
//!
//! ```toml
//! [[token]]
//! token = "an-7-3f9c1d0b8e2a4c6f9d1e3b5a7c9e1f20"   # at least TOKEN_CHARS_MIN characters
//! role = "analyst"                                  # monitor | analyst | guarantor
//! name = "an-7"                                     # who: recorded as analyst / by
//!
//! [[token]]
//! token = "gb-liaison-0c4e8a2f6b1d3e5f7a9c0b2d4e6f8a1c"
//! role = "guarantor"
//! name = "liaison-gb"
//! party = "GB"                                      # a party of the agreement
//!
//! [[token]]
//! token = "smm-3-9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d"
//! role = "monitor"
//! name = "smm-team-3"
//! keys = ["smm-team-3+1a2b3c4d+AX..."]              # verifier keys (`truce keys new`) whose
//!                                                   # signed patrol reports this monitor submits
//! ```
//!
//! A request without `Authorization` is public; one with a token the file does not hold
//! is refused (401), never treated as public. Tokens are compared in constant time.

use std::path::Path;

use anyhow::{bail, Context, Result};
use axum::http::HeaderMap;
use subtle::ConstantTimeEq;
use truce_agreement::Agreement;

use super::ApiError;

/// Shortest token accepted in the tokens file.
pub const TOKEN_CHARS_MIN: usize = 24;
/// Largest tokens file read.
pub const TOKENS_FILE_BYTES_MAX: u64 = 1 << 20;

/// Who is asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The public: verified, unrestricted incidents only.
    Public,
    /// A monitor of the mission: sees everything; uploads observations.
    Monitor,
    /// An analyst: sees everything; confirms and rejects incidents.
    Analyst,
    /// A guarantor's liaison: sees everything; records actions for its own party.
    Guarantor,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Public => "public",
            Role::Monitor => "monitor",
            Role::Analyst => "analyst",
            Role::Guarantor => "guarantor",
        }
    }
    /// Whether this role may see restricted sources and unverified incidents.
    pub fn sees_all(self) -> bool {
        self != Role::Public
    }
}

/// The holder of a token, or the public.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub role: Role,
    /// The holder's name (empty for the public).
    pub name: String,
    /// A guarantor's party.
    pub party: Option<String>,
    /// A monitor's registered verifier keys: a signed patrol report must carry a
    /// signature by one of them.
    pub keys: Vec<truce_log::note::VerifierKey>,
}

impl Caller {
    pub fn public() -> Caller {
        Caller { role: Role::Public, name: String::new(), party: None, keys: Vec::new() }
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenRow {
    token: String,
    role: String,
    name: String,
    party: Option<String>,
    #[serde(default)]
    keys: Vec<String>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct TokensFile {
    #[serde(default)]
    token: Vec<TokenRow>,
}

/// The tokens the server accepts.
#[derive(Default)]
pub struct Tokens {
    rows: Vec<(Vec<u8>, Caller)>,
}

impl Tokens {
    /// Reads and checks a tokens file against the agreement (a guarantor's party must be
    /// one of its parties).
    pub fn load(path: &Path, agreement: &Agreement) -> Result<Tokens> {
        let meta = std::fs::metadata(path).with_context(|| format!("{}: cannot read", path.display()))?;
        if meta.len() > TOKENS_FILE_BYTES_MAX {
            bail!("{}: {} bytes exceeds TOKENS_FILE_BYTES_MAX ({TOKENS_FILE_BYTES_MAX})", path.display(), meta.len());
        }
        let text = std::fs::read_to_string(path).with_context(|| format!("{}: cannot read as UTF-8", path.display()))?;
        Self::parse(&path.display().to_string(), &text, agreement)
    }

    pub fn parse(file: &str, text: &str, agreement: &Agreement) -> Result<Tokens> {
        let f: TokensFile = toml::from_str(text).map_err(|e| anyhow::anyhow!("{file}: {e}"))?;
        let mut rows: Vec<(Vec<u8>, Caller)> = Vec::new();
        for (i, r) in f.token.into_iter().enumerate() {
            let at = format!("{file}: token[{i}]");
            if r.token.chars().count() < TOKEN_CHARS_MIN {
                bail!("{at}: token: shorter than TOKEN_CHARS_MIN ({TOKEN_CHARS_MIN})");
            }
            if !r.token.chars().all(|c| c.is_ascii_graphic()) {
                bail!("{at}: token: only printable ASCII without spaces");
            }
            if r.name.trim().is_empty() {
                bail!("{at}: name: empty");
            }
            let role = match r.role.as_str() {
                "monitor" => Role::Monitor,
                "analyst" => Role::Analyst,
                "guarantor" => Role::Guarantor,
                other => bail!("{at}: role: `{other}` is not monitor, analyst or guarantor (no token is needed for public)"),
            };
            match (role, &r.party) {
                (Role::Guarantor, None) => bail!("{at}: party: a guarantor's token names its party"),
                (Role::Guarantor, Some(p)) if agreement.party(p).is_none() => {
                    bail!("{at}: party: `{p}` is not a party of {} (parties: {})", agreement.file, agreement.parties.iter().map(|p| p.id.as_str()).collect::<Vec<_>>().join(", "))
                }
                (Role::Guarantor, _) => {}
                (_, Some(_)) => bail!("{at}: party: only a guarantor's token names a party"),
                (_, None) => {}
            }
            if rows.iter().any(|(t, _)| t.as_slice() == r.token.as_bytes()) {
                bail!("{at}: token: the same token twice");
            }
            if role != Role::Monitor && !r.keys.is_empty() {
                bail!("{at}: keys: only a monitor's token registers signing keys");
            }
            let mut keys = Vec::new();
            for (k, text) in r.keys.iter().enumerate() {
                let v = truce_log::note::VerifierKey::parse(text.trim()).map_err(|e| anyhow::anyhow!("{at}: keys[{k}]: {e}"))?;
                if rows.iter().any(|(_, c)| c.keys.iter().any(|x| x.id() == v.id() && x.name() == v.name())) || keys.iter().any(|x: &truce_log::note::VerifierKey| x.id() == v.id()) {
                    bail!("{at}: keys[{k}]: `{}` is registered twice", v.name());
                }
                keys.push(v);
            }
            rows.push((r.token.into_bytes(), Caller { role, name: r.name, party: r.party, keys }));
        }
        Ok(Tokens { rows })
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Who the request's `Authorization: Bearer` token belongs to. Every stored token is
    /// compared, each in constant time, so the time taken says nothing about which
    /// matched or how much of one did.
    pub fn caller(&self, headers: &HeaderMap) -> Result<Caller, ApiError> {
        let Some(h) = headers.get(axum::http::header::AUTHORIZATION) else {
            return Ok(Caller::public());
        };
        let given = h
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or_else(|| ApiError::unauthorized("Authorization: expected `Bearer <token>`"))?;
        let mut found: Option<&Caller> = None;
        for (t, c) in &self.rows {
            if bool::from(t.as_slice().ct_eq(given.as_bytes())) {
                found = Some(c);
            }
        }
        found.cloned().ok_or_else(|| ApiError::unauthorized("unknown token"))
    }
}
