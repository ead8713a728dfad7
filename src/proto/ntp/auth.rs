//! NTP symmetric-key authentication: chrony key files, and the MAC trailer of NTP packets.
//!
//! **Owns:** parsing a chrony `keyfile` into a [`KeySet`]; deciding whether a request carries no
//! MAC, a valid MAC, or something to drop ([`Verdict`]); appending our MAC to a reply
//! ([`KeySet::sign`]). Devices configured with `ntp authentication-key N md5|sha1|cmac-aes-128`
//! (Cisco) or `authentication-key N type md5|sha1|sha256` (Junos) check those replies.
//!
//! **Must not:** do I/O besides [`KeySet::load`], panic on any packet, compare MACs in variable
//! time, or show key material in `Debug` output or error messages.
//!
//! **Wire format.** The MAC trailer is a 4-byte big-endian key ID followed by a digest of the
//! packet before the trailer: `H(key ‖ packet)` for MD5 and the SHA family (RFC 5905 §7.3, §9.2),
//! `AES-CMAC(key, packet)` for AES128/AES256 (RFC 8573, 16 bytes). A trailer of 4 zero bytes is a
//! crypto-NAK. Lengths follow chrony 4.3 (its `ntp_auth.c`, and chrony 4.0's NEWS: "Drop support
//! for long (non-standard) MACs in NTPv4 packets"), checked against a running chronyd by
//! `tests/ntp_auth_chrony.rs`: in NTPv4 a digest is truncated to 20 bytes, so the trailer is 20
//! (MD5, CMAC) or 24 (SHA1, SHA256, SHA384, SHA512) bytes, within RFC 7822's 24-byte limit; in
//! NTPv1–3 the whole digest is sent (SHA256 36, SHA384 52, SHA512 68 bytes). chronyd 4.3 ignores
//! requests whose MAC length differs from that, so we do too, and the reply has the request's
//! version, hence its MAC length.
//!
//! **Extension fields are not parsed.** Cisco, Junos and chrony clients using symmetric keys send
//! the 48-byte header followed directly by the MAC, so everything after byte 48 is taken as the
//! trailer, and a trailer that is not a valid MAC length is [`MalformedMac`]. This rejects NTPv4
//! requests with extension fields (NTS, which nocbox does not serve) instead of guessing where a
//! MAC might start.
//!
//! **Key file** (chrony.conf(5) `keyfile`, as chronyd 4.3 reads it): one `ID [TYPE] KEY` per line;
//! a line whose first non-blank character is `#`, `!`, `;` or `%` is a comment (a `#` later on
//! the line belongs to the key); ID is 1..=2^32-1; TYPE is case-sensitive and defaults to MD5
//! (chronyd rejects `md5` and `AES`, so do we, with a hint); KEY is `HEX:` and an even number of
//! hex digits, or ASCII text with an optional `ASCII:` prefix (the prefixes are case-sensitive
//! too: `hex:00` is a 6-byte ASCII key, for chronyd as here); lines are at most 2047 characters.
//! Unlike chronyd, which logs and skips bad lines and uses an arbitrary one of duplicate IDs,
//! [`KeySet::parse`] rejects the file and reports every bad line.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use aes::{Aes128, Aes256};
use cmac::{Cmac, KeyInit, Mac};
use digest::Digest;

/// The fixed NTP header that every MAC covers; the trailer starts right after it.
pub use super::HEADER_LEN;

/// Longest digest in an NTPv4 MAC: chrony's `NTP_MAX_V4_MAC_LENGTH` (24) minus the key ID.
const V4_MAX_DIGEST: usize = 20;

/// chronyd reads key files with a 2048-byte `fgets` buffer: a longer line is cut in two, which
/// silently truncates the key (seen with chronyd 4.3), so we refuse it instead.
const MAX_LINE: usize = 2047;

/// A MAC algorithm, named as in chrony key files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyType {
    Md5,
    Sha1,
    Sha256,
    Sha384,
    Sha512,
    Aes128,
    Aes256,
}

impl KeyType {
    const ALL: [KeyType; 7] = [
        KeyType::Md5,
        KeyType::Sha1,
        KeyType::Sha256,
        KeyType::Sha384,
        KeyType::Sha512,
        KeyType::Aes128,
        KeyType::Aes256,
    ];

