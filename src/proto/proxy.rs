//! PROXY protocol header parser: version 2 (binary, what AWS NLB sends; haproxy
//! `doc/proxy-protocol.txt` §2.2) and version 1 (text, §2.1; what loggen and older proxies send).
//!
//! Owns: recognising and decoding the binary header a load balancer (AWS NLB) puts in
//! front of a TCP stream, and saying how many bytes it took, so the caller can hand
//! the rest of the buffer to the syslog framer.
//!
//! Must not: do I/O or read clocks (the caller enforces a deadline for a header that
//! never completes), read past the declared length,
//! interpret TLVs (they are skipped; AWS puts the VPC endpoint id in TLV 0xEA), or
//! panic on any input. A header is only ever expected when the listener opted in.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// The fixed 12-byte signature. It contains NUL and `\r\n\r\n`, so it cannot be the
/// start of a syslog message or of a version 1 header.
const SIGNATURE: [u8; 12] = [
    0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A,
];

/// Signature, version/command, family/transport, 2-byte length.
const FIXED_LEN: usize = 16;

/// Largest accepted length of the part after the fixed 16 bytes: the biggest address
/// block (AF_UNIX, 216 bytes) plus 4 KiB of TLVs, far more than NLB sends. The length
/// field is peer-controlled; without a cap a peer could make us buffer 64 KiB for nothing.
pub const MAX_PAYLOAD_LEN: usize = 4096 + 216;

/// Longest header [`parse`] will ever wait for, for sizing the caller's read buffer.
pub const MAX_HEADER_LEN: usize = FIXED_LEN + MAX_PAYLOAD_LEN;

const IPV4_BLOCK: usize = 12;
const IPV6_BLOCK: usize = 36;

/// A parsed header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProxyHeader {
    /// LOCAL command (NLB health checks): no client behind it; use the socket's peer
    /// address.
    Local,
    /// PROXY command with AF_UNSPEC: the proxy does not know the client. Treat like
    /// `Local`.
    Unspec,
    /// PROXY command over TCP or UDP, IPv4 or IPv6.
    Proxy {
        source: SocketAddr,
        destination: SocketAddr,
    },
}

/// Why a connection's first bytes are not an acceptable PROXY v2 header.
#[derive(Clone, Copy, Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProxyError {
    /// The bytes seen so far do not match the v2 signature (includes v1 text headers).
    #[error("not a PROXY protocol v2 header")]
    NotProxy,
    /// The version nibble of byte 13 is not 2.
    #[error("unsupported PROXY protocol version {0}")]
    UnsupportedVersion(u8),
    /// The command nibble of byte 13 is neither LOCAL (0) nor PROXY (1).
    #[error("unsupported PROXY protocol command {0}")]
    UnsupportedCommand(u8),
    /// The declared length is too short for the address family.
    #[error("PROXY header length too short for its address family")]
    BadLength,
    /// Byte 14 (family and transport) is not one we can turn into socket addresses.
    #[error("unsupported PROXY address family/transport 0x{0:02x}")]
    UnsupportedFamily(u8),
    /// The declared length exceeds [`MAX_PAYLOAD_LEN`].
    #[error("PROXY header declares {0} bytes, more than allowed")]
    TooLong(usize),
}

impl ProxyError {
    /// Low-cardinality label for drop counters.
    pub fn reason(&self) -> &'static str {
        match self {
            ProxyError::NotProxy => "not_proxy",
            ProxyError::UnsupportedVersion(_) => "bad_version",
            ProxyError::UnsupportedCommand(_) => "bad_command",
            ProxyError::BadLength => "bad_length",
            ProxyError::UnsupportedFamily(_) => "bad_family",
            ProxyError::TooLong(_) => "too_long",
        }
    }
}

enum Command {
    Local,
    Proxy,
}

