//! The User-based Security Model (RFC 3414), with RFC 7860's SHA-2 MACs, RFC 3826's AES, the
//! AES-192/256 drafts (Blumenthal and Reeder key extension) and 3DES (draft-reeder).
//!
//! **Owns:** protocol names ([`AuthProtocol`], [`PrivProtocol`], shared with the config),
//! keys ([`UsmUser`], [`KeyCache`]), MACs on raw bytes ([`sign`], [`verify`]), privacy
//! ([`encrypt_scoped`], [`decrypt_scoped`]), whole-message helpers ([`protect`], [`unprotect`]),
//! timeliness ([`time`]) and Reports ([`report`]).
//!
//! **Must not:** re-encode a received message to check its MAC (the MAC covers the bytes as sent),
//! compare MACs in variable time, read the clock or a random source (both are passed in), or show
//! keys in `Debug` output.

mod keys;
mod privacy;
pub mod report;
pub mod time;

use std::fmt;
use std::ops::Range;
use std::str::FromStr;

use hmac::{Hmac, KeyInit, Mac};

use super::ber::{self, tag, DecodeError};
use super::message::{self, Limits, ScopedData, ScopedPdu, V3Message};
pub use keys::{
    localize_key, localize_privacy_key, password_to_key, AuthKey, KeyCache, LocalizedKeys, PrivKey,
    UsmUser,
};
pub use report::{build_report, report_kind, ReportKind};
pub use time::{check_authoritative, EngineTime, LocalEngine, RemoteEngine};

/// Authentication protocols. Config names (PRODUCT.md): md5, sha, sha224, sha256, sha384, sha512.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AuthProtocol {
    /// HMAC-MD5-96 (RFC 3414)
    Md5,
    /// HMAC-SHA-96 (RFC 3414)
    Sha1,
    /// usmHMAC128SHA224 (RFC 7860)
    Sha224,
    /// usmHMAC192SHA256
    Sha256,
    /// usmHMAC256SHA384
    Sha384,
    /// usmHMAC384SHA512
    Sha512,
}

/// Privacy protocols. Config names: des, 3des, aes, aes192, aes256 (Blumenthal key extension, as
/// net-snmp), aes192c, aes256c (Reeder key extension, as Cisco).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PrivProtocol {
    Des,
    TripleDes,
    Aes128,
    Aes192,
    Aes256,
    Aes192Reeder,
    Aes256Reeder,
}

/// How a localized key shorter than the cipher needs is lengthened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyExtension {
    Blumenthal,
    Reeder,
}

/// Names compare without case, `-` or `_`, so net-snmp's `SHA-256` and `AES-256` work too.
fn normalize(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '-' && *c != '_')
        .collect::<String>()
        .to_ascii_lowercase()
}

/// A protocol name we do not know; `Display` lists the ones we do.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} protocol `{name}`; one of: {known}")]
pub struct ProtocolNameError {
    pub kind: &'static str,
    pub name: String,
    pub known: String,
}

impl AuthProtocol {
    pub const ALL: [AuthProtocol; 6] = [
        AuthProtocol::Md5,
        AuthProtocol::Sha1,
        AuthProtocol::Sha224,
        AuthProtocol::Sha256,
        AuthProtocol::Sha384,
        AuthProtocol::Sha512,
    ];

