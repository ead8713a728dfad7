//! Sans-IO NTP cores: what the NTP server task needs beyond ntp-proto (symmetric-key MACs).

pub mod auth;
