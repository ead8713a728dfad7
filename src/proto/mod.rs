//! Sans-IO protocol cores: bytes (and a time value) in, values or decisions out. Nothing in here
//! touches a socket, spawns a task or reads the clock.

pub mod framing;
pub mod ntp;
pub mod proxy;
pub mod snmp;
pub mod syslog;