    /// The config name.
    pub fn name(self) -> &'static str {
        match self {
            AuthProtocol::Md5 => "md5",
            AuthProtocol::Sha1 => "sha",
            AuthProtocol::Sha224 => "sha224",
            AuthProtocol::Sha256 => "sha256",
            AuthProtocol::Sha384 => "sha384",
            AuthProtocol::Sha512 => "sha512",
        }
    }

    /// Length of the hash, and of a localized key.
    pub fn digest_len(self) -> usize {
        match self {
            AuthProtocol::Md5 => 16,
            AuthProtocol::Sha1 => 20,
            AuthProtocol::Sha224 => 28,
            AuthProtocol::Sha256 => 32,
            AuthProtocol::Sha384 => 48,
            AuthProtocol::Sha512 => 64,
        }
    }

    /// Length of msgAuthenticationParameters: the truncated MAC (RFC 3414; RFC 7860 §4.2.2).
    pub fn mac_len(self) -> usize {
        match self {
            AuthProtocol::Md5 | AuthProtocol::Sha1 => 12,
            AuthProtocol::Sha224 => 16,
            AuthProtocol::Sha256 => 24,
            AuthProtocol::Sha384 => 32,
            AuthProtocol::Sha512 => 48,
        }
    }

    fn hash(self, parts: &[&[u8]]) -> Vec<u8> {
        fn run<D: digest::Digest>(parts: &[&[u8]]) -> Vec<u8> {
            let mut h = D::new();
            parts.iter().for_each(|p| h.update(p));
            h.finalize().to_vec()
        }
        match self {
            AuthProtocol::Md5 => run::<md5::Md5>(parts),
            AuthProtocol::Sha1 => run::<sha1::Sha1>(parts),
            AuthProtocol::Sha224 => run::<sha2::Sha224>(parts),
            AuthProtocol::Sha256 => run::<sha2::Sha256>(parts),
            AuthProtocol::Sha384 => run::<sha2::Sha384>(parts),
            AuthProtocol::Sha512 => run::<sha2::Sha512>(parts),
        }
    }

    /// The full HMAC over `parts`, concatenated.
    fn hmac(self, key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
        macro_rules! run {
            ($d:ty) => {{
                // HMAC takes keys of any length: new_from_slice cannot fail.
                let Ok(mut m) = <Hmac<$d> as KeyInit>::new_from_slice(key) else {
                    return Vec::new();
                };
                parts.iter().for_each(|p| m.update(p));
                m.finalize().into_bytes().to_vec()
            }};
        }
        match self {
            AuthProtocol::Md5 => run!(md5::Md5),
            AuthProtocol::Sha1 => run!(sha1::Sha1),
            AuthProtocol::Sha224 => run!(sha2::Sha224),
            AuthProtocol::Sha256 => run!(sha2::Sha256),
            AuthProtocol::Sha384 => run!(sha2::Sha384),
            AuthProtocol::Sha512 => run!(sha2::Sha512),
        }
    }
}

impl FromStr for AuthProtocol {
    type Err = ProtocolNameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let n = normalize(s);
        let n = if n == "sha1" { "sha" } else { n.as_str() };
        AuthProtocol::ALL
            .into_iter()
            .find(|p| p.name() == n)
            .ok_or_else(|| ProtocolNameError {
                kind: "auth",
                name: s.to_string(),
                known: AuthProtocol::ALL.map(|p| p.name()).join(", "),
            })
    }
}

impl PrivProtocol {
    pub const ALL: [PrivProtocol; 7] = [
        PrivProtocol::Des,
        PrivProtocol::TripleDes,
        PrivProtocol::Aes128,
        PrivProtocol::Aes192,
        PrivProtocol::Aes256,
        PrivProtocol::Aes192Reeder,
        PrivProtocol::Aes256Reeder,
    ];

    pub fn name(self) -> &'static str {
        match self {
            PrivProtocol::Des => "des",
            PrivProtocol::TripleDes => "3des",
            PrivProtocol::Aes128 => "aes",
            PrivProtocol::Aes192 => "aes192",
            PrivProtocol::Aes256 => "aes256",
            PrivProtocol::Aes192Reeder => "aes192c",
            PrivProtocol::Aes256Reeder => "aes256c",
        }
    }

    /// Bytes of localized key material the cipher uses (with the pre-IV for DES and 3DES).
    pub fn key_len(self) -> usize {
        match self {
            PrivProtocol::Des | PrivProtocol::Aes128 => 16,
            PrivProtocol::Aes192 | PrivProtocol::Aes192Reeder => 24,
            PrivProtocol::TripleDes | PrivProtocol::Aes256 | PrivProtocol::Aes256Reeder => 32,
        }
    }

    /// 3DES's draft defines only Reeder's extension; DES and AES-128 never need one.
    pub fn key_extension(self) -> KeyExtension {
        match self {
            PrivProtocol::Aes192 | PrivProtocol::Aes256 => KeyExtension::Blumenthal,
            _ => KeyExtension::Reeder,
        }
    }
}

impl FromStr for PrivProtocol {
    type Err = ProtocolNameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let n = normalize(s);
        let n = if n == "aes128" { "aes" } else { n.as_str() };
        PrivProtocol::ALL
            .into_iter()
            .find(|p| p.name() == n)
            .ok_or_else(|| ProtocolNameError {
                kind: "privacy",
                name: s.to_string(),
                known: PrivProtocol::ALL.map(|p| p.name()).join(", "),
            })
    }
}

