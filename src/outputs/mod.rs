//! Outputs: each is a task that consumes its own queue (`pipeline::EventRx`) until the queue
//! closes (drain) or `hard_stop` fires, with a pure payload builder beside its IO loop.
//!
//! Every output that fails its setup (bad endpoint, unreadable CA file, unusable API key)
//! returns `Err` before consuming any event; the same checks are exposed without IO as
//! `datadog::check_endpoints` and `syslog_forward::check` for `nocbox validate`.

use tokio_util::sync::CancellationToken;

use crate::event::Event;
use crate::pipeline::EventRx;
use crate::telemetry::Telemetry;

pub mod backoff;
pub mod datadog;
pub mod prometheus;
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

/// Hard stop, for every output: closes the queue and returns how many of the events still in
/// it `counts` (the log outputs count only logs: metrics are not their business; stdout counts
/// everything). The caller adds the number to its `dropped{reason="shutdown"}`.
pub fn abandon_queue(rx: &mut EventRx, counts: impl Fn(&Event) -> bool) -> usize {
    rx.close();
    let mut n = 0;
    while let Ok(ev) = rx.try_recv() {
        n += usize::from(counts(&ev));
    }
    n
}

/// For `abandon_queue`: log events only.
pub fn is_log(ev: &Event) -> bool {
    matches!(ev, Event::Log(_))
}

#[cfg(test)]
mod tests {

    use super::*;

    #[test]
    fn abandon_queue_closes_and_counts_what_it_is_told() {
        let log = || crate::event::samples::log("m");
        let metric = crate::event::samples::metric();
        let (tx, mut rx) = tokio::sync::mpsc::channel(10);
        for ev in [log(), metric.clone(), log()] {
            tx.try_send(ev).unwrap();
        }
        assert_eq!(abandon_queue(&mut rx, is_log), 2);
        // closed: later sends fail and are the pipeline's to count
        assert!(tx.try_send(log()).is_err());

        let (tx, mut rx) = tokio::sync::mpsc::channel(10);
        for ev in [log(), metric] {
            tx.try_send(ev).unwrap();
        }
        assert_eq!(abandon_queue(&mut rx, |_| true), 2);
    }
}