    /// The key file spelling.
    pub fn name(self) -> &'static str {
        match self {
            KeyType::Md5 => "MD5",
            KeyType::Sha1 => "SHA1",
            KeyType::Sha256 => "SHA256",
            KeyType::Sha384 => "SHA384",
            KeyType::Sha512 => "SHA512",
            KeyType::Aes128 => "AES128",
            KeyType::Aes256 => "AES256",
        }
    }

    /// Exact match, like chronyd: a wrong case is an error with a hint, never a guess.
    fn from_name(name: &str) -> Result<KeyType, KeyFileErrorKind> {
        if let Some(t) = KeyType::ALL.into_iter().find(|t| t.name() == name) {
            return Ok(t);
        }
        let upper = name.to_ascii_uppercase();
        if KeyType::ALL.iter().any(|t| t.name() == upper) || upper == "AES" {
            return Err(KeyFileErrorKind::Misspelled(short(name)));
        }
        if upper.starts_with("SHA3-") || upper == "TIGER" || upper == "WHIRLPOOL" {
            return Err(KeyFileErrorKind::UnsupportedType(short(name)));
        }
        Err(KeyFileErrorKind::UnknownType(short(name)))
    }

    /// Length of the untruncated MAC.
    fn full_len(self) -> usize {
        match self {
            KeyType::Md5 | KeyType::Aes128 | KeyType::Aes256 => 16,
            KeyType::Sha1 => 20,
            KeyType::Sha256 => 32,
            KeyType::Sha384 => 48,
            KeyType::Sha512 => 64,
        }
    }

    /// Digest bytes in a packet of this NTP version (chrony's truncation rule, module doc).
    fn digest_len(self, version: u8) -> usize {
        if version >= 4 {
            self.full_len().min(V4_MAX_DIGEST)
        } else {
            self.full_len()
        }
    }
}

impl fmt::Display for KeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Key material, ready to use. CMAC keys are expanded once at load, which also checks their
/// length, so computing a MAC can never fail.
#[derive(Clone)]
enum Secret {
    Md5(Box<[u8]>),
    Sha1(Box<[u8]>),
    Sha256(Box<[u8]>),
    Sha384(Box<[u8]>),
    Sha512(Box<[u8]>),
    Aes128(Box<Cmac<Aes128>>),
    Aes256(Box<Cmac<Aes256>>),
}

impl Secret {
    fn new(kind: KeyType, key: Vec<u8>) -> Result<Secret, KeyFileErrorKind> {
        let found = key.len();
        let bad_len = |expected| KeyFileErrorKind::CmacKeyLength {
            kind,
            expected,
            found,
        };
        Ok(match kind {
            KeyType::Md5 => Secret::Md5(key.into()),
            KeyType::Sha1 => Secret::Sha1(key.into()),
            KeyType::Sha256 => Secret::Sha256(key.into()),
            KeyType::Sha384 => Secret::Sha384(key.into()),
            KeyType::Sha512 => Secret::Sha512(key.into()),
            KeyType::Aes128 => Secret::Aes128(Box::new(
                Cmac::new_from_slice(&key).map_err(|_| bad_len(16))?,
            )),
            KeyType::Aes256 => Secret::Aes256(Box::new(
                Cmac::new_from_slice(&key).map_err(|_| bad_len(32))?,
            )),
        })
    }

    fn kind(&self) -> KeyType {
        match self {
            Secret::Md5(_) => KeyType::Md5,
            Secret::Sha1(_) => KeyType::Sha1,
            Secret::Sha256(_) => KeyType::Sha256,
            Secret::Sha384(_) => KeyType::Sha384,
            Secret::Sha512(_) => KeyType::Sha512,
            Secret::Aes128(_) => KeyType::Aes128,
            Secret::Aes256(_) => KeyType::Aes256,
        }
    }

    /// The untruncated MAC of `data`.
    fn mac(&self, data: &[u8]) -> Vec<u8> {
        fn legacy<D: Digest>(key: &[u8], data: &[u8]) -> Vec<u8> {
            D::new()
                .chain_update(key)
                .chain_update(data)
                .finalize()
                .to_vec()
        }
        fn tag<M: Mac + Clone>(mac: &M, data: &[u8]) -> Vec<u8> {
            mac.clone()
                .chain_update(data)
                .finalize()
                .into_bytes()
                .to_vec()
        }
        match self {
            Secret::Md5(k) => legacy::<md5::Md5>(k, data),
            Secret::Sha1(k) => legacy::<sha1::Sha1>(k, data),
            Secret::Sha256(k) => legacy::<sha2::Sha256>(k, data),
            Secret::Sha384(k) => legacy::<sha2::Sha384>(k, data),
            Secret::Sha512(k) => legacy::<sha2::Sha512>(k, data),
            Secret::Aes128(c) => tag(&**c, data),
            Secret::Aes256(c) => tag(&**c, data),
        }
    }
}