/// Parses a PROXY v2 header at the start of `buf`.
///
/// `Ok(None)`: the bytes so far are a valid prefix; read more (under a deadline).
/// `Ok(Some((header, consumed)))`: the first `consumed` bytes are the header, TLVs
/// included; the stream proper starts after them.
/// `Err(_)`: reject the connection. Errors are reported as soon as the bytes seen
/// disagree, so a syslog sender without PROXY fails on its first byte instead of
/// hanging until a timeout.
pub fn parse(buf: &[u8]) -> Result<Option<(ProxyHeader, usize)>, ProxyError> {
    let v1 = b"PROXY ";
    let n = buf.len().min(v1.len());
    if n > 0 && buf[..n] == v1[..n] {
        return parse_v1(buf);
    }
    parse_v2(buf)
}

/// Longest version 1 line, CRLF included (spec §2.1).
const V1_MAX: usize = 107;

/// `PROXY TCP4|TCP6 SRC DST SPORT DPORT\r\n` or `PROXY UNKNOWN ...\r\n`. A bare LF ending
/// is accepted too (loggen sends one).
fn parse_v1(buf: &[u8]) -> Result<Option<(ProxyHeader, usize)>, ProxyError> {
    let Some(end) = buf.iter().take(V1_MAX).position(|&b| b == b'\n') else {
        return if buf.len() >= V1_MAX {
            Err(ProxyError::TooLong(buf.len()))
        } else {
            Ok(None)
        };
    };
    let line = std::str::from_utf8(&buf[..end]).map_err(|_| ProxyError::BadLength)?;
    let line = line.strip_suffix('\r').unwrap_or(line);
    let parts: Vec<&str> = line.split(' ').collect();
    let header = match parts.as_slice() {
        ["PROXY", "UNKNOWN", ..] => ProxyHeader::Unspec,
        ["PROXY", fam @ ("TCP4" | "TCP6"), src, dst, sport, dport] => {
            let addr = |ip: &str, port: &str| -> Result<SocketAddr, ProxyError> {
                let ip: std::net::IpAddr = ip.parse().map_err(|_| ProxyError::BadLength)?;
                let port: u16 = port.parse().map_err(|_| ProxyError::BadLength)?;
                Ok(SocketAddr::new(ip, port))
            };
            let (source, destination) = (addr(src, sport)?, addr(dst, dport)?);
            if source.is_ipv4() != (*fam == "TCP4") {
                return Err(ProxyError::BadLength);
            }
            ProxyHeader::Proxy {
                source,
                destination,
            }
        }
        _ => return Err(ProxyError::UnsupportedFamily(0)),
    };
    Ok(Some((header, end + 1)))
}

fn parse_v2(buf: &[u8]) -> Result<Option<(ProxyHeader, usize)>, ProxyError> {
    let seen = buf.len().min(SIGNATURE.len());
    if buf[..seen] != SIGNATURE[..seen] {
        return Err(ProxyError::NotProxy);
    }
    let Some(&ver_cmd) = buf.get(12) else {
        return Ok(None);
    };
    let version = ver_cmd >> 4;
    if version != 2 {
        return Err(ProxyError::UnsupportedVersion(version));
    }
    let command = match ver_cmd & 0x0F {
        0 => Command::Local,
        1 => Command::Proxy,
        other => return Err(ProxyError::UnsupportedCommand(other)),
    };
    let Some(&family) = buf.get(13) else {
        return Ok(None);
    };
    // Minimum address block for the family; LOCAL ignores the family entirely, as
    // the spec requires (the receiver uses the real connection endpoints).
    let min_len = match command {
        Command::Local => 0,
        Command::Proxy => match family {
            0x00 => 0,
            0x11 | 0x12 => IPV4_BLOCK,
            0x21 | 0x22 => IPV6_BLOCK,
            // AF_UNIX paths are no use as a client address, and anything else is
            // undefined by the spec.
            other => return Err(ProxyError::UnsupportedFamily(other)),
        },
    };
    let (Some(&hi), Some(&lo)) = (buf.get(14), buf.get(15)) else {
        return Ok(None);
    };
    let len = usize::from(u16::from_be_bytes([hi, lo]));
    if len > MAX_PAYLOAD_LEN {
        return Err(ProxyError::TooLong(len));
    }
    if len < min_len {
        return Err(ProxyError::BadLength);
    }
    let total = FIXED_LEN + len;
    let Some(payload) = buf.get(FIXED_LEN..total) else {
        return Ok(None);
    };
    let header = match command {
        Command::Local => ProxyHeader::Local,
        Command::Proxy => match family {
            0x11 | 0x12 => ipv4(payload)?,
            0x21 | 0x22 => ipv6(payload)?,
            _ => ProxyHeader::Unspec,
        },
    };
    // Whatever follows the address block is TLVs (and possibly padding); it is skipped
    // as a whole, not walked, since nothing here uses it.
    Ok(Some((header, total)))
}

