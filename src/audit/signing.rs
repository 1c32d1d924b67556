//! Signing audit records, in two forms over the same bytes, the DSSE
//! pre-authentication encoding (PAE) of the record's statement:
//!
//! - the record's `envelope` is a standard DSSE envelope whose signature is a
//!   plain Ed25519 signature over the PAE, keyid = the key's SHA-256
//!   fingerprint (`SHA256:…`, as `ssh-keygen -l` prints it), so DSSE tooling
//!   (securesystemslib's `Envelope.verify`, in-toto) verifies it as it is;
//! - the record's `sshsig` is an SSH signature (SSHSIG, namespace
//!   `govops-audit`) over the same PAE, which `govops audit show
//!   --export-signatures` writes out for `ssh-keygen -Y verify`.
//!
//! Records written before the split carry the SSHSIG blob in the envelope's
//! `sig`; `check` still accepts those.

use crate::error::{Error, Result};
use base64::Engine as _;
use serde_json::{json, Value};
use signature::{Signer as _, Verifier as _};
use ssh_key::{Algorithm, HashAlg, LineEnding, PrivateKey, PublicKey, SshSig};
use std::path::Path;

pub const NAMESPACE: &str = "govops-audit";
/// The payload type of a record's statement (an in-toto Statement).
pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// The payload type of a repair record's account of what was set aside.
pub const REPAIR_PAYLOAD_TYPE: &str = "application/vnd.govops.audit-repair+json";
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// DSSE's pre-authentication encoding of a payload.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {payload_type} {} ",
        payload_type.len(),
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

/// The keyid of a key in envelopes: its SHA-256 fingerprint.
pub fn keyid(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

/// An SSH ed25519 key that signs audit records.
pub struct Signer {
    key: PrivateKey,
}

/// What a record carries when it is signed.
pub struct Signed {
    /// The DSSE envelope (plain Ed25519 signature).
    pub envelope: Value,
    /// The SSHSIG blob over the same PAE, base64.
    pub sshsig: String,
}

impl Signer {
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::io(path.display(), format!("cannot read the signing key: {e}")))?;
        let key = PrivateKey::from_openssh(&text)
            .map_err(|e| Error::io(path.display(), format!("not an OpenSSH private key: {e}")))?;
        if key.is_encrypted() {
            return Err(Error::io(path.display(), "the signing key is encrypted; use an unencrypted key kept in the CI's secret store"));
        }
        if key.algorithm() != Algorithm::Ed25519 {
            return Err(Error::io(
                path.display(),
                format!("the signing key is {}, not ed25519", key.algorithm()),
            ));
        }
        Ok(Signer { key })
    }

    /// Sign a statement (or a repair account) of `payload_type`.
    pub fn sign(&self, payload_type: &str, content: &Value) -> Result<Signed> {
        let payload = serde_json::to_vec(content).map_err(|e| Error::Usage(e.to_string()))?;
        let pae = pae(payload_type, &payload);
        let raw = self
            .key
            .key_data()
            .try_sign(&pae)
            .map_err(|e| Error::Usage(format!("signing the audit record: {e}")))?;
        let sshsig = self
            .key
            .sign(NAMESPACE, HashAlg::Sha512, &pae)
            .map_err(|e| Error::Usage(format!("signing the audit record: {e}")))?
            .to_pem(LineEnding::LF)
            .map_err(|e| Error::Usage(e.to_string()))?;
        Ok(Signed {
            envelope: json!({
                "payloadType": payload_type,
                "payload": B64.encode(&payload),
                "signatures": [{
                    "keyid": keyid(self.key.public_key()),
                    "sig": B64.encode(raw.as_bytes()),
                }],
            }),
            sshsig: pem_body(&sshsig),
        })
    }
}

/// The base64 body of an armored signature: the SSHSIG blob itself.
fn pem_body(pem: &str) -> String {
    pem.lines().filter(|l| !l.starts_with("-----")).collect()
}

/// The armored form `ssh-keygen -Y verify -s` reads.
pub fn armor(sig_b64: &str) -> String {
    let mut out = String::from("-----BEGIN SSH SIGNATURE-----\n");
    for chunk in sig_b64.as_bytes().chunks(70) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str("-----END SSH SIGNATURE-----\n");
    out
}

/// Keys of an `allowed_signers` file (the format `ssh-keygen -Y verify` reads).
pub fn allowed_signers(path: &Path) -> Result<Vec<(String, PublicKey)>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::io(path.display(), format!("cannot read allowed signers: {e}")))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let tokens: Vec<&str> = line.split_whitespace().collect();
        let Some(k) = tokens
            .iter()
            .position(|t| t.starts_with("ssh-") || t.starts_with("ecdsa-") || t.starts_with("sk-"))
        else {
            return Err(Error::io(
                format!("{}:{}", path.display(), i + 1),
                "no public key on this line",
            ));
        };
        let key = PublicKey::from_openssh(&tokens[k..].join(" ")).map_err(|e| {
            Error::io(
                format!("{}:{}", path.display(), i + 1),
                format!("not a public key: {e}"),
            )
        })?;
        out.push((tokens[0].to_string(), key));
    }
    Ok(out)
}

