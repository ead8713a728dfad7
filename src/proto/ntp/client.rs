//! The upstream side: one client exchange (RFC 5905 mode 3 → mode 4). ntp-proto makes the
//! request (a random transmit time, so replies cannot be forged by guessing our clock) and
//! checks the reply's origin; the times of sending and receiving are ours.

use std::net::IpAddr;
use std::time::Instant;

use ntp_proto::{NtpAssociationMode, NtpPacket, NtpTimestamp, PollInterval};

use super::sync::Sample;

/// A request in flight: its transmit time, which the reply must echo as its origin time.
/// (ntp-proto's own `RequestIdentifier` is not exported, so the check is ours.)
#[derive(Clone, Copy, Debug)]
pub struct Poll {
    transmit: [u8; 8],
}

/// A 48-byte NTPv4 client request and what its reply must echo.
pub fn poll_request() -> (Vec<u8>, Poll) {
    let (packet, _) = NtpPacket::poll_message(PollInterval::default());
    let mut buf = vec![0u8; 48];
    let mut cursor = std::io::Cursor::new(buf.as_mut_slice());
    // Serialising a plain 48-byte header into 48 bytes cannot fail.
    let _ = packet.serialize(&mut cursor, &ntp_proto::NoCipher, None);
    let mut transmit = [0u8; 8];
    transmit.copy_from_slice(&buf[40..48]);
    (buf, Poll { transmit })
}

/// The sample a reply gives, or why it gives none. `t1`/`t4`: our clock when the request left
/// and when the reply arrived; `at`: the same moment as `t4`, monotonic.
pub fn read_reply(
    reply: &[u8],
    poll: &Poll,
    upstream: IpAddr,
    t1: NtpTimestamp,
    t4: NtpTimestamp,
    at: Instant,
) -> Result<Sample, &'static str> {
    if reply.len() < 48 {
        return Err("malformed_reply");
    }
    let (packet, _) =
        NtpPacket::deserialize(reply, &ntp_proto::NoCipher).map_err(|_| "malformed_reply")?;
    if packet.mode() != NtpAssociationMode::Server || reply[24..32] != poll.transmit {
        return Err("unmatched_reply");
    }
    Ok(Sample::from_exchange(
        upstream,
        t1,
        packet.receive_timestamp(),
        packet.transmit_timestamp(),
        t4,
        packet.stratum(),
        packet.leap(),
        packet.root_delay(),
        packet.root_dispersion(),
        at,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::ntp::server::tests::FixedClock;
    use crate::proto::ntp::server::Responder;
    use crate::proto::ntp::sync::TimeState;

    #[test]
    fn our_own_server_answers_our_own_client() {
        let t = |s: u32| NtpTimestamp::from_seconds_nanos_since_ntp_era(s, 0);
        let (req, poll) = poll_request();
        assert_eq!(req.len(), 48);
        let mut server = Responder::new(FixedClock(t(105)), None, None);
        let mut st = TimeState::unsynchronised();
        st.snapshot.stratum = 2;
        st.snapshot.time_snapshot.leap_indicator = crate::proto::ntp::NtpLeapIndicator::NoWarning;
        server.set_state(st);
        let mut out = [0u8; 48];
        let at = Instant::now();
        server.handle("127.0.0.1".parse().unwrap(), &req, t(105), at, &mut out);
        let s = read_reply(
            &out,
            &poll,
            "127.0.0.1".parse().unwrap(),
            t(100),
            t(100),
            at,
        )
        .unwrap();
        assert_eq!(s.stratum, 2);
        assert!((s.offset - 5.0).abs() < 1e-6, "{}", s.offset);
        // A reply to someone else's request is refused.
        let (_, other) = poll_request();
        let r = read_reply(
            &out,
            &other,
            "127.0.0.1".parse().unwrap(),
            t(100),
            t(100),
            at,
        );
        assert_eq!(r.unwrap_err(), "unmatched_reply");
        assert_eq!(
            read_reply(
                &out[..40],
                &poll,
                "127.0.0.1".parse().unwrap(),
                t(1),
                t(1),
                at
            )
            .unwrap_err(),
            "malformed_reply"
        );
    }
}