fn ipv4(block: &[u8]) -> Result<ProxyHeader, ProxyError> {
    let b: &[u8; IPV4_BLOCK] = block
        .get(..IPV4_BLOCK)
        .and_then(|s| s.try_into().ok())
        .ok_or(ProxyError::BadLength)?;
    let src = Ipv4Addr::new(b[0], b[1], b[2], b[3]);
    let dst = Ipv4Addr::new(b[4], b[5], b[6], b[7]);
    let src_port = u16::from_be_bytes([b[8], b[9]]);
    let dst_port = u16::from_be_bytes([b[10], b[11]]);
    Ok(ProxyHeader::Proxy {
        source: SocketAddr::V4(SocketAddrV4::new(src, src_port)),
        destination: SocketAddr::V4(SocketAddrV4::new(dst, dst_port)),
    })
}

fn ipv6(block: &[u8]) -> Result<ProxyHeader, ProxyError> {
    let b: &[u8; IPV6_BLOCK] = block
        .get(..IPV6_BLOCK)
        .and_then(|s| s.try_into().ok())
        .ok_or(ProxyError::BadLength)?;
    let mut src = [0u8; 16];
    let mut dst = [0u8; 16];
    src.copy_from_slice(&b[..16]);
    dst.copy_from_slice(&b[16..32]);
    let src_port = u16::from_be_bytes([b[32], b[33]]);
    let dst_port = u16::from_be_bytes([b[34], b[35]]);
    Ok(ProxyHeader::Proxy {
        source: SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::from(src), src_port, 0, 0)),
        destination: SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::from(dst), dst_port, 0, 0)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(ver_cmd: u8, family: u8, payload: &[u8]) -> Vec<u8> {
        let mut v = SIGNATURE.to_vec();
        v.push(ver_cmd);
        v.push(family);
        v.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        v.extend_from_slice(payload);
        v
    }

    fn v4_block() -> Vec<u8> {
        let mut b = vec![203, 0, 113, 7, 10, 0, 0, 2];
        b.extend_from_slice(&51234u16.to_be_bytes());
        b.extend_from_slice(&514u16.to_be_bytes());
        b
    }

    fn v6_block() -> Vec<u8> {
        let src: Ipv6Addr = "2001:db8::7".parse().unwrap();
        let dst: Ipv6Addr = "fd00::2".parse().unwrap();
        let mut b = src.octets().to_vec();
        b.extend_from_slice(&dst.octets());
        b.extend_from_slice(&40000u16.to_be_bytes());
        b.extend_from_slice(&6514u16.to_be_bytes());
        b
    }

    /// TLV 0xEA as NLB sends it: subtype 0x01, then the VPC endpoint id.
    fn vpce_tlv() -> Vec<u8> {
        let value = b"\x01vpce-0123456789abcdef0";
        let mut t = vec![0xEA];
        t.extend_from_slice(&(value.len() as u16).to_be_bytes());
        t.extend_from_slice(value);
        t
    }

    fn v4_proxy() -> ProxyHeader {
        ProxyHeader::Proxy {
            source: "203.0.113.7:51234".parse().unwrap(),
            destination: "10.0.0.2:514".parse().unwrap(),
        }
    }

    fn v6_proxy() -> ProxyHeader {
        ProxyHeader::Proxy {
            source: "[2001:db8::7]:40000".parse().unwrap(),
            destination: "[fd00::2]:6514".parse().unwrap(),
        }
    }

    /// Every strict prefix is "need more"; the whole parses to `expected`, and trailing
    /// stream bytes are not consumed.
    fn assert_parses(bytes: &[u8], expected: ProxyHeader) {
        for n in 0..bytes.len() {
            assert_eq!(parse(&bytes[..n]), Ok(None), "prefix of {n} bytes");
        }
        assert_eq!(parse(bytes), Ok(Some((expected, bytes.len()))));
        let mut with_data = bytes.to_vec();
        with_data.extend_from_slice(b"<13>Nov 21 13:39:30 vm app: m\n");
        assert_eq!(parse(&with_data), Ok(Some((expected, bytes.len()))));
    }

    #[test]
    fn local_health_check() {
        assert_parses(&header(0x20, 0x00, &[]), ProxyHeader::Local);
    }

    #[test]
    fn local_ignores_family_and_addresses() {
        assert_parses(&header(0x20, 0x11, &v4_block()), ProxyHeader::Local);
        // Even a family we would reject for PROXY, or a short block.
        assert_parses(&header(0x20, 0x31, &[1, 2, 3]), ProxyHeader::Local);
    }

    #[test]
    fn proxy_tcp4() {
        assert_parses(&header(0x21, 0x11, &v4_block()), v4_proxy());
    }

    #[test]
    fn proxy_tcp4_with_vpce_tlv() {
        let mut payload = v4_block();
        payload.extend_from_slice(&vpce_tlv());
        let bytes = header(0x21, 0x11, &payload);
        assert_eq!(bytes.len(), 16 + 12 + 3 + 23);
        assert_parses(&bytes, v4_proxy());
    }

    #[test]
    fn proxy_udp4_is_accepted() {
        assert_parses(&header(0x21, 0x12, &v4_block()), v4_proxy());
    }

    #[test]
    fn proxy_tcp6_with_and_without_tlv() {
        assert_parses(&header(0x21, 0x21, &v6_block()), v6_proxy());
        let mut payload = v6_block();
        payload.extend_from_slice(&vpce_tlv());
        // A second, unknown TLV (NOOP, type 0x04) is skipped as well.
        payload.extend_from_slice(&[0x04, 0x00, 0x02, 0x00, 0x00]);
        assert_parses(&header(0x21, 0x21, &payload), v6_proxy());
    }

    #[test]
    fn proxy_unspec() {
        assert_parses(&header(0x21, 0x00, &[]), ProxyHeader::Unspec);
        assert_parses(&header(0x21, 0x00, &vpce_tlv()), ProxyHeader::Unspec);
    }

    #[test]
    fn wrong_signature_rejected_early() {
        assert_eq!(parse(b"<"), Err(ProxyError::NotProxy));
        assert_eq!(
            parse(b"<13>Nov 21 13:39:30 vm app: m\n"),
            Err(ProxyError::NotProxy)
        );
        assert_eq!(parse(b"\r\n\r\nX"), Err(ProxyError::NotProxy));
        assert_eq!(parse(b"116 <13>1"), Err(ProxyError::NotProxy));
        let mut almost = SIGNATURE.to_vec();
        almost[11] = b'\r';
        assert_eq!(parse(&almost), Err(ProxyError::NotProxy));
        assert_eq!(parse(&almost[..11]), Ok(None));
    }

    #[test]
    fn bad_version_and_command() {
        let mut b = SIGNATURE.to_vec();
        b.push(0x11);
        assert_eq!(parse(&b), Err(ProxyError::UnsupportedVersion(1)));
        b[12] = 0x31;
        assert_eq!(parse(&b), Err(ProxyError::UnsupportedVersion(3)));
        b[12] = 0x22;
        assert_eq!(parse(&b), Err(ProxyError::UnsupportedCommand(2)));
    }

    #[test]
    fn unsupported_family() {
        // AF_UNIX stream, then an undefined value, both with PROXY.
        let unix = header(0x21, 0x31, &[0u8; 216]);
        assert_eq!(parse(&unix[..14]), Err(ProxyError::UnsupportedFamily(0x31)));
        assert_eq!(
            parse(&header(0x21, 0x13, &v4_block())),
            Err(ProxyError::UnsupportedFamily(0x13))
        );
    }

    #[test]
    fn oversized_length_rejected_before_waiting() {
        let mut b = SIGNATURE.to_vec();
        b.extend_from_slice(&[0x21, 0x11, 0xFF, 0xFF]);
        assert_eq!(parse(&b), Err(ProxyError::TooLong(65535)));
        let at_cap = header(0x20, 0x00, &vec![0u8; MAX_PAYLOAD_LEN]);
        assert_eq!(
            parse(&at_cap),
            Ok(Some((ProxyHeader::Local, MAX_HEADER_LEN)))
        );
        let over = header(0x20, 0x00, &vec![0u8; MAX_PAYLOAD_LEN + 1]);
        assert_eq!(
            parse(&over[..16]),
            Err(ProxyError::TooLong(MAX_PAYLOAD_LEN + 1))
        );
    }

    #[test]
    fn truncated_address_block() {
        let short4 = header(0x21, 0x11, &v4_block()[..8]);
        assert_eq!(
            parse(&short4[..16]),
            Err(ProxyError::BadLength),
            "before the block arrives"
        );
        assert_eq!(parse(&short4), Err(ProxyError::BadLength));
        let short6 = header(0x21, 0x21, &v6_block()[..20]);
        assert_eq!(parse(&short6), Err(ProxyError::BadLength));
        // A TCP6 family with only an IPv4-sized block.
        assert_eq!(
            parse(&header(0x21, 0x21, &v4_block())),
            Err(ProxyError::BadLength)
        );
    }

    #[test]
    fn version_1_text_headers() {
        let (h, n) = parse(b"PROXY TCP4 192.0.2.77 127.0.0.1 40000 514\n<13>x")
            .unwrap()
            .unwrap();
        assert_eq!(n, 42);
        assert_eq!(
            h,
            ProxyHeader::Proxy {
                source: "192.0.2.77:40000".parse().unwrap(),
                destination: "127.0.0.1:514".parse().unwrap()
            }
        );
        let (h, n) = parse(b"PROXY TCP6 2001:db8::1 ::1 1 2\r\n")
            .unwrap()
            .unwrap();
        assert!(matches!(h, ProxyHeader::Proxy { .. }));
        assert_eq!(n, 32);
        assert_eq!(
            parse(b"PROXY UNKNOWN\r\n").unwrap().unwrap().0,
            ProxyHeader::Unspec
        );
        assert_eq!(parse(b"PROX").unwrap(), None);
        assert_eq!(parse(b"PROXY TCP4 1.2.3.4").unwrap(), None);
        assert!(parse(b"PROXY TCP4 1.2.3.4 5.6.7.8 x 1\n").is_err());
        assert!(parse(b"PROXY TCP4 ::1 ::1 1 1\n").is_err());
        assert!(parse(&[b'P'; 200]).is_err());
        assert!(parse(format!("PROXY {}", "A".repeat(200)).as_bytes()).is_err());
    }

    #[test]
    fn reasons_are_distinct_labels() {
        let errors = [
            ProxyError::NotProxy,
            ProxyError::UnsupportedVersion(1),
            ProxyError::UnsupportedCommand(2),
            ProxyError::BadLength,
            ProxyError::UnsupportedFamily(0x31),
            ProxyError::TooLong(70000),
        ];
        let mut reasons: Vec<_> = errors.iter().map(|e| e.reason()).collect();
        assert!(reasons
            .iter()
            .all(|r| r.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')));
        reasons.sort_unstable();
        reasons.dedup();
        assert_eq!(reasons.len(), errors.len());
        assert_eq!(ProxyError::NotProxy.reason(), "not_proxy");
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..5000 {
            let mut b = SIGNATURE.to_vec();
            let extra = (next() % 80) as usize;
            b.extend((0..extra).map(|_| next() as u8));
            // Bias towards plausible version/family/length bytes.
            if b.len() > 15 && next() % 2 == 0 {
                b[12] = 0x20 | (next() % 3) as u8;
                b[13] = [0x00, 0x11, 0x12, 0x21, 0x22, 0x31][(next() % 6) as usize];
                b[14] = 0;
                b[15] = (next() % 64) as u8;
            }
            let cut = (next() as usize) % (b.len() + 1);
            if let Ok(Some((_, consumed))) = parse(&b[..cut]) {
                assert!(consumed <= cut);
            }
        }
    }
}
