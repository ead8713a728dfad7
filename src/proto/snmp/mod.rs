//! The SNMP protocol core shared by the poller and the trap/inform receiver: BER, messages
//! (v1, v2c, v3) and USM. Sans-IO: bytes, keys and times in; values, bytes and errors out.
//!
//! - [`ber`]: our BER writer (snmp-parser only decodes), a TLV reader; [`oid`]: the shared [`Oid`].
//! - [`message`]: the owned value model, `encode`, and `decode` on the TLV reader.
//! - [`usm`]: keys and key cache, MACs on raw bytes, privacy, timeliness, Reports.
//! - [`notify`]: the trap and inform receiver: communities, v3 users per sender engine ID,
//!   discovery and acknowledgements, RFC 3584 v1 translation.
//! - [`trapdb`]: trap and variable names by OID.
//!
//! A v3 receive path is `message::decode` → look up the user by name and engine ID →
//! `usm::unprotect` (verify the MAC over the datagram as received, then decrypt) → a timeliness
//! check from `usm::time`. A send path builds a `message::V3Message` and calls `usm::protect`.

pub mod ber;
pub mod client;
pub mod message;
pub mod notify;
pub mod oid;
pub mod trapdb;
pub mod usm;

pub use ber::DecodeError;
pub use message::{decode, encode, Message, Pdu, Value, VarBind};
pub use oid::Oid;

#[cfg(test)]
mod tests {
    /// The core stays sans-IO: no runtime, sockets, clock or randomness in its (non-test) source.
    #[test]
    fn core_does_no_io() {
        let sources = [
            include_str!("ber.rs"),
            include_str!("oid.rs"),
            include_str!("message.rs"),
            include_str!("message/decode.rs"),
            include_str!("usm/mod.rs"),
            include_str!("usm/keys.rs"),
            include_str!("usm/privacy.rs"),
            include_str!("usm/time.rs"),
            include_str!("usm/report.rs"),
            include_str!("notify/mod.rs"),
            include_str!("notify/v1.rs"),
            include_str!("notify/v3.rs"),
            include_str!("notify/engines.rs"),
            include_str!("client/mod.rs"),
            include_str!("client/codec.rs"),
            include_str!("client/walk.rs"),
            include_str!("client/adaptive.rs"),
            include_str!("client/batch.rs"),
            include_str!("client/error.rs"),
            include_str!("client/format.rs"),
        ];
        // split so this file does not match itself
        let banned = [
            ["tok", "io"],
            ["Udp", "Socket"],
            ["::", "now("],
            ["std::", "fs"],
            ["fast", "rand"],
        ];
        for src in sources {
            let code = src.split("#[cfg(test)]").next().unwrap_or(src);
            for [a, b] in banned {
                assert!(
                    !code.contains(&format!("{a}{b}")),
                    "{a}{b} in the SNMP core"
                );
            }
        }
    }
}