/// The PAE bytes of a record's envelope and the SSHSIG over them (base64):
/// what `ssh-keygen -Y verify` checks. For records from before the split the
/// SSHSIG is the envelope's own signature.
pub fn sshsig_parts(record: &Value) -> Option<(Vec<u8>, String)> {
    let env = record.get("envelope")?;
    let payload = B64.decode(env.get("payload")?.as_str()?).ok()?;
    let payload_type = env.get("payloadType")?.as_str()?;
    let sig = if let Some(s) = record.get("sshsig").and_then(Value::as_str) {
        s.to_string()
    } else {
        let sig = env.pointer("/signatures/0/sig")?.as_str()?;
        is_sshsig(sig).then(|| sig.to_string())?
    };
    Some((pae(payload_type, &payload), sig))
}

/// A legacy envelope signature: an SSHSIG blob (it starts with the magic
/// `SSHSIG`) rather than a raw 64-byte Ed25519 signature.
fn is_sshsig(sig_b64: &str) -> bool {
    B64.decode(sig_b64).is_ok_and(|b| b.starts_with(b"SSHSIG"))
}

/// What a record's envelope must sign: its statement, or, for a repair
/// record, its account of the repair.
fn signed_content(record: &Value) -> Option<(&'static str, &Value)> {
    match (record.get("statement"), record.get("repair")) {
        (Some(st), _) => Some((PAYLOAD_TYPE, st)),
        (None, Some(repair)) => Some((REPAIR_PAYLOAD_TYPE, repair)),
        _ => None,
    }
}

/// Check a record's signatures: signed by an allowed key, over this
/// statement; the SSH form beside it, when there is one, by the same key.
/// Ok: the principal of the key.
pub fn check(
    record: &Value,
    signers: &[(String, PublicKey)],
) -> std::result::Result<String, String> {
    let env = record.get("envelope").ok_or("is not signed")?;
    let (expected_type, content) = signed_content(record).ok_or("has nothing that was signed")?;
    let payload_type = env
        .get("payloadType")
        .and_then(Value::as_str)
        .ok_or("has an envelope without a payloadType")?;
    if payload_type != expected_type {
        return Err(format!(
            "has an envelope of payloadType {payload_type:?}, not {expected_type:?}"
        ));
    }
    let payload = env
        .get("payload")
        .and_then(Value::as_str)
        .and_then(|p| B64.decode(p).ok())
        .ok_or("has an envelope without a payload")?;
    let signed: Value = serde_json::from_slice(&payload)
        .map_err(|_| "has an envelope whose payload is not JSON")?;
    if &signed != content {
        return Err(match expected_type {
            PAYLOAD_TYPE => "has a statement that differs from the signed one".into(),
            _ => "has a repair account that differs from the signed one".into(),
        });
    }
    let pae = pae(payload_type, &payload);
    let signatures = env
        .get("signatures")
        .and_then(Value::as_array)
        .filter(|s| !s.is_empty())
        .ok_or("has an envelope without signatures")?;
    let sshsig = match record.get("sshsig") {
        None => None,
        Some(s) => {
            let s = s.as_str().ok_or("has a malformed SSH signature")?;
            Some(
                SshSig::from_pem(armor(s))
                    .map_err(|e| format!("has a malformed SSH signature ({e})"))?,
            )
        }
    };
    for sig in signatures {
        let sig_b64 = sig
            .get("sig")
            .and_then(Value::as_str)
            .ok_or("has a signature without sig")?;
        let claimed = sig.get("keyid").and_then(Value::as_str).unwrap_or("");
        let bytes = B64
            .decode(sig_b64)
            .map_err(|e| format!("has a signature that is not base64 ({e})"))?;
        for (principal, key) in signers {
            let ok = if bytes.starts_with(b"SSHSIG") {
                // A record from before the split: the envelope held SSHSIG.
                SshSig::from_pem(armor(sig_b64))
                    .is_ok_and(|s| key.verify(NAMESPACE, &pae, &s).is_ok())
            } else {
                claimed == keyid(key)
                    && ssh_key::Signature::new(key.algorithm(), bytes.clone())
                        .is_ok_and(|s| key.key_data().verify(&pae, &s).is_ok())
            };
            if !ok {
                continue;
            }
            if let Some(ssh) = &sshsig {
                if key.verify(NAMESPACE, &pae, ssh).is_err() {
                    return Err(format!(
                        "has an SSH signature that does not match its envelope (signed by {principal})"
                    ));
                }
            }
            return Ok(principal.clone());
        }
    }
    Err("has a signature from no allowed signer".into())
}
