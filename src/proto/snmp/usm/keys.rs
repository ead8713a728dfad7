//! USM keys: password to key (RFC 3414 §A.2), localization, privacy key extension, and a cache.
//!
//! Ku = H(password repeated to 1,048,576 bytes) is the expensive step (1–4 ms); [`UsmUser::new`]
//! does it once per password. Kul = H(Ku ‖ engineID ‖ Ku) is cheap, except that Reeder's key
//! extension runs password-to-key again on Kul, so [`KeyCache`] keeps localized keys per engine.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::Arc;

use digest::Digest;

use super::{AuthProtocol, KeyExtension, PrivProtocol, UsmError};

/// How many bytes of repeated password RFC 3414 §A.2 hashes.
const EXPANDED_PASSWORD_LEN: usize = 1 << 20;

/// Ku: the password repeated to 1 MB and hashed.
pub fn password_to_key(proto: AuthProtocol, password: &[u8]) -> Result<Vec<u8>, UsmError> {
    if password.is_empty() {
        return Err(UsmError::EmptyPassword);
    }
    Ok(match proto {
        AuthProtocol::Md5 => expand::<md5::Md5>(password),
        AuthProtocol::Sha1 => expand::<sha1::Sha1>(password),
        AuthProtocol::Sha224 => expand::<sha2::Sha224>(password),
        AuthProtocol::Sha256 => expand::<sha2::Sha256>(password),
        AuthProtocol::Sha384 => expand::<sha2::Sha384>(password),
        AuthProtocol::Sha512 => expand::<sha2::Sha512>(password),
    })
}

fn expand<D: Digest>(password: &[u8]) -> Vec<u8> {
    let mut h = D::new();
    // 64 copies of the password hold every 64-byte window of the repetition, so each chunk is
    // one slice of `buf`, starting where the previous chunk stopped.
    let buf: Vec<u8> = password
        .iter()
        .copied()
        .cycle()
        .take(64 + password.len())
        .collect();
    let mut at = 0;
    for _ in 0..EXPANDED_PASSWORD_LEN / 64 {
        h.update(&buf[at..at + 64]);
        at = (at + 64) % password.len();
    }
    h.finalize().to_vec()
}

/// Kul = H(Ku ‖ engineID ‖ Ku).
pub fn localize_key(proto: AuthProtocol, ku: &[u8], engine_id: &[u8]) -> Vec<u8> {
    proto.hash(&[ku, engine_id, ku])
}

/// The privacy key for `privacy`, localized with the *auth* protocol's hash and extended to the
/// cipher's key length when Kul is shorter (AES-192/256, 3DES).
pub fn localize_privacy_key(
    auth: AuthProtocol,
    privacy: PrivProtocol,
    ku: &[u8],
    engine_id: &[u8],
) -> Result<Vec<u8>, UsmError> {
    let mut key = localize_key(auth, ku, engine_id);
    let need = privacy.key_len();
    while key.len() < need {
        let more = match privacy.key_extension() {
            // draft-blumenthal-aes-usm-04 §3.1.2.1: append H(Kul).
            KeyExtension::Blumenthal => auth.hash(&[&key]),
            // draft-reeder-snmpv3-usm-3desede §2.1: the last block, used as a password, run
            // through password-to-key and localized again.
            KeyExtension::Reeder => {
                let last = &key[key.len() - auth.digest_len()..];
                localize_key(auth, &password_to_key(auth, last)?, engine_id)
            }
        };
        key.extend_from_slice(&more);
    }
    key.truncate(need);
    Ok(key)
}

/// A localized authentication key.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthKey {
    pub protocol: AuthProtocol,
    pub key: Vec<u8>,
}

/// A localized (and extended) privacy key.
#[derive(Clone, PartialEq, Eq)]
pub struct PrivKey {
    pub protocol: PrivProtocol,
    pub key: Vec<u8>,
}

/// The keys one user has for one authoritative engine.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct LocalizedKeys {
    pub auth: Option<AuthKey>,
    pub privacy: Option<PrivKey>,
}

impl fmt::Debug for AuthKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AuthKey({}, <redacted>)", self.protocol.name())
    }
}

impl fmt::Debug for PrivKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrivKey({}, <redacted>)", self.protocol.name())
    }
}

/// A configured v3 user with its master keys (Ku), computed once from the passwords.
#[derive(Clone, PartialEq, Eq)]
pub struct UsmUser {
    pub name: String,
    auth: Option<(AuthProtocol, Vec<u8>)>,
    privacy: Option<(PrivProtocol, Vec<u8>)>,
}

