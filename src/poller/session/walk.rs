//! The IO loop around `client::Walk`: keeps up to `max_in_flight` walk requests outstanding,
//! shrinks requests on tooBig or empty replies, falls back to GETNEXT when GETBULK fails.

use std::sync::atomic::Ordering;
use std::time::Duration;

use super::{bump, lock, next_done, InFlight, Session};
use crate::proto::snmp::client::{
    status, walk_pdu, SnmpError, Step, Walk, WalkRequest, RESET_EVERY,
};

impl Session {
    pub(super) async fn run_walk(&self, mut walk: Walk) -> Result<Walk, SnmpError> {
        let mut running: Vec<InFlight<'_, WalkRequest>> = Vec::new();
        loop {
            while running.len() < self.cfg.max_in_flight.max(1) {
                let (batch, reps) = {
                    let s = lock(&self.sizes);
                    let now = self.now();
                    let bulk = !self.is_v1() && s.getnext_until.is_none_or(|t| now >= t);
                    (s.batch.current() as usize, bulk.then(|| s.reps.current()))
                };
                let Some(req) = walk.next_request(batch, reps) else {
                    break;
                };
                running.push(Box::pin(async move {
                    let counter = match req.max_repetitions {
                        Some(_) => &self.counters.getbulk,
                        None => &self.counters.getnext,
                    };
                    let r = self.request(|id| walk_pdu(&req, id), counter).await;
                    (req, r)
                }));
            }
            let Some((req, r)) = next_done(&mut running).await else {
                break;
            };
            let pdu = match r {
                Ok(pdu) => {
                    let mut s = lock(&self.sizes);
                    s.answered = true;
                    s.bulk_ok |= req.max_repetitions.is_some();
                    pdu
                }
                Err(SnmpError::Timeout { .. })
                    if req.max_repetitions.is_some() && {
                        let s = lock(&self.sizes);
                        s.answered && !s.bulk_ok
                    } =>
                {
                    // some agents drop GETBULK silently but answer GET and GETNEXT
                    self.fall_back_to_getnext(&mut walk, &req);
                    continue;
                }
                Err(e) => return Err(e),
            };
            let now = self.now();
            let n = req.columns.len() as u32;
            let too_big = pdu.error_status == status::TOO_BIG;
            match walk.on_reply(&req, pdu, self.is_v1()) {
                Step::Advanced => {
                    let mut s = lock(&self.sizes);
                    s.batch.success(n, now);
                    if let Some(m) = req.max_repetitions {
                        s.reps.success(m, now);
                    }
                }
                Step::Shrink => {
                    if too_big {
                        bump(&self.counters.too_big);
                    }
                    self.shrink(&req, now);
                }
                Step::FallBackToGetNext => self.fall_back_to_getnext(&mut walk, &req),
                Step::Fail { status: 0, .. } => {
                    return Err(SnmpError::Malformed {
                        target: self.cfg.target,
                        what: "empty replies to GETBULK/GETNEXT".into(),
                    })
                }
                Step::Fail { status, index } => {
                    if too_big {
                        bump(&self.counters.too_big);
                    }
                    return Err(self.walk_error(status, index, &req));
                }
            }
        }
        self.counters
            .non_increasing
            .fetch_add(walk.non_increasing(), Ordering::Relaxed);
        Ok(walk)
    }

    fn fall_back_to_getnext(&self, walk: &mut Walk, req: &WalkRequest) {
        bump(&self.counters.fallback);
        let until = self.now() + RESET_EVERY;
        lock(&self.sizes).getnext_until = Some(until);
        walk.release(req);
    }

    /// tooBig or an empty reply: fewer repetitions first (they multiply), then fewer roots.
    fn shrink(&self, req: &WalkRequest, now: Duration) {
        let mut s = lock(&self.sizes);
        match req.max_repetitions {
            Some(m) if m > 1 => s.reps.failure(m, now),
            _ => s.batch.failure(req.columns.len() as u32, now),
        }
    }

    fn walk_error(&self, status: i32, index: u32, req: &WalkRequest) -> SnmpError {
        SnmpError::ErrorStatus {
            target: self.cfg.target,
            status,
            index,
            oid: (index as usize)
                .checked_sub(1)
                .and_then(|i| req.oids.get(i))
                .cloned(),
        }
    }
}