/// The symmetric keys from one key file. `Debug` shows key IDs and types only.
#[derive(Clone, Default)]
pub struct KeySet {
    keys: BTreeMap<u32, Secret>,
}

impl fmt::Debug for KeySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeySet ")?;
        f.debug_map()
            .entries(self.keys.iter().map(|(id, s)| (id, s.kind())))
            .finish()
    }
}

/// What to do with a request, judged by its MAC trailer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing after the 48-byte header: answer without a MAC.
    NoMac,
    /// The MAC checks out: answer, then [`KeySet::sign`] the reply with `key_id`.
    Valid { key_id: u32 },
    /// A 4-byte trailer of zeros: an RFC 5905 crypto-NAK, which only a server sends.
    CryptoNak,
    /// A MAC with a key ID we do not have.
    UnknownKey(u32),
    /// A MAC that does not match the key (wrong key, tampered packet or wrong length for the key).
    BadMac(u32),
    /// Not an NTP packet with a MAC we can read.
    Malformed(MalformedMac),
}

impl Verdict {
    /// Low-cardinality label for the drop counter.
    pub fn reason(&self) -> &'static str {
        match self {
            Verdict::NoMac => "no_mac",
            Verdict::Valid { .. } => "valid",
            Verdict::CryptoNak => "crypto_nak",
            Verdict::UnknownKey(_) => "unknown_key",
            Verdict::BadMac(_) => "bad_mac",
            Verdict::Malformed(_) => "malformed_mac",
        }
    }
}

/// Why the bytes after the header cannot be a MAC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MalformedMac {
    #[error("{0} bytes is shorter than the 48-byte NTP header")]
    ShortPacket(usize),
    #[error("{len} bytes after the NTPv{version} header are not a MAC: {}", expected(*.version))]
    TrailerLength { version: u8, len: usize },
}

fn expected(version: u8) -> &'static str {
    if version >= 4 {
        "NTPv4 MACs are 20 or 24 bytes, a crypto-NAK is 4 zero bytes \
         (extension fields are not supported)"
    } else {
        "MACs are 20, 24, 36, 52 or 68 bytes"
    }
}

/// Why a reply could not be signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    #[error("no NTP key with ID {0}")]
    UnknownKey(u32),
    #[error("can only sign a bare 48-byte NTP header, got {0} bytes")]
    PacketLength(usize),
}

/// One bad line of a key file. Messages never contain key material.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {kind}")]
pub struct KeyFileError {
    pub line: usize,
    pub kind: KeyFileErrorKind,
}

const TYPES: &str = "MD5, SHA1, SHA256, SHA384, SHA512, AES128 or AES256";

/// What is wrong with a key file line.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyFileErrorKind {
    #[error("line is {0} bytes long; chrony reads at most 2047")]
    LineTooLong(usize),
    #[error("expected `ID [TYPE] KEY`, found {0} fields")]
    FieldCount(usize),
    #[error("key ID `{0}` is not an integer from 1 to 4294967295")]
    BadId(String),
    #[error("key type `{0}` must be spelled exactly as chrony does: {TYPES}")]
    Misspelled(String),
    #[error("key type `{0}` is not supported by nocbox; use {TYPES}")]
    UnsupportedType(String),
    #[error("unknown key type `{0}`; use {TYPES}")]
    UnknownType(String),
    #[error("HEX: key must be an even number of hexadecimal digits")]
    BadHex,
    #[error("key is empty")]
    EmptyKey,
    #[error("{kind} key must be {expected} bytes (HEX: and {} digits), found {found} bytes",
        2 * expected)]
    CmacKeyLength {
        kind: KeyType,
        expected: usize,
        found: usize,
    },
    #[error("key ID {id} is already defined on line {first_line}")]
    Duplicate { id: u32, first_line: usize },
}

/// Why [`KeySet::load`] failed.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read NTP key file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("NTP key file {}:{}", path.display(), list(errors))]
    Invalid {
        path: PathBuf,
        errors: Vec<KeyFileError>,
    },
}

fn list(errors: &[KeyFileError]) -> String {
    errors.iter().map(|e| format!("\n  {e}")).collect()
}

impl KeySet {
    /// Reads and parses a chrony key file.
    pub fn load(path: &Path) -> Result<KeySet, LoadError> {
        let text = std::fs::read_to_string(path).map_err(|source| LoadError::Read {
            path: path.to_owned(),
            source,
        })?;
        KeySet::parse(&text).map_err(|errors| LoadError::Invalid {
            path: path.to_owned(),
            errors,
        })
    }