impl UsmUser {
    /// A user at noAuthNoPriv (no passwords), authNoPriv or authPriv. Privacy needs auth: its key
    /// is derived with the auth protocol's hash (RFC 3414 §3.1.1).
    pub fn new(
        name: &str,
        auth: Option<(AuthProtocol, &[u8])>,
        privacy: Option<(PrivProtocol, &[u8])>,
    ) -> Result<UsmUser, UsmError> {
        let auth = auth
            .map(|(p, pw)| Ok::<_, UsmError>((p, password_to_key(p, pw)?)))
            .transpose()?;
        let privacy = match (privacy, &auth) {
            (None, _) => None,
            (Some(_), None) => return Err(UsmError::PrivacyWithoutAuth),
            (Some((p, pw)), Some((a, _))) => Some((p, password_to_key(*a, pw)?)),
        };
        Ok(UsmUser {
            name: name.to_string(),
            auth,
            privacy,
        })
    }

    pub fn auth_protocol(&self) -> Option<AuthProtocol> {
        self.auth.as_ref().map(|(p, _)| *p)
    }

    pub fn privacy_protocol(&self) -> Option<PrivProtocol> {
        self.privacy.as_ref().map(|(p, _)| *p)
    }

    /// The keys for one authoritative engine (for traps, the sender's; for polls and informs we
    /// receive, the agent's or our own).
    pub fn localize(&self, engine_id: &[u8]) -> Result<LocalizedKeys, UsmError> {
        let Some((a, ku)) = &self.auth else {
            return Ok(LocalizedKeys::default());
        };
        let privacy = match &self.privacy {
            Some((p, kp)) => Some(PrivKey {
                protocol: *p,
                key: localize_privacy_key(*a, *p, kp, engine_id)?,
            }),
            None => None,
        };
        Ok(LocalizedKeys {
            auth: Some(AuthKey {
                protocol: *a,
                key: localize_key(*a, ku, engine_id),
            }),
            privacy,
        })
    }
}

impl fmt::Debug for UsmUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UsmUser")
            .field("name", &self.name)
            .field("auth", &self.auth_protocol())
            .field("privacy", &self.privacy_protocol())
            .finish()
    }
}

/// Cache key: structured (not concatenated text, see sharpsnmplib#704) and built from the master
/// keys, so a changed password never hits an old entry.
#[derive(Clone, PartialEq, Eq, Hash)]
struct CacheKey {
    auth: Option<(AuthProtocol, Vec<u8>)>,
    privacy: Option<(PrivProtocol, Vec<u8>)>,
    engine_id: Vec<u8>,
}

/// Localized keys per (user's protocols and master keys, engine ID), bounded: the oldest entry
/// goes when full (a trap receiver can see many engine IDs).
#[derive(Debug)]
pub struct KeyCache {
    capacity: usize,
    map: HashMap<CacheKey, Arc<LocalizedKeys>>,
    order: VecDeque<CacheKey>,
}

impl fmt::Debug for CacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CacheKey(engine {:02x?})", self.engine_id)
    }
}

