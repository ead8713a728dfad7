//! Marks: the heartbeat log the Datadog output writes into its own send path every
//! `mark_interval`, so users can alert on "no log from service:nocbox-mark for 2 minutes" and, on
//! the TCP intake, so the connection never sits idle long enough to be cut. Marks never go
//! through the pipeline and are not sent to `syslog_forward`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::json;
use tokio::time::{Interval, MissedTickBehavior};

use crate::event::{LogRecord, Status};

pub const MESSAGE: &str = "-- MARK --";
pub const SERVICE: &str = "nocbox-mark";

/// The mark record written by `output` at `now`.
pub fn record(hostname: &str, tags: &[String], output: &str, now: DateTime<Utc>) -> LogRecord {
    let mut r = LogRecord::new(MESSAGE, hostname, now);
    r.ddsource = "nocbox".into();
    r.service = SERVICE.into();
    r.status = Status::Info;
    let mut tags = tags.to_vec();
    tags.push("nocbox_mark:true".into());
    r.tags = tags.into();
    r.attributes
        .insert("nocbox".into(), json!({ "mark": true, "output": output }));
    r
}

/// A ticker firing every `every` (the first tick one period from now); `None` when marks are off.
/// A late tick is not caught up: one mark after a stall is enough.
pub fn ticker(every: Duration) -> Option<Interval> {
    if every.is_zero() {
        return None;
    }
    let mut i = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    i.set_missed_tick_behavior(MissedTickBehavior::Delay);
    Some(i)
}

/// Waits for the next tick; never returns when marks are off (for `select!`).
pub async fn tick(t: &mut Option<Interval>) {
    match t {
        Some(i) => {
            i.tick().await;
        }
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mark_has_the_documented_fields() {
        let r = record("nocbox-1", &["env:prod".into()], "datadog_logs", Utc::now());
        let j = r.to_json();
        assert_eq!(j["message"], "-- MARK --");
        assert_eq!(j["ddsource"], "nocbox");
        assert_eq!(j["service"], "nocbox-mark");
        assert_eq!(j["status"], "info");
        assert_eq!(j["hostname"], "nocbox-1");
        assert_eq!(j["ddtags"], "env:prod,nocbox_mark:true");
        assert_eq!(j["nocbox"], json!({"mark": true, "output": "datadog_logs"}));
    }

    #[tokio::test]
    async fn zero_interval_means_no_marks() {
        assert!(ticker(Duration::ZERO).is_none());
        let mut t = ticker(Duration::ZERO);
        let r = tokio::time::timeout(Duration::from_millis(20), tick(&mut t)).await;
        assert!(r.is_err());
    }
}
