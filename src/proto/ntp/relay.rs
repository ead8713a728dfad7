//! Relay mode: what the stone repeater did, with the server's protections. A client request
//! that passes the same checks as in server mode (allow-list, rate limit, a 48-byte-or-longer
//! mode-3 v3/v4 request) is forwarded upstream as its 48-byte header alone, with its transmit
//! time replaced by a random nonce from the caller; the upstream's reply, matched by that nonce
//! (which it echoes as its origin time), goes back to that client with the client's own
//! transmit time restored as the origin. Clients' transmit times are their choice (SNTP
//! clients may send zeros), so they cannot key the table: two clients with the same value
//! would get each other's replies, and a guessable key would let a spoofer aim a reply. A reply is
//! relayed only if it is a 48-byte server reply, comes from the upstream it was sent to, and is
//! not longer than the client's request. Requests waiting for a reply are bounded in number and
//! time, and the total rate forwarded upstream is capped (AWS allows 1024 packets/s to all
//! link-local services together).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::server::check_request;
use super::{header_bits, HEADER_LEN};

#[derive(Clone, Copy, Debug)]
struct Pending {
    client: SocketAddr,
    /// The client's transmit time, restored as the reply's origin time.
    client_transmit: [u8; 8],
    upstream: SocketAddr,
    request_len: usize,
    sent: Instant,
}

#[derive(Debug)]
pub struct Relay {
    pending: HashMap<[u8; 8], Pending>,
    max_pending: usize,
    timeout: Duration,
    /// Global token bucket for forwarded requests.
    tokens: f64,
    rate: f64,
    last: Option<Instant>,
}

/// The decision on a reply from upstream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplyOutcome {
    /// Send the reply (48 bytes) to this client, with bytes 24..32 (origin) set to this.
    Forward(SocketAddr, [u8; 8]),
    Drop(&'static str),
}

impl Relay {
    pub fn new(max_per_second: u32, timeout: Duration) -> Relay {
        let rate = f64::from(max_per_second.max(1));
        Relay {
            pending: HashMap::new(),
            max_pending: (rate * timeout.as_secs_f64().max(1.0)).ceil() as usize + 16,
            timeout,
            tokens: rate,
            rate,
            last: None,
        }
    }