impl KeyCache {
    pub fn new(capacity: usize) -> KeyCache {
        KeyCache {
            capacity: capacity.max(1),
            map: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The user's keys for `engine_id`, localized on first use.
    pub fn get(
        &mut self,
        user: &UsmUser,
        engine_id: &[u8],
    ) -> Result<Arc<LocalizedKeys>, UsmError> {
        let key = CacheKey {
            auth: user.auth.clone(),
            privacy: user.privacy.clone(),
            engine_id: engine_id.to_vec(),
        };
        if let Some(k) = self.map.get(&key) {
            return Ok(k.clone());
        }
        let keys = Arc::new(user.localize(engine_id)?);
        if self.map.len() >= self.capacity {
            if let Some(old) = self.order.pop_front() {
                self.map.remove(&old);
            }
        }
        self.order.push_back(key.clone());
        self.map.insert(key, keys.clone());
        Ok(keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    const ENGINE: &str = "000000000000000000000002";

    /// RFC 3414 A.3.1 (MD5) and A.3.2 (SHA-1), password "maplesyrup".
    #[test]
    fn rfc3414_a3_password_to_key_and_localization() {
        let e = hex(ENGINE);
        let ku = password_to_key(AuthProtocol::Md5, b"maplesyrup").unwrap();
        assert_eq!(ku, hex("9faf3283884e92834ebc9847d8edd963"));
        let kul = localize_key(AuthProtocol::Md5, &ku, &e);
        assert_eq!(kul, hex("526f5eed9fcce26f8964c2930787d82b"));
        let ku = password_to_key(AuthProtocol::Sha1, b"maplesyrup").unwrap();
        assert_eq!(ku, hex("9fb5cc0381497b3793528939ff788d5d79145211"));
        let kul = localize_key(AuthProtocol::Sha1, &ku, &e);
        assert_eq!(kul, hex("6695febc9288e36282235fc7151f128497b38f3f"));
    }

    /// SHA-2 vectors computed independently with Python hashlib:
    /// ```text
    /// python3 -c "import hashlib; pw=b'maplesyrup'; e=bytes.fromhex('000000000000000000000002')
    /// for h in ('sha224','sha256','sha384','sha512'):
    ///   ku=hashlib.new(h,(pw*(2**20//len(pw)+1))[:2**20]).digest()
    ///   print(h, ku.hex(), hashlib.new(h,ku+e+ku).hexdigest())"
    /// ```
    #[test]
    fn sha2_password_to_key_matches_hashlib() {
        let e = hex(ENGINE);
        for (p, ku_hex, kul_hex) in [
            (
                AuthProtocol::Sha224,
                "282a5867ee9aac639ad59df9572c7d3ac0fbc13a905b6df07dbbf00b",
                "0bd8827c6e29f8065e08e09237f177e410f69b90e1782be682075674",
            ),
            (
                AuthProtocol::Sha256,
                "ab51014d1e077f6017df2b12bee5f5aa72993177e9bb569c4dff5a4ca0b4afac",
                "8982e0e549e866db361a6b625d84cccc11162d453ee8ce3a6445c2d6776f0f8b",
            ),
            (
                AuthProtocol::Sha384,
                "e06eccdf2c68a06ed034723c9c26e0db3b669e1e2efed49150b55377a2e98f38\
                 3c86fb836857444654b287c93f51ff64",
                "3b298f16164a11184279d5432bf169e2d2a48307de02b3d3f7e2b4f36eb6f045\
                 5a53689a3937eea07319a633d2ccba78",
            ),
            (
                AuthProtocol::Sha512,
                "7e4396de5aadc77be853819b98c9406265b3a9c37cc3176569847a4e4f6fba63\
                 dd3a73d04924d31a63f95a601f9385af6be4ed1b37f87d040f7c6ed6f8d38a91",
                "22a5a36cedfcc085807a128d7bc6c2382167ad6c0dbc5fdff856740f3d84c099\
                 ad1ea87a8db096714d9788bd544047c9021e4229ce27e4c0a69250adfcffbb0b",
            ),
        ] {
            let ku = password_to_key(p, b"maplesyrup").unwrap();
            assert_eq!(ku, hex(ku_hex), "{p:?}");
            assert_eq!(localize_key(p, &ku, &e), hex(kul_hex), "{p:?}");
        }
    }

    #[test]
    fn empty_password_is_an_error_not_a_hang() {
        assert_eq!(
            password_to_key(AuthProtocol::Md5, b""),
            Err(UsmError::EmptyPassword)
        );
    }

    #[test]
    fn privacy_needs_auth() {
        let r = UsmUser::new("u", None, Some((PrivProtocol::Aes128, &b"privpass123"[..])));
        assert_eq!(r.err(), Some(UsmError::PrivacyWithoutAuth));
    }

    #[test]
    fn cache_localizes_once_per_engine_and_is_bounded() {
        let user = UsmUser::new(
            "u",
            Some((AuthProtocol::Sha1, &b"authpass123"[..])),
            Some((PrivProtocol::Aes128, &b"privpass123"[..])),
        )
        .unwrap();
        let mut cache = KeyCache::new(2);
        let a = cache.get(&user, b"engine-a").unwrap();
        let again = cache.get(&user, b"engine-a").unwrap();
        assert!(Arc::ptr_eq(&a, &again));
        let b = cache.get(&user, b"engine-b").unwrap();
        assert_ne!(a.auth, b.auth);
        cache.get(&user, b"engine-c").unwrap();
        assert_eq!(cache.len(), 2);
        // a changed password is a different entry, never the old keys
        let other =
            UsmUser::new("u", Some((AuthProtocol::Sha1, &b"otherpass1"[..])), None).unwrap();
        assert_ne!(
            cache.get(&other, b"engine-c").unwrap().auth,
            cache.get(&user, b"engine-c").unwrap().auth
        );
        assert!(!format!("{a:?}{user:?}").contains("authpass"));
    }
}
