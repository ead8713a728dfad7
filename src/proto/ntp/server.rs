//! The server's reply rules. Only a well-formed NTPv3/v4 client request (mode 3, at least 48
//! bytes) from an allowed, not rate-limited address gets an answer; modes 6 and 7 (the
//! monlist amplification) and everything else get nothing and are counted by reason. The reply
//! is built by ntp-proto from the current `TimeState`, in the request's version, and is never
//! longer than the request: 48 bytes, plus a MAC of the same size when the request carried one.

use std::net::IpAddr;
use std::time::Instant;

use ipnet::IpNet;
use ntp_proto::{NtpClock, NtpPacket, NtpTimestamp};

use super::auth::{KeySet, MalformedMac, Verdict as Auth};
use super::ratelimit::{RateLimiter, Verdict};
use super::sync::TimeState;
use super::{header_bits, HEADER_LEN};

/// What to do with one datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Send the first `len` bytes of the output buffer back.
    Reply {
        len: usize,
        /// The request came from an address the full rate-limit table could not track.
        untracked: bool,
        /// The request carried a valid MAC and the reply carries one with the same key.
        authenticated: bool,
    },
    /// Send nothing; the reason is a counter label.
    Drop(&'static str),
}

/// Every reason `Outcome::Drop` can give, for counters that exist from the start.
pub const DROP_REASONS: &[&str] = &[
    "not_allowed",
    "too_short",
    "control_mode",
    "not_a_request",
    "unsupported_version",
    "rate_limited",
    "unparsable",
    "unauthenticated",
    "unknown_key",
    "bad_mac",
    "crypto_nak",
    "malformed_mac",
];

/// Symmetric-key authentication settings.
#[derive(Clone, Debug)]
pub struct Authentication {
    pub keys: KeySet,
    /// Drop requests that carry no MAC.
    pub required: bool,
}

/// The reply rules, with their state (the time to advertise, the rate-limit table).
pub struct Responder<C> {
    clock: C,
    state: TimeState,
    allowed: Option<Vec<IpNet>>,
    limiter: Option<RateLimiter>,
    auth: Option<Authentication>,
}

impl<C: NtpClock> Responder<C> {
    pub fn new(clock: C, allowed: Option<Vec<IpNet>>, limiter: Option<RateLimiter>) -> Self {
        Responder {
            clock,
            state: TimeState::unsynchronised(),
            allowed,
            limiter,
            auth: None,
        }
    }

    /// Checks MACs with `auth.keys` and signs replies to authenticated requests.
    pub fn with_authentication(mut self, auth: Authentication) -> Self {
        self.auth = Some(auth);
        self
    }

    pub fn set_state(&mut self, state: TimeState) {
        self.state = state;
    }

    /// Decides on `request` from `src`, received at `recv` (NTP time) / `now` (monotonic),
    /// writing any reply into `out` (at least 48 bytes).
    pub fn handle(
        &mut self,
        src: IpAddr,
        request: &[u8],
        recv: NtpTimestamp,
        now: Instant,
        out: &mut [u8],
    ) -> Outcome {
        let untracked = match self.admit(src, request, now) {
            Ok(untracked) => untracked,
            Err(reason) => return Outcome::Drop(reason),
        };
        if self.state.valid_until.is_some_and(|v| now >= v) {
            // The upstream task has not published since the sample in use went stale (a
            // resolver hanging, the task gone): say so rather than keep claiming sync.
            self.state = TimeState::unsynchronised();
        }
        // Without keys a trailer (MAC or extension fields) is ignored and the reply is a plain
        // 48 bytes; with keys it must be a valid MAC, or absent when that is allowed.
        let key_id = match &self.auth {
            None => None,
            Some(a) => match a.keys.verify(request) {
                Auth::NoMac if a.required => return Outcome::Drop("unauthenticated"),
                Auth::NoMac => None,
                // Extension fields without a MAC (not a MAC's length): a plain request when
                // authentication is optional, answered as it would be without keys.
                Auth::Malformed(MalformedMac::TrailerLength { .. }) if !a.required => None,
                Auth::Valid { key_id } => Some(key_id),
                other => return Outcome::Drop(other.reason()),
            },
        };
        let Some(len) = self.build_reply(&request[..HEADER_LEN], recv, out) else {
            return Outcome::Drop("unparsable");
        };
        let Some(key_id) = key_id else {
            return Outcome::Reply {
                len,
                untracked,
                authenticated: false,
            };
        };
        let mut signed = out[..len].to_vec();
        match self.auth.as_ref().map(|a| a.keys.sign(key_id, &mut signed)) {
            Some(Ok(())) if signed.len() <= request.len() && signed.len() <= out.len() => {
                out[..signed.len()].copy_from_slice(&signed);
                Outcome::Reply {
                    len: signed.len(),
                    untracked,
                    authenticated: true,
                }
            }
            // Cannot happen with a verified request (same key, same version, same MAC size);
            // refuse rather than send something longer than the request.
            _ => Outcome::Drop("bad_mac"),
        }
    }