    /// A client's request (already allowed and rate-checked per source): the 48 bytes to send
    /// to `upstream`, carrying `nonce` as their transmit time, or why not.
    pub fn on_request(
        &mut self,
        client: SocketAddr,
        request: &[u8],
        upstream: SocketAddr,
        nonce: u64,
        now: Instant,
    ) -> Result<[u8; HEADER_LEN], &'static str> {
        check_request(request)?;
        self.expire(now);
        let elapsed = self
            .last
            .map_or(0.0, |t| now.saturating_duration_since(t).as_secs_f64());
        self.last = Some(now);
        self.tokens = (self.tokens + elapsed * self.rate).min(self.rate);
        if self.tokens < 1.0 {
            return Err("relay_rate");
        }
        let key = nonce.to_be_bytes();
        if self.pending.len() >= self.max_pending || self.pending.contains_key(&key) {
            return Err("relay_busy");
        }
        self.tokens -= 1.0;
        let mut out = [0u8; HEADER_LEN];
        out.copy_from_slice(&request[..HEADER_LEN]);
        let mut client_transmit = [0u8; 8];
        client_transmit.copy_from_slice(&out[40..48]);
        out[40..48].copy_from_slice(&key);
        self.pending.insert(
            key,
            Pending {
                client,
                client_transmit,
                upstream,
                request_len: request.len(),
                sent: now,
            },
        );
        Ok(out)
    }

    /// A datagram from `from` on the upstream socket.
    pub fn on_reply(&mut self, from: SocketAddr, reply: &[u8], now: Instant) -> ReplyOutcome {
        if reply.len() != HEADER_LEN {
            return ReplyOutcome::Drop("upstream_reply_malformed");
        }
        if header_bits(reply[0]).2 != 4 {
            return ReplyOutcome::Drop("upstream_reply_malformed");
        }
        let mut key = [0u8; 8];
        key.copy_from_slice(&reply[24..32]);
        let Some(p) = self.pending.get(&key).copied() else {
            return ReplyOutcome::Drop("upstream_reply_unmatched");
        };
        if p.upstream != from {
            return ReplyOutcome::Drop("upstream_reply_unmatched");
        }
        self.pending.remove(&key);
        if now.saturating_duration_since(p.sent) > self.timeout {
            return ReplyOutcome::Drop("upstream_reply_late");
        }
        if reply.len() > p.request_len {
            return ReplyOutcome::Drop("would_amplify");
        }
        ReplyOutcome::Forward(p.client, p.client_transmit)
    }

    /// Forgets requests older than the timeout; returns how many.
    pub fn expire(&mut self, now: Instant) -> usize {
        let before = self.pending.len();
        let timeout = self.timeout;
        self.pending
            .retain(|_, p| now.saturating_duration_since(p.sent) <= timeout);
        before - self.pending.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::ntp::server::tests::request;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    fn reply_to(req: &[u8]) -> Vec<u8> {
        let mut r = vec![0u8; 48];
        r[0] = (4 << 3) | 4;
        r[1] = 3;
        r[24..32].copy_from_slice(&req[40..48]);
        r
    }

    #[test]
    fn replies_go_back_to_the_client_whose_request_they_answer() {
        let up = addr("169.254.169.123:123");
        let mut relay = Relay::new(100, Duration::from_secs(2));
        let now = Instant::now();
        // Two SNTP clients that both send a zero transmit time.
        let a = request(4, [0; 8]);
        let mut b = request(3, [0; 8]);
        b.extend_from_slice(&[0u8; 20]); // an MD5 MAC: stripped before forwarding
        let fa = relay
            .on_request(addr("10.0.0.1:123"), &a, up, 1, now)
            .unwrap();
        let fb = relay
            .on_request(addr("10.0.0.2:123"), &b, up, 2, now)
            .unwrap();
        assert_eq!(
            &fa[40..48],
            &1u64.to_be_bytes(),
            "the nonce travels upstream"
        );
        assert_eq!(
            relay.on_reply(up, &reply_to(&fb), now),
            ReplyOutcome::Forward(addr("10.0.0.2:123"), [0; 8])
        );
        assert_eq!(
            relay.on_reply(addr("192.0.2.9:123"), &reply_to(&fa), now),
            ReplyOutcome::Drop("upstream_reply_unmatched"),
            "a reply from anyone but the upstream is not relayed"
        );
        assert_eq!(
            relay.on_reply(up, &reply_to(&fa), now),
            ReplyOutcome::Forward(addr("10.0.0.1:123"), [0; 8])
        );
        assert_eq!(
            relay.on_reply(up, &reply_to(&fa), now),
            ReplyOutcome::Drop("upstream_reply_unmatched"),
            "each request is answered once"
        );
        // The client's own transmit time comes back as the origin.
        let c = request(4, *b"CCCCCCCC");
        let fc = relay
            .on_request(addr("10.0.0.3:123"), &c, up, 3, now)
            .unwrap();
        assert_eq!(
            relay.on_reply(up, &reply_to(&fc), now),
            ReplyOutcome::Forward(addr("10.0.0.3:123"), *b"CCCCCCCC")
        );
    }

    #[test]
    fn the_relay_refuses_what_the_server_refuses_and_caps_its_rate() {
        let up = addr("169.254.169.123:123");
        let mut relay = Relay::new(2, Duration::from_secs(1));
        let now = Instant::now();
        let c = addr("10.0.0.1:123");
        assert_eq!(
            relay.on_request(c, &[0x17, 0, 3, 0x2a], up, 9, now),
            Err("control_mode")
        );
        assert!(relay.on_request(c, &request(4, [1; 8]), up, 1, now).is_ok());
        assert_eq!(
            relay.on_request(c, &request(4, [1; 8]), up, 1, now),
            Err("relay_busy")
        );
        assert!(relay.on_request(c, &request(4, [2; 8]), up, 2, now).is_ok());
        assert_eq!(
            relay.on_request(c, &request(4, [3; 8]), up, 3, now),
            Err("relay_rate")
        );
        let later = now + Duration::from_secs(3);
        assert_eq!(relay.expire(later), 2);
        let f = relay
            .on_request(c, &request(4, [4; 8]), up, 4, later)
            .unwrap();
        let mut short = reply_to(&f);
        short.truncate(40);
        assert_eq!(
            relay.on_reply(up, &short, later),
            ReplyOutcome::Drop("upstream_reply_malformed")
        );
    }
}
