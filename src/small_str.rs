//! [`SmallStr`]: an immutable string kept inline when it is short. The names in a syslog header
//! (host, app-name, procid, msgid, a Cisco facility) are nearly always short, and a heap
//! allocation and its free (on another thread, the output's) for each of them was a measurable
//! share of the CPU per line (docs/PERFORMANCE.md, "what changed").

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::net::IpAddr;
use std::ops::Deref;

/// Bytes kept inline; the whole value is 32 bytes, like a `String` plus a word.
const INLINE: usize = 30;

/// A string of up to 30 bytes stored inline, a longer one on the heap. Read it as `&str`.
#[derive(Clone)]
pub struct SmallStr(Repr);

#[derive(Clone)]
enum Repr {
    /// `bytes[..len]` is valid UTF-8 (only ever copied from a `&str`).
    Inline {
        len: u8,
        bytes: [u8; INLINE],
    },
    Heap(Box<str>),
}

impl SmallStr {
    pub fn new(s: &str) -> Self {
        if s.len() <= INLINE {
            let mut bytes = [0; INLINE];
            bytes[..s.len()].copy_from_slice(s.as_bytes());
            SmallStr(Repr::Inline {
                len: s.len() as u8,
                bytes,
            })
        } else {
            SmallStr(Repr::Heap(s.into()))
        }
    }

    /// Bytes held on the heap: 0 when inline.
    pub fn heap_len(&self) -> usize {
        match &self.0 {
            Repr::Inline { .. } => 0,
            Repr::Heap(s) => s.len(),
        }
    }

    pub fn as_str(&self) -> &str {
        match &self.0 {
            // SAFETY: the inline bytes were copied from a `&str` whole (see `new`).
            Repr::Inline { len, bytes } => unsafe {
                std::str::from_utf8_unchecked(&bytes[..usize::from(*len)])
            },
            Repr::Heap(s) => s,
        }
    }
}

impl From<IpAddr> for SmallStr {
    /// The address as `Display` shows it, without a heap allocation when it fits. IPv4 is
    /// written digit by digit: `fmt` took about 5 % of the trap path's CPU, once per trap.
    fn from(ip: IpAddr) -> Self {
        let mut buf = [0u8; 48];
        let n = match ip {
            IpAddr::V4(a) => {
                let (mut n, mut d) = (0, [0u8; 20]);
                for (i, o) in a.octets().into_iter().enumerate() {
                    if i > 0 {
                        buf[n] = b'.';
                        n += 1;
                    }
                    let octet = crate::json::digits(o.into(), &mut d);
                    buf[n..n + octet.len()].copy_from_slice(octet);
                    n += octet.len();
                }
                n
            }
            // 48 bytes hold any IPv6 text form.
            IpAddr::V6(a) => {
                let mut w = &mut buf[..];
                if write!(w, "{a}").is_err() {
                    return SmallStr::from(a.to_string());
                }
                48 - w.len()
            }
        };
        match std::str::from_utf8(&buf[..n]) {
            Ok(s) => SmallStr::new(s),
            Err(_) => SmallStr::from(ip.to_string()),
        }
    }
}

impl Default for SmallStr {
    fn default() -> Self {
        SmallStr::new("")
    }
}

impl Deref for SmallStr {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for SmallStr {
    fn as_ref(&self) -> &str {
        self
    }
}

impl Borrow<str> for SmallStr {
    fn borrow(&self) -> &str {
        self
    }
}

impl From<&str> for SmallStr {
    fn from(s: &str) -> Self {
        SmallStr::new(s)
    }
}

impl From<String> for SmallStr {
    /// Keeps a long string's heap buffer (shrunk to fit) rather than copying it.
    fn from(s: String) -> Self {
        if s.len() <= INLINE {
            SmallStr::new(&s)
        } else {
            SmallStr(Repr::Heap(s.into_boxed_str()))
        }
    }
}

impl From<&String> for SmallStr {
    fn from(s: &String) -> Self {
        SmallStr::new(s)
    }
}

impl From<SmallStr> for String {
    fn from(s: SmallStr) -> Self {
        match s.0 {
            Repr::Heap(b) => b.into_string(),
            Repr::Inline { .. } => s.as_str().to_owned(),
        }
    }
}

impl PartialEq for SmallStr {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for SmallStr {}

impl PartialEq<str> for SmallStr {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for SmallStr {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for SmallStr {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl Hash for SmallStr {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl fmt::Debug for SmallStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for SmallStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_any_string_whole() {
        for s in [
            "",
            "a",
            "localhost",
            &"x".repeat(30),
            &"y".repeat(31),
            "né-ü€😀",
        ] {
            let v = SmallStr::from(s);
            assert_eq!(v.as_str(), s);
            assert_eq!(SmallStr::from(s.to_string()), v);
            assert_eq!(String::from(v.clone()), s);
            assert_eq!(format!("{v}"), s);
            assert_eq!(format!("{v:?}"), format!("{s:?}"));
        }
        assert_eq!(std::mem::size_of::<SmallStr>(), 32);
        assert_eq!(std::mem::size_of::<Option<SmallStr>>(), 32);
    }

    #[test]
    fn addresses_read_as_displayed() {
        for ip in [
            "10.1.2.3",
            "::1",
            "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255",
            "fe80::1",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert_eq!(SmallStr::from(ip).as_str(), ip.to_string());
        }
        for o in 0..=255u8 {
            let ip = IpAddr::from([o, 255 - o, o / 3, 7]);
            assert_eq!(SmallStr::from(ip).as_str(), ip.to_string());
        }
    }
}