impl fmt::Display for AuthProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for PrivProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why USM refused a message or could not build one. The first six map to the Report counters
/// (see [`UsmError::report_kind`]); [`UsmError::reason`] is the counter label.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UsmError {
    #[error(
        "security level not available for this user (e.g. privacy requested without a privacy key)"
    )]
    UnsupportedSecLevel,
    #[error("message outside the 150 s time window (engine boots or time differ)")]
    NotInTimeWindow,
    #[error("unknown user name")]
    UnknownUserName,
    #[error("unknown engine ID")]
    UnknownEngineId,
    #[error("wrong digest: wrong auth password or protocol, or the message was altered")]
    WrongDigest,
    #[error("decryption failed: wrong privacy password or protocol")]
    DecryptionError,
    #[error("empty password")]
    EmptyPassword,
    #[error("a privacy password needs an auth password")]
    PrivacyWithoutAuth,
    #[error("key has the wrong length for its protocol")]
    BadKey,
    #[error("undecodable message: {0}")]
    Decode(#[from] DecodeError),
}

impl UsmError {
    pub fn reason(&self) -> &'static str {
        match self {
            UsmError::UnsupportedSecLevel => "unsupported_sec_level",
            UsmError::NotInTimeWindow => "not_in_time_window",
            UsmError::UnknownUserName => "unknown_user_name",
            UsmError::UnknownEngineId => "unknown_engine_id",
            UsmError::WrongDigest => "wrong_digest",
            UsmError::DecryptionError => "decryption_error",
            UsmError::EmptyPassword => "empty_password",
            UsmError::PrivacyWithoutAuth => "privacy_without_auth",
            UsmError::BadKey => "bad_key",
            UsmError::Decode(e) => e.reason(),
        }
    }

    /// The Report an authoritative engine answers with, when there is one.
    pub fn report_kind(&self) -> Option<ReportKind> {
        Some(match self {
            UsmError::UnsupportedSecLevel => ReportKind::UnsupportedSecLevel,
            UsmError::NotInTimeWindow => ReportKind::NotInTimeWindow,
            UsmError::UnknownUserName => ReportKind::UnknownUserName,
            UsmError::UnknownEngineId => ReportKind::UnknownEngineId,
            UsmError::WrongDigest => ReportKind::WrongDigest,
            UsmError::DecryptionError => ReportKind::DecryptionError,
            _ => return None,
        })
    }
}

/// Where msgAuthenticationParameters' contents sit in an encoded v3 message: walks the raw bytes
/// (message SEQUENCE, version, header, the securityParameters OCTET STRING, its SEQUENCE, engine
/// ID, boots, time, user name) without decoding anything else.
pub fn auth_params_range(msg: &[u8]) -> Result<Range<usize>, DecodeError> {
    let (outer, _) = ber::expect_tlv(msg, tag::SEQUENCE)?;
    let (_version, rest) = ber::expect_tlv(outer.value, tag::INTEGER)?;
    let (_header, rest) = ber::expect_tlv(rest, tag::SEQUENCE)?;
    let (params, _) = ber::expect_tlv(rest, tag::OCTET_STRING)?;
    let (usm, _) = ber::expect_tlv(params.value, tag::SEQUENCE)?;
    let (_engine, rest) = ber::expect_tlv(usm.value, tag::OCTET_STRING)?;
    let (_boots, rest) = ber::expect_tlv(rest, tag::INTEGER)?;
    let (_time, rest) = ber::expect_tlv(rest, tag::INTEGER)?;
    let (_user, rest) = ber::expect_tlv(rest, tag::OCTET_STRING)?;
    let (auth, _) = ber::expect_tlv(rest, tag::OCTET_STRING)?;
    // Every slice above borrows from `msg`, so the distance of the pointers is the offset.
    let start = auth.value.as_ptr() as usize - msg.as_ptr() as usize;
    Ok(start..start + auth.value.len())
}

/// Fills msgAuthenticationParameters in place: the encoder left `mac_len` zero bytes there, and
/// the MAC covers the whole message with those zeros (RFC 3414 §6.3.1).
pub fn sign(msg: &mut [u8], key: &AuthKey) -> Result<(), UsmError> {
    let r = auth_params_range(msg)?;
    let mac_len = key.protocol.mac_len();
    if r.len() != mac_len {
        return Err(UsmError::BadKey);
    }
    msg[r.clone()].fill(0);
    let mac = key.protocol.hmac(&key.key, &[msg]);
    msg[r].copy_from_slice(mac.get(..mac_len).ok_or(UsmError::BadKey)?);
    Ok(())
}

