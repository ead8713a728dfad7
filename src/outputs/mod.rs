//! Outputs: each is a task that consumes its own queue (`pipeline::EventRx`) until the queue
//! closes (drain) or `hard_stop` fires, with a pure payload builder beside its IO loop.

use tokio_util::sync::CancellationToken;

use crate::telemetry::Telemetry;

pub mod backoff;
pub mod datadog;
pub mod stdout;
pub mod stream;
pub mod syslog_forward;

/// What every output task gets besides its queue and its own config.
#[derive(Clone, Debug)]
pub struct OutputContext {
    pub telemetry: Telemetry,
    /// Cancelled when the drain deadline has passed: stop at once, whatever is queued.
    pub hard_stop: CancellationToken,
    /// This instance's name, for records the output makes itself (marks).
    pub hostname: String,
    /// Global tags from the config.
    pub tags: Vec<String>,
}
