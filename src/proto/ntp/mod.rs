//! NTP: the sans-IO core of the NTP service. ntp-proto 1.9.0 (pinned, its internal API) parses
//! requests and builds replies; it is used only in this module tree, so a change of its API
//! touches nothing else. Around it: what ntp-proto lacks or does differently from what devices
//! need: rate limiting with a burst (`ratelimit`), symmetric-key MACs (`auth`), tracking the
//! upstreams into an honest stratum, reference id and dispersion (`sync`), the reply rules
//! (`server`) and the relay's request table (`relay`).

pub mod auth;
pub mod client;
pub mod ratelimit;
pub mod relay;
pub mod server;
pub mod sync;

pub use ntp_proto::{NtpClock, NtpDuration, NtpLeapIndicator, NtpTimestamp};

/// Seconds from the NTP epoch (1900) to the Unix epoch (1970).
pub const UNIX_TO_NTP: u64 = 2_208_988_800;

/// The NTP timestamp of a Unix time (era-less, as on the wire).
pub fn timestamp_from_unix(secs: u64, nanos: u32) -> NtpTimestamp {
    NtpTimestamp::from_seconds_nanos_since_ntp_era(
        (secs.wrapping_add(UNIX_TO_NTP) & 0xffff_ffff) as u32,
        nanos.min(999_999_999),
    )
}

/// The 8 wire bytes of a Unix time as an NTP timestamp.
pub fn timestamp_bytes(secs: u64, nanos: u32) -> [u8; 8] {
    let s = (secs.wrapping_add(UNIX_TO_NTP) & 0xffff_ffff) << 32;
    let frac = ((u64::from(nanos.min(999_999_999))) << 32) / 1_000_000_000;
    (s | frac).to_be_bytes()
}

/// The first byte of an NTP header: leap indicator, version, mode.
pub fn header_bits(first: u8) -> (u8, u8, u8) {
    (first >> 6, (first >> 3) & 7, first & 7)
}

/// The fixed NTP header (v3/v4): every request at least this long, every reply this long plus
/// any MAC.
pub const HEADER_LEN: usize = 48;