/// Checks the MAC of a message exactly as received, with msgAuthenticationParameters taken as
/// zeros (fed to the HMAC in three parts, so the message is not copied). Constant-time compare.
pub fn verify(msg: &[u8], key: &AuthKey) -> Result<(), UsmError> {
    let r = auth_params_range(msg)?;
    let mac_len = key.protocol.mac_len();
    if r.len() != mac_len {
        return Err(UsmError::WrongDigest);
    }
    let zeros = [0u8; 48];
    let mac = key.protocol.hmac(
        &key.key,
        &[&msg[..r.start], &zeros[..mac_len], &msg[r.end..]],
    );
    let want = mac.get(..mac_len).ok_or(UsmError::WrongDigest)?;
    let diff = want
        .iter()
        .zip(&msg[r])
        .fold(0u8, |acc, (a, b)| acc | (a ^ b));
    if diff == 0 {
        Ok(())
    } else {
        Err(UsmError::WrongDigest)
    }
}

/// Encrypts a ScopedPDU for `usm` (whose boots and time feed the AES IV); returns the ciphertext
/// and sets `usm.priv_params` to the salt. `salt` must not repeat under one key: a counter.
pub fn encrypt_scoped(
    scoped: &ScopedPdu,
    key: &PrivKey,
    usm: &mut message::UsmParams,
    salt: u64,
) -> Result<Vec<u8>, UsmError> {
    let plain = message::encode_scoped_pdu(scoped);
    let (cipher, params) = privacy::encrypt(
        key.protocol,
        &key.key,
        usm.engine_boots,
        usm.engine_time,
        salt,
        &plain,
    )?;
    usm.priv_params = params.to_vec();
    Ok(cipher)
}

/// Decrypts and decodes an encrypted ScopedPDU. Undecodable plaintext is a decryption error: it
/// is what a wrong privacy password produces.
pub fn decrypt_scoped(
    ciphertext: &[u8],
    key: &PrivKey,
    usm: &message::UsmParams,
    limits: &Limits,
) -> Result<ScopedPdu, UsmError> {
    let plain = privacy::decrypt(
        key.protocol,
        &key.key,
        usm.engine_boots,
        usm.engine_time,
        &usm.priv_params,
        ciphertext,
    )?;
    message::decode_scoped_pdu(&plain, limits).map_err(|_| UsmError::DecryptionError)
}

/// Encodes a v3 message at the security level its flags ask for: encrypts the ScopedPDU with
/// privacy, then signs with auth. Keys missing for the flags are `UnsupportedSecLevel`.
pub fn protect(mut msg: V3Message, keys: &LocalizedKeys, salt: u64) -> Result<Vec<u8>, UsmError> {
    let (auth, privacy) = security_keys(&msg, keys)?;
    if let (Some(pk), ScopedData::Plain(s)) = (privacy, &msg.data) {
        let c = encrypt_scoped(s, pk, &mut msg.usm, salt)?;
        msg.data = ScopedData::Encrypted(c);
    }
    match auth {
        Some(ak) => {
            msg.usm.auth_params = vec![0; ak.protocol.mac_len()];
            let mut bytes = message::encode(&message::Message::V3(msg));
            sign(&mut bytes, ak)?;
            Ok(bytes)
        }
        None => Ok(message::encode(&message::Message::V3(msg))),
    }
}

/// Checks and opens a received v3 message: `raw` is the datagram, `msg` its decoding. Verifies
/// the MAC over `raw` when the auth flag is set, decrypts with the privacy flag, and returns the
/// ScopedPDU. Timeliness is the caller's next step ([`time`]), since it depends on who is
/// authoritative.
pub fn unprotect(
    raw: &[u8],
    msg: &V3Message,
    keys: &LocalizedKeys,
    limits: &Limits,
) -> Result<ScopedPdu, UsmError> {
    let (auth, privacy) = security_keys(msg, keys)?;
    if let Some(ak) = auth {
        verify(raw, ak)?;
    }
    match (&msg.data, privacy) {
        (ScopedData::Encrypted(c), Some(pk)) => decrypt_scoped(c, pk, &msg.usm, limits),
        (ScopedData::Plain(s), None) => Ok(s.clone()),
        // the flags and the data disagree: `decode` refuses that, so only a hand-built message
        // gets here
        _ => Err(UsmError::DecryptionError),
    }
}

/// The keys a message's flags need. Privacy without auth is not a valid level (RFC 3412 §7.2
/// step 5).
fn security_keys<'k>(
    msg: &V3Message,
    keys: &'k LocalizedKeys,
) -> Result<(Option<&'k AuthKey>, Option<&'k PrivKey>), UsmError> {
    let f = msg.flags;
    match (f.auth(), f.privacy(), &keys.auth, &keys.privacy) {
        (false, false, _, _) => Ok((None, None)),
        (true, false, Some(a), _) => Ok((Some(a), None)),
        (true, true, Some(a), Some(p)) => Ok((Some(a), Some(p))),
        _ => Err(UsmError::UnsupportedSecLevel),
    }
}

#[cfg(test)]
mod tests;
