//! The SNMP protocol core shared by the poller and the trap/inform receiver: BER, messages
//! (v1, v2c, v3) and USM. Sans-IO: bytes, keys and times in; values, bytes and errors out.
//!
//! - [`ber`]: our BER writer (snmp-parser only decodes), a TLV reader; [`oid`]: the shared [`Oid`].
//! - [`message`]: the owned value model, `encode`, and `decode` on top of snmp-parser 0.11.
//! - [`usm`]: keys and key cache, MACs on raw bytes, privacy, timeliness, Reports.
//!
//! A v3 receive path is `message::decode` → look up the user by name and engine ID →
//! `usm::unprotect` (verify the MAC over the datagram as received, then decrypt) → a timeliness
//! check from `usm::time`. A send path builds a `message::V3Message` and calls `usm::protect`.

pub mod ber;
pub mod message;
pub mod oid;
pub mod usm;

pub use ber::DecodeError;
pub use message::{decode, encode, Message, Pdu, Value, VarBind};
pub use oid::Oid;
