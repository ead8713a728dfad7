//! End-to-end tests: the real `nocbox` binary against real peers (logger, loggen, rsyslog,
//! socat/openssl, a local HTTPS Datadog intake). scripts/test.sh installs the peers; a missing
//! peer fails the test rather than skipping it.

mod harness;

mod bad_input;
mod checks;
mod cli;
mod datadog_http;
mod datadog_tcp;
mod drain;
mod forward;
mod metrics_out;
mod ntp;
mod snmp_poll;
mod status_page;
mod syslog_in;
mod traps;