    /// Parses chrony key file text; on error, returns every bad line, not just the first.
    pub fn parse(text: &str) -> Result<KeySet, Vec<KeyFileError>> {
        let mut keys: BTreeMap<u32, (usize, Secret)> = BTreeMap::new();
        let mut errors = Vec::new();
        for (line, text) in (1..).zip(text.lines()) {
            match parse_line(text) {
                Ok(None) => {}
                Ok(Some((id, secret))) => {
                    if let Some((first_line, _)) = keys.get(&id) {
                        let kind = KeyFileErrorKind::Duplicate {
                            id,
                            first_line: *first_line,
                        };
                        errors.push(KeyFileError { line, kind });
                    } else {
                        keys.insert(id, (line, secret));
                    }
                }
                Err(kind) => errors.push(KeyFileError { line, kind }),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let keys = keys.into_iter().map(|(id, (_, s))| (id, s)).collect();
        Ok(KeySet { keys })
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The type of key `key_id`, for `nocbox validate` and status output.
    pub fn key_type(&self, key_id: u32) -> Option<KeyType> {
        self.keys.get(&key_id).map(Secret::kind)
    }

    /// Trailer length (key ID + digest) that [`sign`](Self::sign) appends for this key to a
    /// packet of NTP `version`; a request that passed [`verify`](Self::verify) has exactly this
    /// trailer, so a reply of the same version is never longer than the request.
    pub fn mac_len(&self, key_id: u32, version: u8) -> Option<usize> {
        self.key_type(key_id).map(|t| 4 + t.digest_len(version))
    }

    /// Judges the MAC trailer of `packet`, a whole UDP payload.
    pub fn verify(&self, packet: &[u8]) -> Verdict {
        let (Some(&first), Some(trailer)) = (packet.first(), packet.get(HEADER_LEN..)) else {
            return Verdict::Malformed(MalformedMac::ShortPacket(packet.len()));
        };
        let version = version(first);
        let Some((id, digest)) = trailer.split_first_chunk::<4>() else {
            return if trailer.is_empty() {
                Verdict::NoMac
            } else {
                Verdict::Malformed(MalformedMac::TrailerLength {
                    version,
                    len: trailer.len(),
                })
            };
        };
        let key_id = u32::from_be_bytes(*id);
        if digest.is_empty() && key_id == 0 {
            return Verdict::CryptoNak;
        }
        if !KeyType::ALL
            .iter()
            .any(|t| t.digest_len(version) == digest.len())
        {
            return Verdict::Malformed(MalformedMac::TrailerLength {
                version,
                len: trailer.len(),
            });
        }
        let Some(secret) = self.keys.get(&key_id) else {
            return Verdict::UnknownKey(key_id);
        };
        let mac = secret.mac(&packet[..HEADER_LEN]);
        let want = &mac[..secret.kind().digest_len(version)];
        if ct_eq(want, digest) {
            Verdict::Valid { key_id }
        } else {
            Verdict::BadMac(key_id)
        }
    }

    /// Appends key ID and MAC to a 48-byte reply, truncated for the reply's NTP version.
    pub fn sign(&self, key_id: u32, packet: &mut Vec<u8>) -> Result<(), SignError> {
        let secret = self
            .keys
            .get(&key_id)
            .ok_or(SignError::UnknownKey(key_id))?;
        if packet.len() != HEADER_LEN {
            return Err(SignError::PacketLength(packet.len()));
        }
        let mac = secret.mac(packet);
        let digest_len = secret.kind().digest_len(version(packet[0]));
        packet.extend_from_slice(&key_id.to_be_bytes());
        packet.extend_from_slice(&mac[..digest_len]);
        Ok(())
    }
}

/// Equality in time that depends only on the (public) lengths, so timing does not tell a forger
/// how many leading bytes of a guessed MAC were right.
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .fold(0u8, |acc, (x, y)| acc | std::hint::black_box(x ^ y))
            == 0
}

/// The VN field of an NTP packet's first byte.
fn version(first: u8) -> u8 {
    (first >> 3) & 7
}

/// chronyd splits on C `isspace`.
fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r')
}

/// Echoes a user-written token in an error message, cut short so a misplaced key cannot leak
/// whole.
fn short(token: &str) -> String {
    token.chars().take(16).collect()
}

/// One key file line: `Ok(None)` for blank and comment lines.
fn parse_line(line: &str) -> Result<Option<(u32, Secret)>, KeyFileErrorKind> {
    if line.len() > MAX_LINE {
        return Err(KeyFileErrorKind::LineTooLong(line.len()));
    }
    let words: Vec<&str> = line.split(is_space).filter(|w| !w.is_empty()).collect();
    let (id, kind, key) = match words[..] {
        [] => return Ok(None),
        [first, ..] if first.starts_with(['#', '!', ';', '%']) => return Ok(None),
        [id, key] => (id, "MD5", key),
        [id, kind, key] => (id, kind, key),
        _ => return Err(KeyFileErrorKind::FieldCount(words.len())),
    };
    let id = Some(id)
        .filter(|id| id.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|id| id.parse::<u32>().ok())
        .filter(|&id| id != 0)
        .ok_or_else(|| KeyFileErrorKind::BadId(short(id)))?;
    let kind = KeyType::from_name(kind)?;
    Ok(Some((id, Secret::new(kind, decode_key(key)?)?)))
}

fn decode_key(text: &str) -> Result<Vec<u8>, KeyFileErrorKind> {
    let key = match text.strip_prefix("HEX:") {
        Some(hex) => decode_hex(hex).ok_or(KeyFileErrorKind::BadHex)?,
        None => text
            .strip_prefix("ASCII:")
            .unwrap_or(text)
            .as_bytes()
            .to_vec(),
    };
    if key.is_empty() {
        return Err(KeyFileErrorKind::EmptyKey);
    }
    Ok(key)
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    let nibble = |b: u8| (b as char).to_digit(16);
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    hex.as_bytes()
        .chunks_exact(2)
        .map(|p| Some((nibble(p[0])? << 4 | nibble(p[1])?) as u8))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A client request: LI 0, VN 4, mode 3, poll 6, precision -20, root delay and root
    /// dispersion 1 s, transmit timestamp e97a3c5b.12345678.
    const PACKET_V4: &str = "230006ec000100000001000000000000000000000000000000000000\
                             000000000000000000000000e97a3c5b12345678";

    const KEYS: &str = "\
1 MD5 ASCII:nocbox-md5
2 SHA1 HEX:0102030405060708090a0b0c0d0e0f1011121314
3 SHA256 HEX:202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f
4 AES128 HEX:2b7e151628aed2a6abf7158809cf4f3c
5 AES256 HEX:603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4
6 SHA384 HEX:0102030405060708090a0b0c0d0e0f10
7 SHA512 HEX:0102030405060708090a0b0c0d0e0f10
";

    fn hex(s: &str) -> Vec<u8> {
        decode_hex(s).expect("test hex")
    }

    fn keys() -> KeySet {
        KeySet::parse(KEYS).expect("test keys")
    }

    /// The test packet with its version field set to `version`.
    fn packet(version: u8) -> Vec<u8> {
        let mut p = hex(PACKET_V4);
        p[0] = (version << 3) | 3;
        p
    }

    fn errors(text: &str) -> Vec<(usize, KeyFileErrorKind)> {
        KeySet::parse(text)
            .expect_err("key file should be rejected")
            .into_iter()
            .map(|e| (e.line, e.kind))
            .collect()
    }

    /// RFC 4493 §4 examples (AES-128) and NIST SP 800-38B D.3 (AES-256) over the same messages.
    #[test]
    fn cmac_matches_rfc_4493_and_sp_800_38b() {
        let msg = hex(
            "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51\
             30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710",
        );
        let cases = [
            (
                0,
                "bb1d6929e95937287fa37d129b756746",
                "028962f61b7bf89efc6b551f4667d983",
            ),
            (
                16,
                "070a16b46b4d4144f79bdd9dd04a287c",
                "28a7023f452e8f82bd4bf28d8c37c35c",
            ),
            (
                40,
                "dfa66747de9ae63030ca32611497c827",
                "aaf3d8f1de5640c232f5b169b9c911e6",
            ),
            (
                64,
                "51f0bebf7e3b9d92fc49741779363cfe",
                "e1992190549f6ed5696a2c056c315410",
            ),
        ];
        let keys = keys();
        for (len, aes128, aes256) in cases {
            assert_eq!(
                keys.keys[&4].mac(&msg[..len]),
                hex(aes128),
                "AES128, {len} bytes"
            );
            assert_eq!(
                keys.keys[&5].mac(&msg[..len]),
                hex(aes256),
                "AES256, {len} bytes"
            );
        }
    }

    /// Expected digests computed outside Rust, over `PACKET_V4` (and its VN 3 variant):
    ///   python3 -c 'import hashlib; print(hashlib.md5(b"nocbox-md5" + bytes.fromhex(PKT)).hexdigest())'
    ///   (echo $KEY$PKT | xxd -r -p) | openssl dgst -sha1      (and -sha256, both agree with hashlib)
    ///   echo $PKT | xxd -r -p > p.bin; openssl mac -cipher AES-128-CBC -macopt hexkey:$KEY -in p.bin CMAC
    #[test]
    fn sign_matches_independent_digests() {
        let keys = keys();
        let cases = [
            (1, 4, "8c653e5dbd177b92f2b6fc7d4b5dca40"),
            (2, 4, "62d5141b171ea55b3d4a09f1c7701a0a611f056f"),
            // SHA256 truncated to 20 bytes in NTPv4, whole in NTPv3 (first byte 0x1b).
            (3, 4, "1e9c09868370a4cc9902d9da1f4e4ebb54e51b8a"),
            (
                3,
                3,
                "4d192384a916ada1ca9d9d335b76cf74be0a2f2ab154c4904d1a3dbd580ca180",
            ),
            (4, 4, "637889a1f181434a9ce4e6b74693def3"),
            (5, 4, "b36390c4093c60b71347f8917bbe37c4"),
        ];
        for (key_id, version, digest) in cases {
            let mut p = packet(version);
            keys.sign(key_id, &mut p).expect("sign");
            assert_eq!(p[..HEADER_LEN], packet(version)[..], "header untouched");
            assert_eq!(p[HEADER_LEN..HEADER_LEN + 4], [0, 0, 0, key_id as u8]);
            assert_eq!(
                p[HEADER_LEN + 4..],
                hex(digest)[..],
                "key {key_id} v{version}"
            );
            assert_eq!(keys.mac_len(key_id, version), Some(p.len() - HEADER_LEN));
            assert_eq!(keys.verify(&p), Verdict::Valid { key_id });
        }
    }

    #[test]
    fn mac_lengths_follow_chrony() {
        let keys = keys();
        // (key, NTPv4 trailer, NTPv3 trailer)
        let cases = [
            (1, 20, 20),
            (2, 24, 24),
            (3, 24, 36),
            (4, 20, 20),
            (5, 20, 20),
            (6, 24, 52),
        ];
        for (key_id, v4, v3) in cases.into_iter().chain([(7, 24, 68)]) {
            assert_eq!(keys.mac_len(key_id, 4), Some(v4), "key {key_id}");
            assert_eq!(keys.mac_len(key_id, 3), Some(v3), "key {key_id}");
            assert_eq!(keys.mac_len(key_id, 1), Some(v3), "key {key_id}");
        }
        assert_eq!(keys.mac_len(99, 4), None);
    }

    #[test]
    fn verdicts() {
        let keys = keys();
        let mut signed = packet(4);
        keys.sign(2, &mut signed).expect("sign");
        assert_eq!(keys.verify(&packet(4)), Verdict::NoMac);
        assert_eq!(keys.verify(&signed), Verdict::Valid { key_id: 2 });

        let mut tampered = signed.clone();
        tampered[47] ^= 1;
        assert_eq!(keys.verify(&tampered), Verdict::BadMac(2));
        let mut bad_mac = signed.clone();
        bad_mac[60] ^= 0x80;
        assert_eq!(keys.verify(&bad_mac), Verdict::BadMac(2));
        // A SHA1-length trailer naming the MD5 key: right length for NTPv4, wrong for the key.
        let mut wrong_len = signed.clone();
        wrong_len[51] = 1;
        assert_eq!(keys.verify(&wrong_len), Verdict::BadMac(1));
        let mut unknown = signed.clone();
        unknown[51] = 99;
        assert_eq!(keys.verify(&unknown), Verdict::UnknownKey(99));
        // Key ID 0 is never loaded, so a full-length trailer with it is just an unknown key.
        unknown[48..52].fill(0);
        assert_eq!(keys.verify(&unknown), Verdict::UnknownKey(0));

        let mut nak = packet(4);
        nak.extend_from_slice(&[0; 4]);
        assert_eq!(keys.verify(&nak), Verdict::CryptoNak);
        nak[51] = 1;
        let short_trailer = MalformedMac::TrailerLength { version: 4, len: 4 };
        assert_eq!(keys.verify(&nak), Verdict::Malformed(short_trailer));

        // A whole SHA256 digest is only valid before NTPv4 (chronyd 4.3 drops it in NTPv4).
        let mut v3 = packet(3);
        keys.sign(3, &mut v3).expect("sign");
        assert_eq!(keys.verify(&v3), Verdict::Valid { key_id: 3 });
        v3[0] = packet(4)[0];
        let long = MalformedMac::TrailerLength {
            version: 4,
            len: 36,
        };
        assert_eq!(keys.verify(&v3), Verdict::Malformed(long));
        assert!(
            long.to_string()
                .contains("extension fields are not supported"),
            "{long}"
        );

        // An NTPv4 extension field (type 0x0104, 16 bytes) and no MAC.
        let mut ef = packet(4);
        ef.extend_from_slice(&hex("01040010000000000000000000000000"));
        let ef_len = MalformedMac::TrailerLength {
            version: 4,
            len: 16,
        };
        assert_eq!(keys.verify(&ef), Verdict::Malformed(ef_len));
        assert_eq!(
            keys.verify(&ef[..47]),
            Verdict::Malformed(MalformedMac::ShortPacket(47))
        );
    }

    #[test]
    fn reasons_are_counter_labels() {
        let labels = [
            (Verdict::NoMac, "no_mac"),
            (Verdict::Valid { key_id: 1 }, "valid"),
            (Verdict::CryptoNak, "crypto_nak"),
            (Verdict::UnknownKey(1), "unknown_key"),
            (Verdict::BadMac(1), "bad_mac"),
            (
                Verdict::Malformed(MalformedMac::ShortPacket(0)),
                "malformed_mac",
            ),
        ];
        for (verdict, label) in labels {
            assert_eq!(verdict.reason(), label);
        }
    }

    #[test]
    fn sign_refuses_unknown_keys_and_odd_packets() {
        let keys = keys();
        let mut p = packet(4);
        assert_eq!(keys.sign(99, &mut p), Err(SignError::UnknownKey(99)));
        assert_eq!(keys.sign(0, &mut p), Err(SignError::UnknownKey(0)));
        assert_eq!(p, packet(4), "left untouched");
        let mut long = packet(4);
        keys.sign(1, &mut long).expect("sign");
        assert_eq!(keys.sign(1, &mut long), Err(SignError::PacketLength(68)));
        assert_eq!(
            keys.sign(1, &mut Vec::new()),
            Err(SignError::PacketLength(0))
        );
    }

    #[test]
    fn never_panics_on_any_input() {
        let keys = keys();
        let mut rng = fastrand::Rng::with_seed(5905);
        for len in 0..=120 {
            for round in 0..200 {
                let mut p: Vec<u8> = (0..len).map(|_| rng.u8(..)).collect();
                // Steer half the packets past the length and key ID checks.
                if round % 2 == 0 && len > HEADER_LEN + 4 {
                    p[0] = if round % 4 == 0 { 0x23 } else { 0x1b };
                    p[HEADER_LEN..HEADER_LEN + 4].copy_from_slice(&rng.u32(0..9).to_be_bytes());
                }
                let verdict = keys.verify(&p);
                assert!(
                    !matches!(verdict, Verdict::Valid { .. }),
                    "forged: {p:02x?}"
                );
                let signed = keys.sign(rng.u32(0..9), &mut p);
                assert!(signed.is_err() || len == HEADER_LEN);
            }
        }
        for key_id in 1..=7 {
            for version in 0..=7 {
                let mut p = packet(version);
                keys.sign(key_id, &mut p).expect("sign");
                for n in 0..=p.len() {
                    let verdict = keys.verify(&p[..n]);
                    match n {
                        n if n < HEADER_LEN => {
                            assert_eq!(verdict, Verdict::Malformed(MalformedMac::ShortPacket(n)))
                        }
                        HEADER_LEN => assert_eq!(verdict, Verdict::NoMac),
                        n if n == p.len() => assert_eq!(verdict, Verdict::Valid { key_id }),
                        _ => assert!(!matches!(verdict, Verdict::Valid { .. }), "{n}"),
                    }
                }
            }
        }
    }

    #[test]
    fn parses_every_type_and_encoding() {
        let text = "\
# comment
  ! bang comment
; semicolon comment
% percent comment

10 tulip
11\tMD5   ab#cd   \r
20 MD5 ASCII:crocus
21 SHA1 ASCII:ASCII:x
22 SHA1 hex:00
25 SHA1 HEX:933F62BE1D604E68A81B557F18CFA200483F5B70
26 SHA256 HEX:00
27 SHA384 x
28 SHA512 y
30 AES128 HEX:7EA62AE64D190114D46D5A082F948EC1
31 AES256 HEX:37DDCBC67BB902BCB8E995977FAB4D2B5642F5B32EBCEEE421921D97E5CBFE39
4294967295 MD5 max
";
        let keys = KeySet::parse(text).expect("valid file");
        let types: Vec<(u32, KeyType)> = keys.keys.iter().map(|(id, s)| (*id, s.kind())).collect();
        use KeyType::*;
        let want = [
            (10, Md5),
            (11, Md5),
            (20, Md5),
            (21, Sha1),
            (22, Sha1),
            (25, Sha1),
            (26, Sha256),
            (27, Sha384),
            (28, Sha512),
            (30, Aes128),
            (31, Aes256),
            (u32::MAX, Md5),
        ];
        assert_eq!(types, want);
        let secret = |id| match &keys.keys[&id] {
            Secret::Md5(k) | Secret::Sha1(k) | Secret::Sha256(k) => k.to_vec(),
            _ => unreachable!(),
        };
        assert_eq!(secret(10), b"tulip");
        assert_eq!(
            secret(11),
            b"ab#cd",
            "a # after the first word belongs to the key"
        );
        assert_eq!(secret(20), b"crocus");
        assert_eq!(secret(21), b"ASCII:x", "one prefix is stripped");
        assert_eq!(
            secret(22),
            b"hex:00",
            "prefixes are case-sensitive, as in chronyd"
        );
        assert_eq!(secret(25), hex("933f62be1d604e68a81b557f18cfa200483f5b70"));
        assert_eq!(secret(26), [0]);
        assert_eq!(KeySet::parse("").map(|k| k.len()), Ok(0));
    }

    #[test]
    fn reports_every_bad_line_with_its_number() {
        use KeyFileErrorKind::*;
        let text = format!(
            "1 MD5 good\n\
             2\n\
             3 MD5 a b\n\
             0 MD5 zero\n\
             4294967296 MD5 overflow\n\
             +5 MD5 sign\n\
             6 md5 lower\n\
             7 AES HEX:2b7e151628aed2a6abf7158809cf4f3c\n\
             8 SHA3-256 x\n\
             9 RMD160 x\n\
             10 HEX:abc\n\
             11 HEX:zz\n\
             12 MD5 HEX:\n\
             13 ASCII:\n\
             14 AES128 HEX:2b7e151628aed2a6abf7158809cf4f\n\
             15 AES256 HEX:2b7e151628aed2a6abf7158809cf4f3c\n\
             16 AES128 2b7e151628aed2a6abf7158809cf4f3c\n\
             1 SHA1 again\n\
             17 MD5 {}\n",
            "k".repeat(2041)
        );
        let cmac = |kind, expected, found| CmacKeyLength {
            kind,
            expected,
            found,
        };
        let want = vec![
            (2, FieldCount(1)),
            (3, FieldCount(4)),
            (4, BadId("0".into())),
            (5, BadId("4294967296".into())),
            (6, BadId("+5".into())),
            (7, Misspelled("md5".into())),
            (8, Misspelled("AES".into())),
            (9, UnsupportedType("SHA3-256".into())),
            (10, UnknownType("RMD160".into())),
            (11, BadHex),
            (12, BadHex),
            (13, EmptyKey),
            (14, EmptyKey),
            (15, cmac(KeyType::Aes128, 16, 15)),
            (16, cmac(KeyType::Aes256, 32, 16)),
            (17, cmac(KeyType::Aes128, 16, 32)),
            (
                18,
                Duplicate {
                    id: 1,
                    first_line: 1,
                },
            ),
            (19, LineTooLong(2048)),
        ];
        assert_eq!(errors(&text), want);
        let longest = format!("17 MD5 {}", "k".repeat(2040));
        assert_eq!(
            KeySet::parse(&longest).map(|k| k.len()),
            Ok(1),
            "2047 characters fit"
        );
        let messages: Vec<String> = KeySet::parse(&text)
            .expect_err("bad file")
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            messages[0],
            "line 2: expected `ID [TYPE] KEY`, found 1 fields"
        );
        assert_eq!(
            messages[13],
            "line 15: AES128 key must be 16 bytes (HEX: and 32 digits), found 15 bytes"
        );
        assert!(
            messages
                .iter()
                .all(|m| !m.contains("good") && !m.contains("2b7e")),
            "{messages:?}"
        );
    }

    #[test]
    fn debug_and_errors_never_show_key_material() {
        let keys = keys();
        let debug = format!("{keys:?}");
        assert_eq!(
            debug,
            "KeySet {1: Md5, 2: Sha1, 3: Sha256, 4: Aes128, 5: Aes256, 6: Sha384, 7: Sha512}"
        );
        let dir = std::env::temp_dir().join(format!("nocbox-auth-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("keys");
        std::fs::write(&path, "1 MD5 sekrit\n2 MD5 HEX:0\n").expect("write");
        let err = KeySet::load(&path).expect_err("bad file").to_string();
        std::fs::remove_dir_all(&dir).expect("cleanup");
        let want = format!(
            "NTP key file {}:\n  line 2: HEX: key must be an even number of hexadecimal digits",
            path.display()
        );
        assert_eq!(err, want);
        let missing = KeySet::load(&dir.join("none"))
            .expect_err("missing")
            .to_string();
        assert!(
            missing.starts_with("cannot read NTP key file "),
            "{missing}"
        );
    }
}