    /// The checks before any answer (or relaying): the allow-list, the request's shape, the
    /// source's rate. Ok(true) when the full rate-limit table let the source through untracked.
    pub fn admit(
        &mut self,
        src: IpAddr,
        request: &[u8],
        now: Instant,
    ) -> Result<bool, &'static str> {
        if let Some(allowed) = &self.allowed {
            let src = canonical(src);
            if !allowed.iter().any(|n| n.contains(&src)) {
                return Err("not_allowed");
            }
        }
        check_request(request)?;
        match self.limiter.as_mut().map(|l| l.check(src, now)) {
            Some(Verdict::Limited) => Err("rate_limited"),
            Some(Verdict::Untracked) => Ok(true),
            _ => Ok(false),
        }
    }

    /// The 48-byte reply to a 48-byte request header: ntp-proto builds it (version, origin =
    /// the client's transmit time, receive and transmit times, stratum, root delay and
    /// dispersion from the state); then the reference id and reference time are set to the
    /// upstream's address and the time of the last accepted sample (zero while
    /// unsynchronised), which ntp-proto has no field for.
    fn build_reply(&self, header: &[u8], recv: NtpTimestamp, out: &mut [u8]) -> Option<usize> {
        if out.len() < HEADER_LEN {
            return None;
        }
        let (packet, _) = NtpPacket::deserialize(header, &ntp_proto::NoCipher).ok()?;
        let reply = NtpPacket::timestamp_response(&self.state.snapshot, packet, recv, &self.clock);
        let mut cursor = std::io::Cursor::new(&mut out[..HEADER_LEN]);
        reply
            .serialize(&mut cursor, &ntp_proto::NoCipher, None)
            .ok()?;
        if cursor.position() as usize != HEADER_LEN {
            return None;
        }
        out[12..16].copy_from_slice(&self.state.reference_id);
        let reference_time = self
            .state
            .reference_time
            .map(timestamp_wire)
            .unwrap_or([0; 8]);
        out[16..24].copy_from_slice(&reference_time);
        Some(HEADER_LEN)
    }
}

/// The wire form of an NTP timestamp (ntp-proto keeps it private): read back from a packet
/// whose origin timestamp it is.
fn timestamp_wire(t: NtpTimestamp) -> [u8; 8] {
    // NtpDuration from the zero timestamp has the same 64 bits (seconds.fraction) as `t`.
    let d = t - NtpTimestamp::default();
    let (secs, nanos) = d.as_seconds_nanos();
    let secs = secs as u32 as u64;
    let frac = (u64::from(nanos) << 32) / 1_000_000_000;
    ((secs << 32) | frac).to_be_bytes()
}

/// IPv4-mapped IPv6 addresses (a dual-stack socket) compare as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

