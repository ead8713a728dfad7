//! SNMP polling (IO side): the shared UDP transport, per-device sessions, the `snmp get|walk`
//! command. Protocol decisions live in `proto::snmp::client`.

pub mod cli;
pub mod session;
pub mod transport;