/// The shape checks every reply needs: long enough, a client request, a version we answer.
pub fn check_request(request: &[u8]) -> Result<(), &'static str> {
    let Some(&first) = request.first() else {
        return Err("too_short");
    };
    let (_, version, mode) = header_bits(first);
    if mode == 6 || mode == 7 {
        return Err("control_mode");
    }
    if request.len() < HEADER_LEN {
        return Err("too_short");
    }
    if mode != 3 {
        return Err("not_a_request");
    }
    if version != 3 && version != 4 {
        return Err("unsupported_version");
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::proto::ntp::sync::{Sample, Tracker};
    use crate::proto::ntp::{NtpDuration, NtpLeapIndicator};
    use std::time::Duration;

    /// A clock stuck at one time, for repeatable replies.
    #[derive(Clone, Debug)]
    pub(crate) struct FixedClock(pub NtpTimestamp);

    #[derive(Debug)]
    pub(crate) struct NoClockError;
    impl std::fmt::Display for NoClockError {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("fixed clock")
        }
    }
    impl std::error::Error for NoClockError {}

    impl NtpClock for FixedClock {
        type Error = NoClockError;
        fn now(&self) -> Result<NtpTimestamp, Self::Error> {
            Ok(self.0)
        }
        fn set_frequency(&self, _: f64) -> Result<NtpTimestamp, Self::Error> {
            Err(NoClockError)
        }
        fn get_frequency(&self) -> Result<f64, Self::Error> {
            Err(NoClockError)
        }
        fn step_clock(&self, _: NtpDuration) -> Result<NtpTimestamp, Self::Error> {
            Err(NoClockError)
        }
        fn disable_ntp_algorithm(&self) -> Result<(), Self::Error> {
            Err(NoClockError)
        }
        fn error_estimate_update(&self, _: NtpDuration, _: NtpDuration) -> Result<(), Self::Error> {
            Err(NoClockError)
        }
        fn status_update(&self, _: NtpLeapIndicator) -> Result<(), Self::Error> {
            Err(NoClockError)
        }
    }

    fn ts(secs: u32) -> NtpTimestamp {
        NtpTimestamp::from_seconds_nanos_since_ntp_era(secs, 0)
    }

    /// A client request: version `v`, mode 3, transmit time `xmt`.
    pub(crate) fn request(v: u8, xmt: [u8; 8]) -> Vec<u8> {
        let mut r = vec![0u8; 48];
        r[0] = (v << 3) | 3;
        r[40..48].copy_from_slice(&xmt);
        r
    }

    fn synced() -> TimeState {
        let now = Instant::now();
        let mut t = Tracker::new(Duration::from_secs(300), Duration::from_secs(1));
        t.record(Sample::from_exchange(
            "169.254.169.123".parse().unwrap(),
            ts(1000),
            ts(1000),
            ts(1000),
            ts(1000) + NtpDuration::from_seconds(0.002),
            3,
            NtpLeapIndicator::NoWarning,
            NtpDuration::from_seconds(0.001),
            NtpDuration::from_seconds(0.001),
            now,
        ))
        .unwrap();
        t.state(now)
    }

    fn responder() -> Responder<FixedClock> {
        let mut r = Responder::new(FixedClock(ts(2000)), None, None);
        r.set_state(synced());
        r
    }

    #[test]
    fn a_v4_request_gets_a_v4_reply_with_our_stratum_and_the_upstream_refid() {
        let mut r = responder();
        let req = request(4, *b"ORIGIN!!");
        let mut out = [0u8; 128];
        let o = r.handle(
            "10.0.0.1".parse().unwrap(),
            &req,
            ts(1999),
            Instant::now(),
            &mut out,
        );
        assert_eq!(
            o,
            Outcome::Reply {
                len: 48,
                untracked: false,
                authenticated: false
            }
        );
        let (li, vn, mode) = header_bits(out[0]);
        assert_eq!((li, vn, mode), (0, 4, 4));
        assert_eq!(out[1], 4, "stratum = upstream 3 + 1");
        assert_eq!(&out[12..16], &[169, 254, 169, 123]);
        assert_eq!(
            &out[24..32],
            b"ORIGIN!!",
            "origin echoes the client's transmit time"
        );
        // Reference time = the sample time (1000.002 s), not the request time.
        assert_eq!(u32::from_be_bytes(out[16..20].try_into().unwrap()), 1000);
        // Transmit time = the clock.
        assert_eq!(u32::from_be_bytes(out[40..44].try_into().unwrap()), 2000);
    }

    #[test]
    fn a_v3_request_gets_a_v3_reply() {
        let mut r = responder();
        let mut out = [0u8; 48];
        let o = r.handle(
            "10.0.0.1".parse().unwrap(),
            &request(3, [1; 8]),
            ts(1999),
            Instant::now(),
            &mut out,
        );
        assert!(matches!(o, Outcome::Reply { len: 48, .. }));
        assert_eq!(header_bits(out[0]).1, 3);
    }

    #[test]
    fn unsynchronised_replies_say_so() {
        let mut r = Responder::new(FixedClock(ts(2000)), None, None);
        let mut out = [0u8; 48];
        r.handle(
            "10.0.0.1".parse().unwrap(),
            &request(4, [1; 8]),
            ts(1999),
            Instant::now(),
            &mut out,
        );
        assert_eq!(header_bits(out[0]).0, 3, "leap indicator 3");
        assert_eq!(out[1], 16, "stratum 16");
        assert_eq!(&out[12..24], &[0; 12], "no reference id, no reference time");
    }

    #[test]
    fn only_well_formed_client_requests_are_answered() {
        let mut r = responder();
        let mut out = [0u8; 128];
        let src: IpAddr = "10.0.0.1".parse().unwrap();
        let mut cases: Vec<(Vec<u8>, &str)> = vec![
            (vec![], "too_short"),
            (request(4, [1; 8])[..47].to_vec(), "too_short"),
            (vec![0x17, 0x00, 0x03, 0x2a], "control_mode"), // mode 7 monlist, 4 bytes
            (
                vec![0x16, 0x02, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0],
                "control_mode",
            ), // mode 6
            (request(2, [1; 8]), "unsupported_version"),
            (request(5, [1; 8]), "unsupported_version"),
        ];
        let mut server_mode = request(4, [1; 8]);
        server_mode[0] = (4 << 3) | 4;
        cases.push((server_mode, "not_a_request"));
        let mut symmetric = request(4, [1; 8]);
        symmetric[0] = (4 << 3) | 1;
        cases.push((symmetric, "not_a_request"));
        for (req, why) in cases {
            assert_eq!(
                r.handle(src, &req, ts(1), Instant::now(), &mut out),
                Outcome::Drop(why),
                "{req:02x?}"
            );
        }
    }

    #[test]
    fn no_input_panics_or_gets_a_reply_longer_than_itself() {
        let mut r = responder();
        let mut out = [0u8; 128];
        let src: IpAddr = "10.0.0.1".parse().unwrap();
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for len in 0..=120usize {
            for _ in 0..200 {
                let mut req: Vec<u8> = (0..len)
                    .map(|_| {
                        seed ^= seed << 13;
                        seed ^= seed >> 7;
                        seed ^= seed << 17;
                        seed as u8
                    })
                    .collect();
                if len > 0 && seed.is_multiple_of(2) {
                    req[0] = (req[0] & 0xc0) | (4 << 3) | 3;
                }
                if let Outcome::Reply { len: n, .. } =
                    r.handle(src, &req, ts(1), Instant::now(), &mut out)
                {
                    assert!(
                        n <= req.len(),
                        "a {n}-byte reply to a {}-byte request",
                        req.len()
                    );
                }
            }
        }
    }

    #[test]
    fn allow_list_and_rate_limit_apply() {
        let allowed = Some(vec!["10.0.0.0/8".parse().unwrap()]);
        let mut r = Responder::new(
            FixedClock(ts(2000)),
            allowed,
            Some(RateLimiter::new(2, 0.001, 16)),
        );
        let mut out = [0u8; 48];
        let req = request(4, [1; 8]);
        let now = Instant::now();
        let outside: IpAddr = "192.0.2.1".parse().unwrap();
        let mapped: IpAddr = "::ffff:10.1.1.1".parse().unwrap();
        assert_eq!(
            r.handle(outside, &req, ts(1), now, &mut out),
            Outcome::Drop("not_allowed")
        );
        assert!(matches!(
            r.handle(mapped, &req, ts(1), now, &mut out),
            Outcome::Reply { .. }
        ));
        assert!(matches!(
            r.handle(mapped, &req, ts(1), now, &mut out),
            Outcome::Reply { .. }
        ));
        assert_eq!(
            r.handle(mapped, &req, ts(1), now, &mut out),
            Outcome::Drop("rate_limited")
        );
    }

    #[test]
    fn authenticated_requests_get_signed_replies_of_the_same_size() {
        let keys =
            KeySet::parse("1 MD5 secret\n2 AES128 HEX:000102030405060708090a0b0c0d0e0f\n").unwrap();
        let mut r = responder().with_authentication(Authentication {
            keys: keys.clone(),
            required: true,
        });
        let src: IpAddr = "10.0.0.1".parse().unwrap();
        let mut out = [0u8; 128];
        for id in [1, 2] {
            let mut req = request(4, [9; 8]);
            keys.sign(id, &mut req).unwrap();
            let o = r.handle(src, &req, ts(1), Instant::now(), &mut out);
            let Outcome::Reply {
                len,
                authenticated: true,
                ..
            } = o
            else {
                panic!("{o:?}")
            };
            assert_eq!(len, req.len());
            assert_eq!(keys.verify(&out[..len]), Auth::Valid { key_id: id });
            // A flipped bit in the request: no reply.
            req[45] ^= 1;
            assert_eq!(
                r.handle(src, &req, ts(1), Instant::now(), &mut out),
                Outcome::Drop("bad_mac")
            );
        }
        let plain = request(4, [9; 8]);
        assert_eq!(
            r.handle(src, &plain, ts(1), Instant::now(), &mut out),
            Outcome::Drop("unauthenticated")
        );
    }
}
